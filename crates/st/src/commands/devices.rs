//! `st devices`: list, get, status, health, and commands.

use anyhow::Result;
use comfy_table::Table;
use serde_json::{Value, json};
use smartthings_ext::{
    Command as DeviceCommand, DeviceQuery, DeviceStatus, SmartThings, collect_all,
};

use smartthings_ext::types::UpdateDeviceRequest;

use super::{history, to_json};
use crate::cli::{DeviceAction, DevicesArgs, Format};
use crate::output::{cell, emit, table};

/// The columns of [`device_row`].
const DEVICE_COLUMNS: [&str; 6] = [
    "Device",
    "Label",
    "Type",
    "Location",
    "Capabilities",
    "Health",
];

fn device_row(device: &smartthings_ext::types::Device) -> Vec<String> {
    let capabilities: usize = device
        .components
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|c| c.capabilities.as_ref().map_or(0, Vec::len))
        .sum();
    vec![
        device.device_id.clone().unwrap_or_default(),
        device
            .label
            .clone()
            .or_else(|| device.name.clone())
            .unwrap_or_default(),
        device
            .type_
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        device.location_id.clone().unwrap_or_default(),
        capabilities.to_string(),
        device
            .health_state
            .as_ref()
            .and_then(|h| h.state.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default(),
    ]
}

/// Component → capability → attribute rows, with units.
fn status_table(status: &DeviceStatus) -> Table {
    let mut t = table(&[
        "Component",
        "Capability",
        "Attribute",
        "Value",
        "Unit",
        "Timestamp",
    ]);
    for (component, capability, name, attribute) in status.attributes() {
        t.add_row(vec![
            component.to_owned(),
            capability.to_owned(),
            name.to_owned(),
            attribute.value.as_ref().map(cell).unwrap_or_default(),
            attribute.unit.as_deref().unwrap_or_default().to_owned(),
            attribute
                .raw_timestamp
                .as_ref()
                .map(cell)
                .unwrap_or_default(),
        ]);
    }
    t
}

pub(super) async fn run(c: &SmartThings, format: Format, args: &DevicesArgs) -> Result<()> {
    let Some(action) = &args.action else {
        let mut query = DeviceQuery::all();
        for capability in &args.capability {
            query = query.capability(capability);
        }
        for device in &args.device {
            query = query.device(device);
        }
        if let Some(location) = &args.location {
            query = query.location(location);
        }
        if args.status {
            query = query.with_status_and_health();
        }
        let list = collect_all(c.devices(query)).await?;
        for odd in &list.invalid {
            eprintln!(
                "warning: a device did not decode ({}); kept out of the list",
                odd.error
            );
        }
        return emit(format, &to_json(&list.items), || {
            let mut t = table(&DEVICE_COLUMNS);
            for device in &list.items {
                t.add_row(device_row(device));
            }
            t
        });
    };
    let commands = match action {
        DeviceAction::Rename { device_id, label } => {
            let body = UpdateDeviceRequest {
                label: Some(label.clone()),
                ..Default::default()
            };
            return updated(c, format, device_id, body).await;
        }
        DeviceAction::Move { device_id, room } => {
            let body = UpdateDeviceRequest {
                room_id: Some(room.clone()),
                ..Default::default()
            };
            return updated(c, format, device_id, body).await;
        }
        DeviceAction::History {
            device_id,
            since,
            until,
            capability,
            attribute,
            limit,
        } => {
            let window = history::Window::parse(since.as_deref(), until.as_deref())?;
            let filter = history::Filter {
                capability: capability.clone(),
                attribute: attribute.clone(),
            };
            return history::show(c, format, device_id, window, &filter, *limit).await;
        }
        DeviceAction::Get { device_id } => {
            let device = c.get_device().device_id(device_id).send().await?;
            return emit(format, &to_json(&device), || {
                let mut t = table(&DEVICE_COLUMNS);
                t.add_row(device_row(&device));
                t
            });
        }
        DeviceAction::Status { device_id } => {
            let status = c.get_device_status().device_id(device_id).send().await?;
            return emit(format, &to_json(&status), || status_table(&status));
        }
        DeviceAction::Health { device_id } => {
            let health = c.get_device_health().device_id(device_id).send().await?;
            return emit(format, &to_json(&health), || {
                let mut t = table(&["Device", "State", "Last updated"]);
                t.add_row(vec![
                    device_id.clone(),
                    health
                        .state
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    health.last_updated_date.clone().unwrap_or_default(),
                ]);
                t
            });
        }
        DeviceAction::Command {
            device_id,
            component,
            capability,
            command,
            arguments,
        } => {
            let mut cmd = DeviceCommand::new(capability, command).on_component(component);
            for argument in arguments {
                cmd = cmd.arg(
                    serde_json::from_str::<Value>(argument).unwrap_or_else(|_| json!(argument)),
                );
            }
            (device_id, vec![cmd])
        }
        DeviceAction::On {
            device_id,
            component,
        } => (
            device_id,
            vec![DeviceCommand::switch_on().on_component(component)],
        ),
        DeviceAction::Off {
            device_id,
            component,
        } => (
            device_id,
            vec![DeviceCommand::switch_off().on_component(component)],
        ),
        DeviceAction::Level {
            device_id,
            level,
            component,
        } => (
            device_id,
            vec![DeviceCommand::set_level(*level)?.on_component(component)],
        ),
        DeviceAction::ColorTemperature { device_id, kelvin } => (
            device_id,
            vec![DeviceCommand::set_color_temperature(*kelvin)?],
        ),
        DeviceAction::Lock { device_id } => (device_id, vec![DeviceCommand::lock()]),
        DeviceAction::Unlock { device_id } => (device_id, vec![DeviceCommand::unlock()]),
    };
    let (device_id, commands) = commands;
    let results = c.execute(device_id, commands).await?;
    let value: Vec<Value> = results
        .iter()
        .map(|r| json!({"id": r.id, "status": format!("{:?}", r.status).to_uppercase()}))
        .collect();
    emit(format, &Value::Array(value.clone()), || {
        let mut t = table(&["Command", "Status"]);
        for r in &value {
            t.add_row(vec![cell(&r["id"]), cell(&r["status"])]);
        }
        t
    })
}

/// Send a device update, then show the device as the server now has it.
async fn updated(
    c: &SmartThings,
    format: Format,
    device_id: &str,
    body: UpdateDeviceRequest,
) -> Result<()> {
    let device = c
        .update_device()
        .device_id(device_id)
        .body(body)
        .send()
        .await?;
    emit(format, &to_json(&device), || {
        let mut t = table(&["Device", "Label", "Room", "Location"]);
        t.add_row(vec![
            device.device_id.clone().unwrap_or_default(),
            device.label.clone().unwrap_or_default(),
            device.room_id.clone().unwrap_or_default(),
            device.location_id.clone().unwrap_or_default(),
        ]);
        t
    })
}
