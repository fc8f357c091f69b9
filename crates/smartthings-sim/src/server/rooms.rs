//! The room operations of a location: list, create, get, rename, delete
//! (its devices end up in no room, each move published).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::request::json_body;
use super::respond::{Refusal, not_found, ok, unprocessable};

pub(super) fn routes(api: Api) -> Api {
    api.get("/locations/{location_id}/rooms", "listRooms", list_rooms)
        .post("/locations/{location_id}/rooms", "createRoom", create_room)
        .get(
            "/locations/{location_id}/rooms/{room_id}",
            "getRoom",
            get_room,
        )
        .put(
            "/locations/{location_id}/rooms/{room_id}",
            "updateRoom",
            update_room,
        )
        .delete(
            "/locations/{location_id}/rooms/{room_id}",
            "deleteRoom",
            delete_room,
        )
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

/// The room, if it is one of the location's.
fn room_of<'h>(
    home: &'h mut crate::home::Home,
    location: &str,
    room: &str,
) -> Result<&'h mut serde_json::Value, Refusal> {
    if !home.locations.contains_key(location) {
        return Err(not_found("Location", location).into());
    }
    home.rooms
        .get_mut(room)
        .filter(|r| r["locationId"] == location)
        .ok_or_else(|| not_found("Room", room).into())
}

async fn get_room(
    State(sim): State<Shared>,
    Path((location, room)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    room_of(&mut home, &location, &room).map_or_else(IntoResponse::into_response, |r| ok(r.clone()))
}

async fn update_room(
    State(sim): State<Shared>,
    Path((location, room)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    };
    let mut home = sim.home.lock().expect("home");
    match room_of(&mut home, &location, &room) {
        Ok(r) => {
            r["name"] = json!(name);
            ok(r.clone())
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_room(
    State(sim): State<Shared>,
    Path((location, room)): Path<(String, String)>,
) -> Response {
    sim.change(|home| {
        if let Err(e) = room_of(home, &location, &room) {
            return e.into_response();
        }
        home.rooms.shift_remove(&room);
        let at = chrono::Utc::now();
        let inside: Vec<String> = home
            .devices
            .values()
            .filter(|d| d.device["roomId"] == room.as_str())
            .map(|d| d.id().to_owned())
            .collect();
        for device in inside {
            home.move_device(&device, None, at);
        }
        ok(json!({}))
    })
}
