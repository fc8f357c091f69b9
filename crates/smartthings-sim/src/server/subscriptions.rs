//! The subscription operations of an installed app: list, create, delete
//! one, delete all.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::request::json_body;
use super::respond::{not_found, ok, unprocessable};

pub(super) fn routes(api: Api) -> Api {
    api.get(
        "/installedapps/{app_id}/subscriptions",
        "listSubscriptions",
        list_subscriptions,
    )
    .post(
        "/installedapps/{app_id}/subscriptions",
        "createSubscription",
        create_subscription,
    )
    .delete(
        "/installedapps/{app_id}/subscriptions",
        "deleteAllSubscriptions",
        delete_all_subscriptions,
    )
    .delete(
        "/installedapps/{app_id}/subscriptions/{subscription_id}",
        "deleteSubscription",
        delete_subscription,
    )
}

async fn list_subscriptions(
    State(sim): State<Shared>,
    Path(app): Path<String>,
    uri: Uri,
) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .subscriptions
        .values()
        .filter(|s| s["installedAppId"] == app)
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

async fn create_subscription(
    State(sim): State<Shared>,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    const SOURCES: [&str; 6] = [
        "CAPABILITY",
        "DEVICE",
        "MODE",
        "TIMER",
        "SCENE_LIFECYCLE",
        "DEVICE_LIFECYCLE",
    ];
    if !body["sourceType"]
        .as_str()
        .is_some_and(|s| SOURCES.contains(&s))
    {
        return unprocessable(
            "InvalidSourceType",
            "sourceType is required".into(),
            Some("sourceType"),
        );
    }
    let id = sim.new_id(4);
    let mut subscription = body;
    subscription["id"] = json!(id);
    subscription["installedAppId"] = json!(app);
    sim.home
        .lock()
        .expect("home")
        .subscriptions
        .insert(id, subscription.clone());
    ok(subscription)
}

async fn delete_all_subscriptions(State(sim): State<Shared>, Path(app): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    let before = home.subscriptions.len();
    home.subscriptions.retain(|_, s| s["installedAppId"] != app);
    ok(json!({"count": before - home.subscriptions.len()}))
}

async fn delete_subscription(
    State(sim): State<Shared>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    match home.subscriptions.get(&id) {
        Some(s) if s["installedAppId"] == app => {
            home.subscriptions.shift_remove(&id);
            ok(json!({}))
        }
        _ => not_found("Subscription", &id),
    }
}
