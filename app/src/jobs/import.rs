//! Importing users from a CSV file (UTF-8, a header row): `userID`
//! (required), `userName`, `email`, and any other column as a property.
//!
//! The upload is written to a file as it arrives (never held in memory),
//! up to a size limit; its header is checked at once. Then a job reads it
//! (`import_work.rs`) a chunk of rows at a time: a refused row is kept with
//! its line number (the first
//! [`MAX_KEPT_REFUSALS`](super::model::MAX_KEPT_REFUSALS)) and never stops
//! the rest, and a resumed import goes on after the last chunk written.
//! Users are keyed by userID: importing again updates them.

use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::csv_rows::{check_row, header_columns, Columns, ImportRow};
use super::model::{Job, JobKind, Refusal};
use crate::background::Jobs;
use crate::error::AppError;
use crate::store::{NewJob, Store};
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
pub(super) struct ImportParams {
    /// The file's name in the import folder.
    pub file: String,
    pub columns: Vec<String>,
}

/// Where an import is in its file (`jobs.position`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct FilePosition {
    pub byte: u64,
    pub line: u64,
    pub record: u64,
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
