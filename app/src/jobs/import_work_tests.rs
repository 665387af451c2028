//! The import's steps against both databases: a chunk the store could not
//! write, a lost hold, and two chunks written at once on PostgreSQL.

use super::import_work::ImportWork;
use super::step::Step;
use crate::jobs::model::JobKind;
use crate::jobs::{import, Jobs, JobsConfig};
use crate::model::properties::{PropertySet, PropertyValue, BY_API, MAX_PROPERTIES};
use crate::store::{Store, StoreError};
use crate::store_test;
use crate::test_fixtures::new_app;
use crate::time::now_ms;

/// One step of at most one chunk.
async fn step(work: &mut ImportWork, store: &Store, owner: &str) -> Result<&'static str, StoreError> {
    Ok(step_of(work, store, owner, 1).await?.0)
}

/// One step of at most `room` chunks: how it went and how many it wrote.
async fn step_of(
    work: &mut ImportWork,
    store: &Store,
    owner: &str,
    room: usize,
) -> Result<(&'static str, usize), StoreError> {
    let (step, written) = work.step(store, owner, room).await?;
    Ok((
        match step {
            Step::More => "more",
            Step::Finished => "finished",
            Step::Lost => "lost",
            Step::Failed(_) => "failed",
        },
        written,
    ))
}

/// An import of u-1…u-4 into a new app, two rows a chunk, claimed and
/// opened: the app, its runner, the job's id and progress at the
/// claim, and the work.
async fn claimed_import(store: &Store, dir: &str) -> (i64, Jobs, i64, i64, ImportWork) {
    claimed_import_of(store, dir, "userID\nu-1\nu-2\nu-3\nu-4\n").await
}

/// [`claimed_import`] of the file `csv`.
async fn claimed_import_of(store: &Store, dir: &str, csv: &str) -> (i64, Jobs, i64, i64, ImportWork) {
    let app = new_app(store, "Shop").await;
    let dir = std::env::temp_dir().join(format!("audience-test-{dir}-{}", std::process::id()));
    let jobs = Jobs::new(JobsConfig { import_dir: dir, chunk_rows: 2, ..JobsConfig::default() });
    let csv = csv.as_bytes().to_vec();
    let body = futures::stream::iter([Ok::<_, std::io::Error>(csv)]);
    let file = import::receive(jobs.import_dir(), jobs.max_upload_bytes(), body).await.unwrap();
    let job = import::start(store, &jobs, app, &file, JobKind::Import, "api").await.unwrap();
    let claimed = store.claim_job(jobs.owner(), now_ms(), 0).await.unwrap().expect("the import is waiting");
    let done = claimed.job.done;
    let work = ImportWork::open(jobs.import_dir(), claimed, 2).await.unwrap();
    (app, jobs, job.id, done, work)
}

store_test!(a_chunk_the_store_could_not_write_is_the_one_written_next, |store: Store| async move {
    let (app, jobs, job_id, _, mut work) = claimed_import(&store, "import-retry").await;
    // A store of the same kind that cannot be reached (its pool is
    // closed): no chunk is written (on PostgreSQL neither of the two the
    // step writes at once), as when the database goes away mid-import.
    let unreachable = match store.is_postgres() {
        true => crate::store::testing::postgres().await.expect("PostgreSQL is configured"),
        false => crate::store::testing::sqlite().await,
    };
    unreachable.store.close().await;
    let refused = step_of(&mut work, &unreachable.store, jobs.owner(), usize::MAX).await;
    let refused = refused.expect_err("a closed store writes nothing");
    assert!(refused.is_unavailable(), "{refused}");
    unreachable.finish().await;
    // The runner tries again: the same chunks in file order, then the rest.
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "more");
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "more");
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "finished");
    for user in ["u-1", "u-2", "u-3", "u-4"] {
        assert!(store.user_by_external_id(app, user).await.unwrap().is_some(), "{user} was imported");
    }
    assert_eq!(store.job(app, job_id).await.unwrap().unwrap().changed, 4);
});

store_test!(a_runner_whose_chunk_the_database_lost_leaves_the_job_to_be_taken_over, |store: Store| async move {
    let (app, jobs, job_id, before, mut work) = claimed_import(&store, "import-lost").await;
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "more");
    // The database loses that chunk's progress; the runner, further on
    // in its file, must not write the next chunk over the gap.
    store.rewind_job(job_id, before).await.unwrap();
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "lost");
    // Taken over from what the database kept: the file from its start.
    let later = now_ms() + 1_000;
    let claimed = store.claim_job(jobs.owner(), later, 0).await.unwrap().expect("the job is left to take over");
    let mut work = ImportWork::open(jobs.import_dir(), claimed, 2).await.unwrap();
    while step(&mut work, &store, jobs.owner()).await.unwrap() == "more" {}
    for user in ["u-1", "u-2", "u-3", "u-4"] {
        assert!(store.user_by_external_id(app, user).await.unwrap().is_some(), "{user} was imported");
    }
});

store_test!(two_chunks_are_written_at_once_on_postgresql, |store: Store| async move {
    // The second chunk holds a refused row (one field too many).
    let rows = "userID\nu-1\nu-2\nu-3,x\nu-4\n";
    let (app, jobs, job_id, _, mut work) = claimed_import_of(&store, "import-pairs", rows).await;
    let (step, written) = step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap();
    let job = store.job(app, job_id).await.unwrap().unwrap();
    if store.is_postgres() {
        assert_eq!((step, written, job.changed, job.refused), ("more", 2, 3, 1), "both chunks in one step");
    } else {
        assert_eq!((step, written, job.changed, job.refused), ("more", 1, 2, 0), "one writer: a chunk a step");
    }
    while step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap().0 == "more" {}
    for user in ["u-1", "u-2", "u-4"] {
        assert!(store.user_by_external_id(app, user).await.unwrap().is_some(), "{user} was imported");
    }
    let job = store.job(app, job_id).await.unwrap().unwrap();
    assert_eq!((job.changed, job.refused), (3, 1), "each chunk counted once");
    let refusals = store.job_refusals(job_id, 10).await.unwrap();
    assert_eq!(refusals.iter().map(|r| r.line).collect::<Vec<_>>(), [4], "the refused row, by its line");
});

store_test!(the_chunk_written_beside_a_lost_one_is_not_kept, |store: Store| async move {
    let rows = "userID\nu-1\nu-2\nu-3\nu-4\nu-5\nu-6\n";
    let (app, jobs, job_id, before, mut work) = claimed_import_of(&store, "import-pair-lost", rows).await;
    assert_eq!(step(&mut work, &store, jobs.owner()).await.unwrap(), "more");
    // The database loses the first chunk's progress: the next chunk
    // finds the job lost, and the one written beside it (on
    // PostgreSQL) must not stay either.
    store.rewind_job(job_id, before).await.unwrap();
    assert_eq!(step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap().0, "lost");
    for user in ["u-3", "u-4", "u-5", "u-6"] {
        assert!(store.user_by_external_id(app, user).await.unwrap().is_none(), "{user} was not kept");
    }
    assert_eq!(store.job(app, job_id).await.unwrap().unwrap().done, before, "the job's count is untouched");
});

store_test!(chunks_naming_the_same_user_are_written_one_after_the_other, |store: Store| async move {
    let (app, jobs, job_id, _, mut work) =
        claimed_import_of(&store, "import-pair-shared", "userID\nu-1\nu-2\nu-1\nu-3\n").await;
    assert_eq!(step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap(), ("more", 1));
    while step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap().0 == "more" {}
    let job = store.job(app, job_id).await.unwrap().unwrap();
    assert_eq!(job.changed, 4, "four rows, u-1 written twice");
    assert!(store.user_by_external_id(app, "u-3").await.unwrap().is_some());
});

store_test!(a_second_chunk_the_store_refuses_is_written_again_alone, |store: Store| async move {
    let csv = "userID,p\nu-1,1\nu-2,1\nu-3,1\nu-4,1\n";
    let (app, jobs, job_id, _, mut work) = claimed_import_of(&store, "import-pair-refused", csv).await;
    // u-3 already holds as many properties as a user may: its row, in the
    // second chunk, is refused by the store (not by the file's check).
    let u3 = crate::test_fixtures::new_user(&store, app, "u-3").await;
    let full: Vec<PropertySet> = (0..MAX_PROPERTIES)
        .map(|n| PropertySet { name: format!("q{n}"), value: Some(PropertyValue::Boolean(true)) })
        .collect();
    let mut tx = store.begin_write().await.unwrap();
    tx.set_properties(app, u3, &full, BY_API, now_ms()).await.unwrap();
    tx.commit().await.unwrap();
    // On PostgreSQL the first chunk commits and the second, written beside
    // it, rolls back; either way one chunk is written first.
    assert_eq!(step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap(), ("more", 1));
    while step_of(&mut work, &store, jobs.owner(), usize::MAX).await.unwrap().0 == "more" {}
    let job = store.job(app, job_id).await.unwrap().unwrap();
    assert_eq!((job.changed, job.refused), (3, 1));
    let refusals = store.job_refusals(job_id, 10).await.unwrap();
    assert_eq!(refusals.iter().map(|r| (r.line, r.user_ref.as_str())).collect::<Vec<_>>(), [(4, "u-3")]);
    let u4 = store.user_by_external_id(app, "u-4").await.unwrap().unwrap().id;
    assert_eq!(store.properties_of(u4).await.unwrap().len(), 1, "the rest of the chunk is written");
});
