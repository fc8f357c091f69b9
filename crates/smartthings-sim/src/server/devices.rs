//! The device operations: list, get, delete, and the status and health
//! reads. Commands live in `commands`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, param, params, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use super::{Shared, Sim};
use crate::home::{Home, SimDevice, capabilities_of};
use crate::stream::Attribute;

pub(super) fn routes(api: Api) -> Api {
    api.get("/devices", "listDevices", list_devices)
        .get("/devices/{device_id}", "getDevice", get_device)
        .put("/devices/{device_id}", "updateDevice", update_device)
        .delete("/devices/{device_id}", "deleteDevice", delete_device)
        .post(
            "/devices/{device_id}/events",
            "createDeviceEvents",
            create_device_events,
        )
        .get(
            "/presentation",
            "getDevicePresentation",
            device_presentation,
        )
        .get(
            "/devices/{device_id}/status",
            "getDeviceStatus",
            device_status,
        )
        .get(
            "/devices/{device_id}/health",
            "getDeviceHealth",
            device_health,
        )
        .get(
            "/devices/{device_id}/components/{component_id}/status",
            "getDeviceComponentStatus",
            component_status,
        )
        .get(
            "/devices/{device_id}/components/{component_id}/capabilities/{capability_id}/status",
            "getDeviceCapabilityStatus",
            capability_status,
        )
}

/// The device as listed, with `status`/`healthState` embedded on request.
fn device_view(device: &SimDevice, include_status: bool, include_health: bool) -> Value {
    let mut view = device.device.clone();
    if include_status && let Some(components) = view["components"].as_array_mut() {
        for component in components {
            let id = component["id"].as_str().unwrap_or_default().to_owned();
            let Some(capabilities) = component["capabilities"].as_array_mut() else {
                continue;
            };
            for capability in capabilities.iter_mut() {
                let cap = capability["id"].as_str().unwrap_or_default().to_owned();
                let status = device.status["components"][&id][&cap].clone();
                capability["status"] = if status.is_null() { json!({}) } else { status };
            }
            // Status of capabilities the profile does not list (e.g.
            // `synthetic.*`) is embedded too, so the list loses nothing the
            // status endpoint has.
            for (cap, status) in device.status["components"][&id]
                .as_object()
                .into_iter()
                .flatten()
            {
                if !capabilities.iter().any(|c| c["id"] == *cap) {
                    capabilities.push(json!({"id": cap, "version": 1, "status": status}));
                }
            }
        }
    }
    if include_health {
        view["healthState"] = device.health.clone();
    }
    view
}

async fn list_devices(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let capabilities = params(&q, "capability");
    let locations = params(&q, "locationId");
    let ids = params(&q, "deviceId");
    let include_status = param(&q, "includeStatus") == Some("true");
    let include_health = param(&q, "includeHealth") == Some("true");
    let items = {
        let home = sim.home.lock().expect("home");
        home.devices
            .values()
            .filter(|d| capabilities.iter().all(|c| d.has_capability(c)))
            .filter(|d| locations.is_empty() || locations.contains(&d.location_id()))
            .filter(|d| ids.is_empty() || ids.contains(&d.id()))
            .map(|d| device_view(d, include_status, include_health))
            .collect()
    };
    listing(&sim, &uri, items)
}

fn with_device(sim: &Sim, id: &str, f: impl FnOnce(&SimDevice) -> Response) -> Response {
    let home = sim.home.lock().expect("home");
    home.devices
        .get(id)
        .map(f)
        .unwrap_or_else(|| not_found("Device", id))
}

async fn get_device(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| ok(d.device.clone()))
}

async fn delete_device(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.change(|home| home.remove_device(&id, chrono::Utc::now())) {
        Some(_) => ok(json!({})),
        None => not_found("Device", &id),
    }
}

async fn device_status(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| ok(d.status.clone()))
}

async fn device_health(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| {
        let mut health = d.health.clone();
        health["deviceId"] = json!(id);
        ok(health)
    })
}

async fn component_status(
    State(sim): State<Shared>,
    Path((id, component)): Path<(String, String)>,
) -> Response {
    with_device(&sim, &id, |d| {
        match d.status["components"].get(&component) {
            Some(status) => ok(status.clone()),
            None => not_found("Component", &component),
        }
    })
}

async fn capability_status(
    State(sim): State<Shared>,
    Path((id, component, capability)): Path<(String, String, String)>,
) -> Response {
    with_device(&sim, &id, |d| {
        match d.status["components"]
            .get(&component)
            .and_then(|c| c.get(&capability))
        {
            Some(status) => ok(status.clone()),
            None => not_found("Capability", &format!("{component}/{capability}")),
        }
    })
}

/// `updateDevice`: a new label (`UPDATE` published) and/or another room of
/// the device's location (`ROOM_MOVE` published). Moving to another
/// location is refused (422): the simulator does not move devices between
/// locations.
async fn update_device(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let label = body.get("label").and_then(Value::as_str);
    if body.get("label").is_some_and(|l| !l.is_string()) || label.is_some_and(str::is_empty) {
        return unprocessable(
            "InvalidLabel",
            "label must be a non-empty string".into(),
            Some("label"),
        );
    }
    let room = body.get("roomId").and_then(Value::as_str);
    sim.change(|home| {
        let Some(device) = home.devices.get(&id) else {
            return not_found("Device", &id);
        };
        let location = device.location_id().to_owned();
        if let Some(to) = body.get("locationId").and_then(Value::as_str)
            && to != location
        {
            return unprocessable(
                "InvalidLocation",
                "a device cannot be moved to another location".into(),
                Some("locationId"),
            );
        }
        if let Some(room) = room
            && !home
                .rooms
                .get(room)
                .is_some_and(|r| r["locationId"] == location.as_str())
        {
            return unprocessable(
                "InvalidRoom",
                format!("room {room} is not a room of location {location}"),
                Some("roomId"),
            );
        }
        let at = chrono::Utc::now();
        if let Some(label) = label
            && home.devices[&id].device["label"] != label
        {
            home.rename_device(&id, label, at);
        }
        if let Some(room) = room
            && home.devices[&id].device["roomId"] != room
        {
            home.move_device(&id, Some(room), at);
        }
        ok(home.devices[&id].device.clone())
    })
}

/// The attribute changes a `deviceEvents` list asks for, each checked
/// against the device's components and capabilities.
pub(super) fn device_events(device: &SimDevice, body: &Value) -> Result<Vec<Attribute>, Refusal> {
    let Some(events) = body["deviceEvents"].as_array().filter(|e| !e.is_empty()) else {
        return Err(unprocessable(
            "InvalidBody",
            "deviceEvents must be a non-empty list".into(),
            Some("deviceEvents"),
        )
        .into());
    };
    events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let target = format!("deviceEvents[{i}]");
            let field = |name: &str| {
                event[name].as_str().map(str::to_owned).ok_or_else(|| {
                    Refusal::from(unprocessable(
                        "InvalidEvent",
                        format!("{name} is required"),
                        Some(&target),
                    ))
                })
            };
            let (component, capability, attribute) = (
                field("component")?,
                field("capability")?,
                field("attribute")?,
            );
            let Some(value) = event.get("value").filter(|v| !v.is_null()) else {
                return Err(unprocessable(
                    "InvalidEvent",
                    "value is required".into(),
                    Some(&target),
                )
                .into());
            };
            if !device
                .component(&component)
                .is_some_and(|c| capabilities_of(c).any(|id| id == capability))
            {
                return Err(unprocessable(
                    "UnknownCapability",
                    format!("{component} has no capability {capability:?}"),
                    Some(&target),
                )
                .into());
            }
            Ok(Attribute {
                component,
                capability,
                attribute,
                value: value.clone(),
                unit: event["unit"].as_str().map(str::to_owned),
                command_id: None,
            })
        })
        .collect()
}

/// Apply the events of a `deviceEvents` body to a device, all or none;
/// for each, whether it changed the value.
pub(super) fn apply_device_events(
    home: &mut Home,
    id: &str,
    body: &Value,
) -> Result<Vec<bool>, Refusal> {
    let device = home
        .devices
        .get(id)
        .ok_or_else(|| not_found("Device", id))?;
    let events = device_events(device, body)?;
    let at = chrono::Utc::now();
    Ok(events
        .into_iter()
        .map(|event| {
            let before = home.devices[id].status["components"][&event.component][&event.capability]
                [&event.attribute]["value"]
                .clone();
            let changed = before != event.value;
            home.set_attribute(id, event, at);
            changed
        })
        .collect())
}

async fn create_device_events(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    match sim.change(|home| apply_device_events(home, &id, &body)) {
        Ok(_) => ok(json!({})),
        Err(e) => e.into_response(),
    }
}

/// A capability's entry in a presentation: a widget for what it shows.
fn presentation_entry(component: &str, capability: &str) -> Value {
    let display = match capability {
        "switch" | "lock" => "toggleSwitch",
        "switchLevel" | "audioVolume" => "slider",
        _ => "state",
    };
    json!({
        "component": component,
        "capability": capability,
        "version": 1,
        "displayType": display,
        "label": capability,
    })
}

/// `getDevicePresentation`: by `deviceId`, or by `presentationId` (with
/// `manufacturerName`) of a device of the home. A minimal presentation:
/// every capability of every component on the detail view, `main`'s first
/// capability as the dashboard state, its commandable ones as actions.
async fn device_presentation(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let home = sim.home.lock().expect("home");
    let device = match (param(&q, "deviceId"), param(&q, "presentationId")) {
        (Some(id), _) => match home.devices.get(id) {
            Some(d) => d,
            None => return not_found("Device", id),
        },
        (None, Some(vid)) => {
            let mnmn = param(&q, "manufacturerName");
            match home.devices.values().find(|d| {
                d.device["presentationId"] == vid
                    && mnmn.is_none_or(|m| d.device["manufacturerName"] == m)
            }) {
                Some(d) => d,
                None => return not_found("Presentation", vid),
            }
        }
        (None, None) => {
            return unprocessable(
                "MissingParameter",
                "deviceId or presentationId is required".into(),
                Some("deviceId"),
            );
        }
    };
    let mut detail = Vec::new();
    let mut states = Vec::new();
    let mut actions = Vec::new();
    for component in device.components() {
        let id = component["id"].as_str().unwrap_or("main");
        for capability in capabilities_of(component) {
            if capability == "healthCheck" || capability == "refresh" {
                continue;
            }
            let entry = presentation_entry(id, capability);
            if id == "main" {
                if states.is_empty() {
                    states.push(entry.clone());
                }
                if entry["displayType"] != "state" {
                    actions.push(entry.clone());
                }
            }
            detail.push(entry);
        }
    }
    ok(json!({
        "presentationId": device.device["presentationId"],
        "manufacturerName": device.device["manufacturerName"],
        "iconUrl": "st.generic.device",
        "dashboard": {"states": states, "actions": actions, "basicPlus": []},
        "detailView": detail,
        "automation": {"conditions": detail, "actions": actions},
        "dpInfo": [],
        "language": [{"locale": "en_US", "poCodes": []}]
    }))
}
