//! Importing users from a CSV file (UTF-8, a header row): `userID`
//! (required), `userName`, `email`, and any other column as a property.
//!
//! The upload is written to a file as it arrives (never held in memory),
//! up to a size limit; its header is checked at once. Then a job reads it
//! a chunk of rows at a time: each row is checked as the ingest API checks
//! a user, a refused row is kept with its line number (the first
//! [`MAX_KEPT_REFUSALS`](super::model::MAX_KEPT_REFUSALS)) and never stops the rest, and the chunk's users
//! are written in one transaction with the job's position in the file, so
//! a resumed import goes on after the last chunk written. Users are keyed
//! by userID: importing again updates them.

use std::path::{Path, PathBuf};

use csv::{ByteRecord, Position, ReaderBuilder};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::csv_rows::{check_row, header_columns, merge_repeated, Columns, ImportRow, MAX_REF};
use super::model::{Job, JobKind, Refusal};
use super::step::Step;
use crate::background::Jobs;
use crate::error::AppError;
use crate::ids::ExternalId;
use crate::model::properties::PropertySet;
use crate::store::{ChunkDone, ClaimedJob, NewJob, Store, StoreError, UserInput};
use crate::time::now_ms;

/// Why an upload was refused before any row was read.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("The file is larger than the limit of {}.", super::model::bytes_words(*limit as i64))]
    TooLarge { limit: u64 },
    #[error("The upload stopped before the end: {0}")]
    Interrupted(String),
    #[error("The file cannot be stored on the server: {0}")]
    Storage(String),
    #[error("{0}")]
    Header(String),
}

impl From<UploadError> for AppError {
    fn from(err: UploadError) -> AppError {
        match err {
            UploadError::TooLarge { .. } => AppError::PayloadTooLarge,
            UploadError::Interrupted(_) => AppError::BadRequest(err.to_string()),
            UploadError::Storage(message) => {
                tracing::error!("cannot store an upload: {message}");
                AppError::Internal
            }
            UploadError::Header(message) => AppError::invalid("file", message),
        }
    }
}

/// An uploaded file, stored, with its header checked.
#[derive(Debug, Clone)]
pub struct Upload {
    pub path: PathBuf,
    pub bytes: u64,
    pub columns: Vec<String>,
}

/// Writes `body` to a new file in `dir` as it arrives, up to `limit`
/// bytes, and checks its header. The file is removed if refused.
pub async fn receive<S, B, E>(dir: &Path, limit: u64, body: S) -> Result<Upload, UploadError>
where
    S: futures::Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    use futures::StreamExt;
    tokio::fs::create_dir_all(dir).await.map_err(|e| UploadError::Storage(e.to_string()))?;
    let path = dir.join(format!("{:016x}.csv", rand::random::<u64>()));
    let written = async {
        let mut file = tokio::fs::File::create(&path).await.map_err(|e| UploadError::Storage(e.to_string()))?;
        let mut bytes = 0u64;
        let mut body = std::pin::pin!(body);
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| UploadError::Interrupted(e.to_string()))?;
            let piece = piece.as_ref();
            bytes += piece.len() as u64;
            if bytes > limit {
                return Err(UploadError::TooLarge { limit });
            }
            file.write_all(piece).await.map_err(|e| UploadError::Storage(e.to_string()))?;
        }
        file.flush().await.map_err(|e| UploadError::Storage(e.to_string()))?;
        let columns = read_header(path.clone()).await?;
        Ok(Upload { path: path.clone(), bytes, columns })
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    written
}

async fn read_header(path: PathBuf) -> Result<Vec<String>, UploadError> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| UploadError::Storage(e.to_string()))?;
        let mut reader = ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
        let mut header = ByteRecord::new();
        let read = reader.read_byte_record(&mut header).map_err(|e| UploadError::Header(format!("Line 1: {e}")))?;
        if !read {
            return Err(UploadError::Header("The file is empty: it needs a header row with userID.".into()));
        }
        let columns = header_columns(&header).map_err(UploadError::Header)?;
        Columns::of(&columns).map_err(UploadError::Header)?;
        Ok(columns)
    })
    .await
    .map_err(|e| UploadError::Storage(e.to_string()))?
}

/// An import's settings (`jobs.params`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImportParams {
    /// The file's name in the import folder.
    file: String,
    columns: Vec<String>,
}

/// Where an import is in its file (`jobs.position`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct FilePosition {
    byte: u64,
    line: u64,
    record: u64,
}

/// Starts a job reading `upload`: a check (`ImportCheck`, writes nothing)
/// or the import. This instance's runner has the file, so it is the job's
/// runner from the start.
pub async fn start(
    store: &Store,
    jobs: &Jobs,
    app_id: i64,
    upload: &Upload,
    kind: JobKind,
    actor: &str,
) -> Result<Job, AppError> {
    let file = upload.path.file_name().and_then(|f| f.to_str()).ok_or(AppError::Internal)?.to_string();
    let params = serde_json::to_string(&ImportParams { file, columns: upload.columns.clone() })
        .map_err(|_| AppError::Internal)?;
    let description = match kind {
        JobKind::ImportCheck => format!("Check a CSV file ({})", super::model::bytes_words(upload.bytes as i64)),
        _ => format!("Import users from a CSV file ({})", super::model::bytes_words(upload.bytes as i64)),
    };
    let job = NewJob {
        app_id,
        kind,
        actor,
        description: &description,
        params: &params,
        total: upload.bytes as i64,
        position: None,
        owner: Some(jobs.owner()),
    };
    let id = store.create_job(&job, now_ms()).await?;
    jobs.wake();
    tracing::info!(job = id, bytes = upload.bytes, kind = kind.as_str(), "import job started");
    store.job(app_id, id).await?.ok_or(AppError::Internal)
}

/// The file a check read, to import it after the preview: its upload.
pub async fn checked_upload(store: &Store, jobs: &Jobs, app_id: i64, check_id: i64) -> Result<Upload, AppError> {
    let missing = || AppError::NotFound("This file is not on the server any more. Upload it again.".into());
    let job = store.job(app_id, check_id).await?.ok_or_else(missing)?;
    if job.kind != JobKind::ImportCheck {
        return Err(AppError::invalid("job", "Only a checked file can be imported from here."));
    }
    let params: ImportParams = serde_json::from_str(&store.job_params(check_id).await?.ok_or_else(missing)?)
        .map_err(|_| AppError::Internal)?;
    let path = jobs.import_dir().join(&params.file);
    let bytes = tokio::fs::metadata(&path).await.map_err(|_| missing())?.len();
    Ok(Upload { path, bytes, columns: params.columns })
}

/// The first `rows` data rows of an uploaded file as the import would take
/// them (the preview): each row's line and either what it holds, or why
/// it would be refused.
pub async fn preview(upload: &Upload, rows: usize) -> Result<Vec<(i64, Result<ImportRow, Refusal>)>, AppError> {
    let columns = Columns::of(&upload.columns).map_err(|message| AppError::invalid("file", message))?;
    let path = upload.path.clone();
    tokio::task::spawn_blocking(move || {
        let file =
            std::fs::File::open(&path).map_err(|_| AppError::NotFound("The file is gone. Upload it again.".into()))?;
        let mut reader = ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
        let mut record = ByteRecord::new();
        let mut out = Vec::new();
        let _ = reader.read_byte_record(&mut record);
        while out.len() < rows {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line() as i64);
                    out.push((line, check_row(&columns, &record, line)));
                }
                Err(err) => {
                    let line = err.position().map_or(0, |p| p.line() as i64);
                    out.push((line, Err(Refusal { line, user_ref: String::new(), reason: err.to_string() })));
                    break;
                }
            }
        }
        Ok(out)
    })
    .await
    .map_err(|_| AppError::Internal)?
}

/// One chunk read from the file: each record's line and check, the
/// position after it, and whether the file ended.
struct ReadChunk {
    rows: Vec<(i64, Result<ImportRow, Refusal>)>,
    position: FilePosition,
    ended: bool,
}

type FileReader = csv::Reader<std::fs::File>;

/// A claimed import, reading its file.
pub(crate) struct ImportWork {
    job: Job,
    path: PathBuf,
    columns: Columns,
    reader: Option<FileReader>,
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
        Ok(ImportWork { job: claimed.job, path, columns, reader: Some(reader), position, refused, chunk_rows, counted })
    }

    pub(crate) fn app_id(&self) -> i64 {
        self.job.app_id
    }

    async fn read_chunk(&mut self) -> Result<ReadChunk, String> {
        let mut reader = self.reader.take().ok_or("the file is not open")?;
        let (columns, size) = (self.columns.clone(), self.chunk_rows);
        let (reader, chunk) = tokio::task::spawn_blocking(move || {
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
                        rows.push((line, check_row(&columns, &record, line)));
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
            (reader, ReadChunk { rows, position, ended })
        })
        .await
        .map_err(|err| err.to_string())?;
        self.reader = Some(reader);
        Ok(chunk)
    }

    pub(crate) async fn step(&mut self, store: &Store, owner: &str) -> Result<Step, StoreError> {
        let chunk = match self.read_chunk().await {
            Ok(chunk) => chunk,
            Err(message) => return Ok(Step::Failed(format!("cannot read the file: {message}"))),
        };
        let mut refusals = Vec::new();
        let mut rows: Vec<(i64, ImportRow)> = Vec::new();
        for (line, row) in chunk.rows {
            match row {
                Ok(row) => rows.push((line, row)),
                Err(refusal) => refusals.push(refusal),
            }
        }
        let mut rows = merge_repeated(rows);
        let write = self.job.kind == JobKind::Import;
        let position = serde_json::to_string(&chunk.position).expect("plain data serializes");
        let done = chunk.position.byte as i64 - self.counted;
        let (actor, app_id) = (self.job.actor.clone(), self.job.app_id);
        // A row past a user's property limit refuses only that row: the
        // chunk is written again without it.
        loop {
            let (job_id, refused_before, now) = (self.job.id, self.refused, now_ms());
            let result = crate::store::write_tx!(store, |tx| {
                if !tx.hold_job(job_id, owner, now).await? {
                    return Ok(false);
                }
                if write {
                    let users: Vec<(&ExternalId, UserInput<'_>, &[PropertySet])> = rows
                        .iter()
                        .map(|(_, row)| {
                            let input = UserInput { user_name: row.user_name.as_deref(), email: row.email.as_deref() };
                            (&row.user_id, input, row.properties.as_slice())
                        })
                        .collect();
                    tx.import_users(app_id, &users, &actor, now).await?;
                }
                tx.keep_refusals(job_id, refused_before, &refusals).await?;
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
                Ok(true) => break,
                Ok(false) => return Ok(Step::Lost),
                Err(StoreError::Invalid { field, message }) => {
                    let Some(index) = refused_entry(&field).filter(|&i| i < rows.len()) else {
                        return Err(StoreError::Invalid { field, message });
                    };
                    let (line, row) = rows.remove(index);
                    let user_ref = row.user_id.as_str().chars().take(MAX_REF).collect();
                    refusals.push(Refusal { line, user_ref, reason: message });
                    refusals.sort_by_key(|r| r.line);
                }
                Err(err) => return Err(err),
            }
        }
        self.refused += refusals.len() as i64;
        self.position = chunk.position;
        self.counted = chunk.position.byte as i64;
        if chunk.ended {
            if write {
                let _ = tokio::fs::remove_file(&self.path).await;
            }
            return Ok(Step::Finished);
        }
        Ok(Step::More)
    }
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
