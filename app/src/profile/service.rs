//! Profile and Push Mail, as plain async functions over the store.

use md5::{Digest, Md5};
use rand::RngCore;

use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::model::UserProfile;
use crate::store::{write_tx, NewAudit, Store};
use crate::time::now_ms;

/// Gravatar URL for an email (md5 of the trimmed, lower-cased address).
pub fn gravatar_url(email: &str) -> String {
    let digest = Md5::digest(email.trim().to_lowercase().as_bytes());
    format!("https://www.gravatar.com/avatar/{}?d=identicon&s=160", hex::encode(digest))
}

/// A new Push Mail token: 160 random bits, lower-case hex (safe in any mail system).
pub fn new_push_token() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn push_address(token: &str, domain: &str) -> String {
    format!("{token}@{domain}")
}

fn not_found() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

pub async fn profile(store: &Store, app_id: i64, user_id: i64, domain: &str) -> Result<UserProfile, AppError> {
    let user = store.user_by_id(app_id, user_id).await?.ok_or_else(not_found)?;
    let push_mail = store.push_token_of(app_id, user_id).await?.map(|t| push_address(&t, domain));
    let gravatar_url = user.email.as_deref().filter(|e| !e.trim().is_empty()).map(gravatar_url);
    let segments = store.segments_of_user(app_id, user_id).await?;
    let devices = store.devices_of_user(app_id, user_id).await?;
    let properties = store.properties_of(user_id).await?;
    let merges = crate::merging::service::undoable(store, app_id, user_id).await?;
    // Read before the boxes' own loads: the live stream replays from here,
    // so an event committed while the page loads is not missed.
    let live_after = store.last_event_id().await?;
    Ok(UserProfile { user, gravatar_url, push_mail, segments, devices, properties, merges, live_after })
}

/// Gives the user a new Push Mail address (replacing any old one, which stops working).
pub async fn generate_push_mail(
    store: &Store,
    app_id: i64,
    user_id: i64,
    domain: &str,
    admin: &SessionAdmin,
) -> Result<String, AppError> {
    let token = new_push_token();
    let audit = NewAudit::on_user(app_id, user_id, &admin.email, "generated push mail");
    set_push_token_audited(store, app_id, user_id, Some(&token), &audit).await?;
    Ok(push_address(&token, domain))
}

pub async fn revoke_push_mail(store: &Store, app_id: i64, user_id: i64, admin: &SessionAdmin) -> Result<(), AppError> {
    let audit = NewAudit::on_user(app_id, user_id, &admin.email, "revoked push mail");
    set_push_token_audited(store, app_id, user_id, None, &audit).await
}

/// Sets or removes the token and records `audit`, in one transaction: both
/// are written or neither.
async fn set_push_token_audited(
    store: &Store,
    app_id: i64,
    user_id: i64,
    token: Option<&str>,
    audit: &NewAudit<'_>,
) -> Result<(), AppError> {
    let now = now_ms();
    let found = write_tx!(store, |tx| {
        if !tx.set_push_token(app_id, user_id, token, now).await? {
            return Ok(false);
        }
        tx.record_audit(audit, now).await?;
        Ok(true)
    })?;
    if !found {
        return Err(not_found());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gravatar_hashes_the_normalised_email() {
        // The example from Gravatar's documentation.
        assert_eq!(
            gravatar_url(" MyEmailAddress@example.com "),
            "https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?d=identicon&s=160"
        );
    }

    #[test]
    fn push_tokens_are_long_random_hex() {
        let (a, b) = (new_push_token(), new_push_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
