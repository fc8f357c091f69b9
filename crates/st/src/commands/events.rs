//! `st events`: the home's events as they happen, reconnecting by itself;
//! Ctrl-C deletes the sink before exiting.

use std::collections::HashMap;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use smartthings_ext::{DeviceQuery, Disconnect, Event, EventSubscription, SmartThings};

use super::interrupted;
use crate::cli::{EventsArgs, Format};
use crate::output::{cell, line};

pub(super) async fn run(c: &SmartThings, format: Format, args: &EventsArgs) -> Result<()> {
    // Listening from now on: a Ctrl-C while connecting is not lost.
    let mut interrupt = interrupted();
    let subscription = match (&args.location, args.device.is_empty()) {
        (_, false) => EventSubscription::devices(args.device.iter().cloned()),
        (Some(location), true) => EventSubscription::location(location),
        (None, true) => EventSubscription::all_locations(),
    };
    // Labels for the lines a person reads; one listing, not one per event.
    let mut labels = if format == Format::Table {
        labels(c).await
    } else {
        HashMap::new()
    };
    let mut events = c.events(subscription);
    let mut shown: u64 = 0;
    let outcome = loop {
        let item = tokio::select! {
            () = &mut interrupt => break Ok(()),
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
        if let Event::Lifecycle(e) = &event
            && let (Some(id), Some(name)) = (&e.device_id, &e.device_name)
        {
            labels.entry(id.clone()).or_insert_with(|| name.clone());
        }
        let Some(record) = record(&event) else {
            if let Event::Connected {
                previous: Some(reason),
            } = &event
            {
                eprintln!(
                    "note: reconnected after {}; events in between may be missing",
                    why(reason)
                );
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
            Format::Json => line(&record),
            // A YAML stream: one document per event.
            Format::Yaml => serde_yaml::to_string(&record)
                .map_err(anyhow::Error::from)
                .and_then(|yaml| line(format_args!("---\n{}", yaml.trim_end()))),
        };
        if let Err(error) = written {
            break Err(error);
        }
        shown += 1;
        if args.count.is_some_and(|n| shown >= n) {
            break Ok(());
        }
    };
    // The sink goes before we do, whatever ended the loop; a second Ctrl-C
    // does not wait for it.
    tokio::select! {
        () = events.close() => {}
        () = interrupted() => eprintln!("note: interrupted again: the event sink is left to expire"),
    }
    outcome
}

/// Device id → label, from one listing; without it (no `r:devices` scope, a
/// failure) the lines show ids.
async fn labels(c: &SmartThings) -> HashMap<String, String> {
    let listed = c
        .devices(DeviceQuery::all())
        .try_filter_map(|d| async move {
            Ok(d.device_id.clone().map(|id| {
                let label = d.label.clone().or(d.name.clone()).unwrap_or_default();
                (id, label)
            }))
        })
        .try_collect()
        .await;
    listed.unwrap_or_else(|error| {
        eprintln!("note: cannot list the devices ({error}); showing device ids");
        HashMap::new()
    })
}

/// Why a stream connection ended, in words.
fn why(reason: &Disconnect) -> String {
    match reason {
        Disconnect::Stalled => {
            "the stream stalled (nothing received for the read-idle time)".into()
        }
        Disconnect::Goodbye => "the server's goodbye".into(),
        Disconnect::Closed => "the server closed the stream".into(),
        Disconnect::Failed(error) => format!("a connection failure ({error})"),
        Disconnect::SinkGone => "the sink expired or was deleted".into(),
        other => format!("{other:?}"),
    }
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

/// `12:04:05.120  Kitchen Light                 main/switch/switch = on`.
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
                match &record["value"] {
                    Value::String(s) if s.is_empty() => "\"\"".to_owned(),
                    value => cell(value),
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_event_reads_as_one_aligned_line() {
        let record = json!({
            "type": "DEVICE_EVENT", "time": null, "deviceId": "d1", "component": "main",
            "capability": "switchLevel", "attribute": "level", "value": 40, "unit": "%",
        });
        let labels = HashMap::from([("d1".to_owned(), "Kitchen".to_owned())]);
        let text = human(&record, &labels);
        assert_eq!(
            text,
            format!(
                "--:--:--.---  {:<28}  main/switchLevel/level = 40 %",
                "Kitchen"
            )
        );
        let health = json!({"type": "DEVICE_HEALTH_EVENT", "deviceId": "d2", "status": "OFFLINE"});
        assert!(human(&health, &labels).ends_with("d2                            health OFFLINE"));
    }
}
