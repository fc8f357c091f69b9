//! `cargo xtask regen`: drift detection, determinism, drop-in specs, and
//! errors that name the file and the place.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GENERATED: [&str; 4] = [
    "crates/smartthings/src/generated.rs",
    "crates/smartthings-httpmock/src/generated.rs",
    "crates/smartthings-ext/src/generated.rs",
    "spec/resolved/smartthings-openapi.json",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory holding copies of the checked-in generated files.
fn scratch_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in GENERATED {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(file), to).unwrap();
    }
    dir
}

#[test]
fn check_passes_on_the_checked_in_files_and_fails_with_a_diff_after_a_one_byte_edit() {
    let dir = scratch_copy();
    let out = dir.path().to_str().unwrap();
    let ok = xtask(&["regen", "--check", "--out", out]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("up to date"));

    let file = dir.path().join(GENERATED[0]);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&file, bytes).unwrap();

    let stale = xtask(&["regen", "--check", "--out", out]);
    assert!(!stale.status.success());
    let err = text(&stale.stderr);
    assert!(
        err.contains("crates/smartthings/src/generated.rs is stale"),
        "{err}"
    );
    assert!(
        err.contains("--- checked in") && err.contains("+++ regenerated"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")),
        "{err}"
    );
    assert!(err.contains("run `cargo xtask regen`"), "{err}");
}

#[test]
fn two_runs_write_byte_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let run = xtask(&["regen", "--out", dir.path().to_str().unwrap()]);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let summary = text(&run.stdout);
        assert!(summary.starts_with("regen: 99 operations"), "{summary}");
    }
    for file in GENERATED {
        let first = std::fs::read(a.path().join(file)).unwrap();
        let second = std::fs::read(b.path().join(file)).unwrap();
        assert!(first == second, "{file} differs between two runs");
        assert!(first.starts_with(b"// @generated") || file.ends_with(".json"));
    }
}

#[test]
fn another_spec_regenerates_without_an_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let spec = root().join("xtask/tests/alt-spec/smartthings-alt.yaml");
    let run = xtask(&[
        "regen",
        "--spec",
        spec.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let summary = text(&run.stdout);
    assert!(summary.contains("5 operations"), "{summary}");
    assert!(summary.contains("0 overlay actions"), "{summary}");
    let client = std::fs::read_to_string(dir.path().join(GENERATED[0])).unwrap();
    // The shared Mode schema was split: requests send the strict copy.
    assert!(client.contains("pub struct ModeInput"), "request copy");
    assert!(client.contains("body: types::ModeInput") || client.contains("types::ModeInput"));
    assert!(client.contains("::smartthings::OpenEnum<InstalledAppInstalledAppType>"));
    assert!(client.contains("::smartthings::Lenient<ListModesResponseItem>"));
}

#[test]
fn a_stale_overlay_target_names_the_file_the_action_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("overlay.yaml");
    std::fs::write(
        &overlay,
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths['/nowhere'].get\n    description: seed 003 test\n    remove: true\n",
    )
    .unwrap();
    let run = xtask(&[
        "regen",
        "--check",
        "--overlay",
        overlay.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    let err = text(&run.stderr);
    assert!(err.contains("overlay.yaml"), "{err}");
    assert!(err.contains("$.actions[0]"), "{err}");
    assert!(err.contains("$.paths['/nowhere'].get"), "{err}");
    assert!(err.contains("matches nothing"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_yaml_is_reported_with_file_and_line_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("broken.yaml");
    std::fs::write(&spec, "openapi: 3.0.3\npaths:\n  /x: [unclosed\n").unwrap();
    let run = xtask(&["regen", "--check", "--spec", spec.to_str().unwrap()]);
    assert!(!run.status.success());
    let err = text(&run.stderr);
    assert!(err.contains("broken.yaml:"), "{err}");
    assert!(err.contains("not valid YAML"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_operation_progenitor_cannot_express_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("odd.yaml");
    // Two different success body types for one operation: progenitor refuses.
    std::fs::write(
        &spec,
        r##"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /ok:
    get:
      operationId: fine
      responses:
        "200": {description: ok}
  /odd:
    get:
      operationId: odd
      responses:
        "200":
          description: a
          content: {application/json: {schema: {type: string}}}
        "201":
          description: b
          content: {application/json: {schema: {type: integer}}}
"##,
    )
    .unwrap();
    let run = xtask(&["regen", "--check", "--spec", spec.to_str().unwrap()]);
    assert!(!run.status.success());
    let err = text(&run.stderr);
    assert!(err.contains("odd.yaml"), "{err}");
    assert!(err.contains("$.paths['/odd'].get"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_spec_keeps_the_published_text_byte_for_byte() {
    let published =
        std::fs::read_to_string(root().join("spec/published/samsung-smartthings-openapi.yml"))
            .unwrap();
    let completed = std::fs::read_to_string(root().join("spec/smartthings-openapi.yaml")).unwrap();
    // The published text ends in the cut-off `enum:` of App.principalType.
    let cut = published.trim_end();
    assert!(cut.ends_with("enum:"), "published copy ends at the cut");
    assert!(
        completed.starts_with(cut),
        "spec/smartthings-openapi.yaml must start with the published text"
    );
    // And the published copy is the seed's YAML, where the seed is at hand.
    let seeds = root().join("../shared/seeds");
    if let Some(seed) = std::fs::read_dir(&seeds).ok().and_then(|mut d| {
        d.find_map(|e| {
            e.ok()
                .filter(|e| e.file_name().to_string_lossy().starts_with("001_"))
        })
    }) {
        let seed = std::fs::read_to_string(seed.path()).unwrap();
        assert!(
            seed.contains(&published),
            "spec/published differs from seed 001"
        );
    }
}

#[test]
fn an_overlay_directory_applies_its_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let overlays = dir.path().join("overlays");
    std::fs::create_dir(&overlays).unwrap();
    // The second file extends what the first adds: in any other order its
    // target would match nothing.
    std::fs::write(
        overlays.join("10-add.yaml"),
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.components.schemas\n    description: seed 003 test\n    update: {Extra: {type: object, properties: {a: {type: string}}}}\n",
    )
    .unwrap();
    std::fs::write(
        overlays.join("20-extend.yaml"),
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.components.schemas.Extra.properties\n    description: seed 003 test\n    update: {b: {type: integer}}\n",
    )
    .unwrap();
    std::fs::write(overlays.join("notes.txt"), "not an overlay").unwrap();
    let spec = root().join("xtask/tests/alt-spec/smartthings-alt.yaml");
    let run = xtask(&[
        "regen",
        "--spec",
        spec.to_str().unwrap(),
        "--overlay",
        overlays.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&run.stdout).contains("2 overlay actions"));
    let resolved = std::fs::read_to_string(dir.path().join(GENERATED[3])).unwrap();
    let resolved: serde_json::Value = serde_json::from_str(&resolved).unwrap();
    let extra = &resolved["components"]["schemas"]["Extra"]["properties"];
    assert_eq!(extra["a"]["type"], "string");
    assert_eq!(extra["b"]["type"], "integer");
}

#[test]
fn the_operation_table_fills_its_section_of_spec_readme_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("spec/README.md");
    std::fs::create_dir_all(readme.parent().unwrap()).unwrap();
    let hand = "# spec\n\nOurs.\n\n<!-- begin operations -->\nstale\n<!-- end operations -->\n\nAlso ours.\n";
    std::fs::write(&readme, hand).unwrap();
    let out = dir.path().to_str().unwrap();

    let stale = xtask(&["regen", "--check", "--out", out]);
    assert!(!stale.status.success());
    assert!(text(&stale.stderr).contains("spec/README.md is stale"));

    let run = xtask(&["regen", "--out", out]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let filled = std::fs::read_to_string(&readme).unwrap();
    assert!(filled.starts_with("# spec\n\nOurs.\n\n<!-- begin operations -->\n99 operations"));
    assert!(filled.ends_with("<!-- end operations -->\n\nAlso ours.\n"));
    assert!(!filled.contains("stale"));
    // One row per operation, the official name first.
    let rows = filled.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, 99);
    assert!(
        filled.contains("| `getDeviceStatusByCapability` | `getDeviceCapabilityStatus` | GET ")
    );

    // A README that lost its markers is an error, not a silent skip.
    std::fs::write(&readme, "# spec\n").unwrap();
    let run = xtask(&["regen", "--out", out]);
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("no `<!-- begin operations -->`"),
        "{}",
        text(&run.stderr)
    );
}
