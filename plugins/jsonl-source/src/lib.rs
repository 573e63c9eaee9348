//! `jsonl-source` (contract 0.3): reads back the tables `jsonl-target`
//! wrote into a granted blob store (label `in`): every
//! `<prefix><table>.schema.json` is a table, its rows are in
//! `<prefix><table>.jsonl` (format: `godwit_sdk::jsonl`). The plugin
//! produces the batches itself (`read-plan.batches`), streaming: it holds
//! one read chunk and one batch at a time, whatever the file's size.
//!
//! A line that is not a row of the table (bad JSON, a field that is no
//! column, a value that does not fit its column's type) fails the read
//! with its line number: a corrupt file is never loaded in part silently.
//!
//! Params: `{"prefix": "export/"}` (optional).

use godwit_sdk::params::Configured;
use std::cell::RefCell;

use godwit_sdk::{jsonl, values, Batch, ColumnDef, Error, TableDef};
use godwit_sdk_v0_3::caps::blob;
use godwit_sdk_v0_3::source::{
    CapabilityKind, CapabilityRequest, GuestReader, PluginInfo, ReadPlan, Reader, Source,
};

/// Bytes asked of the store per read.
const READ_BYTES: u32 = 1 << 20;
/// The longest line accepted: a longer one is an error, so memory stays
/// bounded by it (a row is one line).
const MAX_LINE_BYTES: usize = 64 << 20;
/// Listing page size.
const PAGE: u32 = 1000;
/// Schema files are small; a larger one is not ours.
const MAX_SCHEMA_BYTES: u64 = 16 << 20;
const LABEL: &str = "in";
const SCHEMA_SUFFIX: &str = ".schema.json";

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    prefix: String,
}

static PARAMS: Configured<Params> = Configured::new();

fn prefix() -> String {
    PARAMS.get_or_default().prefix
}

fn read_whole(store: &blob::Store, path: &str, limit: u64) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    loop {
        let chunk = store.read(path, out.len() as u64, READ_BYTES)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        if out.len() as u64 > limit {
            return Err(Error::LimitExceeded(format!(
                "{path} is larger than {limit} bytes"
            )));
        }
    }
}

fn schema_of(store: &blob::Store, table: &str) -> Result<TableDef, Error> {
    let path = format!("{}{table}{SCHEMA_SUFFIX}", prefix());
    let bytes = read_whole(store, &path, MAX_SCHEMA_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput(format!("{path} is not UTF-8")))?;
    let def =
        jsonl::parse_schema(&text).map_err(|e| Error::InvalidInput(format!("{path}: {e}")))?;
    if def.name != table {
        return Err(Error::InvalidInput(format!(
            "{path} describes table {:?}, not {table:?}",
            def.name
        )));
    }
    Ok(def)
}

struct JsonlSource;

impl Source for JsonlSource {
    type Reader = RowsReader;

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
        let p: Params = godwit_sdk::params::parse(&params)?;
        PARAMS.set(p);
        Ok(())
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        let store = blob::open(LABEL)?;
        let prefix = prefix();
        let lister = store.list(&prefix, false)?;
        let mut tables = Vec::new();
        loop {
            let page = lister.next_page(PAGE)?;
            if page.is_empty() {
                break;
            }
            for meta in page.into_iter().filter(|m| !m.is_dir) {
                let name = meta.path.strip_prefix(&prefix).unwrap_or(&meta.path);
                let Some(table) = name.strip_suffix(SCHEMA_SUFFIX) else {
                    continue;
                };
                if table.is_empty() || table.contains('/') {
                    continue;
                }
                let mut def = schema_of(&store, table)?;
                def.estimated_rows = None;
                tables.push(def);
            }
        }
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tables)
    }

    fn plan_read(_table: String) -> Result<ReadPlan, Error> {
        Ok(ReadPlan::Batches)
    }

    fn open_reader(table: String) -> Result<Reader, Error> {
        let store = blob::open(LABEL)?;
        let def = schema_of(&store, &table)?;
        let path = format!("{}{table}.jsonl", prefix());
        // Present, or the table's export is incomplete: say so now.
        store.stat(&path)?;
        Ok(Reader::new(RowsReader {
            state: RefCell::new(ReadState {
                store,
                path,
                columns: def.columns,
                offset: 0,
                pending: Vec::new(),
                line: 0,
                eof: false,
            }),
        }))
    }
}

struct ReadState {
    store: blob::Store,
    path: String,
    columns: Vec<ColumnDef>,
    /// Bytes of the object read so far.
    offset: u64,
    /// Read bytes not yet decoded (at most one partial line once a batch
    /// is returned).
    pending: Vec<u8>,
    /// Lines decoded so far (for messages: 1-based line numbers).
    line: u64,
    eof: bool,
}

/// Streams one table's rows.
struct RowsReader {
    state: RefCell<ReadState>,
}

impl ReadState {
    fn decode(&mut self, line: &[u8]) -> Result<Option<Vec<godwit_sdk::Value>>, Error> {
        self.line += 1;
        let text = std::str::from_utf8(line).map_err(|_| {
            Error::InvalidInput(format!("{} line {}: not UTF-8", self.path, self.line))
        })?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(None);
        }
        jsonl::decode_row(text, &self.columns)
            .map(Some)
            .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", self.path, self.line)))
    }
}

impl GuestReader for RowsReader {
    fn next_batch(&self, max_rows: u32) -> Result<Option<Batch>, Error> {
        let mut st = self.state.borrow_mut();
        let max_rows = max_rows.max(1) as usize;
        let mut rows = Vec::new();
        // Lines are decoded in place from `start`; the consumed bytes are
        // dropped once per call (not once per line, which would move the
        // rest of the chunk for every row).
        let mut start = 0usize;
        while rows.len() < max_rows {
            if let Some(nl) = st.pending[start..].iter().position(|b| *b == b'\n') {
                let end = start + nl;
                let line = st.pending[start..end].to_vec();
                start = end + 1;
                if let Some(row) = st.decode(&line)? {
                    rows.push(row);
                }
                continue;
            }
            st.pending.drain(..start);
            start = 0;
            if st.eof {
                if !st.pending.is_empty() {
                    // A last line without its newline.
                    let line = std::mem::take(&mut st.pending);
                    if let Some(row) = st.decode(&line)? {
                        rows.push(row);
                    }
                }
                break;
            }
            if st.pending.len() > MAX_LINE_BYTES {
                return Err(Error::LimitExceeded(format!(
                    "{} line {}: longer than {} bytes",
                    st.path,
                    st.line + 1,
                    MAX_LINE_BYTES
                )));
            }
            let chunk = st.store.read(&st.path, st.offset, READ_BYTES)?;
            if chunk.is_empty() {
                st.eof = true;
            } else {
                st.offset += chunk.len() as u64;
                st.pending.extend_from_slice(&chunk);
            }
        }
        st.pending.drain(..start);
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(values::batch_from_rows(rows)))
    }
}

godwit_sdk_v0_3::source::export_source!(JsonlSource);
