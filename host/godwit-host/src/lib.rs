//! # godwit-host
//!
//! The library behind the `godwit` command: the project model
//! ([`project`]), the Wasm runtime that sandboxes plugins ([`runtime`]), the
//! capabilities plugins are granted and the state of a plugin's store
//! ([`caps`]), the default plugin limits ([`limits`]), and the engine that plans,
//! runs and validates migrations ([`engine`]).
//!
//! It is for the CLI and for tests; it prints nothing itself (events go
//! through `tracing`, results come back as data). It is not a plugin SDK:
//! plugins are written with `godwit-sdk` and run inside Wasm.

pub mod builtin;
pub mod bundle;
pub mod caps;
pub mod dsn;
pub mod engine;
pub mod error;
pub mod limits;
pub mod model;
pub mod project;
pub mod redact;
pub mod runtime;
pub mod text;
pub mod value;

pub use error::{Error, ErrorKind, Result};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: validation failed (a validator reported an error finding, or rows were rejected).
pub const EXIT_VALIDATION: i32 = 1;
/// Exit code: usage or project-file error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: runtime failure (plugin trap or error, database or store failure).
pub const EXIT_RUNTIME: i32 = 3;
/// Exit code: interrupted by SIGINT or SIGTERM (the shell's 128 + SIGINT);
/// the reject file and a report of the interruption are written first, and
/// a plain `run` resumes.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The import graph of this library's top-level modules (issue 15: no
/// circles; the project model a leaf; only the engine uses the runtime),
/// read from the `crate::` paths in the sources.
#[cfg(test)]
mod module_graph {
    use std::collections::{BTreeMap, BTreeSet};

    fn edges() -> BTreeMap<String, BTreeSet<String>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut todo = vec![root.clone()];
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                    continue;
                }
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let top = rel
                    .split('/')
                    .next()
                    .unwrap()
                    .trim_end_matches(".rs")
                    .to_owned();
                let text = std::fs::read_to_string(&p).unwrap();
                for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
                    for (i, _) in line.match_indices("crate::") {
                        let name: String = line[i + 7..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() && name != top && top != "lib" {
                            out.entry(top.clone()).or_default().insert(name);
                        }
                    }
                }
            }
        }
        out
    }

    /// Modules on a circle: those that reach themselves.
    fn on_circles(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
        let reaches = |from: &str| {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&str> = g
                .get(from)
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            while let Some(m) = todo.pop() {
                if seen.insert(m.to_owned()) {
                    todo.extend(g.get(m).into_iter().flatten().map(String::as_str));
                }
            }
            seen
        };
        g.keys()
            .filter(|m| reaches(m).contains(*m))
            .cloned()
            .collect()
    }

    #[test]
    fn no_module_imports_itself_through_others() {
        let g = edges();
        assert!(
            g.contains_key("engine"),
            "the scan found the sources: {g:?}"
        );
        let found = on_circles(&g);
        assert!(
            found.is_empty(),
            "modules on import circles: {found:?} (graph: {g:?})"
        );
        // The runtime uses the capabilities (their state and bindings),
        // never the reverse; only the engine uses the runtime.
        for (m, uses) in &g {
            assert!(
                !uses.contains("runtime") || m == "engine",
                "{m} imports runtime: {g:?}"
            );
        }
        // The project model is a leaf: nothing it imports reaches a
        // capability, the runtime or the engine.
        let mut seen = BTreeSet::new();
        let mut todo = vec!["project".to_owned()];
        while let Some(m) = todo.pop() {
            for n in g.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        for m in ["caps", "runtime", "engine"] {
            assert!(!seen.contains(m), "project reaches {m}: {seen:?}");
        }
    }
}
