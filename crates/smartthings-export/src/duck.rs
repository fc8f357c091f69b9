//! The DuckDB destination: one schema per dataset, rows upserted by their
//! natural keys, only when their content changed.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

use anyhow::{Context, Result};
use duckdb::Connection;
use duckdb::types::Value as Sql;
use serde_json::Value;

use crate::tables::{
    EVENTS, HISTORY, HISTORY_CURSORS, Kind, LOADED_AT, LOADS, Rows, TABLES, Table, of, stamp,
};
use crate::{LoadStats, Run};

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The content fingerprint of a row, stored beside it so that a re-run
/// rewrites only rows whose content changed. (`DefaultHasher::new()` uses
/// fixed keys: stable between runs of one build.)
fn fingerprint(row: &Value) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    row.to_string().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn sql_value(kind: Kind, value: &Value) -> Sql {
    match (kind, value) {
        (_, Value::Null) => Sql::Null,
        (Kind::Number, v) => v.as_f64().map_or(Sql::Null, Sql::Double),
        (Kind::Integer, v) => v.as_i64().map_or(Sql::Null, Sql::BigInt),
        (Kind::Boolean, v) => v.as_bool().map_or(Sql::Null, Sql::Boolean),
        (_, Value::String(s)) => Sql::Text(s.clone()),
        (_, other) => Sql::Text(other.to_string()),
    }
}

fn column_list(columns: &[crate::tables::Column]) -> String {
    columns
        .iter()
        .map(|(name, kind, _)| format!("{} {}", ident(name), kind.sql()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn create_tables(conn: &Connection, schema: &str, history: bool) -> Result<()> {
    let mut ddl = String::new();
    for table in TABLES {
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{} ({}, content_hash VARCHAR, first_loaded_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, PRIMARY KEY ({}));\n",
            table.name,
            column_list(table.columns),
            table.key.join(", ")
        ));
    }
    if history {
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{HISTORY} ({});\n",
            column_list(&crate::tables::history_columns())
        ));
    }
    ddl.push_str(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.{} ({}, PRIMARY KEY ({}));\n",
        LOADS.name,
        column_list(LOADS.columns),
        LOADS.key.join(", ")
    ));
    // A run log an older release created lacks the newer columns; their
    // value for its earlier loads is unknown (NULL).
    for (name, kind, _) in LOADS.columns {
        ddl.push_str(&format!(
            "ALTER TABLE {schema}.{} ADD COLUMN IF NOT EXISTS {} {};\n",
            LOADS.name,
            ident(name),
            kind.sql()
        ));
    }
    conn.execute_batch(&ddl).context("creating the tables")
}

fn existing(
    conn: &Connection,
    schema: &str,
    table: &Table,
) -> Result<HashMap<String, Option<String>>> {
    let key = table
        .key
        .iter()
        .map(|k| format!("CAST({k} AS VARCHAR)"))
        .collect::<Vec<_>>()
        .join(" || chr(31) || ");
    let mut statement = conn.prepare(&format!(
        "SELECT {key}, content_hash FROM {schema}.{}",
        table.name
    ))?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The staging type of a column: timestamps arrive as RFC 3339 text and
/// are cast on the way into the real table.
fn staging_sql(kind: Kind) -> &'static str {
    if kind == Kind::Timestamp {
        "VARCHAR"
    } else {
        kind.sql()
    }
}

fn cast(name: &str, kind: Kind) -> String {
    if kind == Kind::Timestamp {
        format!("CAST({} AS TIMESTAMPTZ)", ident(name))
    } else {
        ident(name)
    }
}

/// Where a load writes: the catalog (the database file) and the dataset's
/// schema, both spelled out so that a schema named like its file is never
/// ambiguous.
pub(crate) struct Place {
    catalog: String,
    dataset: String,
}

impl Place {
    fn schema(&self) -> String {
        format!("{}.{}", ident(&self.catalog), ident(&self.dataset))
    }
}

/// Fill a fresh staging table for `table` with `rows` (and, when given,
/// each row's content hash) through DuckDB's appender: a prepared INSERT
/// costs milliseconds per row, the appender microseconds. Timestamps are
/// staged as text, cast on the way into the real table. Returns the staging
/// table's qualified name.
fn stage<'r>(
    conn: &Connection,
    place: &Place,
    table: &Table,
    rows: impl Iterator<Item = (&'r Value, Option<&'r String>)>,
) -> Result<String> {
    let schema = place.schema();
    let staging = format!("_staging_{}", table.name);
    let staging_columns: Vec<String> = table
        .columns
        .iter()
        .map(|(name, kind, _)| format!("{} {}", ident(name), staging_sql(*kind)))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE {schema}.{} ({}, content_hash VARCHAR);",
        ident(&staging),
        staging_columns.join(", ")
    ))?;
    let mut appender = conn.appender_to_catalog_and_db(&staging, &place.catalog, &place.dataset)?;
    for (row, hash) in rows {
        let values = table
            .columns
            .iter()
            .map(|(name, kind, _)| sql_value(*kind, &row[*name]))
            .chain([hash.map_or(Sql::Null, |h| Sql::Text(h.clone()))]);
        appender.append_row(duckdb::appender_params_from_iter(values))?;
    }
    appender.flush()?;
    Ok(format!("{schema}.{}", ident(&staging)))
}

/// Upsert the rows whose content changed, through a staging table filled by
/// DuckDB's appender (one statement per table, not per row). Returns how
/// many rows changed.
fn upsert(
    conn: &Connection,
    place: &Place,
    table: &Table,
    rows: &[Value],
    at: &str,
    history: bool,
) -> Result<usize> {
    let schema = place.schema();
    let known = existing(conn, &schema, table)?;
    let mut seen = HashSet::new();
    let changed: Vec<(&Value, String)> = rows
        .iter()
        .filter(|row| seen.insert(table.key_of(row)))
        .map(|row| (row, fingerprint(row)))
        .filter(|(row, hash)| known.get(&table.key_of(row)) != Some(&Some(hash.clone())))
        .collect();
    if changed.is_empty() {
        return Ok(0);
    }
    let staging = stage(
        conn,
        place,
        table,
        changed.iter().map(|(row, hash)| (*row, Some(hash))),
    )?;
    let names: Vec<String> = table.columns.iter().map(|(n, _, _)| ident(n)).collect();
    let casts: Vec<String> = table.columns.iter().map(|(n, k, _)| cast(n, *k)).collect();
    let updates: Vec<String> = table
        .columns
        .iter()
        .filter(|(n, _, _)| !table.key.contains(n))
        .map(|(n, _, _)| format!("{0} = excluded.{0}", ident(n)))
        .chain([
            "content_hash = excluded.content_hash".into(),
            "updated_at = excluded.updated_at".into(),
        ])
        .collect();
    conn.execute(
        &format!(
            "INSERT INTO {schema}.{} ({}, content_hash, first_loaded_at, updated_at) \
             SELECT {}, content_hash, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ) FROM {staging} \
             ON CONFLICT ({}) DO UPDATE SET {}",
            table.name,
            names.join(", "),
            casts.join(", "),
            table.key.join(", "),
            updates.join(", ")
        ),
        duckdb::params![at, at],
    )
    .with_context(|| format!("upserting into {}", table.name))?;
    if history && table.name == "device_status" {
        conn.execute(
            &format!(
                "INSERT INTO {schema}.{HISTORY} ({}, {}) SELECT {}, CAST(? AS TIMESTAMPTZ) FROM {staging}",
                names.join(", "),
                ident(LOADED_AT.0),
                casts.join(", "),
            ),
            duckdb::params![at],
        )?;
    }
    conn.execute_batch(&format!("DROP TABLE {staging};"))?;
    Ok(changed.len())
}

/// Append whole rows to `table`, through a staging table.
fn insert(conn: &Connection, place: &Place, table: &Table, rows: &[Value]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let staging = stage(conn, place, table, rows.iter().map(|row| (row, None)))?;
    let names: Vec<String> = table.columns.iter().map(|(n, _, _)| ident(n)).collect();
    let casts: Vec<String> = table.columns.iter().map(|(n, k, _)| cast(n, *k)).collect();
    conn.execute_batch(&format!(
        "INSERT INTO {}.{} ({}) SELECT {} FROM {staging}; DROP TABLE {staging};",
        place.schema(),
        table.name,
        names.join(", "),
        casts.join(", "),
    ))
    .with_context(|| format!("appending to {}", table.name))
}

/// Upsert every table of `rows` and mark the devices no longer listed, in
/// the caller's transaction.
fn write_tables(
    conn: &Connection,
    place: &Place,
    run: &Run,
    rows: &Rows,
    history: bool,
) -> Result<LoadStats> {
    let schema = place.schema();
    let at = stamp(run.started_at);
    let mut stats = LoadStats::default();
    for table in TABLES {
        let changed = upsert(conn, place, table, of(rows, table.name), &at, history)?;
        if table.name == "device_status" {
            stats.changed_status_rows = changed;
        }
    }
    // Devices no longer listed are marked, not deleted; clearing the hash
    // makes a device that comes back be written again.
    let current: HashSet<String> = of(rows, "devices")
        .iter()
        .filter_map(|d| d["device_id"].as_str().map(str::to_owned))
        .collect();
    let listed: Vec<String> = {
        let mut statement = conn.prepare(&format!(
            "SELECT device_id FROM {schema}.devices WHERE NOT removed"
        ))?;
        let ids = statement.query_map([], |row| row.get::<_, String>(0))?;
        ids.collect::<Result<_, _>>()?
    };
    let mut mark = conn.prepare(&format!(
        "UPDATE {schema}.devices SET removed = true, removed_at = CAST(? AS TIMESTAMPTZ), content_hash = NULL, updated_at = CAST(? AS TIMESTAMPTZ) WHERE device_id = ?"
    ))?;
    // A listed device that did not decode is still there: not removed.
    for id in listed
        .iter()
        .filter(|id| !current.contains(*id) && !run.undecoded.contains(*id))
    {
        mark.execute(duckdb::params![at, at, id])?;
        stats.removed_devices += 1;
    }
    stats.status_rows = of(rows, "device_status").len();
    stats.devices = current.len();
    stats.undecoded_devices = run.undecoded.len();
    stats.locations = of(rows, "locations").len();
    Ok(stats)
}

/// A database open for writing: by one load, or by a load and the follow
/// batches after it (DuckDB locks the file against other processes while
/// it is open).
pub(crate) struct Database {
    conn: Connection,
    place: Place,
    /// `device_events` exists with every column.
    events_ready: bool,
}

impl Database {
    /// Open (or create) the database and the dataset's schema.
    pub(crate) fn open(path: &Path, dataset: &str) -> Result<Self> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let catalog: String = conn.query_row("SELECT current_database()", [], |r| r.get(0))?;
        let place = Place {
            catalog,
            dataset: dataset.to_owned(),
        };
        conn.execute_batch(&format!("CREATE SCHEMA IF NOT EXISTS {};", place.schema()))?;
        Ok(Self {
            conn,
            place,
            events_ready: false,
        })
    }

    /// Write one load, in one transaction. Returns its counts and its
    /// `load_id`.
    pub(crate) fn load(&mut self, run: &Run, rows: &Rows) -> Result<(LoadStats, i64)> {
        let schema = self.place.schema();
        create_tables(&self.conn, &schema, run.history)?;
        let tx = self.conn.transaction()?;
        let stats = write_tables(&tx, &self.place, run, rows, run.history)?;
        let load_id: i64 = tx.query_row(
            &format!("SELECT COALESCE(MAX(load_id), 0) + 1 FROM {schema}.loads"),
            [],
            |r| r.get(0),
        )?;
        let load = crate::load_row(load_id, run, &stats);
        insert(&tx, &self.place, &LOADS, &[load])?;
        tx.commit()?;
        Ok((stats, load_id))
    }

    /// Create `device_events` (and `history_cursors`) once per open, with
    /// every column: a table an older release created lacks the newer ones.
    fn ensure_events(&mut self) -> Result<()> {
        if self.events_ready {
            return Ok(());
        }
        let schema = self.place.schema();
        let mut ddl = String::new();
        for table in [&EVENTS, &HISTORY_CURSORS] {
            ddl.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {schema}.{} ({});\n",
                table.name,
                column_list(table.columns)
            ));
            for (name, kind, _) in table.columns {
                ddl.push_str(&format!(
                    "ALTER TABLE {schema}.{} ADD COLUMN IF NOT EXISTS {} {};\n",
                    table.name,
                    ident(name),
                    kind.sql()
                ));
            }
        }
        self.conn
            .execute_batch(&ddl)
            .context("creating device_events")?;
        self.events_ready = true;
        Ok(())
    }

    /// Write one follow batch in one transaction: its `device_events` rows
    /// appended, the tables upserted from the live state. No history rows
    /// and no `loads` row: the events are the record of what changed.
    pub(crate) fn batch(&mut self, run: &Run, rows: &Rows, events: &[Value]) -> Result<()> {
        self.ensure_events()?;
        let tx = self.conn.transaction()?;
        insert(&tx, &self.place, &EVENTS, events).context("appending to device_events")?;
        write_tables(&tx, &self.place, run, rows, false)?;
        tx.commit().context("committing a follow batch")
    }

    /// Each location's history cursor: `(epoch, hash)` of the newest event
    /// read.
    pub(crate) fn history_cursors(&mut self) -> Result<HashMap<String, (i64, i64)>> {
        self.ensure_events()?;
        let mut statement = self.conn.prepare(&format!(
            "SELECT location_id, epoch, hash FROM {}.{} WHERE epoch IS NOT NULL AND hash IS NOT NULL",
            self.place.schema(),
            HISTORY_CURSORS.name
        ))?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Append history events and move their location's cursor past them,
    /// in one transaction: a cursor never passes an event not written.
    pub(crate) fn append_history(
        &mut self,
        events: &[Value],
        cursor: Option<&Value>,
    ) -> Result<()> {
        self.ensure_events()?;
        let schema = self.place.schema();
        let tx = self.conn.transaction()?;
        insert(&tx, &self.place, &EVENTS, events).context("appending to device_events")?;
        if let Some(cursor) = cursor {
            tx.execute(
                &format!(
                    "DELETE FROM {schema}.{} WHERE location_id = ?",
                    HISTORY_CURSORS.name
                ),
                [cursor["location_id"].as_str()],
            )?;
            insert(
                &tx,
                &self.place,
                &HISTORY_CURSORS,
                std::slice::from_ref(cursor),
            )
            .context("moving the history cursor")?;
        }
        tx.commit().context("committing history events")
    }
}
