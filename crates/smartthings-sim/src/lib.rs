//! A local SmartThings API: all 99 of the spec's operations — device,
//! location, room, mode, scene, rule, subscription, history, virtual
//! device, hub and capability operations, and the definitions and app
//! management (device profiles and preferences, custom capabilities with
//! their localizations and presentations, device configurations, apps and
//! their OAuth clients and settings, installed apps and their schedules,
//! notifications) — over an in-memory home, with seed 002's auth, paging
//! and rate limits, and deterministic fault injection. The embedded
//! default for demos, tests and benchmarks.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use smartthings_sim::{Config, Home, Simulator};
//!
//! let sim = Simulator::start(Home::demo(), Config::default()).await?;
//! println!("{} (token {})", sim.base_url(), sim.token());
//! // ... point a client at sim.base_url() ...
//! println!("{:?}", sim.stats());
//! # Ok(()) }
//! ```
//!
//! # What the home holds
//!
//! Besides devices, rooms, scenes and rules, every location has modes —
//! Home (current), Away and Night, with ids derived from the location's, so
//! stable across runs — that `getModes`, `createMode`, `updateMode` (the
//! label; the name stays), `deleteMode` (the current one is refused, 422),
//! `getCurrentMode` and `changeMode` serve. `updateDevice` renames
//! (lifecycle `UPDATE`) and moves to a room of the device's location
//! (`ROOM_MOVE`); `deleteRoom` leaves its devices in no room (a `ROOM_MOVE`
//! each). `createDeviceEvents` sets attributes, all or none.
//! `getDevicePresentation` answers a minimal presentation built from the
//! device's capabilities. `executeRule` runs a rule's command actions now
//! and answers each device's result.
//!
//! Virtual devices (`type` `VIRTUAL`) come from a standard prototype
//! (`VIRTUAL_SWITCH`, `VIRTUAL_DIMMER_SWITCH`, `VIRTUAL_DIMMER`,
//! `VIRTUAL_COLOR_BULB`, `VIRTUAL_METERED_SWITCH`,
//! `VIRTUAL_CONTACT_SENSOR`, `VIRTUAL_MOTION_SENSOR`,
//! `VIRTUAL_PRESENCE_SENSOR`, `VIRTUAL_LOCK`, `VIRTUAL_MULTI_SENSOR`,
//! `VIRTUAL_THERMOSTAT`) or an inline profile, start with a status for each
//! capability, are listed and commanded like any device, and
//! `createVirtualDeviceEvents` changes their status (answering which events
//! changed a value). The demo and generated homes have a hub per location
//! ([`Simulator::hubs`]; not listed among the devices, so the homes' device
//! counts are unchanged) with two enrolled channels, the first one's Edge
//! drivers installed and the location's sensors and locks as children:
//! drivers install and uninstall (not while a device runs on one, 422);
//! `listHubInstalledDrivers?deviceId=` lists the drivers matching a
//! device, and `updateHubDevice` switches a child to one (another needs
//! `forceUpdate=true`), shown afterwards in the device's `zigbee.driverId`
//! with a lifecycle `UPDATE`. `getCapability` defines
//! each capability the home lists: the attributes its devices report, with
//! a JSON schema of their state, and the commands the simulator executes;
//! namespaces are `smartthings` (ids without a prefix) and the prefixes.
//!
//! # Definitions and apps
//!
//! What the API defines rather than operates behaves simply: create, and
//! get and list show it; update changes it; delete removes it (404
//! afterwards); unknown ids are 404, a body missing what it needs 422.
//! Device profiles need a `name` and 1 to 20 `components` and start in
//! `DEVELOPMENT`. Device preferences need a `title`, a `preferenceType`
//! and a `definition`; their id is `simulator.{name}`, and
//! `listPreferences?namespace=` filters on the prefix. Custom capabilities
//! are created in a namespace (`simulator` unless `namespace=` says
//! otherwise) as `{namespace}.{camelCasedName}` version 1, listed and
//! defined (`getCapability`) like the home's own, which are read-only
//! (403); each has localizations (one per `tag`) and a presentation.
//! Device configurations are created idempotently (the same content, the
//! same `presentationId`) or generated from a device profile's
//! capabilities. Apps (`appName` unique) get an OAuth client and settings;
//! `register` confirms a webhook or API_ONLY target; deleting an app
//! deletes its installations. The demo and generated homes have an
//! installed app per location (the demo's home location the one its
//! subscription belongs to; ids derived from the location's, so stable),
//! listed with `locationId`, `appId`, `installedAppType`,
//! `installedAppStatus` and `deviceId` (through their subscriptions)
//! filters (`modeId` matches none), renamed, and deleted with their
//! subscriptions and schedules. Schedules are per installed app, named,
//! `cron` or `once` (exactly one). `createNotification` keeps what it is
//! sent ([`Simulator::notifications`]).
//!
//! # Device history
//!
//! Every attribute event published (commands, scenes, device and virtual
//! device events, [`Simulator::set_attribute`], random activity) is
//! recorded for `listDeviceHistory`, the last [`MAX_HISTORY`] (100 000);
//! [`Simulator::device_history`] is the record. `locationId` is required
//! (repeatable), `deviceId` filters; newest first unless `oldestFirst`;
//! `limit` defaults to [`HISTORY_PAGE`] (20) and is capped at 200. Each
//! entry's `(epoch, hash)` is unique and grows in recording order (`hash`
//! is a counter; an epoch never goes back), and pages are cut there:
//! `_links.next` continues in the page's order (`pagingBeforeEpoch`/`Hash`
//! when newest first), `_links.previous` goes the other way
//! (`pagingAfterEpoch`/`Hash`), each only while there is something that
//! way. Either direction pages without gaps or duplicates while events keep
//! arriving; a client at the newest page asks `pagingAfter*` its newest
//! entry for what came since. [`Simulator::invent_past`] (`--past-events`)
//! gives a new home a week of history that ends in its current state.
//!
//! # Failing like the real API
//!
//! [`FaultPlan`] draws one outcome per request from a seeded generator, with
//! [`FaultRates`] for every operation or per operation id. Before the
//! operation runs: `server_error`, `rate_limited`, `drop`, `html` (a proxy's
//! 502 page), `error_page` (401/403/404/429/500/502/503 as an HTML page or an
//! empty body, without the API's headers) and `hostile_429` (a 429 whose
//! only hint is one of [`HOSTILE_HINTS`]: `Retry-After` in seconds, as an
//! HTTP date, `1e20`, negative, garbage, or `x-ratelimit-reset` 10^19 ms
//! away). After it ran (the command executed, the scene ran, the location
//! was created — [`Simulator::commands`] and `/__sim/commands` list every
//! execution): `drop_after` (the answer is lost), `server_error_after`,
//! `truncate` (the body cut off half-way) and `stall` (headers and half the
//! body, then nothing until [`Config::stall`] has passed).
//! [`PagingQuirks`] make list pages misbehave: `ignore_offset`, `page_cap`,
//! `repeat_next_link`, `relative_next_links`, `empty_pages_with_next`,
//! `foreign_next_links`. [`Simulator::log`] names the fault of each request.
//!
//! The binary takes the same: `--faults`, `--throttles`, `--drops`,
//! `--truncations`, `--html-pages`, `--drops-after`, `--faults-after`,
//! `--error-pages`, `--hostile-429s`, `--stalls` (fractions of requests),
//! `--stall-ms`, `--fault [OPERATION:]KIND=RATE` for any kind globally or
//! for one operation, and `--paging-quirk` (repeatable).
//!
//! # OAuth
//!
//! Static tokens never expire, so a client that only ever meets them never
//! proves it can refresh. Beside them the simulator runs SmartThings' OAuth
//! 2: `GET /oauth/authorize` (consented at once: a 302 to the redirect URI
//! with `code` and `state`) and `POST /oauth/token` (HTTP Basic client
//! authentication; `authorization_code` and `refresh_token` grants), at
//! [`Simulator::authorize_url`] and [`Simulator::token_url`], outside `/v1`
//! as on the real host. Refresh tokens are single-use and rotate; a used one
//! presented again revokes its whole token family
//! ([`OAuthConfig::revoke_family_on_reuse`]), because one of its two
//! holders is not the client. Access tokens expire after
//! [`OAuthConfig::access_token_lifetime`] divided by [`Config::time_scale`],
//! so expiry can be tested in seconds. The tokens of one authorization share
//! one rate-limit principal, so rotating does not reset the limits. The
//! endpoints go through the fault plan as `oauthAuthorize` and
//! `oauthToken`; [`Simulator::authorize`] skips the browser step in tests,
//! and [`Stats::oauth`] counts grants, rotations, reuse and expired tokens.
//!
//! # Event stream
//!
//! Polling a home proves nothing about a client's event handling, so the
//! simulator serves SmartThings' event stream too. `POST /subscriptions` at
//! the API's root ([`Simulator::subscriptions_url`]) creates a sink and
//! answers its `registrationUrl`, on a second listener
//! ([`Simulator::stream_origin`]) as the real one is on another host; `GET`
//! there with the same token is a `text/event-stream` of `DEVICE_EVENT`,
//! `DEVICE_HEALTH_EVENT` and `DEVICE_LIFECYCLE_EVENT`s, with `CONTROL_EVENT`
//! `welcome` at once and every [`EventsConfig::welcome_period`], and
//! `goodbye` before the server closes a stream on purpose (the sink expired,
//! the simulator stops). Filters: `LOCATIONIDS` (or `ALL`) and `DEVICEIDS`;
//! `SMARTAPPIDS` and `INSTALLEDSMARTAPPIDS` are accepted and match no device
//! event. A principal (a token, or an OAuth token family) holds at most
//! [`EventsConfig::sink_limit`] sinks (a third is a 422); sinks expire after
//! [`EventsConfig::sink_ttl`], scaled by [`Config::time_scale`]. One stream
//! per sink: a new `GET` replaces the open one. `DELETE
//! /subscriptions/{id}` ends a sink and its stream.
//!
//! Every state change is an event, made and published under one lock so
//! that the stream never contradicts the state, with the status timestamp
//! equal to the `eventTime`: commands, scenes, [`Simulator::set_attribute`],
//! [`Simulator::set_health`], devices added, moved or removed (API or
//! in-process), and [`Simulator::start_activity`]'s random changes. A sink
//! without an open stream does not buffer: its events are lost, and counted.
//! Now and then an event's data is split over two `data:` lines or preceded
//! by a `: keepalive` comment, as parsers must cope with both.
//! [`Simulator::stream_fault`] drops, half-opens, silences one device on, or
//! says goodbye to the open streams ([`EventsConfig::faults`] does it at
//! random); connecting goes through the fault plan as `streamEvents`, the
//! sinks as `createSink` and `deleteSink`. The home
//! ([`Simulator::with_home`]) is the truth a client's view is compared
//! with; [`Simulator::published_events`] and [`Simulator::stream_stats`]
//! say what was sent, delivered and lost.
#![warn(missing_docs)]

mod faults;
mod history;
mod home;
mod limits;
mod oauth;
mod server;
mod stream;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

pub use faults::{FaultPlan, FaultRates, HOSTILE_HINTS};
pub use history::{HISTORY_PAGE, MAX_HISTORY};
pub use home::{Home, MAX_DEVICES_PER_LOCATION, MAX_LOCATIONS, SimDevice};
pub use oauth::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthConfig, OAuthStats};
pub use server::{API_PREFIX, Config, ExecutedCommand, LogEntry, MAX_PAGE, PagingQuirks, Stats};
pub use stream::{
    Activity, ActivityCounts, EventsConfig, PublishedEvent, StreamFault, StreamFaultRates,
    StreamStats,
};

use server::{Dropper, Sim};

/// The token the simulator accepts unless configured otherwise.
pub const DEFAULT_TOKEN: &str = "sim-token";

/// A running simulator; it stops when dropped.
pub struct Simulator {
    sim: Arc<Sim>,
    addr: SocketAddr,
    stop: Arc<Notify>,
}

impl Simulator {
    /// Serve `home` on a random loopback port.
    pub async fn start(home: Home, config: Config) -> Result<Self> {
        Self::bind("127.0.0.1:0".parse()?, home, config).await
    }

    /// Serve `home` on `addr`.
    pub async fn bind(addr: SocketAddr, home: Home, config: Config) -> Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let sim = Arc::new(Sim::new(home, config, format!("http://{addr}")));
        // The event stream on a second port: another origin, as
        // SmartThings' registration URLs are on another host.
        let streams = TcpListener::bind((addr.ip(), 0))
            .await
            .context("cannot listen for the event stream")?;
        *sim.stream_origin.lock().expect("stream origin") =
            format!("http://{}", streams.local_addr()?);
        let stop = Arc::new(Notify::new());
        sim.start_stream_faults();
        tokio::spawn(serve(listener, server::router(sim.clone()), stop.clone()));
        tokio::spawn(serve(
            streams,
            server::stream_router(sim.clone()),
            stop.clone(),
        ));
        Ok(Self { sim, addr, stop })
    }

    /// The API root, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}{API_PREFIX}", self.origin())
    }

    /// The server root, e.g. `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OAuth token endpoint, `{origin}/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.origin())
    }

    /// The OAuth authorize endpoint, `{origin}/oauth/authorize`.
    pub fn authorize_url(&self) -> String {
        format!("{}/oauth/authorize", self.origin())
    }

    /// The first registered OAuth client as `(client_id, client_secret)`
    /// (the default pair if none is registered, which is then refused).
    pub fn oauth_client(&self) -> (&str, &str) {
        self.sim.config.oauth.clients.first().map_or(
            (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            |(id, secret)| (id.as_str(), secret.as_str()),
        )
    }

    /// Issue an authorization code exactly as `GET /oauth/authorize` does
    /// once the user consented, without the browser step; exchange it at
    /// [`token_url`](Self::token_url) with the same `redirect_uri`. Fails
    /// for an unknown client or a `redirect_uri` that is not an absolute
    /// URL.
    pub fn authorize(&self, client_id: &str, redirect_uri: &str, scope: &str) -> Result<String> {
        self.sim
            .issue_code(client_id, redirect_uri, scope)
            .map_err(|e| anyhow::anyhow!("cannot authorize: {e}"))
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first accepted token.
    pub fn token(&self) -> &str {
        self.sim
            .config
            .tokens
            .first()
            .map_or(DEFAULT_TOKEN, String::as_str)
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.sim.stats()
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<LogEntry> {
        self.sim.log.lock().expect("log").clone()
    }

    /// Every command executed so far.
    pub fn commands(&self) -> Vec<ExecutedCommand> {
        self.sim.commands.lock().expect("commands").clone()
    }

    /// The event stream listener's origin, e.g. `http://127.0.0.1:PORT`
    /// (sinks' registration URLs point there).
    pub fn stream_origin(&self) -> String {
        self.sim
            .stream_origin
            .lock()
            .expect("stream origin")
            .clone()
    }

    /// Where sinks are created: `/subscriptions` at the API's root.
    pub fn subscriptions_url(&self) -> String {
        format!("{}/subscriptions", self.origin())
    }

    /// Start random activity (replacing any running): attribute changes and
    /// health flips, each published to the event stream.
    pub fn start_activity(&self, activity: Activity) {
        self.sim.start_activity(activity);
    }

    /// Stop the random activity; the changes it made stay. What it changed
    /// (nothing if none was running).
    pub fn stop_activity(&self) -> ActivityCounts {
        self.sim.stop_activity()
    }

    /// Apply a fault to every open event stream; how many it hit.
    pub fn stream_fault(&self, fault: StreamFault) -> usize {
        self.sim.sinks.lock().expect("sinks").fault(&fault)
    }

    /// Apply a fault to the open stream of one sink (its
    /// `subscriptionId`); whether it had one.
    pub fn stream_fault_for(&self, subscription_id: &str, fault: StreamFault) -> bool {
        self.sim
            .sinks
            .lock()
            .expect("sinks")
            .fault_sink(subscription_id, &fault)
    }

    /// The event stream's counters.
    pub fn stream_stats(&self) -> StreamStats {
        self.sim.sinks.lock().expect("sinks").stats()
    }

    /// Every event published so far (the last million), with how many
    /// streams it reached and how many matching sinks missed it.
    pub fn published_events(&self) -> Vec<PublishedEvent> {
        self.sim.sinks.lock().expect("sinks").published()
    }

    /// The device history as `listDeviceHistory` serves it, oldest first:
    /// every attribute event recorded so far (the last [`MAX_HISTORY`]),
    /// `DeviceActivity` objects whose `(epoch, hash)` strictly increase.
    pub fn device_history(&self) -> Vec<serde_json::Value> {
        let home = self.sim.home.lock().expect("home");
        let history = self.sim.history.lock().expect("history");
        history
            .entries()
            .iter()
            .map(|e| {
                let name = home.devices.get(&e.device_id).map(home::device_label);
                let location = home
                    .locations
                    .get(&e.location_id)
                    .and_then(|l| l["name"].as_str())
                    .unwrap_or_default();
                e.activity(name.as_deref(), location)
            })
            .collect()
    }

    /// The hubs as `(hub id, location id)`: the demo and generated homes
    /// have one per location (served at `/hubdevices/{hubId}`, not listed
    /// among the devices, so that the homes' device counts stay as they
    /// were).
    pub fn hubs(&self) -> Vec<(String, String)> {
        let home = self.sim.home.lock().expect("home");
        home.hubs
            .iter()
            .map(|(id, hub)| (id.clone(), hub.location_id.clone()))
            .collect()
    }

    /// The notifications sent (`createNotification` bodies), oldest first.
    pub fn notifications(&self) -> Vec<serde_json::Value> {
        self.sim.home.lock().expect("home").notifications.clone()
    }

    /// Give the home a past: `events` attribute changes spread evenly over
    /// the `window` before now, in the device history as if they had
    /// happened, the newest of each attribute its current value (with that
    /// change's time as its timestamp). For demos of history and backfill:
    /// call it before anything happens; `false`, doing nothing, once the
    /// history has entries. Deterministic for a given home and `seed`, but
    /// for the times, which end now. At most the history's bound of events
    /// ([`MAX_HISTORY`]) are invented.
    pub fn invent_past(&self, window: std::time::Duration, events: usize, seed: u64) -> bool {
        // Ten years at most: a date before that is no demo.
        let window = chrono::Duration::from_std(window)
            .unwrap_or(chrono::Duration::MAX)
            .min(chrono::Duration::days(3650));
        // More would be dropped at once; the bound also keeps the step
        // arithmetic (in i32 steps) in range.
        let events = events.min(MAX_HISTORY);
        self.sim.invent_past(window, events, seed)
    }

    /// Set an attribute of a device's status, as the device itself would
    /// report it: a `DEVICE_EVENT` is published. `false` for an unknown
    /// device.
    pub fn set_attribute(
        &self,
        device_id: &str,
        component: &str,
        capability: &str,
        attribute: &str,
        value: serde_json::Value,
    ) -> bool {
        let change = stream::Attribute {
            component: component.to_owned(),
            capability: capability.to_owned(),
            attribute: attribute.to_owned(),
            value,
            unit: None,
            command_id: None,
        };
        self.sim
            .change(|home| home.set_attribute(device_id, change, chrono::Utc::now()))
    }

    /// The device reports itself online or offline: its health changes and
    /// a `DEVICE_HEALTH_EVENT` is published. `false` for an unknown device.
    pub fn set_health(&self, device_id: &str, online: bool) -> bool {
        self.sim
            .change(|home| home.set_health(device_id, online, chrono::Utc::now()))
    }

    /// Add a device; a lifecycle `CREATE` event is published (`UPDATE` if
    /// it replaces one with the same id).
    pub fn add_device(&self, device: SimDevice) {
        self.sim
            .change(|home| home.insert_device(device, chrono::Utc::now()));
    }

    /// Remove a device; a lifecycle `DELETE` event is published. `false`
    /// for an unknown device.
    pub fn remove_device(&self, device_id: &str) -> bool {
        self.sim
            .change(|home| home.remove_device(device_id, chrono::Utc::now()))
            .is_some()
    }

    /// Move a device into a room (or out of every room); a lifecycle
    /// `ROOM_MOVE` event is published. `false` for an unknown device.
    pub fn move_device(&self, device_id: &str, room_id: Option<&str>) -> bool {
        self.sim
            .change(|home| home.move_device(device_id, room_id, chrono::Utc::now()))
    }

    /// Read or change the home while the simulator runs. Changes made
    /// through [`Home`]'s own methods that publish events (e.g.
    /// [`Home::delete_location`]) are published when `f` returns; plain
    /// field edits are not events.
    pub fn with_home<T>(&self, f: impl FnOnce(&mut Home) -> T) -> T {
        self.sim.change(f)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.sim.shut_down();
        self.stop.notify_waiters();
    }
}

/// Accept loop: one hyper connection per socket, each able to be dropped
/// mid-request by the fault layer.
async fn serve(listener: TcpListener, app: axum::Router, stop: Arc<Notify>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.notified() => return,
        };
        let Ok((socket, _)) = accepted else { continue };
        let app = app.clone();
        tokio::spawn(async move {
            let dropper = Arc::new(Notify::new());
            let marker = dropper.clone();
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(axum::body::Body::new);
                    request.extensions_mut().insert(Dropper(marker.clone()));
                    app.clone().oneshot(request)
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service);
            tokio::select! {
                _ = connection => {}
                // Closing without an answer: the connection is dropped.
                () = dropper.notified() => {}
            }
        });
    }
}
