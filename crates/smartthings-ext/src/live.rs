//! The home's state kept current from the event stream, and provably so:
//! events are applied to the nested status model, and after every
//! (re)connection and on a period the devices are re-read (⌈N/200⌉ pages)
//! and every difference the stream did not deliver is applied and reported
//! as *reconciled*. A consumer sees each state change once, whichever way
//! it arrived; an event older than what is known (by its time against the
//! attribute's timestamp) never rolls a value back.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::Value;
use smartthings::status::{Attribute, Name};
use tokio::sync::{mpsc, oneshot};

use crate::client::SmartThings;
use crate::device::{DeviceExt, Health, HealthState};
use crate::error::Error;
use crate::events::{Event, EventStream, EventSubscription, HealthEvent, LifecycleEvent};
use crate::lists::DeviceQuery;
use crate::paginate::collect_all;
use crate::snapshot::DeviceSnapshot;

/// How a [`LiveHome`] reconciles.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    reconcile_every: Option<Duration>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            reconcile_every: Some(Duration::from_secs(60 * 60)),
        }
    }
}

impl LiveOptions {
    /// Re-read the home on this period as well as after every reconnection
    /// (default hourly; ⌈N/200⌉ requests each, far within the rate limits).
    /// `None`: after reconnections only.
    pub fn reconcile_every(mut self, period: Option<Duration>) -> Self {
        self.reconcile_every = period;
        self
    }
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Delivered by the event stream.
    Stream,
    /// Found by re-reading the home: the stream did not deliver it.
    Reconciled,
}

/// What changed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// An attribute took a new value.
    Attribute {
        /// The component (`main`, …).
        component: String,
        /// The capability.
        capability: String,
        /// The attribute.
        attribute: String,
        /// The new value.
        value: Value,
        /// The value before, if one was known.
        previous: Option<Value>,
        /// The new value's unit, if it has one.
        unit: Option<String>,
    },
    /// The device's health changed (`ONLINE`, `OFFLINE`, …).
    Health {
        /// The new state.
        state: HealthState,
    },
    /// A device appeared.
    Added,
    /// A device was removed.
    Removed,
}

/// One change of the home's state.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The device.
    pub device_id: String,
    /// What changed.
    pub kind: ChangeKind,
    /// How it was learnt.
    pub origin: Origin,
    /// When it happened, by the server's clock: the event's time, or for a
    /// reconciled change the time the re-read value carries. `None` when
    /// the server gave none (a reconciled addition or removal).
    pub time: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a [`LiveHome`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveMetrics {
    /// Events received from the stream.
    pub events: u64,
    /// Stream reconnections.
    pub reconnects: u64,
    /// Reconnections caused by a stalled stream.
    pub stalls: u64,
    /// Times the home was re-read.
    pub reconciliations: u64,
    /// Changes found by re-reading (the stream had not delivered them).
    pub reconciled: u64,
    /// Changes applied from the stream.
    pub streamed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    events: AtomicU64,
    reconnects: AtomicU64,
    stalls: AtomicU64,
    reconciliations: AtomicU64,
    reconciled: AtomicU64,
    streamed: AtomicU64,
}

type Devices = HashMap<String, DeviceSnapshot>;

/// How long the stream must be quiet after a re-read before the re-read is
/// compared (events in flight are applied first), and the longest wait.
const SETTLE_QUIET: Duration = Duration::from_millis(50);
const SETTLE_MAX: Duration = Duration::from_secs(1);

/// The home's devices, their status and health, kept current from the
/// event stream and reconciled with the API. Read the changes as a
/// [`Stream`]; read the state at any time with [`devices`](Self::devices).
///
/// ```no_run
/// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
/// use futures::StreamExt;
/// use smartthings_ext::{EventSubscription, LiveHome, LiveOptions};
///
/// let mut home = LiveHome::start(&client, EventSubscription::all_locations(), LiveOptions::default()).await?;
/// while let Some(change) = home.next().await {
///     println!("{} {:?} ({:?})", change.device_id, change.kind, change.origin);
/// }
/// # Ok(()) }
/// ```
pub struct LiveHome {
    devices: Arc<RwLock<Devices>>,
    counters: Arc<Counters>,
    changes: mpsc::Receiver<Change>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    failure: Arc<RwLock<Option<String>>>,
}

impl std::fmt::Debug for LiveHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHome")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl LiveHome {
    /// Subscribe, wait for the stream to connect, read the home, and keep
    /// it current from then on.
    pub async fn start(
        client: &SmartThings,
        subscription: EventSubscription,
        options: LiveOptions,
    ) -> Result<Self, Error> {
        let query = query_for(&subscription);
        let mut events = client.events(subscription);
        // The first connection is the starting point: what the home was
        // before it is read after it, so nothing falls in between.
        loop {
            match events.next().await {
                Some(Ok(Event::Connected { .. })) => break,
                Some(Ok(_)) => {}
                Some(Err(error)) if error.invalid().is_some() => {}
                Some(Err(error)) => return Err(error),
                None => {
                    return Err(Error::new(
                        crate::ErrorKind::Transport,
                        "the event stream ended before it connected",
                    ));
                }
            }
        }
        let devices = Arc::new(RwLock::new(read_home(client, &query).await?));
        let counters = Arc::new(Counters::default());
        Counters::add(&counters.reconciliations);
        let (sender, changes) = mpsc::channel(4096);
        let (stop, stopped) = oneshot::channel();
        let failure = Arc::new(RwLock::new(None));
        let keeper = Keeper {
            client: client.clone(),
            query,
            devices: devices.clone(),
            counters: counters.clone(),
            changes: sender,
            failure: failure.clone(),
            again: Default::default(),
        };
        let task = tokio::spawn(keeper.run(events, options, stopped));
        Ok(Self {
            devices,
            counters,
            changes,
            stop: Some(stop),
            task: Some(task),
            failure,
        })
    }

    /// Every device with its current status and health.
    pub fn devices(&self) -> Vec<DeviceSnapshot> {
        self.devices
            .read()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One device, if known.
    pub fn device(&self, device_id: &str) -> Option<DeviceSnapshot> {
        self.devices.read().ok()?.get(device_id).cloned()
    }

    /// What it has done so far.
    pub fn metrics(&self) -> LiveMetrics {
        self.counters.snapshot()
    }

    /// Why the home stopped being kept current, if it did (the event
    /// stream's terminal error); the change stream ends then too.
    pub fn failure(&self) -> Option<String> {
        self.failure.read().ok()?.clone()
    }

    /// Stop following, and delete the event sink (best effort). The
    /// changes already found can still be read: the stream yields them,
    /// then ends; the state no longer moves, so it and the changes read
    /// agree.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LiveHome {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Stream for LiveHome {
    type Item = Change;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Change>> {
        self.changes.poll_recv(cx)
    }
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> LiveMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LiveMetrics {
            events: get(&self.events),
            reconnects: get(&self.reconnects),
            stalls: get(&self.stalls),
            reconciliations: get(&self.reconciliations),
            reconciled: get(&self.reconciled),
            streamed: get(&self.streamed),
        }
    }
}

/// The devices a subscription covers, as one query.
fn query_for(subscription: &EventSubscription) -> DeviceQuery {
    let mut query = DeviceQuery::all().with_status_and_health();
    if let Some(location) = subscription.location_id() {
        query = query.location(location);
    }
    if let Some(ids) = subscription.device_ids() {
        for id in ids {
            query = query.device(id);
        }
    }
    query
}

async fn read_home(client: &SmartThings, query: &DeviceQuery) -> Result<Devices, Error> {
    let listed = collect_all(client.devices(query.clone())).await?;
    let mut devices = Devices::with_capacity(listed.items.len());
    for device in listed.items {
        let health = device.health();
        let status = match device.embedded_status() {
            Some(status) => status,
            None => {
                let id = device.device_id.clone().unwrap_or_default();
                client.get_device_status().device_id(id).send().await?
            }
        };
        let snapshot = DeviceSnapshot {
            device,
            status,
            health,
        };
        devices.insert(snapshot.id().to_owned(), snapshot);
    }
    Ok(devices)
}

/// The task that applies events and reconciles.
struct Keeper {
    client: SmartThings,
    query: DeviceQuery,
    devices: Arc<RwLock<Devices>>,
    counters: Arc<Counters>,
    changes: mpsc::Sender<Change>,
    failure: Arc<RwLock<Option<String>>>,
    /// A reconnection happened while the home was being read.
    again: std::sync::atomic::AtomicBool,
}

/// An event's time against an attribute's timestamp, in epoch ms.
fn attribute_ms(attribute: &Attribute) -> Option<i64> {
    attribute.timestamp().map(|t| t.timestamp_millis())
}

fn health_ms(health: &Health) -> Option<i64> {
    let at = chrono::DateTime::parse_from_rfc3339(health.last_updated.as_deref()?).ok()?;
    Some(at.timestamp_millis())
}

impl Keeper {
    async fn run(
        self,
        mut events: EventStream,
        options: LiveOptions,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let period = options.reconcile_every;
        let mut next_reconcile = period.map(|p| tokio::time::Instant::now() + p);
        // Lifecycle changes other than deletions are read back with the
        // next reconciliation, soon after the burst that caused them.
        let mut soon: Option<tokio::time::Instant> = None;
        loop {
            let due = match (next_reconcile, soon) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timer = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let reconcile = tokio::select! {
                _ = &mut stopped => break,
                () = timer => true,
                item = events.next() => match item {
                    None => break,
                    Some(Err(error)) if error.invalid().is_some() => {
                        tracing::warn!(%error, "an event did not decode; reconciling soon");
                        soon.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(1));
                        false
                    }
                    Some(Err(error)) => {
                        if let Ok(mut failure) = self.failure.write() {
                            *failure = Some(error.to_string());
                        }
                        break;
                    }
                    Some(Ok(event)) => match self.apply(event, &mut soon).await {
                        Some(reconcile) => reconcile,
                        None => break,
                    },
                },
            };
            if reconcile {
                soon = None;
                next_reconcile = period.map(|p| tokio::time::Instant::now() + p);
                if !self.reconcile(&mut events).await {
                    break;
                }
                if self.again.swap(false, Ordering::Relaxed) {
                    soon = Some(tokio::time::Instant::now());
                }
            }
        }
        events.close().await;
    }

    /// Apply one event. `Some(true)`: reconcile now; `None`: the consumer
    /// is gone.
    async fn apply(&self, event: Event, soon: &mut Option<tokio::time::Instant>) -> Option<bool> {
        Counters::add(&self.counters.events);
        let changes = match event {
            Event::Connected { previous } => {
                if let Some(reason) = previous {
                    Counters::add(&self.counters.reconnects);
                    if reason == crate::Disconnect::Stalled {
                        Counters::add(&self.counters.stalls);
                    }
                }
                return Some(true);
            }
            Event::Device(event) => self.apply_attribute(&event),
            Event::Health(event) => self.apply_health(&event),
            Event::Lifecycle(event) => self.apply_lifecycle(&event, soon),
            Event::Control(_) | Event::Unknown { .. } => Vec::new(),
        };
        for change in changes {
            Counters::add(&self.counters.streamed);
            self.changes.send(change).await.ok()?;
        }
        Some(false)
    }

    fn apply_attribute(&self, event: &crate::DeviceEvent) -> Vec<Change> {
        let (Some(device_id), Some(capability), Some(attribute)) = (
            event.device_id.as_deref(),
            event.capability.as_deref(),
            event.attribute.as_deref(),
        ) else {
            return Vec::new();
        };
        let component = event.component_id.as_deref().unwrap_or("main");
        let Ok(mut devices) = self.devices.write() else {
            return Vec::new();
        };
        let Some(device) = devices.get_mut(device_id) else {
            return Vec::new();
        };
        let slot = device
            .status
            .attribute_entry(component, capability, attribute);
        if let (Some(known), Some(time)) = (attribute_ms(slot), event.event_time)
            && time < known
        {
            // Older than what is known: the state is already newer.
            return Vec::new();
        }
        let previous = slot.value.clone();
        if let Some(time) = event.event_time
            && let Some(stamp) = chrono::DateTime::from_timestamp_millis(time)
        {
            slot.raw_timestamp = Some(Value::String(
                stamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ));
        }
        if event.unit.is_some() {
            slot.unit = event.unit.as_deref().map(Name::from);
        }
        if previous.as_ref() == Some(&event.value) {
            return Vec::new();
        }
        slot.value = Some(event.value.clone());
        vec![Change {
            device_id: device_id.to_owned(),
            kind: ChangeKind::Attribute {
                component: component.to_owned(),
                capability: capability.to_owned(),
                attribute: attribute.to_owned(),
                value: event.value.clone(),
                previous,
                unit: event.unit.clone(),
            },
            origin: Origin::Stream,
            time: event
                .event_time
                .and_then(chrono::DateTime::from_timestamp_millis),
        }]
    }

    fn apply_health(&self, event: &HealthEvent) -> Vec<Change> {
        let (Some(device_id), Some(status)) = (event.device_id.as_deref(), event.status.as_deref())
        else {
            return Vec::new();
        };
        let state = HealthState::parse(status);
        let Ok(mut devices) = self.devices.write() else {
            return Vec::new();
        };
        let Some(device) = devices.get_mut(device_id) else {
            return Vec::new();
        };
        if device.health.as_ref().map(|h| &h.state) == Some(&state) {
            return Vec::new();
        }
        // An event older than what a reconciliation already read is stale.
        if let (Some(ours), Some(theirs)) =
            (device.health.as_ref().and_then(health_ms), event.event_time)
            && ours > theirs
        {
            return Vec::new();
        }
        device.health = Some(Health {
            state: state.clone(),
            last_updated: event
                .event_time
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        });
        vec![Change {
            device_id: device_id.to_owned(),
            kind: ChangeKind::Health { state },
            origin: Origin::Stream,
            time: event
                .event_time
                .and_then(chrono::DateTime::from_timestamp_millis),
        }]
    }

    fn apply_lifecycle(
        &self,
        event: &LifecycleEvent,
        soon: &mut Option<tokio::time::Instant>,
    ) -> Vec<Change> {
        let Some(device_id) = event.device_id.as_deref() else {
            return Vec::new();
        };
        if event.lifecycle.as_deref() == Some("DELETE") {
            let removed = self
                .devices
                .write()
                .ok()
                .and_then(|mut d| d.remove(device_id));
            if removed.is_some() {
                return vec![Change {
                    device_id: device_id.to_owned(),
                    kind: ChangeKind::Removed,
                    origin: Origin::Stream,
                    time: event
                        .event_time
                        .and_then(chrono::DateTime::from_timestamp_millis),
                }];
            }
            return Vec::new();
        }
        soon.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(1));
        Vec::new()
    }

    /// Re-read the home and report what differs. `false`: stop.
    async fn reconcile(&self, events: &mut EventStream) -> bool {
        let fresh = match read_home(&self.client, &self.query).await {
            Ok(fresh) => fresh,
            Err(error) => {
                // The next reconnection or period tries again.
                tracing::warn!(%error, "could not re-read the home; keeping the streamed state");
                return true;
            }
        };
        Counters::add(&self.counters.reconciliations);
        // Events sent while the home was read are applied first, so that a
        // change the stream did deliver is not reported as reconciled: until
        // the stream has been quiet for a moment, or for at most a second
        // under constant activity (later events are newer than the read and
        // win by their timestamps anyway).
        let mut soon = None;
        let settle = tokio::time::Instant::now() + SETTLE_MAX;
        while tokio::time::Instant::now() < settle {
            let item = match tokio::time::timeout(SETTLE_QUIET, events.next()).await {
                Err(_) => break,
                Ok(None) => return false,
                Ok(Some(item)) => item,
            };
            match item {
                Ok(event @ (Event::Device(_) | Event::Health(_) | Event::Lifecycle(_))) => {
                    if self.apply(event, &mut soon).await.is_none() {
                        return false;
                    }
                }
                Ok(Event::Connected { previous }) => {
                    // Another reconnection: this read may predate it.
                    self.again.store(true, Ordering::Relaxed);
                    if let Some(reason) = previous {
                        Counters::add(&self.counters.reconnects);
                        if reason == crate::Disconnect::Stalled {
                            Counters::add(&self.counters.stalls);
                        }
                    }
                }
                Err(error) if error.invalid().is_none() => {
                    if let Ok(mut failure) = self.failure.write() {
                        *failure = Some(error.to_string());
                    }
                    return false;
                }
                Ok(_) | Err(_) => {}
            }
        }
        let changes = match self.devices.write() {
            Ok(mut devices) => merge(&mut devices, fresh),
            Err(_) => return false,
        };
        for change in changes {
            Counters::add(&self.counters.reconciled);
            if self.changes.send(change).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Bring `known` to `fresh`, keeping any attribute `known` has a newer
/// timestamp for (an event applied while the home was being read), and
/// return what changed.
fn merge(known: &mut Devices, fresh: Devices) -> Vec<Change> {
    let mut changes = Vec::new();
    let change = |device_id: &str, kind, ms: Option<i64>| Change {
        device_id: device_id.to_owned(),
        kind,
        origin: Origin::Reconciled,
        time: ms.and_then(chrono::DateTime::from_timestamp_millis),
    };
    known.retain(|id, _| {
        let kept = fresh.contains_key(id);
        if !kept {
            changes.push(change(id, ChangeKind::Removed, None));
        }
        kept
    });
    for (id, mut device) in fresh {
        let Some(old) = known.get_mut(&id) else {
            changes.push(change(&id, ChangeKind::Added, None));
            known.insert(id, device);
            continue;
        };
        for (component, capabilities) in std::mem::take(&mut device.status.components) {
            for (capability, attributes) in capabilities.0 {
                for (name, attribute) in attributes.0 {
                    let slot = old.status.attribute_entry(&component, &capability, &name);
                    if let (Some(ours), Some(theirs)) =
                        (attribute_ms(slot), attribute_ms(&attribute))
                        && ours > theirs
                    {
                        continue;
                    }
                    let previous = slot.value.clone();
                    let differs = previous != attribute.value;
                    let at = attribute_ms(&attribute);
                    let unit = attribute.unit.as_ref().map(Name::to_string);
                    let value = attribute.value.clone();
                    *slot = attribute;
                    if differs {
                        changes.push(change(
                            &id,
                            ChangeKind::Attribute {
                                component: component.to_string(),
                                capability: capability.to_string(),
                                attribute: name.to_string(),
                                value: value.unwrap_or(Value::Null),
                                previous,
                                unit,
                            },
                            at,
                        ));
                    }
                }
            }
        }
        // Health read by the re-list may be older than an event applied
        // since: the newer one stands, as for attributes.
        let newer_known = |health: &Health| {
            matches!(
                (old.health.as_ref().and_then(health_ms), health_ms(health)),
                (Some(ours), Some(theirs)) if ours > theirs
            )
        };
        if let Some(health) = device.health
            && old.health.as_ref().map(|h| &h.state) != Some(&health.state)
            && !newer_known(&health)
        {
            changes.push(change(
                &id,
                ChangeKind::Health {
                    state: health.state.clone(),
                },
                health_ms(&health),
            ));
            old.health = Some(health);
        }
        old.device = device.device;
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(id: &str, status: Value, health: Option<(&str, &str)>) -> DeviceSnapshot {
        DeviceSnapshot {
            device: serde_json::from_value(json!({ "deviceId": id })).unwrap(),
            status: serde_json::from_value(status).unwrap(),
            health: health.map(|(state, at)| Health {
                state: HealthState::parse(state),
                last_updated: Some(at.to_owned()),
            }),
        }
    }

    fn switch(value: &str, at: &str) -> Value {
        json!({ "components": { "main": { "switch": { "switch": {
            "value": value, "timestamp": at
        } } } } })
    }

    #[test]
    fn a_re_read_older_than_an_applied_event_changes_nothing() {
        let mut known = Devices::new();
        known.insert(
            "d".into(),
            device(
                "d",
                switch("on", "2026-12-01T10:00:05.000Z"),
                Some(("OFFLINE", "2026-12-01T10:00:05.000Z")),
            ),
        );
        let mut fresh = Devices::new();
        fresh.insert(
            "d".into(),
            device(
                "d",
                switch("off", "2026-12-01T10:00:01.000Z"),
                Some(("ONLINE", "2026-12-01T10:00:01.000Z")),
            ),
        );
        assert_eq!(merge(&mut known, fresh), []);
        let d = &known["d"];
        assert_eq!(d.health.as_ref().unwrap().state, HealthState::Offline);
        let value = &d.status.components["main"].0["switch"].0["switch"].value;
        assert_eq!(value, &Some(json!("on")));
    }

    #[test]
    fn a_newer_re_read_is_reported_once_as_reconciled() {
        let mut known = Devices::new();
        known.insert(
            "d".into(),
            device(
                "d",
                switch("on", "2026-12-01T10:00:01.000Z"),
                Some(("ONLINE", "2026-12-01T10:00:01.000Z")),
            ),
        );
        let mut fresh = Devices::new();
        fresh.insert(
            "d".into(),
            device(
                "d",
                switch("off", "2026-12-01T10:00:05.000Z"),
                Some(("OFFLINE", "2026-12-01T10:00:05.000Z")),
            ),
        );
        let changes = merge(&mut known, fresh.clone());
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(changes.iter().all(|c| c.origin == Origin::Reconciled));
        assert!(changes.iter().any(|c| c.kind
            == ChangeKind::Health {
                state: HealthState::Offline
            }));
        // The same re-read again finds nothing new.
        assert_eq!(merge(&mut known, fresh), []);
    }
}
