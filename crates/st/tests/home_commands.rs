//! The commands for the rest of the API — modes, device rename, move and
//! history, rooms, rule execution, capability definitions, virtual devices
//! and hubs — end to end against one simulator, so that what one command
//! changes the next one sees; each in table, JSON and YAML.

use std::process::Command;

use serde_json::Value;
use smartthings_sim::{Config, Home, Simulator};

const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const HOME: &str = "95efee9b-6073-4871-b5ba-de6642187293";

async fn simulator() -> Simulator {
    let config = Config {
        rate_limits: false,
        ..Config::default()
    };
    Simulator::start(Home::demo(), config).await.unwrap()
}

/// `st ARGS -o FORMAT` against `sim`: its standard output, or a panic with
/// its standard error.
async fn st(sim: &Simulator, args: &[&str], format: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_st"));
    cmd.env("SMARTTHINGS_TOKEN", sim.token())
        .env_remove("SMARTTHINGS_BASE_URL")
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .args(["--base-url", &sim.base_url()])
        .args(args)
        .args(["-o", format]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "st {args:?} -o {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A read-only command in all three formats: the same value in JSON and
/// YAML, the fact `expect` in each, and a table. Returns the JSON.
async fn read(sim: &Simulator, args: &[&str], expect: &str) -> Value {
    let table = st(sim, args, "table").await;
    assert!(table.contains('│'), "{args:?} table:\n{table}");
    assert!(
        table.contains(expect),
        "{args:?} table lacks {expect:?}:\n{table}"
    );
    let json: Value = serde_json::from_str(&st(sim, args, "json").await).unwrap();
    let yaml: Value = serde_yaml::from_str(&st(sim, args, "yaml").await).unwrap();
    assert_eq!(json, yaml, "{args:?}: JSON and YAML differ");
    assert!(
        json.to_string().contains(expect),
        "{args:?} JSON lacks {expect:?}"
    );
    json
}

/// A command that changes the home, once per format (each run changes it
/// again: a created thing gets a new id, so JSON and YAML are checked
/// apart): the JSON answer.
async fn change(sim: &Simulator, args: &[&str], expect: &str) -> Value {
    let table = st(sim, args, "table").await;
    assert!(
        table.contains('│') && table.contains(expect),
        "{args:?}:\n{table}"
    );
    let yaml: Value = serde_yaml::from_str(&st(sim, args, "yaml").await).unwrap();
    assert!(
        yaml.to_string().contains(expect),
        "{args:?} YAML lacks {expect:?}"
    );
    let json: Value = serde_json::from_str(&st(sim, args, "json").await).unwrap();
    assert!(
        json.to_string().contains(expect),
        "{args:?} JSON lacks {expect:?}"
    );
    json
}

#[tokio::test(flavor = "multi_thread")]
async fn modes_list_current_and_set_by_name() {
    let sim = simulator().await;
    let modes = read(&sim, &["modes", HOME], "Night").await;
    let current: Vec<_> = modes
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{modes}");
    assert_eq!(current[0]["label"], "Home");

    let set = change(&sim, &["modes", HOME, "set", "away"], "Away").await;
    assert_eq!(set["label"], "Away");
    let now = read(&sim, &["modes", HOME, "current"], "Away").await;
    assert_eq!(now["id"], set["id"]);

    // An unknown mode is a usage error naming the modes there are.
    let out = Command::new(env!("CARGO_BIN_EXE_st"))
        .env("SMARTTHINGS_TOKEN", sim.token())
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .args([
            "--base-url",
            &sim.base_url(),
            "modes",
            HOME,
            "set",
            "Vacation",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Vacation") && err.contains("Night"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rename_move_and_history_of_a_device() {
    let sim = simulator().await;
    let renamed = change(&sim, &["devices", "rename", BULB, "Hall lamp"], "Hall lamp").await;
    assert_eq!(renamed["label"], "Hall lamp");
    let rooms = read(&sim, &["rooms", HOME], "Living Room").await;
    let room = rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] != "Living Room")
        .unwrap()["roomId"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = change(&sim, &["devices", "move", BULB, "--room", &room], &room).await;
    assert_eq!(moved["roomId"], room.as_str());
    // Visible in the listing.
    let listed = read(&sim, &["devices", "--location", HOME], "Hall lamp").await;
    let bulb = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["deviceId"] == BULB)
        .unwrap();
    assert_eq!(bulb["roomId"], room.as_str());

    // Three commands, then the history has them, newest first.
    for _ in 0..3 {
        st(&sim, &["devices", "on", BULB], "json").await;
        st(&sim, &["devices", "off", BULB], "json").await;
    }
    let history = read(
        &sim,
        &[
            "devices",
            "history",
            BULB,
            "--since",
            "1h",
            "--capability",
            "switch",
        ],
        "switch",
    )
    .await;
    let events = history.as_array().unwrap();
    assert_eq!(events.len(), 6, "{history}");
    assert!(events.iter().all(|e| e["capability"] == "switch"));
    assert_eq!(events[0]["value"], "off", "newest first");
    let epochs: Vec<i64> = events
        .iter()
        .map(|e| e["epoch"].as_i64().unwrap())
        .collect();
    assert!(epochs.windows(2).all(|w| w[0] >= w[1]), "{epochs:?}");
    // --limit, and a window that ends before anything happened.
    let two = read(
        &sim,
        &["devices", "history", BULB, "--limit", "2"],
        "switch",
    )
    .await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    let none: Value = serde_json::from_str(
        &st(
            &sim,
            &[
                "devices",
                "history",
                BULB,
                "--until",
                "2020-01-01T00:00:00Z",
            ],
            "json",
        )
        .await,
    )
    .unwrap();
    assert_eq!(none, Value::Array(vec![]));
}

#[tokio::test(flavor = "multi_thread")]
async fn rooms_get_update_create_and_delete() {
    let sim = simulator().await;
    let created = change(&sim, &["rooms", HOME, "create", "Garage"], "Garage").await;
    let id = created["roomId"].as_str().unwrap().to_owned();
    let got = read(&sim, &["rooms", HOME, "get", &id], "Garage").await;
    assert_eq!(got["name"], "Garage");
    let updated = change(
        &sim,
        &["rooms", HOME, "update", &id, "--name", "Workshop"],
        "Workshop",
    )
    .await;
    assert_eq!(updated["roomId"], id.as_str());
    let deleted: Value =
        serde_json::from_str(&st(&sim, &["rooms", HOME, "delete", &id], "json").await).unwrap();
    assert_eq!(deleted["deleted"], id.as_str());
    let rooms = read(&sim, &["rooms", HOME], "Living Room").await;
    assert!(!rooms.to_string().contains("Workshop"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_executes_and_a_capability_reads_as_attributes_and_commands() {
    let sim = simulator().await;
    let run = change(
        &sim,
        &["rules", "--location", HOME, "execute", "rule-porch-light"],
        "rule-porch-light",
    )
    .await;
    assert_eq!(run["result"], "Success", "{run}");
    assert_eq!(run["actions"][0]["command"][0]["deviceId"], BULB);

    let definition = read(&sim, &["capabilities", "get", "switchLevel"], "setLevel").await;
    assert_eq!(definition["id"], "switchLevel");
    let table = st(&sim, &["capabilities", "get", "switchLevel"], "table").await;
    assert!(
        table.contains("attribute") && table.contains("level"),
        "{table}"
    );
    assert!(
        table.contains("command") && table.contains("setLevel"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_virtual_switch_is_created_listed_and_changed_by_an_event() {
    let sim = simulator().await;
    let created: Value = serde_json::from_str(
        &st(
            &sim,
            &[
                "virtual-devices",
                "create",
                "--location",
                HOME,
                "--prototype",
                "VIRTUAL_SWITCH",
                "--name",
                "Test switch",
            ],
            "json",
        )
        .await,
    )
    .unwrap();
    let id = created["deviceId"].as_str().unwrap().to_owned();
    let listed = read(
        &sim,
        &["virtual-devices", "--location", HOME],
        "Test switch",
    )
    .await;
    assert!(listed.to_string().contains(&id));
    let event = read(
        &sim,
        &["virtual-devices", "event", &id, "switch", "switch", "on"],
        &id,
    )
    .await;
    assert_eq!(event["value"], "on");
    let status: Value =
        serde_json::from_str(&st(&sim, &["devices", "status", &id], "json").await).unwrap();
    assert_eq!(
        status["components"]["main"]["switch"]["switch"]["value"],
        "on"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_shows_its_details_and_drivers() {
    let sim = simulator().await;
    let (hub, _) = sim
        .hubs()
        .into_iter()
        .next()
        .expect("the demo home has a hub");
    let details = read(&sim, &["hubs", &hub], &hub).await;
    assert!(details["characteristics"].is_object(), "{details}");
    let drivers: Value =
        serde_json::from_str(&st(&sim, &["hubs", &hub, "drivers"], "json").await).unwrap();
    let first = drivers
        .as_array()
        .unwrap()
        .first()
        .expect("installed drivers");
    let name = first["name"].as_str().unwrap();
    let again = read(&sim, &["hubs", &hub, "drivers"], name).await;
    assert_eq!(again, drivers);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_backfills_the_device_history_once_across_runs() {
    let sim = simulator().await;
    // Within the 7 days asked for, however long the test takes.
    assert!(sim.invent_past(std::time::Duration::from_secs(6 * 86_400), 300, 2));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("home");
    let args = [
        "export",
        "--format",
        "jsonl",
        "--to",
        to.to_str().unwrap(),
        "--events-since",
        "7d",
    ];
    let table = st(&sim, &args, "table").await;
    assert!(
        table.trim_end().ends_with(", 300 history events"),
        "{table}"
    );
    // Again: nothing new, nothing appended.
    let json: Value = serde_json::from_str(&st(&sim, &args, "json").await).unwrap();
    assert_eq!(json["history_events"], 0);
    // Three changes since: those three.
    for level in [11, 22, 33] {
        assert!(sim.set_attribute(BULB, "main", "switchLevel", "level", level.into()));
    }
    let yaml: Value = serde_yaml::from_str(&st(&sim, &args, "yaml").await).unwrap();
    assert_eq!(yaml["history_events"], 3);
    let mut rows = Vec::new();
    let mut parts: Vec<_> = std::fs::read_dir(to.join("device_events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    for part in parts {
        for line in std::fs::read_to_string(part).unwrap().lines() {
            rows.push(serde_json::from_str::<Value>(line).unwrap());
        }
    }
    assert_eq!(rows.len(), 303);
    let last: Vec<&Value> = rows[300..].iter().map(|r| &r["value_number"]).collect();
    assert_eq!(last, [11.0, 22.0, 33.0]);
    assert!(rows.iter().all(|r| r["origin"] == "history"));

    let error = Command::new(env!("CARGO_BIN_EXE_st"))
        .args(["--demo", "export", "--events-since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(error.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&error.stderr).contains("7d"));
}
