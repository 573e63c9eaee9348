//! The journal of verified copies: what a re-run skips, flushed per object.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::*;
use crate::error::{Error, Result};

/// A verified copy, as the journal remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JournalEntry {
    pub(super) key: String,
    pub(super) size: u64,
    pub(super) modified: Option<i64>,
    pub(super) md5: String,
    pub(super) target: String,
    pub(super) target_modified: Option<i64>,
    pub(super) target_etag: Option<String>,
}

impl JournalEntry {
    /// The entry for an object just copied and verified: the target's time
    /// and tag as the store reports them after the write (what a re-run's
    /// listing will show), the tag from the write's answer if the store gave
    /// none then.
    pub(super) fn copied(
        obj: &SourceObject,
        target_key: &str,
        md5: String,
        after: Option<&opendal::Metadata>,
        written_etag: Option<String>,
    ) -> Self {
        JournalEntry {
            key: obj.key.clone(),
            size: obj.size,
            modified: obj.modified,
            md5,
            target: target_key.to_owned(),
            target_modified: after
                .and_then(|m| m.last_modified())
                .map(|t| t.timestamp_micros()),
            target_etag: after
                .and_then(|m| m.etag())
                .map(|e| e.trim_matches('"').to_owned())
                .or(written_etag),
        }
    }
}

/// The journal of verified copies of one copy step.
pub(super) struct Journal {
    pub(super) path: PathBuf,
    pub(super) entries: HashMap<String, JournalEntry>,
    pub(super) file: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
}

impl Journal {
    pub(super) fn load(state_dir: &std::path::Path, step: &str, fresh: bool) -> Self {
        let path = state_dir
            .join("copies")
            .join(format!("{}.jsonl", super::super::state::sanitize(step)));
        let mut entries = HashMap::new();
        if !fresh {
            if let Ok(text) = std::fs::read_to_string(&path) {
                // A line cut short by a crash is ignored.
                for e in text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<JournalEntry>(l).ok())
                {
                    entries.insert(e.key.clone(), e);
                }
            }
        }
        Self {
            path,
            entries,
            file: Mutex::new(None),
        }
    }

    pub(super) fn record(&self, e: &JournalEntry) -> Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|err| Error::io(format!("{}: {err}", dir.display())))?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|err| Error::io(format!("{}: {err}", self.path.display())))?;
            *guard = Some(std::io::BufWriter::new(f));
        }
        let f = guard.as_mut().expect("opened above");
        let mut line = serde_json::to_vec(e).map_err(|err| Error::internal(err.to_string()))?;
        line.push(b'\n');
        f.write_all(&line)
            .and_then(|_| f.flush())
            .map_err(|err| Error::io(format!("{}: {err}", self.path.display())))
    }

    /// Rewrites the journal with one line per object still present.
    pub(super) fn compact(&self, keep: impl Iterator<Item = JournalEntry>) -> Result<()> {
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut text = Vec::new();
        for e in keep {
            text.extend(serde_json::to_vec(&e).map_err(|err| Error::internal(err.to_string()))?);
            text.push(b'\n');
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|err| Error::io(format!("{}: {err}", dir.display())))?;
        }
        std::fs::write(&tmp, &text)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|err| Error::io(format!("{}: {err}", self.path.display())))
    }
}
