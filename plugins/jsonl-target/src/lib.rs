//! `jsonl-target` (contract 0.3): writes each table into a granted blob
//! store (label `out`: a local folder or an S3 bucket) as JSON Lines,
//! `<prefix><table>.jsonl`, with its definition beside it in
//! `<prefix><table>.schema.json` (format: `godwit_sdk::jsonl`). The rows
//! never touch SQL: this target writes them itself, through the contract's
//! `table-writer`, and `jsonl-source` reads them back exactly.
//!
//! A table's objects appear at its commit (the host's blob writer publishes
//! an object when it is finished and drops it when abandoned), the rows
//! file first and the schema last, so a schema file always describes a
//! complete rows file; `jsonl-source` lists tables by their schema files.
//! `finish` writes `<prefix>manifest.json`, naming the step's tables.
//!
//! Params: `{"prefix": "export/"}` (optional; default: the store's root).
//! Modes: `create` (refuses a table whose schema file exists), `replace`
//! and `truncate` (the objects are written anew); `append` and `upsert`
//! are refused at plan time, since an object cannot be appended to.

use godwit_sdk::params::Configured;
use std::cell::RefCell;

use godwit_sdk::{jsonl, values, Batch, ColumnDef, Error, TableDef};
use godwit_sdk_v0_3::caps::blob;
use godwit_sdk_v0_3::target::{
    BatchWritePlan, CapabilityKind, CapabilityRequest, CommitReceipt, GuestTableWriter, PluginInfo,
    RowReject, TableWriter, Target, TargetTraits, WriteMode, WritePlan,
};

/// Bytes buffered before a chunk goes to the store (under the host's 4 MiB
/// per-call limit on blob writes).
const CHUNK_BYTES: usize = 1 << 20;
/// The store label this plugin asks for.
const LABEL: &str = "out";

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Prepended to every object path (`export/`); empty: the store's root.
    #[serde(default)]
    prefix: String,
}

static PARAMS: Configured<Params> = Configured::new();

fn prefix() -> String {
    PARAMS.get_or_default().prefix
}

fn rows_path(table: &str) -> String {
    format!("{}{table}.jsonl", prefix())
}

fn schema_path(table: &str) -> String {
    format!("{}{table}.schema.json", prefix())
}

/// Table names become object names: a name that could step out of the
/// prefix or hide (`..`, `/`, control characters) is refused rather than
/// rewritten, so two tables never map to one object.
fn check_name(table: &str) -> Result<(), Error> {
    if table.is_empty()
        || table == "."
        || table == ".."
        || table.contains('/')
        || table.contains('\\')
        || table.chars().any(char::is_control)
    {
        return Err(Error::InvalidInput(format!(
            "table name {table:?} cannot be an object name (no '/', '\\\\', control characters, '.' or '..'); rename it in the step"
        )));
    }
    Ok(())
}

fn write_all(w: &blob::Writer, bytes: &[u8]) -> Result<(), Error> {
    for chunk in bytes.chunks(CHUNK_BYTES) {
        w.write(chunk)?;
    }
    Ok(())
}

struct JsonlTarget;

impl Target for JsonlTarget {
    type TableWriter = Writer;

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
        let p: Params = godwit_sdk::params::parse(&params)?;
        if p.prefix.starts_with('/') || p.prefix.split('/').any(|s| s == "..") {
            return Err(Error::InvalidInput(format!(
                "prefix {:?} must be relative and stay inside the store",
                p.prefix
            )));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn traits() -> TargetTraits {
        // Objects appear at commit, any number of tables at once; a table
        // written again replaces its objects whole.
        TargetTraits::TRANSACTIONAL | TargetTraits::PARALLEL_TABLES
    }

    fn plan_write(table: TableDef, mode: WriteMode) -> Result<WritePlan, Error> {
        check_name(&table.name)?;
        match mode {
            WriteMode::Append | WriteMode::Upsert => {
                return Err(Error::Unsupported(format!(
                    "jsonl-target writes whole objects: mode {} is not possible for {} (use replace, truncate or create)",
                    if matches!(mode, WriteMode::Append) { "append" } else { "upsert" },
                    table.name
                )))
            }
            WriteMode::Create => {
                let store = blob::open(LABEL)?;
                if store.stat(&schema_path(&table.name)).is_ok() {
                    return Err(Error::InvalidInput(format!(
                        "table {} already exists in the store ({}); use mode replace to write it again",
                        table.name,
                        schema_path(&table.name)
                    )));
                }
            }
            WriteMode::Replace | WriteMode::Truncate => {}
        }
        Ok(WritePlan::Batches(BatchWritePlan {
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            existing: None,
            key: table.primary_key.clone(),
            notes: vec![format!(
                "writes {} and {}",
                rows_path(&table.name),
                schema_path(&table.name)
            )],
        }))
    }

    fn open_writer(table: TableDef, _mode: WriteMode) -> Result<TableWriter, Error> {
        check_name(&table.name)?;
        let store = blob::open(LABEL)?;
        let rows = store.open_writer(&rows_path(&table.name))?;
        Ok(TableWriter::new(Writer {
            state: RefCell::new(Some(Open {
                store,
                rows,
                columns: table.columns.clone(),
                table,
                buffer: Vec::with_capacity(CHUNK_BYTES),
                written: 0,
            })),
        }))
    }

    fn finish(tables: Vec<String>) -> Result<Vec<String>, Error> {
        let store = blob::open(LABEL)?;
        let path = format!("{}manifest.json", prefix());
        let doc = format!(
            "{{\"format\": \"godwit-jsonl/1\", \"tables\": {}}}\n",
            serde_json_list(&tables)
        );
        let w = store.open_writer(&path)?;
        write_all(&w, doc.as_bytes())?;
        w.finish()?;
        Ok(vec![format!("wrote {path} ({} tables)", tables.len())])
    }
}

fn serde_json_list(names: &[String]) -> String {
    let mut out = Vec::new();
    out.push(b'[');
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        jsonl::write_string(&mut out, n);
    }
    out.push(b']');
    String::from_utf8(out).expect("JSON text is UTF-8")
}

struct Open {
    store: blob::Store,
    rows: blob::Writer,
    table: TableDef,
    columns: Vec<ColumnDef>,
    buffer: Vec<u8>,
    written: u64,
}

/// One table being written.
struct Writer {
    /// `None` once committed or aborted.
    state: RefCell<Option<Open>>,
}

impl GuestTableWriter for Writer {
    fn write(&self, batch: Batch) -> Result<Vec<RowReject>, Error> {
        let mut state = self.state.borrow_mut();
        let open = state
            .as_mut()
            .ok_or_else(|| Error::InvalidInput("the writer is closed".into()))?;
        let mut refused = Vec::new();
        for (i, row) in values::rows(&batch).into_iter().enumerate() {
            let before = open.buffer.len();
            match jsonl::encode_row(&mut open.buffer, &open.columns, &row) {
                Ok(()) => open.written += 1,
                Err(reason) => {
                    open.buffer.truncate(before);
                    refused.push(RowReject {
                        row: i as u32,
                        column: None,
                        reason,
                    });
                }
            }
            if open.buffer.len() >= CHUNK_BYTES {
                write_all(&open.rows, &open.buffer)?;
                open.buffer.clear();
            }
        }
        Ok(refused)
    }

    fn commit(&self) -> Result<CommitReceipt, Error> {
        let open = self
            .state
            .borrow_mut()
            .take()
            .ok_or_else(|| Error::InvalidInput("the writer is closed".into()))?;
        write_all(&open.rows, &open.buffer)?;
        open.rows.finish()?;
        // The schema last: it says the rows file is complete.
        let schema = open.store.open_writer(&schema_path(&open.table.name))?;
        write_all(&schema, jsonl::schema_json(&open.table).as_bytes())?;
        schema.finish()?;
        Ok(CommitReceipt {
            rows: open.written,
            location: Some(rows_path(&open.table.name)),
        })
    }

    fn abort(&self) {
        // Dropping the unfinished writer discards what it wrote.
        self.state.borrow_mut().take();
    }
}

godwit_sdk_v0_3::target::export_target!(JsonlTarget);
