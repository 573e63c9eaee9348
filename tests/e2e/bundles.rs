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

/// Review counts people: one reviewer's signature file copied under a
/// second name is one signature, not two (on e16b6b6 it satisfied
/// `min_signatures = 2`, listing the same key twice as signers).
#[test]
fn one_reviewer_signing_twice_is_one_signature() {
    let f = Fixture::example("quickstart");
    keygen(&f, "alice");
    keygen(&f, "bob");
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    let bundle = f.path().join("acme.bundle");
    let mut entries = read_archive(&bundle);
    let sig = entries
        .iter()
        .find(|(n, _)| n == "signatures/alice.sig")
        .cloned()
        .unwrap();
    entries.push(("signatures/alice-again.sig".into(), sig.1));
    write_archive(&bundle, entries);
    bundled_project(&f, "acme.bundle", &["keys/alice.pub", "keys/bob.pub"]);
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace("[trust]\n", "[trust]\nmin_signatures = 2\n"),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr
            .contains("1 distinct trusted signer(s), 2 required"),
        "{}",
        r.stderr
    );
    // A second, different reviewer makes two.
    pack_and_sign(&f, "acme.bundle", &["alice", "bob"]);
    ok(&f.godwit(&["run", &f.arg()]));
}

/// An archive holding two entries of one name is ambiguous (which one was
/// reviewed depends on the reader): refused, and `bundle verify` says so
/// with exit 1 (a refused bundle), as docs/cli.md promises (e16b6b6: the
/// last entry won, and a malformed bundle exited 3).
#[test]
fn duplicate_archive_entries_are_refused_and_verify_exits_1() {
    let f = Fixture::example("quickstart");
    keygen(&f, "alice");
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    let bundle = f.path().join("acme.bundle");
    let mut entries = read_archive(&bundle);
    entries.push(("components/rule.wasm".into(), b"\0asm\x0d\0\x01\0".to_vec()));
    write_archive(&bundle, entries);
    let v = f.godwit(&[
        "bundle",
        "verify",
        &bundle.display().to_string(),
        "--trust",
        &f.path().join("keys/alice.pub").display().to_string(),
    ]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(v.all().contains("appears more than once"), "{}", v.all());
    bundled_project(&f, "acme.bundle", &["keys/alice.pub"]);
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("appears more than once"), "{}", r.stderr);
}

/// Compiled code in the cache is bound to its source digest and this
/// host: a `.cwasm` copied over another entry's name (e16b6b6 ran it
/// under the verified bundle's digest) or edited is ignored, and the
/// component compiled again from its verified bytes.
#[test]
fn a_swapped_compiled_component_in_the_cache_is_not_run() {
    let mut f = Fixture::example("quickstart");
    let cache = f.path().join("private-cache");
    f.cache = cache.clone();
    keygen(&f, "alice");
    pack_and_sign(&f, "acme.bundle", &["alice"]);
    bundled_project(&f, "acme.bundle", &["keys/alice.pub"]);
    let from_cache = |r: &godwit_tests::Run| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let p = v["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["instance"] == "audio-path")
            .unwrap()
            .clone();
        p["start"]["from_cache"].clone()
    };
    ok(&f.godwit(&["--json", "run", &f.arg()]));
    let second = f.godwit(&["--json", "run", "--fresh", &f.arg()]);
    ok(&second);
    assert_eq!(from_cache(&second), true);

    // Copy another component's compiled code over the bundle's entry.
    let dir = cache.join("components");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(godwit_tests::guests::HOSTILE).unwrap(),
        ))
    };
    let ours = files
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&digest)
        })
        .expect("the bundle's component is cached")
        .clone();
    let other = files.iter().find(|p| **p != ours).unwrap().clone();
    std::fs::copy(&other, &ours).unwrap();
    let third = f.godwit(&["--json", "-v", "run", "--fresh", &f.arg()]);
    ok(&third);
    assert!(
        third.stderr.contains("ignoring unusable cache entry")
            && third.stderr.contains("tag does not match"),
        "the swapped entry was used: {}",
        third.stderr
    );
    // And it is cached correctly again.
    let fourth = f.godwit(&["--json", "run", "--fresh", &f.arg()]);
    ok(&fourth);
    assert_eq!(from_cache(&fourth), true);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is private");
}
