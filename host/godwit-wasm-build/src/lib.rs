//! Build-script helper that compiles a workspace of Wasm guests (the built-in
//! plugins, the test guests) for `wasm32-wasip2` with a nested `cargo build`,
//! and reports the resulting component files.
//!
//! Guests get their own target directory so the nested cargo never waits on
//! the lock held by the outer build. Used only from `build.rs` files.

#![allow(clippy::print_stdout)] // build scripts talk to cargo through stdout

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Wasm target every guest is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// A built guest: its folder name (`sqlite-source`) and component file.
pub struct Guest {
    /// Folder name under the workspace, used as the plugin's built-in name.
    pub name: String,
    /// The built component.
    pub wasm: PathBuf,
}

/// Builds every member folder of the guest workspace at `workspace` (folders
/// holding a `Cargo.toml` with package name `<prefix><folder>`), into
/// `<target_root>/<subdir>`. Emits `rerun-if-changed` lines for `watch`.
pub fn build(workspace: &Path, prefix: &str, subdir: &str, watch: &[&Path]) -> Vec<Guest> {
    let target_dir = cargo_build(workspace, subdir, watch);
    let mut guests = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(workspace)
        .expect("read guest workspace")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .collect();
    dirs.sort_by_key(|e| e.file_name());
    for d in dirs {
        let name = d.file_name().to_string_lossy().into_owned();
        let wasm = wasm_path(&target_dir, &format!("{prefix}{name}"));
        guests.push(Guest { name, wasm });
    }
    guests
}

/// Builds the single guest crate at `crate_dir` (its own workspace) into
/// `<target_root>/<subdir>` and returns its component file.
pub fn build_one(crate_dir: &Path, subdir: &str, watch: &[&Path]) -> PathBuf {
    let target_dir = cargo_build(crate_dir, subdir, watch);
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("read Cargo.toml");
    let name = manifest
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("name = \"")
                .and_then(|r| r.strip_suffix('"'))
        })
        .expect("package name in Cargo.toml");
    wasm_path(&target_dir, name)
}

fn wasm_path(target_dir: &Path, package: &str) -> PathBuf {
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(
        wasm.exists(),
        "expected {} after the guest build",
        wasm.display()
    );
    wasm
}

fn cargo_build(workspace: &Path, subdir: &str, watch: &[&Path]) -> PathBuf {
    for w in watch.iter().copied().chain([workspace]) {
        println!("cargo:rerun-if-changed={}", w.display());
    }
    let target_dir = target_root(workspace).join(subdir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        // `cargo clippy` on the host must not turn the guest build into a lint run.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .status()
        .expect("failed to run cargo for the Wasm guests");
    if !status.success() {
        panic!(
            "building the Wasm guests in {} failed. If the error says the `{TARGET}` target \
             is missing, run `rustup toolchain install` in the repository root (it installs \
             the toolchain and targets listed in rust-toolchain.toml).",
            workspace.display()
        );
    }
    target_dir
}

/// The outer build's target directory (`CARGO_TARGET_DIR`, else `<repo>/target`).
fn target_root(workspace: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    // OUT_DIR = <target>/[<triple>/]<profile>/build/<pkg>-<hash>/out
    if let Some(out) = std::env::var_os("OUT_DIR") {
        let out = PathBuf::from(out);
        if let Some(t) = out
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "build"))
        {
            if let Some(profile_dir) = t.parent() {
                if let Some(root) = profile_dir.parent() {
                    let root = if root.join("CACHEDIR.TAG").exists()
                        || root.file_name().is_some_and(|n| n == "target")
                    {
                        root.to_path_buf()
                    } else {
                        root.parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| root.to_path_buf())
                    };
                    return root;
                }
            }
        }
    }
    workspace.join("target")
}
