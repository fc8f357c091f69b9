//! `st export`: the home into DuckDB, Parquet or JSON Lines.

use std::path::Path;

use anyhow::Result;
use comfy_table::Table;
use serde_json::json;
use smartthings_export::{Destination, ExportOptions, FollowOptions};
use smartthings_ext::{EventSubscription, SmartThings};

use super::{UsageError, interrupted, progress_bar};
use crate::cli::{ExportFormat, Format};
use crate::output::emit;

/// What `st export` says, on one line, when DuckDB is asked for and this
/// build does not have it.
pub(crate) const NO_DUCKDB: &str = "this st was built without DuckDB: rebuild it with \
`--features duckdb` (cargo run -p st --features duckdb -- export --to home.duckdb), or export \
Parquet now with `--format parquet`, which DuckDB reads directly: \
duckdb -c \"SELECT * FROM 'smartthings_home_api_parquet/devices.parquet'\"";

/// The format: the one asked for; else DuckDB for a database path, or when
/// this build has it; else Parquet.
fn resolve(asked: Option<ExportFormat>, to: Option<&Path>) -> ExportFormat {
    let database_path = to
        .and_then(Path::extension)
        .is_some_and(|e| e == "duckdb" || e == "db");
    let has_duckdb = Destination::DuckDb(Default::default()).is_available();
    asked.unwrap_or(if database_path || has_duckdb {
        ExportFormat::Duckdb
    } else {
        ExportFormat::Parquet
    })
}

/// Where the export goes, refused here when this build cannot write it: the
/// build decides, not the server, so this runs before a token is needed.
pub(super) fn destination(to: Option<&Path>, asked: Option<ExportFormat>) -> Result<Destination> {
    // Like seed 000's pipeline: `<pipeline name>.duckdb`, or a directory.
    let path = |default: &str| to.map_or_else(|| default.into(), ToOwned::to_owned);
    let destination = match resolve(asked, to) {
        ExportFormat::Duckdb => Destination::DuckDb(path("smartthings_home_api.duckdb")),
        ExportFormat::Parquet => Destination::Parquet(path("smartthings_home_api_parquet")),
        ExportFormat::Jsonl => Destination::JsonLines(path("smartthings_home_api_jsonl")),
    };
    if !destination.is_available() {
        return Err(UsageError(NO_DUCKDB.to_owned()).into());
    }
    Ok(destination)
}

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    destination: &Destination,
    mut options: ExportOptions,
    follow: Option<Follow>,
) -> Result<()> {
    let bar = progress_bar();
    if let Some(bar) = bar.clone() {
        bar.set_message("export");
        options = options.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    if let Some(follow) = follow {
        return run_follow(c, format, destination, &options, follow, bar).await;
    }
    let summary = smartthings_export::export(c, destination, &options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let s = &summary.stats;
    let value = json!({
        "devices": s.devices, "locations": s.locations, "status_rows": s.status_rows,
        "changed_status_rows": s.changed_status_rows, "removed_devices": s.removed_devices,
        "undecoded_devices": s.undecoded_devices,
        "requests": summary.requests, "seconds": summary.duration.as_secs_f64(),
        "history_events": summary.history_events,
        "destination": summary.destination, "dataset": options.dataset,
    });
    match format {
        Format::Table => {
            crate::output::line(&summary)?;
            Ok(())
        }
        _ => emit(format, &value, Table::new),
    }
}

/// `--follow`: what to stream after the load.
pub(super) struct Follow {
    pub(super) location: Option<String>,
    pub(super) count: Option<u64>,
}

/// Load, then keep the destination current from the event stream until
/// Ctrl-C (or `--count` changes).
async fn run_follow(
    c: &SmartThings,
    format: Format,
    destination: &Destination,
    options: &ExportOptions,
    follow: Follow,
    bar: Option<indicatif::ProgressBar>,
) -> Result<()> {
    let subscription = match &follow.location {
        Some(location) => EventSubscription::location(location),
        None => EventSubscription::all_locations(),
    };
    eprintln!(
        "loading, then following the event stream into {} (Ctrl-C stops)",
        destination.path().display()
    );
    // Listening from now on, so a Ctrl-C during the load stops the follow
    // as soon as it starts (and never leaves the sink behind).
    let stop = interrupted();
    let summary = smartthings_export::follow(
        c,
        destination,
        options,
        subscription,
        FollowOptions::default().max_changes(follow.count),
        stop,
    )
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let value = json!({
        "devices": summary.initial.stats.devices, "load_id": summary.initial.load_id,
        "changes": summary.changes, "streamed": summary.streamed,
        "reconciled": summary.reconciled, "batches": summary.batches,
        "history_events": summary.initial.history_events,
        "destination": summary.initial.destination,
    });
    match format {
        Format::Table => crate::output::line(&summary),
        _ => emit(format, &value, Table::new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_flag_then_the_path_then_the_build() {
        let db = Path::new("home.duckdb");
        let dir = Path::new("home");
        assert_eq!(
            resolve(Some(ExportFormat::Jsonl), Some(db)),
            ExportFormat::Jsonl
        );
        assert_eq!(resolve(None, Some(db)), ExportFormat::Duckdb);
        let built_in = if Destination::DuckDb(Default::default()).is_available() {
            ExportFormat::Duckdb
        } else {
            ExportFormat::Parquet
        };
        assert_eq!(resolve(None, Some(dir)), built_in);
        assert_eq!(resolve(None, None), built_in);
        assert!(!NO_DUCKDB.contains('\n'), "one line");
    }
}
