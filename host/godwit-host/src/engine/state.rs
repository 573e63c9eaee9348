//! Run state for resuming: per step, which tables are done and how far.
//!
//! Each table moves through `loaded` (its rows committed, in one
//! transaction), `indexed` (its `post` statements ran) and `constrained` (its
//! `constraints` ran). The state is written atomically after every
//! transition and after every single post-data statement, so after a crash
//! (even `kill -9`) the next `run` skips what is done and redoes only the
//! table that was interrupted — whose transaction never committed, so it
//! left no rows behind — or only the post-data statements not yet recorded.
//! At most one statement is in doubt (it may have run just before the
//! kill): if it then fails because what it creates already exists, it is
//! taken as done. The file is removed when the step completes; it is
//! ignored when the project file changed since.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::report::TableReport;
use crate::error::{Error, Result};

/// How far a table got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Progress {
    /// Rows committed.
    Loaded,
    /// Keys and indexes created.
    Indexed,
    /// Constraints between tables created.
    Constrained,
}

#[derive(Serialize, Deserialize, Default)]
struct Saved {
    project_fingerprint: String,
    tables: BTreeMap<String, (Progress, TableReport)>,
    /// Per table: statements of its next phase already run.
    #[serde(default)]
    statements: BTreeMap<String, usize>,
    /// Per table: a load about to commit (the database's transaction id and
    /// the table's report), recorded before `COMMIT`. After a kill between
    /// the commit and `tables`, the next run asks the database whether that
    /// transaction committed instead of loading the rows a second time.
    #[serde(default)]
    committing: BTreeMap<String, (String, TableReport)>,
}

/// The state of one step, on disk under `<state_dir>/state/<step>.json`.
pub struct StepState {
    path: PathBuf,
    saved: Saved,
    resumed: bool,
}

impl StepState {
    /// Loads the step's state; starts fresh when there is none, when the
    /// project changed (`fingerprint`), or when `fresh` is asked for.
    pub fn load(state_dir: &Path, step: &str, fingerprint: &str, fresh: bool) -> Self {
        let path = state_dir
            .join("state")
            .join(format!("{}.json", sanitize(step)));
        let saved = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
            .filter(|s| {
                let same = s.project_fingerprint == fingerprint;
                if !same {
                    tracing::warn!(
                        step,
                        "saved progress ignored: the project file changed since"
                    );
                }
                same && !fresh
            });
        let resumed = saved.is_some();
        if resumed {
            tracing::info!(step, "resuming an interrupted run");
        }
        Self {
            resumed,
            path,
            saved: saved.unwrap_or_else(|| Saved {
                project_fingerprint: fingerprint.to_owned(),
                ..Default::default()
            }),
        }
    }

    /// Where the state is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why an existing state file of this step is not used: it was written
    /// for another version of the project file. `None` when there is no
    /// file, or it is used.
    pub fn ignored_because(state_dir: &Path, step: &str, fingerprint: &str) -> Option<String> {
        let path = state_dir
            .join("state")
            .join(format!("{}.json", sanitize(step)));
        let saved: Saved = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        (saved.project_fingerprint != fingerprint).then(|| {
            format!(
                "saved progress of an interrupted run is in {}, but it is ignored: the project \
                 file changed since",
                path.display()
            )
        })
    }

    /// The tables an earlier run of another version of the project file
    /// loaded (its state file, ignored for resuming, says so).
    pub fn stale_tables(state_dir: &Path, step: &str, fingerprint: &str) -> Vec<String> {
        let path = state_dir
            .join("state")
            .join(format!("{}.json", sanitize(step)));
        let Some(saved) = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Saved>(&b).ok())
        else {
            return Vec::new();
        };
        if saved.project_fingerprint == fingerprint {
            return Vec::new();
        }
        saved.tables.into_keys().collect()
    }

    /// True when an earlier run of this step (same project file) was
    /// interrupted: its state file is there.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// Records that the step has started (before its first DDL), so that an
    /// interruption at any point leaves a state file the next run resumes.
    pub fn begin(&self) -> Result<()> {
        self.save()
    }

    /// How far `table` got in an earlier run.
    pub fn progress(&self, table: &str) -> Option<Progress> {
        self.saved.tables.get(table).map(|(p, _)| *p)
    }

    /// The report of a table finished by an earlier run.
    pub fn report(&self, table: &str) -> Option<TableReport> {
        self.saved.tables.get(table).map(|(_, r)| r.clone())
    }

    /// Statements of `table`'s next phase that an earlier run completed.
    pub fn statements_done(&self, table: &str) -> usize {
        self.saved.statements.get(table).copied().unwrap_or(0)
    }

    /// Records that `done` statements of `table`'s next phase ran.
    pub fn mark_statements(&mut self, table: &str, done: usize) -> Result<()> {
        self.saved.statements.insert(table.to_owned(), done);
        self.save()
    }

    /// Records that `table`'s load is about to commit as transaction `id`.
    pub fn committing(&mut self, table: &str, id: &str, report: &TableReport) -> Result<()> {
        self.saved
            .committing
            .insert(table.to_owned(), (id.to_owned(), report.clone()));
        self.save()
    }

    /// A load of `table` that was about to commit when the run stopped.
    pub fn pending_commit(&self, table: &str) -> Option<(String, TableReport)> {
        self.saved.committing.get(table).cloned()
    }

    /// Forgets a pending commit that did not happen.
    pub fn forget_commit(&mut self, table: &str) -> Result<()> {
        self.saved.committing.remove(table);
        self.save()
    }

    /// Records progress (atomically: write a temporary file, then rename).
    pub fn mark(&mut self, table: &str, progress: Progress, report: &TableReport) -> Result<()> {
        self.saved
            .tables
            .insert(table.to_owned(), (progress, report.clone()));
        self.saved.statements.remove(table);
        self.saved.committing.remove(table);
        self.save()
    }

    fn save(&self) -> Result<()> {
        let dir = self.path.parent().expect("state file has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
        let tmp = self.path.with_extension("json.tmp");
        let bytes =
            serde_json::to_vec_pretty(&self.saved).map_err(|e| Error::internal(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, &self.path)
            .map_err(|e| Error::io(format!("{}: {e}", self.path.display())))
    }

    /// The step is complete: forget its progress.
    pub fn finish(self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("{}: {e}", self.path.display())))
            }
            _ => Ok(()),
        }
    }
}

pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
