//! Options > Deactivate / Reactivate / Delete, as plain async functions
//! over the store. Each change commits with its audit row.

use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::store::{write_tx, Erased, NewAudit, Store, StoreError, WriteTx};
use crate::time::now_ms;

/// The audit actions of this module.
pub const DEACTIVATED: &str = "deactivated user";
pub const REACTIVATED: &str = "reactivated user";
pub const DELETED: &str = "deleted user";

fn not_found() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

/// Deactivates (hides the user and its devices from the users list,
/// searches, segment filters and maps) or reactivates the user.
pub async fn set_active(
    store: &Store,
    app_id: i64,
    user_id: i64,
    active: bool,
    admin: &SessionAdmin,
) -> Result<(), AppError> {
    let action = if active { REACTIVATED } else { DEACTIVATED };
    let audit = NewAudit::on_user(app_id, user_id, &admin.email, action);
    let now = now_ms();
    let found = write_tx!(store, |tx| {
        if !tx.set_user_active(app_id, user_id, active, now).await? {
            return Ok(false);
        }
        tx.record_audit(&audit, now).await?;
        Ok(true)
    })?;
    if found {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// Deletes the user and everything about it in one transaction, once
/// `confirmation` is its userID. What remains is one audit entry that says
/// an admin deleted a user, with counts and no personal data; earlier audit
/// entries about the user lose their link to it (see `store/erasure.rs`).
/// Returns the deleted user's userID (for the notice) and the counts.
pub async fn delete(
    store: &Store,
    app_id: i64,
    user_id: i64,
    confirmation: &str,
    admin: &SessionAdmin,
) -> Result<(String, Erased), AppError> {
    let user = store.user_by_id(app_id, user_id).await?.ok_or_else(not_found)?;
    // Both sides trimmed: the form trims what is typed, and a userID may
    // carry spaces at its ends (the ingest keeps ids as sent).
    if confirmation.trim() != user.external_id.trim() {
        return Err(AppError::Invalid {
            field: Some("confirmation".into()),
            message: "Type the userID exactly as shown to delete this user.".into(),
        });
    }
    let now = now_ms();
    let erased = write_tx!(store, |tx| erase(tx, app_id, user_id, &admin.email, now).await)?;
    let erased = erased.ok_or_else(not_found)?;
    tracing::info!(app_id, user_id, events = erased.events, "deleted a user");
    Ok((user.external_id, erased))
}

/// In `tx`, deletes the user (see `store/erasure.rs`) with the audit entry
/// that says `actor` deleted a user, with counts and no personal data.
/// `None` when the user is not in the app. Options > Delete and the bulk
/// Delete both erase this way.
pub async fn erase(
    tx: &mut WriteTx,
    app_id: i64,
    user_id: i64,
    actor: &str,
    now: i64,
) -> Result<Option<Erased>, StoreError> {
    let Some(erased) = tx.delete_user(app_id, user_id).await? else {
        return Ok(None);
    };
    let detail = format!(
        "{} devices, {} locations, {} events, {} messages",
        erased.devices, erased.locations, erased.events, erased.messages
    );
    let audit = NewAudit { app_id: Some(app_id), actor, action: DELETED, user_id: None, detail: &detail };
    tx.record_audit(&audit, now).await?;
    Ok(Some(erased))
}
