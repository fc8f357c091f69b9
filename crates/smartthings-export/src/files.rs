//! The directory formats (Parquet, JSON Lines), for users who load into
//! other engines. A directory holds one file per table with the home as it
//! is now; a re-run keeps the same semantics as the database: devices that
//! disappeared stay, marked removed; `loads` grows by one row; with history,
//! the changed status rows of each load go to
//! `device_status_history/load-NNNNNN.<ext>` (a glob reads them all).
//!
//! Every file is written beside its final name, under a name unique to the
//! run, and renamed into place, so an interrupted run leaves each file whole
//! (old or new). One run at a time writes a directory: it holds an exclusive
//! lock on `<dir>/.lock` throughout, and a second fails at once. A load's
//! history file is written before the tables it is computed from are
//! replaced, and `loads` last, so an interruption never loses a history row
//! (see "What is guaranteed" in docs/export.md). `--follow` holds the lock
//! from its load until it stops; each batch adds its changes as
//! `device_events/part-NNNNNN.<ext>`, then rewrites the tables that changed.
//! `--events-since` adds history events the same way, a part per chunk, each
//! followed by `history_cursors.<ext>` with its location's cursor moved past
//! it (an interruption between the two reads the chunk again next run:
//! twice at worst, never lost).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::tables::{
    Column, EVENTS, HISTORY, HISTORY_CURSORS, LOADED_AT, LOADS, Rows, TABLES, Table,
    history_columns, of, stamp, table,
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

    /// Write a whole file: to a temporary name of this run's own, then
    /// renamed into place.
    #[cfg_attr(not(feature = "parquet"), allow(unused_variables))]
    fn write(self, path: &Path, columns: &[Column], rows: &[Value]) -> Result<()> {
        let partial = partial_name(path);
        let written = match self {
            Format::JsonLines => write_jsonl(&partial, rows),
            #[cfg(feature = "parquet")]
            Format::Parquet => crate::parquet_file::write(&partial, columns, rows),
        }
        // On disk before it replaces the old file: a power cut after the
        // rename must not leave an empty table.
        .and_then(|()| {
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot sync {}", partial.display()))
        })
        .and_then(|()| {
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot move {} into place", path.display()))
        })
        // The rename on disk before any file written after it: a history
        // cursor must never survive a power cut that the part file it
        // follows did not.
        .and_then(|()| {
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot sync {}", dir.display()))
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
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

/// `<dir>/.<name>.<pid>-<n>.partial`: unique to this process and write.
fn partial_name(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}-{n}.partial", std::process::id()))
}

/// The directory's writer lock, held until dropped.
struct DirectoryLock(#[allow(dead_code, reason = "held for its lock")] std::fs::File);

/// Take the directory's lock, or fail at once if another run holds it; then
/// clear what an interrupted run left behind.
fn lock(dir: &Path) -> Result<DirectoryLock> {
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another export is writing {} (it holds {}); run again when it has finished",
            dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    for leftover in [dir.to_path_buf(), dir.join(HISTORY), dir.join(EVENTS.name)] {
        let Ok(entries) = std::fs::read_dir(&leftover) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".partial") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(DirectoryLock(file))
}

/// A table of rows per device or per part of one, other than `devices`
/// (whose rows of vanished devices are kept, marked removed).
fn is_per_device(table: &Table) -> bool {
    table.name != "devices" && table.columns.iter().any(|(name, ..)| *name == "device_id")
}

/// The numbers `N` of the files `<prefix>N.<ext>` in `dir`.
fn numbers(dir: &Path, prefix: &str) -> Vec<i64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name();
            let number = name.to_str()?.strip_prefix(prefix)?.split('.').next()?;
            number.parse().ok()
        })
        .collect()
}

/// The fingerprint of a table's rows, to skip rewriting an unchanged
/// table. (`DefaultHasher::new()` uses fixed keys.)
fn fingerprint(rows: &[Value]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for row in rows {
        row.to_string().hash(&mut hasher);
    }
    hasher.finish()
}

/// A directory open for writing, its lock held until dropped: by one load,
/// or by a load and the follow batches after it.
pub(crate) struct Directory {
    dir: PathBuf,
    format: Format,
    _lock: DirectoryLock,
    /// The fingerprint of each table as this writer last wrote it: a
    /// follow batch rewrites only the tables that changed.
    written: HashMap<&'static str, u64>,
    /// The number of the last `device_events` part file.
    last_part: Option<i64>,
}

impl Directory {
    /// Create the directory if need be and take its lock.
    pub(crate) fn open(dir: &Path, format: Format) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = lock(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            format,
            _lock: lock,
            written: HashMap::new(),
            last_part: None,
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{}", self.format.extension()))
    }

    /// Write one load: its history (with `--history`), the tables, then
    /// its `loads` row. Returns its counts and its `load_id`.
    pub(crate) fn load(&mut self, run: &Run, rows: &Rows) -> Result<(LoadStats, i64)> {
        let mut loads = self.format.read(&self.file("loads"), LOADS.columns)?;
        // Numbered past both the run log and the history files, so a
        // history file is never replaced even if `loads` was deleted.
        let load_id = loads
            .iter()
            .filter_map(|l| l["load_id"].as_i64())
            .chain(numbers(&self.dir.join(HISTORY), "load-"))
            .max()
            .unwrap_or(0)
            + 1;
        let stats = self.tables(run, rows, run.history.then_some(load_id))?;
        loads.push(crate::load_row(load_id, run, &stats));
        self.format
            .write(&self.file("loads"), LOADS.columns, &loads)?;
        Ok((stats, load_id))
    }

    /// Write one follow batch: its `device_events` rows as the next part
    /// file, then the tables whose rows changed. No history file and no
    /// `loads` row: the events are the record of what changed.
    pub(crate) fn batch(&mut self, run: &Run, rows: &Rows, events: &[Value]) -> Result<()> {
        self.append_events(events)?;
        self.tables(run, rows, None)?;
        Ok(())
    }

    /// `events` as the next `device_events` part file (none when empty).
    fn append_events(&mut self, events: &[Value]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let dir = self.dir.join(EVENTS.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let last = match self.last_part {
            Some(last) => last,
            None => numbers(&dir, "part-").into_iter().max().unwrap_or(0),
        };
        let name = format!("part-{:06}.{}", last + 1, self.format.extension());
        self.format.write(&dir.join(name), EVENTS.columns, events)?;
        self.last_part = Some(last + 1);
        Ok(())
    }

    /// Each location's history cursor: `(epoch, hash)` of the newest event
    /// read.
    pub(crate) fn history_cursors(&mut self) -> Result<HashMap<String, (i64, i64)>> {
        let rows = self
            .format
            .read(&self.file(HISTORY_CURSORS.name), HISTORY_CURSORS.columns)?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let location = row["location_id"].as_str()?;
                Some((
                    location.to_owned(),
                    (row["epoch"].as_i64()?, row["hash"].as_i64()?),
                ))
            })
            .collect())
    }

    /// Append history events as a part file, then move their location's
    /// cursor past them.
    pub(crate) fn append_history(
        &mut self,
        events: &[Value],
        cursor: Option<&Value>,
    ) -> Result<()> {
        self.append_events(events)?;
        let Some(cursor) = cursor else {
            return Ok(());
        };
        let path = self.file(HISTORY_CURSORS.name);
        let mut cursors = self.format.read(&path, HISTORY_CURSORS.columns)?;
        cursors.retain(|row| row["location_id"] != cursor["location_id"]);
        cursors.push(cursor.clone());
        self.format.write(&path, HISTORY_CURSORS.columns, &cursors)
    }

    /// Write the tables (and, for load `history`, its history file first).
    fn tables(&mut self, run: &Run, rows: &Rows, history: Option<i64>) -> Result<LoadStats> {
        let format = self.format;
        let at = stamp(run.started_at);

        // Devices the last load saw and this one does not are kept, marked.
        let devices_table = table("devices");
        let mut devices = of(rows, "devices").to_vec();
        let listed: HashSet<String> = devices.iter().map(|d| devices_table.key_of(d)).collect();
        let mut removed_devices = 0;
        for mut gone in format
            .read(&self.file("devices"), devices_table.columns)?
            .into_iter()
            .filter(|d| !listed.contains(&devices_table.key_of(d)))
        {
            // Listed, but not decodable this time: still there, rows kept.
            let undecoded = gone["device_id"]
                .as_str()
                .is_some_and(|id| run.undecoded.contains(id));
            if !undecoded && gone["removed"] != Value::Bool(true) {
                gone["removed"] = Value::Bool(true);
                gone["removed_at"] = Value::from(at.clone());
                removed_devices += 1;
            }
            devices.push(gone);
        }

        let status = table("device_status");
        let earlier_status = format.read(&self.file("device_status"), status.columns)?;
        let changed: Vec<&Value> = {
            let before: HashMap<String, &Value> = earlier_status
                .iter()
                .map(|row| (status.key_of(row), row))
                .collect();
            of(rows, "device_status")
                .iter()
                .filter(|row| before.get(&status.key_of(row)) != Some(row))
                .collect()
        };
        // A device listed but not decoded this time keeps its last rows in
        // every table of per-device rows (all read before anything is
        // written).
        let of_undecoded = |row: &&Value| {
            row["device_id"]
                .as_str()
                .is_some_and(|id| run.undecoded.contains(id))
        };
        let mut kept: HashMap<&str, Vec<Value>> = HashMap::new();
        if !run.undecoded.is_empty() {
            for t in TABLES.iter().filter(|t| is_per_device(t)) {
                let earlier = if t.name == status.name {
                    earlier_status
                        .iter()
                        .filter(of_undecoded)
                        .cloned()
                        .collect()
                } else {
                    let earlier = format.read(&self.file(t.name), t.columns)?;
                    earlier.iter().filter(of_undecoded).cloned().collect()
                };
                kept.insert(t.name, earlier);
            }
        }

        // History before the tables it is computed from: an interruption
        // between the two leaves the old tables, and the next run records
        // the same changes again (twice at worst, never lost).
        if let Some(load_id) = history
            && !changed.is_empty()
        {
            let history_dir = self.dir.join(HISTORY);
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
        for t in TABLES {
            let mut table_rows = Cow::Borrowed(match t.name {
                "devices" => &devices[..],
                name => of(rows, name),
            });
            if let Some(kept) = kept.get(t.name)
                && !kept.is_empty()
            {
                table_rows.to_mut().extend(kept.iter().cloned());
            }
            let print = fingerprint(&table_rows);
            if self.written.get(t.name) == Some(&print) {
                continue;
            }
            format.write(&self.file(t.name), t.columns, &table_rows)?;
            self.written.insert(t.name, print);
        }

        Ok(LoadStats {
            locations: of(rows, "locations").len(),
            devices: listed.len(),
            status_rows: of(rows, "device_status").len(),
            changed_status_rows: changed.len(),
            removed_devices,
            undecoded_devices: run.undecoded.len(),
        })
    }
}
