//! Tables as CSV (RFC 4180), exact both ways when the schema document
//! (`jsonl::schema_json_for(table, "csv")`) is read with them: a header
//! record of the column names, then one record per row (feature `csv`).
//!
//! Cells, by the column's logical type — spellings PostgreSQL's
//! `COPY … FROM … (FORMAT csv)` reads as they are:
//!
//! | type | cell |
//! |---|---|
//! | NULL (any column) | an empty, **unquoted** cell |
//! | empty text (or decimal, json) | `""` — quoted, so it is not NULL |
//! | boolean | `true`, `false` |
//! | int, uint, decimal | digits as the source spelled them |
//! | float | shortest text that reads back to the same `f64`; `NaN`, `Infinity`, `-Infinity` |
//! | text, json | the text itself (the document verbatim for json) |
//! | bytes | `\x` and lower-case hex (PostgreSQL's `bytea` hex form) |
//! | date, time, timestamp, timestamptz, uuid | as in [`crate::textforms`] |
//! | vector | `[0.5,1,-2]` (pgvector's text form) |
//!
//! A cell is quoted when it is empty text or holds `,`, `"`, CR or LF; a
//! `"` inside is doubled. Records end with LF; a reader also takes CRLF.
//!
//! CSV has no way to say which kind a single value is, and SQLite keeps
//! any value in any column (a `DATE` column holding text). So each column
//! has one *cell kind* per file: its type's, unless the first non-NULL
//! value written has another kind (then that kind, recorded in the schema
//! document's `"cell_kinds"`, and read back as such: exact). A later value
//! of yet another kind cannot be written: [`Encoder::encode_row`] refuses
//! its row with a reason (the target rejects it; the run's reject file
//! names it). JSON Lines (`crate::jsonl`) tags every such value and keeps
//! them all.
//!
//! Parsing is our own, not the `csv` crate's: telling NULL (an unquoted
//! empty cell) from empty text (`""`) needs to know whether a cell was
//! quoted, which neither `csv` nor `csv-core` reports.

use crate::textforms::{
    format_date, format_float, format_time, format_timestamp, format_uuid, parse_date, parse_float,
    parse_time, parse_timestamp, parse_timestamp_text, parse_uuid,
};
use crate::values::{kind_name, natural_kind};
use crate::{ColumnDef, Value};

/// Writes rows of one table, deciding each column's cell kind as it goes.
pub struct Encoder {
    columns: Vec<ColumnDef>,
    /// Per column: the kind its cells hold, once decided.
    kinds: Vec<Option<&'static str>>,
}

impl Encoder {
    /// An encoder for a table of these columns: a typed column's cells
    /// are its type's kind; an `any` column's are decided by its first
    /// value.
    pub fn new(columns: &[ColumnDef]) -> Self {
        Encoder {
            kinds: columns.iter().map(|c| natural_kind(&c.logical)).collect(),
            columns: columns.to_vec(),
        }
    }

    /// Appends the header record (the column names).
    pub fn header(&self, out: &mut Vec<u8>) {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_cell(out, &c.name);
        }
        out.push(b'\n');
    }

    /// Appends one row as a record (with its LF). On error the row is
    /// refused: the caller truncates `out` to its length before the call,
    /// and no cell kind was decided by it.
    pub fn encode_row(&mut self, out: &mut Vec<u8>, row: &[Value]) -> Result<(), String> {
        if row.len() != self.columns.len() {
            return Err(format!(
                "a row of {} values for {} columns",
                row.len(),
                self.columns.len()
            ));
        }
        let mut decided = Vec::new();
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if matches!(v, Value::Null) {
                continue;
            }
            let kind = kind_name(v);
            let typed = natural_kind(&self.columns[i].logical).is_some();
            // The first value of an `any` column decides its cells' kind.
            let cells = match self.kinds[i] {
                Some(k) => k,
                None => {
                    decided.push((i, kind));
                    kind
                }
            };
            let converted;
            let v = if cells == kind {
                v
            } else if typed {
                // A value SQLite kept as another kind: in the column's
                // type, as a typed database would hold it, when exact.
                converted = convert_exact(v, cells)
                    .map_err(|e| format!("column {}: {e}", self.columns[i].name))?;
                &converted
            } else {
                return Err(format!(
                    "column {}: a {kind} value where this file's cells are {cells} (the column has no \
                     single type, and a CSV cell cannot mark its own kind: cast the column, or write \
                     JSON Lines, which keeps it)",
                    self.columns[i].name
                ));
            };
            write_cell(out, &cell_text(v));
        }
        out.push(b'\n');
        for (i, k) in decided {
            self.kinds[i] = Some(k);
        }
        Ok(())
    }

    /// The columns whose cells hold another kind than their type's, for
    /// the schema document (`"cell_kinds"`).
    pub fn cell_kinds(&self) -> Vec<(String, String)> {
        self.columns
            .iter()
            .zip(&self.kinds)
            .filter_map(|(c, k)| {
                let k = (*k)?;
                (natural_kind(&c.logical) != Some(k)).then(|| (c.name.clone(), k.to_owned()))
            })
            .collect()
    }
}

/// `v` as a value of kind `kind`, when nothing is lost: numbers between
/// numeric kinds when the value is the same, 0/1 as booleans, text that
/// reads exactly as the kind (a date, a naive timestamp into `timestamp`,
/// one with its zone into `timestamptz`, digits, JSON). Anything else is
/// refused with the reason, and its row rejected.
pub fn convert_exact(v: &Value, kind: &str) -> Result<Value, String> {
    let refuse = || {
        Err(format!(
            "a {} value {:?} does not convert exactly to {kind}; a CSV cell holds its column's type only \
             (cast the column, or write JSON Lines, which keeps the value as it is)",
            kind_name(v),
            excerpt(&cell_text(v))
        ))
    };
    const EXACT_F64: i64 = 1 << 53;
    let converted = match (kind, v) {
        ("text", Value::Int(_) | Value::Uint(_) | Value::Float(_) | Value::Decimal(_)) => {
            Value::Text(cell_text(v))
        }
        ("text", Value::Json(s)) => Value::Text(s.clone()),
        ("decimal", Value::Int(_) | Value::Uint(_)) => Value::Decimal(cell_text(v)),
        ("decimal", Value::Float(f)) if f.is_finite() => Value::Decimal(format_float(*f)),
        ("decimal", Value::Text(s)) if is_decimal(s) => Value::Decimal(s.clone()),
        ("float", Value::Int(i)) if (-EXACT_F64..=EXACT_F64).contains(i) => Value::Float(*i as f64),
        ("float", Value::Decimal(s) | Value::Text(s)) => match parse_float(s) {
            Ok(f) if format_float(f) == *s => Value::Float(f),
            _ => return refuse(),
        },
        ("int", Value::Uint(u)) => match i64::try_from(*u) {
            Ok(i) => Value::Int(i),
            Err(_) => return refuse(),
        },
        ("int", Value::Float(f)) if f.fract() == 0.0 && f.abs() <= EXACT_F64 as f64 => {
            Value::Int(*f as i64)
        }
        ("int", Value::Decimal(s) | Value::Text(s)) => match s.parse::<i64>() {
            Ok(i) if i.to_string() == *s => Value::Int(i),
            _ => return refuse(),
        },
        ("uint", Value::Int(i)) if *i >= 0 => Value::Uint(*i as u64),
        ("uint", Value::Decimal(s) | Value::Text(s)) => match s.parse::<u64>() {
            Ok(u) if u.to_string() == *s => Value::Uint(u),
            _ => return refuse(),
        },
        ("boolean", Value::Int(0)) => Value::Boolean(false),
        ("boolean", Value::Int(1)) => Value::Boolean(true),
        ("boolean", Value::Text(s)) if s == "true" || s == "false" => Value::Boolean(s == "true"),
        ("date", Value::Text(s)) => match parse_date(s) {
            Ok(d) if format_date(d) == *s => Value::Date(d),
            _ => return refuse(),
        },
        ("time", Value::Text(s)) => match parse_time(s) {
            Ok(t) => Value::Time(t),
            Err(_) => return refuse(),
        },
        ("timestamp", Value::Text(s)) => match parse_timestamp_text(s, false) {
            Ok(t) => Value::Timestamp(t),
            Err(_) => return refuse(),
        },
        ("timestamptz", Value::Text(s)) => match parse_timestamp_text(s, true) {
            Ok(t) => Value::Timestamptz(t),
            Err(_) => return refuse(),
        },
        ("uuid", Value::Text(s)) => match parse_uuid(s) {
            Ok(u) => Value::Uuid(u),
            Err(_) => return refuse(),
        },
        ("json", Value::Text(s)) if serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok() => {
            Value::Json(s.clone())
        }
        ("vector", Value::Text(s) | Value::Json(s)) => match serde_json::from_str(s) {
            Ok(xs) => Value::Vector(xs),
            Err(_) => return refuse(),
        },
        _ => return refuse(),
    };
    Ok(converted)
}

fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    !int.is_empty()
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// A non-NULL value's cell text (before quoting).
fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Boolean(b) => if *b { "true" } else { "false" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => format_float(*f),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Bytes(b) => {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for byte in b {
                s.push(HEX[usize::from(byte >> 4)] as char);
                s.push(HEX[usize::from(byte & 15)] as char);
            }
            s
        }
        Value::Timestamp(us) => format_timestamp(*us, false),
        Value::Timestamptz(us) => format_timestamp(*us, true),
        Value::Date(d) => format_date(*d),
        Value::Time(us) => format_time(*us),
        Value::Uuid((hi, lo)) => format_uuid(*hi, *lo),
        Value::Vector(xs) => serde_json::to_string(xs).expect("floats serialise"),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the text of a non-NULL value as one cell: quoted when empty
/// (an unquoted empty cell is NULL) or holding `,`, `"`, CR or LF.
fn write_cell(out: &mut Vec<u8>, text: &str) {
    let quote = text.is_empty()
        || text
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !quote {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Finds where records end in a byte stream read in chunks: a LF outside
/// quotes. Keeps its place between calls, so a record longer than a chunk
/// is scanned once, not once per chunk.
#[derive(Default, Debug)]
pub struct Scan {
    /// Bytes of the current record scanned so far.
    pos: usize,
    /// Whether `pos` is inside a quoted cell.
    quoted: bool,
}

impl Scan {
    /// The index of the LF that ends the record starting at `bytes[0]`
    /// (the bytes seen before must be the same; call [`Scan::reset`] after
    /// taking a record), or `None` if the record is not complete yet.
    pub fn record_end(&mut self, bytes: &[u8]) -> Option<usize> {
        while self.pos < bytes.len() {
            let b = bytes[self.pos];
            if b == b'"' {
                self.quoted = !self.quoted;
            } else if b == b'\n' && !self.quoted {
                return Some(self.pos);
            }
            self.pos += 1;
        }
        None
    }

    /// Starts over for the next record.
    pub fn reset(&mut self) {
        *self = Scan::default();
    }

    /// Whether the bytes scanned end inside a quoted cell (a file that
    /// ends there is cut short).
    pub fn in_quotes(&self) -> bool {
        self.quoted
    }
}

/// One cell of a record: its text, and whether it was quoted.
#[derive(Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub quoted: bool,
}

/// Splits one complete record (without its LF; a CR before it is
/// dropped) into cells, strictly: a quote inside an unquoted cell, or
/// anything but `,` after a closing quote, is an error.
pub fn split_record(record: &[u8]) -> Result<Vec<Cell>, String> {
    let record = record.strip_suffix(b"\r").unwrap_or(record);
    let text = std::str::from_utf8(record).map_err(|e| format!("not UTF-8: {e}"))?;
    let bytes = text.as_bytes();
    let mut cells = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            let mut cell = String::new();
            let mut j = i + 1;
            let mut from = j;
            loop {
                match bytes.get(j) {
                    None => return Err(format!("cell {} has no closing quote", cells.len() + 1)),
                    Some(b'"') if bytes.get(j + 1) == Some(&b'"') => {
                        cell.push_str(&text[from..=j]);
                        j += 2;
                        from = j;
                    }
                    Some(b'"') => {
                        cell.push_str(&text[from..j]);
                        j += 1;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            cells.push(Cell {
                text: cell,
                quoted: true,
            });
            match bytes.get(j) {
                None => return Ok(cells),
                Some(b',') => i = j + 1,
                Some(_) => {
                    return Err(format!(
                        "cell {}: text after its closing quote",
                        cells.len()
                    ))
                }
            }
        } else {
            let end = bytes[i..]
                .iter()
                .position(|b| *b == b',')
                .map_or(bytes.len(), |p| i + p);
            let cell = &text[i..end];
            if cell.contains('"') {
                return Err(format!(
                    "cell {}: a quote inside an unquoted cell",
                    cells.len() + 1
                ));
            }
            cells.push(Cell {
                text: cell.to_owned(),
                quoted: false,
            });
            if end == bytes.len() {
                return Ok(cells);
            }
            i = end + 1;
        }
    }
}

/// Reads rows of one table back, each column's cells as their kind.
pub struct Decoder {
    columns: Vec<ColumnDef>,
    /// Per column: the kind of its cells (`None`: an `any` column no
    /// value was written to, whose cells must all be NULL).
    kinds: Vec<Option<&'static str>>,
}

/// The cell kinds a schema may name.
const KINDS: &[&str] = &[
    "boolean",
    "int",
    "uint",
    "float",
    "decimal",
    "text",
    "bytes",
    "json",
    "timestamp",
    "timestamptz",
    "date",
    "time",
    "uuid",
    "vector",
];

impl Decoder {
    /// A decoder for these columns and the schema's `cell_kinds`.
    pub fn new(columns: &[ColumnDef], cell_kinds: &[(String, String)]) -> Result<Self, String> {
        let mut kinds: Vec<Option<&'static str>> =
            columns.iter().map(|c| natural_kind(&c.logical)).collect();
        for (name, kind) in cell_kinds {
            let i = columns
                .iter()
                .position(|c| &c.name == name)
                .ok_or_else(|| format!("cell_kinds names {name:?}, which is no column"))?;
            let k = KINDS
                .iter()
                .find(|k| **k == kind)
                .ok_or_else(|| format!("cell_kinds: {kind:?} is no value kind"))?;
            kinds[i] = Some(k);
        }
        Ok(Decoder {
            columns: columns.to_vec(),
            kinds,
        })
    }

    /// Checks a header record against the column names.
    pub fn check_header(&self, record: &[u8]) -> Result<(), String> {
        let names: Vec<String> = split_record(record)?.into_iter().map(|c| c.text).collect();
        let want: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        if names != want {
            return Err(format!(
                "the header names the columns {names:?}, the schema file {want:?}"
            ));
        }
        Ok(())
    }

    /// Reads one record back into a row, in the order of the columns.
    pub fn decode_row(&self, record: &[u8]) -> Result<Vec<Value>, String> {
        let cells = split_record(record)?;
        if cells.len() != self.columns.len() {
            return Err(format!(
                "{} cells for {} columns",
                cells.len(),
                self.columns.len()
            ));
        }
        cells
            .into_iter()
            .zip(self.columns.iter().zip(&self.kinds))
            .map(|(cell, (c, k))| {
                decode_cell(cell, *k).map_err(|e| format!("column {}: {e}", c.name))
            })
            .collect()
    }
}

fn decode_cell(cell: Cell, kind: Option<&str>) -> Result<Value, String> {
    if cell.text.is_empty() && !cell.quoted {
        return Ok(Value::Null);
    }
    let s = cell.text;
    let bad = |what: &str| format!("expected {what}, found {:?}", excerpt(&s));
    Ok(match kind {
        Some("boolean") => match s.as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => return Err(bad("true or false")),
        },
        Some("int") => Value::Int(s.parse().map_err(|_| bad("a 64-bit integer"))?),
        Some("uint") => Value::Uint(s.parse().map_err(|_| bad("an unsigned 64-bit integer"))?),
        Some("float") => Value::Float(parse_float(&s)?),
        Some("decimal") => Value::Decimal(s),
        Some("text") => Value::Text(s),
        Some("json") => Value::Json(s),
        Some("bytes") => Value::Bytes(unhex(&s).ok_or_else(|| bad("\\x and hex digits"))?),
        Some("timestamp") => Value::Timestamp(parse_timestamp(&s, false)?),
        Some("timestamptz") => Value::Timestamptz(parse_timestamp(&s, true)?),
        Some("date") => Value::Date(parse_date(&s)?),
        Some("time") => Value::Time(parse_time(&s)?),
        Some("uuid") => Value::Uuid(parse_uuid(&s)?),
        Some("vector") => {
            Value::Vector(serde_json::from_str(&s).map_err(|_| bad("an array of numbers"))?)
        }
        _ => return Err(bad("NULL (an any column no value was written to)")),
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let hex = s.strip_prefix("\\x")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn excerpt(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecimalSpec, LogicalType};

    fn col(name: &str, logical: LogicalType) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            logical,
            native_type: String::new(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        }
    }

    fn columns() -> Vec<ColumnDef> {
        vec![
            col("b", LogicalType::Boolean),
            col("i", LogicalType::Int(64)),
            col("u", LogicalType::Uint(64)),
            col("f", LogicalType::Float(64)),
            col(
                "d",
                LogicalType::Decimal(DecimalSpec {
                    precision: Some(12),
                    scale: Some(2),
                }),
            ),
            col("t", LogicalType::Text(None)),
            col("by", LogicalType::Bytes(None)),
            col("j", LogicalType::Json),
            col("ts", LogicalType::Timestamp),
            col("tz", LogicalType::Timestamptz),
            col("da", LogicalType::Date),
            col("ti", LogicalType::Time),
            col("id", LogicalType::Uuid),
            col("v", LogicalType::Vector(Some(3))),
        ]
    }

    /// Splits a whole file into records the way a reader fed in chunks of
    /// `chunk` bytes does.
    fn records(file: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let (mut pending, mut out, mut scan) = (Vec::new(), Vec::new(), Scan::default());
        for piece in file.chunks(chunk) {
            pending.extend_from_slice(piece);
            while let Some(end) = scan.record_end(&pending) {
                out.push(pending[..end].to_vec());
                pending.drain(..=end);
                scan.reset();
            }
        }
        assert!(pending.is_empty() && !scan.in_quotes());
        out
    }

    #[test]
    fn values_read_back_as_written() {
        let cols = columns();
        let rows = vec![
            vec![
                Value::Boolean(true),
                Value::Int(i64::MIN),
                Value::Uint(u64::MAX),
                Value::Float(-0.0),
                Value::Decimal("-0.01".into()),
                Value::Text("Zoë \"Z\", 🦆\r\nline".into()),
                Value::Bytes(vec![0, 255, 16]),
                Value::Json("{\"a\": [1, 2.50]}".into()),
                Value::Timestamp(1_714_566_600_250_000),
                Value::Timestamptz(-1),
                Value::Date(-719_528),
                Value::Time(45_000_000_001),
                Value::Uuid((0x6f1c_0000_0000_4000, 0x8000_0000_0000_00ff)),
                Value::Vector(vec![0.5, 1.0, -2.25]),
            ],
            vec![Value::Null; 14],
            {
                let mut r = vec![Value::Null; 14];
                r[3] = Value::Float(f64::NAN);
                r[4] = Value::Decimal(String::new());
                r[5] = Value::Text(String::new());
                r[6] = Value::Bytes(Vec::new());
                r[7] = Value::Json("\"\"".into());
                r
            },
        ];
        let mut file = Vec::new();
        let mut enc = Encoder::new(&cols);
        enc.header(&mut file);
        for r in &rows {
            enc.encode_row(&mut file, r).unwrap();
        }
        assert!(enc.cell_kinds().is_empty(), "{:?}", enc.cell_kinds());
        let dec = Decoder::new(&cols, &enc.cell_kinds()).unwrap();
        for chunk in [1, 7, 4096] {
            let recs = records(&file, chunk);
            dec.check_header(&recs[0]).unwrap();
            assert_eq!(recs.len(), rows.len() + 1);
            for (rec, want) in recs[1..].iter().zip(&rows) {
                let got = dec.decode_row(rec).unwrap();
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(want) {
                    match (g, w) {
                        (Value::Float(a), Value::Float(b)) => {
                            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
                        }
                        _ => assert_eq!(format!("{g:?}"), format!("{w:?}")),
                    }
                }
            }
        }
        // NULL is an unquoted empty cell, empty text a quoted one.
        let text = String::from_utf8(file).unwrap();
        assert!(text.contains("\n,,,,,,,,,,,,,\n"), "{text}");
        assert!(
            text.contains(",,,NaN,\"\",\"\",\\x,\"\"\"\"\"\","),
            "{text}"
        );
    }

    #[test]
    fn values_of_another_kind_are_held_in_the_columns_type_when_exact_or_refused() {
        // A SQLite DATE column holding text, NUMERIC holding integers, an
        // `any` column whose first value is an int.
        let cols = vec![
            col("d", LogicalType::Date),
            col(
                "n",
                LogicalType::Decimal(DecimalSpec {
                    precision: Some(12),
                    scale: Some(2),
                }),
            ),
            col("x", LogicalType::Any),
        ];
        let mut enc = Encoder::new(&cols);
        let mut out = Vec::new();
        enc.encode_row(&mut out, &[Value::Null, Value::Null, Value::Null])
            .unwrap();
        enc.encode_row(
            &mut out,
            &[
                Value::Text("2024-02-29".into()),
                Value::Int(0),
                Value::Int(7),
            ],
        )
        .unwrap();
        let before = out.len();
        for (row, want) in [
            (
                [Value::Text("2024-02-30".into()), Value::Null, Value::Null],
                "column d: a text value \"2024-02-30\" does not convert exactly to date",
            ),
            (
                [Value::Null, Value::Float(f64::NAN), Value::Null],
                "column n: a float value \"NaN\" does not convert exactly to decimal",
            ),
            (
                [Value::Null, Value::Null, Value::Text("y".into())],
                "column x: a text value where this file's cells are int",
            ),
        ] {
            let err = enc.encode_row(&mut out, &row).unwrap_err();
            assert!(err.contains(want), "{err}");
            out.truncate(before);
        }
        assert_eq!(enc.cell_kinds(), vec![("x".into(), "int".into())]);
        let dec = Decoder::new(&cols, &enc.cell_kinds()).unwrap();
        let got: Vec<String> = records(&out, 3)
            .iter()
            .map(|r| format!("{:?}", dec.decode_row(r).unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                format!("{:?}", vec![Value::Null, Value::Null, Value::Null]),
                format!(
                    "{:?}",
                    vec![
                        Value::Date(19_782),
                        Value::Decimal("0".into()),
                        Value::Int(7)
                    ]
                ),
            ]
        );
        // An `any` column nothing was written to reads NULLs only.
        let dec = Decoder::new(&cols, &[]).unwrap();
        assert!(dec.decode_row(b",,1").unwrap_err().contains("column x"));
        assert!(Decoder::new(&cols, &[("nope".into(), "int".into())]).is_err());
    }

    #[test]
    fn exact_conversions_keep_the_value_and_others_are_refused() {
        let ok = |v: Value, kind: &str| format!("{:?}", convert_exact(&v, kind).unwrap());
        assert_eq!(
            ok(Value::Int(1), "boolean"),
            format!("{:?}", Value::Boolean(true))
        );
        assert_eq!(
            ok(Value::Int(1 << 53), "float"),
            format!("{:?}", Value::Float(9007199254740992.0))
        );
        assert_eq!(
            ok(Value::Float(19.99), "decimal"),
            format!("{:?}", Value::Decimal("19.99".into()))
        );
        assert_eq!(
            ok(Value::Text("42".into()), "int"),
            format!("{:?}", Value::Int(42))
        );
        assert_eq!(
            ok(Value::Text("2024-01-01 12:34:56".into()), "timestamp"),
            format!("{:?}", Value::Timestamp(1_704_112_496_000_000))
        );
        for (v, kind) in [
            (Value::Int(2), "boolean"),
            (Value::Int((1 << 53) + 1), "float"),
            (Value::Float(1.5), "int"),
            (Value::Text("042".into()), "int"),
            (Value::Text("0.10".into()), "float"),
            (Value::Text("2024-01-01 12:34:56".into()), "timestamptz"),
            (Value::Text("2024-01-01 12:34:56Z".into()), "timestamp"),
            (Value::Text("{not json".into()), "json"),
            (Value::Text("abc".into()), "bytes"),
            (Value::Uint(u64::MAX), "int"),
        ] {
            assert!(convert_exact(&v, kind).is_err(), "{v:?} as {kind}");
        }
    }

    #[test]
    fn malformed_records_are_refused_with_the_cell() {
        let cols = vec![
            col("a", LogicalType::Text(None)),
            col("b", LogicalType::Int(64)),
        ];
        let dec = Decoder::new(&cols, &[]).unwrap();
        for (rec, want) in [
            (&b"x,\"1"[..], "no closing quote"),
            (b"x,\"1\"2", "text after its closing quote"),
            (b"x\"y,1", "a quote inside an unquoted cell"),
            (b"x", "1 cells for 2 columns"),
            (b"x,1.5", "column b: expected a 64-bit integer"),
            (b"\xff,1", "not UTF-8"),
        ] {
            let err = dec.decode_row(rec).unwrap_err();
            assert!(err.contains(want), "{rec:?}: {err}");
        }
        assert_eq!(
            format!("{:?}", dec.decode_row(b"\"\",\r").unwrap()),
            format!("{:?}", vec![Value::Text(String::new()), Value::Null])
        );
        let err = dec.check_header(b"a,c").unwrap_err();
        assert!(err.contains("[\"a\", \"c\"]"), "{err}");
    }
}
