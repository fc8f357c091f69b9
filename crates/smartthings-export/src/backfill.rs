//! `--events-since`: each location's device history appended to
//! `device_events`, oldest first, from where the last run stopped.
//!
//! SmartThings pages its history by `(epoch, hash)` cursors, both ways. A
//! run reads each location's events strictly after its stored cursor (or
//! from the requested start, for a location never read or last read before
//! it) and writes them in chunks, each followed by the cursor of its newest
//! event: an interrupted run resumes after the last chunk it wrote, so the
//! history is never read with a gap.

use anyhow::Result;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use smartthings_ext::SmartThings;

use crate::tables::{self, stamp};
use crate::{Context, ExportOptions, LoadSummary, Writer};

/// Events per history request: ten times the server's default of 20.
const PAGE: u64 = 200;

/// Events written at once (one transaction, or one part file) before the
/// cursor moves past them: bounds memory, and the work an interruption
/// makes the next run repeat.
const CHUNK: usize = 5_000;

/// Append the history of every location of the load in `context` when
/// `options` asks for it; `summary` gains its counts.
pub(crate) async fn run(
    client: &SmartThings,
    writer: &mut Writer,
    options: &ExportOptions,
    context: &Context,
    summary: &mut LoadSummary,
) -> Result<()> {
    let Some(since) = options.events_since else {
        return Ok(());
    };
    summary.history_events = Some(0);
    let mut progress = Progress {
        summary,
        counted: client.metrics().requests,
    };
    let cursors = writer.history_cursors()?;
    // Strictly after the last millisecond before `since`: every event of
    // `since` itself and later. The server wants a hash beside an epoch;
    // the largest passes every event of that millisecond. This assumes the
    // server orders events by (epoch, hash), as the simulator does, and
    // accepts a hash that names no event: core-sdk's types say no more than
    // that both are numbers, and no real response has been recorded yet.
    let floor = (since.timestamp_millis() - 1, i64::MAX);
    for location in &context.snapshot.locations {
        let Some(id) = location.location.location_id.as_deref() else {
            continue;
        };
        let start = match cursors.get(id) {
            Some(&cursor) if cursor > floor => cursor,
            _ => floor,
        };
        location_history(client, writer, id, start, &mut progress).await?;
    }
    progress.count_requests(client);
    Ok(())
}

/// The summary kept current chunk by chunk, so that a run stopped midway
/// (a follow's stop) still reports what it wrote and the requests it made.
struct Progress<'a> {
    summary: &'a mut LoadSummary,
    /// The client's request count already added to the summary.
    counted: u64,
}

impl Progress<'_> {
    fn count_requests(&mut self, client: &SmartThings) {
        let now = client.metrics().requests;
        self.summary.requests += now - self.counted;
        self.counted = now;
    }

    fn written(&mut self, client: &SmartThings, events: usize) {
        *self.summary.history_events.get_or_insert(0) += events as u64;
        self.count_requests(client);
    }
}

/// One location's events after `start`, written chunk by chunk.
async fn location_history(
    client: &SmartThings,
    writer: &mut Writer,
    location: &str,
    start: (i64, i64),
    progress: &mut Progress<'_>,
) -> Result<()> {
    let load_id = progress.summary.load_id;
    let mut items = client
        .list_device_history()
        .location_id(vec![location.to_owned()])
        .oldest_first(true)
        .limit(PAGE)
        .paging_after_epoch(start.0)
        .paging_after_hash(start.1)
        .items();
    let mut rows = Vec::new();
    let mut newest: Option<(i64, i64)> = None;
    loop {
        let item = items.next().await;
        let ended = item.is_none();
        let at = Utc::now();
        match item {
            Some(Ok(event)) => {
                if let (Some(epoch), Some(hash)) = (event.epoch, event.hash) {
                    newest = Some((epoch, hash));
                }
                rows.push(tables::history_row(&event, at, load_id));
            }
            Some(Err(error)) => {
                // Kept as sent; its cursor, if readable, still counts.
                let invalid = error.into_invalid_item()?;
                if let (Some(epoch), Some(hash)) =
                    (invalid.raw["epoch"].as_i64(), invalid.raw["hash"].as_i64())
                {
                    newest = Some((epoch, hash));
                }
                rows.push(tables::undecoded_history_row(&invalid.raw, at, load_id));
            }
            None => {}
        }
        if rows.len() >= CHUNK || (ended && !rows.is_empty()) {
            // Events without a cursor of their own leave it where it was.
            let cursor = newest.map(|(epoch, hash)| cursor_row(location, epoch, hash, load_id));
            writer.append_history(&rows, cursor.as_ref())?;
            progress.written(client, rows.len());
            rows.clear();
        }
        if ended {
            return Ok(());
        }
    }
}

/// A `history_cursors` row: `location` read up to `(epoch, hash)`.
fn cursor_row(location: &str, epoch: i64, hash: i64, load_id: i64) -> Value {
    json!({
        "location_id": location,
        "epoch": epoch,
        "hash": hash,
        "event_time": DateTime::from_timestamp_millis(epoch).map(stamp),
        "load_id": load_id,
    })
}
