//! Host capabilities offered to plugins: `sql`, `blob`, `http`, `log`,
//! `progress`, and (0.3 validators) `pipeline`.
//!
//! Every `open(label)` is checked against the plugin's resolved grants (labels
//! it requested AND the project granted); anything else is `access-denied`,
//! returned as a WIT error value, never a trap. Each host call is bounded by
//! the plugin's host-call timeout and by caps on rows and bytes returned.

pub mod blob;
pub mod folder;
pub mod http;
pub mod pipeline;
pub mod sql;
mod state;
pub mod v0_2;
pub mod v0_3;

pub use state::{HostState, PluginContext, ProgressEvent};

use std::future::Future;

use wasmtime::component::Resource;

use crate::limits::MAX_BATCH_ROWS;
use crate::model::{Batch, Error as WErr, Value};
use blob::{ListerHandle, StoreHandle, WriterHandle};
use sql::{ConnectionHandle, RowsHandle};

type WResult<T> = wasmtime::Result<Result<T, WErr>>;

/// The project's resources that grants name, for [`bind`].
pub struct Resources<'a> {
    /// The project's connections, by name.
    pub connections: &'a std::collections::BTreeMap<String, std::sync::Arc<sql::LazyDatabase>>,
    /// Its stores, by name.
    pub stores: &'a std::collections::BTreeMap<String, std::sync::Arc<blob::BlobStore>>,
    /// Its hosts, by name.
    pub hosts: &'a std::collections::BTreeMap<String, crate::project::HttpHost>,
}

/// How one capability puts a granted resource into a plugin's context.
type Bind = fn(&mut PluginContext, &Resources<'_>, &str, &str);

/// The capabilities a manifest requests by label, one line each (kind,
/// binding). Adding one is a folder with `KIND` and `bind`, a line here,
/// its section in `project::GRANTABLE` and its field in the file schema
/// (`project::FileGrants`). (`pipeline` is granted by step,
/// not by label; the engine binds it, since it builds the pipelines.)
pub const BY_LABEL: &[(&str, Bind)] = &[
    (sql::KIND, sql::bind),
    (blob::KIND, blob::bind),
    (http::KIND, http::bind),
];

/// Binds resource `name`, granted for `kind` under `label`, into `ctx`;
/// false for a kind that is not requested by label.
pub fn bind(
    kind: &str,
    ctx: &mut PluginContext,
    res: &Resources<'_>,
    label: &str,
    name: &str,
) -> bool {
    match BY_LABEL.iter().find(|(k, _)| *k == kind) {
        Some((_, b)) => {
            b(ctx, res, label, name);
            true
        }
        None => false,
    }
}

/// Runs a host operation under the plugin's host-call timeout.
async fn bounded<T>(
    limit: std::time::Duration,
    what: &str,
    fut: impl Future<Output = crate::Result<T>>,
) -> Result<T, WErr> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(sql::to_wit(&e)),
        Err(_) => Err(WErr::Timeout(format!(
            "{what} took longer than {} ms",
            limit.as_millis()
        ))),
    }
}

impl HostState {
    fn denied(&self, kind: &str, label: &str) -> WErr {
        WErr::AccessDenied(format!(
            "{kind} label {label:?} is not granted to plugin {} (it must be requested by the plugin and granted under [plugins.{}.grants.{kind}])",
            self.ctx.name, self.ctx.name
        ))
    }

    /// Creates a handle: counts it against the open-handle limit, runs `fut`
    /// under the host-call timeout and stores `wrap(result)` in the table.
    async fn new_handle<T: Send + 'static, U>(
        &mut self,
        what: &str,
        fut: impl Future<Output = crate::Result<U>>,
        wrap: impl FnOnce(U) -> T,
    ) -> WResult<Resource<T>> {
        if let Err(e) = self.take_handle() {
            return Ok(Err(e));
        }
        match bounded(self.ctx.host_call_timeout, what, fut).await {
            Ok(v) => Ok(Ok(self.table.push(wrap(v))?)),
            Err(e) => {
                self.release_handle();
                Ok(Err(e))
            }
        }
    }

    fn release_handle(&mut self) {
        self.open_handles = self.open_handles.saturating_sub(1);
    }
}

/// The error for a write through a read-only grant.
fn read_only_grant(conn: &str, what: &str) -> WErr {
    WErr::Unsupported(format!(
        "connection {conn} is read-only for this plugin (only a step's target may write): {what} refused"
    ))
}

fn gone() -> WErr {
    WErr::Internal("handle is no longer valid".into())
}

/// Log text one plugin instance may emit in a run. Past it, one line says
/// so and the rest is dropped: a plugin cannot fill the disk or the
/// terminal (a flood measured 87 MB/s before this bound).
pub const MAX_LOG_BYTES: usize = 1 << 20;

/// The capability interfaces of one served contract version, implemented
/// once: the versions' interfaces have the same functions over the same
/// host types (crate::model), and differ only in the version in their names.
macro_rules! capability_impls {
    ($m:ident, $v:ident) => {
    mod $m {
        use super::*;

        fn meta(m: crate::model::ObjectMeta) -> wblob::ObjectMeta {
            wblob::ObjectMeta {
                path: m.path,
                size: m.size,
                last_modified: m.last_modified,
                etag: m.etag,
                is_dir: m.is_dir,
                mode: m.mode,
            }
        }

        fn request(r: whttp::Request) -> crate::model::HttpRequest {
            crate::model::HttpRequest {
                method: r.method,
                path: r.path,
                headers: r.headers,
                body: r.body,
            }
        }

        fn response(r: crate::model::HttpResponse) -> whttp::Response {
            whttp::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
                truncated: r.truncated,
            }
        }
        use crate::caps::$v::caps::{
            blob as wblob, http as whttp, log as wlog, progress as wprogress, sql as wsql,
            types,
        };

        impl types::Host for HostState {}

        impl wsql::Host for HostState {
            async fn open(&mut self, label: String) -> WResult<Resource<ConnectionHandle>> {
                let Some(lazy) = self.ctx.sql.get(&label).cloned() else {
                    tracing::warn!(plugin = %self.ctx.name, label, "sql access denied");
                    return Ok(Err(self.denied("sql", &label)));
                };
                if let Err(e) = self.take_connection() {
                    return Ok(Err(e));
                }
                if let Err(e) = self.take_handle() {
                    self.open_connections -= 1;
                    return Ok(Err(e));
                }
                let limit = self.ctx.host_call_timeout;
                let result = match tokio::time::timeout(limit, lazy.get()).await {
                    Ok(Ok(db)) => {
                        let read_only = self.ctx.sql_read_only;
                        return Ok(Ok(self.table.push(ConnectionHandle { db, read_only })?));
                    }
                    // The plugin gets no DSN, not even redacted; the host log has the details.
                    Ok(Err(e)) => {
                        tracing::warn!(plugin = %self.ctx.name, label, error = %e, "opening a granted connection failed");
                        WErr::Io(format!("the connection granted as {label:?} could not be opened (details in the host log)"))
                    }
                    Err(_) => WErr::Timeout(format!(
                        "opening {label:?} took longer than {} ms",
                        limit.as_millis()
                    )),
                };
                self.release_handle();
                self.open_connections -= 1;
                Ok(Err(result))
            }
        }

        impl wsql::HostConnection for HostState {
            async fn dialect(
                &mut self,
                this: Resource<ConnectionHandle>,
            ) -> wasmtime::Result<wsql::Dialect> {
                Ok(match self.table.get(&this)?.db.dialect {
                    crate::model::Dialect::Sqlite => wsql::Dialect::Sqlite,
                    crate::model::Dialect::Postgres => wsql::Dialect::Postgres,
                    crate::model::Dialect::Mysql => wsql::Dialect::Mysql,
                })
            }

            async fn query(
                &mut self,
                this: Resource<ConnectionHandle>,
                statement: String,
                params: Vec<Value>,
            ) -> WResult<Resource<RowsHandle>> {
                let h = self.table.get(&this)?;
                let (db, read_only) = (h.db.clone(), h.read_only);
                let fut = async move {
                    if read_only {
                        db.query_read_only(&statement, params).await
                    } else {
                        db.query(&statement, params).await
                    }
                };
                self.new_handle("query", fut, |stream| RowsHandle { stream })
                    .await
            }

            async fn query_with_timeout(
                &mut self,
                this: Resource<ConnectionHandle>,
                statement: String,
                params: Vec<Value>,
                timeout_ms: u32,
            ) -> WResult<Resource<RowsHandle>> {
                let h = self.table.get(&this)?;
                let (db, read_only) = (h.db.clone(), h.read_only);
                let timeout = std::time::Duration::from_millis(u64::from(timeout_ms.max(1)));
                self.new_handle(
                    "query",
                    db.query_with_timeout(&statement, params, timeout, read_only),
                    |stream| RowsHandle { stream },
                )
                .await
            }

            async fn execute(
                &mut self,
                this: Resource<ConnectionHandle>,
                statement: String,
                params: Vec<Value>,
            ) -> WResult<u64> {
                let h = self.table.get(&this)?;
                if h.read_only {
                    return Ok(Err(read_only_grant(&h.db.name, "execute")));
                }
                let db = h.db.clone();
                Ok(bounded(
                    self.ctx.host_call_timeout,
                    "execute",
                    db.execute(&statement, params),
                )
                .await)
            }

            async fn load(
                &mut self,
                this: Resource<ConnectionHandle>,
                table: String,
                columns: Vec<String>,
                data: Batch,
            ) -> WResult<u64> {
                let h = self.table.get(&this)?;
                if h.read_only {
                    return Ok(Err(read_only_grant(&h.db.name, "load")));
                }
                let db = h.db.clone();
                let rows = match crate::value::batch_to_rows(data) {
                    Ok(r) => r,
                    Err(m) => return Ok(Err(WErr::InvalidInput(format!("malformed batch: {m}")))),
                };
                let fut = async {
                    let mut loader = db.begin_load(&table, &columns, &[], &[]).await?;
                    let outcome = loader.load(rows).await?;
                    if let Some((row, reason)) = outcome.rejected.first() {
                        return Err(crate::Error::new(
                            crate::ErrorKind::Rejected,
                            format!("row {row} of the batch was refused: {reason}"),
                        ));
                    }
                    let unquoted = table.trim_matches('"').replace("\"\"", "\"");
                    // A row pointing at nothing refuses the whole batch, before
                    // anything commits.
                    loader
                        .commit(&unquoted, crate::project::OrphanPolicy::Fail)
                        .await?;
                    Ok(outcome.written)
                };
                Ok(bounded(self.ctx.host_call_timeout, "load", fut).await)
            }

            async fn drop(&mut self, rep: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
                self.table.delete(rep)?;
                self.release_handle();
                self.open_connections = self.open_connections.saturating_sub(1);
                Ok(())
            }
        }

        impl wsql::HostRows for HostState {
            async fn columns(
                &mut self,
                this: Resource<RowsHandle>,
            ) -> wasmtime::Result<Vec<wsql::ColumnInfo>> {
                Ok(self
                    .table
                    .get(&this)?
                    .stream
                    .columns
                    .iter()
                    .map(|c| wsql::ColumnInfo {
                        name: c.name.clone(),
                        native_type: c.native_type.clone(),
                    })
                    .collect())
            }

            async fn next_batch(
                &mut self,
                this: Resource<RowsHandle>,
                max_rows: u32,
                max_bytes: u64,
            ) -> WResult<Option<Batch>> {
                let max_rows = max_rows.clamp(1, MAX_BATCH_ROWS) as usize;
                let max_bytes = max_bytes.clamp(1, self.caps.max_result_bytes) as usize;
                let limit = self.ctx.host_call_timeout;
                let handle = self.table.get_mut(&this)?;
                let width = handle.stream.columns.len();
                let fut = handle.stream.next_rows(max_rows, max_bytes);
                let rows = bounded(limit, "next-batch", fut).await;
                Ok(rows.map(|batch| {
                    batch.map(|rows| {
                        let width = if width == 0 {
                            rows.first().map_or(0, Vec::len)
                        } else {
                            width
                        };
                        crate::value::rows_to_batch(rows, width)
                    })
                }))
            }

            async fn drop(&mut self, rep: Resource<RowsHandle>) -> wasmtime::Result<()> {
                self.table.delete(rep)?;
                self.release_handle();
                Ok(())
            }
        }

        impl wblob::Host for HostState {
            async fn open(&mut self, label: String) -> WResult<Resource<StoreHandle>> {
                let Some(store) = self.ctx.blob.get(&label).cloned() else {
                    tracing::warn!(plugin = %self.ctx.name, label, "blob access denied");
                    return Ok(Err(self.denied("blob", &label)));
                };
                if let Err(e) = self.take_handle() {
                    return Ok(Err(e));
                }
                Ok(Ok(self.table.push(StoreHandle { store })?))
            }
        }

        impl wblob::HostStore for HostState {
            async fn list(
                &mut self,
                this: Resource<StoreHandle>,
                prefix: String,
                recursive: bool,
            ) -> WResult<Resource<ListerHandle>> {
                let store = self.table.get(&this)?.store.clone();
                self.new_handle("list", store.list(&prefix, recursive), |lister| {
                    ListerHandle {
                        lister,
                        store: store.clone(),
                    }
                })
                .await
            }

            async fn stat(
                &mut self,
                this: Resource<StoreHandle>,
                path: String,
            ) -> WResult<wblob::ObjectMeta> {
                let store = self.table.get(&this)?.store.clone();
                Ok(bounded(self.ctx.host_call_timeout, "stat", store.stat(&path))
                    .await
                    .map(meta))
            }

            async fn read(
                &mut self,
                this: Resource<StoreHandle>,
                path: String,
                offset: u64,
                max_bytes: u32,
            ) -> WResult<Vec<u8>> {
                let store = self.table.get(&this)?.store.clone();
                Ok(bounded(
                    self.ctx.host_call_timeout,
                    "read",
                    store.read(&path, offset, max_bytes),
                )
                .await)
            }

            async fn open_writer(
                &mut self,
                this: Resource<StoreHandle>,
                path: String,
            ) -> WResult<Resource<WriterHandle>> {
                let store = self.table.get(&this)?.store.clone();
                let fut = store.writer(&path);
                let wrap = |writer| WriterHandle {
                    writer: Some(writer),
                    path: path.clone(),
                    store: store.clone(),
                };
                self.new_handle("open-writer", fut, wrap).await
            }

            async fn resolve(
                &mut self,
                this: Resource<StoreHandle>,
                value: String,
            ) -> wasmtime::Result<Option<String>> {
                Ok(self.table.get(&this)?.store.resolve(&value))
            }

            async fn delete(&mut self, this: Resource<StoreHandle>, path: String) -> WResult<()> {
                let store = self.table.get(&this)?.store.clone();
                Ok(bounded(self.ctx.host_call_timeout, "delete", store.delete(&path)).await)
            }

            async fn drop(&mut self, rep: Resource<StoreHandle>) -> wasmtime::Result<()> {
                self.table.delete(rep)?;
                self.release_handle();
                Ok(())
            }
        }

        impl wblob::HostLister for HostState {
            async fn next_page(
                &mut self,
                this: Resource<ListerHandle>,
                max_entries: u32,
            ) -> WResult<Vec<wblob::ObjectMeta>> {
                let limit = self.ctx.host_call_timeout;
                let handle = self.table.get_mut(&this)?;
                let store = handle.store.clone();
                let fut = blob::next_page(&store, &mut handle.lister, max_entries);
                Ok(bounded(limit, "next-page", fut)
                    .await
                    .map(|page| page.into_iter().map(meta).collect()))
            }

            async fn drop(&mut self, rep: Resource<ListerHandle>) -> wasmtime::Result<()> {
                self.table.delete(rep)?;
                self.release_handle();
                Ok(())
            }
        }

        impl wblob::HostWriter for HostState {
            async fn write(&mut self, this: Resource<WriterHandle>, chunk: Vec<u8>) -> WResult<()> {
                if chunk.len() > blob::MAX_CHUNK_BYTES as usize {
                    return Ok(Err(WErr::LimitExceeded(format!(
                        "chunk of {} bytes is larger than the {} byte limit",
                        chunk.len(),
                        blob::MAX_CHUNK_BYTES
                    ))));
                }
                let limit = self.ctx.host_call_timeout;
                let handle = self.table.get_mut(&this)?;
                let Some(w) = handle.writer.as_mut() else {
                    return Ok(Err(gone()));
                };
                let fut = w.write(chunk);
                Ok(bounded(limit, "write", fut).await)
            }

            async fn finish(&mut self, this: Resource<WriterHandle>) -> WResult<wblob::ObjectMeta> {
                let limit = self.ctx.host_call_timeout;
                let handle = self.table.get_mut(&this)?;
                let Some(w) = handle.writer.take() else {
                    return Ok(Err(gone()));
                };
                let (path, store) = (handle.path.clone(), handle.store.clone());
                let fut = async move {
                    w.close().await?;
                    store.stat(&path).await
                };
                Ok(bounded(limit, "finish", fut).await.map(meta))
            }

            async fn drop(&mut self, rep: Resource<WriterHandle>) -> wasmtime::Result<()> {
                let mut h = self.table.delete(rep)?;
                if let Some(w) = h.writer.take() {
                    // Abandoned writers leave nothing behind.
                    w.abort().await;
                }
                self.release_handle();
                Ok(())
            }
        }

        impl whttp::Host for HostState {
            async fn send(&mut self, label: String, req: whttp::Request) -> WResult<whttp::Response> {
                let Some(target) = self.ctx.http.get(&label).cloned() else {
                    tracing::warn!(plugin = %self.ctx.name, label, "http access denied");
                    return Ok(Err(self.denied("http", &label)));
                };
                let limit = self.ctx.host_call_timeout;
                let result = bounded(limit, "http request", http::send(&target, request(req), limit)).await;
                Ok(result.map(response).map_err(|e| match e {
                    WErr::InvalidInput(m) => WErr::AccessDenied(m),
                    other => other,
                }))
            }
        }

        impl wlog::Host for HostState {
            async fn emit(&mut self, level: wlog::Level, message: String) -> wasmtime::Result<()> {
                let plugin = self.ctx.name.as_str();
                if self.log_bytes >= MAX_LOG_BYTES {
                    return Ok(());
                }
                // Escaped (a newline cannot forge a log line) and bounded per call.
                let message = crate::text::plugin_text(&message, crate::text::MAX_PLUGIN_TEXT);
                self.log_bytes += message.len();
                if self.log_bytes >= MAX_LOG_BYTES {
                    tracing::warn!(
                        target: "godwit::plugin",
                        plugin,
                        "log budget of {} KiB spent; further log lines of this plugin are dropped",
                        MAX_LOG_BYTES >> 10
                    );
                    return Ok(());
                }
                match level {
                    wlog::Level::Trace => tracing::trace!(target: "godwit::plugin", plugin, "{message}"),
                    wlog::Level::Debug => tracing::debug!(target: "godwit::plugin", plugin, "{message}"),
                    wlog::Level::Info => tracing::info!(target: "godwit::plugin", plugin, "{message}"),
                    wlog::Level::Warn => tracing::warn!(target: "godwit::plugin", plugin, "{message}"),
                    wlog::Level::Error => tracing::error!(target: "godwit::plugin", plugin, "{message}"),
                }
                Ok(())
            }
        }

        impl wprogress::Host for HostState {
            async fn set_total(&mut self, total: u64, unit: String) -> wasmtime::Result<()> {
                if let Some(p) = &self.ctx.progress {
                    p(ProgressEvent::Total(total, unit));
                }
                Ok(())
            }

            async fn advance(&mut self, amount: u64) -> wasmtime::Result<()> {
                if let Some(p) = &self.ctx.progress {
                    p(ProgressEvent::Advance(amount));
                }
                Ok(())
            }
        }
    }
    };
}

capability_impls!(impls_v0_2, v0_2);
capability_impls!(impls_v0_3, v0_3);
