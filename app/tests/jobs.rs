//! Bulk actions as jobs, on SQLite and PostgreSQL: over a view or ticked
//! users, in chunks (each with its audit rows), resumed after a stop
//! without repeating a chunk, cancelled between chunks; deletion through
//! the single-user erasure; another app untouched.

use std::time::Duration;

use app::error::AppError;
use app::jobs::model::{Job, JobKind, JobStatus};
use app::jobs::service::{cancel, count_matching, start_bulk, BulkRequest};
use app::jobs::{run_next, Jobs, JobsConfig, Turn};
use app::store::Store;
use app::store_test;
use app::test_fixtures::{admin, new_app, new_user};

/// A runner with `chunk` users per chunk that takes over any job whose
/// runner was not heard of for `stale`.
fn runner(chunk: i64, stale: Duration) -> Jobs {
    Jobs::new(JobsConfig {
        import_dir: std::env::temp_dir().join("audience-test-imports"),
        stale_after: stale,
        chunk_users: chunk,
        chunk_rows: 3,
        ..JobsConfig::default()
    })
}

/// Runs jobs until none is left; the last turn.
async fn run_all(jobs: &Jobs, store: &Store) -> Option<Turn> {
    let mut last = None;
    while let Some((_, turn)) = run_next(jobs, store, None).await.unwrap() {
        last = Some(turn);
    }
    last
}

fn bulk(action: &str, view: Option<&str>, ids: Option<String>, segment: Option<&str>) -> BulkRequest {
    BulkRequest {
        action: action.into(),
        view: view.map(String::from),
        ids,
        segment: segment.map(String::from),
        confirmation: None,
    }
}

async fn members(store: &Store, app: i64, segment: &str) -> i64 {
    count_matching(store, app, &format!("segment={segment}")).await.unwrap()
}

async fn audit_count(store: &Store, action: &str) -> usize {
    store.recent_audit(100_000).await.unwrap().iter().filter(|e| e.action == action).count()
}

async fn job(store: &Store, app: i64, id: i64) -> Job {
    store.job(app, id).await.unwrap().unwrap()
}

/// `n` users `<prefix>-00`…, their ids.
async fn users(store: &Store, app: i64, prefix: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(new_user(store, app, &format!("{prefix}-{i:02}")).await);
    }
    ids
}

// A chunk's transaction commits without waiting for PostgreSQL's log
// (its position commits with it); the next transaction waits again.
store_test!(only_a_chunk_commits_without_waiting_for_the_log, |store: Store| async move {
    let lazy = app::store::write_tx!(store, |tx| {
        tx.commit_without_flush_wait().await?;
        tx.synchronous_commit().await
    })
    .unwrap();
    let next = app::store::write_tx!(store, |tx| tx.synchronous_commit().await).unwrap();
    if store.backend_name() == "postgres" {
        assert_eq!((lazy.as_deref(), next.as_deref()), (Some("off"), Some("on")));
    } else {
        assert_eq!((lazy, next), (None, None), "SQLite's writer never waits for the disk (synchronous = normal)");
    }
});

store_test!(adding_a_view_to_a_segment_works_in_chunks_and_leaves_other_apps_alone, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let ana = users(&store, app, "ana", 23).await;
    let bo = users(&store, app, "bo", 4).await;
    users(&store, other, "ana", 3).await;
    store.set_user_active(app, ana[0], false, 2).await.unwrap();
    let jobs = runner(5, Duration::from_secs(30));

    let started = start_bulk(&store, &jobs, app, &bulk("add_to_segment", Some("q=ana"), None, Some("VIP")), &admin())
        .await
        .unwrap();
    assert_eq!((started.kind, started.status), (JobKind::AddToSegment, JobStatus::Queued));
    assert_eq!(started.description, "Add to segment “VIP”: all users matching “ana”");
    assert_eq!(run_all(&jobs, &store).await, Some(Turn::Ended(JobStatus::Done)));
    let done = job(&store, app, started.id).await;
    assert_eq!(
        (done.total, done.done, done.changed, done.unchanged),
        (22, 22, 22, 0),
        "the deactivated one is not in the view"
    );
    assert_eq!(members(&store, app, "VIP").await, 22);
    assert_eq!(audit_count(&store, "added to segment").await, 22, "one audit row per user added");
    assert!(store.segment_by_name(other, "VIP").await.unwrap().is_none(), "the other app has no such segment");

    // Again, with two more users in the view: only they are added.
    for id in &bo[..2] {
        store
            .add_segment_members(store.segment_by_name(app, "VIP").await.unwrap().unwrap().id, &[*id], "t", 3)
            .await
            .unwrap();
    }
    let again =
        start_bulk(&store, &jobs, app, &bulk("add_to_segment", Some(""), None, Some("vip ")), &admin()).await.unwrap();
    run_all(&jobs, &store).await;
    let again = job(&store, app, again.id).await;
    assert_eq!((again.total, again.changed, again.unchanged), (26, 2, 24));
    assert_eq!(members(&store, app, "VIP").await, 26);

    // Remove the segment's members (a view over the segment itself).
    let removed =
        start_bulk(&store, &jobs, app, &bulk("remove_from_segment", Some("segment=VIP"), None, Some("VIP")), &admin())
            .await
            .unwrap();
    run_all(&jobs, &store).await;
    assert_eq!(job(&store, app, removed.id).await.changed, 26);
    assert_eq!(members(&store, app, "VIP").await, 0);
    assert_eq!(audit_count(&store, "removed from segment").await, 26);
});

store_test!(a_job_stopped_half_way_resumes_without_repeating_a_chunk, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    users(&store, app, "u", 30).await;
    let first = runner(4, Duration::from_secs(3600));
    let started = start_bulk(&store, &first, app, &bulk("deactivate", Some(""), None, None), &admin()).await.unwrap();
    // The selection round and two chunks, then the instance "stops".
    assert_eq!(run_next(&first, &store, Some(3)).await.unwrap(), Some((started.id, Turn::More)));
    let half = job(&store, app, started.id).await;
    assert_eq!((half.status, half.total, half.done), (JobStatus::Running, 30, 8));
    // A fresh runner does not take a job whose runner was heard of lately…
    let patient = runner(4, Duration::from_secs(3600));
    assert_eq!(run_next(&patient, &store, None).await.unwrap(), None);
    // …but takes it over once that runner is stale, and goes on.
    let second = runner(4, Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(run_next(&second, &store, None).await.unwrap(), Some((started.id, Turn::Ended(JobStatus::Done))));
    let done = job(&store, app, started.id).await;
    assert_eq!((done.done, done.changed, done.unchanged), (30, 30, 0));
    assert_eq!(audit_count(&store, "deactivated user").await, 30, "no chunk was done twice");
    assert_eq!(store.count_active_users(app).await.unwrap(), 0);
    // The first runner finds the job is not its own any more.
    assert_eq!(run_next(&first, &store, None).await.unwrap(), None);
});

store_test!(cancelling_stops_between_chunks_and_keeps_what_is_done, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    users(&store, app, "u", 20).await;
    let jobs = runner(4, Duration::from_secs(30));
    let started =
        start_bulk(&store, &jobs, app, &bulk("add_to_segment", Some(""), None, Some("Beta")), &admin()).await.unwrap();
    assert_eq!(run_next(&jobs, &store, Some(2)).await.unwrap(), Some((started.id, Turn::More)));
    cancel(&store, app, started.id, &admin()).await.unwrap();
    assert_eq!(run_next(&jobs, &store, None).await.unwrap(), Some((started.id, Turn::Ended(JobStatus::Cancelled))));
    let cancelled = job(&store, app, started.id).await;
    assert_eq!((cancelled.status, cancelled.done), (JobStatus::Cancelled, 4));
    assert_eq!(members(&store, app, "Beta").await, 4, "the chunk done before the cancel stays");
    let again = cancel(&store, app, started.id, &admin()).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");

    // A waiting job ends at once; another app cannot touch it.
    let waiting = start_bulk(&store, &jobs, app, &bulk("deactivate", Some(""), None, None), &admin()).await.unwrap();
    let other = new_app(&store, "Other").await;
    assert!(matches!(cancel(&store, other, waiting.id, &admin()).await, Err(AppError::NotFound(_))));
    cancel(&store, app, waiting.id, &admin()).await.unwrap();
    assert_eq!(job(&store, app, waiting.id).await.status, JobStatus::Cancelled);
    assert_eq!(run_all(&jobs, &store).await, None, "nothing left to run");
    assert_eq!(store.count_active_users(app).await.unwrap(), 20);
});

store_test!(ticked_users_are_deactivated_reactivated_and_deleted_in_bulk, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let ids = users(&store, app, "u", 7).await;
    let stranger = new_user(&store, other, "x").await;
    let jobs = runner(2, Duration::from_secs(30));
    let ticked: Vec<i64> = ids[..5].iter().copied().chain([stranger]).collect();
    let list = Some(ticked.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(","));

    let off = start_bulk(&store, &jobs, app, &bulk("deactivate", None, list.clone(), None), &admin()).await.unwrap();
    assert_eq!(off.total, 5, "another app's user is not selected");
    assert_eq!(run_next(&jobs, &store, Some(1)).await.unwrap(), Some((off.id, Turn::More)));
    assert_eq!(job(&store, app, off.id).await.done, 2, "ticked users are worked on in the runner's chunks of 2");
    run_all(&jobs, &store).await;
    assert_eq!(store.count_active_users(app).await.unwrap(), 2);
    assert_eq!(store.count_active_users(other).await.unwrap(), 1);
    start_bulk(&store, &jobs, app, &bulk("reactivate", None, list.clone(), None), &admin()).await.unwrap();
    run_all(&jobs, &store).await;
    assert_eq!(store.count_active_users(app).await.unwrap(), 7);

    // Deleting asks for the number of users, exactly.
    let mut delete = bulk("delete", None, list.clone(), None);
    delete.confirmation = Some("6".into());
    let refused = start_bulk(&store, &jobs, app, &delete, &admin()).await;
    assert!(matches!(&refused, Err(AppError::Invalid { field: Some(f), .. }) if f == "confirmation"), "{refused:?}");
    delete.confirmation = Some("5".into());
    let devices: Vec<Vec<i64>> = {
        let mut all = Vec::new();
        for id in &ids[..5] {
            all.push(store.device_ids_of_user(*id).await.unwrap());
        }
        all
    };
    let deleted = start_bulk(&store, &jobs, app, &delete, &admin()).await.unwrap();
    run_all(&jobs, &store).await;
    assert_eq!(job(&store, app, deleted.id).await.changed, 5);
    for (id, devices) in ids[..5].iter().zip(devices) {
        assert!(store.user_by_id(app, *id).await.unwrap().is_none());
        assert_eq!(store.rows_referencing(*id, &devices).await.unwrap(), [], "nothing of user {id} is left");
    }
    assert_eq!(audit_count(&store, "deleted user").await, 5);
    assert!(store.user_by_id(other, stranger).await.unwrap().is_some());
});

store_test!(a_view_deleted_in_bulk_must_hold_the_confirmed_number, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    users(&store, app, "u", 5).await;
    let jobs = runner(2, Duration::from_secs(30));
    assert_eq!(count_matching(&store, app, "q=u").await.unwrap(), 5);
    let mut delete = bulk("delete", Some("q=u"), None, None);
    delete.confirmation = Some("4".into());
    let started = start_bulk(&store, &jobs, app, &delete, &admin()).await.unwrap();
    assert_eq!(run_all(&jobs, &store).await, Some(Turn::Ended(JobStatus::Failed)));
    let failed = job(&store, app, started.id).await;
    assert!(failed.error.as_deref().unwrap_or_default().contains("not the 4 confirmed"), "{:?}", failed.error);
    assert_eq!(store.count_active_users(app).await.unwrap(), 5, "nobody was deleted");
});

store_test!(bad_bulk_requests_are_refused_in_words, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    users(&store, app, "u", 2).await;
    let jobs = runner(2, Duration::from_secs(30));
    let cases = [
        (bulk("explode", Some(""), None, None), "action"),
        (bulk("add_to_segment", Some(""), None, Some("  ")), "segment"),
        (bulk("deactivate", None, Some("1,x".into()), None), "ids"),
        (bulk("deactivate", Some("prop.plan:gt=abc"), None, None), "properties"),
    ];
    for (request, field) in cases {
        let refused = start_bulk(&store, &jobs, app, &request, &admin()).await;
        assert!(
            matches!(&refused, Err(AppError::Invalid { field: Some(f), .. }) if f == field),
            "{field}: {refused:?}"
        );
    }
    let missing =
        start_bulk(&store, &jobs, app, &bulk("remove_from_segment", Some(""), None, Some("Nope")), &admin()).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");
    assert!(store.recent_jobs(app, 10).await.unwrap().is_empty(), "a refused request starts no job");
});

store_test!(two_runners_and_single_edits_at_once_change_each_user_once, multi_thread, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ids = users(&store, app, "u", 40).await;
    let vip = app::segments::service::create_as(&store, app, "VIP", "test").await.unwrap().0.id;
    let started = start_bulk(
        &store,
        &runner(3, Duration::from_secs(30)),
        app,
        &bulk("add_to_segment", Some(""), None, Some("VIP")),
        &admin(),
    )
    .await
    .unwrap();
    // Two instances' runners race for the job while an admin adds and
    // removes a few of the same users one by one.
    let runners = [runner(3, Duration::from_secs(30)), runner(3, Duration::from_secs(30))].map(|jobs| {
        let store = store.clone();
        tokio::spawn(async move { run_all(&jobs, &store).await })
    });
    let edits = ids[..8].iter().map(|&user| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                app::segments::service::add(&store, app, user, &[vip], &admin()).await.unwrap();
                match app::segments::service::remove(&store, app, user, vip, &admin()).await {
                    Ok(()) | Err(AppError::NotFound(_)) => {}
                    Err(other) => panic!("removing {user}: {other:?}"),
                }
            }
            app::segments::service::add(&store, app, user, &[vip], &admin()).await.unwrap();
        })
    });
    for edit in edits {
        edit.await.unwrap();
    }
    for runner in runners {
        runner.await.unwrap();
    }
    assert_eq!(job(&store, app, started.id).await.status, JobStatus::Done);
    assert_eq!(members(&store, app, "VIP").await, 40, "everyone ends in the segment");
    // Every user's audit mirrors its changes exactly: one more "added" than
    // "removed", whoever made them.
    let audit = store.recent_audit(100_000).await.unwrap();
    for user in ids {
        let count = |action: &str| audit.iter().filter(|e| e.user_id == Some(user) && e.action == action).count();
        assert_eq!(count("added to segment"), count("removed from segment") + 1, "user {user}");
    }
});

store_test!(a_selection_with_a_run_of_users_deleted_is_worked_through_to_its_end, |store: Store| async move {
    // Chunks are read from the first row left: users deleted after the
    // selection was taken leave gaps (here two chunks' worth in the
    // middle) that a chunk skips rather than ends the job at.
    let app = new_app(&store, "Shop").await;
    let ids = users(&store, app, "u", 12).await;
    app::segments::service::create_as(&store, app, "VIP", "test").await.unwrap();
    let jobs = runner(3, Duration::ZERO);
    let started =
        start_bulk(&store, &jobs, app, &bulk("add_to_segment", Some(""), None, Some("VIP")), &admin()).await.unwrap();
    // The selection round, then the deletions, then the rest.
    assert_eq!(run_next(&jobs, &store, Some(1)).await.unwrap(), Some((started.id, Turn::More)));
    assert_eq!(job(&store, app, started.id).await.total, 12);
    for (n, user) in ids.iter().enumerate().take(9).skip(3) {
        app::profile::lifecycle::delete(&store, app, *user, &format!("u-{n:02}"), &admin()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(run_all(&jobs, &store).await, Some(Turn::Ended(JobStatus::Done)));
    assert_eq!(job(&store, app, started.id).await.status, JobStatus::Done);
    assert_eq!(members(&store, app, "VIP").await, 6, "every user left joined");
});

/// Deletions (or merges into the first user) race a bulk `action` over the
/// same users, a user per chunk: after both, nothing refers to a removed
/// user and, after deletions, every other user was worked on. PostgreSQL's
/// memberships and audit rows have no foreign keys (migration 0029): what
/// keeps a chunk from writing for a user removed under it is the app's
/// removal lock the chunk takes.
async fn removals_racing(store: Store, action: &str, merge: bool) {
    let app = new_app(&store, if merge { "Merging" } else { "Deleting" }).await;
    let ids = users(&store, app, "u", 90).await;
    app::segments::service::create_as(&store, app, "VIP", "test").await.unwrap();
    if action == "remove_from_segment" {
        let everyone = bulk("add_to_segment", Some(""), None, Some("VIP"));
        let everyone_runner = runner(1_000, Duration::from_secs(30));
        start_bulk(&store, &everyone_runner, app, &everyone, &admin()).await.unwrap();
        run_all(&everyone_runner, &store).await;
    }
    let jobs = runner(1, Duration::from_secs(30));
    let started = start_bulk(&store, &jobs, app, &bulk(action, Some(""), None, Some("VIP")), &admin()).await.unwrap();
    let job_runner = {
        let store = store.clone();
        tokio::spawn(async move { run_all(&jobs, &store).await })
    };
    // Two of every three users, by three admins at once (never the first).
    let first = ids[0];
    let doomed: Vec<(usize, i64)> = ids.iter().copied().enumerate().filter(|(n, _)| n % 3 != 0).collect();
    let deleters = doomed.chunks(doomed.len().div_ceil(3)).map(|part| {
        let (store, part) = (store.clone(), part.to_vec());
        tokio::spawn(async move {
            for (n, user) in part {
                if merge {
                    let now = app::time::now_ms();
                    store.merge_users(app, (user, first), &[], "admin@example.com", now).await.unwrap();
                } else {
                    app::profile::lifecycle::delete(&store, app, user, &format!("u-{n:02}"), &admin()).await.unwrap();
                }
            }
        })
    });
    for deleter in deleters.collect::<Vec<_>>() {
        deleter.await.unwrap();
    }
    job_runner.await.unwrap();
    assert_eq!(job(&store, app, started.id).await.status, JobStatus::Done);
    for (_, user) in &doomed {
        let left = store.rows_referencing(*user, &[]).await.unwrap();
        assert!(left.is_empty(), "{action}: user {user}: rows left after a removal racing it: {left:?}");
    }
    if merge {
        return; // who ends up in the segment depends on the merges' order
    }
    let kept = (ids.len() - doomed.len()) as i64;
    let (in_vip, active) = (members(&store, app, "VIP").await, store.count_active_users(app).await.unwrap());
    let expected = match action {
        "add_to_segment" => (kept, kept),
        "remove_from_segment" => (0, kept),
        _ => (0, 0),
    };
    assert_eq!((in_vip, active), expected, "{action}: (members, active users) of the {kept} not deleted");
}

store_test!(users_removed_while_a_bulk_add_runs_leave_no_membership, multi_thread, |store: Store| async move {
    removals_racing(store.clone(), "add_to_segment", false).await;
    removals_racing(store, "add_to_segment", true).await;
});

store_test!(users_removed_while_a_bulk_removal_runs_leave_no_audit_row, multi_thread, |store: Store| async move {
    removals_racing(store.clone(), "remove_from_segment", false).await;
    removals_racing(store, "remove_from_segment", true).await;
});

store_test!(users_removed_while_a_bulk_deactivation_runs_leave_nothing, multi_thread, |store: Store| async move {
    removals_racing(store.clone(), "deactivate", false).await;
    removals_racing(store, "deactivate", true).await;
});

store_test!(a_job_running_when_the_selection_became_blocks_finishes_after_the_upgrade, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let ids = users(&store, app, "u", 12).await;
    app::segments::service::create_as(&store, app, "VIP", "test").await.unwrap();
    let list = Some(ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(","));
    let jobs = runner(5, Duration::from_secs(30));
    let started =
        start_bulk(&store, &jobs, app, &bulk("add_to_segment", None, list, Some("VIP")), &admin()).await.unwrap();
    // The selection as the older builds stored it, a row per user; a user
    // erased since is passed over.
    let rows: Vec<(i64, i64, i64)> = ids.iter().enumerate().map(|(n, id)| (started.id, n as i64, *id)).collect();
    app::profile::lifecycle::delete(&store, app, ids[0], "u-00", &admin()).await.unwrap();
    store.upgrade_from_job_users(&rows).await.unwrap();

    run_all(&jobs, &store).await;
    let done = job(&store, app, started.id).await;
    assert_eq!((done.status, done.done, done.changed), (JobStatus::Done, 12, 11), "{done:?}");
    assert_eq!(members(&store, app, "VIP").await, 11, "every user still there joined");
});
