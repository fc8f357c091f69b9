//! The live-home drill: 1 000 devices under random activity (20 000+
//! events), with stream drops, half-open stalls, per-device silences while
//! `welcome` goes on, goodbyes, and two sinks leaked by an earlier run. At
//! the end the live state equals the simulator's truth attribute for
//! attribute, every change the stream did not deliver was reported once as
//! reconciled, and no sink is left behind.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use smartthings_ext::{
    ChangeKind, EventSubscription, LiveHome, LiveOptions, Origin, RateLimitPolicy, SmartThings,
};
use smartthings_sim::{Activity, Config, EventsConfig, Home, Simulator, StreamFault};
use support::sinks::leak_two_sinks;

const DEVICES: usize = 1_000;

/// `(device, component, capability, attribute)` → value.
type Values = HashMap<(String, String, String, String), Value>;

fn truth(sim: &Simulator) -> Values {
    sim.with_home(|home| {
        let mut values = Values::new();
        for device in home.devices.values() {
            let Some(components) = device.status["components"].as_object() else {
                continue;
            };
            for (component, capabilities) in components {
                for (capability, attributes) in capabilities.as_object().into_iter().flatten() {
                    for (attribute, state) in attributes.as_object().into_iter().flatten() {
                        let key = (
                            device.id().to_owned(),
                            component.clone(),
                            capability.clone(),
                            attribute.clone(),
                        );
                        values.insert(key, state.get("value").cloned().unwrap_or(Value::Null));
                    }
                }
            }
        }
        values
    })
}

fn live_values(home: &LiveHome) -> Values {
    let mut values = Values::new();
    for device in home.devices() {
        let id = device.id().to_owned();
        for (component, capability, attribute, state) in device.status.attributes() {
            let key = (
                id.clone(),
                component.to_owned(),
                capability.to_owned(),
                attribute.to_owned(),
            );
            values.insert(key, state.value.clone().unwrap_or(Value::Null));
        }
    }
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_live_home_equals_the_truth_after_drops_stalls_silences_and_goodbyes() {
    let home = Home::generated(5, DEVICES, 11).unwrap();
    // Time-scaled: `welcome` every 200 ms, so that a 500 ms read-idle
    // watchdog fires on half-open streams only.
    let config = Config {
        rate_limits: false,
        events: EventsConfig {
            welcome_period: Duration::from_millis(200),
            ..EventsConfig::default()
        },
        ..Config::default()
    };
    let sim = Simulator::start(home, config).await.unwrap();
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .allow_stream_origin(sim.stream_origin())
        .rate_limits(RateLimitPolicy::disabled())
        .build()
        .unwrap();

    let dir = std::env::temp_dir().join(format!("st-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("sinks.json");
    let leaked = leak_two_sinks(&sim).await;
    std::fs::write(&record, serde_json::json!({ "sinks": leaked }).to_string()).unwrap();

    let subscription = EventSubscription::all_locations()
        .read_idle(Duration::from_millis(500))
        .max_backoff(Duration::from_millis(200))
        .sink_record(&record);
    let mut live = LiveHome::start(&client, subscription, LiveOptions::default())
        .await
        .unwrap();
    assert_eq!(live.devices().len(), DEVICES);
    assert_eq!(
        sim.stream_stats().sinks_active,
        1,
        "the leaked sinks are gone"
    );

    // Every change, as the consumer sees it.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let metrics_before = live.metrics();
    let started = Instant::now();
    sim.start_activity(Activity {
        devices: DEVICES,
        events_per_second: 2_500.0,
        health_fraction: 0.02,
        seed: 5,
    });

    // 20 drops, 5 half-open stalls, 5 silences, 3 goodbyes, interleaved.
    let mut plan: Vec<StreamFault> = Vec::new();
    for i in 0..20 {
        plan.push(StreamFault::Drop);
        if i % 4 == 0 {
            plan.push(StreamFault::HalfOpen);
        }
        if i % 4 == 1 {
            let device = sim.with_home(|h| h.devices.values().nth(i * 37).unwrap().id().to_owned());
            plan.push(StreamFault::Silence { device_id: device });
        }
        if i % 7 == 2 {
            plan.push(StreamFault::Goodbye);
        }
    }
    let faults = plan.len();
    let mut hit = 0;
    for fault in plan {
        // Let the stream come back and carry events before the next fault.
        let deadline = Instant::now() + Duration::from_secs(10);
        while sim.stream_stats().streams_active == 0 && Instant::now() < deadline {
            drain(&mut live, &seen).await;
        }
        for _ in 0..4 {
            drain(&mut live, &seen).await;
        }
        let half_open = fault == StreamFault::HalfOpen;
        let silence = matches!(fault, StreamFault::Silence { .. });
        let before = live.metrics();
        hit += sim.stream_fault(fault);
        // A half-open stream is noticed only by the watchdog: let it.
        while half_open && live.metrics().stalls == before.stalls {
            assert!(
                Instant::now() < deadline + Duration::from_secs(10),
                "no stall seen"
            );
            drain(&mut live, &seen).await;
        }
        // Every fault but a silence ends the stream: the client must
        // reconnect before the next fault, or two faults could land on one
        // dying stream (a goodbye's stream is still open while it closes).
        while !silence && live.metrics().reconnects == before.reconnects {
            assert!(
                Instant::now() < deadline + Duration::from_secs(10),
                "no reconnect after a fault"
            );
            drain(&mut live, &seen).await;
        }
    }
    // Keep going until 20 000 events have been published.
    while sim.stream_stats().events_published < 20_000 {
        drain(&mut live, &seen).await;
    }
    sim.stop_activity();
    // One more reconnection so that the last silence is reconciled, then
    // wait until the state has caught up.
    while sim.stream_stats().streams_active == 0 {
        drain(&mut live, &seen).await;
    }
    let reconciliations = live.metrics().reconciliations;
    sim.stream_fault(StreamFault::Drop);
    let truth_now = truth(&sim);
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.metrics().reconciliations <= reconciliations || live_values(&live) != truth_now {
        assert!(Instant::now() < deadline, "the live state never caught up");
        drain(&mut live, &seen).await;
    }
    let elapsed = started.elapsed();
    // Whatever is still on its way to the consumer.
    loop {
        let before = seen.lock().unwrap().len();
        drain(&mut live, &seen).await;
        if seen.lock().unwrap().len() == before {
            break;
        }
    }

    // Attribute for attribute.
    let live_now = live_values(&live);
    assert_eq!(live_now.len(), truth_now.len());
    for (key, value) in &truth_now {
        assert_eq!(live_now.get(key), Some(value), "{key:?}");
    }

    let stats = sim.stream_stats();
    let metrics = live.metrics();
    let changes = seen.lock().unwrap().clone();
    eprintln!(
        "{} events published ({} lost) in {elapsed:?}; {hit}/{faults} faults hit; {metrics:?}; {} changes",
        stats.events_published,
        stats.events_lost,
        changes.len()
    );
    assert!(stats.events_published >= 20_000);
    // Every drop, stall and goodbye, and the final drop.
    assert_eq!(hit, faults, "a fault found no open stream");
    assert!(metrics.reconnects >= 29, "{metrics:?}");
    assert!(metrics.stalls >= 5, "{metrics:?}");
    assert!(stats.events_lost > 0);

    // Reconciled changes are real changes the stream did not deliver, each
    // reported once.
    let undelivered: HashSet<(String, String, String)> = sim
        .published_events()
        .into_iter()
        // Not delivered: a sink missed it, or no sink existed (between the
        // old sink's deletion and the new one's creation).
        .filter(|e| e.delivered == 0)
        .map(|e| {
            (
                e.device_id,
                e.attribute.unwrap_or_default(),
                e.value.to_string(),
            )
        })
        .collect();
    let mut reconciled = 0;
    let mut last: HashMap<(String, String, String, String), Value> = HashMap::new();
    for change in &changes {
        if let ChangeKind::Attribute {
            component,
            capability,
            attribute,
            value,
            ..
        } = &change.kind
        {
            let key = (
                change.device_id.clone(),
                component.clone(),
                capability.clone(),
                attribute.clone(),
            );
            assert_ne!(
                last.get(&key),
                Some(value),
                "{key:?} = {value} reported twice"
            );
            last.insert(key, value.clone());
            if change.origin == Origin::Reconciled {
                reconciled += 1;
                let lost = (
                    change.device_id.clone(),
                    attribute.clone(),
                    value.to_string(),
                );
                assert!(
                    undelivered.contains(&lost),
                    "{lost:?} reconciled but never lost by the stream"
                );
            }
        }
    }
    assert!(reconciled > 0, "nothing was reconciled");
    assert_eq!(
        metrics.reconciled - metrics_before.reconciled,
        changes
            .iter()
            .filter(|c| c.origin == Origin::Reconciled)
            .count() as u64
    );

    // No sink leaked, and the record is empty.
    live.stop().await;
    assert_eq!(sim.stream_stats().sinks_active, 0, "a sink leaked");
    let left: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(left["sinks"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(dir);
}

/// Take the changes that are ready, waiting a little for the first.
async fn drain(live: &mut LiveHome, seen: &Mutex<Vec<smartthings_ext::Change>>) {
    if let Ok(Some(change)) = tokio::time::timeout(Duration::from_millis(20), live.next()).await {
        let mut seen = seen.lock().unwrap();
        seen.push(change);
        while let Some(Some(change)) = futures::FutureExt::now_or_never(live.next()) {
            seen.push(change);
        }
    }
}
