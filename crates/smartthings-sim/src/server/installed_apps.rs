//! Installed apps and their schedules. The demo and generated homes have
//! an installed app per location (installing one is not an operation):
//! list (filtered by `locationId`, `appId`, `installedAppType`,
//! `installedAppStatus`, each repeatable; `deviceId` keeps those
//! subscribed to one of the devices, `modeId` none: no installed app uses
//! a mode here), get, rename (`displayName`,
//! 422 without) and delete (its subscriptions and schedules go with it).
//! A schedule has a `name` (unique per installed app: a second with the
//! same name replaces the first) and a `cron` (`expression`, `timezone`)
//! or a `once` (`time`) — exactly one of them, else 422.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::Shared;
use super::device_profiles::{required, required_str};
use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, params, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use crate::home::{Home, timestamp};

pub(super) fn routes(api: Api) -> Api {
    api.get("/installedapps", "listInstallations", list_installed)
        .get(
            "/installedapps/{installed_app_id}",
            "getInstallation",
            get_installed,
        )
        .put(
            "/installedapps/{installed_app_id}",
            "updateInstallation",
            update_installed,
        )
        .delete(
            "/installedapps/{installed_app_id}",
            "deleteInstallation",
            delete_installed,
        )
        .get(
            "/installedapps/{installed_app_id}/schedules",
            "listSchedules",
            list_schedules,
        )
        .post(
            "/installedapps/{installed_app_id}/schedules",
            "createSchedule",
            create_schedule,
        )
        .delete(
            "/installedapps/{installed_app_id}/schedules",
            "deleteAllSchedules",
            delete_all_schedules,
        )
        .get(
            "/installedapps/{installed_app_id}/schedules/{schedule_name}",
            "getSchedule",
            get_schedule,
        )
        .delete(
            "/installedapps/{installed_app_id}/schedules/{schedule_name}",
            "deleteSchedule",
            delete_schedule,
        )
}

async fn list_installed(State(sim): State<Shared>, uri: Uri) -> Response {
    let query = query(&uri);
    let filters: Vec<(&str, Vec<&str>)> = [
        ("locationId", "locationId"),
        ("appId", "appId"),
        ("installedAppType", "installedAppType"),
        ("installedAppStatus", "installedAppStatus"),
    ]
    .into_iter()
    .map(|(param, field)| (field, params(&query, param)))
    .filter(|(_, wanted)| !wanted.is_empty())
    .collect();
    let devices = params(&query, "deviceId");
    let modes = params(&query, "modeId");
    let items = {
        let home = sim.home.lock().expect("home");
        // An installed app uses a device it subscribes to.
        let uses = |app: &Value, device: &str| {
            home.subscriptions.values().any(|s| {
                s["installedAppId"] == app["installedAppId"] && s["device"]["deviceId"] == device
            })
        };
        home.installed_apps
            .values()
            .filter(|a| {
                filters
                    .iter()
                    .all(|(field, wanted)| wanted.iter().any(|w| a[*field] == *w))
                    && (devices.is_empty() || devices.iter().any(|d| uses(a, d)))
                    // No installed app uses a mode in the simulator.
                    && modes.is_empty()
            })
            .cloned()
            .collect()
    };
    listing(&sim, &uri, items)
}

async fn get_installed(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").installed_apps.get(&id) {
        Some(a) => ok(a.clone()),
        None => not_found("Installed app", &id),
    }
}

async fn update_installed(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let name = match json_body(&body).and_then(|b| required_str(&b, "displayName")) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    match home.installed_apps.get_mut(&id) {
        Some(app) => {
            app["displayName"] = json!(name);
            app["lastUpdatedDate"] = json!(timestamp(chrono::Utc::now()));
            ok(app.clone())
        }
        None => not_found("Installed app", &id),
    }
}

async fn delete_installed(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    if home.installed_apps.shift_remove(&id).is_none() {
        return not_found("Installed app", &id);
    }
    home.schedules.shift_remove(&id);
    home.subscriptions.retain(|_, s| s["installedAppId"] != id);
    ok(json!({}))
}

fn schedules_of<'h>(
    home: &'h mut Home,
    app: &str,
) -> Result<(&'h mut IndexMap<String, Value>, String), Refusal> {
    let location = match home.installed_apps.get(app) {
        Some(a) => a["locationId"].as_str().unwrap_or_default().to_owned(),
        None => return Err(not_found("Installed app", app).into()),
    };
    Ok((home.schedules.entry(app.to_owned()).or_default(), location))
}

async fn list_schedules(State(sim): State<Shared>, Path(app): Path<String>, uri: Uri) -> Response {
    let items = {
        let mut home = sim.home.lock().expect("home");
        match schedules_of(&mut home, &app) {
            Ok((schedules, _)) => schedules.values().cloned().collect(),
            Err(e) => return e.into_response(),
        }
    };
    listing(&sim, &uri, items)
}

/// The schedule a body describes: a name and one of `cron` or `once`.
fn schedule_of(body: &Value) -> Result<Value, Refusal> {
    let name = required_str(body, "name")?;
    let cron = body.get("cron").filter(|c| !c.is_null());
    let once = body.get("once").filter(|o| !o.is_null());
    let mut schedule = json!({"name": name});
    match (cron, once) {
        (Some(cron), None) => {
            let expression = required_str(cron, "expression")?;
            let timezone = required_str(cron, "timezone")?;
            schedule["cron"] = json!({"expression": expression, "timezone": timezone});
        }
        (None, Some(once)) => {
            let time = required(once, "time")?;
            if !time.is_i64() {
                return Err(unprocessable(
                    "InvalidBody",
                    "once.time must be milliseconds since the epoch".into(),
                    Some("once.time"),
                )
                .into());
            }
            schedule["once"] = json!({"time": time});
            if let Some(overwrite) = once.get("overwrite").filter(|o| o.is_boolean()) {
                schedule["once"]["overwrite"] = overwrite.clone();
            }
            schedule["scheduledExecutions"] = json!([time]);
        }
        _ => {
            return Err(unprocessable(
                "InvalidBody",
                "a schedule needs exactly one of cron and once".into(),
                Some("cron"),
            )
            .into());
        }
    }
    Ok(schedule)
}

async fn create_schedule(
    State(sim): State<Shared>,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    let mut schedule = match json_body(&body).and_then(|b| schedule_of(&b)) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let (schedules, location) = match schedules_of(&mut home, &app) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    schedule["installedAppId"] = json!(app);
    schedule["locationId"] = json!(location);
    let name = schedule["name"].as_str().unwrap_or_default().to_owned();
    schedules.insert(name, schedule.clone());
    ok(schedule)
}

async fn get_schedule(
    State(sim): State<Shared>,
    Path((app, name)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    match schedules_of(&mut home, &app) {
        Ok((schedules, _)) => match schedules.get(&name) {
            Some(s) => ok(s.clone()),
            None => not_found("Schedule", &name),
        },
        Err(e) => e.into_response(),
    }
}

async fn delete_schedule(
    State(sim): State<Shared>,
    Path((app, name)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    match schedules_of(&mut home, &app) {
        Ok((schedules, _)) => match schedules.shift_remove(&name) {
            Some(_) => ok(json!({})),
            None => not_found("Schedule", &name),
        },
        Err(e) => e.into_response(),
    }
}

async fn delete_all_schedules(State(sim): State<Shared>, Path(app): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    match schedules_of(&mut home, &app) {
        Ok((schedules, _)) => {
            schedules.clear();
            ok(json!({}))
        }
        Err(e) => e.into_response(),
    }
}
