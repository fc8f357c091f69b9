//! The directory formats (Parquet, JSON Lines), for users who load into
//! other engines. A directory holds one file per table with the home as it
//! is now; a re-run keeps the same semantics as the database: devices that
//! disappeared stay, marked removed; `loads` grows by one row; with history,
//! the changed status rows of each load go to
//! `device_status_history/load-NNNNNN.<ext>` (a glob reads them all).
//!
//! Every file is written beside its final name and renamed into place, so an
//! interrupted run leaves the previous load's files whole.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::tables::{
    Column, HISTORY, LOADED_AT, LOADS, Rows, TABLES, history_columns, of, stamp, table,
};
use crate::{LoadStats, Run};

/// A directory format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `<table>.jsonl`: one JSON object per line.
    JsonLines,
    /// `<table>.parquet`.
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            #[cfg(feature = "parquet")]
            Format::Parquet => "parquet",
        }
    }

    /// Write a whole file: to a temporary name, then renamed into place.
    #[cfg_attr(not(feature = "parquet"), allow(unused_variables))]
    fn write(self, path: &Path, columns: &[Column], rows: &[Value]) -> Result<()> {
        let partial = path.with_extension(format!("{}.partial", self.extension()));
        match self {
            Format::JsonLines => write_jsonl(&partial, rows)?,
            #[cfg(feature = "parquet")]
            Format::Parquet => crate::parquet_file::write(&partial, columns, rows)?,
        }
        std::fs::rename(&partial, path)
            .with_context(|| format!("cannot move {} into place", path.display()))
    }

    /// The rows of a file an earlier load wrote; none if there is none.
    #[cfg_attr(not(feature = "parquet"), allow(unused_variables))]
    fn read(self, path: &Path, columns: &[Column]) -> Result<Vec<Value>> {
        if !path.exists() {
            return Ok(Vec::new());
        }
        match self {
            Format::JsonLines => read_jsonl(path),
            #[cfg(feature = "parquet")]
            Format::Parquet => crate::parquet_file::read(path, columns),
        }
    }
}

fn write_jsonl(path: &Path, rows: &[Value]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for row in rows {
        writeln!(out, "{row}")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

fn read_jsonl(path: &Path) -> Result<Vec<Value>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a JSON object", path.display(), n + 1))?,
        );
    }
    Ok(rows)
}

/// The load numbers of the history files `load-NNNNNN.<ext>` in `dir`.
fn history_numbers(dir: &Path) -> Vec<i64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let number = name.to_str()?.strip_prefix("load-")?.split('.').next()?;
            number.parse().ok()
        })
        .collect()
}

/// Write one load into the directory `dir`.
pub(crate) fn write(dir: &Path, format: Format, run: &Run, rows: &Rows) -> Result<LoadStats> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = |name: &str| -> PathBuf { dir.join(format!("{name}.{}", format.extension())) };
    let at = stamp(run.started_at);

    // Devices the last load saw and this one does not are kept, marked.
    let devices_table = table("devices");
    let mut devices = of(rows, "devices").to_vec();
    let listed: HashSet<String> = devices.iter().map(|d| devices_table.key_of(d)).collect();
    let mut removed_devices = 0;
    for mut gone in format
        .read(&file("devices"), devices_table.columns)?
        .into_iter()
        .filter(|d| !listed.contains(&devices_table.key_of(d)))
    {
        if gone["removed"] != Value::Bool(true) {
            gone["removed"] = Value::Bool(true);
            gone["removed_at"] = Value::from(at.clone());
            removed_devices += 1;
        }
        devices.push(gone);
    }

    let status = table("device_status");
    let before: HashMap<String, Value> = format
        .read(&file("device_status"), status.columns)?
        .into_iter()
        .map(|row| (status.key_of(&row), row))
        .collect();
    let changed: Vec<&Value> = of(rows, "device_status")
        .iter()
        .filter(|row| before.get(&status.key_of(row)) != Some(*row))
        .collect();

    let mut loads = format.read(&file("loads"), LOADS.columns)?;
    let history_dir = dir.join(HISTORY);
    // Numbered past both the run log and the history files, so a history
    // file is never replaced even if `loads` was deleted.
    let load_id = loads
        .iter()
        .filter_map(|l| l["load_id"].as_i64())
        .chain(history_numbers(&history_dir))
        .max()
        .unwrap_or(0)
        + 1;

    for t in TABLES {
        let rows = if t.name == "devices" {
            &devices[..]
        } else {
            of(rows, t.name)
        };
        format.write(&file(t.name), t.columns, rows)?;
    }
    if run.history && !changed.is_empty() {
        std::fs::create_dir_all(&history_dir)?;
        let history: Vec<Value> = changed
            .iter()
            .map(|row| {
                let mut row = (*row).clone();
                row[LOADED_AT.0] = Value::from(at.clone());
                row
            })
            .collect();
        let name = format!("load-{load_id:06}.{}", format.extension());
        format.write(&history_dir.join(name), &history_columns(), &history)?;
    }

    let stats = LoadStats {
        locations: of(rows, "locations").len(),
        devices: listed.len(),
        status_rows: of(rows, "device_status").len(),
        changed_status_rows: changed.len(),
        removed_devices,
    };
    loads.push(crate::load_row(load_id, run, &stats));
    format.write(&file("loads"), LOADS.columns, &loads)?;
    Ok(stats)
}
