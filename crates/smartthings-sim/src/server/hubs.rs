//! Hubs: the record, its characteristics, the Edge drivers installed on it
//! (install from an enrolled channel, uninstall one no device runs on),
//! switching a child device to another installed driver, and the channels
//! it is enrolled in. `listHubInstalledDrivers?deviceId=` lists the driver
//! the device runs on, so a switch is visible there.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::operations::Api;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use crate::home::{CHANNELS, Home, Hub, installed_driver};

pub(super) fn routes(api: Api) -> Api {
    api.get("/hubdevices/{hub_id}", "getHub", get_hub)
        .get(
            "/hubdevices/{hub_id}/characteristics",
            "getHubCharacteristics",
            characteristics,
        )
        .get(
            "/hubdevices/{hub_id}/drivers",
            "listHubInstalledDrivers",
            list_drivers,
        )
        .get(
            "/hubdevices/{hub_id}/drivers/{driver_id}",
            "getHubDeviceDriver",
            get_driver,
        )
        .put(
            "/hubdevices/{hub_id}/drivers/{driver_id}",
            "installDrivers",
            install_driver,
        )
        .delete(
            "/hubdevices/{hub_id}/drivers/{driver_id}",
            "uninstallDriver",
            uninstall_driver,
        )
        .patch(
            "/hubdevices/{hub_id}/childdevice/{device_id}",
            "updateHubDevice",
            update_hub_device,
        )
        .get(
            "/hubdevices/{hub_id}/channels",
            "listHubEnrolledChannels",
            list_channels,
        )
}

fn hub<'h>(home: &'h mut Home, id: &str) -> Result<&'h mut Hub, Refusal> {
    home.hubs
        .get_mut(id)
        .ok_or_else(|| not_found("Hub", id).into())
}

/// Run `f` on the hub under the home's lock, or answer 404.
fn with_hub(sim: &Shared, id: &str, f: impl FnOnce(&mut Hub) -> Response) -> Response {
    let mut home = sim.home.lock().expect("home");
    match hub(&mut home, id) {
        Ok(h) => f(h),
        Err(e) => e.into_response(),
    }
}

async fn get_hub(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_hub(&sim, &id, |h| ok(h.record.clone()))
}

async fn characteristics(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_hub(&sim, &id, |h| ok(h.characteristics.clone()))
}

async fn list_drivers(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let q = query(&uri);
    let device = param(&q, "deviceId").map(str::to_owned);
    with_hub(&sim, &id, |h| {
        let items: Vec<Value> = match &device {
            None => h.installed.clone(),
            Some(device) => {
                let Some(driver) = h.children.get(device) else {
                    return not_found("Child device", device);
                };
                h.installed
                    .iter()
                    .filter(|d| d["driverId"] == driver.as_str())
                    .cloned()
                    .collect()
            }
        };
        ok(Value::Array(items))
    })
}

async fn get_driver(
    State(sim): State<Shared>,
    Path((id, driver)): Path<(String, String)>,
) -> Response {
    with_hub(&sim, &id, |h| {
        h.installed
            .iter()
            .find(|d| d["driverId"] == driver.as_str())
            .map_or_else(|| not_found("Driver", &driver), |d| ok(d.clone()))
    })
}

async fn install_driver(
    State(sim): State<Shared>,
    Path((id, driver)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(channel_id) = body["channelId"].as_str() else {
        return unprocessable(
            "InvalidBody",
            "channelId is required".into(),
            Some("channelId"),
        );
    };
    with_hub(&sim, &id, |h| {
        if !h.channels.iter().any(|c| c["channelId"] == channel_id) {
            return unprocessable(
                "NotEnrolled",
                format!("the hub is not enrolled in channel {channel_id}"),
                Some("channelId"),
            );
        }
        let Some(installed) = CHANNELS
            .iter()
            .find(|c| c.id == channel_id)
            .and_then(|c| installed_driver(c, &driver))
        else {
            return not_found("Driver", &driver);
        };
        // Installing again updates it in place.
        h.installed.retain(|d| d["driverId"] != driver.as_str());
        h.installed.push(installed);
        ok(json!({}))
    })
}

async fn uninstall_driver(
    State(sim): State<Shared>,
    Path((id, driver)): Path<(String, String)>,
) -> Response {
    with_hub(&sim, &id, |h| {
        if !h.installed.iter().any(|d| d["driverId"] == driver.as_str()) {
            return not_found("Driver", &driver);
        }
        if h.children.values().any(|d| *d == driver) {
            return unprocessable(
                "DriverInUse",
                format!("devices still run on driver {driver}"),
                Some("driverId"),
            );
        }
        h.installed.retain(|d| d["driverId"] != driver.as_str());
        ok(json!({}))
    })
}

async fn update_hub_device(
    State(sim): State<Shared>,
    Path((id, device)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(driver) = body["driverId"].as_str() else {
        return unprocessable(
            "InvalidBody",
            "driverId is required".into(),
            Some("driverId"),
        );
    };
    with_hub(&sim, &id, |h| {
        if !h.installed.iter().any(|d| d["driverId"] == driver) {
            return unprocessable(
                "DriverNotInstalled",
                format!("driver {driver} is not installed on the hub"),
                Some("driverId"),
            );
        }
        match h.children.get_mut(&device) {
            Some(current) => {
                *current = driver.to_owned();
                ok(json!({}))
            }
            None => not_found("Child device", &device),
        }
    })
}

async fn list_channels(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_hub(&sim, &id, |h| ok(Value::Array(h.channels.clone())))
}
