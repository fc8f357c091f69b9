//! The fault drill: the full client stack against a simulator that fails on
//! purpose, seeded, bounded in time. Nothing is lost, nothing duplicated,
//! no limit exceeded, no command executed twice, every failure typed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use smartthings_ext::{Command, ErrorKind, RateLimitPolicy, RetryPolicy, SmartThings};
use smartthings_sim::{Config, FaultPlan, FaultRates, Home, PagingQuirks, Simulator};

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

/// Per attempt: a stalled body is given up after this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Per call, waits and retries included.
const DEADLINE: Duration = Duration::from_secs(20);

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .timeout(ATTEMPT_TIMEOUT)
        .retry(
            RetryPolicy::default()
                .max_attempts(10)
                .deadline(DEADLINE)
                .max_hinted_wait(Duration::from_secs(5))
                .backoff(Duration::from_millis(5), Duration::from_millis(200)),
        )
        .rate_limits(RateLimitPolicy::default())
        .build()
        .unwrap()
}

/// A call may take its deadline plus one attempt in flight when it passed.
fn assert_within_deadline(what: &str, took: Duration) {
    assert!(
        took <= DEADLINE + ATTEMPT_TIMEOUT + Duration::from_secs(1),
        "{what} took {took:?}, past its deadline"
    );
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
    // Truncation, a dropped answer and a 5xx after processing each follow
    // a command that was executed: where a blind replay executes it twice.
    let rates = FaultRates {
        server_error: 0.10,
        rate_limited: 0.05,
        drop: 0.02,
        truncate: 0.05,
        drop_after: 0.04,
        server_error_after: 0.04,
        ..FaultRates::default()
    };
    let sim = Simulator::start(home, faulty(23, rates)).await.unwrap();
    let client = client(&sim);

    let mut accepted = BTreeSet::new();
    let mut failed = Vec::new();
    for (i, device) in targets.iter().enumerate() {
        let level = (i % 100) as u32;
        let started = std::time::Instant::now();
        let result = client
            .execute(device, [Command::set_level(level).unwrap()])
            .await;
        assert_within_deadline("a command", started.elapsed());
        match result {
            Ok(_) => {
                accepted.insert(device.clone());
            }
            Err(e) => {
                if e.kind() == ErrorKind::Server {
                    assert!(e.status().is_some(), "a 5xx keeps its status: {e}");
                }
                failed.push((device.clone(), e.kind()));
            }
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

/// A snapshot under `rates`: complete with every device exactly once, or a
/// typed failure that keeps the status the server sent; bounded in time.
async fn snapshot_survives(what: &str, seed: u64, config: Config) -> bool {
    let home = Home::generated(5, 1000, 2026).unwrap();
    let expected: BTreeSet<String> = home.devices.keys().cloned().collect();
    let sim = Simulator::start(
        home,
        Config {
            faults: FaultPlan {
                seed,
                ..config.faults.clone()
            },
            ..config
        },
    )
    .await
    .unwrap();
    let client = client(&sim);
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(DEADLINE * 4, client.snapshot())
        .await
        .unwrap_or_else(|_| panic!("{what}: the snapshot hung"));
    match result {
        Ok(snapshot) => {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for device in &snapshot.devices {
                *seen.entry(device.id().to_owned()).or_default() += 1;
            }
            assert!(seen.values().all(|n| *n == 1), "{what}: a device twice");
            let seen: BTreeSet<String> = seen.into_keys().collect();
            let lost: Vec<_> = expected.difference(&seen).take(3).collect();
            assert!(
                lost.is_empty() && seen.len() == expected.len(),
                "{what}: {} of {} devices, lost e.g. {lost:?}",
                seen.len(),
                expected.len()
            );
            true
        }
        Err(error) => {
            // A snapshot is several calls; each is bounded by the deadline.
            assert!(started.elapsed() < DEADLINE * 4, "{what}: {error}");
            match error.kind() {
                ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::NotFound => {
                    assert!(error.status().is_some(), "{what}: {error}");
                    assert!(error.snippet().is_some(), "{what}: {error}");
                }
                ErrorKind::RateLimited => assert!(error.retry_after().is_some(), "{what}: {error}"),
                ErrorKind::Server => assert!(error.status().is_some(), "{what}: {error}"),
                ErrorKind::Transport | ErrorKind::Decode | ErrorKind::Pagination => {}
                other => panic!("{what}: unexpected {other:?}: {error}"),
            }
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_through_error_pages_hostile_hints_and_stalls_are_whole_or_typed() {
    let scenarios = [
        (
            "HTML and empty error pages",
            FaultRates {
                error_page: 0.03,
                ..FaultRates::default()
            },
        ),
        (
            "429s with absurd hints",
            FaultRates {
                hostile_429: 0.08,
                ..FaultRates::default()
            },
        ),
        (
            "stalled bodies",
            FaultRates {
                stall: 0.08,
                ..FaultRates::default()
            },
        ),
    ];
    for (what, rates) in scenarios {
        let mut completed = 0;
        for seed in 1..=4 {
            let config = Config {
                faults: FaultPlan {
                    global: rates.clone(),
                    ..FaultPlan::default()
                },
                stall: Duration::from_secs(4),
                ..Config::default()
            };
            if snapshot_survives(what, seed, config).await {
                completed += 1;
            }
        }
        assert!(completed > 0, "{what}: no snapshot completed in 4 seeds");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_misbehaviour_is_followed_or_stopped_never_looped() {
    // Relative links and pages shorter than asked: followed, nothing lost.
    let lenient = PagingQuirks {
        relative_next_links: true,
        page_cap: Some(50),
        ..PagingQuirks::default()
    };
    let config = Config {
        paging: lenient,
        ..Config::default()
    };
    assert!(snapshot_survives("relative links, short pages", 1, config).await);

    // A next link that repeats itself, and empty pages that always have a
    // next one: stopped with a typed error.
    for quirks in [
        PagingQuirks {
            repeat_next_link: true,
            ..PagingQuirks::default()
        },
        PagingQuirks {
            empty_pages_with_next: true,
            ..PagingQuirks::default()
        },
    ] {
        let sim = Simulator::start(
            Home::generated(5, 1000, 2026).unwrap(),
            Config {
                paging: quirks.clone(),
                ..Config::default()
            },
        )
        .await
        .unwrap();
        let error = tokio::time::timeout(DEADLINE, client(&sim).snapshot())
            .await
            .expect("stopped, not looping")
            .expect_err("a paging loop is an error");
        assert_eq!(error.kind(), ErrorKind::Pagination, "{quirks:?}: {error}");
        assert!(sim.stats().requests < 50, "{quirks:?}: {:?}", sim.stats());
    }

    // Rules paged by an offset the server ignores.
    let sim = Simulator::start(
        Home::demo(),
        Config {
            paging: PagingQuirks {
                ignore_offset: true,
                ..PagingQuirks::default()
            },
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let location = sim.with_home(|h| {
        let location = h.locations.keys().next().cloned().unwrap();
        for i in 0..150 {
            h.rules.insert(
                format!("rule-{i}"),
                serde_json::json!({"id": format!("rule-{i}"), "name": format!("rule {i}"), "locationId": location, "actions": []}),
            );
        }
        location
    });
    let mut rules = client(&sim).rules(&location);
    let mut ids = BTreeSet::new();
    let mut error = None;
    while let Some(item) = futures::StreamExt::next(&mut rules).await {
        match item {
            Ok(rule) => assert!(ids.insert(rule.id.unwrap()), "a rule twice"),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(error.expect("stopped").kind(), ErrorKind::Pagination);
    assert_eq!(ids.len(), 100, "the first page, each rule once");
}
