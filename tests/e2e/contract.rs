//! Contract 0.3 served beside 0.2 (issue 15): a target that never touches
//! SQL (`jsonl-target` writes JSON Lines into a blob store through its own
//! `table-writer`), read back by `jsonl-source`, in projects that mix 0.2
//! and 0.3 plugins. Checked against a real PostgreSQL server: SQLite →
//! JSONL → PostgreSQL must equal SQLite → PostgreSQL cell by cell.

use super::common::*;
use godwit_tests::{guests, pg, s3};

/// A SQLite database with the kinds of values applications hold: Unicode,
/// NULLs, floats that do not survive a decimal round trip, BLOBs, JSON,
/// dates and times, a foreign key, and an empty table.
async fn make_source(f: &Fixture) {
    let pool = sqlite_with(
        &f.path().join("app.db"),
        &[
            "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born DATE, \
             score REAL, avatar BLOB, meta JSON, active BOOLEAN)",
            "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), \
             title TEXT, price NUMERIC(10,2), published TIMESTAMP)",
            "CREATE TABLE empty_one (id INTEGER PRIMARY KEY, note TEXT)",
            "INSERT INTO authors VALUES \
             (1, 'Zoë \"Z\" Ørsted 🦆', '2024-02-29', 0.1, x'00ff10', '{\"a\": [1, 2.50], \"b\": null}', 1), \
             (2, 'tab\tand\nnewline', NULL, -0.0, NULL, NULL, 0), \
             (3, '', '1900-01-01', 1.7976931348623157e308, x'', '[]', NULL)",
            "INSERT INTO books VALUES \
             (10, 1, 'Первая', 19.99, '2024-01-01 12:34:56'), \
             (11, 1, NULL, NULL, NULL), \
             (12, 3, 'x', 0.01, '1999-12-31 23:59:59')",
        ],
    )
    .await;
    pool.close().await;
}

/// The store `export`: the folder `export` of the project.
const FOLDER_STORE: &str = "[stores.export]\ntype = \"fs\"\nroot = \"export\"\n";

/// The store `export`: an S3 bucket of the test server.
fn s3_store(bucket: &str) -> String {
    format!(
        "[stores.export]\ntype = \"s3\"\nbucket = \"{bucket}\"\nendpoint = \"{}\"\n\
         region = \"eu-west-1\"\naccess_key_env = \"S3_KEY\"\nsecret_key_env = \"S3_SECRET\"\n",
        s3::server().endpoint()
    )
}

/// Project text: `sqlite-source` (0.2) into `jsonl-target` (0.3), folder `export`.
fn export_project(mode: &str) -> String {
    export_project_to(mode, FOLDER_STORE, "jsonl")
}

/// As [`export_project`], into the given `[stores.export]`, with
/// `<format>-target` (`jsonl`, `csv`).
fn export_project_to(mode: &str, store: &str, format: &str) -> String {
    format!(
        r#"[project]
name = "export"

[connections.app]
dsn = "sqlite://app.db?mode=ro"

{store}
[plugins.src]
path = "builtin:sqlite-source"
grants.sql = {{ source = "app" }}

[plugins.files]
path = "builtin:{format}-target"
grants.blob = {{ out = "export" }}
params = {{ prefix = "tables/" }}

[[steps]]
name = "export"
source = "src"
target = "files"
mode = "{mode}"
"#
    )
}

/// Project text: `jsonl-source` (0.3) into `postgres-target` (0.2).
fn import_project(url: &str) -> String {
    import_project_from(url, FOLDER_STORE, "jsonl")
}

/// As [`import_project`], from the given `[stores.export]`, with
/// `<format>-source`.
fn import_project_from(url: &str, store: &str, format: &str) -> String {
    format!(
        r#"[project]
name = "import"

[connections.pg]
dsn = "{url}"

{store}
[plugins.files]
path = "builtin:{format}-source"
grants.blob = {{ in = "export" }}
params = {{ prefix = "tables/" }}

[plugins.dst]
path = "builtin:postgres-target"
grants.sql = {{ target = "pg" }}

[[steps]]
name = "import"
source = "files"
target = "dst"
"#
    )
}

/// Every table of a PostgreSQL database: its columns with their types, and
/// its rows as JSON text, in key order.
async fn pg_contents(url: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
             coalesce(numeric_precision::text, '') || ',' || coalesce(numeric_scale::text, '') \
             FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&t)
        .fetch_all(&pool)
        .await
        .unwrap();
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT row_to_json(x)::text FROM \"{t}\" x ORDER BY 1"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        out.push((t, columns, rows));
    }
    pool.close().await;
    out
}

#[tokio::test]
async fn sqlite_to_jsonl_files_and_back_to_postgres_equals_the_direct_copy() {
    let f = Fixture::empty();
    make_source(&f).await;

    // SQLite → JSON Lines, through a 0.3 target that writes its own batches.
    f.write("godwit.toml", &export_project("replace"));
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("authors -> authors (written by the target plugin)")
            && plan
                .stdout
                .contains("target: writes tables/authors.jsonl and tables/authors.schema.json"),
        "{}",
        plan.stdout
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let step = &report["steps"][0];
    let written: Vec<(String, u64, String)> = step["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_owned(),
                t["rows_written"].as_u64().unwrap(),
                t["location"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        written.contains(&("authors".into(), 3, "tables/authors.jsonl".into())),
        "{written:?}"
    );
    assert!(
        written.contains(&("books".into(), 3, "tables/books.jsonl".into())),
        "{written:?}"
    );
    assert!(
        written.contains(&("empty_one".into(), 0, "tables/empty_one.jsonl".into())),
        "{written:?}"
    );
    assert!(
        step["target_notes"][0]
            .as_str()
            .unwrap()
            .contains("manifest.json"),
        "{step}"
    );
    let dir = f.path().join("export/tables");
    let lines = std::fs::read_to_string(dir.join("authors.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(lines.contains("Zoë"), "{lines}");
    assert_eq!(
        std::fs::read_to_string(dir.join("empty_one.jsonl")).unwrap(),
        ""
    );
    for t in ["authors", "books", "empty_one"] {
        assert!(dir.join(format!("{t}.schema.json")).is_file(), "{t}");
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"books\""), "{manifest}");

    // JSON Lines → PostgreSQL, through a 0.3 source producing its own batches.
    let via_files = pg::server().create_db();
    f.write("godwit.toml", &import_project(&via_files));
    let run = f.godwit(&["run", &f.arg(), "--fresh"]);
    assert_eq!(run.code, 0, "{}", run.all());

    // The same source copied directly (0.2 plugins only).
    let direct = pg::server().create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &direct,
            "postgres-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg(), "--fresh"]);
    assert_eq!(run.code, 0, "{}", run.all());

    let (a, b) = (pg_contents(&via_files).await, pg_contents(&direct).await);
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(a, b, "through JSON Lines vs direct");
    // And the foreign key came through the schema file.
    let pool = sqlx::PgPool::connect(&via_files).await.unwrap();
    let fks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY' AND table_name = 'books'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(fks, 1);
    pool.close().await;
}

#[tokio::test]
async fn sqlite_to_jsonl_in_s3_and_back_to_postgres_is_exact() {
    files_in_s3_and_back_to_postgres("jsonl").await
}

#[tokio::test]
async fn sqlite_to_csv_in_s3_and_back_to_postgres_is_exact() {
    files_in_s3_and_back_to_postgres("csv").await
}

/// SQLite → `<format>` files in S3 → PostgreSQL equals SQLite →
/// PostgreSQL, cell by cell and type by type.
async fn files_in_s3_and_back_to_postgres(format: &str) {
    let f = Fixture::empty();
    make_source(&f).await;
    let env = [("S3_KEY", s3::ACCESS_KEY), ("S3_SECRET", s3::SECRET_KEY)];
    let store = s3_store(&s3::server().create_bucket());
    f.write("godwit.toml", &export_project_to("replace", &store, format));
    let run = f.godwit_env(&["run", &f.arg()], &env);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains(&format!("authors written to tables/authors.{format}")),
        "{}",
        run.stdout
    );

    let via_s3 = pg::server().create_db();
    f.write("godwit.toml", &import_project_from(&via_s3, &store, format));
    let run = f.godwit_env(&["run", &f.arg(), "--fresh"], &env);
    assert_eq!(run.code, 0, "{}", run.all());

    let direct = pg::server().create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &direct,
            "postgres-target",
            "",
            false,
        ),
    );
    assert_eq!(f.godwit(&["run", &f.arg(), "--fresh"]).code, 0);
    let (a, b) = (pg_contents(&via_s3).await, pg_contents(&direct).await);
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(a, b, "through {format} in S3 vs direct");

    // Run again: the export replaces its objects and the data is the same.
    f.write("godwit.toml", &export_project_to("replace", &store, format));
    let run = f.godwit_env(&["run", &f.arg(), "--fresh"], &env);
    assert_eq!(run.code, 0, "{}", run.all());
}

#[tokio::test]
async fn a_corrupt_line_fails_the_import_with_its_line_number_and_loads_nothing() {
    let f = Fixture::empty();
    make_source(&f).await;
    f.write("godwit.toml", &export_project("replace"));
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let path = f.path().join("export/tables/books.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"id\": 11, \"title\": ";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let url = pg::server().create_db();
    f.write("godwit.toml", &import_project(&url));
    let run = f.godwit(&["run", &f.arg(), "--fresh"]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("books.jsonl line 2"), "{}", run.stderr);
    // The table the corrupt file was going into holds nothing.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let books: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'books'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(books, 0, "a partly read table was left behind");
    pool.close().await;
}

#[test]
fn modes_a_file_target_cannot_do_are_refused_before_anything_is_written() {
    let f = Fixture::empty();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(make_source(&f));
    f.write("godwit.toml", &export_project("append"));
    let run = f.godwit(&["run", &f.arg()]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("mode append is not possible"),
        "{}",
        run.stderr
    );
    assert!(!f.path().join("export/tables/authors.jsonl").exists());

    // `upsert` is ruled out by the target's traits, before any plugin
    // plans a table (a usage error: exit 2).
    f.write("godwit.toml", &export_project("upsert"));
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("mode = \"upsert\" needs a target that can upsert, and files does not (its traits: transactional, parallel-tables)"),
        "{}",
        run.stderr
    );
    assert!(!f.path().join("export/tables/authors.jsonl").exists());

    // `create` refuses a table that is already in the store.
    f.write("godwit.toml", &export_project("replace"));
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    f.write("godwit.toml", &export_project("create"));
    let run = f.godwit(&["run", &f.arg(), "--fresh"]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("already exists in the store"),
        "{}",
        run.stderr
    );
}

#[test]
fn inspect_names_the_contract_each_plugin_speaks() {
    let f = Fixture::empty();
    for (plugin, contract) in [
        ("builtin:jsonl-target", "godwit:plugin@0.3.0"),
        ("builtin:jsonl-source", "godwit:plugin@0.3.0"),
        ("builtin:sqlite-source", "godwit:plugin@0.2.0"),
    ] {
        let r = f.godwit(&["--json", "plugins", "inspect", plugin]);
        assert_eq!(r.code, 0, "{}", r.all());
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["wit_package"], contract, "{plugin}");
    }
    let r = f.godwit(&["plugins", "list"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("builtin:jsonl-target") && l.contains("0.3.0")),
        "{}",
        r.stdout
    );
}

/// A project copying a SQLite table of ids 1..=10 (and an empty table)
/// into the `batch-writer` test guest with these params.
async fn writer_project(f: &Fixture, params: &str, max_rejects: u64) {
    let statements: Vec<String> =
        std::iter::once("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)".to_owned())
            .chain(std::iter::once(
                "CREATE TABLE empty_t (id INTEGER PRIMARY KEY)".to_owned(),
            ))
            .chain((1..=10).map(|i| format!("INSERT INTO t VALUES ({i}, 'row {i}')")))
            .collect();
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    sqlite_with(&f.path().join("app.db"), &refs)
        .await
        .close()
        .await;
    f.write(
        "godwit.toml",
        &format!(
            r#"[project]
name = "writer"

[trust]
allow_unsigned_plugins = true

[connections.app]
dsn = "sqlite://app.db?mode=ro"

[plugins.src]
path = "builtin:sqlite-source"
grants.sql = {{ source = "app" }}

[plugins.sink]
path = "{wasm}"
params = {params}

[[steps]]
name = "write"
source = "src"
target = "sink"
mode = "replace"
max_rejects = {max_rejects}
"#,
            wasm = guests::BATCH_WRITER
        ),
    );
}

#[tokio::test]
async fn rows_a_plugin_writer_refuses_go_to_the_reject_file_with_their_keys() {
    let f = Fixture::empty();
    writer_project(&f, r#"{ refuse = "odd" }"#, 10).await;
    let run = f.godwit(&["--json", "run", &f.arg()]);
    // Rows were rejected: exit 1, never 0.
    assert_eq!(run.code, 1, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let t = report["steps"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "t")
        .unwrap()
        .clone();
    assert_eq!(
        (
            t["rows_read"].as_u64(),
            t["rows_written"].as_u64(),
            t["rows_rejected"].as_u64()
        ),
        (Some(10), Some(5), Some(5)),
        "{t}"
    );
    assert_eq!(report["steps"][0]["target_notes"][0], "finished 2 tables");
    let rejects = all_rejects(&f);
    let mut ids: Vec<i64> = rejects
        .iter()
        .map(|r| {
            assert_eq!(r["stage"], "load", "{r}");
            assert_eq!(r["reason"], "column id: odd id", "{r}");
            r["key"]["id"].as_i64().unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 3, 5, 7, 9]);

    // Over the budget: the step fails (exit 1, rows rejected beyond
    // max_rejects) and says where the rejects are.
    let g = Fixture::empty();
    writer_project(&g, r#"{ refuse = "odd" }"#, 2).await;
    let run = g.godwit(&["run", &g.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("more than max_rejects = 2"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_plugin_writer_that_lies_about_its_rows_fails_the_table() {
    for (mode, says) in [
        ("index", "refused row 15 of a batch of 10 rows"),
        ("twice", "refused row 0 of a batch of 10 rows twice"),
        ("count", "rows written, but it accepted"),
        ("panic", "panicked"),
    ] {
        let f = Fixture::empty();
        writer_project(&f, &format!(r#"{{ misbehave = "{mode}" }}"#), 100).await;
        let run = f.godwit(&["run", &f.arg()]);
        assert_eq!(run.code, 3, "{mode}: {}", run.all());
        assert!(run.stderr.contains(says), "{mode}: {}", run.stderr);
        assert!(
            run.stderr.contains("batch-writer") || run.stderr.contains("sink"),
            "{mode}: {}",
            run.stderr
        );
    }
}

/// Every file under `dir` (relative path → contents).
fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_killed_export_resumes_to_the_same_files_as_a_clean_one() {
    let clean = Fixture::empty();
    make_source(&clean).await;
    clean.write("godwit.toml", &export_project("replace"));
    assert_eq!(clean.godwit(&["run", &clean.arg()]).code, 0);
    let expected = files_under(&clean.path().join("export"));
    assert_eq!(expected.len(), 7, "{:?}", expected.keys());

    for at in ["data:books", "loaded:books", "loaded:authors"] {
        let f = Fixture::empty();
        make_source(&f).await;
        f.write("godwit.toml", &export_project("replace"));
        let killed = f.godwit_env(&["run", &f.arg()], &[("GODWIT_KILL_AT", at)]);
        assert_ne!(killed.code, 0, "{at}: {}", killed.all());
        // Whatever the kill left, a schema file only stands beside a
        // complete rows file.
        let left = files_under(&f.path().join("export"));
        for name in left.keys() {
            if let Some(t) = name.strip_suffix(".schema.json") {
                let rows = format!("{t}.jsonl");
                assert!(
                    left.get(&rows) == expected.get(&rows),
                    "{at}: {rows} is not complete beside its schema"
                );
            }
        }
        let run = f.godwit(&["run", &f.arg()]);
        assert_eq!(run.code, 0, "{at}: {}", run.all());
        let after = files_under(&f.path().join("export"));
        // The same files (no partial object of the killed run left) with
        // the same bytes.
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{at}"
        );
        assert!(
            after == expected,
            "{at}: contents differ from a clean export"
        );
    }
}

/// CSV files as `csv-target` writes them load into PostgreSQL with its own
/// `COPY … (FORMAT csv, HEADER true)`, as they are: NULL vs empty text,
/// `bytea` hex, booleans, JSON, timestamps and extreme floats arrive as a
/// direct copy holds them.
#[tokio::test]
async fn csv_files_load_into_postgres_with_its_own_copy_as_they_are() {
    let f = Fixture::empty();
    make_source(&f).await;
    f.write(
        "godwit.toml",
        &export_project_to("replace", FOLDER_STORE, "csv"),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());

    // The direct copy's tables, emptied, then filled by COPY from the files.
    let direct = pg::server().create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &direct,
            "postgres-target",
            "",
            false,
        ),
    );
    assert_eq!(f.godwit(&["run", &f.arg(), "--fresh"]).code, 0);
    let want = pg_contents(&direct).await;
    use sqlx::postgres::PgPoolCopyExt as _;
    let pool = sqlx::PgPool::connect(&direct).await.unwrap();
    sqlx::query("TRUNCATE books, authors, empty_one")
        .execute(&pool)
        .await
        .unwrap();
    for t in ["authors", "books", "empty_one"] {
        let bytes = std::fs::read(f.path().join(format!("export/tables/{t}.csv"))).unwrap();
        let mut copy = pool
            .copy_in_raw(&format!(
                "COPY \"{t}\" FROM STDIN WITH (FORMAT csv, HEADER true)"
            ))
            .await
            .unwrap();
        copy.send(bytes).await.unwrap();
        copy.finish()
            .await
            .unwrap_or_else(|e| panic!("COPY {t}: {e}"));
    }
    pool.close().await;
    assert_eq!(
        pg_contents(&direct).await,
        want,
        "COPY from the CSV files vs direct"
    );
}

/// A value CSV cannot hold in its column's type (text that is no date in
/// a DATE column) is rejected with its key and the reason; values SQLite
/// keeps as another kind that convert exactly (0/1 in BOOLEAN, integers
/// in NUMERIC, date text in DATE) are written in the column's type; the
/// run exits 1, and the file holds exactly the rows written.
#[tokio::test]
async fn a_value_a_csv_cell_cannot_hold_is_rejected_with_its_reason() {
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("app.db"),
        &[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN, d DATE, amount NUMERIC(10,2))",
            "INSERT INTO t VALUES (1, 1, '2024-01-01', 19.99), (2, 0, NULL, 0), \
             (3, 0, 'soon', 1), (4, NULL, NULL, NULL), (5, 0, '1999-12-31', '3.50')",
        ],
    )
    .await
    .close()
    .await;
    let mut toml = export_project_to("replace", FOLDER_STORE, "csv");
    toml.push_str("max_rejects = 10\n");
    f.write("godwit.toml", &toml);
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let rejects = rejects_under(f.path());
    let got: Vec<(String, String)> = rejects
        .iter()
        .map(|r| {
            (
                r["key"].to_string(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, r#"{"id":3}"#);
    assert!(
        got[0]
            .1
            .contains("column d: a text value \"soon\" does not convert exactly to date")
            && got[0].1.contains("JSON Lines"),
        "{got:?}"
    );
    let text = std::fs::read_to_string(f.path().join("export/tables/t.csv")).unwrap();
    assert_eq!(
        text,
        "id,flag,d,amount\n1,true,2024-01-01,19.99\n2,false,,0\n4,,,\n5,false,1999-12-31,3.5\n",
        "header, then the rows written in the columns' types"
    );
}

/// A CSV file whose header is not its schema's, or that ends inside a
/// quoted cell (cut short), fails the import with the file and line, and
/// the table it was going into holds nothing. A table written in another
/// format is not taken for CSV.
#[tokio::test]
async fn a_corrupt_csv_file_fails_the_import_with_its_line_and_loads_nothing() {
    let f = Fixture::empty();
    make_source(&f).await;
    f.write(
        "godwit.toml",
        &export_project_to("replace", FOLDER_STORE, "csv"),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let path = f.path().join("export/tables/authors.csv");
    let good = std::fs::read_to_string(&path).unwrap();
    let books_count = |url: String| async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'authors'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        n
    };
    for (corrupt, want) in [
        (
            good.replacen("id,name,", "id,nom,", 1),
            "authors.csv line 1: the header names the columns",
        ),
        (
            // Cut inside the quoted name of the second row (a newline in it).
            good[..good.find("\"tab").unwrap() + 5].to_owned(),
            "authors.csv line 3: the file ends inside a quoted cell",
        ),
    ] {
        std::fs::write(&path, &corrupt).unwrap();
        let url = pg::server().create_db();
        f.write(
            "godwit.toml",
            &import_project_from(&url, FOLDER_STORE, "csv"),
        );
        let run = f.godwit(&["run", &f.arg(), "--fresh"]);
        assert_ne!(run.code, 0, "{}", run.all());
        assert!(run.stderr.contains(want), "{want}: {}", run.stderr);
        assert_eq!(
            books_count(url).await,
            0,
            "a partly read table was left behind"
        );
    }

    // JSON Lines in the same place: csv-source names them and takes none.
    f.write(
        "godwit.toml",
        &export_project_to("replace", FOLDER_STORE, "jsonl"),
    );
    assert_eq!(f.godwit(&["run", &f.arg(), "--fresh"]).code, 0);
    let url = pg::server().create_db();
    f.write(
        "godwit.toml",
        &import_project_from(&url, FOLDER_STORE, "csv"),
    );
    let run = f.godwit(&["plan", &f.arg()]);
    assert!(
        run.all()
            .contains("table authors is in jsonl, not csv; skipped (read it with jsonl-source)"),
        "{}",
        run.all()
    );
}
