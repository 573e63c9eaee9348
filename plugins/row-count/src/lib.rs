//! `row-count`: compares the number of rows of every copied table between the
//! source (label `source`) and the target (label `target`).
//!
//! Each `count(*)` runs with a per-table timeout (`timeout_ms`, enforced by
//! the database server). A count that times out falls back to the catalog's
//! estimate (PostgreSQL `pg_class.reltuples`, MySQL
//! `information_schema.tables.table_rows`), reported as an estimate: a
//! warning, or an error with `require_exact = true`. Counts differing by more
//! than `allowed_difference` are errors; equal counts are `info`.
//!
//! At the end of `godwit run` (contract 0.3: the pairs carry the run's
//! outcome), rows the run rejected and wrote to the reject file are allowed
//! for: the target should hold the source's rows minus those, and the
//! finding says so ("source 100, 2 rejected by the run (load 1, fill 1),
//! expected 98, target 98"). A missing row that was not reported is still
//! an error.

use godwit_sdk::caps::sql::Dialect;
use godwit_sdk::db::{query_rows, query_rows_with_timeout, SqlConnection};
use godwit_sdk::params::Configured;
use godwit_sdk::values::as_i64;
use godwit_sdk::Error;
use godwit_sdk_v0_3::caps::sql;
use godwit_sdk_v0_3::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};

/// Default per-table deadline of an exact count: long enough for tens of
/// millions of rows on a healthy server, short enough that a rehearsal on a
/// huge table still finishes.
const DEFAULT_TIMEOUT_MS: u32 = 30_000;

#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    allowed_difference: u64,
    #[serde(default = "default_timeout")]
    timeout_ms: u32,
    #[serde(default)]
    require_exact: bool,
}

fn default_timeout() -> u32 {
    DEFAULT_TIMEOUT_MS
}

static PARAMS: Configured<Params> = Configured::new();

/// A row count, exact or estimated.
#[derive(Clone, Copy)]
enum Count {
    Exact(u64),
    Estimate(u64),
    Unknown,
}

impl Count {
    fn value(self) -> Option<u64> {
        match self {
            Count::Exact(n) | Count::Estimate(n) => Some(n),
            Count::Unknown => None,
        }
    }
    fn show(self) -> String {
        match self {
            Count::Exact(n) => n.to_string(),
            Count::Estimate(n) => format!("~{n}"),
            Count::Unknown => "?".into(),
        }
    }
}

struct RowCount;

impl Validator for RowCount {
    fn describe() -> PluginInfo {
        let req = |label: &str, purpose: &str| CapabilityRequest {
            kind: CapabilityKind::Sql,
            label: label.into(),
            purpose: purpose.into(),
        };
        PluginInfo {
            name: "row-count".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Compares row counts per table between source and target (exact, with a timeout that falls back to the catalog estimate).".into(),
            requests: vec![
                req("source", "count rows in the source tables"),
                req("target", "count rows in the target tables"),
            ],
            params_doc: "- `allowed_difference` (integer, default 0): tolerated |source - target|\n\
                         - `timeout_ms` (integer, default 30000): per count(*); past it the catalog estimate is used\n\
                         - `require_exact` (bool, default false): an estimate is an error, not a warning"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        if p.timeout_ms == 0 {
            return Err(Error::InvalidInput("timeout_ms must be positive".into()));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get()?;
        let source = sql::open("source")?;
        let target = sql::open("target")?;
        let mut findings = Vec::with_capacity(tables.len());
        for pair in tables {
            let expected = count(&source, &pair.source, p.timeout_ms)?;
            let observed = count(&target, &pair.target, p.timeout_ms)?;
            let estimated = !matches!((expected, observed), (Count::Exact(_), Count::Exact(_)));
            // Rows this run refused and reported: not expected in the target.
            let rejected = pair.outcome.as_ref().map_or(0, |o| o.rows_rejected);
            let accounted = pair
                .outcome
                .as_ref()
                .filter(|o| o.rows_rejected > 0)
                .map(|o| {
                    let stages: Vec<String> = o
                        .rejected_by_stage
                        .iter()
                        .map(|(stage, n)| format!("{stage} {n}"))
                        .collect();
                    format!(
                        "source {}, {} rejected by the run ({}; see the reject file), ",
                        expected.show(),
                        o.rows_rejected,
                        stages.join(", ")
                    )
                });
            let (severity, message) = match (expected.value(), observed.value()) {
                (Some(e), Some(o)) => {
                    let e = e.saturating_sub(rejected);
                    let diff = e.abs_diff(o);
                    let within = diff <= p.allowed_difference;
                    let what = if let Some(acc) = &accounted {
                        format!(
                            "{acc}expected {e}, target {}{}",
                            observed.show(),
                            if within {
                                String::new()
                            } else {
                                format!(
                                    " (difference {diff}, allowed {})",
                                    p.allowed_difference
                                )
                            }
                        )
                    } else if diff == 0 {
                        format!("{} rows in source and target", observed.show())
                    } else if within {
                        format!(
                            "counts differ by {diff} (allowed: {})",
                            p.allowed_difference
                        )
                    } else {
                        format!(
                            "target has {} rows, source has {} (difference {diff}, allowed {})",
                            observed.show(),
                            expected.show(),
                            p.allowed_difference
                        )
                    };
                    if !estimated {
                        (if within { Severity::Info } else { Severity::Error }, what)
                    } else {
                        let note = format!(
                            "{what} — ESTIMATE: count(*) took longer than {} ms, catalog statistics used",
                            p.timeout_ms
                        );
                        let sev = if p.require_exact || !within {
                            Severity::Error
                        } else {
                            Severity::Warning
                        };
                        (sev, note)
                    }
                }
                _ => (
                    if p.require_exact {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "count(*) took longer than {} ms and the catalog has no estimate (run ANALYZE); source {}, target {}",
                        p.timeout_ms,
                        expected.show(),
                        observed.show()
                    ),
                ),
            };
            let expected_text = match (accounted.is_some(), expected.value()) {
                (true, Some(e)) => format!(
                    "{} - {rejected} rejected = {}",
                    expected.show(),
                    e.saturating_sub(rejected)
                ),
                _ => expected.show(),
            };
            findings.push(Finding {
                check: "row-count".into(),
                severity,
                subject: pair.target.clone(),
                message,
                expected: Some(expected_text),
                observed: Some(observed.show()),
            });
        }
        Ok(findings)
    }
}

fn first_number(rows: &[Vec<godwit_sdk::Value>]) -> Option<i64> {
    rows.first().and_then(|r| r.first()).and_then(as_i64)
}

fn count(conn: &impl SqlConnection, table: &str, timeout_ms: u32) -> Result<Count, Error> {
    let quoted = godwit_sdk::db::quote(conn, table);
    match query_rows_with_timeout(
        conn,
        &format!("SELECT count(*) FROM {quoted}"),
        &[],
        timeout_ms,
    ) {
        Ok(rows) => first_number(&rows)
            .map(|n| Count::Exact(n as u64))
            .ok_or_else(|| Error::Internal(format!("count(*) on {table} returned no number"))),
        Err(Error::Timeout(_)) => estimate(conn, table),
        Err(e) => Err(e),
    }
}

/// The catalog's row estimate, if it has one.
fn estimate(conn: &impl SqlConnection, table: &str) -> Result<Count, Error> {
    let rows = match conn.dialect() {
        Dialect::Postgres => query_rows(
            conn,
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)",
            &[godwit_sdk::Value::Text(godwit_sdk::values::quote_double(table))],
        )?,
        Dialect::Mysql => query_rows(
            conn,
            "SELECT table_rows FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
            &[godwit_sdk::Value::Text(table.to_owned())],
        )?,
        // SQLite keeps no row estimate unless ANALYZE ran (sqlite_stat1).
        Dialect::Sqlite => query_rows(
            conn,
            "SELECT CAST(substr(stat, 1, instr(stat || ' ', ' ') - 1) AS INTEGER) FROM sqlite_stat1 WHERE tbl = ? LIMIT 1",
            &[godwit_sdk::Value::Text(table.to_owned())],
        )
        .unwrap_or_default(),
    };
    // PostgreSQL reports -1 for a table never analysed.
    Ok(match first_number(&rows) {
        Some(n) if n >= 0 => Count::Estimate(n as u64),
        _ => Count::Unknown,
    })
}

godwit_sdk_v0_3::validator::export_validator!(RowCount);
