//! The Wasm runtime: one wasmtime [`Engine`], a compile cache, the linker with
//! WASI (no ambient authority) and godwit's capabilities, and [`Plugin`], one
//! sandboxed instance of a component with its own [`Store`] and limits.
//!
//! Sandbox: no preopened directories, no environment, no arguments, no
//! sockets, stdin closed, stdout/stderr captured. Capabilities are checked at
//! each `open(label)`: only labels both requested by the plugin's `describe`
//! and granted by the project resolve; anything else is `access-denied`.
//! Limits: memory (StoreLimits), a deadline per call (epoch interruption), a
//! timeout around each host call, caps on bytes and rows per host call and on
//! open handles. A guest that traps is reported and never called again.

mod cache;
mod plugin;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::caps::{v0_2, v0_3, HostState};
use crate::error::{Error, ErrorKind, Result};
use crate::limits;
pub use plugin::{Kind, Plugin, PluginInfo, Request};

/// A version of the `godwit:plugin` contract this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Contract {
    /// `godwit:plugin@0.2.0`: SQL targets only.
    #[serde(rename = "godwit:plugin@0.2.0")]
    V0_2,
    /// `godwit:plugin@0.3.0`: adds plugin-written batches and target traits.
    #[serde(rename = "godwit:plugin@0.3.0")]
    V0_3,
}

impl Contract {
    /// Every version served, oldest first.
    pub const SERVED: [Contract; 2] = [Contract::V0_2, Contract::V0_3];

    /// The package version, as in the WIT files (`0.2.0`).
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_2 => "0.2.0",
            Contract::V0_3 => "0.3.0",
        }
    }

    /// The package name with its version (`godwit:plugin@0.2.0`).
    pub fn package(self) -> &'static str {
        match self {
            Contract::V0_2 => "godwit:plugin@0.2.0",
            Contract::V0_3 => "godwit:plugin@0.3.0",
        }
    }

    /// The version a plugin export names, if this host serves it.
    pub fn of_version(version: &str) -> Option<Self> {
        Self::SERVED.into_iter().find(|c| c.version() == version)
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.package())
    }
}

/// The WIT package of the SDK's default bindings and of `godwit new`'s
/// templates (the contract a new plugin is built against).
pub const WIT_PACKAGE: &str = "godwit:plugin@0.2.0";

/// The engine, linker and compile cache shared by every plugin of a process.
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    cache_dir: Option<PathBuf>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// A compiled component with what the host learned about it without running it.
#[derive(Clone)]
pub struct Compiled {
    /// The compiled component.
    pub component: Component,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
    /// Plugin kinds it exports.
    pub kinds: Vec<Kind>,
    /// The contract version its exports are built against.
    pub contract: Contract,
    /// True when the compiled code came from the compile cache.
    pub from_cache: bool,
    /// Time spent compiling, or loading the cached compilation.
    pub compile_time: std::time::Duration,
}

impl Runtime {
    /// Creates the engine and starts the epoch ticker. `cache_dir` holds
    /// compiled components (`None`: compile every time).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine =
            Engine::new(&config).map_err(|e| Error::internal(format!("wasmtime engine: {e}")))?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::internal(format!("linking WASI: {e}")))?;
        // Every served version's capabilities, side by side: a component
        // imports the ones of the version it was built against.
        v0_2::AllV02::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| Error::internal(format!("linking godwit@0.2.0 capabilities: {e}")))?;
        v0_3::AllV03::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| Error::internal(format!("linking godwit@0.3.0 capabilities: {e}")))?;

        let stop = Arc::new(AtomicBool::new(false));
        let (weak, stop2) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("godwit-epoch".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::sleep(limits::EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| Error::internal(format!("epoch thread: {e}")))?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            cache_dir,
            ticker_stop: stop,
        })
    }

    /// The default compile cache: `$GODWIT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/godwit`, else `~/.cache/godwit`.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("GODWIT_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(PathBuf::from(d).join("godwit"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("godwit"))
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles (or loads from the cache) a component and inspects its exports.
    /// `origin` names it in errors.
    pub fn compile(&self, origin: &str, bytes: &[u8]) -> Result<Compiled> {
        let digest = cache::digest(bytes);
        let started = std::time::Instant::now();
        let (component, from_cache) =
            cache::compile(&self.engine, self.cache_dir.as_deref(), &digest, bytes)
                .map_err(|e| Error::new(ErrorKind::PluginLoad, format!("plugin {origin}: {e}")))?;
        let (kinds, contract) = plugin::detect_kinds(&self.engine, &component).map_err(|e| {
            Error::new(
                ErrorKind::PluginLoad,
                format!("plugin {origin} ({digest}): {e}"),
            )
        })?;
        Ok(Compiled {
            component,
            digest,
            kinds,
            contract,
            from_cache,
            compile_time: started.elapsed(),
        })
    }

    /// Instantiates a compiled component in a fresh sandboxed store.
    pub async fn instantiate(
        &self,
        name: &str,
        compiled: &Compiled,
        limits: limits::Limits,
    ) -> Result<Plugin> {
        Plugin::instantiate(&self.engine, &self.linker, name, compiled, limits).await
    }
}
