//! `godwit bundle pack | verify | inspect`: the reviewer's side of plugin
//! bundles (the format and checks live in `godwit_host::bundle`).

use std::collections::BTreeMap;
use std::path::Path;

use godwit_host::bundle::{self, Bundle, Request};
use godwit_host::limits::Limits;
use godwit_host::runtime::Runtime;
use godwit_host::{project, Error, ErrorKind};
use serde::Serialize;

/// What `verify` and `inspect` report.
#[derive(Serialize)]
pub struct BundleReport {
    /// Bundle file.
    pub path: String,
    /// Name and version from the manifest.
    pub name: String,
    /// Version.
    pub version: String,
    /// sha256 of the manifest (what godwit.lock pins).
    pub digest: String,
    /// Components.
    pub components: Vec<ComponentReport>,
    /// Signatures: reviewer, key id, valid, trusted.
    pub signatures: Vec<SignatureReport>,
    /// True when trusted reviewers signed it (verify), or no trust was given.
    pub trusted: bool,
    /// Why it is not trusted, if it is not.
    pub problem: Option<String>,
}

/// One component in a report.
#[derive(Serialize)]
pub struct ComponentReport {
    /// Name.
    pub name: String,
    /// Worlds.
    pub worlds: Vec<String>,
    /// WIT package.
    pub wit: String,
    /// sha256.
    pub sha256: String,
    /// Size.
    pub size: u64,
    /// Requested capabilities (`kind:label  purpose`).
    pub requests: Vec<String>,
    /// With a project: `kind:label -> resource` for requests the project
    /// grants to instances using this component.
    pub granted: Option<Vec<String>>,
}

/// One signature in a report.
#[derive(Serialize)]
pub struct SignatureReport {
    /// Reviewer as the signature names it.
    pub reviewer: String,
    /// First 16 hex digits of the key.
    pub key: String,
    /// Signature matches the manifest.
    pub valid: bool,
    /// Key is in the trusted set (if one was given).
    pub trusted: Option<bool>,
}

/// Packs components into a bundle.
pub async fn pack(name: &str, version: &str, out: &Path, specs: &[String]) -> Result<(), Error> {
    let runtime = Runtime::new(Runtime::default_cache_dir())?;
    let mut comps = Vec::new();
    for spec in specs {
        let (cname, file) = match spec.split_once('=') {
            Some((n, f)) => (n.to_owned(), f.to_owned()),
            None => (
                Path::new(spec)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                spec.clone(),
            ),
        };
        let bytes = std::fs::read(&file)
            .map_err(|e| Error::new(ErrorKind::PluginLoad, format!("{file}: {e}")))?;
        let compiled = runtime.compile(&file, &bytes)?;
        let mut plugin = runtime
            .instantiate(&cname, &compiled, Limits::from_spec(&Default::default()))
            .await?;
        let info = plugin.describe().await?;
        let mut requests: Vec<Request> = info
            .requests
            .iter()
            .map(|r| Request {
                kind: r.kind.clone(),
                label: r.label.clone(),
                purpose: r.purpose.clone(),
            })
            .collect();
        requests.sort();
        comps.push(bundle::PackedComponent {
            name: cname,
            bytes,
            worlds: compiled
                .kinds
                .iter()
                .map(|k| k.world().to_owned())
                .collect(),
            wit: compiled.contract.package().to_owned(),
            requests,
        });
    }
    let (manifest, files) = bundle::manifest_for(name, version, &comps)?;
    bundle::write(out, &manifest, &files, &BTreeMap::new())
}

fn report(b: &Bundle, trusted_keys: Option<&BTreeMap<String, String>>) -> BundleReport {
    BundleReport {
        path: b.path.display().to_string(),
        name: b.manifest.name.clone(),
        version: b.manifest.version.clone(),
        digest: b.digest(),
        components: b
            .manifest
            .components
            .iter()
            .map(|c| ComponentReport {
                name: c.name.clone(),
                worlds: c.worlds.clone(),
                wit: c.wit.clone(),
                sha256: c.sha256.clone(),
                size: c.size,
                requests: c
                    .requests
                    .iter()
                    .map(|r| format!("{}:{}  {}", r.kind, r.label, r.purpose))
                    .collect(),
                granted: None,
            })
            .collect(),
        signatures: b
            .check_signatures()
            .into_iter()
            .map(|(reviewer, key, valid)| SignatureReport {
                trusted: trusted_keys.map(|t| t.contains_key(&key.to_ascii_lowercase())),
                key: bundle::key_id(&key),
                reviewer,
                valid,
            })
            .collect(),
        trusted: true,
        problem: None,
    }
}

fn trusted_keys(
    trust: &[std::path::PathBuf],
    dir: Option<&Path>,
) -> Result<Option<project::Trust>, Error> {
    if let Some(dir) = dir {
        return Ok(Some(project::load(dir)?.trust));
    }
    if trust.is_empty() {
        return Ok(None);
    }
    let mut keys = BTreeMap::new();
    for t in trust {
        let (k, name) = bundle::read_public_key(t)?;
        keys.insert(k, name);
    }
    Ok(Some(project::Trust {
        keys,
        min_signatures: 1,
        allow_unsigned_plugins: false,
    }))
}

/// Verifies integrity (always) and trust (with keys or a project).
pub fn verify(
    path: &Path,
    trust: &[std::path::PathBuf],
    dir: Option<&Path>,
) -> Result<BundleReport, Error> {
    // A malformed or tampered bundle is refused like an untrusted one
    // (exit 1), not a runtime failure.
    let b = Bundle::read(path).map_err(|e| match e.kind {
        godwit_host::ErrorKind::PluginLoad => {
            Error::new(godwit_host::ErrorKind::Rejected, e.message)
        }
        _ => e,
    })?;
    let keys = trusted_keys(trust, dir)?;
    let mut r = report(&b, keys.as_ref().map(|t| &t.keys));
    match &keys {
        Some(t) => {
            if let Err(e) = b.trust(&t.keys, t.min_signatures) {
                r.trusted = false;
                r.problem = Some(e.message);
            }
        }
        None => {
            r.trusted = !b.signatures.is_empty() && b.check_signatures().iter().all(|(_, _, v)| *v);
            if !r.trusted {
                r.problem = Some(if b.signatures.is_empty() {
                    "not signed".into()
                } else {
                    "a signature does not match the manifest".into()
                });
            }
        }
    }
    Ok(r)
}

/// The manifest, signatures and (with a project) the grants in effect.
pub fn inspect(path: &Path, dir: Option<&Path>) -> Result<BundleReport, Error> {
    let b = Bundle::read(path)?;
    let project = dir.map(project::load).transpose()?;
    let mut r = report(&b, project.as_ref().map(|p| &p.trust.keys));
    if let Some(p) = &project {
        for c in &mut r.components {
            let mut granted = Vec::new();
            for spec in p.plugins.values() {
                let uses = matches!(&spec.source, project::PluginSource::Bundle { path: bp, component, .. }
                    if component == &c.name && bp.canonicalize().ok() == path.canonicalize().ok());
                if !uses {
                    continue;
                }
                let entry = b
                    .manifest
                    .components
                    .iter()
                    .find(|x| x.name == c.name)
                    .expect("listed");
                for req in &entry.requests {
                    granted.push(match spec.grants_of(&req.kind).get(&req.label) {
                        Some(res) => format!("{}: {}:{} -> {res}", spec.name, req.kind, req.label),
                        None => format!("{}: {}:{} NOT granted", spec.name, req.kind, req.label),
                    });
                }
            }
            c.granted = Some(granted);
        }
        if let Err(e) = b.trust(&p.trust.keys, p.trust.min_signatures) {
            r.trusted = false;
            r.problem = Some(e.message);
        }
    }
    Ok(r)
}
