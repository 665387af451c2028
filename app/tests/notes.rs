//! Notes on a user, on SQLite and PostgreSQL: written, edited by their
//! author only, deleted by any admin, each change in one transaction with
//! its audit row; paged newest first; in the timeline and the export;
//! erased with the user; out of reach of another app.

use app::auth::session::SessionAdmin;
use app::error::AppError;
use app::model::activity::TimelineKind;
use app::model::notes::{MAX_NOTE, NOTES_PAGE};
use app::model::Role;
use app::notes::service::{add, delete, edit, notes, ADDED, DELETED, EDITED};
use app::store::Store;
use app::store_test;
use app::test_fixtures::{admin, new_app, new_user};

fn other_admin() -> SessionAdmin {
    SessionAdmin { id: 2, email: "bob@example.com".into(), role: Role::Admin }
}

/// The user's audit rows, newest first: (action, actor, detail).
async fn audit_of(store: &Store, user: i64) -> Vec<(String, String, String)> {
    let audit = store.recent_audit(50).await.unwrap();
    audit.into_iter().filter(|e| e.user_id == Some(user)).map(|e| (e.action, e.actor, e.detail)).collect()
}

store_test!(notes_are_written_edited_by_their_author_and_deleted_by_any_admin, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let (me, bob) = (admin(), other_admin());
    let first =
        add(&store, app, ana, "Called on Monday.\nWants an invoice: https://example.com/inv?id=7", &me).await.unwrap();
    assert_eq!(first.author, me.email);
    assert!(!first.edited());
    let second = add(&store, app, ana, "Second", &bob).await.unwrap();
    let listed = notes(&store, app, ana, None).await.unwrap();
    assert_eq!(listed.iter().map(|n| n.id).collect::<Vec<_>>(), [second.id, first.id], "newest first");
    assert_eq!(listed[1].body, first.body, "line breaks kept");

    // Only the author edits; the audit keeps the text that was replaced.
    let refused = edit(&store, app, ana, first.id, "Not mine", &bob).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    edit(&store, app, ana, first.id, "Called on Tuesday.", &me).await.unwrap();
    let edited = notes(&store, app, ana, None).await.unwrap().into_iter().find(|n| n.id == first.id).unwrap();
    assert_eq!(edited.body, "Called on Tuesday.");
    assert!(edited.edited());

    // Any admin deletes; the audit keeps who wrote what.
    delete(&store, app, ana, first.id, &bob).await.unwrap();
    let gone = delete(&store, app, ana, first.id, &bob).await;
    assert!(matches!(gone, Err(AppError::NotFound(_))), "{gone:?}");
    let left = notes(&store, app, ana, None).await.unwrap();
    assert_eq!(left.iter().map(|n| n.id).collect::<Vec<_>>(), [second.id]);
    let audit = audit_of(&store, ana).await;
    let expected = [
        (DELETED, bob.email.as_str(), format!("by {}: Called on Tuesday.", me.email)),
        (EDITED, me.email.as_str(), first.body.clone()),
        (ADDED, bob.email.as_str(), format!("note {}", second.id)),
        (ADDED, me.email.as_str(), format!("note {}", first.id)),
    ];
    let audit: Vec<(&str, &str, String)> = audit.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.clone())).collect();
    assert_eq!(audit, expected);
});

store_test!(bad_notes_are_refused_and_write_nothing, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let me = admin();
    for body in ["", "  \n\t ", &"x".repeat(MAX_NOTE + 1), "nul\0"] {
        let refused = add(&store, app, ana, body, &me).await;
        assert!(matches!(&refused, Err(AppError::Invalid { field: Some(f), .. }) if f == "body"), "{refused:?}");
    }
    assert!(add(&store, app, ana, &"é".repeat(MAX_NOTE), &me).await.is_ok(), "5,000 characters, not bytes");
    let note = notes(&store, app, ana, None).await.unwrap()[0].id;
    let refused = edit(&store, app, ana, note, " ", &me).await;
    assert!(matches!(refused, Err(AppError::Invalid { .. })), "{refused:?}");
    assert_eq!(audit_of(&store, ana).await.len(), 1, "only the one note added is audited");
});

store_test!(another_apps_admin_and_another_users_note_are_out_of_reach, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let ana = new_user(&store, app, "ana").await;
    let bea = new_user(&store, app, "bea").await;
    let me = admin();
    let note = add(&store, app, ana, "Ana's", &me).await.unwrap();
    assert!(matches!(add(&store, other, ana, "x", &me).await, Err(AppError::NotFound(_))));
    assert!(matches!(notes(&store, other, ana, None).await, Err(AppError::NotFound(_))));
    for (app_id, user) in [(other, ana), (app, bea)] {
        let edited = edit(&store, app_id, user, note.id, "x", &me).await;
        assert!(matches!(edited, Err(AppError::NotFound(_))), "{edited:?}");
        let deleted = delete(&store, app_id, user, note.id, &me).await;
        assert!(matches!(deleted, Err(AppError::NotFound(_))), "{deleted:?}");
    }
    assert_eq!(notes(&store, app, ana, None).await.unwrap(), vec![note]);
    assert!(notes(&store, app, bea, None).await.unwrap().is_empty());
});

store_test!(notes_page_newest_first, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let me = admin();
    let count = NOTES_PAGE as usize + 5;
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(add(&store, app, ana, &format!("note {n}"), &me).await.unwrap().id);
    }
    ids.reverse();
    let first = notes(&store, app, ana, None).await.unwrap();
    assert_eq!(first.len(), NOTES_PAGE as usize);
    let rest = notes(&store, app, ana, first.last().map(|n| n.id)).await.unwrap();
    let all: Vec<i64> = first.iter().chain(&rest).map(|n| n.id).collect();
    assert_eq!(all, ids);
});

store_test!(notes_show_in_the_timeline_and_go_with_the_user, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ana = new_user(&store, app, "ana").await;
    let me = admin();
    let note = add(&store, app, ana, "A <b>bold</b> claim", &me).await.unwrap();
    let timeline = store.user_timeline(app, ana, None, 10).await.unwrap();
    let shown: Vec<(&str, &str, Option<&str>)> = timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Note)
        .map(|e| (e.title.as_str(), e.detail.as_str(), e.actor.as_deref()))
        .collect();
    assert_eq!(shown, [("Note", "A <b>bold</b> claim", Some(me.email.as_str()))]);
    assert!(
        timeline.iter().all(|e| !(e.kind == TimelineKind::Audit && e.title == ADDED)),
        "the note shows once: {timeline:?}"
    );
    edit(&store, app, ana, note.id, "Edited", &me).await.unwrap();

    let devices = store.device_ids_of_user(ana).await.unwrap();
    let before = store.rows_referencing(ana, &devices).await.unwrap();
    assert!(before.iter().any(|l| l.table == "notes"), "notes hold the user's rows before: {before:?}");
    let mut tx = store.begin_write().await.unwrap();
    assert!(tx.delete_user(app, ana).await.unwrap().is_some());
    tx.commit().await.unwrap();
    assert_eq!(store.rows_referencing(ana, &devices).await.unwrap(), vec![], "no row left pointing at the user");
    let audit = store.recent_audit(10).await.unwrap();
    assert!(
        audit.iter().all(|e| !e.detail.contains("bold")),
        "the edit's old text is erased from the audit: {audit:?}"
    );
});
