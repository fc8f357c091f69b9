//! The snapshot flattened into tables: the one place that decides which
//! columns exist and what goes in them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use smartthings_ext::{DeviceSnapshot, Snapshot};

/// A column's SQL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// VARCHAR.
    Text,
    /// DOUBLE.
    Number,
    /// BIGINT.
    Integer,
    /// BOOLEAN.
    Boolean,
    /// TIMESTAMPTZ (written from RFC 3339 text).
    Timestamp,
    /// JSON text in a VARCHAR column named `*_json`.
    Json,
}

impl Kind {
    /// The DuckDB type.
    pub fn sql(self) -> &'static str {
        match self {
            Kind::Text | Kind::Json => "VARCHAR",
            Kind::Number => "DOUBLE",
            Kind::Integer => "BIGINT",
            Kind::Boolean => "BOOLEAN",
            Kind::Timestamp => "TIMESTAMPTZ",
        }
    }
}

/// A column: (name, type, description).
pub type Column = (&'static str, Kind, &'static str);

/// A table's definition: name, columns, natural key.
#[derive(Debug)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// (column, type, description).
    pub columns: &'static [Column],
    /// The natural key: rows are upserted by it.
    pub key: &'static [&'static str],
}

impl Table {
    /// A row's natural key as one string (the key columns' text, joined by
    /// the ASCII unit separator, which no id contains).
    pub fn key_of(&self, row: &Value) -> String {
        self.key
            .iter()
            .map(|k| cell_text(&row[*k]))
            .collect::<Vec<_>>()
            .join("\u{1f}")
    }
}

/// A JSON value as plain text (strings unquoted, null empty).
pub(crate) fn cell_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The one text form of a timestamp in every destination: UTC, at most
/// microseconds (what DuckDB and Parquet store), so a value reads back as
/// it was written and an unchanged row compares equal between runs.
pub fn stamp(t: DateTime<Utc>) -> String {
    DateTime::from_timestamp_micros(t.timestamp_micros())
        .unwrap_or(t)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The run log: one row per load, in every destination.
pub const LOADS: Table = Table {
    name: "loads",
    columns: &[
        ("load_id", Kind::Integer, "1, 2, ..."),
        ("dataset", Kind::Text, "the dataset name"),
        ("started_at", Kind::Timestamp, "when the run started"),
        ("finished_at", Kind::Timestamp, "when it finished"),
        ("duration_ms", Kind::Integer, "how long it took"),
        ("locations", Kind::Integer, "locations in the snapshot"),
        ("devices", Kind::Integer, "devices in the snapshot"),
        ("status_rows", Kind::Integer, "status rows in the snapshot"),
        (
            "changed_status_rows",
            Kind::Integer,
            "status rows written because new or changed",
        ),
        (
            "removed_devices",
            Kind::Integer,
            "devices newly marked removed",
        ),
        ("requests", Kind::Integer, "HTTP requests the run made"),
        (
            "undecoded_devices",
            Kind::Integer,
            "devices listed but not decodable: kept as last loaded, not removed",
        ),
    ],
    key: &["load_id"],
};

/// Every change `--follow` applied, appended batch by batch, and the
/// events `--events-since` read from the device history (DuckDB: a table;
/// directories: `device_events/part-NNNNNN.<ext>`, one file per batch or
/// history chunk). Not written by a plain load.
pub const EVENTS: Table = Table {
    name: "device_events",
    columns: &[
        ("device_id", Kind::Text, "device id"),
        (
            "kind",
            Kind::Text,
            "attribute, health, added, removed, or undecoded (a history item that did not decode)",
        ),
        ("component", Kind::Text, "component id (attribute changes)"),
        (
            "capability",
            Kind::Text,
            "capability id (attribute changes)",
        ),
        (
            "attribute",
            Kind::Text,
            "attribute name (attribute changes)",
        ),
        (
            "value_json",
            Kind::Json,
            "the new value as JSON (the state, for health changes; the item as sent, when undecoded)",
        ),
        (
            "value_number",
            Kind::Number,
            "the new value, when it is a number",
        ),
        (
            "value_string",
            Kind::Text,
            "the new value, when it is a string",
        ),
        (
            "value_boolean",
            Kind::Boolean,
            "the new value, when it is a boolean",
        ),
        (
            "previous_json",
            Kind::Json,
            "the value before, as JSON, if known",
        ),
        (
            "origin",
            Kind::Text,
            "stream (delivered by the event stream), reconciled (found by re-reading the home) or history (read from the device history)",
        ),
        ("received_at", Kind::Timestamp, "when the row was written"),
        (
            "load_id",
            Kind::Integer,
            "the load the follow started with, or whose run read the history (its `loads` row)",
        ),
        (
            "batch",
            Kind::Integer,
            "the follow's batch: 1, 2, ... (NULL for history rows)",
        ),
        ("unit", Kind::Text, "the new value's unit, if it has one"),
        (
            "event_time",
            Kind::Timestamp,
            "when it happened, by the server's clock (NULL when the server gave no time)",
        ),
    ],
    key: &[],
};

/// Where each location's device history has been read up to: the
/// `(epoch, hash)` cursor of the newest event `--events-since` appended to
/// `device_events`, the next run's starting point.
pub const HISTORY_CURSORS: Table = Table {
    name: "history_cursors",
    columns: &[
        ("location_id", Kind::Text, "location id"),
        (
            "epoch",
            Kind::Integer,
            "the newest event read: its time in epoch milliseconds",
        ),
        (
            "hash",
            Kind::Integer,
            "the newest event read: its hash (tells apart events of one millisecond)",
        ),
        (
            "event_time",
            Kind::Timestamp,
            "the newest event read: its time",
        ),
        ("load_id", Kind::Integer, "the load whose run read it"),
    ],
    key: &["location_id"],
};

/// The columns every `device_events` row starts from, all null but these.
fn event_base(device_id: Option<&str>, origin: &str, at: DateTime<Utc>, load_id: i64) -> Value {
    let mut row = serde_json::Map::with_capacity(EVENTS.columns.len());
    for (column, _, _) in EVENTS.columns {
        row.insert((*column).to_owned(), Value::Null);
    }
    row.insert("device_id".into(), json!(device_id));
    row.insert("origin".into(), json!(origin));
    row.insert("received_at".into(), json!(stamp(at)));
    row.insert("load_id".into(), json!(load_id));
    Value::Object(row)
}

/// The value columns of a new value.
fn set_value(row: &mut Value, value: &Value) {
    row["value_json"] = json!(value.to_string());
    row["value_number"] = json!(value.as_f64());
    row["value_string"] = json!(value.as_str());
    row["value_boolean"] = json!(value.as_bool());
}

/// One change as a `device_events` row: learnt by the follow that started
/// with load `load_id`, written in its batch `batch` at `at`.
pub fn event_row(
    change: &smartthings_ext::Change,
    at: DateTime<Utc>,
    load_id: i64,
    batch: i64,
) -> Value {
    use smartthings_ext::{ChangeKind, Origin};
    let origin = match change.origin {
        Origin::Stream => "stream",
        Origin::Reconciled => "reconciled",
    };
    let mut row = event_base(Some(&change.device_id), origin, at, load_id);
    row["batch"] = json!(batch);
    row["event_time"] = json!(change.time.map(stamp));
    match &change.kind {
        ChangeKind::Attribute {
            component,
            capability,
            attribute,
            value,
            previous,
            unit,
        } => {
            row["kind"] = json!("attribute");
            row["component"] = json!(component);
            row["capability"] = json!(capability);
            row["attribute"] = json!(attribute);
            row["unit"] = json!(unit);
            set_value(&mut row, value);
            row["previous_json"] = previous
                .as_ref()
                .map_or(Value::Null, |v| json!(v.to_string()));
        }
        ChangeKind::Health { state } => {
            row["kind"] = json!("health");
            set_value(&mut row, &json!(state.as_str()));
        }
        ChangeKind::Added => row["kind"] = json!("added"),
        ChangeKind::Removed => row["kind"] = json!("removed"),
        _ => row["kind"] = json!("other"),
    }
    row
}

/// One device history event as a `device_events` row (`origin` history),
/// read by the run of load `load_id` and written at `at`.
pub fn history_row(
    event: &smartthings_ext::types::DeviceActivity,
    at: DateTime<Utc>,
    load_id: i64,
) -> Value {
    let mut row = event_base(event.device_id.as_deref(), "history", at, load_id);
    row["kind"] = json!("attribute");
    row["component"] = json!(event.component);
    row["capability"] = json!(event.capability);
    row["attribute"] = json!(event.attribute);
    row["unit"] = json!(event.unit);
    set_value(&mut row, event.value.as_ref().unwrap_or(&Value::Null));
    let time = event
        .epoch
        .and_then(DateTime::from_timestamp_millis)
        .or_else(|| {
            let time = event.time.as_deref()?;
            Some(DateTime::parse_from_rfc3339(time).ok()?.to_utc())
        });
    row["event_time"] = json!(time.map(stamp));
    row
}

/// A history item that did not decode, kept as sent: a `device_events` row
/// of kind `undecoded` whose `value_json` is the item.
pub fn undecoded_history_row(raw: &Value, at: DateTime<Utc>, load_id: i64) -> Value {
    let mut row = event_base(raw["deviceId"].as_str(), "history", at, load_id);
    row["kind"] = json!("undecoded");
    row["value_json"] = json!(raw.to_string());
    row["event_time"] = json!(
        raw["epoch"]
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .map(stamp)
    );
    row
}

/// Where `--history` keeps the status rows each load found new or changed.
pub const HISTORY: &str = "device_status_history";

/// The column the history adds to `device_status`'s.
pub const LOADED_AT: Column = ("loaded_at", Kind::Timestamp, "the load that saw the change");

/// The history's columns: `device_status`'s, then [`LOADED_AT`].
pub fn history_columns() -> Vec<Column> {
    [table("device_status").columns, &[LOADED_AT]].concat()
}

/// Every table the export writes, with its documented columns.
pub const TABLES: &[Table] = &[
    Table {
        name: "locations",
        columns: &[
            ("location_id", Kind::Text, "location id"),
            ("name", Kind::Text, "name"),
            ("country_code", Kind::Text, "ISO 3166-1 alpha-3"),
            ("latitude", Kind::Number, "latitude"),
            ("longitude", Kind::Number, "longitude"),
            ("temperature_scale", Kind::Text, "F or C"),
            ("time_zone_id", Kind::Text, "IANA time zone"),
            ("raw_json", Kind::Json, "the object as the API sent it"),
        ],
        key: &["location_id"],
    },
    Table {
        name: "rooms",
        columns: &[
            ("room_id", Kind::Text, "room id"),
            ("location_id", Kind::Text, "its location"),
            ("name", Kind::Text, "name"),
            ("raw_json", Kind::Json, "the object as the API sent it"),
        ],
        key: &["room_id"],
    },
    Table {
        name: "devices",
        columns: &[
            ("device_id", Kind::Text, "device id"),
            ("label", Kind::Text, "user label"),
            ("name", Kind::Text, "device type name"),
            ("type", Kind::Text, "integration type (VIPER, ZWAVE, ...)"),
            ("manufacturer_name", Kind::Text, "manufacturer"),
            ("location_id", Kind::Text, "its location"),
            ("room_id", Kind::Text, "its room"),
            (
                "removed",
                Kind::Boolean,
                "true once a load no longer sees the device",
            ),
            ("removed_at", Kind::Timestamp, "when a load first missed it"),
            (
                "raw_json",
                Kind::Json,
                "the object as the API sent it (without status)",
            ),
        ],
        key: &["device_id"],
    },
    Table {
        name: "components",
        columns: &[
            ("device_id", Kind::Text, "device id"),
            (
                "component_id",
                Kind::Text,
                "component id (main, outlet1, ...)",
            ),
            ("label", Kind::Text, "label"),
            ("categories_json", Kind::Json, "categories"),
        ],
        key: &["device_id", "component_id"],
    },
    Table {
        name: "device_capabilities",
        columns: &[
            ("device_id", Kind::Text, "device id"),
            ("component_id", Kind::Text, "component id"),
            ("capability_id", Kind::Text, "capability id"),
            ("version", Kind::Integer, "capability version"),
        ],
        key: &["device_id", "component_id", "capability_id"],
    },
    Table {
        name: "device_status",
        columns: &[
            ("device_id", Kind::Text, "device id"),
            ("component_id", Kind::Text, "component id"),
            ("capability_id", Kind::Text, "capability id"),
            ("attribute", Kind::Text, "attribute name"),
            (
                "value_json",
                Kind::Json,
                "the value as JSON (null when the API sent null)",
            ),
            (
                "value_number",
                Kind::Number,
                "the value, when it is a number",
            ),
            ("value_string", Kind::Text, "the value, when it is a string"),
            (
                "value_boolean",
                Kind::Boolean,
                "the value, when it is a boolean",
            ),
            ("unit", Kind::Text, "unit"),
            ("data_json", Kind::Json, "the attribute's data object"),
            (
                "timestamp",
                Kind::Timestamp,
                "when the device reported the value",
            ),
        ],
        key: &["device_id", "component_id", "capability_id", "attribute"],
    },
    Table {
        name: "device_health",
        columns: &[
            ("device_id", Kind::Text, "device id"),
            ("state", Kind::Text, "ONLINE, OFFLINE, UNKNOWN, ..."),
            ("last_updated", Kind::Timestamp, "when the state changed"),
        ],
        key: &["device_id"],
    },
    Table {
        name: "scenes",
        columns: &[
            ("scene_id", Kind::Text, "scene id"),
            ("name", Kind::Text, "name"),
            ("location_id", Kind::Text, "its location"),
            ("last_executed", Kind::Timestamp, "last execution"),
            ("raw_json", Kind::Json, "the object as the API sent it"),
        ],
        key: &["scene_id"],
    },
    Table {
        name: "rules",
        columns: &[
            ("rule_id", Kind::Text, "rule id"),
            ("location_id", Kind::Text, "its location"),
            ("name", Kind::Text, "name"),
            ("execution_location", Kind::Text, "Cloud or Local"),
            ("raw_json", Kind::Json, "the object as the API sent it"),
        ],
        key: &["rule_id"],
    },
    Table {
        name: "capabilities",
        columns: &[
            ("capability_id", Kind::Text, "capability id"),
            ("version", Kind::Integer, "version"),
            ("status", Kind::Text, "lifecycle status"),
        ],
        key: &["capability_id", "version"],
    },
];

/// The table definition by name.
pub fn table(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .expect("a defined table")
}

/// Rows of every table, each row a JSON object keyed by column.
pub type Rows = Vec<(&'static str, Vec<Value>)>;

fn text(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

fn display<T: std::fmt::Display>(v: &Option<T>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s.to_string()))
}

fn raw(v: &impl serde::Serialize) -> Value {
    json!(serde_json::to_string(v).unwrap_or_default())
}

fn timestamp(raw: Option<&Value>) -> Value {
    raw.and_then(smartthings_ext::parse_timestamp)
        .map_or(Value::Null, |t| json!(stamp(t.to_utc())))
}

/// An attribute's `data` as JSON text, whatever its shape (the status
/// model keeps an object as a map, anything else among the unknown fields),
/// with an object's keys sorted: the text a previous load wrote for the
/// same data, so that an unchanged status is seen as unchanged.
fn data_json(state: &smartthings::status::Attribute) -> Option<String> {
    let data = match &state.data {
        Some(map) => Value::Object(map.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect()),
        None => state.other.get("data")?.clone(),
    };
    Some(data.to_string())
}

fn device_rows(d: &DeviceSnapshot, out: &mut Rows) {
    let device = &d.device;
    let id = json!(d.id());
    push(
        out,
        "devices",
        json!({
            "device_id": id, "label": text(&device.label), "name": text(&device.name),
            "type": display(&device.type_), "manufacturer_name": text(&device.manufacturer_name),
            "location_id": text(&device.location_id), "room_id": text(&device.room_id),
            "removed": false, "removed_at": null,
            "raw_json": raw(device),
        }),
    );
    for component in device.components.as_deref().unwrap_or_default() {
        let component_id = text(&component.id);
        push(
            out,
            "components",
            json!({
                "device_id": id, "component_id": component_id, "label": text(&component.label),
                "categories_json": raw(&component.categories),
            }),
        );
        for capability in component.capabilities.as_deref().unwrap_or_default() {
            push(
                out,
                "device_capabilities",
                json!({
                    "device_id": id, "component_id": component_id, "capability_id": text(&capability.id),
                    "version": capability.version,
                }),
            );
        }
    }
    for (component, capability, attribute, state) in d.status.attributes() {
        let value = state.value.clone().unwrap_or(Value::Null);
        push(
            out,
            "device_status",
            json!({
                "device_id": id, "component_id": component, "capability_id": capability, "attribute": attribute,
                "value_json": serde_json::to_string(&value).unwrap_or_default(),
                "value_number": value.as_f64(),
                "value_string": value.as_str(),
                "value_boolean": value.as_bool(),
                "unit": state.unit,
                "data_json": data_json(state),
                "timestamp": timestamp(state.raw_timestamp.as_ref()),
            }),
        );
    }
    if let Some(health) = &d.health {
        push(
            out,
            "device_health",
            json!({
                "device_id": id, "state": health.state.as_str(),
                "last_updated": timestamp(health.last_updated.as_ref().map(|s| json!(s)).as_ref()),
            }),
        );
    }
}

fn push(out: &mut Rows, table: &'static str, row: Value) {
    match out.iter_mut().find(|(t, _)| *t == table) {
        Some((_, rows)) => rows.push(row),
        None => out.push((table, vec![row])),
    }
}

/// Flatten a snapshot (plus rules and capability definitions) into rows.
pub fn rows(
    snapshot: &Snapshot,
    rules: &[(String, smartthings::types::Rule)],
    capabilities: &[smartthings::types::CapabilitySummary],
) -> Rows {
    let mut out: Rows = TABLES.iter().map(|t| (t.name, Vec::new())).collect();
    for l in &snapshot.locations {
        let location = &l.location;
        push(
            &mut out,
            "locations",
            json!({
                "location_id": text(&location.location_id), "name": text(&location.name),
                "country_code": text(&location.country_code), "latitude": location.latitude,
                "longitude": location.longitude, "temperature_scale": display(&location.temperature_scale),
                "time_zone_id": text(&location.time_zone_id), "raw_json": raw(location),
            }),
        );
        for room in &l.rooms {
            push(
                &mut out,
                "rooms",
                json!({
                    "room_id": text(&room.room_id), "location_id": text(&room.location_id),
                    "name": text(&room.name), "raw_json": raw(room),
                }),
            );
        }
        for scene in &l.scenes {
            push(
                &mut out,
                "scenes",
                json!({
                    "scene_id": text(&scene.scene_id), "name": text(&scene.scene_name),
                    "location_id": text(&scene.location_id),
                    "last_executed": timestamp(scene.last_executed_date.as_ref().map(|s| json!(s)).as_ref()),
                    "raw_json": raw(scene),
                }),
            );
        }
    }
    for device in &snapshot.devices {
        device_rows(device, &mut out);
    }
    for (location_id, rule) in rules {
        push(
            &mut out,
            "rules",
            json!({
                "rule_id": text(&rule.id), "location_id": location_id,
                "name": text(&rule.name), "execution_location": display(&rule.execution_location),
                "raw_json": raw(rule),
            }),
        );
    }
    for capability in capabilities {
        push(
            &mut out,
            "capabilities",
            json!({
                "capability_id": text(&capability.id), "version": capability.version.unwrap_or(1),
                "status": text(&capability.status),
            }),
        );
    }
    out
}

/// Rows of one table.
pub fn of<'r>(rows: &'r Rows, table: &str) -> &'r [Value] {
    rows.iter()
        .find(|(t, _)| *t == table)
        .map(|(_, r)| r.as_slice())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documentation_lists_every_table_and_column() {
        let doc = include_str!("../../../docs/export.md");
        for table in TABLES.iter().chain([&LOADS, &EVENTS, &HISTORY_CURSORS]) {
            assert!(
                doc.contains(&format!("### `{}`", table.name)),
                "{}",
                table.name
            );
            for (column, kind, _) in table.columns {
                let row = format!("| `{column}` | {}", kind.sql());
                assert!(
                    doc.contains(&row),
                    "docs/export.md lacks {}.{column}",
                    table.name
                );
            }
        }
    }

    /// "What is guaranteed" says the tables are written in the order the
    /// document lists them.
    #[test]
    fn the_documentation_lists_the_tables_in_the_order_they_are_written() {
        let doc = include_str!("../../../docs/export.md");
        let at: Vec<usize> = TABLES
            .iter()
            .chain([&LOADS])
            .map(|t| doc.find(&format!("### `{}`", t.name)).unwrap())
            .collect();
        assert!(at.is_sorted(), "{at:?}");
    }

    #[test]
    fn a_history_event_is_a_row_and_an_odd_one_is_kept_as_sent() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let event = serde_json::from_value(json!({
            "deviceId": "d1", "component": "main", "capability": "temperatureMeasurement",
            "attribute": "temperature", "value": 21.5, "unit": "C",
            "epoch": 1_764_576_000_123_i64, "hash": 7, "time": "2025-12-01T08:00:00.123Z",
        }))
        .unwrap();
        let row = history_row(&event, at, 3);
        assert_eq!(row["origin"], "history");
        assert_eq!(row["kind"], "attribute");
        assert_eq!(row["value_number"], 21.5);
        assert_eq!(row["unit"], "C");
        assert_eq!(row["event_time"], "2025-12-01T08:00:00.123Z");
        assert_eq!(row["batch"], Value::Null);
        assert_eq!(row["load_id"], 3);
        let columns: Vec<&str> = EVENTS.columns.iter().map(|c| c.0).collect();
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), columns.len());
        assert!(columns.iter().all(|c| keys.contains(c)));

        let odd = json!({"deviceId": "d2", "epoch": 1_764_576_000_000_i64, "value": {"x": 1}, "component": 5});
        let row = undecoded_history_row(&odd, at, 3);
        assert_eq!(row["kind"], "undecoded");
        assert_eq!(row["device_id"], "d2");
        let kept: Value = serde_json::from_str(row["value_json"].as_str().unwrap()).unwrap();
        assert_eq!(kept, odd);
        assert_eq!(row["event_time"], "2025-12-01T08:00:00Z");
    }

    #[test]
    fn timestamps_are_utc_and_at_most_microseconds() {
        let t = DateTime::parse_from_rfc3339("2019-02-12T21:46:09.422123456+09:00").unwrap();
        assert_eq!(stamp(t.to_utc()), "2019-02-12T12:46:09.422123Z");
        let t = DateTime::parse_from_rfc3339("2019-02-12T21:46:09.422Z").unwrap();
        assert_eq!(stamp(t.to_utc()), "2019-02-12T21:46:09.422Z");
    }

    /// The status model keeps a `data` object in the server's key order;
    /// the column is written with sorted keys, as loads before it wrote
    /// them, so that an unchanged status is not a change.
    #[test]
    fn data_is_written_with_sorted_keys_whatever_its_shape() {
        let attribute = |data: Value| -> smartthings::status::Attribute {
            serde_json::from_value(json!({"value": 1, "data": data})).unwrap()
        };
        let object = attribute(json!({"protocol": "cloud", "deviceScheme": "UNTRACKED"}));
        assert_eq!(
            data_json(&object).as_deref(),
            Some(r#"{"deviceScheme":"UNTRACKED","protocol":"cloud"}"#)
        );
        assert_eq!(
            data_json(&attribute(json!("odd"))).as_deref(),
            Some(r#""odd""#)
        );
        assert_eq!(data_json(&attribute(json!(null))).as_deref(), Some("null"));
        let none: smartthings::status::Attribute =
            serde_json::from_value(json!({"value": 1})).unwrap();
        assert_eq!(data_json(&none), None);
    }
}
