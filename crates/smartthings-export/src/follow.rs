//! `--follow`: after a load, keep the destination current from the event
//! stream. Every change a [`LiveHome`] reports — delivered by the stream or
//! found by reconciling — is appended to `device_events`, and the tables
//! are written again from the live state batch by batch, so `device_status`
//! stays equal to the home without polling. The destination stays locked
//! (the directory's `.lock`, or the open database) from the load until the
//! follow stops.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::Utc;
use futures::StreamExt;
use smartthings_ext::{
    Change, ChangeKind, DeviceSnapshot, EventSubscription, LiveHome, LiveOptions, Origin,
    SmartThings,
};

use crate::{Context, Destination, ExportOptions, LoadSummary, Writer, check, read, tables};

/// How `follow` batches its writes, and when it stops by itself.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FollowOptions {
    /// Write when this many changes are waiting (default 500).
    pub batch_changes: usize,
    /// Write at least this often while changes are waiting (default 1 s).
    pub batch_interval: Duration,
    /// Stop once this many changes were received (default: only when
    /// `stop` completes). The changes already found when it stops are
    /// written too, so a summary may count a few more.
    pub max_changes: Option<u64>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            batch_changes: 500,
            batch_interval: Duration::from_secs(1),
            max_changes: None,
        }
    }
}

impl FollowOptions {
    /// Write when this many changes are waiting (at least 1).
    #[must_use]
    pub fn batch_changes(mut self, changes: usize) -> Self {
        self.batch_changes = changes.max(1);
        self
    }

    /// Write at least this often while changes are waiting.
    #[must_use]
    pub fn batch_interval(mut self, interval: Duration) -> Self {
        self.batch_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Stop after this many changes.
    #[must_use]
    pub fn max_changes(mut self, changes: Option<u64>) -> Self {
        self.max_changes = changes;
        self
    }
}

/// What `follow` did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FollowSummary {
    /// The load it started with (its `load_id` is on every
    /// `device_events` row the follow wrote).
    pub initial: LoadSummary,
    /// Changes written to `device_events`.
    pub changes: u64,
    /// Of which delivered by the event stream.
    pub streamed: u64,
    /// Of which found by reconciling (the stream lost them).
    pub reconciled: u64,
    /// Batches written.
    pub batches: u64,
}

impl std::fmt::Display for FollowSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; then {} changes ({} from the stream, {} reconciled) in {} batches",
            self.initial, self.changes, self.streamed, self.reconciled, self.batches
        )
    }
}

/// Load the home, then keep `destination` current from the event stream
/// until `stop` completes (or [`FollowOptions::max_changes`]). On stop, the
/// changes already found are written, and the event sink is deleted,
/// before it returns. Stopped during the load, it fails having written
/// nothing; while the stream connects, it returns the load's summary.
///
/// ```no_run
/// # async fn run(client: smartthings_ext::SmartThings) -> anyhow::Result<()> {
/// use smartthings_export::{Destination, ExportOptions, FollowOptions, follow};
/// use smartthings_ext::EventSubscription;
///
/// // Ctrl-C, a shutdown signal, a timer: any future that completes.
/// let stop = std::future::pending::<()>();
/// let summary = follow(
///     &client,
///     &Destination::Parquet("home".into()),
///     &ExportOptions::default(),
///     EventSubscription::all_locations(),
///     FollowOptions::default(),
///     stop,
/// )
/// .await?;
/// println!("{summary}");
/// # Ok(()) }
/// ```
pub async fn follow(
    client: &SmartThings,
    destination: &Destination,
    options: &ExportOptions,
    subscription: EventSubscription,
    follow: FollowOptions,
    stop: impl Future<Output = ()>,
) -> Result<FollowSummary> {
    check(destination, options)?;
    tokio::pin!(stop);
    // Locked from the load until the follow stops.
    let mut writer = Writer::open(destination, &options.dataset)?;
    let home = tokio::select! {
        home = read(client, options) => home?,
        () = &mut stop => bail!("stopped before the load finished: nothing was written"),
    };
    let (mut initial, context) = writer.load(destination, options, home)?;
    // Stoppable while it reads the history: each chunk written stays, with
    // its cursor.
    let backfilled = tokio::select! {
        backfilled = crate::backfill::run(client, &mut writer, options, &context, &mut initial) => {
            backfilled?;
            true
        }
        () = &mut stop => false,
    };
    // Stoppable while it connects (it retries for as long as it takes).
    let live = if backfilled {
        tokio::select! {
            live = LiveHome::start(client, subscription, LiveOptions::default()) => Some(live?),
            () = &mut stop => None,
        }
    } else {
        None
    };
    let Some(mut live) = live else {
        return Ok(FollowSummary {
            initial,
            changes: 0,
            streamed: 0,
            reconciled: 0,
            batches: 0,
        });
    };
    // The home as loaded, keyed for the live devices to replace: a
    // subscription to one location (or some devices) leaves the others as
    // they were loaded, not removed.
    let devices = context
        .snapshot
        .devices
        .iter()
        .map(|d| (d.id().to_owned(), d.clone()))
        .collect();
    let mut batches = Batches {
        writer,
        context,
        devices,
        options,
        pending: Vec::new(),
        summary: FollowSummary {
            initial,
            changes: 0,
            streamed: 0,
            reconciled: 0,
            batches: 0,
        },
    };
    // What changed between the load and the stream's start.
    if let Err(error) = batches.flush(&live) {
        live.stop().await;
        return Err(error);
    }
    let mut tick = tokio::time::interval(follow.batch_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let outcome = loop {
        let received = batches.summary.changes + batches.pending.len() as u64;
        if follow.max_changes.is_some_and(|max| received >= max) {
            break Ok(());
        }
        tokio::select! {
            () = &mut stop => break Ok(()),
            _ = tick.tick() => {
                if !batches.pending.is_empty()
                    && let Err(error) = batches.flush(&live)
                {
                    break Err(error);
                }
            }
            change = live.next() => match change {
                Some(change) => {
                    batches.pending.push(change);
                    if batches.pending.len() >= follow.batch_changes
                        && let Err(error) = batches.flush(&live)
                    {
                        break Err(error);
                    }
                }
                None => {
                    break Err(anyhow::anyhow!(
                        "the event stream ended: {}",
                        live.failure().unwrap_or_else(|| "no reason given".into())
                    ));
                }
            },
        }
    };
    // Stopped first (the sink deleted), then drained: the last batch's
    // state and its changes agree.
    live.stop().await;
    while let Some(change) = live.next().await {
        batches.pending.push(change);
    }
    let last = if batches.pending.is_empty() {
        Ok(())
    } else {
        batches.flush(&live)
    };
    outcome.and(last).map(|()| batches.summary)
}

/// The open destination, the home to write, and the changes waiting.
struct Batches<'a> {
    writer: Writer,
    context: Context,
    /// Every device, by id (in a stable order, so that an unchanged table
    /// is not rewritten).
    devices: BTreeMap<String, DeviceSnapshot>,
    options: &'a ExportOptions,
    pending: Vec<Change>,
    summary: FollowSummary,
}

impl Batches<'_> {
    /// Write the waiting changes and the live state as the next batch.
    fn flush(&mut self, live: &LiveHome) -> Result<()> {
        let at = Utc::now();
        let batch = self.summary.batches as i64 + 1;
        let load_id = self.summary.initial.load_id;
        let rows: Vec<_> = self
            .pending
            .iter()
            .map(|change| tables::event_row(change, at, load_id, batch))
            .collect();
        let current = live.devices();
        let ids: HashSet<&str> = current.iter().map(DeviceSnapshot::id).collect();
        for change in &self.pending {
            if change.kind == ChangeKind::Removed && !ids.contains(change.device_id.as_str()) {
                self.devices.remove(&change.device_id);
            }
        }
        for device in current {
            self.devices.insert(device.id().to_owned(), device);
        }
        self.context.snapshot.devices = self.devices.values().cloned().collect();
        self.writer.batch(self.options, &self.context, &rows, at)?;
        for change in self.pending.drain(..) {
            self.summary.changes += 1;
            match change.origin {
                Origin::Stream => self.summary.streamed += 1,
                Origin::Reconciled => self.summary.reconciled += 1,
            }
        }
        self.summary.batches += 1;
        Ok(())
    }
}
