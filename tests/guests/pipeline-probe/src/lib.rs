//! A contract 0.3 validator that probes the `pipeline` capability the way a
//! careless or hostile plugin would, and reports what the host answered,
//! one finding per probe (`check` = the probe, `message` = the answer):
//!
//! - `apply`: the first table's rows `[id, path]` for ids 1..=3 through
//!   the pipeline; each outcome as `ok:<path>` or `refused:<reason>`
//! - `wide`: a batch of three columns for a two-column table
//! - `many`: 10,001 rows in one call
//! - `missing`: `open` of a table no step reads
//! - `changed`: the table's `changed-columns`
//!
//! An error is reported as `error:<kind>: <message>`; `open` failing is
//! reported under every probe. The validator asks for no other capability.

use godwit_sdk::{Batch, Column, ColumnValues, Error, Value};
use godwit_sdk_v0_3::validator::pipeline;
use godwit_sdk_v0_3::validator::{Finding, PluginInfo, Severity, TablePair, Validator};

struct Probe;

fn kind(e: &Error) -> String {
    let (k, m) = match e {
        Error::AccessDenied(m) => ("access-denied", m),
        Error::NotFound(m) => ("not-found", m),
        Error::InvalidInput(m) => ("invalid-input", m),
        Error::Unsupported(m) => ("unsupported", m),
        Error::Io(m) => ("io", m),
        Error::Timeout(m) => ("timeout", m),
        Error::LimitExceeded(m) => ("limit-exceeded", m),
        Error::Rejected(m) => ("rejected", m),
        Error::Internal(m) => ("internal", m),
    };
    format!("error:{k}: {m}")
}

fn ints(n: usize) -> Column {
    Column {
        values: ColumnValues::Int((1..=n as i64).collect()),
        nulls: vec![],
    }
}

fn texts(v: Vec<String>) -> Column {
    Column {
        values: ColumnValues::Text(v),
        nulls: vec![],
    }
}

impl Validator for Probe {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "pipeline-probe".into(),
            version: "0.0.1".into(),
            description: "Probes the pipeline capability (tests only).".into(),
            requests: vec![],
            params_doc: String::new(),
        }
    }

    fn configure(_params: String) -> Result<(), Error> {
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let mut out = Vec::new();
        let mut note = |check: &str, message: String| {
            out.push(Finding {
                check: check.into(),
                severity: Severity::Info,
                subject: check.into(),
                message,
                expected: None,
                observed: None,
            })
        };
        let Some(t) = tables.first() else {
            return Ok(Vec::new());
        };
        match pipeline::open("no_such_table") {
            Ok(_) => note("missing", "opened".into()),
            Err(e) => note("missing", kind(&e)),
        }
        let pipe = match pipeline::open(&t.source) {
            Ok(p) => p,
            Err(e) => {
                for probe in ["apply", "wide", "many", "changed"] {
                    note(probe, kind(&e));
                }
                return Ok(out);
            }
        };
        note("changed", pipe.changed_columns().join(","));
        let paths = vec![
            "/app/.data/a//b.txt".to_owned(),
            "/app/.data/../etc/passwd".to_owned(),
            "/app/.data/c.txt".to_owned(),
        ];
        let batch = Batch {
            row_count: 3,
            columns: vec![ints(3), texts(paths)],
        };
        match pipe.apply(&batch) {
            Ok(rows) => note(
                "apply",
                rows.iter()
                    .map(|r| match r {
                        Ok(v) => match &v[1] {
                            Value::Text(s) => format!("ok:{s}"),
                            other => format!("ok:{other:?}"),
                        },
                        Err(reason) => format!("refused:{reason}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            Err(e) => note("apply", kind(&e)),
        }
        let wide = Batch {
            row_count: 1,
            columns: vec![ints(1), texts(vec!["x".into()]), ints(1)],
        };
        match pipe.apply(&wide) {
            Ok(_) => note("wide", "accepted".into()),
            Err(e) => note("wide", kind(&e)),
        }
        let n = 10_001;
        let many = Batch {
            row_count: n as u32,
            columns: vec![ints(n), texts(vec!["/app/.data/x".into(); n])],
        };
        match pipe.apply(&many) {
            Ok(r) => note("many", format!("accepted {}", r.len())),
            Err(e) => note("many", kind(&e)),
        }
        Ok(out)
    }
}

godwit_sdk_v0_3::validator::export_validator!(Probe);
