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
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml => print!("{}", serde_yaml::to_string(value)?),
        Format::Table => println!("{}", table()),
    }
    Ok(())
}

/// A cell for any JSON value: strings bare, absent as empty.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
