//! `st`: the SmartThings command line.

mod cli;
mod commands;
mod config;
mod output;
mod session;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use smartthings_ext::ErrorKind;

use cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.global.verbose > 0 {
        let level = if cli.global.verbose > 1 {
            tracing::Level::TRACE
        } else {
            tracing::Level::DEBUG
        };
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has all it wanted (`st devices | head -1`).
        Err(error) if output::is_closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(api) = error.downcast_ref::<smartthings_ext::Error>()
                && api.kind() == ErrorKind::Reauthorize
            {
                // One line: what happened, and the one thing to do.
                eprintln!("error: the SmartThings login has ended ({api}); run `st login` again");
                return ExitCode::from(3);
            }
            let (code, hint) = classify(&error);
            eprintln!("error: {error:#}");
            if let Some(hint) = hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(code)
        }
    }
}

/// The exit code and a hint for an error (see `st --help`).
fn classify(error: &anyhow::Error) -> (u8, Option<String>) {
    if error.downcast_ref::<commands::UsageError>().is_some() {
        return (2, None);
    }
    let Some(api) = error.downcast_ref::<smartthings_ext::Error>() else {
        return (1, None);
    };
    match api.kind() {
        ErrorKind::Unauthorized => (
            3,
            Some("the token is missing, invalid or expired: create one at https://account.smartthings.com/tokens and pass it with --token or SMARTTHINGS_TOKEN".into()),
        ),
        ErrorKind::Forbidden => (3, Some("the token lacks the scope for this call (e.g. r:devices:* or x:devices:*)".into())),
        ErrorKind::NotFound => (4, Some("check the id; `st devices` and `st locations` list what this token can see".into())),
        ErrorKind::RateLimited => (
            5,
            Some(match api.retry_after() {
                Some(wait) => format!("rate limited after {} attempts: retry in {:.0} s", api.attempts(), wait.as_secs_f64().ceil()),
                None => "rate limited: retry later".into(),
            }),
        ),
        ErrorKind::Validation if api.status().is_none() => (2, None),
        ErrorKind::Config => (2, None),
        // Its message says what to do (stop the other stream, or wait).
        ErrorKind::SinkLimit => (5, None),
        ErrorKind::TokenStore => (1, Some("the session file could not be read or written: check its directory's permissions and free space".into())),
        ErrorKind::Transport | ErrorKind::Decode | ErrorKind::Pagination => (1, None),
        _ => (5, None),
    }
}
