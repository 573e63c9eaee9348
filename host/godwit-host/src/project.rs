//! The project file, `godwit.toml`: what connects where, which plugins run with
//! which grants and limits, and which steps and validators make up the job.
//!
//! Parsing is strict: unknown keys, wrong types and references to things that
//! do not exist are errors that name the file, line and column. Secrets only
//! enter through `${ENV_VAR}` references, are resolved here, and are kept in
//! [`Secret`], whose `Debug` and `Display` never show them. Field-by-field
//! documentation: docs/project-file.md.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

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

// ---------------------------------------------------------------------------
// The file format (serde), kept apart from the validated model above.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProject {
    project: FileProjectSection,
    #[serde(default)]
    connections: BTreeMap<String, FileConnection>,
    #[serde(default)]
    stores: BTreeMap<String, FileStore>,
    #[serde(default)]
    hosts: BTreeMap<String, FileHost>,
    #[serde(default)]
    trust: FileTrust,
    #[serde(default)]
    plugins: BTreeMap<String, FilePlugin>,
    #[serde(default)]
    copies: Vec<FileCopy>,
    #[serde(default)]
    steps: Vec<FileStep>,
    #[serde(default)]
    validators: Vec<FileValidator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCopy {
    name: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    rule: Option<Spanned<String>>,
    #[serde(default)]
    value_prefix: String,
    #[serde(default)]
    concurrency: Option<Spanned<usize>>,
    #[serde(default)]
    verify: Verify,
    #[serde(default)]
    delete_extraneous: bool,
    #[serde(default)]
    max_failures: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProjectSection {
    name: String,
    #[serde(default)]
    state_dir: Option<String>,
    #[serde(default)]
    reports_dir: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConnection {
    dsn: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStore {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    #[serde(default)]
    root: Option<Spanned<String>>,
    #[serde(default)]
    bucket: Option<Spanned<String>>,
    #[serde(default)]
    endpoint: Option<Spanned<String>>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    addressing: Option<Spanned<String>>,
    #[serde(default)]
    access_key_env: Option<String>,
    #[serde(default)]
    secret_key_env: Option<String>,
    #[serde(default)]
    session_token_env: Option<String>,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    secret_env: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileTrust {
    #[serde(default)]
    keys: Vec<Spanned<String>>,
    #[serde(default)]
    min_signatures: Option<usize>,
    #[serde(default)]
    allow_unsigned_plugins: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHost {
    url: Spanned<String>,
    #[serde(default)]
    headers_env: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileGrants {
    #[serde(default)]
    sql: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    blob: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    http: BTreeMap<String, Spanned<String>>,
    /// Steps whose value pipeline the plugin may run (validators).
    #[serde(default)]
    pipeline: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_instances: Option<usize>,
    max_tables: Option<usize>,
    max_table_elements: Option<usize>,
    max_handles: Option<usize>,
    max_connections: Option<usize>,
    max_result_mib: Option<u64>,
    memory_mib: Option<u64>,
    call_timeout_ms: Option<u64>,
    host_call_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlugin {
    path: Spanned<String>,
    #[serde(default)]
    grants: FileGrants,
    #[serde(default)]
    params: toml::Table,
    #[serde(default)]
    limits: FileLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRewrite {
    column: Spanned<String>,
    rule: Spanned<String>,
    #[serde(default)]
    into: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCast {
    #[serde(default)]
    column: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    native_type: Option<String>,
    to: CastTo,
    #[serde(default)]
    from: CastFrom,
    #[serde(default)]
    zone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStep {
    name: String,
    source: Spanned<String>,
    target: Spanned<String>,
    #[serde(default)]
    tables: Option<Vec<String>>,
    #[serde(default)]
    exclude: Listed,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default = "default_mode")]
    mode: WriteMode,
    #[serde(default)]
    rewrites: Vec<FileRewrite>,
    #[serde(default)]
    batch_rows: Option<Spanned<usize>>,
    #[serde(default)]
    max_rejects: u64,
    #[serde(default)]
    workers: Option<Spanned<usize>>,
    #[serde(default)]
    identifiers: IdentifierCase,
    #[serde(default)]
    casts: Vec<Spanned<FileCast>>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    drop_columns: Listed,
    #[serde(default)]
    fill: BTreeMap<String, String>,
    #[serde(default)]
    nul_bytes: NulPolicy,
    #[serde(default)]
    types: TypePolicy,
    #[serde(default)]
    zero_dates: ZeroDatePolicy,
    #[serde(default)]
    orphans: OrphanPolicy,
}

/// Names left out, as a list or as a table `name = "why"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Listed {
    Names(Vec<String>),
    Reasons(BTreeMap<String, String>),
}

impl Default for Listed {
    fn default() -> Self {
        Listed::Names(Vec::new())
    }
}

impl Listed {
    /// The names, and the reasons given.
    fn split(self) -> (Vec<String>, BTreeMap<String, String>) {
        match self {
            Listed::Names(n) => (n, BTreeMap::new()),
            Listed::Reasons(r) => (r.keys().cloned().collect(), r),
        }
    }
}

fn default_mode() -> WriteMode {
    WriteMode::Create
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileValidator {
    plugin: Spanned<String>,
    #[serde(default)]
    step: Option<Spanned<String>>,
    #[serde(default)]
    when: Option<ValidatorPhase>,
}

/// When a validator runs if the project does not say: before writing
/// when it reads only what no step or copy writes (it checks the source),
/// after otherwise (it checks the target, or the application over HTTP).
fn inferred_phase(
    plugin: &str,
    plugins: &BTreeMap<String, PluginInstance>,
    steps: &[Step],
    copies: &[BlobCopy],
) -> ValidatorPhase {
    let Some(p) = plugins.get(plugin) else {
        return ValidatorPhase::After;
    };
    let mut written_dbs = std::collections::BTreeSet::new();
    let mut written_stores: std::collections::BTreeSet<&String> =
        copies.iter().map(|c| &c.to).collect();
    for s in steps {
        if let Some(t) = plugins.get(&s.target) {
            written_dbs.extend(t.grants_of("sql").values());
            written_stores.extend(t.grants_of("blob").values());
        }
    }
    let (sql, blob) = (p.grants_of("sql"), p.grants_of("blob"));
    let reads_something = !sql.is_empty() || !blob.is_empty();
    let reads_written = sql.values().any(|c| written_dbs.contains(c))
        || blob.values().any(|s| written_stores.contains(s));
    // A pipeline runs rewrite rules, which may reach hosts: after, like http.
    if reads_something
        && !reads_written
        && p.grants_of("http").is_empty()
        && p.grants_of("pipeline").is_empty()
    {
        ValidatorPhase::Before
    } else {
        ValidatorPhase::After
    }
}

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

/// Loads and validates `DIR/godwit.toml` (or the project file `path` names).
pub fn load(path: &Path) -> Result<Project> {
    // `godwit run some/dir/godwit.toml` means the project in `some/dir`.
    let (dir, file) = if path.is_file() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        (parent.unwrap_or(Path::new(".")), path.to_path_buf())
    } else {
        (path, path.join(PROJECT_FILE))
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Error::project(format!("cannot read {}: {e}", file.display())))?;
    parse(dir, &file, &text, &|name| std::env::var(name).ok())
}

/// Parses project text; `env` resolves `${VAR}` references. `file` is only used
/// in messages.
pub fn parse(
    dir: &Path,
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Project> {
    let at = |span: Range<usize>, msg: String| -> Error {
        let (line, col) = line_col(text, span.start);
        Error::project(format!("{}:{line}:{col}: {msg}", file.display()))
    };
    let raw: FileProject = toml::from_str(text).map_err(|e| {
        let msg = e.message().to_owned();
        match e.span() {
            Some(span) => at(span, msg),
            None => Error::project(format!("{}: {msg}", file.display())),
        }
    })?;
    let dir = dir.to_path_buf();
    let abs = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };

    let mut connections = BTreeMap::new();
    for (name, c) in raw.connections {
        let dsn = interpolate(c.dsn.get_ref(), env).map_err(|m| at(c.dsn.span(), m))?;
        if let Some(pw) = dsn_password(&dsn) {
            crate::redact::register(pw);
        }
        let dsn_secret = Secret::new(dsn.clone());
        crate::dsn::check_dsn(&dsn_secret).map_err(|m| at(c.dsn.span(), m))?;
        connections.insert(
            name,
            Connection {
                dsn: Secret::new(dsn),
            },
        );
    }
    let mut stores = BTreeMap::new();
    for (name, s) in raw.stores {
        let store = parse_store(&name, s, env, &at, &abs)?;
        stores.insert(name, store);
    }

    let mut hosts = BTreeMap::new();
    for (name, h) in raw.hosts {
        let mut url = interpolate(h.url.get_ref(), env).map_err(|m| at(h.url.span(), m))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(at(
                h.url.span(),
                format!("host {name}: url must start with http:// or https://"),
            ));
        }
        if !url.ends_with('/') {
            url.push('/');
        }
        let mut headers = BTreeMap::new();
        for (header, var) in &h.headers_env {
            let v =
                env_secret(var, env).map_err(|m| at(h.url.span(), format!("host {name}: {m}")))?;
            headers.insert(header.to_ascii_lowercase(), v);
        }
        hosts.insert(name, HttpHost { url, headers });
    }

    let mut trust = Trust {
        keys: BTreeMap::new(),
        min_signatures: raw.trust.min_signatures.unwrap_or(1).max(1),
        allow_unsigned_plugins: raw.trust.allow_unsigned_plugins,
    };
    for k in &raw.trust.keys {
        let (key, reviewer) = crate::bundle::read_public_key(&abs(k.get_ref()))
            .map_err(|e| at(k.span(), e.message))?;
        trust.keys.insert(key, reviewer);
    }

    let step_names: std::collections::BTreeSet<String> =
        raw.steps.iter().map(|s| s.name.clone()).collect();
    let mut plugins = BTreeMap::new();
    for (name, p) in raw.plugins {
        let path = p.path.get_ref();
        let source = if let Some(spec) = path.strip_prefix("bundle:") {
            let Some((file, component)) = spec.rsplit_once('#') else {
                return Err(at(
                    p.path.span(),
                    "expected \"bundle:FILE#COMPONENT\"".into(),
                ));
            };
            PluginSource::Bundle {
                path: abs(file),
                rel: file.to_owned(),
                component: component.to_owned(),
            }
        } else {
            match path.strip_prefix("builtin:") {
                Some(b) => {
                    if !crate::builtin::names().contains(&b) {
                        return Err(at(
                            p.path.span(),
                            format!(
                                "unknown built-in plugin {b:?} (available: {})",
                                crate::builtin::names().join(", ")
                            ),
                        ));
                    }
                    PluginSource::Builtin(b.to_owned())
                }
                None => {
                    if !raw.trust.allow_unsigned_plugins {
                        return Err(at(
                            p.path.span(),
                            format!(
                            "plugin {name}: {path:?} is an unsigned component; use a signed bundle \
                             (`bundle:FILE#COMPONENT`), or opt in for development with \
                             `[trust] allow_unsigned_plugins = true`"
                        ),
                        ));
                    }
                    PluginSource::File(abs(path))
                }
            }
        };
        // Each kind's grants name resources of one project section.
        let pipeline: BTreeMap<String, Spanned<String>> = p
            .grants
            .pipeline
            .into_iter()
            .map(|s| (s.get_ref().clone(), s))
            .collect();
        let kinds = [
            ("sql", p.grants.sql),
            ("blob", p.grants.blob),
            ("http", p.grants.http),
            ("pipeline", pipeline),
        ];
        let mut grants = BTreeMap::new();
        for (kind, given) in kinds {
            let section = GRANTABLE
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, s)| *s)
                .expect("every kind is listed in GRANTABLE");
            let known = |name: &str| match section {
                "connections" => connections.contains_key(name),
                "stores" => stores.contains_key(name),
                "hosts" => hosts.contains_key(name),
                _ => step_names.contains(name),
            };
            let mut resolved = BTreeMap::new();
            for (label, res) in given {
                if !known(res.get_ref()) {
                    let name = res.get_ref();
                    let msg = match section {
                        "connections" => format!("no connection named {name:?}"),
                        "stores" => format!("no store named {name:?}"),
                        "hosts" => format!("no host named {name:?} under [hosts]"),
                        _ => format!("no step named {name:?} (grants.pipeline lists steps)"),
                    };
                    return Err(at(res.span(), msg));
                }
                resolved.insert(label, res.into_inner());
            }
            if !resolved.is_empty() {
                grants.insert(kind.to_owned(), resolved);
            }
        }
        let params_json = serde_json::to_string(&p.params)
            .map_err(|e| Error::project(format!("plugin {name}: params: {e}")))?;
        plugins.insert(
            name.clone(),
            PluginInstance {
                name,
                source,
                grants,
                params_json,
                limits: LimitsSpec {
                    memory_mib: p.limits.memory_mib,
                    call_timeout_ms: p.limits.call_timeout_ms,
                    host_call_timeout_ms: p.limits.host_call_timeout_ms,
                    max_handles: p.limits.max_handles,
                    max_connections: p.limits.max_connections,
                    max_result_mib: p.limits.max_result_mib,
                    max_instances: p.limits.max_instances,
                    max_tables: p.limits.max_tables,
                    max_table_elements: p.limits.max_table_elements,
                },
            },
        );
    }

    let plugin_ref = |r: &Spanned<String>| -> Result<String> {
        if plugins.contains_key(r.get_ref()) {
            Ok(r.get_ref().clone())
        } else {
            Err(at(
                r.span(),
                format!("no plugin named {:?} under [plugins]", r.get_ref()),
            ))
        }
    };
    let mut steps = Vec::new();
    for s in raw.steps {
        if steps.iter().any(|x: &Step| x.name == s.name) {
            return Err(Error::project(format!(
                "{}: duplicate step name {:?}",
                file.display(),
                s.name
            )));
        }
        let mut rewrites = Vec::new();
        for r in &s.rewrites {
            let Some((table, column)) = r.column.get_ref().split_once('.') else {
                return Err(at(r.column.span(), "expected \"table.column\"".into()));
            };
            rewrites.push(Rewrite {
                table: table.into(),
                column: column.into(),
                rule: plugin_ref(&r.rule)?,
                into: r.into.clone(),
            });
        }
        let workers = match s.workers {
            Some(w) if *w.get_ref() == 0 || *w.get_ref() > MAX_WORKERS => {
                return Err(at(
                    w.span(),
                    format!("workers must be between 1 and {MAX_WORKERS}"),
                ))
            }
            Some(w) => w.into_inner(),
            None => DEFAULT_WORKERS,
        };
        let batch_rows = match s.batch_rows {
            Some(b) if *b.get_ref() == 0 || *b.get_ref() > MAX_BATCH_ROWS => {
                return Err(at(
                    b.span(),
                    format!("batch_rows must be between 1 and {MAX_BATCH_ROWS}"),
                ))
            }
            Some(b) => Some(b.into_inner()),
            None => None,
        };
        let (exclude, mut reasons) = s.exclude.split();
        let (drop_columns, dropped_why) = s.drop_columns.split();
        reasons.extend(dropped_why);
        for key in s.columns.keys().chain(&drop_columns).chain(s.fill.keys()) {
            if !key.contains('.') {
                return Err(Error::project(format!(
                    "{}: step {}: {key:?} must be \"table.column\"",
                    file.display(),
                    s.name
                )));
            }
        }
        let mut casts = Vec::new();
        for c in &s.casts {
            let span = c.span();
            let c = c.get_ref();
            let matches = match (&c.column, &c.native_type) {
                (Some(col), None) => match col.get_ref().split_once('.') {
                    Some((t, k)) => CastMatch::Column(t.into(), k.into()),
                    None => return Err(at(col.span(), "expected \"table.column\"".into())),
                },
                (None, Some(t)) => CastMatch::NativeType(t.clone()),
                _ => {
                    return Err(at(
                        span,
                        "a cast needs exactly one of `column` or `type`".into(),
                    ))
                }
            };
            let zone_secs = match &c.zone {
                None => 0,
                Some(z) if z.get_ref().eq_ignore_ascii_case("utc") || z.get_ref() == "Z" => 0,
                Some(z) => crate::text::parse_offset(z.get_ref()).ok_or_else(|| {
                    at(
                        z.span(),
                        format!(
                            "zone {:?}: expected an offset like \"+08:00\" or \"UTC\"",
                            z.get_ref()
                        ),
                    )
                })?,
            };
            casts.push(Cast {
                matches,
                to: c.to,
                from: c.from,
                zone_secs,
            });
        }
        steps.push(Step {
            name: s.name,
            source: plugin_ref(&s.source)?,
            target: plugin_ref(&s.target)?,
            tables: s.tables,
            exclude,
            rename: s.rename,
            mode: s.mode,
            rewrites,
            batch_rows,
            max_rejects: s.max_rejects,
            workers,
            identifiers: s.identifiers,
            casts,
            nul_bytes: s.nul_bytes,
            types: s.types,
            zero_dates: s.zero_dates,
            orphans: s.orphans,
            column_renames: s.columns,
            drop_columns,
            reasons,
            fills: s.fill,
        });
    }
    let mut copies = Vec::new();
    for c in raw.copies {
        let name = c.name.get_ref().clone();
        if steps.iter().any(|x: &Step| x.name == name)
            || copies.iter().any(|x: &BlobCopy| x.name == name)
        {
            return Err(at(c.name.span(), format!("duplicate step name {name:?}")));
        }
        let store_ref = |r: &Spanned<String>| -> Result<String> {
            if stores.contains_key(r.get_ref()) {
                Ok(r.get_ref().clone())
            } else {
                Err(at(
                    r.span(),
                    format!("no store named {:?} under [stores]", r.get_ref()),
                ))
            }
        };
        let concurrency = match c.concurrency {
            Some(n) if *n.get_ref() == 0 || *n.get_ref() > MAX_COPY_CONCURRENCY => {
                return Err(at(
                    n.span(),
                    format!("concurrency must be between 1 and {MAX_COPY_CONCURRENCY}"),
                ))
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_COPY_CONCURRENCY,
        };
        if c.prefix.starts_with('/') || c.prefix.split('/').any(|s| s == "..") {
            return Err(at(
                c.name.span(),
                format!(
                    "copy {name}: prefix {:?} must be relative to the store root",
                    c.prefix
                ),
            ));
        }
        copies.push(BlobCopy {
            from: store_ref(&c.from)?,
            to: store_ref(&c.to)?,
            rule: c.rule.as_ref().map(&plugin_ref).transpose()?,
            name,
            prefix: c.prefix,
            value_prefix: c.value_prefix,
            concurrency,
            verify: c.verify,
            delete_extraneous: c.delete_extraneous,
            max_failures: c.max_failures,
        });
    }
    let mut validators = Vec::new();
    for v in raw.validators {
        let step = match &v.step {
            Some(s) if !steps.iter().any(|x| &x.name == s.get_ref()) => {
                return Err(at(s.span(), format!("no step named {:?}", s.get_ref())))
            }
            Some(s) => Some(s.get_ref().clone()),
            None => None,
        };
        let plugin = plugin_ref(&v.plugin)?;
        let when = match v.when {
            Some(w) => w,
            None => inferred_phase(&plugin, &plugins, &steps, &copies),
        };
        validators.push(Validator { plugin, step, when });
    }

    let state_dir = abs(raw.project.state_dir.as_deref().unwrap_or(".godwit"));
    let reports_dir = match raw.project.reports_dir.as_deref() {
        Some(d) => abs(d),
        None => state_dir.join("runs"),
    };
    Ok(Project {
        dir,
        strict: false,
        name: raw.project.name,
        state_dir,
        reports_dir,
        connections,
        stores,
        hosts,
        plugins,
        trust,
        copies,
        steps,
        validators,
        fingerprint: {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    })
}

/// Environment variables S3 credentials come from unless a store names others.
pub const DEFAULT_S3_KEY_ENV: &str = "AWS_ACCESS_KEY_ID";
/// See [`DEFAULT_S3_KEY_ENV`].
pub const DEFAULT_S3_SECRET_ENV: &str = "AWS_SECRET_ACCESS_KEY";
/// Store types other than `fs` and `s3`, each behind a cargo feature.
pub const FEATURE_STORES: &[(&str, &str)] = &[
    ("gcs", "store-gcs"),
    ("azblob", "store-azblob"),
    ("oss", "store-oss"),
    ("cos", "store-cos"),
    ("obs", "store-obs"),
    ("webdav", "store-webdav"),
];

/// A secret read from the environment variable `var` (registered with the
/// scrubber so it is never printed).
fn env_secret(
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Secret, String> {
    let v = env(var).ok_or_else(|| {
        format!("environment variable {var} is not set (store credentials come only from the environment)")
    })?;
    crate::redact::register(&v);
    Ok(Secret::new(v))
}

fn parse_store(
    name: &str,
    s: FileStore,
    env: &dyn Fn(&str) -> Option<String>,
    at: &dyn Fn(Range<usize>, String) -> Error,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Store> {
    let kind_span = s.kind.span();
    let value = |v: &Spanned<String>| interpolate(v.get_ref(), env).map_err(|m| at(v.span(), m));
    let only = |allowed: &[&str]| -> Result<()> {
        let given = [
            ("root", s.root.is_some()),
            ("bucket", s.bucket.is_some()),
            ("endpoint", s.endpoint.is_some()),
            ("region", s.region.is_some()),
            ("addressing", s.addressing.is_some()),
            ("access_key_env", s.access_key_env.is_some()),
            ("secret_key_env", s.secret_key_env.is_some()),
            ("session_token_env", s.session_token_env.is_some()),
            ("anonymous", s.anonymous),
            ("options", !s.options.is_empty()),
            ("secret_env", !s.secret_env.is_empty()),
        ];
        for (key, set) in given {
            if set && !allowed.contains(&key) {
                return Err(at(
                    kind_span.clone(),
                    format!(
                        "store {name}: `{key}` does not apply to type {:?}",
                        s.kind.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    };
    let mut url_prefixes = Vec::new();
    if let Some(u) = &s.url {
        let mut u = value(u)?;
        if !u.ends_with('/') {
            u.push('/');
        }
        url_prefixes.push(u);
    }
    let kind = match s.kind.get_ref().as_str() {
        "fs" => {
            only(&["root"])?;
            let root = s.root.as_ref().ok_or_else(|| {
                at(
                    kind_span.clone(),
                    format!("store {name}: `root` is required"),
                )
            })?;
            StoreKind::Fs {
                root: abs(&value(root)?),
            }
        }
        "s3" => {
            only(&[
                "root",
                "bucket",
                "endpoint",
                "region",
                "addressing",
                "access_key_env",
                "secret_key_env",
                "session_token_env",
                "anonymous",
            ])?;
            let bucket = s.bucket.as_ref().ok_or_else(|| {
                at(
                    kind_span.clone(),
                    format!("store {name}: `bucket` is required"),
                )
            })?;
            let bucket = value(bucket)?;
            let endpoint = s.endpoint.as_ref().map(value).transpose()?;
            let virtual_host = match s.addressing.as_ref() {
                None => endpoint.is_none(),
                Some(a) => match a.get_ref().as_str() {
                    "path" => false,
                    "virtual-host" => true,
                    other => {
                        return Err(at(
                            a.span(),
                            format!("addressing {other:?}: expected \"path\" or \"virtual-host\""),
                        ))
                    }
                },
            };
            let root = match &s.root {
                Some(r) => value(r)?.trim_matches('/').to_owned(),
                None => String::new(),
            };
            let (access_key_id, secret_access_key) = if s.anonymous {
                (None, None)
            } else {
                let key_env = s.access_key_env.as_deref().unwrap_or(DEFAULT_S3_KEY_ENV);
                let secret_env = s.secret_key_env.as_deref().unwrap_or(DEFAULT_S3_SECRET_ENV);
                let err = |m: String| at(kind_span.clone(), format!("store {name}: {m}"));
                (
                    Some(env_secret(key_env, env).map_err(err)?),
                    Some(env_secret(secret_env, env).map_err(err)?),
                )
            };
            let session_token = s
                .session_token_env
                .as_deref()
                .map(|v| env_secret(v, env))
                .transpose()
                .map_err(|m| at(kind_span.clone(), format!("store {name}: {m}")))?;
            let mut prefix = format!("s3://{bucket}/");
            if !root.is_empty() {
                prefix.push_str(&root);
                prefix.push('/');
            }
            url_prefixes.push(prefix);
            StoreKind::S3(S3Store {
                bucket,
                endpoint,
                region: s.region.clone().unwrap_or_else(|| "us-east-1".into()),
                root,
                virtual_host,
                access_key_id,
                secret_access_key,
                session_token,
            })
        }
        other => {
            let Some((_, feature)) = FEATURE_STORES.iter().find(|(k, _)| *k == other) else {
                return Err(at(
                    kind_span,
                    format!(
                        "unknown store type {other:?} (supported: \"fs\", \"s3\", and with cargo features: {})",
                        FEATURE_STORES.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            if !service_enabled(other) {
                return Err(at(
                    kind_span,
                    format!("store type {other:?} needs godwit built with `--features {feature}`"),
                ));
            }
            only(&["root", "options", "secret_env"])?;
            let mut options = s.options.clone();
            if let Some(r) = &s.root {
                options.insert("root".into(), value(r)?);
            }
            let mut secrets = BTreeMap::new();
            for (opt, var) in &s.secret_env {
                let v = env_secret(var, env)
                    .map_err(|m| at(kind_span.clone(), format!("store {name}: {m}")))?;
                secrets.insert(opt.clone(), v);
            }
            StoreKind::Service {
                scheme: other.to_owned(),
                options,
                secrets,
            }
        }
    };
    Ok(Store { kind, url_prefixes })
}

/// The password part of a URL-style DSN, if any.
fn dsn_password(dsn: &str) -> Option<&str> {
    let rest = &dsn[dsn.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo
        .split_once(':')
        .map(|(_, pw)| pw)
        .filter(|pw| !pw.is_empty())
}

/// Resolves `${NAME}` references from the environment.
fn interpolate(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated ${...} reference".to_owned())?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("invalid environment variable name {name:?}"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        // Anything that comes from the environment may be a secret.
        crate::redact::register(&value);
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Whether this build includes the opendal service for a feature-gated
/// store type (the cargo features `store-*`; the blob capability opens them).
pub fn service_enabled(scheme: &str) -> bool {
    match scheme {
        "gcs" => cfg!(feature = "store-gcs"),
        "azblob" => cfg!(feature = "store-azblob"),
        "oss" => cfg!(feature = "store-oss"),
        "cos" => cfg!(feature = "store-cos"),
        "obs" => cfg!(feature = "store-obs"),
        "webdav" => cfg!(feature = "store-webdav"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
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
