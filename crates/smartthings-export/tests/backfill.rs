//! `--events-since`: the device history appended to `device_events` in
//! every destination, incrementally across runs by each location's cursor:
//! every event once, none twice, none from before the window.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use duckdb::Connection;
use serde_json::{Value, json};
use smartthings_export::{Destination, ExportOptions, export};
use smartthings_ext::SmartThings;
use smartthings_sim::{Config, Home, Simulator};
use tempfile::TempDir;

mod formats;
mod support;

use formats::Format;

/// Where the tests write: the two directory formats and a database.
#[derive(Clone, Copy, Debug)]
enum Target {
    Directory(Format),
    DuckDb,
}

const TARGETS: [Target; 3] = [
    Target::Directory(Format::Parquet),
    Target::Directory(Format::JsonLines),
    Target::DuckDb,
];

const SCHEMA: &str = "smartthings_home_api_data";

impl Target {
    fn destination(self, dir: &Path) -> Destination {
        match self {
            Target::Directory(format) => format.destination(dir),
            Target::DuckDb => Destination::DuckDb(dir.join("home.duckdb")),
        }
    }

    /// `(device, component, capability, attribute, value as JSON, origin,
    /// event time in epoch ms)` of every `device_events` row.
    fn events(self, dir: &Path) -> Vec<Event> {
        let rows: Vec<Value> = match self {
            Target::Directory(format) => format.events(dir),
            Target::DuckDb => query(
                &dir.join("home.duckdb"),
                &format!(
                    "SELECT device_id, component, capability, attribute, value_json, origin, \
                     epoch_ms(event_time) AS event_time FROM {SCHEMA}.device_events"
                ),
            ),
        };
        rows.iter()
            .map(|row| Event {
                device: text(&row["device_id"]),
                component: text(&row["component"]),
                capability: text(&row["capability"]),
                attribute: text(&row["attribute"]),
                value: text(&row["value_json"]),
                origin: text(&row["origin"]),
                epoch: epoch_ms(&row["event_time"]),
            })
            .collect()
    }

    /// Each location's cursor: `(epoch, hash)`.
    fn cursors(self, dir: &Path) -> HashMap<String, (i64, i64)> {
        let rows: Vec<Value> = match self {
            Target::Directory(format) => format.rows(&format.file(dir, "history_cursors")),
            Target::DuckDb => query(
                &dir.join("home.duckdb"),
                &format!("SELECT location_id, epoch, hash FROM {SCHEMA}.history_cursors"),
            ),
        };
        rows.iter()
            .map(|row| {
                (
                    text(&row["location_id"]),
                    (
                        row["epoch"].as_i64().unwrap(),
                        row["hash"].as_i64().unwrap(),
                    ),
                )
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    device: String,
    component: String,
    capability: String,
    attribute: String,
    value: String,
    origin: String,
    epoch: i64,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A timestamp as the formats read back: epoch ms (DuckDB's `epoch_ms`),
/// RFC 3339 text (JSON Lines) or Parquet's row API text.
fn epoch_ms(value: &Value) -> i64 {
    if let Some(ms) = value.as_i64() {
        return ms;
    }
    let text = value.as_str().unwrap_or_else(|| panic!("no time: {value}"));
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %:z"))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

/// Rows of a query, as JSON objects keyed by column.
fn query(database: &Path, sql: &str) -> Vec<Value> {
    let conn = Connection::open(database).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    let mut rows = statement.query([]).unwrap();
    let names: Vec<String> = rows.as_ref().unwrap().column_names();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let mut object = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i).unwrap() {
                duckdb::types::ValueRef::Null => Value::Null,
                duckdb::types::ValueRef::BigInt(n) => json!(n),
                duckdb::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                other => panic!("{name}: unexpected {other:?}"),
            };
            object.insert(name.clone(), value);
        }
        out.push(Value::Object(object));
    }
    out
}

/// The simulator's history as rows would hold it (`origin` history).
fn recorded(sim: &Simulator, after: Option<i64>) -> Vec<Event> {
    let mut events: Vec<Event> = sim
        .device_history()
        .iter()
        .filter(|e| after.is_none_or(|ms| e["epoch"].as_i64().unwrap() >= ms))
        .map(|e| Event {
            device: text(&e["deviceId"]),
            component: text(&e["component"]),
            capability: text(&e["capability"]),
            attribute: text(&e["attribute"]),
            value: e["value"].to_string(),
            origin: "history".into(),
            epoch: e["epoch"].as_i64().unwrap(),
        })
        .collect();
    events.sort();
    events
}

/// The newest `(epoch, hash)` the simulator recorded, per location.
fn newest(sim: &Simulator) -> HashMap<String, (i64, i64)> {
    let mut newest = HashMap::new();
    for e in sim.device_history() {
        let key = (e["epoch"].as_i64().unwrap(), e["hash"].as_i64().unwrap());
        let slot = newest.entry(text(&e["locationId"])).or_insert(key);
        *slot = key.max(*slot);
    }
    newest
}

async fn run(c: &SmartThings, target: Target, dir: &Path, since: DateTime<Utc>) -> u64 {
    let options = ExportOptions::default().events_since(since);
    let summary = export(c, &target.destination(dir), &options).await.unwrap();
    summary.history_events.expect("history read")
}

/// A generated home, a client of it, and a directory to write to.
async fn start(locations: usize, devices: usize, seed: u64) -> (Simulator, SmartThings, TempDir) {
    let home = Home::generated(locations, devices, seed).unwrap();
    let sim = Simulator::start(home, Config::default()).await.unwrap();
    let client = support::client(&sim);
    (sim, client, tempfile::tempdir().unwrap())
}

fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort();
    events
}

#[tokio::test]
async fn the_history_is_appended_once_across_runs_in_every_destination() {
    for target in TARGETS {
        let (sim, c, tmp) = start(2, 40, 7).await;
        let dir = tmp.path();
        let since = Utc::now() - chrono::Duration::days(7);

        // More than a chunk of 5 000 in one location, over many pages of
        // 200, and some in the other.
        support::change_levels_in_first_location(&sim, 5_100, 0);
        support::change_levels(&sim, 200, 5_100);
        assert_eq!(run(&c, target, dir, since).await, 5_300, "{target:?}");
        assert_eq!(
            sorted(target.events(dir)),
            recorded(&sim, None),
            "{target:?}"
        );
        assert_eq!(target.cursors(dir), newest(&sim), "{target:?}");

        // A later run reads only what happened since.
        support::change_levels(&sim, 250, 10_000);
        assert_eq!(run(&c, target, dir, since).await, 250, "{target:?}");
        assert_eq!(
            sorted(target.events(dir)),
            recorded(&sim, None),
            "{target:?}"
        );
        assert_eq!(target.cursors(dir), newest(&sim), "{target:?}");

        // Nothing new: nothing appended.
        assert_eq!(run(&c, target, dir, since).await, 0, "{target:?}");
        assert_eq!(target.events(dir).len(), 5_550, "{target:?}");
    }
}

#[tokio::test]
async fn events_before_the_window_are_not_read() {
    for target in TARGETS {
        let (sim, c, tmp) = start(1, 10, 3).await;
        let dir = tmp.path();
        support::change_levels(&sim, 30, 0);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let since = Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        support::change_levels(&sim, 20, 100);
        assert_eq!(run(&c, target, dir, since).await, 20, "{target:?}");
        let expected = recorded(&sim, Some(since.timestamp_millis()));
        assert_eq!(expected.len(), 20);
        assert_eq!(sorted(target.events(dir)), expected, "{target:?}");
    }
}

#[tokio::test]
async fn a_window_that_starts_after_the_cursor_skips_what_lies_between() {
    let (sim, c, tmp) = start(1, 10, 5).await;
    let dir = tmp.path();
    let target = Target::Directory(Format::JsonLines);
    support::change_levels(&sim, 10, 0);
    let week = Utc::now() - chrono::Duration::days(7);
    assert_eq!(run(&c, target, dir, week).await, 10);
    // Ten more, then a window that starts after them: only the last five.
    support::change_levels(&sim, 10, 100);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    support::change_levels(&sim, 5, 200);
    assert_eq!(run(&c, target, dir, since).await, 5);
    let values: Vec<String> = target.events(dir).into_iter().map(|e| e.value).collect();
    let expected: Vec<String> = (0..10).chain(200..205).map(|n| n.to_string()).collect();
    assert_eq!(values, expected, "in the order they happened");
}

#[tokio::test]
async fn without_events_since_no_history_is_read() {
    let (sim, c, tmp) = start(1, 10, 9).await;
    support::change_levels(&sim, 10, 0);
    let destination = Format::JsonLines.destination(tmp.path());
    let summary = export(&c, &destination, &ExportOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.history_events, None);
    assert!(!tmp.path().join("device_events").exists());
    assert!(!tmp.path().join("history_cursors.jsonl").exists());
    assert!(!summary.to_string().contains("history"));
    assert_eq!(
        sim.stats().by_operation.get("listDeviceHistory").copied(),
        None
    );
}
