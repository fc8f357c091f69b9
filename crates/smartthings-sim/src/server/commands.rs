//! Device commands: what each command changes, validation, and
//! `executeDeviceCommands`. Scenes execute their actions through here too.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::operations::Api;
use super::pipeline::Seq;
use super::respond::{Refusal, not_found, ok, request_id, unprocessable};
use super::{ExecutedCommand, Shared, Sim};
use crate::home::{Home, capabilities_of};
use crate::stream::Attribute;

pub(super) fn routes(api: Api) -> Api {
    api.post(
        "/devices/{device_id}/commands",
        "executeDeviceCommands",
        execute_commands,
    )
}

/// The attribute changes of one command: (attribute, value, unit).
type Effect = (&'static str, Value, Option<&'static str>);

/// One command as executed: component, capability, command, arguments,
/// and the id its result and its events carry.
type Executed = (String, String, String, Vec<Value>, String);

pub(super) fn now() -> String {
    crate::home::timestamp(chrono::Utc::now())
}

fn number_in(args: &[Value], index: usize, min: f64, max: f64) -> Result<f64, String> {
    let value = args
        .get(index)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("argument {index} must be a number"))?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "argument {index} must be within {min}..={max}, got {value}"
        ))
    }
}

/// Attribute changes a command makes, or why it is refused.
fn command_effects(capability: &str, command: &str, args: &[Value]) -> Result<Vec<Effect>, String> {
    Ok(match (capability, command) {
        ("switch", "on") => vec![("switch", json!("on"), None)],
        ("switch", "off") => vec![("switch", json!("off"), None)],
        ("switchLevel", "setLevel") => {
            let level = number_in(args, 0, 0.0, 100.0)?;
            vec![("level", json!(level as i64), Some("%"))]
        }
        ("colorControl", "setColor") => {
            let color = args
                .first()
                .ok_or("setColor takes a {hue, saturation} map")?;
            let hue = color["hue"]
                .as_f64()
                .filter(|h| (0.0..=100.0).contains(h))
                .ok_or("hue must be within 0..=100")?;
            let saturation = color["saturation"]
                .as_f64()
                .filter(|s| (0.0..=100.0).contains(s))
                .ok_or("saturation must be within 0..=100")?;
            vec![
                ("hue", json!(hue), None),
                ("saturation", json!(saturation), None),
            ]
        }
        ("colorControl", "setHue") => vec![("hue", json!(number_in(args, 0, 0.0, 100.0)?), None)],
        ("colorControl", "setSaturation") => {
            vec![("saturation", json!(number_in(args, 0, 0.0, 100.0)?), None)]
        }
        ("colorTemperature", "setColorTemperature") => {
            let kelvin = number_in(args, 0, 1.0, 30000.0)?;
            vec![("colorTemperature", json!(kelvin as i64), Some("K"))]
        }
        ("lock", "lock") => vec![("lock", json!("locked"), None)],
        ("lock", "unlock") => vec![("lock", json!("unlocked"), None)],
        ("thermostatHeatingSetpoint", "setHeatingSetpoint") => {
            vec![(
                "heatingSetpoint",
                json!(number_in(args, 0, -50.0, 212.0)?),
                Some("F"),
            )]
        }
        ("thermostatCoolingSetpoint", "setCoolingSetpoint") => {
            vec![(
                "coolingSetpoint",
                json!(number_in(args, 0, -50.0, 212.0)?),
                Some("F"),
            )]
        }
        ("thermostatMode", "setThermostatMode") => {
            let mode = args
                .first()
                .and_then(Value::as_str)
                .ok_or("setThermostatMode takes a mode")?;
            if ![
                "auto",
                "cool",
                "heat",
                "off",
                "emergency heat",
                "eco",
                "fanonly",
            ]
            .contains(&mode)
            {
                return Err(format!("unsupported thermostat mode {mode:?}"));
            }
            vec![("thermostatMode", json!(mode), None)]
        }
        ("thermostatMode", mode @ ("auto" | "cool" | "heat" | "off")) => {
            vec![("thermostatMode", json!(mode), None)]
        }
        ("audioVolume", "setVolume") => vec![(
            "volume",
            json!(number_in(args, 0, 0.0, 100.0)? as i64),
            Some("%"),
        )],
        ("refresh", "refresh") => vec![],
        _ => return Err(format!("{capability} has no command {command:?}")),
    })
}

/// Validate every command, then apply them all: a request is executed
/// entirely or not at all. Each attribute it sets is a pending change of
/// the home, stamped with the one instant of the request.
pub(super) fn apply_commands(
    home: &mut Home,
    device_id: &str,
    commands: &[Value],
) -> Result<Vec<Executed>, Refusal> {
    let device = home
        .devices
        .get(device_id)
        .ok_or_else(|| not_found("Device", device_id))?;
    let mut planned = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        let component = command["component"].as_str().unwrap_or("main").to_owned();
        let capability = command["capability"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let name = command["command"].as_str().unwrap_or_default().to_owned();
        let args = command["arguments"].as_array().cloned().unwrap_or_default();
        let target = format!("commands[{i}]");
        let Some(component_def) = device.component(&component) else {
            return Err(unprocessable(
                "UnknownComponent",
                format!("component {component:?} not found"),
                Some(&target),
            )
            .into());
        };
        if !capabilities_of(component_def).any(|c| c == capability) {
            return Err(unprocessable(
                "UnknownCapability",
                format!("capability {capability:?} not found on {component}"),
                Some(&target),
            )
            .into());
        }
        let effects = command_effects(&capability, &name, &args).map_err(|message| {
            Refusal::from(unprocessable("InvalidCommand", message, Some(&target)))
        })?;
        planned.push((component, capability, name, args, effects));
    }
    let at = chrono::Utc::now();
    let mut executed = Vec::new();
    for (component, capability, name, args, effects) in planned {
        let id = request_id();
        for (attribute, value, unit) in effects {
            let change = Attribute {
                component: component.clone(),
                capability: capability.clone(),
                attribute: attribute.to_owned(),
                value,
                unit: unit.map(str::to_owned),
                command_id: Some(id.clone()),
            };
            home.set_attribute(device_id, change, at);
        }
        executed.push((component, capability, name, args, id));
    }
    Ok(executed)
}

pub(super) fn log_commands(sim: &Sim, seq: u64, device_id: &str, executed: Vec<Executed>) {
    let mut log = sim.commands.lock().expect("commands");
    for (component, capability, command, arguments, _) in executed {
        log.push(ExecutedCommand {
            seq,
            device_id: device_id.to_owned(),
            component,
            capability,
            command,
            arguments,
        });
    }
}

async fn execute_commands(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Seq(seq)): axum::Extension<Seq>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("InvalidBody", "the body is not JSON".into(), None);
    };
    let Some(commands) = body["commands"].as_array().filter(|c| !c.is_empty()) else {
        return unprocessable(
            "InvalidBody",
            "commands must be a non-empty list".into(),
            Some("commands"),
        );
    };
    let executed = match sim.change(|home| apply_commands(home, &id, commands)) {
        Ok(executed) => executed,
        Err(refusal) => return refusal.into_response(),
    };
    let results: Vec<Value> = executed
        .iter()
        .map(|(.., command_id)| json!({"id": command_id, "status": "ACCEPTED"}))
        .collect();
    log_commands(&sim, seq, &id, executed);
    ok(json!({"results": results}))
}
