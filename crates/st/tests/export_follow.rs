//! `st export --follow` against the simulator's event stream: after the
//! activity stops, the exported `device_status` equals the simulator's
//! truth, `device_events` holds every change (some of them reconciled, the
//! ones the stream lost), and Ctrl-C leaves no sink behind.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use smartthings_sim::{Activity, Config, Home, Simulator, StreamFault};

/// `(device, component, capability, attribute)` → value as JSON text.
type Values = HashMap<(String, String, String, String), String>;

fn truth(sim: &Simulator) -> Values {
    sim.with_home(|home| {
        let mut values = Values::new();
        for device in home.devices.values() {
            for (component, capabilities) in device.status["components"]
                .as_object()
                .into_iter()
                .flatten()
            {
                for (capability, attributes) in capabilities.as_object().into_iter().flatten() {
                    for (attribute, state) in attributes.as_object().into_iter().flatten() {
                        let key = (
                            device.id().to_owned(),
                            component.clone(),
                            capability.clone(),
                            attribute.clone(),
                        );
                        values.insert(
                            key,
                            state
                                .get("value")
                                .cloned()
                                .unwrap_or(Value::Null)
                                .to_string(),
                        );
                    }
                }
            }
        }
        values
    })
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn exported(dir: &Path) -> Values {
    jsonl(&dir.join("device_status.jsonl"))
        .into_iter()
        .map(|row| {
            let text = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
            let value: Value =
                serde_json::from_str(row["value_json"].as_str().unwrap_or("null")).unwrap();
            (
                (
                    text("device_id"),
                    text("component_id"),
                    text("capability_id"),
                    text("attribute"),
                ),
                value.to_string(),
            )
        })
        .collect()
}

fn events(dir: &Path) -> Vec<Value> {
    let mut rows = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("device_events")) {
        for entry in entries.flatten() {
            rows.extend(jsonl(&entry.path()));
        }
    }
    rows
}

/// Poll `done` until it holds, or fail saying `what` never happened.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_keeps_the_export_equal_to_the_truth_and_marks_reconciled_rows() {
    let config = Config {
        rate_limits: false,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home");
    let child = Command::new(env!("CARGO_BIN_EXE_st"))
        .env("SMARTTHINGS_TOKEN", sim.token())
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .args([
            "--base-url",
            &sim.base_url(),
            "--stream-origin",
            &sim.stream_origin(),
        ])
        .args(["export", "--format", "jsonl", "--to"])
        .arg(&out)
        .arg("--follow")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The stream is open once the sink exists.
    until("st connecting", || sim.stream_stats().streams_active == 1).await;
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 200.0,
        health_fraction: 0.0,
        seed: 9,
    });
    until("100 events", || sim.stream_stats().events_published >= 100).await;
    sim.stop_activity();
    // A device falls silent and changes: the stream loses the change, and
    // the reconciliation after the drop finds it.
    let (dimmer, level) = sim.with_home(|h| {
        let d = h
            .devices
            .values()
            .find(|d| d.has_capability("switchLevel"))
            .unwrap();
        let level = d.status["components"]["main"]["switchLevel"]["level"]["value"].clone();
        (d.id().to_owned(), level)
    });
    let lost_level = if level == 37 { 38 } else { 37 };
    let silenced = StreamFault::Silence {
        device_id: dimmer.clone(),
    };
    assert_eq!(sim.stream_fault(silenced), 1);
    let lost = serde_json::json!(lost_level);
    assert!(sim.set_attribute(&dimmer, "main", "switchLevel", "level", lost));
    assert_eq!(sim.published_events().last().unwrap().lost, 1);
    assert_eq!(sim.stream_fault(StreamFault::Drop), 1);
    let key = (
        dimmer.clone(),
        "main".to_owned(),
        "switchLevel".to_owned(),
        "level".to_owned(),
    );
    until("the lost change reconciled", || {
        exported(&out).get(&key) == Some(&lost_level.to_string())
    })
    .await;
    // More changes over the new connection.
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 200.0,
        health_fraction: 0.0,
        seed: 10,
    });
    let before = sim.stream_stats().events_published;
    until("100 more events", || {
        sim.stream_stats().events_published >= before + 100
    })
    .await;
    sim.stop_activity();
    let published = sim.stream_stats().events_published;
    assert!(published >= 200, "only {published} events");

    // The export catches up with the home.
    let expected = truth(&sim);
    until("the export catching up", || exported(&out) == expected).await;

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "exit {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );
    assert_eq!(exported(&out), expected, "still equal after the stop");

    // The summary (JSON: stdout is a pipe) counts what device_events holds.
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = events(&out);
    let reconciled = rows.iter().filter(|r| r["origin"] == "reconciled").count();
    let streamed = rows.iter().filter(|r| r["origin"] == "stream").count();
    assert_eq!(summary["changes"], rows.len(), "{summary}");
    assert_eq!(summary["streamed"], streamed, "{summary}");
    assert_eq!(summary["reconciled"], reconciled, "{summary}");
    assert!(
        streamed > 0 && reconciled > 0,
        "{streamed} streamed, {reconciled} reconciled"
    );
    assert!(
        rows.iter().any(|r| r["origin"] == "reconciled"
            && r["device_id"] == dimmer.as_str()
            && r["value_json"].as_str() == Some(&*lost_level.to_string())),
        "the lost change is a reconciled row"
    );
    // Every attribute row is a value the simulator published.
    let values: std::collections::HashSet<(String, String, String)> = sim
        .published_events()
        .into_iter()
        .map(|e| {
            (
                e.device_id,
                e.attribute.unwrap_or_default(),
                e.value.to_string(),
            )
        })
        .collect();
    for row in rows.iter().filter(|r| r["kind"] == "attribute") {
        let key = (
            row["device_id"].as_str().unwrap().to_owned(),
            row["attribute"].as_str().unwrap().to_owned(),
            row["value_json"].as_str().unwrap().to_owned(),
        );
        assert!(values.contains(&key), "{row} was never published");
    }
}

/// `--count N`: stops by itself after N changes, exit 0, sink deleted.
#[tokio::test(flavor = "multi_thread")]
async fn follow_count_stops_after_that_many_changes() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 100.0,
        health_fraction: 0.1,
        seed: 5,
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_st"));
    cmd.env("SMARTTHINGS_TOKEN", sim.token())
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .args([
            "--base-url",
            &sim.base_url(),
            "--stream-origin",
            &sim.stream_origin(),
        ])
        .args(["export", "--format", "parquet", "--to"])
        .arg(&out)
        .args(["--follow", "--count", "30"]);
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let changes = summary["changes"].as_u64().unwrap();
    assert!(changes >= 30, "{summary}");
    assert_eq!(summary["load_id"], 1, "{summary}");
    assert!(out.join("device_events").read_dir().unwrap().count() >= 1);
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );
}
