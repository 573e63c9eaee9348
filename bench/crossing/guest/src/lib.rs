//! Guest for the batch-crossing benchmark: receives batches and touches
//! every cell, so lifting cost is measured, not skipped.

wit_bindgen::generate!({ path: "../wit", world: "godwit:bench/crossing", generate_all });

use godwit::plugin::types::ColumnValues;

struct Sink;

fn value_sum(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::Boolean(b) => *b as u64,
        Value::Int(i) | Value::Timestamp(i) | Value::Timestamptz(i) | Value::Time(i) => *i as u64,
        Value::Uint(u) => *u,
        Value::Float(f) => f.to_bits(),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        Value::Date(d) => *d as u64,
        Value::Uuid((a, b)) => a ^ b,
        Value::Vector(v) => v.len() as u64,
    }
}

impl Guest for Sink {
    fn take_columns(b: Batch) -> u64 {
        let mut sum = b.row_count as u64;
        for c in &b.columns {
            sum = sum.wrapping_add(c.nulls.len() as u64);
            sum = sum.wrapping_add(match &c.values {
                ColumnValues::Int(v)
                | ColumnValues::Timestamp(v)
                | ColumnValues::Timestamptz(v)
                | ColumnValues::Time(v) => v.iter().fold(0u64, |a, x| a.wrapping_add(*x as u64)),
                ColumnValues::Float(v) => v.iter().fold(0u64, |a, x| a.wrapping_add(x.to_bits())),
                ColumnValues::Text(v) | ColumnValues::Json(v) | ColumnValues::Decimal(v) => {
                    v.iter().map(|s| s.len() as u64).sum()
                }
                ColumnValues::Bytes(v) => v.iter().map(|s| s.len() as u64).sum(),
                ColumnValues::Mixed(v) => v.iter().map(value_sum).sum(),
                ColumnValues::Boolean(v) => v.len() as u64,
                ColumnValues::Uint(v) => v.iter().sum(),
                ColumnValues::Date(v) => v.len() as u64,
                ColumnValues::Uuid(v) => v.len() as u64,
                ColumnValues::Vector(v) => v.len() as u64,
            });
        }
        sum
    }

    fn take_rows(rows: Vec<Vec<Value>>) -> u64 {
        rows.iter()
            .flatten()
            .fold(0u64, |a, v| a.wrapping_add(value_sum(v)))
    }
}

export!(Sink);
