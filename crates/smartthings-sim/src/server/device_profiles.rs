//! Device profiles and device preferences: create, list (paged), get,
//! update, and delete for profiles. A profile needs a `name` and 1 to 20
//! `components` (422
//! without); it starts in `DEVELOPMENT`, and an update replaces the
//! components, metadata and preferences it gives. A preference needs a
//! `title`, a `preferenceType` and a `definition`; its id is
//! `{namespace}.{name}` in the simulator's namespace, and `listPreferences`
//! filters on the namespace.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::request::{json_body, param, query};
use super::respond::{Refusal, not_found, ok, unprocessable};

/// The namespace of the preferences created in the simulator.
pub(crate) const PREFERENCE_NAMESPACE: &str = "simulator";

pub(super) fn routes(api: Api) -> Api {
    api.get("/deviceprofiles", "listDeviceProfiles", list_profiles)
        .post("/deviceprofiles", "createDeviceProfile", create_profile)
        .get(
            "/deviceprofiles/{profile_id}",
            "getDeviceProfile",
            get_profile,
        )
        .put(
            "/deviceprofiles/{profile_id}",
            "updateDeviceProfile",
            update_profile,
        )
        .delete(
            "/deviceprofiles/{profile_id}",
            "deleteDeviceProfile",
            delete_profile,
        )
        .get("/devicepreferences", "listPreferences", list_preferences)
        .post("/devicepreferences", "createPreference", create_preference)
        .get(
            "/devicepreferences/{preference_id}",
            "getPreferenceById",
            get_preference,
        )
        .put(
            "/devicepreferences/{preference_id}",
            "updatePreferenceById",
            update_preference,
        )
}

/// A required non-empty string field of a body.
pub(super) fn required_str(body: &Value, field: &str) -> Result<String, Refusal> {
    body[field]
        .as_str()
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            unprocessable("InvalidBody", format!("{field} is required"), Some(field)).into()
        })
}

/// A required field of a body, of any type but null.
pub(super) fn required(body: &Value, field: &str) -> Result<Value, Refusal> {
    match &body[field] {
        Value::Null => {
            Err(unprocessable("InvalidBody", format!("{field} is required"), Some(field)).into())
        }
        v => Ok(v.clone()),
    }
}

async fn list_profiles(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .device_profiles
        .values()
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

async fn create_profile(State(sim): State<Shared>, body: Bytes) -> Response {
    let profile = json_body(&body).and_then(|body| {
        let name = required_str(&body, "name")?;
        if !body["components"]
            .as_array()
            .is_some_and(|c| (1..=20).contains(&c.len()))
        {
            return Err(unprocessable(
                "InvalidBody",
                "components is required (1 to 20)".into(),
                Some("components"),
            )
            .into());
        }
        Ok(json!({
            "name": name,
            "components": body["components"],
            "metadata": body.get("metadata").cloned().unwrap_or_else(|| json!({})),
            "preferences": body.get("preferences").cloned().unwrap_or_else(|| json!([])),
            "status": "DEVELOPMENT",
        }))
    });
    let mut profile = match profile {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let id = sim.new_id(9);
    profile["id"] = json!(id);
    sim.home
        .lock()
        .expect("home")
        .device_profiles
        .insert(id, profile.clone());
    ok(profile)
}

async fn get_profile(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").device_profiles.get(&id) {
        Some(p) => ok(p.clone()),
        None => not_found("Device profile", &id),
    }
}

async fn update_profile(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let Some(profile) = home.device_profiles.get_mut(&id) else {
        return not_found("Device profile", &id);
    };
    for field in ["components", "metadata", "preferences"] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            profile[field] = v.clone();
        }
    }
    ok(profile.clone())
}

async fn delete_profile(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim
        .home
        .lock()
        .expect("home")
        .device_profiles
        .shift_remove(&id)
    {
        Some(_) => ok(json!({})),
        None => not_found("Device profile", &id),
    }
}

async fn list_preferences(State(sim): State<Shared>, uri: Uri) -> Response {
    let query = query(&uri);
    let namespace = param(&query, "namespace").map(|ns| format!("{ns}."));
    let items = sim
        .home
        .lock()
        .expect("home")
        .preferences
        .iter()
        .filter(|(id, _)| namespace.as_deref().is_none_or(|ns| id.starts_with(ns)))
        .map(|(_, p)| p.clone())
        .collect();
    listing(&sim, &uri, items)
}

/// The fields a preference takes from a body, checked.
fn preference_fields(body: &Value) -> Result<Value, Refusal> {
    let title = required_str(body, "title")?;
    let kind = required_str(body, "preferenceType")?;
    let definition = required(body, "definition")?;
    let mut fields = json!({"title": title, "preferenceType": kind, "definition": definition});
    for field in ["description", "required"] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            fields[field] = v.clone();
        }
    }
    Ok(fields)
}

async fn create_preference(State(sim): State<Shared>, body: Bytes) -> Response {
    let fields = match json_body(&body).and_then(|b| preference_fields(&b).map(|f| (b, f))) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let (body, mut preference) = fields;
    let n = sim.new_id(10);
    let name = body["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map_or_else(|| format!("pref{}", &n[n.len() - 6..]), str::to_owned);
    let id = format!("{PREFERENCE_NAMESPACE}.{name}");
    let mut home = sim.home.lock().expect("home");
    if home.preferences.contains_key(&id) {
        return unprocessable(
            "DuplicateName",
            format!("a preference named {name:?} exists"),
            Some("name"),
        );
    }
    preference["preferenceId"] = json!(id);
    preference["name"] = json!(name);
    home.preferences.insert(id, preference.clone());
    ok(preference)
}

async fn get_preference(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").preferences.get(&id) {
        Some(p) => ok(p.clone()),
        None => not_found("Device preference", &id),
    }
}

async fn update_preference(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = match json_body(&body).and_then(|b| preference_fields(&b)) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let Some(preference) = home.preferences.get_mut(&id) else {
        return not_found("Device preference", &id);
    };
    // The id and name stay; the rest is replaced.
    let mut updated = fields;
    updated["preferenceId"] = preference["preferenceId"].clone();
    updated["name"] = preference["name"].clone();
    *preference = updated.clone();
    ok(updated)
}
