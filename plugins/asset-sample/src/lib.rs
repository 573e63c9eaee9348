//! `asset-sample`: samples N path values (seeded, so the same rows on every
//! run) from database columns of the target (label `target`) and checks that
//! each names an object of the target store (label `files`) that exists and
//! that the application can read — on local folders the permission bits are
//! checked, because godwit running as root could read a mode-000 file the
//! app cannot. Optionally the object's size or bytes must equal the source
//! store's object (label `source-files`).
//!
//! Values are resolved with the store's own `resolve` (the rule the copy
//! step uses), so `s3://bucket/k`, public URLs and `/app/.data/k` all work.
//! A value ending in `/` names a folder, which must exist and not be empty.

use godwit_sdk::caps::{blob, sql};
use godwit_sdk::db::{for_each_row, quote};
use godwit_sdk::params::Configured;
use godwit_sdk::validator::{
    CapabilityKind, CapabilityRequest, Finding, PluginInfo, Severity, TablePair, Validator,
};
use godwit_sdk::{Error, Reservoir, Value};

/// Bytes read per call when comparing contents.
const CHUNK: u32 = 1 << 20;
/// Findings listed one by one per column; the rest are counted.
const MAX_LISTED: usize = 20;

#[derive(serde::Deserialize, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Compare {
    /// Existence and readability only.
    #[default]
    None,
    /// Also the size of the source object.
    Size,
    /// Also every byte of the source object.
    Content,
}

#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Params {
    columns: Vec<String>,
    #[serde(default = "default_sample")]
    sample: usize,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    compare: Compare,
}

fn default_sample() -> usize {
    50
}

static PARAMS: Configured<Params> = Configured::new();

struct AssetSample;

impl Validator for AssetSample {
    fn describe() -> PluginInfo {
        let req = |kind, label: &str, purpose: &str| CapabilityRequest {
            kind,
            label: label.into(),
            purpose: purpose.into(),
        };
        PluginInfo {
            name: "asset-sample".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Samples stored paths and checks that each object exists, is readable by the application, and (optionally) matches the source.".into(),
            requests: vec![
                req(CapabilityKind::Sql, "target", "read the path columns"),
                req(CapabilityKind::Blob, "files", "stat and read the objects the paths name"),
                req(CapabilityKind::Blob, "source-files", "compare with the source objects (optional)"),
                req(
                    CapabilityKind::Sql,
                    "source",
                    "read a sampled row's source value, to find the source object of a rewritten path (optional)",
                ),
            ],
            params_doc: "- `columns` (list of \"table.column\", required)\n\
                         - `sample` (integer, default 50): paths per column\n\
                         - `seed` (integer, default 0): the same seed samples the same rows\n\
                         - `compare` (`none` | `size` | `content`, default `none`): against `source-files`"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        godwit_sdk::params::table_columns(&p.columns)?;
        if p.sample == 0 {
            return Err(Error::InvalidInput("`sample` must be positive".into()));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn validate(tables: Vec<TablePair>) -> Result<Vec<Finding>, Error> {
        let p = PARAMS.get()?;
        let conn = sql::open("target")?;
        let files = blob::open("files")?;
        let source = if p.compare == Compare::None {
            None
        } else {
            Some(blob::open("source-files")?)
        };
        // With a `source` grant, a rewritten path (which addresses the
        // target store, not the source's) is compared with the object the
        // same row's source value addresses.
        let source_db = if p.compare == Compare::None {
            None
        } else {
            sql::open("source").ok()
        };
        let mut findings = Vec::new();
        for spec in &p.columns {
            let (table, column) = spec.split_once('.').expect("checked in configure");
            let origin = source_db
                .as_ref()
                .and_then(|db| SourceRow::find(db, &tables, table, column));
            let key_cols = origin.as_ref().map_or(&[][..], |o| &o.target_key[..]);
            let mut reservoir = Reservoir::new(p.sample, p.seed);
            let mut cols = vec![quote(&conn, column)];
            cols.extend(key_cols.iter().map(|k| quote(&conn, k)));
            let stmt = format!(
                "SELECT {} FROM {t} WHERE {c} IS NOT NULL",
                cols.join(", "),
                c = quote(&conn, column),
                t = quote(&conn, table)
            );
            for_each_row(&conn, &stmt, &[], |row| {
                let mut row = row.into_iter();
                if let Some(Value::Text(v)) = row.next() {
                    reservoir.offer((v, row.collect::<Vec<Value>>()));
                }
                Ok(true)
            })?;
            let seen = reservoir.seen();
            let mut sample = reservoir.into_items();
            sample.sort_by(|a, b| a.0.cmp(&b.0));
            let mut problems = Vec::new();
            for (value, key) in &sample {
                let from = match (&origin, &source) {
                    (Some(o), Some(src)) if src.resolve(value).is_none() => {
                        o.value(source_db.as_ref().expect("origin implies a source"), key)?
                    }
                    _ => None,
                };
                if let Some(problem) =
                    check(&files, source.as_ref(), p.compare, value, from.as_deref())?
                {
                    problems.push((value.clone(), problem));
                }
            }
            let ok = sample.len() - problems.len();
            for (value, problem) in problems.iter().take(MAX_LISTED) {
                findings.push(Finding {
                    check: "asset-sample".into(),
                    severity: Severity::Error,
                    subject: format!("{spec} = {value}"),
                    message: problem.clone(),
                    expected: None,
                    observed: None,
                });
            }
            findings.push(Finding {
                check: "asset-sample".into(),
                severity: if problems.is_empty() {
                    Severity::Info
                } else {
                    Severity::Error
                },
                subject: spec.clone(),
                message: format!(
                    "{ok} of {} sampled paths (of {seen}, seed {}) exist and are readable{}{}",
                    sample.len(),
                    p.seed,
                    match p.compare {
                        Compare::None => "",
                        Compare::Size => " with the source's size",
                        Compare::Content => " with the source's bytes",
                    },
                    if problems.len() > MAX_LISTED {
                        format!("; {} more problems not listed", problems.len() - MAX_LISTED)
                    } else {
                        String::new()
                    }
                ),
                expected: Some(sample.len().to_string()),
                observed: Some(ok.to_string()),
            });
        }
        Ok(findings)
    }
}

/// What is wrong with one path, if anything.
fn check(
    files: &blob::Store,
    source: Option<&blob::Store>,
    compare: Compare,
    value: &str,
    source_value: Option<&str>,
) -> Result<Option<String>, Error> {
    let Some(key) = files.resolve(value) else {
        return Ok(Some(
            "does not address an object in the target store (another bucket, host, or a path outside it)".into(),
        ));
    };
    if value.ends_with('/') {
        let lister = match files.list(&key, false) {
            Ok(l) => l,
            Err(e) => return Ok(Some(format!("folder {key} cannot be listed: {e:?}"))),
        };
        let page = lister.next_page(1)?;
        return Ok(page
            .is_empty()
            .then(|| format!("folder {key} is missing or empty")));
    }
    let meta = match files.stat(&key) {
        Ok(m) => m,
        Err(Error::NotFound(_)) => return Ok(Some(format!("{key} is missing"))),
        Err(e) => return Ok(Some(format!("{key} cannot be read: {}", message(&e)))),
    };
    if meta.is_dir {
        return Ok(Some(format!("{key} is a folder, not a file")));
    }
    if let Some(mode) = meta.mode {
        if mode & 0o444 == 0 {
            return Ok(Some(format!(
                "{key} is not readable by the application (mode {mode:03o}; godwit may run as root and still read it)"
            )));
        }
    }
    if let Err(e) = files.read(&key, 0, 1) {
        return Ok(Some(format!("{key} cannot be read: {}", message(&e))));
    }
    let Some(source) = source else {
        return Ok(None);
    };
    let Some(src_key) = source
        .resolve(value)
        .or_else(|| source_value.and_then(|v| source.resolve(v)))
    else {
        return Ok(Some(
            "cannot compare: the value does not address the source store (grant `source` \
             the source connection to compare a rewritten path with the source row's object)"
                .into(),
        ));
    };
    let src = match source.stat(&src_key) {
        Ok(m) => m,
        Err(e) => return Ok(Some(format!("source object {src_key}: {}", message(&e)))),
    };
    if src.size != meta.size {
        return Ok(Some(format!(
            "{key} has {} bytes, the source object {} bytes",
            meta.size, src.size
        )));
    }
    if compare == Compare::Content {
        let mut offset = 0u64;
        while offset < meta.size {
            let a = files.read(&key, offset, CHUNK)?;
            let b = source.read(&src_key, offset, CHUNK)?;
            if a != b || a.is_empty() {
                let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
                return Ok(Some(format!(
                    "{key} differs from the source object at byte {}",
                    offset + at as u64
                )));
            }
            offset += a.len() as u64;
        }
    }
    Ok(None)
}

/// Where a sampled target row's value came from: the same row of the
/// source table, found by its key.
struct SourceRow {
    /// The target's key columns (read with each sampled value).
    target_key: Vec<String>,
    /// `SELECT column FROM source_table WHERE key = ?`.
    statement: String,
}

impl SourceRow {
    /// The source side of `table.column` from the table pairs; `None` when
    /// the table is not one of them or has no primary key.
    fn find(db: &sql::Connection, tables: &[TablePair], table: &str, column: &str) -> Option<Self> {
        let pair = tables.iter().find(|t| t.target == table)?;
        let idx = |name: &str| pair.target_def.columns.iter().position(|c| c.name == name);
        let src_col = &pair.source_def.columns.get(idx(column)?)?.name;
        let target_key = pair.target_def.primary_key.clone();
        if target_key.is_empty() {
            return None;
        }
        let mut conds = Vec::new();
        for (i, k) in target_key.iter().enumerate() {
            let src = &pair.source_def.columns.get(idx(k)?)?.name;
            let mark = match db.dialect() {
                sql::Dialect::Postgres => format!("${}", i + 1),
                _ => "?".into(),
            };
            conds.push(format!("{} = {mark}", quote(db, src)));
        }
        let table = match &pair.source_def.schema {
            Some(s) => format!("{}.{}", quote(db, s), quote(db, &pair.source)),
            None => quote(db, &pair.source),
        };
        Some(Self {
            target_key,
            statement: format!(
                "SELECT {} FROM {table} WHERE {}",
                quote(db, src_col),
                conds.join(" AND ")
            ),
        })
    }

    /// The source row's value, if the row is there and holds text.
    fn value(&self, db: &sql::Connection, key: &[Value]) -> Result<Option<String>, Error> {
        let rows = godwit_sdk::db::query_rows(db, &self.statement, key)?;
        Ok(
            match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
                Some(Value::Text(v)) => Some(v),
                _ => None,
            },
        )
    }
}

fn message(e: &Error) -> String {
    match e {
        Error::AccessDenied(m)
        | Error::NotFound(m)
        | Error::InvalidInput(m)
        | Error::Unsupported(m)
        | Error::Io(m)
        | Error::Timeout(m)
        | Error::LimitExceeded(m)
        | Error::Rejected(m)
        | Error::Internal(m) => m.clone(),
    }
}

godwit_sdk::validator::export_validator!(AssetSample);
