//! The event stream against the simulator's sinks: typed events, the token
//! rule for the stream host, the read-idle watchdog, goodbye and drops,
//! the sink limit and leaked sinks, and sinks deleted on close.

mod support;

use std::time::Duration;

use futures::StreamExt;
use smartthings_ext::{
    Command, Control, Disconnect, ErrorKind, Event, EventStream, EventSubscription,
    RateLimitPolicy, SmartThings,
};
use smartthings_sim::{Config, EventsConfig, Home, Simulator, StreamFault};
use support::sinks::leak_two_sinks;

async fn simulator() -> Simulator {
    let config = Config {
        rate_limits: false,
        // Time-scaled, so that the tests' short read-idle watchdogs fire
        // on half-open streams only.
        events: EventsConfig {
            welcome_period: Duration::from_millis(100),
            ..EventsConfig::default()
        },
        ..Config::default()
    };
    Simulator::start(Home::demo(), config).await.unwrap()
}

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .allow_stream_origin(sim.stream_origin())
        .rate_limits(RateLimitPolicy::disabled())
        .build()
        .unwrap()
}

/// The next item that is not a `welcome`, within a bound.
async fn next(events: &mut EventStream) -> Result<Event, smartthings_ext::Error> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("no event within 10 s")
            .expect("the stream ended");
        if !matches!(item, Ok(Event::Control(Control::Welcome))) {
            return item;
        }
    }
}

fn switch_device(sim: &Simulator) -> String {
    sim.with_home(|home| {
        let device = home.devices.values().find(|d| d.has_capability("switch"));
        device.unwrap().id().to_owned()
    })
}

#[tokio::test]
async fn a_command_arrives_as_a_typed_event_and_close_deletes_the_sink() {
    let sim = simulator().await;
    let client = client(&sim);
    let mut events = client.events(EventSubscription::all_locations());
    assert_eq!(
        next(&mut events).await.unwrap(),
        Event::Connected { previous: None }
    );
    assert_eq!(sim.stream_stats().sinks_active, 1);

    let device = switch_device(&sim);
    client
        .execute(&device, [Command::switch_off()])
        .await
        .unwrap();
    client
        .execute(&device, [Command::switch_on()])
        .await
        .unwrap();
    let mut values = Vec::new();
    while values.len() < 2 {
        if let Event::Device(event) = next(&mut events).await.unwrap() {
            assert_eq!(event.device_id.as_deref(), Some(device.as_str()));
            assert_eq!(event.attribute.as_deref(), Some("switch"));
            assert!(event.event_time.is_some());
            values.push(event.value);
        }
    }
    assert_eq!(values, ["off", "on"]);
    let metrics = events.metrics();
    assert_eq!((metrics.connections, metrics.sinks_created), (1, 1));
    events.close().await;
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was not deleted"
    );
}

#[tokio::test]
async fn a_stream_host_not_allowed_never_receives_the_token() {
    let sim = simulator().await;
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let mut events = client.events(EventSubscription::all_locations());
    let error = next(&mut events).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error}");
    assert!(error.to_string().contains("allow_stream_origin"), "{error}");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .is_none(),
        "the stream goes on after a terminal error"
    );
    let stats = sim.stream_stats();
    assert_eq!(stats.streams_opened, 0, "the stream host was contacted");
    assert_eq!(stats.sinks_active, 0, "the refused sink was left behind");
}

#[tokio::test]
async fn stalls_goodbyes_and_drops_reconnect_on_a_new_sink() {
    let sim = simulator().await;
    let client = client(&sim);
    let subscription = EventSubscription::all_locations()
        .read_idle(Duration::from_millis(400))
        .max_backoff(Duration::from_millis(100));
    let mut events = client.events(subscription);
    assert_eq!(
        next(&mut events).await.unwrap(),
        Event::Connected { previous: None }
    );

    let cases = [
        (StreamFault::HalfOpen, Disconnect::Stalled),
        (StreamFault::Goodbye, Disconnect::Goodbye),
        (StreamFault::Drop, Disconnect::Closed),
    ];
    for (fault, expected) in cases {
        assert_eq!(sim.stream_fault(fault.clone()), 1, "{fault:?}");
        let reason = loop {
            match next(&mut events).await.unwrap() {
                Event::Connected { previous } => break previous.unwrap(),
                Event::Control(Control::Goodbye) => {}
                other => panic!("{fault:?}: unexpected {other:?}"),
            }
        };
        let matches = match (&expected, &reason) {
            (Disconnect::Closed, Disconnect::Failed(_)) => true,
            (a, b) => a == b,
        };
        assert!(matches, "{fault:?}: ended as {reason:?}");
        // One sink at a time: the old one was deleted.
        assert_eq!(sim.stream_stats().sinks_active, 1, "{fault:?}");
    }
    let metrics = events.metrics();
    assert_eq!(
        (metrics.reconnects, metrics.stalls, metrics.goodbyes),
        (3, 1, 1)
    );
    assert_eq!(metrics.sinks_created, 4);
    events.close().await;
    assert_eq!(sim.stream_stats().sinks_active, 0);
}

#[tokio::test]
async fn the_sink_limit_is_a_typed_error_unless_the_leaked_sinks_are_ours() {
    let sim = simulator().await;
    let leaked = leak_two_sinks(&sim).await;
    let client = client(&sim);

    // Not recorded as ours: a typed error that says what to do.
    let mut events = client.events(EventSubscription::all_locations());
    let error = next(&mut events).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SinkLimit, "{error}");
    assert!(error.to_string().contains("4–6 hours"), "{error}");
    assert_eq!(sim.stream_stats().sinks_active, 2);

    // Recorded by an earlier run: deleted, and the stream connects.
    let dir = tempfile_dir();
    let record = dir.join("sinks.json");
    std::fs::write(&record, serde_json::json!({ "sinks": leaked }).to_string()).unwrap();
    let mut events = client.events(EventSubscription::all_locations().sink_record(&record));
    assert_eq!(
        next(&mut events).await.unwrap(),
        Event::Connected { previous: None }
    );
    assert_eq!(sim.stream_stats().sinks_active, 1);
    assert_eq!(events.metrics().sinks_deleted, 2);
    events.close().await;
    assert_eq!(sim.stream_stats().sinks_active, 0);
    let left: serde_json::Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(
        left["sinks"],
        serde_json::json!([]),
        "the record still lists sinks"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "st-events-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_silenced_device_is_noticed_only_by_reconciling() {
    // The stream itself cannot tell: welcomes and other devices' events go
    // on. This is what LiveHome's reconciliation exists for (tests/live.rs).
    let sim = simulator().await;
    let client = client(&sim);
    let mut events = client.events(EventSubscription::all_locations());
    assert_eq!(
        next(&mut events).await.unwrap(),
        Event::Connected { previous: None }
    );
    let device = switch_device(&sim);
    assert_eq!(
        sim.stream_fault(StreamFault::Silence {
            device_id: device.clone()
        }),
        1
    );
    client
        .execute(&device, [Command::switch_off()])
        .await
        .unwrap();
    let other = sim.with_home(|home| {
        home.devices
            .values()
            .find(|d| d.has_capability("switch") && d.id() != device)
            .unwrap()
            .id()
            .to_owned()
    });
    client
        .execute(&other, [Command::switch_off()])
        .await
        .unwrap();
    let Event::Device(event) = next(&mut events).await.unwrap() else {
        panic!("not a device event");
    };
    assert_eq!(event.device_id.as_deref(), Some(other.as_str()));
    assert!(sim.stream_stats().events_lost >= 1);
    events.close().await;
}
