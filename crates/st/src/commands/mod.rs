//! What each command does: one module per area of the command line.

mod capabilities;
mod config;
mod devices;
mod events;
mod export;
mod history;
mod hubs;
mod locations;
mod login;
mod modes;
mod rooms;
mod rules;
mod scenes;
mod snapshot;
mod virtual_devices;

use std::io::IsTerminal;

use anyhow::Result;
use clap::CommandFactory;
use serde_json::{Value, json};

use crate::cli::{
    CapabilityAction, Cli, Command, Format, HubAction, LocationAction, ModeAction, RoomAction,
    RuleAction, SceneAction, VirtualDeviceAction,
};
use crate::output::{emit, table};
use crate::session;

/// A request the command line refuses before doing anything (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "st", &mut std::io::stdout());
            return Ok(());
        }
        Command::Config { action } => return config::run(&cli.global.profile, action).await,
        Command::Login(args) => return login::login(&cli.global, args).await,
        Command::Logout => return login::logout(&cli.global.profile).await,
        _ => {}
    }
    let destination = match &cli.command {
        Command::Export { to, format, .. } => Some(export::destination(to.as_deref(), *format)?),
        _ => None,
    };
    // A usage error, like the destination: before any token is needed.
    let events_since = match &cli.command {
        Command::Export {
            events_since: Some(since),
            ..
        } => Some(history::instant(since, chrono::Utc::now())?),
        _ => None,
    };
    let session = session::connect(&cli).await?;
    let (c, format) = (&session.client, session.format);
    match &cli.command {
        Command::Devices(args) => devices::run(c, format, args).await,
        Command::Locations { action } => {
            locations::run(c, format, action.as_ref().unwrap_or(&LocationAction::List)).await
        }
        Command::Rooms {
            location_id,
            action,
        } => {
            rooms::run(
                c,
                format,
                location_id,
                action.as_ref().unwrap_or(&RoomAction::List),
            )
            .await
        }
        Command::Scenes { location, action } => {
            scenes::run(
                c,
                format,
                location.as_deref(),
                action.as_ref().unwrap_or(&SceneAction::List),
            )
            .await
        }
        Command::Rules { location, action } => {
            rules::run(
                c,
                format,
                location,
                action.as_ref().unwrap_or(&RuleAction::List),
            )
            .await
        }
        Command::Capabilities { action } => {
            capabilities::run(
                c,
                format,
                action.as_ref().unwrap_or(&CapabilityAction::List),
            )
            .await
        }
        Command::VirtualDevices { location, action } => {
            virtual_devices::run(
                c,
                format,
                location.as_deref(),
                action.as_ref().unwrap_or(&VirtualDeviceAction::List),
            )
            .await
        }
        Command::Hubs { hub_id, action } => {
            hubs::run(
                c,
                format,
                hub_id,
                action.as_ref().unwrap_or(&HubAction::Get),
            )
            .await
        }
        Command::Modes {
            location_id,
            action,
        } => {
            modes::run(
                c,
                format,
                location_id,
                action.as_ref().unwrap_or(&ModeAction::List),
            )
            .await
        }
        Command::Events(args) => events::run(c, format, args).await,
        Command::Snapshot => snapshot::run(c, format).await,
        Command::Export {
            dataset,
            history,
            follow,
            location,
            count,
            ..
        } => {
            let destination = destination.as_ref().expect("resolved above");
            let follow = follow.then(|| export::Follow {
                location: location.clone(),
                count: *count,
            });
            let options = smartthings_export::ExportOptions::default()
                .dataset(dataset)
                .history(*history);
            let options = match events_since.and_then(chrono::DateTime::from_timestamp_millis) {
                Some(since) => options.events_since(since),
                None => options,
            };
            export::run(c, format, destination, options, follow).await
        }
        Command::Config { .. }
        | Command::Completions { .. }
        | Command::Login(_)
        | Command::Logout => unreachable!("handled above"),
    }
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The confirmation of a delete, in any format.
fn deleted(format: Format, what: &str, id: &str) -> Result<()> {
    emit(format, &json!({"deleted": id}), || {
        let mut t = table(&[&format!("Deleted {what}")]);
        t.add_row(vec![id.to_owned()]);
        t
    })
}

/// Ctrl-C (SIGINT), listened for from this call on: one that arrives
/// before the future is first polled is not lost (nor does it kill the
/// process, as it would before any listener exists).
fn interrupted() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
            return Box::pin(async move {
                sigint.recv().await;
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos}/{len} devices")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}
