//! The event stream's server side: sinks (`POST /subscriptions`), their
//! SSE connections on a second listener, the events every state change
//! publishes to them, the 2-sink limit and expiry, random activity, and the
//! faults real streams show (drops, half-open connections, one device
//! falling silent while `welcome` goes on, `goodbye`). A sink without an
//! open connection does not buffer: what it misses is lost, as on the real
//! service.

use std::collections::{HashMap, HashSet, VecDeque};
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
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            welcome_period: Duration::from_secs(60),
            sink_limit: 2,
            sink_ttl: Duration::from_secs(5 * 60 * 60),
        }
    }
}

/// A fault applied to every open stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFault {
    /// The connection is cut without a `goodbye`.
    Drop,
    /// The connection stays open and nothing more is sent, not even
    /// `welcome`; its events are lost.
    HalfOpen,
    /// `goodbye`, then the connection is closed.
    Goodbye,
    /// This device's events stop reaching the stream (lost) while
    /// `welcome` and other devices' events go on, until it reconnects.
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
    Attribute {
        component: String,
        capability: String,
        attribute: String,
        value: Value,
        unit: Option<String>,
    },
    Health {
        state: &'static str,
    },
    Lifecycle {
        lifecycle: &'static str,
        name: String,
    },
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
            // Apps' own events: none of a device's.
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

struct Sink {
    principal: String,
    filter: Filter,
    expires: Instant,
    connection: Option<Connection>,
}

/// The sinks and their connections.
pub(crate) struct Sinks {
    config: EventsConfig,
    time_scale: f64,
    sinks: HashMap<String, Sink>,
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
            sinks: HashMap::new(),
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

    /// Drop the sinks whose time is up, ending their streams.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .sinks
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(sink) = self.sinks.remove(&id) {
                self.stats.sinks_expired += 1;
                close(sink.connection, Frame::Close);
            }
        }
    }

    pub(crate) fn create(
        &mut self,
        id: String,
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
                principal: principal.to_owned(),
                filter,
                expires,
                connection: None,
            },
        );
        self.stats.sinks_created += 1;
        Ok(())
    }

    /// Delete a sink of `principal`; `false` if there is none.
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

    /// Open the stream of a sink: a new connection replaces an open one.
    pub(crate) fn connect(
        &mut self,
        id: &str,
        principal: &str,
    ) -> Option<(u64, mpsc::UnboundedReceiver<Frame>)> {
        self.expire(Instant::now());
        let sink = self
            .sinks
            .get_mut(id)
            .filter(|s| s.principal == principal)?;
        let (sender, receiver) = mpsc::unbounded_channel();
        self.next_connection += 1;
        let connection = Connection {
            id: self.next_connection,
            sender,
            half_open: false,
            silenced: HashSet::new(),
        };
        close(sink.connection.replace(connection), Frame::Close);
        self.stats.streams_opened += 1;
        let _ = sink.connection.as_ref().map(|c| c.sender.send(welcome()));
        self.stats.welcomes_sent += 1;
        Some((self.next_connection, receiver))
    }

    /// Send `welcome` on every working connection; `false` once the
    /// connection `id` is gone.
    pub(crate) fn welcome(&mut self, id: u64) -> bool {
        self.expire(Instant::now());
        let mut alive = false;
        for sink in self.sinks.values_mut() {
            let Some(connection) = sink.connection.as_mut().filter(|c| c.id == id) else {
                continue;
            };
            if connection.sender.is_closed() {
                sink.connection = None;
                return false;
            }
            alive = true;
            if !connection.half_open && connection.sender.send(welcome()).is_ok() {
                self.stats.welcomes_sent += 1;
            }
        }
        alive
    }

    /// Apply a fault to every open connection; how many it hit.
    pub(crate) fn fault(&mut self, fault: &StreamFault) -> usize {
        let mut hit = 0;
        for sink in self.sinks.values_mut() {
            if sink
                .connection
                .as_ref()
                .is_some_and(|c| c.sender.is_closed())
            {
                sink.connection = None;
            }
            let Some(connection) = sink.connection.as_mut() else {
                continue;
            };
            hit += 1;
            match fault {
                StreamFault::Drop => close(sink.connection.take(), Frame::Cut),
                StreamFault::Goodbye => {
                    let _ = connection.sender.send(frame("CONTROL_EVENT", "goodbye"));
                    self.stats.goodbyes_sent += 1;
                    close(sink.connection.take(), Frame::Close);
                }
                StreamFault::HalfOpen => connection.half_open = true,
                StreamFault::Silence { device_id } => {
                    connection.silenced.insert(device_id.clone());
                }
            }
        }
        hit
    }

    /// Publish one state change to every matching sink.
    pub(crate) fn publish(&mut self, change: &StateChange) {
        let (event_type, body_key) = match change.kind {
            ChangeKind::Attribute { .. } => ("DEVICE_EVENT", "deviceEvent"),
            ChangeKind::Health { .. } => ("DEVICE_HEALTH_EVENT", "deviceHealthEvent"),
            ChangeKind::Lifecycle { .. } => ("DEVICE_LIFECYCLE_EVENT", "deviceLifecycleEvent"),
        };
        self.next_event += 1;
        let seq = self.next_event;
        let event_id = format!("5e1a0000-e7e7-4000-8000-{seq:012x}");
        self.stats.events_published += 1;
        let (mut delivered, mut lost) = (0, 0);
        let mut encoded: Option<Bytes> = None;
        for sink in self.sinks.values_mut() {
            if !sink.filter.matches(change, event_type) {
                continue;
            }
            let connection = sink.connection.as_ref().filter(|c| {
                !c.half_open && !c.silenced.contains(&change.device_id) && !c.sender.is_closed()
            });
            let Some(connection) = connection else {
                lost += 1;
                continue;
            };
            let bytes = encoded
                .get_or_insert_with(|| {
                    let body = event_body(change, &event_id, seq);
                    let payload = json!({
                        "eventTime": change.time_ms,
                        "eventType": event_type,
                        body_key: body,
                    });
                    let mut text = payload.to_string();
                    // Now and then a line break inside the JSON: SSE data over
                    // two lines, which a parser must join.
                    if seq.is_multiple_of(50) {
                        text = text.replacen(",\"eventType\"", ",\n\"eventType\"", 1);
                    }
                    frame(event_type, &text).into_bytes()
                })
                .clone();
            if connection.sender.send(Frame::Data(bytes)).is_ok() {
                delivered += 1;
            } else {
                lost += 1;
            }
        }
        self.stats.events_delivered += delivered as u64;
        self.stats.events_lost += lost as u64;
        let (component, capability, attribute, value) = match &change.kind {
            ChangeKind::Attribute {
                component,
                capability,
                attribute,
                value,
                ..
            } => (
                Some(component.clone()),
                Some(capability.clone()),
                Some(attribute.clone()),
                value.clone(),
            ),
            ChangeKind::Health { state } => (None, None, None, json!(state)),
            ChangeKind::Lifecycle { lifecycle, .. } => (None, None, None, json!(lifecycle)),
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

fn close(connection: Option<Connection>, how: Frame) {
    if let Some(connection) = connection {
        let _ = connection.sender.send(how);
    }
}

fn welcome() -> Frame {
    Frame::Data(frame("CONTROL_EVENT", "welcome").into_bytes())
}

/// One SSE event; every line of `data` becomes a `data:` line.
fn frame(event: &str, data: &str) -> Frame {
    let mut text = format!("event: {event}\n");
    for line in data.split('\n') {
        text.push_str("data: ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    Frame::Data(Bytes::from(text))
}

impl Frame {
    fn into_bytes(self) -> Bytes {
        match self {
            Frame::Data(bytes) => bytes,
            Frame::Close | Frame::Cut => Bytes::new(),
        }
    }
}

fn event_body(change: &StateChange, event_id: &str, seq: u64) -> Value {
    let common = |mut body: Value| {
        body["eventId"] = json!(event_id);
        body["locationId"] = json!(change.location_id);
        body["ownerId"] = json!(change.location_id);
        body["ownerType"] = json!("LOCATION");
        body["deviceId"] = json!(change.device_id);
        body
    };
    match &change.kind {
        ChangeKind::Attribute {
            component,
            capability,
            attribute,
            value,
            unit,
        } => {
            let value_type = match value {
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                Value::String(_) => "string",
                Value::Null => "null",
                _ => "object",
            };
            let mut body = common(json!({
                "componentId": component,
                "capability": capability,
                "attribute": attribute,
                "value": value,
                "valueType": value_type,
                "stateChange": true,
                "data": {},
                "subscriptionName": "sim",
                "commandId": null,
                "sensitive": false,
            }));
            if let Some(unit) = unit {
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
        ChangeKind::Lifecycle { lifecycle, name } => {
            let mut body = common(json!({
                "lifecycle": lifecycle,
                "deviceName": name,
                "principal": "simulator",
            }));
            if *lifecycle == "CREATE" {
                body["create"] = json!({"manufacturerName": "SmartThings Community"});
            }
            body
        }
    }
}

/// The random activity's running task.
pub(crate) struct Running {
    pub(crate) stop: Arc<tokio::sync::Notify>,
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
            kind: ChangeKind::Attribute {
                component: "main".into(),
                capability: "switch".into(),
                attribute: "switch".into(),
                value: json!("on"),
                unit: None,
            },
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

    #[test]
    fn filters_match_locations_devices_and_all() {
        let c = change("d1", "l1");
        assert!(filter("LOCATIONIDS", &["ALL"]).matches(&c, "DEVICE_EVENT"));
        assert!(filter("LOCATIONIDS", &["l1"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("LOCATIONIDS", &["l2"]).matches(&c, "DEVICE_EVENT"));
        assert!(filter("DEVICEIDS", &["d1"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("DEVICEIDS", &["d2"]).matches(&c, "DEVICE_EVENT"));
        assert!(!filter("LOCATIONIDS", &["ALL"]).matches(&c, "DEVICE_HEALTH_EVENT"));
    }

    #[test]
    fn the_limit_counts_per_principal_and_unconnected_sinks_lose_events() {
        let mut sinks = Sinks::new(EventsConfig::default(), 1.0);
        let all = || filter("LOCATIONIDS", &["ALL"]);
        assert!(sinks.create("a".into(), "p", all()).is_ok());
        assert!(sinks.create("b".into(), "p", all()).is_ok());
        assert!(sinks.create("c".into(), "p", all()).is_err());
        assert!(sinks.create("c".into(), "q", all()).is_ok());
        sinks.publish(&change("d1", "l1"));
        let stats = sinks.stats();
        assert_eq!((stats.events_published, stats.events_lost), (1, 3));
        assert!(!sinks.delete("a", "q"), "another principal's sink");
        assert!(sinks.delete("a", "p"));
        assert!(sinks.create("d".into(), "p", all()).is_ok());
    }
}
