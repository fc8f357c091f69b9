//! The event stream's HTTP side: `POST /subscriptions` and `DELETE
//! /subscriptions/{id}` at the API root (not under `/v1`, as SmartThings has
//! them), and `GET /filters/{id}/activate` on the second listener, which
//! answers `text/event-stream` for as long as the sink and the connection
//! live.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::operations::Api;
use super::pipeline::Principal;
use super::respond::{api_error, ok, unprocessable};
use super::{Shared, Sim};
use std::sync::Arc;
use std::time::Duration;

use crate::home::{Home, SimDevice};
use crate::stream::{Activity, ChangeKind, Filter, Frame, Refused, Running, StateChange};

/// The kind of id `Sim::new_id` makes for a sink.
const SINK_ID_KIND: u16 = 0x55;

pub(super) fn sink_routes(api: Api) -> Api {
    api.post("/subscriptions", "createSink", create_sink)
        .delete("/subscriptions/{id}", "deleteSink", delete_sink)
}

pub(super) fn stream_routes(api: Api) -> Api {
    api.get("/filters/{id}/activate", "streamEvents", stream_events)
}

async fn create_sink(
    State(sim): State<Shared>,
    axum::Extension(Principal(principal)): axum::Extension<Principal>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("InvalidBody", "the body is not JSON".into(), None);
    };
    let Some(first) = body["subscriptionFilters"]
        .as_array()
        .and_then(|f| f.first())
    else {
        return unprocessable(
            "InvalidBody",
            "subscriptionFilters must hold one filter".into(),
            Some("subscriptionFilters"),
        );
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let filter = Filter {
        kind: first["type"].as_str().unwrap_or_default().to_owned(),
        values: strings(&first["value"]),
        event_types: strings(&first["eventType"]),
    };
    if ![
        "LOCATIONIDS",
        "DEVICEIDS",
        "SMARTAPPIDS",
        "INSTALLEDSMARTAPPIDS",
    ]
    .contains(&filter.kind.as_str())
        || filter.values.is_empty()
    {
        return unprocessable(
            "InvalidFilter",
            format!("unsupported filter type {:?} or no values", filter.kind),
            Some("subscriptionFilters[0]"),
        );
    }
    let id = sim.new_id(SINK_ID_KIND);
    let created = sim
        .sinks
        .lock()
        .expect("sinks")
        .create(id.clone(), &principal, filter.clone());
    if let Err(Refused::Limit(limit)) = created {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntityError",
            &format!("Unable to create SinkFilter, threshold limit of {limit} reached"),
            None,
        );
    }
    let origin = sim.stream_origin.lock().expect("stream origin").clone();
    ok(json!({
        "subscriptionId": id,
        "registrationUrl": format!("{origin}/filters/{id}/activate?filterRegion=sim-1"),
        "name": body["name"],
        "version": body["version"],
        "subscriptionFilters": [{
            "type": filter.kind,
            "value": filter.values,
            "eventType": filter.event_types,
            "capability": null,
            "component": null,
            "attribute": null,
        }],
    }))
}

async fn delete_sink(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Principal(principal)): axum::Extension<Principal>,
) -> Response {
    if sim.sinks.lock().expect("sinks").delete(&id, &principal) {
        ok(json!({}))
    } else {
        api_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            "No such subscription",
            Some(&id),
        )
    }
}

async fn stream_events(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Principal(principal)): axum::Extension<Principal>,
) -> Response {
    let connected = sim.sinks.lock().expect("sinks").connect(&id, &principal);
    let Some((connection, frames)) = connected else {
        return api_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            "No such sink, or it expired",
            Some(&id),
        );
    };
    let sinks = sim.sinks.clone();
    let period = sinks.lock().expect("sinks").welcome_period();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            if !sinks.lock().expect("sinks").welcome(connection) {
                return;
            }
        }
    });
    // Ends cleanly on Close; fails after Cut, so that the connection is
    // cut as a dropped network would.
    let body = futures::stream::unfold(Some(frames), |frames| async move {
        let mut frames = frames?;
        match frames.recv().await {
            Some(Frame::Data(bytes)) => Some((Ok(bytes), Some(frames))),
            Some(Frame::Cut) => {
                // What was sent before the cut reaches the client first, as
                // on a network that drops after the last segment.
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((Err(std::io::Error::other("stream cut by a fault")), None))
            }
            Some(Frame::Close) | None => None,
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

impl Sim {
    /// Publish the state changes `home` has collected, in order, while the
    /// caller still holds the home: the stream never contradicts the state.
    pub(crate) fn publish_changes(&self, home: &mut Home) {
        if home.pending.is_empty() {
            return;
        }
        let mut sinks = self.sinks.lock().expect("sinks");
        for change in home.pending.drain(..) {
            sinks.publish(&change);
        }
    }
}

/// Two-state attributes the activity flips between.
const TOGGLES: [(&str, &str); 6] = [
    ("on", "off"),
    ("active", "inactive"),
    ("open", "closed"),
    ("locked", "unlocked"),
    ("present", "not present"),
    ("wet", "dry"),
];

/// How often the activity wakes to make its changes.
const ACTIVITY_TICK: Duration = Duration::from_millis(10);

impl Sim {
    pub(crate) fn start_activity(self: &Arc<Self>, activity: Activity) {
        self.stop_activity();
        let stop = Arc::new(tokio::sync::Notify::new());
        *self.activity.lock().expect("activity") = Some(Running { stop: stop.clone() });
        let sim = self.clone();
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(activity.seed);
            let per_tick = activity.events_per_second * ACTIVITY_TICK.as_secs_f64();
            let mut owed = 0.0;
            let mut tick = tokio::time::interval(ACTIVITY_TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.notified() => return,
                    _ = tick.tick() => {}
                }
                owed += per_tick;
                let mut home = sim.home.lock().expect("home");
                while owed >= 1.0 {
                    owed -= 1.0;
                    random_change(&mut home, &mut rng, &activity);
                }
                sim.publish_changes(&mut home);
            }
        });
    }

    pub(crate) fn stop_activity(&self) {
        if let Some(running) = self.activity.lock().expect("activity").take() {
            running.stop.notify_one();
        }
    }

    pub(crate) fn add_device(&self, device: SimDevice) {
        let mut home = self.home.lock().expect("home");
        let change = StateChange {
            device_id: device.id().to_owned(),
            location_id: device.location_id().to_owned(),
            kind: ChangeKind::Lifecycle {
                lifecycle: "CREATE",
                name: device.device["label"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            time_ms: chrono::Utc::now().timestamp_millis(),
        };
        home.devices.insert(device.id().to_owned(), device);
        home.pending.push(change);
        self.publish_changes(&mut home);
    }

    pub(crate) fn remove_device(&self, device_id: &str) -> bool {
        let mut home = self.home.lock().expect("home");
        let Some(device) = home.devices.shift_remove(device_id) else {
            return false;
        };
        home.pending.push(StateChange {
            device_id: device_id.to_owned(),
            location_id: device.location_id().to_owned(),
            kind: ChangeKind::Lifecycle {
                lifecycle: "DELETE",
                name: device.device["label"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            time_ms: chrono::Utc::now().timestamp_millis(),
        });
        self.publish_changes(&mut home);
        true
    }
}

/// One random change to one of the first `activity.devices` devices: a
/// health flip, a new number, or a two-state attribute flipped. Numbers are
/// whole, so that every value compares exactly after a round trip.
fn random_change(home: &mut Home, rng: &mut fastrand::Rng, activity: &Activity) {
    let count = activity.devices.min(home.devices.len());
    if count == 0 {
        return;
    }
    let at = chrono::Utc::now();
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (device_id, device) = home
        .devices
        .get_index_mut(rng.usize(..count))
        .expect("index within the home");
    let device_id = device_id.clone();
    let location_id = device.location_id().to_owned();
    if rng.f64() < activity.health_fraction {
        let state = if device.health["state"] == "OFFLINE" {
            "ONLINE"
        } else {
            "OFFLINE"
        };
        device.health["state"] = json!(state);
        device.health["lastUpdatedDate"] = json!(stamp);
        home.pending.push(StateChange {
            device_id,
            location_id,
            kind: ChangeKind::Health { state },
            time_ms: at.timestamp_millis(),
        });
        return;
    }
    // Pick an attribute this change can make: a number or a known toggle.
    let mut candidates = Vec::new();
    if let Some(components) = device.status["components"].as_object() {
        for (component, capabilities) in components {
            for (capability, attributes) in capabilities.as_object().into_iter().flatten() {
                for (attribute, state) in attributes.as_object().into_iter().flatten() {
                    let value = &state["value"];
                    let changeable = value.is_number()
                        || value
                            .as_str()
                            .is_some_and(|v| TOGGLES.iter().any(|(a, b)| v == *a || v == *b));
                    if changeable {
                        candidates.push((component.clone(), capability.clone(), attribute.clone()));
                    }
                }
            }
        }
    }
    if candidates.is_empty() {
        return;
    }
    let (component, capability, attribute) = candidates.swap_remove(rng.usize(..candidates.len()));
    let state = &mut device.status["components"][&component][&capability][&attribute];
    let value = match &state["value"] {
        Value::String(v) => {
            let (a, b) = TOGGLES
                .iter()
                .find(|(a, b)| v == *a || v == *b)
                .expect("a candidate toggle");
            json!(if v == *a { *b } else { *a })
        }
        _ => json!(rng.i64(0..=100)),
    };
    state["value"] = value.clone();
    state["timestamp"] = json!(stamp);
    let unit = state["unit"].as_str().map(str::to_owned);
    home.pending.push(StateChange {
        device_id,
        location_id,
        kind: ChangeKind::Attribute {
            component,
            capability,
            attribute,
            value,
            unit,
        },
        time_ms: at.timestamp_millis(),
    });
}
