//! Column types decided from the declaration and the data together.
//!
//! SQLite stores any value in any column: a column declared `GEOMETRY` (or
//! with no type) holds BLOBs, one declared `INTEGER` may hold text. A type
//! chosen from the declaration alone then changes values silently (BLOBs
//! arriving as the text `\x00ff…`) or has the target refuse rows late, after
//! other tables were written. So before a table is planned, the host counts
//! what each column of a SQLite read actually holds (`typeof()` over the
//! read statement, the same queries in `plan` and `run`),
//! and the column's logical type becomes one that holds every value
//! exactly ([`decide`]). `plan` shows per column the declared type, what
//! was observed, the type chosen and why. The scan is cheap where the data
//! matches the declarations ([`observe`]).
//!
//! What no single type holds exactly (BLOBs mixed with text or numbers) is
//! not guessed at: the column keeps the type of the BLOBs and every other
//! value is rejected at load with its column named ([`Fit`]), which `plan`
//! says beforehand. The same check guards values against the chosen type
//! at load, so a row written after the scan cannot slip through either.

use serde::Serialize;

use crate::caps::sql::Database;
use crate::error::Result;
use crate::model::{ColumnDef, DecimalSpec, LogicalType, Value};

/// Columns profiled per query: each takes at most six result columns, and
/// SQLite allows 2,000 (`SQLITE_MAX_COLUMN`) in a result.
const COLUMNS_PER_QUERY: usize = 300;

/// Integers a binary64 float holds exactly: |i| ≤ 2^53.
const FLOAT_EXACT_INT: i64 = 1 << 53;

/// What one column holds: values per SQLite storage class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Values stored as integers.
    pub integer: u64,
    /// Values stored as reals.
    pub real: u64,
    /// Values stored as text.
    pub text: u64,
    /// Values stored as BLOBs.
    pub blob: u64,
    /// NULLs.
    pub null: u64,
    /// Smallest integer value, if any.
    pub int_min: Option<i64>,
    /// Largest integer value, if any.
    pub int_max: Option<i64>,
}

impl Observed {
    /// `"integer 5, text 2, null 1"`: the classes present.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            ("integer", self.integer),
            ("real", self.real),
            ("text", self.text),
            ("blob", self.blob),
            ("null", self.null),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
        if parts.is_empty() {
            "no rows".into()
        } else {
            parts.join(", ")
        }
    }

    fn ints_fit_float(&self) -> bool {
        self.int_min.is_none_or(|m| m >= -FLOAT_EXACT_INT)
            && self.int_max.is_none_or(|m| m <= FLOAT_EXACT_INT)
    }
}

/// How a column's type was decided, for `plan` and the report.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnType {
    /// The column's name.
    pub column: String,
    /// The type as the source declares it (`""` when none).
    pub declared: String,
    /// What the column holds.
    pub observed: String,
    /// The logical type chosen (`bytes`, `int64`, `text`, ...).
    pub chosen: String,
    /// Why, when the choice is not simply the declared type.
    pub why: Option<String>,
    /// True when values change form (numbers written as text) or some will be
    /// rejected: `plan` and `run` warn.
    pub warning: bool,
}

/// The storage class a column of logical type `t` holds when nothing is
/// odd about it; `None` when every class is plausible (no declared type),
/// so its values are always counted class by class.
fn expected_class(t: &LogicalType) -> Option<&'static str> {
    use LogicalType as L;
    Some(match t {
        L::Int(_) | L::Uint(_) | L::Boolean => "integer",
        L::Float(_) => "real",
        L::Text(_) | L::Json | L::Uuid | L::Timestamp | L::Timestamptz | L::Date | L::Time => {
            "text"
        }
        L::Bytes(_) => "blob",
        L::Decimal(_) | L::Any | L::Vector(_) => return None,
    })
}

/// Counts, per column, the values of each storage class that `statement`
/// (a read plan on a SQLite connection) returns, in at most two scans.
///
/// The first scan is cheap: per column, its non-NULL values and those not
/// of the class its declaration implies (and, for booleans, the smallest
/// and largest). Only columns with such values, or with no implied class,
/// are counted class by class in a second scan. Measured with sqlite3 on the
/// benchmark's 1,000,000-row, 8-column table: 1.1 s, where counting every
/// class of every column in one scan took 6.3 s and reading the rows 1.8 s
/// (docs/performance.md).
pub async fn observe(
    db: &Database,
    statement: &str,
    params: &[Value],
    columns: &[ColumnDef],
) -> Result<Vec<Observed>> {
    let width = columns.len();
    let aliases: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    let with = format!("WITH godwit_read({}) AS ({statement})", aliases.join(", "));
    let mut out = vec![Observed::default(); width];
    let mut detailed: Vec<usize> = Vec::new();
    let mut first = 0;
    while first < width {
        let last = (first + COLUMNS_PER_QUERY).min(width);
        let mut exprs = vec!["count(*)".to_owned()];
        for i in first..last {
            let c = &aliases[i];
            exprs.push(format!("count({c})"));
            // Values not of the class, NULLs included (subtracted below):
            // one comparison per value, the cheapest form measured.
            match expected_class(&columns[i].logical) {
                Some(class) => exprs.push(format!("total(typeof({c}) <> '{class}')")),
                None => exprs.push("0".into()),
            }
            if columns[i].logical == LogicalType::Boolean {
                exprs.push(format!("min(CASE typeof({c}) WHEN 'integer' THEN {c} END)"));
                exprs.push(format!("max(CASE typeof({c}) WHEN 'integer' THEN {c} END)"));
            } else {
                exprs.push("NULL".into());
                exprs.push("NULL".into());
            }
        }
        let row = one_row(
            db,
            &format!("{with} SELECT {} FROM godwit_read", exprs.join(", ")),
            params,
        )
        .await?;
        let int = |i: usize| int_at(&row, i);
        let count = |i: usize| int(i).and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let total = count(0);
        for (k, i) in (first..last).enumerate() {
            let base = 1 + k * 4;
            let present = count(base);
            let odd = match row.get(base + 1) {
                Some(Value::Float(f)) => (*f as u64).saturating_sub(total - present),
                Some(Value::Int(n)) => (*n as u64).saturating_sub(total - present),
                _ => 0,
            };
            let o = &mut out[i];
            o.null = total.saturating_sub(present);
            match expected_class(&columns[i].logical) {
                Some(class) if odd == 0 => {
                    match class {
                        "integer" => o.integer = present,
                        "real" => o.real = present,
                        "text" => o.text = present,
                        _ => o.blob = present,
                    }
                    o.int_min = int(base + 2);
                    o.int_max = int(base + 3);
                }
                _ if present > 0 => detailed.push(i),
                // Only NULLs: nothing more to count.
                _ => {}
            }
        }
        first = last;
    }
    for chunk in detailed.chunks(COLUMNS_PER_QUERY) {
        let mut exprs = vec!["count(*)".to_owned()];
        for &i in chunk {
            let c = &aliases[i];
            for class in ["integer", "real", "text", "blob"] {
                exprs.push(format!("count(CASE typeof({c}) WHEN '{class}' THEN 1 END)"));
            }
            exprs.push(format!("min(CASE typeof({c}) WHEN 'integer' THEN {c} END)"));
            exprs.push(format!("max(CASE typeof({c}) WHEN 'integer' THEN {c} END)"));
        }
        let row = one_row(
            db,
            &format!("{with} SELECT {} FROM godwit_read", exprs.join(", ")),
            params,
        )
        .await?;
        let int = |i: usize| int_at(&row, i);
        let count = |i: usize| int(i).and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let total = count(0);
        for (k, &i) in chunk.iter().enumerate() {
            let base = 1 + k * 6;
            let mut o = Observed {
                integer: count(base),
                real: count(base + 1),
                text: count(base + 2),
                blob: count(base + 3),
                int_min: int(base + 4),
                int_max: int(base + 5),
                ..Default::default()
            };
            o.null = total.saturating_sub(o.integer + o.real + o.text + o.blob);
            out[i] = o;
        }
    }
    Ok(out)
}

/// The integer at `i` of an aggregate row (`None` for NULL).
fn int_at(row: &[Value], i: usize) -> Option<i64> {
    match row.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

/// The single row of an aggregate query (read-only).
async fn one_row(db: &Database, sql: &str, params: &[Value]) -> Result<Vec<Value>> {
    let mut rows = db.query_read_only(sql, params.to_vec()).await?;
    Ok(rows
        .next_rows(1, 1 << 20)
        .await?
        .and_then(|r| r.into_iter().next())
        .unwrap_or_default())
}

/// The logical type that holds every value `o` counted in a column declared
/// `col`, and how it was decided.
pub fn decide(col: &ColumnDef, o: &Observed) -> (LogicalType, ColumnType) {
    use LogicalType as L;
    let declared = col.logical;
    let numbers = o.integer + o.real;
    let only = |n: u64| n == o.integer + o.real + o.text + o.blob;
    let numeric = || {
        if o.real == 0 {
            L::Int(64)
        } else if o.ints_fit_float() {
            L::Float(64)
        } else {
            L::Decimal(DecimalSpec {
                precision: None,
                scale: None,
            })
        }
    };
    let (chosen, why, warning): (L, Option<String>, bool) = if only(0) {
        // Nothing to learn from: the declaration stands.
        (declared, None, false)
    } else if o.blob > 0 && !only(o.blob) {
        (
            L::Bytes(None),
            Some(format!(
                "BLOBs mixed with {}: no one type holds both; the values that are not BLOBs \
                 will be rejected (fix those rows, or leave the column out)",
                plural(numbers + o.text, "other value")
            )),
            true,
        )
    } else {
        match &declared {
            _ if only(o.blob) => match declared {
                L::Bytes(_) => (declared, None, false),
                _ => (L::Bytes(None), Some("every value is a BLOB".into()), false),
            },
            L::Int(_) | L::Uint(_) if only(o.integer) => (declared, None, false),
            L::Float(_) if only(numbers) && o.ints_fit_float() => (declared, None, false),
            L::Float(_) | L::Int(_) | L::Uint(_) | L::Any if only(numbers) => {
                let t = numeric();
                let why = match (&declared, &t) {
                    (L::Any, L::Int(_)) => "every value is an integer",
                    (L::Any, L::Float(_)) => "every value is a number",
                    (_, L::Float(_)) => "integers and reals mixed",
                    _ => "integers beyond 2^53 mixed with reals: exact only as decimal",
                };
                (t, Some(why.into()), false)
            }
            L::Text(_) if only(o.text) => (declared, None, false),
            L::Any if only(o.text) => (L::Text(None), Some("every value is text".into()), false),
            L::Int(_) | L::Uint(_) | L::Float(_) | L::Any | L::Text(_) => (
                L::Text(None),
                Some(format!(
                    "{} and {} mixed: kept as text, the numbers written in their text form",
                    plural(numbers, "number"),
                    plural(o.text, "text value")
                )),
                true,
            ),
            L::Timestamp | L::Timestamptz | L::Date | L::Time if numbers > 0 => (
                declared,
                Some(format!(
                    "{} in a {} column will be rejected: say how to read them with a cast \
                     (from = \"epoch-seconds\", \"epoch-millis\", ...; see casts.md)",
                    plural(numbers, "number"),
                    logical_name(&declared)
                )),
                true,
            ),
            L::Boolean
                if o.real > 0
                    || o.int_min.is_some_and(|m| m < 0)
                    || o.int_max.is_some_and(|m| m > 1) =>
            {
                (
                    declared,
                    Some("numbers other than 0 and 1 in a boolean column will be rejected".into()),
                    true,
                )
            }
            // Boolean text, decimal, JSON, UUID: their text forms are parsed
            // by the target.
            _ => (declared, None, false),
        }
    };
    let why = why.map(|w| {
        if declared == L::Any && col.native_type.trim().is_empty() {
            format!("no declared type; {w}")
        } else if declared == L::Any {
            format!("SQLite does not know the declared type; {w}")
        } else {
            w
        }
    });
    let info = ColumnType {
        column: col.name.clone(),
        declared: col.native_type.clone(),
        observed: o.summary(),
        chosen: logical_name(&chosen),
        why,
        warning,
    };
    (chosen, info)
}

/// `"1 number"`, `"2 numbers"`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A short name for a logical type (`int64`, `text`, `decimal(10,2)`).
pub fn logical_name(t: &LogicalType) -> String {
    use LogicalType as L;
    match t {
        L::Boolean => "boolean".into(),
        L::Int(b) => format!("int{b}"),
        L::Uint(b) => format!("uint{b}"),
        L::Float(b) => format!("float{b}"),
        L::Decimal(d) => match (d.precision, d.scale) {
            (Some(p), Some(s)) => format!("decimal({p},{s})"),
            (Some(p), None) => format!("decimal({p})"),
            _ => "decimal".into(),
        },
        L::Text(Some(n)) => format!("text({n})"),
        L::Text(None) => "text".into(),
        L::Bytes(Some(n)) => format!("bytes({n})"),
        L::Bytes(None) => "bytes".into(),
        L::Json => "json".into(),
        L::Timestamp => "timestamp".into(),
        L::Timestamptz => "timestamptz".into(),
        L::Date => "date".into(),
        L::Time => "time".into(),
        L::Uuid => "uuid".into(),
        L::Vector(Some(n)) => format!("vector({n})"),
        L::Vector(None) => "vector".into(),
        L::Any => "any".into(),
    }
}

/// The check each value of a column meets at load, for sources that type
/// values per row (SQLite): values of the chosen type pass, numbers bound
/// for a text column are written as text, anything else is rejected with
/// the column named — never written in another form silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Text; numbers are written in their text form.
    Text,
    /// BLOBs only.
    Bytes,
    /// Integers (and booleans).
    Int,
    /// Reals, and integers a binary64 holds exactly.
    Float,
    /// Exact numbers, and text the target parses.
    Decimal,
    /// Dates and times: their text forms (or values a cast made); numbers
    /// need a cast to say their unit.
    Temporal,
    /// As `Temporal`, for a timestamp without time zone: ISO 8601 text
    /// with a `T` or a zone (which MySQL refuses) is read into its
    /// wall-clock time, as PostgreSQL reads it.
    Timestamp,
    /// true/false, 0/1, or text the target parses (`'t'`, `'yes'`).
    Boolean,
    /// Any value but a BLOB (temporal, boolean, JSON, UUID: parsed by the
    /// target from their text or number forms).
    NotBlob,
}

impl Fit {
    /// The check for a target column of logical type `t`.
    pub fn of(t: &LogicalType) -> Option<Fit> {
        use LogicalType as L;
        Some(match t {
            L::Text(_) => Fit::Text,
            L::Bytes(_) => Fit::Bytes,
            L::Int(_) | L::Uint(_) => Fit::Int,
            L::Float(_) => Fit::Float,
            L::Decimal(_) => Fit::Decimal,
            L::Any | L::Vector(_) => return None,
            L::Timestamp => Fit::Timestamp,
            L::Timestamptz | L::Date | L::Time => Fit::Temporal,
            L::Boolean => Fit::Boolean,
            _ => Fit::NotBlob,
        })
    }

    /// The value as the column stores it, or why it cannot be.
    pub fn apply(self, v: Value) -> std::result::Result<Value, (Value, String)> {
        let kind = |v: &Value| match v {
            Value::Bytes(b) => format!("a BLOB of {} bytes", b.len()),
            Value::Text(_) => "text".to_owned(),
            Value::Int(_) | Value::Uint(_) => "an integer".to_owned(),
            Value::Float(_) => "a real".to_owned(),
            _ => "a value".to_owned(),
        };
        let refuse = |v: Value, what: &str| {
            let reason = format!("{} in a {what} column", kind(&v));
            Err((v, reason))
        };
        match (self, v) {
            (_, Value::Null) => Ok(Value::Null),
            (Fit::Text, v @ (Value::Text(_) | Value::Json(_))) => Ok(v),
            (Fit::Text, Value::Int(i)) => Ok(Value::Text(i.to_string())),
            (Fit::Text, Value::Uint(u)) => Ok(Value::Text(u.to_string())),
            (Fit::Text, Value::Float(f)) => Ok(Value::Text(f.to_string())),
            (Fit::Text, Value::Decimal(d)) => Ok(Value::Text(d)),
            (Fit::Text, v) => refuse(v, "text"),
            (Fit::Bytes, v @ Value::Bytes(_)) => Ok(v),
            (Fit::Bytes, v) => refuse(v, "BLOB"),
            (Fit::Int, v @ (Value::Int(_) | Value::Uint(_) | Value::Boolean(_))) => Ok(v),
            (Fit::Int, v) => refuse(v, "integer"),
            (Fit::Float, v @ Value::Float(_)) => Ok(v),
            (Fit::Float, Value::Int(i)) if (-FLOAT_EXACT_INT..=FLOAT_EXACT_INT).contains(&i) => {
                Ok(Value::Float(i as f64))
            }
            (Fit::Float, v @ Value::Int(_)) => {
                let reason = "an integer beyond 2^53 in a float column (not exact)".to_owned();
                Err((v, reason))
            }
            (Fit::Float, v) => refuse(v, "float"),
            (Fit::Decimal, v @ (Value::Decimal(_) | Value::Int(_) | Value::Uint(_))) => Ok(v),
            (Fit::Decimal, Value::Float(f)) if f.is_finite() => Ok(Value::Decimal(f.to_string())),
            (Fit::Decimal, v @ Value::Text(_)) => Ok(v),
            (Fit::Decimal, v) => refuse(v, "decimal"),
            (Fit::Timestamp, Value::Text(t)) => match super::cast::iso_wall_clock(&t) {
                Some(us) => Ok(Value::Timestamp(us)),
                None => Ok(Value::Text(t)),
            },
            (Fit::Timestamp, v) => Fit::Temporal.apply(v),
            (
                Fit::Temporal,
                v @ (Value::Text(_)
                | Value::Timestamp(_)
                | Value::Timestamptz(_)
                | Value::Date(_)
                | Value::Time(_)),
            ) => Ok(v),
            (Fit::Temporal, v @ (Value::Int(_) | Value::Uint(_) | Value::Float(_))) => {
                let reason = format!(
                    "{} in a date/time column: its unit is unknown (add a cast with from = \
                     \"epoch-seconds\", \"epoch-millis\", ...)",
                    kind(&v)
                );
                Err((v, reason))
            }
            (Fit::Temporal, v) => refuse(v, "date/time"),
            (Fit::Boolean, v @ (Value::Boolean(_) | Value::Text(_))) => Ok(v),
            (Fit::Boolean, Value::Int(i @ (0 | 1))) => Ok(Value::Boolean(i == 1)),
            (Fit::Boolean, v) => refuse(v, "boolean"),
            (Fit::NotBlob, v @ Value::Bytes(_)) => refuse(v, "non-BLOB"),
            (Fit::NotBlob, v) => Ok(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(native: &str, logical: LogicalType) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            logical,
            native_type: native.into(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        }
    }

    fn obs(integer: u64, real: u64, text: u64, blob: u64) -> Observed {
        Observed {
            integer,
            real,
            text,
            blob,
            int_min: (integer > 0).then_some(-5),
            int_max: (integer > 0).then_some(5),
            ..Default::default()
        }
    }

    #[test]
    fn unknown_declarations_follow_the_data() {
        let geometry = col("GEOMETRY", LogicalType::Any);
        let (t, info) = decide(&geometry, &obs(0, 0, 0, 3));
        assert_eq!(t, LogicalType::Bytes(None));
        assert!(info.why.unwrap().contains("does not know"));
        let untyped = col("", LogicalType::Any);
        assert_eq!(decide(&untyped, &obs(4, 0, 0, 0)).0, LogicalType::Int(64));
        assert_eq!(decide(&untyped, &obs(4, 1, 0, 0)).0, LogicalType::Float(64));
        let (t, info) = decide(&untyped, &obs(4, 0, 2, 0));
        assert_eq!(t, LogicalType::Text(None));
        assert!(info.warning);
    }

    #[test]
    fn declared_integers_holding_text_become_text_with_a_warning() {
        let c = col("INTEGER", LogicalType::Int(64));
        assert_eq!(decide(&c, &obs(9, 0, 0, 0)).0, LogicalType::Int(64));
        let (t, info) = decide(&c, &obs(9, 0, 1, 0));
        assert_eq!(t, LogicalType::Text(None));
        assert!(info.warning && info.observed == "integer 9, text 1");
    }

    #[test]
    fn big_integers_with_reals_are_decimal() {
        let c = col("", LogicalType::Any);
        let mut o = obs(2, 1, 0, 0);
        o.int_max = Some(i64::MAX);
        assert!(matches!(decide(&c, &o).0, LogicalType::Decimal(_)));
    }

    #[test]
    fn blobs_mixed_with_anything_else_are_flagged() {
        let c = col("TEXT", LogicalType::Text(None));
        let (t, info) = decide(&c, &obs(0, 0, 3, 2));
        assert_eq!(t, LogicalType::Bytes(None));
        assert!(info.warning);
        assert!(Fit::Bytes.apply(Value::Text("x".into())).is_err());
    }

    #[test]
    fn values_fit_or_are_refused_never_changed_silently() {
        assert_eq!(
            Fit::Text.apply(Value::Int(7)).unwrap(),
            Value::Text("7".into())
        );
        assert!(Fit::Text.apply(Value::Bytes(vec![0, 255])).is_err());
        assert!(Fit::Int.apply(Value::Text("abc".into())).is_err());
        assert_eq!(Fit::Float.apply(Value::Int(3)).unwrap(), Value::Float(3.0));
        assert!(Fit::Float.apply(Value::Int(i64::MAX)).is_err());
        assert!(Fit::NotBlob.apply(Value::Bytes(vec![1])).is_err());
        assert!(Fit::Temporal.apply(Value::Int(1_700_000_000)).is_err());
        assert!(Fit::Timestamp.apply(Value::Int(1_700_000_000)).is_err());
        assert!(matches!(
            Fit::Timestamp.apply(Value::Text("2024-05-01T10:00:00.000Z".into())),
            Ok(Value::Timestamp(_))
        ));
        assert_eq!(
            Fit::Boolean.apply(Value::Int(1)).unwrap(),
            Value::Boolean(true)
        );
        assert!(Fit::Boolean.apply(Value::Int(5)).is_err());
    }
}
