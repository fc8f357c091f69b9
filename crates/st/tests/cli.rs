//! `st` end to end: every command against the simulator, in table, JSON
//! and YAML, plus credentials, errors and exit codes.

use assert_cmd::Command;
use serde_json::Value;
use smartthings_sim::{Config, Home, Simulator};

const BULB: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
const HOME: &str = "95efee9b-6073-4871-b5ba-de6642187293";

fn st() -> Command {
    let mut cmd = Command::cargo_bin("st").unwrap();
    cmd.env_remove("SMARTTHINGS_TOKEN")
        .env_remove("SMARTTHINGS_BASE_URL")
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml");
    cmd
}

/// Run `st --demo ARGS` and return stdout; fails on a non-zero exit.
fn demo(args: &[&str]) -> String {
    let output = st().arg("--demo").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "st --demo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn demo_json(args: &[&str]) -> Value {
    let text = demo(&[args, &["-o", "json"]].concat());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

/// The same command in all three formats, checked for the same fact.
fn in_all_formats(args: &[&str], expect: &str) -> Value {
    let table = demo(&[args, &["-o", "table"]].concat());
    assert!(
        table.contains('│') || table.contains('┆'),
        "{args:?} table:\n{table}"
    );
    assert!(
        table.contains(expect),
        "{args:?} table lacks {expect:?}:\n{table}"
    );
    let yaml: Value = serde_yaml::from_str(&demo(&[args, &["-o", "yaml"]].concat())).unwrap();
    let json = demo_json(args);
    assert_eq!(json, yaml, "{args:?}: JSON and YAML differ");
    assert!(
        json.to_string().contains(expect),
        "{args:?} JSON lacks {expect:?}"
    );
    json
}

#[test]
fn snapshot_in_every_format() {
    let json = in_all_formats(&["snapshot"], "Color & Tunable White Bulb");
    assert_eq!(json["devices"].as_array().unwrap().len(), 12);
    assert_eq!(json["requests"], 5);
    let table = demo(&["snapshot", "-o", "table"]);
    assert!(
        table.contains("12 devices, 2 locations, 5 rooms, 2 scenes in 5 requests"),
        "{table}"
    );
    let bulb = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"]["deviceId"] == BULB)
        .unwrap();
    assert_eq!(
        bulb["status"]["components"]["main"]["switchLevel"]["level"]["value"],
        50
    );
}

#[test]
fn output_is_json_when_piped() {
    let text = demo(&["capabilities"]);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert!(json.as_array().unwrap().iter().any(|c| c["id"] == "switch"));
}

#[test]
fn devices_list_get_status_health() {
    let list = in_all_formats(&["devices", "--capability", "switch", "--status"], "Dimmer");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| d["healthState"]["state"].is_string())
    );
    in_all_formats(&["devices", "get", BULB], "Color & Tunable White Bulb");
    let status = in_all_formats(&["devices", "status", BULB], "colorTemperature");
    assert_eq!(
        status["components"]["main"]["colorTemperature"]["colorTemperature"]["unit"],
        "K"
    );
    let table = demo(&["devices", "status", BULB, "-o", "table"]);
    let row = table.lines().find(|l| l.contains("┆ level ")).unwrap();
    assert!(row.contains("50") && row.contains('%'), "{row}");
    in_all_formats(&["devices", "health", BULB], "ONLINE");
}

#[test]
fn device_commands() {
    let results = in_all_formats(
        &[
            "devices",
            "command",
            BULB,
            "main",
            "switchLevel",
            "setLevel",
            "40",
        ],
        "ACCEPTED",
    );
    assert_eq!(results.as_array().unwrap().len(), 1);
    for args in [
        vec!["devices", "on", BULB],
        vec!["devices", "off", BULB],
        vec!["devices", "level", BULB, "30"],
        vec!["devices", "color-temperature", BULB, "2700"],
    ] {
        in_all_formats(&args, "ACCEPTED");
    }
    let locks = demo_json(&["devices", "--capability", "lock"]);
    let lock = locks[0]["deviceId"].as_str().unwrap().to_owned();
    in_all_formats(&["devices", "lock", &lock], "ACCEPTED");
    in_all_formats(&["devices", "unlock", &lock], "ACCEPTED");
}

#[test]
fn locations_crud() {
    in_all_formats(&["locations"], "Cabin");
    in_all_formats(&["locations", "get", HOME], "America/Chicago");
    let created = in_all_formats(
        &[
            "locations",
            "create",
            "--name",
            "Office",
            "--country-code",
            "USA",
            "--temperature-scale",
            "C",
        ],
        "Office",
    );
    assert_eq!(created["temperatureScale"], "C");
    let updated = in_all_formats(&["locations", "update", HOME, "--name", "Home 2"], "Home 2");
    assert_eq!(updated["countryCode"], "USA");
    in_all_formats(&["locations", "delete", HOME], HOME);
}

#[test]
fn rooms_scenes_capabilities() {
    in_all_formats(&["rooms", HOME], "Living Room");
    in_all_formats(&["rooms", HOME, "create", "Garage"], "Garage");
    in_all_formats(&["scenes"], "Good night");
    in_all_formats(&["scenes", "--location", HOME], "Movie time");
    in_all_formats(
        &["scenes", "execute", "6a0f2c55-scene-good-night"],
        "success",
    );
    in_all_formats(&["capabilities"], "switchLevel");
}

#[test]
fn rules_crud_from_json_and_yaml_files() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("rule.yaml");
    std::fs::write(
        &yaml,
        "name: Lights off at midnight\nactions:\n  - every: {}\ntimeZoneId: UTC\n",
    )
    .unwrap();
    let json = dir.path().join("rule.json");
    std::fs::write(&json, r#"{"name": "Updated", "actions": []}"#).unwrap();
    in_all_formats(&["rules", "--location", HOME], "Porch light at sunset");
    in_all_formats(
        &["rules", "--location", HOME, "get", "rule-porch-light"],
        "Porch light at sunset",
    );
    let created = in_all_formats(
        &[
            "rules",
            "--location",
            HOME,
            "create",
            yaml.to_str().unwrap(),
        ],
        "Lights off at midnight",
    );
    assert_eq!(created["timeZoneId"], "UTC");
    in_all_formats(
        &[
            "rules",
            "--location",
            HOME,
            "update",
            "rule-porch-light",
            json.to_str().unwrap(),
        ],
        "Updated",
    );
    in_all_formats(
        &["rules", "--location", HOME, "delete", "rule-porch-light"],
        "rule-porch-light",
    );
}

#[test]
fn help_has_examples_and_completions_print() {
    for command in [
        "devices",
        "locations",
        "rooms",
        "scenes",
        "rules",
        "capabilities",
        "modes",
        "virtual-devices",
        "hubs",
        "snapshot",
        "config",
        "completions",
    ] {
        let output = st().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
    let output = st().args(["completions", "bash"]).output().unwrap();
    assert!(String::from_utf8(output.stdout).unwrap().contains("_st()"));
}

#[test]
fn profiles_are_stored_owner_only_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/config.yaml");
    let output = st()
        .env("ST_CONFIG", &path)
        .args(["config", "set-token", "--profile", "work"])
        .write_stdin("secret-profile-token\n")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let shown = st()
        .env("ST_CONFIG", &path)
        .args(["config", "show"])
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.contains("work: token <set>"), "{shown}");
    assert!(!shown.contains("secret-profile-token"));
}

async fn simulator(token: &str) -> Simulator {
    let config = Config {
        tokens: vec![token.to_owned()],
        ..Config::default()
    };
    Simulator::start(Home::demo(), config).await.unwrap()
}

async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = st();
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(args).output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_gives_one_line_exit_3_and_no_token() {
    let sim = simulator("the-right-token").await;
    let wrong = "expired-token-7f3a9c";
    let output = run(
        vec![
            "-v".into(),
            "--base-url".into(),
            sim.base_url(),
            "devices".into(),
        ],
        vec![("SMARTTHINGS_TOKEN", wrong.to_owned())],
    )
    .await;
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let error_lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(
        error_lines[0].contains("401")
            && error_lines[0].contains("UnauthorizedError")
            && error_lines[0].contains("requestId"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the token is missing, invalid or expired"),
        "{stderr}"
    );
    assert!(
        stderr.contains("smartthings.request"),
        "-v traces requests: {stderr}"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stderr.contains(wrong) && !stdout.contains(wrong));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_token_via_flag_and_profile_works() {
    let sim = simulator("profile-token").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "profiles:\n  default:\n    token: profile-token\n    base_url: {}\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let output = run(
        vec!["devices".into(), "-o".into(), "json".into()],
        vec![("ST_CONFIG", config.display().to_string())],
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let devices: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 12);
    let flag = run(
        vec![
            "--token".into(),
            "profile-token".into(),
            "--base-url".into(),
            sim.base_url(),
            "locations".into(),
        ],
        vec![],
    )
    .await;
    assert!(flag.status.success());
}

#[test]
fn not_found_usage_and_validation_errors_have_their_exit_codes() {
    let missing = st()
        .args(["--demo", "devices", "get", "no-such-device"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(4));
    let stderr = String::from_utf8(missing.stderr).unwrap();
    assert!(stderr.starts_with("error: 404 NotFoundError"), "{stderr}");
    let usage = st().args(["devices", "level"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let invalid = st()
        .args(["--demo", "devices", "level", BULB, "101"])
        .output()
        .unwrap();
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        String::from_utf8(invalid.stderr)
            .unwrap()
            .contains("0..=100")
    );
    let no_token = st().args(["devices"]).output().unwrap();
    assert_eq!(no_token.status.code(), Some(1));
    assert!(
        String::from_utf8(no_token.stderr)
            .unwrap()
            .contains("--demo")
    );
}

/// Whether this `st` has DuckDB, as it declares it (`st --version`).
fn has_duckdb() -> bool {
    let version = st().arg("--version").output().unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    assert!(
        version.contains("export formats: jsonl, parquet"),
        "{version}"
    );
    version.contains("duckdb")
}

#[tokio::test(flavor = "multi_thread")]
async fn without_duckdb_a_database_export_stops_before_any_request_with_one_line() {
    if has_duckdb() {
        // `cargo test --workspace` builds the export crate with DuckDB;
        // CI also runs `cargo test -p st`, where this branch is the real one.
        return;
    }
    let sim = smartthings_sim::Simulator::start(
        smartthings_sim::Home::demo(),
        smartthings_sim::Config::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("home.duckdb");
    let output = st()
        .args(["--base-url", &sim.base_url(), "--token", sim.token()])
        .args(["export", "--to", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--features duckdb"), "{stderr}");
    assert!(stderr.contains("--format parquet"), "{stderr}");
    assert!(!db.exists());
    assert_eq!(sim.stats().requests, 0, "nothing was requested");
    // Without a token too: getting one would not help.
    let tokenless = st()
        .args(["export", "--to", db.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(tokenless.status.code(), Some(2));
    assert_eq!(String::from_utf8(tokenless.stderr).unwrap(), stderr);
}

#[test]
fn export_writes_a_database_and_reports_like_seed_000() {
    let dir = tempfile::tempdir().unwrap();
    if has_duckdb() {
        let db = dir.path().join("home.duckdb");
        let table = demo(&["export", "--to", db.to_str().unwrap(), "-o", "table"]);
        // 9: the rules of the location that has some end on an empty page
        // (a short page is not proof of the end).
        assert!(
            table.starts_with("12 devices, 112 status rows (112 changed), 0 removed, 9 requests, "),
            "{table}"
        );
        assert!(db.exists());
    }
    let jsonl = dir.path().join("jsonl");
    let summary = demo_json(&[
        "export",
        "--format",
        "jsonl",
        "--to",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(summary["status_rows"], 112);
    let lines = std::fs::read_to_string(jsonl.join("device_status.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 112);
    // Without --to, a directory named like the pipeline, in the working directory.
    let first = st()
        .current_dir(dir.path())
        .args(["--demo", "export", "--format", "parquet", "-o", "json"])
        .output()
        .unwrap();
    assert!(first.status.success());
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(first["changed_status_rows"], 112);
    let parquet = dir.path().join("smartthings_home_api_parquet");
    let args = [
        "export",
        "--format",
        "parquet",
        "--to",
        parquet.to_str().unwrap(),
    ];
    assert_eq!(
        demo_json(&args)["changed_status_rows"],
        0,
        "a second run into the same directory is incremental"
    );
    let magic = std::fs::read(parquet.join("device_status.parquet")).unwrap();
    assert!(magic.starts_with(b"PAR1") && magic.ends_with(b"PAR1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_ends_st_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    // Far more output than a pipe buffers, so st is still writing when
    // `head -c 1` has left.
    let home = Home::generated(2, 300, 5).unwrap();
    let sim = Simulator::start(home, Config::default()).await.unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("st"))
        .args(["--base-url", &sim.base_url(), "--token", sim.token()])
        .args(["devices", "--status", "-o", "json"])
        .env_remove("SMARTTHINGS_TOKEN")
        .env("ST_CONFIG", "/nonexistent/st-test-config.yaml")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
}

#[test]
fn set_token_with_a_bare_file_name_writes_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = st()
        .current_dir(dir.path())
        .env("ST_CONFIG", "config.yaml")
        .args(["config", "set-token"])
        .write_stdin("bare-name-token\r\n")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("config.yaml")).unwrap();
    assert!(
        text.contains("bare-name-token") && !text.contains('\r'),
        "{text}"
    );
}
