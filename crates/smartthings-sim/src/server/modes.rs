//! The modes of a location: list, create, rename, delete, and the current
//! mode (read and change). Every location starts with Home (current), Away
//! and Night; the current mode cannot be deleted (422).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::request::json_body;
use super::respond::{Refusal, not_found, ok, unprocessable};
use crate::home::{Home, Modes, default_modes};

pub(super) fn routes(api: Api) -> Api {
    // `/modes/current` is a fixed segment: it wins over `/modes/{mode_id}`.
    api.get("/locations/{location_id}/modes", "getModes", get_modes)
        .post("/locations/{location_id}/modes", "createMode", create_mode)
        .get(
            "/locations/{location_id}/modes/current",
            "getCurrentMode",
            get_current_mode,
        )
        .put(
            "/locations/{location_id}/modes/current",
            "changeMode",
            change_mode,
        )
        .put(
            "/locations/{location_id}/modes/{mode_id}",
            "updateMode",
            update_mode,
        )
        .delete(
            "/locations/{location_id}/modes/{mode_id}",
            "deleteMode",
            delete_mode,
        )
}

fn modes_of<'h>(home: &'h mut Home, location: &str) -> Result<&'h mut Modes, Refusal> {
    if !home.locations.contains_key(location) {
        return Err(not_found("Location", location).into());
    }
    // A location put into the home without its modes gets the defaults.
    Ok(home
        .modes
        .entry(location.to_owned())
        .or_insert_with(|| default_modes(location)))
}

fn label_of(body: &Bytes) -> Result<String, Refusal> {
    let body = json_body(body)?;
    body["label"]
        .as_str()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            unprocessable("InvalidLabel", "label is required".into(), Some("label")).into()
        })
}

fn taken(modes: &Modes, label: &str, except: Option<&str>) -> Option<Refusal> {
    modes
        .modes
        .iter()
        .any(|m| m["label"] == label && except.is_none_or(|id| m["id"] != id))
        .then(|| {
            unprocessable(
                "DuplicateLabel",
                format!("a mode labelled {label:?} exists"),
                Some("label"),
            )
            .into()
        })
}

async fn get_modes(State(sim): State<Shared>, Path(location): Path<String>, uri: Uri) -> Response {
    let items = {
        let mut home = sim.home.lock().expect("home");
        match modes_of(&mut home, &location) {
            Ok(modes) => modes.modes.clone(),
            Err(e) => return e.into_response(),
        }
    };
    listing(&sim, &uri, items)
}

async fn create_mode(
    State(sim): State<Shared>,
    Path(location): Path<String>,
    body: Bytes,
) -> Response {
    let label = match label_of(&body) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let id = sim.new_id(6);
    let mut home = sim.home.lock().expect("home");
    let modes = match modes_of(&mut home, &location) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if let Some(refusal) = taken(modes, &label, None) {
        return refusal.into_response();
    }
    let mode = json!({"id": id, "label": label, "name": label});
    modes.modes.push(mode.clone());
    if modes.current.is_empty() {
        modes.current = id;
    }
    ok(mode)
}

async fn update_mode(
    State(sim): State<Shared>,
    Path((location, mode_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let label = match label_of(&body) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let modes = match modes_of(&mut home, &location) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if let Some(refusal) = taken(modes, &label, Some(&mode_id)) {
        return refusal.into_response();
    }
    // The label changes; the name given at creation stays.
    match modes.modes.iter_mut().find(|m| m["id"] == mode_id) {
        Some(mode) => {
            mode["label"] = json!(label);
            ok(mode.clone())
        }
        None => not_found("Mode", &mode_id),
    }
}

async fn delete_mode(
    State(sim): State<Shared>,
    Path((location, mode_id)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    let modes = match modes_of(&mut home, &location) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if !modes.modes.iter().any(|m| m["id"] == mode_id) {
        return not_found("Mode", &mode_id);
    }
    if modes.current == mode_id {
        return unprocessable(
            "CurrentMode",
            "the current mode cannot be deleted; change the mode first".into(),
            Some("modeId"),
        );
    }
    modes.modes.retain(|m| m["id"] != mode_id);
    ok(json!({}))
}

fn current(modes: &Modes) -> Value {
    modes
        .modes
        .iter()
        .find(|m| m["id"] == modes.current)
        .cloned()
        .unwrap_or_else(|| json!({}))
}

async fn get_current_mode(State(sim): State<Shared>, Path(location): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    match modes_of(&mut home, &location) {
        Ok(modes) if modes.current.is_empty() => not_found("Current mode of", &location),
        Ok(modes) => ok(current(modes)),
        Err(e) => e.into_response(),
    }
}

async fn change_mode(
    State(sim): State<Shared>,
    Path(location): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(mode_id) = body["modeId"].as_str() else {
        return unprocessable("InvalidBody", "modeId is required".into(), Some("modeId"));
    };
    let mut home = sim.home.lock().expect("home");
    let modes = match modes_of(&mut home, &location) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if !modes.modes.iter().any(|m| m["id"] == mode_id) {
        return unprocessable(
            "UnknownMode",
            format!("location {location} has no mode {mode_id}"),
            Some("modeId"),
        );
    }
    modes.current = mode_id.to_owned();
    ok(current(modes))
}
