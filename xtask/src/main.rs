//! `cargo xtask`: the project's automation. `regen` is the workflow for
//! every spec update; `regen --check` is the drift gate CI runs.

mod bench;
mod ext_builders;
mod generate;
mod normalize;
mod overlay;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "smartthings-rs project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the typed client and httpmock helpers from spec/.
    Regen {
        /// Regenerate in memory and fail with a diff if a checked-in file is stale.
        #[arg(long)]
        check: bool,
        /// The OpenAPI document [default: spec/smartthings-openapi.yaml].
        #[arg(long)]
        spec: Option<PathBuf>,
        /// An overlay file, or a directory of them applied in name order
        /// [default: overlays/ beside the spec; skipped if absent].
        #[arg(long)]
        overlay: Option<PathBuf>,
        /// Apply no overlay, even if one sits beside the spec.
        #[arg(long, conflicts_with = "overlay")]
        no_overlay: bool,
        /// Workspace root to write into [default: this workspace].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the benchmark figures: codegen, then the client against the
    /// simulator (see docs/benchmarks.md).
    Bench {
        /// Only these client sections, comma-separated, in one process:
        /// economy, limits, decode, overhead, export, events, snapshot.
        /// Without it, each section runs in a process of its own.
        only: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn run(cli: Cli) -> Result<ExitCode> {
    let (check, spec, overlay, no_overlay, out) = match cli.command {
        Command::Bench { only } => return bench::run(&workspace_root(), only.as_deref()),
        Command::Regen {
            check,
            spec,
            overlay,
            no_overlay,
            out,
        } => (check, spec, overlay, no_overlay, out),
    };
    let root = workspace_root();
    let spec = spec.unwrap_or_else(|| root.join("spec/smartthings-openapi.yaml"));
    let overlays = match (overlay, no_overlay) {
        (_, true) => Vec::new(),
        (Some(path), false) => overlay_files(&path)?,
        (None, false) => {
            let beside = spec.with_file_name("overlays");
            if beside.is_dir() {
                overlay_files(&beside)?
            } else {
                Vec::new()
            }
        }
    };
    let out = out.unwrap_or(root);

    let started = Instant::now();
    let output = generate::run(&generate::Inputs { spec, overlays })?;
    let lines: usize = output
        .files
        .iter()
        .map(|f| f.contents.lines().count())
        .sum();

    if check {
        let mut stale = 0;
        for file in &output.files {
            let path = out.join(&file.path);
            let current = std::fs::read_to_string(&path).ok();
            let Some(expected) = file.merged(current.as_deref())? else {
                continue;
            };
            let current = current.unwrap_or_default();
            if current != expected {
                stale += 1;
                eprintln!("{} is stale:", file.path.display());
                let diff = similar::TextDiff::from_lines(&current, &expected);
                let shown = diff
                    .unified_diff()
                    .context_radius(3)
                    .header("checked in", "regenerated")
                    .to_string();
                eprint!("{}", truncate(&shown, 200));
            }
        }
        if stale > 0 {
            eprintln!(
                "error: {stale} generated file(s) out of date; run `cargo xtask regen` and commit"
            );
            return Ok(ExitCode::FAILURE);
        }
        println!(
            "regen --check: up to date ({} operations, {} types, {lines} lines, {:.2} s)",
            output.operations,
            output.types,
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }

    for file in &output.files {
        let path = out.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let current = std::fs::read_to_string(&path).ok();
        let Some(contents) = file.merged(current.as_deref())? else {
            continue;
        };
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "regen: {} operations, {} types ({} open enums, {} lenient lists, {} boxed details, {} \
         objects keeping unknown fields, {} hand-written), {} overlay actions, {lines} lines \
         written in {} files, {:.2} s",
        output.operations,
        output.types,
        output.report.open_enums.len(),
        output.report.lenient_lists,
        output.report.boxed_details,
        output.report.open_objects,
        output.report.substituted.len(),
        output.overlay_actions,
        output.files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The overlay at `path`, or every overlay in the directory `path`, in name
/// order (one file per area keeps each readable as the spec grows).
pub fn overlay_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
    {
        let file = entry?.path();
        let overlay = file
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
        if overlay && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

fn truncate(text: &str, max_lines: usize) -> String {
    let total = text.lines().count();
    if total <= max_lines {
        return text.to_owned();
    }
    let mut shown: String = text
        .lines()
        .take(max_lines)
        .flat_map(|l| [l, "\n"])
        .collect();
    shown.push_str(&format!("... ({} more diff lines)\n", total - max_lines));
    shown
}
