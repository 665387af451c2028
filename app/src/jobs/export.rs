//! The bulk Export: the selected users (ticked, or all a view matches) as
//! CSV (the list's columns and the view's property columns) or JSON (each
//! user with all its properties), written while the users are read and
//! sent in chunks through a bounded channel, as the single-user export is.
//! A download is not a job: its progress is the browser's.

use serde::Serialize;
use tokio::sync::mpsc;

use super::model::Selection;
use super::selection::MatchingWalk;
use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::model::properties::PropertyValue;
use crate::model::UserSummary;
use crate::profile::export::{no_formula, Chunk, CHUNK_BYTES};
use crate::store::{NewAudit, Store, StoreError};
use crate::time::now_ms;

/// The audit action of a bulk export.
pub const EXPORTED_USERS: &str = "exported users";

/// CSV or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersFormat {
    Csv,
    Json,
}

impl UsersFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            UsersFormat::Csv => "text/csv; charset=utf-8",
            UsersFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            UsersFormat::Csv => "csv",
            UsersFormat::Json => "json",
        }
    }
}

/// Checks the selection and audits the export before the first byte.
pub async fn start(
    store: &Store,
    app_id: i64,
    selection: &Selection,
    admin: &SessionAdmin,
) -> Result<MatchingWalk, AppError> {
    let walk = MatchingWalk::new(store, app_id, selection).await?;
    let audit = NewAudit {
        app_id: Some(app_id),
        actor: &admin.email,
        action: EXPORTED_USERS,
        user_id: None,
        detail: walk.words(),
    };
    store.record_audit(&audit, now_ms()).await?;
    Ok(walk)
}

#[derive(Serialize)]
struct ExportedUser<'a> {
    #[serde(rename = "userID")]
    user_id: &'a str,
    #[serde(rename = "userName")]
    user_name: Option<&'a str>,
    email: Option<&'a str>,
    active: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(rename = "lastSeenAt")]
    last_seen_at: Option<String>,
    properties: serde_json::Map<String, serde_json::Value>,
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

fn value_text(value: &PropertyValue) -> String {
    match value {
        PropertyValue::String(text) => text.clone(),
        PropertyValue::Number(n) => n.to_string(),
        PropertyValue::Boolean(b) => b.to_string(),
        PropertyValue::Date(ms) => iso(*ms),
    }
}

fn value_json(value: &PropertyValue) -> serde_json::Value {
    match value {
        PropertyValue::String(text) => serde_json::Value::String(text.clone()),
        PropertyValue::Number(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into),
        PropertyValue::Boolean(b) => serde_json::Value::Bool(*b),
        PropertyValue::Date(ms) => serde_json::Value::String(iso(*ms)),
    }
}

/// Writes the export to `out` until the selection is read; an error
/// ends the stream with an error (the download breaks, never looks whole).
pub async fn write(
    store: Store,
    mut walk: MatchingWalk,
    format: UsersFormat,
    columns: Vec<String>,
    out: mpsc::Sender<Chunk>,
) {
    let result = write_all(&store, &mut walk, format, &columns, &out).await;
    if let Err(err) = result {
        tracing::warn!("bulk export stopped: {err}");
        let _ = out.send(Err(std::io::Error::other(err.to_string()))).await;
    }
}

async fn write_all(
    store: &Store,
    walk: &mut MatchingWalk,
    format: UsersFormat,
    columns: &[String],
    out: &mpsc::Sender<Chunk>,
) -> Result<(), StoreError> {
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut first = true;
    match format {
        UsersFormat::Csv => {
            let mut header = csv::Writer::from_writer(Vec::new());
            let fixed = ["userID", "userName", "email", "active", "createdAt", "lastSeenAt"];
            let _ = header.write_record(fixed.iter().map(|s| s.to_string()).chain(columns.iter().cloned()));
            buffer.extend(header.into_inner().unwrap_or_default());
        }
        UsersFormat::Json => buffer.push(b'['),
    }
    while let Some(users) = walk.next_users(store).await? {
        match format {
            UsersFormat::Csv => csv_rows(store, &users, columns, &mut buffer).await?,
            UsersFormat::Json => {
                for user in &users {
                    let properties = store
                        .properties_of(user.id)
                        .await?
                        .into_iter()
                        .map(|p| (p.name.clone(), value_json(&p.value)))
                        .collect();
                    let exported = ExportedUser {
                        user_id: &user.external_id,
                        user_name: user.user_name.as_deref(),
                        email: user.email.as_deref(),
                        active: user.active,
                        created_at: iso(user.created_at),
                        last_seen_at: user.last_seen_at.map(iso),
                        properties,
                    };
                    if !first {
                        buffer.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut buffer, &exported)?;
                }
            }
        }
        if buffer.len() >= CHUNK_BYTES && out.send(Ok(std::mem::take(&mut buffer))).await.is_err() {
            return Ok(());
        }
    }
    if format == UsersFormat::Json {
        buffer.extend_from_slice(b"]\n");
    }
    let _ = out.send(Ok(buffer)).await;
    Ok(())
}

async fn csv_rows(
    store: &Store,
    users: &[UserSummary],
    columns: &[String],
    buffer: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let values = if columns.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        store.property_values_of(&ids, columns).await?
    };
    let found: std::collections::HashMap<(i64, &str), &PropertyValue> =
        values.iter().map(|(id, name, value)| ((*id, name.as_str()), value)).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    for user in users {
        let fixed = [
            user.external_id.clone(),
            user.user_name.clone().unwrap_or_default(),
            user.email.clone().unwrap_or_default(),
            user.active.to_string(),
            iso(user.created_at),
            user.last_seen_at.map(iso).unwrap_or_default(),
        ];
        let extra =
            columns.iter().map(|name| found.get(&(user.id, name.as_str())).map(|v| value_text(v)).unwrap_or_default());
        // Cells a spreadsheet would run as a formula start with an apostrophe.
        let cells = fixed.into_iter().chain(extra).map(|cell| no_formula(&cell));
        writer.write_record(cells).map_err(|e| StoreError::Invalid { field: "csv".into(), message: e.to_string() })?;
    }
    buffer.extend(writer.into_inner().unwrap_or_default());
    Ok(())
}
