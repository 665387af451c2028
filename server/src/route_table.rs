//! Axum routes registered through a table that remembers them, so the
//! authorization test can list every (method, path) the server answers and
//! fail when one has no row (`server/tests/route_matrix.rs`). The test also
//! calls each listed route with the other methods and expects 405, so a
//! list that disagreed with its handlers would fail too.

use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;

/// A router and the routes it holds.
pub struct RouteTable<S> {
    router: Router<S>,
    listed: Vec<(Method, String)>,
}

impl<S: Clone + Send + Sync + 'static> Default for RouteTable<S> {
    fn default() -> Self {
        RouteTable { router: Router::new(), listed: Vec::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    /// `path` answered by `handler` for exactly `methods`.
    pub fn route(mut self, path: &str, methods: &[Method], handler: MethodRouter<S>) -> Self {
        self.router = self.router.route(path, handler);
        self.listed.extend(methods.iter().map(|m| (m.clone(), path.to_string())));
        self
    }

    /// Both tables' routes.
    pub fn merge(mut self, other: RouteTable<S>) -> Self {
        self.router = self.router.merge(other.router);
        self.listed.extend(other.listed);
        self
    }

    /// Applies `f` to the router (fallbacks, layers), keeping the list.
    pub fn map_router(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }

    pub fn listed(&self) -> &[(Method, String)] {
        &self.listed
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}
