//! Bulk loads into a table, one dialect's loader each, with per-row
//! rejects and the outcome of a commit.

use crate::error::Result;
use crate::model::Value;

use super::*;

/// How long [`Database::commit_status`] waits for a transaction of a killed
/// run that the server still shows in progress: the server notices the
/// closed connection within moments and aborts it (or finishes a COMMIT it
/// had already received).
pub const COMMIT_STATUS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Result of loading one batch.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// Rows written.
    pub written: u64,
    /// Rows the database refused: (index in the batch, reason).
    pub rejected: Vec<(usize, String)>,
}

/// What a table's commit checked and changed.
#[derive(Debug, Default)]
pub struct Committed {
    /// Rows rejected by the checks at commit.
    pub rejected: Vec<CommitReject>,
    /// Orphans found at commit, per foreign key, and what was done.
    pub orphans: Vec<crate::model::OrphanReport>,
}

/// One row rejected at commit.
#[derive(Debug)]
pub struct CommitReject {
    /// Its key (`{"rowid": n}`).
    pub key: serde_json::Value,
    /// The foreign-key column(s), if known.
    pub column: Option<String>,
    /// Their values: the missing parent key.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
}

/// A table being loaded inside one transaction.
pub enum TableLoader {
    /// SQLite: multi-row INSERTs.
    Sqlite(sqlite::Loader),
    /// PostgreSQL: COPY.
    Postgres(postgres::Loader),
    /// MySQL / MariaDB: multi-row INSERTs.
    MySql(mysql::Loader),
}

impl TableLoader {
    /// Loads rows; rows the database refuses come back as rejects.
    pub async fn load(&mut self, rows: Vec<Vec<Value>>) -> Result<LoadOutcome> {
        match self {
            TableLoader::Sqlite(l) => l.load(rows).await,
            TableLoader::Postgres(l) => l.load(rows).await,
            TableLoader::MySql(l) => l.load(rows).await,
        }
    }

    /// An id of the load's transaction that the database can later say was
    /// committed or not ([`Database::commit_status`]); `None` where the
    /// dialect has no such thing (SQLite, MySQL).
    pub async fn commit_id(&mut self) -> Result<Option<String>> {
        match self {
            TableLoader::Postgres(l) => l.commit_id().await.map(Some),
            TableLoader::Sqlite(_) | TableLoader::MySql(_) => Ok(None),
        }
    }

    /// Final checks, then commit; returns the rows those checks rejected
    /// and what the `orphans` policy did (SQLite, whose foreign keys are
    /// checked here). `table` is the unquoted table name.
    pub async fn commit(
        self,
        table: &str,
        orphans: crate::project::OrphanPolicy,
    ) -> Result<Committed> {
        match self {
            TableLoader::Sqlite(l) => l.commit(table, orphans).await,
            TableLoader::Postgres(l) => l.commit().await.map(|_| Committed::default()),
            TableLoader::MySql(l) => l.commit().await.map(|_| Committed::default()),
        }
    }
}
