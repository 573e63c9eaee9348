//! The data of a plugin's wasmtime store ([`HostState`]): its WASI context,
//! resource table and memory limiter, the grants the project resolved for it
//! ([`PluginContext`]), and the counters the capability limits are checked
//! against. The capabilities are implemented on it (this folder); the
//! runtime creates one per plugin instance.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::StoreLimits;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::blob::BlobStore;
use super::sql::LazyDatabase;
use crate::limits::Limits;
use crate::model as types;

/// What a plugin may reach: resolved grants plus reporting hooks.
#[derive(Default)]
pub struct PluginContext {
    /// Instance name from the project.
    pub name: String,
    /// `label -> database`, only labels requested AND granted.
    pub sql: BTreeMap<String, Arc<LazyDatabase>>,
    /// True unless the plugin is a step's target: every statement it sends
    /// runs read-only and `execute`/`load` are refused.
    pub sql_read_only: bool,
    /// `label -> store`, only labels requested AND granted.
    pub blob: BTreeMap<String, Arc<BlobStore>>,
    /// `label -> base URL`, only labels requested AND granted.
    pub http: BTreeMap<String, Arc<super::http::HttpTarget>>,
    /// `step -> its pipelines`, in grant order: the steps whose value
    /// pipeline this plugin may run (`pipeline` capability).
    pub pipelines: Vec<(String, Arc<dyn super::pipeline::StepPipeline>)>,
    /// Deadline per host call.
    pub host_call_timeout: std::time::Duration,
    /// Receives plugin progress reports.
    pub progress: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
}

/// A plugin's progress report.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// New total.
    Total(u64, String),
    /// Work done.
    Advance(u64),
}

/// The data of a plugin's store.
pub struct HostState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    /// The store's memory, instance and table limits (the runtime installs
    /// it as the store's limiter).
    pub(crate) limits: StoreLimits,
    pub(crate) ctx: Arc<PluginContext>,
    pub(crate) open_handles: usize,
    pub(crate) open_connections: usize,
    pub(crate) caps: Limits,
    /// Bytes of log text this plugin has emitted (see `MAX_LOG_BYTES`).
    pub(crate) log_bytes: usize,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// The state of a new plugin instance: no handle open yet, `ctx` until
    /// the runtime installs the resolved grants.
    pub(crate) fn new(
        wasi: WasiCtx,
        limits: StoreLimits,
        ctx: PluginContext,
        caps: Limits,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limits,
            ctx: Arc::new(ctx),
            open_handles: 0,
            open_connections: 0,
            caps,
            log_bytes: 0,
        }
    }

    /// Counts a new handle; `limit-exceeded` past the plugin's `max_handles`.
    pub(crate) fn take_handle(&mut self) -> std::result::Result<(), types::Error> {
        if self.open_handles >= self.caps.max_handles {
            return Err(types::Error::LimitExceeded(format!(
                "plugin {} holds {} open handles (limit {})",
                self.ctx.name, self.open_handles, self.caps.max_handles
            )));
        }
        self.open_handles += 1;
        Ok(())
    }

    /// Counts a new database connection; `limit-exceeded` past `max_connections`.
    pub(crate) fn take_connection(&mut self) -> std::result::Result<(), types::Error> {
        if self.open_connections >= self.caps.max_connections {
            return Err(types::Error::LimitExceeded(format!(
                "plugin {} holds {} open connections (limit {})",
                self.ctx.name, self.open_connections, self.caps.max_connections
            )));
        }
        self.open_connections += 1;
        Ok(())
    }
}
