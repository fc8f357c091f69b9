//! State changes the event stream publishes. Each one changes the home and
//! records itself in `Home::pending` in the same step, so that what is
//! published cannot disagree with what is served; the simulator publishes
//! the pending changes before it lets go of the home.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Home, SimDevice};
use crate::stream::{Attribute, ChangeKind, Lifecycle, StateChange};

/// The API's form of an instant: ISO 8601, UTC, milliseconds.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn record(pending: &mut Vec<StateChange>, device: &SimDevice, kind: ChangeKind, at: DateTime<Utc>) {
    pending.push(StateChange {
        device_id: device.id().to_owned(),
        location_id: device.location_id().to_owned(),
        kind,
        time_ms: at.timestamp_millis(),
    });
}

/// The device's label, or its name when it has none.
pub(crate) fn label(device: &SimDevice) -> String {
    let name = &device.device["label"];
    let name = if name.is_string() {
        name
    } else {
        &device.device["name"]
    };
    name.as_str().unwrap_or_default().to_owned()
}

impl Home {
    /// Set an attribute's value and timestamp (its other fields stay); the
    /// unit is the given one, else the attribute's own. `false` for an
    /// unknown device.
    pub(crate) fn set_attribute(
        &mut self,
        device_id: &str,
        mut change: Attribute,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(device) = self.devices.get_mut(device_id) else {
            return false;
        };
        let state = &mut device.status["components"][&change.component][&change.capability]
            [&change.attribute];
        if !state.is_object() {
            *state = json!({});
        }
        if change.unit.is_none() {
            change.unit = state["unit"].as_str().map(str::to_owned);
        }
        state["value"] = change.value.clone();
        state["timestamp"] = json!(timestamp(at));
        if let Some(unit) = &change.unit {
            state["unit"] = json!(unit);
        }
        record(&mut self.pending, device, ChangeKind::Attribute(change), at);
        true
    }

    /// The device reports its health; `false` for an unknown device.
    pub(crate) fn set_health(&mut self, device_id: &str, online: bool, at: DateTime<Utc>) -> bool {
        let Some(device) = self.devices.get_mut(device_id) else {
            return false;
        };
        let state = if online { "ONLINE" } else { "OFFLINE" };
        device.health["state"] = json!(state);
        device.health["lastUpdatedDate"] = json!(timestamp(at));
        record(&mut self.pending, device, ChangeKind::Health { state }, at);
        true
    }

    /// Add a device (`CREATE`), or replace one with the same id (`UPDATE`).
    pub(crate) fn insert_device(&mut self, device: SimDevice, at: DateTime<Utc>) {
        let what = if self.devices.contains_key(device.id()) {
            Lifecycle::Update
        } else {
            Lifecycle::Create
        };
        let kind = ChangeKind::Lifecycle {
            name: label(&device),
            what,
        };
        record(&mut self.pending, &device, kind, at);
        self.devices.insert(device.id().to_owned(), device);
    }

    /// Remove a device (`DELETE`).
    pub(crate) fn remove_device(
        &mut self,
        device_id: &str,
        at: DateTime<Utc>,
    ) -> Option<SimDevice> {
        let device = self.devices.shift_remove(device_id)?;
        for hub in self.hubs.values_mut() {
            hub.children.shift_remove(device_id);
        }
        let kind = ChangeKind::Lifecycle {
            name: label(&device),
            what: Lifecycle::Delete,
        };
        record(&mut self.pending, &device, kind, at);
        Some(device)
    }

    /// Give a device a new label (`UPDATE`); `false` for an unknown
    /// device.
    pub(crate) fn rename_device(&mut self, device_id: &str, new: &str, at: DateTime<Utc>) -> bool {
        let Some(device) = self.devices.get_mut(device_id) else {
            return false;
        };
        device.device["label"] = json!(new);
        let kind = ChangeKind::Lifecycle {
            name: label(device),
            what: Lifecycle::Update,
        };
        record(&mut self.pending, device, kind, at);
        true
    }

    /// A hub's child device runs on another driver from now on: its
    /// `zigbee` details say so (`UPDATE`). `false` for a device that is not
    /// a child of the hub.
    pub(crate) fn switch_driver(
        &mut self,
        hub_id: &str,
        device_id: &str,
        driver_id: &str,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(current) = self
            .hubs
            .get_mut(hub_id)
            .and_then(|h| h.children.get_mut(device_id))
        else {
            return false;
        };
        *current = driver_id.to_owned();
        let Some(device) = self.devices.get_mut(device_id) else {
            return false;
        };
        let details = &mut device.device["zigbee"];
        if !details.is_object() {
            *details = json!({});
        }
        details["driverId"] = json!(driver_id);
        details["hubId"] = json!(hub_id);
        details["executingLocally"] = json!(true);
        details["provisioningState"] = json!("PROVISIONED");
        let kind = ChangeKind::Lifecycle {
            name: label(device),
            what: Lifecycle::Update,
        };
        record(&mut self.pending, device, kind, at);
        true
    }

    /// Move a device to a room, or out of every room (`ROOM_MOVE`); `false`
    /// for an unknown device.
    pub(crate) fn move_device(
        &mut self,
        device_id: &str,
        room_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> bool {
        let Some(device) = self.devices.get_mut(device_id) else {
            return false;
        };
        let from = device.device["roomId"].as_str().map(str::to_owned);
        let to = room_id.map(str::to_owned);
        device.device["roomId"] = to.clone().map_or(Value::Null, Value::String);
        let kind = ChangeKind::Lifecycle {
            name: label(device),
            what: Lifecycle::RoomMove { from, to },
        };
        record(&mut self.pending, device, kind, at);
        true
    }
}
