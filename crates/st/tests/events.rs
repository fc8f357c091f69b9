//! `st events` end to end against the simulator's event stream: one JSON
//! object per line when piped, filters, and the sink deleted on exit and
//! on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use smartthings_sim::{Activity, Config, Home, Simulator};

async fn simulator() -> Simulator {
    let config = Config {
        rate_limits: false,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 50.0,
        health_fraction: 0.0,
        seed: 3,
    });
    sim
}

fn st(sim: &Simulator) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_st"));
    cmd.env("SMARTTHINGS_TOKEN", sim.token())
        .env_remove("SMARTTHINGS_BASE_URL")
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .args([
            "--base-url",
            &sim.base_url(),
            "--stream-origin",
            &sim.stream_origin(),
        ]);
    cmd
}

async fn run(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn piped_events_are_json_lines_that_match_what_was_published() {
    let sim = simulator().await;
    let mut cmd = st(&sim);
    cmd.args(["events", "--count", "20"]);
    let out = run(cmd).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 20);
    let published = sim.published_events();
    for line in &lines {
        assert_eq!(line["type"], "DEVICE_EVENT", "{line}");
        let found = published.iter().any(|p| {
            p.device_id == line["deviceId"].as_str().unwrap()
                && p.attribute.as_deref() == line["attribute"].as_str()
                && p.value == line["value"]
        });
        assert!(found, "{line} was never published");
    }
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_filter_yields_that_device_only() {
    let sim = simulator().await;
    let device = sim.with_home(|h| h.devices.values().next().unwrap().id().to_owned());
    let mut cmd = st(&sim);
    cmd.args(["events", "--count", "3", "--device", &device]);
    let out = run(cmd).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["deviceId"], device.as_str());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_deletes_the_sink_and_exits_0() {
    let sim = simulator().await;
    let mut cmd = st(&sim);
    cmd.arg("events")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // Wait for the first event: the sink exists and the stream is open.
    let first = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().unwrap().unwrap();
        (first, lines)
    })
    .await
    .unwrap();
    assert!(first.0.contains("DEVICE_EVENT"), "{}", first.0);
    assert_eq!(sim.stream_stats().sinks_active, 1);
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit {status}");
    // Deleted before the process exited, not left to expire.
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capability_filter_and_a_terminal_table_show_labelled_lines() {
    let sim = simulator().await;
    let mut cmd = st(&sim);
    cmd.args(["events", "--count", "5", "--capability", "switchLevel"])
        .args(["-o", "table"]);
    let out = run(cmd).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let labels: Vec<String> = sim.with_home(|h| {
        h.devices
            .values()
            .filter_map(|d| d.device["label"].as_str().map(str::to_owned))
            .collect()
    });
    assert_eq!(text.lines().count(), 5, "{text}");
    for line in text.lines() {
        // `HH:MM:SS.mmm  <label>  component/switchLevel/attribute = value`
        assert!(line.contains("/switchLevel/"), "{line}");
        assert!(labels.iter().any(|l| line.contains(l.as_str())), "{line}");
        assert!(
            line.as_bytes()[2] == b':' && line.as_bytes()[8] == b'.',
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sink_limit_is_exit_5_with_what_to_do() {
    let sim = simulator().await;
    let client = smartthings_ext::SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .allow_stream_origin(sim.stream_origin())
        .build()
        .unwrap();
    // Two other streams with the same token hold both sinks.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut events = client.events(smartthings_ext::EventSubscription::all_locations());
        futures::StreamExt::next(&mut events)
            .await
            .unwrap()
            .unwrap();
        held.push(events);
    }
    assert_eq!(sim.stream_stats().sinks_active, 2);
    let mut cmd = st(&sim);
    cmd.args(["events", "--count", "1"]);
    let out = run(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("sinks"), "{stderr}");
    assert!(out.stdout.is_empty());
    for events in held {
        events.close().await;
    }
    assert_eq!(sim.stream_stats().sinks_active, 0);
}
