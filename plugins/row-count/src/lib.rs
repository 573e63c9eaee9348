//! `row-count`: compares the number of rows of every copied table between the
//! source (label `source`) and the target (label `target`).
//!
//! Parameters: `allowed_difference` (default 0). A table whose counts differ
//! by more is an `error` finding; equal counts are reported as `info`.

use std::cell::Cell;

use godwit_sdk::caps::sql::{self, Dialect};
use godwit_sdk::db::query_rows;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::values::{as_i64, quote_backtick, quote_double};
use godwit_sdk::Error;

thread_local! {
    static ALLOWED: Cell<u64> = const { Cell::new(0) };
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
            description: "Compares row counts per table between source and target.".into(),
            requests: vec![
                req("source", "count rows in the source tables"),
                req("target", "count rows in the target tables"),
            ],
            params_doc: "- `allowed_difference` (integer, default 0): tolerated |source - target|"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Params {
            #[serde(default)]
            allowed_difference: u64,
        }
        let p: Params = godwit_sdk::params::parse(&params)?;
        ALLOWED.with(|a| a.set(p.allowed_difference));
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let source = sql::open("source")?;
        let target = sql::open("target")?;
        let allowed = ALLOWED.with(Cell::get);
        let mut findings = Vec::with_capacity(tables.len());
        for pair in tables {
            let expected = count(&source, &pair.source)?;
            let observed = count(&target, &pair.target)?;
            let diff = expected.abs_diff(observed);
            let ok = diff <= allowed;
            findings.push(Finding {
                check: "row-count".into(),
                severity: if ok { Severity::Info } else { Severity::Error },
                subject: pair.target.clone(),
                message: if diff == 0 {
                    format!("{observed} rows in source and target")
                } else if ok {
                    format!("counts differ by {diff} (allowed: {allowed})")
                } else {
                    format!("target has {observed} rows, source has {expected} (difference {diff}, allowed {allowed})")
                },
                expected: Some(expected.to_string()),
                observed: Some(observed.to_string()),
            });
        }
        Ok(findings)
    }
}

fn count(conn: &sql::Connection, table: &str) -> Result<u64, Error> {
    let quoted = match conn.dialect() {
        Dialect::Mysql => quote_backtick(table),
        Dialect::Sqlite | Dialect::Postgres => quote_double(table),
    };
    let rows = query_rows(conn, &format!("SELECT count(*) FROM {quoted}"), &[])?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(as_i64)
        .map(|n| n as u64)
        .ok_or_else(|| Error::Internal(format!("count(*) on {table} returned no number")))
}

godwit_sdk::validator::export_validator!(RowCount);
