//! The HTTP side: the simulator's state and the router that puts the
//! request pipeline in front of every operation. Each API area declares its
//! own operations in its own module; OAuth lives beside the API, at the
//! root.

mod activity;
mod apps;
mod capabilities;
mod commands;
mod definitions;
mod device_profiles;
mod devices;
mod history;
mod hubs;
mod installed_apps;
mod introspection;
mod locations;
mod modes;
mod notifications;
mod oauth;
mod operations;
mod paging;
mod pipeline;
mod request;
mod respond;
mod rooms;
mod rules;
mod scenes;
mod stream;
mod subscriptions;
mod virtual_devices;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::faults::FaultPlan;
use crate::home::Home;
use crate::limits::Limiter;
use crate::oauth::{OAuthConfig, OAuthStats, Registry};
use operations::Api;
use respond::api_error;

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
    /// OAuth: codes, grants, rotations, reuse and expired tokens.
    pub oauth: OAuthStats,
    /// The event stream's counters.
    pub events: crate::stream::StreamStats,
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
    /// How long a stalled response (`FaultRates::stall`) sends nothing
    /// before the connection is closed.
    pub stall: std::time::Duration,
    /// Paging the way a misbehaving server does it.
    pub paging: PagingQuirks,
    /// The OAuth 2 server beside the static tokens.
    pub oauth: OAuthConfig,
    /// The event stream: `welcome` period, sink limit and lifetime.
    pub events: crate::stream::EventsConfig,
}

/// Ways a server gets paging wrong, each off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PagingQuirks {
    /// `offset` is ignored: every rules page is the first.
    pub ignore_offset: bool,
    /// Pages hold at most this many items, whatever `max` asked (rules
    /// pages too, which have no next link to say so).
    pub page_cap: Option<usize>,
    /// Every next link points at page 1, so page 1 links to itself.
    pub repeat_next_link: bool,
    /// Next links are relative (`/v1/devices?page=1`), not absolute.
    pub relative_next_links: bool,
    /// Pages are empty but always have a next page.
    pub empty_pages_with_next: bool,
    /// Next links point at this origin (`http://elsewhere:8080`) instead of
    /// the simulator's own: a client that follows them sends its requests,
    /// and perhaps its token, to another host.
    pub foreign_next_links: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tokens: vec![crate::DEFAULT_TOKEN.to_owned()],
            rate_limits: true,
            time_scale: 1.0,
            faults: FaultPlan::none(),
            stall: std::time::Duration::from_secs(30),
            paging: PagingQuirks::default(),
            oauth: OAuthConfig::default(),
            events: crate::stream::EventsConfig::default(),
        }
    }
}

/// The simulator's state.
pub struct Sim {
    pub(crate) home: Mutex<Home>,
    pub(crate) config: Config,
    origin: String,
    limiter: Mutex<Limiter>,
    faults: Mutex<fastrand::Rng>,
    oauth: Mutex<Registry>,
    /// Event sinks and their stream connections.
    pub(crate) sinks: crate::stream::Shared,
    /// The stream listener's origin, known once it is bound.
    pub(crate) stream_origin: Mutex<String>,
    /// The random activity, while it runs.
    pub(crate) activity: Mutex<Option<crate::stream::Running>>,
    /// Stops the random stream faults, while they run.
    pub(crate) chaos: Mutex<Option<Arc<Notify>>>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) log: Mutex<Vec<LogEntry>>,
    pub(crate) commands: Mutex<Vec<ExecutedCommand>>,
    /// Device history: every attribute event, bounded.
    pub(crate) history: Mutex<crate::history::History>,
    seq: AtomicU64,
    ids: AtomicU64,
}

impl Sim {
    pub(crate) fn new(mut home: Home, config: Config, origin: String) -> Self {
        // Changes made while the home was built are its initial state, not
        // events.
        home.pending.clear();
        Self {
            home: Mutex::new(home),
            limiter: Mutex::new(Limiter::new(config.time_scale, config.rate_limits)),
            faults: Mutex::new(fastrand::Rng::with_seed(config.faults.seed)),
            oauth: Mutex::new(Registry::new(&config.oauth, config.time_scale)),
            sinks: Arc::new(Mutex::new(crate::stream::Sinks::new(
                config.events.clone(),
                config.time_scale,
            ))),
            stream_origin: Mutex::default(),
            activity: Mutex::default(),
            chaos: Mutex::default(),
            config,
            origin,
            stats: Mutex::default(),
            log: Mutex::default(),
            commands: Mutex::default(),
            history: Mutex::default(),
            seq: AtomicU64::new(0),
            ids: AtomicU64::new(0),
        }
    }

    /// Counters so far, the OAuth ones included.
    pub(crate) fn stats(&self) -> Stats {
        let mut stats = self.stats.lock().expect("stats").clone();
        stats.oauth = self.oauth.lock().expect("oauth").stats.clone();
        stats.events = self.sinks.lock().expect("sinks").stats();
        stats
    }

    /// A new id for a created resource: a sequence, so runs repeat.
    pub(crate) fn new_id(&self, kind: u16) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed) + 1;
        format!("5e1a0000-{kind:04x}-4000-8000-{n:012x}")
    }
}

type Shared = Arc<Sim>;

/// Lets the fault layer close the connection without answering.
#[derive(Clone)]
pub(crate) struct Dropper(pub(crate) Arc<Notify>);

/// The router: every operation under `/v1`, OAuth under `/oauth`,
/// introspection under `/__sim`. The API and OAuth share the pipeline's
/// outer layers (log, faults); only the API checks bearer tokens and rate
/// limits.
pub(crate) fn router(sim: Shared) -> Router {
    let areas = [
        devices::routes,
        commands::routes,
        capabilities::routes,
        locations::routes,
        rooms::routes,
        scenes::routes,
        rules::routes,
        subscriptions::routes,
        apps::routes,
        modes::routes,
        history::routes,
        virtual_devices::routes,
        hubs::routes,
        device_profiles::routes,
        installed_apps::routes,
        notifications::routes,
        definitions::routes,
    ];
    let (api, operations) = areas
        .into_iter()
        .fold(Api::new(), |api, routes| routes(api))
        .into_parts();
    let api = api
        .fallback(|| async {
            api_error(StatusCode::NOT_FOUND, "NotFoundError", "No such path", None)
        })
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::inject,
        ))
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(
            (sim.clone(), Arc::new(operations)),
            pipeline::observe,
        ));
    let (oauth, oauth_operations) = oauth::routes(Api::new()).into_parts();
    let oauth = oauth
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::inject,
        ))
        .route_layer(middleware::from_fn_with_state(
            (sim.clone(), Arc::new(oauth_operations)),
            pipeline::observe,
        ));
    let (sinks, sink_operations) = stream::sink_routes(Api::new()).into_parts();
    let sinks = sinks
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::inject,
        ))
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(
            (sim.clone(), Arc::new(sink_operations)),
            pipeline::observe,
        ));
    Router::new()
        .nest(API_PREFIX, api)
        .merge(oauth)
        .merge(sinks)
        .merge(introspection::routes())
        .with_state(sim)
}

/// The second listener's router: event streams, on another origin than the
/// API, as SmartThings' registration URLs are. Connecting goes through the
/// same pipeline as the API, faults included.
pub(crate) fn stream_router(sim: Shared) -> Router {
    let (streams, operations) = stream::stream_routes(Api::new()).into_parts();
    streams
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::inject,
        ))
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            pipeline::authenticate,
        ))
        .route_layer(middleware::from_fn_with_state(
            (sim.clone(), Arc::new(operations)),
            pipeline::observe,
        ))
        .with_state(sim)
}
