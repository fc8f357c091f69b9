//! Virtual devices: created from a device profile (inline, or one of the
//! prototypes' profile ids) or from a standard prototype, listed by
//! location, and driven by posting events. A virtual device is a device
//! like any other (`type` `VIRTUAL`): listed, commanded, its creation and
//! its events published and recorded in the device history.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::devices::apply_device_events;
use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use super::{Shared, Sim};
use crate::home::{Home, MAX_DEVICES_PER_LOCATION, timestamp, virtual_device};

/// The standard prototypes: name, and the capabilities of `main`.
pub(crate) const PROTOTYPES: &[(&str, &[&str])] = &[
    ("VIRTUAL_SWITCH", &["switch"]),
    ("VIRTUAL_DIMMER_SWITCH", &["switch", "switchLevel"]),
    ("VIRTUAL_DIMMER", &["switchLevel"]),
    (
        "VIRTUAL_COLOR_BULB",
        &["switch", "switchLevel", "colorControl"],
    ),
    (
        "VIRTUAL_METERED_SWITCH",
        &["switch", "powerMeter", "energyMeter"],
    ),
    ("VIRTUAL_CONTACT_SENSOR", &["contactSensor"]),
    ("VIRTUAL_MOTION_SENSOR", &["motionSensor"]),
    ("VIRTUAL_PRESENCE_SENSOR", &["presenceSensor"]),
    ("VIRTUAL_LOCK", &["lock"]),
    (
        "VIRTUAL_MULTI_SENSOR",
        &["contactSensor", "temperatureMeasurement", "battery"],
    ),
    (
        "VIRTUAL_THERMOSTAT",
        &[
            "temperatureMeasurement",
            "thermostatHeatingSetpoint",
            "thermostatCoolingSetpoint",
            "thermostatMode",
        ],
    ),
];

/// The device profile id each prototype answers to in
/// `createVirtualDevice`'s `deviceProfileId`.
fn prototype_profile(name: &str) -> String {
    crate::home::derived_id(name, "profile")
}

pub(super) fn routes(api: Api) -> Api {
    api.get("/virtualdevices", "listVirtualDevices", list_virtual)
        .post("/virtualdevices", "createVirtualDevice", create_virtual)
        .post(
            "/virtualdevices/prototypes",
            "createStandardVirtualDevice",
            create_standard,
        )
        .post(
            "/virtualdevices/{device_id}/events",
            "createVirtualDeviceEvents",
            create_events,
        )
}

async fn list_virtual(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let location = param(&q, "locationId");
    let items = sim
        .home
        .lock()
        .expect("home")
        .devices
        .values()
        .filter(|d| d.device["type"] == "VIRTUAL")
        .filter(|d| location.is_none_or(|l| d.location_id() == l))
        .map(|d| d.device.clone())
        .collect();
    listing(&sim, &uri, items)
}

/// Where a new virtual device goes: the owner's location (an owner of type
/// `LOCATION`), or the room's; and the room, if one is given.
fn placement(home: &Home, body: &Value) -> Result<(String, Option<String>), Refusal> {
    let owner = &body["owner"];
    let room = body["roomId"].as_str();
    let room_location = match room {
        Some(room) => Some(
            home.rooms
                .get(room)
                .and_then(|r| r["locationId"].as_str())
                .ok_or_else(|| {
                    unprocessable("InvalidRoom", format!("no room {room}"), Some("roomId"))
                })?,
        ),
        None => None,
    };
    let location = match (owner["ownerType"].as_str(), owner["ownerId"].as_str()) {
        (Some("LOCATION"), Some(id)) => id,
        (Some("USER"), Some(_)) => room_location.ok_or_else(|| {
            unprocessable(
                "InvalidOwner",
                "a device owned by a user needs a roomId to place it".into(),
                Some("roomId"),
            )
        })?,
        _ => {
            return Err(unprocessable(
                "InvalidOwner",
                "owner must have ownerType LOCATION or USER and an ownerId".into(),
                Some("owner"),
            )
            .into());
        }
    };
    if !home.locations.contains_key(location) {
        return Err(not_found("Location", location).into());
    }
    if room_location.is_some_and(|l| l != location) {
        return Err(unprocessable(
            "InvalidRoom",
            "the room is in another location".into(),
            Some("roomId"),
        )
        .into());
    }
    let count = home
        .devices
        .values()
        .filter(|d| d.location_id() == location)
        .count();
    if count >= MAX_DEVICES_PER_LOCATION {
        return Err(unprocessable(
            "LimitError",
            format!("a location can have up to {MAX_DEVICES_PER_LOCATION} devices"),
            Some("locationId"),
        )
        .into());
    }
    Ok((location.to_owned(), room.map(str::to_owned)))
}

/// Create the device (`CREATE` published) and answer it.
fn create(sim: &Sim, body: &Value, components: Vec<(String, Vec<String>)>) -> Response {
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    };
    if components.iter().all(|(_, caps)| caps.is_empty()) {
        return unprocessable(
            "InvalidProfile",
            "the profile has no capability".into(),
            Some("deviceProfile"),
        );
    }
    let id = sim.new_id(8);
    sim.change(|home| {
        let (location, room) = match placement(home, body) {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
        let at = chrono::Utc::now();
        let device = virtual_device(
            id.clone(),
            name,
            &location,
            room.as_deref(),
            &components,
            &timestamp(at),
        );
        let view = device.device.clone();
        home.insert_device(device, at);
        ok(view)
    })
}

async fn create_virtual(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let components = if let Some(profile) = body["deviceProfileId"].as_str() {
        match PROTOTYPES
            .iter()
            .find(|(name, _)| prototype_profile(name) == profile)
        {
            Some((_, caps)) => vec![(
                "main".to_owned(),
                caps.iter().map(|c| (*c).to_owned()).collect(),
            )],
            None => return not_found("Device profile", profile),
        }
    } else if let Some(components) = body["deviceProfile"]["components"].as_array() {
        components
            .iter()
            .map(|c| {
                let id = c["id"].as_str().unwrap_or("main").to_owned();
                let caps = c["capabilities"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|cap| cap["id"].as_str().or_else(|| cap.as_str()))
                    .map(str::to_owned)
                    .collect();
                (id, caps)
            })
            .collect()
    } else {
        return unprocessable(
            "InvalidProfile",
            "deviceProfileId or deviceProfile.components is required".into(),
            Some("deviceProfile"),
        );
    };
    create(&sim, &body, components)
}

async fn create_standard(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let prototype = body["prototype"].as_str().unwrap_or_default();
    let Some((_, caps)) = PROTOTYPES.iter().find(|(name, _)| *name == prototype) else {
        let known: Vec<&str> = PROTOTYPES.iter().map(|(name, _)| *name).collect();
        return unprocessable(
            "InvalidPrototype",
            format!(
                "unknown prototype {prototype:?}; known: {}",
                known.join(", ")
            ),
            Some("prototype"),
        );
    };
    let components = vec![(
        "main".to_owned(),
        caps.iter().map(|c| (*c).to_owned()).collect(),
    )];
    create(&sim, &body, components)
}

/// `createVirtualDeviceEvents`: the events set the device's attributes
/// (all or none), each published and recorded; the answer says which
/// changed a value.
async fn create_events(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let changes = sim.change(|home| {
        if !home
            .devices
            .get(&id)
            .is_some_and(|d| d.device["type"] == "VIRTUAL")
        {
            return Err(Refusal::from(not_found("Virtual device", &id)));
        }
        apply_device_events(home, &id, &body)
    });
    match changes {
        Ok(changes) => ok(json!({"stateChanges": changes})),
        Err(e) => e.into_response(),
    }
}
