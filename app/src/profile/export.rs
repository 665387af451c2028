//! Options > Export: everything about one user as one JSON document, and
//! the user's events as CSV, written while the rows are read (see
//! `store/export.rs`). Output goes out in chunks through a bounded channel,
//! so a slow download slows the reading down instead of filling memory.
//! A failure half-way ends the stream with an error, so the download breaks
//! rather than leaving a truncated file that looks whole.

use futures::stream::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::model::UserSummary;
use crate::store::{write_tx, ExportedEvent, NewAudit, Rows, Store, StoreError};
use crate::time::now_ms;

/// Bytes gathered before a chunk is sent.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the reader and the connection.
pub const CHUNKS_IN_FLIGHT: usize = 4;

/// A chunk of the download, or the error that ends it.
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not write the export: {0}")]
    Encode(String),
    /// The client went away; nothing to report.
    #[error("the download was cancelled")]
    Gone,
}

/// The two formats of Options > Export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Everything about the user.
    Json,
    /// The user's events only.
    EventsCsv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::EventsCsv => "events.csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::EventsCsv => "text/csv; charset=utf-8",
        }
    }
}

/// `user-<userID>-<date>.json`: the userID kept to characters that are safe
/// in a header and a file name on every system (others become `_`).
pub fn file_name(external_id: &str, format: ExportFormat, now_ms: i64) -> String {
    let safe: String = external_id
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    let date = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default().format("%Y-%m-%d");
    format!("user-{safe}-{date}.{}", format.extension())
}

/// Checks the user and writes the audit entry of the export; the caller
/// then streams it with [`write_export`]. Admins only (see docs/SECURITY.md: viewers
/// do not export).
pub async fn start_export(
    store: &Store,
    app_id: i64,
    user_id: i64,
    format: ExportFormat,
    admin: &SessionAdmin,
) -> Result<UserSummary, AppError> {
    let user = store
        .user_by_id(app_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("This user does not exist in this app.".into()))?;
    let detail = match format {
        ExportFormat::Json => "JSON",
        ExportFormat::EventsCsv => "events CSV",
    };
    let audit =
        NewAudit::on_user(app_id, user_id, &admin.email, crate::profile::access_log::EXPORTED).with_detail(detail);
    let now = now_ms();
    write_tx!(store, |tx| tx.record_audit(&audit, now).await)?;
    Ok(user)
}

/// Streams the export into `out`; on failure sends the error as the last
/// chunk (the download breaks) and logs it.
pub async fn write_export(
    store: Store,
    user: UserSummary,
    push_mail: Option<String>,
    format: ExportFormat,
    out: mpsc::Sender<Chunk>,
) {
    let mut sink = ChunkSink { buf: Vec::with_capacity(CHUNK_BYTES), out };
    let written = match format {
        ExportFormat::Json => write_json(&store, &user, push_mail, &mut sink).await,
        ExportFormat::EventsCsv => write_events_csv(&store, user.id, &mut sink).await,
    };
    let result = match written {
        Ok(()) => sink.flush().await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) | Err(ExportError::Gone) => {}
        Err(error) => {
            tracing::error!(%error, user_id = user.id, "export failed");
            let _ = sink.out.send(Err(std::io::Error::other(error.to_string()))).await;
        }
    }
}

struct ChunkSink {
    buf: Vec<u8>,
    out: mpsc::Sender<Chunk>,
}

impl ChunkSink {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ExportError> {
        serde_json::to_writer(&mut self.buf, value).map_err(|e| ExportError::Encode(e.to_string()))?;
        if self.buf.len() >= CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ExportError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.out.send(Ok(chunk)).await.map_err(|_| ExportError::Gone)
    }

    /// `"name":[row,row,…]` from a stream of rows.
    async fn section<T: Serialize>(&mut self, name: &str, rows: Rows<'_, T>) -> Result<(), ExportError> {
        self.json(name).await?;
        self.write(b":[").await?;
        self.rows(rows, true).await?;
        self.write(b"]").await
    }

    /// Rows separated by commas; `first` when none was written before.
    async fn rows<T: Serialize>(&mut self, mut rows: Rows<'_, T>, mut first: bool) -> Result<bool, ExportError> {
        while let Some(row) = rows.next().await {
            if !first {
                self.write(b",").await?;
            }
            first = false;
            self.json(&row?).await?;
        }
        Ok(first)
    }
}

/// The document's head: what it is, about whom, when.
#[derive(Serialize)]
struct Head<'a> {
    format: &'static str,
    exported_at: String,
    profile: &'a UserSummary,
    push_mail: Option<String>,
}

async fn write_json(
    store: &Store,
    user: &UserSummary,
    push_mail: Option<String>,
    out: &mut ChunkSink,
) -> Result<(), ExportError> {
    let head = Head {
        format: "audience-user-export/1",
        exported_at: crate::time::rfc3339(now_ms()),
        profile: user,
        push_mail,
    };
    // The head's fields, then one field per section, in one object.
    let head = serde_json::to_vec(&head).map_err(|e| ExportError::Encode(e.to_string()))?;
    out.write(&head[..head.len() - 1]).await?;
    out.write(b",").await?;
    out.section("segments", store.export_memberships(user.id)).await?;
    out.write(b",").await?;
    out.section("devices", store.export_devices(user.id)).await?;
    out.write(b",").await?;
    out.section("locations", store.export_locations(user.id)).await?;
    out.write(b",").await?;
    out.json("events").await?;
    out.write(b":[").await?;
    let first = out.rows(store.export_events(user.id).map(|r| r.map(EventOut::from)).boxed(), true).await?;
    out.rows(store.export_device_only_events(user.id).map(|r| r.map(EventOut::from)).boxed(), first).await?;
    out.write(b"],").await?;
    write_messages(store, user.id, out).await?;
    out.write(b",").await?;
    out.section("audit", store.export_audit(user.id)).await?;
    out.write(b",").await?;
    let properties = store.properties_of(user.id).await?;
    out.section("properties", futures::stream::iter(properties.into_iter().map(Ok)).boxed()).await?;
    out.write(b",").await?;
    out.section("property_history", store.export_property_history(user.id)).await?;
    out.write(b",").await?;
    out.section("notes", store.export_notes(user.id)).await?;
    out.write(b"}\n").await
}

/// An event with its data as JSON (not a string of JSON).
#[derive(Serialize)]
struct EventOut {
    id: i64,
    client_id: Option<String>,
    event_type: String,
    device_id: Option<i64>,
    session_id: Option<String>,
    occurred_at: i64,
    received_at: i64,
    data: serde_json::Value,
}

impl From<ExportedEvent> for EventOut {
    fn from(e: ExportedEvent) -> Self {
        let data = match e.data {
            None => serde_json::Value::Null,
            Some(text) => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        };
        EventOut {
            id: e.id,
            client_id: e.client_id,
            event_type: e.event_type,
            device_id: e.device_id,
            session_id: e.session_id,
            occurred_at: e.occurred_at,
            received_at: e.received_at,
            data,
        }
    }
}

/// `"messages":[{…,"deliveries":[…]}]`: messages and deliveries are both
/// read in message-id order and merged here.
async fn write_messages(store: &Store, user_id: i64, out: &mut ChunkSink) -> Result<(), ExportError> {
    #[derive(Serialize)]
    struct MessageOut<'a> {
        #[serde(flatten)]
        message: &'a crate::store::ExportedMessage,
        attachments: serde_json::Value,
        deliveries: &'a [crate::store::ExportedDelivery],
    }
    let mut messages = store.export_messages(user_id);
    let mut deliveries = store.export_deliveries(user_id);
    let mut next_delivery = deliveries.next().await.transpose()?;
    out.write(b"\"messages\":[").await?;
    let mut first = true;
    while let Some(message) = messages.next().await {
        let message = message?;
        let mut own = Vec::new();
        while let Some(delivery) = next_delivery.take() {
            if delivery.message_id > message.id {
                next_delivery = Some(delivery);
                break;
            }
            if delivery.message_id == message.id {
                own.push(delivery);
            }
            next_delivery = deliveries.next().await.transpose()?;
        }
        if !first {
            out.write(b",").await?;
        }
        first = false;
        let attachments = serde_json::from_str(&message.attachments).unwrap_or(serde_json::Value::Array(Vec::new()));
        out.json(&MessageOut { message: &message, attachments, deliveries: &own }).await?;
    }
    out.write(b"]").await
}

/// The events as CSV: one header row, then one row per event.
async fn write_events_csv(store: &Store, user_id: i64, out: &mut ChunkSink) -> Result<(), ExportError> {
    let mut csv = csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES));
    let header = ["id", "occurred_at", "event_type", "device_id", "session_id", "client_id", "data"];
    csv.write_record(header).map_err(|e| ExportError::Encode(e.to_string()))?;
    for mut rows in [store.export_events(user_id), store.export_device_only_events(user_id)] {
        while let Some(event) = rows.next().await {
            let event = event?;
            let record = [
                event.id.to_string(),
                crate::time::format_ms(event.occurred_at),
                no_formula(&event.event_type),
                event.device_id.map(|id| id.to_string()).unwrap_or_default(),
                no_formula(event.session_id.as_deref().unwrap_or_default()),
                no_formula(event.client_id.as_deref().unwrap_or_default()),
                no_formula(event.data.as_deref().unwrap_or_default()),
            ];
            csv.write_record(&record).map_err(|e| ExportError::Encode(e.to_string()))?;
            // (The writer's own buffer reaches the Vec in 8 KiB steps.)
            if csv.get_ref().len() >= CHUNK_BYTES {
                let full = std::mem::replace(&mut csv, csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES)));
                out.write(&full.into_inner().map_err(|e| ExportError::Encode(e.to_string()))?).await?;
            }
        }
    }
    out.write(&csv.into_inner().map_err(|e| ExportError::Encode(e.to_string()))?).await
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe
/// (OWASP's advice on CSV injection); the app's data stays readable. A
/// formula is `=`, `+`, `-` or `@` first, after any leading whitespace
/// (spreadsheets skip it), or a tab or carriage return first.
pub fn no_formula(cell: &str) -> String {
    let starts_formula = matches!(cell.chars().next(), Some('\t' | '\r'))
        || matches!(cell.trim_start().chars().next(), Some('=' | '+' | '-' | '@'));
    if starts_formula {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_safe_characters_only() {
        let t = 1_764_000_000_000; // 2025-11-24
        assert_eq!(file_name("u-42", ExportFormat::Json, t), "user-u-42-2025-11-24.json");
        assert_eq!(file_name("a\"b;c/d é", ExportFormat::EventsCsv, t), "user-a_b_c_d__-2025-11-24.events.csv");
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(no_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(no_formula("-1"), "'-1");
        assert_eq!(no_formula("purchase"), "purchase");
        assert_eq!(no_formula(" =1+1"), "' =1+1", "after leading whitespace too");
        assert_eq!(no_formula("\u{a0}\n@SUM(A1)"), "'\u{a0}\n@SUM(A1)");
        assert_eq!(no_formula("\tx"), "'\tx");
        assert_eq!(no_formula("\rx"), "'\rx");
        assert_eq!(no_formula(" a = b"), " a = b", "an = later in the cell is text");
    }
}
