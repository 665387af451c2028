//! User properties and the history of their changes.

use super::export::Rows;
use super::{with_pool, Store, StoreResult};
use crate::model::properties::{PropertyChange, PropertyValue, UserProperty};

/// A stored row's value columns: kind, string, number.
pub(crate) type ValueColumns<'v> = (&'static str, Option<&'v str>, Option<f64>);

pub(crate) fn columns(value: &PropertyValue) -> ValueColumns<'_> {
    match value {
        PropertyValue::String(s) => ("string", Some(s.as_str()), None),
        PropertyValue::Number(n) => ("number", None, Some(*n)),
        PropertyValue::Boolean(b) => ("boolean", None, Some(if *b { 1.0 } else { 0.0 })),
        // Epoch milliseconds are exact in a double for the next 285,000 years.
        PropertyValue::Date(ms) => ("date", None, Some(*ms as f64)),
    }
}

pub(crate) fn from_columns(kind: &str, text: Option<String>, number: Option<f64>) -> PropertyValue {
    match kind {
        "number" => PropertyValue::Number(number.unwrap_or_default()),
        "boolean" => PropertyValue::Boolean(number.is_some_and(|n| n != 0.0)),
        "date" => PropertyValue::Date(number.unwrap_or_default() as i64),
        _ => PropertyValue::String(text.unwrap_or_default()),
    }
}

/// A history row's value: the value as JSON, `None` when absent.
pub(crate) fn history_value(value: Option<&PropertyValue>) -> StoreResult<Option<String>> {
    Ok(value.map(serde_json::to_string).transpose()?)
}

fn from_history(value: Option<String>) -> StoreResult<Option<PropertyValue>> {
    Ok(value.map(|v| serde_json::from_str(&v)).transpose()?)
}

type PropertyRow = (String, String, Option<String>, Option<f64>, i64);
/// (user id, name, kind, string, number) of a property of one of many users.
pub(crate) type ValueRow = (i64, String, String, Option<String>, Option<f64>);
type ChangeRow = (i64, String, Option<String>, Option<String>, String, i64);

const PROPERTIES_OF: &str = "SELECT name, kind, text_value, number_value, updated_at
                             FROM user_properties WHERE user_id = $1 ORDER BY name";

fn property(row: PropertyRow) -> UserProperty {
    let (name, kind, text, number, updated_at) = row;
    UserProperty { name, value: from_columns(&kind, text, number), updated_at }
}

impl Store {
    /// The user's properties, by name.
    pub async fn properties_of(&self, user_id: i64) -> StoreResult<Vec<UserProperty>> {
        let rows: Vec<PropertyRow> =
            with_pool!(self, |pool| sqlx::query_as(PROPERTIES_OF).bind(user_id).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(property).collect())
    }

    /// The values of the properties `names` of the users `user_ids`, as
    /// (user id, name, value), for the users list's property columns.
    pub async fn property_values_of(
        &self,
        user_ids: &[i64],
        names: &[String],
    ) -> StoreResult<Vec<(i64, String, PropertyValue)>> {
        if user_ids.is_empty() || names.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders =
            |from: usize, n: usize| (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT user_id, name, kind, text_value, number_value FROM user_properties
             WHERE user_id IN ({}) AND name IN ({})",
            placeholders(1, user_ids.len()),
            placeholders(1 + user_ids.len(), names.len())
        );
        let rows: Vec<ValueRow> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in user_ids {
                q = q.bind(*id);
            }
            for name in names {
                q = q.bind(name.clone());
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(user, name, kind, text, number)| (user, name, from_columns(&kind, text, number)))
            .collect())
    }

    /// Up to `up_to` names of the app's properties starting with `prefix`,
    /// in byte order: a loose index scan (one seek per name), so an app's
    /// millions of rows cost a few seeks.
    pub async fn property_names(&self, app_id: i64, prefix: &str, up_to: i64) -> StoreResult<Vec<String>> {
        let sql = "WITH RECURSIVE t (name, n) AS (
                       SELECT (SELECT name FROM user_properties WHERE app_id = $1 AND name >= $2 AND name < $3
                               ORDER BY name LIMIT 1), CAST(1 AS BIGINT)
                       UNION ALL
                       SELECT (SELECT name FROM user_properties WHERE app_id = $1 AND name > t.name AND name < $3
                               ORDER BY name LIMIT 1), t.n + 1
                       FROM t WHERE t.name IS NOT NULL AND t.n < $4)
                   SELECT name FROM t WHERE name IS NOT NULL ORDER BY name";
        let hi = format!("{prefix}\u{10FFFF}");
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(prefix)
            .bind(&hi)
            .bind(up_to)
            .fetch_all(pool)
            .await)?)
    }

    /// Up to `up_to` distinct string values of the property `name` starting
    /// with `prefix` (their first characters the text index holds), in byte
    /// order, by a loose index scan.
    pub async fn property_text_values(
        &self,
        app_id: i64,
        name: &str,
        prefix: &str,
        up_to: i64,
    ) -> StoreResult<Vec<String>> {
        let sql = "WITH RECURSIVE t (v, n) AS (
                       SELECT (SELECT substr(text_value, 1, 200) FROM user_properties
                               WHERE app_id = $1 AND name = $2 AND substr(text_value, 1, 200) >= $3
                               AND substr(text_value, 1, 200) < $4 ORDER BY substr(text_value, 1, 200) LIMIT 1),
                              CAST(1 AS BIGINT)
                       UNION ALL
                       SELECT (SELECT substr(text_value, 1, 200) FROM user_properties
                               WHERE app_id = $1 AND name = $2 AND substr(text_value, 1, 200) > t.v
                               AND substr(text_value, 1, 200) < $4 ORDER BY substr(text_value, 1, 200) LIMIT 1),
                              t.n + 1
                       FROM t WHERE t.v IS NOT NULL AND t.n < $5)
                   SELECT v FROM t WHERE v IS NOT NULL ORDER BY v";
        let hi = format!("{prefix}\u{10FFFF}");
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(app_id)
            .bind(name)
            .bind(prefix)
            .bind(&hi)
            .bind(up_to)
            .fetch_all(pool)
            .await)?)
    }

    /// The user's property changes, newest first: up to `limit` with ids
    /// below `before` (the next page starts below the last one shown).
    pub async fn property_history(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<PropertyChange>> {
        let sql = "SELECT id, name, old_value, new_value, changed_by, changed_at FROM property_changes
                   WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";
        let rows: Vec<ChangeRow> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(user_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(id, name, old, new, by, at)| {
                Ok(PropertyChange { id, name, old: from_history(old)?, new: from_history(new)?, by, at })
            })
            .collect()
    }

    /// The user's whole property history, newest first, read a page at a
    /// time (the JSON export streams it).
    pub fn export_property_history(&self, user_id: i64) -> Rows<'_, PropertyChange> {
        use futures::stream::{self, StreamExt};
        const PAGE: i64 = 1_000;
        // The cursor: `None` when done, else the page's `before`.
        stream::unfold(Some(None), move |cursor: Option<Option<i64>>| async move {
            let before = cursor?;
            match self.property_history(user_id, before, PAGE).await {
                Ok(page) => {
                    let next = (page.len() as i64 == PAGE).then(|| page.last().map(|c| c.id));
                    Some((Ok(page), next))
                }
                Err(error) => Some((Err(error), None)),
            }
        })
        .flat_map(|page| match page {
            Ok(changes) => stream::iter(changes.into_iter().map(Ok)).left_stream(),
            Err(error) => stream::once(async move { Err(error) }).right_stream(),
        })
        .boxed()
    }
}
