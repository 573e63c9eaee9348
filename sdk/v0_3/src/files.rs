//! Tables as files in a granted blob store (a folder or an S3 bucket), for
//! targets that write them and sources that read them back (feature
//! `files`). One recipe, any row format: a plugin names its [`Format`]
//! (JSON Lines and CSV are here; a third is one more impl) and delegates
//! its exports to the functions below.
//!
//! Layout under the plugin's `prefix`, per table `t`:
//! - `t.<format>`: the rows ([`Format::NAME`] is the extension);
//! - `t.schema.json`: the table's definition (`godwit_sdk::jsonl`'s
//!   schema document, whose `"rows"` names the format);
//! - `manifest.json`: written by `finish`, naming the step's tables.
//!
//! A table's objects appear at its commit (the host's blob writer
//! publishes an object when finished and drops it when abandoned), the rows
//! first and the schema last, so a schema file always describes a complete
//! rows file, and sources list tables by their schema files. Table names
//! that could leave the prefix (`..`, `/`, control characters) are refused,
//! never rewritten, so two tables never map to one object.
//!
//! ```ignore
//! use godwit_sdk_v0_3::files::{self, Csv};
//! impl Target for CsvTarget {
//!     type TableWriter = files::FileWriter<Csv>;
//!     fn plan_write(t: TableDef, mode: WriteMode) -> Result<WritePlan, Error> {
//!         files::plan_write::<Csv>(&prefix(), "out", t, mode)
//!     }
//!     // open_writer, finish: the same
//! }
//! ```

use std::cell::RefCell;
use std::marker::PhantomData;

use godwit_sdk::jsonl::FileSchema;
use godwit_sdk::{csv, jsonl, values, Batch, ColumnDef, Error, TableDef, Value};

use crate::caps::{blob, log};
use crate::source::{GuestReader, Reader};
use crate::target::{
    BatchWritePlan, CommitReceipt, GuestTableWriter, RowReject, TableWriter, WriteMode, WritePlan,
};

/// Bytes buffered before a chunk goes to the store (under the host's 4 MiB
/// per-call limit on blob writes).
pub const CHUNK_BYTES: usize = 1 << 20;
/// Bytes asked of the store per read.
pub const READ_BYTES: u32 = 1 << 20;
/// The longest record accepted: a longer one is an error, so a reader's
/// memory stays bounded by it whatever the file (a row is one record).
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Schema files are small; a larger one is not ours.
pub const MAX_SCHEMA_BYTES: u64 = 16 << 20;
/// Listing page size.
const PAGE: u32 = 1000;
/// The suffix of schema files.
pub const SCHEMA_SUFFIX: &str = ".schema.json";

/// A row format: how rows become records and back.
pub trait Format: 'static {
    /// The format's name: the rows file's extension and the schema
    /// document's `"rows"` (`jsonl`, `csv`).
    const NAME: &'static str;
    /// Finds record ends across chunks (see [`Format::record_end`]).
    type Scan: Default;
    /// Writes one table's rows (may learn from them: CSV's cell kinds).
    type Encoder;
    /// Reads one table's rows.
    type Decoder;

    /// The encoder of a table, or why the format cannot keep it.
    fn encoder(table: &TableDef) -> Result<Self::Encoder, String>;
    /// Appends what opens a rows file (CSV's header record; nothing for
    /// JSON Lines).
    fn header(_enc: &Self::Encoder, _out: &mut Vec<u8>) {}
    /// Appends one row as a record; on error the caller truncates `out`
    /// back and rejects the row with the reason.
    fn encode_row(enc: &mut Self::Encoder, out: &mut Vec<u8>, row: &[Value]) -> Result<(), String>;
    /// What the schema document must say of the rows written.
    fn file_schema(_enc: &Self::Encoder) -> FileSchema {
        FileSchema {
            rows: Self::NAME.into(),
            cell_kinds: Vec::new(),
        }
    }

    /// The decoder of a table its schema document describes.
    fn decoder(table: &TableDef, file: &FileSchema) -> Result<Self::Decoder, String>;
    /// Whether the first record is a header (checked, not a row).
    fn has_header() -> bool {
        false
    }
    /// Checks a header record.
    fn check_header(_dec: &Self::Decoder, _record: &[u8]) -> Result<(), String> {
        Ok(())
    }
    /// The index of the LF ending the record that starts at `bytes[0]`,
    /// or `None` while it is incomplete. `scan` keeps the place between
    /// calls over the same growing bytes and is reset after each record.
    fn record_end(scan: &mut Self::Scan, bytes: &[u8]) -> Option<usize>;
    /// Whether the bytes scanned so far end mid-record in a way a file
    /// cannot end (an open quote).
    fn cut_short(_scan: &Self::Scan) -> bool {
        false
    }
    /// Reads a record (without its LF) back; `None` for a record that is
    /// no row (a blank JSON Lines line).
    fn decode_row(dec: &Self::Decoder, record: &[u8]) -> Result<Option<Vec<Value>>, String>;
}

/// JSON Lines (`godwit_sdk::jsonl`): values of any kind, tagged when not
/// their column's.
pub struct Jsonl;

/// Where the JSON Lines scan stands: the bytes already seen without a LF.
#[derive(Default)]
pub struct LineScan(usize);

impl Format for Jsonl {
    const NAME: &'static str = "jsonl";
    type Scan = LineScan;
    type Encoder = Vec<ColumnDef>;
    type Decoder = Vec<ColumnDef>;

    fn encoder(table: &TableDef) -> Result<Vec<ColumnDef>, String> {
        Ok(table.columns.clone())
    }
    fn encode_row(
        enc: &mut Vec<ColumnDef>,
        out: &mut Vec<u8>,
        row: &[Value],
    ) -> Result<(), String> {
        jsonl::encode_row(out, enc, row)
    }
    fn decoder(table: &TableDef, _file: &FileSchema) -> Result<Vec<ColumnDef>, String> {
        Ok(table.columns.clone())
    }
    fn record_end(scan: &mut LineScan, bytes: &[u8]) -> Option<usize> {
        match bytes[scan.0..].iter().position(|b| *b == b'\n') {
            Some(p) => {
                let end = scan.0 + p;
                scan.0 = 0;
                Some(end)
            }
            None => {
                scan.0 = bytes.len();
                None
            }
        }
    }
    fn decode_row(dec: &Vec<ColumnDef>, record: &[u8]) -> Result<Option<Vec<Value>>, String> {
        let text = std::str::from_utf8(record).map_err(|_| "not UTF-8".to_owned())?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(None);
        }
        jsonl::decode_row(text, dec).map(Some)
    }
}

/// CSV (`godwit_sdk::csv`): a header, then one record per row; one cell
/// kind per column, recorded in the schema document when it is not the
/// column type's.
pub struct Csv;

impl Format for Csv {
    const NAME: &'static str = "csv";
    type Scan = csv::Scan;
    type Encoder = csv::Encoder;
    type Decoder = csv::Decoder;

    fn encoder(table: &TableDef) -> Result<csv::Encoder, String> {
        Ok(csv::Encoder::new(&table.columns))
    }
    fn header(enc: &csv::Encoder, out: &mut Vec<u8>) {
        enc.header(out)
    }
    fn encode_row(enc: &mut csv::Encoder, out: &mut Vec<u8>, row: &[Value]) -> Result<(), String> {
        enc.encode_row(out, row)
    }
    fn file_schema(enc: &csv::Encoder) -> FileSchema {
        FileSchema {
            rows: Self::NAME.into(),
            cell_kinds: enc.cell_kinds(),
        }
    }
    fn decoder(table: &TableDef, file: &FileSchema) -> Result<csv::Decoder, String> {
        csv::Decoder::new(&table.columns, &file.cell_kinds)
    }
    fn has_header() -> bool {
        true
    }
    fn check_header(dec: &csv::Decoder, record: &[u8]) -> Result<(), String> {
        dec.check_header(record)
    }
    fn record_end(scan: &mut csv::Scan, bytes: &[u8]) -> Option<usize> {
        let end = scan.record_end(bytes);
        if end.is_some() {
            scan.reset();
        }
        end
    }
    fn cut_short(scan: &csv::Scan) -> bool {
        scan.in_quotes()
    }
    fn decode_row(dec: &csv::Decoder, record: &[u8]) -> Result<Option<Vec<Value>>, String> {
        dec.decode_row(record).map(Some)
    }
}

/// The parameters every files plugin takes: `{"prefix": "export/"}`
/// (optional; default: the store's root).
#[derive(serde::Deserialize, Clone, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Prepended to every object path; empty: the store's root.
    #[serde(default)]
    pub prefix: String,
}

/// Parses and checks [`Params`]: the prefix must stay inside the store.
pub fn parse_params(text: &str) -> Result<Params, Error> {
    let p: Params = godwit_sdk::params::parse(text)?;
    if p.prefix.starts_with('/') || p.prefix.split('/').any(|s| s == "..") {
        return Err(Error::InvalidInput(format!(
            "prefix {:?} must be relative and stay inside the store",
            p.prefix
        )));
    }
    Ok(p)
}

/// `<prefix><table>.<format>`.
pub fn rows_path<F: Format>(prefix: &str, table: &str) -> String {
    format!("{prefix}{table}.{}", F::NAME)
}

/// `<prefix><table>.schema.json`.
pub fn schema_path(prefix: &str, table: &str) -> String {
    format!("{prefix}{table}{SCHEMA_SUFFIX}")
}

/// Refuses a table name that cannot be an object name.
pub fn check_name(table: &str) -> Result<(), Error> {
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

// --- targets ---------------------------------------------------------------

/// `plan-write` of a files target: checks the name, the mode and the
/// format's limits, and plans plugin-written batches.
pub fn plan_write<F: Format>(
    prefix: &str,
    label: &str,
    table: TableDef,
    mode: WriteMode,
) -> Result<WritePlan, Error> {
    check_name(&table.name)?;
    F::encoder(&table).map_err(Error::Unsupported)?;
    match mode {
        WriteMode::Append | WriteMode::Upsert => {
            return Err(Error::Unsupported(format!(
                "files are written whole: mode {} is not possible for {} (use replace, truncate or create)",
                if matches!(mode, WriteMode::Append) { "append" } else { "upsert" },
                table.name
            )))
        }
        WriteMode::Create => {
            let store = blob::open(label)?;
            if store.stat(&schema_path(prefix, &table.name)).is_ok() {
                return Err(Error::InvalidInput(format!(
                    "table {} already exists in the store ({}); use mode replace to write it again",
                    table.name,
                    schema_path(prefix, &table.name)
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
            rows_path::<F>(prefix, &table.name),
            schema_path(prefix, &table.name)
        )],
    }))
}

/// `open-writer` of a files target.
pub fn open_writer<F: Format>(
    prefix: &str,
    label: &str,
    table: TableDef,
) -> Result<TableWriter, Error> {
    check_name(&table.name)?;
    let encoder = F::encoder(&table).map_err(Error::Unsupported)?;
    let store = blob::open(label)?;
    let rows = store.open_writer(&rows_path::<F>(prefix, &table.name))?;
    let mut buffer = Vec::with_capacity(CHUNK_BYTES);
    F::header(&encoder, &mut buffer);
    Ok(TableWriter::new(FileWriter::<F> {
        state: RefCell::new(Some(Open {
            store,
            rows,
            prefix: prefix.to_owned(),
            encoder,
            table,
            buffer,
            written: 0,
        })),
        format: PhantomData,
    }))
}

/// `finish` of a files target: writes `<prefix>manifest.json`.
pub fn finish<F: Format>(
    prefix: &str,
    label: &str,
    tables: &[String],
) -> Result<Vec<String>, Error> {
    let store = blob::open(label)?;
    let path = format!("{prefix}manifest.json");
    let mut doc = format!(
        "{{\"format\": \"godwit-files/1\", \"rows\": \"{}\", \"tables\": [",
        F::NAME
    )
    .into_bytes();
    for (i, n) in tables.iter().enumerate() {
        if i > 0 {
            doc.extend_from_slice(b", ");
        }
        jsonl::write_string(&mut doc, n);
    }
    doc.extend_from_slice(b"]}\n");
    let w = store.open_writer(&path)?;
    write_all(&w, &doc)?;
    w.finish()?;
    Ok(vec![format!("wrote {path} ({} tables)", tables.len())])
}

struct Open<E> {
    store: blob::Store,
    rows: blob::Writer,
    prefix: String,
    table: TableDef,
    encoder: E,
    buffer: Vec<u8>,
    written: u64,
}

/// One table being written in format `F`.
pub struct FileWriter<F: Format> {
    /// `None` once committed or aborted.
    state: RefCell<Option<Open<F::Encoder>>>,
    format: PhantomData<F>,
}

impl<F: Format> GuestTableWriter for FileWriter<F> {
    fn write(&self, batch: Batch) -> Result<Vec<RowReject>, Error> {
        let mut state = self.state.borrow_mut();
        let open = state
            .as_mut()
            .ok_or_else(|| Error::InvalidInput("the writer is closed".into()))?;
        let mut refused = Vec::new();
        for (i, row) in values::rows(&batch).into_iter().enumerate() {
            let before = open.buffer.len();
            match F::encode_row(&mut open.encoder, &mut open.buffer, &row) {
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
        let schema = open
            .store
            .open_writer(&schema_path(&open.prefix, &open.table.name))?;
        let file = F::file_schema(&open.encoder);
        write_all(
            &schema,
            jsonl::schema_json_for(&open.table, &file).as_bytes(),
        )?;
        schema.finish()?;
        Ok(CommitReceipt {
            rows: open.written,
            location: Some(rows_path::<F>(&open.prefix, &open.table.name)),
        })
    }

    fn abort(&self) {
        // Dropping the unfinished writer discards what it wrote.
        self.state.borrow_mut().take();
    }
}

// --- sources ---------------------------------------------------------------

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

/// A table's definition and its rows' format, from its schema file.
fn schema_of(
    store: &blob::Store,
    prefix: &str,
    table: &str,
) -> Result<(TableDef, FileSchema), Error> {
    let path = schema_path(prefix, table);
    let bytes = read_whole(store, &path, MAX_SCHEMA_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput(format!("{path} is not UTF-8")))?;
    let (def, rows) =
        jsonl::parse_schema_for(&text).map_err(|e| Error::InvalidInput(format!("{path}: {e}")))?;
    if def.name != table {
        return Err(Error::InvalidInput(format!(
            "{path} describes table {:?}, not {table:?}",
            def.name
        )));
    }
    Ok((def, rows))
}

/// `discover` of a files source: every schema file under the prefix whose
/// rows are in format `F`. Tables of another format are skipped with a
/// log line naming the plugin that reads them.
pub fn discover<F: Format>(prefix: &str, label: &str) -> Result<Vec<TableDef>, Error> {
    let store = blob::open(label)?;
    let lister = store.list(prefix, false)?;
    let mut tables = Vec::new();
    loop {
        let page = lister.next_page(PAGE)?;
        if page.is_empty() {
            break;
        }
        for meta in page.into_iter().filter(|m| !m.is_dir) {
            let name = meta.path.strip_prefix(prefix).unwrap_or(&meta.path);
            let Some(table) = name.strip_suffix(SCHEMA_SUFFIX) else {
                continue;
            };
            if table.is_empty() || table.contains('/') {
                continue;
            }
            let (mut def, file) = schema_of(&store, prefix, table)?;
            let rows = file.rows;
            if rows != F::NAME {
                log::emit(
                    log::Level::Warn,
                    &format!(
                        "{}: table {table} is in {rows}, not {}; skipped (read it with {rows}-source)",
                        schema_path(prefix, table),
                        F::NAME
                    ),
                );
                continue;
            }
            def.estimated_rows = None;
            tables.push(def);
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

/// `open-reader` of a files source: streams one table's rows file.
pub fn open_reader<F: Format>(prefix: &str, label: &str, table: &str) -> Result<Reader, Error> {
    let store = blob::open(label)?;
    let (def, file) = schema_of(&store, prefix, table)?;
    let rows = &file.rows;
    if rows != F::NAME {
        return Err(Error::InvalidInput(format!(
            "table {table} is in {rows} ({}), not {}: read it with {rows}-source",
            rows_path_named(prefix, table, rows),
            F::NAME
        )));
    }
    let path = rows_path::<F>(prefix, table);
    let decoder = F::decoder(&def, &file)
        .map_err(|e| Error::InvalidInput(format!("{}: {e}", schema_path(prefix, table))))?;
    // Present, or the table's export is incomplete: say so now.
    store.stat(&path)?;
    Ok(Reader::new(FileReader::<F> {
        state: RefCell::new(ReadState {
            store,
            path,
            decoder,
            offset: 0,
            pending: Vec::new(),
            scan: F::Scan::default(),
            records: 0,
            line: 1,
            eof: false,
        }),
    }))
}

fn rows_path_named(prefix: &str, table: &str, format: &str) -> String {
    format!("{prefix}{table}.{format}")
}

struct ReadState<S, D> {
    store: blob::Store,
    path: String,
    decoder: D,
    /// Bytes of the object read so far.
    offset: u64,
    /// Read bytes not yet decoded (at most one partial record once a
    /// batch is returned).
    pending: Vec<u8>,
    scan: S,
    /// Records taken so far (the header included).
    records: u64,
    /// The line the next record starts on (1-based, for messages).
    line: u64,
    eof: bool,
}

/// Streams one table's rows in format `F`: one read chunk and one batch
/// at a time, whatever the file's size. A record that is not a row of the
/// table fails the read with its line: a corrupt file is never loaded in
/// part silently.
pub struct FileReader<F: Format> {
    state: RefCell<ReadState<F::Scan, F::Decoder>>,
}

impl<F: Format> FileReader<F> {
    /// Takes one record: checks the header, or decodes a row.
    fn take(
        st: &mut ReadState<F::Scan, F::Decoder>,
        record: &[u8],
    ) -> Result<Option<Vec<Value>>, Error> {
        let at = st.line;
        st.line += 1 + record.iter().filter(|b| **b == b'\n').count() as u64;
        st.records += 1;
        let fail = |e: String| Error::InvalidInput(format!("{} line {at}: {e}", st.path));
        if st.records == 1 && F::has_header() {
            F::check_header(&st.decoder, record).map_err(fail)?;
            return Ok(None);
        }
        F::decode_row(&st.decoder, record).map_err(fail)
    }
}

impl<F: Format> GuestReader for FileReader<F> {
    fn next_batch(&self, max_rows: u32) -> Result<Option<Batch>, Error> {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let max_rows = max_rows.max(1) as usize;
        let mut rows = Vec::new();
        // Records are decoded in place from `start`; the consumed bytes
        // are dropped once per call (not once per record, which would move
        // the rest of the chunk for every row).
        let mut start = 0usize;
        while rows.len() < max_rows {
            if let Some(end) = F::record_end(&mut st.scan, &st.pending[start..]) {
                let record = st.pending[start..start + end].to_vec();
                start += end + 1;
                if let Some(row) = Self::take(st, &record)? {
                    rows.push(row);
                }
                continue;
            }
            if st.eof {
                if start < st.pending.len() {
                    if F::cut_short(&st.scan) {
                        return Err(Error::InvalidInput(format!(
                            "{} line {}: the file ends inside a quoted cell (cut short?)",
                            st.path, st.line
                        )));
                    }
                    // A last record without its LF.
                    let record = st.pending[start..].to_vec();
                    start = st.pending.len();
                    st.scan = F::Scan::default();
                    if let Some(row) = Self::take(st, &record)? {
                        rows.push(row);
                    }
                }
                break;
            }
            if st.pending.len() - start > MAX_RECORD_BYTES {
                return Err(Error::LimitExceeded(format!(
                    "{} line {}: a record longer than {} bytes",
                    st.path, st.line, MAX_RECORD_BYTES
                )));
            }
            // The scan's place is relative to `start`, which stays.
            st.pending.drain(..start);
            start = 0;
            let chunk = st.store.read(&st.path, st.offset, READ_BYTES)?;
            if chunk.is_empty() {
                st.eof = true;
            } else {
                st.offset += chunk.len() as u64;
                st.pending.extend_from_slice(&chunk);
            }
        }
        st.pending.drain(..start);
        if F::has_header() && st.eof && st.records == 0 {
            return Err(Error::InvalidInput(format!(
                "{}: empty, not even a header record",
                st.path
            )));
        }
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(values::batch_from_rows(rows)))
    }
}
