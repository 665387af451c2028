//! The access log's writes: every read that returns a person's data is a
//! view of that person, whatever the route (a profile, a device page, the
//! messages, a search of the events, the live stream). Privacy teams ask
//! who looked at whom; a route that skipped this would answer for nobody.

use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::model::profile::{Viewed, VIEW_COALESCE_MS};
use crate::store::{write_tx, NewAudit, Store};
use crate::time::now_ms;

/// Writes `account`'s view of the user to the audit table, unless its last
/// view of the same kind is more recent than [`VIEW_COALESCE_MS`]: reloads
/// and a page's several calls write one entry. Checked first without a
/// write (most calls find a recent entry), then again under the user's row
/// lock, so two calls at once write one. An unknown user writes nothing.
pub async fn record_view(
    store: &Store,
    app_id: i64,
    user_id: i64,
    account: &SessionAdmin,
    viewed: Viewed,
) -> Result<(), AppError> {
    let now = now_ms();
    let action = viewed.action();
    if let Some(last) = store.last_audit_at(user_id, &account.email, action).await? {
        if now - last < VIEW_COALESCE_MS {
            return Ok(());
        }
    }
    let audit = NewAudit::on_user(app_id, user_id, &account.email, action);
    write_tx!(store, |tx| tx.record_audit_unless_recent(&audit, now, VIEW_COALESCE_MS).await)?;
    Ok(())
}
