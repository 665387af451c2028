//! The access log's writes: every read that returns a person's data is a
//! view of that person, whatever the route (a profile, a device page, the
//! messages, a search of the events, the live stream). Privacy teams ask
//! who looked at whom; a route that skipped this would answer for nobody.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::auth::session::SessionAdmin;
use crate::error::AppError;
use crate::model::profile::{Viewed, VIEW_COALESCE_MS};
use crate::store::{write_tx, NewAudit, Store};
use crate::time::now_ms;

/// The views one request has written (or found recent): a profile page's
/// boxes each return the user's data and so each record a view, and most
/// are of the same kind; the first call checks the log, the others of that
/// kind wait for it and then write nothing. Provided fresh to every
/// request Leptos handles (`server/src/web.rs`), so it never outlives one.
#[derive(Clone, Default)]
pub struct RequestViews(Arc<Mutex<HashMap<ViewKey, Arc<OnceCell<()>>>>>);

/// (app, user, account, action): one request has one account, but a memo
/// keyed by it cannot hand one account's view to another.
type ViewKey = (i64, i64, i64, &'static str);

impl RequestViews {
    fn cell(&self, key: ViewKey) -> Arc<OnceCell<()>> {
        let mut cells = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cells.entry(key).or_default().clone()
    }
}

/// Writes `account`'s view of the user to the audit table, unless its last
/// view of the same kind is more recent than [`VIEW_COALESCE_MS`]: reloads
/// and a page's several calls write one entry. Within a request (where
/// [`RequestViews`] is provided) each kind is checked once; a check that
/// fails is tried again by the next call.
pub async fn record_view(
    store: &Store,
    app_id: i64,
    user_id: i64,
    account: &SessionAdmin,
    viewed: Viewed,
) -> Result<(), AppError> {
    match leptos::prelude::use_context::<RequestViews>() {
        Some(memo) => {
            let cell = memo.cell((app_id, user_id, account.id, viewed.action()));
            cell.get_or_try_init(|| write_view(store, app_id, user_id, account, viewed)).await?;
            Ok(())
        }
        None => write_view(store, app_id, user_id, account, viewed).await,
    }
}

/// Checked first without a write (most calls find a recent entry), then
/// again under the user's row lock, so two calls at once write one. An
/// unknown user writes nothing.
async fn write_view(
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

#[cfg(test)]
mod tests {
    use leptos::prelude::{provide_context, Owner};

    use super::*;
    use crate::model::Role;
    use crate::store::{testing, UserInput};

    fn account(id: i64) -> SessionAdmin {
        SessionAdmin { id, email: format!("admin{id}@example.com"), role: Role::Admin }
    }

    async fn views(store: &Store, app_id: i64, user_id: i64) -> usize {
        store.audit_of_user(app_id, user_id, ("viewed", ""), 100).await.unwrap().len()
    }

    /// The second call of a kind in one request writes nothing even when
    /// the log lost the first one (so it did not ask the log again); other
    /// kinds, other accounts and the next request ask the log.
    #[tokio::test]
    async fn one_request_checks_each_kind_of_view_once() {
        let store = testing::sqlite().await;
        let app = store.create_app("Views", "hash-views", 1).await.unwrap().id;
        let ana = "ana".parse().unwrap();
        let user = store.upsert_user(app, &ana, &UserInput::default(), 1).await.unwrap().id;
        let request = Owner::new();
        request.set();
        provide_context(RequestViews::default());
        record_view(&store, app, user, &account(1), Viewed::Profile).await.unwrap();
        assert_eq!(views(&store, app, user).await, 1);
        store.forget_audit_of_user(user).await.unwrap();
        record_view(&store, app, user, &account(1), Viewed::Profile).await.unwrap();
        assert_eq!(views(&store, app, user).await, 0, "the request checked this kind already");
        record_view(&store, app, user, &account(1), Viewed::Activity).await.unwrap();
        record_view(&store, app, user, &account(2), Viewed::Profile).await.unwrap();
        assert_eq!(views(&store, app, user).await, 2, "another kind, another account");
        let next = Owner::new();
        next.set();
        provide_context(RequestViews::default());
        store.forget_audit_of_user(user).await.unwrap();
        record_view(&store, app, user, &account(1), Viewed::Profile).await.unwrap();
        assert_eq!(views(&store, app, user).await, 1, "a new request checks again");
    }
}
