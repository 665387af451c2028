//! The unified timeline: one user's events, private messages, audit rows
//! (Push Mail, segments, admin actions), property changes and notes, newest first. Each source is read
//! up to the page size before the cursor with its own index; the merge is in
//! Rust.

use super::{with_pool, Store, StoreResult};
use crate::model::activity::{type_label, TimelineEntry, TimelineKind};
use crate::model::properties::{value_words, PropertyValue};

/// A timeline position: `(at, kind rank, id)`; pages go strictly below it.
pub type TimelinePosition = (i64, i64, i64);

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    title: String,
    detail: String,
    actor: Option<String>,
}

// A row's detail carries the first 300 characters of its payload or body.
// `$3`/`$4` bound one source's rows by `(at, id) < ($3, $4)` (see `bound`).
const EVENTS: &str = "SELECT id, occurred_at AS at, event_type AS title, COALESCE(substr(data, 1, 300), '') AS detail,
        CAST(NULL AS TEXT) AS actor
    FROM events WHERE app_id = $1 AND user_id = $2 AND occurred_at <= $3 AND (occurred_at < $3 OR id < $4)
    ORDER BY occurred_at DESC, id DESC LIMIT $5";
const MESSAGES: &str = "SELECT id, created_at AS at, title, source || ' · ' || substr(body, 1, 300) AS detail,
        sender AS actor
    FROM messages WHERE app_id = $1 AND user_id = $2 AND created_at <= $3 AND (created_at < $3 OR id < $4)
    ORDER BY created_at DESC, id DESC LIMIT $5";
/// Changes only: views and exports (`model::profile::VIEWED_PREFIX`,
/// `profile::access_log::EXPORTED`) are the Access log box's, not the user's story.
const AUDIT: &str = "SELECT id, created_at AS at, action AS title, substr(detail, 1, 300) AS detail, actor
    FROM audit WHERE app_id = $1 AND user_id = $2 AND created_at <= $3 AND (created_at < $3 OR id < $4)
      AND action NOT LIKE 'viewed %' AND action <> 'exported user'
      AND action NOT IN ('set property', 'removed property', 'added note')
    ORDER BY created_at DESC, id DESC LIMIT $5";
/// Notes, as they read now (their audit row "added note" is left out above;
/// an edit or a deletion shows as its own change).
const NOTES: &str = "SELECT id, created_at AS at, 'Note' AS title, substr(body, 1, 300) AS detail, author AS actor
    FROM notes WHERE app_id = $1 AND user_id = $2 AND created_at <= $3 AND (created_at < $3 OR id < $4)
    ORDER BY created_at DESC, id DESC LIMIT $5";
/// Property changes, the app's and the admins' (whose audit rows are left
/// out above, so each change shows once).
const PROPERTIES: &str = "SELECT id, changed_at AS at, name, old_value, new_value, changed_by
    FROM property_changes WHERE app_id = $1 AND user_id = $2 AND changed_at <= $3 AND (changed_at < $3 OR id < $4)
    ORDER BY changed_at DESC, id DESC LIMIT $5";

/// The `(at, id)` bound of `kind`'s rows below `before`: at the same time a
/// lower-ranked kind comes after the cursor entirely, a higher one not at all.
fn bound(kind: TimelineKind, before: Option<TimelinePosition>) -> (i64, i64) {
    let Some((at, rank, id)) = before else { return (i64::MAX, i64::MAX) };
    let id = match kind.rank().cmp(&rank) {
        std::cmp::Ordering::Less => i64::MAX,
        std::cmp::Ordering::Equal => id,
        std::cmp::Ordering::Greater => i64::MIN,
    };
    (at, id)
}

/// The sort key of an entry, newest first when sorted descending.
pub fn timeline_position(entry: &TimelineEntry) -> TimelinePosition {
    (entry.at, entry.kind.rank(), entry.id)
}

impl Store {
    /// Up to `limit` timeline entries of the user strictly before `before`.
    pub async fn user_timeline(
        &self,
        app_id: i64,
        user_id: i64,
        before: Option<TimelinePosition>,
        limit: i64,
    ) -> StoreResult<Vec<TimelineEntry>> {
        let mut entries = Vec::new();
        for (kind, sql) in [
            (TimelineKind::Event, EVENTS),
            (TimelineKind::Message, MESSAGES),
            (TimelineKind::Audit, AUDIT),
            (TimelineKind::Note, NOTES),
        ] {
            let (at, id) = bound(kind, before);
            let rows: Vec<Row> = with_pool!(self, |pool| sqlx::query_as(sql)
                .bind(app_id)
                .bind(user_id)
                .bind(at)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await)?;
            entries.extend(rows.into_iter().map(|row| TimelineEntry {
                at: row.at,
                kind,
                id: row.id,
                title: if kind == TimelineKind::Event { type_label(&row.title) } else { row.title },
                detail: row.detail,
                actor: row.actor,
            }));
        }
        let (at, id) = bound(TimelineKind::Property, before);
        type ChangeRow = (i64, i64, String, Option<String>, Option<String>, String);
        let changes: Vec<ChangeRow> = with_pool!(self, |pool| sqlx::query_as(PROPERTIES)
            .bind(app_id)
            .bind(user_id)
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        for (id, at, name, old, new, by) in changes {
            let value = |v: Option<String>| -> StoreResult<Option<PropertyValue>> {
                Ok(v.map(|v| serde_json::from_str(&v)).transpose()?)
            };
            let (old, new) = (value(old)?, value(new)?);
            entries.push(TimelineEntry {
                at,
                kind: TimelineKind::Property,
                id,
                title: format!("Property {name}"),
                detail: format!("{} → {}", value_words(old.as_ref()), value_words(new.as_ref())),
                actor: Some(by),
            });
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(timeline_position(entry)));
        entries.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(entries)
    }
}
