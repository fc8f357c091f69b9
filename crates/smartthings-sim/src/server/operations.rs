//! Declaring an operation: one call registers its handler on the router and
//! records its operation id for the pipeline, so the two cannot drift apart.

use std::collections::HashMap;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

use super::{API_PREFIX, Shared};

/// The API's routes as they are declared, with their operation ids.
pub(super) struct Api {
    router: Router<Shared>,
    ids: OperationIds,
}

impl Api {
    pub(super) fn new() -> Self {
        Self {
            router: Router::new(),
            ids: OperationIds::default(),
        }
    }

    /// `GET path` (relative to where the router is mounted: [`API_PREFIX`]
    /// for the API, the root for OAuth), known as `operation`.
    pub(super) fn get<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::GET, path, operation, handler)
    }

    /// `POST path`, known as `operation`.
    pub(super) fn post<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::POST, path, operation, handler)
    }

    /// `PUT path`, known as `operation`.
    pub(super) fn put<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::PUT, path, operation, handler)
    }

    /// `PATCH path`, known as `operation`.
    pub(super) fn patch<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::PATCH, path, operation, handler)
    }

    /// `DELETE path`, known as `operation`.
    pub(super) fn delete<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::DELETE, path, operation, handler)
    }

    fn route<H: Handler<T, Shared>, T: 'static>(
        mut self,
        method: Method,
        path: &'static str,
        operation: &'static str,
        handler: H,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        // Declaring a second method on a path merges it into the path's
        // method router; axum panics on a repeated method, so the table
        // cannot hold two ids for one operation either.
        self.router = self.router.route(path, on(filter, handler));
        self.ids
            .0
            .entry(path)
            .or_default()
            .push((method, operation));
        self
    }

    pub(super) fn into_parts(self) -> (Router<Shared>, OperationIds) {
        (self.router, self.ids)
    }
}

/// Operation ids by route and method.
#[derive(Default)]
pub(super) struct OperationIds(HashMap<&'static str, Vec<(Method, &'static str)>>);

impl OperationIds {
    /// The operation id of a matched route (with or without the prefix), or
    /// `unknown` for a method the route does not serve (answered 405, still
    /// logged).
    pub(super) fn of(&self, method: &Method, route: &str) -> &'static str {
        let route = route.strip_prefix(API_PREFIX).unwrap_or(route);
        self.0
            .get(route)
            .and_then(|methods| methods.iter().find(|(m, _)| m == method))
            .map_or("unknown", |&(_, operation)| operation)
    }
}
