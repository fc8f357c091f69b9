//! The request pipeline in front of every operation: count and log,
//! authenticate, rate-limit, inject faults.

use std::sync::Arc;
use std::sync::atomic::Ordering;

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

/// The wait an injected 429 asks for.
const INJECTED_RETRY_MS: u64 = 250;

/// The arrival number of a request.
#[derive(Clone, Copy)]
pub(super) struct Seq(pub(super) u64);

/// The request pipeline: count and log, authenticate, rate-limit, inject
/// faults, then the handler.
pub(super) async fn pipeline(
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
    // Inside the nested router the URI no longer carries the prefix.
    let path = request.uri().path();
    let path = path.strip_prefix(API_PREFIX).unwrap_or(path).to_owned();
    request.extensions_mut().insert(Seq(seq));

    let (response, fault) = 'answer: {
        let Some(token) = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
        else {
            break 'answer (
                api_error(
                    StatusCode::UNAUTHORIZED,
                    "UnauthorizedError",
                    "Authorization header with a bearer token is required.",
                    None,
                ),
                None,
            );
        };
        if !sim.config.tokens.contains(&token) {
            break 'answer (
                api_error(
                    StatusCode::UNAUTHORIZED,
                    "UnauthorizedError",
                    "The token is invalid or expired.",
                    None,
                ),
                None,
            );
        }
        let verdict = sim
            .limiter
            .lock()
            .expect("limiter")
            .check(&token, method.as_str(), &path);
        let headers = [
            ("x-ratelimit-limit", verdict.limit.to_string()),
            ("x-ratelimit-remaining", verdict.remaining.to_string()),
            ("x-ratelimit-reset", verdict.reset.as_millis().to_string()),
        ];
        if !verdict.allowed {
            sim.stats.lock().expect("stats").throttled += 1;
            let mut response = too_many(
                &verdict.bucket,
                verdict.limit,
                verdict.window_secs,
                verdict.reset.as_millis() as u64,
            );
            set_headers(&mut response, &headers);
            break 'answer (response, None);
        }
        let rates = sim.config.faults.rates(operation).clone();
        if !rates.latency.is_zero() {
            tokio::time::sleep(rates.latency).await;
        }
        let fault = faults::draw(&mut sim.faults.lock().expect("faults"), &rates);
        let dropper = request.extensions().get::<Dropper>().cloned();
        let mut response = match fault {
            Fault::None | Fault::Truncate | Fault::Stall => next.run(request).await,
            Fault::DropAfter => {
                // The operation ran; its answer never arrives.
                let _ = next.run(request).await;
                record(&sim, seq, &method, uri, operation, 0, Some("DropAfter".into()));
                if let Some(dropper) = dropper {
                    dropper.0.notify_one();
                }
                return std::future::pending().await;
            }
            Fault::ServerErrorAfter(status) => {
                let _ = next.run(request).await;
                api_error(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "InternalServerError",
                    "Injected server error after processing.",
                    None,
                )
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
                record(&sim, seq, &method, uri, operation, status.as_u16(), Some(format!("{fault:?}")));
                return response;
            }
            Fault::Hostile429(which) => {
                let mut response = too_many("injected", verdict.limit, verdict.window_secs, 0);
                let (name, value) = faults::HOSTILE_HINTS[which % faults::HOSTILE_HINTS.len()];
                let value = value.map_or_else(
                    || httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(1)),
                    str::to_owned,
                );
                set_headers(&mut response, &[(name, value)]);
                record(&sim, seq, &method, uri, operation, 429, Some(format!("Hostile429({which})")));
                return response;
            }
            Fault::ServerError(status) => api_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InternalServerError",
                "Injected server error.",
                None,
            ),
            Fault::RateLimited => {
                // An injected 429 is consistent with itself: its headers say
                // the same wait as its body.
                let mut response = too_many("injected", verdict.limit, verdict.window_secs, INJECTED_RETRY_MS);
                set_headers(
                    &mut response,
                    &[
                        ("x-ratelimit-limit", verdict.limit.to_string()),
                        ("x-ratelimit-remaining", "0".to_owned()),
                        ("x-ratelimit-reset", INJECTED_RETRY_MS.to_string()),
                    ],
                );
                record(&sim, seq, &method, uri, operation, 429, Some("RateLimited".into()));
                return response;
            }
            Fault::Html => (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response(),
            Fault::Drop => {
                record(&sim, seq, &method, uri, operation, 0, Some("Drop".into()));
                if let Some(dropper) = dropper {
                    dropper.0.notify_one();
                }
                return std::future::pending().await;
            }
        };
        match fault {
            Fault::Truncate => response = cut(response, std::time::Duration::from_millis(20)).await,
            Fault::Stall => response = cut(response, sim.config.stall).await,
            _ => {}
        }
        set_headers(&mut response, &headers);
        let fault = (fault != Fault::None).then(|| format!("{fault:?}"));
        (response, fault)
    };
    record(
        &sim,
        seq,
        &method,
        uri,
        operation,
        response.status().as_u16(),
        fault,
    );
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
/// truncated body; a long one: a stalled connection).
async fn cut(response: Response, pause: std::time::Duration) -> Response {
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
