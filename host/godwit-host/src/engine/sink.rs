//! Where a table's prepared rows go: the host's own SQL loader (a target
//! whose plan is `sql`: COPY or multi-row INSERTs, outside Wasm), or the
//! target plugin's own `table-writer` (plan `batches`, contract 0.3), for
//! stores that are not SQL.
//!
//! Both give the same outcome per batch (rows written, rows refused with a
//! reason), so the reject file, `max_rejects` and the exit code mean the
//! same thing whichever writes the rows (docs/adapter-contract.md).

use std::sync::Arc;

use wasmtime::component::ResourceAny;

use super::Loaded;
use crate::caps::sql::{Committed, LoadOutcome, TableLoader};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Value;

/// One table's destination.
pub(crate) enum Sink {
    /// The host loads the rows into a SQL database.
    Sql(TableLoader),
    /// The target plugin writes them.
    Writer(PluginWriter),
}

/// A table being written by its target plugin (`table-writer`).
pub(crate) struct PluginWriter {
    plugin: Arc<Loaded>,
    /// `None` once committed or aborted.
    writer: Option<ResourceAny>,
    /// The target table's name, for messages.
    table: String,
    /// The columns the writer receives (its batches' width).
    width: usize,
    /// Rows the plugin accepted so far.
    written: u64,
}

impl PluginWriter {
    /// Opens the plugin's writer for `table`.
    pub(crate) async fn open(
        plugin: Arc<Loaded>,
        def: &crate::model::TableDef,
        mode: crate::model::WriteMode,
        width: usize,
    ) -> Result<Self> {
        let writer = plugin.plugin.lock().await.open_writer(def, mode).await?;
        Ok(Self {
            plugin,
            writer: Some(writer),
            table: def.name.clone(),
            width,
            written: 0,
        })
    }

    fn refuse(&self, what: String) -> Error {
        Error::new(
            ErrorKind::PluginError,
            format!(
                "plugin {} writing {}: {what}",
                self.plugin.info.name, self.table
            ),
        )
    }

    async fn write(&mut self, rows: Vec<Vec<Value>>) -> Result<LoadOutcome> {
        let n = rows.len();
        if n == 0 {
            return Ok(LoadOutcome {
                written: 0,
                rejected: Vec::new(),
            });
        }
        let writer = self
            .writer
            .ok_or_else(|| self.refuse("write after commit".into()))?;
        let batch = crate::value::rows_to_batch(rows, self.width);
        let refused = self
            .plugin
            .plugin
            .lock()
            .await
            .writer_write(writer, &batch)
            .await?;
        // Each refused row once, and only rows that were sent: a writer
        // that says otherwise is not believed about the rest either.
        let mut seen = vec![false; n];
        let mut rejected = Vec::with_capacity(refused.len());
        for r in refused {
            let i = r.row as usize;
            if i >= n || seen[i] {
                return Err(self.refuse(format!(
                    "refused row {} of a batch of {n} rows{}",
                    r.row,
                    if i < n { " twice" } else { "" }
                )));
            }
            seen[i] = true;
            let reason = crate::text::plugin_text(&r.reason, crate::text::MAX_PLUGIN_TEXT);
            let reason = match r.column {
                Some(c) => format!(
                    "column {}: {reason}",
                    crate::text::plugin_text(&c, crate::text::MAX_PLUGIN_TEXT)
                ),
                None => reason,
            };
            rejected.push((i, reason));
        }
        let written = (n - rejected.len()) as u64;
        self.written += written;
        Ok(LoadOutcome { written, rejected })
    }

    async fn commit(mut self) -> Result<(Committed, Option<String>)> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| self.refuse("commit twice".into()))?;
        let mut plugin = self.plugin.plugin.lock().await;
        let receipt = plugin.writer_commit(writer).await;
        plugin.drop_resource(writer).await;
        drop(plugin);
        let receipt = receipt?;
        if receipt.rows != self.written {
            return Err(self.refuse(format!(
                "its commit reports {} rows written, but it accepted {}",
                receipt.rows, self.written
            )));
        }
        let location = receipt
            .location
            .map(|l| crate::text::plugin_text(&l, crate::text::MAX_PLUGIN_TEXT));
        Ok((Committed::default(), location))
    }

    /// Drops what was written, where the target can.
    async fn abort(mut self) {
        if let Some(writer) = self.writer.take() {
            let mut plugin = self.plugin.plugin.lock().await;
            if let Err(e) = plugin.writer_abort(writer).await {
                tracing::warn!(table = %self.table, error = %e, "the target's writer failed to abort");
            }
            plugin.drop_resource(writer).await;
        }
    }
}

impl Sink {
    /// Loads one batch; rows refused come back as rejects.
    pub(crate) async fn load(&mut self, rows: Vec<Vec<Value>>) -> Result<LoadOutcome> {
        match self {
            Sink::Sql(l) => l.load(rows).await,
            Sink::Writer(w) => w.write(rows).await,
        }
    }

    /// The id of the load's transaction, where the database can later say
    /// whether it committed (PostgreSQL).
    pub(crate) async fn commit_id(&mut self) -> Result<Option<String>> {
        match self {
            Sink::Sql(l) => l.commit_id().await,
            Sink::Writer(_) => Ok(None),
        }
    }

    /// Commits; returns what the commit's checks rejected and, for a plugin
    /// writer, where the rows went.
    pub(crate) async fn commit(
        self,
        table: &str,
        orphans: crate::project::OrphanPolicy,
    ) -> Result<(Committed, Option<String>)> {
        match self {
            Sink::Sql(l) => l.commit(table, orphans).await.map(|c| (c, None)),
            Sink::Writer(w) => w.commit().await,
        }
    }

    /// Gives up the table: a SQL load rolls back (dropping its
    /// transaction); a plugin writer is told to abort.
    pub(crate) async fn abort(self) {
        match self {
            Sink::Sql(l) => drop(l),
            Sink::Writer(w) => w.abort().await,
        }
    }
}
