//! {{name}}: a godwit source adapter. This starter copies the tables named in
//! its `tables` parameter from the connection granted as `source`, with the
//! column names the database reports; the host runs the SELECT itself.

use godwit_sdk::caps::sql;
use godwit_sdk::params::{self, Configured};
use godwit_sdk::source::{CapabilityKind, CapabilityRequest, PluginInfo, ReadPlan, Reader, Source, SqlRead};
use godwit_sdk::values::quote_double;
use godwit_sdk::{ColumnDef, Error, LogicalType, TableDef};

/// The `params` table of the project file, as `configure` parsed it.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    tables: Vec<String>,
}

static PARAMS: Configured<Params> = Configured::new();

struct Adapter;

impl Source for Adapter {
    type Reader = NoReader;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Copies the listed tables as they are.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "source".into(),
                purpose: "read the listed tables".into(),
            }],
            params_doc: "- `tables` (list of strings): tables to copy".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        PARAMS.set(params::parse(&params)?);
        Ok(())
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        let conn = sql::open("source")?;
        PARAMS.get()?.tables.into_iter().map(|name| {
            let rows = conn.query(&format!("SELECT * FROM {} LIMIT 0", quote_double(&name)), &[])?;
            let columns = rows.columns().into_iter().map(|c| ColumnDef {
                name: c.name,
                logical: LogicalType::Any,
                native_type: c.native_type,
                nullable: true,
                default: None,
                auto_increment: false,
                comment: None,
            }).collect();
            Ok(TableDef {
                schema: None, name, columns, primary_key: vec![], uniques: vec![], checks: vec![], foreign_keys: vec![],
                indexes: vec![], comment: None, estimated_rows: None, is_view: false, native_dialect: String::new(), triggers: vec![],
            })
        }).collect()
    }

    fn plan_read(table: String) -> Result<ReadPlan, Error> {
        Ok(ReadPlan::Sql(SqlRead {
            connection: "source".into(),
            statement: format!("SELECT * FROM {}", quote_double(&table)),
            params: vec![],
        }))
    }

    fn open_reader(_table: String) -> Result<Reader, Error> {
        Err(Error::Unsupported("this source reads through SQL".into()))
    }
}

/// Unused: this source always reads through SQL.
struct NoReader;
impl godwit_sdk::source::GuestReader for NoReader {
    fn next_batch(&self, _max_rows: u32) -> Result<Option<godwit_sdk::Batch>, Error> {
        Ok(None)
    }
}

godwit_sdk::source::export_source!(Adapter);
