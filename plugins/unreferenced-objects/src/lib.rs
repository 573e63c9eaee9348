//! `unreferenced-objects`: objects of a store (label `files`) under a
//! prefix that no row references — uploads left behind by deleted rows, or
//! files a migration forgot to point at. The referencing values are read
//! from columns of a database (label `target`) and resolved with the
//! store's own `resolve`, the rule the copy step uses, so rewritten paths
//! (`s3://bucket/k`, `/app/.data/k`, a public URL) count as what they
//! address. A value ending in `/` references every object under it.
//!
//! Memory: the resolved references are held in a set (at most
//! [`MAX_REFERENCES`]); the listing is streamed page by page.

use godwit_sdk::params::Configured;
use std::collections::{BTreeSet, HashSet};

use godwit_sdk::caps::{blob, sql};
use godwit_sdk::db::{for_each_row, quote};
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::{Error, Value};

/// References held at most: about 100 bytes each, well inside the default
/// 256 MiB plugin memory; beyond it the check stops with an error that says
/// to narrow it (`prefix`, fewer columns) rather than run out of memory.
const MAX_REFERENCES: usize = 1_000_000;
/// Listing page size.
const PAGE: u32 = 1000;

#[derive(serde::Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    /// `table.column`s whose values reference objects.
    columns: Vec<String>,
    /// Only objects under this prefix of the store.
    #[serde(default)]
    prefix: String,
    /// Objects listed by name in the finding.
    #[serde(default = "default_examples")]
    examples: usize,
    /// `warning` (default: a leftover costs storage, not data) or `error`.
    #[serde(default)]
    severity: Level,
}

#[derive(serde::Deserialize, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    #[default]
    Warning,
    Error,
}

fn default_examples() -> usize {
    20
}

static PARAMS: Configured<Params> = Configured::new();

struct Unreferenced;

impl Validator for Unreferenced {
    fn describe() -> PluginInfo {
        let req = |kind, label: &str, purpose: &str| CapabilityRequest {
            kind,
            label: label.into(),
            purpose: purpose.into(),
        };
        PluginInfo {
            name: "unreferenced-objects".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Finds objects of a store that no row references (left-behind or forgotten uploads).".into(),
            requests: vec![
                req(CapabilityKind::Sql, "target", "read the columns that reference objects"),
                req(CapabilityKind::Blob, "files", "list the objects"),
            ],
            params_doc: "- `columns` (list of \"table.column\", required): values that reference objects\n\
                         - `prefix` (string, default \"\"): only objects under it\n\
                         - `examples` (integer, default 20): objects named in the finding\n\
                         - `severity` (`warning` | `error`, default `warning`)"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        godwit_sdk::params::table_columns(&p.columns)?;
        PARAMS.set(p);
        Ok(())
    }

    fn validate(_tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get_or_default();
        let conn = sql::open("target")?;
        let files = blob::open("files")?;
        let mut files_ref: HashSet<String> = HashSet::new();
        let mut folders: BTreeSet<String> = BTreeSet::new();
        let mut values = 0u64;
        for spec in &p.columns {
            let (table, column) = spec.split_once('.').expect("checked in configure");
            let stmt = format!(
                "SELECT {} FROM {} WHERE {} IS NOT NULL",
                quote(&conn, column),
                quote(&conn, table),
                quote(&conn, column)
            );
            let mut full = false;
            for_each_row(&conn, &stmt, &[], |row| {
                let Some(Value::Text(v)) = row.into_iter().next() else {
                    return Ok(true);
                };
                values += 1;
                if let Some(key) = files.resolve(&v) {
                    let key = key.trim_start_matches('/').to_owned();
                    if v.ends_with('/') || key.ends_with('/') {
                        folders.insert(format!("{}/", key.trim_end_matches('/')));
                    } else {
                        files_ref.insert(key);
                    }
                }
                full = files_ref.len() + folders.len() > MAX_REFERENCES;
                Ok(!full)
            })?;
            if full {
                return Err(Error::InvalidInput(format!(
                    "more than {MAX_REFERENCES} referenced objects: narrow the check with `prefix` or fewer columns"
                )));
            }
        }
        let referenced = |path: &str| {
            if files_ref.contains(path) {
                return true;
            }
            // Any folder above it that a value names.
            path.match_indices('/')
                .any(|(i, _)| folders.contains(&path[..=i]))
        };
        let lister = files.list(&p.prefix, true)?;
        let (mut objects, mut unreferenced, mut bytes) = (0u64, 0u64, 0u64);
        let mut examples = Vec::new();
        loop {
            let page = lister.next_page(PAGE)?;
            if page.is_empty() {
                break;
            }
            for m in page.into_iter().filter(|m| !m.is_dir) {
                objects += 1;
                let path = m.path.trim_start_matches('/');
                if !referenced(path) {
                    unreferenced += 1;
                    bytes += m.size;
                    if examples.len() < p.examples {
                        examples.push(path.to_owned());
                    }
                }
            }
        }
        let subject = if p.prefix.is_empty() {
            "files".to_owned()
        } else {
            format!("files:{}", p.prefix)
        };
        Ok(vec![if unreferenced == 0 {
            Finding {
                check: "unreferenced-objects".into(),
                severity: Severity::Info,
                subject,
                message: format!(
                    "every one of {objects} objects is referenced by a row of {} ({values} values)",
                    p.columns.join(", ")
                ),
                expected: Some("0".into()),
                observed: Some("0".into()),
            }
        } else {
            Finding {
                check: "unreferenced-objects".into(),
                severity: match p.severity {
                    Level::Warning => Severity::Warning,
                    Level::Error => Severity::Error,
                },
                subject,
                message: format!(
                    "{unreferenced} of {objects} objects ({bytes} bytes) are referenced by no row of {}; e.g. {}",
                    p.columns.join(", "),
                    examples.join(", ")
                ),
                expected: Some("0".into()),
                observed: Some(unreferenced.to_string()),
            }
        }])
    }
}

godwit_sdk::validator::export_validator!(Unreferenced);
