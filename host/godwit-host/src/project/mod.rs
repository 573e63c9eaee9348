//! The project file, `godwit.toml`: what connects where, which plugins run with
//! which grants and limits, and which steps and validators make up the job.
//!
//! Parsing is strict: unknown keys, wrong types and references to things that
//! do not exist are errors that name the file, line and column. Secrets only
//! enter through `${ENV_VAR}` references, are resolved here, and are kept in
//! [`Secret`], whose `Debug` and `Display` never show them. Field-by-field
//! documentation: docs/project-file.md.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The project file's name inside a project directory.
pub const PROJECT_FILE: &str = "godwit.toml";

pub use crate::redact::{redact_dsn, Secret};

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Directory holding `godwit.toml`; relative paths resolve against it.
    pub dir: PathBuf,
    /// Refuse read-only connections whose role could bypass read-only
    /// transactions (`--strict`; not a project-file setting).
    pub strict: bool,
    /// Project name.
    pub name: String,
    /// Where resume state goes.
    pub state_dir: PathBuf,
    /// Where each `run` and `validate` writes its run directory (report,
    /// rejects, log); default `<state_dir>/runs`.
    pub reports_dir: PathBuf,
    /// Named database connections.
    pub connections: BTreeMap<String, Connection>,
    /// Named object stores.
    pub stores: BTreeMap<String, Store>,
    /// Named HTTP base URLs plugins may be granted (`http` capability).
    pub hosts: BTreeMap<String, HttpHost>,
    /// Plugin instances by name.
    pub plugins: BTreeMap<String, PluginInstance>,
    /// Reviewer keys and the unsigned-plugin opt-in.
    pub trust: Trust,
    /// Blob copy steps, in order (they run before the table steps, so objects
    /// exist before rows point at them).
    pub copies: Vec<BlobCopy>,
    /// Copy steps, in order.
    pub steps: Vec<Step>,
    /// Validators, in order.
    pub validators: Vec<Validator>,
    /// sha256 of the project file: saved progress is only resumed by the same project.
    pub fingerprint: String,
}

/// A database connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The DSN with `${VAR}` references resolved (a secret).
    pub dsn: Secret,
}

/// An HTTP base URL a plugin may be granted.
#[derive(Debug, Clone)]
pub struct HttpHost {
    /// Base URL (`https://staging.example.com/`), ending in `/`.
    pub url: String,
    /// Headers the host adds to every request (values from the environment;
    /// plugins never see them).
    pub headers: BTreeMap<String, Secret>,
}

/// An object store.
#[derive(Debug, Clone)]
pub struct Store {
    /// Which service, and how to reach it.
    pub kind: StoreKind,
    /// URL prefixes under which rows address this store's objects, besides
    /// plain keys: `s3://BUCKET/ROOT/` for S3, plus the `url` setting (a
    /// public HTTPS base). Used to resolve a rewritten value to a key.
    pub url_prefixes: Vec<String>,
}

/// The service behind a store.
#[derive(Debug, Clone)]
pub enum StoreKind {
    /// A local folder (absolute path).
    Fs {
        /// The folder.
        root: PathBuf,
    },
    /// An S3-compatible service (AWS, MinIO, Volcengine TOS, Alibaba OSS, ...).
    S3(S3Store),
    /// Another opendal service, enabled by a cargo feature (`store-gcs`, ...).
    Service {
        /// opendal scheme name (`gcs`, `azblob`, `oss`, `cos`, `obs`, `webdav`).
        scheme: String,
        /// Plain options, passed as given.
        options: BTreeMap<String, String>,
        /// Options read from environment variables (secrets).
        secrets: BTreeMap<String, Secret>,
    },
}

/// An S3-compatible store.
#[derive(Debug, Clone)]
pub struct S3Store {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL (`https://s3.amazonaws.com` when absent).
    pub endpoint: Option<String>,
    /// Region (any value for most S3-compatible services).
    pub region: String,
    /// Key prefix inside the bucket every path is relative to (may be empty).
    pub root: String,
    /// `bucket.endpoint/key` instead of `endpoint/bucket/key`.
    pub virtual_host: bool,
    /// Access key id, from the environment.
    pub access_key_id: Option<Secret>,
    /// Secret access key, from the environment.
    pub secret_access_key: Option<Secret>,
    /// Session token, from the environment, if configured.
    pub session_token: Option<Secret>,
}

impl Store {
    /// A one-line description without secrets (`s3://bucket/root at endpoint`).
    pub fn describe(&self) -> String {
        match &self.kind {
            StoreKind::Fs { root } => format!("fs {}", root.display()),
            StoreKind::S3(s) => format!(
                "s3://{}/{} ({})",
                s.bucket,
                s.root,
                s.endpoint.as_deref().unwrap_or("AWS")
            ),
            StoreKind::Service { scheme, .. } => scheme.clone(),
        }
    }
}

/// Where a plugin's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A plugin compiled into the godwit binary (`builtin:NAME`).
    Builtin(String),
    /// A component file on disk: development only (`[trust]
    /// allow_unsigned_plugins = true`).
    File(PathBuf),
    /// A component of a signed, reviewed bundle (`bundle:FILE#COMPONENT`).
    Bundle {
        /// The bundle (absolute).
        path: PathBuf,
        /// The bundle path as written in the project (the lockfile key).
        rel: String,
        /// Component name inside the bundle.
        component: String,
    },
}

/// Who the project trusts to review plugin bundles.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Trusted reviewer keys: hex public key -> reviewer name.
    pub keys: BTreeMap<String, String>,
    /// Trusted signatures a bundle needs (at least 1).
    pub min_signatures: usize,
    /// Development opt-in: allow `path = "x.wasm"` components that no
    /// reviewer signed.
    pub allow_unsigned_plugins: bool,
}

/// Per-plugin limits (the defaults are in [`crate::limits`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitsSpec {
    /// Linear memory per instance, MiB.
    pub memory_mib: Option<u64>,
    /// Deadline per plugin call, ms.
    pub call_timeout_ms: Option<u64>,
    /// Deadline per host call made by the plugin, ms.
    pub host_call_timeout_ms: Option<u64>,
    /// Host resources held at once.
    pub max_handles: Option<usize>,
    /// Database connections held at once.
    pub max_connections: Option<usize>,
    /// MiB returned per host call.
    pub max_result_mib: Option<u64>,
    /// Core instances per store.
    pub max_instances: Option<usize>,
    /// Tables per store.
    pub max_tables: Option<usize>,
    /// Elements per table.
    pub max_table_elements: Option<usize>,
}

/// A plugin instance as configured.
#[derive(Debug, Clone)]
pub struct PluginInstance {
    /// Instance name (the key under `[plugins]`).
    pub name: String,
    /// Where the component comes from.
    pub source: PluginSource,
    /// `kind -> label -> resource name`: what the project granted, per
    /// capability kind (see [`GRANTABLE`]). `pipeline` grants have no
    /// label of the plugin's: each step is listed under its own name.
    pub grants: BTreeMap<String, BTreeMap<String, String>>,
    /// Parameters, as JSON text passed to `configure`.
    pub params_json: String,
    /// Limits.
    pub limits: LimitsSpec,
}

impl PluginInstance {
    /// `label -> resource` granted for capability `kind` (empty if none).
    pub fn grants_of(&self, kind: &str) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.grants.get(kind).unwrap_or(&NONE)
    }
}

/// The capability kinds a project grants, with the project section their
/// resources are named in: `(kind, section)`. One line per kind; the host
/// side of each (`caps::<kind>`) binds the granted resource.
pub const GRANTABLE: &[(&str, &str)] = &[
    ("sql", "connections"),
    ("blob", "stores"),
    ("http", "hosts"),
    ("pipeline", "steps"),
];

/// How a step writes tables that may exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Fail if the table exists.
    Create,
    /// Drop and recreate.
    Replace,
    /// Keep the table, delete its rows.
    Truncate,
    /// Keep table and rows, add rows.
    Append,
    /// Insert or update by primary key.
    Upsert,
}

/// What a cast produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CastTo {
    /// true/false (from 0/1, "true"/"false", ...).
    Boolean,
    /// 64-bit integer.
    Int,
    /// Double-precision float.
    Float,
    /// Exact decimal.
    Decimal,
    /// Text.
    Text,
    /// JSON document (validated; invalid JSON is rejected).
    Json,
    /// Timestamp without time zone.
    Timestamp,
    /// Instant (timestamp with time zone).
    Timestamptz,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// UUID.
    Uuid,
    /// Bytes.
    Bytes,
}

/// How a cast reads source values that are numbers or ambiguous text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CastFrom {
    /// Numbers: epoch seconds/millis/micros/nanos by magnitude; text: parsed.
    #[default]
    Auto,
    /// Numbers are seconds since the Unix epoch.
    EpochSeconds,
    /// Numbers are milliseconds since the Unix epoch.
    EpochMillis,
    /// Numbers are microseconds since the Unix epoch.
    EpochMicros,
    /// Numbers are nanoseconds since the Unix epoch.
    EpochNanos,
    /// Values are text timestamps, never numbers.
    Text,
}

/// What to do with NUL bytes in text (PostgreSQL cannot store them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NulPolicy {
    /// Leave text alone; a target that refuses NUL rejects the row.
    #[default]
    Reject,
    /// Remove NUL bytes.
    Strip,
    /// Replace each NUL byte with U+FFFD.
    Replace,
}

/// What to do with MySQL's zero dates (`0000-00-00`, `2024-00-00`), which no
/// other database stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ZeroDatePolicy {
    /// Reject the row (reject file, with the column and the value).
    #[default]
    Reject,
    /// Load NULL instead; the report counts the values per table.
    Null,
}

/// What happens to child rows whose parent row is missing (orphans) when
/// a step adds the foreign keys between its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrphanPolicy {
    /// Reject the child rows (reject file, with the missing parent key),
    /// and the rows that referenced those in turn; they count against
    /// `max_rejects`.
    #[default]
    Reject,
    /// Set the foreign-key columns NULL where they are nullable (reported
    /// per table); rows whose columns are NOT NULL are rejected.
    Null,
    /// Keep the rows; the foreign key is added without checking them
    /// (PostgreSQL `NOT VALID`; MySQL with checks off; SQLite as declared,
    /// unchecked) and reported.
    Keep,
    /// Stop the step before adding the foreign keys, naming the orphans.
    Fail,
}

/// How the types of a source that types values per row (SQLite) are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypePolicy {
    /// From the declaration and what each column holds (one scan per table,
    /// in `plan` and in `run`).
    #[default]
    Observed,
    /// From the declaration alone (no scan); values that do not fit the
    /// declared type are rejected at load, with their column named.
    Declared,
}

/// How identifiers are named in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierCase {
    /// Exactly as the source spells them (quoted where needed).
    #[default]
    Keep,
    /// Folded to lower case (what unquoted names become in PostgreSQL).
    Lower,
}

/// Which columns a cast applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CastMatch {
    /// One column: `(table, column)`.
    Column(String, String),
    /// Every column whose declared source type is this (case-insensitive).
    NativeType(String),
}

/// A casting rule of a step.
#[derive(Debug, Clone)]
pub struct Cast {
    /// Which columns.
    pub matches: CastMatch,
    /// Target type.
    pub to: CastTo,
    /// How to read the source values.
    pub from: CastFrom,
    /// UTC offset of naive text timestamps, seconds east.
    pub zone_secs: i64,
}

impl Cast {
    /// Whether the rule applies to `column` of `table` declared as `native`.
    pub fn applies(&self, table: &str, column: &str, native: &str) -> bool {
        match &self.matches {
            CastMatch::Column(t, c) => t == table && c == column,
            CastMatch::NativeType(n) => n.eq_ignore_ascii_case(native.trim()),
        }
    }
}

/// A column routed through a rewrite rule.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// Source table name.
    pub table: String,
    /// Column name.
    pub column: String,
    /// Rewrite plugin instance name.
    pub rule: String,
    /// Into another target column (of a table that exists): the source
    /// column is loaded as it is, and its rewritten value fills this one.
    pub into: Option<String>,
}

/// A copy step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Step name.
    pub name: String,
    /// Source plugin instance.
    pub source: String,
    /// Target plugin instance.
    pub target: String,
    /// Tables to copy (`None`: all that the source discovers).
    pub tables: Option<Vec<String>>,
    /// Tables to leave out.
    pub exclude: Vec<String>,
    /// Source table -> target table renames.
    pub rename: BTreeMap<String, String>,
    /// Write mode.
    pub mode: WriteMode,
    /// Rewrites applied to columns.
    pub rewrites: Vec<Rewrite>,
    /// Rows per batch.
    pub batch_rows: Option<usize>,
    /// Rejected rows tolerated before the step fails.
    pub max_rejects: u64,
    /// Tables loaded at the same time.
    pub workers: usize,
    /// Identifier case in the target.
    pub identifiers: IdentifierCase,
    /// Casting rules.
    pub casts: Vec<Cast>,
    /// `table.column` -> target column name, for existing target tables.
    pub column_renames: BTreeMap<String, String>,
    /// `table.column`s not loaded.
    pub drop_columns: Vec<String>,
    /// Why a table was excluded or a column dropped, as the project says
    /// (keyed by table name or `table.column`); shown in plan and reports.
    pub reasons: BTreeMap<String, String>,
    /// `source table.target column` -> expression filling that target
    /// column (see `engine::fill`).
    pub fills: BTreeMap<String, String>,
    /// NUL bytes in text.
    pub nul_bytes: NulPolicy,
    /// How column types of SQLite sources are decided.
    pub types: TypePolicy,
    /// MySQL zero dates.
    pub zero_dates: ZeroDatePolicy,
    /// Child rows whose parent is missing.
    pub orphans: OrphanPolicy,
}

/// How a blob copy checks what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verify {
    /// The checksum computed while streaming is compared with the target's
    /// (the S3 ETag, single-part or multipart), falling back to reading the
    /// object back when the store's tag is not an MD5 (SSE-KMS, some
    /// S3-compatible services). Local folders are always read back.
    #[default]
    Checksum,
    /// As `checksum`, and objects that look unchanged on a re-run are read
    /// back in full and compared too: finds objects corrupted at rest.
    ReadBack,
}

/// A blob copy step: objects from one store (under a prefix) to another, keys
/// mapped by an optional rewrite rule.
#[derive(Debug, Clone)]
pub struct BlobCopy {
    /// Step name (unique among copies and steps).
    pub name: String,
    /// Source store.
    pub from: String,
    /// Target store.
    pub to: String,
    /// Only keys under this prefix (relative to the source root).
    pub prefix: String,
    /// Rewrite rule mapping source values to target keys or URLs.
    pub rule: Option<String>,
    /// Prepended to each key before the rule sees it, so the rule receives
    /// the same strings the database rows hold (e.g. `/app/.data/`).
    pub value_prefix: String,
    /// Objects copied at the same time.
    pub concurrency: usize,
    /// Verification.
    pub verify: Verify,
    /// Delete target objects (under the copied key range) that the source
    /// does not have.
    pub delete_extraneous: bool,
    /// Objects that may fail (rule rejects, read or write errors) before the
    /// step counts as failed.
    pub max_failures: u64,
}

/// A validator run.
#[derive(Debug, Clone)]
pub struct Validator {
    /// Validator plugin instance.
    pub plugin: String,
    /// The step whose tables it checks (`None`: every step's).
    pub step: Option<String>,
    /// Before anything is written, or after.
    pub when: ValidatorPhase,
}

/// When a validator runs in `godwit run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidatorPhase {
    /// Before any copy or step writes (source-side checks: find the
    /// defects, then decide). `godwit validate --before` runs these alone.
    Before,
    /// After every copy and step (target-side checks).
    After,
}

mod file;
mod parse;

pub use parse::{
    line_col, load, parse, service_enabled, DEFAULT_S3_KEY_ENV, DEFAULT_S3_SECRET_ENV,
    FEATURE_STORES,
};

/// Tables loaded at once by default: one per core of a small machine keeps
/// both the source reads and the target writes busy.
pub const DEFAULT_WORKERS: usize = 2;
/// Most tables loaded at once: each holds a connection on both sides and
/// a batch in memory; database pools are sized for a handful.
pub const MAX_WORKERS: usize = 16;

/// Objects copied at once by default: enough to hide per-object latency of a
/// remote store on a small machine without many open connections.
pub const DEFAULT_COPY_CONCURRENCY: usize = 8;
/// Most objects copied at once: each holds a read and a write stream with
/// up to two chunks in memory (see `caps::blob::COPY_CHUNK_BYTES`).
pub const MAX_COPY_CONCURRENCY: usize = 64;

pub use crate::value::MAX_BATCH_ROWS;

#[cfg(test)]
mod tests {
    use super::parse::*;
    use super::*;

    #[test]
    fn redacts_url_passwords_and_params() {
        assert_eq!(
            redact_dsn("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact_dsn("mysql://u:p%40ss@h/db?password=zz&x=1"),
            "mysql://u:***@h/db?password=***&x=1"
        );
        assert_eq!(
            redact_dsn("sqlite://data/app.db?mode=ro"),
            "sqlite://data/app.db?mode=ro"
        );
        assert_eq!(
            redact_dsn("host=db user=u password=pw dbname=x"),
            "host=db user=u password=*** dbname=x"
        );
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_col("x", 0), (1, 1));
    }

    #[test]
    fn env_interpolation() {
        let env = |n: &str| (n == "PW").then(|| "pw".to_owned());
        assert_eq!(interpolate("a:${PW}@h", &env).unwrap(), "a:pw@h");
        assert!(interpolate("${NOPE}", &env).unwrap_err().contains("NOPE"));
    }
}
