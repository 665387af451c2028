//! Group commit of event batches (both backends; why differs, see below).
//!
//! SQLite has one writer, and what a batch costs it is mostly the pages the
//! batch changes: the events' indexes are keyed by user, device and type, so
//! 500 events over a few hundred users dirty about 2,000 index pages, and the
//! commit writes each of them to the WAL. Batches that arrive while another
//! one is being written share pages (the same users, the same index leaves),
//! so concurrent requests' batches are written in ONE transaction: the
//! request that finds the writer free (the leader) takes every batch that is
//! waiting, up to [`MAX_GROUP_EVENTS`], and answers each of them.
//!
//! Each batch keeps its all-or-nothing answer: one that fails (an unknown
//! userID, say) is found out before it writes anything and answered while
//! the others go on (`try_write_group` tells how). A batch is acknowledged
//! only after the group's commit. With one client at a time a group is one
//! batch, the same transaction as without grouping.
//!
//! PostgreSQL groups too, for another reason: what concurrent batches share
//! there are hot rows (a user's hour count, its last-seen time), which
//! separate transactions update one after another, each waiting for the
//! last one's row locks (with 4 clients, most of a batch's time). A group
//! writes each of those rows once. Several server instances still write side
//! by side; their transactions lock rows in key order and are retried on a
//! deadlock (`tx.rs`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::tx::{with_tx, Retry};
use crate::store::events::{Derived, EventInput, EventsOutcome};
use crate::store::{Backend, Store, StoreError, StoreResult};
use crate::write_tx;

/// Most events one group transaction writes (16 batches of 500): bounds how
/// long the first batch of a group waits for its answer.
const MAX_GROUP_EVENTS: usize = 8_000;

/// A group's leader waits for the rest of a wave of batches while they
/// keep arriving: until none came for this long ...
const GATHER_QUIET: std::time::Duration = std::time::Duration::from_millis(4);
/// ... and at most this long in all. A wave of many concurrent batches
/// takes longer than the quiet time to reach the writer on a small machine
/// (each request's JSON is read and checked on another core): with a flat
/// wait the leader takes part of the wave and the rest makes a second,
/// smaller group. Larger groups share more index pages per commit.
const GATHER_MOST: std::time::Duration = std::time::Duration::from_millis(20);

/// Batches waiting for a writer, and who writes them.
pub(crate) struct EventGroups {
    waiting: Mutex<Vec<Waiting>>,
    /// A permit is held by each request whose turn it is to write what is
    /// waiting (a group's leader): one on SQLite (one writer), two on
    /// PostgreSQL, so that one group's rows are written while the other
    /// group commits and moves last-seen, and both cores work.
    writers: tokio::sync::Semaphore,
    /// Groups committed, and the batches they held (logs and tests).
    groups: AtomicU64,
    batches: AtomicU64,
    /// Batches in the last group written (see [`EventGroups::gather`]).
    last_group: AtomicUsize,
}

/// One request's batch and where its answer goes.
struct Waiting {
    app_id: i64,
    events: Vec<EventInput>,
    now: i64,
    answer: oneshot::Sender<StoreResult<EventsOutcome>>,
}

impl EventGroups {
    pub(crate) fn new(writers: usize) -> EventGroups {
        EventGroups {
            waiting: Mutex::default(),
            writers: tokio::sync::Semaphore::new(writers),
            groups: AtomicU64::default(),
            batches: AtomicU64::default(),
            last_group: AtomicUsize::default(),
        }
    }

    /// Batches come in waves: the clients a commit answered send their next
    /// batches together, and the first to arrive would otherwise be written
    /// alone, the rest in the next group (with 4 clients, groups of 1 and 3
    /// in turn). When fewer batches wait than the last group held, the
    /// leader gives the others time to arrive (a commit delay, like
    /// PostgreSQL's `commit_delay`): while they keep coming, [`GATHER_QUIET`]
    /// after the last, [`GATHER_MOST`] in all. A lone client never waits.
    async fn gather(&self) {
        let expected = self.last_group.load(Ordering::Relaxed);
        let started = std::time::Instant::now();
        let (mut arrived, mut last_arrival) = (self.waiting_count(), started);
        while arrived < expected && started.elapsed() < GATHER_MOST && last_arrival.elapsed() < GATHER_QUIET {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let waiting = self.waiting_count();
            if waiting > arrived {
                (arrived, last_arrival) = (waiting, std::time::Instant::now());
            }
        }
    }

    fn waiting_count(&self) -> usize {
        self.waiting().len()
    }

    /// The queue (a panic while it was held leaves it consistent: each
    /// change is one push or one drain).
    fn waiting(&self) -> MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The waiting batches the next group writes, oldest first: at least
    /// one, then as many as fit in [`MAX_GROUP_EVENTS`].
    fn take_group(&self) -> Vec<Waiting> {
        let mut waiting = self.waiting();
        let mut events = 0;
        let count = waiting
            .iter()
            .take_while(|batch| {
                events += batch.events.len();
                events <= MAX_GROUP_EVENTS
            })
            .count()
            .max(1)
            .min(waiting.len());
        waiting.drain(..count).collect()
    }
}

impl Store {
    /// (groups committed, batches in them) since this store was opened:
    /// how much concurrent event batches were written together.
    pub fn event_groups_committed(&self) -> (u64, u64) {
        let groups = &self.event_groups;
        (groups.groups.load(Ordering::Relaxed), groups.batches.load(Ordering::Relaxed))
    }

    /// [`Store::insert_events`]: queues the batch, and writes it
    /// (with whatever else is waiting) when this request's turn comes, unless
    /// an earlier group already wrote it.
    pub(crate) async fn insert_events_grouped(
        &self,
        app_id: i64,
        events: &[EventInput],
        now: i64,
    ) -> StoreResult<EventsOutcome> {
        let (answer, mut answered) = oneshot::channel();
        let batch = Waiting { app_id, events: events.to_vec(), now, answer };
        self.event_groups.waiting().push(batch);
        {
            let Ok(_turn) = self.event_groups.writers.acquire().await else {
                return Err(StoreError::Unavailable("the event writer stopped".into()));
            };
            loop {
                match answered.try_recv() {
                    Ok(outcome) => return outcome,
                    Err(oneshot::error::TryRecvError::Closed) => break,
                    Err(oneshot::error::TryRecvError::Empty) => {}
                }
                self.event_groups.gather().await;
                // More may wait than one group holds: this turn lasts until
                // this request's own batch is written.
                let group = self.event_groups.take_group();
                if group.is_empty() {
                    // This batch is in a group another writer is writing
                    // (or whose requester went away; its task still answers).
                    break;
                }
                // Written in a task of its own: if this request is dropped
                // (its client went away), the others in the group still get
                // their answers.
                let store = self.clone();
                if tokio::spawn(async move { store.write_group(group).await }).await.is_err() {
                    tracing::error!("the task writing a group of event batches panicked");
                }
            }
        }
        answered.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the event writer stopped".into())))
    }

    /// Writes `group` in one transaction (retried whole on contention) and
    /// answers each batch. On PostgreSQL the last-seen times follow in a
    /// second transaction (see [`Store::insert_events`]); the answers wait
    /// for it.
    async fn write_group(&self, group: Vec<Waiting>) {
        let mut retry = Retry::new();
        let written = loop {
            match self.try_write_group(&group).await {
                Ok(written) => break Ok(written),
                Err(err) => {
                    if let Err(err) = retry.again(err).await {
                        break Err(err);
                    }
                }
            }
        };
        let answers = match written {
            Ok((outcomes, derived)) if matches!(self.writer, Backend::Postgres(_)) => {
                write_tx!(self, |tx| tx.touch_last_seen(&derived).await).map(|()| outcomes)
            }
            other => other.map(|(outcomes, _)| outcomes),
        };
        match answers {
            Ok(outcomes) => {
                self.event_groups.groups.fetch_add(1, Ordering::Relaxed);
                self.event_groups.batches.fetch_add(group.len() as u64, Ordering::Relaxed);
                self.event_groups.last_group.store(group.len(), Ordering::Relaxed);
                for (batch, outcome) in group.into_iter().zip(outcomes) {
                    // A requester that went away no longer needs its answer.
                    let _ = batch.answer.send(outcome);
                }
            }
            Err(failure) => {
                tracing::error!(error = %failure, batches = group.len(), "a group of event batches failed");
                for batch in group {
                    let err = match &failure {
                        StoreError::Busy(why) => StoreError::Busy(why.clone()),
                        other => StoreError::Unavailable(other.to_string()),
                    };
                    let _ = batch.answer.send(Err(err));
                }
            }
        }
    }

    /// One attempt: the batches' rows, then the group's hour counts (and on
    /// SQLite its last-seen times), one commit. A batch's own failure is its
    /// answer; the error returned is the group's, and contention anywhere
    /// retries the group.
    ///
    /// What fails one batch alone is a reference its app does not know,
    /// found by [`WriteTx::resolve_events`] before the batch writes anything.
    /// On PostgreSQL a statement that fails aborts the whole transaction,
    /// so there each batch of a group runs in a savepoint (as before). On
    /// SQLite a batch's writes after its look-ups can only fail with the
    /// database (disk full, I/O), which fails the group: no savepoints
    /// there, because one costs SQLite a copy of every page the batch
    /// changes (about 2,000 of them, a millisecond to copy and free).
    async fn try_write_group(&self, group: &[Waiting]) -> StoreResult<(Vec<StoreResult<EventsOutcome>>, Derived)> {
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        let alone = group.len() == 1;
        let isolate = !alone && tx.is_postgres();
        let mut outcomes = Vec::with_capacity(group.len());
        let mut derived = Derived::default();
        for batch in group {
            if isolate {
                savepoint(&mut tx, "SAVEPOINT batch").await?;
            }
            // The error, and whether the batch may have written rows.
            let written = match tx.resolve_events(batch.app_id, &batch.events, batch.now).await {
                Ok(resolved) => tx.store_events(resolved).await.map_err(|err| (err, true)),
                Err(err) => Err((err, false)),
            };
            match written {
                Ok((outcome, changes)) => {
                    derived.merge(changes);
                    outcomes.push(Ok(outcome));
                }
                Err((err, _)) if err.is_contention() => return Err(err),
                // Alone in its group: nothing else to keep, the rollback of
                // the whole transaction is the batch's.
                Err((err, _)) if alone => return Ok((vec![Err(err)], Derived::default())),
                Err((err, _)) if isolate => {
                    savepoint(&mut tx, "ROLLBACK TO batch").await?;
                    outcomes.push(Err(err));
                }
                // SQLite: refused by its look-ups, so nothing of it was written.
                Err((err, false)) => outcomes.push(Err(err)),
                Err((err, true)) => return Err(err),
            }
            if isolate {
                savepoint(&mut tx, "RELEASE batch").await?;
            }
        }
        tx.count_event_hours(&derived).await?;
        if !tx.is_postgres() {
            tx.touch_last_seen(&derived).await?;
        }
        let written = started.elapsed();
        tx.commit().await?;
        tracing::debug!(batches = group.len(), ?written, committed = ?started.elapsed(), "a group of event batches committed");
        Ok((outcomes, derived))
    }
}

async fn savepoint(tx: &mut crate::store::WriteTx, statement: &'static str) -> StoreResult<()> {
    with_tx!(tx, |conn| sqlx::query(statement).execute(&mut *conn).await.map(|_| ()))?;
    Ok(())
}
