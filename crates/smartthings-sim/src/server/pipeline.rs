//! The request pipeline in front of every operation, as three layers:
//! `observe` counts and logs every request (and drops a connection when a
//! fault says so), `authenticate` checks the bearer token and the rate
//! limits (API and event streams), `inject` draws a fault (everywhere).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::json;

use super::operations::OperationIds;
use super::respond::{api_error, error_body};
use super::{API_PREFIX, Dropper, LogEntry, Shared, Sim};
use crate::faults::{self, Fault};
use crate::limits::{DEFAULT_LIMIT, DEFAULT_WINDOW_SECS, Verdict};
use crate::oauth::Access;

/// The wait an injected 429 asks for.
const INJECTED_RETRY_MS: u64 = 250;

/// The arrival number of a request.
#[derive(Clone, Copy)]
pub(super) struct Seq(pub(super) u64);

/// Who the request speaks for (a static token, or an OAuth token family),
/// for handlers that keep per-principal state (event sinks).
#[derive(Clone)]
pub(super) struct Principal(pub(super) String);

/// The operation id of a request, for the layers inside `observe`.
#[derive(Clone, Copy)]
struct Operation(&'static str);

/// What `inject` did to a response, for the layers outside it.
#[derive(Clone)]
struct Injected {
    /// The fault as the log names it.
    name: String,
    /// Close the connection instead of answering.
    drop: bool,
    /// Send as it is, without rate-limit headers: a proxy's page, or a 429
    /// carrying its own hints.
    bare: bool,
}

/// The outermost layer: number, count and log the request; close the
/// connection without an answer when a fault asks for it.
pub(super) async fn observe(
    State((sim, operations)): State<(Shared, Arc<OperationIds>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let seq = sim.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let operation = operations.of(&method, &route);
    request.extensions_mut().insert(Seq(seq));
    request.extensions_mut().insert(Operation(operation));
    let dropper = request.extensions().get::<Dropper>().cloned();
    let response = next.run(request).await;
    let injected = response.extensions().get::<Injected>().cloned();
    if let Some(Injected {
        drop: true, name, ..
    }) = injected
    {
        record(&sim, seq, &method, uri, operation, 0, Some(name));
        if let Some(dropper) = dropper {
            dropper.0.notify_one();
        }
        return std::future::pending().await;
    }
    let status = response.status().as_u16();
    record(
        &sim,
        seq,
        &method,
        uri,
        operation,
        status,
        injected.map(|i| i.name),
    );
    response
}

/// The API's layer: a bearer token (static or an OAuth access token), then
/// the rate limits, whose standing every answer but a bare fault reports.
pub(super) async fn authenticate(
    State(sim): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedError",
            "Authorization header with a bearer token is required.",
            None,
        );
    };
    let Some(principal) = principal(&sim, token) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedError",
            "The token is invalid or expired.",
            None,
        );
    };
    // Inside the nested router the URI no longer carries the prefix.
    let path = request.uri().path();
    let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let verdict =
        sim.limiter
            .lock()
            .expect("limiter")
            .check(&principal, request.method().as_str(), path);
    let headers = [
        ("x-ratelimit-limit", verdict.limit.to_string()),
        ("x-ratelimit-remaining", verdict.remaining.to_string()),
        ("x-ratelimit-reset", verdict.reset.as_millis().to_string()),
    ];
    let mut response = if verdict.allowed {
        request.extensions_mut().insert(verdict);
        request.extensions_mut().insert(Principal(principal));
        next.run(request).await
    } else {
        sim.stats.lock().expect("stats").throttled += 1;
        too_many(
            &verdict.bucket,
            verdict.limit,
            verdict.window_secs,
            verdict.reset.as_millis() as u64,
        )
    };
    if !response
        .extensions()
        .get::<Injected>()
        .is_some_and(|i| i.bare)
    {
        set_headers(&mut response, &headers);
    }
    response
}

/// Who a token speaks for, as the rate limits count: a static token is its
/// own principal; the OAuth access tokens of one authorization share their
/// installed app's, so that rotating tokens does not reset the limits.
fn principal(sim: &Sim, token: &str) -> Option<String> {
    if sim.config.tokens.iter().any(|t| t == token) {
        return Some(token.to_owned());
    }
    match sim
        .oauth
        .lock()
        .expect("oauth")
        .check_access(token, Instant::now())
    {
        Access::Valid { installed_app_id } => Some(format!("installedApp:{installed_app_id}")),
        Access::Expired | Access::Revoked | Access::Unknown => None,
    }
}

/// The fault layer: added latency, then the outcome the plan draws for the
/// request's operation.
pub(super) async fn inject(State(sim): State<Shared>, request: Request, next: Next) -> Response {
    let operation = request
        .extensions()
        .get::<Operation>()
        .map_or("unknown", |o| o.0);
    // The rate limit an injected 429 speaks of: the request's own, or the
    // default window where there is none (the OAuth endpoints).
    let (limit, window_secs) = request
        .extensions()
        .get::<Verdict>()
        .map_or((DEFAULT_LIMIT, DEFAULT_WINDOW_SECS), |v| {
            (v.limit, v.window_secs)
        });
    let rates = sim.config.faults.rates(operation).clone();
    if !rates.latency.is_zero() {
        tokio::time::sleep(rates.latency).await;
    }
    let fault = faults::draw(&mut sim.faults.lock().expect("faults"), &rates);
    let (mut response, drop, bare) = match fault {
        Fault::None => return next.run(request).await,
        Fault::Truncate => (
            cut(
                next.run(request).await,
                std::time::Duration::from_millis(20),
            )
            .await,
            false,
            false,
        ),
        Fault::Stall => (
            cut(next.run(request).await, sim.config.stall).await,
            false,
            false,
        ),
        // The operation ran; its answer never arrives.
        Fault::DropAfter => {
            let _ = next.run(request).await;
            (Response::new(Body::empty()), true, true)
        }
        Fault::Drop => (Response::new(Body::empty()), true, true),
        Fault::ServerErrorAfter(status) => {
            let _ = next.run(request).await;
            let response = api_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalServerError",
                "Injected server error after processing.",
                None,
            );
            (response, false, false)
        }
        Fault::ErrorPage(status, html) => {
            // As a proxy or gateway in front of the API answers: no JSON,
            // no request id, no rate-limit headers, no retry hint.
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let response = if html {
                (
                    status,
                    [("content-type", "text/html")],
                    format!("<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"),
                )
                    .into_response()
            } else {
                status.into_response()
            };
            (response, false, true)
        }
        Fault::Hostile429(which) => {
            let mut response = too_many("injected", limit, window_secs, 0);
            let (name, value) = faults::HOSTILE_HINTS[which % faults::HOSTILE_HINTS.len()];
            let value = value.map_or_else(
                || {
                    httpdate::fmt_http_date(
                        std::time::SystemTime::now() + std::time::Duration::from_secs(1),
                    )
                },
                str::to_owned,
            );
            set_headers(&mut response, &[(name, value)]);
            (response, false, true)
        }
        Fault::ServerError(status) => {
            let response = api_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalServerError",
                "Injected server error.",
                None,
            );
            (response, false, false)
        }
        Fault::RateLimited => {
            // An injected 429 is consistent with itself: its headers say
            // the same wait as its body.
            let mut response = too_many("injected", limit, window_secs, INJECTED_RETRY_MS);
            set_headers(
                &mut response,
                &[
                    ("x-ratelimit-limit", limit.to_string()),
                    ("x-ratelimit-remaining", "0".to_owned()),
                    ("x-ratelimit-reset", INJECTED_RETRY_MS.to_string()),
                ],
            );
            (response, false, true)
        }
        Fault::Html => {
            let response = (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response();
            (response, false, false)
        }
    };
    response.extensions_mut().insert(Injected {
        name: format!("{fault:?}"),
        drop,
        bare,
    });
    response
}

fn set_headers(response: &mut Response, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
}

fn too_many(bucket: &str, limit: u32, window_secs: u64, retry_ms: u64) -> Response {
    let detail = json!({
        "code": "TooManyRequestError",
        "target": bucket,
        "message": format!("Limit of {limit} requests per {window_secs} seconds exceeded for {bucket}, retry in {retry_ms} millis"),
        "details": []
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(error_body(
            "TooManyRequestError",
            "Too many requests",
            None,
            vec![detail],
        )),
    )
        .into_response()
}

/// The same response with its body cut off half-way: the declared length
/// is kept, and after `pause` the connection ends early (a short pause: a
/// truncated body; a long one: a stalled connection). An event stream has
/// no half: it sends its first event (`welcome`) and no more.
async fn cut(response: Response, pause: std::time::Duration) -> Response {
    if response
        .headers()
        .get("content-type")
        .is_some_and(|t| t == "text/event-stream")
    {
        return cut_stream(response, pause).await;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    parts
        .headers
        .insert("content-length", HeaderValue::from(bytes.len()));
    // The pause lets the first half reach the wire before the connection is
    // cut; otherwise the server would drop the buffered headers with it.
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(half)]).chain(
        futures::stream::once(async move {
            tokio::time::sleep(pause).await;
            Err(std::io::Error::other("cut by fault injection"))
        }),
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

/// An event stream cut after its first event. The rest of its body is
/// dropped at once, so that the sink's events count as lost, not as
/// delivered into a connection that never passes them on.
async fn cut_stream(response: Response, pause: std::time::Duration) -> Response {
    let (parts, body) = response.into_parts();
    let mut data = body.into_data_stream();
    let first = data.next().await;
    drop(data);
    let first = first.map(|chunk| chunk.map_err(std::io::Error::other));
    let stream = futures::stream::iter(first).chain(futures::stream::once(async move {
        tokio::time::sleep(pause).await;
        Err(std::io::Error::other("cut by fault injection"))
    }));
    Response::from_parts(parts, Body::from_stream(stream))
}

fn record(
    sim: &Sim,
    seq: u64,
    method: &Method,
    uri: String,
    operation: &str,
    status: u16,
    fault: Option<String>,
) {
    {
        let mut stats = sim.stats.lock().expect("stats");
        stats.requests += 1;
        *stats.by_operation.entry(operation.to_owned()).or_default() += 1;
        *stats.by_status.entry(status).or_default() += 1;
        if fault.is_some() {
            stats.faults += 1;
        }
    }
    sim.log.lock().expect("log").push(LogEntry {
        seq,
        method: method.to_string(),
        uri,
        operation: operation.to_owned(),
        status,
        fault,
    });
}
