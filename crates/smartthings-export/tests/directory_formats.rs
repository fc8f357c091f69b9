//! The directory formats: Parquet and JSON Lines hold the same rows, Parquet
//! typed as documented, and a re-run keeps the database's semantics.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime};
use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;
use smartthings_export::tables::{Kind, LOADS, TABLES};
use smartthings_export::{ExportOptions, LoadSummary, export};
use smartthings_ext::{Command, SmartThings};
use smartthings_sim::{Config, Home, Simulator};

mod formats;
mod support;

use formats::Format;

async fn start(home: Home) -> (Simulator, SmartThings) {
    let sim = Simulator::start(home, Config::default()).await.unwrap();
    let client = support::client(&sim);
    (sim, client)
}

/// Timestamps as instants (the formats spell them differently), the rest
/// as it is.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, canonical(v))).collect(),
        Value::String(s) => DateTime::parse_from_rfc3339(&s)
            .map(|t| t.timestamp_micros())
            .or_else(|_| {
                NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.6f +00:00")
                    .map(|t| t.and_utc().timestamp_micros())
            })
            .map_or(Value::String(s), Value::from),
        other => other,
    }
}

fn sorted(rows: Vec<Value>) -> Vec<Value> {
    let mut rows: Vec<Value> = rows.into_iter().map(canonical).collect();
    rows.sort_by_key(|row| row.to_string());
    rows
}

async fn run(c: &SmartThings, format: Format, dir: &Path) -> LoadSummary {
    export(
        c,
        &format.destination(dir),
        &ExportOptions::default().history(true),
    )
    .await
    .unwrap_or_else(|e| panic!("{format:?}: {e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_holds_the_same_rows_as_jsonl_with_the_documented_types() {
    let mut compared = std::collections::BTreeMap::<&str, usize>::new();
    for home in [Home::demo(), Home::generated(2, 300, 7).unwrap()] {
        let (_sim, c) = start(home).await;
        let dir = tempfile::tempdir().unwrap();
        let (pq, jl) = (dir.path().join("parquet"), dir.path().join("jsonl"));
        let summary = run(&c, Format::Parquet, &pq).await;
        run(&c, Format::JsonLines, &jl).await;
        for table in TABLES {
            let parquet = Format::Parquet.rows(&Format::Parquet.file(&pq, table.name));
            let jsonl = Format::JsonLines.rows(&Format::JsonLines.file(&jl, table.name));
            *compared.entry(table.name).or_default() += jsonl.len();
            assert_eq!(sorted(parquet), sorted(jsonl), "{}", table.name);

            let reader =
                SerializedFileReader::try_from(Format::Parquet.file(&pq, table.name).as_path())
                    .unwrap();
            let schema = reader.metadata().file_metadata().schema_descr_ptr();
            assert_eq!(schema.num_columns(), table.columns.len());
            for (column, (name, kind, _)) in schema.columns().iter().zip(table.columns) {
                assert_eq!(column.name(), *name);
                let typed = match kind {
                    Kind::Text | Kind::Json => {
                        column.logical_type_ref() == Some(&LogicalType::String)
                    }
                    Kind::Number => column.physical_type() == Physical::DOUBLE,
                    Kind::Integer => column.physical_type() == Physical::INT64,
                    Kind::Boolean => column.physical_type() == Physical::BOOLEAN,
                    // Adjusted to UTC: DuckDB reads it as TIMESTAMPTZ.
                    Kind::Timestamp => {
                        column.logical_type_ref()
                            == Some(&LogicalType::timestamp(true, TimeUnit::MICROS))
                    }
                };
                assert!(typed, "{}.{name}: {column:?}", table.name);
            }
        }
        let status = Format::Parquet.rows(&Format::Parquet.file(&pq, "device_status"));
        assert_eq!(status.len(), summary.stats.status_rows);
        let with_number = status.iter().filter(|r| r["value_number"].is_f64()).count();
        assert!(with_number > 0, "numbers are typed, not text");
    }
    for table in TABLES {
        assert!(compared[table.name] > 0, "no {} rows compared", table.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_reload_marks_removed_devices_appends_loads_and_keeps_history() {
    for format in [Format::Parquet, Format::JsonLines] {
        let (sim, c) = start(Home::generated(2, 200, 11).unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let first = run(&c, format, dir).await;
        assert_eq!(first.stats.changed_status_rows, first.stats.status_rows);

        let switches: Vec<String> = sim.with_home(|h| {
            h.devices
                .values()
                .filter(|d| {
                    d.has_capability("switch")
                        && d.component("outlet1").is_none()
                        && d.status["components"]["main"]["switch"]["switch"]["value"] == "off"
                })
                .take(3)
                .map(|d| d.id().to_owned())
                .collect()
        });
        assert_eq!(switches.len(), 3);
        for id in &switches {
            c.execute(id, [Command::switch_on()]).await.unwrap();
        }
        let gone = sim.with_home(|h| h.devices.keys().nth(100).cloned().unwrap());
        c.delete_device().device_id(&gone).send().await.unwrap();

        let second = run(&c, format, dir).await;
        assert_eq!(second.stats.changed_status_rows, 3, "{format:?}");
        assert_eq!(second.stats.removed_devices, 1, "{format:?}");
        assert_eq!(second.stats.devices, 199);

        let devices = format.rows(&format.file(dir, "devices"));
        assert_eq!(devices.len(), 200, "{format:?}: the removed device stays");
        let removed: Vec<&Value> = devices.iter().filter(|d| d["removed"] == true).collect();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0]["device_id"], gone.as_str());
        assert!(removed[0]["removed_at"].is_string());
        let status = format.rows(&format.file(dir, "device_status"));
        for id in &switches {
            let row = status
                .iter()
                .find(|r| {
                    r["device_id"] == id.as_str()
                        && r["component_id"] == "main"
                        && r["attribute"] == "switch"
                })
                .unwrap();
            assert_eq!(row["value_string"], "on");
        }

        // Unchanged: nothing rewritten, the removed device not counted again.
        let third = run(&c, format, dir).await;
        assert_eq!(third.stats.changed_status_rows, 0, "{format:?}");
        assert_eq!(third.stats.removed_devices, 0, "{format:?}");

        let loads = format.rows(&format.file(dir, LOADS.name));
        let changed: Vec<i64> = loads
            .iter()
            .map(|l| l["changed_status_rows"].as_i64().unwrap())
            .collect();
        assert_eq!(changed, [first.stats.status_rows as i64, 3, 0]);
        let ids: Vec<i64> = loads
            .iter()
            .map(|l| l["load_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(loads[1]["removed_devices"], 1);

        let history = dir.join("device_status_history");
        let mut files: Vec<String> = std::fs::read_dir(&history)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let ext = format.file(dir, "x").extension().unwrap().to_owned();
        let ext = ext.to_string_lossy();
        assert_eq!(
            files,
            [format!("load-000001.{ext}"), format!("load-000002.{ext}")],
            "a history file per load that changed something"
        );
        let second_history = format.rows(&history.join(&files[1]));
        assert_eq!(second_history.len(), 3);
        assert!(second_history.iter().all(|r| r["loaded_at"].is_string()));

        // Without the run log, numbering continues past the history files.
        std::fs::remove_file(format.file(dir, LOADS.name)).unwrap();
        c.execute(&switches[0], [Command::switch_off()])
            .await
            .unwrap();
        run(&c, format, dir).await;
        let loads = format.rows(&format.file(dir, LOADS.name));
        assert_eq!(loads.len(), 1);
        assert_eq!(loads[0]["load_id"], 3);
        assert_eq!(
            format.rows(&history.join(&files[0])).len(),
            first.stats.status_rows
        );
        assert_eq!(
            format
                .rows(&history.join(format!("load-000003.{ext}")))
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn an_unreadable_earlier_file_is_a_clear_error_and_overwrites_nothing() {
    for format in [Format::Parquet, Format::JsonLines] {
        let (_sim, c) = start(Home::demo()).await;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        run(&c, format, dir).await;
        let devices = format.file(dir, "devices");
        std::fs::write(&devices, "<html>not a table</html>\n").unwrap();
        let loads_before = std::fs::read(format.file(dir, "loads")).unwrap();

        let error = export(&c, &format.destination(dir), &ExportOptions::default())
            .await
            .expect_err("a corrupt devices file must not be silently replaced");
        let message = format!("{error:#}");
        assert!(message.contains("devices."), "{format:?}: {message}");
        assert_eq!(
            std::fs::read(format.file(dir, "loads")).unwrap(),
            loads_before,
            "{format:?}: the run log is untouched"
        );
        assert_eq!(
            std::fs::read_to_string(&devices).unwrap(),
            "<html>not a table</html>\n"
        );
    }
}

/// A device id of the home whose main component has a switch that is off.
fn a_switch_that_is_off(sim: &Simulator) -> String {
    sim.with_home(|h| {
        h.devices
            .values()
            .find(|d| {
                d.component("outlet1").is_none()
                    && d.status["components"]["main"]["switch"]["switch"]["value"] == "off"
            })
            .map(|d| d.id().to_owned())
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_fails_at_once_naming_the_directory() {
    let (_sim, c) = start(Home::generated(1, 20, 3).unwrap()).await;
    for format in [Format::Parquet, Format::JsonLines] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        run(&c, format, dir).await;
        let before: Vec<Vec<u8>> = TABLES
            .iter()
            .chain([&LOADS])
            .map(|t| std::fs::read(format.file(dir, t.name)).unwrap())
            .collect();

        // Another process (here: another open file) holds the directory.
        let held = std::fs::File::open(dir.join(".lock")).unwrap();
        held.lock().unwrap();
        let started = std::time::Instant::now();
        let error = export(&c, &format.destination(dir), &ExportOptions::default())
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("another export is writing"),
            "{format:?}: {error:#}"
        );
        assert!(
            message.contains(&dir.display().to_string()),
            "{format:?}: names the directory: {message}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "at once"
        );
        let after: Vec<Vec<u8>> = TABLES
            .iter()
            .chain([&LOADS])
            .map(|t| std::fs::read(format.file(dir, t.name)).unwrap())
            .collect();
        assert!(before == after, "{format:?}: the refused run wrote nothing");
        held.unlock().unwrap();
        run(&c, format, dir).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_never_corrupt_the_directory() {
    let (sim, c) = start(Home::generated(1, 150, 3).unwrap()).await;
    let id = a_switch_that_is_off(&sim);
    for format in [Format::JsonLines, Format::Parquet] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().to_owned();
        run(&c, format, &dir).await;
        let mut loaded = 0;
        for round in 0..6 {
            // A change each round, so that the history is written too.
            let command = if round % 2 == 0 {
                Command::switch_on()
            } else {
                Command::switch_off()
            };
            c.execute(&id, [command]).await.unwrap();
            // Runs on several threads at once, their writes overlapping.
            let runs: Vec<_> = (0..6)
                .map(|_| {
                    let (c, destination) = (c.clone(), format.destination(&dir));
                    let handle = tokio::runtime::Handle::current();
                    tokio::task::spawn_blocking(move || {
                        let options = ExportOptions::default().history(true);
                        handle.block_on(export(&c, &destination, &options))
                    })
                })
                .collect();
            for result in futures::future::join_all(runs).await {
                match result.unwrap() {
                    Ok(_) => loaded += 1,
                    Err(refused) => assert!(
                        refused.to_string().contains("another export is writing"),
                        "{format:?}: {refused:#}"
                    ),
                }
            }
        }
        // Every file whole, every load numbered once, no temporary left.
        for table in TABLES {
            format.rows(&format.file(&dir, table.name));
        }
        let loads = format.rows(&format.file(&dir, LOADS.name));
        let ids: Vec<i64> = loads
            .iter()
            .map(|l| l["load_id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ids,
            (1..=ids.len() as i64).collect::<Vec<_>>(),
            "{format:?}"
        );
        assert_eq!(ids.len(), 1 + loaded, "{format:?}");
        let history = dir.join("device_status_history");
        for entry in std::fs::read_dir(&history).unwrap() {
            format.rows(&entry.unwrap().path());
        }
        for place in [&dir, &history] {
            let leftovers: Vec<_> = std::fs::read_dir(place)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".partial"))
                .collect();
            assert!(leftovers.is_empty(), "{format:?}: {leftovers:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_files_of_a_crashed_run_are_removed_never_read() {
    let (sim, c) = start(Home::generated(1, 20, 5).unwrap()).await;
    for format in [Format::Parquet, Format::JsonLines] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        run(&c, format, dir).await;
        let ext = format.file(dir, "x").extension().unwrap().to_owned();
        let ext = ext.to_string_lossy();
        // What a run killed mid-write leaves: half-written temporaries, one
        // of them in the history directory with a higher load number.
        let history = dir.join("device_status_history");
        let crashed = [
            dir.join(format!(".devices.{ext}.4242-0.partial")),
            dir.join(format!(".loads.{ext}.4242-1.partial")),
            history.join(format!(".load-000009.{ext}.4242-2.partial")),
        ];
        for path in &crashed {
            std::fs::write(path, "half a fi").unwrap();
        }
        let id = a_switch_that_is_off(&sim);
        c.execute(&id, [Command::switch_on()]).await.unwrap();
        let second = run(&c, format, dir).await;
        assert_eq!(second.stats.changed_status_rows, 1, "{format:?}");
        for path in &crashed {
            assert!(!path.exists(), "{format:?}: {} is left", path.display());
        }
        let loads = format.rows(&format.file(dir, LOADS.name));
        assert_eq!(loads.len(), 2);
        assert_eq!(
            loads[1]["load_id"], 2,
            "{format:?}: no number taken from a temporary"
        );
        assert!(history.join(format!("load-000002.{ext}")).exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_after_its_history_loses_no_change() {
    for format in [Format::Parquet, Format::JsonLines] {
        let (sim, c) = start(Home::generated(1, 40, 9).unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        run(&c, format, dir).await;
        let id = a_switch_that_is_off(&sim);
        c.execute(&id, [Command::switch_on()]).await.unwrap();

        // The history cannot be written (a file where its directory goes):
        // the run stops. Had it replaced `device_status` first, as it did,
        // the change would be in no history file ever.
        let history_dir = dir.join("device_status_history");
        let existing = history_dir.exists();
        if existing {
            std::fs::rename(&history_dir, dir.join("kept-history")).unwrap();
        }
        std::fs::write(&history_dir, "not a directory").unwrap();
        let options = ExportOptions::default().history(true);
        assert!(
            export(&c, &format.destination(dir), &options)
                .await
                .is_err()
        );
        std::fs::remove_file(&history_dir).unwrap();
        if existing {
            std::fs::rename(dir.join("kept-history"), &history_dir).unwrap();
        }

        run(&c, format, dir).await;
        let history: Vec<Value> = std::fs::read_dir(dir.join("device_status_history"))
            .unwrap()
            .flat_map(|e| format.rows(&e.unwrap().path()))
            .collect();
        let recorded = history.iter().any(|r| {
            r["device_id"] == id.as_str()
                && r["attribute"] == "switch"
                && r["component_id"] == "main"
                && r["value_string"] == "on"
        });
        assert!(recorded, "{format:?}: the switch change is in the history");
        let status = format.rows(&format.file(dir, "device_status"));
        assert!(status.iter().any(|r| r["device_id"] == id.as_str()
            && r["attribute"] == "switch"
            && r["value_string"] == "on"));
    }
}

/// Switches of the home that are off, on their main component only.
fn switches_that_are_off(sim: &Simulator, n: usize) -> Vec<String> {
    sim.with_home(|h| {
        h.devices
            .values()
            .filter(|d| {
                d.component("outlet1").is_none()
                    && d.status["components"]["main"]["switch"]["switch"]["value"] == "off"
            })
            .take(n)
            .map(|d| d.id().to_owned())
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_after_its_history_is_written_loses_no_change() {
    // Where the interrupted run stops: replacing `locations` (the first
    // table, before `device_status`) or `device_health` (after it). A
    // directory where the file goes makes that rename fail.
    for stop_at in ["locations", "device_health"] {
        for format in [Format::Parquet, Format::JsonLines] {
            let (sim, c) = start(Home::generated(1, 40, 9).unwrap()).await;
            let dir = tempfile::tempdir().unwrap();
            let dir = dir.path();
            run(&c, format, dir).await;
            let switched = switches_that_are_off(&sim, 2);
            assert_eq!(switched.len(), 2);
            for id in &switched {
                c.execute(id, [Command::switch_on()]).await.unwrap();
            }

            let blocked = format.file(dir, stop_at);
            std::fs::remove_file(&blocked).unwrap();
            std::fs::create_dir(&blocked).unwrap();
            let options = ExportOptions::default().history(true);
            let error = export(&c, &format.destination(dir), &options)
                .await
                .unwrap_err();
            assert!(
                format!("{error:#}").contains(stop_at),
                "{stop_at} {format:?}: {error:#}"
            );
            std::fs::remove_dir(&blocked).unwrap();
            let ext = format.file(dir, "x").extension().unwrap().to_owned();
            let ext = ext.to_string_lossy();
            let history = dir.join("device_status_history");
            assert!(
                history.join(format!("load-000002.{ext}")).exists(),
                "{stop_at} {format:?}: the interrupted run wrote its history first"
            );

            let rerun = run(&c, format, dir).await;
            let recorded: Vec<Value> = std::fs::read_dir(&history)
                .unwrap()
                .flat_map(|e| format.rows(&e.unwrap().path()))
                .collect();
            for id in &switched {
                let found = recorded.iter().any(|r| {
                    r["device_id"] == id.as_str()
                        && r["component_id"] == "main"
                        && r["attribute"] == "switch"
                        && r["value_string"] == "on"
                });
                assert!(
                    found,
                    "{stop_at} {format:?}: {id}'s change is in a history file"
                );
            }
            let status = format.rows(&format.file(dir, "device_status"));
            for id in &switched {
                assert!(status.iter().any(|r| r["device_id"] == id.as_str()
                    && r["component_id"] == "main"
                    && r["attribute"] == "switch"
                    && r["value_string"] == "on"));
            }
            // Before `device_status` was replaced, the re-run finds the
            // changes again (a second history file); after, it finds none.
            let again = if stop_at == "locations" { 2 } else { 0 };
            assert_eq!(
                rerun.stats.changed_status_rows, again,
                "{stop_at} {format:?}"
            );
            let loads = format.rows(&format.file(dir, LOADS.name));
            let ids: Vec<i64> = loads
                .iter()
                .map(|l| l["load_id"].as_i64().unwrap())
                .collect();
            assert_eq!(
                ids,
                [1, 3],
                "{stop_at} {format:?}: load 2 has only its history"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_no_longer_decodes_is_kept_not_removed() {
    /// Tables with a row per device or per part of one.
    const PER_DEVICE: [&str; 5] = [
        "devices",
        "components",
        "device_capabilities",
        "device_status",
        "device_health",
    ];
    for format in [Format::Parquet, Format::JsonLines] {
        let (sim, c) = start(Home::generated(1, 30, 4).unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        run(&c, format, dir).await;
        let id = sim.with_home(|h| h.devices.keys().nth(7).cloned().unwrap());
        let rows_of = |table: &str| -> Vec<Value> {
            let rows = format.rows(&format.file(dir, table));
            sorted(
                rows.into_iter()
                    .filter(|r| r["device_id"] == id.as_str())
                    .collect(),
            )
        };
        let before: Vec<Vec<Value>> = PER_DEVICE.iter().map(|t| rows_of(t)).collect();
        for (table, rows) in PER_DEVICE.iter().zip(&before) {
            assert!(!rows.is_empty(), "{format:?}: {table}");
        }
        sim.with_home(|h| {
            h.devices.get_mut(&id).unwrap().device["components"] = "garbage".into();
        });
        let second = run(&c, format, dir).await;
        assert_eq!(second.stats.removed_devices, 0, "{format:?}");
        assert_eq!(second.stats.undecoded_devices, 1, "{format:?}");
        assert!(second.to_string().contains("did not decode"), "{second}");
        let devices = format.rows(&format.file(dir, "devices"));
        let kept = devices
            .iter()
            .find(|d| d["device_id"] == id.as_str())
            .unwrap();
        assert_ne!(kept["removed"], true, "{format:?}");
        for (table, rows) in PER_DEVICE.iter().zip(&before) {
            assert_eq!(
                &rows_of(table),
                rows,
                "{format:?}: its last {table} rows kept"
            );
        }
        let loads = format.rows(&format.file(dir, LOADS.name));
        assert_eq!(loads[0]["undecoded_devices"], 0, "{format:?}");
        assert_eq!(loads[1]["undecoded_devices"], 1, "{format:?}");
        assert_eq!(loads[1]["removed_devices"], 0, "{format:?}");

        // Decodable again: current rows, still not removed, nothing kept.
        sim.with_home(|h| {
            let device = &mut h.devices.get_mut(&id).unwrap().device;
            device["components"] = serde_json::json!([]);
        });
        let third = run(&c, format, dir).await;
        assert_eq!(third.stats.undecoded_devices, 0, "{format:?}");
        assert_eq!(third.stats.removed_devices, 0, "{format:?}");
        assert!(
            rows_of("components").is_empty(),
            "{format:?}: no stale rows"
        );
        assert_eq!(rows_of("devices")[0]["removed"], false, "{format:?}");
    }
}
