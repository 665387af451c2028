//! Console accounts and the audit trail.

use super::tx::Locked;
use super::{conflict_as, with_pool, with_tx, write_tx, Store, StoreResult, WriteTx};
use crate::model::{AuditEntry, Role};

/// An account as stored, with its password hash (never leaves the server).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRecord {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// Parsed when read: a role the console does not know is an error.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// What to write to the audit trail.
#[derive(Debug, Clone, Default)]
pub struct NewAudit<'a> {
    pub app_id: Option<i64>,
    /// Who acted: an admin's email, or e.g. "cli".
    pub actor: &'a str,
    pub action: &'a str,
    /// The end-user acted on, if any.
    pub user_id: Option<i64>,
    pub detail: &'a str,
}

impl<'a> NewAudit<'a> {
    /// `actor` did `action` to one end-user of an app (the shape of every
    /// change made from the profile page).
    pub fn on_user(app_id: i64, user_id: i64, actor: &'a str, action: &'a str) -> Self {
        NewAudit { app_id: Some(app_id), actor, action, user_id: Some(user_id), detail: "" }
    }

    pub fn with_detail(self, detail: &'a str) -> Self {
        NewAudit { detail, ..self }
    }
}

/// One audit row: app, actor, action, user, detail, time.
const INSERT_AUDIT: &str =
    "INSERT INTO audit (app_id, actor, action, user_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

impl Store {
    pub async fn create_admin(&self, email: &str, password_hash: &str, role: &str, now: i64) -> StoreResult<i64> {
        write_tx!(self, |tx| tx.create_admin(email, password_hash, role, now).await)
    }

    /// Looks an account up by email, ignoring case.
    pub async fn admin_by_email(&self, email: &str) -> StoreResult<Option<AdminRecord>> {
        let sql = "SELECT id, email, password_hash, role FROM admins WHERE lower(email) = lower($1)";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AdminRecord>(sql).bind(email).fetch_optional(pool).await?))
    }

    pub async fn admin_by_id(&self, id: i64) -> StoreResult<Option<AdminRecord>> {
        let sql = "SELECT id, email, password_hash, role FROM admins WHERE id = $1";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AdminRecord>(sql).bind(id).fetch_optional(pool).await?))
    }

    pub async fn set_admin_password(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        write_tx!(self, |tx| tx.set_admin_password(id, password_hash).await)
    }

    /// Records one audit entry on its own; a change and its audit entry
    /// belong in one [`write_tx!`] with [`WriteTx::record_audit`] instead.
    pub async fn record_audit(&self, entry: &NewAudit<'_>, now: i64) -> StoreResult<()> {
        write_tx!(self, |tx| tx.record_audit(entry, now).await)
    }

    /// The newest audit entries about one user whose action starts with
    /// `prefix` or is `other` (the profile's Access log: views and exports),
    /// newest first.
    pub async fn audit_of_user(
        &self,
        app_id: i64,
        user_id: i64,
        (prefix, other): (&str, &str),
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        // `app_id + 0`: the user's index is the way in, whatever the
        // statistics say. A bulk job writes an audit row per user of an app
        // that was small when last analyzed, and the app's index then looks
        // cheaper: a profile read its whole log.
        let sql = "SELECT id, app_id, actor, action, user_id, detail, created_at FROM audit
                   WHERE user_id = $1 AND app_id + 0 = $2 AND (action LIKE $3 OR action = $4)
                   ORDER BY created_at DESC, id DESC LIMIT $5";
        let starts_with = format!("{prefix}%");
        // Planned at each run (not a plan cached by the connection): a bulk
        // job writes an audit row per user, and PostgreSQL keeps using a
        // plan made while the table was small, a scan of all of it.
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AuditEntry>(sql)
            .persistent(false)
            .bind(user_id)
            .bind(app_id)
            .bind(&starts_with)
            .bind(other)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// When `actor` last did `action` to the user, if ever.
    pub async fn last_audit_at(&self, user_id: i64, actor: &str, action: &str) -> StoreResult<Option<i64>> {
        let sql = "SELECT MAX(created_at) FROM audit WHERE user_id = $1 AND actor = $2 AND action = $3";
        // Planned at each run: see `Store::audit_of_user`.
        with_pool!(self, |pool| Ok(sqlx::query_scalar::<_, Option<i64>>(sql)
            .persistent(false)
            .bind(user_id)
            .bind(actor)
            .bind(action)
            .fetch_one(pool)
            .await?))
    }

    /// The newest audit entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let sql = "SELECT id, app_id, actor, action, user_id, detail, created_at FROM audit ORDER BY id DESC LIMIT $1";
        with_pool!(self, |pool| Ok(sqlx::query_as::<_, AuditEntry>(sql).bind(limit).fetch_all(pool).await?))
    }
}

impl WriteTx {
    pub async fn create_admin(&mut self, email: &str, password_hash: &str, role: &str, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO admins (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        with_tx!(self, |conn| sqlx::query_scalar::<_, i64>(sql)
            .bind(email)
            .bind(password_hash)
            .bind(role)
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .map_err(conflict_as(format!("an account for {email}"))))
    }

    pub async fn set_admin_password(&mut self, id: i64, password_hash: &str) -> StoreResult<()> {
        let sql = "UPDATE admins SET password_hash = $1 WHERE id = $2";
        with_tx!(self, |conn| sqlx::query(sql).bind(password_hash).bind(id).execute(&mut *conn).await.map(|_| ()))?;
        Ok(())
    }

    /// Records `entry` (about a user of its app) unless the same actor's
    /// newest entry of that action on the user is younger than `within_ms`,
    /// or the user is not in the app; whether it was recorded. The user's
    /// row is locked first on PostgreSQL (SQLite's writer is alone anyway),
    /// so two requests at once record one entry.
    pub async fn record_audit_unless_recent(
        &mut self,
        entry: &NewAudit<'_>,
        now: i64,
        within_ms: i64,
    ) -> StoreResult<bool> {
        let (Some(app_id), Some(user_id)) = (entry.app_id, entry.user_id) else { return Ok(false) };
        self.lock_in_id_order(Locked::Users, &[user_id]).await?;
        if !self.has_user(app_id, user_id).await? {
            return Ok(false);
        }
        let newest = "SELECT MAX(created_at) FROM audit WHERE user_id = $1 AND actor = $2 AND action = $3";
        // Planned at each run: see `Store::audit_of_user`.
        let last: Option<i64> = with_tx!(self, |conn| sqlx::query_scalar(newest)
            .persistent(false)
            .bind(user_id)
            .bind(entry.actor)
            .bind(entry.action)
            .fetch_one(&mut *conn)
            .await)?;
        if last.is_some_and(|at| now - at < within_ms) {
            return Ok(false);
        }
        self.record_audit(entry, now).await?;
        Ok(true)
    }

    pub async fn record_audit(&mut self, entry: &NewAudit<'_>, now: i64) -> StoreResult<()> {
        with_tx!(self, |conn| sqlx::query(INSERT_AUDIT)
            .bind(entry.app_id)
            .bind(entry.actor)
            .bind(entry.action)
            .bind(entry.user_id)
            .bind(entry.detail)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
