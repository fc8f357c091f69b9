//! The HTTP side: routes for every operation, and the request pipeline
//! (log, auth, rate limits, faults) in front of them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::faults::{self, Fault, FaultPlan};
use crate::home::{Home, MAX_LOCATIONS, SimDevice, capabilities_of};
use crate::limits::Limiter;

/// The wait an injected 429 asks for.
const INJECTED_RETRY_MS: u64 = 250;

/// Where every route lives (seed 001 `servers`: `/v1`).
pub const API_PREFIX: &str = "/v1";
/// Seed 002: the page size and its maximum.
pub const MAX_PAGE: usize = 200;

/// One request as the simulator saw it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Arrival number.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Operation id (`getDeviceStatus`, ...), or the route.
    pub operation: String,
    /// The status answered (0 for a dropped connection).
    pub status: u16,
    /// The injected fault, if any.
    pub fault: Option<String>,
}

/// A command the simulator executed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExecutedCommand {
    /// Arrival number of the request that carried it.
    pub seq: u64,
    /// The device.
    pub device_id: String,
    /// Component, capability, command, arguments.
    pub component: String,
    /// The capability.
    pub capability: String,
    /// The command.
    pub command: String,
    /// Its arguments.
    pub arguments: Vec<Value>,
}

/// Counters, readable in-process and at `/__sim/stats`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Requests received (reserved paths excluded).
    pub requests: u64,
    /// By operation id.
    pub by_operation: BTreeMap<String, u64>,
    /// By status answered.
    pub by_status: BTreeMap<u16, u64>,
    /// 429s sent because a rate limit was exceeded (not injected faults).
    pub throttled: u64,
    /// Faults injected.
    pub faults: u64,
}

/// How the simulator behaves.
#[derive(Clone, Debug)]
pub struct Config {
    /// Bearer tokens accepted.
    pub tokens: Vec<String>,
    /// Enforce seed 002's limits.
    pub rate_limits: bool,
    /// Shrink every rate-limit window by this factor.
    pub time_scale: f64,
    /// Injected faults.
    pub faults: FaultPlan,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tokens: vec![crate::DEFAULT_TOKEN.to_owned()],
            rate_limits: true,
            time_scale: 1.0,
            faults: FaultPlan::none(),
        }
    }
}

/// The simulator's state.
pub struct Sim {
    pub(crate) home: Mutex<Home>,
    pub(crate) config: Config,
    pub(crate) origin: String,
    limiter: Mutex<Limiter>,
    faults: Mutex<fastrand::Rng>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) log: Mutex<Vec<LogEntry>>,
    pub(crate) commands: Mutex<Vec<ExecutedCommand>>,
    seq: AtomicU64,
    ids: AtomicU64,
}

impl Sim {
    pub(crate) fn new(home: Home, config: Config, origin: String) -> Self {
        Self {
            home: Mutex::new(home),
            limiter: Mutex::new(Limiter::new(config.time_scale, config.rate_limits)),
            faults: Mutex::new(fastrand::Rng::with_seed(config.faults.seed)),
            config,
            origin,
            stats: Mutex::default(),
            log: Mutex::default(),
            commands: Mutex::default(),
            seq: AtomicU64::new(0),
            ids: AtomicU64::new(0),
        }
    }

    /// A new id for a created resource: a sequence, so runs repeat.
    fn new_id(&self, kind: u16) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed) + 1;
        format!("5e1a0000-{kind:04x}-4000-8000-{n:012x}")
    }
}

type Shared = Arc<Sim>;

/// Lets the fault layer close the connection without answering.
#[derive(Clone)]
pub(crate) struct Dropper(pub(crate) Arc<Notify>);

/// The arrival number of a request.
#[derive(Clone, Copy)]
struct Seq(u64);

fn operation_id(method: &Method, route: &str) -> &'static str {
    let route = route.strip_prefix(API_PREFIX).unwrap_or(route);
    match (method.as_str(), route) {
        ("GET", "/devices") => "listDevices",
        ("GET", "/devices/{device_id}") => "getDevice",
        ("DELETE", "/devices/{device_id}") => "deleteDevice",
        ("GET", "/devices/{device_id}/status") => "getDeviceStatus",
        ("POST", "/devices/{device_id}/commands") => "executeDeviceCommands",
        ("GET", "/devices/{device_id}/health") => "getDeviceHealth",
        ("GET", "/devices/{device_id}/components/{component_id}/status") => {
            "getDeviceComponentStatus"
        }
        (
            "GET",
            "/devices/{device_id}/components/{component_id}/capabilities/{capability_id}/status",
        ) => "getDeviceCapabilityStatus",
        ("GET", "/capabilities") => "listCapabilities",
        ("GET", "/locations") => "listLocations",
        ("POST", "/locations") => "createLocation",
        ("GET", "/locations/{location_id}") => "getLocation",
        ("PUT", "/locations/{location_id}") => "updateLocation",
        ("DELETE", "/locations/{location_id}") => "deleteLocation",
        ("GET", "/locations/{location_id}/rooms") => "listRooms",
        ("POST", "/locations/{location_id}/rooms") => "createRoom",
        ("GET", "/scenes") => "listScenes",
        ("POST", "/scenes/{scene_id}/execute") => "executeScene",
        ("GET", "/rules") => "listRules",
        ("POST", "/rules") => "createRule",
        ("GET", "/rules/{rule_id}") => "getRule",
        ("PUT", "/rules/{rule_id}") => "updateRule",
        ("DELETE", "/rules/{rule_id}") => "deleteRule",
        ("GET", "/installedapps/{app_id}/subscriptions") => "listSubscriptions",
        ("POST", "/installedapps/{app_id}/subscriptions") => "createSubscription",
        ("DELETE", "/installedapps/{app_id}/subscriptions") => "deleteAllSubscriptions",
        ("DELETE", "/installedapps/{app_id}/subscriptions/{subscription_id}") => {
            "deleteSubscription"
        }
        ("GET", "/apps") => "listApps",
        ("GET", "/apps/{app_id}") => "getApp",
        _ => "unknown",
    }
}

/// The router: every operation under `/v1`, introspection under `/__sim`.
pub(crate) fn router(sim: Shared) -> Router {
    let api = Router::new()
        .route("/devices", get(list_devices))
        .route(
            "/devices/{device_id}",
            get(get_device).delete(delete_device),
        )
        .route("/devices/{device_id}/status", get(device_status))
        .route("/devices/{device_id}/commands", post(execute_commands))
        .route("/devices/{device_id}/health", get(device_health))
        .route(
            "/devices/{device_id}/components/{component_id}/status",
            get(component_status),
        )
        .route(
            "/devices/{device_id}/components/{component_id}/capabilities/{capability_id}/status",
            get(capability_status),
        )
        .route("/capabilities", get(list_capabilities))
        .route("/locations", get(list_locations).post(create_location))
        .route(
            "/locations/{location_id}",
            get(get_location)
                .put(update_location)
                .delete(delete_location),
        )
        .route(
            "/locations/{location_id}/rooms",
            get(list_rooms).post(create_room),
        )
        .route("/scenes", get(list_scenes))
        .route("/scenes/{scene_id}/execute", post(execute_scene))
        .route("/rules", get(list_rules).post(create_rule))
        .route(
            "/rules/{rule_id}",
            get(get_rule).put(update_rule).delete(delete_rule),
        )
        .route(
            "/installedapps/{app_id}/subscriptions",
            get(list_subscriptions)
                .post(create_subscription)
                .delete(delete_all_subscriptions),
        )
        .route(
            "/installedapps/{app_id}/subscriptions/{subscription_id}",
            axum::routing::delete(delete_subscription),
        )
        .route("/apps", get(list_apps))
        .route("/apps/{app_id}", get(get_app))
        .fallback(|| async {
            api_error(StatusCode::NOT_FOUND, "NotFoundError", "No such path", None)
        })
        .route_layer(middleware::from_fn_with_state(sim.clone(), pipeline));
    Router::new()
        .nest(API_PREFIX, api)
        .route("/__sim/stats", get(stats))
        .route("/__sim/log", get(request_log))
        .route("/__sim/commands", get(command_log))
        .with_state(sim)
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("sim-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn error_body(code: &str, message: &str, target: Option<&str>, details: Vec<Value>) -> Value {
    json!({
        "requestId": request_id(),
        "error": {"code": code, "message": message, "target": target, "details": details}
    })
}

/// An error response with the API's error body (seed 002).
pub(crate) fn api_error(
    status: StatusCode,
    code: &str,
    message: &str,
    target: Option<&str>,
) -> Response {
    (
        status,
        axum::Json(error_body(code, message, target, Vec::new())),
    )
        .into_response()
}

fn unprocessable(code: &str, message: String, target: Option<&str>) -> Response {
    let detail = json!({"code": code, "target": target, "message": message, "details": []});
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(error_body(
            "ConstraintViolationError",
            "The request is malformed.",
            target,
            vec![detail],
        )),
    )
        .into_response()
}

fn not_found(what: &str, id: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!("{what} {id} not found"),
        Some(id),
    )
}

/// A refused request on its way out of a helper (boxed: a `Response` is
/// large, and most helpers succeed).
pub(crate) struct Refusal(Box<Response>);

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The attribute changes of one command: (attribute, value, unit).
type Effect = (&'static str, Value, Option<&'static str>);

/// One command as executed: component, capability, command, arguments.
type Executed = (String, String, String, Vec<Value>);

fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

/// The request pipeline: count and log, authenticate, rate-limit, inject
/// faults, then the handler.
async fn pipeline(State(sim): State<Shared>, mut request: Request, next: Next) -> Response {
    let seq = sim.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let operation = operation_id(&method, &route);
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
        let mut response = match fault {
            Fault::None | Fault::Truncate => next.run(request).await,
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
                record(&sim, seq, &method, uri, operation, 0, Some("drop".into()));
                if let Some(dropper) = request.extensions().get::<Dropper>() {
                    dropper.0.notify_one();
                }
                return std::future::pending().await;
            }
        };
        if fault == Fault::Truncate {
            response = truncated(response).await;
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
/// is kept, the connection ends early.
async fn truncated(response: Response) -> Response {
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
        futures::stream::once(async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Err(std::io::Error::other("truncated by fault injection"))
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

async fn stats(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.stats.lock().expect("stats").clone()).unwrap_or_default())
}

async fn request_log(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.log.lock().expect("log").clone()).unwrap_or_default())
}

async fn command_log(State(sim): State<Shared>) -> Response {
    ok(serde_json::to_value(sim.commands.lock().expect("commands").clone()).unwrap_or_default())
}

/// The query as ordered pairs (repeated parameters kept).
fn query(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn params<'q>(query: &'q [(String, String)], name: &str) -> Vec<&'q str> {
    query
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Seed 002 paging: `max` defaults to and is capped at 200; `page` counts
/// from 0; `_links.next.href` is absolute on the simulator's own origin and
/// carries every query parameter; `_links` is `{}` on the last page.
fn paged(sim: &Sim, uri: &Uri, items: Vec<Value>) -> Result<Value, Refusal> {
    let query = query(uri);
    let max = match param(&query, "max") {
        None => MAX_PAGE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_PAGE),
            _ => {
                return Err(unprocessable(
                    "InvalidParameter",
                    format!("max must be a positive integer, got {raw:?}"),
                    Some("max"),
                )
                .into());
            }
        },
    };
    let page = match param(&query, "page").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Err(unprocessable(
                "InvalidParameter",
                "page must be a non-negative integer".into(),
                Some("page"),
            )
            .into());
        }
    };
    let start = page.saturating_mul(max).min(items.len());
    let end = (start + max).min(items.len());
    let links = if end < items.len() {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| k != "page" && k != "max") {
            next.append_pair(k, v);
        }
        next.append_pair("max", &max.to_string());
        next.append_pair("page", &(page + 1).to_string());
        let path = uri.path();
        let path = path.strip_prefix(API_PREFIX).unwrap_or(path);
        json!({"next": {"href": format!("{}{API_PREFIX}{path}?{}", sim.origin, next.finish())}})
    } else {
        json!({})
    };
    Ok(json!({"items": items[start..end].to_vec(), "_links": links}))
}

fn listing(sim: &Sim, uri: &Uri, items: Vec<Value>) -> Response {
    match paged(sim, uri, items) {
        Ok(page) => ok(page),
        Err(refusal) => refusal.into_response(),
    }
}

/// The device as listed, with `status`/`healthState` embedded on request.
fn device_view(device: &SimDevice, include_status: bool, include_health: bool) -> Value {
    let mut view = device.device.clone();
    if include_status && let Some(components) = view["components"].as_array_mut() {
        for component in components {
            let id = component["id"].as_str().unwrap_or_default().to_owned();
            let Some(capabilities) = component["capabilities"].as_array_mut() else {
                continue;
            };
            for capability in capabilities.iter_mut() {
                let cap = capability["id"].as_str().unwrap_or_default().to_owned();
                let status = device.status["components"][&id][&cap].clone();
                capability["status"] = if status.is_null() { json!({}) } else { status };
            }
            // Status of capabilities the profile does not list (e.g.
            // `synthetic.*`) is embedded too, so the list loses nothing the
            // status endpoint has.
            for (cap, status) in device.status["components"][&id]
                .as_object()
                .into_iter()
                .flatten()
            {
                if !capabilities.iter().any(|c| c["id"] == *cap) {
                    capabilities.push(json!({"id": cap, "version": 1, "status": status}));
                }
            }
        }
    }
    if include_health {
        view["healthState"] = device.health.clone();
    }
    view
}

async fn list_devices(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let capabilities = params(&q, "capability");
    let locations = params(&q, "locationId");
    let ids = params(&q, "deviceId");
    let include_status = param(&q, "includeStatus") == Some("true");
    let include_health = param(&q, "includeHealth") == Some("true");
    let items = {
        let home = sim.home.lock().expect("home");
        home.devices
            .values()
            .filter(|d| capabilities.iter().all(|c| d.has_capability(c)))
            .filter(|d| locations.is_empty() || locations.contains(&d.location_id()))
            .filter(|d| ids.is_empty() || ids.contains(&d.id()))
            .map(|d| device_view(d, include_status, include_health))
            .collect()
    };
    listing(&sim, &uri, items)
}

fn with_device(sim: &Sim, id: &str, f: impl FnOnce(&SimDevice) -> Response) -> Response {
    let home = sim.home.lock().expect("home");
    home.devices
        .get(id)
        .map(f)
        .unwrap_or_else(|| not_found("Device", id))
}

async fn get_device(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| ok(d.device.clone()))
}

async fn delete_device(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").devices.shift_remove(&id) {
        Some(_) => ok(json!({})),
        None => not_found("Device", &id),
    }
}

async fn device_status(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| ok(d.status.clone()))
}

async fn device_health(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    with_device(&sim, &id, |d| {
        let mut health = d.health.clone();
        health["deviceId"] = json!(id);
        ok(health)
    })
}

async fn component_status(
    State(sim): State<Shared>,
    Path((id, component)): Path<(String, String)>,
) -> Response {
    with_device(&sim, &id, |d| {
        match d.status["components"].get(&component) {
            Some(status) => ok(status.clone()),
            None => not_found("Component", &component),
        }
    })
}

async fn capability_status(
    State(sim): State<Shared>,
    Path((id, component, capability)): Path<(String, String, String)>,
) -> Response {
    with_device(&sim, &id, |d| {
        match d.status["components"]
            .get(&component)
            .and_then(|c| c.get(&capability))
        {
            Some(status) => ok(status.clone()),
            None => not_found("Capability", &format!("{component}/{capability}")),
        }
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn number_in(args: &[Value], index: usize, min: f64, max: f64) -> Result<f64, String> {
    let value = args
        .get(index)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("argument {index} must be a number"))?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "argument {index} must be within {min}..={max}, got {value}"
        ))
    }
}

/// Attribute changes a command makes, or why it is refused.
fn command_effects(capability: &str, command: &str, args: &[Value]) -> Result<Vec<Effect>, String> {
    Ok(match (capability, command) {
        ("switch", "on") => vec![("switch", json!("on"), None)],
        ("switch", "off") => vec![("switch", json!("off"), None)],
        ("switchLevel", "setLevel") => {
            let level = number_in(args, 0, 0.0, 100.0)?;
            vec![("level", json!(level as i64), Some("%"))]
        }
        ("colorControl", "setColor") => {
            let color = args
                .first()
                .ok_or("setColor takes a {hue, saturation} map")?;
            let hue = color["hue"]
                .as_f64()
                .filter(|h| (0.0..=100.0).contains(h))
                .ok_or("hue must be within 0..=100")?;
            let saturation = color["saturation"]
                .as_f64()
                .filter(|s| (0.0..=100.0).contains(s))
                .ok_or("saturation must be within 0..=100")?;
            vec![
                ("hue", json!(hue), None),
                ("saturation", json!(saturation), None),
            ]
        }
        ("colorControl", "setHue") => vec![("hue", json!(number_in(args, 0, 0.0, 100.0)?), None)],
        ("colorControl", "setSaturation") => {
            vec![("saturation", json!(number_in(args, 0, 0.0, 100.0)?), None)]
        }
        ("colorTemperature", "setColorTemperature") => {
            let kelvin = number_in(args, 0, 1.0, 30000.0)?;
            vec![("colorTemperature", json!(kelvin as i64), Some("K"))]
        }
        ("lock", "lock") => vec![("lock", json!("locked"), None)],
        ("lock", "unlock") => vec![("lock", json!("unlocked"), None)],
        ("thermostatHeatingSetpoint", "setHeatingSetpoint") => {
            vec![(
                "heatingSetpoint",
                json!(number_in(args, 0, -50.0, 212.0)?),
                Some("F"),
            )]
        }
        ("thermostatCoolingSetpoint", "setCoolingSetpoint") => {
            vec![(
                "coolingSetpoint",
                json!(number_in(args, 0, -50.0, 212.0)?),
                Some("F"),
            )]
        }
        ("thermostatMode", "setThermostatMode") => {
            let mode = args
                .first()
                .and_then(Value::as_str)
                .ok_or("setThermostatMode takes a mode")?;
            if ![
                "auto",
                "cool",
                "heat",
                "off",
                "emergency heat",
                "eco",
                "fanonly",
            ]
            .contains(&mode)
            {
                return Err(format!("unsupported thermostat mode {mode:?}"));
            }
            vec![("thermostatMode", json!(mode), None)]
        }
        ("thermostatMode", mode @ ("auto" | "cool" | "heat" | "off")) => {
            vec![("thermostatMode", json!(mode), None)]
        }
        ("audioVolume", "setVolume") => vec![(
            "volume",
            json!(number_in(args, 0, 0.0, 100.0)? as i64),
            Some("%"),
        )],
        ("refresh", "refresh") => vec![],
        _ => return Err(format!("{capability} has no command {command:?}")),
    })
}

/// Validate every command, then apply them all: a request is executed
/// entirely or not at all.
fn apply_commands(
    home: &mut Home,
    device_id: &str,
    commands: &[Value],
) -> Result<Vec<Executed>, Refusal> {
    let device = home
        .devices
        .get_mut(device_id)
        .ok_or_else(|| not_found("Device", device_id))?;
    let mut planned = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        let component = command["component"].as_str().unwrap_or("main").to_owned();
        let capability = command["capability"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let name = command["command"].as_str().unwrap_or_default().to_owned();
        let args = command["arguments"].as_array().cloned().unwrap_or_default();
        let target = format!("commands[{i}]");
        let Some(component_def) = device.component(&component) else {
            return Err(unprocessable(
                "UnknownComponent",
                format!("component {component:?} not found"),
                Some(&target),
            )
            .into());
        };
        if !capabilities_of(component_def).any(|c| c == capability) {
            return Err(unprocessable(
                "UnknownCapability",
                format!("capability {capability:?} not found on {component}"),
                Some(&target),
            )
            .into());
        }
        let effects = command_effects(&capability, &name, &args).map_err(|message| {
            Refusal::from(unprocessable("InvalidCommand", message, Some(&target)))
        })?;
        planned.push((component, capability, name, args, effects));
    }
    let timestamp = now();
    let mut executed = Vec::new();
    for (component, capability, name, args, effects) in planned {
        for (attribute, value, unit) in effects {
            let mut state = json!({"value": value, "timestamp": timestamp});
            if let Some(unit) = unit {
                state["unit"] = json!(unit);
            }
            device.status["components"][&component][&capability][attribute] = state;
        }
        executed.push((component, capability, name, args));
    }
    Ok(executed)
}

fn log_commands(sim: &Sim, seq: u64, device_id: &str, executed: Vec<Executed>) {
    let mut log = sim.commands.lock().expect("commands");
    for (component, capability, command, arguments) in executed {
        log.push(ExecutedCommand {
            seq,
            device_id: device_id.to_owned(),
            component,
            capability,
            command,
            arguments,
        });
    }
}

async fn execute_commands(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Seq(seq)): axum::Extension<Seq>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable("InvalidBody", "the body is not JSON".into(), None);
    };
    let Some(commands) = body["commands"].as_array().filter(|c| !c.is_empty()) else {
        return unprocessable(
            "InvalidBody",
            "commands must be a non-empty list".into(),
            Some("commands"),
        );
    };
    let executed = {
        let mut home = sim.home.lock().expect("home");
        match apply_commands(&mut home, &id, commands) {
            Ok(executed) => executed,
            Err(refusal) => return refusal.into_response(),
        }
    };
    let results: Vec<Value> = executed
        .iter()
        .map(|_| json!({"id": request_id(), "status": "ACCEPTED"}))
        .collect();
    log_commands(&sim, seq, &id, executed);
    ok(json!({"results": results}))
}

async fn list_capabilities(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim.home.lock().expect("home").capabilities.clone();
    listing(&sim, &uri, items)
}

async fn list_locations(State(sim): State<Shared>, uri: Uri) -> Response {
    // Seed 004: the list shows id and name; `get` has the rest.
    let items = sim
        .home
        .lock()
        .expect("home")
        .locations
        .values()
        .map(|l| json!({"locationId": l["locationId"], "name": l["name"]}))
        .collect();
    listing(&sim, &uri, items)
}

fn json_body(body: &Bytes) -> Result<Value, Refusal> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            unprocessable("InvalidBody", "the body must be a JSON object".into(), None).into()
        })
}

const LOCATION_FIELDS: [&str; 8] = [
    "name",
    "countryCode",
    "latitude",
    "longitude",
    "regionRadius",
    "temperatureScale",
    "timeZoneId",
    "locale",
];

async fn create_location(State(sim): State<Shared>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if body["name"].as_str().is_none_or(str::is_empty) {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    }
    let mut home = sim.home.lock().expect("home");
    if home.locations.len() >= MAX_LOCATIONS {
        let detail = json!({"code": "LimitError", "target": "locations", "message": format!("A user can belong to {MAX_LOCATIONS} locations."), "details": []});
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(error_body(
                "LimitError",
                "Location limit reached.",
                Some("locations"),
                vec![detail],
            )),
        )
            .into_response();
    }
    let id = sim.new_id(1);
    let mut location = json!({"locationId": id});
    for field in LOCATION_FIELDS {
        if let Some(value) = body.get(field) {
            location[field] = value.clone();
        }
    }
    home.add_location(location.clone());
    ok(location)
}

async fn get_location(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match sim.home.lock().expect("home").locations.get(&id) {
        Some(location) => ok(location.clone()),
        None => not_found("Location", &id),
    }
}

async fn update_location(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    let Some(location) = home.locations.get_mut(&id) else {
        return not_found("Location", &id);
    };
    // Seed 004: "This call will only update specified fields."
    for field in LOCATION_FIELDS {
        if let Some(value) = body.get(field) {
            location[field] = value.clone();
        }
    }
    ok(location.clone())
}

async fn delete_location(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    if sim.home.lock().expect("home").delete_location(&id) {
        ok(json!({}))
    } else {
        not_found("Location", &id)
    }
}

async fn list_rooms(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let items = {
        let home = sim.home.lock().expect("home");
        if !home.locations.contains_key(&id) {
            return not_found("Location", &id);
        }
        home.rooms
            .values()
            .filter(|r| r["locationId"] == id)
            .cloned()
            .collect()
    };
    listing(&sim, &uri, items)
}

async fn create_room(State(sim): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return unprocessable("InvalidName", "name is required".into(), Some("name"));
    };
    let mut home = sim.home.lock().expect("home");
    if !home.locations.contains_key(&id) {
        return not_found("Location", &id);
    }
    let room_id = sim.new_id(2);
    let room = json!({"roomId": room_id, "locationId": id, "name": name});
    home.rooms.insert(room_id, room.clone());
    ok(room)
}

fn public_scene(scene: &Value) -> Value {
    let mut view = scene.clone();
    if let Some(map) = view.as_object_mut() {
        map.remove("actions");
    }
    view
}

async fn list_scenes(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let location = param(&q, "locationId").map(str::to_owned);
    let items = sim
        .home
        .lock()
        .expect("home")
        .scenes
        .values()
        .filter(|s| location.as_ref().is_none_or(|l| s["locationId"] == *l))
        .map(public_scene)
        .collect();
    listing(&sim, &uri, items)
}

async fn execute_scene(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    axum::Extension(Seq(seq)): axum::Extension<Seq>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    let Some(scene) = home.scenes.get_mut(&id) else {
        return not_found("Scene", &id);
    };
    scene["lastExecutedDate"] = json!(now());
    let actions = scene["actions"].as_array().cloned().unwrap_or_default();
    for action in actions {
        let device_id = action["deviceId"].as_str().unwrap_or_default().to_owned();
        if let Ok(executed) = apply_commands(&mut home, &device_id, std::slice::from_ref(&action)) {
            log_commands(&sim, seq, &device_id, executed);
        }
    }
    ok(json!({"status": "success"}))
}

async fn list_rules(State(sim): State<Shared>, uri: Uri) -> Response {
    let q = query(&uri);
    let location = param(&q, "locationId").map(str::to_owned);
    let max = param(&q, "max")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(MAX_PAGE)
        .clamp(1, MAX_PAGE);
    let offset = param(&q, "offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let items: Vec<Value> = sim
        .home
        .lock()
        .expect("home")
        .rules
        .values()
        .filter(|r| location.as_ref().is_none_or(|l| r["locationId"] == *l))
        .skip(offset)
        .take(max)
        .cloned()
        .collect();
    ok(json!({"items": items, "_links": {}}))
}

fn location_param(uri: &Uri) -> Result<String, Refusal> {
    param(&query(uri), "locationId")
        .map(str::to_owned)
        .ok_or_else(|| {
            unprocessable(
                "MissingParameter",
                "locationId is required".into(),
                Some("locationId"),
            )
            .into()
        })
}

async fn create_rule(State(sim): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let (location, body) = match (location_param(&uri), json_body(&body)) {
        (Ok(l), Ok(b)) => (l, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    if body["name"].as_str().is_none() || !body["actions"].is_array() {
        return unprocessable("InvalidRule", "name and actions are required".into(), None);
    }
    let mut home = sim.home.lock().expect("home");
    if !home.locations.contains_key(&location) {
        return not_found("Location", &location);
    }
    let id = sim.new_id(3);
    let mut rule = body;
    rule["id"] = json!(id);
    rule["locationId"] = json!(location);
    rule["executionLocation"] = json!("Cloud");
    rule["ownerId"] = json!("c257d2c7-332b-d60d-808d-550bfbd54556");
    home.rules.insert(id, rule.clone());
    ok(rule)
}

fn find_rule<'h>(home: &'h mut Home, id: &str, location: &str) -> Result<&'h mut Value, Refusal> {
    home.rules
        .get_mut(id)
        .filter(|r| r["locationId"] == location)
        .ok_or_else(|| not_found("Rule", id).into())
}

async fn get_rule(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let location = match location_param(&uri) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    find_rule(&mut home, &id, &location)
        .map(|r| ok(r.clone()))
        .unwrap_or_else(IntoResponse::into_response)
}

async fn update_rule(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (location, body) = match (location_param(&uri), json_body(&body)) {
        (Ok(l), Ok(b)) => (l, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    match find_rule(&mut home, &id, &location) {
        Ok(rule) => {
            for key in ["name", "actions", "timeZoneId"] {
                if let Some(value) = body.get(key) {
                    rule[key] = value.clone();
                }
            }
            ok(rule.clone())
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_rule(State(sim): State<Shared>, Path(id): Path<String>, uri: Uri) -> Response {
    let location = match location_param(&uri) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let mut home = sim.home.lock().expect("home");
    if find_rule(&mut home, &id, &location).is_err() {
        return not_found("Rule", &id);
    }
    home.rules.shift_remove(&id);
    ok(json!({}))
}

async fn list_subscriptions(
    State(sim): State<Shared>,
    Path(app): Path<String>,
    uri: Uri,
) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .subscriptions
        .values()
        .filter(|s| s["installedAppId"] == app)
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

async fn create_subscription(
    State(sim): State<Shared>,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    const SOURCES: [&str; 6] = [
        "CAPABILITY",
        "DEVICE",
        "MODE",
        "TIMER",
        "SCENE_LIFECYCLE",
        "DEVICE_LIFECYCLE",
    ];
    if !body["sourceType"]
        .as_str()
        .is_some_and(|s| SOURCES.contains(&s))
    {
        return unprocessable(
            "InvalidSourceType",
            "sourceType is required".into(),
            Some("sourceType"),
        );
    }
    let id = sim.new_id(4);
    let mut subscription = body;
    subscription["id"] = json!(id);
    subscription["installedAppId"] = json!(app);
    sim.home
        .lock()
        .expect("home")
        .subscriptions
        .insert(id, subscription.clone());
    ok(subscription)
}

async fn delete_all_subscriptions(State(sim): State<Shared>, Path(app): Path<String>) -> Response {
    let mut home = sim.home.lock().expect("home");
    let before = home.subscriptions.len();
    home.subscriptions.retain(|_, s| s["installedAppId"] != app);
    ok(json!({"count": before - home.subscriptions.len()}))
}

async fn delete_subscription(
    State(sim): State<Shared>,
    Path((app, id)): Path<(String, String)>,
) -> Response {
    let mut home = sim.home.lock().expect("home");
    match home.subscriptions.get(&id) {
        Some(s) if s["installedAppId"] == app => {
            home.subscriptions.shift_remove(&id);
            ok(json!({}))
        }
        _ => not_found("Subscription", &id),
    }
}

async fn list_apps(State(sim): State<Shared>, uri: Uri) -> Response {
    let items = sim
        .home
        .lock()
        .expect("home")
        .apps
        .values()
        .cloned()
        .collect();
    listing(&sim, &uri, items)
}

async fn get_app(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let home = sim.home.lock().expect("home");
    match home
        .apps
        .values()
        .find(|a| a["appId"] == id || a["appName"] == id)
    {
        Some(app) => ok(app.clone()),
        None => not_found("App", &id),
    }
}
