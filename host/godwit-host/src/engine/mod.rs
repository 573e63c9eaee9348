//! The engine: plans, runs and validates a project's steps.
//!
//! A [`Session`] is one command invocation: it owns the runtime, the lazily
//! opened connections and stores, and the plugin instances. Plugins decide
//! (schema, SQL, DDL, rewrites, findings); the engine moves the rows host to
//! host, lifting into Wasm only the columns a rewrite rule must see.

mod cast;
mod copy;
mod fill;
mod mapping;
mod order;
mod pipeline;
mod plan;
pub mod profile;
mod report;
mod run;
mod sink;
mod stages;
pub use crate::model::Staging;
mod state;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::caps::blob::BlobStore;
use crate::caps::sql::LazyDatabase;
use crate::caps::PluginContext;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::Limits;
use crate::project::{PluginSource, Project};
use crate::runtime::{Compiled, Kind, Plugin, PluginInfo, Runtime};

pub use crate::text::parse_offset;
pub use plan::{Plan, PlannedCopy, PlannedStep, PlannedTable, PlannedValidator, SampleRewrite};
pub use report::{
    orphan_line, rewrite_line, skipped_line, unreadable_line, CopyReport, FindingReport,
    OrphanReport, PluginReport, RewriteReport, RunReport, Skipped, StartReport, StepReport,
    TableReport, ValidationReport, REPORT_SCHEMA,
};

/// Receives progress while a session works (the CLI draws progress bars).
pub trait Observer: Send + Sync {
    /// A table copy starts; `estimate` is the expected row count if known.
    fn table_started(&self, _step: &str, _table: &str, _estimate: Option<u64>) {}
    /// Rows were written.
    fn rows_written(&self, _rows: u64) {}
    /// A table copy ended.
    fn table_finished(&self, _report: &TableReport) {}
    /// A blob copy starts: `objects` to consider, `bytes` in total.
    fn copy_started(&self, _step: &str, _objects: u64, _bytes: u64) {}
    /// Object bytes were streamed to the target.
    fn bytes_copied(&self, _bytes: u64) {}
    /// An object was found already present and unchanged (`bytes` long).
    fn object_skipped(&self, _bytes: u64) {}
    /// A blob copy ended.
    fn copy_finished(&self, _report: &CopyReport) {}
    /// The checks before writing ran (before any copy or step).
    fn checks_before(&self, _report: &report::ValidationReport) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// A loaded plugin instance with what it was granted.
pub struct Loaded {
    /// The instance (locked per call).
    pub plugin: Mutex<Plugin>,
    /// What it said about itself.
    pub info: PluginInfo,
    /// Its component digest.
    pub digest: String,
    /// How long it took to start.
    pub start: StartReport,
    /// Where its code came from and who reviewed it.
    pub origin: Origin,
    /// Labels granted per capability kind: `(kind, label, resource name)`.
    pub granted: Vec<(String, String, String)>,
    /// Requested labels the project did not grant.
    pub not_granted: Vec<(String, String)>,
    /// Labels the project granted that the plugin never requested (ignored).
    pub unrequested: Vec<(String, String)>,
    /// Resolved connections by label.
    sql: BTreeMap<String, Arc<LazyDatabase>>,
}

impl Loaded {
    /// The dialects of every SQL connection granted to this plugin, as far
    /// as the DSNs say (no connection is opened).
    pub fn dialects(&self) -> Vec<crate::model::Dialect> {
        let mut out: Vec<_> = self.sql.values().filter_map(|l| l.dialect()).collect();
        out.dedup();
        out
    }

    /// The connection behind `label`, if this plugin was granted it.
    pub fn connection(&self, label: &str) -> Result<Arc<LazyDatabase>> {
        self.sql.get(label).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::PluginError,
                format!(
                    "plugin {} asked the host to use connection label {label:?}, which is not granted to it: access-denied",
                    self.info.name
                ),
            )
        })
    }
}

/// One command invocation over a project.
pub struct Session {
    /// The project.
    pub project: Project,
    /// True for `plan`: databases open read-only, nothing is written.
    pub dry_run: bool,
    /// Ignore saved progress of an interrupted run and start over.
    pub fresh: bool,
    /// This invocation's run directory (report, rejects, log); created when
    /// something is first written to it.
    pub run_dir: std::path::PathBuf,
    /// When this invocation started (µs since the Unix epoch): `now()` in
    /// fills, the same instant in every row and table.
    pub started_us: i64,
    runtime: Runtime,
    connections: BTreeMap<String, Arc<LazyDatabase>>,
    stores: BTreeMap<String, Arc<BlobStore>>,
    compiled: Mutex<BTreeMap<String, Compiled>>,
    origins: Mutex<BTreeMap<String, Origin>>,
    plugins: Mutex<BTreeMap<String, Arc<Loaded>>>,
    observer: Arc<dyn Observer>,
}

/// Fault injection for the kill-point tests: when `GODWIT_KILL_AT` is
/// `PHASE` or `PHASE:TABLE` or `PHASE:TABLE:N` and matches the point
/// reached, the process aborts on the spot (as `kill -9` would, nothing is
/// flushed or cleaned up). Phases: `ddl` (after a table's DDL), `data`
/// (after a table's first batch, before commit), `loaded` (after the commit,
/// before its progress is recorded), `post` and `constraints` (before
/// statement N; `N` = `max` after the last, before progress), `post-ran`
/// and `constraints-ran` (after statement N ran, before it is recorded). Unset, it
/// costs one environment lookup per process.
pub(crate) fn killpoint(phase: &str, table: &str, n: usize) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let Some(at) = AT.get_or_init(|| std::env::var("GODWIT_KILL_AT").ok()) else {
        return;
    };
    let n = if n == usize::MAX {
        "max".to_owned()
    } else {
        n.to_string()
    };
    let mut parts = at.split(':');
    let matches = parts.next() == Some(phase)
        && parts.next().is_none_or(|t| t == table)
        && parts.next().is_none_or(|x| x == n);
    if matches {
        eprintln!("GODWIT_KILL_AT={at}: aborting at {phase}:{table}:{n}");
        std::process::abort();
    }
}

/// The connections a step's target plugin is granted.
fn writable_connections(project: &Project) -> std::collections::BTreeSet<String> {
    project
        .steps
        .iter()
        .filter_map(|s| project.plugins.get(&s.target))
        .flat_map(|p| p.grants_of("sql").values().cloned())
        .collect()
}

impl Session {
    /// Prepares a session; nothing is opened or instantiated yet.
    pub fn new(
        project: Project,
        runtime: Runtime,
        dry_run: bool,
        observer: Arc<dyn Observer>,
    ) -> Result<Self> {
        // Only the connections a step's target plugin is granted can be
        // written; every other one (sources, validators' views) is opened
        // read-only at the engine level.
        let writable = writable_connections(&project);
        let connections = project
            .connections
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    Arc::new(LazyDatabase::new(
                        name,
                        c.dsn.clone(),
                        &project.dir,
                        dry_run || !writable.contains(name),
                        project.strict,
                    )),
                )
            })
            .collect();
        let mut stores = BTreeMap::new();
        for (name, s) in &project.stores {
            stores.insert(name.clone(), Arc::new(BlobStore::open(name, s, dry_run)?));
        }
        let run_dir = unique_run_dir(&project.reports_dir);
        Ok(Self {
            project,
            dry_run,
            fresh: false,
            run_dir,
            started_us: chrono::Utc::now().timestamp_micros(),
            runtime,
            connections,
            stores,
            compiled: Mutex::new(BTreeMap::new()),
            origins: Mutex::new(BTreeMap::new()),
            plugins: Mutex::new(BTreeMap::new()),
            observer,
        })
    }

    /// Verifies, compiles, instantiates and configures every plugin of the
    /// project before anything is read or written: a bundle that is
    /// unsigned, untrusted, tampered with, changed since `godwit.lock`, or
    /// asking for capabilities its reviewers did not sign stops the command
    /// here, as does a plugin refusing its parameters.
    pub async fn preflight(&self) -> Result<()> {
        // Connections only ever read (granted, but to no step's target) are
        // opened first: a role that could bypass read-only transactions is
        // named (or, with --strict, refused) before any plugin runs.
        let writable = self.writable_connections();
        let granted: std::collections::BTreeSet<&String> = self
            .project
            .plugins
            .values()
            .flat_map(|p| p.grants_of("sql").values())
            .collect();
        for name in granted {
            if !writable.contains(name) {
                if let Some(c) = self.connections.get(name) {
                    c.get().await?;
                }
            }
        }
        // A copy from a local folder that does not exist would copy "0
        // objects" and pass: a typo in `root` is refused here instead.
        for copy in &self.project.copies {
            if let Some(crate::project::StoreKind::Fs { root }) =
                self.project.stores.get(&copy.from).map(|s| &s.kind)
            {
                if !root.is_dir() {
                    let near = root
                        .parent()
                        .and_then(|p| std::fs::read_dir(p).ok())
                        .map(|entries| {
                            let names: Vec<String> = entries
                                .flatten()
                                .filter(|e| e.path().is_dir())
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .collect();
                            let file = root
                                .file_name()
                                .map(|f| f.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            did_you_mean(&file, names.iter().map(String::as_str))
                        })
                        .unwrap_or_default();
                    return Err(Error::project(format!(
                        "copy {}: the root of store {} ({}) {}{near}",
                        copy.name,
                        copy.from,
                        root.display(),
                        if root.exists() {
                            "is not a folder"
                        } else {
                            "does not exist"
                        }
                    )));
                }
            }
        }
        for name in self.project.plugins.keys() {
            self.load(name).await?;
        }
        Ok(())
    }

    /// The connections a step's target plugin is granted: the only ones a
    /// run may write.
    fn writable_connections(&self) -> std::collections::BTreeSet<String> {
        writable_connections(&self.project)
    }

    /// Compiles a plugin's component (once per session).
    pub async fn compiled(&self, instance: &str) -> Result<Compiled> {
        let spec = self
            .project
            .plugins
            .get(instance)
            .ok_or_else(|| Error::project(format!("no plugin named {instance:?}")))?;
        let mut cache = self.compiled.lock().await;
        if let Some(c) = cache.get(instance) {
            return Ok(c.clone());
        }
        let verified = plugin_bytes(&self.project, &spec.source, self.dry_run)?;
        // Compiled from exactly the bytes that were verified.
        let compiled = self.runtime.compile(
            &format!("{instance} ({})", verified.origin),
            &verified.bytes,
        )?;
        if let Some(worlds) = &verified.reviewed_worlds {
            if let Some(k) = compiled
                .kinds
                .iter()
                .find(|k| !worlds.iter().any(|w| w == k.world()))
            {
                return Err(Error::new(
                    ErrorKind::PluginLoad,
                    format!(
                        "plugin {instance} ({}): exports the {} world, which its reviewed manifest does not list",
                        verified.origin,
                        k.world()
                    ),
                ));
            }
        }
        self.origins.lock().await.insert(
            instance.to_owned(),
            Origin {
                origin: verified.origin,
                signers: verified.signers,
                reviewed_requests: verified.reviewed_requests,
            },
        );
        cache.insert(instance.to_owned(), compiled.clone());
        Ok(compiled)
    }

    /// The plugin instance `name`, instantiated, described, granted and
    /// configured on first use. Fails if it does not export `kind`.
    pub async fn plugin(&self, name: &str, kind: Kind) -> Result<Arc<Loaded>> {
        let p = self.load(name).await?;
        self.check_kind(p, name, kind).await
    }

    /// The plugin instance `name`, whatever its kind (see [`Session::plugin`]).
    pub async fn load(&self, name: &str) -> Result<Arc<Loaded>> {
        if let Some(p) = self.plugins.lock().await.get(name) {
            return Ok(p.clone());
        }
        if !self.project.plugins.contains_key(name) {
            return Err(Error::project(format!(
                "no plugin named {name:?} in the project"
            )));
        }
        let spec = self.project.plugins[name].clone();
        let compiled = self.compiled(name).await?;
        let limits = Limits::from_spec(&spec.limits);
        let started = std::time::Instant::now();
        let mut plugin = self.runtime.instantiate(name, &compiled, limits).await?;
        let start = StartReport {
            from_cache: compiled.from_cache,
            compile_ms: compiled.compile_time.as_secs_f64() * 1e3,
            instantiate_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        let info = plugin.describe().await?;
        let origin = self
            .origins
            .lock()
            .await
            .get(name)
            .cloned()
            .unwrap_or_default();
        // A bundled plugin gets at most the capabilities its reviewers signed.
        if let Some(reviewed) = &origin.reviewed_requests {
            if let Some(r) = info.requests.iter().find(|r| {
                !reviewed
                    .iter()
                    .any(|x| x.kind == r.kind && x.label == r.label)
            }) {
                return Err(Error::new(
                    ErrorKind::PluginLoad,
                    format!(
                        "plugin {name} ({}) requests {}:{}, which its reviewed manifest does not list",
                        origin.origin, r.kind, r.label
                    ),
                ));
            }
        }

        let mut ctx = PluginContext {
            // Only a step's target may write through its grants.
            sql_read_only: !self.project.steps.iter().any(|s| s.target == name),
            ..PluginContext::default()
        };
        let (mut granted, mut not_granted, mut unrequested) = (Vec::new(), Vec::new(), Vec::new());
        let resources = crate::caps::Resources {
            connections: &self.connections,
            stores: &self.stores,
            hosts: &self.project.hosts,
        };
        for r in &info.requests {
            let bound = spec
                .grants_of(&r.kind)
                .get(&r.label)
                .filter(|res| crate::caps::bind(&r.kind, &mut ctx, &resources, &r.label, res));
            match bound {
                Some(res) => granted.push((r.kind.clone(), r.label.clone(), res.clone())),
                None => not_granted.push((r.kind.clone(), r.label.clone())),
            }
        }
        let requested = |kind: &str, label: &str| {
            info.requests
                .iter()
                .any(|r| r.kind == kind && r.label == label)
        };
        for (kind, labels) in &spec.grants {
            if kind == crate::caps::pipeline::KIND {
                continue;
            }
            for label in labels.keys().filter(|l| !requested(kind, l)) {
                tracing::warn!(
                    plugin = name,
                    kind = %kind,
                    label,
                    "granted label was not requested by the plugin; ignored"
                );
                unrequested.push((kind.clone(), label.clone()));
            }
        }
        self.bind_pipelines(
            name,
            &plugin,
            &spec,
            &mut ctx,
            &mut granted,
            &mut unrequested,
        )
        .await?;
        // A grant under a label the plugin does not request, while a label
        // it does request of the same kind goes ungranted, is a typo that
        // would only surface as access-denied in the middle of a run.
        let mut typos = Vec::new();
        for (kind, label) in &unrequested {
            let missing: Vec<&String> = not_granted
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, l)| l)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let closest = missing
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(label, a).total_cmp(&strsim::jaro_winkler(label, b))
                })
                .expect("not empty");
            let purposes: Vec<String> = info
                .requests
                .iter()
                .filter(|r| &r.kind == kind && missing.contains(&&r.label))
                .map(|r| format!("{:?} ({})", r.label, r.purpose))
                .collect();
            typos.push(format!(
                "grants.{kind} names {label:?}, which plugin {name} does not request, and it \
                 requests {} without a grant: did you mean grants.{kind} = {{ {closest} = ... }}?",
                purposes.join(", ")
            ));
        }
        if !typos.is_empty() {
            return Err(Error::project(format!(
                "plugin {name}: {}",
                typos.join("; ")
            )));
        }
        let sql = ctx.sql.clone();
        plugin.set_context(ctx);
        plugin.configure(&spec.params_json).await?;
        tracing::info!(plugin = name, digest = %compiled.digest, version = %info.version, "plugin ready");
        let loaded = Arc::new(Loaded {
            plugin: Mutex::new(plugin),
            info,
            origin,
            digest: compiled.digest.clone(),
            start,
            granted,
            not_granted,
            unrequested,
            sql,
        });
        self.plugins
            .lock()
            .await
            .insert(name.to_owned(), loaded.clone());
        Ok(loaded)
    }

    /// The `pipeline` grants of plugin `name`: for each granted step, its
    /// source and rules are loaded and the step's pipelines put into `ctx`.
    /// The component's import of the interface is its request. A plugin
    /// that takes part in a step (source, target, rule) cannot be granted
    /// a pipeline: its own calls would wait on themselves.
    async fn bind_pipelines(
        &self,
        name: &str,
        plugin: &crate::runtime::Plugin,
        spec: &crate::project::PluginInstance,
        ctx: &mut PluginContext,
        granted: &mut Vec<(String, String, String)>,
        unrequested: &mut Vec<(String, String)>,
    ) -> Result<()> {
        use crate::caps::pipeline::KIND;
        let steps = spec.grants_of(KIND);
        if steps.is_empty() {
            return Ok(());
        }
        if !plugin.imports(KIND) {
            for step in steps.keys() {
                tracing::warn!(
                    plugin = name,
                    step,
                    "granted a step's pipeline, but the plugin does not import the pipeline interface; ignored"
                );
                unrequested.push((KIND.to_owned(), step.clone()));
            }
            return Ok(());
        }
        let takes_part = self.project.steps.iter().find(|s| {
            s.source == name || s.target == name || s.rewrites.iter().any(|r| r.rule == name)
        });
        if let Some(s) = takes_part {
            return Err(Error::project(format!(
                "plugin {name}: grants.pipeline is for validators, and {name} takes part in step {}                  (as its source, target or a rule); give the validator an instance of its own",
                s.name
            )));
        }
        for step_name in steps.keys() {
            let step = self
                .project
                .steps
                .iter()
                .find(|s| &s.name == step_name)
                .expect("checked by the project parser");
            // Boxed: loading a plugin loads these, which never have a
            // pipeline grant themselves (checked above), so this recursion
            // is one level deep.
            let source = Box::pin(self.plugin(&step.source, Kind::Source)).await?;
            let mut rules = BTreeMap::new();
            for r in &step.rewrites {
                if !rules.contains_key(&r.rule) {
                    let rule = Box::pin(self.plugin(&r.rule, Kind::Rewrite)).await?;
                    rules.insert(r.rule.clone(), rule);
                }
            }
            let pipes = pipeline::GrantedStep {
                step: step.clone(),
                source,
                rules,
                tables: Default::default(),
            };
            ctx.pipelines.push((step_name.clone(), Arc::new(pipes)));
            granted.push((KIND.to_owned(), step_name.clone(), step_name.clone()));
        }
        Ok(())
    }

    async fn check_kind(&self, p: Arc<Loaded>, name: &str, kind: Kind) -> Result<Arc<Loaded>> {
        let kinds = p.plugin.lock().await.kinds.clone();
        if !kinds.contains(&kind) {
            return Err(Error::project(format!(
                "plugin {name} is used as a {} plugin but exports only: {}",
                kind.world(),
                kinds
                    .iter()
                    .map(|k| k.world())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(p)
    }

    /// Reports on every plugin loaded so far.
    pub async fn plugin_reports(&self) -> Vec<PluginReport> {
        let plugins = self.plugins.lock().await;
        let mut out = Vec::new();
        for (name, p) in plugins.iter() {
            let guard = p.plugin.lock().await;
            out.push(PluginReport {
                instance: name.clone(),
                origin: p.origin.origin.clone(),
                signers: p.origin.signers.clone(),
                name: p.info.name.clone(),
                version: p.info.version.clone(),
                digest: p.digest.clone(),
                start: p.start,
                kinds: guard.kinds.clone(),
                granted: p
                    .granted
                    .iter()
                    .map(|(k, l, r)| format!("{k}:{l} -> {r}"))
                    .collect(),
                not_granted: p
                    .not_granted
                    .iter()
                    .map(|(k, l)| format!("{k}:{l}"))
                    .collect(),
                ignored_grants: p
                    .unrequested
                    .iter()
                    .map(|(k, l)| format!("{k}:{l}"))
                    .collect(),
                limits: guard.limits,
            });
        }
        out
    }
}

/// `<reports_dir>/<UTC time>`, with a suffix if two commands start in the
/// same second.
fn unique_run_dir(reports_dir: &std::path::Path) -> std::path::PathBuf {
    let id = run::run_id();
    let mut dir = reports_dir.join(&id);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = reports_dir.join(format!("{id}-{n}"));
    }
    dir
}

/// Where a plugin's code came from and who vouches for it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// `builtin:NAME`, `bundle NAME VERSION (sha256:…)`, or a file path
    /// marked unsigned.
    pub origin: String,
    /// Trusted reviewers whose signatures were verified (bundles).
    pub signers: Vec<String>,
    /// The capabilities the reviewed manifest lists (bundles only).
    pub reviewed_requests: Option<Vec<crate::bundle::Request>>,
}

/// A plugin's bytes after every check its source calls for.
pub struct VerifiedBytes {
    /// Description of the source.
    pub origin: String,
    /// The component.
    pub bytes: Vec<u8>,
    /// Trusted signers (bundles).
    pub signers: Vec<String>,
    /// Reviewed capabilities (bundles).
    pub reviewed_requests: Option<Vec<crate::bundle::Request>>,
    /// Reviewed worlds (bundles).
    pub reviewed_worlds: Option<Vec<String>>,
}

/// The bytes of a plugin: built-ins as embedded; bundle components only
/// after integrity, signature, trust and lockfile checks (`godwit.lock` is
/// written on first use unless `dry_run`); unsigned files only with the
/// project's development opt-in (checked when the project was parsed).
pub fn plugin_bytes(
    project: &Project,
    source: &PluginSource,
    dry_run: bool,
) -> Result<VerifiedBytes> {
    let plain = |origin: String, bytes: Vec<u8>| VerifiedBytes {
        origin,
        bytes,
        signers: Vec::new(),
        reviewed_requests: None,
        reviewed_worlds: None,
    };
    match source {
        PluginSource::Builtin(name) => crate::builtin::bytes(name)
            .map(|b| plain(format!("builtin:{name}"), b.to_vec()))
            .ok_or_else(|| Error::project(format!("unknown built-in plugin {name:?}"))),
        PluginSource::File(path) => std::fs::read(path)
            .map(|b| plain(format!("{} (unsigned, development)", path.display()), b))
            .map_err(|e| {
                Error::new(
                    ErrorKind::PluginLoad,
                    format!("cannot read plugin {}: {e}", path.display()),
                )
            }),
        PluginSource::Bundle {
            path,
            rel,
            component,
        } => {
            let mut bundle = crate::bundle::Bundle::read(path)?;
            let signers = bundle.trust(&project.trust.keys, project.trust.min_signatures)?;
            crate::bundle::check_lock(&project.dir, rel, &bundle, &signers, dry_run)?;
            let entry = bundle
                .manifest
                .components
                .iter()
                .find(|c| &c.name == component)
                .cloned()
                .ok_or_else(|| {
                    Error::project(format!(
                        "bundle {rel} has no component {component:?} (it has: {})",
                        bundle
                            .manifest
                            .components
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            let bytes = bundle
                .components
                .remove(component)
                .expect("every manifest component was read");
            Ok(VerifiedBytes {
                origin: format!(
                    "bundle {} {} ({}), component {component}",
                    bundle.manifest.name,
                    bundle.manifest.version,
                    bundle.digest()
                ),
                bytes,
                signers,
                reviewed_requests: Some(entry.requests),
                reviewed_worlds: Some(entry.worlds),
            })
        }
    }
}

/// Names of the source tables a step copies, after `tables`/`exclude`, with
/// views set aside. Unknown names in `tables` are an error.
pub(crate) fn select_tables(
    step: &crate::project::Step,
    discovered: Vec<crate::model::TableDef>,
) -> Result<(Vec<crate::model::TableDef>, Vec<String>)> {
    let (views, tables): (Vec<_>, Vec<_>) = discovered.into_iter().partition(|t| t.is_view);
    for name in step
        .exclude
        .iter()
        .filter(|n| !tables.iter().chain(&views).any(|t| &t.name == *n))
    {
        // Harmless (the table is not copied either way), but likely a typo.
        tracing::warn!(
            step = %step.name,
            "exclude {name:?}: the source has no such table{}",
            did_you_mean(name, tables.iter().map(|t| t.name.as_str()))
        );
    }
    let mut selected: Vec<_> = match &step.tables {
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                match tables.iter().find(|t| &t.name == n) {
                    Some(t) => out.push(t.clone()),
                    None => {
                        return Err(Error::project(format!(
                            "step {}: table {n:?} is not in the source (found: {})",
                            step.name,
                            tables
                                .iter()
                                .map(|t| t.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                }
            }
            out
        }
        None => tables,
    };
    selected.retain(|t| !step.exclude.contains(&t.name));
    for r in &step.rewrites {
        let Some(t) = selected.iter().find(|t| t.name == r.table) else {
            return Err(Error::project(format!(
                "step {}: rewrite of {}.{}: table {:?} is not copied by this step",
                step.name, r.table, r.column, r.table
            )));
        };
        if !t.columns.iter().any(|c| c.name == r.column) {
            return Err(Error::project(format!(
                "step {}: rewrite of {}.{}: table {} has no column {:?}",
                step.name, r.table, r.column, r.table, r.column
            )));
        }
    }
    // Names the step's options give must name something: an option that
    // matches nothing would be ignored, and the run pass on a typo.
    let mut unknown = Vec::new();
    let column_keys = step
        .column_renames
        .keys()
        .map(|k| ("columns", k.clone()))
        .chain(
            step.drop_columns
                .iter()
                .map(|k| ("drop_columns", k.clone())),
        );
    let casts = step.casts.iter().filter_map(|c| match &c.matches {
        crate::project::CastMatch::Column(t, k) => Some(("casts", format!("{t}.{k}"))),
        crate::project::CastMatch::NativeType(_) => None,
    });
    for (option, key) in column_keys.chain(casts) {
        let (t, c) = key
            .split_once('.')
            .expect("checked when the project was read");
        match selected.iter().find(|s| s.name == t) {
            None => unknown.push(format!(
                "{option} {key:?}: table {t:?} is not copied by this step{}",
                did_you_mean(t, selected.iter().map(|s| s.name.as_str()))
            )),
            Some(table) if !table.columns.iter().any(|x| x.name == c) => unknown.push(format!(
                "{option} {key:?}: table {t} has no column {c:?}{}",
                did_you_mean(c, table.columns.iter().map(|x| x.name.as_str()))
            )),
            Some(_) => {}
        }
    }
    for c in &step.casts {
        if let crate::project::CastMatch::NativeType(n) = &c.matches {
            let used = selected.iter().any(|t| {
                t.columns
                    .iter()
                    .any(|x| c.applies(&t.name, &x.name, &x.native_type))
            });
            if !used {
                let mut types: Vec<&str> = selected
                    .iter()
                    .flat_map(|t| t.columns.iter().map(|x| x.native_type.as_str()))
                    .collect();
                types.sort_unstable();
                types.dedup();
                unknown.push(format!(
                    "casts: type {n:?} matches no column of the step's tables{}",
                    did_you_mean(n, types.into_iter())
                ));
            }
        }
    }
    for source in step.rename.keys() {
        if !selected.iter().any(|s| &s.name == source) {
            unknown.push(format!(
                "rename {source:?}: table {source:?} is not copied by this step{}",
                did_you_mean(source, selected.iter().map(|s| s.name.as_str()))
            ));
        }
    }
    if !unknown.is_empty() {
        return Err(Error::project(format!(
            "step {}:\n  - {}",
            step.name,
            unknown.join("\n  - ")
        )));
    }
    for key in step.fills.keys() {
        let (t, _) = key
            .split_once('.')
            .expect("checked when the project was read");
        if !selected.iter().any(|s| s.name == t) {
            return Err(Error::project(format!(
                "step {}: fill {key:?}: table {t:?} is not copied by this step (fill keys are \
                 \"<source table>.<target column>\")",
                step.name
            )));
        }
    }
    Ok((selected, views.into_iter().map(|v| v.name).collect()))
}

/// `" (did you mean \"x\"?)"` for the candidate closest to `name`, when one
/// is close enough to be a likely typo; else nothing.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    /// Jaro-Winkler similarity from which a candidate is offered (clap's
    /// threshold for its own suggestions).
    const LIKELY_TYPO: f64 = 0.7;
    candidates
        .map(|c| {
            let score = strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
            (score, c)
        })
        .filter(|(score, _)| *score >= LIKELY_TYPO)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default()
}
