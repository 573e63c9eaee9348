//! The host's own domain types: values, batches, table definitions, errors
//! and plans, as the engine, the capabilities and the reports use them.
//!
//! They are not generated from a contract version. Each served version of
//! `godwit:plugin` has its bindings in its own module
//! ([`crate::caps::v0_2`], [`crate::caps::v0_3`]) and meets these types
//! there:
//!
//! - The data types (the `types` interface: values, batches, table
//!   definitions, errors, plugin info) have the same shape in 0.2 and 0.3,
//!   so both versions' bindings use these very types (`with` in `bindgen!`,
//!   through [`types_v0_2`] and [`types_v0_3`]): values cross the Wasm
//!   boundary without a conversion, whichever version a plugin speaks. The
//!   derives check the shape against each component's types when it is
//!   linked, so a version whose shapes differed would fail to link instead
//!   of misreading memory.
//! - Types local to one interface (read and write plans, rewrite outcomes,
//!   findings, the capability records) are plain Rust here, and each
//!   version's module converts (`From`) between its generated types and
//!   these (`bindgen!` can remap whole interfaces and resources, not single
//!   records). A contract that grows a case the host model lacks adds it
//!   here first, and the older versions' conversions say what they cannot
//!   carry.
//!
//! Field and case documentation: docs/wit.md and the WIT files in `wit/`.

#![allow(missing_docs)] // every item is documented in the WIT files (docs/wit.md)

use wasmtime::component::{ComponentType, Lift, Lower};

// ---------------------------------------------------------------------------
// `types`: shared by every interface and every served version.

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum Value {
    #[component(name = "null")]
    Null,
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "int")]
    Int(i64),
    #[component(name = "uint")]
    Uint(u64),
    #[component(name = "float")]
    Float(f64),
    #[component(name = "decimal")]
    Decimal(String),
    #[component(name = "text")]
    Text(String),
    #[component(name = "bytes")]
    Bytes(Vec<u8>),
    #[component(name = "json")]
    Json(String),
    #[component(name = "timestamp")]
    Timestamp(i64),
    #[component(name = "timestamptz")]
    Timestamptz(i64),
    #[component(name = "date")]
    Date(i32),
    #[component(name = "time")]
    Time(i64),
    #[component(name = "uuid")]
    Uuid((u64, u64)),
    #[component(name = "vector")]
    Vector(Vec<f32>),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum ColumnValues {
    #[component(name = "boolean")]
    Boolean(Vec<bool>),
    #[component(name = "int")]
    Int(Vec<i64>),
    #[component(name = "uint")]
    Uint(Vec<u64>),
    #[component(name = "float")]
    Float(Vec<f64>),
    #[component(name = "decimal")]
    Decimal(Vec<String>),
    #[component(name = "text")]
    Text(Vec<String>),
    #[component(name = "bytes")]
    Bytes(Vec<Vec<u8>>),
    #[component(name = "json")]
    Json(Vec<String>),
    #[component(name = "timestamp")]
    Timestamp(Vec<i64>),
    #[component(name = "timestamptz")]
    Timestamptz(Vec<i64>),
    #[component(name = "date")]
    Date(Vec<i32>),
    #[component(name = "time")]
    Time(Vec<i64>),
    #[component(name = "uuid")]
    Uuid(Vec<(u64, u64)>),
    #[component(name = "vector")]
    Vector(Vec<Vec<f32>>),
    #[component(name = "mixed")]
    Mixed(Vec<Value>),
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Column {
    pub values: ColumnValues,
    pub nulls: Vec<u32>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct Batch {
    #[component(name = "row-count")]
    pub row_count: u32,
    pub columns: Vec<Column>,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(variant)]
pub enum LogicalType {
    #[component(name = "boolean")]
    Boolean,
    #[component(name = "int")]
    Int(u8),
    #[component(name = "uint")]
    Uint(u8),
    #[component(name = "float")]
    Float(u8),
    #[component(name = "decimal")]
    Decimal(DecimalSpec),
    #[component(name = "text")]
    Text(Option<u32>),
    #[component(name = "bytes")]
    Bytes(Option<u32>),
    #[component(name = "json")]
    Json,
    #[component(name = "timestamp")]
    Timestamp,
    #[component(name = "timestamptz")]
    Timestamptz,
    #[component(name = "date")]
    Date,
    #[component(name = "time")]
    Time,
    #[component(name = "uuid")]
    Uuid,
    #[component(name = "vector")]
    Vector(Option<u32>),
    #[component(name = "any")]
    Any,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(record)]
pub struct DecimalSpec {
    pub precision: Option<u8>,
    pub scale: Option<u8>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct ColumnDef {
    pub name: String,
    pub logical: LogicalType,
    #[component(name = "native-type")]
    pub native_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    #[component(name = "auto-increment")]
    pub auto_increment: bool,
    pub comment: Option<String>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    #[component(name = "ref-table")]
    pub ref_table: String,
    #[component(name = "ref-columns")]
    pub ref_columns: Vec<String>,
    #[component(name = "on-delete")]
    pub on_delete: String,
    #[component(name = "on-update")]
    pub on_update: String,
    pub deferrable: bool,
    pub validated: bool,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct UniqueConstraint {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct CheckConstraint {
    pub name: Option<String>,
    pub expression: String,
    pub validated: bool,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct IndexDef {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub definition: Option<String>,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct TableDef {
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    #[component(name = "primary-key")]
    pub primary_key: Vec<String>,
    pub uniques: Vec<UniqueConstraint>,
    pub checks: Vec<CheckConstraint>,
    #[component(name = "foreign-keys")]
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<IndexDef>,
    pub comment: Option<String>,
    #[component(name = "estimated-rows")]
    pub estimated_rows: Option<u64>,
    #[component(name = "is-view")]
    pub is_view: bool,
    pub triggers: Vec<String>,
    #[component(name = "native-dialect")]
    pub native_dialect: String,
}

/// The contract's error variant (what a plugin or a capability returns).
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
pub enum Error {
    #[component(name = "access-denied")]
    AccessDenied(String),
    #[component(name = "not-found")]
    NotFound(String),
    #[component(name = "invalid-input")]
    InvalidInput(String),
    #[component(name = "unsupported")]
    Unsupported(String),
    #[component(name = "io")]
    Io(String),
    #[component(name = "timeout")]
    Timeout(String),
    #[component(name = "limit-exceeded")]
    LimitExceeded(String),
    #[component(name = "rejected")]
    Rejected(String),
    #[component(name = "internal")]
    Internal(String),
}

impl Error {
    /// The WIT case name and the message.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Error::AccessDenied(m) => ("access-denied", m),
            Error::NotFound(m) => ("not-found", m),
            Error::InvalidInput(m) => ("invalid-input", m),
            Error::Unsupported(m) => ("unsupported", m),
            Error::Io(m) => ("io", m),
            Error::Timeout(m) => ("timeout", m),
            Error::LimitExceeded(m) => ("limit-exceeded", m),
            Error::Rejected(m) => ("rejected", m),
            Error::Internal(m) => ("internal", m),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, msg) = self.parts();
        write!(f, "{kind}: {msg}")
    }
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(enum)]
#[repr(u8)]
pub enum CapabilityKind {
    #[component(name = "sql")]
    Sql,
    #[component(name = "blob")]
    Blob,
    #[component(name = "http")]
    Http,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct CapabilityRequest {
    pub kind: CapabilityKind,
    pub label: String,
    pub purpose: String,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub requests: Vec<CapabilityRequest>,
    #[component(name = "params-doc")]
    pub params_doc: String,
}

// ---------------------------------------------------------------------------
// Records of the capability interfaces, as the host uses them; each
// version's capability implementation (caps/mod.rs) converts.

/// `sql.dialect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// `sql.column-info`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub native_type: String,
}

/// `blob.object-meta`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectMeta {
    pub path: String,
    pub size: u64,
    pub last_modified: Option<i64>,
    pub etag: Option<String>,
    pub is_dir: bool,
    pub mode: Option<u32>,
}

/// `http.request`.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// `http.response`.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// `log.level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

// ---------------------------------------------------------------------------
// Plugin interfaces: plain Rust, converted by each version's module.

/// `source-adapter.sql-read`: a query the host runs itself.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlRead {
    pub connection: String,
    pub statement: String,
    pub params: Vec<Value>,
}

/// `source-adapter.read-plan`.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadPlan {
    Sql(SqlRead),
    Batches,
}

/// `target-adapter.write-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    Create,
    Replace,
    Truncate,
    Append,
    Upsert,
}

/// `target-adapter.sql-write-plan` (0.2's `write-plan`).
#[derive(Clone, Debug, PartialEq)]
pub struct SqlWritePlan {
    pub connection: String,
    pub pre: Vec<String>,
    pub table: String,
    pub columns: Vec<String>,
    pub post: Vec<String>,
    pub constraints: Vec<String>,
    pub upsert_key: Vec<String>,
    pub existing: Option<Vec<ColumnDef>>,
}

/// `target-adapter.batch-write-plan` (0.3).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchWritePlan {
    pub columns: Vec<String>,
    pub existing: Option<Vec<ColumnDef>>,
    pub key: Vec<String>,
    pub notes: Vec<String>,
}

/// `target-adapter.write-plan` (0.3; a 0.2 plan is always `Sql`).
#[derive(Clone, Debug, PartialEq)]
pub enum WritePlan {
    Sql(SqlWritePlan),
    Batches(BatchWritePlan),
}

/// `target-adapter.target-traits` (0.3). For a 0.2 target the host derives
/// them from the dialect of its connection (see [`TargetTraits::of_dialect`]),
/// so that the engine decides from traits alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct TargetTraits {
    pub transactional: bool,
    pub parallel_tables: bool,
    pub upsert: bool,
    pub idempotent_by_key: bool,
}

impl TargetTraits {
    /// What a 0.2 SQL target on `dialect` can do: SQLite has one writer, so
    /// its tables load one at a time; every dialect loads in a transaction.
    pub fn of_dialect(dialect: Dialect) -> Self {
        Self {
            transactional: true,
            parallel_tables: dialect != Dialect::Sqlite,
            upsert: true,
            idempotent_by_key: false,
        }
    }

    /// The set flags' WIT names, for `plugins inspect` and `plan`.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.transactional, "transactional"),
            (self.parallel_tables, "parallel-tables"),
            (self.upsert, "upsert"),
            (self.idempotent_by_key, "idempotent-by-key"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// `target-adapter.row-reject` (0.3).
#[derive(Clone, Debug, PartialEq)]
pub struct RowReject {
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

/// `target-adapter.commit-receipt` (0.3).
#[derive(Clone, Debug, PartialEq)]
pub struct CommitReceipt {
    pub rows: u64,
    pub location: Option<String>,
}

/// `rewriter.outcome`.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Unchanged,
    Replaced(Value),
    Rejected(String),
}

/// `validation.severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// `validation.finding`.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub check: String,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
    pub expected: Option<String>,
    pub observed: Option<String>,
}

/// `validation.table-pair`. `outcome` reaches 0.3 validators only.
#[derive(Clone, Debug, PartialEq)]
pub struct TablePair {
    pub source: String,
    pub target: String,
    pub source_def: TableDef,
    pub target_def: TableDef,
    pub outcome: Option<TableOutcome>,
}

/// `validation.table-outcome` (0.3): what the run did with a table.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TableOutcome {
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_rejected: u64,
    pub rejected_by_stage: Vec<(String, u64)>,
}

// ---------------------------------------------------------------------------
// Engine records the capabilities also use (so that `caps` never imports
// `engine`).

/// A table built beside the one it replaces. `write.pre` creates it and the
/// load fills it; after every load of the step succeeded, the old table is
/// dropped and this one renamed into place — on PostgreSQL in one
/// transaction (with the indexes and sequences named after it), on MySQL
/// with one atomic `RENAME TABLE` — and the post-data statements then run
/// on the final name. A load that fails leaves the old table as it was.
/// SQLite targets are not built beside (their foreign keys live inside
/// `CREATE TABLE`): their DDL runs inside the load transaction instead.
#[derive(Clone, Debug)]
pub struct Staging {
    /// The staging table's bare name.
    pub name: String,
    /// The staging table, quoted (and schema-qualified) as the target wrote it.
    pub table: String,
    /// The final table, quoted (and schema-qualified).
    pub final_table: String,
    /// The final table's bare name.
    pub final_name: String,
}

/// Orphans of one foreign key of a loaded table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct OrphanReport {
    /// The foreign key: `post_id -> posts (id)`.
    pub foreign_key: String,
    /// `rejected`, `set-null`, `kept` (the key added unchecked) or
    /// `not-valid` (a PostgreSQL key left `NOT VALID` because rows break it).
    pub action: String,
    /// Rows concerned.
    pub rows: u64,
    /// The first of them: the child's key and the missing parent key
    /// (`id=7: post_id=99`).
    pub examples: Vec<String>,
}

// ---------------------------------------------------------------------------
// The `types` interface of each served version, as `bindgen!` expects a
// module mapped with `with` to look: the types above, plus the (empty) host
// trait and the linker hookup under that version's interface name.

macro_rules! types_interface {
    ($(#[$doc:meta])* $module:ident, $name:literal) => {
        $(#[$doc])*
        pub mod $module {
            pub use super::{
                Batch, CapabilityKind, CapabilityRequest, CheckConstraint, Column, ColumnDef,
                ColumnValues, DecimalSpec, Error, ForeignKey, IndexDef, LogicalType, PluginInfo,
                TableDef, UniqueConstraint, Value,
            };

            /// The interface has no functions: nothing to implement.
            pub trait HostWithStore<T>: wasmtime::component::HasData {}
            impl<H: ?Sized, T> HostWithStore<T> for H where H: wasmtime::component::HasData {}
            /// The interface has no functions: nothing to implement.
            pub trait Host {}
            impl<T: Host + ?Sized> Host for &mut T {}

            /// Nothing to add to an instance: the interface only has types.
            pub fn add_to_linker_instance<T, D>(
                _inst: &mut wasmtime::component::LinkerInstance<'_, T>,
                _host_getter: fn(&mut T) -> D::Data<'_>,
            ) -> wasmtime::Result<()>
            where
                D: HostWithStore<T>,
                for<'a> D::Data<'a>: Host,
                T: 'static,
            {
                Ok(())
            }

            /// Defines the (type-only) instance components import.
            pub fn add_to_linker<T, D>(
                linker: &mut wasmtime::component::Linker<T>,
                host_getter: fn(&mut T) -> D::Data<'_>,
            ) -> wasmtime::Result<()>
            where
                D: HostWithStore<T>,
                for<'a> D::Data<'a>: Host,
                T: 'static,
            {
                let mut inst = linker.instance($name)?;
                add_to_linker_instance::<T, D>(&mut inst, host_getter)
            }
        }
    };
}

types_interface!(
    /// `godwit:plugin/types@0.2.0`.
    types_v0_2,
    "godwit:plugin/types@0.2.0"
);
types_interface!(
    /// `godwit:plugin/types@0.3.0` (the same shapes as 0.2).
    types_v0_3,
    "godwit:plugin/types@0.3.0"
);
