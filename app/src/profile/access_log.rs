//! The profile's Access log: who read or exported this user's data, newest
//! first. Privacy teams ask for it. Every read of a person's data writes a
//! view (`auth::reads`, one kind per route: profile, device, messages,
//! activity, live); repeated reads of one kind by the same account within
//! [`VIEW_COALESCE_MS`] count once, and the box shows one account's views
//! of the same minute on one line, so a page load reads as one visit.

use leptos::prelude::*;

use crate::error::AppError;
use crate::layout::ErrorMessage;
pub use crate::model::profile::{Viewed, VIEWED_PREFIX, VIEW_COALESCE_MS};
use crate::model::AuditEntry;
use crate::ui::LocalTime;

/// The audit action of a profile view.
pub const VIEWED: &str = "viewed profile";
/// The audit action of an export.
pub const EXPORTED: &str = "exported user";
/// Entries the box lists.
pub const ACCESS_LOG_LIMIT: i64 = 50;
/// One account's views this close together show as one line.
const SAME_VISIT_MS: i64 = 60 * 1000;

#[cfg(feature = "ssr")]
pub mod service {
    use super::*;
    use crate::auth::session::SessionAdmin;
    use crate::store::Store;

    /// Writes a profile view (see [`crate::auth::reads::record_view`]).
    pub async fn record_view(store: &Store, app_id: i64, user_id: i64, admin: &SessionAdmin) -> Result<(), AppError> {
        crate::auth::reads::record_view(store, app_id, user_id, admin, Viewed::Profile).await
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
        Ok(store.audit_of_user(app_id, user_id, (VIEWED_PREFIX, EXPORTED), ACCESS_LOG_LIMIT).await?)
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
    let rows = visits(entries)
        .into_iter()
        .map(|(actor, what, at)| {
            view! {
                <li>
                    <span class="actor">{actor}</span>
                    " "
                    <span class="action">{what}</span>
                    " "
                    <span class="when"><LocalTime ms=at /></span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="access-log">{rows}</ul> }
}

/// The log's lines, newest first: an account's views within
/// [`SAME_VISIT_MS`] of each other are one line naming what was seen
/// ("viewed the profile, messages and activity"); exports stand alone.
/// Returns (account, what it did, when).
pub fn visits(entries: Vec<AuditEntry>) -> Vec<(String, String, i64)> {
    // (account, kinds seen as bits of `Viewed::ALL`, an export's words, when)
    let mut lines: Vec<(String, u8, Option<String>, i64)> = Vec::new();
    for entry in entries {
        let Some(viewed) = Viewed::ALL.iter().position(|v| v.action() == entry.action) else {
            let what =
                if entry.detail.is_empty() { "exported".to_string() } else { format!("exported ({})", entry.detail) };
            lines.push((entry.actor, 0, Some(what), entry.created_at));
            continue;
        };
        match lines.last_mut() {
            Some((actor, seen, None, at)) if *actor == entry.actor && *at - entry.created_at <= SAME_VISIT_MS => {
                *seen |= 1 << viewed;
            }
            _ => lines.push((entry.actor, 1 << viewed, None, entry.created_at)),
        }
    }
    lines
        .into_iter()
        .map(|(actor, seen, export, at)| {
            let what = export.unwrap_or_else(|| {
                let labels: Vec<&str> = Viewed::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| seen & (1 << i) != 0)
                    .map(|(_, v)| v.label())
                    .collect();
                format!("viewed {}", and_list(&labels))
            });
            (actor, what, at)
        })
        .collect()
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actor: &str, action: &str, at: i64) -> AuditEntry {
        AuditEntry {
            id: at,
            app_id: Some(1),
            actor: actor.into(),
            action: action.into(),
            user_id: Some(1),
            detail: String::new(),
            created_at: at,
        }
    }

    #[test]
    fn one_accounts_views_of_a_minute_are_one_line() {
        let entries = vec![
            entry("ana", Viewed::Live.action(), 100_000),
            entry("ana", Viewed::Messages.action(), 99_000),
            entry("ana", Viewed::Profile.action(), 98_000),
            entry("bob", Viewed::Device.action(), 97_000),
            entry("ana", EXPORTED, 96_000),
            entry("ana", Viewed::Activity.action(), 95_000),
            entry("ana", Viewed::Activity.action(), 1_000),
        ];
        let lines: Vec<(String, String)> = visits(entries).into_iter().map(|(a, w, _)| (a, w)).collect();
        let expected = [
            ("ana", "viewed the profile, messages and the live stream"),
            ("bob", "viewed a device"),
            ("ana", "exported"),
            ("ana", "viewed activity"),
            ("ana", "viewed activity"),
        ];
        assert_eq!(lines, expected.map(|(a, w)| (a.to_string(), w.to_string())));
    }
}
