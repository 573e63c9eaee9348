//! Harness for godwit's end-to-end tests: paths of the test guests, throwaway
//! project directories, and helpers to run the real `godwit` binary.
//!
//! The tests themselves are in `tests/e2e/` and are compiled as the `e2e`
//! test of the `godwit-cli` package, so they run the binary cargo just built.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Test guest components.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repo root")
}

/// A finished `godwit` invocation.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `godwit` (the binary at `bin`) with `args`, extra environment, and a
/// private compile cache under `cache`.
pub fn godwit(bin: &str, cache: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("GODWIT_CACHE_DIR", cache)
        .env_remove("GODWIT_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run godwit"))
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            if entry.file_name() == "out" || entry.file_name() == ".godwit" {
                continue;
            }
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// sha256 of every file under `dir` (relative path -> hex), for
/// "nothing changed" checks.
pub fn tree_hashes(dir: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((
                    p.strip_prefix(dir).expect("prefix").display().to_string(),
                    hex::encode(Sha256::digest(&bytes)),
                ));
            }
        }
    }
    out.sort();
    out
}
