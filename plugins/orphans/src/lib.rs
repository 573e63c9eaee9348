//! `orphans`: child rows whose parent is missing, in the target (label
//! `target`), for every declared foreign key of the validated tables —
//! `NOT VALID` ones included, which is where orphans hide — and for relations
//! declared only in the project (`relations`), as apps without foreign keys
//! have them.
//!
//! One anti-join per relation, run by the database:
//! `SELECT count(*) FROM child c WHERE <fk not null> AND NOT EXISTS
//! (SELECT 1 FROM parent p WHERE p.k = c.fk)`, plus up to five example keys.

use godwit_sdk::caps::sql;
use godwit_sdk::db::{query_rows, quote};
use godwit_sdk::params::Configured;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::values::{as_i64, sql_text};
use godwit_sdk::Error;

/// Example child keys shown per relation with orphans.
const EXAMPLES: usize = 5;

#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Relation {
    /// `table.column` (or `table.(a,b)` for composite keys).
    child: String,
    /// `table.column`.
    parent: String,
}

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    relations: Vec<Relation>,
    /// Skip the foreign keys declared in the schema (check only `relations`).
    #[serde(default)]
    declared_only: bool,
}

static PARAMS: Configured<Params> = Configured::new();

/// One relation to check.
struct Check {
    child: String,
    columns: Vec<String>,
    parent: String,
    ref_columns: Vec<String>,
    /// Where it comes from: the constraint name (and NOT VALID) or the project.
    origin: String,
    /// Columns identifying a child row in examples.
    key: Vec<String>,
}

fn split(spec: &str) -> Result<(String, Vec<String>), Error> {
    let (t, c) = spec
        .split_once('.')
        .ok_or_else(|| Error::InvalidInput(format!("{spec:?}: expected \"table.column\"")))?;
    let cols = c
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    Ok((t.to_owned(), cols))
}

struct Orphans;

impl Validator for Orphans {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "orphans".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Finds child rows whose parent row is missing (declared and NOT VALID foreign keys, and relations from the project).".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "target".into(),
                purpose: "anti-join child tables against their parents".into(),
            }],
            params_doc: "- `relations` (list of `{ child = \"table.column\", parent = \"table.column\" }`): relations the schema does not declare\n\
                         - `declared_only` (bool, default false): check only `relations`, not the schema's foreign keys"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        for r in &p.relations {
            let (_, c) = split(&r.child)?;
            let (_, k) = split(&r.parent)?;
            if c.len() != k.len() {
                return Err(Error::InvalidInput(format!(
                    "relation {} -> {}: column counts differ",
                    r.child, r.parent
                )));
            }
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let conn = sql::open("target")?;
        let mut checks = Vec::new();
        if !p.declared_only {
            for t in &tables {
                let def = &t.target_def;
                for fk in &def.foreign_keys {
                    checks.push(Check {
                        child: def.name.clone(),
                        columns: fk.columns.clone(),
                        parent: fk.ref_table.clone(),
                        ref_columns: fk.ref_columns.clone(),
                        origin: format!(
                            "foreign key {}{}",
                            fk.name.clone().unwrap_or_else(|| "(unnamed)".into()),
                            if fk.validated { "" } else { " (NOT VALID)" }
                        ),
                        key: if def.primary_key.is_empty() {
                            fk.columns.clone()
                        } else {
                            def.primary_key.clone()
                        },
                    });
                }
            }
        }
        for r in &p.relations {
            let (child, columns) = split(&r.child)?;
            let (parent, ref_columns) = split(&r.parent)?;
            let key = tables
                .iter()
                .find(|t| t.target == child)
                .map(|t| t.target_def.primary_key.clone())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| columns.clone());
            checks.push(Check {
                child,
                columns,
                parent,
                ref_columns,
                origin: "relation declared in the project".into(),
                key,
            });
        }
        let mut findings = Vec::new();
        for c in checks {
            findings.push(check(&conn, &c)?);
        }
        Ok(findings)
    }
}

fn check(conn: &sql::Connection, c: &Check) -> Result<Finding, Error> {
    let q = |s: &str| quote(conn, s);
    let not_null = c
        .columns
        .iter()
        .map(|col| format!("c.{} IS NOT NULL", q(col)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let join = c
        .columns
        .iter()
        .zip(&c.ref_columns)
        .map(|(a, b)| format!("p.{} = c.{}", q(b), q(a)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let from = format!(
        "FROM {} c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {join})",
        q(&c.child),
        q(&c.parent)
    );
    let count = query_rows(conn, &format!("SELECT count(*) {from}"), &[])?
        .first()
        .and_then(|r| r.first())
        .and_then(as_i64)
        .unwrap_or(0);
    let subject = format!(
        "{}({}) -> {}({})",
        c.child,
        c.columns.join(","),
        c.parent,
        c.ref_columns.join(",")
    );
    if count == 0 {
        return Ok(Finding {
            check: "orphans".into(),
            severity: Severity::Info,
            subject,
            message: format!("no orphan rows ({})", c.origin),
            expected: Some("0".into()),
            observed: Some("0".into()),
        });
    }
    let key_cols = c
        .key
        .iter()
        .map(|k| format!("c.{}", q(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let order = c
        .key
        .iter()
        .map(|k| format!("c.{}", q(k)))
        .collect::<Vec<_>>()
        .join(", ");
    let fk_cols = c
        .columns
        .iter()
        .map(|k| format!("c.{}", q(k)))
        .collect::<Vec<_>>()
        .join(", ");
    // Each example names the child row and the parent key it points at.
    let examples = query_rows(
        conn,
        &format!("SELECT {key_cols}, {fk_cols} {from} ORDER BY {order} LIMIT {EXAMPLES}"),
        &[],
    )?
    .into_iter()
    .map(|row| {
        let key = c
            .key
            .iter()
            .zip(&row)
            .map(|(k, v)| format!("{k}={}", sql_text(v)))
            .collect::<Vec<_>>()
            .join(",");
        let missing = c
            .columns
            .iter()
            .zip(row.iter().skip(c.key.len()))
            .map(|(k, v)| format!("{k} = {}", sql_text(v)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{key}: {missing}")
    })
    .collect::<Vec<_>>();
    Ok(Finding {
        check: "orphans".into(),
        severity: Severity::Error,
        subject,
        message: format!(
            "{count} rows of {} point at a missing {} row ({}); e.g. {} (no such {} row)",
            c.child,
            c.parent,
            c.origin,
            examples.join("; "),
            c.parent
        ),
        expected: Some("0".into()),
        observed: Some(count.to_string()),
    })
}

godwit_sdk::validator::export_validator!(Orphans);
