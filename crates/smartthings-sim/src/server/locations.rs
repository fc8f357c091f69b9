//! The location operations: list, create, get, update, delete.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::request::json_body;
use super::respond::{error_body, not_found, ok, unprocessable};
use crate::home::MAX_LOCATIONS;

pub(super) fn routes(api: Api) -> Api {
    api.get("/locations", "listLocations", list_locations)
        .post("/locations", "createLocation", create_location)
        .get("/locations/{location_id}", "getLocation", get_location)
        .put(
            "/locations/{location_id}",
            "updateLocation",
            update_location,
        )
        .delete(
            "/locations/{location_id}",
            "deleteLocation",
            delete_location,
        )
}

async fn list_locations(State(sim): State<Shared>, uri: Uri) -> Response {
    // Seed 004: the list shows id and name; `get` has the rest.
    let items = sim
        .home
        .lock()
        .expect("home")
        .locations
        .values()
        .map(|l| json!({"locationId": l["locationId"], "name": l["name"]}))
        .collect();
    listing(&sim, &uri, items)
}

const LOCATION_FIELDS: [&str; 8] = [
    "name",
    "countryCode",
    "latitude",
    "longitude",
    "regionRadius",
    "temperatureScale",
    "timeZoneId",
    "locale",
];

async fn create_location(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if body["name"].as_str().is_none_or(str::is_empty) {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    }
    let mut home = sim.home.lock().expect("home");
    if home.locations.len() >= MAX_LOCATIONS {
        let detail = json!({"code": "LimitError", "target": "locations", "message": format!("A user can belong to {MAX_LOCATIONS} locations."), "details": []});
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(error_body(
                "LimitError",
                "Location limit reached.",
                Some("locations"),
                vec![detail],
            )),
        )
            .into_response();
    }
    let id = sim.new_id(1);
    let mut location = json!({"locationId": id});
    for field in LOCATION_FIELDS {
        if let Some(value) = body.get(field) {
            location[field] = value.clone();
        }
    }
    home.add_location(location.clone());
    ok(location)
}

async fn get_location(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").locations.get(&id) {
        Some(location) => ok(location.clone()),
        None => not_found("Location", &id),
    }
}

async fn update_location(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let Some(location) = home.locations.get_mut(&id) else {
        return not_found("Location", &id);
    };
    // Seed 004: "This call will only update specified fields."
    for field in LOCATION_FIELDS {
        if let Some(value) = body.get(field) {
            location[field] = value.clone();
        }
    }
    ok(location.clone())
}

async fn delete_location(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    if sim.change(|home| home.delete_location(&id)) {
        ok(json!({}))
    } else {
        not_found("Location", &id)
    }
}
