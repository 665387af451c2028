//! An import job's work on its file: a chunk of rows at a time, each
//! checked as the ingest API checks a user, written in one transaction
//! with the job's position in the file (see `import.rs` for the upload).
//! The next chunk is read while the current one is written, and on
//! PostgreSQL two chunks are written at once, committed in file order
//! (see [`ImportWork::step`] and docs/ARCHITECTURE.md).

use std::path::{Path, PathBuf};

use csv::{ByteRecord, Position, ReaderBuilder};
use tokio::sync::Notify;

use super::csv_rows::{check_row, merge_repeated, Columns, ImportRow, MAX_REF};
use super::import::{FilePosition, ImportParams};
use super::model::{Job, JobKind, Refusal};
use super::step::Step;
use crate::ids::ExternalId;
use crate::model::properties::PropertySet;
use crate::store::{ChunkDone, ClaimedJob, Store, StoreError, UserInput};
use crate::time::now_ms;

/// One chunk read from the file: each record's line and check, the
/// position after it, and whether the file ended.
struct ReadChunk {
    rows: Vec<(i64, Result<ImportRow, Refusal>)>,
    position: FilePosition,
    ended: bool,
}

/// A chunk ready to write: its rows (a userID named twice merged into one
/// row) and refusals. Kept until written, so a chunk the store could not
/// write (busy, unreachable) is the one tried again.
struct Prepared {
    rows: Vec<(i64, ImportRow)>,
    refusals: Vec<Refusal>,
    position: FilePosition,
    ended: bool,
}

impl From<ReadChunk> for Prepared {
    fn from(chunk: ReadChunk) -> Prepared {
        let mut refusals = Vec::new();
        let mut rows: Vec<(i64, ImportRow)> = Vec::new();
        for (line, row) in chunk.rows {
            match row {
                Ok(row) => rows.push((line, row)),
                Err(refusal) => refusals.push(refusal),
            }
        }
        Prepared { rows: merge_repeated(rows), refusals, position: chunk.position, ended: chunk.ended }
    }
}

type FileReader = csv::Reader<std::fs::File>;
type ReadAhead = tokio::task::JoinHandle<(FileReader, Prepared)>;

/// Reads and checks the next `size` records (a blocking task).
fn read_records(mut reader: FileReader, columns: &Columns, size: usize) -> (FileReader, Prepared) {
    let mut rows = Vec::with_capacity(size);
    let mut record = ByteRecord::new();
    let mut ended = false;
    while rows.len() < size {
        match reader.read_byte_record(&mut record) {
            Ok(false) => {
                ended = true;
                break;
            }
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line() as i64);
                rows.push((line, check_row(columns, &record, line)));
            }
            Err(err) => {
                // The reader goes on after a record it could not read.
                let line = err.position().map_or(0, |p| p.line() as i64);
                rows.push((line, Err(Refusal { line, user_ref: String::new(), reason: err.to_string() })));
            }
        }
    }
    let p = reader.position();
    let position = FilePosition { byte: p.byte(), line: p.line(), record: p.record() };
    (reader, ReadChunk { rows, position, ended }.into())
}

/// A claimed import, reading its file.
pub(crate) struct ImportWork {
    job: Job,
    path: PathBuf,
    columns: Columns,
    /// The file, when no read is under way.
    reader: Option<FileReader>,
    /// The next chunk, read and checked on a blocking thread while the
    /// current one is written: reading the file and writing the database
    /// overlap.
    ahead: Option<ReadAhead>,
    /// Chunks read but not written yet, in file order.
    pending: std::collections::VecDeque<Prepared>,
    position: FilePosition,
    /// Refusals so far (how many more may be kept).
    refused: i64,
    /// Rows per chunk.
    chunk_rows: usize,
    /// Bytes counted as done (the header's too).
    counted: i64,
}

impl ImportWork {
    pub(crate) async fn open(dir: &Path, claimed: ClaimedJob, chunk_rows: usize) -> Result<ImportWork, String> {
        let params: ImportParams = serde_json::from_str(&claimed.params)
            .map_err(|err| format!("the job's settings are not readable: {err}"))?;
        let columns = Columns::of(&params.columns)?;
        let path = dir.join(&params.file);
        let at: Option<FilePosition> = match claimed.position.as_deref() {
            Some(text) => {
                Some(serde_json::from_str(text).map_err(|err| format!("the job's position is not readable: {err}"))?)
            }
            None => None,
        };
        let opened = path.clone();
        let (reader, position) = tokio::task::spawn_blocking(move || -> Result<(FileReader, FilePosition), String> {
            let file = std::fs::File::open(&opened).map_err(|_| {
                "The uploaded file is not on this server any more (its instance stopped). Upload it again: \
                 rows imported so far are updated, never duplicated."
                    .to_string()
            })?;
            let mut reader = ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
            let position = match at {
                Some(at) => {
                    let mut seek = Position::new();
                    seek.set_byte(at.byte).set_line(at.line).set_record(at.record);
                    reader.seek(seek).map_err(|err| format!("cannot go back to where the import was: {err}"))?;
                    at
                }
                None => {
                    let mut header = ByteRecord::new();
                    reader.read_byte_record(&mut header).map_err(|err| err.to_string())?;
                    let p = reader.position();
                    FilePosition { byte: p.byte(), line: p.line(), record: p.record() }
                }
            };
            Ok((reader, position))
        })
        .await
        .map_err(|err| err.to_string())??;
        let refused = claimed.job.refused;
        let chunk_rows = chunk_rows.max(1);
        let counted = claimed.job.done;
        Ok(ImportWork {
            job: claimed.job,
            path,
            columns,
            reader: Some(reader),
            ahead: None,
            pending: std::collections::VecDeque::new(),
            position,
            refused,
            chunk_rows,
            counted,
        })
    }

    pub(crate) fn app_id(&self) -> i64 {
        self.job.app_id
    }

    /// Starts reading the chunk after the current one.
    fn read_ahead(&mut self) {
        if let Some(reader) = self.reader.take() {
            let (columns, size) = (self.columns.clone(), self.chunk_rows);
            self.ahead = Some(tokio::task::spawn_blocking(move || read_records(reader, &columns, size)));
        }
    }

    /// The chunk to write: the one not written yet, or the next of the file.
    async fn next_chunk(&mut self) -> Result<Prepared, String> {
        if let Some(chunk) = self.pending.pop_front() {
            return Ok(chunk);
        }
        if self.ahead.is_none() {
            self.read_ahead();
        }
        let read = self.ahead.take().ok_or("the file is not open")?;
        let (reader, chunk) = read.await.map_err(|err| err.to_string())?;
        self.reader = Some(reader);
        Ok(chunk)
    }

    /// Writes the next chunk, or the next two at once (see [`ImportWork::pairs`])
    /// when `room` allows two: the step and how many chunks it wrote.
    pub(crate) async fn step(&mut self, store: &Store, owner: &str, room: usize) -> Result<(Step, usize), StoreError> {
        let mut first = match self.next_chunk().await {
            Ok(chunk) => chunk,
            Err(message) => return Ok((Step::Failed(format!("cannot read the file: {message}")), 0)),
        };
        let mut second = None;
        if room >= 2 && !first.ended && self.pairs(store) {
            match self.next_chunk().await {
                Ok(next) if shares_a_user(&first, &next) => self.pending.push_front(next),
                Ok(next) => second = Some(next),
                Err(message) => return Ok((Step::Failed(format!("cannot read the file: {message}")), 0)),
            }
        }
        if !second.as_ref().unwrap_or(&first).ended && self.pending.is_empty() {
            self.read_ahead();
        }
        let lead = Place { counted: self.counted, refused: self.refused, follows: false };
        let Some(mut second) = second else {
            return match self.write(store, owner, &mut first, lead, &Notify::new()).await {
                Ok(true) => Ok((self.written(first).await, 1)),
                Ok(false) => Ok((Step::Lost, 0)),
                Err(err) => {
                    self.pending.push_front(first);
                    Err(err)
                }
            };
        };
        let follow = Place { counted: first.position.byte as i64, refused: 0, follows: true };
        // The second starts once the first holds the job (or has ended).
        let held = Notify::new();
        let lead_write = async {
            let result = self.write(store, owner, &mut first, lead, &held).await;
            held.notify_one();
            result
        };
        let (lead_result, follow_result) =
            tokio::join!(lead_write, self.write(store, owner, &mut second, follow, &held));
        match lead_result {
            Ok(true) => {}
            // The second chunk holds the job only after the first committed:
            // with the first not written, neither is it.
            Ok(false) => return Ok((Step::Lost, 0)),
            Err(err) => {
                self.pending.push_front(second);
                self.pending.push_front(first);
                return Err(err);
            }
        }
        self.written(first).await;
        match follow_result {
            Ok(_) => Ok((self.written(second).await, 2)),
            Err(err) => {
                // Not written (rolled back): the next step writes it alone,
                // where a refusal or a lasting error is dealt with as usual.
                tracing::debug!("the second chunk of two is written again alone: {err}");
                self.pending.push_front(second);
                Ok((Step::More, 1))
            }
        }
    }

    /// Whether two chunks are written at once. On PostgreSQL the
    /// database's time is most of an import's, and one transaction keeps one
    /// core busy: two keep two. SQLite has one writer at a time; a check
    /// writes next to nothing.
    fn pairs(&self, store: &Store) -> bool {
        self.job.kind == JobKind::Import && store.is_postgres()
    }

    /// Notes a written chunk: the job's progress as this runner counts it.
    async fn written(&mut self, chunk: Prepared) -> Step {
        self.refused += chunk.refusals.len() as i64;
        self.position = chunk.position;
        self.counted = chunk.position.byte as i64;
        if !chunk.ended {
            return Step::More;
        }
        if self.job.kind == JobKind::Import {
            let _ = tokio::fs::remove_file(&self.path).await;
        }
        Step::Finished
    }

    /// Writes the chunk's users (an import; a check writes none), its
    /// refusals and the job's progress in one transaction. False when the
    /// job's hold was lost. A chunk that holds the job notifies `held` once
    /// it does; one that follows another waits for that before it starts.
    async fn write(
        &self,
        store: &Store,
        owner: &str,
        chunk: &mut Prepared,
        place: Place,
        held: &Notify,
    ) -> Result<bool, StoreError> {
        if place.follows {
            held.notified().await;
        }
        let (write, ended) = (self.job.kind == JobKind::Import, chunk.ended);
        let position = serde_json::to_string(&chunk.position).expect("plain data serializes");
        let done = chunk.position.byte as i64 - place.counted;
        let (actor, app_id) = (self.job.actor.as_str(), self.job.app_id);
        // A row past a user's property limit refuses only that row: the
        // chunk is written again without it.
        loop {
            let (job_id, now) = (self.job.id, now_ms());
            let (rows, refusals) = (&chunk.rows, &chunk.refusals);
            let result = crate::store::write_tx!(store, |tx| {
                if !place.follows {
                    if !tx.hold_job(job_id, owner, now, place.counted).await? {
                        return Ok(false);
                    }
                    held.notify_one();
                }
                if !ended {
                    tx.commit_without_flush_wait().await?;
                }
                if write {
                    let users: Vec<(&ExternalId, UserInput<'_>, &[PropertySet])> = rows
                        .iter()
                        .map(|(_, row)| {
                            let input = UserInput { user_name: row.user_name.as_deref(), email: row.email.as_deref() };
                            (&row.user_id, input, row.properties.as_slice())
                        })
                        .collect();
                    tx.import_users(app_id, &users, actor, now).await?;
                }
                // The chunk after another holds the job last: the one
                // before holds the job's row from its start to its commit,
                // so this waits for that, and the two commit in file order.
                // If that one did not commit, the job's count is not the
                // one expected and nothing of this chunk is kept.
                let refused_before = match place.follows {
                    false => place.refused,
                    true => match tx.hold_job_after(job_id, owner, now, place.counted).await? {
                        Some(refused) => refused,
                        None => return Err(StoreError::Conflict("the chunk before this one was not written".into())),
                    },
                };
                tx.keep_refusals(job_id, refused_before, refusals).await?;
                let counts = ChunkDone {
                    done,
                    changed: rows.len() as i64,
                    unchanged: 0,
                    refused: refusals.len() as i64,
                    position: Some(&position),
                };
                tx.advance_job(job_id, &counts).await?;
                Ok(true)
            });
            match result {
                Err(StoreError::Invalid { field, message }) if !place.follows => {
                    let Some(index) = refused_entry(&field).filter(|&i| i < chunk.rows.len()) else {
                        return Err(StoreError::Invalid { field, message });
                    };
                    let (line, row) = chunk.rows.remove(index);
                    let user_ref = row.user_id.as_str().chars().take(MAX_REF).collect();
                    chunk.refusals.push(Refusal { line, user_ref, reason: message });
                    chunk.refusals.sort_by_key(|r| r.line);
                }
                other => return other,
            }
        }
    }
}

/// Where a chunk's write stands: the job's count (bytes done) and
/// refusals before it, and whether it follows another chunk written at the
/// same time (then it holds the job last, see [`ImportWork::write`], and
/// reads the refusals from the job once the chunk before has committed).
#[derive(Clone, Copy)]
struct Place {
    counted: i64,
    refused: i64,
    follows: bool,
}

/// Whether two chunks name a userID in common: written at once, each
/// would wait for the other's lock on that user (the database would break
/// the deadlock, after a second), so they are written one after the other.
fn shares_a_user(first: &Prepared, second: &Prepared) -> bool {
    let ids: std::collections::HashSet<&str> = first.rows.iter().map(|(_, row)| row.user_id.as_str()).collect();
    second.rows.iter().any(|(_, row)| ids.contains(row.user_id.as_str()))
}

/// `[3].properties` → 3: the batch entry the store refused.
fn refused_entry(field: &str) -> Option<usize> {
    field.strip_prefix('[')?.split_once(']')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_store_names_a_refused_entry_by_its_place() {
        assert_eq!(super::refused_entry("[12].properties"), Some(12));
        assert_eq!(super::refused_entry("properties"), None);
    }
}
