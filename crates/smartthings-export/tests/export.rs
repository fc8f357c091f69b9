//! Exports of simulated homes, checked with SQL against the simulator.

use duckdb::Connection;
use serde_json::Value;
use smartthings_export::{Destination, ExportOptions, export};
use smartthings_ext::Command;
use smartthings_sim::{Config, Home, Simulator};

mod support;

use support::client;

/// (device, component, capability, attribute) count of status bodies.
fn attribute_count<'a>(statuses: impl Iterator<Item = &'a Value>) -> usize {
    statuses
        .flat_map(|s| s["components"].as_object().into_iter().flatten())
        .flat_map(|(_, component)| component.as_object().into_iter().flatten())
        .map(|(_, capability)| capability.as_object().map_or(0, |a| a.len()))
        .sum()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const DS: &str = "smartthings_home_api_data";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1000_device_home_loads_then_reloads_incrementally() {
    let sim = Simulator::start(Home::generated(5, 1000, 99).unwrap(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    let destination = Destination::DuckDb(db.clone());

    let first = export(&c, &destination, &ExportOptions::default().history(true))
        .await
        .unwrap();
    let source_attributes =
        sim.with_home(|h| attribute_count(h.devices.values().map(|d| &d.status)));
    assert_eq!(first.stats.devices, 1000);
    assert_eq!(first.stats.status_rows, source_attributes);
    assert_eq!(first.stats.changed_status_rows, source_attributes);
    {
        let conn = Connection::open(&db).unwrap();
        assert_eq!(
            count(&conn, &format!("SELECT count(*) FROM {DS}.devices")),
            1000
        );
        assert_eq!(
            count(&conn, &format!("SELECT count(*) FROM {DS}.locations")),
            5
        );
        assert_eq!(
            count(&conn, &format!("SELECT count(*) FROM {DS}.rooms")),
            20
        );
        assert_eq!(
            count(&conn, &format!("SELECT count(*) FROM {DS}.device_status")),
            source_attributes as i64
        );
        assert_eq!(
            count(
                &conn,
                &format!("SELECT count(*) FROM {DS}.device_health WHERE state = 'ONLINE'")
            ),
            1000
        );
        assert!(count(&conn, &format!("SELECT count(*) FROM {DS}.capabilities")) > 10);
        assert_eq!(count(&conn, &format!("SELECT count(*) FROM {DS}.loads")), 1);
        // A few values against the simulator's state.
        let (id, level) = sim.with_home(|h| {
            let d = h
                .devices
                .values()
                .find(|d| d.has_capability("switchLevel"))
                .unwrap();
            (
                d.id().to_owned(),
                d.status["components"]["main"]["switchLevel"]["level"]["value"]
                    .as_f64()
                    .unwrap(),
            )
        });
        let stored: f64 = conn
            .query_row(
                &format!("SELECT value_number FROM {DS}.device_status WHERE device_id = ? AND capability_id = 'switchLevel' AND attribute = 'level'"),
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, level);
        let unit: String = conn
            .query_row(
                &format!("SELECT unit FROM {DS}.device_status WHERE device_id = ? AND attribute = 'level'"),
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(unit, "%");
        // Null values are kept as JSON null, typed columns empty.
        assert!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM {DS}.device_status WHERE value_json = 'null' AND value_number IS NULL"
                )
            ) > 0
        );
    }

    // Change seven devices' switches; delete one device.
    let switches: Vec<(String, bool)> = sim.with_home(|h| {
        h.devices
            .values()
            .filter(|d| d.has_capability("switch") && d.component("outlet1").is_none())
            .take(7)
            .map(|d| {
                (
                    d.id().to_owned(),
                    d.status["components"]["main"]["switch"]["switch"]["value"] == "on",
                )
            })
            .collect()
    });
    for (id, on) in &switches {
        let command = if *on {
            Command::switch_off()
        } else {
            Command::switch_on()
        };
        c.execute(id, [command]).await.unwrap();
    }
    let gone = sim.with_home(|h| h.devices.keys().nth(500).cloned().unwrap());
    c.delete_device().device_id(&gone).send().await.unwrap();

    let second = export(&c, &destination, &ExportOptions::default().history(true))
        .await
        .unwrap();
    assert_eq!(
        second.stats.changed_status_rows, 7,
        "exactly the changed attributes are rewritten"
    );
    assert_eq!(second.stats.removed_devices, 1);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(count(&conn, &format!("SELECT count(*) FROM {DS}.loads")), 2);
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.device_status WHERE updated_at > first_loaded_at")
        ),
        7
    );
    for (id, on) in &switches {
        let value: String = conn
            .query_row(
                &format!("SELECT value_string FROM {DS}.device_status WHERE device_id = ? AND capability_id = 'switch' AND attribute = 'switch' AND component_id = 'main'"),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(value, if *on { "off" } else { "on" });
    }
    let removed: bool = conn
        .query_row(
            &format!("SELECT removed FROM {DS}.devices WHERE device_id = ?"),
            [&gone],
            |r| r.get(0),
        )
        .unwrap();
    assert!(removed, "a device that disappeared is marked, not deleted");
    assert_eq!(
        count(&conn, &format!("SELECT count(*) FROM {DS}.devices")),
        1000
    );
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.device_status_history")
        ),
        (source_attributes + 7) as i64
    );
    // Seed 000's summary line.
    let line = second.to_string();
    assert!(
        line.starts_with("999 devices, ") && line.contains(" requests, "),
        "{line}"
    );
}

#[tokio::test]
async fn the_demo_home_loses_no_attribute() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A dataset named like the file is still unambiguous.
    let db = dir.path().join("demo.duckdb");
    let summary = export(
        &client(&sim),
        &Destination::DuckDb(db.clone()),
        &ExportOptions::default().dataset("demo"),
    )
    .await
    .unwrap();
    let expected = sim.with_home(|h| attribute_count(h.devices.values().map(|d| &d.status)));
    assert_eq!(summary.stats.status_rows, expected);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM demo.demo.device_status"),
        expected as i64
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM demo.demo.rules"), 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM demo.demo.scenes"), 2);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM demo.demo.components WHERE device_id = 'af8a2a04-eba2-47f5-b388-e36663d92f81'"
        ),
        3
    );
}

#[tokio::test]
async fn a_recorded_home_loses_no_attribute() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/seed003");
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture");
    std::fs::create_dir_all(capture.join("status")).unwrap();
    let read = |name: &str| std::fs::read_to_string(format!("{fixtures}/{name}")).unwrap();
    std::fs::write(
        capture.join("devices-1.json"),
        read("list_devices_capability_switch.json"),
    )
    .unwrap();
    std::fs::write(
        capture.join("devices-2.json"),
        read("list_devices_include_status_health.json"),
    )
    .unwrap();
    std::fs::write(
        capture.join("status/80e26532-85d4-484c-b012-1c04f3d35f95.json"),
        read("device_status_full.json"),
    )
    .unwrap();

    let full: Value = serde_json::from_str(&read("device_status_full.json")).unwrap();
    let listed: Value =
        serde_json::from_str(&read("list_devices_include_status_health.json")).unwrap();
    let embedded: usize = listed["items"][0]["components"][0]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_object().unwrap().len())
        .sum();
    let expected = attribute_count(std::iter::once(&full)) + embedded;

    let sim = Simulator::start(Home::recorded(&capture).unwrap(), Config::default())
        .await
        .unwrap();
    let db = dir.path().join("recorded.duckdb");
    let summary = export(
        &client(&sim),
        &Destination::DuckDb(db.clone()),
        &ExportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.stats.status_rows, expected);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(&conn, &format!("SELECT count(*) FROM {DS}.device_status")),
        expected as i64
    );
    let reason: String = conn
        .query_row(
            &format!("SELECT data_json FROM {DS}.device_status WHERE attribute = 'DeviceWatch-DeviceStatus' AND value_string = 'offline'"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(reason.contains("INVALID-ACCESS-TOKEN"));
}

#[tokio::test]
async fn the_jsonl_format_writes_one_file_per_table() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = client(&sim);
    let jsonl = dir.path().join("jsonl");
    let summary = export(
        &c,
        &Destination::JsonLines(jsonl.clone()),
        &ExportOptions::default(),
    )
    .await
    .unwrap();
    let lines = std::fs::read_to_string(jsonl.join("device_status.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, summary.stats.status_rows);
    assert_eq!(
        std::fs::read_to_string(jsonl.join("devices.jsonl"))
            .unwrap()
            .lines()
            .count(),
        12
    );
}

#[tokio::test]
async fn the_documented_queries_run() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    // With the history read, so that the queries of `device_events` run.
    export(
        &client(&sim),
        &Destination::DuckDb(db.clone()),
        &ExportOptions::default().events_since(chrono::Utc::now() - chrono::Duration::days(7)),
    )
    .await
    .unwrap();
    let conn = Connection::open(&db).unwrap();
    let mut lights_queries = 0;
    for doc in [
        include_str!("../../../docs/export.md"),
        include_str!("../../../README.md"),
    ] {
        let blocks = doc.split("```sql").skip(1);
        let queries: Vec<&str> = blocks
            .flat_map(|block| block.split("```").next().unwrap().split(';'))
            .map(str::trim)
            .filter(|q| {
                q.lines()
                    .any(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
            })
            .collect();
        assert!(queries.len() >= 2);
        for query in queries {
            let mut statement = conn
                .prepare(query)
                .unwrap_or_else(|e| panic!("{query}: {e}"));
            let rows = statement.query_map([], |_| Ok(())).unwrap().count();
            if query.contains("Which lights are on") {
                lights_queries += 1;
                assert!(rows >= 1, "the demo home has lights on");
            }
        }
    }
    assert_eq!(lights_queries, 2, "docs/export.md and README.md");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_no_longer_decodes_stays_in_the_database_unremoved() {
    let sim = Simulator::start(Home::generated(1, 30, 4).unwrap(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    let destination = Destination::DuckDb(db.clone());
    export(&c, &destination, &ExportOptions::default())
        .await
        .unwrap();
    let id = sim.with_home(|h| h.devices.keys().nth(7).cloned().unwrap());
    let per_device = [
        "devices",
        "components",
        "device_capabilities",
        "device_status",
        "device_health",
    ];
    let rows_of = |table: &str| {
        format!(
            "SELECT count(*) FROM (SELECT * EXCLUDE (first_loaded_at, updated_at) \
             FROM {DS}.{table} WHERE device_id = '{id}')"
        )
    };
    let fingerprint = |conn: &Connection, table: &str| -> String {
        conn.query_row(
            &format!(
                "SELECT string_agg(content_hash, ',' ORDER BY content_hash) \
                 FROM {DS}.{table} WHERE device_id = '{id}'"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let before: Vec<(i64, String)> = {
        let conn = Connection::open(&db).unwrap();
        per_device
            .iter()
            .map(|t| (count(&conn, &rows_of(t)), fingerprint(&conn, t)))
            .collect()
    };
    for (table, (rows, _)) in per_device.iter().zip(&before) {
        assert!(*rows > 0, "{table}");
    }
    sim.with_home(|h| {
        h.devices.get_mut(&id).unwrap().device["components"] = "garbage".into();
    });
    let second = export(&c, &destination, &ExportOptions::default())
        .await
        .unwrap();
    assert_eq!(second.stats.removed_devices, 0);
    assert_eq!(second.stats.undecoded_devices, 1);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.devices WHERE device_id = '{id}' AND NOT removed")
        ),
        1
    );
    for (table, expected) in per_device.iter().zip(&before) {
        let now = (count(&conn, &rows_of(table)), fingerprint(&conn, table));
        assert_eq!(&now, expected, "its last {table} rows kept");
    }
    assert_eq!(
        count(
            &conn,
            &format!("SELECT undecoded_devices FROM {DS}.loads WHERE load_id = 2")
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            &format!("SELECT undecoded_devices FROM {DS}.loads WHERE load_id = 1")
        ),
        0
    );
}

#[tokio::test]
async fn a_database_from_before_a_loads_column_gains_it() {
    let sim = Simulator::start(Home::demo(), Config::default())
        .await
        .unwrap();
    let c = client(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    let destination = Destination::DuckDb(db.clone());
    export(&c, &destination, &ExportOptions::default())
        .await
        .unwrap();
    // An older release's run log, without `undecoded_devices`.
    Connection::open(&db)
        .unwrap()
        .execute_batch(&format!(
            "ALTER TABLE {DS}.loads DROP COLUMN undecoded_devices"
        ))
        .unwrap();
    export(&c, &destination, &ExportOptions::default())
        .await
        .unwrap();
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.loads WHERE undecoded_devices IS NULL")
        ),
        1,
        "the older load's count is unknown"
    );
    assert_eq!(
        count(
            &conn,
            &format!("SELECT undecoded_devices FROM {DS}.loads WHERE load_id = 2")
        ),
        0
    );
}

/// `--follow` into DuckDB: every change is a `device_events` row, and the
/// final `device_status` holds, for every attribute an event changed, the
/// value of its last event.
#[cfg(feature = "duckdb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_appends_every_change_and_keeps_device_status_current() {
    use smartthings_export::{FollowOptions, follow};
    use smartthings_ext::EventSubscription;
    use smartthings_sim::Activity;

    let config = Config {
        rate_limits: false,
        ..Config::default()
    };
    let sim = Simulator::start(Home::demo(), config).await.unwrap();
    let c = smartthings_ext::SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .allow_stream_origin(sim.stream_origin())
        .build()
        .unwrap();
    sim.start_activity(Activity {
        devices: 12,
        events_per_second: 300.0,
        health_fraction: 0.0,
        seed: 4,
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    let destination = Destination::DuckDb(db.clone());
    let summary = follow(
        &c,
        &destination,
        &ExportOptions::default(),
        EventSubscription::all_locations(),
        FollowOptions::default().max_changes(Some(150)),
        std::future::pending(),
    )
    .await
    .unwrap();
    sim.stop_activity();
    assert!(summary.changes >= 150, "{summary}");
    assert_eq!(
        sim.stream_stats().sinks_active,
        0,
        "the sink was left behind"
    );

    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        count(&conn, &format!("SELECT count(*) FROM {DS}.device_events")),
        summary.changes as i64
    );
    // The last event of each attribute is what device_status holds.
    let mismatches = count(
        &conn,
        &format!(
            "WITH last AS (
                SELECT device_id, component, capability, attribute,
                       arg_max(value_json, batch * 1000000 + rowid) AS value_json
                FROM {DS}.device_events WHERE kind = 'attribute'
                GROUP BY ALL)
             SELECT count(*) FROM last JOIN {DS}.device_status s
               ON s.device_id = last.device_id AND s.component_id = last.component
              AND s.capability_id = last.capability AND s.attribute = last.attribute
             WHERE s.value_json != last.value_json"
        ),
    );
    assert_eq!(mismatches, 0);
    // One load (the follow's start); every event row points at it.
    assert_eq!(count(&conn, &format!("SELECT count(*) FROM {DS}.loads")), 1);
    assert_eq!(summary.initial.load_id, 1);
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.device_events WHERE load_id IS DISTINCT FROM 1")
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            &format!("SELECT count(*) FROM {DS}.device_events WHERE origin = 'stream'")
        ) as u64,
        summary.streamed
    );
    // A scalar value is in its typed column too.
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM {DS}.device_events WHERE kind = 'attribute'
                   AND value_number IS NULL AND value_string IS NULL AND value_boolean IS NULL
                   AND value_json != 'null' AND left(value_json, 1) NOT IN ('{{', '[')"
            )
        ),
        0
    );
}
