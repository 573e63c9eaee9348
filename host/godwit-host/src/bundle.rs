//! Reviewed plugin bundles: components plus a manifest, signed by reviewers.
//!
//! A bundle is a directory, or a tar archive of the same layout:
//!
//! ```text
//! bundle.toml                 the manifest: name, version, and per component
//!                             its file, sha256, size, worlds, WIT package
//!                             and the capabilities it requests
//! components/NAME.wasm        the components
//! signatures/REVIEWER.sig     ed25519 signatures over the exact bytes of
//!                             bundle.toml (which pins every component digest)
//! ```
//!
//! Verification reads everything into memory once (size-capped), refuses
//! unexpected entries, checks every component's sha256 against the manifest,
//! every signature against the manifest bytes, and the signers against the
//! project's trusted keys. The bytes that were verified are the bytes that
//! get compiled: nothing is read from disk again. A bundle never supplies
//! precompiled code; only the host writes its compile cache.
//!
//! The bundle's identity is the sha256 of its manifest, pinned per project
//! in `godwit.lock` on first use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// The manifest's file name inside a bundle.
pub const MANIFEST: &str = "bundle.toml";
/// Format version written into manifests.
pub const FORMAT: u32 = 1;
/// Largest bundle accepted: components are a few MiB; this refuses a
/// decompression-bomb-sized archive before reading it.
pub const MAX_BUNDLE_BYTES: u64 = 512 << 20;
/// Most entries in a bundle.
pub const MAX_ENTRIES: usize = 1024;
/// The lockfile's name in a project directory.
pub const LOCKFILE: &str = "godwit.lock";

/// A capability a component requests (as its `describe()` reports it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `sql`, `blob` or `http`.
    pub kind: String,
    /// The label the plugin opens.
    pub label: String,
    /// Why, in the plugin's words.
    #[serde(default)]
    pub purpose: String,
}

/// One component of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentEntry {
    /// Name used in `bundle:FILE#NAME`.
    pub name: String,
    /// Path inside the bundle (`components/NAME.wasm`).
    pub file: String,
    /// Hex sha256 of the component bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Worlds it exports (`source`, `target`, `rewrite`, `validator`).
    pub worlds: Vec<String>,
    /// The WIT package it was built against.
    pub wit: String,
    /// Capabilities it requests; a component asking for more at run time is refused.
    #[serde(default)]
    pub requests: Vec<Request>,
}

/// The manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version ([`FORMAT`]).
    pub format: u32,
    /// Bundle name.
    pub name: String,
    /// Bundle version.
    pub version: String,
    /// Components.
    #[serde(rename = "component", default)]
    pub components: Vec<ComponentEntry>,
}

/// A signature file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    /// Reviewer name (informational; trust is by key).
    pub reviewer: String,
    /// Hex ed25519 public key.
    pub key: String,
    /// Hex ed25519 signature over the manifest bytes.
    pub signature: String,
}

/// A public key file (`godwit keygen` writes `NAME.pub`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyFile {
    /// Reviewer name.
    pub reviewer: String,
    /// Hex ed25519 public key.
    pub key: String,
}

/// A secret key file (`NAME.key`, mode 0600).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretKeyFile {
    reviewer: String,
    secret: String,
}

/// A bundle read into memory (not yet trusted).
pub struct Bundle {
    /// Where it was read from.
    pub path: PathBuf,
    /// The manifest as parsed.
    pub manifest: Manifest,
    /// The manifest's exact bytes (what signatures cover).
    pub manifest_bytes: Vec<u8>,
    /// Component bytes by component name.
    pub components: BTreeMap<String, Vec<u8>>,
    /// Signatures by file name.
    pub signatures: Vec<SignatureFile>,
}

fn bad(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::PluginLoad,
        format!("bundle {}: {msg}", path.display()),
    )
}

/// `sha256:<hex>` of some bytes.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A short id for a public key (first 16 hex digits).
pub fn key_id(key_hex: &str) -> String {
    key_hex.chars().take(16).collect()
}

/// Reads the raw entries of a bundle directory or archive.
fn read_entries(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let meta = std::fs::metadata(path).map_err(|e| bad(path, e))?;
    let mut out = BTreeMap::new();
    if meta.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        let mut total = 0u64;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| bad(path, e))? {
                let entry = entry.map_err(|e| bad(path, e))?;
                let ft = entry.file_type().map_err(|e| bad(path, e))?;
                let rel = entry
                    .path()
                    .strip_prefix(path)
                    .map_err(|e| bad(path, e))?
                    .to_string_lossy()
                    .replace('\\', "/");
                if ft.is_symlink() {
                    return Err(bad(path, format!("{rel} is a symbolic link")));
                }
                if ft.is_dir() {
                    stack.push(entry.path());
                    continue;
                }
                total += entry.metadata().map_err(|e| bad(path, e))?.len();
                if total > MAX_BUNDLE_BYTES || out.len() >= MAX_ENTRIES {
                    return Err(bad(path, "too large"));
                }
                out.insert(rel, std::fs::read(entry.path()).map_err(|e| bad(path, e))?);
            }
        }
    } else {
        if meta.len() > MAX_BUNDLE_BYTES {
            return Err(bad(path, "too large"));
        }
        let bytes = std::fs::read(path).map_err(|e| bad(path, e))?;
        out = archive_entries(path, &bytes)?;
    }
    Ok(out)
}

/// The entries of a bundle archive held in memory.
fn archive_entries(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    {
        let mut archive = tar::Archive::new(bytes);
        for entry in archive.entries().map_err(|e| bad(path, e))? {
            let mut entry = entry.map_err(|e| bad(path, format!("not a bundle archive: {e}")))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            let rel = entry
                .path()
                .map_err(|e| bad(path, e))?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_owned();
            if !kind.is_file() {
                return Err(bad(path, format!("{rel} is not a regular file")));
            }
            if rel.split('/').any(|s| s == ".." || s.is_empty()) || rel.starts_with('/') {
                return Err(bad(path, format!("entry {rel:?} has an unsafe path")));
            }
            if out.len() >= MAX_ENTRIES {
                return Err(bad(path, "too many entries"));
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| bad(path, e))?;
            // Two entries of one name: which one a reader takes is up to
            // the reader, so what was reviewed is ambiguous. Refused.
            if out.insert(rel.clone(), bytes).is_some() {
                return Err(bad(
                    path,
                    format!("entry {rel:?} appears more than once in the archive"),
                ));
            }
        }
    }
    Ok(out)
}

impl Bundle {
    /// Reads a bundle and checks its integrity: manifest, component digests,
    /// no unexpected entries, signatures that parse. Trust is [`Bundle::trust`].
    pub fn read(path: &Path) -> Result<Self> {
        Self::from_entries(path, read_entries(path)?)
    }

    /// Reads a tar archive held in memory (`path` only names it in messages).
    pub fn from_archive_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        Self::from_entries(path, archive_entries(path, bytes)?)
    }

    /// Checks a bundle given as `entry path -> bytes` (see [`Bundle::read`]).
    pub fn from_entries(path: &Path, mut entries: BTreeMap<String, Vec<u8>>) -> Result<Self> {
        let manifest_bytes = entries
            .remove(MANIFEST)
            .ok_or_else(|| bad(path, format!("no {MANIFEST}")))?;
        let text = std::str::from_utf8(&manifest_bytes)
            .map_err(|_| bad(path, format!("{MANIFEST} is not UTF-8")))?;
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| bad(path, format!("{MANIFEST}: {}", e.message())))?;
        if manifest.format != FORMAT {
            return Err(bad(
                path,
                format!(
                    "format {} (this godwit reads format {FORMAT})",
                    manifest.format
                ),
            ));
        }
        let mut components = BTreeMap::new();
        for c in &manifest.components {
            let bytes = entries
                .remove(&c.file)
                .ok_or_else(|| bad(path, format!("component {}: {} is missing", c.name, c.file)))?;
            let got = hex::encode(Sha256::digest(&bytes));
            if got != c.sha256.to_ascii_lowercase() || bytes.len() as u64 != c.size {
                return Err(bad(
                    path,
                    format!(
                        "component {}: sha256 {got} ({} bytes) differs from the manifest's {} ({} bytes): the bundle was modified after it was packed",
                        c.name,
                        bytes.len(),
                        c.sha256,
                        c.size
                    ),
                ));
            }
            if components.insert(c.name.clone(), bytes).is_some() {
                return Err(bad(path, format!("component {} is listed twice", c.name)));
            }
        }
        let mut signatures = Vec::new();
        for (name, bytes) in std::mem::take(&mut entries) {
            if name.starts_with("signatures/") && name.ends_with(".sig") {
                let text = String::from_utf8(bytes)
                    .map_err(|_| bad(path, format!("{name} is not UTF-8")))?;
                let sig: SignatureFile = toml::from_str(&text)
                    .map_err(|e| bad(path, format!("{name}: {}", e.message())))?;
                signatures.push(sig);
            } else {
                entries.insert(name, bytes);
            }
        }
        if let Some(extra) = entries.keys().next() {
            return Err(bad(
                path,
                format!("unexpected entry {extra:?} (not in the manifest)"),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            manifest,
            manifest_bytes,
            components,
            signatures,
        })
    }

    /// The bundle's identity: sha256 of its manifest.
    pub fn digest(&self) -> String {
        digest(&self.manifest_bytes)
    }

    /// Every signature, checked against the manifest bytes:
    /// `(reviewer, key hex, valid)`.
    pub fn check_signatures(&self) -> Vec<(String, String, bool)> {
        self.signatures
            .iter()
            .map(|s| {
                let valid = parse_key(&s.key)
                    .ok()
                    .zip(parse_signature(&s.signature).ok())
                    .is_some_and(|(k, sig)| k.verify(&self.manifest_bytes, &sig).is_ok());
                (s.reviewer.clone(), s.key.clone(), valid)
            })
            .collect()
    }

    /// Checks that at least `min` valid signatures come from `trusted` keys
    /// (hex -> reviewer name); returns the trusted signers' names.
    pub fn trust(&self, trusted: &BTreeMap<String, String>, min: usize) -> Result<Vec<String>> {
        let what = format!(
            "bundle {} {} ({})",
            self.manifest.name,
            self.manifest.version,
            self.path.display()
        );
        let refuse = |m: String| Error::new(ErrorKind::PluginLoad, format!("{what}: {m}"));
        if self.signatures.is_empty() {
            return Err(refuse(
                "not signed: a reviewer signs it with `godwit bundle sign`".into(),
            ));
        }
        let mut ok = Vec::new();
        // Review counts people: one trusted key counts once, however many
        // signature files carry it.
        let mut counted = std::collections::BTreeSet::new();
        let mut problems = Vec::new();
        for (reviewer, key, valid) in self.check_signatures() {
            if !valid {
                problems.push(format!(
                    "the signature by {reviewer} (key {}) does not match: the manifest was modified after signing",
                    key_id(&key)
                ));
            } else if let Some(name) = trusted.get(&key.to_ascii_lowercase()) {
                if counted.insert(key.to_ascii_lowercase()) {
                    ok.push(name.clone());
                }
            } else {
                problems.push(format!(
                    "signed by {reviewer} (key {}), a key this project does not trust",
                    key_id(&key)
                ));
            }
        }
        if !problems.is_empty() && problems.iter().any(|p| p.contains("does not match")) {
            return Err(refuse(problems.join("; ")));
        }
        if ok.len() < min.max(1) {
            return Err(refuse(format!(
                "{} distinct trusted signer(s), {} required{}",
                ok.len(),
                min.max(1),
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(": {}", problems.join("; "))
                }
            )));
        }
        Ok(ok)
    }
}

fn parse_key(hex_key: &str) -> std::result::Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "a public key is 32 bytes".to_owned())?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())
}

fn parse_signature(hex_sig: &str) -> std::result::Result<Signature, String> {
    let bytes: [u8; 64] = hex::decode(hex_sig.trim())
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "a signature is 64 bytes".to_owned())?;
    Ok(Signature::from_bytes(&bytes))
}

/// Reads a public key file (`NAME.pub`): `(key hex, reviewer)`.
pub fn read_public_key(path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::project(format!("{}: {e}", path.display())))?;
    let k: PublicKeyFile = toml::from_str(&text)
        .map_err(|e| Error::project(format!("{}: {}", path.display(), e.message())))?;
    parse_key(&k.key).map_err(|e| Error::project(format!("{}: {e}", path.display())))?;
    Ok((k.key.to_ascii_lowercase(), k.reviewer))
}

/// Writes a new key pair: `DIR/NAME.key` (secret, mode 0600) and
/// `DIR/NAME.pub`. Returns both paths. Refuses to overwrite.
pub fn keygen(dir: &Path, reviewer: &str) -> Result<(PathBuf, PathBuf)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if reviewer.is_empty()
        || !reviewer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(Error::project(format!(
            "reviewer name {reviewer:?}: use letters, digits, '-', '_' and '.'"
        )));
    }
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    let secret = toml::to_string(&SecretKeyFile {
        reviewer: reviewer.to_owned(),
        secret: hex::encode(seed),
    })
    .map_err(|e| Error::internal(e.to_string()))?;
    let public = toml::to_string(&PublicKeyFile {
        reviewer: reviewer.to_owned(),
        key: hex::encode(key.verifying_key().as_bytes()),
    })
    .map_err(|e| Error::internal(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
    let key_path = dir.join(format!("{reviewer}.key"));
    let pub_path = dir.join(format!("{reviewer}.pub"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .map_err(|e| Error::io(format!("{}: {e}", key_path.display())))?;
    f.write_all(secret.as_bytes())
        .map_err(|e| Error::io(format!("{}: {e}", key_path.display())))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&pub_path)
        .and_then(|mut f| f.write_all(public.as_bytes()))
        .map_err(|e| Error::io(format!("{}: {e}", pub_path.display())))?;
    Ok((key_path, pub_path))
}

/// Writes a bundle from a manifest and component bytes: an archive when
/// `out` ends in `.bundle` or `.tar`, else a directory.
pub fn write(
    out: &Path,
    manifest_bytes: &[u8],
    components: &BTreeMap<String, Vec<u8>>,
    signatures: &BTreeMap<String, Vec<u8>>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io(format!("{}: {e}", out.display()));
    let mut entries: Vec<(String, &[u8])> = vec![(MANIFEST.to_owned(), manifest_bytes)];
    entries.extend(components.iter().map(|(f, b)| (f.clone(), b.as_slice())));
    entries.extend(signatures.iter().map(|(f, b)| (f.clone(), b.as_slice())));
    let archive = matches!(
        out.extension().and_then(|e| e.to_str()),
        Some("bundle" | "tar")
    );
    if archive {
        let tmp = out.with_extension("tmp");
        let file = std::fs::File::create(&tmp).map_err(io)?;
        let mut b = tar::Builder::new(file);
        for (name, bytes) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_cksum();
            b.append_data(&mut h, &name, bytes).map_err(io)?;
        }
        b.into_inner().map_err(io)?;
        std::fs::rename(&tmp, out).map_err(io)?;
    } else {
        for (name, bytes) in entries {
            let p = out.join(&name);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(io)?;
            }
            std::fs::write(&p, bytes).map_err(io)?;
        }
    }
    Ok(())
}

/// Bundle entries by path.
pub type Files = BTreeMap<String, Vec<u8>>;

/// A component to pack, with what the packer learnt from it.
pub struct PackedComponent {
    /// Component name.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Worlds it exports.
    pub worlds: Vec<String>,
    /// WIT package it was built against.
    pub wit: String,
    /// Capabilities it requests.
    pub requests: Vec<Request>,
}

/// Builds a manifest (bytes) and the component files for a bundle.
pub fn manifest_for(
    name: &str,
    version: &str,
    components: &[PackedComponent],
) -> Result<(Vec<u8>, Files)> {
    let mut files = BTreeMap::new();
    let mut entries = Vec::new();
    for PackedComponent {
        name: cname,
        bytes,
        worlds,
        wit,
        requests,
    } in components
    {
        let file = format!("components/{cname}.wasm");
        entries.push(ComponentEntry {
            name: cname.clone(),
            file: file.clone(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
            worlds: worlds.clone(),
            wit: wit.clone(),
            requests: requests.clone(),
        });
        files.insert(file, bytes.clone());
    }
    let manifest = Manifest {
        format: FORMAT,
        name: name.to_owned(),
        version: version.to_owned(),
        components: entries,
    };
    let text = toml::to_string(&manifest).map_err(|e| Error::internal(e.to_string()))?;
    Ok((text.into_bytes(), files))
}

/// Signs a bundle in place with a secret key file; returns the reviewer.
pub fn sign(bundle_path: &Path, key_path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(key_path)
        .map_err(|e| Error::project(format!("{}: {e}", key_path.display())))?;
    let k: SecretKeyFile = toml::from_str(&text).map_err(|e| {
        Error::project(format!(
            "{}: not a godwit secret key: {}",
            key_path.display(),
            e.message()
        ))
    })?;
    let seed: [u8; 32] = hex::decode(&k.secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::project(format!("{}: malformed secret key", key_path.display())))?;
    let key = SigningKey::from_bytes(&seed);
    let bundle = Bundle::read(bundle_path)?;
    let sig = SignatureFile {
        reviewer: k.reviewer.clone(),
        key: hex::encode(key.verifying_key().as_bytes()),
        signature: hex::encode(key.sign(&bundle.manifest_bytes).to_bytes()),
    };
    let mut signatures: BTreeMap<String, Vec<u8>> = bundle
        .signatures
        .iter()
        .filter(|s| s.key != sig.key)
        .map(|s| {
            (
                format!("signatures/{}.sig", s.reviewer),
                toml::to_string(s).unwrap_or_default().into_bytes(),
            )
        })
        .collect();
    signatures.insert(
        format!("signatures/{}.sig", k.reviewer),
        toml::to_string(&sig)
            .map_err(|e| Error::internal(e.to_string()))?
            .into_bytes(),
    );
    let files: BTreeMap<String, Vec<u8>> = bundle
        .manifest
        .components
        .iter()
        .map(|c| (c.file.clone(), bundle.components[&c.name].clone()))
        .collect();
    write(bundle_path, &bundle.manifest_bytes, &files, &signatures)?;
    Ok(k.reviewer)
}

/// One pinned bundle in `godwit.lock`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The bundle path as the project names it.
    pub path: String,
    /// Bundle name.
    pub name: String,
    /// Bundle version.
    pub version: String,
    /// sha256 of the manifest.
    pub digest: String,
    /// Trusted signers when pinned.
    pub signers: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    #[serde(default, rename = "bundle")]
    bundles: Vec<LockEntry>,
}

/// Checks a verified bundle against the project's `godwit.lock`, pinning it
/// on first use unless `dry_run`. A changed digest is refused.
pub fn check_lock(
    project_dir: &Path,
    rel_path: &str,
    bundle: &Bundle,
    signers: &[String],
    dry_run: bool,
) -> Result<()> {
    let lock_path = project_dir.join(LOCKFILE);
    let mut lock: LockFile = match std::fs::read_to_string(&lock_path) {
        Ok(t) => toml::from_str(&t)
            .map_err(|e| Error::project(format!("{}: {}", lock_path.display(), e.message())))?,
        Err(_) => LockFile::default(),
    };
    let digest = bundle.digest();
    if let Some(e) = lock.bundles.iter().find(|e| e.path == rel_path) {
        if e.digest != digest {
            return Err(Error::new(
                ErrorKind::PluginLoad,
                format!(
                    "bundle {rel_path} changed since {LOCKFILE} pinned it: {} {} ({}) is now {} {} ({}). \
                     If the new version was reviewed, delete its entry from {LOCKFILE} to pin it.",
                    e.name, e.version, e.digest, bundle.manifest.name, bundle.manifest.version, digest
                ),
            ));
        }
        return Ok(());
    }
    if dry_run {
        tracing::info!(bundle = rel_path, %digest, "bundle not pinned yet; `run` will pin it in godwit.lock");
        return Ok(());
    }
    lock.bundles.push(LockEntry {
        path: rel_path.to_owned(),
        name: bundle.manifest.name.clone(),
        version: bundle.manifest.version.clone(),
        digest,
        signers: signers.to_vec(),
    });
    let text = format!(
        "# Pinned plugin bundles (written by godwit on first use; see docs/security.md).\n{}",
        toml::to_string(&lock).map_err(|e| Error::internal(e.to_string()))?
    );
    std::fs::write(&lock_path, text)
        .map_err(|e| Error::io(format!("{}: {e}", lock_path.display())))?;
    tracing::info!(bundle = rel_path, "bundle pinned in godwit.lock");
    Ok(())
}
