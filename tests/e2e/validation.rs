//! Validation and rehearsal against real PostgreSQL: the staging-rehearsal
//! example clean and with planted defects, `plan` changing nothing, the
//! `count(*)` timeout falling back to an estimate, smoke checks against a
//! real HTTP server, and the exit codes.

use std::path::Path;

use super::common::*;
use godwit_tests::{pg, tree_hashes};

/// The staging-rehearsal example with a production database loaded from its
/// `data/prod.sql` and an empty staging database: `(fixture, env, prod db, staging db)`.
fn rehearsal() -> (Fixture, Vec<(String, String)>, String, String) {
    let f = Fixture::example("staging-rehearsal");
    let s = pg::server();
    let prod = s.create_db();
    let staging = s.create_db();
    let name = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    s.psql_file(&name(&prod), &f.path().join("data/prod.sql"));
    let env = vec![
        ("STAGING_PROD_PG_URL".to_owned(), prod.clone()),
        ("STAGING_PG_URL".to_owned(), staging.clone()),
    ];
    (f, env, name(&prod), name(&staging))
}

fn godwit(f: &Fixture, args: &[&str], env: &[(String, String)]) -> godwit_tests::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = f.arg();
    let mut a = args.to_vec();
    a.push(&dir);
    f.godwit_env(&a, &env)
}

/// `(check, subject)` of every failing finding, sorted.
fn failing(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Clean rehearsal: `plan` leaves production, staging and both folders
/// byte-for-byte unchanged; `run` copies everything and every validator
/// passes (exit 0); `validate` alone agrees; a report is written.
#[test]
fn staging_rehearsal_passes_clean_and_plan_writes_nothing() {
    let (f, env, prod, staging) = rehearsal();
    let s = pg::server();
    let before = (s.dump(&prod), s.dump(&staging), tree_hashes(f.path()));
    let plan = godwit(&f, &["plan"], &env);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.contains("127 objects"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("validators after writing: row-count (step all), orphans (step all)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "validators before writing: prod-orphans (step all), prod-leftovers (step all)"
        ),
        "{}",
        plan.stdout
    );

    let after = (s.dump(&prod), s.dump(&staging), tree_hashes(f.path()));
    assert!(before.0 == after.0, "plan changed the production database");
    assert!(before.1 == after.1, "plan changed the staging database");
    assert_eq!(before.2, after.2, "plan wrote files");
    // The checks before writing need no staging database at all; the clean
    // data has five uploads no row references (a warning, not a failure).
    let early = godwit(&f, &["--json", "validate", "--before"], &env);
    assert_eq!(early.code, 0, "{}", early.all());
    let r: serde_json::Value = serde_json::from_str(&early.stdout).unwrap();
    assert!(r["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["when"] == "before"));

    let run = godwit(&f, &["--json", "run"], &env);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(failing(&report), Vec::<(String, String)>::new());
    let checks: std::collections::BTreeSet<&str> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks.into_iter().collect::<Vec<_>>(),
        [
            "asset-sample",
            "checksum",
            "orphans",
            "path-prefix",
            "row-count",
            "unreferenced-objects"
        ]
    );
    let run_dir = Path::new(report["run_dir"].as_str().unwrap());
    assert!(std::fs::read_to_string(run_dir.join("report.md"))
        .unwrap()
        .starts_with("# godwit run of staging-rehearsal: passed"));

    let again = godwit(&f, &["validate"], &env);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stdout.contains("validation passed"),
        "{}",
        again.stdout
    );

    // Staging drifts: a changed value, a lost row, an extra row. `checksum`
    // names each row, `row-count` the tables whose counts moved.
    s.psql(
        &staging,
        "UPDATE knowledge_materials SET title = 'edited' WHERE id = 17; \
         DELETE FROM gallery_items WHERE id = 4; \
         INSERT INTO users VALUES (99, 'new@example.com', now())",
    );
    let drift = godwit(&f, &["--json", "validate"], &env);
    assert_eq!(drift.code, 1, "{}", drift.all());
    let r: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let pairs = |check: &str| -> Vec<(String, String)> {
        r["validation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["check"] == check && x["severity"] == "error")
            .map(|x| {
                (
                    x["subject"].as_str().unwrap().to_owned(),
                    x["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let mut sums = pairs("checksum");
    sums.sort();
    assert_eq!(sums.len(), 3, "{sums:?}");
    assert_eq!(sums[0].0, "gallery_items");
    assert!(sums[0].1.contains("4 (missing in the target)"), "{sums:?}");
    assert_eq!(sums[1].0, "knowledge_materials");
    assert!(sums[1].1.contains("17 (different values)"), "{sums:?}");
    assert_eq!(sums[2].0, "users");
    assert!(sums[2].1.contains("99 (only in the target)"), "{sums:?}");
    let mut counts: Vec<String> = pairs("row-count").into_iter().map(|(s, _)| s).collect();
    counts.sort();
    assert_eq!(counts, ["gallery_items", "users"]);
}

/// With the defects of `plant_defects.sh` (an orphan behind a NOT VALID
/// foreign key, a missing file, a mode-000 file, a path outside /app/.data),
/// the run fails with exit 1 and exactly those findings, failing ones first.
#[test]
fn staging_rehearsal_with_defects_fails_with_exactly_the_planted_findings() {
    let (f, env, prod, _) = rehearsal();
    let s = pg::server();
    let path = format!(
        "{}:{}",
        s.bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let planted = std::process::Command::new("bash")
        .arg(f.path().join("plant_defects.sh"))
        .arg(s.url(&prod))
        .arg(f.path().join("data/app-data"))
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        planted.status.success(),
        "{}",
        String::from_utf8_lossy(&planted.stderr)
    );
    let k = |id: u32| {
        s.psql(
            &prod,
            &format!("SELECT storage_path FROM knowledge_materials WHERE id = {id}"),
        )
        .trim()
        .to_owned()
    };
    let (missing, unreadable) = (k(5), k(7));

    // Before writing, production alone: the orphan, and among the uploads
    // no row references the file row 3 no longer points at (its path now
    // lies outside /app/.data).
    let early = godwit(&f, &["--json", "validate", "--before"], &env);
    assert_eq!(early.code, 1, "{}", early.all());
    let r: serde_json::Value = serde_json::from_str(&early.stdout).unwrap();
    assert_eq!(
        failing(&r),
        [(
            "orphans".to_owned(),
            "ugc_assets(owner_id) -> users(id)".to_owned()
        )]
    );
    let leftovers = r["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["check"] == "unreferenced-objects")
        .cloned()
        .unwrap();
    assert_eq!(leftovers["severity"], "warning", "{leftovers}");
    assert_eq!(leftovers["observed"], "6", "{leftovers}");
    assert!(
        leftovers["message"]
            .as_str()
            .unwrap()
            .contains("knowledge/3/handbook.pdf"),
        "{leftovers}"
    );

    let run = godwit(&f, &["--json", "run"], &env);
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let col = "knowledge_materials.storage_path";
    let mut expected = vec![
        ("asset-sample".to_owned(), col.to_owned()),
        ("asset-sample".to_owned(), format!("{col} = {missing}")),
        ("asset-sample".to_owned(), format!("{col} = {unreadable}")),
        (
            "asset-sample".to_owned(),
            format!("{col} = /srv/legacy/handbook.pdf"),
        ),
        (
            "orphans".to_owned(),
            "ugc_assets(owner_id) -> users(id)".to_owned(),
        ),
        (
            "orphans".to_owned(),
            "ugc_assets(owner_id) -> users(id)".to_owned(),
        ),
        ("path-prefix".to_owned(), col.to_owned()),
    ];
    expected.sort();
    assert_eq!(failing(&report), expected, "{}", run.stdout);
    assert_eq!(
        report["validation"]["findings"][0]["severity"], "error",
        "failing findings come first"
    );
    let text = |check: &str, needle: &str| {
        report["validation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["check"] == check && x["message"].as_str().unwrap().contains(needle))
    };
    assert!(text("orphans", "NOT VALID"), "{}", run.stdout);
    assert!(text("orphans", "id=900"), "{}", run.stdout);
    assert!(text("asset-sample", "mode 000"), "{}", run.stdout);
    assert!(text("asset-sample", "is missing"), "{}", run.stdout);
    assert!(
        text("path-prefix", "/srv/legacy/handbook.pdf"),
        "{}",
        run.stdout
    );

    // The human summary lists the failures before the rest.
    let human = godwit(&f, &["validate"], &env);
    assert_eq!(human.code, 1, "{}", human.all());
    let first = human.stdout.lines().nth(2).unwrap_or_default();
    assert!(first.starts_with("FAIL"), "{}", human.stdout);
    assert!(
        human.stdout.contains("validation FAILED: 7 of"),
        "{}",
        human.stdout
    );
}

/// A `count(*)` past its timeout falls back to the catalog's estimate,
/// reported as an estimate (a warning); `require_exact` makes it a failure.
#[tokio::test]
async fn row_count_falls_back_to_an_estimate_after_a_timeout() {
    let s = pg::server();
    let (src, dst) = (s.create_db(), s.create_db());
    let db = |u: &str| u.rsplit('/').next().unwrap().to_owned();
    s.psql(
        &db(&src),
        "CREATE TABLE big (id bigint PRIMARY KEY, body text NOT NULL); \
         INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g; ANALYZE big",
    );
    let f = Fixture::empty();
    let project = |params: &str| {
        format!(
            r#"[project]
name = "estimate"

[connections.src]
dsn = "{src}"

[connections.dst]
dsn = "{dst}"

[plugins.s]
path = "builtin:postgres-source"
grants.sql = {{ source = "src" }}

[plugins.t]
path = "builtin:postgres-target"
grants.sql = {{ target = "dst" }}

[plugins.count]
path = "builtin:row-count"
grants.sql = {{ source = "src", target = "dst" }}
params = {{ {params} }}

[plugins.sum]
path = "builtin:checksum"
grants.sql = {{ source = "src", target = "dst" }}

[[steps]]
name = "copy"
source = "s"
target = "t"

[[validators]]
plugin = "count"

[[validators]]
plugin = "sum"
"#
        )
    };
    f.write("godwit.toml", &project("timeout_ms = 60000"));
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    s.psql(&db(&dst), "ANALYZE big");

    f.write("godwit.toml", &project("timeout_ms = 1"));
    let v = f.godwit(&["--json", "validate", &f.arg()]);
    assert_eq!(v.code, 0, "{}", v.all());
    let r: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    let finding = &r["validation"]["findings"][0];
    assert_eq!(finding["severity"], "warning", "{finding}");
    assert!(
        finding["message"].as_str().unwrap().contains("ESTIMATE"),
        "{finding}"
    );
    assert!(
        finding["observed"].as_str().unwrap().starts_with('~'),
        "{finding}"
    );

    f.write(
        "godwit.toml",
        &project("timeout_ms = 1, require_exact = true"),
    );
    let strict = f.godwit(&["validate", &f.arg()]);
    assert_eq!(strict.code, 1, "{}", strict.all());
    assert!(strict.stdout.contains("ESTIMATE"), "{}", strict.stdout);

    // 400,000 rows: a changed row is found by narrowing hash partitions
    // (64 partitions of ~6,250 rows, then 64 sub-partitions), not by
    // fetching the table.
    s.psql(
        &db(&dst),
        "UPDATE big SET body = 'changed' WHERE id = 123457",
    );
    f.write("godwit.toml", &project("timeout_ms = 60000"));
    let v = f.godwit(&["--json", "validate", &f.arg()]);
    assert_eq!(v.code, 1, "{}", v.all());
    let r: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    let first = &r["validation"]["findings"][0];
    assert_eq!(first["check"], "checksum", "{first}");
    assert_eq!(
        first["message"], "1 rows differ; keys: 123457 (different values)",
        "{first}"
    );
}

/// `smoke` against a real HTTP server: an expected page passes, a missing
/// one fails (exit 1), a path leaving the granted base is refused, and the
/// project's secret header (required from the environment) never shows.
#[test]
fn smoke_checks_request_a_real_server_through_the_http_grant() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "hello staging").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(site.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "http.server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let f = Fixture::example("quickstart");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    let checks = |extra: &str| {
        format!(
            "{toml}\n[hosts.staging]\nurl = \"http://127.0.0.1:{port}/\"\n\
             headers_env = {{ x-api-key = \"SMOKE_KEY\" }}\n\n\
             [plugins.smoke]\npath = \"builtin:smoke\"\ngrants.http = {{ app = \"staging\" }}\n\
             params = {{ checks = [{{ path = \"/index.html\", contains = \"hello\" }}{extra}] }}\n\n\
             [[validators]]\nplugin = \"smoke\"\n"
        )
    };
    f.write("godwit.toml", &checks(""));
    assert_eq!(
        f.godwit(&["run", &f.arg()]).code,
        2,
        "SMOKE_KEY is required"
    );
    let env = [("SMOKE_KEY", "k-123-secret")];
    let ok = f.godwit_env(&["run", &f.arg()], &env);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert!(
        ok.stdout.contains("answered 200 containing \"hello\""),
        "{}",
        ok.stdout
    );

    f.write(
        "godwit.toml",
        &checks(", { path = \"/missing\" }, { path = \"../../etc/passwd\" }"),
    );
    let bad = f.godwit_env(&["--json", "validate", &f.arg()], &env);
    server.kill().ok();
    server.wait().ok();
    assert_eq!(bad.code, 1, "{}", bad.all());
    let r: serde_json::Value = serde_json::from_str(&bad.stdout).unwrap();
    let failing = failing(&r);
    assert_eq!(
        failing,
        [
            ("smoke".to_owned(), "GET ../../etc/passwd".to_owned()),
            ("smoke".to_owned(), "GET /missing".to_owned())
        ]
    );
    assert!(bad.stdout.contains("answered 404"), "{}", bad.stdout);
    assert!(bad.stdout.contains("climbs out"), "{}", bad.stdout);
    assert!(!bad.all().contains("k-123-secret"));
}
