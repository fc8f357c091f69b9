//! Apps: list, get (by id or name), create, replace, delete; their OAuth
//! client (read, change, new credentials), their settings, and
//! registration. Creating or replacing needs `appName` (unique),
//! `appType`, `classifications`, `displayName` and `description` (422
//! without). A webhook app's target starts `PENDING` when
//! `requireConfirmation=true` (`CONFIRMED` otherwise); `register` confirms
//! a webhook or API_ONLY target (the simulator plays the app's part), and
//! refuses other apps (422). Deleting an app deletes its installations.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::device_profiles::{required, required_str};
use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};
use crate::home::{Home, timestamp};

pub(super) fn routes(api: Api) -> Api {
    api.get("/apps", "listApps", list_apps)
        .post("/apps", "createApp", create_app)
        .get("/apps/{app_id}", "getApp", get_app)
        .put("/apps/{app_id}", "updateApp", update_app)
        .delete("/apps/{app_id}", "deleteApp", delete_app)
        .get("/apps/{app_id}/oauth", "getAppOauth", get_oauth)
        .put("/apps/{app_id}/oauth", "updateAppOauth", update_oauth)
        .post(
            "/apps/{app_id}/oauth/generate",
            "generateStOauthCredentials",
            generate_oauth,
        )
        .get("/apps/{app_id}/settings", "getAppSettings", get_settings)
        .put(
            "/apps/{app_id}/settings",
            "updateAppSettings",
            update_settings,
        )
        .put("/apps/{app_id}/register", "register", register)
}

async fn list_apps(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .apps
        .values()
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

/// The key in `home.apps` of the app with this id or name.
fn app_key(home: &Home, id: &str) -> Result<String, Refusal> {
    home.apps
        .iter()
        .find(|(_, a)| a["appId"] == id || a["appName"] == id)
        .map(|(key, _)| key.clone())
        .ok_or_else(|| not_found("App", id).into())
}

async fn get_app(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let home = sim.home.lock().expect("home");
    match app_key(&home, &id) {
        Ok(key) => ok(home.apps[&key].clone()),
        Err(e) => e.into_response(),
    }
}

/// The definition a create or update body gives, checked; `confirmed`
/// says whether a webhook target needs no confirmation.
fn definition(body: &Value, signature: &str, confirmed: bool) -> Result<Value, Refusal> {
    let mut app = json!({
        "appName": required_str(body, "appName")?,
        "appType": required_str(body, "appType")?,
        "displayName": required_str(body, "displayName")?,
        "description": required_str(body, "description")?,
        "singleInstance": body["singleInstance"].as_bool().unwrap_or(false),
        "principalType": body["principalType"].as_str().unwrap_or("LOCATION"),
    });
    let classifications = required(body, "classifications")?;
    if !classifications.is_array() {
        return Err(unprocessable(
            "InvalidBody",
            "classifications must be an array".into(),
            Some("classifications"),
        )
        .into());
    }
    app["classifications"] = classifications;
    for field in ["iconImage", "ui", "lambdaSmartApp"] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            app[field] = v.clone();
        }
    }
    let status = if confirmed { "CONFIRMED" } else { "PENDING" };
    if let Some(webhook) = body.get("webhookSmartApp").filter(|v| v.is_object()) {
        app["webhookSmartApp"] = json!({
            "targetUrl": webhook["targetUrl"],
            "signatureType": signature,
            "targetStatus": status,
        });
    }
    if let Some(api_only) = body.get("apiOnly").filter(|v| v.is_object()) {
        app["apiOnly"] = match api_only["targetUrl"].as_str() {
            Some(url) => json!({"subscription": {"targetUrl": url, "targetStatus": status}}),
            None => json!({}),
        };
    }
    Ok(app)
}

fn name_taken(home: &Home, name: &str, except: Option<&str>) -> Option<Refusal> {
    home.apps
        .values()
        .any(|a| a["appName"] == name && except.is_none_or(|id| a["appId"] != id))
        .then(|| {
            unprocessable(
                "DuplicateName",
                format!("an app named {name:?} exists"),
                Some("appName"),
            )
            .into()
        })
}

async fn create_app(State(sim): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let query = query(&uri);
    let signature = param(&query, "signatureType").unwrap_or("ST_PADLOCK");
    if !["ST_PADLOCK", "APP_RSA"].contains(&signature) {
        return unprocessable(
            "InvalidParameter",
            format!("signatureType must be APP_RSA or ST_PADLOCK, got {signature:?}"),
            Some("signatureType"),
        );
    }
    let confirmed = param(&query, "requireConfirmation") != Some("true");
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut app = match definition(&body, signature, confirmed) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let id = sim.new_id(11);
    let (client_id, secret) = (sim.new_id(12), sim.new_id(13));
    let mut home = sim.home.lock().expect("home");
    let name = app["appName"].as_str().unwrap_or_default().to_owned();
    if let Some(refusal) = name_taken(&home, &name, None) {
        return refusal.into_response();
    }
    let now = timestamp(chrono::Utc::now());
    app["appId"] = json!(id);
    app["owner"] = json!({"ownerType": "USER", "ownerId": "c257d2c7-332b-d60d-808d-550bfbd54556"});
    app["createdDate"] = json!(now);
    app["lastUpdatedDate"] = json!(now);
    let oauth = &body["oauth"];
    home.app_oauth.insert(
        id.clone(),
        json!({
            "clientName": oauth["clientName"].as_str().unwrap_or(&name),
            "scope": oauth.get("scope").filter(|s| s.is_array()).cloned().unwrap_or_else(|| json!([])),
            "redirectUris": oauth.get("redirectUris").filter(|s| s.is_array()).cloned().unwrap_or_else(|| json!([])),
        }),
    );
    home.apps.insert(id, app.clone());
    ok(json!({"app": app, "oauthClientId": client_id, "oauthClientSecret": secret}))
}

async fn update_app(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match app_key(&home, &id) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let old = home.apps[&key].clone();
    let signature = old["webhookSmartApp"]["signatureType"]
        .as_str()
        .unwrap_or("ST_PADLOCK");
    let confirmed = old["webhookSmartApp"]["targetStatus"] != "PENDING"
        && old["apiOnly"]["subscription"]["targetStatus"] != "PENDING";
    let mut app = match definition(&body, signature, confirmed) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let app_id = old["appId"].as_str().unwrap_or_default().to_owned();
    let name = app["appName"].as_str().unwrap_or_default().to_owned();
    if let Some(refusal) = name_taken(&home, &name, Some(&app_id)) {
        return refusal.into_response();
    }
    for field in ["appId", "owner", "createdDate"] {
        if !old[field].is_null() {
            app[field] = old[field].clone();
        }
    }
    app["lastUpdatedDate"] = json!(timestamp(chrono::Utc::now()));
    home.apps.insert(key, app.clone());
    ok(app)
}

async fn delete_app(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    let key = match app_key(&home, &id) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let app = home.apps.shift_remove(&key).unwrap_or_default();
    let app_id = app["appId"].as_str().unwrap_or(&key).to_owned();
    home.app_oauth.shift_remove(&app_id);
    home.app_settings.shift_remove(&app_id);
    let installed: Vec<String> = home
        .installed_apps
        .iter()
        .filter(|(_, i)| i["appId"] == app_id.as_str())
        .map(|(k, _)| k.clone())
        .collect();
    for installed_app in installed {
        home.installed_apps.shift_remove(&installed_app);
        home.schedules.shift_remove(&installed_app);
        home.subscriptions
            .retain(|_, s| s["installedAppId"] != installed_app.as_str());
    }
    ok(json!({}))
}

/// The app's id and its OAuth client details (defaults for an app that
/// has none recorded).
fn oauth_of(home: &mut Home, id: &str) -> Result<(String, Value), Refusal> {
    let key = app_key(home, id)?;
    let app = &home.apps[&key];
    let app_id = app["appId"].as_str().unwrap_or(&key).to_owned();
    let default = json!({"clientName": app["appName"], "scope": [], "redirectUris": []});
    let oauth = home
        .app_oauth
        .entry(app_id.clone())
        .or_insert(default)
        .clone();
    Ok((app_id, oauth))
}

fn string_array(body: &Value, field: &str) -> Result<Value, Refusal> {
    let value = required(body, field)?;
    match value.as_array() {
        Some(items) if items.iter().all(Value::is_string) => Ok(value),
        _ => Err(unprocessable(
            "InvalidBody",
            format!("{field} must be an array of strings"),
            Some(field),
        )
        .into()),
    }
}

async fn get_oauth(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match oauth_of(&mut sim.home.lock().expect("home"), &id) {
        Ok((_, oauth)) => ok(oauth),
        Err(e) => e.into_response(),
    }
}

async fn update_oauth(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let oauth = json_body(&body).and_then(|body| {
        Ok(json!({
            "clientName": required_str(&body, "clientName")?,
            "scope": string_array(&body, "scope")?,
            "redirectUris": string_array(&body, "redirectUris")?,
        }))
    });
    let oauth = match oauth {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    match oauth_of(&mut home, &id) {
        Ok((app_id, _)) => {
            home.app_oauth.insert(app_id, oauth.clone());
            ok(oauth)
        }
        Err(e) => e.into_response(),
    }
}

async fn generate_oauth(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let asked = json_body(&body).and_then(|body| {
        Ok((
            required_str(&body, "clientName")?,
            string_array(&body, "scope")?,
        ))
    });
    let (name, scope) = match asked {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let (client_id, secret) = (sim.new_id(12), sim.new_id(13));
    let mut home = sim.home.lock().expect("home");
    let (app_id, mut oauth) = match oauth_of(&mut home, &id) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    oauth["clientName"] = json!(name);
    oauth["scope"] = scope;
    home.app_oauth.insert(app_id, oauth.clone());
    ok(
        json!({"oauthClientDetails": oauth, "oauthClientId": client_id, "oauthClientSecret": secret}),
    )
}

async fn get_settings(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let home = sim.home.lock().expect("home");
    match app_key(&home, &id) {
        Ok(key) => {
            let app_id = home.apps[&key]["appId"].as_str().unwrap_or(&key).to_owned();
            let settings = home
                .app_settings
                .get(&app_id)
                .cloned()
                .unwrap_or_else(|| json!({}));
            ok(json!({"settings": settings}))
        }
        Err(e) => e.into_response(),
    }
}

async fn update_settings(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let settings = json_body(&body).and_then(|body| match body.get("settings") {
        Some(Value::Object(map)) if map.values().all(Value::is_string) => {
            Ok(Value::Object(map.clone()))
        }
        Some(Value::Object(_)) => Err(unprocessable(
            "InvalidBody",
            "setting values must be strings".into(),
            Some("settings"),
        )
        .into()),
        _ => Err(unprocessable(
            "InvalidBody",
            "settings is required (an object of strings)".into(),
            Some("settings"),
        )
        .into()),
    });
    let settings = match settings {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match app_key(&home, &id) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let app_id = home.apps[&key]["appId"].as_str().unwrap_or(&key).to_owned();
    home.app_settings.insert(app_id, settings.clone());
    ok(json!({"settings": settings}))
}

async fn register(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    let key = match app_key(&home, &id) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let app = home.apps.get_mut(&key).expect("found");
    if app["webhookSmartApp"].is_object() {
        app["webhookSmartApp"]["targetStatus"] = json!("CONFIRMED");
    } else if app["apiOnly"]["subscription"].is_object() {
        app["apiOnly"]["subscription"]["targetStatus"] = json!("CONFIRMED");
    } else {
        return unprocessable(
            "NotRegistrable",
            "only a webhook or API_ONLY app with a target URL registers".into(),
            Some("appId"),
        );
    }
    ok(Value::Object(Map::new()))
}
