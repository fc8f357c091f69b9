//! Hubs: the record, its characteristics, the Edge drivers installed on it
//! (install from an enrolled channel, uninstall one no device runs on),
//! switching a child device to another installed driver, and the channels
//! it is enrolled in. `listHubInstalledDrivers?deviceId=` lists the
//! installed drivers that match the device (serve one of its
//! capabilities); a switch to a driver that does not match needs
//! `forceUpdate=true`, and shows afterwards in the device's
//! `zigbee.driverId` (a lifecycle `UPDATE` is published).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::operations::Api;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use crate::home::{CHANNELS, Home, Hub, SimDevice, driver_kind, installed_driver};

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

/// Whether a driver serves one of the device's capabilities.
fn matches(device: &SimDevice, driver_id: &str) -> bool {
    driver_kind(driver_id).is_some_and(|kind| device.has_capability(kind))
}

async fn list_drivers(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let q = query(&uri);
    let device = param(&q, "deviceId").map(str::to_owned);
    let mut home = sim.home.lock().expect("home");
    let device = match device.map(|d| home.devices.get(&d).cloned().ok_or(d)) {
        Some(Err(d)) => return not_found("Device", &d),
        Some(Ok(d)) => Some(d),
        None => None,
    };
    match hub(&mut home, &id) {
        Ok(h) => ok(Value::Array(
            h.installed
                .iter()
                .filter(|driver| {
                    device
                        .as_ref()
                        .is_none_or(|d| matches(d, driver["driverId"].as_str().unwrap_or_default()))
                })
                .cloned()
                .collect(),
        )),
        Err(e) => e.into_response(),
    }
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
    uri: Uri,
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
    let force = param(&query(&uri), "forceUpdate") == Some("true");
    sim.change(|home| {
        let h = match hub(home, &id) {
            Ok(h) => h,
            Err(e) => return e.into_response(),
        };
        if !h.installed.iter().any(|d| d["driverId"] == driver) {
            return unprocessable(
                "DriverNotInstalled",
                format!("driver {driver} is not installed on the hub"),
                Some("driverId"),
            );
        }
        if !h.children.contains_key(&device) {
            return not_found("Child device", &device);
        }
        if !force
            && !home
                .devices
                .get(&device)
                .is_some_and(|d| matches(d, driver))
        {
            return unprocessable(
                "DriverMismatch",
                format!("driver {driver} does not match device {device}; use forceUpdate"),
                Some("driverId"),
            );
        }
        home.switch_driver(&id, &device, driver, chrono::Utc::now());
        ok(json!({}))
    })
}

async fn list_channels(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_hub(&sim, &id, |h| ok(Value::Array(h.channels.clone())))
}
