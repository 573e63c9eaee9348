//! `path-prefix`: every value of the configured path columns (in the target,
//! label `target`) must lie under one of the allowed prefixes; values with
//! `..` segments, backslashes, or outside every prefix are findings, each
//! with a count and examples. NULLs are fine. The column is streamed, so
//! memory stays bounded whatever the table size.

use godwit_sdk::caps::sql;
use godwit_sdk::db::{for_each_row, quote};
use godwit_sdk::params::Configured;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::{Error, Value};

/// Example values shown per kind of problem.
const EXAMPLES: usize = 5;

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// `table.column` of the target.
    columns: Vec<String>,
    /// Allowed prefixes (`/app/.data/`, `s3://meetings/`).
    allowed: Vec<String>,
}

static PARAMS: Configured<Params> = Configured::new();

/// Problems of one column.
#[derive(Default)]
struct Tally {
    values: u64,
    dotdot: (u64, Vec<String>),
    backslash: (u64, Vec<String>),
    outside: (u64, Vec<String>),
}

fn note(slot: &mut (u64, Vec<String>), value: &str) {
    slot.0 += 1;
    if slot.1.len() < EXAMPLES {
        slot.1.push(value.to_owned());
    }
}

struct PathPrefix;

impl Validator for PathPrefix {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "path-prefix".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Checks that every stored path lies under an allowed prefix, with no `..` and no backslashes.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "target".into(),
                purpose: "read the path columns".into(),
            }],
            params_doc: "- `columns` (list of \"table.column\", required)\n\
                         - `allowed` (list of prefixes, required), e.g. [\"/app/.data/\"]"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        godwit_sdk::params::table_columns(&p.columns)?;
        if p.allowed.is_empty() {
            return Err(Error::InvalidInput("`allowed` must not be empty".into()));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(_tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let conn = sql::open("target")?;
        let mut findings = Vec::new();
        for spec in &p.columns {
            let (table, column) = spec.split_once('.').expect("checked in configure");
            let mut t = Tally::default();
            let stmt = format!(
                "SELECT {} FROM {} WHERE {} IS NOT NULL",
                quote(&conn, column),
                quote(&conn, table),
                quote(&conn, column)
            );
            for_each_row(&conn, &stmt, &[], |row| {
                let Some(Value::Text(v)) = row.into_iter().next() else {
                    return Ok(true);
                };
                t.values += 1;
                if v.contains('\\') {
                    note(&mut t.backslash, &v);
                }
                if v.split(['/', '\\']).any(|seg| seg == "..") {
                    note(&mut t.dotdot, &v);
                } else if !p.allowed.iter().any(|a| v.starts_with(a.as_str())) {
                    note(&mut t.outside, &v);
                }
                Ok(true)
            })?;
            let mut problems = Vec::new();
            for (what, slot) in [
                ("contain \"..\"", &t.dotdot),
                ("contain backslashes", &t.backslash),
                ("lie outside the allowed prefixes", &t.outside),
            ] {
                if slot.0 > 0 {
                    problems.push(Finding {
                        check: "path-prefix".into(),
                        severity: Severity::Error,
                        subject: spec.clone(),
                        message: format!(
                            "{} of {} paths {what} ({}); e.g. {}",
                            slot.0,
                            t.values,
                            p.allowed.join(", "),
                            slot.1.join(", ")
                        ),
                        expected: Some("0".into()),
                        observed: Some(slot.0.to_string()),
                    });
                }
            }
            if problems.is_empty() {
                findings.push(Finding {
                    check: "path-prefix".into(),
                    severity: Severity::Info,
                    subject: spec.clone(),
                    message: format!("all {} paths lie under {}", t.values, p.allowed.join(", ")),
                    expected: None,
                    observed: Some(t.values.to_string()),
                });
            }
            findings.extend(problems);
        }
        Ok(findings)
    }
}

godwit_sdk::validator::export_validator!(PathPrefix);
