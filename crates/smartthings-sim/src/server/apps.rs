//! The app operations: list, and get by id or name.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::respond::{not_found, ok};

pub(super) fn routes(api: Api) -> Api {
    api.get("/apps", "listApps", list_apps)
        .get("/apps/{app_id}", "getApp", get_app)
}

async fn list_apps(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .apps
        .values()
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

async fn get_app(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let home = sim.home.lock().expect("home");
    match home
        .apps
        .values()
        .find(|a| a["appId"] == id || a["appName"] == id)
    {
        Some(app) => ok(app.clone()),
        None => not_found("App", &id),
    }
}
