//! Plugins are contained: ungranted access is denied, runaway guests are
//! stopped within their limits, and the host reports them and exits 3.

use super::common::*;

fn assert_contained(r: &Run, needle: &str) {
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr.contains("plugin evil"),
        "names the plugin: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("sha256:"),
        "names the digest: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(needle),
        "expected {needle:?}: {}",
        r.stderr
    );
}

#[test]
fn ungranted_connection_is_access_denied() {
    let f = hostile_project("sneaky", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "access-denied");
    assert!(
        r.stderr.contains("\"db\" is not granted to plugin evil"),
        "{}",
        r.stderr
    );
    // A connection granted to *another* plugin is no help either.
    let f = hostile_project("sneaky", "grants.sql = {}\n");
    assert_contained(&f.godwit(&["run", &f.arg()]), "access-denied");
}

#[test]
fn infinite_loop_is_stopped_at_the_deadline() {
    let f = hostile_project("loop", "limits = { call_timeout_ms = 300 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its time limit of 300 ms",
    );
}

#[test]
fn memory_bomb_is_stopped_at_the_limit() {
    let f = hostile_project("memory", "limits = { memory_mib = 32 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its memory limit of 32 MiB",
    );
}

#[test]
fn panic_is_reported_with_its_message() {
    let f = hostile_project("panic", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "panicked");
    assert!(
        r.stderr.contains("hostile guest panicking on purpose"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_well_behaved_guest_in_the_same_setup_runs() {
    let f = hostile_project("ok", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn printing_a_lot_is_not_a_crash() {
    // Output beyond the capture buffer is discarded, not an error.
    let f = hostile_project("chatty", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.stdout.contains("xxxxxxxx"),
        "plugin output must not reach the terminal"
    );
}

#[test]
fn a_non_component_file_is_a_load_error() {
    let f = hostile_project("ok", "");
    f.write("bogus.wasm", "this is not wasm");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write("godwit.toml", &toml.replace(guests::HOSTILE, "bogus.wasm"));
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("plugin evil"), "{}", r.stderr);
}

/// The `blob` capability end to end: a guest lists a granted local store,
/// reads every object in chunks, writes copies, and cannot leave the root;
/// without the grant it gets `access-denied`; in `plan` writes are refused.
#[test]
fn blob_capability_reads_and_writes_granted_stores_only() {
    let extra = "grants.blob = { files = \"uploads\" }\n";
    let f = hostile_project("blob", extra);
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(
            "[plugins.evil]",
            "[stores.uploads]\ntype = \"fs\"\nroot = \"uploads\"\n\n[plugins.evil]",
        ),
    );
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::create_dir_all(f.path().join("uploads/7")).unwrap();
    std::fs::write(f.path().join("uploads/7/audio.m4a"), &big).unwrap();
    std::fs::write(f.path().join("uploads/notes ü.txt"), "hello").unwrap();
    std::fs::write(f.path().join("outside.txt"), "secret").unwrap();

    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(
        plan.code,
        3,
        "plan refuses the guest's writes\n{}",
        plan.all()
    );
    assert!(plan.stderr.contains("read-only"), "{}", plan.stderr);
    assert!(
        !f.path().join("uploads/copies").exists(),
        "plan wrote nothing"
    );

    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        std::fs::read(f.path().join("uploads/copies/7/audio.m4a")).unwrap(),
        big
    );
    assert_eq!(
        std::fs::read_to_string(f.path().join("uploads/copies/notes ü.txt")).unwrap(),
        "hello"
    );

    // Without the grant: access-denied.
    f.write(
        "godwit.toml",
        &std::fs::read_to_string(f.path().join("godwit.toml"))
            .unwrap()
            .replace(extra, ""),
    );
    let denied = f.godwit(&["run", &f.arg()]);
    assert_eq!(denied.code, 3, "{}", denied.all());
    assert!(
        denied
            .stderr
            .contains("blob label \"files\" is not granted to plugin evil"),
        "{}",
        denied.stderr
    );
}

/// Deep recursion overflows the guest's stack: a trap, reported, host fine.
#[test]
fn unbounded_recursion_is_a_contained_trap() {
    let f = hostile_project("recurse", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "stack");
}

/// A flood of connections stops at the plugin's connection limit (default
/// 8, here configured to 3) with a clear error; the host carries on.
#[test]
fn a_flood_of_handles_hits_the_limit() {
    let f = hostile_project("handles", "grants.sql = { db = \"copy\" }\n");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "the host refused handle 9");
    assert!(
        r.stderr.contains("open connections (limit 8)"),
        "{}",
        r.stderr
    );
    let f = hostile_project(
        "handles",
        "grants.sql = { db = \"copy\" }\nlimits = { max_connections = 3 }\n",
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "the host refused handle 4");
    assert!(
        r.stderr.contains("open connections (limit 3)"),
        "{}",
        r.stderr
    );
}

/// A rule returning more outcomes than values is refused, not trusted.
#[test]
fn an_oversized_answer_is_refused() {
    let f = hostile_project("oversize", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("outcomes for"), "{}", r.stderr);
}

/// An enormous answer (four million outcomes for a batch of a few hundred
/// values) is bounded by the guest's own memory limit and refused by the
/// host; the host stays well.
#[test]
fn an_enormous_answer_is_contained() {
    let f = hostile_project("enormous", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("4000000 outcomes for"), "{}", r.stderr);
    // With less memory the guest cannot even build it: a contained trap.
    let f = hostile_project("enormous", "limits = { memory_mib = 32 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its memory limit of 32 MiB",
    );
}

/// Instance and table limits are per plugin too: a component needs a few
/// core instances, so a limit of one refuses to instantiate it, contained.
#[test]
fn instance_limits_are_configurable_per_plugin() {
    let f = hostile_project("ok", "limits = { max_instances = 1 }\n");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("plugin evil"), "{}", r.stderr);
    assert!(r.stderr.contains("instance"), "{}", r.stderr);
}

/// Through WASI a guest sees no files, no environment, no arguments and no
/// network; clocks and randomness work (hash maps need them). What it saw is
/// written into the rows, so the test reads it from the target database.
#[tokio::test]
async fn wasi_gives_no_files_env_or_network() {
    let f = hostile_project("probe", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows = dump(&f.path().join("out/app.db"), &["tasks"]).await;
    let seen = rows[0].1[0]
        .iter()
        .find(|c| c.starts_with("t:fs:"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        seen,
        "t:fs:denied env:0 args:0 net:denied clock:true random:ok"
    );
}

/// A component built against another version of the contract is refused
/// by name and version before it runs.
#[test]
fn a_component_for_another_wit_version_is_refused() {
    let f = hostile_project("ok", "");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(guests::HOSTILE, guests::OLD_WIT),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr
            .contains("built against godwit:plugin@0.1.0; this host supports godwit:plugin@0.2.0"),
        "{}",
        r.stderr
    );
}

/// A component importing an interface the host does not offer cannot be
/// linked: refused with the import named, nothing runs.
#[test]
fn an_undeclared_import_is_refused() {
    let f = hostile_project("ok", "");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(guests::HOSTILE, guests::EVIL_IMPORT),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("godwit:evil/backdoor"), "{}", r.stderr);
    assert!(!f.path().join("out/app.db").exists(), "ran anyway");
}

/// A project granting the hostile guest the folder store `uploads` as
/// `files`, in `mode`.
fn hostile_blob_project(mode: &str) -> Fixture {
    let f = hostile_project(mode, "grants.blob = { files = \"uploads\" }\n");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(
            "[plugins.evil]",
            "[stores.uploads]\ntype = \"fs\"\nroot = \"uploads\"\n\n[plugins.evil]",
        ),
    );
    f
}

/// Symbolic links inside a folder store cannot take a plugin outside its
/// root: reads, stats, listings, writes and deletes through a link to an
/// outside folder or file are all refused, and nothing outside changes.
/// (On e16b6b6 every one of them worked.)
#[tokio::test]
async fn symlinks_do_not_lead_out_of_a_folder_store() {
    let f = hostile_blob_project("escape");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::fs::write(outside.path().join("victim.txt"), "keep me").unwrap();
    std::fs::write(outside.path().join("file.txt"), "outside file").unwrap();
    std::fs::create_dir_all(f.path().join("uploads")).unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path().join("uploads/evil")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("file.txt"),
        f.path().join("uploads/link.txt"),
    )
    .unwrap();
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows = dump(&f.path().join("out/app.db"), &["tasks"]).await;
    let seen: Vec<&String> = rows[0]
        .1
        .iter()
        .flat_map(|row| row.iter())
        .filter(|c| c.starts_with("t:") && !c.contains('/') && c.len() < 80)
        .collect();
    assert!(
        seen.iter().any(|c| *c == "t:none"),
        "every escape must be refused, the guest saw: {seen:?}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("victim.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("file.txt")).unwrap(),
        "outside file"
    );
    assert!(!outside.path().join("planted.txt").exists());
}

/// The copy step reports a symbolic link in the source folder instead of
/// following it (a link to a folder outside would copy data nobody
/// granted), and a link in the target folder does not redirect its writes.
#[test]
fn copies_report_symlinks_and_never_write_through_them() {
    let f = Fixture::empty();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::fs::create_dir_all(f.path().join("src/a")).unwrap();
    std::fs::write(f.path().join("src/a/ok.txt"), "fine").unwrap();
    std::fs::write(f.path().join("src/b.txt"), "also fine").unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path().join("src/evil")).unwrap();
    std::fs::create_dir_all(f.path().join("dst")).unwrap();
    // The target's `a` folder is a link to the outside: writes into it are
    // refused, not redirected.
    std::os::unix::fs::symlink(outside.path(), f.path().join("dst/a")).unwrap();
    f.write(
        "godwit.toml",
        r#"[project]
name = "links"

[stores.src]
type = "fs"
root = "src"

[stores.dst]
type = "fs"
root = "dst"

[[copies]]
name = "files"
from = "src"
to = "dst"
"#,
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(f.path().join("dst/b.txt")).unwrap(),
        "also fine"
    );
    assert!(
        !outside.path().join("ok.txt").exists(),
        "wrote through a link"
    );
    assert!(!f.path().join("dst/evil").exists(), "followed a link");
    let rejects = std::fs::read_dir(f.path().join(".godwit/runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rejects.jsonl"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<String>();
    assert!(rejects.contains("symbolic link"), "{rejects}");
    assert!(rejects.contains("a/ok.txt"), "{rejects}");
}
