//! The events of SmartThings' event stream, decoded leniently: every field
//! optional, unknown fields kept, unknown event types passed through.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smartthings::ExtraFields;

/// One item of an [`EventStream`](crate::EventStream).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An attribute of a device changed (`DEVICE_EVENT`).
    Device(DeviceEvent),
    /// A device was created, updated, deleted or moved (`DEVICE_LIFECYCLE_EVENT`).
    Lifecycle(LifecycleEvent),
    /// A device went online or offline (`DEVICE_HEALTH_EVENT`).
    Health(HealthEvent),
    /// The server's own messages: `welcome` about every minute, `goodbye`
    /// before it closes.
    Control(Control),
    /// A stream connection is open. After the first (`previous` is `None`),
    /// events may have been missed since the previous connection ended: a
    /// [`LiveHome`](crate::LiveHome) re-reads the home here.
    Connected {
        /// Why the previous connection ended, if there was one.
        previous: Option<Disconnect>,
    },
    /// An event type this crate does not know, as sent.
    Unknown {
        /// The SSE event name (or the payload's `eventType`).
        event_type: String,
        /// The payload.
        data: Value,
    },
}

/// Why a stream connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// No byte arrived for the read-idle time: a stalled (half-open) connection.
    Stalled,
    /// The server said `goodbye`.
    Goodbye,
    /// The server closed the stream.
    Closed,
    /// The connection failed.
    Failed(String),
    /// The sink was gone (404) or expired.
    SinkGone,
}

/// `CONTROL_EVENT` data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// The periodic keepalive.
    Welcome,
    /// The server is about to close the stream (also seen spelled `goobye`).
    Goodbye,
    /// Anything else, as sent.
    Other(String),
}

/// `deviceEvent`: one attribute's new value.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceEvent {
    /// When it happened, epoch milliseconds (from the envelope).
    #[serde(skip)]
    pub event_time: Option<i64>,
    /// The event's id.
    pub event_id: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The owner (a location id).
    pub owner_id: Option<String>,
    /// `LOCATION`, ….
    pub owner_type: Option<String>,
    /// The device.
    pub device_id: Option<String>,
    /// The component (`main`, …).
    pub component_id: Option<String>,
    /// The capability.
    pub capability: Option<String>,
    /// The attribute.
    pub attribute: Option<String>,
    /// The new value (`null` when sent as such).
    pub value: Value,
    /// How the value is typed (`string`, `number`, …).
    pub value_type: Option<String>,
    /// The unit, if the attribute has one.
    pub unit: Option<String>,
    /// Whether the value differs from the previous one.
    pub state_change: Option<bool>,
    /// Extra data of the attribute.
    pub data: Option<Value>,
    /// The sink's name.
    pub subscription_name: Option<String>,
    /// The command that caused it, if any.
    pub command_id: Option<String>,
    /// Whether the value is sensitive.
    pub sensitive: Option<bool>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub other: ExtraFields,
}

/// `deviceLifecycleEvent`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LifecycleEvent {
    /// When it happened, epoch milliseconds (from the envelope).
    #[serde(skip)]
    pub event_time: Option<i64>,
    /// `CREATE`, `UPDATE`, `DELETE`, `ROOM_MOVE`, or what the server said.
    pub lifecycle: Option<String>,
    /// The event's id.
    pub event_id: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The owner (a location id).
    pub owner_id: Option<String>,
    /// `LOCATION`, ….
    pub owner_type: Option<String>,
    /// The device.
    pub device_id: Option<String>,
    /// The device's name.
    pub device_name: Option<String>,
    /// Who made the change.
    pub principal: Option<String>,
    /// For `CREATE`: presentationId, manufacturerName, categories, ….
    pub create: Option<Value>,
    /// For `ROOM_MOVE`: roomIdFrom, roomIdTo.
    pub room_move: Option<Value>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub other: ExtraFields,
}

/// `deviceHealthEvent`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthEvent {
    /// When it happened, epoch milliseconds (from the envelope).
    #[serde(skip)]
    pub event_time: Option<i64>,
    /// The event's id.
    pub event_id: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The owner (a location id).
    pub owner_id: Option<String>,
    /// `LOCATION`, ….
    pub owner_type: Option<String>,
    /// The device.
    pub device_id: Option<String>,
    /// The hub.
    pub hub_id: Option<String>,
    /// `ONLINE`, `OFFLINE`, or what the server said.
    pub status: Option<String>,
    /// Why the status changed.
    pub reason: Option<String>,
    /// What reported it.
    pub event_source: Option<String>,
    /// Fields this crate does not know.
    #[serde(flatten)]
    pub other: ExtraFields,
}

/// Decode one SSE event. `Err` carries the payload for an event of a known
/// type whose payload did not decode; the stream goes on after it.
pub(crate) fn decode(name: &str, data: &str) -> Result<Event, (Value, String)> {
    if name == "CONTROL_EVENT" || data.trim() == "welcome" || data.trim() == "goodbye" {
        return Ok(Event::Control(match data.trim().trim_matches('"') {
            "welcome" => Control::Welcome,
            "goodbye" | "goobye" => Control::Goodbye,
            other => Control::Other(other.to_owned()),
        }));
    }
    let payload: Value =
        serde_json::from_str(data).map_err(|e| (Value::String(data.to_owned()), e.to_string()))?;
    let kind = payload
        .get("eventType")
        .and_then(Value::as_str)
        .filter(|_| name.is_empty() || name == "message")
        .unwrap_or(name)
        .to_owned();
    let time = payload.get("eventTime").and_then(Value::as_i64);
    fn body<T: serde::de::DeserializeOwned>(
        payload: &Value,
        key: &str,
    ) -> Result<T, (Value, String)> {
        let inner = payload
            .get(key)
            .ok_or_else(|| (payload.clone(), format!("no {key} in the payload")))?;
        serde_json::from_value(inner.clone()).map_err(|e| (payload.clone(), e.to_string()))
    }
    Ok(match kind.as_str() {
        "DEVICE_EVENT" => {
            let mut event: DeviceEvent = body(&payload, "deviceEvent")?;
            event.event_time = time;
            Event::Device(event)
        }
        "DEVICE_LIFECYCLE_EVENT" => {
            let mut event: LifecycleEvent = body(&payload, "deviceLifecycleEvent")?;
            event.event_time = time;
            Event::Lifecycle(event)
        }
        "DEVICE_HEALTH_EVENT" => {
            let mut event: HealthEvent = body(&payload, "deviceHealthEvent")?;
            event.event_time = time;
            Event::Health(event)
        }
        _ => Event::Unknown {
            event_type: kind,
            data: payload,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_event_type_decodes_and_unknown_ones_pass_through() {
        let device = json!({"eventTime": 1_700_000_000_123_i64, "eventType": "DEVICE_EVENT",
            "deviceEvent": {"eventId": "e1", "locationId": "l", "ownerId": "l", "ownerType": "LOCATION",
                "deviceId": "d1", "componentId": "main", "capability": "switch", "attribute": "switch",
                "value": "on", "valueType": "string", "stateChange": true, "data": {},
                "subscriptionName": "s", "commandId": null, "sensitive": false, "brandNew": 7}});
        let Ok(Event::Device(event)) = decode("DEVICE_EVENT", &device.to_string()) else {
            panic!("not a device event");
        };
        assert_eq!(event.event_time, Some(1_700_000_000_123));
        assert_eq!(event.device_id.as_deref(), Some("d1"));
        assert_eq!(event.value, json!("on"));
        assert_eq!(event.other["brandNew"], 7, "unknown fields are kept");

        let lifecycle = json!({"eventTime": 1, "eventType": "DEVICE_LIFECYCLE_EVENT",
            "deviceLifecycleEvent": {"lifecycle": "ROOM_MOVE", "deviceId": "d2", "deviceName": "Lamp",
                "principal": "user", "roomMove": {"roomIdFrom": "r1", "roomIdTo": "r2"}}});
        let Ok(Event::Lifecycle(event)) = decode("DEVICE_LIFECYCLE_EVENT", &lifecycle.to_string())
        else {
            panic!("not a lifecycle event");
        };
        assert_eq!(event.lifecycle.as_deref(), Some("ROOM_MOVE"));
        assert_eq!(event.room_move.unwrap()["roomIdTo"], "r2");

        let health = json!({"eventTime": 2, "eventType": "DEVICE_HEALTH_EVENT",
            "deviceHealthEvent": {"deviceId": "d3", "hubId": "h", "status": "OFFLINE",
                "reason": "NONE", "eventSource": "HUB"}});
        let Ok(Event::Health(event)) = decode("DEVICE_HEALTH_EVENT", &health.to_string()) else {
            panic!("not a health event");
        };
        assert_eq!(event.status.as_deref(), Some("OFFLINE"));

        assert_eq!(
            decode("CONTROL_EVENT", "welcome"),
            Ok(Event::Control(Control::Welcome))
        );
        assert_eq!(
            decode("CONTROL_EVENT", "goobye"),
            Ok(Event::Control(Control::Goodbye))
        );
        assert_eq!(
            decode("CONTROL_EVENT", "rebalance"),
            Ok(Event::Control(Control::Other("rebalance".into())))
        );

        let future =
            json!({"eventTime": 3, "eventType": "MODE_EVENT", "modeEvent": {"modeId": "m"}});
        let Ok(Event::Unknown { event_type, data }) = decode("MODE_EVENT", &future.to_string())
        else {
            panic!("not passed through");
        };
        assert_eq!(event_type, "MODE_EVENT");
        assert_eq!(data["modeEvent"]["modeId"], "m");
        // The SSE name missing: the payload's eventType decides.
        assert!(matches!(
            decode("", &device.to_string()),
            Ok(Event::Device(_))
        ));
    }

    #[test]
    fn a_bad_payload_is_an_error_with_the_payload_not_a_panic() {
        let (raw, why) = decode("DEVICE_EVENT", "{not json").unwrap_err();
        assert_eq!(raw, Value::String("{not json".into()));
        assert!(!why.is_empty());
        let (raw, _) = decode("DEVICE_EVENT", r#"{"eventType":"DEVICE_EVENT"}"#).unwrap_err();
        assert_eq!(raw["eventType"], "DEVICE_EVENT");
        let (_, why) =
            decode("DEVICE_EVENT", r#"{"deviceEvent":{"stateChange":"yes"}}"#).unwrap_err();
        assert!(why.contains("bool"), "{why}");
    }
}
