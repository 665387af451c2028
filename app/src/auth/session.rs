//! Who is signed in, read from the session inside a server function or SSR.
//! Every server function starts with [`signed_in`] or [`require_admin`]: the
//! UI hiding a control is a courtesy, these checks are the guard.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::error::AppError;
use crate::model::{AppInfo, Role};
use crate::state::AppState;

const ADMIN_KEY: &str = "admin";
const APP_KEY: &str = "app_id";
const DELETED_KEY: &str = "deleted_user";

/// The account stored in a signed-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAdmin {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

pub use crate::error::{fail, set_status};

pub async fn session() -> Result<Session, AppError> {
    match leptos_axum::extract::<Session>().await {
        Ok(session) => Ok(session),
        Err(err) => {
            // Seen when a page's resource task outlives its render (the
            // request is over, its parts gone); nothing is done for it.
            tracing::warn!(error = %err, "a server function ran without its request (its page already answered?)");
            fail(AppError::Internal)
        }
    }
}

/// The signed-in account of `session`, if any. `Err(Busy)` (503) when the
/// session store (the database) cannot be read: an outage is not a sign-out.
pub async fn admin_of(session: &Session) -> Result<Option<SessionAdmin>, AppError> {
    session.get::<SessionAdmin>(ADMIN_KEY).await.map_err(|err| {
        tracing::warn!(error = %err, "cannot read the session");
        AppError::Busy
    })
}

/// [`admin_of`], with an unreadable session as none.
pub async fn admin_in(session: &Session) -> Option<SessionAdmin> {
    admin_of(session).await.ok().flatten()
}

/// The signed-in account (any role), or 401 (503 if the session cannot be read).
pub async fn signed_in() -> Result<SessionAdmin, AppError> {
    match admin_of(&session().await?).await {
        Ok(Some(admin)) => Ok(admin),
        Ok(None) => fail(AppError::Unauthorized),
        Err(err) => fail(err),
    }
}

/// The signed-in account if it may change things, else 401 / 403.
pub async fn require_admin() -> Result<SessionAdmin, AppError> {
    let admin = signed_in().await?;
    if admin.role != Role::Admin {
        return fail(AppError::Forbidden);
    }
    Ok(admin)
}

/// Who calls a server function, and for which app: the preamble of every
/// server function that reads or changes an app's data.
pub struct Caller {
    pub state: AppState,
    /// The signed-in account.
    pub account: SessionAdmin,
    /// The app the account is looking at (its data is all the call sees).
    pub app: AppInfo,
}

impl Caller {
    /// Any signed-in account (viewers read), or 401.
    pub async fn viewer() -> Result<Caller, AppError> {
        let state = crate::state::app_state()?;
        Self::of(state, signed_in().await?).await
    }

    /// An account that may change things, or 401 / 403.
    pub async fn admin() -> Result<Caller, AppError> {
        let state = crate::state::app_state()?;
        Self::of(state, require_admin().await?).await
    }

    async fn of(state: AppState, account: SessionAdmin) -> Result<Caller, AppError> {
        let app = current_app(&state).await?;
        Ok(Caller { state, account, app })
    }

    /// Writes this account's read of the user to the access log (see
    /// [`crate::auth::reads`]); a call that returns a person's data makes
    /// it once the data is read.
    pub async fn viewed(&self, user_id: i64, viewed: crate::model::profile::Viewed) -> Result<(), AppError> {
        crate::auth::reads::record_view(&self.state.store, self.app.id, user_id, &self.account, viewed).await
    }
}

/// Remembers in this session the userID it just deleted, for the users
/// list to say once ([`take_deletion`]). Never read from the URL: a link
/// could otherwise make the console announce any text.
pub async fn remember_deletion(external_id: &str) -> Result<(), AppError> {
    session().await?.insert(DELETED_KEY, external_id).await.map_err(|_| AppError::Internal)
}

/// The userID this session deleted last, if it has not been shown yet.
/// Read before it is removed: a removal marks the session changed, and a
/// changed session is written back, which every users page would then pay.
pub async fn take_deletion() -> Result<Option<String>, AppError> {
    let session = session().await?;
    let unreadable = |err: tower_sessions::session::Error| {
        tracing::warn!(error = %err, "cannot read the session");
        AppError::Busy
    };
    let deleted: Option<String> = session.get(DELETED_KEY).await.map_err(unreadable)?;
    if deleted.is_some() {
        session.remove::<String>(DELETED_KEY).await.map_err(unreadable)?;
    }
    Ok(deleted)
}

/// Starts a fresh session for `admin` (a new id, against session fixation).
pub async fn start(session: &Session, admin: &SessionAdmin) -> Result<(), AppError> {
    session.cycle_id().await.map_err(|_| AppError::Internal)?;
    session.insert(ADMIN_KEY, admin).await.map_err(|_| AppError::Internal)
}

pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(|_| AppError::Internal)
}

/// The apps as one request reads them: each box of a profile page asks
/// which app the session looks at, and one read of the list answers them
/// all (it was nine identical queries per page). Provided fresh to every
/// request Leptos handles (`server/src/web.rs`), so it never outlives one.
#[derive(Clone, Default)]
pub struct RequestApps(std::sync::Arc<tokio::sync::OnceCell<Vec<AppInfo>>>);

/// The apps, read once per request where [`RequestApps`] is provided.
async fn apps_of_request(store: &crate::store::Store) -> Result<Vec<AppInfo>, AppError> {
    match leptos::prelude::use_context::<RequestApps>() {
        Some(memo) => Ok(memo.0.get_or_try_init(|| store.list_apps()).await?.clone()),
        None => Ok(store.list_apps().await?),
    }
}

/// The app the signed-in account is looking at: the one it switched to, else the oldest.
pub async fn current_app(state: &AppState) -> Result<AppInfo, AppError> {
    let apps = apps_of_request(&state.store).await?;
    match chosen_app(&apps).await? {
        Some(app) => Ok(app.clone()),
        None => fail(AppError::NotFound("No app yet: create one with `server app create --name NAME`.".into())),
    }
}

/// Which of `apps` the session looks at: the one it switched to, else the oldest.
pub async fn chosen_app(apps: &[AppInfo]) -> Result<Option<&AppInfo>, AppError> {
    Ok(app_chosen_in(&session().await?, apps).await)
}

/// [`chosen_app`] for a session read outside a server function (the live
/// stream's axum route).
pub async fn app_chosen_in<'a>(session: &Session, apps: &'a [AppInfo]) -> Option<&'a AppInfo> {
    let chosen: Option<i64> = session.get(APP_KEY).await.ok().flatten();
    chosen.and_then(|id| apps.iter().find(|a| a.id == id)).or(apps.first())
}

pub async fn choose_app(state: &AppState, app_id: i64) -> Result<AppInfo, AppError> {
    let apps = state.store.list_apps().await?;
    let Some(app) = apps.into_iter().find(|a| a.id == app_id) else {
        return fail(AppError::NotFound("That app does not exist.".into()));
    };
    session().await?.insert(APP_KEY, app.id).await.map_err(|_| AppError::Internal)?;
    Ok(app)
}

#[cfg(test)]
mod tests {
    use leptos::prelude::{provide_context, Owner};

    use super::*;
    use crate::store::testing;

    /// A request that is in progress keeps the list it read; the next request reads again.
    #[tokio::test]
    async fn one_request_reads_the_apps_once() {
        let store = testing::sqlite().await;
        store.create_app("First", "hash-1", 1).await.unwrap();
        let request = Owner::new();
        request.set();
        provide_context(RequestApps::default());
        let first = apps_of_request(&store).await.unwrap();
        store.create_app("Second", "hash-2", 2).await.unwrap();
        assert_eq!(apps_of_request(&store).await.unwrap(), first, "the same request reads the list once");
        let next = Owner::new();
        next.set();
        provide_context(RequestApps::default());
        let names: Vec<String> = apps_of_request(&store).await.unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["First", "Second"], "a new request reads the list again");
    }
}
