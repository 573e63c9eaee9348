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
