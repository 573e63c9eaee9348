//! `csv-target` (contract 0.3): writes each table into a granted blob store
//! (label `out`: a local folder or an S3 bucket) as CSV (RFC 4180: a header record, then a record per row; NULL is an empty unquoted cell),
//! `<prefix><table>.csv`, with its definition beside it in
//! `<prefix><table>.schema.json`; `finish` writes `<prefix>manifest.json`.
//! The rows never touch SQL: this target writes them itself, through the
//! contract's `table-writer`, and `csv-source` reads them back exactly.
//! The layout, the commit order and the name checks are
//! `godwit_sdk_v0_3::files`'s; the row format is `godwit_sdk::csv`'s.
//!
//! Params: `{"prefix": "export/"}` (optional; default: the store's root).
//! Modes: `create` (refuses a table whose schema file exists), `replace`
//! and `truncate` (the objects are written anew); `append` and `upsert`
//! are refused at plan time, since an object cannot be appended to.
//!
//! A CSV cell cannot mark its value's kind: each column's cells hold the
//! kind of its first value (recorded in the schema file when it is not
//! the column type's: a SQLite `DATE` column holding text), and a row
//! holding a value of yet another kind is rejected with the reason (the
//! run's reject file). `jsonl-target` keeps every such value.
use godwit_sdk::params::Configured;
use godwit_sdk::{Error, TableDef};
use godwit_sdk_v0_3::files::{self, Csv, FileWriter, Params};
use godwit_sdk_v0_3::target::{
    CapabilityKind, CapabilityRequest, PluginInfo, TableWriter, Target, TargetTraits, WriteMode,
    WritePlan,
};

/// The store label this plugin asks for.
const LABEL: &str = "out";

static PARAMS: Configured<Params> = Configured::new();

fn prefix() -> String {
    PARAMS.get_or_default().prefix
}

struct Plugin;

impl Target for Plugin {
    type TableWriter = FileWriter<Csv>;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "csv-target".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Writes tables to a blob store (folder or S3) as CSV (RFC 4180, a header record), with a schema file each; read back exactly by csv-source.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Blob,
                label: LABEL.into(),
                purpose: "write <prefix><table>.csv, <table>.schema.json and manifest.json".into(),
            }],
            params_doc: "{\"prefix\": \"export/\"} (optional)".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        PARAMS.set(files::parse_params(&params)?);
        Ok(())
    }

    fn traits() -> TargetTraits {
        // Objects appear at commit, any number of tables at once; a table
        // written again replaces its objects whole.
        TargetTraits::TRANSACTIONAL | TargetTraits::PARALLEL_TABLES
    }

    fn plan_write(table: TableDef, mode: WriteMode) -> Result<WritePlan, Error> {
        files::plan_write::<Csv>(&prefix(), LABEL, table, mode)
    }

    fn open_writer(table: TableDef, _mode: WriteMode) -> Result<TableWriter, Error> {
        files::open_writer::<Csv>(&prefix(), LABEL, table)
    }

    fn finish(tables: Vec<String>) -> Result<Vec<String>, Error> {
        files::finish::<Csv>(&prefix(), LABEL, &tables)
    }
}

godwit_sdk_v0_3::target::export_target!(Plugin);
