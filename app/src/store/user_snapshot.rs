//! Test support: everything stored about one user, as comparable lines
//! (a merge's undo must give back exactly what was there).

use super::{with_pool, Store, StoreResult};

/// Per table, the statement reading one user's rows (`$1` the user's id),
/// in a stable order. Audit rows of merges and undos are left out: they
/// record the merge itself.
const READS: [(&str, &str); 13] = [
    ("devices", "SELECT id FROM devices WHERE user_id = $1 ORDER BY id"),
    ("events", "SELECT id FROM events WHERE user_id = $1 ORDER BY id"),
    ("messages", "SELECT id FROM messages WHERE user_id = $1 ORDER BY id"),
    ("notes", "SELECT id FROM notes WHERE user_id = $1 ORDER BY id"),
    ("property changes", "SELECT id FROM property_changes WHERE user_id = $1 ORDER BY id"),
    ("audit", "SELECT id FROM audit WHERE user_id = $1 AND action NOT IN ('merged', 'undid merge') ORDER BY id"),
    ("segments", "SELECT segment_id FROM segment_members WHERE user_id = $1 ORDER BY segment_id"),
    ("hours", "SELECT hour FROM event_hours WHERE user_id = $1 AND n <> 0 ORDER BY hour"),
    ("hour counts", "SELECT n FROM event_hours WHERE user_id = $1 AND n <> 0 ORDER BY hour"),
    ("membership times", "SELECT added_at FROM segment_members WHERE user_id = $1 ORDER BY segment_id"),
    ("numbers", "SELECT COALESCE(number_value, 0.0) FROM user_properties WHERE user_id = $1 ORDER BY name"),
    ("search", "SELECT COUNT(*) FROM user_search WHERE user_id = $1"),
    ("property times", "SELECT updated_at FROM user_properties WHERE user_id = $1 ORDER BY name"),
];

/// One user's row with its columns.
type UserRowText =
    (String, Option<String>, Option<String>, bool, Option<String>, i64, i64, Option<i64>, String, String);

impl Store {
    /// What is stored about `user_id`: its row, and per table its rows.
    pub async fn user_snapshot(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let mut lines = Vec::new();
        let sql = "SELECT external_id, user_name, email, active, push_token, created_at, updated_at, last_seen_at,
                   sort_name, search_tokens FROM users WHERE id = $1";
        let row: Option<UserRowText> =
            with_pool!(self, |pool| sqlx::query_as(sql).bind(user_id).fetch_optional(pool).await)?;
        lines.push(format!("user: {row:?}"));
        for (name, sql) in READS {
            let values: Vec<f64> = if name == "numbers" {
                with_pool!(self, |pool| sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await)?
            } else {
                let ints: Vec<i64> =
                    with_pool!(self, |pool| sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await)?;
                ints.into_iter().map(|v| v as f64).collect()
            };
            lines.push(format!("{name}: {values:?}"));
        }
        let texts = [
            ("properties", "SELECT name || '=' || kind || ':' || COALESCE(text_value, '') FROM user_properties WHERE user_id = $1 ORDER BY name"),
            ("membership adders", "SELECT added_by FROM segment_members WHERE user_id = $1 ORDER BY segment_id"),
            ("tokens", "SELECT token FROM user_search WHERE user_id = $1 ORDER BY token"),
            ("aliases", "SELECT external_id FROM user_aliases WHERE user_id = $1 ORDER BY external_id"),
        ];
        for (name, sql) in texts {
            let values: Vec<String> =
                with_pool!(self, |pool| sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await)?;
            lines.push(format!("{name}: {values:?}"));
        }
        Ok(lines)
    }
}
