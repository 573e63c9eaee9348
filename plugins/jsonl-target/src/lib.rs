//! `jsonl-target` (contract 0.3): writes each table into a granted blob store
//! (label `out`: a local folder or an S3 bucket) as JSON Lines,
//! `<prefix><table>.jsonl`, with its definition beside it in
//! `<prefix><table>.schema.json`; `finish` writes `<prefix>manifest.json`.
//! The rows never touch SQL: this target writes them itself, through the
//! contract's `table-writer`, and `jsonl-source` reads them back exactly.
//! The layout, the commit order and the name checks are
//! `godwit_sdk_v0_3::files`'s; the row format is `godwit_sdk::jsonl`'s.
//!
//! Params: `{"prefix": "export/"}` (optional; default: the store's root).
//! Modes: `create` (refuses a table whose schema file exists), `replace`
//! and `truncate` (the objects are written anew); `append` and `upsert`
//! are refused at plan time, since an object cannot be appended to.

use godwit_sdk::params::Configured;
use godwit_sdk::{Error, TableDef};
use godwit_sdk_v0_3::files::{self, FileWriter, Jsonl, Params};
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
    type TableWriter = FileWriter<Jsonl>;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "jsonl-target".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Writes tables to a blob store (folder or S3) as JSON Lines, with a schema file each; read back exactly by jsonl-source.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Blob,
                label: LABEL.into(),
                purpose: "write <prefix><table>.jsonl, <table>.schema.json and manifest.json".into(),
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
        files::plan_write::<Jsonl>(&prefix(), LABEL, table, mode)
    }

    fn open_writer(table: TableDef, _mode: WriteMode) -> Result<TableWriter, Error> {
        files::open_writer::<Jsonl>(&prefix(), LABEL, table)
    }

    fn finish(tables: Vec<String>) -> Result<Vec<String>, Error> {
        files::finish::<Jsonl>(&prefix(), LABEL, &tables)
    }
}

godwit_sdk_v0_3::target::export_target!(Plugin);
