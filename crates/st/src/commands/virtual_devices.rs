//! `st virtual-devices`: devices without hardware, for testing.

use anyhow::Result;
use serde_json::{Map, Value, json};
use smartthings_ext::types::{
    CreateDeviceEventsRequest, CreateStandardVirtualDeviceRequest, DeviceEvent, VirtualDeviceOwner,
    VirtualDeviceOwnerOwnerType,
};
use smartthings_ext::{SmartThings, collect_all};

use super::to_json;
use crate::cli::{Format, VirtualDeviceAction};
use crate::output::{cell, emit, table};

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location: Option<&str>,
    action: &VirtualDeviceAction,
) -> Result<()> {
    let devices = match action {
        VirtualDeviceAction::List => {
            let mut request = c.list_virtual_devices();
            if let Some(location) = location {
                request = request.location_id(location);
            }
            collect_all(request.items()).await?.items
        }
        VirtualDeviceAction::Create {
            location,
            prototype,
            name,
            room,
        } => {
            let body = CreateStandardVirtualDeviceRequest {
                name: name.clone(),
                prototype: prototype.clone(),
                owner: VirtualDeviceOwner {
                    owner_id: location.clone(),
                    owner_type: VirtualDeviceOwnerOwnerType::Location,
                },
                room_id: room.clone(),
                channel_id: None,
                driver_id: None,
                execution_target: None,
                hub_id: None,
            };
            let device = c.create_standard_virtual_device().body(body).send().await?;
            return emit(format, &to_json(&device), || {
                let mut t = table(&["Device", "Label", "Location", "Room"]);
                t.add_row(vec![
                    device.device_id.clone().unwrap_or_default(),
                    device
                        .label
                        .clone()
                        .or(device.name.clone())
                        .unwrap_or_default(),
                    device.location_id.clone().unwrap_or_default(),
                    device.room_id.clone().unwrap_or_default(),
                ]);
                t
            });
        }
        VirtualDeviceAction::Event {
            device_id,
            capability,
            attribute,
            value,
            unit,
            component,
        } => {
            let event = DeviceEvent {
                component: component.clone(),
                capability: capability.clone(),
                attribute: attribute.clone(),
                value: serde_json::from_str::<Value>(value).unwrap_or_else(|_| json!(value)),
                unit: unit.clone(),
                data: Map::new(),
            };
            let body = CreateDeviceEventsRequest {
                device_events: vec![event],
            };
            let answer = c
                .create_virtual_device_events()
                .device_id(device_id)
                .body(body)
                .send()
                .await?;
            let changed = answer.state_changes.unwrap_or_default();
            let result = json!({
                "deviceId": device_id,
                "attribute": format!("{component}/{capability}/{attribute}"),
                "value": serde_json::from_str::<Value>(value).unwrap_or_else(|_| json!(value)),
                "stateChange": changed.first().copied(),
            });
            return emit(format, &result, || {
                let mut t = table(&["Device", "Attribute", "Value", "State change"]);
                t.add_row(vec![
                    device_id.clone(),
                    cell(&result["attribute"]),
                    cell(&result["value"]),
                    cell(&result["stateChange"]),
                ]);
                t
            });
        }
    };
    emit(format, &to_json(&devices), || {
        let mut t = table(&["Device", "Label", "Location", "Room"]);
        for d in &devices {
            t.add_row(vec![
                d.device_id.clone().unwrap_or_default(),
                d.label.clone().or(d.name.clone()).unwrap_or_default(),
                d.location_id.clone().unwrap_or_default(),
                d.room_id.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}
