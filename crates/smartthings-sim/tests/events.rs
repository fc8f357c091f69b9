//! The event stream on the wire: sinks at `/subscriptions`, SSE streams on
//! the second listener, the events every state change publishes, the sink
//! limit and expiry, lost events, stream faults, random activity, filters,
//! `welcome`s and lifecycle events. The home is the truth each stream is
//! compared with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use smartthings_sim::{
    Activity, Config, EventsConfig, FaultPlan, FaultRates, Home, SimDevice, Simulator, StreamFault,
};
use tokio::time::Instant;

const HOME: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const OUTLET: &str = "af8a2a04-eba2-47f5-b388-e36663d92f81";
const DIMMER: &str = "b9af18af-55c8-4441-83e2-bfe6021235c4";
const EVERY_TYPE: [&str; 3] = [
    "DEVICE_EVENT",
    "DEVICE_LIFECYCLE_EVENT",
    "DEVICE_HEALTH_EVENT",
];
/// How long a stream must stay quiet to count as sending nothing.
const QUIET: Duration = Duration::from_millis(400);

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn filter(kind: &str, values: &[&str]) -> Value {
    json!({"type": kind, "value": values, "eventType": EVERY_TYPE})
}

fn all() -> Value {
    filter("LOCATIONIDS", &["ALL"])
}

async fn create_sink_as(sim: &Simulator, token: &str, filter: Value) -> reqwest::Response {
    http()
        .post(sim.subscriptions_url())
        .bearer_auth(token)
        .header("accept", "application/vnd.smartthings+json;v=20250122")
        .json(&json!({
            "name": "events-test",
            "version": 20250122,
            "clientDeviceId": "iapp_events_test",
            "subscriptionFilters": [filter],
        }))
        .send()
        .await
        .unwrap()
}

/// A sink of the simulator's token: its creation answer.
async fn create_sink(sim: &Simulator, filter: Value) -> Value {
    let response = create_sink_as(sim, sim.token(), filter).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn delete_sink(sim: &Simulator, id: &str) -> (StatusCode, Value) {
    let response = http()
        .delete(format!("{}/{id}", sim.subscriptions_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn command(
    sim: &Simulator,
    device: &str,
    capability: &str,
    name: &str,
    args: Value,
) -> Value {
    let response = http()
        .post(format!("{}/devices/{device}/commands", sim.base_url()))
        .bearer_auth(sim.token())
        .json(&json!({"commands": [{"component": "main", "capability": capability, "command": name, "arguments": args}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn get(sim: &Simulator, path: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}{path}", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// One SSE event as a client parses it.
#[derive(Debug)]
struct Sse {
    event: String,
    data: String,
}

impl Sse {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {:?}", self.data))
    }

    fn is(&self, event: &str, data: &str) -> bool {
        self.event == event && self.data == data
    }
}

/// What reading a stream gave.
#[derive(Debug)]
enum Next {
    Event(Sse),
    /// The body ended cleanly.
    Ended,
    /// The connection was cut.
    Cut,
    /// Nothing arrived in time.
    Quiet,
}

/// A minimal SSE reader over `Response::chunk`, strict about framing.
struct Stream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    keepalives: usize,
}

impl Stream {
    async fn open(sim: &Simulator, sink: &Value) -> Self {
        Self::open_as(sim, sim.token(), sink).await.unwrap()
    }

    async fn open_as(sim: &Simulator, token: &str, sink: &Value) -> Result<Self, StatusCode> {
        let url = sink["registrationUrl"].as_str().unwrap();
        assert!(url.starts_with(&sim.stream_origin()), "{url}");
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK {
            return Err(response.status());
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "the stream's content type"
        );
        Ok(Self {
            response,
            buffer: Vec::new(),
            keepalives: 0,
        })
    }

    async fn next(&mut self, wait: Duration) -> Next {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let block = String::from_utf8(block).unwrap();
                let (mut event, mut data) = (String::new(), Vec::new());
                for line in block.lines() {
                    if line == ": keepalive" {
                        self.keepalives += 1;
                    } else if let Some(name) = line.strip_prefix("event: ") {
                        event = name.to_owned();
                    } else if let Some(line) = line.strip_prefix("data: ") {
                        data.push(line);
                    } else {
                        assert!(line.is_empty(), "an unexpected line {line:?}");
                    }
                }
                if event.is_empty() && data.is_empty() {
                    continue;
                }
                return Next::Event(Sse {
                    event,
                    data: data.join("\n"),
                });
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Quiet,
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                Ok(Ok(None)) => return Next::Ended,
                Ok(Err(_)) => return Next::Cut,
            }
        }
    }

    /// The next event, whatever it is.
    async fn event(&mut self) -> Sse {
        match self.next(Duration::from_secs(5)).await {
            Next::Event(sse) => sse,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The next event that is not a `welcome`.
    async fn data_event(&mut self) -> Sse {
        loop {
            let sse = self.event().await;
            if !sse.is("CONTROL_EVENT", "welcome") {
                return sse;
            }
        }
    }

    /// Every event until the stream has been quiet for [`QUIET`], without
    /// `welcome`s.
    async fn drain(&mut self) -> Vec<Sse> {
        let mut events = Vec::new();
        loop {
            match self.next(QUIET).await {
                Next::Event(sse) if sse.is("CONTROL_EVENT", "welcome") => {}
                Next::Event(sse) => events.push(sse),
                Next::Quiet => return events,
                other => panic!("the stream ended: {other:?}"),
            }
        }
    }

    async fn expect_welcome(&mut self) {
        let first = self.event().await;
        assert!(first.is("CONTROL_EVENT", "welcome"), "{first:?}");
    }
}

fn port(url: &str) -> u16 {
    url::Url::parse(url).unwrap().port().unwrap()
}

fn status_value(sim: &Simulator, device: &str, capability: &str, attribute: &str) -> Value {
    sim.with_home(|h| {
        h.devices[device].status["components"]["main"][capability][attribute]["value"].clone()
    })
}

#[tokio::test]
async fn a_command_reaches_the_stream_with_the_state_it_set() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, filter("LOCATIONIDS", &[HOME])).await;
    let id = sink["subscriptionId"].as_str().unwrap();
    let url = sink["registrationUrl"].as_str().unwrap();
    assert_ne!(
        port(url),
        sim.addr().port(),
        "the stream is on another port"
    );
    assert_eq!(port(url), port(&sim.stream_origin()));
    assert!(
        url.contains(&format!("/filters/{id}/activate?filterRegion=")),
        "{url}"
    );
    assert_eq!(sink["name"], "events-test");
    assert_eq!(sink["version"], 20250122);
    let echoed = &sink["subscriptionFilters"][0];
    assert_eq!(
        (&echoed["type"], &echoed["value"]),
        (&json!("LOCATIONIDS"), &json!([HOME]))
    );
    assert_eq!(echoed["eventType"], json!(EVERY_TYPE));
    for absent in ["capability", "component", "attribute"] {
        assert!(echoed[absent].is_null(), "{absent}: {echoed}");
    }

    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    let results = command(&sim, BULB, "switchLevel", "setLevel", json!([42])).await;
    let event = stream.data_event().await;
    assert_eq!(event.event, "DEVICE_EVENT");
    let event = event.json();
    assert_eq!(event["eventType"], "DEVICE_EVENT");
    let body = &event["deviceEvent"];
    assert_eq!(body["deviceId"], BULB);
    assert_eq!(body["locationId"], HOME);
    assert_eq!(body["ownerType"], "LOCATION");
    assert_eq!(
        (
            &body["componentId"],
            &body["capability"],
            &body["attribute"]
        ),
        (&json!("main"), &json!("switchLevel"), &json!("level"))
    );
    assert_eq!((&body["value"], &body["unit"]), (&json!(42), &json!("%")));
    assert_eq!(body["valueType"], "number");
    assert_eq!(body["stateChange"], true);
    assert_eq!(body["subscriptionName"], "events-test");
    assert_eq!(body["commandId"], results["results"][0]["id"]);

    // The state says the same, stamped at the event's instant.
    let (status, state) = get(&sim, &format!("/devices/{BULB}/status")).await;
    assert_eq!(status, StatusCode::OK);
    let level = &state["components"]["main"]["switchLevel"]["level"];
    assert_eq!(level["value"], 42);
    let stamp = level["timestamp"].as_str().unwrap();
    assert!(stamp.ends_with('Z') && stamp.len() == 24, "{stamp}");
    let stamped = chrono::DateTime::parse_from_rfc3339(stamp).unwrap();
    assert_eq!(
        stamped.timestamp_millis(),
        event["eventTime"].as_i64().unwrap()
    );

    let published = sim.published_events();
    let last = published.last().unwrap();
    assert_eq!(last.event_id, body["eventId"].as_str().unwrap());
    assert_eq!(
        (last.delivered, last.lost, last.value.clone()),
        (1, 0, json!(42))
    );
    let operations: Vec<String> = sim.log().into_iter().map(|e| e.operation).collect();
    for operation in ["createSink", "streamEvents", "executeDeviceCommands"] {
        assert!(operations.iter().any(|o| o == operation), "{operations:?}");
    }
    assert_eq!(sim.stats().events.streams_opened, 1);
}

#[tokio::test]
async fn a_third_sink_is_refused_until_one_is_deleted() {
    let config = Config {
        tokens: vec!["first".into(), "second".into()],
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let one = create_sink(&sim, all()).await;
    create_sink(&sim, all()).await;
    let refused = create_sink_as(&sim, sim.token(), all()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UnprocessableEntityError");
    assert_eq!(
        body["error"]["message"],
        "Unable to create SinkFilter, threshold limit of 2 reached"
    );
    // Another principal has its own two.
    let other = create_sink_as(&sim, "second", all()).await;
    assert_eq!(other.status(), StatusCode::OK);
    // Only the owner deletes; deleting closes the stream.
    let mut stream = Stream::open(&sim, &one).await;
    stream.expect_welcome().await;
    let id = one["subscriptionId"].as_str().unwrap();
    assert_eq!(delete_sink(&sim, id).await, (StatusCode::OK, json!({})));
    assert!(matches!(stream.next(QUIET).await, Next::Ended));
    assert_eq!(delete_sink(&sim, id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        Stream::open_as(&sim, sim.token(), &one).await.err(),
        Some(StatusCode::NOT_FOUND)
    );
    create_sink(&sim, all()).await;
    let stats = sim.stream_stats();
    assert_eq!(
        (
            stats.sinks_created,
            stats.sinks_deleted,
            stats.sinks_active,
            stats.sink_limit_refusals
        ),
        (4, 1, 3, 1)
    );
    assert_eq!(sim.stats().events, stats, "the same in /__sim/stats");
}

#[tokio::test]
async fn an_expired_sink_frees_its_slot_and_ends_its_stream_with_goodbye() {
    // 100 s simulated at 100x: one real second.
    let config = Config {
        time_scale: 100.0,
        events: EventsConfig {
            sink_ttl: Duration::from_secs(100),
            ..EventsConfig::default()
        },
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let started = Instant::now();
    let sink = create_sink(&sim, all()).await;
    create_sink(&sim, all()).await;
    assert_eq!(
        create_sink_as(&sim, sim.token(), all()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut stream = Stream::open(&sim, &sink).await;
    let ended = loop {
        match stream.next(Duration::from_secs(5)).await {
            Next::Event(sse) if sse.is("CONTROL_EVENT", "welcome") => {}
            Next::Event(sse) => break sse,
            other => panic!("{other:?}"),
        }
    };
    assert!(ended.is("CONTROL_EVENT", "goodbye"), "{ended:?}");
    assert!(matches!(stream.next(QUIET).await, Next::Ended));
    let lived = started.elapsed();
    assert!(
        lived >= Duration::from_millis(900) && lived < Duration::from_secs(3),
        "{lived:?}"
    );
    // The first sink's slot is free; the second, created a moment later,
    // follows it.
    create_sink(&sim, all()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = sim.stream_stats();
    assert_eq!((stats.sinks_expired, stats.sinks_active), (2, 1));
    assert_eq!(stats.goodbyes_sent, 1, "only the open stream heard it");
}

#[tokio::test]
async fn the_limit_is_per_oauth_authorization_across_rotated_tokens() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let redirect = "https://app.example/callback";
    let code = sim
        .authorize(sim.oauth_client().0, redirect, "r:devices:*")
        .unwrap();
    let (id, secret) = sim.oauth_client();
    let token = |pairs: Vec<(&'static str, String)>| {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        http()
            .post(sim.token_url())
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let first: Value = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("client_id", id.into()),
        ("redirect_uri", redirect.into()),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let rotated: Value = token(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", id.into()),
        (
            "refresh_token",
            first["refresh_token"].as_str().unwrap().into(),
        ),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let (a, b) = (
        first["access_token"].as_str().unwrap(),
        rotated["access_token"].as_str().unwrap(),
    );
    assert_ne!(a, b);
    let sink = create_sink_as(&sim, a, all()).await;
    assert_eq!(sink.status(), StatusCode::OK);
    let sink: Value = sink.json().await.unwrap();
    assert_eq!(
        create_sink_as(&sim, b, all()).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        create_sink_as(&sim, b, all()).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rotated token is the same principal"
    );
    assert_eq!(
        create_sink_as(&sim, sim.token(), all()).await.status(),
        StatusCode::OK
    );
    // The family's other token streams the sink; a stranger cannot.
    let mut stream = Stream::open_as(&sim, b, &sink).await.unwrap();
    stream.expect_welcome().await;
    assert_eq!(
        Stream::open_as(&sim, sim.token(), &sink).await.err(),
        Some(StatusCode::NOT_FOUND)
    );
}

#[tokio::test]
async fn events_without_an_open_stream_are_lost_and_counted() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    for level in [10, 20, 30] {
        command(&sim, BULB, "switchLevel", "setLevel", json!([level])).await;
    }
    let stats = sim.stream_stats();
    assert_eq!(
        (
            stats.events_published,
            stats.events_delivered,
            stats.events_lost
        ),
        (3, 0, 3)
    );
    assert!(
        sim.published_events()
            .iter()
            .all(|e| (e.delivered, e.lost) == (0, 1))
    );
    // Nothing was kept for later.
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    assert!(stream.drain().await.is_empty());
    command(&sim, BULB, "switchLevel", "setLevel", json!([40])).await;
    let event = stream.data_event().await.json();
    assert_eq!(event["deviceEvent"]["value"], 40);
    // Once the client goes away, events are lost again.
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.stream_stats().streams_active, 0, "the slot was freed");
    command(&sim, BULB, "switchLevel", "setLevel", json!([50])).await;
    let stats = sim.stream_stats();
    assert_eq!((stats.events_delivered, stats.events_lost), (1, 4));
}

#[tokio::test]
async fn a_drop_cuts_without_goodbye_and_a_goodbye_closes_cleanly() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    assert_eq!(sim.stream_fault(StreamFault::Drop), 1);
    assert!(
        matches!(stream.next(QUIET).await, Next::Cut),
        "cut, no goodbye"
    );
    assert_eq!(sim.stream_fault(StreamFault::Drop), 0, "nothing open");

    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    assert_eq!(sim.stream_fault(StreamFault::Goodbye), 1);
    assert!(stream.event().await.is("CONTROL_EVENT", "goodbye"));
    assert!(matches!(stream.next(QUIET).await, Next::Ended));

    let stats = sim.stream_stats();
    assert_eq!((stats.streams_opened, stats.goodbyes_sent), (2, 1));
    assert_eq!(stats.sinks_active, 1, "faults end streams, not sinks");
    // A new stream replaces an open one, which ends.
    let mut first = Stream::open(&sim, &sink).await;
    first.expect_welcome().await;
    let mut second = Stream::open(&sim, &sink).await;
    second.expect_welcome().await;
    assert!(matches!(first.next(QUIET).await, Next::Ended));
    assert!(sim.stream_fault_for(sink["subscriptionId"].as_str().unwrap(), StreamFault::Drop));
    assert!(matches!(second.next(QUIET).await, Next::Cut));
}

#[tokio::test]
async fn a_half_open_stream_sends_nothing_more() {
    // A welcome every 60 ms.
    let config = Config {
        time_scale: 1000.0,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    stream.expect_welcome().await;
    assert_eq!(sim.stream_fault(StreamFault::HalfOpen), 1);
    // Whatever was already on its way drains, then silence.
    while let Next::Event(_) = stream.next(Duration::from_millis(50)).await {}
    command(&sim, BULB, "switch", "on", json!([])).await;
    assert!(matches!(stream.next(QUIET).await, Next::Quiet));
    assert_eq!(sim.published_events().last().unwrap().lost, 1);
    assert_eq!(
        sim.stream_stats().streams_active,
        1,
        "the connection stays open"
    );
    // A goodbye is not sent on a half-open stream either.
    assert_eq!(sim.stream_fault(StreamFault::Goodbye), 1);
    assert_eq!(sim.stream_stats().goodbyes_sent, 0);
    // Reconnecting is the way out.
    let mut again = Stream::open(&sim, &sink).await;
    again.expect_welcome().await;
    command(&sim, BULB, "switch", "off", json!([])).await;
    assert_eq!(
        again.data_event().await.json()["deviceEvent"]["value"],
        "off"
    );
}

#[tokio::test]
async fn a_silenced_device_is_lost_while_welcomes_and_other_devices_go_on() {
    let config = Config {
        time_scale: 1000.0,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    let silence = StreamFault::Silence {
        device_id: BULB.into(),
    };
    assert_eq!(sim.stream_fault(silence), 1);
    command(&sim, BULB, "switchLevel", "setLevel", json!([11])).await;
    command(&sim, DIMMER, "switchLevel", "setLevel", json!([12])).await;
    let mut welcomes = 0;
    let mut devices = Vec::new();
    let deadline = Instant::now() + QUIET;
    while Instant::now() < deadline {
        match stream.next(Duration::from_millis(100)).await {
            Next::Event(sse) if sse.is("CONTROL_EVENT", "welcome") => welcomes += 1,
            Next::Event(sse) => devices.push(sse.json()["deviceEvent"]["deviceId"].clone()),
            Next::Quiet => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(devices, vec![json!(DIMMER)]);
    assert!(welcomes >= 2, "{welcomes} welcomes");
    let published = sim.published_events();
    assert_eq!(
        (published[0].device_id.as_str(), published[0].lost),
        (BULB, 1)
    );
    assert_eq!(
        (published[1].device_id.as_str(), published[1].delivered),
        (DIMMER, 1)
    );
    // The state changed all the same: the stream, not the home, lost it.
    assert_eq!(status_value(&sim, BULB, "switchLevel", "level"), json!(11));
    // A new stream hears the device again.
    let mut again = Stream::open(&sim, &sink).await;
    again.expect_welcome().await;
    command(&sim, BULB, "switchLevel", "setLevel", json!([13])).await;
    assert_eq!(
        again.data_event().await.json()["deviceEvent"]["deviceId"],
        BULB
    );
}

#[tokio::test]
async fn random_activity_publishes_at_its_rate_and_the_home_holds_the_last_values() {
    let sim = Simulator::start(Home::generated(1, 30, 7).unwrap(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    let taking_part: BTreeSet<String> =
        sim.with_home(|h| h.devices.keys().take(10).cloned().collect());
    sim.start_activity(Activity {
        devices: 10,
        events_per_second: 200.0,
        health_fraction: 0.2,
        seed: 5,
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counts = sim.stop_activity();
    let events = stream.drain().await;
    let made = counts.attribute_changes + counts.health_flips;
    assert!((150..=260).contains(&made), "{counts:?}");
    assert_eq!(events.len() as u64, made, "every change, once");
    assert_eq!(sim.stream_stats().events_lost, 0);
    assert!(stream.keepalives >= 1, "a keepalive comment came by");
    let health: Vec<&Sse> = events
        .iter()
        .filter(|e| e.event == "DEVICE_HEALTH_EVENT")
        .collect();
    assert_eq!(health.len() as u64, counts.health_flips);
    assert!(
        (15..=80).contains(&health.len()),
        "{} health flips",
        health.len()
    );

    // The last event of each attribute and each device's health is the
    // home's state, stamped at that event's instant.
    let mut last = BTreeMap::new();
    let mut last_health = HashMap::new();
    for sse in &events {
        let event = sse.json();
        if let Some(body) = event.get("deviceEvent") {
            let key = [
                &body["deviceId"],
                &body["componentId"],
                &body["capability"],
                &body["attribute"],
            ]
            .map(|v| v.as_str().unwrap().to_owned());
            last.insert(key, (body["value"].clone(), event["eventTime"].clone()));
        } else {
            let body = &event["deviceHealthEvent"];
            let device = body["deviceId"].as_str().unwrap().to_owned();
            last_health.insert(device, body["status"].clone());
        }
    }
    sim.with_home(|home| {
        for ([device, component, capability, attribute], (value, time)) in &last {
            assert!(taking_part.contains(device), "{device} does not take part");
            let state =
                &home.devices[device].status["components"][component][capability][attribute];
            assert_eq!(&state["value"], value, "{device} {capability}.{attribute}");
            let stamp =
                chrono::DateTime::parse_from_rfc3339(state["timestamp"].as_str().unwrap()).unwrap();
            assert_eq!(json!(stamp.timestamp_millis()), *time);
        }
        for (device, status) in &last_health {
            assert_eq!(&home.devices[device].health["state"], status);
        }
    });
    assert!(last.len() >= 10, "{} attributes changed", last.len());
    // Stopped means stopped.
    assert!(stream.drain().await.is_empty());
    assert_eq!(sim.stop_activity(), Default::default());
}

#[tokio::test]
async fn filters_deliver_only_their_devices_and_locations() {
    let config = Config {
        events: EventsConfig {
            sink_limit: 5,
            ..EventsConfig::default()
        },
        ..Config::default()
    };
    let home = Home::generated(2, 6, 3).unwrap();
    let devices: Vec<(String, String)> = home
        .devices
        .values()
        .map(|d| (d.id().to_owned(), d.location_id().to_owned()))
        .collect();
    let first_location = devices[0].1.clone();
    let sim = Simulator::start(home, config).await.unwrap();
    let chosen = [devices[0].0.as_str(), devices[3].0.as_str()];
    let mut device_events_only = all();
    device_events_only["eventType"] = json!(["DEVICE_EVENT"]);
    let filters = [
        filter("DEVICEIDS", &chosen),
        filter("LOCATIONIDS", &[first_location.as_str()]),
        all(),
        filter("SMARTAPPIDS", &["app"]),
        device_events_only,
    ];
    let mut streams = Vec::new();
    for filter in filters {
        let sink = create_sink(&sim, filter).await;
        let mut stream = Stream::open(&sim, &sink).await;
        stream.expect_welcome().await;
        streams.push(stream);
    }
    for (device, _) in &devices {
        assert!(sim.set_health(device, false));
    }
    let mut seen = Vec::new();
    for stream in &mut streams {
        let events = stream.drain().await;
        let ids: BTreeSet<String> = events
            .iter()
            .map(|e| {
                assert_eq!(e.event, "DEVICE_HEALTH_EVENT");
                let body = &e.json()["deviceHealthEvent"];
                assert_eq!(body["status"], "OFFLINE");
                body["deviceId"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(ids.len(), events.len(), "each once");
        seen.push(ids);
    }
    let ids = |keep: &dyn Fn(&(String, String)) -> bool| -> BTreeSet<String> {
        devices
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.0.clone())
            .collect()
    };
    assert_eq!(seen[0], chosen.iter().map(|d| (*d).to_owned()).collect());
    assert_eq!(seen[1], ids(&|d| d.1 == first_location));
    assert_eq!(seen[1].len(), 3);
    assert_eq!(seen[2], ids(&|_| true));
    assert!(seen[3].is_empty(), "an app filter matches no device event");
    assert!(seen[4].is_empty(), "health events were not asked for");
    // The health the events announced is the health served.
    let (_, health) = get(&sim, &format!("/devices/{}/health", devices[0].0)).await;
    assert_eq!(health["state"], "OFFLINE");
    assert!(health["lastUpdatedDate"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn welcomes_come_every_period_divided_by_the_time_scale() {
    // 6 s simulated at 60x: every 100 ms.
    let config = Config {
        time_scale: 60.0,
        events: EventsConfig {
            welcome_period: Duration::from_secs(6),
            ..EventsConfig::default()
        },
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    let started = Instant::now();
    let mut welcomes = 0;
    while started.elapsed() < Duration::from_millis(1050) {
        match stream.next(Duration::from_millis(200)).await {
            Next::Event(sse) => {
                assert!(sse.is("CONTROL_EVENT", "welcome"), "{sse:?}");
                welcomes += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    // One at once, then about ten.
    assert!((8..=13).contains(&welcomes), "{welcomes} welcomes");
    assert!(sim.stream_stats().welcomes_sent >= welcomes);

    // Unscaled: the welcome on connecting, then a minute of nothing.
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    assert!(matches!(stream.next(QUIET).await, Next::Quiet));
}

fn new_device(sim: &Simulator, id: &str) -> SimDevice {
    let mut device = sim.with_home(|h| h.devices[OUTLET].clone());
    device.device["deviceId"] = json!(id);
    device.device["label"] = json!("Garden Light");
    device
}

#[tokio::test]
async fn devices_added_moved_and_removed_are_lifecycle_events() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    let id = "5e1a0000-0000-4000-8000-00000000d001";

    sim.add_device(new_device(&sim, id));
    let created = stream.data_event().await;
    assert_eq!(created.event, "DEVICE_LIFECYCLE_EVENT");
    let body = &created.json()["deviceLifecycleEvent"];
    assert_eq!(
        (&body["lifecycle"], &body["deviceId"]),
        (&json!("CREATE"), &json!(id))
    );
    assert_eq!(
        (&body["deviceName"], &body["locationId"]),
        (&json!("Garden Light"), &json!(HOME))
    );
    assert!(body["create"].is_object(), "{body}");
    assert_eq!(get(&sim, &format!("/devices/{id}")).await.0, StatusCode::OK);
    let (_, listed) = get(&sim, "/devices").await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["deviceId"] == id)
    );

    let room = "3a6e5d1c-0001-4000-8000-000000000004";
    let before = sim.with_home(|h| h.devices[id].device["roomId"].clone());
    assert!(sim.move_device(id, Some(room)));
    let moved = stream.data_event().await.json();
    let body = &moved["deviceLifecycleEvent"];
    assert_eq!(body["lifecycle"], "ROOM_MOVE");
    assert_eq!(
        body["roomMove"],
        json!({"roomIdFrom": before, "roomIdTo": room})
    );
    assert_eq!(get(&sim, &format!("/devices/{id}")).await.1["roomId"], room);

    assert!(sim.remove_device(id));
    let removed = stream.data_event().await.json();
    assert_eq!(removed["deviceLifecycleEvent"]["lifecycle"], "DELETE");
    assert_eq!(removed["deviceLifecycleEvent"]["deviceId"], id);
    assert_eq!(
        get(&sim, &format!("/devices/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!sim.remove_device(id));

    // Deleting through the API is a lifecycle event too.
    let response = http()
        .delete(format!("{}/devices/{DIMMER}", sim.base_url()))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let removed = stream.data_event().await.json();
    assert_eq!(
        (
            &removed["deviceLifecycleEvent"]["lifecycle"],
            &removed["deviceLifecycleEvent"]["deviceId"]
        ),
        (&json!("DELETE"), &json!(DIMMER))
    );
    let kinds: Vec<Value> = sim
        .published_events()
        .into_iter()
        .map(|e| e.value)
        .collect();
    assert_eq!(
        kinds,
        [
            json!("CREATE"),
            json!("ROOM_MOVE"),
            json!("DELETE"),
            json!("DELETE")
        ]
    );
}

#[tokio::test]
async fn in_process_changes_and_scenes_are_published_like_commands() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, filter("DEVICEIDS", &[BULB])).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    assert!(sim.set_attribute(
        BULB,
        "main",
        "colorTemperature",
        "colorTemperature",
        json!(2700)
    ));
    let event = stream.data_event().await.json();
    let body = &event["deviceEvent"];
    assert_eq!(
        (&body["value"], &body["unit"]),
        (&json!(2700), &json!("K")),
        "the unit kept"
    );
    assert!(body["commandId"].is_null());
    assert!(!sim.set_attribute("no-such-device", "main", "switch", "switch", json!("on")));

    let response = http()
        .post(format!(
            "{}/scenes/6a0f2c55-scene-good-night/execute",
            sim.base_url()
        ))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let event = stream.data_event().await.json();
    assert_eq!(event["deviceEvent"]["attribute"], "switch");
    assert_eq!(event["deviceEvent"]["value"], "off");
    assert_eq!(status_value(&sim, BULB, "switch", "switch"), json!("off"));
    // The scene's lock is not the bulb: filtered out, not lost.
    let published = sim.published_events();
    assert_eq!(published.len(), 3);
    assert_eq!((published[2].delivered, published[2].lost), (0, 0));
}

#[tokio::test]
async fn connecting_goes_through_the_fault_plan() {
    let mut rates = FaultRates::default();
    rates.set("server-error", 1.0).unwrap();
    let mut stall = FaultRates::default();
    stall.set("stall", 1.0).unwrap();
    let config = Config {
        faults: FaultPlan {
            seed: 1,
            per_operation: HashMap::from([("streamEvents".to_owned(), rates)]),
            ..FaultPlan::default()
        },
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let sink = create_sink(&sim, all()).await;
    let refused = Stream::open_as(&sim, sim.token(), &sink)
        .await
        .err()
        .unwrap();
    assert!(refused.is_server_error(), "{refused}");
    let entry = sim
        .log()
        .into_iter()
        .find(|e| e.operation == "streamEvents")
        .unwrap();
    assert!(entry.fault.is_some(), "{entry:?}");
    assert_eq!(sim.stream_stats().streams_opened, 0);

    // A stalled stream: `welcome`, then nothing; its events are lost.
    let config = Config {
        faults: FaultPlan {
            seed: 1,
            per_operation: HashMap::from([("streamEvents".to_owned(), stall)]),
            ..FaultPlan::default()
        },
        stall: Duration::from_millis(800),
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    command(&sim, BULB, "switch", "on", json!([])).await;
    assert!(matches!(stream.next(QUIET).await, Next::Quiet));
    assert!(matches!(
        stream.next(Duration::from_secs(2)).await,
        Next::Cut
    ));
    assert_eq!(sim.stream_stats().events_lost, 1);
}

#[tokio::test]
async fn dropping_the_simulator_says_goodbye_and_stops_the_stream_listener() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let sink = create_sink(&sim, all()).await;
    let mut stream = Stream::open(&sim, &sink).await;
    stream.expect_welcome().await;
    let origin = sim.stream_origin();
    drop(sim);
    assert!(stream.event().await.is("CONTROL_EVENT", "goodbye"));
    assert!(matches!(stream.next(QUIET).await, Next::Ended));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = reqwest::Client::new()
        .get(format!("{origin}/filters/x/activate"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

#[test]
fn the_binary_prints_the_stream_origin_and_runs_activity_and_stream_faults() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
        .args([
            "--activity",
            "5:20:0.1",
            "--stream-drops",
            "1",
            "--welcome-period",
            "1",
            "--sink-limit",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    while !seen.contains("activity:") {
        let Some(Ok(line)) = lines.next() else { break };
        seen.push_str(&line);
        seen.push('\n');
    }
    let field = |name: &str| {
        seen.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.split_whitespace().next().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {seen}"))
    };
    let subscriptions = field("event sinks:");
    let streams = field("event streams:");
    assert!(streams.starts_with("http://127.0.0.1:"), "{seen}");
    assert!(
        seen.contains("activity:        20 changes/s over 5 devices"),
        "{seen}"
    );
    let outcome = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let create = || {
            http()
                .post(&subscriptions)
                .bearer_auth("sim-token")
                .json(&json!({"name": "bin", "version": 20250122, "subscriptionFilters": [all()]}))
                .send()
        };
        let sink: Value = create().await.unwrap().json().await.unwrap();
        let limited = create().await.unwrap().status();
        let url = sink["registrationUrl"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&streams), "{url}");
        // Activity arrives until a random drop cuts the stream; a cut
        // before any activity reconnects.
        let mut text = String::new();
        let mut cut = false;
        for _ in 0..20 {
            let mut response = reqwest::Client::new()
                .get(&url)
                .bearer_auth("sim-token")
                .send()
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            cut = loop {
                match tokio::time::timeout_at(deadline, response.chunk()).await {
                    Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
                    Ok(Err(_)) => break true,
                    Ok(Ok(None)) | Err(_) => break false,
                }
            };
            if !cut || text.contains("event: DEVICE_EVENT\n") {
                break;
            }
        }
        (limited, text, cut)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let (limited, text, cut) = outcome;
    assert_eq!(limited, StatusCode::UNPROCESSABLE_ENTITY, "--sink-limit 1");
    assert!(
        text.starts_with("event: CONTROL_EVENT\ndata: welcome\n\n"),
        "{text}"
    );
    assert!(text.contains("event: DEVICE_EVENT\n"), "{text}");
    assert!(cut, "--stream-drops cut the stream: {text}");
}
