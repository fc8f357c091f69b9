//! The fault drill: the full client stack against a simulator that fails on
//! purpose, seeded, bounded in time. The same home (1 000 devices in 5
//! locations) and the same 120 commands go through every way the simulator
//! fails — 5xx, 429s and drops before processing; truncated bodies, dropped
//! answers and 5xx after processing; HTML and empty error pages; 429s with
//! absurd hints; stalled bodies; misbehaving pagination — and each time:
//!
//! - nothing panics, and no call outlasts its deadline (plus one attempt's
//!   timeout, the longest an attempt started just before it may run);
//! - every failure is a typed `smartthings_ext::Error` that keeps the status
//!   the server sent (a 401 HTML page is `Unauthorized` with status 401);
//! - the snapshot has every device exactly once, or fails with a typed error;
//! - no command is executed twice: the simulator's executed-commands log is
//!   compared with the commands the client sent, request by request.
//!
//! Time is short on purpose: one-second attempt timeouts, four-second
//! deadlines, rate-limit windows shrunk 60 times on both sides.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use smartthings_ext::{
    Command, DeviceQuery, Error, ErrorKind, RateLimitPolicy, RetryPolicy, SmartThings,
};
use smartthings_sim::{
    Config, FaultPlan, FaultRates, HOSTILE_HINTS, Home, LogEntry, PagingQuirks, Simulator,
};

/// Per attempt: a stalled body is given up after this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// Per call, waits and retries included.
const DEADLINE: Duration = Duration::from_secs(4);
/// The longest a call may take: its deadline, one attempt started just
/// before it, and scheduling noise on a loaded machine.
const CALL_BOUND: Duration = Duration::from_millis(4000 + 1000 + 1000);
/// How long the simulator holds a stalled connection: longer than the
/// client waits, bounded so that the drill ends.
const STALL: Duration = Duration::from_secs(3);
/// Rate-limit windows shrunk this many times, in the simulator and the
/// client alike.
const TIME_SCALE: f64 = 60.0;
const DEVICES: usize = 1000;
const COMMANDS: usize = 120;

fn home() -> Home {
    Home::generated(5, DEVICES, 2026).unwrap()
}

fn config(seed: u64, rates: FaultRates, paging: PagingQuirks) -> Config {
    Config {
        faults: FaultPlan {
            seed,
            global: rates,
            ..FaultPlan::default()
        },
        time_scale: TIME_SCALE,
        stall: STALL,
        paging,
        ..Config::default()
    }
}

fn client(sim: &Simulator) -> SmartThings {
    SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .timeout(ATTEMPT_TIMEOUT)
        .retry(
            RetryPolicy::default()
                .max_attempts(10)
                .deadline(DEADLINE)
                .max_hinted_wait(Duration::from_secs(2))
                .backoff(Duration::from_millis(5), Duration::from_millis(200)),
        )
        .rate_limits(RateLimitPolicy::default().time_scale(TIME_SCALE))
        .build()
        .unwrap()
}

/// The kind a status maps to.
fn kind_of(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        400 | 422 => ErrorKind::Validation,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Http,
    }
}

/// A failure is typed: a kind the faults can cause, and the status the
/// server sent (one it did send: `log`) with the kind that status means.
fn assert_typed(what: &str, error: &Error, log: &[LogEntry]) {
    assert!(!error.to_string().is_empty(), "{what}: an empty message");
    match error.status().map(|s| s.as_u16()) {
        Some(status) if status >= 400 => {
            assert_eq!(
                error.kind(),
                kind_of(status),
                "{what}: status {status} typed as {:?}: {error}",
                error.kind()
            );
            assert!(
                log.iter().any(|e| e.status == status),
                "{what}: status {status} was never sent: {error}"
            );
        }
        // A response whose body was cut off or stalled.
        Some(status) => assert!(
            matches!(error.kind(), ErrorKind::Decode | ErrorKind::Transport),
            "{what}: {:?} with status {status}: {error}",
            error.kind()
        ),
        None => match error.kind() {
            ErrorKind::Transport | ErrorKind::Decode | ErrorKind::Pagination => {}
            // Refused by the client's own limiter: it says how long.
            ErrorKind::RateLimited => assert!(
                error.retry_after().is_some(),
                "{what}: a rate-limit error without its wait: {error}"
            ),
            other => panic!("{what}: {other:?} without the status the server sent: {error}"),
        },
    }
}

/// What a snapshot must come to under a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Every device, each once.
    Whole,
    /// Every device, each once, or a typed error.
    WholeOrTyped,
    /// This typed error, with the server's paging at fault.
    Refused(ErrorKind),
}

/// Every device once, in the listing order they came in.
fn assert_each_device_once(what: &str, ids: &[String], expected: &BTreeSet<String>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(3).collect();
    assert!(twice.is_empty(), "{what}: devices listed twice: {twice:?}");
    let lost: Vec<_> = expected
        .iter()
        .filter(|id| !seen.contains_key(id.as_str()))
        .take(3)
        .collect();
    assert!(
        lost.is_empty() && seen.len() == expected.len(),
        "{what}: {} of {} devices, a silent gap, e.g. {lost:?}",
        seen.len(),
        expected.len()
    );
}

fn check_outcome<T>(
    what: &str,
    expect: Expect,
    result: Result<T, Error>,
    ids: impl FnOnce(&T) -> Vec<String>,
    expected: &BTreeSet<String>,
    log: &[LogEntry],
) -> bool {
    match (expect, result) {
        (Expect::Refused(kind), Ok(_)) => panic!("{what}: completed, expected {kind:?}"),
        (_, Ok(value)) => {
            assert_each_device_once(what, &ids(&value), expected);
            true
        }
        (Expect::Whole, Err(error)) => panic!("{what}: failed: {error}"),
        (Expect::Refused(kind), Err(error)) => {
            assert_eq!(error.kind(), kind, "{what}: {error}");
            false
        }
        (Expect::WholeOrTyped, Err(error)) => {
            assert_typed(what, &error, log);
            false
        }
    }
}

/// One condition: the snapshot, the device list page by page, and the 120
/// commands, each call timed and each failure checked.
struct Scenario {
    name: &'static str,
    seed: u64,
    rates: FaultRates,
    paging: PagingQuirks,
    expect: Expect,
}

/// What a scenario saw, for the scenario's own assertions.
struct Outcome {
    sim: Simulator,
    snapshot_completed: bool,
    command_failures: Vec<(String, Error)>,
}

async fn drill(scenario: Scenario) -> Outcome {
    let Scenario {
        name,
        seed,
        rates,
        paging,
        expect,
    } = scenario;
    let home = home();
    let expected: BTreeSet<String> = home.devices.keys().cloned().collect();
    let targets: Vec<String> = home
        .devices
        .values()
        .filter(|d| d.has_capability("switchLevel"))
        .take(COMMANDS)
        .map(|d| d.id().to_owned())
        .collect();
    assert_eq!(targets.len(), COMMANDS);
    let sim = Simulator::start(home, config(seed, rates, paging.clone()))
        .await
        .unwrap();
    let client = client(&sim);

    // The snapshot: several calls, at most one device page plus one round of
    // room lists in sequence at any time.
    let pages = DEVICES.div_ceil(paging.page_cap.unwrap_or(200).min(200));
    let started = Instant::now();
    let snapshot = tokio::time::timeout(CALL_BOUND * (pages as u32 + 2), client.snapshot())
        .await
        .unwrap_or_else(|_| panic!("{name}: the snapshot hung"));
    assert!(
        started.elapsed() <= CALL_BOUND * (pages as u32 + 1),
        "{name}: the snapshot took {:?} for {pages} pages",
        started.elapsed()
    );
    let snapshot_completed = check_outcome(
        &format!("{name}: snapshot"),
        expect,
        snapshot,
        |s| s.devices.iter().map(|d| d.id().to_owned()).collect(),
        &expected,
        &sim.log(),
    );

    // The same devices page by page: each page is one call, timed.
    let mut devices = client.devices(DeviceQuery::all().with_status_and_health());
    let mut ids = Vec::new();
    let mut listing = Ok(());
    let mut last = Instant::now();
    while let Some(item) = tokio::time::timeout(CALL_BOUND * 2, devices.next())
        .await
        .unwrap_or_else(|_| panic!("{name}: a device page hung"))
    {
        let took = last.elapsed();
        assert!(took <= CALL_BOUND, "{name}: a device page took {took:?}");
        last = Instant::now();
        match item {
            Ok(device) => ids.push(device.device_id.unwrap_or_default()),
            Err(error) => {
                listing = Err(error);
                break;
            }
        }
    }
    check_outcome(
        &format!("{name}: device list"),
        expect,
        listing,
        |()| ids.clone(),
        &expected,
        &sim.log(),
    );

    // The commands, one per device, each a distinct level.
    let mut sent: BTreeMap<String, u32> = BTreeMap::new();
    let mut accepted = BTreeSet::new();
    let mut command_failures = Vec::new();
    for (i, device) in targets.iter().enumerate() {
        let level = (i % 100) as u32;
        sent.insert(device.clone(), level);
        let started = Instant::now();
        let result = tokio::time::timeout(
            CALL_BOUND * 2,
            client.execute(device, [Command::set_level(level).unwrap()]),
        )
        .await
        .unwrap_or_else(|_| panic!("{name}: a command hung"));
        let took = started.elapsed();
        assert!(took <= CALL_BOUND, "{name}: a command took {took:?}");
        match result {
            Ok(_) => {
                accepted.insert(device.clone());
            }
            Err(error) => command_failures.push((device.clone(), error)),
        }
    }

    // No command executed twice: each executed command is one the client
    // sent, and each device's command ran at most once.
    let executed = sim.commands();
    let mut runs: BTreeMap<&str, usize> = BTreeMap::new();
    for command in &executed {
        *runs.entry(command.device_id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{name}: commands executed twice (device, runs): {twice:?}"
    );
    for command in &executed {
        let level = sent.get(&command.device_id);
        assert!(
            level.is_some_and(|l| command.arguments == [serde_json::json!(l)]),
            "{name}: executed a command the client never sent: {command:?}"
        );
    }
    for device in &accepted {
        assert_eq!(
            runs.get(device.as_str()),
            Some(&1),
            "{name}: accepted but not executed: {device}"
        );
    }

    // Each failure is typed, keeps the status of the last answer, counts the
    // attempts the server saw; and the command ran exactly when one of them
    // reached the handler.
    let log = sim.log();
    for (device, error) in &command_failures {
        let what = format!("{name}: command to {device}");
        let path = format!("/devices/{device}/commands");
        let attempts: Vec<&LogEntry> = log.iter().filter(|e| e.uri.contains(&path)).collect();
        assert_typed(&what, error, &log);
        assert_eq!(
            error.attempts() as usize,
            attempts.len(),
            "{what}: attempts {:?}: {error}",
            attempts
                .iter()
                .map(|e| (e.status, &e.fault))
                .collect::<Vec<_>>()
        );
        if let Some(last) = attempts.last() {
            match (last.status, last.fault.as_deref()) {
                (0, _) => assert_eq!(error.kind(), ErrorKind::Transport, "{what}: {error}"),
                (_, Some("Truncate" | "Stall")) => assert!(
                    matches!(error.kind(), ErrorKind::Decode | ErrorKind::Transport),
                    "{what}: {error}"
                ),
                (status, _) => assert_eq!(
                    error.status().map(|s| s.as_u16()),
                    Some(status),
                    "{what}: the status of the last answer: {error}"
                ),
            }
        }
        let reached = attempts.iter().any(|e| {
            matches!(e.fault.as_deref(), Some("DropAfter" | "Truncate" | "Stall"))
                || e.fault
                    .as_deref()
                    .is_some_and(|f| f.starts_with("ServerErrorAfter"))
                || (e.fault.is_none() && e.status == 200)
        });
        assert_eq!(
            runs.get(device.as_str()).copied().unwrap_or(0),
            usize::from(reached),
            "{what}: the command log disagrees with the request log"
        );
    }
    assert_eq!(sim.stats().throttled, 0, "{name}: {:?}", sim.stats());
    Outcome {
        sim,
        snapshot_completed,
        command_failures,
    }
}

fn rates(f: impl FnOnce(&mut FaultRates)) -> FaultRates {
    let mut rates = FaultRates::default();
    f(&mut rates);
    rates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_5xx_429_and_drops_before_processing_nothing_is_lost() {
    let outcome = drill(Scenario {
        name: "5xx, 429, drops",
        seed: 17,
        rates: rates(|r| {
            r.server_error = 0.10;
            r.rate_limited = 0.05;
            r.drop = 0.02;
        }),
        paging: PagingQuirks::default(),
        expect: Expect::Whole,
    })
    .await;
    assert!(outcome.sim.stats().faults > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_processing_never_make_a_command_run_twice() {
    let outcome = drill(Scenario {
        name: "after processing",
        seed: 23,
        rates: rates(|r| {
            r.server_error = 0.05;
            r.rate_limited = 0.05;
            r.drop = 0.02;
            r.truncate = 0.04;
            r.drop_after = 0.05;
            r.server_error_after = 0.05;
        }),
        paging: PagingQuirks::default(),
        expect: Expect::WholeOrTyped,
    })
    .await;
    // The drill bites: commands whose answer was lost after they ran.
    let lost_after = outcome
        .sim
        .log()
        .iter()
        .filter(|e| {
            e.operation == "executeDeviceCommands"
                && e.fault.as_deref().is_some_and(|f| {
                    f == "DropAfter" || f == "Truncate" || f.starts_with("ServerErrorAfter")
                })
        })
        .count();
    assert!(
        lost_after >= 5,
        "only {lost_after} answers lost after processing"
    );
    assert!(!outcome.command_failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_and_empty_error_pages_are_typed_with_their_status() {
    let outcome = drill(Scenario {
        name: "error pages",
        seed: 5,
        rates: rates(|r| r.error_page = 0.05),
        paging: PagingQuirks::default(),
        expect: Expect::WholeOrTyped,
    })
    .await;
    let kinds: BTreeSet<_> = outcome
        .command_failures
        .iter()
        .map(|(_, e)| format!("{:?}", e.kind()))
        .collect();
    assert!(
        kinds.len() >= 2,
        "error pages of several statuses: {kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_retry_hints_neither_hang_nor_crash_a_call() {
    let outcome = drill(Scenario {
        name: "absurd 429 hints",
        seed: 11,
        rates: rates(|r| r.hostile_429 = 0.08),
        paging: PagingQuirks::default(),
        expect: Expect::WholeOrTyped,
    })
    .await;
    let hints: BTreeSet<String> = outcome
        .sim
        .log()
        .into_iter()
        .filter_map(|e| e.fault.filter(|f| f.starts_with("Hostile429")))
        .collect();
    assert!(hints.len() >= 4, "most hints were tried: {hints:?}");
    // A hint in seconds or as a date is waited out, a negative or garbage
    // one ignored; only the absurd ones (1e20 s, 10^19 ms) end the call, at
    // once, as a rate-limit error that says how long the server asked for.
    let absurd: Vec<String> = HOSTILE_HINTS
        .iter()
        .enumerate()
        .filter(|(_, (name, value))| *value == Some("1e20") || *name == "x-ratelimit-reset")
        .map(|(i, _)| format!("Hostile429({i})"))
        .collect();
    assert_eq!(absurd.len(), 2);
    let log = outcome.sim.log();
    for (device, error) in &outcome.command_failures {
        let path = format!("/devices/{device}/commands");
        let last = log.iter().rfind(|e| e.uri.contains(&path)).unwrap();
        assert_eq!(error.kind(), ErrorKind::RateLimited, "{device}: {error}");
        assert!(
            last.fault.as_ref().is_some_and(|f| absurd.contains(f)),
            "{device}: gave up on {:?}: {error}",
            last.fault
        );
        assert!(error.retry_after().is_some(), "{device}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_are_given_up_within_the_deadline() {
    let outcome = drill(Scenario {
        name: "stalled bodies",
        seed: 3,
        rates: rates(|r| r.stall = 0.04),
        paging: PagingQuirks::default(),
        expect: Expect::WholeOrTyped,
    })
    .await;
    // A stalled answer to a command: given up after the attempt timeout, the
    // status kept, not replayed (the command ran).
    assert!(!outcome.command_failures.is_empty());
    for (device, error) in &outcome.command_failures {
        assert!(
            matches!(error.kind(), ErrorKind::Decode | ErrorKind::Transport),
            "{device}: {error}"
        );
        assert_eq!(error.attempts(), 1, "{device}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_links_and_short_pages_are_followed_to_the_end() {
    let outcome = drill(Scenario {
        name: "relative links, pages capped at 50",
        seed: 1,
        rates: FaultRates::default(),
        paging: PagingQuirks {
            relative_next_links: true,
            page_cap: Some(50),
            ..PagingQuirks::default()
        },
        expect: Expect::Whole,
    })
    .await;
    assert!(outcome.snapshot_completed);
    assert!(outcome.command_failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looping_and_spinning_pages_are_stopped_with_a_typed_error() {
    for (name, paging) in [
        (
            "a repeated next link",
            PagingQuirks {
                repeat_next_link: true,
                ..PagingQuirks::default()
            },
        ),
        (
            "empty pages with a next link",
            PagingQuirks {
                empty_pages_with_next: true,
                ..PagingQuirks::default()
            },
        ),
    ] {
        let outcome = drill(Scenario {
            name,
            seed: 1,
            rates: FaultRates::default(),
            paging,
            expect: Expect::Refused(ErrorKind::Pagination),
        })
        .await;
        let pages = outcome.sim.stats().by_operation["listDevices"];
        assert!(pages < 20, "{name}: {pages} device pages");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_to_another_host_is_refused_and_that_host_sees_nothing() {
    let elsewhere = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let outcome = drill(Scenario {
        name: "next links to another host",
        seed: 1,
        rates: FaultRates::default(),
        paging: PagingQuirks {
            foreign_next_links: Some(format!("http://{}", elsewhere.addr())),
            ..PagingQuirks::default()
        },
        expect: Expect::Refused(ErrorKind::Pagination),
    })
    .await;
    assert_eq!(elsewhere.stats().requests, 0, "{:?}", elsewhere.log());
    assert!(outcome.command_failures.is_empty());
}

/// Every error page, one status and body at a time, without retries: the
/// kind its status means, the status itself, and the page as the snippet.
#[tokio::test]
async fn each_error_page_keeps_its_status_and_kind() {
    let sim = Simulator::start(
        Home::demo(),
        config(9, rates(|r| r.error_page = 1.0), PagingQuirks::default()),
    )
    .await
    .unwrap();
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let error = client
            .get_device_status()
            .device_id("80e26532-85d4-484c-b012-1c04f3d35f95")
            .send()
            .await
            .unwrap_err();
        let sent = sim.log().pop().unwrap();
        let html = sent.fault.as_deref().unwrap().ends_with("true)");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(sent.status));
        assert_eq!(error.kind(), kind_of(sent.status), "{sent:?}: {error}");
        assert_eq!(error.attempts(), 1);
        if html {
            let snippet = error.snippet().unwrap_or_default();
            assert!(snippet.contains(&sent.status.to_string()), "{snippet}");
        }
        seen.insert((sent.status, html));
        if seen.len() == 14 {
            break;
        }
    }
    assert_eq!(seen.len(), 14, "7 statuses, HTML and empty: {seen:?}");
    assert!(seen.contains(&(401, true)));
}

#[tokio::test]
async fn truncated_bodies_and_proxy_pages_are_typed_errors() {
    for (rates, kind) in [
        (rates(|r| r.truncate = 1.0), ErrorKind::Decode),
        (rates(|r| r.html = 1.0), ErrorKind::Server),
    ] {
        let sim = Simulator::start(Home::demo(), config(1, rates, PagingQuirks::default()))
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
            assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
            assert!(
                error.snippet().unwrap().contains("502 Bad Gateway"),
                "{error}"
            );
        }
    }
}

/// The demo home with 150 rules in one location, paged with `quirks`.
async fn with_150_rules(quirks: PagingQuirks) -> (Simulator, String) {
    let sim = Simulator::start(Home::demo(), config(1, FaultRates::default(), quirks))
        .await
        .unwrap();
    let location = sim.with_home(|h| {
        let location = h.locations.keys().next().cloned().unwrap();
        h.rules.clear();
        for i in 0..150 {
            h.rules.insert(
                format!("rule-{i}"),
                serde_json::json!({"id": format!("rule-{i}"), "name": format!("rule {i}"), "locationId": location, "actions": []}),
            );
        }
        location
    });
    (sim, location)
}

/// Rules page by offset; a server that ignores it sends the first page
/// again, which is stopped, not looped over, and no rule comes twice.
#[tokio::test]
async fn rules_from_a_server_that_ignores_offset_stop_with_a_typed_error() {
    let (sim, location) = with_150_rules(PagingQuirks {
        ignore_offset: true,
        ..PagingQuirks::default()
    })
    .await;
    let mut rules = client(&sim).rules(&location);
    let mut ids = BTreeSet::new();
    let mut error = None;
    while let Some(item) = rules.next().await {
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

/// Rules from a server that caps its pages below the `max` asked: a short
/// page without a next link looked like the last one and the rest of the
/// rules went missing silently; only an empty page ends the list now.
#[tokio::test]
async fn rules_from_a_server_that_caps_its_pages_are_all_listed() {
    let (sim, location) = with_150_rules(PagingQuirks {
        page_cap: Some(50),
        ..PagingQuirks::default()
    })
    .await;
    let listed: Vec<_> = client(&sim).rules(&location).collect().await;
    let ids: BTreeSet<String> = listed
        .into_iter()
        .map(|r| r.expect("a rule").id.unwrap())
        .collect();
    assert_eq!(ids.len(), 150, "every rule once, or a typed error");
}
