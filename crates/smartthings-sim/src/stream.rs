//! The event stream's server side: sinks (`POST /subscriptions`), their
//! SSE connections on a second listener, the events every state change
//! publishes to them, the sink limit and expiry, and the faults real streams
//! show (drops, half-open connections, one device falling silent while
//! `welcome` goes on, `goodbye`). A sink without an open connection does not
//! buffer: what it misses is lost, as on the real service.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How the event stream behaves.
#[derive(Clone, Debug)]
pub struct EventsConfig {
    /// How often `welcome` is sent, in simulated time (real: divided by
    /// `Config::time_scale`). SmartThings sends it about every minute.
    pub welcome_period: Duration,
    /// Sinks per principal (token, or OAuth token family).
    pub sink_limit: usize,
    /// How long a sink lives, in simulated time (SmartThings: 4–6 hours).
    pub sink_ttl: Duration,
    /// Random stream faults, none by default.
    pub faults: StreamFaultRates,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            welcome_period: Duration::from_secs(60),
            sink_limit: 2,
            sink_ttl: Duration::from_secs(5 * 60 * 60),
            faults: StreamFaultRates::default(),
        }
    }
}

/// Random stream faults: how often each [`StreamFault`] hits each open
/// stream, per second of real time. A silence picks a random device of the
/// home.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamFaultRates {
    /// [`StreamFault::Drop`]s per stream per second.
    pub drop: f64,
    /// [`StreamFault::HalfOpen`]s per stream per second.
    pub half_open: f64,
    /// [`StreamFault::Goodbye`]s per stream per second.
    pub goodbye: f64,
    /// [`StreamFault::Silence`]s per stream per second.
    pub silence: f64,
    /// The generator's seed.
    pub seed: u64,
}

impl StreamFaultRates {
    /// Whether any rate is set.
    pub fn any(&self) -> bool {
        [self.drop, self.half_open, self.goodbye, self.silence]
            .iter()
            .any(|r| *r > 0.0)
    }
}

/// A fault applied to open streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFault {
    /// The connection is cut without a `goodbye`.
    Drop,
    /// The connection stays open and nothing more is sent, not even
    /// `welcome` or `goodbye`; its events are lost.
    HalfOpen,
    /// `goodbye`, then the connection is closed.
    Goodbye,
    /// This device's events stop reaching the stream (lost) while
    /// `welcome` and other devices' events go on, until the stream ends.
    Silence {
        /// The device.
        device_id: String,
    },
}

/// Random activity: attribute changes (and some health flips) of the first
/// `devices` devices, published as they happen.
#[derive(Clone, Debug)]
pub struct Activity {
    /// How many devices take part (the first ones of the home).
    pub devices: usize,
    /// Changes per second, in real time.
    pub events_per_second: f64,
    /// The share of changes that are health flips.
    pub health_fraction: f64,
    /// The generator's seed.
    pub seed: u64,
}

/// What a random activity changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActivityCounts {
    /// Attribute changes (each a `DEVICE_EVENT`).
    pub attribute_changes: u64,
    /// Health flips (each a `DEVICE_HEALTH_EVENT`).
    pub health_flips: u64,
}

/// Counters of the event stream, in `/__sim/stats` as `events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StreamStats {
    /// Sinks created.
    pub sinks_created: u64,
    /// Sinks deleted with `DELETE /subscriptions/{id}`.
    pub sinks_deleted: u64,
    /// Sinks that expired.
    pub sinks_expired: u64,
    /// Sinks alive now.
    pub sinks_active: u64,
    /// Creations refused by the sink limit.
    pub sink_limit_refusals: u64,
    /// Stream connections opened.
    pub streams_opened: u64,
    /// Stream connections open now (half-open ones included).
    pub streams_active: u64,
    /// Events published by state changes.
    pub events_published: u64,
    /// Event deliveries to open streams.
    pub events_delivered: u64,
    /// Deliveries missed: a matching sink had no (working) stream.
    pub events_lost: u64,
    /// `welcome`s sent.
    pub welcomes_sent: u64,
    /// `goodbye`s sent.
    pub goodbyes_sent: u64,
}

/// One published event, for tests to compare with what a client saw.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedEvent {
    /// Publication order.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// `DEVICE_EVENT`, `DEVICE_HEALTH_EVENT` or `DEVICE_LIFECYCLE_EVENT`.
    pub kind: &'static str,
    /// The device.
    pub device_id: String,
    /// The component, for device events.
    pub component: Option<String>,
    /// The capability, for device events.
    pub capability: Option<String>,
    /// The attribute, for device events.
    pub attribute: Option<String>,
    /// The new value (the health state, the lifecycle).
    pub value: Value,
    /// Streams it reached.
    pub delivered: usize,
    /// Matching sinks it did not reach.
    pub lost: usize,
}

/// The most published events kept for [`PublishedEvent`] queries.
const KEEP_PUBLISHED: usize = 1_000_000;

/// Every this many events one is split over two `data:` lines, and one is
/// preceded by a `: keepalive` comment, so that parsers meet both.
const QUIRK_EVERY: u64 = 50;

/// A state change to publish.
#[derive(Clone, Debug)]
pub(crate) struct StateChange {
    pub(crate) device_id: String,
    pub(crate) location_id: String,
    pub(crate) kind: ChangeKind,
    pub(crate) time_ms: i64,
}

#[derive(Clone, Debug)]
pub(crate) enum ChangeKind {
    Attribute(Attribute),
    Health { state: &'static str },
    Lifecycle { name: String, what: Lifecycle },
}

/// One attribute's new state.
#[derive(Clone, Debug)]
pub(crate) struct Attribute {
    pub(crate) component: String,
    pub(crate) capability: String,
    pub(crate) attribute: String,
    pub(crate) value: Value,
    pub(crate) unit: Option<String>,
    /// The command that caused it, if one did.
    pub(crate) command_id: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum Lifecycle {
    Create,
    Update,
    Delete,
    RoomMove {
        from: Option<String>,
        to: Option<String>,
    },
}

impl Lifecycle {
    fn as_str(&self) -> &'static str {
        match self {
            Lifecycle::Create => "CREATE",
            Lifecycle::Update => "UPDATE",
            Lifecycle::Delete => "DELETE",
            Lifecycle::RoomMove { .. } => "ROOM_MOVE",
        }
    }
}

/// What a sink listens to.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    pub(crate) kind: String,
    pub(crate) values: Vec<String>,
    pub(crate) event_types: Vec<String>,
}

impl Filter {
    fn matches(&self, change: &StateChange, event_type: &str) -> bool {
        if !self.event_types.is_empty() && !self.event_types.iter().any(|t| t == event_type) {
            return false;
        }
        match self.kind.as_str() {
            "LOCATIONIDS" => self
                .values
                .iter()
                .any(|v| v == "ALL" || *v == change.location_id),
            "DEVICEIDS" => self.values.contains(&change.device_id),
            // SMARTAPPIDS, INSTALLEDSMARTAPPIDS: apps' own events, which the
            // simulator has none of; no device event matches them.
            _ => false,
        }
    }
}

/// A frame for one stream connection.
pub(crate) enum Frame {
    Data(Bytes),
    /// End the body cleanly.
    Close,
    /// Cut the connection (the body fails).
    Cut,
}

struct Connection {
    id: u64,
    sender: mpsc::UnboundedSender<Frame>,
    half_open: bool,
    silenced: HashSet<String>,
}

impl Connection {
    /// Whether an event of `device_id` reaches the client.
    fn delivers(&self, device_id: &str) -> bool {
        !self.half_open && !self.silenced.contains(device_id) && !self.sender.is_closed()
    }
}

struct Sink {
    name: String,
    principal: String,
    filter: Filter,
    expires: Instant,
    connection: Option<Connection>,
}

/// A stream just opened: its connection id, its frames, and when its sink
/// expires (the stream ends then).
pub(crate) struct Opened {
    pub(crate) connection: u64,
    pub(crate) frames: mpsc::UnboundedReceiver<Frame>,
    pub(crate) expires: Instant,
}

/// The sinks and their connections. Ordered by id, so that seeded random
/// faults hit the same streams in the same order.
pub(crate) struct Sinks {
    config: EventsConfig,
    time_scale: f64,
    sinks: BTreeMap<String, Sink>,
    stats: StreamStats,
    published: VecDeque<PublishedEvent>,
    next_connection: u64,
    next_event: u64,
}

/// Why a sink was not created.
pub(crate) enum Refused {
    Limit(usize),
}

impl Sinks {
    pub(crate) fn new(config: EventsConfig, time_scale: f64) -> Self {
        Self {
            config,
            time_scale,
            sinks: BTreeMap::new(),
            stats: StreamStats::default(),
            published: VecDeque::new(),
            next_connection: 0,
            next_event: 0,
        }
    }

    fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.time_scale.max(f64::MIN_POSITIVE))
    }

    /// The real period between `welcome`s.
    pub(crate) fn welcome_period(&self) -> Duration {
        self.real(self.config.welcome_period)
            .max(Duration::from_millis(10))
    }

    /// Drop the sinks whose time is up; their streams get `goodbye`.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .sinks
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(mut sink) = self.sinks.remove(&id) {
                self.stats.sinks_expired += 1;
                say_goodbye(&mut sink.connection, &mut self.stats);
            }
        }
    }

    pub(crate) fn create(
        &mut self,
        id: String,
        name: &str,
        principal: &str,
        filter: Filter,
    ) -> Result<(), Refused> {
        let now = Instant::now();
        self.expire(now);
        let owned = self
            .sinks
            .values()
            .filter(|s| s.principal == principal)
            .count();
        if owned >= self.config.sink_limit {
            self.stats.sink_limit_refusals += 1;
            return Err(Refused::Limit(self.config.sink_limit));
        }
        let expires = now + self.real(self.config.sink_ttl);
        self.sinks.insert(
            id,
            Sink {
                name: name.to_owned(),
                principal: principal.to_owned(),
                filter,
                expires,
                connection: None,
            },
        );
        self.stats.sinks_created += 1;
        Ok(())
    }

    /// Delete a sink of `principal`, closing its stream; `false` if there is
    /// none.
    pub(crate) fn delete(&mut self, id: &str, principal: &str) -> bool {
        self.expire(Instant::now());
        if self.sinks.get(id).is_none_or(|s| s.principal != principal) {
            return false;
        }
        if let Some(sink) = self.sinks.remove(id) {
            self.stats.sinks_deleted += 1;
            close(sink.connection, Frame::Close);
        }
        true
    }

    /// Open the stream of a sink, `welcome` first; a new connection replaces
    /// an open one.
    pub(crate) fn connect(&mut self, id: &str, principal: &str) -> Option<Opened> {
        self.expire(Instant::now());
        let sink = self
            .sinks
            .get_mut(id)
            .filter(|s| s.principal == principal)?;
        let (sender, frames) = mpsc::unbounded_channel();
        self.next_connection += 1;
        let _ = sender.send(welcome());
        let connection = Connection {
            id: self.next_connection,
            sender,
            half_open: false,
            silenced: HashSet::new(),
        };
        close(sink.connection.replace(connection), Frame::Close);
        self.stats.streams_opened += 1;
        self.stats.welcomes_sent += 1;
        Some(Opened {
            connection: self.next_connection,
            frames,
            expires: sink.expires,
        })
    }

    /// The stream's timer: expire sinks, then send `welcome` if `due`;
    /// `false` once the connection is gone (closed, replaced or expired).
    pub(crate) fn tick(&mut self, sink: &str, connection: u64, due: bool) -> bool {
        self.expire(Instant::now());
        let Some(slot) = self.sinks.get_mut(sink).map(|s| &mut s.connection) else {
            return false;
        };
        match slot.as_ref() {
            Some(c) if c.id == connection && c.sender.is_closed() => {
                *slot = None;
                false
            }
            Some(c) if c.id == connection => {
                if due && !c.half_open && c.sender.send(welcome()).is_ok() {
                    self.stats.welcomes_sent += 1;
                }
                true
            }
            _ => false,
        }
    }

    /// The client went away: free the sink's stream slot, if the
    /// connection still holds it.
    pub(crate) fn release(&mut self, sink: &str, connection: u64) {
        if let Some(s) = self.sinks.get_mut(sink)
            && s.connection.as_ref().is_some_and(|c| c.id == connection)
        {
            s.connection = None;
        }
    }

    /// Close every stream on purpose (the simulator stops): `goodbye`, then
    /// the end.
    pub(crate) fn shutdown(&mut self) {
        for sink in self.sinks.values_mut() {
            say_goodbye(&mut sink.connection, &mut self.stats);
        }
    }

    /// Apply a fault to every open connection; how many it hit.
    pub(crate) fn fault(&mut self, fault: &StreamFault) -> usize {
        let mut hit = 0;
        for sink in self.sinks.values_mut() {
            hit += usize::from(apply(&mut sink.connection, fault, &mut self.stats));
        }
        hit
    }

    /// Apply a fault to one sink's open connection; whether it had one.
    pub(crate) fn fault_sink(&mut self, id: &str, fault: &StreamFault) -> bool {
        self.sinks
            .get_mut(id)
            .is_some_and(|sink| apply(&mut sink.connection, fault, &mut self.stats))
    }

    /// Draw random faults for every open connection over `elapsed`;
    /// `device` is the one a silence would pick.
    pub(crate) fn random_faults(
        &mut self,
        rng: &mut fastrand::Rng,
        rates: &StreamFaultRates,
        elapsed: Duration,
        device: Option<&str>,
    ) {
        let seconds = elapsed.as_secs_f64();
        for sink in self.sinks.values_mut() {
            if sink.connection.is_none() {
                continue;
            }
            let draw = rng.f64();
            let mut bound = 0.0;
            let mut pick = |rate: f64| {
                bound += rate * seconds;
                draw < bound
            };
            let fault = if pick(rates.drop) {
                StreamFault::Drop
            } else if pick(rates.half_open) {
                StreamFault::HalfOpen
            } else if pick(rates.goodbye) {
                StreamFault::Goodbye
            } else if pick(rates.silence)
                && let Some(device) = device
            {
                StreamFault::Silence {
                    device_id: device.to_owned(),
                }
            } else {
                continue;
            };
            apply(&mut sink.connection, &fault, &mut self.stats);
        }
    }

    /// Publish one state change to every matching sink.
    pub(crate) fn publish(&mut self, change: &StateChange) {
        let event_type = match change.kind {
            ChangeKind::Attribute(_) => "DEVICE_EVENT",
            ChangeKind::Health { .. } => "DEVICE_HEALTH_EVENT",
            ChangeKind::Lifecycle { .. } => "DEVICE_LIFECYCLE_EVENT",
        };
        self.next_event += 1;
        let seq = self.next_event;
        let event_id = format!("5e1a0000-e7e7-4000-8000-{seq:012x}");
        self.stats.events_published += 1;
        let (mut delivered, mut lost) = (0, 0);
        // Encoded once per subscription name (device events carry it).
        let mut encoded: Vec<(&str, Bytes)> = Vec::new();
        for sink in self.sinks.values() {
            if !sink.filter.matches(change, event_type) {
                continue;
            }
            let Some(connection) = sink
                .connection
                .as_ref()
                .filter(|c| c.delivers(&change.device_id))
            else {
                lost += 1;
                continue;
            };
            let bytes = match encoded.iter().find(|(name, _)| *name == sink.name) {
                Some((_, bytes)) => bytes.clone(),
                None => {
                    let bytes = encode(change, event_type, &event_id, seq, &sink.name);
                    encoded.push((&sink.name, bytes.clone()));
                    bytes
                }
            };
            if connection.sender.send(Frame::Data(bytes)).is_ok() {
                delivered += 1;
            } else {
                lost += 1;
            }
        }
        self.stats.events_delivered += delivered as u64;
        self.stats.events_lost += lost as u64;
        let (component, capability, attribute, value) = match &change.kind {
            ChangeKind::Attribute(a) => (
                Some(a.component.clone()),
                Some(a.capability.clone()),
                Some(a.attribute.clone()),
                a.value.clone(),
            ),
            ChangeKind::Health { state } => (None, None, None, json!(state)),
            ChangeKind::Lifecycle { what, .. } => (None, None, None, json!(what.as_str())),
        };
        if self.published.len() == KEEP_PUBLISHED {
            self.published.pop_front();
        }
        self.published.push_back(PublishedEvent {
            seq,
            event_id,
            kind: event_type,
            device_id: change.device_id.clone(),
            component,
            capability,
            attribute,
            value,
            delivered,
            lost,
        });
    }

    pub(crate) fn stats(&mut self) -> StreamStats {
        self.expire(Instant::now());
        let mut stats = self.stats.clone();
        stats.sinks_active = self.sinks.len() as u64;
        stats.streams_active = self
            .sinks
            .values()
            .filter(|s| s.connection.as_ref().is_some_and(|c| !c.sender.is_closed()))
            .count() as u64;
        stats
    }

    pub(crate) fn published(&self) -> Vec<PublishedEvent> {
        self.published.iter().cloned().collect()
    }
}

/// Apply `fault` to the connection in `slot`; whether there was one.
fn apply(slot: &mut Option<Connection>, fault: &StreamFault, stats: &mut StreamStats) -> bool {
    if slot.as_ref().is_some_and(|c| c.sender.is_closed()) {
        *slot = None;
    }
    let Some(connection) = slot.as_mut() else {
        return false;
    };
    match fault {
        StreamFault::Drop => close(slot.take(), Frame::Cut),
        StreamFault::Goodbye => say_goodbye(slot, stats),
        StreamFault::HalfOpen => connection.half_open = true,
        StreamFault::Silence { device_id } => {
            connection.silenced.insert(device_id.clone());
        }
    }
    true
}

/// Close a connection on purpose: `goodbye` first, unless it is half-open
/// (which sends nothing at all).
fn say_goodbye(slot: &mut Option<Connection>, stats: &mut StreamStats) {
    if let Some(connection) = slot.take() {
        if !connection.half_open && connection.sender.send(goodbye()).is_ok() {
            stats.goodbyes_sent += 1;
        }
        close(Some(connection), Frame::Close);
    }
}

fn close(connection: Option<Connection>, how: Frame) {
    if let Some(connection) = connection {
        let _ = connection.sender.send(how);
    }
}

fn welcome() -> Frame {
    Frame::Data(sse("CONTROL_EVENT", "welcome"))
}

fn goodbye() -> Frame {
    Frame::Data(sse("CONTROL_EVENT", "goodbye"))
}

/// One SSE event; every line of `data` becomes a `data:` line.
fn sse(event: &str, data: &str) -> Bytes {
    let mut text = format!("event: {event}\n");
    for line in data.split('\n') {
        text.push_str("data: ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    Bytes::from(text)
}

/// The SSE frame of one event as a sink named `subscription` receives it.
fn encode(
    change: &StateChange,
    event_type: &str,
    event_id: &str,
    seq: u64,
    subscription: &str,
) -> Bytes {
    let body_key = match change.kind {
        ChangeKind::Attribute(_) => "deviceEvent",
        ChangeKind::Health { .. } => "deviceHealthEvent",
        ChangeKind::Lifecycle { .. } => "deviceLifecycleEvent",
    };
    let payload = json!({
        "eventTime": change.time_ms,
        "eventType": event_type,
        body_key: event_body(change, event_id, seq, subscription),
    });
    let mut text = payload.to_string();
    // A line break inside the JSON (valid whitespace): the data arrives
    // over two `data:` lines, which a parser must join.
    if seq.is_multiple_of(QUIRK_EVERY) {
        text = text.replacen(",\"eventType\"", ",\n\"eventType\"", 1);
    }
    let frame = sse(event_type, &text);
    if seq % QUIRK_EVERY == QUIRK_EVERY / 2 {
        let mut with_comment = b": keepalive\n\n".to_vec();
        with_comment.extend_from_slice(&frame);
        return Bytes::from(with_comment);
    }
    frame
}

fn event_body(change: &StateChange, event_id: &str, seq: u64, subscription: &str) -> Value {
    let common = |mut body: Value| {
        body["eventId"] = json!(event_id);
        body["locationId"] = json!(change.location_id);
        body["ownerId"] = json!(change.location_id);
        body["ownerType"] = json!("LOCATION");
        body["deviceId"] = json!(change.device_id);
        body
    };
    match &change.kind {
        ChangeKind::Attribute(a) => {
            let value_type = match a.value {
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                Value::String(_) => "string",
                Value::Null => "null",
                _ => "object",
            };
            let mut body = common(json!({
                "componentId": a.component,
                "capability": a.capability,
                "attribute": a.attribute,
                "value": a.value,
                "valueType": value_type,
                "stateChange": true,
                "data": {},
                "subscriptionName": subscription,
                "commandId": a.command_id,
                "sensitive": false,
            }));
            if let Some(unit) = &a.unit {
                body["unit"] = json!(unit);
            }
            if seq.is_multiple_of(97) {
                // Fields a newer server may add.
                body["newField"] = json!({"since": "a later API version"});
            }
            body
        }
        ChangeKind::Health { state } => common(json!({
            "hubId": null,
            "status": state,
            "reason": "NONE",
            "eventSource": "SIMULATOR",
        })),
        ChangeKind::Lifecycle { name, what } => {
            let mut body = common(json!({
                "lifecycle": what.as_str(),
                "deviceName": name,
                "principal": "simulator",
            }));
            match what {
                Lifecycle::Create => {
                    body["create"] = json!({"manufacturerName": "SmartThings Community"});
                }
                Lifecycle::Update => body["update"] = json!({}),
                Lifecycle::RoomMove { from, to } => {
                    body["roomMove"] = json!({"roomIdFrom": from, "roomIdTo": to});
                }
                Lifecycle::Delete => {}
            }
            body
        }
    }
}

/// The random activity while it runs.
pub(crate) struct Running {
    pub(crate) stop: Arc<tokio::sync::Notify>,
    pub(crate) tally: Arc<Mutex<Tally>>,
}

/// What the activity did, and whether it was told to stop: one lock, so
/// that no change happens after the counts were read at its stop.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) counts: ActivityCounts,
    pub(crate) stopped: bool,
}

/// Shared handle for the stream side.
pub(crate) type Shared = Arc<Mutex<Sinks>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn change(device: &str, location: &str) -> StateChange {
        StateChange {
            device_id: device.into(),
            location_id: location.into(),
            kind: ChangeKind::Attribute(Attribute {
                component: "main".into(),
                capability: "switch".into(),
                attribute: "switch".into(),
                value: json!("on"),
                unit: None,
                command_id: None,
            }),
            time_ms: 1,
        }
    }

    fn filter(kind: &str, values: &[&str]) -> Filter {
        Filter {
            kind: kind.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            event_types: vec!["DEVICE_EVENT".into()],
        }
    }

    fn all() -> Filter {
        filter("LOCATIONIDS", &["ALL"])
    }

    /// Everything sent so far on a stream, as text; whether it ended.
    fn drain(frames: &mut mpsc::UnboundedReceiver<Frame>) -> (String, Option<&'static str>) {
        let mut text = String::new();
        while let Ok(frame) = frames.try_recv() {
            match frame {
                Frame::Data(bytes) => text.push_str(std::str::from_utf8(&bytes).unwrap()),
                Frame::Close => return (text, Some("close")),
                Frame::Cut => return (text, Some("cut")),
            }
        }
        (text, None)
    }

    #[test]
    fn filters_match_locations_devices_and_all() {
        let c = change("d1", "l1");
        assert!(all().matches(&c, "DEVICE_EVENT"));
        assert!(filter("LOCATIONIDS", &["l1"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("LOCATIONIDS", &["l2"]).matches(&c, "DEVICE_EVENT"));
        assert!(filter("DEVICEIDS", &["d1"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("DEVICEIDS", &["d2"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("SMARTAPPIDS", &["app"]).matches(&c, "DEVICE_EVENT"));
        assert!(!all().matches(&c, "DEVICE_HEALTH_EVENT"));
    }

    #[test]
    fn the_limit_counts_per_principal_and_unconnected_sinks_lose_events() {
        let mut sinks = Sinks::new(EventsConfig::default(), 1.0);
        assert!(sinks.create("a".into(), "n", "p", all()).is_ok());
        assert!(sinks.create("b".into(), "n", "p", all()).is_ok());
        assert!(sinks.create("c".into(), "n", "p", all()).is_err());
        assert!(sinks.create("c".into(), "n", "q", all()).is_ok());
        sinks.publish(&change("d1", "l1"));
        let stats = sinks.stats();
        assert_eq!((stats.events_published, stats.events_lost), (1, 3));
        assert_eq!(stats.sink_limit_refusals, 1);
        assert!(!sinks.delete("a", "q"), "another principal's sink");
        assert!(sinks.delete("a", "p"));
        assert!(sinks.create("d".into(), "n", "p", all()).is_ok());
    }

    #[test]
    fn every_fiftieth_event_is_split_and_one_has_a_keepalive_before_it() {
        let mut sinks = Sinks::new(EventsConfig::default(), 1.0);
        sinks.create("a".into(), "mine", "p", all()).ok();
        let mut opened = sinks.connect("a", "p").unwrap();
        let (welcome, _) = drain(&mut opened.frames);
        assert_eq!(welcome, "event: CONTROL_EVENT\ndata: welcome\n\n");
        let mut texts = Vec::new();
        for _ in 0..QUIRK_EVERY {
            sinks.publish(&change("d1", "l1"));
            texts.push(drain(&mut opened.frames).0);
        }
        let keepalive = &texts[QUIRK_EVERY as usize / 2 - 1];
        assert!(keepalive.starts_with(": keepalive\n\nevent: DEVICE_EVENT\ndata: {"));
        let split = texts.last().unwrap();
        assert_eq!(split.matches("\ndata: ").count(), 2, "{split}");
        let plain = &texts[0];
        assert_eq!(plain.matches("data: ").count(), 1);
        let data = plain
            .strip_prefix("event: DEVICE_EVENT\ndata: ")
            .unwrap()
            .trim_end();
        let event: Value = serde_json::from_str(data).unwrap();
        assert_eq!(event["deviceEvent"]["subscriptionName"], "mine");
        assert_eq!(event["eventTime"], 1);
    }

    #[test]
    fn half_open_and_silenced_streams_lose_events_and_drop_cuts() {
        let mut sinks = Sinks::new(EventsConfig::default(), 1.0);
        sinks.create("a".into(), "n", "p", all()).ok();
        sinks.create("b".into(), "n", "p", all()).ok();
        let mut a = sinks.connect("a", "p").unwrap();
        let mut b = sinks.connect("b", "p").unwrap();
        drain(&mut a.frames);
        drain(&mut b.frames);
        assert!(sinks.fault_sink("a", &StreamFault::HalfOpen));
        let silence = StreamFault::Silence {
            device_id: "d1".into(),
        };
        assert!(sinks.fault_sink("b", &silence));
        sinks.publish(&change("d1", "l1"));
        sinks.publish(&change("d2", "l1"));
        assert!(sinks.tick("a", a.connection, true));
        assert!(sinks.tick("b", b.connection, true));
        assert_eq!(drain(&mut a.frames), (String::new(), None), "half-open");
        let (text, _) = drain(&mut b.frames);
        assert!(
            !text.contains("\"d1\"") && text.contains("\"d2\""),
            "{text}"
        );
        assert!(text.contains("welcome"));
        let published = sinks.published();
        assert_eq!((published[0].delivered, published[0].lost), (0, 2));
        assert_eq!((published[1].delivered, published[1].lost), (1, 1));
        assert_eq!(sinks.fault(&StreamFault::Drop), 2);
        assert_eq!(drain(&mut a.frames).1, Some("cut"));
        assert_eq!(drain(&mut b.frames).1, Some("cut"));
        assert_eq!(sinks.fault(&StreamFault::Drop), 0, "nothing left open");
    }

    #[test]
    fn expiry_says_goodbye_and_frees_the_slot_and_a_new_stream_replaces_the_old() {
        let config = EventsConfig {
            sink_ttl: Duration::from_millis(30),
            ..EventsConfig::default()
        };
        let mut sinks = Sinks::new(config, 1.0);
        sinks.create("a".into(), "n", "p", all()).ok();
        let mut first = sinks.connect("a", "p").unwrap();
        let second = sinks.connect("a", "p").unwrap();
        assert_eq!(drain(&mut first.frames).1, Some("close"), "replaced");
        assert!(!sinks.tick("a", first.connection, true));
        sinks.release("a", first.connection);
        assert_eq!(sinks.stats().streams_active, 1, "the old one freed nothing");
        drop(second.frames);
        assert_eq!(sinks.stats().streams_active, 0, "the client went away");
        let mut third = sinks.connect("a", "p").unwrap();
        std::thread::sleep(Duration::from_millis(40));
        let stats = sinks.stats();
        assert_eq!((stats.sinks_active, stats.sinks_expired), (0, 1));
        let (text, end) = drain(&mut third.frames);
        assert!(text.ends_with("data: goodbye\n\n"), "{text}");
        assert_eq!((end, stats.goodbyes_sent), (Some("close"), 1));
        assert!(sinks.create("b".into(), "n", "p", all()).is_ok());
    }

    #[test]
    fn random_faults_follow_their_rates_and_seed() {
        let run = |seed| {
            let mut sinks = Sinks::new(EventsConfig::default(), 1.0);
            let rates = StreamFaultRates {
                drop: 1.0,
                seed,
                ..StreamFaultRates::default()
            };
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut drops = 0;
            sinks.create("a".into(), "n", "p", all()).ok();
            for _ in 0..1000 {
                let mut opened = sinks.connect("a", "p").unwrap();
                sinks.random_faults(&mut rng, &rates, Duration::from_millis(100), None);
                drops += usize::from(drain(&mut opened.frames).1 == Some("cut"));
            }
            drops
        };
        let drops = run(7);
        assert!((60..=140).contains(&drops), "{drops} of about 100");
        assert_eq!(run(7), drops, "seeded");
    }
}
