//! `st events`: the home's events as they happen, reconnecting by itself;
//! Ctrl-C deletes the sink before exiting.

use std::collections::HashMap;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use smartthings_ext::{DeviceQuery, Event, EventSubscription, SmartThings};

use crate::cli::{EventsArgs, Format};
use crate::output::line;

pub(super) async fn run(c: &SmartThings, format: Format, args: &EventsArgs) -> Result<()> {
    let subscription = match (&args.location, args.device.is_empty()) {
        (_, false) => EventSubscription::devices(args.device.iter().cloned()),
        (Some(location), true) => EventSubscription::location(location),
        (None, true) => EventSubscription::all_locations(),
    };
    // Labels for the lines a person reads; one listing, not one per event.
    let labels: HashMap<String, String> = if format == Format::Table {
        c.devices(DeviceQuery::all())
            .try_filter_map(|d| async move {
                Ok(d.device_id.clone().map(|id| {
                    let label = d.label.clone().or(d.name.clone()).unwrap_or_default();
                    (id, label)
                }))
            })
            .try_collect()
            .await?
    } else {
        HashMap::new()
    };
    let mut events = c.events(subscription);
    let mut shown: u64 = 0;
    let outcome = loop {
        let item = tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(()),
            item = events.next() => item,
        };
        let event = match item {
            None => break Ok(()),
            Some(Ok(event)) => event,
            Some(Err(error)) if error.invalid().is_some() => {
                eprintln!("note: skipped an event that did not decode: {error}");
                continue;
            }
            Some(Err(error)) => break Err(error.into()),
        };
        let Some(record) = record(&event) else {
            if let Event::Connected {
                previous: Some(reason),
            } = &event
            {
                eprintln!("note: reconnected after {reason:?}; events in between may be missing");
            }
            continue;
        };
        if !args.capability.is_empty()
            && !record["capability"]
                .as_str()
                .is_some_and(|c| args.capability.iter().any(|a| a == c))
        {
            continue;
        }
        let written = match format {
            Format::Table => line(human(&record, &labels)),
            Format::Json | Format::Yaml => line(record),
        };
        if let Err(error) = written {
            break Err(error);
        }
        shown += 1;
        if args.count.is_some_and(|n| shown >= n) {
            break Ok(());
        }
    };
    // The sink goes before we do, whatever ended the loop.
    events.close().await;
    outcome
}

/// One event as one flat JSON object; `None` for the stream's own messages.
fn record(event: &Event) -> Option<Value> {
    Some(match event {
        Event::Device(e) => json!({
            "type": "DEVICE_EVENT",
            "time": e.event_time,
            "deviceId": e.device_id,
            "component": e.component_id,
            "capability": e.capability,
            "attribute": e.attribute,
            "value": e.value,
            "unit": e.unit,
        }),
        Event::Health(e) => json!({
            "type": "DEVICE_HEALTH_EVENT",
            "time": e.event_time,
            "deviceId": e.device_id,
            "status": e.status,
            "reason": e.reason,
        }),
        Event::Lifecycle(e) => json!({
            "type": "DEVICE_LIFECYCLE_EVENT",
            "time": e.event_time,
            "deviceId": e.device_id,
            "lifecycle": e.lifecycle,
            "deviceName": e.device_name,
        }),
        Event::Unknown { event_type, data } => json!({"type": event_type, "data": data}),
        _ => return None,
    })
}

/// `12:04:05.120  Kitchen Light  main/switch/switch = "on"`.
fn human(record: &Value, labels: &HashMap<String, String>) -> String {
    let time = record["time"]
        .as_i64()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S%.3f")
                .to_string()
        })
        .unwrap_or_else(|| "--:--:--.---".into());
    let id = record["deviceId"].as_str().unwrap_or("?");
    let device = labels.get(id).map_or(id, String::as_str);
    let what = match record["type"].as_str() {
        Some("DEVICE_EVENT") => {
            let unit = record["unit"]
                .as_str()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            format!(
                "{}/{}/{} = {}{unit}",
                record["component"].as_str().unwrap_or("main"),
                record["capability"].as_str().unwrap_or("?"),
                record["attribute"].as_str().unwrap_or("?"),
                record["value"]
            )
        }
        Some("DEVICE_HEALTH_EVENT") => {
            format!("health {}", record["status"].as_str().unwrap_or("?"))
        }
        Some("DEVICE_LIFECYCLE_EVENT") => {
            format!("lifecycle {}", record["lifecycle"].as_str().unwrap_or("?"))
        }
        other => format!("{} {}", other.unwrap_or("?"), record["data"]),
    };
    format!("{time}  {device:<28}  {what}")
}
