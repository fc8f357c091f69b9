//! The event stream's HTTP side: `POST /subscriptions` and `DELETE
//! /subscriptions/{id}` at the API root (not under `/v1`, as SmartThings has
//! them), and `GET /filters/{id}/activate` on the second listener, which
//! answers `text/event-stream` for as long as the sink and the connection
//! live.

use std::sync::{Mutex, Weak};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::operations::Api;
use super::pipeline::Principal;
use super::respond::{api_error, ok, unprocessable};
use crate::stream::{Filter, Frame, Opened, Refused, Sinks};

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
    let name = body["name"].as_str().unwrap_or("sim");
    let created =
        sim.sinks
            .lock()
            .expect("sinks")
            .create(id.clone(), name, &principal, filter.clone());
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
    let opened = sim.sinks.lock().expect("sinks").connect(&id, &principal);
    let Some(Opened {
        connection,
        frames,
        expires,
    }) = opened
    else {
        return api_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            "No such sink, or it expired",
            Some(&id),
        );
    };
    let sinks = sim.sinks.clone();
    let period = sinks.lock().expect("sinks").welcome_period();
    let timer_sink = id.clone();
    // The connection's timer: `welcome` every period, and the end of the
    // stream as soon as its sink expires.
    tokio::spawn(async move {
        let expires = tokio::time::Instant::from_std(expires);
        let mut next = tokio::time::Instant::now() + period;
        loop {
            tokio::time::sleep_until(next.min(expires)).await;
            let due = tokio::time::Instant::now() >= next;
            if due {
                next += period;
            }
            if !sinks
                .lock()
                .expect("sinks")
                .tick(&timer_sink, connection, due)
            {
                return;
            }
        }
    });
    let release = Release {
        sinks: std::sync::Arc::downgrade(&sim.sinks),
        sink: id,
        connection,
    };
    // Ends cleanly on Close; fails after Cut, so that the connection is
    // cut as a dropped network would. Dropping the body (the client went
    // away) frees the sink's stream slot.
    let body = futures::stream::unfold(Some((frames, release)), |state| async move {
        let (mut frames, release) = state?;
        match frames.recv().await {
            Some(Frame::Data(bytes)) => Some((Ok(bytes), Some((frames, release)))),
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

/// Frees a sink's stream slot when its connection's body is dropped.
struct Release {
    sinks: Weak<Mutex<Sinks>>,
    sink: String,
    connection: u64,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(sinks) = self.sinks.upgrade()
            && let Ok(mut sinks) = sinks.lock()
        {
            sinks.release(&self.sink, self.connection);
        }
    }
}
