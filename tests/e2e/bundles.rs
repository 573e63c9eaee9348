//! Signed plugin bundles end to end: keygen → pack → sign → verify → run,
//! and every way a bundle can be wrong refused before any code is compiled.

use std::path::Path;

use super::common::*;
use godwit_tests::guests;

/// A quickstart project whose rewrite rule comes from `bundle` (a path
/// relative to the project), trusting `keys`.
fn bundled_project(f: &Fixture, bundle: &str, keys: &[&str]) {
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    let keys = keys
        .iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let toml = toml
        .replace(
            "[connections.app]",
            &format!("[trust]\nkeys = [{keys}]\n\n[connections.app]"),
        )
        .replace(
            "[plugins.audio-path]\npath = \"builtin:prefix-rewrite\"\nparams = { from = \"/app/.data/uploads/\", to = \"s3://meetings/uploads/\" }",
            &format!("[plugins.audio-path]\npath = \"bundle:{bundle}#rule\"\nparams = {{ mode = \"ok\" }}"),
        );
    assert!(toml.contains("bundle:"), "quickstart changed shape");
    f.write("godwit.toml", &toml);
}

fn ok(r: &godwit_tests::Run) {
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Packs the test guest as component `rule` into `out` (an archive for
/// `.bundle`, else a directory) and signs it with the listed keys.
fn pack_and_sign(f: &Fixture, out: &str, signers: &[&str]) {
    let spec = format!("rule={}", guests::HOSTILE);
    ok(&f.godwit(&[
        "bundle",
        "pack",
        "--name",
        "acme-rules",
        "--version",
        "1.0.0",
        "--out",
        &f.path().join(out).display().to_string(),
        &spec,
    ]));
    for s in signers {
        ok(&f.godwit(&[
            "bundle",
            "sign",
            &f.path().join(out).display().to_string(),
            "--key",
            &f.path().join(format!("keys/{s}.key")).display().to_string(),
        ]));
    }
}

fn keygen(f: &Fixture, name: &str) {
    ok(&f.godwit(&[
        "keygen",
        name,
        "--dir",
        &f.path().join("keys").display().to_string(),
    ]));
}

/// The entries of a bundle archive, in order.
fn read_archive(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let mut entries = Vec::new();
    let mut a = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        entries.push((name, bytes));
    }
    entries
}

/// Writes entries as a bundle archive.
fn write_archive(archive: &Path, entries: Vec<(String, Vec<u8>)>) {
    let mut b = tar::Builder::new(std::fs::File::create(archive).unwrap());
    for (name, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, &name, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap();
}

/// Rewrites one entry of a bundle archive (tar) in place.
fn rewrite_entry(archive: &Path, entry: &str, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut entries = read_archive(archive);
    let target = entries
        .iter_mut()
        .find(|(n, _)| n == entry)
        .expect("entry in the archive");
    edit(&mut target.1);
    write_archive(archive, entries);
}

/// The reviewed path: pack, sign, verify, run; the run report names the
/// bundle, its digest and signer; godwit.lock pins the bundle on first use
/// and refuses it once its content changes, even re-signed by a trusted key.
#[test]
fn a_reviewed_bundle_round_trips_and_is_pinned() {
    let f = Fixture::example("quickstart");
    keygen(&f, "alice");
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    let v = f.godwit(&[
        "--json",
        "bundle",
        "verify",
        &f.path().join("acme.bundle").display().to_string(),
        "--trust",
        &f.path().join("keys/alice.pub").display().to_string(),
    ]);
    ok(&v);
    let report: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(report["components"][0]["worlds"][0], "rewrite");
    assert_eq!(report["signatures"][0]["reviewer"], "alice");
    let requests = report["components"][0]["requests"].to_string();
    assert!(
        requests.contains("sql:db") && requests.contains("blob:files"),
        "{requests}"
    );

    bundled_project(&f, "acme.bundle", &["keys/alice.pub"]);
    let plan = f.godwit(&["plan", &f.arg()]);
    ok(&plan);
    assert!(
        !f.path().join("godwit.lock").exists(),
        "plan wrote the lockfile"
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    ok(&run);
    let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let plugin = r["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["instance"] == "audio-path")
        .unwrap();
    assert!(
        plugin["origin"]
            .as_str()
            .unwrap()
            .starts_with("bundle acme-rules 1.0.0 (sha256:"),
        "{plugin}"
    );
    assert_eq!(plugin["signers"][0], "alice");
    let lock = std::fs::read_to_string(f.path().join("godwit.lock")).unwrap();
    assert!(
        lock.contains("name = \"acme-rules\"") && lock.contains("digest = \"sha256:"),
        "{lock}"
    );

    // Same name and version, different content, signed again by alice:
    // still refused, because the lockfile pinned the reviewed digest.
    std::fs::remove_file(f.path().join("acme.bundle")).unwrap();
    let spec = format!("rule={}", guests::HOSTILE);
    ok(&f.godwit(&[
        "bundle",
        "pack",
        "--name",
        "acme-rules",
        "--version",
        "1.0.1",
        "--out",
        &f.path().join("acme.bundle").display().to_string(),
        &spec,
    ]));
    ok(&f.godwit(&[
        "bundle",
        "sign",
        &f.path().join("acme.bundle").display().to_string(),
        "--key",
        &f.path().join("keys/alice.key").display().to_string(),
    ]));
    let changed = f.godwit(&["run", &f.arg()]);
    assert_eq!(changed.code, 3, "{}", changed.all());
    assert!(
        changed
            .stderr
            .contains("changed since godwit.lock pinned it"),
        "{}",
        changed.stderr
    );
}

/// Every tampering is refused before any code is compiled, with a message
/// that says what is wrong: unsigned, unknown signer, a flipped bit in a
/// component, a component swapped after signing (manifest edited), an
/// extra file, and a plugin asking for capabilities its reviewers did not
/// sign. Unsigned component files need the development opt-in.
#[test]
fn tampered_unsigned_and_untrusted_bundles_are_refused() {
    let f = Fixture::example("quickstart");
    keygen(&f, "alice");
    keygen(&f, "mallory");
    let bundle = f.path().join("acme.bundle");
    let run_expecting = |needle: &str| {
        let r = f.godwit(&["run", &f.arg()]);
        assert_eq!(r.code, 3, "{needle}: {}", r.all());
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
        assert!(
            !f.path().join("out/app.db").exists(),
            "{needle}: ran anyway"
        );
    };
    bundled_project(&f, "acme.bundle", &["keys/alice.pub"]);

    pack_and_sign(&f, "acme.bundle", &[]);
    run_expecting("not signed");

    pack_and_sign(&f, "acme.bundle", &["mallory"]);
    run_expecting("signed by mallory");

    pack_and_sign(&f, "acme.bundle", &["alice"]);
    rewrite_entry(&bundle, "components/rule.wasm", |b| {
        let i = b.len() / 2;
        b[i] ^= 0x01;
    });
    run_expecting("modified after it was packed");

    // Swap the component and fix up the manifest's digest: the signature
    // over the manifest no longer matches.
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    let other = b"\0asm\x0d\0\x01\0".to_vec();
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&other))
    };
    let mut old_digest = String::new();
    rewrite_entry(&bundle, "components/rule.wasm", |b| *b = other.clone());
    rewrite_entry(&bundle, "bundle.toml", |m| {
        let text = String::from_utf8(m.clone()).unwrap();
        let line = text.lines().find(|l| l.starts_with("sha256")).unwrap();
        old_digest = line.to_owned();
        let size_line = text.lines().find(|l| l.starts_with("size")).unwrap();
        *m = text
            .replace(line, &format!("sha256 = \"{digest}\""))
            .replace(size_line, &format!("size = {}", other.len()))
            .into_bytes();
    });
    assert!(!old_digest.is_empty());
    run_expecting("modified after signing");

    // An extra file nobody reviewed.
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    let mut entries = read_archive(&bundle);
    entries.push(("components/cache.cwasm".into(), b"precompiled".to_vec()));
    write_archive(&bundle, entries);
    run_expecting("unexpected entry \"components/cache.cwasm\"");

    // A reviewer signed a manifest listing fewer capabilities than the
    // component asks for (a directory bundle, edited before signing).
    let spec = format!("rule={}", guests::HOSTILE);
    ok(&f.godwit(&[
        "bundle",
        "pack",
        "--name",
        "acme-rules",
        "--version",
        "1.0.0",
        "--out",
        &f.path().join("acme-dir").display().to_string(),
        &spec,
    ]));
    let manifest = f.path().join("acme-dir/bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let cut = text.find("[[component.requests]]").unwrap();
    std::fs::write(&manifest, &text[..cut]).unwrap();
    ok(&f.godwit(&[
        "bundle",
        "sign",
        &f.path().join("acme-dir").display().to_string(),
        "--key",
        &f.path().join("keys/alice.key").display().to_string(),
    ]));
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace("bundle:acme.bundle#rule", "bundle:acme-dir#rule"),
    );
    run_expecting("which its reviewed manifest does not list");

    // A plain component file without the development opt-in.
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace("bundle:acme-dir#rule", guests::HOSTILE),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("allow_unsigned_plugins"), "{}", r.stderr);
}
