//! Tables for people, JSON or YAML for scripts.

use std::io::IsTerminal;

use anyhow::Result;
use comfy_table::{Table, presets};
use serde_json::Value;

use crate::cli::{Format, Global};

/// The format in force: the flags, else a table on a terminal, else JSON.
pub fn format(global: &Global) -> Format {
    match (global.output, global.json, global.yaml) {
        (Some(format), _, _) => format,
        (None, true, _) => Format::Json,
        (None, _, true) => Format::Yaml,
        (None, false, false) if std::io::stdout().is_terminal() => Format::Table,
        _ => Format::Json,
    }
}

/// A table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header(header.to_vec());
    table
}

/// Print `value` as JSON or YAML, or `table()` as a table.
pub fn emit(format: Format, value: &Value, table: impl FnOnce() -> Table) -> Result<()> {
    match format {
        Format::Json => line(serde_json::to_string_pretty(value)?),
        Format::Yaml => line(serde_yaml::to_string(value)?.trim_end()),
        Format::Table => line(table()),
    }
}

/// Print one line on standard output. A reader that went away
/// (`st devices | head -1`) is a [`StdoutClosed`] error, which `main` ends
/// quietly on, where `println!` would panic.
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => anyhow::Error::new(StdoutClosed),
            _ => anyhow::Error::new(e).context("cannot write to standard output"),
        })
}

/// Standard output was closed by its reader. Its own type, so that a broken
/// connection to the server (also `BrokenPipe` deep down) is never taken
/// for it.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Whether `error` is standard output closed by its reader.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<StdoutClosed>().is_some()
}

/// A cell for any JSON value: strings bare, absent as empty.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_stdout_counts_as_a_closed_pipe() {
        let ours = anyhow::Error::new(StdoutClosed);
        assert!(is_closed_pipe(&ours));
        // A server that drops the connection: BrokenPipe too, deep down.
        let network = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("the connection failed");
        assert!(!is_closed_pipe(&network));
    }
}
