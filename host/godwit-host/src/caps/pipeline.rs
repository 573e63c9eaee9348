//! The `pipeline` capability (contract 0.3, validators only): a validator
//! runs source rows through a granted step's own value pipeline — casts,
//! NUL-byte policy, rewrite rules, zero dates — to compare what the run
//! wrote, not what it read.
//!
//! The engine implements the pipelines ([`StepPipeline`], in
//! `engine::pipeline`); this folder holds the grant (`grants.pipeline =
//! [steps]`, bound per plugin in [`PluginContext::pipelines`]), the handle
//! and the bounds of a call: at most [`MAX_BATCH_ROWS`] rows in, the
//! plugin's `max_result_bytes` out. Its time is the time of plugin calls
//! (the source's `discover`, each rule's `rewrite`), each bounded by that
//! plugin's own call timeout, which traps the call and disables the
//! instance; no outer timeout drops one of them half-way (a dropped call
//! would leave its instance in an unknown state).
//!
//! [`PluginContext::pipelines`]: super::PluginContext

use std::sync::Arc;

use futures::future::BoxFuture;
use wasmtime::component::Resource;

use super::{HostState, WResult};
use crate::limits::MAX_BATCH_ROWS;
use crate::model::{Batch, Error as WErr, Value};

/// The kind's name in manifests, grants and reports.
pub const KIND: &str = "pipeline";

/// Per row: the values as the run writes them, or why the run refuses it.
pub type RowOutcomes = Vec<Result<Vec<Value>, String>>;

/// The pipelines of one step, as the engine builds them.
pub trait StepPipeline: Send + Sync {
    /// The pipeline of source table `table`, if the step reads it.
    fn open<'a>(
        &'a self,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<dyn TablePipeline>>, WErr>>;
}

/// The pipeline of one table.
pub trait TablePipeline: Send + Sync {
    /// Source columns per row.
    fn width(&self) -> usize;
    /// Columns a cast or a rule may change, in source order.
    fn changed_columns(&self) -> Vec<String>;
    /// One outcome per row: the row as written, or why it is refused.
    fn apply(&self, rows: Vec<Vec<Value>>) -> BoxFuture<'_, Result<RowOutcomes, WErr>>;
}

/// A `table-pipeline` resource.
pub struct PipelineHandle {
    pipe: Arc<dyn TablePipeline>,
}

impl HostState {
    /// `pipeline.open`: the first granted step that reads `table`.
    pub(crate) async fn pipeline_open(
        &mut self,
        table: String,
    ) -> WResult<Resource<PipelineHandle>> {
        if self.ctx.pipelines.is_empty() {
            tracing::warn!(plugin = %self.ctx.name, table, "pipeline access denied");
            return Ok(Err(WErr::AccessDenied(format!(
                "plugin {} has no step's pipeline granted (grant it with [plugins.{}.grants] pipeline = [\"<step>\"])",
                self.ctx.name, self.ctx.name
            ))));
        }
        if let Err(e) = self.take_handle() {
            return Ok(Err(e));
        }
        let steps: Vec<_> = self.ctx.pipelines.clone();
        let found = async {
            for (_, step) in &steps {
                if let Some(p) = step.open(&table).await? {
                    return Ok(Some(p));
                }
            }
            Ok(None)
        }
        .await;
        let result = match found {
            Ok(Some(pipe)) => return Ok(Ok(self.table.push(PipelineHandle { pipe })?)),
            Ok(None) => WErr::NotFound(format!(
                "no step granted to plugin {} reads a table {table:?} (granted: {})",
                self.ctx.name,
                steps
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(e) => e,
        };
        self.release_handle();
        Ok(Err(result))
    }

    pub(crate) fn pipeline_changed_columns(
        &mut self,
        this: &Resource<PipelineHandle>,
    ) -> wasmtime::Result<Vec<String>> {
        Ok(self.table.get(this)?.pipe.changed_columns())
    }

    /// `table-pipeline.apply`, bounded in rows in and bytes out (its time is
    /// the rules' calls, each under its own limit).
    pub(crate) async fn pipeline_apply(
        &mut self,
        this: &Resource<PipelineHandle>,
        rows: Batch,
    ) -> WResult<RowOutcomes> {
        let pipe = self.table.get(this)?.pipe.clone();
        if rows.row_count > MAX_BATCH_ROWS {
            return Ok(Err(WErr::LimitExceeded(format!(
                "{} rows in one apply (at most {MAX_BATCH_ROWS})",
                rows.row_count
            ))));
        }
        if rows.row_count > 0 && rows.columns.len() != pipe.width() {
            return Ok(Err(WErr::InvalidInput(format!(
                "a batch of {} columns for a table of {}: pass every source column, in source-def order",
                rows.columns.len(),
                pipe.width()
            ))));
        }
        let rows = match crate::value::batch_to_rows(rows) {
            Ok(r) => r,
            Err(e) => return Ok(Err(WErr::InvalidInput(e))),
        };
        let out = match pipe.apply(rows).await {
            Ok(o) => o,
            Err(e) => return Ok(Err(e)),
        };
        let bytes: u64 = out
            .iter()
            .map(|r| match r {
                Ok(row) => crate::value::row_size(row) as u64,
                Err(reason) => reason.len() as u64,
            })
            .sum();
        if bytes > self.caps.max_result_bytes {
            return Ok(Err(WErr::LimitExceeded(format!(
                "apply returned {bytes} bytes (limit {}); pass fewer rows per call",
                self.caps.max_result_bytes
            ))));
        }
        Ok(Ok(out))
    }

    pub(crate) fn pipeline_drop(&mut self, rep: Resource<PipelineHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        self.release_handle();
        Ok(())
    }
}

/// The 0.3 interface over the methods above (0.2 has no pipeline).
mod v0_3 {
    use super::*;
    use crate::caps::v0_3::caps::pipeline as wpipe;

    impl wpipe::Host for HostState {
        async fn open(&mut self, table: String) -> WResult<Resource<PipelineHandle>> {
            self.pipeline_open(table).await
        }
    }

    impl wpipe::HostTablePipeline for HostState {
        async fn changed_columns(
            &mut self,
            this: Resource<PipelineHandle>,
        ) -> wasmtime::Result<Vec<String>> {
            self.pipeline_changed_columns(&this)
        }

        async fn apply(
            &mut self,
            this: Resource<PipelineHandle>,
            rows: Batch,
        ) -> WResult<RowOutcomes> {
            self.pipeline_apply(&this, rows).await
        }

        async fn drop(&mut self, rep: Resource<PipelineHandle>) -> wasmtime::Result<()> {
            self.pipeline_drop(rep)
        }
    }
}
