//! Object storage: blob copy steps between local folders and a real
//! S3-compatible server (s3s-fs, SigV4 enforced), rows and objects agreeing.

use std::path::Path;

use super::common::*;
use godwit_tests::{s3, tree_hashes};

/// Environment for a project whose S3 store reads `S3_KEY` / `S3_SECRET`.
fn s3_env() -> Vec<(&'static str, &'static str)> {
    vec![("S3_KEY", s3::ACCESS_KEY), ("S3_SECRET", s3::SECRET_KEY)]
}

/// A project copying `src/` (prefix `prefix`) into `bucket`, with extra
/// `[[copies]]` settings and extra project text (plugins).
fn s3_copy_project(f: &Fixture, bucket: &str, copy_extra: &str, extra: &str) {
    f.write(
        "godwit.toml",
        &format!(
            r#"[project]
name = "objects"

[stores.local]
type = "fs"
root = "src"

[stores.bucket]
type = "s3"
bucket = "{bucket}"
endpoint = "{endpoint}"
region = "eu-west-1"
access_key_env = "S3_KEY"
secret_key_env = "S3_SECRET"

{extra}

[[copies]]
name = "files"
from = "local"
to = "bucket"
{copy_extra}
"#,
            endpoint = s3::server().endpoint(),
        ),
    );
}

/// Runs `godwit --json run` and returns (exit code, the copy report, all output).
fn run_copy(f: &Fixture, extra_args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["--json", "run"];
    args.extend_from_slice(extra_args);
    let dir = f.arg();
    args.push(&dir);
    let r = f.godwit_env(&args, &s3_env());
    let report: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.all()));
    let copy = report["copies"][0].clone();
    (r.code, copy, r.all())
}

/// Deterministic pseudo-random bytes (xorshift), so big files do not compress
/// or deduplicate into something easier than real data.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The object files of a bucket (s3s-fs keeps metadata outside the bucket
/// folder), relative path -> sha256.
fn bucket_hashes(bucket: &str) -> Vec<(String, String)> {
    tree_hashes(&s3::server().root.join(bucket))
}

/// 10,000 small files, a 100 MiB file (multipart), Unicode and spaces in
/// keys: all copied and verified by checksum; the objects hold exactly the
/// source bytes; a re-run copies nothing; `plan` shows the keys and counts.
#[tokio::test]
async fn copies_many_files_a_multipart_object_and_unicode_keys_to_s3() {
    let f = Fixture::empty();
    let src = f.path().join("src");
    for i in 0..10_000u32 {
        write_file(
            &src.join(format!("uploads/{}/{i}.txt", i % 100)),
            format!("file {i}\n")
                .repeat(1 + (i % 7) as usize)
                .as_bytes(),
        );
    }
    write_file(
        &src.join("uploads/big/recording.bin"),
        &noise(100 << 20 | 12_345, 42),
    );
    write_file(&src.join("uploads/名前 with spaces/ü ß é.m4a"), b"unicode");
    write_file(
        &src.join("uploads/odd/a+b=c&d%20e.txt"),
        b"reserved characters",
    );
    write_file(&src.join("elsewhere/not-copied.txt"), b"outside the prefix");
    let bucket = s3::server().create_bucket();
    s3_copy_project(&f, &bucket, r#"prefix = "uploads/""#, "");

    let plan = f.godwit_env(&["plan", &f.arg()], &s3_env());
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.contains("10003 objects"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("\"uploads/0/0.txt\" -> \"uploads/0/0.txt\""),
        "{}",
        plan.stdout
    );
    assert!(bucket_hashes(&bucket).is_empty(), "plan wrote objects");

    let (code, copy, out) = run_copy(&f, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(copy["objects"], 10_003, "{copy}");
    assert_eq!(copy["copied"], 10_003, "{copy}");
    assert_eq!(copy["failed"], 0, "{copy}");
    // Every copy verified by the ETag the server computed, the 100 MiB one
    // in its multipart form (md5 of part md5s, 13 parts of 8 MiB).
    assert_eq!(copy["verified_by_etag"], 10_003, "{copy}");
    let internal: String = std::fs::read_dir(&s3::server().root)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter(|t| t.contains("-13\""))
        .collect();
    assert!(
        !internal.is_empty(),
        "no multipart ETag recorded by the server"
    );

    let expected: Vec<_> = tree_hashes(&src)
        .into_iter()
        .filter(|(p, _)| p.starts_with("uploads/"))
        .collect();
    assert_eq!(bucket_hashes(&bucket), expected);

    let (code, again, out) = run_copy(&f, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(again["copied"], 0, "{again}");
    assert_eq!(again["skipped"], 10_003, "{again}");
    assert_eq!(again["bytes_copied"], 0, "{again}");
}

/// A run killed mid-copy resumes: objects verified before the kill are not
/// copied again, and the target ends up complete and exact.
#[tokio::test]
async fn an_interrupted_copy_resumes() {
    let f = Fixture::empty();
    let src = f.path().join("src");
    for i in 0..120u64 {
        write_file(
            &src.join(format!("assets/{i:03}.bin")),
            &noise(512 << 10, i),
        );
    }
    let bucket = s3::server().create_bucket();
    s3_copy_project(&f, &bucket, "concurrency = 1", "");
    let journal = f.path().join(".godwit/copies/files.jsonl");
    let mut child = f.spawn(&["run", &f.arg()], &s3_env());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 10 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never got going"
        );
        assert!(child.try_wait().unwrap().is_none(), "finished too early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let done_before = std::fs::read_to_string(&journal).unwrap().lines().count() as u64;
    assert!(done_before < 120, "the copy finished before the kill");

    let (code, copy, out) = run_copy(&f, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(copy["objects"], 120);
    assert_eq!(copy["failed"], 0);
    let skipped = copy["skipped"].as_u64().unwrap();
    assert!(skipped >= done_before, "{copy} (journal had {done_before})");
    assert_eq!(copy["copied"].as_u64().unwrap() + skipped, 120, "{copy}");
    assert_eq!(bucket_hashes(&bucket), tree_hashes(&src));
}

/// An object corrupted at rest in the target (same size, one byte changed)
/// is found by `verify = "read-back"`, reported as repaired and copied again.
#[tokio::test]
async fn a_corrupted_target_object_is_detected_and_repaired() {
    let f = Fixture::empty();
    let src = f.path().join("src");
    for i in 0..20u64 {
        write_file(&src.join(format!("docs/{i}.pdf")), &noise(40_000, i + 100));
    }
    let bucket = s3::server().create_bucket();
    s3_copy_project(&f, &bucket, r#"verify = "read-back""#, "");
    let (code, copy, out) = run_copy(&f, &[]);
    assert_eq!((code, copy["copied"].as_u64()), (0, Some(20)), "{out}");

    let victim = s3::server().object_path(&bucket, "docs/7.pdf");
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[1234] ^= 0xff;
    std::fs::write(&victim, &bytes).unwrap();

    let (code, copy, out) = run_copy(&f, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(copy["repaired"], 1, "{copy}");
    assert_eq!(copy["copied"], 1, "{copy}");
    assert_eq!(copy["skipped"], 19, "{copy}");
    assert!(out.contains("corrupted at rest"), "{out}");
    assert_eq!(bucket_hashes(&bucket), tree_hashes(&src));
}

/// Local folder to local folder: keys mapped by a rule, a key the rule
/// refuses reported with its reason (exit 1), extraneous target files kept
/// unless `delete_extraneous` is set.
#[tokio::test]
async fn local_copy_maps_keys_rejects_escapes_and_deletes_only_when_asked() {
    let f = Fixture::empty();
    write_file(&f.path().join("src/app/.data/a/one.txt"), b"1");
    write_file(&f.path().join("src/app/.data/b/two.txt"), b"22");
    write_file(&f.path().join("src/app/.data/b/Not Lower.TXT"), b"x");
    write_file(&f.path().join("src/app/.data/b/back\\slash.txt"), b"x");
    write_file(&f.path().join("dst/assets/stale.txt"), b"old");
    let project = |delete: bool| {
        format!(
            r#"[project]
name = "local"

[stores.old]
type = "fs"
root = "src"

[stores.new]
type = "fs"
root = "dst"

[plugins.keys]
path = "builtin:regex-rewrite"
params = {{ pattern = '^/app/\.data/([a-z]+/[a-z]+\.txt)$', replacement = "assets/$1", on_mismatch = "reject" }}

[[copies]]
name = "assets"
from = "old"
to = "new"
prefix = "app/.data/"
value_prefix = "/"
rule = "keys"
max_failures = 2
delete_extraneous = {delete}
"#
        )
    };
    f.write("godwit.toml", &project(false));
    let r = f.godwit(&["--json", "run", &f.arg()]);
    // Within max_failures the run completes, and still exits 1: objects
    // were left behind, as with rejected rows.
    assert_eq!(r.code, 1, "{}", r.all());
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let copy = &report["copies"][0];
    assert_eq!(
        (copy["copied"].as_u64(), copy["failed"].as_u64()),
        (Some(2), Some(2)),
        "{copy}"
    );
    assert_eq!(copy["verified_by_read_back"], 2, "{copy}");
    let rejects = std::fs::read_to_string(report["rejects_file"].as_str().unwrap()).unwrap();
    assert!(
        rejects.contains("app/.data/b/Not Lower.TXT") && rejects.contains("\"stage\":\"rewrite\""),
        "{rejects}"
    );
    assert!(
        rejects.contains("slash.txt") && rejects.contains("\"stage\":\"read\""),
        "{rejects}"
    );
    assert_eq!(
        tree_hashes(&f.path().join("dst"))
            .into_iter()
            .map(|(p, _)| p)
            .collect::<Vec<_>>(),
        ["assets/a/one.txt", "assets/b/two.txt", "assets/stale.txt"]
    );

    f.write("godwit.toml", &project(true));
    let r = f.godwit(&["--json", "run", &f.arg()]);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["copies"][0]["deleted"], 1, "{}", r.all());
    assert_eq!(report["copies"][0]["skipped"], 2, "{}", r.all());
    assert!(!f.path().join("dst/assets/stale.txt").exists());
}

/// Wrong credentials fail with the service's reason and exit 3, never
/// showing the secret; credentials missing from the environment are a
/// project error naming the variable.
#[tokio::test]
async fn bad_credentials_are_reported_without_the_secret() {
    let f = Fixture::empty();
    write_file(&f.path().join("src/x.txt"), b"x");
    let bucket = s3::server().create_bucket();
    s3_copy_project(&f, &bucket, "", "");
    let secret = "wrong-secret-Zq81x";
    let r = f.godwit_env(
        &["run", &f.arg()],
        &[("S3_KEY", s3::ACCESS_KEY), ("S3_SECRET", secret)],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.all().contains("SignatureDoesNotMatch"), "{}", r.all());
    assert!(!r.all().contains(secret), "{}", r.all());
    let files: String = tree_hashes(f.path())
        .into_iter()
        .map(|(p, _)| std::fs::read_to_string(f.path().join(p)).unwrap_or_default())
        .collect();
    assert!(!files.contains(secret), "secret written to a file");

    let r = f.godwit_env(&["plan", &f.arg()], &[("S3_KEY", s3::ACCESS_KEY)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("S3_SECRET is not set") && r.stderr.contains("godwit.toml:9:"),
        "{}",
        r.all()
    );
}

/// A plugin copies objects through the WIT `blob` interface into an S3
/// bucket, 64 KiB per call: a 9 MiB object becomes a multipart upload (two parts) on
/// the host side, and the plugin never holds more than one chunk.
#[test]
fn a_plugin_streams_a_large_object_through_the_blob_interface() {
    let bucket = s3::server().create_bucket();
    let big = noise(9 << 20, 7);
    write_file(&s3::server().object_path(&bucket, "in/big.bin"), &big);
    let extra = "grants.blob = { files = \"bucket\" }\n";
    let f = hostile_project("blob", extra);
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    let stores = format!(
        "[stores.bucket]\ntype = \"s3\"\nbucket = \"{bucket}\"\nendpoint = \"{}\"\n\
         access_key_env = \"S3_KEY\"\nsecret_key_env = \"S3_SECRET\"\n\n[plugins.evil]",
        s3::server().endpoint()
    );
    f.write("godwit.toml", &toml.replace("[plugins.evil]", &stores));
    let run = f.godwit_env(&["run", &f.arg()], &s3_env());
    assert_eq!(run.code, 0, "{}", run.all());
    let copied = std::fs::read(s3::server().object_path(&bucket, "copies/in/big.bin")).unwrap();
    assert!(copied == big, "the object copied by the plugin differs");
}

/// `examples/staging-assets` as shipped (no server): the database and the
/// asset tree beside it; every path in the copied rows names a file of the
/// staging folder with the production bytes, prefix kept; a re-run copies
/// nothing.
#[tokio::test]
async fn staging_assets_example_copies_rows_and_files_with_the_prefix_kept() {
    let f = Fixture::example("staging-assets");
    let r = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["copies"][0]["copied"], 92, "{report}");
    let staging = f.path().join("out/app-data");
    let prod = f.path().join("data/app-data");
    let mut checked = 0;
    for (table, rows) in dump(
        &f.path().join("out/staging.db"),
        &["knowledge_materials", "ugc_assets", "gallery_items"],
    )
    .await
    {
        for row in rows {
            let Some(path) = row[2].strip_prefix("t:/app/.data/") else {
                assert_eq!(row[2], "NULL", "{table}: {row:?}");
                continue;
            };
            if path.ends_with('/') {
                assert!(staging.join(path).is_dir(), "{table}: {path}");
            } else {
                assert_eq!(
                    std::fs::read(staging.join(path)).unwrap(),
                    std::fs::read(prod.join(path)).unwrap(),
                    "{table}: {path}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 30 + 36 + 10);
    assert_eq!(tree_hashes(&staging), tree_hashes(&prod));
    let again = f.godwit(&["--json", "run", &f.arg()]);
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(report["copies"][0]["skipped"], 92, "{}", again.all());
}

/// Folder copies killed with SIGKILL at several moments never leave a
/// truncated object at its final key (on e16b6b6, 8 of 8 killed copies
/// left 1–4): every file visible in the target equals its source, and a
/// plain re-run completes the copy exactly.
#[test]
fn killed_folder_copies_leave_no_partial_object_visible() {
    let f = Fixture::empty();
    let src = f.path().join("src");
    // Objects large enough that a kill usually lands inside one.
    for i in 0..24u64 {
        write_file(&src.join(format!("a/{i:02}.bin")), &noise(3 << 20, i));
    }
    folder_copy_project(&f, "concurrency = 4");
    let journal = f.path().join(".godwit/copies/files.jsonl");
    let source = tree_hashes(&src);
    for (round, after) in [2usize, 5, 9, 14].into_iter().enumerate() {
        let mut child = f.spawn(&["run", &f.arg()], &[]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let lines = std::fs::read_to_string(&journal)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if lines >= after || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never got going");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = child.kill();
        child.wait().unwrap();
        // Whatever is visible at a final key is complete.
        for (key, hash) in tree_hashes(&f.path().join("dst")) {
            if key.contains(".godwit-tmp-") {
                continue;
            }
            let want = source.iter().find(|(k, _)| *k == key).map(|(_, h)| h);
            assert_eq!(want, Some(&hash), "round {round}: {key} is partial");
        }
    }
    let (code, copy, out) = run_copy(&f, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(copy["failed"], 0, "{copy}");
    // The partial files of the killed runs are gone too.
    assert_eq!(tree_hashes(&f.path().join("dst")), source);
}

/// Issue 14 (smaller): a copy into a bucket that does not exist failed
/// with a long `ConfigInvalid (persistent) … NoSuchBucket`. Now the error
/// says the bucket is missing, names it, and how to create it; and `plan`
/// says so before anything runs.
#[test]
fn a_missing_bucket_is_named_with_the_way_to_create_it() {
    let f = Fixture::empty();
    write_file(&f.path().join("src/a.txt"), b"a");
    s3_copy_project(&f, "no-such-bucket-here", "", "");
    let dir = f.arg();
    let run = f.godwit_env(&["run", &dir], &s3_env());
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("the bucket \"no-such-bucket-here\" of store bucket does not exist"),
        "{}",
        run.all()
    );
    assert!(
        run.all().contains("mb s3://no-such-bucket-here"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("ConfigInvalid"), "{}", run.all());
    let plan = f.godwit_env(&["plan", &dir], &s3_env());
    assert_ne!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.all().contains("does not exist on its endpoint"),
        "{}",
        plan.all()
    );
}
