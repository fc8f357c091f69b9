//! One table in one Parquet file, typed by the table's columns: text and
//! JSON as UTF-8, numbers as DOUBLE/INT64, booleans, and timestamps as
//! UTC microseconds (read by DuckDB as TIMESTAMPTZ), Snappy-compressed.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::DateTime;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

use crate::tables::{Column, Kind, stamp};

/// Rows per record batch: bounds the memory a large table takes to write.
const BATCH_ROWS: usize = 16 * 1024;

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Json => DataType::Utf8,
        Kind::Number => DataType::Float64,
        Kind::Integer => DataType::Int64,
        Kind::Boolean => DataType::Boolean,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

fn schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, kind, _)| Field::new(*name, data_type(*kind), true))
            .collect::<Vec<_>>(),
    ))
}

fn micros(value: &Value) -> Option<i64> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

fn array(kind: Kind, name: &str, rows: &[Value]) -> ArrayRef {
    let cells = rows.iter().map(|row| &row[name]);
    match kind {
        Kind::Text | Kind::Json => Arc::new(
            cells
                .map(|v| match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect::<StringArray>(),
        ),
        Kind::Number => Arc::new(cells.map(Value::as_f64).collect::<Float64Array>()),
        Kind::Integer => Arc::new(cells.map(Value::as_i64).collect::<Int64Array>()),
        Kind::Boolean => Arc::new(cells.map(Value::as_bool).collect::<BooleanArray>()),
        Kind::Timestamp => Arc::new(
            cells
                .map(micros)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
    }
}

/// Write `rows` (JSON objects keyed by column) to a new file at `path`.
pub(crate) fn write(path: &Path, columns: &[Column], rows: &[Value]) -> Result<()> {
    let schema = schema(columns);
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))?;
    for chunk in rows.chunks(BATCH_ROWS) {
        let arrays = columns
            .iter()
            .map(|(name, kind, _)| array(*kind, name, chunk))
            .collect();
        writer.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
    }
    writer
        .close()
        .with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}

fn cell(array: &dyn Array, kind: Kind, row: usize) -> Option<Value> {
    if array.is_null(row) {
        return Some(Value::Null);
    }
    Some(match kind {
        Kind::Text | Kind::Json => json!(array.as_string_opt::<i32>()?.value(row)),
        Kind::Number => json!(array.as_primitive_opt::<Float64Type>()?.value(row)),
        Kind::Integer => json!(array.as_primitive_opt::<Int64Type>()?.value(row)),
        Kind::Boolean => json!(array.as_boolean_opt()?.value(row)),
        Kind::Timestamp => {
            let micros = array
                .as_primitive_opt::<TimestampMicrosecondType>()?
                .value(row);
            json!(stamp(DateTime::from_timestamp_micros(micros)?))
        }
    })
}

/// Read a file written by [`write`] back into rows. A column the file lacks
/// reads as null (an older file); a column of another type is an error.
pub(crate) fn read(path: &Path, columns: &[Column]) -> Result<Vec<Value>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.build())
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.with_context(|| format!("cannot read {}", path.display()))?;
        let found: Vec<Option<&ArrayRef>> = columns
            .iter()
            .map(|(name, _, _)| batch.column_by_name(name))
            .collect();
        for row in 0..batch.num_rows() {
            let mut object = serde_json::Map::new();
            for ((name, kind, _), array) in columns.iter().zip(&found) {
                let value = match array {
                    None => Value::Null,
                    Some(array) => match cell(array.as_ref(), *kind, row) {
                        Some(value) => value,
                        None => bail!(
                            "{}: column {name} is {}, expected {}",
                            path.display(),
                            array.data_type(),
                            data_type(*kind)
                        ),
                    },
                };
                object.insert((*name).to_owned(), value);
            }
            rows.push(Value::Object(object));
        }
    }
    Ok(rows)
}
