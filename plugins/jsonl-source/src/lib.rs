//! `jsonl-source` (contract 0.3): reads back the tables `jsonl-target` wrote
//! into a granted blob store (label `in`): every
//! `<prefix><table>.schema.json` whose rows are JSON Lines is a table, its rows
//! are in `<prefix><table>.jsonl`. The plugin produces the batches itself
//! (`read-plan.batches`), streaming: it holds one read chunk and one batch
//! at a time, whatever the file's size (`godwit_sdk_v0_3::files`).
//!
//! A record that is not a row of the table fails the read with its line
//! number: a corrupt file is never loaded in part silently.
//!
//! Params: `{"prefix": "export/"}` (optional).

use godwit_sdk::params::Configured;
use godwit_sdk::{Error, TableDef};
use godwit_sdk_v0_3::files::{self, FileReader, Jsonl, Params};
use godwit_sdk_v0_3::source::{
    CapabilityKind, CapabilityRequest, PluginInfo, ReadPlan, Reader, Source,
};

const LABEL: &str = "in";

static PARAMS: Configured<Params> = Configured::new();

fn prefix() -> String {
    PARAMS.get_or_default().prefix
}

struct Plugin;

impl Source for Plugin {
    type Reader = FileReader<Jsonl>;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "jsonl-source".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Reads tables written by jsonl-target (JSON Lines and a schema file each) from a blob store, exactly.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Blob,
                label: LABEL.into(),
                purpose: "list and read <prefix><table>.schema.json and <table>.jsonl".into(),
            }],
            params_doc: "{\"prefix\": \"export/\"} (optional)".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        PARAMS.set(files::parse_params(&params)?);
        Ok(())
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        files::discover::<Jsonl>(&prefix(), LABEL)
    }

    fn plan_read(_table: String) -> Result<ReadPlan, Error> {
        Ok(ReadPlan::Batches)
    }

    fn open_reader(table: String) -> Result<Reader, Error> {
        files::open_reader::<Jsonl>(&prefix(), LABEL, &table)
    }
}

godwit_sdk_v0_3::source::export_source!(Plugin);
