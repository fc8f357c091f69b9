//! `cargo xtask bench`: codegen figures measured here, client figures from
//! the smartthings-bench binary (release build).

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::generate;

pub fn run(root: &Path, only: Option<&str>) -> Result<ExitCode> {
    if only.is_none() {
        codegen(root)?;
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(root).args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "smartthings-bench",
        "--",
    ]);
    if let Some(only) = only {
        cargo.arg(only);
    }
    let status = cargo.status().context("cannot run cargo")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn codegen(root: &Path) -> Result<()> {
    let inputs = generate::Inputs {
        spec: root.join("spec/smartthings-openapi.yaml"),
        overlays: crate::overlay_files(&root.join("spec/overlays"))?,
    };
    let mut times = Vec::new();
    let mut output = None;
    for _ in 0..5 {
        let started = Instant::now();
        output = Some(generate::run(&inputs)?);
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let output = output.expect("ran");
    let client_lines = output.files[0].contents.lines().count();
    let mock_lines = output.files[1].contents.lines().count();

    // Build time of the generated crate alone: touch it, rebuild it.
    let generated = root.join(generate::CLIENT_FILE);
    let build = |profile: &[&str]| -> Result<f64> {
        let warm = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "--quiet", "-p", "smartthings"])
            .args(profile)
            .status()?;
        if !warm.success() {
            bail!("cargo build -p smartthings failed");
        }
        let text = std::fs::read(&generated)?;
        std::fs::write(&generated, &text)?;
        let started = Instant::now();
        let status = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "--quiet", "-p", "smartthings"])
            .args(profile)
            .status()?;
        if !status.success() {
            bail!("cargo build -p smartthings failed");
        }
        Ok(started.elapsed().as_secs_f64())
    };
    let dev = build(&[])?;
    let release = build(&["--release"])?;
    println!("## Codegen\n");
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| `cargo xtask regen` (in-process, median of 5) | {:.0} ms |",
        times[2] * 1e3
    );
    println!(
        "| operations / types | {} / {} |",
        output.operations, output.types
    );
    println!("| generated client lines | {client_lines} |");
    println!("| generated httpmock lines | {mock_lines} |");
    println!("| rebuild of the generated crate after a change, dev | {dev:.1} s |");
    println!("| rebuild of the generated crate after a change, release | {release:.1} s |");
    println!();
    Ok(())
}
