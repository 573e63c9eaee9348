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
//! of different dialects are skipped with a note: their values differ by
//! design (casts), use `row-count`, `orphans` and `asset-sample` there.

use std::cell::RefCell;
use std::collections::BTreeMap;

use godwit_sdk::caps::sql::{self, Dialect};
use godwit_sdk::db::{query_rows, quote};
use godwit_sdk::validator::{
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

thread_local! {
    static PARAMS: RefCell<Params> = RefCell::new(Params::default());
}

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
        PARAMS.with(|c| *c.borrow_mut() = p);
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.with(|c| c.borrow().clone());
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
            let outcome = match (src.dialect(), dst.dialect()) {
                (Dialect::Postgres, Dialect::Postgres) => postgres_diff(&src, &dst, t, &p)?,
                (a, b) if a == b => stream_diff(&src, &dst, t)?,
                _ => {
                    findings.push(finding(
                        Severity::Info,
                        "not compared: source and target dialects differ (values are converted by design)".into(),
                    ));
                    continue;
                }
            };
            findings.push(if outcome.differing.is_empty() {
                finding(
                    Severity::Info,
                    format!(
                        "{} rows identical{}",
                        outcome.rows,
                        if outcome.sampled {
                            " (sampled partitions)"
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

/// Same-dialect comparison by streaming both sides in key order.
fn stream_diff(
    src: &sql::Connection,
    dst: &sql::Connection,
    t: &TablePair,
) -> Result<Outcome, Error> {
    let select = |conn: &sql::Connection, table: &str, def: &godwit_sdk::TableDef| {
        let cols = def
            .columns
            .iter()
            .map(|c| quote(conn, &c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let order = def
            .primary_key
            .iter()
            .map(|k| quote(conn, k))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {cols} FROM {} ORDER BY {order}", quote(conn, table))
    };
    let key_idx: Vec<usize> = t
        .source_def
        .primary_key
        .iter()
        .filter_map(|k| t.source_def.columns.iter().position(|c| &c.name == k))
        .collect();
    let a = src.query(&select(src, &t.source, &t.source_def), &[])?;
    let b = dst.query(&select(dst, &t.target, &t.target_def), &[])?;
    let mut ra = Cursor::new(a);
    let mut rb = Cursor::new(b);
    let mut out = Outcome {
        rows: 0,
        count: 0,
        differing: Vec::new(),
        sampled: false,
    };
    let key =
        |row: &[Value]| -> Vec<String> { key_idx.iter().map(|&i| text_key(&row[i])).collect() };
    let note = |out: &mut Outcome, k: Vec<String>, why: &str| {
        out.count += 1;
        if out.differing.len() < EXAMPLES {
            out.differing.push(format!("{} ({why})", k.join("|")));
        }
    };
    loop {
        match (ra.peek()?, rb.peek()?) {
            (None, None) => break,
            (Some(x), None) => {
                let k = key(x);
                note(&mut out, k, "missing in the target");
                out.rows += 1;
                ra.next();
            }
            (None, Some(y)) => {
                let k = key(y);
                note(&mut out, k, "only in the target");
                rb.next();
            }
            (Some(x), Some(y)) => {
                let (kx, ky) = (key(x), key(y));
                match kx.cmp(&ky) {
                    std::cmp::Ordering::Equal => {
                        // Values have no PartialEq in the bindings; their Debug
                        // form is exact (floats print round-trippably).
                        if format!("{x:?}") != format!("{y:?}") {
                            note(&mut out, kx, "different values");
                        }
                        out.rows += 1;
                        ra.next();
                        rb.next();
                    }
                    std::cmp::Ordering::Less => {
                        note(&mut out, kx, "missing in the target");
                        out.rows += 1;
                        ra.next();
                    }
                    std::cmp::Ordering::Greater => {
                        note(&mut out, ky, "only in the target");
                        rb.next();
                    }
                }
            }
        }
    }
    Ok(out)
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
struct Cursor {
    rows: sql::Rows,
    buf: std::collections::VecDeque<Vec<Value>>,
    done: bool,
}

impl Cursor {
    fn new(rows: sql::Rows) -> Self {
        Self {
            rows,
            buf: Default::default(),
            done: false,
        }
    }
    fn peek(&mut self) -> Result<Option<&Vec<Value>>, Error> {
        if self.buf.is_empty() && !self.done {
            match self.rows.next_batch(
                godwit_sdk::db::QUERY_BATCH_ROWS,
                godwit_sdk::db::QUERY_BATCH_BYTES,
            )? {
                Some(b) => self.buf.extend(godwit_sdk::values::rows(&b)),
                None => self.done = true,
            }
        }
        Ok(self.buf.front())
    }
    fn next(&mut self) {
        self.buf.pop_front();
    }
}

godwit_sdk::validator::export_validator!(Checksum);
