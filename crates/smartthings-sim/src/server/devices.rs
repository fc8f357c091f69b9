//! The device operations: list, get, delete, and the status and health
//! reads. Commands live in `commands`.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use super::operations::Api;
use super::paging::listing;
use super::request::{param, params, query};
use super::respond::{not_found, ok};
use super::{Shared, Sim};
use crate::home::SimDevice;

pub(super) fn routes(api: Api) -> Api {
    api.get("/devices", "listDevices", list_devices)
        .get("/devices/{device_id}", "getDevice", get_device)
        .delete("/devices/{device_id}", "deleteDevice", delete_device)
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
