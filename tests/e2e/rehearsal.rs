//! Rehearsals that catch what a careful operator would (issue 14): loads
//! into an application's own schema in foreign-key order, orphan policies,
//! checks before writing, findings that name values.

use super::common::*;

/// A SQLite source whose tables hold a parent/child pair without declaring
/// the foreign key (as many applications do), the child first by name.
async fn undeclared_children(f: &Fixture, posts: usize) {
    let mut stmts = vec![
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER, body TEXT)".to_owned(),
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)".to_owned(),
    ];
    stmts.push(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {posts}) \
         INSERT INTO posts SELECT i, 'post ' || i FROM n"
    ));
    stmts.push(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {posts}) \
         INSERT INTO comments SELECT i, i, 'comment ' || i FROM n"
    ));
    let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
    sqlite_with(&f.path().join("src.db"), &refs)
        .await
        .close()
        .await;
}

/// Item 6: the application made the target schema, with enforced foreign
/// keys the source never declared. With two workers (the default) the
/// child loaded beside its parent, or before it, and its rows were refused
/// for the foreign key. Now a table waits for the tables the target says
/// it references.
#[tokio::test]
async fn loads_into_an_existing_schema_follow_the_targets_foreign_keys() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    undeclared_children(&f, 20_000).await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &db,
        "CREATE TABLE posts (id bigint PRIMARY KEY, title text); \
         CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id), body text)",
    );
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "mode = \"append\"\nworkers = 2\nbatch_rows = 500",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let got = pg.psql(
        &db,
        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)",
    );
    assert_eq!(got.trim(), "20000|20000");
}

/// A SQLite database at `path` made by `statements` with foreign keys
/// unenforced, as in most SQLite applications (sqlx turns them on by
/// default), so it can hold orphans.
async fn sqlite_unenforced(path: &std::path::Path, statements: &[&str]) {
    use sqlx::ConnectOptions as _;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(false)
        .connect()
        .await
        .unwrap();
    for stmt in statements {
        sqlx::query(stmt)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
}

/// posts <- comments <- replies, declared: comment 3 points at post 99,
/// which does not exist, and reply 1 points at comment 3.
async fn orphaned_source(f: &Fixture) {
    sqlite_unenforced(&f.path().join("src.db"), &[
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)",
            "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts (id), body TEXT)",
            "CREATE TABLE replies (id INTEGER PRIMARY KEY, comment_id INTEGER NOT NULL REFERENCES comments (id))",
            "INSERT INTO posts VALUES (1, 'a'), (2, 'b')",
            "INSERT INTO comments VALUES (1, 1, 'x'), (2, 2, 'y'), (3, 99, 'orphan'), (4, NULL, 'no post')",
            "INSERT INTO replies VALUES (1, 3), (2, 1)",
    ])
    .await;
}

fn orphan_rejects(f: &Fixture) -> Vec<serde_json::Value> {
    all_rejects(f)
        .into_iter()
        .filter(|v| v["stage"] == "orphan")
        .collect()
}

/// Item 2 into PostgreSQL and MariaDB. On 8e22c12 the foreign-key step
/// failed with exit 3 after the data was written: no reject file, no
/// foreign keys, report.json holding only the error. Now the step's
/// `orphans` policy decides, and the findings name the missing parent key.
async fn orphan_policies(
    create_db: &dyn Fn() -> String,
    sql: &dyn Fn(&str, &str) -> String,
    target: &str,
    constraints: &str,
) {
    // Default: reject, but past max_rejects = 0 nothing is removed and
    // the step stops naming the orphan and its missing parent.
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project("sqlite://src.db", "sqlite-source", &url, target, "", false),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("id=3: post_id = 99"), "{}", run.all());
    assert!(run.all().contains("max_rejects = 0"), "{}", run.all());
    assert_eq!(sql(&db, "SELECT count(*) FROM comments").trim(), "4");

    // Rejected within max_rejects: comment 3, then reply 1 whose parent
    // was comment 3; both in the reject file; the foreign keys added.
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            target,
            "max_rejects = 10",
            false,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let rejects = orphan_rejects(&f);
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(rejects[0]["table"], "comments");
    assert_eq!(rejects[0]["key"]["id"], 3);
    assert_eq!(rejects[0]["value"], "99");
    assert_eq!(rejects[0]["reason"], "no row of posts with id = 99");
    assert_eq!(rejects[1]["table"], "replies");
    assert_eq!(rejects[1]["key"]["id"], 1);
    assert_eq!(rejects[1]["value"], "3");
    assert_eq!(
        sql(&db, "SELECT id FROM comments ORDER BY id").trim(),
        "1\n2\n4"
    );
    assert_eq!(sql(&db, "SELECT id FROM replies ORDER BY id").trim(), "2");
    assert_eq!(sql(&db, constraints).trim(), "2", "both foreign keys added");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let comments = &report["steps"][0]["tables"][1];
    assert_eq!(comments["target"], "comments");
    assert_eq!(comments["rows_rejected"], 1);
    assert_eq!(comments["orphans"][0]["action"], "rejected");
    assert_eq!(comments["orphans"][0]["examples"][0], "id=3: post_id = 99");

    // null: the nullable column is cleared, reply 1 keeps its parent.
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            target,
            "orphans = \"null\"",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("foreign key set NULL"),
        "{}",
        run.stdout
    );
    let nulled = sql(
        &db,
        "SELECT count(*) FROM comments WHERE id = 3 AND post_id IS NULL",
    );
    assert_eq!(nulled.trim(), "1");
    assert_eq!(sql(&db, "SELECT count(*) FROM replies").trim(), "2");
    assert_eq!(sql(&db, constraints).trim(), "2");

    // fail: the step stops before the foreign keys, naming the orphan.
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            target,
            "orphans = \"fail\"",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("id=3: post_id = 99"), "{}", run.all());
}

#[tokio::test]
async fn orphan_policies_into_postgres() {
    let pg = godwit_tests::pg::server();
    orphan_policies(
        &|| pg.create_db(),
        &|db, q| pg.psql(db, q),
        "postgres-target",
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
    )
    .await;

    // keep: every row stays; the broken key is NOT VALID, the clean one
    // validated.
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "orphans = \"keep\"",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("added without checking"),
        "{}",
        run.stdout
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM comments").trim(), "4");
    let keys = pg.psql(
        &db,
        "SELECT conrelid::regclass::text, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
    );
    assert_eq!(keys.trim(), "comments|f\nreplies|t");
}

#[tokio::test]
async fn orphan_policies_into_mariadb() {
    let my = godwit_tests::mariadb::server();
    orphan_policies(
        &|| my.create_db(),
        &|db, q| my.sql(db, q),
        "mysql-target",
        "SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    .await;
}

/// From PostgreSQL, a `NOT VALID` foreign key over clean data: on 8e22c12
/// it stayed `NOT VALID` in the target. Now it is validated, since the
/// loaded rows allow it.
#[tokio::test]
async fn a_not_valid_key_over_clean_data_is_validated() {
    let pg = godwit_tests::pg::server();
    let src = pg.create_db();
    let sdb = src.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &sdb,
        "CREATE TABLE posts (id bigint PRIMARY KEY); \
         CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint); \
         INSERT INTO posts VALUES (1), (2); INSERT INTO comments VALUES (1, 1), (2, 2); \
         ALTER TABLE comments ADD CONSTRAINT comments_post FOREIGN KEY (post_id) REFERENCES posts (id) NOT VALID",
    );
    let dst = pg.create_db();
    let ddb = dst.rsplit('/').next().unwrap().to_owned();
    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(&src, "postgres-source", &dst, "postgres-target", "", false),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let keys = pg.psql(
        &ddb,
        "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'",
    );
    assert_eq!(keys.trim(), "comments_post|t");
}

/// Item 1: on 8e22c12 `godwit validate` before the first run failed
/// (`relation … does not exist`) because every validator ran, target-side
/// ones included, and `run` wrote before any check. Now a validator that
/// reads only what no step writes runs before writing: `validate --before`
/// runs those alone, `plan` lists both phases, and `run --strict` refuses
/// to write when they fail.
#[tokio::test]
async fn checks_before_writing_run_alone_and_stop_a_strict_run() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    orphaned_source(&f).await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let mut toml = copy_project(
        "sqlite://src.db",
        "sqlite-source",
        &url,
        "postgres-target",
        "max_rejects = 10",
        true,
    );
    toml.push_str(
        r#"
[plugins.source-orphans]
path = "builtin:orphans"
grants.sql = { target = "src" }

[[validators]]
plugin = "source-orphans"
"#,
    );
    f.write("godwit.toml", &toml);
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("validators before writing: source-orphans (step all)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("validators after writing: count (step all)"),
        "{}",
        plan.stdout
    );

    let before = f.godwit(&["--json", "validate", "--before", &f.arg()]);
    assert_eq!(before.code, 1, "{}", before.all());
    let report: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
    let findings = report["validation"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|x| x["validator"] == "source-orphans" && x["when"] == "before"),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|x| x["severity"] == "error" && x["subject"] == "comments(post_id) -> posts(id)"),
        "{findings:?}"
    );

    // The finding names the child row and the parent key it points at.
    assert!(
        findings.iter().any(|x| x["message"]
            .as_str()
            .unwrap()
            .contains("id=3: post_id = 99 (no such posts row)")),
        "{findings:?}"
    );

    let strict = f.godwit(&["--strict", "run", &f.arg()]);
    assert_eq!(strict.code, 1, "{}", strict.all());
    assert!(
        strict.all().contains("nothing was written"),
        "{}",
        strict.all()
    );
    let tables = pg.psql(
        &db,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(tables.trim(), "0", "a strict run wrote nothing");

    // Without --strict the run goes on; the findings before are reported
    // with the others.
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let whens: std::collections::BTreeSet<String> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["when"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(whens.into_iter().collect::<Vec<_>>(), ["after", "before"]);
}

/// Item 3: on 8e22c12 uuid keys printed as
/// `Value::Uuid((3875228549712462771, …))` and the missing parent key was
/// never named. Now values print in their SQL text form.
#[tokio::test]
async fn orphan_findings_print_uuid_keys_as_sql_text() {
    let pg = godwit_tests::pg::server();
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &db,
        "CREATE TABLE owners (id uuid PRIMARY KEY); \
         CREATE TABLE items (id uuid PRIMARY KEY, owner_id uuid); \
         INSERT INTO items VALUES ('35c76b52-ee7a-4db3-8a1f-000000000001', '0b5e4d7c-0000-4000-8000-0000000000aa'); \
         ALTER TABLE items ADD FOREIGN KEY (owner_id) REFERENCES owners (id) NOT VALID",
    );
    let f = Fixture::empty();
    let mut toml = copy_project(
        &url,
        "postgres-source",
        "sqlite://out.db",
        "sqlite-target",
        "",
        false,
    );
    toml.push_str(
        r#"
[plugins.source-orphans]
path = "builtin:orphans"
grants.sql = { target = "src" }

[[validators]]
plugin = "source-orphans"
"#,
    );
    f.write("godwit.toml", &toml);
    let before = f.godwit(&["validate", "--before", &f.arg()]);
    assert_eq!(before.code, 1, "{}", before.all());
    assert!(
        before.stdout.contains(
            "id=35c76b52-ee7a-4db3-8a1f-000000000001: owner_id = 0b5e4d7c-0000-4000-8000-0000000000aa"
        ),
        "{}",
        before.stdout
    );
    assert!(!f.path().join("out.db").exists(), "nothing written");
}

/// Smaller findings: on 8e22c12 a serial's `setval` ran twice (and showed
/// twice in `plan`) when an existing table's identity was also the
/// source's, and a copy without a rule printed `key ((keys kept))`.
#[tokio::test]
async fn plan_shows_each_sequence_reset_once_and_plain_copy_keys() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT)",
            "INSERT INTO posts (title) VALUES ('a'), ('b')",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &db,
        "CREATE TABLE posts (id bigserial PRIMARY KEY, title text)",
    );
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "mode = \"append\"",
            false,
        ),
    );
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert_eq!(plan.stdout.matches("setval(").count(), 1, "{}", plan.stdout);
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    pg.psql(&db, "INSERT INTO posts (title) VALUES ('c')");
    assert_eq!(pg.psql(&db, "SELECT max(id) FROM posts").trim(), "3");

    let g = Fixture::empty();
    std::fs::create_dir_all(g.path().join("src")).unwrap();
    std::fs::write(g.path().join("src/a.txt"), "a").unwrap();
    folder_copy_project(&g, "");
    let plan = g.godwit(&["plan", &g.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("key (keys kept): \"a.txt\" -> \"a.txt\""),
        "{}",
        plan.stdout
    );
}

/// An application's uploads: rows reference files by their `/app/.data/`
/// path (one a folder), one file no row references (left behind), one row
/// whose email collides with another's by case.
async fn uploads_app(f: &Fixture) {
    sqlite_with(
        &f.path().join("app.db"),
        &[
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE)",
            "INSERT INTO users VALUES (1, 'ann@example.org'), (2, 'Ann@Example.org'), (3, 'bob@example.org')",
            "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT)",
            "INSERT INTO files VALUES (1, '/app/.data/a.txt'), (2, '/app/.data/albums/'), (3, NULL)",
        ],
    )
    .await
    .close()
    .await;
    for (rel, text) in [
        ("data/a.txt", "a"),
        ("data/albums/1.jpg", "j"),
        ("data/albums/2.jpg", "k"),
        ("data/left-behind.bin", "old"),
    ] {
        let p = f.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The uploads app copied to a "bucket" folder whose rows address it by
/// URL: rows rewritten by `to-cdn`, then `extra` (plugins, validators).
fn uploads_project(extra: &str) -> String {
    format!(
        "{}{}{extra}",
        r#"[project]
name = "uploads"

[connections.app]
dsn = "sqlite://app.db?mode=ro"

[connections.copy]
dsn = "sqlite://out.db?mode=rwc"

[stores.data]
type = "fs"
root = "data"
url = "/app/.data/"

[stores.bucket]
type = "fs"
root = "bucket"
url = "https://cdn.example.org/files/"

[plugins.src]
path = "builtin:sqlite-source"
grants.sql = { source = "app" }

[plugins.dst]
path = "builtin:sqlite-target"
grants.sql = { target = "copy" }

[plugins.to-cdn]
path = "builtin:prefix-rewrite"
params = { from = "/app/.data/", to = "https://cdn.example.org/files/" }
"#,
        r#"
[[copies]]
name = "uploads"
from = "data"
to = "bucket"

[[steps]]
name = "db"
source = "src"
target = "dst"
mode = "replace"
rewrites = [{ column = "files.path", rule = "to-cdn" }]
"#
    )
}

/// Item 4: files no row references, and values a case-insensitive unique
/// index would refuse, had no check. `unreferenced-objects` and
/// `case-collisions` run before writing (on the source) and after (on the
/// target, where the paths were rewritten to the target store's URL).
#[tokio::test]
async fn unreferenced_objects_and_case_collisions_are_found_before_and_after() {
    let f = Fixture::empty();
    uploads_app(&f).await;
    f.write(
        "godwit.toml",
        &uploads_project(
            r#"
[plugins.source-leftovers]
path = "builtin:unreferenced-objects"
grants.sql = { target = "app" }
grants.blob = { files = "data" }
params = { columns = ["files.path"] }

[plugins.target-leftovers]
path = "builtin:unreferenced-objects"
grants.sql = { target = "copy" }
grants.blob = { files = "bucket" }
params = { columns = ["files.path"], severity = "error" }

[plugins.emails]
path = "builtin:case-collisions"
grants.sql = { target = "app" }
params = { columns = ["users.email"] }

[[validators]]
plugin = "source-leftovers"

[[validators]]
plugin = "target-leftovers"

[[validators]]
plugin = "emails"
"#,
        ),
    );
    let before = f.godwit(&["--json", "validate", "--before", &f.arg()]);
    assert_eq!(before.code, 1, "{}", before.all());
    let report: serde_json::Value = serde_json::from_str(&before.stdout).unwrap();
    let findings = report["validation"]["findings"].as_array().unwrap();
    let find = |validator: &str| {
        findings
            .iter()
            .find(|x| x["validator"] == validator)
            .unwrap_or_else(|| panic!("no {validator} finding in {findings:?}"))
    };
    let left = find("source-leftovers");
    assert_eq!(left["severity"], "warning", "{left}");
    assert_eq!(left["observed"], "1", "{left}");
    assert!(
        left["message"]
            .as_str()
            .unwrap()
            .contains("left-behind.bin"),
        "{left}"
    );
    let emails = find("emails");
    assert_eq!(emails["severity"], "error", "{emails}");
    assert!(
        emails["message"]
            .as_str()
            .unwrap()
            .contains("\"Ann@Example.org\" = \"ann@example.org\""),
        "{emails}"
    );
    assert!(findings
        .iter()
        .all(|x| x["validator"] != "target-leftovers"));
    assert!(
        !f.path().join("out.db").exists(),
        "checks before writing write nothing"
    );

    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let after = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["validator"] == "target-leftovers")
        .cloned()
        .unwrap();
    // The rewritten values address the bucket's objects: only the file no
    // row references is left over.
    assert_eq!(after["severity"], "error", "{after}");
    assert_eq!(after["observed"], "1", "{after}");
    assert!(
        after["message"]
            .as_str()
            .unwrap()
            .contains("1 of 4 objects"),
        "{after}"
    );
    assert!(
        after["message"]
            .as_str()
            .unwrap()
            .contains("left-behind.bin"),
        "{after}"
    );
}

/// Item 4 (path-normalize) and the rule chain: on 8e22c12 a path fixed by
/// `path-normalize` left no trace. Now each rule's changes are counted
/// per column, with examples, in the summary and report.json. Two rules
/// on one column apply in the order the step lists them.
#[tokio::test]
async fn rewrites_report_what_each_rule_changed() {
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT)",
            r"INSERT INTO files VALUES (1, '/app/.data\uploads\a.txt'), (2, '/app/.data/b.txt'), (3, '/app/.data//c.txt')",
        ],
    )
    .await
    .close()
    .await;
    let mut toml = copy_project(
        "sqlite://src.db",
        "sqlite-source",
        "sqlite://out.db?mode=rwc",
        "sqlite-target",
        "mode = \"replace\"\nrewrites = [{ column = \"files.path\", rule = \"normalize\" }, { column = \"files.path\", rule = \"to-s3\" }]",
        false,
    );
    toml.push_str(
        r#"
[plugins.normalize]
path = "builtin:path-normalize"

[plugins.to-s3]
path = "builtin:prefix-rewrite"
params = { from = "/app/.data/", to = "s3://bucket/" }
"#,
    );
    f.write("godwit.toml", &toml);
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rewritten = &report["steps"][0]["tables"][0]["rewritten"];
    assert_eq!(rewritten[0]["rule"], "normalize", "{rewritten}");
    assert_eq!(rewritten[0]["values"], 2, "{rewritten}");
    assert_eq!(
        rewritten[0]["examples"][0],
        r#""/app/.data\\uploads\\a.txt" -> "/app/.data/uploads/a.txt""#,
        "{rewritten}"
    );
    assert_eq!(rewritten[1]["rule"], "to-s3", "{rewritten}");
    assert_eq!(rewritten[1]["values"], 3, "{rewritten}");
    let got = sqlite_with(&f.path().join("out.db"), &[]).await;
    let paths: Vec<(String,)> = sqlx::query_as("SELECT path FROM files ORDER BY id")
        .fetch_all(&got)
        .await
        .unwrap();
    assert_eq!(
        paths.into_iter().map(|p| p.0).collect::<Vec<_>>(),
        [
            "s3://bucket/uploads/a.txt",
            "s3://bucket/b.txt",
            "s3://bucket/c.txt"
        ]
    );
    let human = f.godwit(&["run", "--fresh", &f.arg()]);
    assert!(
        human
            .stdout
            .contains("files.path: 2 value(s) rewritten by normalize"),
        "{}",
        human.all()
    );
}

/// Item 5: on 8e22c12 `asset-sample` with `compare` said "cannot compare:
/// the value does not address the source store" for every rewritten path.
/// With a `source` grant it now finds the source object through the same
/// row's source value, and compares the bytes.
#[tokio::test]
async fn asset_sample_compares_rewritten_paths_with_the_source_object() {
    let f = Fixture::empty();
    uploads_app(&f).await;
    f.write(
        "godwit.toml",
        &uploads_project(
            r#"
[plugins.assets]
path = "builtin:asset-sample"
grants.sql = { target = "copy", source = "app" }
grants.blob = { files = "bucket", source-files = "data" }
params = { columns = ["files.path"], compare = "content" }

[[validators]]
plugin = "assets"
"#,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let summary = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject"] == "files.path")
        .cloned()
        .unwrap();
    assert_eq!(summary["observed"], "2", "{summary}");
    assert!(
        summary["message"]
            .as_str()
            .unwrap()
            .contains("with the source's bytes"),
        "{summary}"
    );
    // A changed byte in the target object is found through the rewrite.
    std::fs::write(f.path().join("bucket/a.txt"), "b").unwrap();
    let again = f.godwit(&["validate", &f.arg()]);
    assert_eq!(again.code, 1, "{}", again.all());
    assert!(
        again
            .stdout
            .contains("differs from the source object at byte 0"),
        "{}",
        again.stdout
    );
}

/// Item 2 on a SQLite target, whose foreign keys are checked at each
/// table's commit: on 8e22c12 the reject said only "no matching row in
/// posts" and `{"rowid": 3}`; there was no other policy. Now the reject
/// names the missing parent key, rejections cascade (parents first), and
/// `null`, `keep` and `fail` apply as on the other targets.
#[tokio::test]
async fn orphan_policies_into_sqlite() {
    let run_with = |step: &'static str| async move {
        let f = Fixture::empty();
        orphaned_source(&f).await;
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                "sqlite://out.db?mode=rwc",
                "sqlite-target",
                step,
                false,
            ),
        );
        let run = f.godwit(&["--json", "run", &f.arg()]);
        (f, run)
    };
    let ids = |f: &Fixture, q: &'static str| {
        let path = f.path().join("out.db");
        async move {
            let db = sqlite_with(&path, &[]).await;
            let rows: Vec<(String,)> = sqlx::query_as(q).fetch_all(&db).await.unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join(",")
        }
    };

    let (f, run) = run_with("max_rejects = 10").await;
    assert_eq!(run.code, 1, "{}", run.all());
    let text = std::fs::read_to_string(
        std::fs::read_dir(f.path().join(".godwit/runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("rejects.jsonl"),
    )
    .unwrap();
    let rejects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(rejects[0]["table"], "comments");
    assert_eq!(rejects[0]["column"], "post_id");
    assert_eq!(rejects[0]["value"], "99");
    assert_eq!(rejects[0]["reason"], "no row of posts with id = 99");
    assert_eq!(rejects[1]["table"], "replies");
    assert_eq!(rejects[1]["value"], "3");
    assert_eq!(
        ids(&f, "SELECT CAST(id AS TEXT) FROM comments ORDER BY id").await,
        "1,2,4"
    );
    assert_eq!(ids(&f, "SELECT CAST(id AS TEXT) FROM replies").await, "2");

    let (f, run) = run_with("orphans = \"null\"").await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        ids(
            &f,
            "SELECT CAST(id AS TEXT) FROM comments WHERE post_id IS NULL ORDER BY id"
        )
        .await,
        "3,4"
    );
    assert_eq!(
        ids(&f, "SELECT CAST(count(*) AS TEXT) FROM replies").await,
        "2"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let comments = &report["steps"][0]["tables"][1];
    assert_eq!(comments["orphans"][0]["action"], "set-null", "{comments}");

    let (f, run) = run_with("orphans = \"keep\"").await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        ids(&f, "SELECT CAST(count(*) AS TEXT) FROM comments").await,
        "4"
    );

    let (_f, run) = run_with("orphans = \"fail\"").await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("post_id = 99"), "{}", run.all());
}

/// Smaller: on 8e22c12 a file with mode 000 was copied with mode 000 and
/// not a word (godwit, as root, reads it; the application cannot). The
/// mode is still copied — it is part of the data — and now said.
#[test]
fn files_nobody_may_read_are_named_when_copied() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::empty();
    std::fs::create_dir_all(f.path().join("src")).unwrap();
    std::fs::write(f.path().join("src/ok.txt"), "a").unwrap();
    std::fs::write(f.path().join("src/locked.txt"), "b").unwrap();
    std::fs::set_permissions(
        f.path().join("src/locked.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    folder_copy_project(&f, "");
    let run = f.godwit(&["run", &f.arg()]);
    assert!(
        run.stdout
            .contains("copy files: 1 object(s) have no read permission"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("e.g. locked.txt"), "{}", run.stdout);
    let json = f.godwit(&["--json", "run", &f.arg()]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    // On the rerun the object is already there, unchanged: skipped.
    assert_eq!(v["copies"][0]["skipped"], 2, "{v}");
}

/// A SQLite row breaking two foreign keys at once is one rejected row,
/// not two (the count of written rows stays right).
#[tokio::test]
async fn a_row_breaking_two_foreign_keys_is_rejected_once() {
    let f = Fixture::empty();
    sqlite_unenforced(&f.path().join("src.db"), &[
        "CREATE TABLE a (id INTEGER PRIMARY KEY)",
        "CREATE TABLE b (id INTEGER PRIMARY KEY)",
        "CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), b_id INTEGER REFERENCES b (id))",
        "INSERT INTO c VALUES (1, 7, 8)",
    ])
    .await;
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            "sqlite://out.db?mode=rwc",
            "sqlite-target",
            "max_rejects = 5",
            false,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let c = &report["steps"][0]["tables"][2];
    assert_eq!(c["target"], "c");
    assert_eq!(c["rows_rejected"], 1, "{c}");
    assert_eq!(c["rows_written"], 0, "{c}");
}

/// PostgreSQL → PostgreSQL with a rewritten column, checked by `checksum`
/// twice: `plain` without the pipeline grant, `through` with
/// `grants.pipeline = ["copy"]`.
fn rewritten_project(src: &str, dst: &str, extra: &str) -> String {
    let mut toml = copy_project(
        src,
        "postgres-source",
        dst,
        "postgres-target",
        &format!(
            "mode = \"replace\"\nmax_rejects = 1\nrewrites = [{{ column = \"files.path\", rule = \"norm\" }}]\n{extra}"
        ),
        false,
    );
    toml.push_str(
        r#"
[plugins.norm]
path = "builtin:path-normalize"
params = { root = "/app/.data" }

[plugins.plain]
path = "builtin:checksum"
grants.sql = { source = "src", target = "dst" }

[plugins.through]
path = "builtin:checksum"
grants.sql = { source = "src", target = "dst" }
grants.pipeline = ["copy"]

[[validators]]
plugin = "plain"

[[validators]]
plugin = "through"
"#,
    );
    toml
}

/// Item 5, the part left last time: `checksum` flagged every row whose
/// path a rule rewrote, so it could not be used in the migrations godwit
/// exists for. With the step's pipeline granted (contract 0.3), source rows
/// are compared as the run wrote them: the rewritten rows match, the row
/// the rule refused (and the run rejected) is not expected in the target,
/// and a target value that is not rule(source) is still caught by key.
#[test]
fn checksum_compares_rewritten_columns_as_the_step_wrote_them() {
    let pg = godwit_tests::pg::server();
    let (src, dst) = (pg.create_db(), pg.create_db());
    let name = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &name(&src),
        "CREATE TABLE files (id bigint PRIMARY KEY, path text, size integer); \
         INSERT INTO files SELECT i, '/app/.data/u/' || i || '//f.bin', i FROM generate_series(1, 3000) i; \
         INSERT INTO files VALUES (3001, '/app/.data/../etc/passwd', 0), (3002, NULL, 1), (3003, '/app/.data/ok.txt', 2)",
    );
    let f = Fixture::empty();
    f.write("godwit.toml", &rewritten_project(&src, &dst, ""));
    let run = f.godwit(&["--json", "run", &f.arg()]);
    // The refused row makes the run exit 1 (rows rejected).
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let by = |v: &str| -> serde_json::Value {
        report["validation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["validator"] == v)
            .unwrap_or_else(|| panic!("no finding of {v}: {report}"))
            .clone()
    };
    let plain = by("plain");
    assert_eq!(plain["severity"], "error", "{plain}");
    // 3000 rewritten rows differ and the rejected one is missing.
    assert!(
        plain["message"]
            .as_str()
            .unwrap()
            .starts_with("3001 rows differ"),
        "{plain}"
    );
    let through = by("through");
    assert_eq!(through["severity"], "info", "{through}");
    let msg = through["message"].as_str().unwrap();
    assert!(msg.starts_with("3002 rows identical"), "{msg}");
    assert!(
        msg.contains("(path changed by a cast or rule)")
            && msg.contains("1 source rows the pipeline refuses"),
        "{msg}"
    );
    // The copy drifts: one path no longer rule(source), one row gone.
    pg.psql(
        &name(&dst),
        "UPDATE files SET path = '/app/.data/u/9//f.bin' WHERE id = 9; DELETE FROM files WHERE id = 3003",
    );
    let validate = f.godwit(&["--json", "validate", &f.arg()]);
    assert_eq!(validate.code, 1, "{}", validate.all());
    let report: serde_json::Value = serde_json::from_str(&validate.stdout).unwrap();
    let through = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["validator"] == "through")
        .unwrap()
        .clone();
    assert_eq!(
        through["message"],
        "2 rows differ; keys: 9 (different values); 3003 (missing in the target)",
        "{through}"
    );
}

/// The pipeline grant is checked like the others: a step that does not
/// exist is named with its line and column, before anything runs.
#[test]
fn a_pipeline_grant_naming_no_step_is_refused_with_its_place() {
    let pg = godwit_tests::pg::server();
    let (src, dst) = (pg.create_db(), pg.create_db());
    let f = Fixture::empty();
    let toml = rewritten_project(&src, &dst, "").replace(
        "grants.pipeline = [\"copy\"]",
        "grants.pipeline = [\"cpoy\"]",
    );
    f.write("godwit.toml", &toml);
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    let line = toml.lines().position(|l| l.contains("\"cpoy\"")).unwrap() + 1;
    assert!(
        plan.all()
            .contains(&format!("godwit.toml:{line}:20: no step named \"cpoy\"")),
        "{}",
        plan.all()
    );
}

/// Left last time: `godwit validate` before the first run failed on the
/// checks after writing (the target has no tables yet) with the database's
/// message alone. Now the error says the check runs after writing and
/// names `validate --before`, which passes on the same project.
#[test]
fn validate_before_the_first_run_names_the_checks_before_writing() {
    let f = Fixture::example("staging-assets");
    let r = f.godwit(&["--json", "validate", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("no such table")
            && msg.contains("this check runs after writing")
            && msg.contains("`godwit validate --before`"),
        "{msg}"
    );
    assert_eq!(v["error"]["code"], "not-found", "{v}");
    let before = f.godwit(&["validate", "--before", &f.arg()]);
    assert_eq!(before.code, 0, "{}", before.all());
}

/// Item 2, the case left last time: a foreign key to a table outside the
/// step (here the application's own `posts`, already in the target). Its
/// orphans failed the foreign-key statement (exit 3) after the rows were
/// written; now the step's policy applies to it as to keys between the
/// step's tables: the orphan is rejected with the missing parent key, and
/// the key is added over the rows that remain.
async fn orphans_of_a_parent_outside_the_step(
    url: &str,
    sql: &dyn Fn(&str) -> String,
    target: &str,
    keys: &str,
) {
    let f = Fixture::empty();
    sqlite_unenforced(&f.path().join("src.db"), &[
        "CREATE TABLE posts (id INTEGER PRIMARY KEY)",
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts (id), body TEXT)",
        "INSERT INTO comments VALUES (1, 1, 'a'), (2, 99, 'orphan'), (3, NULL, 'no post')",
    ])
    .await;
    sql("CREATE TABLE posts (id bigint PRIMARY KEY); INSERT INTO posts VALUES (1), (2)");
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            url,
            target,
            "tables = [\"comments\"]\nmax_rejects = 5",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let rejects = orphan_rejects(&f);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["key"], serde_json::json!({"id": 2}));
    assert_eq!(rejects[0]["value"], "99");
    assert_eq!(rejects[0]["reason"], "no row of posts with id = 99");
    assert_eq!(sql("SELECT count(*) FROM comments").trim(), "2");
    assert_eq!(sql(keys).trim(), "1");
}

#[tokio::test]
async fn orphans_of_a_parent_outside_the_step_follow_the_policy_in_postgres() {
    let pg = godwit_tests::pg::server();
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    orphans_of_a_parent_outside_the_step(
        &url,
        &|q| pg.psql(&db, q),
        "postgres-target",
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
    )
    .await;
}

#[tokio::test]
async fn orphans_of_a_parent_outside_the_step_follow_the_policy_in_mariadb() {
    let my = godwit_tests::mariadb::server();
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    orphans_of_a_parent_outside_the_step(
        &url,
        &|q| my.sql(&db, q),
        "mysql-target",
        "SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    .await;
}
