//! Values on the host side: conversions between rows (what the host moves) and
//! columnar batches (what crosses into Wasm), size estimates, text renderings.
//!
//! The host uses the WIT `value` type itself as its in-memory cell type, so a
//! value read from a database reaches a target or a plugin without another
//! representation in between.

use crate::model::{Batch, Column, ColumnValues, Value};

/// Largest `batch_rows` accepted: bigger batches only cost memory.
pub const MAX_BATCH_ROWS: usize = 100_000;

/// Bytes a value occupies for batching purposes (payload plus a fixed overhead).
pub fn approx_size(v: &Value) -> usize {
    /// Per-cell overhead counted on top of the payload (enum tag, lengths).
    const CELL_OVERHEAD: usize = 16;
    CELL_OVERHEAD
        + match v {
            Value::Decimal(s) | Value::Text(s) | Value::Json(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::Vector(v) => v.len() * 4,
            _ => 8,
        }
}

/// Bytes of a row, see [`approx_size`].
pub fn row_size(row: &[Value]) -> usize {
    row.iter().map(approx_size).sum()
}

/// Builds a columnar batch from rows. A column whose non-NULL values share one
/// type becomes a typed column; anything else becomes `mixed`.
pub fn rows_to_batch(rows: Vec<Vec<Value>>, width: usize) -> Batch {
    let row_count = rows.len() as u32;
    let mut cols: Vec<Vec<Value>> = (0..width).map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (i, v) in row.into_iter().enumerate().take(width) {
            cols[i].push(v);
        }
    }
    Batch {
        row_count,
        columns: cols.into_iter().map(column_from_values).collect(),
    }
}

/// Turns one column's values into a typed (or mixed) [`Column`].
pub fn column_from_values(values: Vec<Value>) -> Column {
    let nulls: Vec<u32> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| matches!(v, Value::Null))
        .map(|(i, _)| i as u32)
        .collect();
    let tag = values
        .iter()
        .find(|v| !matches!(v, Value::Null))
        .map(std::mem::discriminant);
    let uniform = tag.is_some_and(|t| {
        values
            .iter()
            .all(|v| matches!(v, Value::Null) || std::mem::discriminant(v) == t)
    });
    if !uniform {
        return Column {
            values: ColumnValues::Mixed(values),
            nulls,
        };
    }
    macro_rules! typed {
        ($case:ident, $default:expr, $pat:pat => $out:expr) => {
            ColumnValues::$case(
                values
                    .into_iter()
                    .map(|v| match v {
                        $pat => $out,
                        _ => $default,
                    })
                    .collect(),
            )
        };
    }
    let first = values.iter().find(|v| !matches!(v, Value::Null)).cloned();
    let values = match first {
        Some(Value::Boolean(_)) => typed!(Boolean, false, Value::Boolean(b) => b),
        Some(Value::Int(_)) => typed!(Int, 0, Value::Int(x) => x),
        Some(Value::Uint(_)) => typed!(Uint, 0, Value::Uint(x) => x),
        Some(Value::Float(_)) => typed!(Float, 0.0, Value::Float(x) => x),
        Some(Value::Decimal(_)) => typed!(Decimal, String::new(), Value::Decimal(x) => x),
        Some(Value::Text(_)) => typed!(Text, String::new(), Value::Text(x) => x),
        Some(Value::Bytes(_)) => typed!(Bytes, Vec::new(), Value::Bytes(x) => x),
        Some(Value::Json(_)) => typed!(Json, String::new(), Value::Json(x) => x),
        Some(Value::Timestamp(_)) => typed!(Timestamp, 0, Value::Timestamp(x) => x),
        Some(Value::Timestamptz(_)) => typed!(Timestamptz, 0, Value::Timestamptz(x) => x),
        Some(Value::Date(_)) => typed!(Date, 0, Value::Date(x) => x),
        Some(Value::Time(_)) => typed!(Time, 0, Value::Time(x) => x),
        Some(Value::Uuid(_)) => typed!(Uuid, (0, 0), Value::Uuid(x) => x),
        Some(Value::Vector(_)) => typed!(Vector, Vec::new(), Value::Vector(x) => x),
        Some(Value::Null) | None => ColumnValues::Mixed(values),
    };
    Column { values, nulls }
}

/// Number of entries in a column.
fn column_len(c: &ColumnValues) -> usize {
    match c {
        ColumnValues::Boolean(v) => v.len(),
        ColumnValues::Int(v)
        | ColumnValues::Timestamp(v)
        | ColumnValues::Timestamptz(v)
        | ColumnValues::Time(v) => v.len(),
        ColumnValues::Uint(v) => v.len(),
        ColumnValues::Float(v) => v.len(),
        ColumnValues::Decimal(v) | ColumnValues::Text(v) | ColumnValues::Json(v) => v.len(),
        ColumnValues::Bytes(v) => v.len(),
        ColumnValues::Date(v) => v.len(),
        ColumnValues::Uuid(v) => v.len(),
        ColumnValues::Vector(v) => v.len(),
        ColumnValues::Mixed(v) => v.len(),
    }
}

/// Splits a batch into rows, checking that it is well formed (a plugin may
/// send anything: lengths and NULL indices are verified, not trusted).
pub fn batch_to_rows(batch: Batch) -> Result<Vec<Vec<Value>>, String> {
    let n = batch.row_count as usize;
    // Everything is checked before anything is allocated: a row count of
    // four billion with no columns must not make the host build four
    // billion rows.
    if n > MAX_BATCH_ROWS {
        return Err(format!(
            "{n} rows in one batch; at most {} are accepted",
            MAX_BATCH_ROWS
        ));
    }
    for (ci, col) in batch.columns.iter().enumerate() {
        if column_len(&col.values) != n {
            return Err(format!(
                "column {ci} has {} values but the batch has {n} rows",
                column_len(&col.values)
            ));
        }
        if col.nulls.iter().any(|&i| i as usize >= n) || col.nulls.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(format!(
                "column {ci}: null indices must be ascending and below {n}"
            ));
        }
    }
    let mut rows: Vec<Vec<Value>> = (0..n)
        .map(|_| Vec::with_capacity(batch.columns.len()))
        .collect();
    for col in batch.columns.into_iter() {
        let mut nulls = col.nulls.into_iter().peekable();
        macro_rules! spread {
            ($v:expr, $wrap:expr) => {
                for (r, x) in $v.into_iter().enumerate() {
                    let is_null = nulls.peek() == Some(&(r as u32));
                    if is_null {
                        nulls.next();
                        rows[r].push(Value::Null);
                    } else {
                        rows[r].push($wrap(x));
                    }
                }
            };
        }
        match col.values {
            ColumnValues::Boolean(v) => spread!(v, Value::Boolean),
            ColumnValues::Int(v) => spread!(v, Value::Int),
            ColumnValues::Uint(v) => spread!(v, Value::Uint),
            ColumnValues::Float(v) => spread!(v, Value::Float),
            ColumnValues::Decimal(v) => spread!(v, Value::Decimal),
            ColumnValues::Text(v) => spread!(v, Value::Text),
            ColumnValues::Bytes(v) => spread!(v, Value::Bytes),
            ColumnValues::Json(v) => spread!(v, Value::Json),
            ColumnValues::Timestamp(v) => spread!(v, Value::Timestamp),
            ColumnValues::Timestamptz(v) => spread!(v, Value::Timestamptz),
            ColumnValues::Date(v) => spread!(v, Value::Date),
            ColumnValues::Time(v) => spread!(v, Value::Time),
            ColumnValues::Uuid(v) => spread!(v, Value::Uuid),
            ColumnValues::Vector(v) => spread!(v, Value::Vector),
            ColumnValues::Mixed(v) => spread!(v, |x| x),
        }
    }
    Ok(rows)
}

/// A short, human-readable rendering of a value for reports and reject files
/// (at most [`EXCERPT_CHARS`] characters of text; bytes as hex).
pub fn excerpt(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    let cut = |s: &str| -> String {
        if s.chars().count() > EXCERPT_CHARS {
            let mut t: String = s.chars().take(EXCERPT_CHARS).collect();
            t.push('…');
            t
        } else {
            s.to_owned()
        }
    };
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Uint(u) => J::from(*u),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number)
        }
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => J::String(cut(s)),
        Value::Bytes(b) => J::String(format!("0x{}", cut(&hex::encode(b)))),
        other => J::String(cut(&render_text(other))),
    }
}

/// Characters of a value kept by [`excerpt`].
pub const EXCERPT_CHARS: usize = 200;

/// The canonical text form of a value (ISO 8601 for temporal values), used
/// when a target stores a type as text (SQLite).
pub fn render_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Boolean(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Bytes(b) => hex::encode(b),
        Value::Timestamp(us) => format_timestamp(*us),
        Value::Timestamptz(us) => format!("{}Z", format_timestamp(*us)),
        Value::Date(d) => format_date(*d),
        Value::Time(us) => format_time(*us),
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
        Value::Vector(v) => format!(
            "[{}]",
            v.iter().map(f32::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

/// `YYYY-MM-DD` for days since 1970-01-01 (proleptic Gregorian).
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM:SS[.ffffff]` for microseconds since midnight.
pub fn format_time(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if frac == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{frac:06}")
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` for microseconds since the epoch.
pub fn format_timestamp(us: i64) -> String {
    let days = us.div_euclid(86_400_000_000);
    let rest = us.rem_euclid(86_400_000_000);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {}", format_time(rest))
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip_keeps_nulls_and_mixed() {
        let rows = vec![
            vec![Value::Int(1), Value::Text("a".into()), Value::Null],
            vec![Value::Null, Value::Int(7), Value::Bytes(vec![0, 1])],
        ];
        let batch = rows_to_batch(rows.clone(), 3);
        assert!(matches!(batch.columns[0].values, ColumnValues::Int(_)));
        assert!(matches!(batch.columns[1].values, ColumnValues::Mixed(_)));
        assert_eq!(batch_to_rows(batch).unwrap(), rows);
    }

    #[test]
    fn malformed_batches_are_refused() {
        let bad = Batch {
            row_count: 2,
            columns: vec![Column {
                values: ColumnValues::Int(vec![1]),
                nulls: vec![],
            }],
        };
        assert!(batch_to_rows(bad).is_err());
        // A huge row count with no columns is refused before any allocation.
        let huge = Batch {
            row_count: u32::MAX,
            columns: vec![],
        };
        assert!(batch_to_rows(huge).unwrap_err().contains("at most"));
        let bad_nulls = Batch {
            row_count: 1,
            columns: vec![Column {
                values: ColumnValues::Int(vec![1]),
                nulls: vec![5],
            }],
        };
        assert!(batch_to_rows(bad_nulls).is_err());
    }

    #[test]
    fn temporal_rendering() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(
            format_timestamp(1_700_000_000_123_456),
            "2023-11-14 22:13:20.123456"
        );
        assert_eq!(format_time(3_600_000_000), "01:00:00");
    }
}
