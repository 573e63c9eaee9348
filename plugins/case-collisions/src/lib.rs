//! `case-collisions`: values of a column that are distinct as stored but
//! equal once case is folded — what a case-insensitive unique index in the
//! target (`lower(email)`, MySQL's `_ci` collations) would refuse, mid-run.
//! Runs in the database (label `target`: grant it the source to check
//! before writing): one `GROUP BY lower(column)` per column.
//!
//! `lower()` is the database's: PostgreSQL and MySQL fold every letter,
//! SQLite only ASCII letters. `trim = true` also ignores trailing spaces,
//! as MySQL's PAD SPACE collations do.

use godwit_sdk::caps::sql;
use godwit_sdk::db::{query_rows, quote};
use godwit_sdk::params::Configured;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::values::{as_i64, sql_text};
use godwit_sdk::Error;

/// Colliding groups shown per column, each with its variants.
const EXAMPLES: usize = 5;
/// Variants shown per group.
const VARIANTS: usize = 4;

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// `table.column`s that must stay unique when case is folded.
    columns: Vec<String>,
    /// Also ignore trailing spaces.
    #[serde(default)]
    trim: bool,
}

static PARAMS: Configured<Params> = Configured::new();

struct CaseCollisions;

impl Validator for CaseCollisions {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "case-collisions".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Finds values that differ only by case (and optionally trailing spaces), which a case-insensitive unique index would refuse.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "target".into(),
                purpose: "group the columns' values by their folded form".into(),
            }],
            params_doc: "- `columns` (list of \"table.column\", required)\n\
                         - `trim` (bool, default false): also ignore trailing spaces (MySQL PAD SPACE)"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        godwit_sdk::params::table_columns(&p.columns)?;
        PARAMS.set(p);
        Ok(())
    }

    fn validate(_tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let conn = sql::open("target")?;
        let mut findings = Vec::new();
        for spec in &p.columns {
            let (table, column) = spec.split_once('.').expect("checked in configure");
            let col = quote(&conn, column);
            let folded = if p.trim {
                format!("rtrim(lower({col}))")
            } else {
                format!("lower({col})")
            };
            let groups = format!(
                "SELECT {folded} AS k, count(*) AS n FROM {} WHERE {col} IS NOT NULL \
                 GROUP BY {folded} HAVING count(DISTINCT {col}) > 1",
                quote(&conn, table)
            );
            let count = query_rows(
                &conn,
                &format!("SELECT count(*), coalesce(sum(n), 0) FROM ({groups}) g"),
                &[],
            )?;
            let (n_groups, n_rows) = count
                .first()
                .map(|r| {
                    (
                        r.first().and_then(as_i64).unwrap_or(0),
                        r.get(1).and_then(number).unwrap_or(0),
                    )
                })
                .unwrap_or((0, 0));
            if n_groups == 0 {
                findings.push(Finding {
                    check: "case-collisions".into(),
                    severity: Severity::Info,
                    subject: spec.clone(),
                    message: format!("no two values of {spec} differ only by case"),
                    expected: Some("0".into()),
                    observed: Some("0".into()),
                });
                continue;
            }
            let mut examples = Vec::new();
            for g in query_rows(
                &conn,
                &format!("{groups} ORDER BY 2 DESC, 1 LIMIT {EXAMPLES}"),
                &[],
            )? {
                let key = g.into_iter().next().unwrap_or(godwit_sdk::Value::Null);
                let variants = query_rows(
                    &conn,
                    &format!(
                        "SELECT DISTINCT {col} FROM {} WHERE {folded} = {} ORDER BY 1 LIMIT {VARIANTS}",
                        quote(&conn, table),
                        placeholder(&conn)
                    ),
                    &[key],
                )?;
                let shown: Vec<String> = variants
                    .iter()
                    .filter_map(|r| r.first())
                    .map(|v| format!("{:?}", sql_text(v)))
                    .collect();
                examples.push(shown.join(" = "));
            }
            findings.push(Finding {
                check: "case-collisions".into(),
                severity: Severity::Error,
                subject: spec.clone(),
                message: format!(
                    "{n_groups} value(s) of {spec} appear in more than one case ({n_rows} rows): \
                     a case-insensitive unique index would refuse them; e.g. {}",
                    examples.join("; ")
                ),
                expected: Some("0".into()),
                observed: Some(n_groups.to_string()),
            });
        }
        Ok(findings)
    }
}

fn number(v: &godwit_sdk::Value) -> Option<i64> {
    match v {
        godwit_sdk::Value::Decimal(s) | godwit_sdk::Value::Text(s) => {
            s.split('.').next().and_then(|x| x.parse().ok())
        }
        godwit_sdk::Value::Float(f) => Some(*f as i64),
        other => as_i64(other),
    }
}

fn placeholder(conn: &sql::Connection) -> &'static str {
    match conn.dialect() {
        sql::Dialect::Postgres => "$1",
        _ => "?",
    }
}

godwit_sdk::validator::export_validator!(CaseCollisions);
