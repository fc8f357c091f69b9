//! The capability catalogue: `listCapabilities`, the definitions of the
//! capabilities the home's devices use (`getCapability`), and their
//! namespaces. A definition's attributes are those the home's devices
//! report for the capability, each with a JSON schema of its state (the
//! value's type, its values where they are a fixed set, its unit); its
//! commands are those the simulator executes.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::Shared;
use super::operations::Api;
use super::paging::listing;
use super::respond::{not_found, ok};
use crate::home::Home;

/// The namespace of the standard capabilities (ids without a prefix).
pub(crate) const STANDARD_NAMESPACE: &str = "smartthings";

pub(super) fn routes(api: Api) -> Api {
    // `/capabilities/namespaces/{namespace}` is fixed in its second
    // segment: it wins over `/capabilities/{id}/{version}`.
    api.get("/capabilities", "listCapabilities", list_capabilities)
        .get(
            "/capabilities/namespaces",
            "listCapabilityNamespaces",
            list_namespaces,
        )
        .get(
            "/capabilities/namespaces/{namespace}",
            "listNamespacedCapabilities",
            list_namespaced,
        )
        .get(
            "/capabilities/{capability_id}/{capability_version}",
            "getCapability",
            get_capability,
        )
}

async fn list_capabilities(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim.home.lock().expect("home").capabilities.clone();
    listing(&sim, &uri, items)
}

fn namespace_of(id: &str) -> &str {
    id.split_once('.').map_or(STANDARD_NAMESPACE, |(ns, _)| ns)
}

async fn list_namespaces(State(sim): State<Shared>) -> Response {
    let home = sim.home.lock().expect("home");
    let mut names: Vec<&str> = home
        .capabilities
        .iter()
        .filter_map(|c| c["id"].as_str())
        .map(namespace_of)
        .collect();
    names.sort_unstable();
    names.dedup();
    let items: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let owner = if name == STANDARD_NAMESPACE {
                ("SYSTEM", "SmartThings")
            } else {
                ("ORGANIZATION", name)
            };
            json!({"name": name, "ownerType": owner.0, "ownerId": owner.1})
        })
        .collect();
    ok(Value::Array(items))
}

async fn list_namespaced(
    State(sim): State<Shared>,
    Path(namespace): Path<String>,
    uri: Uri,
) -> Response {
    let items: Vec<Value> = sim
        .home
        .lock()
        .expect("home")
        .capabilities
        .iter()
        .filter(|c| {
            c["id"]
                .as_str()
                .is_some_and(|id| namespace_of(id) == namespace)
        })
        .cloned()
        .collect();
    if items.is_empty() {
        return not_found("Namespace", &namespace);
    }
    listing(&sim, &uri, items)
}

/// The values an enumerated attribute takes.
fn values_of(capability: &str, attribute: &str) -> Option<&'static [&'static str]> {
    Some(match (capability, attribute) {
        ("switch", "switch") => &["on", "off"],
        ("motionSensor", "motion") => &["active", "inactive"],
        ("contactSensor", "contact") => &["open", "closed"],
        ("lock", "lock") => &["locked", "unlocked", "unknown", "unlocked with timeout"],
        ("presenceSensor", "presence") => &["present", "not present"],
        ("thermostatMode", "thermostatMode") => &[
            "auto",
            "cool",
            "heat",
            "off",
            "emergency heat",
            "eco",
            "fanonly",
        ],
        _ => return None,
    })
}

/// The commands the simulator executes: (capability, command, arguments
/// as (name, JSON schema)).
fn commands_of(capability: &str) -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
    let number = |min: i64, max: i64| json!({"type": "number", "minimum": min, "maximum": max});
    match capability {
        "switch" => vec![("on", vec![]), ("off", vec![])],
        "switchLevel" => vec![("setLevel", vec![("level", number(0, 100))])],
        "colorControl" => vec![
            (
                "setColor",
                vec![(
                    "color",
                    json!({"type": "object", "properties": {"hue": number(0, 100), "saturation": number(0, 100)}}),
                )],
            ),
            ("setHue", vec![("hue", number(0, 100))]),
            ("setSaturation", vec![("saturation", number(0, 100))]),
        ],
        "colorTemperature" => vec![(
            "setColorTemperature",
            vec![("temperature", number(1, 30000))],
        )],
        "lock" => vec![("lock", vec![]), ("unlock", vec![])],
        "thermostatHeatingSetpoint" => {
            vec![("setHeatingSetpoint", vec![("setpoint", number(-50, 212))])]
        }
        "thermostatCoolingSetpoint" => {
            vec![("setCoolingSetpoint", vec![("setpoint", number(-50, 212))])]
        }
        "thermostatMode" => vec![
            (
                "setThermostatMode",
                vec![("mode", json!({"type": "string"}))],
            ),
            ("auto", vec![]),
            ("cool", vec![]),
            ("heat", vec![]),
            ("off", vec![]),
        ],
        "audioVolume" => vec![("setVolume", vec![("volume", number(0, 100))])],
        "refresh" => vec![("refresh", vec![])],
        _ => vec![],
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) | Value::Null => "string",
    }
}

/// The definition of a capability as the home uses it.
fn definition(home: &Home, id: &str, version: u64) -> Value {
    let mut attributes = Map::new();
    for device in home.devices.values() {
        for component in device.status["components"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
        {
            for (name, state) in component[id].as_object().into_iter().flatten() {
                if attributes.contains_key(name) {
                    continue;
                }
                let mut value = json!({"type": json_type(&state["value"])});
                if let Some(values) = values_of(id, name) {
                    value["enum"] = json!(values);
                }
                let mut properties = json!({"value": value});
                if let Some(unit) = state["unit"].as_str() {
                    properties["unit"] = json!({"type": "string", "enum": [unit], "default": unit});
                }
                if state.get("data").is_some() {
                    properties["data"] = json!({"type": "object", "additionalProperties": true});
                }
                let mut attribute = json!({"schema": {
                    "type": "object",
                    "properties": properties,
                    "additionalProperties": false,
                    "required": ["value"],
                }});
                if let Some(values) = values_of(id, name)
                    && commands_of(id).iter().any(|(c, _)| values.contains(c))
                {
                    attribute["enumCommands"] = Value::Array(
                        values
                            .iter()
                            .filter(|v| commands_of(id).iter().any(|(c, _)| c == *v))
                            .map(|v| json!({"command": v, "value": v}))
                            .collect(),
                    );
                }
                attributes.insert(name.clone(), attribute);
            }
        }
    }
    let commands: Map<String, Value> = commands_of(id)
        .into_iter()
        .map(|(name, args)| {
            let arguments: Vec<Value> = args
                .into_iter()
                .map(|(arg, schema)| json!({"name": arg, "optional": false, "schema": schema}))
                .collect();
            (
                name.to_owned(),
                json!({"name": name, "arguments": arguments}),
            )
        })
        .collect();
    // A readable name: `switchLevel` → `Switch Level`.
    let base = id.rsplit('.').next().unwrap_or(id);
    let mut name = String::new();
    for (i, c) in base.chars().enumerate() {
        if i == 0 {
            name.extend(c.to_uppercase());
        } else {
            if c.is_uppercase() {
                name.push(' ');
            }
            name.push(c);
        }
    }
    json!({
        "id": id,
        "version": version,
        "status": "live",
        "name": name,
        "attributes": attributes,
        "commands": commands,
    })
}

async fn get_capability(
    State(sim): State<Shared>,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    let home = sim.home.lock().expect("home");
    let known = version.parse::<u64>().ok().filter(|v| {
        home.capabilities
            .iter()
            .any(|c| c["id"] == id.as_str() && c["version"] == *v)
    });
    // A capability created through the API is defined as it was given.
    if let Some(custom) = home.custom_capabilities.get(&format!("{id}/{version}")) {
        return ok(custom.clone());
    }
    match known {
        Some(v) => ok(definition(&home, &id, v)),
        None => not_found("Capability", &format!("{id}/{version}")),
    }
}
