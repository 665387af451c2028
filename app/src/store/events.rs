//! Activity events. Ingest is idempotent on the client's event id.
//!
//! A batch is written as a set, not row by row: one look-up per chunk of
//! distinct userIDs and deviceIDs, multi-row INSERTs that skip known event ids
//! and return what they stored, and one last-seen / last-active update per
//! user and device, in id order (see `tx.rs` for why the order matters).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::aliases::{aliases_kept_changing, ALIAS_TRIES};
use super::batch::chunks;
use super::event_hours::{Change, HourCounts};
use super::event_minutes::MinuteCounts;
use super::tx::Locked;
use super::{with_pool, with_tx, Store, StoreError, StoreResult, WriteTx};
use crate::ids::ExternalId;

/// One event as the ingest API accepts it (already validated).
#[derive(Debug, Clone, Default)]
pub struct EventInput {
    pub client_id: Option<ExternalId>,
    pub event_type: String,
    pub user_external_id: Option<ExternalId>,
    pub device_external_id: Option<ExternalId>,
    pub session_id: Option<String>,
    pub occurred_at: i64,
    /// The event's JSON payload, serialised.
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventsOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    /// The ids of the events this batch stored (what the live channel
    /// announces once the batch is committed).
    pub stored: StoredIds,
    /// Merged userIDs the batch named, with the userID their events went to.
    pub merged: BTreeMap<String, String>,
}

/// Ids of newly stored events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoredIds {
    #[default]
    None,
    /// Every id in `(after, up_to]` that exists: SQLite has one writer, so
    /// the ids a transaction gave out form one range (read without
    /// RETURNING, which SQLite would hand over row by row).
    Range { after: i64, up_to: i64 },
    /// PostgreSQL's concurrent writers interleave ids: the list, from
    /// RETURNING.
    List(Vec<i64>),
}

impl StoredIds {
    /// The highest id given out, if any.
    pub fn newest(&self) -> Option<i64> {
        match self {
            StoredIds::None => None,
            StoredIds::Range { after, up_to } => (up_to > after).then_some(*up_to),
            StoredIds::List(ids) => ids.iter().copied().max(),
        }
    }

    /// How many ids this names at most.
    pub fn len(&self) -> usize {
        match self {
            StoredIds::None => 0,
            StoredIds::Range { after, up_to } => usize::try_from(up_to - after).unwrap_or(0),
            StoredIds::List(ids) => ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids of both: adjoining ranges stay one range (SQLite's commits,
    /// handed over in order), anything else becomes a list. A range's ids
    /// that do not exist are simply not found when the list is read.
    pub fn merge(self, other: StoredIds) -> StoredIds {
        match (self, other) {
            (StoredIds::None, other) => other,
            (this, StoredIds::None) => this,
            (StoredIds::Range { after, up_to }, StoredIds::Range { after: next, up_to: last }) if next == up_to => {
                StoredIds::Range { after, up_to: last }
            }
            (this, other) => {
                let mut ids = this.into_list();
                ids.extend(other.into_list());
                StoredIds::List(ids)
            }
        }
    }

    fn into_list(self) -> Vec<i64> {
        match self {
            StoredIds::None => Vec::new(),
            StoredIds::Range { after, up_to } => (after + 1..=up_to).collect(),
            StoredIds::List(ids) => ids,
        }
    }
}

/// An event with its references resolved to row ids.
pub(crate) struct Resolved<'e> {
    pub event: &'e EventInput,
    pub user_id: Option<i64>,
    pub device_id: Option<i64>,
    /// The merged userID the event named, when it named one (its user is
    /// the kept user).
    pub alias: Option<&'e str>,
}

/// What stored batches change besides their rows, merged over a group
/// (`event_groups.rs`): events per app, user and hour, and the newest event
/// per user and per device (what [`WriteTx::touch_last_seen`] moves
/// forward). Each is written once per group, in key order.
#[derive(Debug, Default)]
pub struct Derived {
    hours: BTreeMap<i64, HourCounts>,
    /// Per app, the Live page's per-type minute counts.
    minutes: BTreeMap<i64, MinuteCounts>,
    users: BTreeMap<i64, i64>,
    devices: BTreeMap<i64, i64>,
}

impl Derived {
    /// Adds another batch's changes: counts add up, times keep the newest.
    pub(crate) fn merge(&mut self, other: Derived) {
        for (app_id, counts) in other.hours {
            self.hours.entry(app_id).or_default().merge(counts);
        }
        for (app_id, counts) in other.minutes {
            self.minutes.entry(app_id).or_default().merge(counts);
        }
        for (mine, theirs) in [(&mut self.users, other.users), (&mut self.devices, other.devices)] {
            for (id, at) in theirs {
                mine.entry(id).and_modify(|t| *t = (*t).max(at)).or_insert(at);
            }
        }
    }
}

impl Store {
    /// Stores a batch all-or-nothing. An event whose client id this app
    /// already has (or that repeats one earlier in the batch) is counted as a
    /// duplicate. A userID or deviceID the app does not know rejects the batch
    /// with `UnknownReference` naming the event's index. Users' last-seen and
    /// devices' last-active times move forward to the newest event.
    ///
    /// Batches that arrive while others are being written are written with
    /// them, each all-or-nothing on its own (`event_groups.rs`).
    ///
    /// On PostgreSQL two transactions: the events, then last-seen. Last-seen
    /// rows are the hot ones (every batch of a busy app names the same
    /// users); holding their row locks only for one short statement instead
    /// of for the whole batch keeps batches (of other server instances) from
    /// queueing behind each other. Last-seen is derived and only moves
    /// forward: if the process dies between the two, the events are stored
    /// (and acknowledged only after both) and a resent batch, counted as
    /// duplicates, moves it again. SQLite has one writer at a time, so there
    /// is no lock queue to avoid: one transaction does both (a second one
    /// cost a fifth of its single-event rate).
    pub async fn insert_events(&self, app_id: i64, events: &[EventInput], now: i64) -> StoreResult<EventsOutcome> {
        self.insert_events_grouped(app_id, events, now).await
    }

    /// Number of stored events of an app (tests and the demo report).
    pub async fn count_events(&self, app_id: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM events WHERE app_id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, i64>(sql).bind(app_id).fetch_one(pool).await?))
    }
}

/// Users' last-seen and devices' last-active times are kept to the minute,
/// which is what the console shows of them (the API's `lastSeen` too).
/// A busy user's row is then written once a minute, not with every batch
/// that names it: on PostgreSQL each write of a user is a new row version
/// with an entry in each of its six indexes (its last-seen is indexed for
/// the users list), and with 4 clients those writes took as long as the
/// events themselves.
pub const SEEN_PRECISION_MS: i64 = 60_000;

/// The distinct values of `field` over `events`, sorted.
fn distinct<'e>(events: &'e [EventInput], field: impl Fn(&'e EventInput) -> Option<&'e ExternalId>) -> Vec<&'e str> {
    let mut names: Vec<&str> = events.iter().filter_map(|e| field(e).map(ExternalId::as_str)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// A batch with its userIDs and deviceIDs resolved to rows and checked:
/// what [`WriteTx::store_events`] writes. Finding it writes nothing, so a
/// batch that fails here leaves nothing to roll back.
pub(crate) struct ResolvedBatch<'e> {
    app_id: i64,
    now: i64,
    /// In client-id order (see [`WriteTx::store_events`]).
    rows: Vec<Resolved<'e>>,
    /// Events that repeat a client id earlier in the batch.
    repeated: u64,
    /// Merged userIDs the batch named, with the userID they landed on.
    merged: BTreeMap<String, String>,
    events: usize,
    looked_up: std::time::Duration,
}

impl WriteTx {
    /// Resolves a batch of [`Store::insert_events`]: one look-up of its
    /// userIDs and one of its deviceIDs. A reference the app does not know
    /// rejects the batch (`UnknownReference`, naming the event's index).
    pub(crate) async fn resolve_events<'e>(
        &mut self,
        app_id: i64,
        events: &'e [EventInput],
        now: i64,
    ) -> StoreResult<ResolvedBatch<'e>> {
        let started = std::time::Instant::now();
        let (users, merged) =
            self.user_ids_and_aliases(app_id, &distinct(events, |e| e.user_external_id.as_ref())).await?;
        let devices = self.device_ids(app_id, &distinct(events, |e| e.device_external_id.as_ref())).await?;

        let mut repeated = 0;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut rows: Vec<Resolved> = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let unknown = |field: &str, value: &str| StoreError::UnknownReference {
                field: format!("[{index}].{field}"),
                value: value.to_string(),
            };
            let device = match event.device_external_id.as_ref().map(ExternalId::as_str) {
                None => None,
                Some(name) => Some(*devices.get(name).ok_or_else(|| unknown("deviceID", name))?),
            };
            let user_id = match event.user_external_id.as_ref().map(ExternalId::as_str) {
                // An event from a device belongs to the device's user.
                None => device.and_then(|(_, user)| user),
                Some(name) => Some(*users.get(name).ok_or_else(|| unknown("userID", name))?),
            };
            let alias =
                event.user_external_id.as_ref().map(ExternalId::as_str).filter(|name| merged.contains_key(*name));
            if let Some(id) = event.client_id.as_ref().map(ExternalId::as_str) {
                if !seen.insert(id) {
                    repeated += 1;
                    continue;
                }
            }
            rows.push(Resolved { event, user_id, device_id: device.map(|(id, _)| id), alias });
        }
        // Inserting in client-id order means two batches that share ids wait
        // for each other's unique-index entries in one order, never in a cycle.
        rows.sort_by(|a, b| a.event.client_id.cmp(&b.event.client_id));
        Ok(ResolvedBatch { app_id, now, rows, repeated, merged, events: events.len(), looked_up: started.elapsed() })
    }

    /// Stores a [`ResolvedBatch`] and tells what else it changes; call
    /// [`WriteTx::count_event_hours`] in the same transaction and
    /// [`WriteTx::touch_last_seen`] (in this or a following one).
    pub(crate) async fn store_events(&mut self, batch: ResolvedBatch<'_>) -> StoreResult<(EventsOutcome, Derived)> {
        let started = std::time::Instant::now();
        let ResolvedBatch { app_id, now, rows, repeated, merged, events, looked_up } = batch;
        let mut outcome = EventsOutcome { duplicates: repeated, merged, ..EventsOutcome::default() };

        // PostgreSQL partitions events by month, and a partitioned table's
        // unique keys must include the partition key: there, client ids are
        // claimed in their own table first (same transaction), and only the
        // events whose id was new are inserted. SQLite keeps its unique index.
        let partitioned = self.is_postgres();
        let to_insert: Vec<&Resolved> = if partitioned {
            let ids: Vec<&str> =
                rows.iter().filter_map(|r| r.event.client_id.as_ref().map(ExternalId::as_str)).collect();
            let claimed = self.claim_client_ids(app_id, &ids, now).await?;
            rows.iter().filter(|r| r.event.client_id.as_ref().is_none_or(|id| claimed.contains(id.as_str()))).collect()
        } else {
            rows.iter().collect()
        };

        // SQLite: the ids given out lie after the newest id before the batch.
        let returning = partitioned;
        let before = if returning { 0 } else { self.newest_event_id().await? };
        let (inserted, ids) = self.insert_events(app_id, &to_insert, now, before).await?;
        outcome.stored = match (returning, inserted) {
            (_, 0) => StoredIds::None,
            (true, _) => {
                self.notify_events(&ids).await?;
                StoredIds::List(ids)
            }
            (false, _) => StoredIds::Range { after: before, up_to: self.newest_event_id().await? },
        };
        // The per-hour counts of what was stored (written by the caller,
        // with the rest of the group's): of the rows given when all of them
        // were stored (PostgreSQL always; SQLite unless it skipped a client
        // id the app already had), else read back from the ids SQLite gave
        // out (reading 500 rows back cost a tenth of a batch's writing).
        let all_stored = inserted == to_insert.len() as u64;
        let (hours, minutes) = match &outcome.stored {
            StoredIds::None => Default::default(),
            StoredIds::Range { after, up_to } if !all_stored => self.counts_of_ids(*after, *up_to, now).await?,
            _ => {
                let mut minutes = MinuteCounts::default();
                for row in &to_insert {
                    minutes.add(&row.event.event_type, row.event.occurred_at, now);
                }
                let hours =
                    to_insert.iter().filter_map(|r| r.user_id.map(|user| (user, r.event.occurred_at))).collect();
                (hours, minutes)
            }
        };
        outcome.accepted = inserted;
        outcome.duplicates += rows.len() as u64 - inserted;

        // Newest event per user and per device, in id order. An event the
        // app already had counts too: it is stored with that time (a resent
        // event), so its user was last seen at least then.
        let mut newest_user: BTreeMap<i64, i64> = BTreeMap::new();
        let mut newest_device: BTreeMap<i64, i64> = BTreeMap::new();
        for row in &rows {
            let at = row.event.occurred_at;
            if let Some(id) = row.user_id {
                newest_user.entry(id).and_modify(|t| *t = (*t).max(at)).or_insert(at);
            }
            if let Some(id) = row.device_id {
                newest_device.entry(id).and_modify(|t| *t = (*t).max(at)).or_insert(at);
            }
        }
        tracing::debug!(
            events,
            users = newest_user.len(),
            devices = newest_device.len(),
            ?looked_up,
            stored = ?started.elapsed(),
            "event batch written"
        );
        let derived = Derived {
            hours: BTreeMap::from([(app_id, hours)]),
            minutes: BTreeMap::from([(app_id, minutes)]),
            users: newest_user,
            devices: newest_device,
        };
        Ok((outcome, derived))
    }

    /// Adds stored events to their per-hour counts. Those rows are the hot
    /// ones: written last, in key order, and locked only until the commit.
    pub async fn count_event_hours(&mut self, derived: &Derived) -> StoreResult<()> {
        for (app_id, counts) in &derived.hours {
            self.change_event_hours(*app_id, counts, Change::Stored).await?;
        }
        for (app_id, counts) in &derived.minutes {
            self.add_event_minutes(*app_id, counts).await?;
        }
        Ok(())
    }

    /// Moves users' last-seen and devices' last-active times forward (never
    /// back), locking the rows in id order.
    pub async fn touch_last_seen(&mut self, derived: &Derived) -> StoreResult<()> {
        let users: Vec<(i64, i64)> = derived.users.iter().map(|(id, at)| (*id, *at)).collect();
        let devices: Vec<(i64, i64)> = derived.devices.iter().map(|(id, at)| (*id, *at)).collect();
        self.touch(Locked::Users, &users).await?;
        self.touch(Locked::Devices, &devices).await
    }

    /// Row ids of an app's users by userID, a merged userID naming its kept
    /// user (`aliases.rs`); unknown ones are absent.
    pub(crate) async fn user_ids(&mut self, app_id: i64, names: &[&str]) -> StoreResult<HashMap<String, i64>> {
        Ok(self.user_ids_and_aliases(app_id, names).await?.0)
    }

    /// [`WriteTx::user_ids`], and the merged userIDs among `names` with the
    /// userID of the user each names now.
    pub(crate) async fn user_ids_and_aliases(
        &mut self,
        app_id: i64,
        names: &[&str],
    ) -> StoreResult<(HashMap<String, i64>, BTreeMap<String, String>)> {
        // An alias that changed while its look-up waited (an undo gave the
        // userID back to its own user) means looking again from the users:
        // the name may be a user's now.
        for _ in 0..ALIAS_TRIES {
            let rows: Vec<(String, i64)> = self.by_external_ids("t.external_id, t.id", "users", app_id, names).await?;
            let mut found: HashMap<String, i64> = rows.into_iter().collect();
            let mut aliases = BTreeMap::new();
            if found.len() < names.len() {
                let missing: Vec<&str> = names.iter().copied().filter(|name| !found.contains_key(*name)).collect();
                let Some(targets) = self.alias_targets_as_locked(app_id, &missing).await? else { continue };
                for (alias, (id, kept)) in targets {
                    found.insert(alias.clone(), id);
                    aliases.insert(alias, kept);
                }
            }
            return Ok((found, aliases));
        }
        Err(aliases_kept_changing())
    }

    /// (row id, its user's row id) of an app's devices by deviceID.
    async fn device_ids(&mut self, app_id: i64, names: &[&str]) -> StoreResult<HashMap<String, (i64, Option<i64>)>> {
        let rows: Vec<(String, i64, Option<i64>)> =
            self.by_external_ids("t.external_id, t.id, t.user_id", "devices", app_id, names).await?;
        Ok(rows.into_iter().map(|(name, id, user)| (name, (id, user))).collect())
    }

    /// `SELECT {columns} FROM {table} WHERE app_id = … AND external_id`
    /// among `names`, both databases binding the names as one value.
    ///
    /// PostgreSQL binds them as an array (one statement, where `IN` lists of
    /// up to 256 placeholders took three per table for a batch of 500
    /// events, 4–11 ms of its look-ups). It also takes the lock a foreign
    /// key's check would, `FOR KEY SHARE`: events have no foreign keys there
    /// (migration 0019), and this keeps an erasure from deleting a user or
    /// device between the look-up and the commit (erasure locks them `FOR
    /// UPDATE` first).
    ///
    /// SQLite binds them as a JSON array and hands the rows back as one JSON
    /// array: sqlx passes SQLite's rows over one at a time (each value
    /// copied, each row sent from its worker thread), which for the ~800
    /// rows a 500-event batch looks up cost the one writer 2.4 ms a batch.
    async fn by_external_ids<T>(
        &mut self,
        columns: &str,
        table: &str,
        app_id: i64,
        names: &[&str],
    ) -> StoreResult<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + serde::de::DeserializeOwned + Send + Unpin,
    {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        if self.is_postgres() {
            // A join on the names, not `external_id = ANY($2)`: for an app
            // whose users arrived since the table's statistics were taken,
            // the planner thought the app nearly empty and read all of its
            // users through another index, filtering them by the array.
            // Rows are locked after the sort, so in id order, the order an
            // erasure's chunk locks users in: an import or a batch and a
            // bulk Delete of the same users queue instead of deadlocking.
            let sql = format!(
                "SELECT {columns} FROM unnest($2::text[]) AS n(name) JOIN {table} t \
                 ON t.app_id = $1 AND t.external_id = n.name ORDER BY t.id FOR KEY SHARE OF t"
            );
            let query = sqlx::query_as(&sql).bind(app_id).bind(names);
            return Ok(query.fetch_all(&mut **self.postgres()?).await?);
        }
        let sql = format!(
            "SELECT json_group_array(json_array({columns})) FROM {table} AS t
             WHERE t.app_id = $1 AND t.external_id IN (SELECT value FROM json_each($2))"
        );
        let names = serde_json::to_string(names).map_err(|err| StoreError::Unavailable(err.to_string()))?;
        let found: String =
            with_tx!(self, |conn| sqlx::query_scalar(&sql).bind(app_id).bind(&names).fetch_one(&mut *conn).await)?;
        serde_json::from_str(&found).map_err(|err| StoreError::Unavailable(format!("look-up by external id: {err}")))
    }

    /// Moves users' last-seen (or devices' last-active) time forward to the
    /// minute of the given times (see [`SEEN_PRECISION_MS`]); `newest` is
    /// sorted by id. On PostgreSQL the rows that move are locked first, in
    /// id order, so that transactions touching overlapping users queue
    /// instead of deadlocking (`UPDATE … FROM` alone locks in its plan's
    /// order); the rest are not locked at all.
    async fn touch(&mut self, table: Locked, newest: &[(i64, i64)]) -> StoreResult<()> {
        let (name, column) = match table {
            Locked::Users => ("users", "last_seen_at"),
            Locked::Devices => ("devices", "last_active_at"),
        };
        let minutes: Vec<(i64, i64)> =
            newest.iter().map(|&(id, at)| (id, at - at.rem_euclid(SEEN_PRECISION_MS))).collect();
        let behind = format!("({name}.{column} IS NULL OR {name}.{column} < v.column2)");
        let marks = self.marks();
        for chunk in chunks(&minutes) {
            let rows = marks.values(chunk.len(), 2);
            let lock = format!(
                "SELECT {name}.id FROM {name} JOIN (VALUES {rows}) AS v ON {name}.id = v.column1
                 WHERE {behind} ORDER BY {name}.id FOR NO KEY UPDATE OF {name}"
            );
            let update = format!(
                "UPDATE {name} SET {column} = v.column2 FROM (VALUES {rows}) AS v
                 WHERE {name}.id = v.column1 AND {behind}"
            );
            let statements = if self.is_postgres() { vec![lock, update] } else { vec![update] };
            for sql in &statements {
                with_tx!(self, |conn| {
                    let mut query = sqlx::query(sql);
                    for (id, at) in chunk {
                        query = query.bind(*id).bind(*at);
                    }
                    query.execute(&mut *conn).await.map(|_| ())
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::StoredIds;

    #[test]
    fn adjoining_ranges_merge_into_one_and_anything_else_into_a_list() {
        let range = |after, up_to| StoredIds::Range { after, up_to };
        assert_eq!(range(0, 5).merge(range(5, 9)), range(0, 9));
        assert_eq!(StoredIds::None.merge(range(5, 9)), range(5, 9));
        assert_eq!(range(5, 9).merge(StoredIds::None), range(5, 9));
        assert_eq!(range(0, 2).merge(range(3, 5)), StoredIds::List(vec![1, 2, 4, 5]));
        assert_eq!(StoredIds::List(vec![7, 3]).merge(range(8, 9)), StoredIds::List(vec![7, 3, 9]));
        assert_eq!(range(0, 9).len(), 9);
        assert!(StoredIds::None.is_empty());
    }
}
