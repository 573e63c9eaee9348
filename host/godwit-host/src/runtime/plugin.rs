//! One plugin instance: its store, sandbox, grants and typed calls.

use std::sync::Arc;

use wasmtime::component::{Component, Instance, InstancePre, Linker};
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap};
use wasmtime_wasi::WasiCtxBuilder;

use super::{Compiled, Contract};
use crate::caps::{v0_2, v0_3, HostState, PluginContext};
use crate::error::{Error, ErrorKind, Result};
use crate::limits::{self, Limits};
use crate::model::{self as types, CapabilityKind, TableDef};

/// A plugin's stdout and stderr: the first [`limits::STDERR_CAPTURE_BYTES`]
/// bytes are kept (for panic messages in reports), the rest is discarded —
/// never an error, so a chatty plugin is not stopped for printing.
#[derive(Clone, Default)]
pub struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    /// What was kept, lossily decoded.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
    }
}

impl wasmtime_wasi::cli::IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut kept = self.0.lock().expect("capture lock");
        let room = limits::STDERR_CAPTURE_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..buf.len().min(room)]);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A kind of plugin, by the interface it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Exports `source-adapter` (world `source`).
    Source,
    /// Exports `target-adapter` (world `target`).
    Target,
    /// Exports `rewriter` (world `rewrite`).
    Rewrite,
    /// Exports `validation` (world `validator`).
    Validator,
}

impl Kind {
    fn interface(self) -> &'static str {
        match self {
            Kind::Source => "source-adapter",
            Kind::Target => "target-adapter",
            Kind::Rewrite => "rewriter",
            Kind::Validator => "validation",
        }
    }
    /// The WIT world name.
    pub fn world(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Target => "target",
            Kind::Rewrite => "rewrite",
            Kind::Validator => "validator",
        }
    }
}

/// Finds which plugin interfaces a component exports and the contract
/// version they are built against, refusing versions this host does not
/// serve and components mixing versions.
pub fn detect_kinds(
    engine: &Engine,
    component: &Component,
) -> std::result::Result<(Vec<Kind>, Contract), String> {
    let served = || {
        Contract::SERVED
            .iter()
            .map(|c| c.package())
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let mut kinds = Vec::new();
    let mut contract: Option<Contract> = None;
    for (name, _) in component.component_type().exports(engine) {
        let Some(rest) = name.strip_prefix("godwit:plugin/") else {
            continue;
        };
        let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = [Kind::Source, Kind::Target, Kind::Rewrite, Kind::Validator]
            .into_iter()
            .find(|k| k.interface() == iface);
        let Some(k) = kind else { continue };
        let Some(c) = Contract::of_version(version) else {
            return Err(format!(
                "built against godwit:plugin@{version}; this host serves {}",
                served()
            ));
        };
        if contract.is_some_and(|seen| seen != c) {
            return Err(format!(
                "exports interfaces of two contract versions ({} and {c}); build every export \
                 against one",
                contract.expect("checked")
            ));
        }
        contract = Some(c);
        kinds.push(k);
    }
    match contract {
        Some(c) if !kinds.is_empty() => Ok((kinds, c)),
        _ => Err(format!(
            "exports no godwit plugin interface (expected one of the worlds source, target, \
             rewrite, validator of {})",
            served()
        )),
    }
}

/// What a plugin said about itself (`describe`), in host types.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginInfo {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Description.
    pub description: String,
    /// Requested capabilities as `(kind, label, purpose)`.
    pub requests: Vec<Request>,
    /// Parameter documentation.
    pub params_doc: String,
}

/// One requested capability.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Request {
    /// `sql`, `blob` or `http`.
    pub kind: String,
    /// The plugin's label.
    pub label: String,
    /// Why.
    pub purpose: String,
}

impl From<types::PluginInfo> for PluginInfo {
    fn from(i: types::PluginInfo) -> Self {
        Self {
            name: i.name,
            version: i.version,
            description: i.description,
            requests: i
                .requests
                .into_iter()
                .map(|r| Request {
                    kind: match r.kind {
                        CapabilityKind::Sql => "sql",
                        CapabilityKind::Blob => "blob",
                        CapabilityKind::Http => "http",
                    }
                    .into(),
                    label: r.label,
                    purpose: r.purpose,
                })
                .collect(),
            params_doc: i.params_doc,
        }
    }
}

/// Calls one exported interface of whichever contract version the plugin
/// speaks: `$body` is written once and compiled against each version's
/// bindings (whose data types are the same host types), so the result is
/// the same Rust type for both.
macro_rules! guest_call {
    ($self:ident, $field:ident, $kind:expr, |$g:ident| $body:expr) => {
        match &$self.guests {
            Guests::V0_2(all) => {
                let $g = all.$field.clone().ok_or_else(|| $self.missing($kind))?;
                $body
            }
            Guests::V0_3(all) => {
                let $g = all.$field.clone().ok_or_else(|| $self.missing($kind))?;
                $body
            }
        }
    };
}

/// A running plugin instance.
pub struct Plugin {
    /// Instance name from the project.
    pub name: String,
    /// `sha256:<hex>` of its component.
    pub digest: String,
    /// Kinds it exports.
    pub kinds: Vec<Kind>,
    /// Its limits.
    pub limits: Limits,
    /// The contract version it speaks.
    pub contract: Contract,
    /// The godwit interfaces it imports (`sql`, `pipeline`, ...), without
    /// package and version.
    imports: Vec<String>,
    store: Store<HostState>,
    stderr: Capture,
    guests: Guests,
    /// Set once the guest trapped; it is never entered again.
    failed: Option<Error>,
}

impl Plugin {
    /// Whether the component imports godwit interface `iface` (`"pipeline"`).
    pub fn imports(&self, iface: &str) -> bool {
        self.imports.iter().any(|i| i == iface)
    }

    /// The godwit interfaces the component imports (what it can ask the
    /// host for at all; `plugins inspect` shows them to reviewers).
    pub fn imported(&self) -> &[String] {
        &self.imports
    }

    pub(super) async fn instantiate(
        engine: &Engine,
        linker: &Linker<HostState>,
        name: &str,
        compiled: &Compiled,
        limits: Limits,
    ) -> Result<Self> {
        let stderr = Capture::default();
        let wasi = WasiCtxBuilder::new()
            .stdout(stderr.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .instances(limits.max_instances)
            .tables(limits.max_tables)
            .memories(limits::MAX_MEMORIES)
            .table_elements(limits.max_table_elements)
            .trap_on_grow_failure(true)
            .build();
        let ctx = PluginContext {
            name: name.to_owned(),
            host_call_timeout: limits.host_call_timeout,
            ..Default::default()
        };
        let mut store = Store::new(engine, HostState::new(wasi, store_limits, ctx, limits));
        store.limiter(|s| &mut s.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(limits.deadline_ticks());

        let load_err = |e: wasmtime::Error| {
            Error::new(
                ErrorKind::PluginLoad,
                format!("plugin {name} ({}): {e:#}", compiled.digest),
            )
        };
        let pre: InstancePre<HostState> = linker
            .instantiate_pre(&compiled.component)
            .map_err(load_err)?;
        let instance: Instance = pre.instantiate_async(&mut store).await.map_err(load_err)?;
        let has = |k: Kind| compiled.kinds.contains(&k);
        macro_rules! load {
            ($v:ident) => {{
                use $v::plugins::{rewriter, source_adapter, target_adapter, validation};
                macro_rules! one {
                    ($kind:expr, $iface:ident) => {
                        if has($kind) {
                            Some(
                                $iface::GuestIndices::new(&pre)
                                    .and_then(|i| i.load(&mut store, &instance))
                                    .map_err(load_err)?,
                            )
                        } else {
                            None
                        }
                    };
                }
                $v::Guests {
                    source: one!(Kind::Source, source_adapter),
                    target: one!(Kind::Target, target_adapter),
                    rewrite: one!(Kind::Rewrite, rewriter),
                    validator: one!(Kind::Validator, validation),
                }
            }};
        }
        let guests = match compiled.contract {
            Contract::V0_2 => Guests::V0_2(load!(v0_2)),
            Contract::V0_3 => Guests::V0_3(load!(v0_3)),
        };
        Ok(Self {
            name: name.to_owned(),
            digest: compiled.digest.clone(),
            kinds: compiled.kinds.clone(),
            limits,
            contract: compiled.contract,
            imports: compiled
                .component
                .component_type()
                .imports(engine)
                .filter_map(|(name, _)| {
                    let rest = name.strip_prefix("godwit:plugin/")?;
                    Some(rest.split_once('@').map_or(rest, |(i, _)| i).to_owned())
                })
                .collect(),
            store,
            stderr,
            guests,
            failed: None,
        })
    }

    /// Installs the resolved grants (after `describe`, before `configure`).
    pub fn set_context(&mut self, mut ctx: PluginContext) {
        ctx.name = self.name.clone();
        ctx.host_call_timeout = self.limits.host_call_timeout;
        self.store.data_mut().ctx = Arc::new(ctx);
    }

    /// Short digest for messages.
    pub fn short_digest(&self) -> &str {
        let hex = self.digest.trim_start_matches("sha256:");
        &hex[..hex.len().min(12)]
    }

    fn arm(&mut self, call: &str) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(Error::new(
                ErrorKind::PluginTrap,
                format!(
                    "plugin {} is disabled after an earlier failure ({}); refusing {call}",
                    self.name, e.message
                ),
            ));
        }
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        Ok(())
    }

    /// Turns a trap into a report naming the plugin, and disables the plugin.
    fn trapped(&mut self, call: &str, e: wasmtime::Error) -> Error {
        let stderr = self.stderr.text();
        let text = format!("{e:#}");
        let reason = if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            format!(
                "exceeded its time limit of {} ms",
                self.limits.call_timeout.as_millis()
            )
        } else if text.contains("forcing trap when growing memory")
            || text.contains("memory") && text.contains("limit")
        {
            format!(
                "exceeded its memory limit of {} MiB",
                self.limits.memory_bytes >> 20
            )
        } else if let Some(p) = stderr.lines().find(|l| l.contains("panicked at")) {
            let detail: Vec<&str> = stderr
                .lines()
                .skip_while(|l| !l.contains("panicked at"))
                .take(2)
                .collect();
            let _ = p;
            format!(
                "panicked: {}",
                crate::text::plugin_text(detail.join(" ").trim(), crate::text::MAX_PLUGIN_TEXT)
            )
        } else {
            format!("trapped: {}", text.lines().next().unwrap_or("unknown trap"))
        };
        let err = Error::new(
            ErrorKind::PluginTrap,
            format!(
                "plugin {} (sha256:{}) {reason} (in {call}); it was stopped",
                self.name,
                self.short_digest()
            ),
        );
        tracing::error!(plugin = %self.name, digest = %self.digest, call, error = %text, "plugin trapped");
        self.failed = Some(err.clone());
        err
    }

    /// The result of a guest call: a trap disables the plugin, an error value
    /// becomes a host error naming the plugin and the call.
    fn settle<T>(&mut self, call: &str, r: wasmtime::Result<Result<T, types::Error>>) -> Result<T> {
        match r {
            Ok(r) => r.map_err(|e| self.plugin_error(call, e)),
            Err(e) => Err(self.trapped(call, e)),
        }
    }

    fn plugin_error(&self, call: &str, e: types::Error) -> Error {
        let (kind, msg) = match e {
            types::Error::AccessDenied(m) => ("access-denied", m),
            types::Error::NotFound(m) => ("not-found", m),
            types::Error::InvalidInput(m) => ("invalid-input", m),
            types::Error::Unsupported(m) => ("unsupported", m),
            types::Error::Io(m) => ("io", m),
            types::Error::Timeout(m) => ("timeout", m),
            types::Error::LimitExceeded(m) => ("limit-exceeded", m),
            types::Error::Rejected(m) => ("rejected", m),
            types::Error::Internal(m) => ("internal", m),
        };
        let msg = crate::text::plugin_text(&msg, crate::text::MAX_PLUGIN_TEXT);
        let mut e = Error::new(
            ErrorKind::PluginError,
            format!(
                "plugin {} (sha256:{}) failed in {call}: {kind}: {msg}",
                self.name,
                self.short_digest()
            ),
        );
        // The WIT error case, so the host can act on it (and reports show it).
        e.code = Some(kind.to_owned());
        e
    }

    fn missing(&self, kind: Kind) -> Error {
        Error::new(
            ErrorKind::Project,
            format!(
                "plugin {} is not a {} plugin (it exports: {})",
                self.name,
                kind.world(),
                self.kinds
                    .iter()
                    .map(|k| k.world())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }

    /// Calls `describe` on whichever interface the plugin exports.
    pub async fn describe(&mut self) -> Result<PluginInfo> {
        self.arm("describe")?;
        macro_rules! describe {
            ($g:expr) => {
                if let Some(g) = &$g.source {
                    g.call_describe(&mut self.store).await
                } else if let Some(g) = &$g.target {
                    g.call_describe(&mut self.store).await
                } else if let Some(g) = &$g.rewrite {
                    g.call_describe(&mut self.store).await
                } else if let Some(g) = &$g.validator {
                    g.call_describe(&mut self.store).await
                } else {
                    return Err(Error::internal("plugin exports nothing"));
                }
            };
        }
        let r = match &self.guests {
            Guests::V0_2(g) => describe!(g),
            Guests::V0_3(g) => describe!(g),
        };
        r.map(PluginInfo::from)
            .map_err(|e| self.trapped("describe", e))
    }

    /// Calls `configure` on every interface the plugin exports.
    pub async fn configure(&mut self, params_json: &str) -> Result<()> {
        macro_rules! conf {
            ($g:expr) => {
                if let Some(g) = &$g {
                    self.arm("configure")?;
                    match g.call_configure(&mut self.store, params_json).await {
                        Ok(Ok(())) => {}
                        Ok(Err(types::Error::InvalidInput(m))) => {
                            return Err(Error::project(format!(
                                "plugin {} refused its params (check [plugins.{}.params]): {m}",
                                self.name, self.name
                            )))
                        }
                        Ok(Err(e)) => return Err(self.plugin_error("configure", e)),
                        Err(e) => return Err(self.trapped("configure", e)),
                    }
                }
            };
        }
        match self.guests.clone() {
            Guests::V0_2(g) => {
                conf!(g.source);
                conf!(g.target);
                conf!(g.rewrite);
                conf!(g.validator);
            }
            Guests::V0_3(g) => {
                conf!(g.source);
                conf!(g.target);
                conf!(g.rewrite);
                conf!(g.validator);
            }
        }
        Ok(())
    }

    /// `source-adapter.discover`.
    pub async fn discover(&mut self) -> Result<Vec<TableDef>> {
        self.arm("discover")?;
        let r = guest_call!(self, source, Kind::Source, |g| g
            .call_discover(&mut self.store)
            .await);
        self.settle("discover", r)
    }

    /// `source-adapter.plan-read`.
    pub async fn plan_read(&mut self, table: &str) -> Result<types::ReadPlan> {
        self.arm("plan-read")?;
        let r = guest_call!(self, source, Kind::Source, |g| g
            .call_plan_read(&mut self.store, table)
            .await
            .map(|r| r.map(Into::into)));
        self.settle("plan-read", r)
    }

    /// `source-adapter.open-reader`.
    pub async fn open_reader(&mut self, table: &str) -> Result<wasmtime::component::ResourceAny> {
        self.arm("open-reader")?;
        let r = guest_call!(self, source, Kind::Source, |g| g
            .call_open_reader(&mut self.store, table)
            .await);
        self.settle("open-reader", r)
    }

    /// `reader.next-batch` on a reader from [`Plugin::open_reader`].
    pub async fn reader_next(
        &mut self,
        reader: wasmtime::component::ResourceAny,
        max_rows: u32,
    ) -> Result<Option<types::Batch>> {
        self.arm("reader.next-batch")?;
        let r = guest_call!(self, source, Kind::Source, |g| g
            .reader()
            .call_next_batch(&mut self.store, reader, max_rows)
            .await);
        self.settle("reader.next-batch", r)
    }

    /// Drops a guest resource.
    pub async fn drop_resource(&mut self, r: wasmtime::component::ResourceAny) {
        if self.failed.is_none() {
            if let Err(e) = r.resource_drop_async(&mut self.store).await {
                let _ = self.trapped("resource drop", e);
            }
        }
    }

    /// `target-adapter.plan-write`. A 0.2 target's plan is always SQL.
    pub async fn plan_write(
        &mut self,
        table: &TableDef,
        mode: types::WriteMode,
    ) -> Result<types::WritePlan> {
        self.arm("plan-write")?;
        let r = guest_call!(self, target, Kind::Target, |g| g
            .call_plan_write(&mut self.store, table, mode.into())
            .await
            .map(|r| r.map(Into::into)));
        self.settle("plan-write", r)
    }

    /// `target-adapter.traits` (0.3); `None` for a 0.2 target, whose traits
    /// the host derives from its connection's dialect
    /// ([`types::TargetTraits::of_dialect`]).
    pub async fn traits(&mut self) -> Result<Option<types::TargetTraits>> {
        self.arm("traits")?;
        let g = match &self.guests {
            Guests::V0_2(g) => {
                return match g.target {
                    Some(_) => Ok(None),
                    None => Err(self.missing(Kind::Target)),
                }
            }
            Guests::V0_3(g) => g.target.as_ref(),
        };
        let g = g.ok_or_else(|| self.missing(Kind::Target))?;
        match g.call_traits(&mut self.store).await {
            Ok(t) => Ok(Some(t.into())),
            Err(e) => Err(self.trapped("traits", e)),
        }
    }

    fn target_v0_3(&self, call: &str) -> Result<v0_3::plugins::target_adapter::Guest> {
        match &self.guests {
            Guests::V0_3(g) => g.target.clone().ok_or_else(|| self.missing(Kind::Target)),
            Guests::V0_2(_) => Err(Error::new(
                ErrorKind::PluginError,
                format!(
                    "plugin {} speaks {}, which has no {call}",
                    self.name, self.contract
                ),
            )),
        }
    }

    /// `target-adapter.open-writer` (0.3).
    pub async fn open_writer(
        &mut self,
        table: &TableDef,
        mode: types::WriteMode,
    ) -> Result<wasmtime::component::ResourceAny> {
        self.arm("open-writer")?;
        let g = self.target_v0_3("open-writer")?;
        let r = g
            .call_open_writer(&mut self.store, table, mode.into())
            .await;
        self.settle("open-writer", r)
    }

    /// `table-writer.write` (0.3): the rows the writer refused.
    pub async fn writer_write(
        &mut self,
        writer: wasmtime::component::ResourceAny,
        rows: &types::Batch,
    ) -> Result<Vec<types::RowReject>> {
        self.arm("table-writer.write")?;
        let g = self.target_v0_3("table-writer.write")?;
        let r = g
            .table_writer()
            .call_write(&mut self.store, writer, rows)
            .await
            .map(|r| r.map(|v| v.into_iter().map(Into::into).collect()));
        self.settle("table-writer.write", r)
    }

    /// `table-writer.commit` (0.3).
    pub async fn writer_commit(
        &mut self,
        writer: wasmtime::component::ResourceAny,
    ) -> Result<types::CommitReceipt> {
        self.arm("table-writer.commit")?;
        let g = self.target_v0_3("table-writer.commit")?;
        let r = g
            .table_writer()
            .call_commit(&mut self.store, writer)
            .await
            .map(|r| r.map(Into::into));
        self.settle("table-writer.commit", r)
    }

    /// `table-writer.abort` (0.3).
    pub async fn writer_abort(&mut self, writer: wasmtime::component::ResourceAny) -> Result<()> {
        self.arm("table-writer.abort")?;
        let g = self.target_v0_3("table-writer.abort")?;
        let r = g.table_writer().call_abort(&mut self.store, writer).await;
        r.map_err(|e| self.trapped("table-writer.abort", e))
    }

    /// `target-adapter.finish` (0.3): lines for the report.
    pub async fn finish(&mut self, tables: &[String]) -> Result<Vec<String>> {
        self.arm("finish")?;
        let g = self.target_v0_3("finish")?;
        let r = g.call_finish(&mut self.store, tables).await;
        self.settle("finish", r)
    }

    /// `rewriter.rewrite`; checks that one outcome comes back per value.
    pub async fn rewrite(&mut self, values: &[types::Value]) -> Result<Vec<types::Outcome>> {
        self.arm("rewrite")?;
        let r = guest_call!(self, rewrite, Kind::Rewrite, |g| g
            .call_rewrite(&mut self.store, values)
            .await
            .map(|r| r.map(|v| v.into_iter().map(Into::into).collect::<Vec<_>>())));
        let out = self.settle("rewrite", r)?;
        if out.len() != values.len() {
            return Err(Error::new(
                ErrorKind::PluginError,
                format!(
                    "plugin {} returned {} outcomes for {} values in rewrite",
                    self.name,
                    out.len(),
                    values.len()
                ),
            ));
        }
        Ok(out)
    }

    /// `validation.validate`.
    pub async fn validate(&mut self, tables: &[types::TablePair]) -> Result<Vec<types::Finding>> {
        self.arm("validate")?;
        let r = guest_call!(self, validator, Kind::Validator, |g| g
            .call_validate(
                &mut self.store,
                &tables.iter().cloned().map(Into::into).collect::<Vec<_>>()
            )
            .await
            .map(|r| r.map(|v| v.into_iter().map(Into::into).collect::<Vec<_>>())));
        self.settle("validate", r)
    }
}

/// The exports of a component, by the contract version it speaks.
#[derive(Clone)]
enum Guests {
    V0_2(v0_2::Guests),
    V0_3(v0_3::Guests),
}
