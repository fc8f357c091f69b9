//! SmartThings' event stream: a sink created with `POST /subscriptions`, read
//! as server-sent events from its registration URL on another host, kept
//! alive by a read-idle watchdog, and replaced (old sink deleted, new one
//! created) whenever the connection ends. `eventsource-stream` parses the
//! SSE framing; what SmartThings needs beyond it — the sink lifecycle, the
//! sink limit, the token rule for the stream host, stalls — is here.

mod types;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use url::Url;

pub use types::{Control, DeviceEvent, Disconnect, Event, HealthEvent, LifecycleEvent};

use crate::client::SmartThings;
use crate::error::{Error, ErrorKind};
use crate::transport::same_origin;
use smartthings::InvalidItem;

/// The API version the subscriptions endpoint is asked for.
const SINK_VERSION: u64 = 20250122;
const SINK_ACCEPT: &str = "application/vnd.smartthings+json;v=20250122";
/// The event types a sink asks for unless told otherwise.
const DEFAULT_EVENT_TYPES: [&str; 3] = [
    "DEVICE_EVENT",
    "DEVICE_LIFECYCLE_EVENT",
    "DEVICE_HEALTH_EVENT",
];

/// What to subscribe to, and how the stream behaves.
///
/// ```
/// use std::time::Duration;
/// use smartthings_ext::EventSubscription;
///
/// let subscription = EventSubscription::location("95efee9b-6073-4871-b5ba-de6642187293")
///     .read_idle(Duration::from_secs(120))
///     .sink_record("/var/lib/my-service/sinks.json");
/// ```
#[derive(Clone, Debug)]
pub struct EventSubscription {
    filter_type: &'static str,
    values: Vec<String>,
    event_types: Vec<String>,
    name: String,
    client_device_id: String,
    read_idle: Duration,
    max_backoff: Duration,
    sink_record: Option<PathBuf>,
}

impl EventSubscription {
    fn new(filter_type: &'static str, values: Vec<String>) -> Self {
        Self {
            filter_type,
            values,
            event_types: DEFAULT_EVENT_TYPES.map(str::to_owned).to_vec(),
            name: "smartthings-rs".to_owned(),
            client_device_id: "iapp_smartthings-rs".to_owned(),
            read_idle: Duration::from_secs(120),
            max_backoff: Duration::from_secs(30),
            sink_record: None,
        }
    }

    /// Every location the token sees (`LOCATIONIDS` `["ALL"]`).
    pub fn all_locations() -> Self {
        Self::new("LOCATIONIDS", vec!["ALL".to_owned()])
    }

    /// One location's devices.
    pub fn location(location_id: impl Into<String>) -> Self {
        Self::new("LOCATIONIDS", vec![location_id.into()])
    }

    /// These devices only (`DEVICEIDS`).
    pub fn devices<S: Into<String>>(device_ids: impl IntoIterator<Item = S>) -> Self {
        Self::new(
            "DEVICEIDS",
            device_ids.into_iter().map(Into::into).collect(),
        )
    }

    /// The event types to receive (default device, lifecycle and health
    /// events).
    pub fn event_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.event_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The sink's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The `clientDeviceId` (`iapp_<installed app id or any stable id>`).
    pub fn client_device_id(mut self, id: impl Into<String>) -> Self {
        self.client_device_id = id.into();
        self
    }

    /// Reconnect when no byte arrives for this long (default 120 s; the
    /// server sends `welcome` about every 60 s). A total request timeout
    /// would instead cut a healthy stream every few minutes.
    pub fn read_idle(mut self, idle: Duration) -> Self {
        self.read_idle = idle.max(Duration::from_millis(10));
        self
    }

    /// The longest wait between reconnection attempts (default 30 s;
    /// jittered, doubling from 250 ms).
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// A file listing the sinks this client created, so that a restarted
    /// process can delete the ones it leaked when it meets the sink limit
    /// (2 per token; a leaked one lives 4–6 hours).
    pub fn sink_record(mut self, path: impl Into<PathBuf>) -> Self {
        self.sink_record = Some(path.into());
        self
    }

    /// The location this subscription is limited to, if one.
    pub(crate) fn location_id(&self) -> Option<&str> {
        (self.filter_type == "LOCATIONIDS" && self.values.len() == 1 && self.values[0] != "ALL")
            .then(|| self.values[0].as_str())
    }

    /// The devices this subscription is limited to, if any.
    pub(crate) fn device_ids(&self) -> Option<&[String]> {
        (self.filter_type == "DEVICEIDS").then_some(self.values.as_slice())
    }

    fn body(&self) -> Value {
        json!({
            "name": self.name,
            "version": SINK_VERSION,
            "clientDeviceId": self.client_device_id,
            "subscriptionFilters": [{
                "type": self.filter_type,
                "value": self.values,
                "eventType": self.event_types,
            }],
        })
    }
}

/// Where sinks are created and which stream hosts may receive the token.
#[derive(Clone, Debug)]
pub(crate) struct StreamConfig {
    pub(crate) subscriptions_url: Url,
    pub(crate) allowed_origins: Vec<Url>,
}

/// The rule for sending the token to a registration URL: `https` on
/// `api.smartthings.com` or a subdomain of it, or an origin the caller
/// allowed with `ClientBuilder::allow_stream_origin`.
pub(crate) fn stream_allowed(url: &Url, allowed: &[Url]) -> bool {
    let smartthings = url.scheme() == "https"
        && url.host_str().is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            host == "api.smartthings.com" || host.ends_with(".api.smartthings.com")
        });
    smartthings || allowed.iter().any(|origin| same_origin(origin, url))
}

/// What an [`EventStream`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamMetrics {
    /// Events received (control events included).
    pub events: u64,
    /// Connections opened.
    pub connections: u64,
    /// Connections re-opened after one ended.
    pub reconnects: u64,
    /// Connections ended by the read-idle watchdog.
    pub stalls: u64,
    /// `goodbye`s received.
    pub goodbyes: u64,
    /// Sinks created.
    pub sinks_created: u64,
    /// Sinks deleted (by this stream, including leaked ones of earlier runs).
    pub sinks_deleted: u64,
    /// Events whose payload did not decode (each yielded as an error item).
    pub decode_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    events: AtomicU64,
    connections: AtomicU64,
    reconnects: AtomicU64,
    stalls: AtomicU64,
    goodbyes: AtomicU64,
    sinks_created: AtomicU64,
    sinks_deleted: AtomicU64,
    decode_errors: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StreamMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StreamMetrics {
            events: get(&self.events),
            connections: get(&self.connections),
            reconnects: get(&self.reconnects),
            stalls: get(&self.stalls),
            goodbyes: get(&self.goodbyes),
            sinks_created: get(&self.sinks_created),
            sinks_deleted: get(&self.sinks_deleted),
            decode_errors: get(&self.decode_errors),
        }
    }
}

/// A live stream of [`Event`]s that reconnects by itself. An item is
/// `Err` for an event that did not decode (the stream goes on: see
/// [`Error::invalid`]) or for a failure it cannot recover from (the sink
/// limit, a registration URL the token may not go to, an ended OAuth
/// session), after which it ends.
///
/// Dropping it deletes its sink in the background; [`close`](Self::close)
/// deletes it and waits.
pub struct EventStream {
    items: mpsc::Receiver<Result<Event, Error>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// What the stream has done so far.
    pub fn metrics(&self) -> StreamMetrics {
        self.counters.snapshot()
    }

    /// Stop, delete the sink, and wait until it is deleted (best effort).
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Stream for EventStream {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.items.poll_recv(cx)
    }
}

impl SmartThings {
    /// Subscribe to the home's events: creates a sink, reads its stream,
    /// and keeps it alive until the stream is dropped or closed.
    ///
    /// ```no_run
    /// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
    /// use futures::StreamExt;
    /// use smartthings_ext::{Event, EventSubscription};
    ///
    /// let mut events = client.events(EventSubscription::all_locations());
    /// while let Some(event) = events.next().await {
    ///     if let Event::Device(change) = event? {
    ///         println!("{:?} {:?} = {}", change.device_id, change.attribute, change.value);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self, subscription: EventSubscription) -> EventStream {
        let (sender, items) = mpsc::channel(1024);
        let (stop, stopped) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let runner = Runner {
            client: self.clone(),
            subscription,
            sender,
            counters: counters.clone(),
            created: Vec::new(),
        };
        let task = tokio::spawn(runner.run(stopped));
        EventStream {
            items,
            stop: Some(stop),
            task: Some(task),
            counters,
        }
    }
}

/// The answer to `POST /subscriptions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sink {
    subscription_id: String,
    registration_url: String,
}

/// The sink ids a client created, as persisted by `sink_record`.
#[derive(Debug, Default, Deserialize, Serialize)]
struct SinkRecord {
    #[serde(default)]
    sinks: Vec<String>,
}

/// How one connection ended, or that the stream must stop.
enum Ended {
    Disconnected(Disconnect),
    Stop,
}

struct Runner {
    client: SmartThings,
    subscription: EventSubscription,
    sender: mpsc::Sender<Result<Event, Error>>,
    counters: Arc<Counters>,
    /// Sinks created by this stream and not yet deleted.
    created: Vec<String>,
}

impl Runner {
    async fn run(mut self, mut stopped: oneshot::Receiver<()>) {
        let mut previous: Option<Disconnect> = None;
        let mut failures: u32 = 0;
        loop {
            let outcome = tokio::select! {
                _ = &mut stopped => Ended::Stop,
                outcome = self.connection(previous.take(), &mut failures) => outcome,
            };
            match outcome {
                Ended::Stop => break,
                Ended::Disconnected(reason) => {
                    tracing::info!(?reason, "event stream ended; reconnecting");
                    self.delete_sinks().await;
                    previous = Some(reason);
                }
            }
            let wait = backoff(failures, self.subscription.max_backoff);
            tokio::select! {
                _ = &mut stopped => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.delete_sinks().await;
    }

    /// Create a sink, open its stream and read it until it ends. Failures
    /// that no retry fixes are sent as the stream's last item.
    async fn connection(&mut self, previous: Option<Disconnect>, failures: &mut u32) -> Ended {
        let sink = match self.create_sink().await {
            Ok(sink) => sink,
            Err(error) if is_terminal(&error) => return self.fail(error).await,
            Err(error) => {
                *failures += 1;
                tracing::warn!(%error, "could not create an event sink; retrying");
                return Ended::Disconnected(Disconnect::Failed(error.to_string()));
            }
        };
        let url = match Url::parse(&sink.registration_url) {
            Ok(url) if stream_allowed(&url, &self.client.streams.allowed_origins) => url,
            Ok(url) => {
                let host = url.host_str().unwrap_or("?").to_owned();
                let error = Error::new(
                    ErrorKind::Config,
                    format!(
                        "the event stream is on {}://{host}, where the token may not go \
                         (https on *.api.smartthings.com, or an origin allowed with \
                         ClientBuilder::allow_stream_origin); not connected",
                        url.scheme()
                    ),
                );
                return self.fail(error).await;
            }
            Err(e) => {
                let error = Error::new(
                    ErrorKind::Decode,
                    format!("the sink's registration URL does not parse: {e}"),
                );
                return self.fail(error).await;
            }
        };
        let response = match self.open(&url).await {
            Ok(response) => response,
            Err(Ok(reason)) => {
                *failures += 1;
                return Ended::Disconnected(reason);
            }
            Err(Err(error)) => return self.fail(error).await,
        };
        Counters::add(&self.counters.connections);
        if previous.is_some() {
            Counters::add(&self.counters.reconnects);
        }
        if self
            .sender
            .send(Ok(Event::Connected { previous }))
            .await
            .is_err()
        {
            return Ended::Stop;
        }
        let opened = Instant::now();
        let before = self.counters.events.load(Ordering::Relaxed);
        let ended = self.read(response).await;
        // A connection that lived or carried events resets the backoff; one
        // that died at once does not, so a server that accepts and drops is
        // not hammered.
        let carried = self.counters.events.load(Ordering::Relaxed) > before + 1;
        if carried || opened.elapsed() > Duration::from_secs(10) {
            *failures = 0;
        } else {
            *failures += 1;
        }
        ended
    }

    async fn fail(&mut self, error: Error) -> Ended {
        let _ = self.sender.send(Err(error)).await;
        Ended::Stop
    }

    /// GET the stream with the token. `Err(Ok(reason))`: try again with a
    /// new sink; `Err(Err(error))`: stop.
    async fn open(&self, url: &Url) -> Result<reqwest::Response, Result<Disconnect, Error>> {
        let credentials = &self.client.transport.credentials;
        let mut replayed = false;
        loop {
            let deadline = Instant::now() + self.client.transport.retry.deadline_duration();
            let authorization = credentials.authorization(deadline).await.map_err(Err)?;
            let result = self
                .client
                .stream_http
                .get(url.clone())
                .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
                .header(AUTHORIZATION, authorization.header)
                .send()
                .await;
            let response = match result {
                Ok(response) => response,
                Err(e) => return Err(Ok(Disconnect::Failed(e.without_url().to_string()))),
            };
            match response.status() {
                StatusCode::OK => return Ok(response),
                StatusCode::UNAUTHORIZED if !replayed => {
                    replayed = true;
                    match credentials
                        .rejected(authorization.generation, deadline)
                        .await
                    {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(error) => return Err(Err(error)),
                    }
                    return Err(Ok(Disconnect::Failed("401 from the stream".into())));
                }
                StatusCode::NOT_FOUND | StatusCode::GONE => return Err(Ok(Disconnect::SinkGone)),
                status => {
                    return Err(Ok(Disconnect::Failed(format!(
                        "the stream answered {status}"
                    ))));
                }
            }
        }
    }

    /// Read events until the connection ends; the watchdog counts bytes,
    /// comments included, not events.
    async fn read(&mut self, response: reqwest::Response) -> Ended {
        let started = Instant::now();
        let last_byte = Arc::new(AtomicU64::new(0));
        let seen = last_byte.clone();
        let bytes = response.bytes_stream().inspect(move |chunk| {
            if chunk.is_ok() {
                seen.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
        });
        let mut events = bytes.eventsource();
        let idle = self.subscription.read_idle;
        loop {
            let quiet_since = started + Duration::from_millis(last_byte.load(Ordering::Relaxed));
            let next = match tokio::time::timeout_at(quiet_since + idle, events.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let quiet_since =
                        started + Duration::from_millis(last_byte.load(Ordering::Relaxed));
                    if quiet_since.elapsed() < idle {
                        continue;
                    }
                    Counters::add(&self.counters.stalls);
                    tracing::warn!(
                        idle_ms = idle.as_millis() as u64,
                        "event stream stalled: no bytes for the read-idle time"
                    );
                    return Ended::Disconnected(Disconnect::Stalled);
                }
            };
            let item = match next {
                None => return Ended::Disconnected(Disconnect::Closed),
                Some(Err(error)) => {
                    return Ended::Disconnected(Disconnect::Failed(error.to_string()));
                }
                Some(Ok(event)) => event,
            };
            Counters::add(&self.counters.events);
            let decoded = match types::decode(&item.event, &item.data) {
                Ok(event) => Ok(event),
                Err((raw, error)) => {
                    Counters::add(&self.counters.decode_errors);
                    Err(Error::invalid_item(InvalidItem { raw, error }))
                }
            };
            let goodbye = matches!(decoded, Ok(Event::Control(Control::Goodbye)));
            if self.sender.send(decoded).await.is_err() {
                return Ended::Stop;
            }
            if goodbye {
                Counters::add(&self.counters.goodbyes);
                return Ended::Disconnected(Disconnect::Goodbye);
            }
        }
    }

    async fn create_sink(&mut self) -> Result<Sink, Error> {
        match self.post_sink().await {
            Err(error) if is_sink_limit(&error) => {
                // Sinks this client left behind (a crash, a kill) count
                // against the limit for hours: delete them and try once more.
                let leaked = self.recorded().sinks;
                if leaked.is_empty() {
                    return Err(sink_limit(error));
                }
                tracing::warn!(
                    count = leaked.len(),
                    "sink limit: deleting sinks an earlier run left"
                );
                for id in leaked {
                    self.delete_sink(&id).await;
                }
                self.post_sink().await.map_err(
                    |e| {
                        if is_sink_limit(&e) { sink_limit(e) } else { e }
                    },
                )
            }
            other => other,
        }
    }

    async fn post_sink(&mut self) -> Result<Sink, Error> {
        let request = self
            .client
            .http
            .post(self.client.streams.subscriptions_url.clone())
            .header(ACCEPT, HeaderValue::from_static(SINK_ACCEPT))
            .json(&self.subscription.body())
            .build()
            .map_err(Error::transport)?;
        let sink: Sink = self.client.send_json(request, "createSink").await?;
        Counters::add(&self.counters.sinks_created);
        self.created.push(sink.subscription_id.clone());
        self.record(|record| record.sinks.push(sink.subscription_id.clone()));
        Ok(sink)
    }

    /// Delete the sinks this stream created (best effort: a sink that is
    /// gone already is fine; one that cannot be deleted expires in hours
    /// and stays in the record for the next run to delete).
    async fn delete_sinks(&mut self) {
        for id in std::mem::take(&mut self.created) {
            self.delete_sink(&id).await;
        }
    }

    async fn delete_sink(&mut self, id: &str) {
        let Ok(url) = self
            .client
            .streams
            .subscriptions_url
            .join(&format!("subscriptions/{}", urlencode(id)))
        else {
            return;
        };
        let Ok(request) = self
            .client
            .http
            .delete(url)
            .header(ACCEPT, HeaderValue::from_static(SINK_ACCEPT))
            .build()
        else {
            return;
        };
        match self.client.send_json::<Value>(request, "deleteSink").await {
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, "could not delete an event sink; it expires by itself");
                return;
            }
        }
        Counters::add(&self.counters.sinks_deleted);
        self.record(|record| record.sinks.retain(|s| s != id));
    }

    fn recorded(&self) -> SinkRecord {
        let Some(path) = &self.subscription.sink_record else {
            return SinkRecord::default();
        };
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn record(&self, update: impl FnOnce(&mut SinkRecord)) {
        let Some(path) = &self.subscription.sink_record else {
            return;
        };
        let mut record = self.recorded();
        update(&mut record);
        let written = serde_json::to_vec(&record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                let temporary = path.with_extension("tmp");
                std::fs::write(&temporary, bytes)?;
                std::fs::rename(&temporary, path)
            });
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "could not write the sink record");
        }
    }
}

fn urlencode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

fn is_sink_limit(error: &Error) -> bool {
    matches!(error.status().map(|s| s.as_u16()), Some(409 | 422))
        && error.to_string().to_ascii_lowercase().contains("limit")
}

fn sink_limit(error: Error) -> Error {
    Error::new(
        ErrorKind::SinkLimit,
        format!(
            "{error}: this token already has the most event sinks SmartThings allows (2). \
             Stop the other program streaming with this token, or wait for leaked sinks to \
             expire (4–6 hours); EventSubscription::sink_record lets this client delete the \
             ones it leaked itself"
        ),
    )
}

/// Failures no reconnection fixes.
fn is_terminal(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::SinkLimit
            | ErrorKind::Reauthorize
            | ErrorKind::Unauthorized
            | ErrorKind::Forbidden
            | ErrorKind::Config
            | ErrorKind::TokenStore
    )
}

/// Full jitter over 250 ms · 2^failures, capped.
fn backoff(failures: u32, max: Duration) -> Duration {
    let exp = Duration::from_millis(250).saturating_mul(1u32 << failures.min(16));
    exp.min(max).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_to_smartthings_hosts_over_https_and_allowed_origins_only() {
        let allowed = [Url::parse("http://127.0.0.1:9000").unwrap()];
        for ok in [
            "https://spigot-regional.api.smartthings.com/filters/x/activate?filterRegion=eu-west-1",
            "https://API.smartthings.com/filters/x",
            "http://127.0.0.1:9000/filters/x/activate",
        ] {
            assert!(stream_allowed(&Url::parse(ok).unwrap(), &allowed), "{ok}");
        }
        for bad in [
            "http://spigot.api.smartthings.com/filters/x",
            "https://api.smartthings.com.evil.example/filters/x",
            "https://evilapi.smartthings.com/filters/x",
            "http://127.0.0.1:9001/filters/x",
            "https://example.com/filters/x",
        ] {
            assert!(
                !stream_allowed(&Url::parse(bad).unwrap(), &allowed),
                "{bad}"
            );
        }
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        for failures in 0..40 {
            assert!(backoff(failures, Duration::from_secs(30)) <= Duration::from_secs(30));
        }
        assert!(backoff(0, Duration::from_secs(30)) <= Duration::from_millis(250));
    }
}
