//! Casting rules: built-in conversions for what real applications store —
//! epoch numbers in INTEGER columns, naive or offset timestamps in text, 0/1
//! booleans, JSON in text, NUL bytes in text — applied host-side to the
//! columns a step's `[[steps.casts]]` select, before rewrite rules run.
//!
//! A value that cannot be converted is rejected with the reason (it goes to
//! the reject file); it is never coerced into something else.

use crate::model::{LogicalType, Value};
use crate::project::{CastFrom, CastTo, NulPolicy};
use crate::value::render_text;

/// Microseconds per second.
const US: i64 = 1_000_000;

/// The logical type a cast produces.
pub fn logical(to: CastTo) -> LogicalType {
    match to {
        CastTo::Boolean => LogicalType::Boolean,
        CastTo::Int => LogicalType::Int(64),
        CastTo::Float => LogicalType::Float(64),
        CastTo::Decimal => LogicalType::Decimal(crate::model::DecimalSpec {
            precision: None,
            scale: None,
        }),
        CastTo::Text => LogicalType::Text(None),
        CastTo::Json => LogicalType::Json,
        CastTo::Timestamp => LogicalType::Timestamp,
        CastTo::Timestamptz => LogicalType::Timestamptz,
        CastTo::Date => LogicalType::Date,
        CastTo::Time => LogicalType::Time,
        CastTo::Uuid => LogicalType::Uuid,
        CastTo::Bytes => LogicalType::Bytes(None),
    }
}

/// The declared type to use for a cast column in `dialect`.
pub fn native_type(to: CastTo, dialect: &str) -> String {
    let sqlite = dialect == "sqlite";
    match to {
        CastTo::Boolean => {
            if sqlite {
                "BOOLEAN"
            } else {
                "boolean"
            }
        }
        CastTo::Int => {
            if sqlite {
                "INTEGER"
            } else {
                "bigint"
            }
        }
        CastTo::Float => {
            if sqlite {
                "REAL"
            } else {
                "double precision"
            }
        }
        // SQLite's NUMERIC affinity would turn "1.10" into 1.1.
        CastTo::Decimal => {
            if sqlite {
                "TEXT"
            } else {
                "numeric"
            }
        }
        CastTo::Text => {
            if sqlite {
                "TEXT"
            } else {
                "text"
            }
        }
        CastTo::Json => {
            if sqlite {
                "JSON"
            } else {
                "jsonb"
            }
        }
        CastTo::Timestamp => {
            if sqlite {
                "DATETIME"
            } else {
                "timestamp"
            }
        }
        CastTo::Timestamptz => {
            if sqlite {
                "TIMESTAMPTZ"
            } else {
                "timestamptz"
            }
        }
        CastTo::Date => {
            if sqlite {
                "DATE"
            } else {
                "date"
            }
        }
        CastTo::Time => {
            if sqlite {
                "TIME"
            } else {
                "time"
            }
        }
        CastTo::Uuid => {
            if sqlite {
                "TEXT"
            } else {
                "uuid"
            }
        }
        CastTo::Bytes => {
            if sqlite {
                "BLOB"
            } else {
                "bytea"
            }
        }
    }
    .to_owned()
}

/// Converts one value; `Err` is the reject reason.
pub fn convert(v: Value, to: CastTo, from: CastFrom, zone_secs: i64) -> Result<Value, String> {
    if matches!(v, Value::Null) {
        return Ok(Value::Null);
    }
    match to {
        CastTo::Timestamptz => instant(&v, from, zone_secs).map(Value::Timestamptz),
        CastTo::Timestamp => instant(&v, from, 0).map(Value::Timestamp),
        CastTo::Date => match &v {
            Value::Text(s) => parse_date(s.trim()).map(Value::Date),
            _ => instant(&v, from, zone_secs)
                .map(|us| Value::Date(us.div_euclid(86_400 * US) as i32)),
        },
        CastTo::Time => match &v {
            Value::Text(s) => parse_time(s.trim()).map(Value::Time),
            Value::Time(t) => Ok(Value::Time(*t)),
            other => Err(format!("cannot read {} as a time of day", describe(other))),
        },
        CastTo::Boolean => match &v {
            Value::Boolean(b) => Ok(Value::Boolean(*b)),
            Value::Int(0) => Ok(Value::Boolean(false)),
            Value::Int(1) => Ok(Value::Boolean(true)),
            Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "y" | "yes" | "on" => Ok(Value::Boolean(true)),
                "0" | "f" | "false" | "n" | "no" | "off" => Ok(Value::Boolean(false)),
                _ => Err(format!("{s:?} is not a boolean")),
            },
            other => Err(format!(
                "{} is not a boolean (only 0 and 1 are)",
                describe(other)
            )),
        },
        CastTo::Json => match v {
            Value::Text(s) | Value::Json(s) => {
                match serde_json::from_str::<serde::de::IgnoredAny>(&s) {
                    Ok(_) => Ok(Value::Json(s)),
                    Err(e) => Err(format!("invalid JSON: {e}")),
                }
            }
            Value::Int(i) => Ok(Value::Json(i.to_string())),
            Value::Float(f) if f.is_finite() => Ok(Value::Json(f.to_string())),
            Value::Boolean(b) => Ok(Value::Json(b.to_string())),
            other => Err(format!("{} is not JSON", describe(&other))),
        },
        CastTo::Int => match &v {
            Value::Int(i) => Ok(Value::Int(*i)),
            Value::Boolean(b) => Ok(Value::Int(i64::from(*b))),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::Int(*f as i64)),
            Value::Text(s) => s
                .trim()
                .parse()
                .map(Value::Int)
                .map_err(|_| format!("{s:?} is not an integer")),
            other => Err(format!("{} is not an integer", describe(other))),
        },
        CastTo::Float => match &v {
            Value::Float(f) => Ok(Value::Float(*f)),
            Value::Int(i) if i.unsigned_abs() <= 1 << 53 => Ok(Value::Float(*i as f64)),
            Value::Text(s) => s
                .trim()
                .parse()
                .map(Value::Float)
                .map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!(
                "{} is not a float (or not exactly representable)",
                describe(other)
            )),
        },
        CastTo::Decimal => match &v {
            Value::Int(i) => Ok(Value::Decimal(i.to_string())),
            Value::Float(f) if f.is_finite() => Ok(Value::Decimal(format!("{f}"))),
            Value::Text(s) | Value::Decimal(s) if is_decimal(s.trim()) => {
                Ok(Value::Decimal(s.trim().to_owned()))
            }
            other => Err(format!("{} is not a decimal number", describe(other))),
        },
        CastTo::Text => Ok(match v {
            Value::Text(s) => Value::Text(s),
            Value::Bytes(b) => Value::Text(
                String::from_utf8(b).map_err(|_| "bytes are not UTF-8 text".to_owned())?,
            ),
            other => Value::Text(render_text(&other)),
        }),
        CastTo::Uuid => match &v {
            Value::Text(s) => parse_uuid(s.trim()).map(Value::Uuid),
            Value::Bytes(b) if b.len() == 16 => {
                let n = u128::from_be_bytes(b.as_slice().try_into().expect("16 bytes"));
                Ok(Value::Uuid(((n >> 64) as u64, n as u64)))
            }
            Value::Uuid(u) => Ok(Value::Uuid(*u)),
            other => Err(format!("{} is not a UUID", describe(other))),
        },
        CastTo::Bytes => match v {
            Value::Bytes(b) => Ok(Value::Bytes(b)),
            Value::Text(s) => Ok(Value::Bytes(s.into_bytes())),
            other => Err(format!("{} is not bytes", describe(&other))),
        },
    }
}

/// Applies the NUL-byte policy to a text value; `Err` is the reject reason.
pub fn nul_bytes(v: Value, policy: NulPolicy) -> Result<Value, String> {
    match (v, policy) {
        (Value::Text(s), NulPolicy::Strip) if s.contains('\0') => {
            Ok(Value::Text(s.replace('\0', "")))
        }
        (Value::Text(s), NulPolicy::Replace) if s.contains('\0') => {
            Ok(Value::Text(s.replace('\0', "\u{fffd}")))
        }
        (v, _) => Ok(v),
    }
}

fn describe(v: &Value) -> String {
    let text = render_text(v);
    let kind = match v {
        Value::Int(_) | Value::Uint(_) => "integer",
        Value::Float(_) => "float",
        Value::Bytes(_) => "bytes",
        Value::Boolean(_) => "boolean",
        _ => "value",
    };
    format!("{kind} {}", text.chars().take(40).collect::<String>())
}

/// An instant in microseconds since the epoch (UTC) from an epoch number or
/// a text timestamp; naive text is taken to be at UTC offset `zone_secs`.
fn instant(v: &Value, from: CastFrom, zone_secs: i64) -> Result<i64, String> {
    match v {
        Value::Timestamptz(us) | Value::Timestamp(us) => Ok(*us),
        Value::Int(n) => epoch(*n as i128, from),
        Value::Float(f) if f.is_finite() => {
            let scale = match from {
                CastFrom::EpochMillis => 1e3,
                CastFrom::EpochMicros => 1.0,
                CastFrom::EpochNanos => 1e-3,
                _ => 1e6,
            };
            Ok((f * scale).round() as i64)
        }
        Value::Text(s) => {
            let s = s.trim();
            if !matches!(from, CastFrom::Text) {
                if let Ok(n) = s.parse::<i128>() {
                    return epoch(n, from);
                }
            }
            parse_timestamp(s, zone_secs)
        }
        other => Err(format!("cannot read {} as a timestamp", describe(other))),
    }
}

fn epoch(n: i128, from: CastFrom) -> Result<i64, String> {
    let us = match from {
        CastFrom::EpochSeconds => n * 1_000_000,
        CastFrom::EpochMillis => n * 1_000,
        CastFrom::EpochMicros => n,
        CastFrom::EpochNanos => n / 1_000,
        CastFrom::Text => return Err(format!("{n} is a number, not a text timestamp")),
        // By magnitude: seconds until the year 5138, then millis, micros, nanos.
        CastFrom::Auto => match n.unsigned_abs() {
            0..100_000_000_000 => n * 1_000_000,
            100_000_000_000..100_000_000_000_000 => n * 1_000,
            100_000_000_000_000..100_000_000_000_000_000 => n,
            _ => n / 1_000,
        },
    };
    i64::try_from(us).map_err(|_| format!("epoch value {n} is out of range"))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(s: &str) -> Result<i32, String> {
    let bad = || format!("{s:?} is not a date (YYYY-MM-DD)");
    let mut it = s.splitn(3, '-');
    let (y, m, d) = (it.next(), it.next(), it.next());
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(bad());
    };
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) as i32)
}

fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a time (HH:MM[:SS[.ffffff]])");
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let parts: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 9
    {
        return Err(bad());
    }
    let num = |p: &str, max: i64| {
        p.parse::<i64>()
            .ok()
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(bad)
    };
    let h = num(parts[0], 24)?;
    let m = num(parts[1], 59)?;
    let sec = if parts.len() == 3 {
        num(parts[2], 60)?
    } else {
        0
    };
    let micros = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}")[..6]
            .parse::<i64>()
            .map_err(|_| bad())?
    };
    Ok(((h * 60 + m) * 60 + sec) * US + micros)
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.f]][Z|±HH[:MM]|±HHMM]` to UTC microseconds;
/// without an offset the text is at `zone_secs`. A bare date is midnight.
fn parse_timestamp(s: &str, zone_secs: i64) -> Result<i64, String> {
    if s.len() == 10 {
        return parse_date(s).map(|d| i64::from(d) * 86_400 * US - zone_secs * US);
    }
    let bad = || format!("{s:?} is not a timestamp");
    if s.len() < 16 || !s.is_char_boundary(10) || !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let days = i64::from(parse_date(&s[..10])?);
    let rest = &s[11..];
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let time = parse_time(clock.trim()).map_err(|_| bad())?;
    let offset_secs = match offset {
        "" => zone_secs,
        "Z" | "z" => 0,
        o => crate::text::parse_offset(o).ok_or_else(bad)?,
    };
    Ok(days * 86_400 * US + time - offset_secs * US)
}

/// The wall-clock time of an ISO 8601 text timestamp written with a `T`
/// or a zone (`2024-05-01T10:00:00.000Z`, `... +02:00`), for a timestamp
/// column without time zone: the zone is dropped and the clock kept, as
/// PostgreSQL reads such text into `timestamp`. `None` for text in the
/// plain `YYYY-MM-DD HH:MM:SS` form (every target reads it as it is) or
/// that is no timestamp.
pub fn iso_wall_clock(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    // `b[10]` ASCII: slicing at 10 and 11 cannot cut a character.
    if b.len() < 16 || !s.is_char_boundary(10) || !b[10].is_ascii() {
        return None;
    }
    let t_separated = matches!(b[10], b'T' | b't');
    let rest = &s[11..];
    let zoned = rest.contains(['Z', 'z', '+', '-']);
    if !t_separated && !zoned {
        return None;
    }
    let clock = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => &rest[..i],
        None => rest,
    };
    parse_timestamp(&format!("{} {}", &s[..10], clock.trim()), 0).ok()
}

/// MySQL's zero date or a date with a zero month or day, as text
/// (`0000-00-00`, `0000-00-00 00:00:00`, `2024-00-15`).
pub fn is_zero_date(s: &str) -> bool {
    // Bytes, not `str` slices: any text reaches here, and a slice through
    // a multi-byte character would panic.
    let b = s.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && (&b[..4] == b"0000" || &b[5..7] == b"00" || &b[8..10] == b"00")
}

fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    !(int.is_empty() && frac.is_empty())
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
}

fn parse_uuid(s: &str) -> Result<(u64, u64), String> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return Err(format!("{s:?} is not a UUID"));
    }
    let n = u128::from_str_radix(&hex, 16).map_err(|_| format!("{s:?} is not a UUID"))?;
    Ok(((n >> 64) as u64, n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(v: Value, from: CastFrom, zone: i64) -> Result<i64, String> {
        match convert(v, CastTo::Timestamptz, from, zone)? {
            Value::Timestamptz(us) => Ok(us),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn epochs_by_unit_and_by_magnitude() {
        let want = 1_700_000_000 * US;
        for (n, from) in [
            (1_700_000_000, CastFrom::EpochSeconds),
            (1_700_000_000_000, CastFrom::EpochMillis),
            (1_700_000_000_000_000, CastFrom::EpochMicros),
            (1_700_000_000_000_000_000, CastFrom::EpochNanos),
        ] {
            assert_eq!(tz(Value::Int(n), from, 0).unwrap(), want);
            assert_eq!(
                tz(Value::Int(n), CastFrom::Auto, 0).unwrap(),
                want,
                "auto for {n}"
            );
        }
        assert_eq!(
            tz(Value::Text("1700000000".into()), CastFrom::Auto, 0).unwrap(),
            want
        );
    }

    #[test]
    fn zero_dates_are_found_in_any_text() {
        assert!(is_zero_date("0000-00-00 00:00:00"));
        assert!(is_zero_date("2024-00-15"));
        assert!(is_zero_date("2024-05-00"));
        assert!(!is_zero_date("2024-05-01"));
        assert!(!is_zero_date("2024-01-\u{20ac}x"));
        assert!(!is_zero_date("ab"));
    }

    #[test]
    fn iso_text_keeps_its_wall_clock() {
        let at_ten = 1_714_557_600_000_000; // 2024-05-01 10:00:00
        assert_eq!(iso_wall_clock("2024-05-01T10:00:00.000Z"), Some(at_ten));
        assert_eq!(iso_wall_clock("2024-05-01T10:00:00+02:00"), Some(at_ten));
        assert_eq!(iso_wall_clock("2024-05-01 10:00:00"), None);
        assert_eq!(iso_wall_clock("soon"), None);
        assert_eq!(iso_wall_clock("2024-05-01\u{e9}10:00:00Z"), None);
    }

    #[test]
    fn text_timestamps_with_and_without_offsets() {
        let want = 1_700_000_000 * US + 123_456; // 2023-11-14T22:13:20.123456Z
        assert_eq!(
            tz(
                Value::Text("2023-11-14T22:13:20.123456Z".into()),
                CastFrom::Auto,
                0
            )
            .unwrap(),
            want
        );
        assert_eq!(
            tz(
                Value::Text("2023-11-15 06:13:20.123456+08:00".into()),
                CastFrom::Auto,
                0
            )
            .unwrap(),
            want
        );
        assert_eq!(
            tz(
                Value::Text("2023-11-14 17:13:20.123456-0500".into()),
                CastFrom::Auto,
                0
            )
            .unwrap(),
            want
        );
        // Naive text at the configured zone (+08:00).
        assert_eq!(
            tz(
                Value::Text("2023-11-15 06:13:20.123456".into()),
                CastFrom::Auto,
                8 * 3600
            )
            .unwrap(),
            want
        );
        assert!(tz(Value::Text("yesterday".into()), CastFrom::Auto, 0).is_err());
        assert!(tz(Value::Text("2023-13-01 00:00:00".into()), CastFrom::Auto, 0).is_err());
    }

    #[test]
    fn booleans_json_and_nul() {
        assert_eq!(
            convert(Value::Int(1), CastTo::Boolean, CastFrom::Auto, 0),
            Ok(Value::Boolean(true))
        );
        assert!(convert(Value::Int(2), CastTo::Boolean, CastFrom::Auto, 0).is_err());
        assert_eq!(
            convert(
                Value::Text("{\"a\": 1}".into()),
                CastTo::Json,
                CastFrom::Auto,
                0
            ),
            Ok(Value::Json("{\"a\": 1}".into()))
        );
        assert!(convert(
            Value::Text("{broken".into()),
            CastTo::Json,
            CastFrom::Auto,
            0
        )
        .unwrap_err()
        .contains("invalid JSON"));
        assert_eq!(
            nul_bytes(Value::Text("a\0b".into()), NulPolicy::Strip),
            Ok(Value::Text("ab".into()))
        );
        assert_eq!(
            nul_bytes(Value::Text("a\0b".into()), NulPolicy::Replace),
            Ok(Value::Text("a\u{fffd}b".into()))
        );
        assert_eq!(
            convert(Value::Null, CastTo::Int, CastFrom::Auto, 0),
            Ok(Value::Null)
        );
    }
}
