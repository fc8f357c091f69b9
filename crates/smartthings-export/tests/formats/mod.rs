//! The directory formats as the export tests read them: without the
//! crate's own reader (Parquet through the parquet crate's row API, JSON
//! Lines line by line).

// Each test binary that includes this module uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use parquet::file::reader::SerializedFileReader;
use serde_json::Value;
use smartthings_export::Destination;

#[derive(Clone, Copy, Debug)]
pub enum Format {
    Parquet,
    JsonLines,
}

impl Format {
    pub fn destination(self, dir: &Path) -> Destination {
        match self {
            Format::Parquet => Destination::Parquet(dir.to_owned()),
            Format::JsonLines => Destination::JsonLines(dir.to_owned()),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::JsonLines => "jsonl",
        }
    }

    pub fn file(self, dir: &Path, table: &str) -> PathBuf {
        dir.join(format!("{table}.{}", self.extension()))
    }

    /// A file's rows (none if it does not exist yet), read without the
    /// crate's own reader.
    pub fn rows(self, path: &Path) -> Vec<Value> {
        if !path.exists() {
            return Vec::new();
        }
        match self {
            Format::Parquet => SerializedFileReader::try_from(path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .into_iter()
                .map(|row| row.unwrap().to_json_value())
                .collect(),
            Format::JsonLines => std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect(),
        }
    }

    /// Every `device_events` row, part file by part file.
    pub fn events(self, dir: &Path) -> Vec<Value> {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(dir.join("device_events"))
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        parts.sort();
        for part in &parts {
            let name = part.file_name().unwrap().to_string_lossy();
            assert!(
                name.starts_with("part-") && name.ends_with(self.extension()),
                "{name}"
            );
        }
        parts.iter().flat_map(|part| self.rows(part)).collect()
    }
}
