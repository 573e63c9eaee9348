//! Values as text, one spelling each, read back exactly: dates, times,
//! timestamps, UUIDs and floats as the file formats (`jsonl`, `csv`) write
//! them. Always compiled (no dependencies), so a plugin can use the same
//! spellings for its own formats.
//!
//! | value | text |
//! |---|---|
//! | date | `2024-05-01`; years past 9999 as `+10000-…`, before 0 as `-0044-…` |
//! | time | `12:30:00` or `12:30:00.250000` (microseconds) |
//! | timestamp / timestamptz | `2024-05-01T12:30:00.250000` / with `Z` (UTC) |
//! | uuid | `6f1c…-…` (lower-case hex, 8-4-4-4-12) |
//! | float | the shortest text that reads back to the same `f64`; `NaN`, `Infinity`, `-Infinity` |

// Days from 1970-01-01 to a proleptic Gregorian date and back (H. Hinnant's
// `days_from_civil` / `civil_from_days`), exact for every `i32` day, which no
// date crate covers (PostgreSQL dates reach year 5874897).

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn format_year(y: i64) -> String {
    if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y > 9999 {
        format!("+{y}")
    } else {
        format!("-{:04}", -y)
    }
}

pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{}-{m:02}-{d:02}", format_year(y))
}

pub fn format_time(us: i64) -> String {
    let (secs, frac) = (us.div_euclid(1_000_000), us.rem_euclid(1_000_000));
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{h:02}:{mi:02}:{s:02}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}.{frac:06}")
    }
}

pub fn format_timestamp(us: i64, utc: bool) -> String {
    let (days, time) = (us.div_euclid(MICROS_PER_DAY), us.rem_euclid(MICROS_PER_DAY));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}-{m:02}-{d:02}T{}{}",
        format_year(y),
        format_time(time),
        if utc { "Z" } else { "" }
    )
}

pub fn parse_date_parts(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a date (YYYY-MM-DD)");
    let (sign, body) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => (1, s),
    };
    let mut parts = body.splitn(3, '-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    let y: i64 = y.and_then(|y| y.parse().ok()).ok_or_else(bad)?;
    let m: u32 = m.and_then(|m| m.parse().ok()).ok_or_else(bad)?;
    let d: u32 = d.and_then(|d| d.parse().ok()).ok_or_else(bad)?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = days_from_civil(sign * y, m, d);
    // 31 February and the like: the date must read back as written.
    if civil_from_days(days) != (sign * y, m, d) {
        return Err(bad());
    }
    Ok(days)
}

pub fn parse_date(s: &str) -> Result<i32, String> {
    i32::try_from(parse_date_parts(s)?).map_err(|_| format!("{s:?} is out of range"))
}

pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a time (HH:MM:SS[.ffffff])");
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.split(':');
    // One or two digits, no sign: `str::parse` alone takes "-5" and
    // "+05", which would make a time before midnight that no reader
    // writes back the same way (found by the csv_record fuzz target).
    let mut next = || -> Result<i64, String> {
        parts
            .next()
            .filter(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse().ok())
            .ok_or_else(bad)
    };
    let (h, m, sec) = (next()?, next()?, next()?);
    if parts.next().is_some()
        || frac.len() > 6
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || m > 59
        || sec > 60
        || h > 24
    {
        return Err(bad());
    }
    let micros: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    let us = ((h * 60 + m) * 60 + sec) * 1_000_000 + micros;
    // 24:00:00 is the end of the day (PostgreSQL's `time` takes it, and a
    // leap second 23:59:60 is the same instant); nothing after it is a time.
    if us > MICROS_PER_DAY {
        return Err(bad());
    }
    Ok(us)
}

pub fn parse_timestamp(s: &str, utc: bool) -> Result<i64, String> {
    let body = if utc {
        s.strip_suffix('Z')
            .ok_or_else(|| format!("{s:?} is not a UTC timestamp (ending in Z)"))?
    } else {
        s
    };
    // The date's own '-' may lead (negative years): split at the 'T'.
    let (date, time) = body
        .split_once('T')
        .ok_or_else(|| format!("{s:?} is not a timestamp (YYYY-MM-DDTHH:MM:SS)"))?;
    let days = parse_date_parts(date)?;
    days.checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(parse_time(time).ok()?))
        .ok_or_else(|| format!("{s:?} is out of range"))
}

pub fn format_uuid(hi: u64, lo: u64) -> String {
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

pub fn parse_uuid(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("{s:?} is not a UUID");
    // 8-4-4-4-12 hex digits, checked byte by byte before any slicing: a
    // multi-byte character must be an error, not a slice off a char
    // boundary (found by the csv_record fuzz target), and a sign, which
    // `from_str_radix` takes, is no hex digit.
    let b = s.as_bytes();
    let shaped = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if !shaped {
        return Err(bad());
    }
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let hi = u64::from_str_radix(&hex[..16], 16).map_err(|_| bad())?;
    let lo = u64::from_str_radix(&hex[16..], 16).map_err(|_| bad())?;
    Ok((hi, lo))
}

/// A timestamp as applications write it in text, read leniently but
/// exactly: `YYYY-MM-DD HH:MM:SS[.ffffff]` or with `T`; for `utc`, it must
/// carry its zone (`Z`, `±HH`, `±HH:MM`, `±HHMM`) and is moved to UTC,
/// otherwise it must carry none (dropping a zone would change the
/// instant, assuming one would invent it).
pub fn parse_timestamp_text(s: &str, utc: bool) -> Result<i64, String> {
    let bad = || {
        format!(
            "{s:?} is not a timestamp{}",
            if utc {
                " with its zone"
            } else {
                " without a zone"
            }
        )
    };
    let b = s.as_bytes();
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || !s.is_char_boundary(11) {
        return Err(bad());
    }
    let (date, rest) = (&s[..10], &s[11..]);
    let zone_at = rest.find(['Z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if utc == zone.is_empty() {
        return Err(bad());
    }
    let offset_secs: i64 = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if !(digits.len() == 2 || digits.len() == 4)
                || !digits.bytes().all(|d| d.is_ascii_digit())
            {
                return Err(bad());
            }
            let h: i64 = digits[..2].parse().map_err(|_| bad())?;
            let m: i64 = if digits.len() == 4 {
                digits[2..].parse().map_err(|_| bad())?
            } else {
                0
            };
            if h > 15 || m > 59 {
                return Err(bad());
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = parse_date_parts(date).map_err(|_| bad())?;
    let time = parse_time(clock).map_err(|_| bad())?;
    days.checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(time))
        .and_then(|t| t.checked_sub(offset_secs * 1_000_000))
        .ok_or_else(bad)
}

/// A float as the shortest text that reads back to the same `f64`
/// (`0.1`, `-0.0`, `1e300`, `5e-324`), `NaN`, `Infinity` or `-Infinity`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        serde_json::to_string(&f).expect("a finite float serialises")
    }
}

/// Reads [`format_float`]'s text back, correctly rounded (std's parser;
/// serde_json's default one can be a unit in the last place off, which
/// would change the value on a round trip).
pub fn parse_float(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        // JSON's number grammar only: no `inf`, `+1`, `.5` or `1.`
        // spellings that `f64::from_str` would take and no writer of ours
        // emits.
        _ if is_json_number(s) => s.parse().map_err(|_| format!("{s:?} is not a number")),
        _ => Err(format!("{s:?} is not a number")),
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    match digits(&mut i) {
        0 => return false,
        n if n > 1 && b[int_start] == b'0' => return false,
        _ => {}
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_8_4_4_4_12_hex_digits() {
        let u = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        let (hi, lo) = parse_uuid(u).unwrap();
        assert_eq!(format_uuid(hi, lo), u);
        assert!(parse_uuid(&u.to_uppercase()).is_ok());
        for s in [
            // Multi-byte characters used to panic (a slice off a char boundary).
            "YD         \u{780}\u{780}Q*P\u{780}444444A",
            "6ba7b810-9dad-11d1-80b4-00c04fd430\u{e9}",
            "6ba7b810-9dad-11d\u{e9}-80b4-00c04fd430c",
            "+ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "6ba7b8109-dad-11d1-80b4-00c04fd430c8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
            "6ba7b8109dad11d180b400c04fd430c8",
        ] {
            assert!(parse_uuid(s).is_err(), "{s}");
        }
    }

    #[test]
    fn a_time_is_between_midnight_and_the_end_of_the_day() {
        assert_eq!(parse_time("00:00:00"), Ok(0));
        assert_eq!(parse_time("7:05:09.5"), Ok(25_509_500_000));
        assert_eq!(parse_time("24:00:00"), Ok(MICROS_PER_DAY));
        assert_eq!(parse_time("23:59:60"), Ok(MICROS_PER_DAY), "a leap second");
        // Each of these read as a time before midnight or after the day,
        // whose text form is another string (the fuzz target's finding:
        // "-444…:44:0" came back as "1960604266:41:30.717184").
        for s in [
            "-4444444444444422222:44:0",
            "-5:00:00",
            "+5:00:00",
            "05:-1:00",
            "05:00:+1",
            "24:00:01",
            "23:59:60.5",
            "123:00:00",
            "05:00:00:00",
            "05::00",
        ] {
            assert!(parse_time(s).is_err(), "{s}");
        }
        for us in [0, 1, 45_000_000_001, MICROS_PER_DAY - 1, MICROS_PER_DAY] {
            assert_eq!(parse_time(&format_time(us)), Ok(us));
        }
    }

    #[test]
    fn texts_read_back_exactly() {
        for d in [i32::MIN, -719_528, -1, 0, 19_782, 2_932_896, i32::MAX] {
            assert_eq!(
                parse_date(&format_date(d)).unwrap(),
                d,
                "{}",
                format_date(d)
            );
        }
        for us in [0, 1, 45_000_250_000, MICROS_PER_DAY - 1] {
            assert_eq!(parse_time(&format_time(us)).unwrap(), us);
        }
        for us in [i64::MIN / 2, -1, 0, 1_714_566_600_250_000, i64::MAX / 2] {
            for utc in [false, true] {
                assert_eq!(
                    parse_timestamp(&format_timestamp(us, utc), utc).unwrap(),
                    us
                );
            }
        }
        let (hi, lo) = (0x6f1c_0000_0000_4000, 0x8000_0000_0000_00ff);
        assert_eq!(parse_uuid(&format_uuid(hi, lo)).unwrap(), (hi, lo));
        for f in [
            0.1,
            -0.0,
            1e300,
            5e-324,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let back = parse_float(&format_float(f)).unwrap();
            assert_eq!(back.to_bits(), f.to_bits(), "{f}");
        }
        assert!(parse_float(&format_float(f64::NAN)).unwrap().is_nan());
        assert!(parse_float("inf").is_err() && parse_float("").is_err());
        for bad in ["+1", ".5", "1.", "01", "1e", "--1", "1e+", "0x10"] {
            assert!(parse_float(bad).is_err(), "{bad}");
        }
        // Found by fuzzing: serde_json's default parser reads this one a
        // unit in the last place off.
        let f = 2.6666666666666666e17_f64;
        assert_eq!(
            parse_float(&format_float(f)).unwrap().to_bits(),
            f.to_bits()
        );
        assert!(parse_date("2023-02-29").is_err());
        let noon = parse_timestamp("2024-01-01T12:00:00", false).unwrap();
        assert_eq!(
            parse_timestamp_text("2024-01-01 12:00:00", false).unwrap(),
            noon
        );
        assert_eq!(
            parse_timestamp_text("2024-01-01T14:30:00+02:30", true).unwrap(),
            noon
        );
        assert_eq!(
            parse_timestamp_text("2024-01-01 12:00:00Z", true).unwrap(),
            noon
        );
        assert_eq!(
            parse_timestamp_text("2024-01-01 07:00:00-0500", true).unwrap(),
            noon
        );
        for (text, utc) in [
            ("2024-01-01 12:00:00", true),
            ("2024-01-01 12:00:00Z", false),
            ("2024-01-01 12:00", false),
            ("2024-01-01 12:00:00+2", true),
            ("yesterday at noon!!", false),
        ] {
            assert!(parse_timestamp_text(text, utc).is_err(), "{text}");
        }
    }
}
