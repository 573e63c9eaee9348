//! Listing both sides of a copy and mapping source keys to target keys.

use std::collections::HashMap;

use futures::TryStreamExt;

use super::super::Session;
use super::*;
use crate::caps::blob::BlobStore;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Outcome;
use crate::model::Value;
use crate::project::BlobCopy;
use crate::runtime::Kind;

/// One source object.
#[derive(Debug, Clone)]
pub(crate) struct SourceObject {
    pub key: String,
    pub size: u64,
    pub modified: Option<i64>,
    pub etag: Option<String>,
    /// Why the object cannot be read, if it cannot.
    pub problem: Option<String>,
}

/// A target object as listed.
#[derive(Debug, Clone)]
pub(super) struct TargetObject {
    pub(super) size: u64,
    pub(super) modified: Option<i64>,
    pub(super) etag: Option<String>,
}

/// Lists every object (not directories) under `prefix`, page by page. An
/// entry the store lists but cannot address (a local file name opendal
/// normalises, such as one with a backslash) comes back with `problem` set.
pub(crate) async fn list_objects(store: &BlobStore, prefix: &str) -> Result<Vec<SourceObject>> {
    if let Some(folder) = store.folder() {
        // Walked beneath the root handle (never leaving it); the folder of
        // the prefix is walked and its keys filtered by the prefix.
        let prefix = store.check_path(prefix)?;
        let dir = prefix
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!("{d}/"));
        let folder = folder.clone();
        let name = store.name.clone();
        let entries = tokio::task::spawn_blocking(move || {
            folder.walk(&dir, true, false, crate::caps::blob::LOCAL_LIST_THREADS)
        })
        .await
        .map_err(|e| Error::internal(format!("listing task failed: {e}")))?
        .map_err(|e| Error::io(format!("store {name}: listing {prefix}: {e}")))?;
        let mut out: Vec<SourceObject> = entries
            .into_iter()
            .filter(|e| e.key.starts_with(&prefix))
            .map(|e| {
                use crate::caps::folder::EntryKind;
                let problem = match e.kind {
                    EntryKind::File => None,
                    EntryKind::Symlink => Some(
                        "a symbolic link: not followed (copy what it points to by its own key)"
                            .to_owned(),
                    ),
                    EntryKind::Special => {
                        Some("not a regular file (socket, FIFO or device)".to_owned())
                    }
                    EntryKind::BadName => Some(
                        "the file name is not UTF-8 or holds a backslash: it cannot be an \
                         object key"
                            .to_owned(),
                    ),
                    EntryKind::Dir => Some("a folder".to_owned()),
                };
                SourceObject {
                    key: e.key,
                    size: e.size,
                    modified: e.modified,
                    etag: None,
                    problem,
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        return Ok(out);
    }
    let mut lister = match store.list(prefix, true).await? {
        crate::caps::blob::Lister::Remote(l) => l,
        crate::caps::blob::Lister::Local(_) => unreachable!("folder stores are walked above"),
    };
    let mut out = Vec::new();
    while let Some(entry) = lister.try_next().await.map_err(|e| store.error(e))? {
        let m = entry.metadata();
        let key = entry.path();
        if m.is_dir() || key.ends_with('/') {
            continue;
        }
        out.push(SourceObject {
            key: key.to_owned(),
            size: m.content_length(),
            modified: m.last_modified().map(|t| t.timestamp_micros()),
            etag: m.etag().map(|e| e.trim_matches('"').to_owned()),
            problem: None,
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Maps source keys through the rule (if any) and resolves the results in
/// the target store: `(source index, Ok(target key) | Err(reason))`.
pub(crate) async fn map_keys(
    session: &Session,
    copy: &BlobCopy,
    target: &BlobStore,
    keys: &[&str],
) -> Result<Vec<std::result::Result<(String, String), String>>> {
    let rule = match &copy.rule {
        Some(r) => Some(session.plugin(r, Kind::Rewrite).await?),
        None => None,
    };
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(RULE_BATCH) {
        let values: Vec<String> = chunk
            .iter()
            .map(|k| format!("{}{k}", copy.value_prefix))
            .collect();
        let outcomes: Vec<Outcome> = match &rule {
            Some(p) => {
                let wit: Vec<Value> = values.iter().map(|v| Value::Text(v.clone())).collect();
                let got = p.plugin.lock().await.rewrite(&wit).await?;
                if got.len() != wit.len() {
                    return Err(Error::new(
                        ErrorKind::PluginError,
                        format!(
                            "rule {}: {} outcomes for {} values",
                            copy.rule.as_deref().unwrap_or_default(),
                            got.len(),
                            wit.len()
                        ),
                    ));
                }
                got
            }
            None => vec![Outcome::Unchanged; values.len()],
        };
        for (value, outcome) in values.into_iter().zip(outcomes) {
            let mapped = match outcome {
                Outcome::Unchanged => Ok(value),
                Outcome::Replaced(Value::Text(t)) => Ok(t),
                Outcome::Replaced(other) => Err(format!(
                    "the rule returned a non-text value ({})",
                    crate::value::excerpt(&other)
                )),
                Outcome::Rejected(reason) => Err(crate::text::plugin_text(
                    &reason,
                    crate::text::MAX_PLUGIN_TEXT,
                )),
            };
            out.push(mapped.and_then(|m| match target.resolve(&m) {
                Some(key) if !key.is_empty() && !key.ends_with('/') => Ok((m, key)),
                _ => Err(format!(
                    "{m:?} does not address an object in store {}",
                    target.name
                )),
            }));
        }
    }
    Ok(out)
}

/// The target's objects under the common directory of `keys`, listed once.
pub(super) async fn list_targets(
    dst: &BlobStore,
    keys: &[&str],
) -> Result<HashMap<String, TargetObject>> {
    Ok(list_objects(dst, &common_dir(keys))
        .await?
        .into_iter()
        .map(|o| {
            let t = TargetObject {
                size: o.size,
                modified: o.modified,
                etag: o.etag,
            };
            (o.key, t)
        })
        .collect())
}

/// The longest common `dir/` prefix of `keys` (empty when none).
pub(super) fn common_dir(keys: &[&str]) -> String {
    let Some(first) = keys.first() else {
        return String::new();
    };
    let mut len = first.len();
    for k in &keys[1..] {
        len = len.min(
            first
                .bytes()
                .zip(k.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    match first[..len].rfind('/') {
        Some(i) => first[..=i].to_owned(),
        None => String::new(),
    }
}
