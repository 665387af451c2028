//! The profile's Access log: who viewed or exported this user, newest
//! first. Privacy teams ask for it. Views are written to the audit table by
//! `get_profile`; repeated views by the same admin within
//! [`VIEW_COALESCE_MS`] count once, so reloading the page (or the profile
//! reloading after a change) does not flood the log.

use leptos::prelude::*;

use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::model::AuditEntry;
use crate::time::format_ms;

/// The audit action of a profile view.
pub const VIEWED: &str = "viewed profile";
/// The audit action of an export.
pub const EXPORTED: &str = "exported user";
/// Views by one admin within this long are one entry.
pub const VIEW_COALESCE_MS: i64 = 10 * 60 * 1000;
/// Entries the box lists.
pub const ACCESS_LOG_LIMIT: i64 = 50;

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::auth::session::SessionAdmin;
    use crate::store::{write_tx, NewAudit, Store};
    use crate::time::now_ms;

    /// Writes a profile view to the audit table, unless the same admin's
    /// last view of this user is more recent than [`VIEW_COALESCE_MS`]
    /// (checked again under the user's row lock, so the profile and the
    /// access log, asked at once, write one entry).
    pub async fn record_view(store: &Store, app_id: i64, user_id: i64, admin: &SessionAdmin) -> Result<(), AppError> {
        let now = now_ms();
        if let Some(last) = store.last_audit_at(user_id, &admin.email, VIEWED).await? {
            if now - last < VIEW_COALESCE_MS {
                return Ok(());
            }
        }
        let audit = NewAudit::on_user(app_id, user_id, &admin.email, VIEWED);
        write_tx!(store, |tx| tx.record_audit_unless_recent(&audit, now, VIEW_COALESCE_MS).await)?;
        Ok(())
    }

    /// The log, this view included: the profile's server function writes
    /// the view too, and whichever of the two comes first writes it, so the
    /// box needs no order between them.
    pub async fn access_log(
        store: &Store,
        app_id: i64,
        user_id: i64,
        admin: &SessionAdmin,
    ) -> Result<Vec<AuditEntry>, AppError> {
        // An unknown user, or another app's, is a 404 as its profile is,
        // and nothing is written for it.
        if store.user_by_id(app_id, user_id).await?.is_none() {
            return Err(AppError::NotFound("There is no user at this address.".into()));
        }
        record_view(store, app_id, user_id, admin).await?;
        Ok(store.audit_of_user(app_id, user_id, (VIEWED, EXPORTED), ACCESS_LOG_LIMIT).await?)
    }
}

/// Who viewed or exported the user, newest first (any signed-in account).
#[server(endpoint = "profile/access-log", output = crate::codec::Json)]
pub async fn get_access_log(user_id: i64) -> Result<Vec<AuditEntry>, AppError> {
    use crate::auth::session::{fail, Caller};
    let Caller { state, app, account: admin } = Caller::viewer().await?;
    service::access_log(&state.store, app.id, user_id, &admin).await.or_else(fail)
}

/// The Access log box's entries. Made by the profile page before its first
/// `Suspend` (see [`crate::messages::MessagesState`] for why). It does not
/// wait for the profile: `get_access_log` writes the view itself, so the two
/// load side by side.
pub type AccessLogResource = Resource<Result<Vec<AuditEntry>, AppError>>;

pub fn access_log_resource(user_id: Memo<Option<i64>>) -> AccessLogResource {
    Resource::new(
        move || user_id.get(),
        move |user_id| async move {
            match user_id {
                Some(user_id) => get_access_log(user_id).await,
                None => Ok(Vec::new()),
            }
        },
    )
}

#[component]
pub fn AccessLogBox(entries: AccessLogResource) -> impl IntoView {
    view! {
        <section class="box access-log-box" aria-labelledby="access-log-title">
            <h2 id="access-log-title">"Access log"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading the access log…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(entries) if entries.is_empty() => {
                            view! { <p class="empty">"Nobody has viewed or exported this user yet."</p> }.into_any()
                        }
                        Ok(entries) => view! { <AccessLogList entries /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AccessLogList(entries: Vec<AuditEntry>) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|entry| {
            let what = match entry.action.as_str() {
                VIEWED => "viewed the profile".to_string(),
                _ if entry.detail.is_empty() => "exported".to_string(),
                _ => format!("exported ({})", entry.detail),
            };
            view! {
                <li>
                    <span class="actor">{entry.actor}</span>
                    " "
                    <span class="action">{what}</span>
                    " "
                    <time class="when">{format_ms(entry.created_at)}</time>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="access-log">{rows}</ul> }
}
