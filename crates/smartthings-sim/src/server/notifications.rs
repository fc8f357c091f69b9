//! Push notifications: `createNotification` checks the request (a `type`
//! of the spec's four and at least one message, 422 otherwise; a
//! `locationId`, when given, must be the home's, 404 otherwise), keeps it
//! for [`crate::Simulator::notifications`] and answers `{"code": 200,
//! "message": "Success"}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::device_profiles::required_str;
use super::operations::Api;
use super::request::json_body;
use super::respond::{not_found, ok, unprocessable};

const TYPES: [&str; 4] = [
    "ALERT",
    "SUGGESTED_ACTION",
    "EVENT_LOGGING",
    "AUTOMATION_INFO",
];

pub(super) fn routes(api: Api) -> Api {
    api.post("/notification", "createNotification", create_notification)
}

async fn create_notification(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let kind = match required_str(&body, "type") {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    if !TYPES.contains(&kind.as_str()) {
        return unprocessable(
            "InvalidBody",
            format!("type must be one of {TYPES:?}, got {kind:?}"),
            Some("type"),
        );
    }
    if body["messages"].as_array().is_none_or(Vec::is_empty) {
        return unprocessable(
            "InvalidBody",
            "messages is required (at least one)".into(),
            Some("messages"),
        );
    }
    let mut home = sim.home.lock().expect("home");
    if let Some(location) = body["locationId"].as_str()
        && !home.locations.contains_key(location)
    {
        return not_found("Location", location);
    }
    home.notifications.push(body);
    ok(json!({"code": 200, "message": "Success"}))
}
