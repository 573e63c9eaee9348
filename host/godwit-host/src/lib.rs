//! # godwit-host
//!
//! The library behind the `godwit` command: the project model
//! ([`project`]), the Wasm runtime that sandboxes plugins ([`runtime`]), the
//! capabilities plugins are granted ([`caps`]), and the engine that plans,
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
/// circles; the project model a leaf). Ratchet: the test fails when a new
/// circle appears, and when a known one is broken (so this list shrinks).
#[cfg(test)]
mod module_graph {
    use std::collections::{BTreeMap, BTreeSet};

    /// Modules that still import each other, and why (docs/architecture.md):
    /// `caps` implements the capabilities on `runtime`'s `HostState`, which
    /// holds the granted `caps` handles, and the per-version bindings in
    /// `runtime` name the `caps` resource types. Breaking it is the rest of
    /// issue 15 item 3 (bindings with their own resource types, the state in
    /// the capability folders). The project model is already a leaf.
    const KNOWN_CIRCLE: &[&str] = &["caps", "runtime"];

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
    fn only_the_known_circle_remains() {
        let g = edges();
        assert!(
            g.contains_key("engine"),
            "the scan found the sources: {g:?}"
        );
        let found = on_circles(&g);
        let known: BTreeSet<String> = KNOWN_CIRCLE.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, known, "modules on import circles (graph: {g:?})");
        // The engine and the model are off every circle.
        assert!(!found.contains("engine") && !found.contains("model"));
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
