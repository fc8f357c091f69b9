//! `--follow`: after a load, keep the destination current from the event
//! stream. Every change a [`LiveHome`] reports — delivered by the stream or
//! found by reconciling — is appended to `device_events`, and the home is
//! written again from the live state batch by batch, so `device_status`
//! stays equal to the home without polling.

use std::time::Duration;

use anyhow::Result;
use chrono::Utc;
use futures::StreamExt;
use smartthings_ext::{EventSubscription, LiveHome, LiveOptions, Origin, SmartThings};

use crate::{Destination, ExportOptions, LoadSummary, append_events, load, tables, write_home};

/// How `follow` batches its writes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FollowOptions {
    /// Write when this many changes are waiting (default 500).
    pub batch_changes: usize,
    /// Write at least this often while changes are waiting (default 1 s).
    pub batch_interval: Duration,
    /// Stop after this many changes (default: until `stop`).
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
    /// Stop after this many changes.
    pub fn max_changes(mut self, changes: Option<u64>) -> Self {
        self.max_changes = changes;
        self
    }
}

/// What `follow` did.
#[derive(Clone, Debug)]
pub struct FollowSummary {
    /// The load it started with.
    pub initial: LoadSummary,
    /// Changes written to `device_events`.
    pub changes: u64,
    /// Of which delivered by the event stream.
    pub streamed: u64,
    /// Of which found by reconciling.
    pub reconciled: u64,
    /// Batches written.
    pub batches: u64,
}

impl std::fmt::Display for FollowSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; then {} changes ({} streamed, {} reconciled) in {} batches",
            self.initial, self.changes, self.streamed, self.reconciled, self.batches
        )
    }
}

/// Load the home, then keep `destination` current from the event stream
/// until `stop` completes (or `max_changes`).
pub async fn follow(
    client: &SmartThings,
    destination: &Destination,
    options: &ExportOptions,
    subscription: EventSubscription,
    follow: FollowOptions,
    stop: impl Future<Output = ()>,
) -> Result<FollowSummary> {
    let (initial, mut context) = load(client, destination, options).await?;
    let mut live = LiveHome::start(client, subscription, LiveOptions::default()).await?;
    let mut summary = FollowSummary {
        initial,
        changes: 0,
        streamed: 0,
        reconciled: 0,
        batches: 0,
    };
    let mut pending = Vec::new();
    let mut batch: i64 = 0;
    tokio::pin!(stop);
    let mut flush = |live: &LiveHome,
                     pending: &mut Vec<smartthings_ext::Change>,
                     summary: &mut FollowSummary|
     -> Result<()> {
        batch += 1;
        let at = Utc::now();
        let rows: Vec<_> = pending
            .iter()
            .map(|change| tables::event_row(change, at, batch))
            .collect();
        append_events(destination, options, &rows)?;
        context.snapshot.devices = live.devices();
        write_home(destination, options, &context, at, 0)?;
        for change in pending.drain(..) {
            summary.changes += 1;
            match change.origin {
                Origin::Stream => summary.streamed += 1,
                Origin::Reconciled => summary.reconciled += 1,
            }
        }
        summary.batches += 1;
        Ok(())
    };
    // What changed between the load and the stream's start.
    flush(&live, &mut pending, &mut summary)?;
    let mut tick = tokio::time::interval(follow.batch_interval);
    tick.tick().await;
    let outcome = loop {
        let limit_reached = follow
            .max_changes
            .is_some_and(|max| summary.changes + pending.len() as u64 >= max);
        if limit_reached {
            break Ok(());
        }
        tokio::select! {
            () = &mut stop => break Ok(()),
            _ = tick.tick() => {
                if !pending.is_empty()
                    && let Err(error) = flush(&live, &mut pending, &mut summary)
                {
                    break Err(error);
                }
            }
            change = live.next() => match change {
                Some(change) => {
                    pending.push(change);
                    if pending.len() >= follow.batch_changes
                        && let Err(error) = flush(&live, &mut pending, &mut summary)
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
    // Stopped first, then drained: the last write's state and its changes
    // agree.
    live.stop().await;
    while let Some(change) = live.next().await {
        pending.push(change);
    }
    let last = if pending.is_empty() {
        Ok(())
    } else {
        flush(&live, &mut pending, &mut summary)
    };
    outcome.and(last).map(|()| summary)
}
