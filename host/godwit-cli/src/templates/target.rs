//! {{name}}: a godwit target adapter. This starter creates each table with
//! the source's column names and native types (connection label `target`)
//! and lets the host load the rows.

use godwit_sdk::target::{CapabilityKind, CapabilityRequest, PluginInfo, Target, WriteMode, WritePlan};
use godwit_sdk::values::quote_double as q;
use godwit_sdk::{Error, TableDef};

struct Adapter;

impl Target for Adapter {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Creates tables from the source's columns and loads them.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "target".into(),
                purpose: "create and load tables".into(),
            }],
            params_doc: "No parameters.".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn plan_write(table: TableDef, mode: WriteMode) -> Result<WritePlan, Error> {
        let cols: Vec<String> = table.columns.iter().map(|c| format!("{} {}", q(&c.name), c.native_type)).collect();
        let create = format!("CREATE TABLE {} ({})", q(&table.name), cols.join(", "));
        let pre = match mode {
            WriteMode::Create => vec![create],
            WriteMode::Replace => vec![format!("DROP TABLE IF EXISTS {}", q(&table.name)), create],
            _ => return Err(Error::Unsupported("this starter supports create and replace".into())),
        };
        Ok(WritePlan {
            connection: "target".into(),
            pre,
            table: q(&table.name),
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            post: vec![],
            constraints: vec![],
            upsert_key: vec![],
            existing: None,
        })
    }
}

godwit_sdk::target::export_target!(Adapter);
