//! The quickstart end to end, plan as a dry run, validation exit codes, rejects.

use super::common::*;

const TABLES: &[&str] = &["users", "tasks", "transcripts", "speakers"];

#[tokio::test]
async fn quickstart_copies_every_row_and_rewrites_paths() {
    let f = Fixture::example("quickstart");
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");
    assert_eq!(report["validation"]["passed"], true);
    let written: u64 = report["steps"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows_written"].as_u64().unwrap())
        .sum();
    assert_eq!(written, 25 + 200 + 78 + 148);

    let src = dump(&f.path().join("data/app.db"), TABLES).await;
    let dst = dump(&f.path().join("out/app.db"), TABLES).await;
    for ((name, a), (_, b)) in src.iter().zip(&dst) {
        assert_eq!(a.len(), b.len(), "row count of {name}");
        for (ra, rb) in a.iter().zip(b) {
            if name == "tasks" {
                // audio_path (column 4) is rewritten; everything else identical.
                for (i, (x, y)) in ra.iter().zip(rb).enumerate() {
                    if i == 4 && x != "NULL" {
                        let expect = x.replace("t:/app/.data/uploads/", "t:s3://meetings/uploads/");
                        assert_eq!(y, &expect);
                        assert!(
                            y.starts_with("t:s3://meetings/uploads/") && y.ends_with("/audio.m4a")
                        );
                    } else {
                        assert_eq!(x, y, "tasks column {i}");
                    }
                }
            } else {
                assert_eq!(ra, rb, "a row of {name}");
            }
        }
    }
    // Constraints and indexes came along.
    let schema = dump_schema(&f.path().join("out/app.db")).await;
    assert!(
        schema.contains("REFERENCES \"users\" (\"id\") ON DELETE CASCADE"),
        "{schema}"
    );
    assert!(schema.contains("CREATE INDEX idx_tasks_user"), "{schema}");
    assert!(schema.contains("UNIQUE (\"email\")"), "{schema}");
    assert!(
        !schema.contains("task_overview"),
        "views are reported, not copied"
    );
}

async fn dump_schema(db: &std::path::Path) -> String {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT coalesce(sql, '') FROM sqlite_master ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn rerunning_replace_changes_nothing() {
    let f = Fixture::example("quickstart");
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    let first = dump(&f.path().join("out/app.db"), TABLES).await;
    let again = f.godwit(&["run", &f.arg()]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(first, dump(&f.path().join("out/app.db"), TABLES).await);
}

#[test]
fn plan_writes_nothing() {
    let f = Fixture::example("quickstart");
    let before = tree_hashes(f.path());
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains("CREATE TABLE \"tasks\""),
        "{}",
        plan.stdout
    );
    assert!(plan
        .stdout
        .contains("\"/app/.data/uploads/1/audio.m4a\" -> \"s3://meetings/uploads/1/audio.m4a\""));
    assert!(!f.path().join("out").exists(), "plan created the target");
    assert_eq!(before, tree_hashes(f.path()), "plan changed files");

    // With an existing target too: run, then plan must leave it byte for byte.
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    let target = f.path().join("out");
    let before = tree_hashes(&target);
    let plan = f.godwit(&["--json", "plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(json["steps"][0]["tables"][0]["source"], "users");
    assert_eq!(json["steps"][0]["tables"][0]["rows"], 25);
    assert_eq!(before, tree_hashes(&target), "plan changed the target");
}

#[tokio::test]
async fn validate_fails_with_exit_1_when_counts_differ() {
    let f = Fixture::example("quickstart");
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    let ok = f.godwit(&["validate", &f.arg()]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    // Lose rows in the target behind godwit's back.
    let db = f.path().join("out/app.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("DELETE FROM speakers WHERE task_id > 100")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let bad = f.godwit(&["--json", "validate", &f.arg()]);
    assert_eq!(bad.code, 1, "{}", bad.all());
    let r: serde_json::Value = serde_json::from_str(&bad.stdout).unwrap();
    assert_eq!(r["command"], "validate");
    let v = &r["validation"];
    assert_eq!(v["passed"], false);
    assert_eq!(
        v["findings"][0]["severity"], "error",
        "failing findings come first"
    );
    assert_eq!(v["findings"][0]["subject"], "speakers");
    // The run directory holds the same report, a readable one and the log.
    let dir = std::path::Path::new(r["run_dir"].as_str().unwrap());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(saved["validation"], r["validation"]);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.starts_with("# godwit validate of quickstart: FAILED")
            && md.contains("## Failing findings\n\n- **row-count** `speakers`"),
        "{md}"
    );
    assert!(dir.join("godwit.log").exists());
}

#[test]
fn rejected_rows_go_to_the_reject_file() {
    let f = Fixture::example("quickstart");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    // Only paths of task 1x are accepted; every other path is rejected.
    let strict = toml
        .replace(
            r#"params = { from = "/app/.data/uploads/", to = "s3://meetings/uploads/" }"#,
            r#"params = { from = "/app/.data/uploads/1", to = "s3://meetings/uploads/1", on_mismatch = "reject" }"#,
        )
        .replace("mode = \"replace\"", "mode = \"replace\"\nmax_rejects = 1000");
    f.write("godwit.toml", &strict);
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "rows were rejected: exit 1\n{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let file = report["rejects_file"].as_str().expect("reject file");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tables = report["steps"][0]["tables"].as_array().unwrap();
    let total: u64 = tables
        .iter()
        .map(|t| t["rows_rejected"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total as usize,
        lines.len(),
        "one reject line per rejected row"
    );
    let tasks = tables.iter().find(|t| t["source"] == "tasks").unwrap();
    let task_lines: Vec<_> = lines.iter().filter(|l| l["table"] == "tasks").collect();
    assert_eq!(
        tasks["rows_rejected"].as_u64().unwrap() as usize,
        task_lines.len()
    );
    assert!(!task_lines.is_empty());
    let first = task_lines[0];
    assert_eq!(first["column"], "audio_path");
    assert_eq!(first["stage"], "rewrite");
    assert!(first["key"]["id"].is_number());
    assert!(first["value"]
        .as_str()
        .unwrap()
        .starts_with("/app/.data/uploads/"));
    assert!(first["reason"]
        .as_str()
        .unwrap()
        .contains("does not start with"));
    assert_eq!(tasks["rows_read"].as_u64().unwrap(), 200);
    assert_eq!(
        tasks["rows_written"].as_u64().unwrap() + tasks["rows_rejected"].as_u64().unwrap(),
        200
    );
    // Children of rejected tasks are refused by the target's foreign keys.
    let orphan = lines
        .iter()
        .find(|l| l["table"] == "transcripts")
        .expect("a transcript of a rejected task");
    assert_eq!(orphan["stage"], "commit");
    // The reason names the parent key the row points at.
    assert!(
        orphan["reason"]
            .as_str()
            .unwrap()
            .starts_with("no row of tasks with id = "),
        "{orphan}"
    );
    assert_eq!(orphan["column"], "task_id", "{orphan}");
    // The row-count validator accounts for every missing row with the
    // rejects that explain it (issue 22, item 7): the run still exits 1 for
    // the rejected rows, and the finding says how the count was formed.
    let counts: Vec<&serde_json::Value> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["check"] == "row-count" && (x["subject"] == "tasks" || x["subject"] == "transcripts")
        })
        .collect();
    assert_eq!(counts.len(), 2, "{}", report["validation"]);
    for c in counts {
        assert_eq!(c["severity"], "info", "{c}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("rejected by the run"),
            "{c}"
        );
    }

    // Over the threshold: the step fails, exit 1, the table rolled back.
    f.write(
        "godwit.toml",
        &strict.replace("max_rejects = 1000", "max_rejects = 0"),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("more than max_rejects = 0"),
        "{}",
        run.stderr
    );
}

/// SQLite keeps no catalog of CHECK constraints: the source reads them from
/// the table's DDL (column and table level, named or not, with quotes and
/// parentheses inside), and a SQLite target recreates and enforces them.
#[tokio::test]
async fn sqlite_check_constraints_are_carried() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", src.display()))
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT CONSTRAINT b_ok CHECK (b IN ('x)', 'y''s')), \
         c TEXT DEFAULT 'check (no)', CONSTRAINT pair CHECK (a < 100 OR b = 'y''s'))",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO t VALUES (1, 'x)', NULL), (200, 'y''s', 'z')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            "sqlite://out.db?mode=rwc",
            "sqlite-target",
            "mode = \"replace\"",
            true,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let out = sqlx::SqlitePool::connect(&format!("sqlite://{}", f.path().join("out.db").display()))
        .await
        .unwrap();
    let (ddl,): (String,) = sqlx::query_as("SELECT sql FROM sqlite_master WHERE name = 't'")
        .fetch_one(&out)
        .await
        .unwrap();
    for expect in [
        "CHECK (a > 0)",
        "CONSTRAINT \"b_ok\" CHECK (b IN ('x)', 'y''s'))",
        "CONSTRAINT \"pair\" CHECK (a < 100 OR b = 'y''s')",
    ] {
        assert!(ddl.contains(expect), "{expect} missing from {ddl}");
    }
    assert!(
        !ddl.contains("check (no)\")"),
        "a string is not a constraint: {ddl}"
    );
    for bad in [
        "INSERT INTO t VALUES (0, 'x)', NULL)",
        "INSERT INTO t VALUES (5, 'q', NULL)",
        "INSERT INTO t VALUES (150, 'x)', NULL)",
    ] {
        assert!(
            sqlx::query(bad).execute(&out).await.is_err(),
            "{bad} should violate a CHECK"
        );
    }
    out.close().await;
}

/// The path rules: regex with captures, URL template with encoding, and
/// normalisation that refuses `..` escapes and paths outside a root.
#[tokio::test]
async fn path_rewrite_rules() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlite_with(
        &src,
        &[
        "CREATE TABLE files (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)",
        "INSERT INTO files VALUES (1, '/app/.data/uploads/42/audio.m4a', 'uploads/42/my audio ü.m4a', '/app/.data//uploads\\42/./a.m4a')",
        "INSERT INTO files VALUES (2, 'elsewhere.txt', 'uploads/7/x.txt', '/app/.data/ok.txt')",
        "INSERT INTO files VALUES (3, NULL, NULL, '/app/.data/../etc/passwd')",
        "INSERT INTO files VALUES (4, NULL, NULL, '/srv/other.txt')",
        "INSERT INTO files VALUES (5, NULL, NULL, '/app/.data/gallery//1/')",
        ],
    )
    .await;
    pool.close().await;
    let mut toml = copy_project(
        "sqlite://app.db?mode=ro",
        "sqlite-source",
        "sqlite://out.db?mode=rwc",
        "sqlite-target",
        "mode = \"replace\"\nmax_rejects = 10\nrewrites = [\n  { column = \"files.a\", rule = \"re\" },\n  { column = \"files.b\", rule = \"url\" },\n  { column = \"files.c\", rule = \"norm\" },\n]",
        false,
    );
    toml.push_str(
        r#"
[plugins.re]
path = "builtin:regex-rewrite"
params = { pattern = '^/app/\.data/uploads/(\d+)/(.+)$', replacement = "s3://meetings/uploads/$1/$2" }

[plugins.url]
path = "builtin:url-template"
params = { template = "https://{bucket}.{endpoint}/{key}", strip_prefix = "uploads/", vars = { bucket = "meetings", endpoint = "tos.example.com" } }

[plugins.norm]
path = "builtin:path-normalize"
params = { root = "/app/.data" }
"#,
    );
    f.write("godwit.toml", &toml);
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "two rows rejected\n{}", run.all());
    let out = sqlx::SqlitePool::connect(&format!("sqlite://{}", f.path().join("out.db").display()))
        .await
        .unwrap();
    type Row = (i64, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as("SELECT * FROM files ORDER BY id")
        .fetch_all(&out)
        .await
        .unwrap();
    out.close().await;
    assert_eq!(
        rows,
        vec![
            (
                1,
                Some("s3://meetings/uploads/42/audio.m4a".into()),
                Some("https://meetings.tos.example.com/42/my%20audio%20%C3%BC.m4a".into()),
                Some("/app/.data/uploads/42/a.m4a".into())
            ),
            (
                2,
                Some("elsewhere.txt".into()),
                Some("https://meetings.tos.example.com/7/x.txt".into()),
                Some("/app/.data/ok.txt".into())
            ),
            // A folder keeps its trailing slash.
            (5, None, None, Some("/app/.data/gallery/1/".into())),
        ]
    );
    let rejects = godwit_tests::tree_hashes(f.path())
        .into_iter()
        .filter(|(p, _)| p.ends_with("rejects.jsonl"))
        .map(|(p, _)| std::fs::read_to_string(f.path().join(p)).unwrap())
        .collect::<String>();
    assert!(
        rejects.contains("contains \\\"..\\\", which could escape its folder"),
        "{rejects}"
    );
    assert!(
        rejects.contains("is outside \\\"/app/.data\\\""),
        "{rejects}"
    );

    // Bad parameters are a usage error naming the rule.
    f.write(
        "godwit.toml",
        &toml.replace("'^/app/\\.data/uploads/(\\d+)/(.+)$'", "'(unclosed'"),
    );
    let bad = f.godwit(&["plan", &f.arg()]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("plugin re refused its params"),
        "{}",
        bad.stderr
    );
}
