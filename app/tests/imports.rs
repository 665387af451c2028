//! Importing users from CSV, on SQLite and PostgreSQL: the header checked
//! at upload; a dry run that writes nothing and names every refused row by
//! its line; the import itself, keyed by userID (a re-run updates, never
//! duplicates); malformed rows (bad UTF-8, ragged, quotes) refused without
//! stopping the rest; a stopped import resumed after its last chunk; an
//! import racing another writer of the same users, or a merge of them.

use std::time::Duration;

use app::ids::ExternalId;
use app::jobs::import::{self, Upload, UploadError};
use app::jobs::model::{JobKind, JobStatus};
use app::jobs::{run_next, Jobs, JobsConfig, Turn};
use app::model::properties::PropertyValue;
use app::store::{Store, UserInput};
use app::store_test;
use app::test_fixtures::new_app;

fn runner(stale: Duration) -> Jobs {
    let dir = std::env::temp_dir().join(format!("audience-test-imports-{}", std::process::id()));
    Jobs::new(JobsConfig { import_dir: dir, stale_after: stale, chunk_rows: 3, ..JobsConfig::default() })
}

async fn upload(jobs: &Jobs, csv: &[u8]) -> Result<Upload, UploadError> {
    // In pieces, as a network upload arrives.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = csv.chunks(7).map(|c| Ok(c.to_vec())).collect();
    import::receive(jobs.import_dir(), jobs.max_upload_bytes(), futures::stream::iter(pieces)).await
}

async fn run_all(jobs: &Jobs, store: &Store) -> Option<Turn> {
    let mut last = None;
    while let Some((_, turn)) = run_next(jobs, store, None).await.unwrap() {
        last = Some(turn);
    }
    last
}

const FILE: &[u8] = b"userID,userName,email,plan,seats\n\
u-1,Ana,ana@example.com,pro,12\n\
u-2,\"Silva, Bo\",,free,\n\
,Nobody,,,\n\
u-3,Cy,not-an-email,pro,1\n\
u-4,\"Multi\nline\",,team,3\n\
u-5,Ed\xff,,pro,2\n\
u-6,Fi,,pro\n\
u-7,Gus,,pro,7\n";

store_test!(a_checked_file_names_refused_rows_by_line_and_writes_nothing, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let jobs = runner(Duration::from_secs(30));
    let file = upload(&jobs, FILE).await.unwrap();
    assert_eq!(file.columns, ["userID", "userName", "email", "plan", "seats"]);
    let preview = import::preview(&file, 3).await.unwrap();
    assert_eq!(
        preview.iter().map(|(line, row)| (*line, row.is_ok())).collect::<Vec<_>>(),
        [(2, true), (3, true), (4, false)]
    );
    let check = import::start(&store, &jobs, app, &file, JobKind::ImportCheck, "admin@example.com").await.unwrap();
    assert_eq!(run_all(&jobs, &store).await, Some(Turn::Ended(JobStatus::Done)));
    let checked = store.job(app, check.id).await.unwrap().unwrap();
    assert_eq!((checked.changed, checked.refused), (3, 5));
    assert_eq!(checked.done, FILE.len() as i64, "the whole file was read");
    let refusals = store.job_refusals(check.id, 100).await.unwrap();
    let found: Vec<(i64, &str, &str)> =
        refusals.iter().map(|r| (r.line, r.user_ref.as_str(), r.reason.as_str())).collect();
    assert_eq!(
        found,
        [
            (4, "", "userID must not be empty"),
            (5, "u-3", "email is not an email address"),
            (6, "u-4", "userName contains control characters"),
            (8, "u-5", "column 2 is not UTF-8 text"),
            (9, "u-6", "has 4 fields; the header has 5"),
        ],
        "lines count the header and the quoted line break"
    );
    assert!(store.user_by_external_id(app, "u-1").await.unwrap().is_none(), "a check writes nothing");
    assert!(file.path.exists(), "the checked file waits for its import");
});

store_test!(an_import_is_keyed_by_user_id_and_a_rerun_updates, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let other = new_app(&store, "Other").await;
    let jobs = runner(Duration::from_secs(30));
    let file = upload(&jobs, FILE).await.unwrap();
    let job = import::start(&store, &jobs, app, &file, JobKind::Import, "admin@example.com").await.unwrap();
    run_all(&jobs, &store).await;
    let done = store.job(app, job.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.changed, done.refused), (JobStatus::Done, 3, 5));
    assert!(!file.path.exists(), "an imported file is removed");
    let ana = store.user_by_external_id(app, "u-1").await.unwrap().unwrap();
    assert_eq!((ana.user_name.as_deref(), ana.email.as_deref()), (Some("Ana"), Some("ana@example.com")));
    let bo = store.user_by_external_id(app, "u-2").await.unwrap().unwrap();
    assert_eq!(bo.user_name.as_deref(), Some("Silva, Bo"), "quoted commas stay in the cell");
    let props: Vec<(String, PropertyValue)> =
        store.properties_of(ana.id).await.unwrap().into_iter().map(|p| (p.name, p.value)).collect();
    assert_eq!(
        props,
        [("plan".into(), PropertyValue::String("pro".into())), ("seats".into(), PropertyValue::Number(12.0))]
    );
    assert!(store.user_by_external_id(other, "u-1").await.unwrap().is_none());
    let found = store.users_page(app, &Default::default(), Default::default(), None, 50).await.unwrap();
    assert_eq!(found.total, 3);

    // Again, with a change: the same users, updated; an empty cell keeps.
    let again = b"userID,userName,seats\nu-1,Ana Silva,\nu-7,,8\nu-7,Gus B,9\n";
    let file = upload(&jobs, again).await.unwrap();
    import::start(&store, &jobs, app, &file, JobKind::Import, "admin@example.com").await.unwrap();
    run_all(&jobs, &store).await;
    let found = store.users_page(app, &Default::default(), Default::default(), None, 50).await.unwrap();
    assert_eq!(found.total, 3, "nobody was duplicated");
    let ana = store.user_by_external_id(app, "u-1").await.unwrap().unwrap();
    assert_eq!((ana.user_name.as_deref(), ana.email.as_deref()), (Some("Ana Silva"), Some("ana@example.com")));
    let seats = store.properties_of(ana.id).await.unwrap().into_iter().find(|p| p.name == "seats").unwrap();
    assert_eq!(seats.value, PropertyValue::Number(12.0), "an empty cell changes nothing");
    let gus = store.user_by_external_id(app, "u-7").await.unwrap().unwrap();
    assert_eq!(gus.user_name.as_deref(), Some("Gus B"), "a later row of the same user wins");
    let seats = store.properties_of(gus.id).await.unwrap().into_iter().find(|p| p.name == "seats").unwrap();
    assert_eq!(seats.value, PropertyValue::Number(9.0));
});

store_test!(imported_users_are_found_and_sorted_as_if_written_one_by_one, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let reference = new_app(&store, "Reference").await;
    let named = |name: &'static str, email: Option<&'static str>| UserInput { user_name: Some(name), email };
    let id = |text: &str| ExternalId::parse(text).unwrap();
    // One user exists before the import (it is renamed), one is new, one
    // exists and keeps its name (an empty cell).
    store.upsert_user(app, &id("u-1"), &named("Old Name", Some("old@example.com")), 1).await.unwrap();
    store.upsert_user(app, &id("u-3"), &named("Kept Name", None), 1).await.unwrap();
    let jobs = runner(Duration::from_secs(30));
    let csv = "userID,userName,email\nu-1,Ana Silva,\nu-2,Zoë Ek,zoe.ek@example.com\nu-3,,kept@example.com\n";
    let file = upload(&jobs, csv.as_bytes()).await.unwrap();
    import::start(&store, &jobs, app, &file, JobKind::Import, "admin@example.com").await.unwrap();
    run_all(&jobs, &store).await;
    // The same users written one at a time, with the fields they end with.
    let expected = [
        ("u-1", named("Ana Silva", Some("old@example.com"))),
        ("u-2", named("Zoë Ek", Some("zoe.ek@example.com"))),
        ("u-3", named("Kept Name", Some("kept@example.com"))),
    ];
    for (user, input) in expected {
        let imported = store.user_by_external_id(app, user).await.unwrap().unwrap();
        let written = store.upsert_user(reference, &id(user), &input, 2).await.unwrap();
        assert_eq!(
            store.stored_search_keys(imported.id).await.unwrap(),
            store.stored_search_keys(written.id).await.unwrap(),
            "{user}'s sort key and search rows"
        );
    }
});

store_test!(an_import_naming_merged_userids_writes_to_the_kept_users, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let id = |text: &str| ExternalId::parse(text).unwrap();
    let user = |name: &str| {
        let store = store.clone();
        let name = name.to_string();
        async move { store.upsert_user(app, &id(&name), &UserInput::default(), 1).await.unwrap().id }
    };
    let (old, kept, other, second) = (user("old").await, user("kept").await, user("other").await, user("old-2").await);
    store.merge_users(app, (old, kept), &[], "api", 2).await.unwrap();
    store.merge_users(app, (second, kept), &[], "api", 2).await.unwrap();
    // In one chunk (3 rows): an alias, the kept user itself and a second
    // alias of it (one statement cannot write a row twice), then another user.
    let jobs = runner(Duration::from_secs(30));
    let csv = "userID,userName,plan\nold,From Alias,pro\nkept,,\nold-2,,team\nother,Other,free\n";
    let file = upload(&jobs, csv.as_bytes()).await.unwrap();
    let job = import::start(&store, &jobs, app, &file, JobKind::Import, "api").await.unwrap();
    assert_eq!(run_all(&jobs, &store).await, Some(Turn::Ended(JobStatus::Done)));
    assert_eq!(store.job(app, job.id).await.unwrap().unwrap().refused, 0);
    for alias in ["old", "old-2"] {
        assert!(store.user_by_external_id(app, alias).await.unwrap().is_none(), "{alias} is not created again");
    }
    let kept_now = store.user_by_id(app, kept).await.unwrap().unwrap();
    assert_eq!(kept_now.user_name.as_deref(), Some("From Alias"));
    let plan = store.properties_of(kept).await.unwrap().into_iter().find(|p| p.name == "plan").unwrap();
    assert_eq!(plan.value, PropertyValue::String("team".into()), "the later row of the same user wins");
    assert_eq!(store.user_by_id(app, other).await.unwrap().unwrap().user_name.as_deref(), Some("Other"));
});

store_test!(writes_that_wait_for_a_merge_of_their_userid_go_to_the_kept_user, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let id = |text: &str| ExternalId::parse(text).unwrap();
    let old = store.upsert_user(app, &id("old"), &UserInput::default(), 1).await.unwrap().id;
    let kept = store.upsert_user(app, &id("kept"), &UserInput::default(), 1).await.unwrap().id;
    let jobs = runner(Duration::from_secs(30));
    let file = upload(&jobs, b"userID,userName,plan\nold,From Import,pro\n").await.unwrap();
    let job = import::start(&store, &jobs, app, &file, JobKind::Import, "api").await.unwrap();

    // The merge holds the merged user (and, on SQLite, the one writer)
    // until it commits; an upsert and an import name its userID meanwhile.
    let mut merge = store.begin_write().await.unwrap();
    merge.merge_users(app, (old, kept), &[], "api", 2).await.unwrap();
    let holder = merge.as_holder().await.unwrap();
    let upsert = tokio::spawn({
        let store = store.clone();
        async move {
            let input = UserInput { user_name: Some("Renamed"), email: None };
            store.upsert_user(app, &ExternalId::parse("old").unwrap(), &input, 3).await
        }
    });
    let importing = tokio::spawn({
        let (store, jobs) = (store.clone(), jobs.clone());
        async move { run_all(&jobs, &store).await }
    });
    store.until_blocked_by(holder, 2).await.unwrap();
    assert!(!upsert.is_finished() && !importing.is_finished(), "both writes wait for the merge");
    merge.commit().await.unwrap();

    assert_eq!(upsert.await.unwrap().unwrap().id, kept, "the upsert wrote to the kept user");
    assert_eq!(importing.await.unwrap(), Some(Turn::Ended(JobStatus::Done)));
    assert_eq!(store.job(app, job.id).await.unwrap().unwrap().changed, 1);
    assert!(store.user_by_external_id(app, "old").await.unwrap().is_none(), "old is not created again");
    let name = store.user_by_id(app, kept).await.unwrap().unwrap().user_name;
    assert!(matches!(name.as_deref(), Some("Renamed" | "From Import")), "{name:?}");
    let plan = store.properties_of(kept).await.unwrap().into_iter().find(|p| p.name == "plan").unwrap();
    assert_eq!(plan.value, PropertyValue::String("pro".into()), "the imported row is the kept user's");
});

store_test!(a_stopped_import_goes_on_after_its_last_chunk, |store: Store| async move {
    let app = new_app(&store, "Shop").await;
    let first = runner(Duration::from_secs(3600));
    let mut csv = b"userID,n\n".to_vec();
    for i in 0..20 {
        csv.extend(format!("u-{i},{i}\n").as_bytes());
    }
    csv.extend(b"bad\n");
    let file = upload(&first, &csv).await.unwrap();
    let job = import::start(&store, &first, app, &file, JobKind::Import, "api").await.unwrap();
    assert_eq!(run_next(&first, &store, Some(3)).await.unwrap(), Some((job.id, Turn::More)));
    assert_eq!(store.job(app, job.id).await.unwrap().unwrap().changed, 9);
    // Another runner with the same folder takes over once the first is stale.
    let second = Jobs::new(JobsConfig {
        import_dir: first.import_dir().to_path_buf(),
        stale_after: Duration::ZERO,
        chunk_rows: 3,
        ..JobsConfig::default()
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(run_next(&second, &store, None).await.unwrap(), Some((job.id, Turn::Ended(JobStatus::Done))));
    let done = store.job(app, job.id).await.unwrap().unwrap();
    assert_eq!((done.changed, done.refused), (20, 1));
    let refusals = store.job_refusals(job.id, 10).await.unwrap();
    assert_eq!((refusals[0].line, refusals[0].reason.as_str()), (22, "has 1 fields; the header has 2"));
    let first_user = store.user_by_external_id(app, "u-0").await.unwrap().unwrap().id;
    let history = store.property_history(first_user, None, 10).await.unwrap();
    assert_eq!(history.len(), 1, "the first chunk was not written twice");
});

store_test!(bad_files_are_refused_at_upload_with_the_reason, |store: Store| async move {
    let _ = store;
    let jobs = runner(Duration::from_secs(30));
    for (file, expected) in [
        (&b""[..], "The file is empty"),
        (b"userName,email\nAna,a@b.co\n", "no userID column"),
        (b"userID,plan,plan\n", "names “plan” twice"),
        (b"userID,$plan\n", "reserved"),
        (b"user\xffID\n", "not UTF-8"),
    ] {
        let refused = upload(&jobs, file).await.unwrap_err();
        assert!(matches!(refused, UploadError::Header(_)), "{refused:?}");
        assert!(refused.to_string().contains(expected), "{refused} should say {expected}");
    }
    let small = Jobs::new(JobsConfig {
        import_dir: jobs.import_dir().to_path_buf(),
        max_upload_bytes: 10,
        ..JobsConfig::default()
    });
    let too_big = upload(&small, b"userID\nu-1\nu-2\n").await.unwrap_err();
    assert!(matches!(too_big, UploadError::TooLarge { limit: 10 }), "{too_big:?}");
    // With a byte-order mark, the header still names userID.
    assert_eq!(upload(&jobs, b"\xef\xbb\xbfuserID\nu-1\n").await.unwrap().columns, ["userID"]);
});

store_test!(an_import_racing_another_writer_of_its_users_creates_each_once, multi_thread, |store: Store| async move {
    // New users are inserted by the import with their search rows at once;
    // a user another writer creates meanwhile must go the update path
    // instead (its search rows re-written, not added a second time).
    let app = new_app(&store, "Shop").await;
    let reference = new_app(&store, "Reference").await;
    let named = |n: usize| format!("Person {n}");
    let mut csv = String::from("userID,userName\n");
    for n in 0..300 {
        csv.push_str(&format!("r-{n},{}\n", named(n)));
    }
    let jobs = runner(Duration::from_secs(30));
    let file = upload(&jobs, csv.as_bytes()).await.unwrap();
    let job = import::start(&store, &jobs, app, &file, JobKind::Import, "api").await.unwrap();
    // The other writer creates the same users, with the same names, from
    // the end of the file backwards while the import goes forwards.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in (0..300).rev() {
                let (id, name) = (ExternalId::parse(format!("r-{n}")).unwrap(), named(n));
                let input = UserInput { user_name: Some(&name), email: None };
                store.upsert_user(app, &id, &input, 2).await.unwrap();
            }
        })
    };
    run_all(&jobs, &store).await;
    writer.await.unwrap();
    let done = store.job(app, job.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.changed, done.refused), (JobStatus::Done, 300, 0));
    for n in (0..300).step_by(7) {
        let (id, name) = (ExternalId::parse(format!("r-{n}")).unwrap(), named(n));
        let stored = store.user_by_external_id(app, id.as_str()).await.unwrap().unwrap();
        let input = UserInput { user_name: Some(&name), email: None };
        let written = store.upsert_user(reference, &id, &input, 3).await.unwrap();
        assert_eq!(
            store.stored_search_keys(stored.id).await.unwrap(),
            store.stored_search_keys(written.id).await.unwrap(),
            "r-{n}'s sort key and search rows"
        );
    }
});
