//! The compile cache: components compiled once, stored by (sha256 of the wasm,
//! engine compatibility hash), written only by this host. Cached files are
//! trusted because nothing but this code writes them; precompiled code from
//! anywhere else (a bundle, a project) is never loaded.

use std::hash::{Hash, Hasher};
use std::path::Path;

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
    let file = dir.join("components").join(format!(
        "{}-{}.cwasm",
        digest.trim_start_matches("sha256:"),
        engine_key(engine)
    ));
    if file.exists() {
        match load_cached(engine, &file) {
            Ok(c) => return Ok((c, true)),
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "ignoring unusable cache entry")
            }
        }
    }
    let component = Component::new(engine, bytes).map_err(anyhow_like::from)?;
    if let Err(e) = store(&component, &file) {
        tracing::warn!(file = %file.display(), error = %e, "could not write the compile cache");
    }
    Ok((component, false))
}

fn store(component: &Component, file: &Path) -> std::io::Result<()> {
    let bytes = component.serialize().map_err(std::io::Error::other)?;
    let dir = file.parent().expect("cache file has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), rand_suffix()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[allow(unsafe_code)]
fn load_cached(engine: &Engine, file: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` trusts its input to be code produced by
    // wasmtime. Files under the cache directory are written only by `store`
    // above from a component this process compiled, keyed by the hash of the
    // source bytes and the engine's compatibility hash; wasmtime additionally
    // checks the engine/version header and refuses mismatches.
    unsafe { Component::deserialize_file(engine, file) }
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
