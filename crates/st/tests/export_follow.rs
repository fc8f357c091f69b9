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

#[tokio::test(flavor = "multi_thread")]
async fn follow_keeps_the_export_equal_to_the_truth_and_marks_reconciled_rows() {
    let config = Config {
        rate_limits: false,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_st"))
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
    let started = Instant::now();
    while sim.stream_stats().streams_active == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "st never connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 200.0,
        health_fraction: 0.0,
        seed: 9,
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Events lost while one device is silenced, found again by the
    // reconciliation after the drop.
    let silenced = sim.with_home(|h| h.devices.values().next().unwrap().id().to_owned());
    assert_eq!(
        sim.stream_fault(StreamFault::Silence {
            device_id: silenced
        }),
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.stream_fault(StreamFault::Drop), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.stop_activity();
    let published = sim.stream_stats().events_published;
    assert!(published >= 200, "only {published} events");

    // The export catches up with the home.
    let expected = truth(&sim);
    let deadline = Instant::now() + Duration::from_secs(30);
    while exported(&out) != expected {
        assert!(Instant::now() < deadline, "the export never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit {status}");
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );

    let rows = events(&out);
    let reconciled = rows.iter().filter(|r| r["origin"] == "reconciled").count();
    let streamed = rows.iter().filter(|r| r["origin"] == "stream").count();
    assert!(
        streamed > 0 && reconciled > 0,
        "{streamed} streamed, {reconciled} reconciled"
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
