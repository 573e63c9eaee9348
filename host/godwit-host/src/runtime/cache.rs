//! The compile cache: components compiled once, stored by (sha256 of the wasm,
//! engine compatibility hash), written only by this host. Precompiled code
//! from anywhere else (a bundle, a project) is never loaded.
//!
//! A cache file is not trusted for its name. Each entry carries an
//! HMAC-SHA256 tag over the source digest, the engine's compatibility hash
//! and the compiled bytes, under a key that only this user can read
//! (`key`, mode 0600, in a cache directory of mode 0700). The tag is checked
//! before wasmtime deserialises anything, so compiled code copied over
//! another entry's name, edited, or planted by another user is ignored and
//! the component compiled afresh from its verified bytes.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// `sha256:<hex>` of some bytes.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn engine_key(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Compiles `bytes`, using and filling the cache under `dir` when given.
/// Returns the component and whether it came from the cache.
pub fn compile(
    engine: &Engine,
    dir: Option<&Path>,
    digest: &str,
    bytes: &[u8],
) -> anyhow_like::Result<(Component, bool)> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes)
            .map(|c| (c, false))
            .map_err(anyhow_like::from);
    };
    let key = match cache_key(dir) {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "compile cache not used");
            return Component::new(engine, bytes)
                .map(|c| (c, false))
                .map_err(anyhow_like::from);
        }
    };
    let engine_key = engine_key(engine);
    let file = dir.join("components").join(format!(
        "{}-{engine_key}.cwasm",
        digest.trim_start_matches("sha256:"),
    ));
    if file.exists() {
        match load_cached(engine, &file, &key, digest, &engine_key) {
            Ok(c) => return Ok((c, true)),
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "ignoring unusable cache entry")
            }
        }
    }
    let component = Component::new(engine, bytes).map_err(anyhow_like::from)?;
    if let Err(e) = store(&component, &file, &key, digest, &engine_key) {
        tracing::warn!(file = %file.display(), error = %e, "could not write the compile cache");
    }
    Ok((component, false))
}

/// First bytes of a cache entry: format marker, then the 32-byte tag.
const MAGIC: &[u8; 8] = b"GDWTCC01";
/// Length of the HMAC-SHA256 tag.
const TAG_BYTES: usize = 32;

/// The MAC of one entry: source digest, engine hash and compiled bytes.
fn mac(key: &[u8; 32], digest: &str, engine_key: &str, compiled: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(digest.as_bytes());
    mac.update(b"\0");
    mac.update(engine_key.as_bytes());
    mac.update(b"\0");
    mac.update(compiled);
    mac
}

/// The cache's key, created on first use. The directory must be this
/// user's and private; the key file readable by nobody else.
fn cache_key(dir: &Path) -> std::io::Result<[u8; 32]> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let uid = std::fs::metadata("/proc/self")?.uid();
    let m = std::fs::symlink_metadata(dir)?;
    if m.uid() != uid {
        return Err(std::io::Error::other(
            "the cache directory belongs to another user",
        ));
    }
    if m.permissions().mode() & 0o077 != 0 {
        // Ours: make it private (it may predate this rule).
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let path = dir.join("key");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut f) => {
            let mut key = [0u8; 32];
            getrandom::getrandom(&mut key).map_err(std::io::Error::other)?;
            f.write_all(&key)?;
            return Ok(key);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let m = std::fs::symlink_metadata(&path)?;
    if !m.is_file() || m.uid() != uid || m.permissions().mode() & 0o077 != 0 {
        return Err(std::io::Error::other(
            "the cache key is not a private file of this user",
        ));
    }
    let bytes = std::fs::read(&path)?;
    bytes
        .try_into()
        .map_err(|_| std::io::Error::other("the cache key is not 32 bytes"))
}

fn store(
    component: &Component,
    file: &Path,
    key: &[u8; 32],
    digest: &str,
    engine_key: &str,
) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    let dir = file.parent().expect("cache file has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), rand_suffix()));
    let mut out = Vec::with_capacity(MAGIC.len() + TAG_BYTES + bytes.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&mac(key, digest, engine_key, &bytes).finalize().into_bytes());
    out.extend_from_slice(&bytes);
    std::fs::write(&tmp, out)?;
    std::fs::rename(&tmp, file)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[allow(unsafe_code)]
fn load_cached(
    engine: &Engine,
    file: &Path,
    key: &[u8; 32],
    digest: &str,
    engine_key: &str,
) -> wasmtime::Result<Component> {
    let bytes = std::fs::read(file)?;
    let head = MAGIC.len() + TAG_BYTES;
    if bytes.len() < head || &bytes[..MAGIC.len()] != MAGIC {
        wasmtime::bail!("not a godwit cache entry");
    }
    let (want, compiled) = (&bytes[MAGIC.len()..head], &bytes[head..]);
    // Constant-time comparison.
    if mac(key, digest, engine_key, compiled)
        .verify_slice(want)
        .is_err()
    {
        wasmtime::bail!(
            "its tag does not match: not compiled by this host from {digest} (copied or edited)"
        );
    }
    // SAFETY: `deserialize` trusts its input to be code produced by
    // wasmtime. These bytes carry a valid HMAC under this user's private
    // cache key over (source digest, engine hash, bytes): they are exactly
    // what `store` wrote after this host compiled the component with that
    // digest. wasmtime additionally checks the engine/version header.
    unsafe { Component::deserialize(engine, compiled) }
}

/// Error plumbing: wasmtime's error type rendered with its full cause chain.
pub mod anyhow_like {
    /// Result with a rendered error.
    pub type Result<T> = std::result::Result<T, String>;
    /// Renders a wasmtime error with causes.
    pub fn from(e: wasmtime::Error) -> String {
        format!("{e:#}")
    }
}
