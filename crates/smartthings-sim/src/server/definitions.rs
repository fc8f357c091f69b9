//! Custom capabilities and presentations: create, replace and delete a
//! capability in a namespace (listed and defined afterwards like the
//! home's; the home's own capabilities are read-only, 403), its
//! localizations (one per locale tag), its presentation, and device
//! configurations (created idempotently: the same content, the same
//! `presentationId`; or generated from a device profile).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::device_profiles::{PREFERENCE_NAMESPACE, required, required_str};
use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, param, query};
use super::respond::{Refusal, api_error, not_found, ok, unprocessable};
use crate::home::{Home, derived_id};

/// The namespace a capability is created in when none is given.
pub(crate) const DEFAULT_NAMESPACE: &str = PREFERENCE_NAMESPACE;

/// The manufacturer name of the device configurations created here.
const MANUFACTURER: &str = "SmartThingsCommunity";

pub(super) fn routes(api: Api) -> Api {
    api.post("/capabilities", "createCapability", create_capability)
        .put(
            "/capabilities/{capability_id}/{capability_version}",
            "updateCapability",
            update_capability,
        )
        .delete(
            "/capabilities/{capability_id}/{capability_version}",
            "deleteCapability",
            delete_capability,
        )
        .get(
            "/capabilities/{capability_id}/{capability_version}/i18n",
            "listCapabilityLocalizations",
            list_localizations,
        )
        .post(
            "/capabilities/{capability_id}/{capability_version}/i18n",
            "createCapabilityLocalization",
            create_localization,
        )
        .get(
            "/capabilities/{capability_id}/{capability_version}/i18n/{locale}",
            "getCapabilityLocalization",
            get_localization,
        )
        .put(
            "/capabilities/{capability_id}/{capability_version}/i18n/{locale}",
            "updateCapabilityLocalization",
            update_localization,
        )
        .get(
            "/capabilities/{capability_id}/{capability_version}/presentation",
            "getCapabilityPresentation",
            get_presentation,
        )
        .post(
            "/capabilities/{capability_id}/{capability_version}/presentation",
            "createCustomCapabilityPresentation",
            create_presentation,
        )
        .put(
            "/capabilities/{capability_id}/{capability_version}/presentation",
            "updateCustomCapabilityPresentation",
            update_presentation,
        )
        .get(
            "/presentation/deviceconfig",
            "getDeviceConfiguration",
            get_device_config,
        )
        .post(
            "/presentation/deviceconfig",
            "createDeviceConfiguration",
            create_device_config,
        )
        .get(
            "/presentation/types/{profile_id}/deviceconfig",
            "generateDeviceConfig",
            generate_device_config,
        )
}

/// `id/version`, the key of a capability version.
fn key(id: &str, version: &str) -> String {
    format!("{id}/{version}")
}

/// The key of a capability version the home lists, or 404.
fn known(home: &Home, id: &str, version: &str) -> Result<String, Refusal> {
    version
        .parse::<u64>()
        .ok()
        .filter(|v| {
            home.capabilities
                .iter()
                .any(|c| c["id"] == id && c["version"] == *v)
        })
        .map(|_| key(id, version))
        .ok_or_else(|| not_found("Capability", &key(id, version)).into())
}

/// The key of a capability version created here: 404 when unknown, 403
/// for one of the home's own.
fn custom(home: &Home, id: &str, version: &str) -> Result<String, Refusal> {
    let key = known(home, id, version)?;
    if home.custom_capabilities.contains_key(&key) {
        Ok(key)
    } else {
        Err(api_error(
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            &format!("capability {key} is not a custom capability of yours"),
            Some(id),
        )
        .into())
    }
}

/// `Fan speed` → `fanSpeed`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    for (i, word) in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.extend(first.to_lowercase());
            } else {
                out.extend(first.to_uppercase());
            }
            out.push_str(chars.as_str());
        }
    }
    out
}

fn object_or_empty(body: &Value, field: &str) -> Result<Value, Refusal> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(unprocessable(
            "InvalidBody",
            format!("{field} must be an object"),
            Some(field),
        )
        .into()),
    }
}

async fn create_capability(State(sim): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let query = query(&uri);
    let namespace = param(&query, "namespace").unwrap_or(DEFAULT_NAMESPACE);
    let fields = json_body(&body).and_then(|body| {
        let name = required_str(&body, "name")?;
        Ok((
            name,
            object_or_empty(&body, "attributes")?,
            object_or_empty(&body, "commands")?,
        ))
    });
    let (name, attributes, commands) = match fields {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let local = camel(&name);
    if local.is_empty() || namespace.is_empty() || namespace.contains('.') {
        return unprocessable(
            "InvalidName",
            format!("no capability id from namespace {namespace:?} and name {name:?}"),
            Some("name"),
        );
    }
    let id = format!("{namespace}.{local}");
    let mut home = sim.home.lock().expect("home");
    if home.capabilities.iter().any(|c| c["id"] == id.as_str()) {
        return unprocessable(
            "DuplicateCapability",
            format!("capability {id} exists"),
            Some("name"),
        );
    }
    let definition = json!({
        "id": id, "version": 1, "status": "proposed", "name": name,
        "attributes": attributes, "commands": commands,
    });
    home.capabilities
        .push(json!({"id": id, "version": 1, "status": "proposed"}));
    home.custom_capabilities
        .insert(key(&id, "1"), definition.clone());
    ok(definition)
}

async fn update_capability(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fields = json_body(&body).and_then(|body| {
        Ok((
            object_or_empty(&body, "attributes")?,
            object_or_empty(&body, "commands")?,
        ))
    });
    let (attributes, commands) = match fields {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match custom(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let definition = home.custom_capabilities.get_mut(&key).expect("custom");
    definition["attributes"] = attributes;
    definition["commands"] = commands;
    ok(definition.clone())
}

async fn delete_capability(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    let key = match custom(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    home.custom_capabilities.shift_remove(&key);
    home.localizations.shift_remove(&key);
    home.capability_presentations.shift_remove(&key);
    let version = version.parse::<u64>().ok();
    home.capabilities
        .retain(|c| !(c["id"] == id.as_str() && c["version"].as_u64() == version));
    ok(json!({}))
}

async fn list_localizations(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let items: Vec<Value> = {
        let home = sim.home.lock().expect("home");
        let key = match known(&home, &id, &version) {
            Ok(k) => k,
            Err(e) => return e.into_response(),
        };
        home.localizations
            .get(&key)
            .map(|l| l.keys().map(|tag| json!({"tag": tag})).collect())
            .unwrap_or_default()
    };
    listing(&sim, &uri, items)
}

/// A localization body, its tag the path's when one is given.
fn localization(body: &Bytes, locale: Option<&str>) -> Result<Value, Refusal> {
    let mut body = json_body(body)?;
    match (locale, body["tag"].as_str()) {
        (Some(path), Some(tag)) if path != tag => {
            return Err(unprocessable(
                "InvalidBody",
                format!("tag {tag:?} is not the locale {path:?}"),
                Some("tag"),
            )
            .into());
        }
        (Some(path), _) => body["tag"] = json!(path),
        (None, _) => {
            required_str(&body, "tag")?;
        }
    }
    Ok(body)
}

async fn create_localization(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match localization(&body, None) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let tag = body["tag"].as_str().unwrap_or_default().to_owned();
    let mut home = sim.home.lock().expect("home");
    let key = match known(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let locales = home.localizations.entry(key).or_default();
    if locales.contains_key(&tag) {
        return unprocessable(
            "DuplicateLocale",
            format!("locale {tag:?} exists; update it instead"),
            Some("tag"),
        );
    }
    locales.insert(tag, body.clone());
    ok(body)
}

async fn get_localization(
    State(sim): State<Shared>,
    Path((id, version, locale)): Path<(String, String, String)>,
) -> Response {
    let home = sim.home.lock().expect("home");
    let key = match known(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    match home.localizations.get(&key).and_then(|l| l.get(&locale)) {
        Some(l) => ok(l.clone()),
        None => not_found("Localization", &format!("{key}/{locale}")),
    }
}

async fn update_localization(
    State(sim): State<Shared>,
    Path((id, version, locale)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let body = match localization(&body, Some(&locale)) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match known(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    match home
        .localizations
        .get_mut(&key)
        .and_then(|l| l.get_mut(&locale))
    {
        Some(l) => {
            *l = body.clone();
            ok(body)
        }
        None => not_found("Localization", &format!("{key}/{locale}")),
    }
}

async fn get_presentation(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    let home = sim.home.lock().expect("home");
    let key = match known(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    match home.capability_presentations.get(&key) {
        Some(p) => ok(p.clone()),
        None => not_found("Capability presentation", &key),
    }
}

/// The presentation of `id/version` a body describes.
fn presentation(body: &Value, id: &str, version: &str) -> Value {
    let mut presentation = json!({"id": id, "version": version.parse::<u64>().unwrap_or(1)});
    for field in ["dashboard", "detailView", "automation"] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            presentation[field] = v.clone();
        }
    }
    presentation
}

async fn create_presentation(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let checked = json_body(&body).and_then(|body| {
        let given = required_str(&body, "id")?;
        let given_version = required(&body, "version")?;
        if given != id || given_version.as_u64() != version.parse().ok() {
            return Err(unprocessable(
                "InvalidBody",
                format!("the body is for {given}/{given_version}, the path for {id}/{version}"),
                Some("id"),
            )
            .into());
        }
        Ok(body)
    });
    let body = match checked {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match custom(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    if home.capability_presentations.contains_key(&key) {
        return unprocessable(
            "DuplicatePresentation",
            format!("capability {key} has a presentation; update it instead"),
            Some("id"),
        );
    }
    let presentation = presentation(&body, &id, &version);
    home.capability_presentations
        .insert(key, presentation.clone());
    ok(presentation)
}

async fn update_presentation(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let key = match custom(&home, &id, &version) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    match home.capability_presentations.get_mut(&key) {
        Some(p) => {
            *p = presentation(&body, &id, &version);
            ok(p.clone())
        }
        None => not_found("Capability presentation", &key),
    }
}

async fn get_device_config(State(sim): State<Shared>, uri: Uri) -> Response {
    let query = query(&uri);
    let Some(id) = param(&query, "presentationId") else {
        return unprocessable(
            "InvalidParameter",
            "presentationId is required".into(),
            Some("presentationId"),
        );
    };
    let home = sim.home.lock().expect("home");
    match home
        .device_configs
        .get(id)
        .filter(|c| param(&query, "manufacturerName").is_none_or(|m| c["manufacturerName"] == m))
    {
        Some(c) => ok(c.clone()),
        None => not_found("Device configuration", id),
    }
}

/// Store a configuration under an id derived from its content.
fn store_config(home: &mut Home, mut config: Value, from: &str) -> Value {
    let id = derived_id(from, "deviceconfig");
    config["presentationId"] = json!(id);
    config["manufacturerName"] = json!(MANUFACTURER);
    home.device_configs.insert(id, config.clone());
    config
}

async fn create_device_config(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut config = json!({"type": body["type"].as_str().unwrap_or("profile")});
    for field in ["iconUrl", "dashboard", "detailView", "automation"] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            config[field] = v.clone();
        }
    }
    // The same content, the same id: creating again answers the existing.
    let content = config.to_string();
    let mut home = sim.home.lock().expect("home");
    ok(store_config(&mut home, config, &content))
}

async fn generate_device_config(
    State(sim): State<Shared>,
    Path(profile_id): Path<String>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    let Some(profile) = home.device_profiles.get(&profile_id) else {
        return not_found("Device profile", &profile_id);
    };
    // Every capability of every component, shown and usable everywhere.
    let entries: Vec<Value> = profile["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|component| {
            let component_id = component["id"].as_str().unwrap_or("main").to_owned();
            component["capabilities"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |c| {
                    let capability = c["id"].as_str()?;
                    Some(json!({
                        "component": component_id,
                        "capability": capability,
                        "version": c["version"].as_u64().unwrap_or(1),
                    }))
                })
        })
        .collect();
    let config = json!({
        "type": "profile",
        "dashboard": {"states": entries.first().cloned().into_iter().collect::<Vec<_>>(), "actions": []},
        "detailView": entries,
        "automation": {"conditions": entries, "actions": entries},
    });
    ok(store_config(
        &mut home,
        config,
        &format!("profile:{profile_id}"),
    ))
}
