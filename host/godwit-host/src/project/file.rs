//! The project file's format as serde reads it, kept apart from the
//! validated model (`super`): spans for line/column messages, defaults,
//! and nothing checked yet.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProject {
    pub(super) project: FileProjectSection,
    #[serde(default)]
    pub(super) connections: BTreeMap<String, FileConnection>,
    #[serde(default)]
    pub(super) stores: BTreeMap<String, FileStore>,
    #[serde(default)]
    pub(super) hosts: BTreeMap<String, FileHost>,
    #[serde(default)]
    pub(super) trust: FileTrust,
    #[serde(default)]
    pub(super) plugins: BTreeMap<String, FilePlugin>,
    #[serde(default)]
    pub(super) copies: Vec<FileCopy>,
    #[serde(default)]
    pub(super) steps: Vec<FileStep>,
    #[serde(default)]
    pub(super) validators: Vec<FileValidator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileCopy {
    pub(super) name: Spanned<String>,
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    #[serde(default)]
    pub(super) prefix: String,
    #[serde(default)]
    pub(super) rule: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) value_prefix: String,
    #[serde(default)]
    pub(super) concurrency: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) verify: Verify,
    #[serde(default)]
    pub(super) delete_extraneous: bool,
    #[serde(default)]
    pub(super) max_failures: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProjectSection {
    pub(super) name: String,
    #[serde(default)]
    pub(super) state_dir: Option<String>,
    #[serde(default)]
    pub(super) reports_dir: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConnection {
    pub(super) dsn: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileStore {
    #[serde(rename = "type")]
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) root: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) bucket: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) endpoint: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) region: Option<String>,
    #[serde(default)]
    pub(super) addressing: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) access_key_env: Option<String>,
    #[serde(default)]
    pub(super) secret_key_env: Option<String>,
    #[serde(default)]
    pub(super) session_token_env: Option<String>,
    #[serde(default)]
    pub(super) anonymous: bool,
    #[serde(default)]
    pub(super) url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) options: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) secret_env: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTrust {
    #[serde(default)]
    pub(super) keys: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) min_signatures: Option<usize>,
    #[serde(default)]
    pub(super) allow_unsigned_plugins: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHost {
    pub(super) url: Spanned<String>,
    #[serde(default)]
    pub(super) headers_env: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FileGrants {
    #[serde(default)]
    pub(super) sql: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) blob: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) http: BTreeMap<String, Spanned<String>>,
    /// Steps whose value pipeline the plugin may run (validators).
    #[serde(default)]
    pub(super) pipeline: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLimits {
    pub(super) max_instances: Option<usize>,
    pub(super) max_tables: Option<usize>,
    pub(super) max_table_elements: Option<usize>,
    pub(super) max_handles: Option<usize>,
    pub(super) max_connections: Option<usize>,
    pub(super) max_result_mib: Option<u64>,
    pub(super) memory_mib: Option<u64>,
    pub(super) call_timeout_ms: Option<u64>,
    pub(super) host_call_timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilePlugin {
    pub(super) path: Spanned<String>,
    #[serde(default)]
    pub(super) grants: FileGrants,
    #[serde(default)]
    pub(super) params: toml::Table,
    #[serde(default)]
    pub(super) limits: FileLimits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRewrite {
    pub(super) column: Spanned<String>,
    pub(super) rule: Spanned<String>,
    #[serde(default)]
    pub(super) into: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileCast {
    #[serde(default)]
    pub(super) column: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    pub(super) native_type: Option<String>,
    pub(super) to: CastTo,
    #[serde(default)]
    pub(super) from: CastFrom,
    #[serde(default)]
    pub(super) zone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileStep {
    pub(super) name: String,
    pub(super) source: Spanned<String>,
    pub(super) target: Spanned<String>,
    #[serde(default)]
    pub(super) tables: Option<Vec<String>>,
    #[serde(default)]
    pub(super) exclude: Listed,
    #[serde(default)]
    pub(super) rename: BTreeMap<String, String>,
    #[serde(default = "default_mode")]
    pub(super) mode: WriteMode,
    #[serde(default)]
    pub(super) rewrites: Vec<FileRewrite>,
    #[serde(default)]
    pub(super) batch_rows: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) max_rejects: u64,
    #[serde(default)]
    pub(super) workers: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) identifiers: IdentifierCase,
    #[serde(default)]
    pub(super) casts: Vec<Spanned<FileCast>>,
    #[serde(default)]
    pub(super) columns: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) drop_columns: Listed,
    #[serde(default)]
    pub(super) fill: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) nul_bytes: NulPolicy,
    #[serde(default)]
    pub(super) types: TypePolicy,
    #[serde(default)]
    pub(super) zero_dates: ZeroDatePolicy,
    #[serde(default)]
    pub(super) orphans: OrphanPolicy,
}

/// Names left out, as a list or as a table `name = "why"`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Listed {
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
    pub(super) fn split(self) -> (Vec<String>, BTreeMap<String, String>) {
        match self {
            Listed::Names(n) => (n, BTreeMap::new()),
            Listed::Reasons(r) => (r.keys().cloned().collect(), r),
        }
    }
}

pub(super) fn default_mode() -> WriteMode {
    WriteMode::Create
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileValidator {
    pub(super) plugin: Spanned<String>,
    #[serde(default)]
    pub(super) step: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) when: Option<ValidatorPhase>,
}

/// When a validator runs if the project does not say: before writing
/// when it reads only what no step or copy writes (it checks the source),
/// after otherwise (it checks the target, or the application over HTTP).
pub(super) fn inferred_phase(
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
