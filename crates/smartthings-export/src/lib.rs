//! Load a SmartThings home into DuckDB (or a directory of Parquet or JSON
//! Lines files), like seed 000's dlt pipeline: one table per resource,
//! incremental and idempotent, natively in Rust.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use smartthings_export::{Destination, ExportOptions, export};
//! use smartthings_ext::SmartThings;
//!
//! let client = SmartThings::builder().build()?;
//! let summary = export(&client, &Destination::DuckDb("home.duckdb".into()), &ExportOptions::default()).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```
//!
//! The tables and their columns are [`tables::TABLES`]; `docs/export.md`
//! documents them. In DuckDB every table also has `content_hash`,
//! `first_loaded_at` and `updated_at`; [`tables::LOADS`] records each run.
//! [`follow`] loads, then keeps the destination current from the event
//! stream: every change appended to [`tables::EVENTS`] (`device_events`),
//! `device_status` and `device_health` written again batch by batch.
//! [`ExportOptions::events_since`] also appends the device history to
//! `device_events`, incrementally: [`tables::HISTORY_CURSORS`] records how
//! far each location's history has been read.
//!
//! Features: `duckdb` (default; the bundled C++ engine) and `parquet`
//! (default; pure Rust). With both off, JSON Lines remains.
#![warn(missing_docs)]

pub mod tables;

mod backfill;
#[cfg(feature = "duckdb")]
mod duck;
mod files;
mod follow;
#[cfg(feature = "parquet")]
mod parquet_file;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use serde_json::Value;
use smartthings_ext::{SmartThings, SnapshotOptions, collect_all};

pub use follow::{FollowOptions, FollowSummary, follow};

/// Where a load goes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Destination {
    /// A DuckDB database file (the default, like seed 000).
    DuckDb(PathBuf),
    /// A directory of Parquet files, one per table (feature `parquet`).
    Parquet(PathBuf),
    /// A directory of JSON Lines files, one per table.
    JsonLines(PathBuf),
}

impl Destination {
    /// The database file or the directory.
    pub fn path(&self) -> &Path {
        match self {
            Destination::DuckDb(path)
            | Destination::Parquet(path)
            | Destination::JsonLines(path) => path,
        }
    }

    /// Whether this build can write this destination (DuckDB and Parquet are
    /// features of the crate).
    pub fn is_available(&self) -> bool {
        match self {
            Destination::JsonLines(_) => true,
            Destination::Parquet(_) => cfg!(feature = "parquet"),
            Destination::DuckDb(_) => cfg!(feature = "duckdb"),
        }
    }

    fn sink(&self) -> Result<Sink<'_>> {
        Ok(match self {
            Destination::JsonLines(dir) => Sink::Files(dir, files::Format::JsonLines),
            #[cfg(feature = "parquet")]
            Destination::Parquet(dir) => Sink::Files(dir, files::Format::Parquet),
            #[cfg(not(feature = "parquet"))]
            Destination::Parquet(_) => {
                bail!(
                    "this build has no Parquet writer (the `parquet` feature is off); use JSON Lines"
                )
            }
            #[cfg(feature = "duckdb")]
            Destination::DuckDb(path) => Sink::DuckDb(path),
            #[cfg(not(feature = "duckdb"))]
            Destination::DuckDb(_) => {
                bail!(
                    "this build has no DuckDB engine (the `duckdb` feature is off); use Parquet or JSON Lines"
                )
            }
        })
    }
}

/// The writer a destination needs, as far as this build has it.
enum Sink<'a> {
    Files(&'a Path, files::Format),
    #[cfg(feature = "duckdb")]
    DuckDb(&'a Path),
}

/// How a load runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct ExportOptions {
    /// The dataset (a schema in DuckDB), like seed 000's `dataset_name`.
    pub dataset: String,
    /// Also append changed status rows to `device_status_history`.
    pub history: bool,
    /// Progress as (done, total) devices.
    pub progress: Option<std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>>,
    /// Also append the device history to `device_events`: from where the
    /// last run read each location's history up to, or from this time for
    /// a location never read (or last read before it).
    pub events_since: Option<DateTime<Utc>>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            dataset: "smartthings_home_api_data".into(),
            history: false,
            progress: None,
            events_since: None,
        }
    }
}

impl ExportOptions {
    /// Another dataset name.
    pub fn dataset(mut self, dataset: impl Into<String>) -> Self {
        self.dataset = dataset.into();
        self
    }

    /// Keep status history.
    pub fn history(mut self, yes: bool) -> Self {
        self.history = yes;
        self
    }

    /// Append the device history since `since` (see
    /// [`events_since`](Self::events_since)).
    pub fn events_since(mut self, since: DateTime<Utc>) -> Self {
        self.events_since = Some(since);
        self
    }

    /// Report progress.
    pub fn progress(mut self, progress: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(std::sync::Arc::new(progress));
        self
    }
}

/// What a load wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Locations loaded.
    pub locations: usize,
    /// Devices listed.
    pub devices: usize,
    /// Status rows in the snapshot.
    pub status_rows: usize,
    /// Status rows written because they were new or changed.
    pub changed_status_rows: usize,
    /// Devices newly marked removed.
    pub removed_devices: usize,
    /// Devices the server listed in a form that did not decode: kept as they
    /// were at the last load, never marked removed.
    pub undecoded_devices: usize,
}

/// A finished load: what it wrote, in how many requests and how long.
#[derive(Clone, Debug)]
pub struct LoadSummary {
    /// Row counts.
    pub stats: LoadStats,
    /// Its number: its row in `loads` (and the `load_id` of the
    /// `device_events` rows of a follow that started with it).
    pub load_id: i64,
    /// HTTP requests made (with the history's, when read).
    pub requests: u64,
    /// Device history events appended to `device_events`, when
    /// [`ExportOptions::events_since`] asked for them.
    pub history_events: Option<u64>,
    /// Wall time.
    pub duration: Duration,
    /// Where it went.
    pub destination: String,
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} devices, {} status rows ({} changed), {} removed, {} requests, {:.2} s -> {}",
            self.stats.devices,
            self.stats.status_rows,
            self.stats.changed_status_rows,
            self.stats.removed_devices,
            self.requests,
            self.duration.as_secs_f64(),
            self.destination
        )?;
        if let Some(events) = self.history_events {
            write!(f, ", {events} history events")?;
        }
        if self.stats.undecoded_devices > 0 {
            write!(
                f,
                " ({} listed devices did not decode; their last rows are kept)",
                self.stats.undecoded_devices
            )?;
        }
        Ok(())
    }
}

/// One run, as the writers see it.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) dataset: String,
    pub(crate) history: bool,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) requests: u64,
    /// Ids of listed devices that did not decode.
    pub(crate) undecoded: std::collections::HashSet<String>,
}

/// The `loads` row of a finished run, in every destination.
pub(crate) fn load_row(load_id: i64, run: &Run, stats: &LoadStats) -> Value {
    let finished = Utc::now();
    serde_json::json!({
        "load_id": load_id,
        "dataset": run.dataset,
        "started_at": tables::stamp(run.started_at),
        "finished_at": tables::stamp(finished),
        "duration_ms": (finished - run.started_at).num_milliseconds(),
        "locations": stats.locations,
        "devices": stats.devices,
        "status_rows": stats.status_rows,
        "changed_status_rows": stats.changed_status_rows,
        "removed_devices": stats.removed_devices,
        "requests": run.requests,
        "undecoded_devices": stats.undecoded_devices,
    })
}

/// Take a snapshot (plus rules and capability definitions) and load it.
pub async fn export(
    client: &SmartThings,
    destination: &Destination,
    options: &ExportOptions,
) -> Result<LoadSummary> {
    check(destination, options)?;
    let read = read(client, options).await?;
    // The lock is taken once the home is read, as it always was: a second
    // run fails when it would write.
    let mut writer = Writer::open(destination, &options.dataset)?;
    let (mut summary, context) = writer.load(destination, options, read)?;
    backfill::run(client, &mut writer, options, &context, &mut summary).await?;
    Ok(summary)
}

/// What a load read besides the devices, kept by `follow` to write the
/// home again from the live state.
pub(crate) struct Context {
    pub(crate) snapshot: smartthings_ext::Snapshot,
    pub(crate) rules: Vec<(String, smartthings::types::Rule)>,
    pub(crate) capabilities: Vec<smartthings::types::CapabilitySummary>,
}

/// The home as read, when and in how many requests.
pub(crate) struct Read {
    context: Context,
    started: std::time::Instant,
    started_at: DateTime<Utc>,
    requests: u64,
}

/// Refuse what no request can fix: a bad dataset name, a format this build
/// lacks.
pub(crate) fn check(destination: &Destination, options: &ExportOptions) -> Result<()> {
    if options.dataset.is_empty()
        || !options
            .dataset
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!(
            "the dataset name must be letters, digits and underscores, got {:?}",
            options.dataset
        );
    }
    // Before any request: a format this build lacks fails at once.
    destination.sink()?;
    Ok(())
}

/// Read the home: a snapshot, the rules, the capability definitions.
pub(crate) async fn read(client: &SmartThings, options: &ExportOptions) -> Result<Read> {
    let started = std::time::Instant::now();
    let started_at = Utc::now();
    let before = client.metrics().requests;
    let mut snapshot_options = SnapshotOptions::default();
    if let Some(progress) = options.progress.clone() {
        snapshot_options = snapshot_options.progress(move |done, total| progress(done, total));
    }
    let snapshot = client.snapshot_with(snapshot_options).await?;
    let rules = collect_rules(client, &snapshot).await?;
    let capabilities = collect_all(client.capabilities()).await?.items;
    Ok(Read {
        context: Context {
            snapshot,
            rules,
            capabilities,
        },
        started,
        started_at,
        requests: client.metrics().requests - before,
    })
}

/// The run a write describes.
fn run(
    options: &ExportOptions,
    context: &Context,
    started_at: DateTime<Utc>,
    requests: u64,
) -> Run {
    let undecoded = context
        .snapshot
        .invalid
        .iter()
        .filter_map(|item| item.raw.get("deviceId")?.as_str().map(str::to_owned))
        .collect();
    Run {
        dataset: options.dataset.clone(),
        history: options.history,
        started_at,
        requests,
        undecoded,
    }
}

/// A destination open for writing: the directory's lock or the database
/// connection, held until dropped.
pub(crate) enum Writer {
    Files(files::Directory),
    #[cfg(feature = "duckdb")]
    DuckDb(duck::Database),
}

impl Writer {
    #[cfg_attr(not(feature = "duckdb"), allow(unused_variables))]
    pub(crate) fn open(destination: &Destination, dataset: &str) -> Result<Self> {
        Ok(match destination.sink()? {
            Sink::Files(dir, format) => Writer::Files(files::Directory::open(dir, format)?),
            #[cfg(feature = "duckdb")]
            Sink::DuckDb(path) => Writer::DuckDb(duck::Database::open(path, dataset)?),
        })
    }

    /// Write what `read` found as one load; the summary, and the context to
    /// write the home again from.
    pub(crate) fn load(
        &mut self,
        destination: &Destination,
        options: &ExportOptions,
        read: Read,
    ) -> Result<(LoadSummary, Context)> {
        let rows = tables::rows(
            &read.context.snapshot,
            &read.context.rules,
            &read.context.capabilities,
        );
        let run = run(options, &read.context, read.started_at, read.requests);
        let (stats, load_id) = match self {
            Writer::Files(directory) => directory.load(&run, &rows)?,
            #[cfg(feature = "duckdb")]
            Writer::DuckDb(database) => database.load(&run, &rows)?,
        };
        let summary = LoadSummary {
            stats,
            load_id,
            requests: read.requests,
            history_events: None,
            duration: read.started.elapsed(),
            destination: destination.path().display().to_string(),
        };
        Ok((summary, read.context))
    }

    /// Write one follow batch: `events` appended to `device_events`, and the
    /// home `context` holds (its devices the live ones) written again.
    pub(crate) fn batch(
        &mut self,
        options: &ExportOptions,
        context: &Context,
        events: &[Value],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let rows = tables::rows(&context.snapshot, &context.rules, &context.capabilities);
        let run = run(options, context, at, 0);
        match self {
            Writer::Files(directory) => directory.batch(&run, &rows, events),
            #[cfg(feature = "duckdb")]
            Writer::DuckDb(database) => database.batch(&run, &rows, events),
        }
    }

    /// Each location's history cursor: `(epoch, hash)` of the newest
    /// event read.
    pub(crate) fn history_cursors(
        &mut self,
    ) -> Result<std::collections::HashMap<String, (i64, i64)>> {
        match self {
            Writer::Files(directory) => directory.history_cursors(),
            #[cfg(feature = "duckdb")]
            Writer::DuckDb(database) => database.history_cursors(),
        }
    }

    /// Append history `events` to `device_events` and write `cursor`, its
    /// location's new cursor (if it moved), after them.
    pub(crate) fn append_history(
        &mut self,
        events: &[Value],
        cursor: Option<&Value>,
    ) -> Result<()> {
        match self {
            Writer::Files(directory) => directory.append_history(events, cursor),
            #[cfg(feature = "duckdb")]
            Writer::DuckDb(database) => database.append_history(events, cursor),
        }
    }
}

/// Every rule of every location (rules are listed per location).
async fn collect_rules(
    client: &SmartThings,
    snapshot: &smartthings_ext::Snapshot,
) -> Result<Vec<(String, smartthings::types::Rule)>, smartthings_ext::Error> {
    let mut rules = Vec::new();
    for location in &snapshot.locations {
        let id = location.location.location_id.clone().unwrap_or_default();
        for rule in collect_all(client.rules(&id)).await?.items {
            rules.push((id.clone(), rule));
        }
    }
    Ok(rules)
}
