//! Helpers for values and batches: reading cells out of a columnar batch,
//! building batches from rows, quoting identifiers.

use crate::{Batch, Column, ColumnValues, Value};

/// The value of row `row` in `column`, as a [`Value`] (NULL-aware).
pub fn cell(column: &Column, row: usize) -> Value {
    if column.nulls.binary_search(&(row as u32)).is_ok() {
        return Value::Null;
    }
    match &column.values {
        ColumnValues::Boolean(v) => Value::Boolean(v[row]),
        ColumnValues::Int(v) => Value::Int(v[row]),
        ColumnValues::Uint(v) => Value::Uint(v[row]),
        ColumnValues::Float(v) => Value::Float(v[row]),
        ColumnValues::Decimal(v) => Value::Decimal(v[row].clone()),
        ColumnValues::Text(v) => Value::Text(v[row].clone()),
        ColumnValues::Bytes(v) => Value::Bytes(v[row].clone()),
        ColumnValues::Json(v) => Value::Json(v[row].clone()),
        ColumnValues::Timestamp(v) => Value::Timestamp(v[row]),
        ColumnValues::Timestamptz(v) => Value::Timestamptz(v[row]),
        ColumnValues::Date(v) => Value::Date(v[row]),
        ColumnValues::Time(v) => Value::Time(v[row]),
        ColumnValues::Uuid(v) => Value::Uuid(v[row]),
        ColumnValues::Vector(v) => Value::Vector(v[row].clone()),
        ColumnValues::Mixed(v) => v[row].clone(),
    }
}

/// Builds a batch from rows of values; every column becomes `mixed`.
/// Convenient for small results; stream sources with many rows should build
/// typed columns directly.
pub fn batch_from_rows(rows: Vec<Vec<Value>>) -> Batch {
    let width = rows.first().map_or(0, Vec::len);
    let mut columns: Vec<Vec<Value>> = (0..width).map(|_| Vec::with_capacity(rows.len())).collect();
    let row_count = rows.len() as u32;
    for row in rows {
        for (i, v) in row.into_iter().enumerate() {
            columns[i].push(v);
        }
    }
    Batch {
        row_count,
        columns: columns
            .into_iter()
            .map(|values| Column {
                nulls: values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| matches!(v, Value::Null))
                    .map(|(i, _)| i as u32)
                    .collect(),
                values: ColumnValues::Mixed(values),
            })
            .collect(),
    }
}

/// Every row of `batch` as a vector of values.
pub fn rows(batch: &Batch) -> Vec<Vec<Value>> {
    (0..batch.row_count as usize)
        .map(|r| batch.columns.iter().map(|c| cell(c, r)).collect())
        .collect()
}

/// Quotes an identifier with `"` (SQLite, PostgreSQL), doubling embedded quotes.
pub fn quote_double(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes an identifier with backticks (MySQL, MariaDB).
pub fn quote_backtick(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// The value as `i64` when it is an integer.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Uint(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

/// The value as text when it is text-like.
pub fn as_str(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => Some(s),
        _ => None,
    }
}
