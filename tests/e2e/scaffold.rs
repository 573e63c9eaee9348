//! `plugins list|inspect`, `init`, and `plugin new` producing crates that
//! build into loadable components with one `cargo build`.

use super::common::*;

#[test]
fn every_builtin_can_be_inspected() {
    let f = Fixture::empty();
    let list = f.godwit(&["--json", "plugins", "list", "--dir", &f.arg()]);
    assert_eq!(list.code, 0, "{}", list.all());
    let items: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "builtin:asset-sample",
            "builtin:case-collisions",
            "builtin:checksum",
            "builtin:csv-source",
            "builtin:csv-target",
            "builtin:jsonl-source",
            "builtin:jsonl-target",
            "builtin:mysql-source",
            "builtin:mysql-target",
            "builtin:orphans",
            "builtin:path-normalize",
            "builtin:path-prefix",
            "builtin:postgres-source",
            "builtin:postgres-target",
            "builtin:prefix-rewrite",
            "builtin:regex-rewrite",
            "builtin:row-count",
            "builtin:smoke",
            "builtin:sqlite-source",
            "builtin:sqlite-target",
            "builtin:unreferenced-objects",
            "builtin:url-template"
        ]
    );
    for (name, world, request) in [
        ("sqlite-source", "source", Some("source")),
        ("postgres-source", "source", Some("source")),
        ("mysql-source", "source", Some("source")),
        ("mysql-target", "target", Some("target")),
        ("postgres-target", "target", Some("target")),
        ("sqlite-target", "target", Some("target")),
        ("jsonl-target", "target", Some("out")),
        ("jsonl-source", "source", Some("in")),
        ("csv-target", "target", Some("out")),
        ("csv-source", "source", Some("in")),
        ("prefix-rewrite", "rewrite", None),
        ("row-count", "validator", Some("target")),
        ("orphans", "validator", Some("target")),
        ("path-prefix", "validator", Some("target")),
        ("asset-sample", "validator", Some("files")),
        ("checksum", "validator", Some("source")),
        ("smoke", "validator", Some("app")),
        ("case-collisions", "validator", Some("target")),
        ("unreferenced-objects", "validator", Some("files")),
    ] {
        let r = f.godwit(&["--json", "plugins", "inspect", name, "--dir", &f.arg()]);
        assert_eq!(r.code, 0, "{}", r.all());
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["worlds"][0], world);
        assert!(v["digest"].as_str().unwrap().starts_with("sha256:"));
        let contract = if name.starts_with("jsonl-")
            || name.starts_with("csv-")
            || name == "row-count"
            || name == "checksum"
        {
            "godwit:plugin@0.3.0"
        } else {
            "godwit:plugin@0.2.0"
        };
        assert_eq!(v["wit_package"], contract, "{name}");
        // What it can ask the host for at all: a reviewer sees the
        // pipeline import of checksum, and sources import no pipeline.
        let imports: Vec<&str> = v["imports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(
            imports.contains(&"pipeline"),
            name == "checksum",
            "{name}: {imports:?}"
        );
        let labels: Vec<&str> = v["info"]["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["label"].as_str().unwrap())
            .collect();
        if let Some(l) = request {
            assert!(labels.contains(&l), "{name}: {labels:?}");
        } else {
            assert!(labels.is_empty());
        }
    }
    // A project instance shows what was granted.
    let q = Fixture::example("quickstart");
    let r = q.godwit(&["plugins", "inspect", "row-count", "--dir", &q.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("sql:target") && r.stdout.contains("[granted: copy]"),
        "{}",
        r.stdout
    );
}

#[test]
fn init_writes_a_project_that_parses() {
    let f = Fixture::empty();
    let r = f.godwit(&["init", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(f.path().join("godwit.toml").exists());
    assert_eq!(
        f.godwit(&["init", &f.arg()]).code,
        2,
        "refuses to overwrite"
    );
    // It parses; it fails only because its example source file does not exist.
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 3, "{}", plan.all());
    assert!(plan.stderr.contains("does not exist"), "{}", plan.stderr);
}

/// Scaffolds one plugin of every kind, builds each with a plain `cargo build`
/// and loads the result.
#[test]
fn scaffolded_plugins_build_and_load() {
    let f = Fixture::empty();
    // Share compiled dependencies between the four crates.
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    for (kind, world) in [
        ("rewrite", "rewrite"),
        ("validator", "validator"),
        ("source", "source"),
        ("target", "target"),
    ] {
        let name = format!("my-{kind}");
        let r = f.godwit(&["plugin", "new", &name, "--kind", kind, "--dir", &f.arg()]);
        assert_eq!(r.code, 0, "{}", r.all());
        let dir = f.path().join(&name);
        let status = std::process::Command::new(env!("CARGO"))
            .arg("build")
            .arg("--quiet")
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo build");
        assert!(
            status.success(),
            "cargo build of the scaffolded {kind} plugin failed"
        );
        let wasm = target
            .join("wasm32-wasip2/debug")
            .join(format!("my_{kind}.wasm"));
        let wasm = wasm.display().to_string();
        let r = f.godwit(&["--json", "plugins", "inspect", &wasm, "--dir", &f.arg()]);
        assert_eq!(r.code, 0, "{}", r.all());
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["worlds"][0], world, "{}", r.stdout);
        assert_eq!(v["info"]["name"], name.as_str());
    }
}
