//! The fault drill: the full client stack against a simulator that fails on
//! purpose, seeded, bounded in time. Nothing is lost, nothing duplicated,
//! no limit exceeded, no command executed twice, every failure typed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use smartthings_ext::{Command, ErrorKind, RateLimitPolicy, RetryPolicy, SmartThings};
use smartthings_sim::{Config, FaultPlan, FaultRates, Home, Simulator};

fn faulty(seed: u64, rates: FaultRates) -> Config {
    Config {
        faults: FaultPlan {
            seed,
            global: rates,
            ..FaultPlan::default()
        },
        ..Config::default()
    }
}

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .max_attempts(10)
                .backoff(Duration::from_millis(5), Duration::from_millis(200)),
        )
        .rate_limits(RateLimitPolicy::default())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_through_5xx_429_and_drops_loses_and_duplicates_nothing() {
    let home = Home::generated(5, 1000, 2026).unwrap();
    let expected: BTreeSet<String> = home.devices.keys().cloned().collect();
    let rates = FaultRates {
        server_error: 0.10,
        rate_limited: 0.05,
        drop: 0.02,
        ..FaultRates::default()
    };
    let sim = Simulator::start(home, faulty(17, rates)).await.unwrap();
    let client = client(&sim);

    let snapshot = tokio::time::timeout(Duration::from_secs(60), client.snapshot())
        .await
        .expect("the drill is bounded in time")
        .expect("the snapshot completes despite the faults");

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for device in &snapshot.devices {
        *seen.entry(device.id().to_owned()).or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "a device appeared twice");
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "devices lost"
    );
    assert!(snapshot.devices.iter().all(|d| d.status.main().is_some()));
    assert_eq!(snapshot.locations.len(), 5);

    let stats = sim.stats();
    assert!(stats.faults > 0, "faults were injected: {stats:?}");
    assert_eq!(
        stats.throttled, 0,
        "the client never exceeded a real limit: {stats:?}"
    );
    assert_eq!(
        snapshot.requests, stats.requests,
        "every request the client made reached the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_through_the_same_faults_are_never_executed_twice() {
    let home = Home::generated(5, 1000, 2026).unwrap();
    let targets: Vec<String> = home
        .devices
        .values()
        .filter(|d| d.has_capability("switchLevel"))
        .take(120)
        .map(|d| d.id().to_owned())
        .collect();
    // Truncation answers a command that was executed with a cut body: the
    // case where a blind replay would execute it twice.
    let rates = FaultRates {
        server_error: 0.10,
        rate_limited: 0.05,
        drop: 0.02,
        truncate: 0.05,
        ..FaultRates::default()
    };
    let sim = Simulator::start(home, faulty(23, rates)).await.unwrap();
    let client = client(&sim);

    let mut accepted = BTreeSet::new();
    let mut failed = Vec::new();
    for (i, device) in targets.iter().enumerate() {
        let level = (i % 100) as u32;
        match client
            .execute(device, [Command::set_level(level).unwrap()])
            .await
        {
            Ok(_) => {
                accepted.insert(device.clone());
            }
            Err(e) => failed.push((device.clone(), e.kind())),
        }
    }
    let executed = sim.commands();
    let mut per_device: BTreeMap<&str, usize> = BTreeMap::new();
    for command in &executed {
        *per_device.entry(command.device_id.as_str()).or_default() += 1;
    }
    assert!(
        per_device.values().all(|n| *n == 1),
        "a command ran twice: {per_device:?}"
    );
    for device in &accepted {
        assert_eq!(
            per_device.get(device.as_str()),
            Some(&1),
            "accepted but not executed: {device}"
        );
    }
    // Failures are typed, and a failed command ran at most once.
    assert!(!failed.is_empty(), "the drill injected no command failure");
    for (device, kind) in &failed {
        assert!(
            matches!(
                kind,
                ErrorKind::Server
                    | ErrorKind::Transport
                    | ErrorKind::Decode
                    | ErrorKind::RateLimited
            ),
            "{device}: {kind:?}"
        );
        assert!(per_device.get(device.as_str()).copied().unwrap_or(0) <= 1);
    }
    assert_eq!(sim.stats().throttled, 0);
}

#[tokio::test]
async fn truncated_bodies_and_html_pages_are_typed_errors() {
    for (rates, kind) in [
        (
            FaultRates {
                truncate: 1.0,
                ..FaultRates::default()
            },
            ErrorKind::Decode,
        ),
        (
            FaultRates {
                html: 1.0,
                ..FaultRates::default()
            },
            ErrorKind::Server,
        ),
    ] {
        let sim = Simulator::start(Home::demo(), faulty(1, rates))
            .await
            .unwrap();
        let client = SmartThings::builder()
            .token(sim.token())
            .base_url(sim.base_url())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let error = client
            .get_device_status()
            .device_id("80e26532-85d4-484c-b012-1c04f3d35f95")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        if kind == ErrorKind::Server {
            assert!(
                error.snippet().unwrap().contains("502 Bad Gateway"),
                "{error}"
            );
        }
    }
}
