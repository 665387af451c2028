//! Write transactions on both backends: all-or-nothing, retried on
//! contention, and `Busy` once the retries are spent.

use std::sync::atomic::{AtomicU32, Ordering};

use super::tx::MAX_ATTEMPTS;
use crate::store::{NewAudit, Store, StoreError, UserInput};
use crate::{store_test, write_tx};

/// What a pool reports after waiting its whole acquire timeout: contention.
fn contention() -> StoreError {
    StoreError::Db(sqlx::Error::PoolTimedOut)
}

fn audit(app_id: i64, action: &str) -> NewAudit<'_> {
    NewAudit { app_id: Some(app_id), actor: "test", action, user_id: None, detail: "" }
}

store_test!(a_failing_audit_insert_leaves_the_change_unwritten, |store: Store| async move {
    let app = store.create_app("A", "hash-a", 1).await.unwrap();
    let input = UserInput { user_name: Some("Ana"), email: None };
    let result = write_tx!(store, |tx| {
        tx.upsert_user(app.id, &"u1".parse().unwrap(), &input, 2).await?;
        // An audit row neither database takes: no app 999 (SQLite's foreign
        // key; PostgreSQL's audit has none, migration 0029) and a NUL in
        // the text (PostgreSQL refuses it).
        tx.record_audit(&NewAudit { detail: "a\0b", ..audit(999, "renamed") }, 2).await?;
        Ok(())
    });
    assert!(matches!(result, Err(StoreError::Db(_))), "{result:?}");
    assert!(store.user_by_external_id(app.id, "u1").await.unwrap().is_none(), "the change was rolled back");
    assert!(store.recent_audit(10).await.unwrap().is_empty());

    // The same change with a valid audit row commits both.
    write_tx!(store, |tx| {
        tx.upsert_user(app.id, &"u1".parse().unwrap(), &input, 3).await?;
        tx.record_audit(&audit(app.id, "renamed"), 3).await
    })
    .unwrap();
    assert!(store.user_by_external_id(app.id, "u1").await.unwrap().is_some());
    assert_eq!(store.recent_audit(10).await.unwrap().len(), 1);
});

store_test!(contention_is_retried_and_earlier_attempts_leave_nothing, |store: Store| async move {
    let app = store.create_app("A", "hash-a", 1).await.unwrap();
    let attempts = AtomicU32::new(0);
    let value = write_tx!(store, |tx| {
        tx.record_audit(&audit(app.id, "attempt"), 2).await?;
        if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err(contention());
        }
        Ok(42)
    })
    .unwrap();
    assert_eq!((value, attempts.load(Ordering::SeqCst)), (42, 3));
    assert_eq!(store.recent_audit(10).await.unwrap().len(), 1, "only the committed attempt's row");
});

store_test!(lasting_contention_becomes_busy_and_other_errors_are_not_retried, |store: Store| async move {
    let app = store.create_app("A", "hash-a", 1).await.unwrap();
    let attempts = AtomicU32::new(0);
    let result: Result<(), _> = write_tx!(store, |tx| {
        attempts.fetch_add(1, Ordering::SeqCst);
        tx.record_audit(&audit(app.id, "attempt"), 2).await?;
        Err(contention())
    });
    assert!(matches!(result, Err(StoreError::Busy(_))), "{result:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), MAX_ATTEMPTS);
    assert!(store.recent_audit(10).await.unwrap().is_empty());

    attempts.store(0, Ordering::SeqCst);
    let result: Result<(), _> = write_tx!(store, |tx| {
        attempts.fetch_add(1, Ordering::SeqCst);
        tx.create_app("a", "hash-b", 2).await.map(|_| ())
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "a conflict is an answer, not contention");
});

// Two transactions that lock the same rows in opposite orders: PostgreSQL
// detects the deadlock and aborts one, which is run again and succeeds. (On
// SQLite writers take turns, so the second would wait at the barrier for a
// transaction that cannot start: the test runs on PostgreSQL only.)
store_test!(a_real_deadlock_is_retried, |store: Store| async move {
    if store.backend_name() != "postgres" {
        return;
    }
    let app = store.create_app("A", "hash-a", 1).await.unwrap();
    let a = store.upsert_user(app.id, &"a".parse().unwrap(), &UserInput::default(), 1).await.unwrap().id;
    let b = store.upsert_user(app.id, &"b".parse().unwrap(), &UserInput::default(), 1).await.unwrap().id;
    let barrier = tokio::sync::Barrier::new(2);
    let attempts = AtomicU32::new(0);
    let lock_both = |first: i64, second: i64| {
        let (barrier, attempts, store) = (&barrier, &attempts, &store);
        async move {
            write_tx!(store, |tx| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                tx.set_user_active(app.id, first, true, 2).await?;
                if attempt < 2 {
                    barrier.wait().await;
                }
                tx.set_user_active(app.id, second, true, 2).await?;
                Ok(())
            })
        }
    };
    let (one, two) = tokio::join!(lock_both(a, b), lock_both(b, a));
    one.unwrap();
    two.unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "one of the two ran twice");
});

/// `sqlite_rows` writes every row once, in order, over statements of
/// different sizes, each with its values ahead of the rows; a failing
/// statement fails the call.
#[tokio::test]
async fn overlapped_statements_write_every_row_once_in_order() {
    let db = crate::store::testing::sqlite().await;
    let store = db.store.clone();
    let app = store.create_app("A", "hash-a", 1).await.unwrap();
    // 2,500 rows: nine statements of 256 rows, then 128, 64 and 4.
    let details: Vec<String> = (0..2500).map(|n| format!("row {n:04}")).collect();
    let sql = |n: usize| {
        format!(
            "INSERT INTO audit (app_id, actor, action, user_id, detail, created_at)
             SELECT ?, ?, 'overlapped', NULL, v.column1, v.column2 FROM (VALUES {}) AS v",
            super::batch::Marks::Anonymous.values(n, 2)
        )
    };
    let written = write_tx!(store, |tx| {
        tx.sqlite_rows(
            &details,
            sql,
            |query| query.bind(app.id).bind("tester"),
            |query, detail| query.bind(detail.clone()).bind(7_i64),
        )
        .await
    })
    .unwrap();
    assert_eq!(written, 2500);
    let stored = store.audit_details_in_order(app.id, "overlapped").await.unwrap();
    assert_eq!(stored, details, "each row once, in the order given");
    let refused = write_tx!(store, |tx| {
        tx.sqlite_rows(
            &details[..3],
            sql,
            |query| query.bind(999_999_i64).bind("tester"),
            |query, detail| query.bind(detail.clone()).bind(7_i64),
        )
        .await
    });
    assert!(matches!(refused, Err(StoreError::Db(_))), "an app that does not exist: {refused:?}");
    db.finish().await;
}
