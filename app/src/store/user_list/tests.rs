//! Store-internal checks of the users list on both databases: the prefix
//! token scan, the search rows through a user's changes, and the
//! re-indexing migration.

use super::search::prefix_range;
use crate::model::{UserFilter, UserSort};
use crate::store::{with_pool, write_tx, Store, UserInput};
use crate::store_test;

store_test!(a_prefix_resolves_its_distinct_tokens_in_one_scan, |store: Store| async move {
    let app = store.create_app("T", "ht", 1).await.unwrap().id;
    let other = store.create_app("O", "ho", 1).await.unwrap().id;
    for (id, name) in [("1", "Pedro Pereira"), ("2", "Pedro Person"), ("3", "Pe"), ("4", "Paula"), ("5", "Pêssego")] {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: None }, 1)
            .await
            .unwrap();
    }
    store
        .upsert_user(other, &"x".parse().unwrap(), &UserInput { user_name: Some("Pelé"), email: None }, 1)
        .await
        .unwrap();
    let tokens = |word: &'static str, up_to| {
        let store = store.clone();
        async move { store.tokens_with_prefix(app, word, up_to).await.unwrap() }
    };
    assert_eq!(tokens("pe", 10).await, ["pe", "pedro", "pereira", "person", "pessego"], "distinct, in order");
    assert_eq!(tokens("pe", 2).await, ["pe", "pedro"], "at most up_to");
    assert_eq!(tokens("ped", 10).await, ["pedro"]);
    assert!(tokens("x", 10).await.is_empty(), "another app's tokens are not found");
    assert!(tokens("pz", 10).await.is_empty());
});

store_test!(migration_0008_reindexes_users_with_folded_keys, |store: Store| async move {
    let app = store.create_app("M", "hm", 1).await.unwrap().id;
    for (id, name) in [("a", "Alice"), ("n", "Álvaro Núñez"), ("b", "Bruno")] {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: None }, 1)
            .await
            .unwrap();
    }
    let alvaro = store.user_by_external_id(app, "n").await.unwrap().unwrap();
    // Index "Álvaro" as before 0008: unfolded token and sort keys.
    let old_rows = [
        "UPDATE users SET sort_name = 'álvaro núñez' WHERE id = $1",
        "DELETE FROM user_search WHERE user_id = $1",
        "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at)
         SELECT app_id, 'álvaro', id, sort_name, created_at FROM users WHERE id = $1",
    ];
    let migration = match store.backend_name() {
        "sqlite" => include_str!("../../../migrations/sqlite/0008_folded_search_keys.sql"),
        _ => include_str!("../../../migrations/postgres/0008_folded_search_keys.sql"),
    };
    with_pool!(store, |pool| {
        for sql in old_rows {
            sqlx::query(sql).bind(alvaro.id).execute(pool).await.unwrap();
        }
    });
    let names = |search: &'static str| {
        let store = store.clone();
        async move {
            let filter = UserFilter { search: search.into(), sort: UserSort::Name, ..Default::default() };
            let page = store.users_page(app, &filter, Default::default(), None, 10).await.unwrap();
            page.users.into_iter().map(|u| u.external_id).collect::<Vec<_>>()
        }
    };
    assert!(names("alvaro").await.is_empty(), "the old index does not fold");
    assert_eq!(names("").await, ["a", "b", "n"], "the old key sorts Álvaro last");
    with_pool!(store, |pool| {
        sqlx::raw_sql(migration).execute(pool).await.unwrap();
    });
    store.backfill_user_index().await.unwrap();
    assert_eq!(names("alvaro").await, ["n"]);
    assert_eq!(names("ÁLVARO").await, ["n"]);
    assert_eq!(names("").await, ["a", "n", "b"]);
    let (lo, hi) = prefix_range("álvaro");
    let sql = "SELECT COUNT(*) FROM user_search WHERE token >= $1 AND token < $2 OR sort_name = 'álvaro núñez'";
    let unfolded: i64 =
        with_pool!(store, |pool| sqlx::query_scalar(sql).bind(&lo).bind(&hi).fetch_one(pool).await.unwrap());
    assert_eq!(unfolded, 0, "no unfolded search row is left");
});

/// Every search row of the app, as (token, sort name, user).
async fn search_rows(store: &Store, app: i64) -> Vec<(String, String, i64)> {
    let sql = "SELECT token, sort_name, user_id FROM user_search WHERE app_id = $1 ORDER BY token, user_id";
    with_pool!(store, |pool| sqlx::query_as(sql).bind(app).fetch_all(pool).await.unwrap())
}

store_test!(search_rows_follow_a_user_through_rename_merge_and_erasure, |store: Store| async move {
    let app = store.create_app("S", "hs", 1).await.unwrap().id;
    let other = store.create_app("O", "ho", 1).await.unwrap().id;
    let input = |name| UserInput { user_name: Some(name), email: Some("ana@example.com") };
    let ana = store.upsert_user(app, &"u-1".parse().unwrap(), &input("Ana Silva"), 1).await.unwrap().id;
    let bea = store.upsert_user(app, &"u-2".parse().unwrap(), &input("Bea Silva"), 1).await.unwrap().id;
    store.upsert_user(other, &"u-1".parse().unwrap(), &input("Ana Silva"), 1).await.unwrap();
    let others = search_rows(&store, other).await;
    let rows_of = |user: i64| {
        let store = store.clone();
        async move { search_rows(&store, app).await.into_iter().filter(|row| row.2 == user).collect::<Vec<_>>() }
    };
    let (sort_name, tokens) = store.stored_search_keys(ana).await.unwrap();
    assert_eq!(sort_name, "ana silva");
    assert!(tokens.contains(&"ana".to_string()) && tokens.contains(&"u-1".to_string()));

    // A rename leaves no row of the old name.
    store.upsert_user(app, &"u-1".parse().unwrap(), &input("Zoë Lima"), 2).await.unwrap();
    let (sort_name, tokens) = store.stored_search_keys(ana).await.unwrap();
    assert_eq!(sort_name, "zoe lima");
    assert!(!tokens.contains(&"silva".to_string()) && tokens.contains(&"lima".to_string()));
    assert_eq!(rows_of(ana).await.len(), tokens.len(), "only the new name's rows");

    // A merge takes the merged user's rows away; its undo writes them again.
    let merge = store.merge_users(app, (bea, ana), &[], "admin@example.com", 3).await.unwrap();
    assert!(rows_of(bea).await.is_empty(), "the merged user's rows are gone");
    store.undo_merge(app, merge.id, "admin@example.com", 4).await.unwrap();
    let (_, tokens) = store.stored_search_keys(bea).await.unwrap();
    assert!(tokens.contains(&"bea".to_string()));
    assert_eq!(rows_of(bea).await.len(), tokens.len());

    // Erasure deletes every row of the user, and only those.
    let bea_rows = rows_of(bea).await;
    assert!(write_tx!(store, |tx| tx.delete_user(app, ana).await).unwrap().is_some());
    assert_eq!(search_rows(&store, app).await, bea_rows, "the other user's rows stay");
    assert_eq!(search_rows(&store, other).await, others, "another app's rows stay");
    let filter = UserFilter { search: "zoe".into(), sort: UserSort::Name, ..Default::default() };
    assert!(store.users_page(app, &filter, Default::default(), None, 10).await.unwrap().users.is_empty());
});

store_test!(unchanged_keys_leave_a_users_search_rows_alone, |store: Store| async move {
    let app = store.create_app("K", "hk", 1).await.unwrap().id;
    let ana: crate::ids::ExternalId = "u-1".parse().unwrap();
    let input = |name| UserInput { user_name: Some(name), email: Some("ana@example.com") };
    let id = store.upsert_user(app, &ana, &input("Ana Silva"), 1).await.unwrap().id;
    let rows = search_rows(&store, app).await;
    assert!(rows.len() > 5, "the user has its search rows: {rows:?}");
    // Rows written by one upsert, counted inside its transaction.
    let upsert = |name: &'static str, email: &'static str, now| {
        let (store, ana) = (store.clone(), ana.clone());
        async move {
            write_tx!(store, |tx| {
                let before = tx.rows_written().await?;
                tx.upsert_user(app, &ana, &UserInput { user_name: Some(name), email: Some(email) }, now).await?;
                Ok(tx.rows_written().await? - before)
            })
            .unwrap()
        }
    };
    let written = |name, now| upsert(name, "ana@example.com", now);
    // The same name and email again: the user's row is updated (its
    // `updated_at`), its search rows are neither deleted nor written again.
    assert_eq!(written("Ana Silva", 2).await, 1, "only the user's row");
    assert_eq!(search_rows(&store, app).await, rows);
    // A new name rewrites them: the old name's rows go, the new name's come.
    assert!(written("Ana Lima", 3).await > rows.len() as i64);
    let (_, tokens) = store.stored_search_keys(id).await.unwrap();
    assert!(tokens.contains(&"lima".to_string()) && !tokens.contains(&"silva".to_string()));
    // Keys that differ from the stored ones in the sort name only (a user
    // indexed before its name's folding changed) are rewritten too.
    with_pool!(store, |pool| {
        let sql = "UPDATE users SET sort_name = 'ANA LIMA' WHERE id = $1";
        sqlx::query(sql).bind(id).execute(pool).await.unwrap();
        let sql = "UPDATE user_search SET sort_name = 'ANA LIMA' WHERE user_id = $1";
        sqlx::query(sql).bind(id).execute(pool).await.unwrap();
    });
    assert!(written("Ana Lima", 4).await > 1);
    assert_eq!(store.stored_search_keys(id).await.unwrap().0, "ana lima");
    // A new email under the same name (the same sort key) rewrites them too.
    assert!(upsert("Ana Lima", "ana@lima.pt", 5).await > 1);
    let (_, tokens) = store.stored_search_keys(id).await.unwrap();
    assert!(tokens.contains(&"pt".to_string()) && !tokens.contains(&"example".to_string()));
});

store_test!(the_token_list_migration_lists_stored_users_tokens, |store: Store| async move {
    let app = store.create_app("L", "hl", 1).await.unwrap().id;
    let input = UserInput { user_name: Some("Zoë Ana-Silva"), email: Some("zoe@example.com") };
    let zoe = store.upsert_user(app, &"U-42".parse().unwrap(), &input, 1).await.unwrap().id;
    let bare = store.upsert_user(app, &"b".parse().unwrap(), &UserInput::default(), 1).await.unwrap().id;
    let written = [store.stored_search_keys(zoe).await.unwrap(), store.stored_search_keys(bare).await.unwrap()];
    // The migration's statement that fills the new column, on users
    // stored before it (an empty list).
    let migration = match store.backend_name() {
        "sqlite" => include_str!("../../../migrations/sqlite/0032_search_tokens_on_users.sql"),
        _ => include_str!("../../../migrations/postgres/0034_search_tokens_on_users.sql"),
    };
    let fill = migration.split(';').map(str::trim).find(|s| s.contains("UPDATE users")).expect("the UPDATE");
    let fill = fill.lines().filter(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n");
    with_pool!(store, |pool| {
        sqlx::query("UPDATE users SET search_tokens = ''").execute(pool).await.unwrap();
        sqlx::query(&fill).execute(pool).await.unwrap();
    });
    // stored_search_keys fails unless each list is its rows' tokens.
    let listed = [store.stored_search_keys(zoe).await.unwrap(), store.stored_search_keys(bare).await.unwrap()];
    assert_eq!(listed, written);
    let filter = UserFilter { search: "ana-s zoe".into(), sort: UserSort::Name, ..Default::default() };
    let page = store.users_page(app, &filter, Default::default(), None, 10).await.unwrap();
    assert_eq!(page.users.iter().map(|u| u.id).collect::<Vec<_>>(), [zoe], "found by the migrated list");
});
