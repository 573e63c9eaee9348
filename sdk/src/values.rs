//! Helpers for values and batches: reading cells out of a columnar batch,
//! building batches from rows, quoting identifiers.

use crate::{Batch, Column, ColumnValues, LogicalType, Value};

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

/// A value in its SQL text form, for findings and messages a person acts
/// on: `NULL`, numbers and text as themselves, bytes as `\x0aff`, UUIDs as
/// `8f3c…-…`, dates and times in ISO 8601 (`2024-03-01 12:00:00`, instants
/// with `+00`), vectors as `[1,2]`.
pub fn sql_text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Bytes(b) => {
            let mut s = String::from("\\x");
            for x in b {
                s.push_str(&format!("{x:02x}"));
            }
            s
        }
        Value::Uuid((hi, lo)) => {
            let h = format!("{hi:016x}{lo:016x}");
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        }
        Value::Date(d) => civil_date(i64::from(*d)),
        Value::Time(us) => clock(*us),
        Value::Timestamp(us) => {
            let (days, rest) = (us.div_euclid(DAY_US), us.rem_euclid(DAY_US));
            format!("{} {}", civil_date(days), clock(rest))
        }
        Value::Timestamptz(us) => {
            let (days, rest) = (us.div_euclid(DAY_US), us.rem_euclid(DAY_US));
            format!("{} {}+00", civil_date(days), clock(rest))
        }
        Value::Vector(v) => format!(
            "[{}]",
            v.iter().map(f32::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

const DAY_US: i64 = 86_400_000_000;

/// `YYYY-MM-DD` of days since 1970-01-01 (proleptic Gregorian; Howard
/// Hinnant's civil-from-days).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM:SS[.ffffff]` of microseconds since midnight.
fn clock(us: i64) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    let base = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

#[cfg(test)]
mod sql_text_tests {
    use super::*;

    #[test]
    fn values_print_as_sql_text() {
        assert_eq!(
            sql_text(&Value::Uuid((0x35c7_6b52_ee7a_4db3, 0x8a1f_0000_0000_0001))),
            "35c76b52-ee7a-4db3-8a1f-000000000001"
        );
        assert_eq!(sql_text(&Value::Bytes(vec![0, 255])), "\\x00ff");
        assert_eq!(sql_text(&Value::Date(19_783)), "2024-03-01");
        assert_eq!(
            sql_text(&Value::Timestamp(19_783 * DAY_US + 43_200_000_000)),
            "2024-03-01 12:00:00"
        );
        assert_eq!(sql_text(&Value::Date(-1)), "1969-12-31");
        assert_eq!(sql_text(&Value::Null), "NULL");
    }
}

/// The name of a value's kind (the tag of a tagged value).
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Float(_) => "float",
        Value::Decimal(_) => "decimal",
        Value::Text(_) => "text",
        Value::Bytes(_) => "bytes",
        Value::Json(_) => "json",
        Value::Timestamp(_) => "timestamp",
        Value::Timestamptz(_) => "timestamptz",
        Value::Date(_) => "date",
        Value::Time(_) => "time",
        Value::Uuid(_) => "uuid",
        Value::Vector(_) => "vector",
    }
}

/// The value kind a column of this type holds (`None` for `any`).
pub fn natural_kind(t: &LogicalType) -> Option<&'static str> {
    Some(match t {
        LogicalType::Boolean => "boolean",
        LogicalType::Int(_) => "int",
        LogicalType::Uint(_) => "uint",
        LogicalType::Float(_) => "float",
        LogicalType::Decimal(_) => "decimal",
        LogicalType::Text(_) => "text",
        LogicalType::Bytes(_) => "bytes",
        LogicalType::Json => "json",
        LogicalType::Timestamp => "timestamp",
        LogicalType::Timestamptz => "timestamptz",
        LogicalType::Date => "date",
        LogicalType::Time => "time",
        LogicalType::Uuid => "uuid",
        LogicalType::Vector(_) => "vector",
        LogicalType::Any => return None,
    })
}
