//! The room operations of a location: list and create.

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
    api.get("/locations/{location_id}/rooms", "listRooms", list_rooms)
        .post("/locations/{location_id}/rooms", "createRoom", create_room)
}

async fn list_rooms(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let items = {
        let home = sim.home.lock().expect("home");
        if !home.locations.contains_key(&id) {
            return not_found("Location", &id);
        }
        home.rooms
            .values()
            .filter(|r| r["locationId"] == id)
            .cloned()
            .collect()
    };
    listing(&sim, &uri, items)
}

async fn create_room(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    };
    let mut home = sim.home.lock().expect("home");
    if !home.locations.contains_key(&id) {
        return not_found("Location", &id);
    }
    let room_id = sim.new_id(2);
    let room = json!({"roomId": room_id, "locationId": id, "name": name});
    home.rooms.insert(room_id, room.clone());
    ok(room)
}
