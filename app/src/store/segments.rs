//! Segments and memberships. Names are matched by a key computed here
//! ([`name_key`]): unique per app, and what the modal's search compares.

use super::batch::chunks;
use super::{with_pool, with_tx, write_tx, Store, StoreError, StoreResult, WriteTx};
use crate::model::segments::{Segment, SegmentMatch};

/// How many names (the first, in name order) the search's "contains" part
/// looks through: a bound on its cost (a few ms; `server bench segments`),
/// where a full scan of an app's names grows with the app.
pub const CONTAINS_WINDOW: i64 = 10_000;

/// The key a segment name is unique by and searched on: trimmed, lower case.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// `text` as a LIKE pattern matching itself literally (`\` escapes).
fn like_literal(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

impl Store {
    /// Creates a segment; names are unique per app regardless of case.
    pub async fn create_segment(&self, app_id: i64, name: &str, description: &str, now: i64) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.create_segment(app_id, name, description, now).await)
    }

    /// Adds users to a segment; users already in it stay as they were.
    pub async fn add_segment_members(
        &self,
        segment_id: i64,
        user_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| tx.add_segment_members(segment_id, user_ids, added_by, now).await)
    }

    /// Inserts new segments (names not in the app yet, already valid) in
    /// one transaction, many rows per statement: for benchmarks and imports.
    pub async fn bulk_insert_segments(&self, app_id: i64, names: &[String], now: i64) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let marks = tx.marks();
            with_tx!(tx, |conn| {
                for chunk in chunks(names) {
                    let sql = format!(
                        "INSERT INTO segments (app_id, name, name_key, description, created_at) VALUES {}",
                        marks.values(chunk.len(), 5)
                    );
                    let mut query = sqlx::query(&sql);
                    for name in chunk {
                        query = query.bind(app_id).bind(name.trim()).bind(name_key(name)).bind("").bind(now);
                    }
                    query.execute(&mut *conn).await?;
                }
            });
            Ok(())
        })
    }

    /// How many segments the app has.
    pub async fn count_segments(&self, app_id: i64) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM segments WHERE app_id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_scalar(sql).bind(app_id).fetch_one(pool).await?))
    }

    /// The segments `user_id` belongs to, by name.
    pub async fn segments_of_user(&self, app_id: i64, user_id: i64) -> StoreResult<Vec<Segment>> {
        // CROSS JOIN: SQLite then reads the user's memberships first (its
        // index on user_id) and never walks the app's segments, which it
        // chose without statistics, hundreds of times slower with many
        // segments. PostgreSQL plans CROSS JOIN … WHERE like a join.
        let sql = "SELECT s.id, s.name FROM segment_members m CROSS JOIN segments s
                   WHERE s.id = m.segment_id AND m.user_id = $1 AND s.app_id = $2 ORDER BY s.name_key, s.id";
        // Planned at each run: a bulk "Add to segment" grows the memberships
        // faster than PostgreSQL re-plans a connection's cached statements,
        // and a plan made while the table was small scans all of it.
        with_pool!(self, |pool| Ok(sqlx::query_as(sql)
            .persistent(false)
            .bind(user_id)
            .bind(app_id)
            .fetch_all(pool)
            .await?))
    }

    /// The app's segment named `name` (ignoring case and surrounding spaces).
    pub async fn segment_by_name(&self, app_id: i64, name: &str) -> StoreResult<Option<Segment>> {
        let sql = "SELECT id, name FROM segments WHERE app_id = $1 AND name_key = $2";
        with_pool!(self, |pool| Ok(sqlx::query_as(sql).bind(app_id).bind(name_key(name)).fetch_optional(pool).await?))
    }

    /// Up to `limit` of the app's segments whose name contains `text`
    /// (ignoring case): names starting with it first, then the others, each
    /// part by name; `member` tells whether `user_id` is in it. Two index
    /// reads: a range for the prefix, and, for the rest, a walk of the first
    /// [`CONTAINS_WINDOW`] keys in name order (stopping at `limit` matches).
    /// A name containing the text past that window is not found (found by
    /// its prefix, and [`Store::segment_by_name`] still sees every name).
    pub async fn search_segments(
        &self,
        app_id: i64,
        user_id: i64,
        text: &str,
        limit: usize,
    ) -> StoreResult<Vec<SegmentMatch>> {
        let key = name_key(text);
        let member = "EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = s.id AND m.user_id = $2) AS member";
        let prefix = format!(
            "SELECT s.id, s.name, {member} FROM segments s
             WHERE s.app_id = $1 AND s.name_key >= $3 AND s.name_key < $4 ORDER BY s.name_key LIMIT $5"
        );
        // The inner walk reads the index alone (PostgreSQL: an index-only
        // scan, the index includes `id`); rows are read for the matches only.
        let inside = format!(
            "SELECT s.id, s.name, {member} FROM segments s WHERE s.id IN (
                 SELECT w.id FROM (SELECT id, name_key FROM segments WHERE app_id = $1 ORDER BY name_key LIMIT $7) w
                 WHERE w.name_key LIKE $3 ESCAPE '\\' AND NOT (w.name_key >= $4 AND w.name_key < $5)
                 ORDER BY w.name_key LIMIT $6)
             ORDER BY s.name_key"
        );
        let (lo, hi) = (key.clone(), format!("{key}\u{10FFFF}"));
        let limit = limit as i64;
        let mut found: Vec<SegmentMatch> = with_pool!(self, |pool| sqlx::query_as(&prefix)
            .bind(app_id)
            .bind(user_id)
            .bind(&lo)
            .bind(&hi)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        if key.is_empty() || found.len() as i64 >= limit {
            return Ok(found);
        }
        let pattern = format!("%{}%", like_literal(&key));
        let rest: Vec<SegmentMatch> = with_pool!(self, |pool| sqlx::query_as(&inside)
            .bind(app_id)
            .bind(user_id)
            .bind(pattern)
            .bind(&lo)
            .bind(&hi)
            .bind(limit - found.len() as i64)
            .bind(CONTAINS_WINDOW)
            .fetch_all(pool)
            .await)?;
        found.extend(rest);
        Ok(found)
    }
}

impl WriteTx {
    pub async fn create_segment(&mut self, app_id: i64, name: &str, description: &str, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO segments (app_id, name, name_key, description, created_at) VALUES ($1, $2, $3, $4, $5)
                   RETURNING id";
        with_tx!(self, |conn| sqlx::query_scalar::<_, i64>(sql)
            .bind(app_id)
            .bind(name.trim())
            .bind(name_key(name))
            .bind(description)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(super::conflict_as(format!("a segment named '{}'", name.trim()))))
    }

    /// The app's segment named `name` (ignoring case), created when missing;
    /// `true` when this call created it. Two callers at once end with one
    /// segment: the unique key decides, the loser reads the winner's row.
    pub async fn segment_named(&mut self, app_id: i64, name: &str, now: i64) -> StoreResult<(Segment, bool)> {
        let insert =
            "INSERT INTO segments (app_id, name, name_key, description, created_at) VALUES ($1, $2, $3, '', $4)
                      ON CONFLICT (app_id, name_key) DO NOTHING RETURNING id, name";
        let select = "SELECT id, name FROM segments WHERE app_id = $1 AND name_key = $2";
        let key = name_key(name);
        with_tx!(self, |conn| {
            let created: Option<Segment> = sqlx::query_as(insert)
                .bind(app_id)
                .bind(name.trim())
                .bind(&key)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(segment) = created {
                return Ok((segment, true));
            }
            let existing: Segment = sqlx::query_as(select).bind(app_id).bind(&key).fetch_one(&mut *conn).await?;
            Ok((existing, false))
        })
    }

    /// Adds users to a segment in user id order (one lock order for every
    /// writer); users already in it stay as they were.
    pub async fn add_segment_members(
        &mut self,
        segment_id: i64,
        user_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        // `SELECT … FROM users`: only users that exist, locked on PostgreSQL
        // as the foreign key it lacks would (migration 0029).
        let sql = format!(
            "INSERT INTO segment_members (segment_id, user_id, added_by, added_at)
             SELECT $1, id, $3, $4 FROM users WHERE id = $2{} ON CONFLICT (segment_id, user_id) DO NOTHING",
            self.key_share_lock()
        );
        let mut sorted = user_ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        with_tx!(self, |conn| {
            for user_id in sorted {
                sqlx::query(&sql).bind(segment_id).bind(user_id).bind(added_by).bind(now).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Adds one of the app's users to each of `segment_ids` (all of the
    /// app's, else nothing: an unknown id is `NotFound("segment")`, an
    /// unknown user `NotFound("user")`), in id order; memberships the
    /// user already has stay. Returns the segments newly joined.
    pub async fn join_segments(
        &mut self,
        app_id: i64,
        user_id: i64,
        segment_ids: &[i64],
        added_by: &str,
        now: i64,
    ) -> StoreResult<Vec<Segment>> {
        // Locked on PostgreSQL as the memberships' foreign key would (they
        // have none there, migration 0029): an erasure waits for this join.
        let user = format!("SELECT id FROM users WHERE id = $1 AND app_id = $2{}", self.key_share_lock());
        let find = "SELECT id, name FROM segments WHERE id = $1 AND app_id = $2";
        let join = "INSERT INTO segment_members (segment_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (segment_id, user_id) DO NOTHING";
        let mut ids = segment_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut joined = Vec::new();
        with_tx!(self, |conn| {
            sqlx::query_scalar::<_, i64>(&user)
                .bind(user_id)
                .bind(app_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound("user"))?;
            for id in ids {
                let segment: Segment = sqlx::query_as(find)
                    .bind(id)
                    .bind(app_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound("segment"))?;
                let added =
                    sqlx::query(join).bind(id).bind(user_id).bind(added_by).bind(now).execute(&mut *conn).await?;
                if added.rows_affected() == 1 {
                    joined.push(segment);
                }
            }
        });
        Ok(joined)
    }

    /// Removes one user from one of the app's segments; `None` when the
    /// user was not in it, else the segment left.
    pub async fn leave_segment(&mut self, app_id: i64, user_id: i64, segment_id: i64) -> StoreResult<Option<Segment>> {
        let find = "SELECT id, name FROM segments WHERE id = $1 AND app_id = $2";
        let leave = "DELETE FROM segment_members WHERE segment_id = $1 AND user_id = $2";
        with_tx!(self, |conn| {
            let Some(segment): Option<Segment> =
                sqlx::query_as(find).bind(segment_id).bind(app_id).fetch_optional(&mut *conn).await?
            else {
                return Ok(None);
            };
            let removed = sqlx::query(leave).bind(segment_id).bind(user_id).execute(&mut *conn).await?;
            Ok((removed.rows_affected() == 1).then_some(segment))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_patterns() {
        assert_eq!(name_key("  VIP Ünits "), "vip ünits");
        assert_eq!(like_literal("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
