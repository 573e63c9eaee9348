//! `checksum`: compares table contents between source (label `source`) and
//! target (label `target`), row by row, and names the rows that differ.
//!
//! PostgreSQL to PostgreSQL, the work happens inside the databases (like
//! data-diff): each side hashes its rows (`md5` of the row's text) and sums
//! them per hash partition of the primary key, in one query per side; only
//! partitions whose count or sum differ are narrowed, by finer partitions,
//! until they are small enough to fetch `(key, row hash)` pairs and diff
//! them. Identical tables cost one aggregate query per side, whatever their
//! size. With `sample_partitions`, only that many of the partitions (picked
//! by `seed`) are compared: a sampled check for huge tables.
//!
//! Other same-dialect pairs (SQLite, MySQL) stream both sides ordered by the
//! primary key and compare the values in the plugin (bounded memory). Pairs
//! of different dialects are streamed the same way when the key is made of
//! integers (text keys sort by each side's collation) and compared by
//! meaning (`same_meaning`: the same number, text, instant, bytes); columns
//! whose kind of value a cast changed are left out and named.
//!
//! With the step's pipeline granted (contract 0.3, `grants.pipeline =
//! ["<step>"]`), source rows are compared as the run wrote them: each
//! batch read from the source goes through `pipeline.apply` (the step's
//! casts, rewrite rules, NUL-byte and zero-date policies) before it is
//! compared, so a rewritten path matches its copy and cast columns are
//! compared too. A table whose columns the pipeline changes is streamed
//! (the in-database hashes cannot apply a rule); rows the pipeline refuses
//! are expected to be absent from the target and counted.

use godwit_sdk::params::Configured;
use std::collections::BTreeMap;

use godwit_sdk::caps::sql::Dialect;
use godwit_sdk::db::{query_rows, quote, SqlConnection};
use godwit_sdk_v0_3::caps::sql;
use godwit_sdk_v0_3::validator::pipeline::{self, TablePipeline};
use godwit_sdk_v0_3::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::values::as_i64;
use godwit_sdk::{Error, SeededRng, Value};

/// Partitions of the first round: enough that one differing row narrows the
/// search to 1/64 of the table in one query per side.
const PARTITIONS: u64 = 64;
/// A partition with at most this many rows is fetched as `(key, hash)` pairs.
const FETCH_ROWS: i64 = 5000;
/// Differing keys listed per table.
const EXAMPLES: usize = 10;
/// Rounds of narrowing (64^4 partitions reach any table size).
const MAX_DEPTH: u32 = 4;

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Compare only this many of the 64 first-round partitions.
    #[serde(default)]
    sample_partitions: Option<u64>,
    #[serde(default)]
    seed: u64,
}

static PARAMS: Configured<Params> = Configured::new();

struct Checksum;

impl Validator for Checksum {
    fn describe() -> PluginInfo {
        let req = |label: &str, purpose: &str| CapabilityRequest {
            kind: CapabilityKind::Sql,
            label: label.into(),
            purpose: purpose.into(),
        };
        PluginInfo {
            name: "checksum".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Compares table contents between source and target and names the differing rows (hashing inside PostgreSQL, narrowing by key partitions).".into(),
            requests: vec![
                req("source", "hash the source tables"),
                req("target", "hash the target tables"),
            ],
            params_doc: "- `sample_partitions` (integer, optional): compare only this many of 64 key partitions (sampled mode)\n\
                         - `seed` (integer, default 0): which partitions are sampled"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        if let Some(n) = p.sample_partitions {
            if n == 0 || n > PARTITIONS {
                return Err(Error::InvalidInput(format!(
                    "sample_partitions must be between 1 and {PARTITIONS}"
                )));
            }
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let src = sql::open("source")?;
        let dst = sql::open("target")?;
        let mut findings = Vec::new();
        for t in &tables {
            let finding = |severity, message: String| Finding {
                check: "checksum".into(),
                severity,
                subject: t.target.clone(),
                message,
                expected: None,
                observed: None,
            };
            if t.source_def.primary_key.is_empty() {
                findings.push(finding(
                    Severity::Warning,
                    "not compared: the table has no primary key".into(),
                ));
                continue;
            }
            let mut note = String::new();
            // The step's pipeline, where granted: source rows as written.
            let pipe = match pipeline::open(&t.source) {
                Ok(p) => Some(p),
                Err(Error::AccessDenied(_) | Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let changed = pipe.as_ref().map(|p| p.changed_columns()).unwrap_or_default();
            if let Some(k) = t
                .source_def
                .primary_key
                .iter()
                .find(|k| changed.contains(k))
            {
                findings.push(finding(
                    Severity::Warning,
                    format!("not compared: its key column {k} is changed by the step's pipeline (cast or rewrite), so the two sides are not in the same order"),
                ));
                continue;
            }
            if !changed.is_empty() {
                note = format!(
                    "; source values as the step's pipeline writes them ({} changed by a cast or rule)",
                    changed.join(", ")
                );
            }
            let dialects = (
                SqlConnection::dialect(&src),
                SqlConnection::dialect(&dst),
            );
            let outcome = match dialects {
                (Dialect::Postgres, Dialect::Postgres) if changed.is_empty() => {
                    postgres_diff(&src, &dst, t, &p)?
                }
                (a, b) if a == b => {
                    let cols = same_columns(t);
                    stream_diff(&src, &dst, t, &cols, Compare::Exact, pipe.as_ref())?
                }
                _ => {
                    // Both sides ordered by the key: the same order in every
                    // database only for integer keys (text sorts by each
                    // side's collation).
                    let int_key = t.source_def.primary_key.iter().all(|k| {
                        t.source_def.columns.iter().any(|c| {
                            &c.name == k
                                && matches!(
                                    c.logical,
                                    godwit_sdk::LogicalType::Int(_)
                                        | godwit_sdk::LogicalType::Uint(_)
                                )
                        })
                    });
                    if !int_key {
                        findings.push(finding(
                            Severity::Warning,
                            "not compared: its primary key is not made of integers, and text keys sort differently in the two databases (use row-count and orphans, or a same-dialect copy)".into(),
                        ));
                        continue;
                    }
                    // Through the pipeline, a cast column holds the cast value.
                    let (cols, skipped) = comparable_columns(t, pipe.is_some());
                    if !skipped.is_empty() {
                        note = format!(
                            "; not compared: {} (type changed by a cast)",
                            skipped.join(", ")
                        );
                    }
                    let mut o = stream_diff(
                        &src,
                        &dst,
                        t,
                        &cols,
                        Compare::AcrossDialects,
                        pipe.as_ref(),
                    )?;
                    o.across = true;
                    o
                }
            };
            if outcome.refused > 0 {
                note.push_str(&format!(
                    "; {} source rows the pipeline refuses (so the run rejected them) are not expected in the target",
                    outcome.refused
                ));
            }
            findings.push(if outcome.differing.is_empty() {
                finding(
                    Severity::Info,
                    format!(
                        "{} rows identical{}{}{note}",
                        outcome.rows,
                        if outcome.sampled {
                            " (sampled partitions)"
                        } else {
                            ""
                        },
                        if outcome.across {
                            " (values compared as the same number, text, instant or bytes across dialects)"
                        } else {
                            ""
                        }
                    ),
                )
            } else {
                let mut f = finding(
                    Severity::Error,
                    format!(
                        "{} rows differ{}; keys: {}",
                        outcome.count,
                        if outcome.sampled {
                            " in the sampled partitions"
                        } else {
                            ""
                        },
                        outcome.differing.join("; ")
                    ),
                );
                f.expected = Some("0".into());
                f.observed = Some(outcome.count.to_string());
                f
            });
        }
        Ok(findings)
    }
}

/// Result of comparing one table.
struct Outcome {
    rows: u64,
    count: u64,
    differing: Vec<String>,
    sampled: bool,
    /// Compared across dialects (values by meaning, not form).
    across: bool,
    /// Source rows the step's pipeline refuses (left out of the comparison).
    refused: u64,
}

/// The primary key of row `r` as one text value (`a|b` for composite keys).
fn pg_key_text(conn: &sql::Connection, key: &[String]) -> String {
    key.iter()
        .map(|k| format!("r.{}::text", quote(conn, k)))
        .collect::<Vec<_>>()
        .join(" || '|' || ")
}

/// `(count, sum of row hashes)` per partition, computed by PostgreSQL.
fn pg_partitions(
    conn: &sql::Connection,
    table: &str,
    key: &[String],
    level: u32,
    within: Option<u64>,
) -> Result<BTreeMap<u64, (i64, String)>, Error> {
    let t = quote(conn, table);
    let key_expr = pg_key_text(conn, key);
    // A partition at `level` is (hash mod 64^level); narrowing keeps the
    // parent partition (hash mod 64^(level-1)) fixed.
    let modulus = PARTITIONS.pow(level);
    let h = format!("mod(('x' || substr(md5({key_expr}), 1, 15))::bit(60)::bigint, {modulus})");
    let filter = match within {
        Some(parent) => format!(
            "WHERE mod(('x' || substr(md5({key_expr}), 1, 15))::bit(60)::bigint, {}) = {parent}",
            modulus / PARTITIONS
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {h} AS p, count(*), sum(('x' || substr(md5(r::text), 1, 15))::bit(60)::bigint)::text \
         FROM {t} r {filter} GROUP BY 1"
    );
    let mut out = BTreeMap::new();
    for row in query_rows(conn, &sql, &[])? {
        let p = as_i64(&row[0]).unwrap_or(0) as u64;
        let n = as_i64(&row[1]).unwrap_or(0);
        let s = match &row[2] {
            Value::Text(s) => s.clone(),
            other => format!("{other:?}"),
        };
        out.insert(p, (n, s));
    }
    Ok(out)
}

/// `key text -> row md5` of one partition.
fn pg_rows(
    conn: &sql::Connection,
    table: &str,
    key: &[String],
    level: u32,
    partition: u64,
) -> Result<BTreeMap<String, String>, Error> {
    let t = quote(conn, table);
    let key_expr = pg_key_text(conn, key);
    let sql = format!(
        "SELECT {key_expr}, md5(r::text) FROM {t} r \
         WHERE mod(('x' || substr(md5({key_expr}), 1, 15))::bit(60)::bigint, {}) = {partition}",
        PARTITIONS.pow(level)
    );
    Ok(query_rows(conn, &sql, &[])?
        .into_iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect())
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        other => format!("{other:?}"),
    }
}

fn postgres_diff(
    src: &sql::Connection,
    dst: &sql::Connection,
    t: &TablePair,
    p: &Params,
) -> Result<Outcome, Error> {
    let skey = &t.source_def.primary_key;
    let tkey = &t.target_def.primary_key;
    let a = pg_partitions(src, &t.source, skey, 1, None)?;
    let b = pg_partitions(dst, &t.target, tkey, 1, None)?;
    let mut candidates: Vec<u64> = (0..PARTITIONS).collect();
    let sampled = p.sample_partitions.is_some();
    if let Some(n) = p.sample_partitions {
        let mut rng = SeededRng::new(p.seed);
        for i in (1..candidates.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            candidates.swap(i, j);
        }
        candidates.truncate(n as usize);
    }
    let rows = candidates
        .iter()
        .map(|c| a.get(c).map_or(0, |x| x.0) as u64)
        .sum();
    let mut out = Outcome {
        rows,
        count: 0,
        differing: Vec::new(),
        sampled,
        across: false,
        refused: 0,
    };
    // (level, partition) pairs still to narrow.
    let mut todo: Vec<(u32, u64, i64)> = candidates
        .into_iter()
        .filter(|c| a.get(c) != b.get(c))
        .map(|c| {
            let n = a
                .get(&c)
                .map_or(0, |x| x.0)
                .max(b.get(&c).map_or(0, |x| x.0));
            (1, c, n)
        })
        .collect();
    while let Some((level, part, size)) = todo.pop() {
        if size <= FETCH_ROWS || level >= MAX_DEPTH {
            let ra = pg_rows(src, &t.source, skey, level, part)?;
            let rb = pg_rows(dst, &t.target, tkey, level, part)?;
            for (k, h) in &ra {
                let why = match rb.get(k) {
                    None => Some("missing in the target"),
                    Some(h2) if h2 != h => Some("different values"),
                    _ => None,
                };
                if let Some(why) = why {
                    out.count += 1;
                    if out.differing.len() < EXAMPLES {
                        out.differing.push(format!("{k} ({why})"));
                    }
                }
            }
            for k in rb.keys().filter(|k| !ra.contains_key(*k)) {
                out.count += 1;
                if out.differing.len() < EXAMPLES {
                    out.differing.push(format!("{k} (only in the target)"));
                }
            }
            continue;
        }
        let sa = pg_partitions(src, &t.source, skey, level + 1, Some(part))?;
        let sb = pg_partitions(dst, &t.target, tkey, level + 1, Some(part))?;
        for sub in sa
            .keys()
            .chain(sb.keys())
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
        {
            if sa.get(&sub) != sb.get(&sub) {
                let n = sa
                    .get(&sub)
                    .map_or(0, |x| x.0)
                    .max(sb.get(&sub).map_or(0, |x| x.0));
                todo.push((level + 1, sub, n));
            }
        }
    }
    Ok(out)
}

/// Comparison by streaming both sides in key order; with `pipe`, every
/// source column is read and each batch goes through the step's pipeline
/// before the compared columns are taken from it.
fn stream_diff(
    src: &sql::Connection,
    dst: &sql::Connection,
    t: &TablePair,
    cols: &[(String, String)],
    mode: Compare,
    pipe: Option<&TablePipeline>,
) -> Result<Outcome, Error> {
    let select = |conn: &sql::Connection, table: &str, names: &[&String], key: &[&String]| {
        let list = names
            .iter()
            .map(|c| quote(conn, c))
            .collect::<Vec<_>>()
            .join(", ");
        let order = key
            .iter()
            .map(|k| quote(conn, k))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {list} FROM {} ORDER BY {order}", quote(conn, table))
    };
    let key_idx: Vec<usize> = t
        .source_def
        .primary_key
        .iter()
        .filter_map(|k| cols.iter().position(|(s, _)| s == k))
        .collect();
    let src_names: Vec<&String> = cols.iter().map(|(s, _)| s).collect();
    let dst_names: Vec<&String> = cols.iter().map(|(_, d)| d).collect();
    let src_key: Vec<&String> = key_idx.iter().map(|&i| &cols[i].0).collect();
    let dst_key: Vec<&String> = key_idx.iter().map(|&i| &cols[i].1).collect();
    let a = match pipe {
        Some(_) => {
            let all: Vec<&String> = t.source_def.columns.iter().map(|c| &c.name).collect();
            src.query(&select(src, &t.source, &all, &src_key), &[])?
        }
        None => src.query(&select(src, &t.source, &src_names, &src_key), &[])?,
    };
    let b = dst.query(&select(dst, &t.target, &dst_names, &dst_key), &[])?;
    let mut ra = Cursor::new(a);
    if let Some(pipe) = pipe {
        let picked = cols
            .iter()
            .map(|(s, _)| {
                t.source_def
                    .columns
                    .iter()
                    .position(|c| &c.name == s)
                    .expect("compared columns are source columns")
            })
            .collect();
        ra.through = Some((pipe, picked));
    }
    let mut rb = Cursor::new(b);
    let mut out = Outcome {
        rows: 0,
        count: 0,
        differing: Vec::new(),
        sampled: false,
        across: false,
        refused: 0,
    };
    let key =
        |row: &[Value]| -> Vec<String> { key_idx.iter().map(|&i| text_key(&row[i])).collect() };
    // Keys are compared in their sortable form and shown as the values.
    let shown = |row: &[Value]| -> String {
        key_idx
            .iter()
            .map(|&i| text(&row[i]))
            .collect::<Vec<_>>()
            .join("|")
    };
    let note = |out: &mut Outcome, row: &[Value], why: &str| {
        out.count += 1;
        if out.differing.len() < EXAMPLES {
            out.differing.push(format!("{} ({why})", shown(row)));
        }
    };
    loop {
        match (ra.peek()?, rb.peek()?) {
            (None, None) => break,
            (Some(x), None) => {
                note(&mut out, x, "missing in the target");
                out.rows += 1;
                ra.next();
            }
            (None, Some(y)) => {
                note(&mut out, y, "only in the target");
                rb.next();
            }
            (Some(x), Some(y)) => {
                let (kx, ky) = (key(x), key(y));
                match kx.cmp(&ky) {
                    std::cmp::Ordering::Equal => {
                        let same = match mode {
                            // Values have no PartialEq in the bindings; their
                            // Debug form is exact (floats print round-trippably).
                            Compare::Exact => format!("{x:?}") == format!("{y:?}"),
                            Compare::AcrossDialects => {
                                x.iter().zip(y.iter()).all(|(a, b)| same_meaning(a, b))
                            }
                        };
                        if !same {
                            note(&mut out, x, "different values");
                        }
                        out.rows += 1;
                        ra.next();
                        rb.next();
                    }
                    std::cmp::Ordering::Less => {
                        note(&mut out, x, "missing in the target");
                        out.rows += 1;
                        ra.next();
                    }
                    std::cmp::Ordering::Greater => {
                        note(&mut out, y, "only in the target");
                        rb.next();
                    }
                }
            }
        }
    }
    out.refused = ra.refused;
    Ok(out)
}

/// How two rows with the same key are compared.
#[derive(Clone, Copy)]
enum Compare {
    /// Value for value, in the same form (same dialect on both sides).
    Exact,
    /// By meaning: the same number, text, instant, date or bytes, whatever
    /// form each dialect gives it ([`same_meaning`]).
    AcrossDialects,
}

/// Every column, by the same name on both sides (a same-dialect copy).
fn same_columns(t: &TablePair) -> Vec<(String, String)> {
    t.source_def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.name.clone()))
        .collect()
}

/// The columns compared across dialects: source columns matched to target
/// columns by name (case-insensitively: targets may fold case), except those
/// whose kind of value changed (an epoch number cast to a timestamp), which
/// are returned as the second list — unless `cast_applied` (the source values
/// went through the step's pipeline, casts included).
fn comparable_columns(t: &TablePair, cast_applied: bool) -> (Vec<(String, String)>, Vec<String>) {
    use godwit_sdk::LogicalType as L;
    let kind = |l: &L| match l {
        L::Boolean | L::Int(_) | L::Uint(_) | L::Float(_) | L::Decimal(_) => 0,
        L::Text(_) | L::Any | L::Json | L::Uuid => 1,
        L::Bytes(_) => 2,
        L::Timestamp | L::Timestamptz => 3,
        L::Date => 4,
        L::Time => 5,
        L::Vector(_) => 6,
    };
    let (mut cols, mut skipped) = (Vec::new(), Vec::new());
    for c in &t.source_def.columns {
        let Some(d) = t
            .target_def
            .columns
            .iter()
            .find(|d| d.name == c.name)
            .or_else(|| {
                t.target_def
                    .columns
                    .iter()
                    .find(|d| d.name.eq_ignore_ascii_case(&c.name))
            })
        else {
            continue;
        };
        let loose =
            matches!(c.logical, L::Any | L::Text(_)) || matches!(d.logical, L::Any | L::Text(_));
        if cast_applied
            || kind(&c.logical) == kind(&d.logical)
            || loose
            || t.source_def.primary_key.contains(&c.name)
        {
            cols.push((c.name.clone(), d.name.clone()));
        } else {
            skipped.push(c.name.clone());
        }
    }
    (cols, skipped)
}

/// Whether two values read from different databases mean the same thing:
/// equal numbers (an integer, a float, a decimal, a boolean as 0/1), equal
/// text (JSON compared as documents), the same instant or date whether
/// typed or written as ISO 8601 text, equal bytes, the same UUID.
fn same_meaning(a: &Value, b: &Value) -> bool {
    use Value as V;
    let number = |v: &Value| -> Option<String> {
        Some(match v {
            V::Int(i) => i.to_string(),
            V::Uint(u) => u.to_string(),
            V::Boolean(b) => u8::from(*b).to_string(),
            V::Float(f) if f.is_finite() => canonical_decimal(&f.to_string()),
            V::Decimal(d) => canonical_decimal(d),
            _ => return None,
        })
    };
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Null, _) | (_, V::Null) => false,
        (V::Bytes(x), V::Bytes(y)) => x == y,
        (V::Json(x), V::Json(y)) | (V::Json(x), V::Text(y)) | (V::Text(x), V::Json(y)) => {
            match (
                serde_json::from_str::<serde_json::Value>(x),
                serde_json::from_str::<serde_json::Value>(y),
            ) {
                (Ok(p), Ok(q)) => p == q,
                _ => x == y,
            }
        }
        (V::Timestamp(x) | V::Timestamptz(x), V::Timestamp(y) | V::Timestamptz(y)) => x == y,
        // A timestamp without time zone is the wall clock the text shows
        // (its zone, if any, is not applied: PostgreSQL reads it so).
        (V::Timestamp(us), V::Text(s)) | (V::Text(s), V::Timestamp(us)) => {
            parse_instant(s, false) == Some(*us)
        }
        (V::Timestamptz(us), V::Text(s)) | (V::Text(s), V::Timestamptz(us)) => {
            parse_instant(s, true) == Some(*us)
        }
        (V::Date(d), V::Text(s)) | (V::Text(s), V::Date(d)) => parse_days(s) == Some(i64::from(*d)),
        (V::Date(x), V::Date(y)) => x == y,
        (V::Time(x), V::Time(y)) => x == y,
        (V::Uuid(u), V::Text(s)) | (V::Text(s), V::Uuid(u)) => {
            format!("{:016x}{:016x}", u.0, u.1) == s.replace('-', "").to_ascii_lowercase()
        }
        (V::Text(x), V::Text(y)) => x == y,
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            // A number kept as text (SQLite's mixed columns).
            (Some(x), None) | (None, Some(x)) => match (a, b) {
                (V::Text(s), _) | (_, V::Text(s)) => canonical_decimal(s) == x,
                _ => false,
            },
            (None, None) => format!("{a:?}") == format!("{b:?}"),
        },
    }
}

/// `"2.50"` → `"2.5"`, `"3.0"` → `"3"`, `"-0"` → `"0"`.
fn canonical_decimal(s: &str) -> String {
    let s = s.trim();
    let out = if s.contains('.') && !s.contains(['e', 'E']) {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    };
    if out == "-0" {
        "0".into()
    } else {
        out
    }
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn parse_days(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (
        s.get(..4)?.parse().ok()?,
        s.get(5..7)?.parse().ok()?,
        s.get(8..10)?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Microseconds of an ISO 8601 text timestamp (`T` or space, optional
/// fraction, optional `Z` / offset, applied with `apply_zone`), or a bare
/// date at midnight.
fn parse_instant(s: &str, apply_zone: bool) -> Option<i64> {
    let s = s.trim();
    let days = parse_days(s)?;
    if s.len() == 10 {
        return Some(days * 86_400_000_000);
    }
    if !matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let rest = &s[11..];
    let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut parts = clock.trim().split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(sec) => match sec.split_once('.') {
            Some((w, f)) => {
                let digits: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
                (w.parse::<i64>().ok()?, digits.parse::<i64>().ok()?)
            }
            None => (sec.parse().ok()?, 0),
        },
        None => (0, 0),
    };
    let offset = match zone {
        _ if !apply_zone => 0,
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let (oh, om) = (
                digits.get(..2)?.parse::<i64>().ok()?,
                digits.get(2..4).unwrap_or("00").parse::<i64>().ok()?,
            );
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days * 86_400_000_000 + ((h * 60 + m) * 60 + sec - offset) * 1_000_000 + frac)
}

/// Keys compare in the databases' order for integers and text alike.
fn text_key(v: &Value) -> String {
    match v {
        Value::Int(i) => format!("{:020}", (*i as i128) - (i64::MIN as i128)),
        Value::Uint(u) => format!("{u:020}"),
        other => text(other),
    }
}

/// A row stream with one row of look-ahead.
struct Cursor<'p> {
    rows: sql::Rows,
    buf: std::collections::VecDeque<Vec<Value>>,
    done: bool,
    /// The step's pipeline and the columns (source indexes) kept after it.
    through: Option<(&'p TablePipeline, Vec<usize>)>,
    /// Rows the pipeline refused.
    refused: u64,
}

impl<'p> Cursor<'p> {
    fn new(rows: sql::Rows) -> Self {
        Self {
            rows,
            buf: Default::default(),
            done: false,
            through: None,
            refused: 0,
        }
    }
    fn peek(&mut self) -> Result<Option<&Vec<Value>>, Error> {
        // A batch the pipeline refuses whole leaves the buffer empty: read on.
        while self.buf.is_empty() && !self.done {
            match self.rows.next_batch(
                godwit_sdk::db::QUERY_BATCH_ROWS,
                godwit_sdk::db::QUERY_BATCH_BYTES,
            )? {
                Some(b) => match &self.through {
                    None => self.buf.extend(godwit_sdk::values::rows(&b)),
                    Some((pipe, picked)) => {
                        for row in pipe.apply(&b)? {
                            match row {
                                Ok(mut values) => self.buf.push_back(
                                    picked
                                        .iter()
                                        .map(|&i| std::mem::replace(&mut values[i], Value::Null))
                                        .collect(),
                                ),
                                Err(_) => self.refused += 1,
                            }
                        }
                    }
                },
                None => self.done = true,
            }
        }
        Ok(self.buf.front())
    }
    fn next(&mut self) {
        self.buf.pop_front();
    }
}

godwit_sdk_v0_3::validator::export_validator!(Checksum);
