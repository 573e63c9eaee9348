//! {{name}}: a godwit validator. This starter checks that every copied table
//! is non-empty in the target (connection label `target`).

use godwit_sdk::caps::sql;
use godwit_sdk::db::query_rows;
use godwit_sdk::validator::{CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator};
use godwit_sdk::values::{as_i64, quote_backtick, quote_double};
use godwit_sdk::Error;

struct Check;

impl Validator for Check {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Every copied table has rows in the target.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "target".into(),
                purpose: "count rows in the target tables".into(),
            }],
            params_doc: "No parameters.".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let conn = sql::open("target")?;
        let quote = |t: &str| match conn.dialect() {
            sql::Dialect::Mysql => quote_backtick(t),
            _ => quote_double(t),
        };
        let mut out = Vec::new();
        for t in tables {
            let rows = query_rows(&conn, &format!("SELECT count(*) FROM {}", quote(&t.target)), &[])?;
            let n = rows.first().and_then(|r| r.first()).and_then(as_i64).unwrap_or(0);
            out.push(Finding {
                check: "{{name}}".into(),
                severity: if n > 0 { Severity::Info } else { Severity::Error },
                subject: t.target.clone(),
                message: format!("{n} rows"),
                expected: Some("> 0".into()),
                observed: Some(n.to_string()),
            });
        }
        Ok(out)
    }
}

godwit_sdk::validator::export_validator!(Check);
