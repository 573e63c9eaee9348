//! `init`, `plugins list|inspect` and `plugin new`: project and plugin
//! scaffolding and introspection.

use std::path::{Path, PathBuf};

use godwit_host::engine::Session;
use godwit_host::limits::Limits;
use godwit_host::runtime::{PluginInfo, Runtime};
use godwit_host::{builtin, project, Error, ErrorKind};
use serde::Serialize;

use crate::ScaffoldKind;

/// The starter project written by `godwit init`.
pub const PROJECT_TEMPLATE: &str = include_str!("templates/godwit.toml");

/// A plugin in `plugins list`.
#[derive(Serialize)]
pub struct ListedPlugin {
    /// `builtin:NAME` or the project instance name.
    pub reference: String,
    /// Exported kinds.
    pub kinds: Vec<String>,
    /// The contract version it is built against (`godwit:plugin@0.3.0`).
    pub contract: String,
    /// Version from `describe`.
    pub version: String,
    /// Component digest.
    pub digest: String,
    /// Description from `describe`.
    pub description: String,
}

/// Details for `plugins inspect`.
#[derive(Serialize)]
pub struct InspectInfo {
    /// What was inspected.
    pub reference: String,
    /// The contract version (WIT package) it is built against.
    pub wit_package: String,
    /// Worlds it implements.
    pub worlds: Vec<String>,
    /// The godwit interfaces it imports (`sql`, `pipeline`, ...).
    pub imports: Vec<String>,
    /// Component digest.
    pub digest: String,
    /// What it says about itself.
    pub info: PluginInfo,
    /// Grants in effect (project instances only).
    pub granted: Option<Vec<String>>,
    /// Requested but not granted (project instances only).
    pub not_granted: Option<Vec<String>>,
    /// Limits (project instances: as configured; otherwise the defaults).
    pub limits: Option<Limits>,
}

async fn describe_bytes(
    runtime: &Runtime,
    origin: &str,
    bytes: &[u8],
) -> Result<(Vec<String>, String, PluginInfo, String, Vec<String>), Error> {
    let compiled = runtime.compile(origin, bytes)?;
    let mut plugin = runtime
        .instantiate(origin, &compiled, Limits::from_spec(&Default::default()))
        .await?;
    let info = plugin.describe().await?;
    Ok((
        compiled
            .kinds
            .iter()
            .map(|k| k.world().to_owned())
            .collect(),
        compiled.digest,
        info,
        compiled.contract.package().to_owned(),
        plugin.imported().to_vec(),
    ))
}

/// Built-in plugins plus the project's, if `dir` holds a project.
pub async fn list_plugins(dir: &Path) -> Result<Vec<ListedPlugin>, Error> {
    let runtime = Runtime::new(Runtime::default_cache_dir())?;
    let mut out = Vec::new();
    for name in builtin::names() {
        let bytes = builtin::bytes(name).expect("listed");
        let (kinds, digest, info, contract, _) =
            describe_bytes(&runtime, &format!("builtin:{name}"), bytes).await?;
        out.push(ListedPlugin {
            reference: format!("builtin:{name}"),
            kinds,
            contract,
            version: info.version,
            digest,
            description: info.description,
        });
    }
    if dir.join(project::PROJECT_FILE).exists() {
        let project = project::load(dir)?;
        for (name, spec) in &project.plugins {
            let v = godwit_host::engine::plugin_bytes(&project, &spec.source, true)?;
            let (kinds, digest, info, contract, _) =
                describe_bytes(&runtime, &format!("{name} ({})", v.origin), &v.bytes).await?;
            out.push(ListedPlugin {
                reference: name.clone(),
                kinds,
                contract,
                version: info.version,
                digest,
                description: info.description,
            });
        }
    }
    Ok(out)
}

/// Inspects a project plugin instance, a built-in, or a component file.
pub async fn inspect(reference: &str, dir: &Path) -> Result<InspectInfo, Error> {
    if dir.join(project::PROJECT_FILE).exists() {
        let project = project::load(dir)?;
        if project.plugins.contains_key(reference) {
            let session = Session::new(
                project,
                Runtime::new(Runtime::default_cache_dir())?,
                true,
                std::sync::Arc::new(godwit_host::engine::Silent),
            )?;
            let loaded = session.load(reference).await?;
            let report = session
                .plugin_reports()
                .await
                .into_iter()
                .find(|r| r.instance == reference)
                .expect("loaded");
            let (wit_package, imports) = {
                let plugin = loaded.plugin.lock().await;
                (
                    plugin.contract.package().to_owned(),
                    plugin.imported().to_vec(),
                )
            };
            return Ok(InspectInfo {
                reference: reference.to_owned(),
                wit_package,
                worlds: report.kinds.iter().map(|k| k.world().to_owned()).collect(),
                imports,
                digest: loaded.digest.clone(),
                info: loaded.info.clone(),
                granted: Some(report.granted),
                not_granted: Some(report.not_granted),
                limits: Some(report.limits),
            });
        }
    }
    let runtime = Runtime::new(Runtime::default_cache_dir())?;
    let bytes = if let Some(b) = builtin::bytes(reference.trim_start_matches("builtin:")) {
        b.to_vec()
    } else if Path::new(reference).is_file() {
        std::fs::read(reference).map_err(|e| Error::io(format!("{reference}: {e}")))?
    } else {
        return Err(Error::project(format!(
            "no plugin {reference:?}: not a plugin of the project in {}, not a built-in ({}), not a file",
            dir.display(),
            builtin::names().join(", ")
        )));
    };
    let (worlds, digest, info, contract, imports) =
        describe_bytes(&runtime, reference, &bytes).await?;
    Ok(InspectInfo {
        reference: reference.to_owned(),
        wit_package: contract,
        worlds,
        imports,
        digest,
        info,
        granted: None,
        not_granted: None,
        limits: Some(Limits::from_spec(&Default::default())),
    })
}

/// The SDK this binary was built from.
fn default_sdk() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
    p.canonicalize().unwrap_or(p)
}

/// Creates `dir/name`, a plugin crate of `kind`.
pub fn new_plugin(
    name: &str,
    kind: ScaffoldKind,
    dir: &Path,
    sdk: Option<PathBuf>,
) -> Result<PathBuf, Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(crate::usage(format!(
            "plugin name {name:?}: use letters, digits, - and _"
        )));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(crate::usage(format!("{} already exists", root.display())));
    }
    let sdk = sdk.unwrap_or_else(default_sdk);
    if !sdk.join("Cargo.toml").exists() {
        return Err(crate::usage(format!(
            "no godwit-sdk at {} (pass --sdk PATH)",
            sdk.display()
        )));
    }
    let io = |e: std::io::Error| Error::new(ErrorKind::Io, format!("{}: {e}", root.display()));
    std::fs::create_dir_all(root.join("src")).map_err(io)?;
    std::fs::create_dir_all(root.join(".cargo")).map_err(io)?;
    let cargo = include_str!("templates/Cargo.toml.tmpl")
        .replace("{{name}}", name)
        .replace("{{sdk}}", &sdk.display().to_string().replace('\\', "/"));
    std::fs::write(root.join("Cargo.toml"), cargo).map_err(io)?;
    std::fs::write(
        root.join(".cargo/config.toml"),
        "[build]\ntarget = \"wasm32-wasip2\"\n",
    )
    .map_err(io)?;
    let lib = match kind {
        ScaffoldKind::Source => include_str!("templates/source.rs"),
        ScaffoldKind::Target => include_str!("templates/target.rs"),
        ScaffoldKind::Rewrite => include_str!("templates/rewrite.rs"),
        ScaffoldKind::Validator => include_str!("templates/validator.rs"),
    };
    std::fs::write(root.join("src/lib.rs"), lib.replace("{{name}}", name)).map_err(io)?;
    Ok(root)
}
