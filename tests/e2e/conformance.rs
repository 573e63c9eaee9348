//! The conformance suite (issue 15, item 6; docs/adapter-contract.md): the
//! same cases run against every adapter pair, a target and the source that
//! reads its store back, on real servers.
//!
//! Each case starts from one SQLite database holding what applications
//! hold (every logical type, NULLs in every column, Unicode, extreme
//! numbers, an empty table, names that need quoting, a composite key, a
//! foreign key, a table of many batches), copies it into the store under
//! test with the adapter's target, reads it back with the adapter's source
//! into a second SQLite file, and compares that file cell by cell, storage
//! class and declared type included, with a direct SQLite → SQLite copy of
//! the same database. A difference is a defect of the adapter pair (or of
//! the host between them), never a tolerance of the test.
//!
//! Cases: the round trip itself; a re-run over a loaded store; a run killed
//! at several points and resumed; rows the target refuses (for targets
//! that can refuse a row). Adding an adapter is one [`Kind`] variant and
//! one line in the `conformance!` invocation at the bottom.

use super::common::*;
use godwit_tests::{pg, s3};
use std::path::Path;

/// A store an adapter pair writes and reads.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `sqlite-target` / `sqlite-source` on a SQLite file.
    Sqlite,
    /// `postgres-target` / `postgres-source` on a real PostgreSQL server.
    Postgres,
    /// `mysql-target` / `mysql-source` on a real MariaDB server.
    Mariadb,
    /// `jsonl-target` / `jsonl-source` (contract 0.3) on a local folder.
    JsonlFolder,
    /// `jsonl-target` / `jsonl-source` on a real S3-compatible server.
    JsonlS3,
    /// `csv-target` / `csv-source` (contract 0.3) on a local folder.
    CsvFolder,
    /// `csv-target` / `csv-source` on a real S3-compatible server.
    CsvS3,
}

/// One fresh place of a [`Kind`]: the project-file sections that declare
/// it as connection or store `x`, and how to reach it from the test.
struct Place {
    kind: Kind,
    /// `[connections.x]` or `[stores.x]`.
    decl: String,
    /// The DSN of a SQL place.
    dsn: Option<String>,
}

/// Rows in the table that spans many batches (the default batch is 1,000
/// rows, so a kill after the first batch leaves a table half written).
const MANY: usize = 2_500;

/// The tables of the canonical database, in the order `dump` reads them.
const TABLES: &[&str] = &[
    "kinds",
    "Order Items",
    "pairs",
    "children",
    "empty_one",
    "many",
];

impl Kind {
    /// A fresh, empty place of this kind for the fixture `f`; `tag` tells
    /// apart the places of one fixture.
    fn fresh(self, f: &Fixture, tag: &str) -> Place {
        let sql = |dsn: String| Place {
            kind: self,
            decl: format!("[connections.x]\ndsn = \"{dsn}\"\n"),
            dsn: Some(dsn),
        };
        match self {
            Kind::Sqlite => sql(format!(
                "sqlite://{}?mode=rwc",
                f.path().join(format!("store{tag}.db")).display()
            )),
            Kind::Postgres => sql(pg::server().create_db()),
            Kind::Mariadb => sql(godwit_tests::mariadb::server().create_db()),
            Kind::JsonlFolder | Kind::CsvFolder => Place {
                kind: self,
                decl: format!(
                    "[stores.x]\ntype = \"fs\"\nroot = \"{}\"\n",
                    f.path().join(format!("files{tag}")).display()
                ),
                dsn: None,
            },
            Kind::JsonlS3 | Kind::CsvS3 => Place {
                kind: self,
                decl: format!(
                    "[stores.x]\ntype = \"s3\"\nbucket = \"{}\"\nendpoint = \"{}\"\n\
                     region = \"eu-west-1\"\naccess_key_env = \"S3_KEY\"\nsecret_key_env = \"S3_SECRET\"\n",
                    s3::server().create_bucket(),
                    s3::server().endpoint()
                ),
                dsn: None,
            },
        }
    }

    /// The `[plugins.dst]` body writing into place `x`.
    fn target_plugin(self) -> String {
        self.plugin(true)
    }

    /// The `[plugins.src]` body reading place `x`.
    fn source_plugin(self) -> String {
        self.plugin(false)
    }

    /// The built-in target (or source) of this kind, granted place `x`.
    fn plugin(self, target: bool) -> String {
        let (name, capability, params) = match self {
            Kind::Sqlite => ("sqlite", "sql", ""),
            Kind::Postgres => ("postgres", "sql", ""),
            Kind::Mariadb => ("mysql", "sql", ""),
            Kind::JsonlFolder | Kind::JsonlS3 => {
                ("jsonl", "blob", "params = { prefix = \"tables/\" }\n")
            }
            Kind::CsvFolder | Kind::CsvS3 => ("csv", "blob", "params = { prefix = \"tables/\" }\n"),
        };
        let (role, label) = match (target, capability) {
            (true, "sql") => ("target", "target"),
            (true, _) => ("target", "out"),
            (false, "sql") => ("source", "source"),
            (false, _) => ("source", "in"),
        };
        format!(
            "path = \"builtin:{name}-{role}\"\ngrants.{capability} = {{ {label} = \"x\" }}\n{params}"
        )
    }
}

/// The S3 test server's credentials, for every run that may touch a bucket.
const S3_ENV: &[(&str, &str)] = &[("S3_KEY", s3::ACCESS_KEY), ("S3_SECRET", s3::SECRET_KEY)];

/// Creates the canonical database at `path`.
async fn canonical(path: &Path) {
    let many = format!(
        "INSERT INTO many WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MANY}) \
         SELECT i, printf('row %05d ✓', i), i * 0.5 FROM n"
    );
    let pool = sqlite_with(
        path,
        &[
            "CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, \
             flag BOOLEAN, d DATE, ts TIMESTAMP, amount NUMERIC(12,2), doc JSON)",
            "INSERT INTO kinds VALUES \
             (1, 9223372036854775807, 0.1, 'Zoë \"Z\" Ørsted 🦆 — ½', x'00ff10', 1, '2024-02-29', \
              '2024-01-01 12:34:56', 19.99, '{\"a\": [1, 2.50], \"b\": null, \"c\": \"✓\"}'), \
             (2, -9223372036854775808, -0.0, 'tab\tand\nnewline\rand \\ backslash', x'', 0, '1900-01-01', \
              '1999-12-31 23:59:59', -0.01, '[]'), \
             (3, 0, 1.7976931348623157e308, '', x'00', NULL, '2038-01-19', '2038-01-19 03:14:08', 0, \
              '{\"b\": 1,\"a\":  [2.50, {}]}'), \
             (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), \
             (5, 42, 5e-324, 'مرحبا 你好 e\u{301}', x'deadbeef', 1, '1970-01-01', '1970-01-01 00:00:00', \
              1234567890.12, '\"just a string\"')",
            "CREATE TABLE \"Order Items\" (\"select\" INTEGER PRIMARY KEY, \"Name\" TEXT NOT NULL, \
             \"from\" TEXT)",
            "INSERT INTO \"Order Items\" VALUES (1, 'one', NULL), (2, 'two', 'x'), (3, 'Ünïcödé', '')",
            "CREATE TABLE pairs (a INTEGER NOT NULL, b TEXT NOT NULL, v REAL, PRIMARY KEY (a, b))",
            "INSERT INTO pairs VALUES (1, 'a', 1.5), (1, 'b', NULL), (2, 'a', -2.25)",
            "CREATE TABLE children (id INTEGER PRIMARY KEY, kind_id INTEGER REFERENCES kinds(id), \
             label TEXT)",
            "INSERT INTO children VALUES (1, 1, 'first'), (2, 1, NULL), (3, 5, 'fifth'), (4, NULL, 'none')",
            "CREATE TABLE empty_one (id INTEGER PRIMARY KEY, note TEXT)",
            "CREATE TABLE many (id INTEGER PRIMARY KEY, label TEXT NOT NULL, half REAL)",
            &many,
        ],
    )
    .await;
    pool.close().await;
}

/// Project text copying `app.db` (SQLite) into `place` with `mode`.
fn into_project(f: &Fixture, place: &Place, mode: &str, tables: &str) -> String {
    format!(
        "[project]\nname = \"into\"\n\n\
         [connections.app]\ndsn = \"sqlite://{app}?mode=ro\"\n\n{decl}\n\
         [plugins.src]\npath = \"builtin:sqlite-source\"\ngrants.sql = {{ source = \"app\" }}\n\n\
         [plugins.dst]\n{target}\n\
         [[steps]]\nname = \"into\"\nsource = \"src\"\ntarget = \"dst\"\nmode = \"{mode}\"\n{tables}",
        app = f.path().join("app.db").display(),
        decl = place.decl,
        target = place.kind.target_plugin(),
    )
}

/// Project text copying `place` back into the SQLite file `file`.
fn out_project(place: &Place, file: &Path) -> String {
    copy_back(&place.decl, place.kind.source_plugin(), file)
}

/// Project text copying what the source plugin `source` reads from `decl`
/// into the SQLite file `file`.
fn copy_back(decl: &str, source: String, file: &Path) -> String {
    format!(
        "[project]\nname = \"out\"\n\n{decl}\n\
         [connections.back]\ndsn = \"sqlite://{file}?mode=rwc\"\n\n\
         [plugins.src]\n{source}\n\
         [plugins.dst]\npath = \"builtin:sqlite-target\"\ngrants.sql = {{ target = \"back\" }}\n\n\
         [[steps]]\nname = \"out\"\nsource = \"src\"\ntarget = \"dst\"\nmode = \"replace\"\n",
        file = file.display(),
    )
}

/// Runs the project `toml` from its own folder `dir` under the fixture.
fn run_in(f: &Fixture, dir: &str, toml: &str, extra_env: &[(&str, &str)]) -> Run {
    f.write(&format!("{dir}/godwit.toml"), toml);
    let mut env = S3_ENV.to_vec();
    env.extend_from_slice(extra_env);
    let project = f.path().join(dir).display().to_string();
    f.godwit_env(&["--json", "run", &project], &env)
}

/// What a round trip must keep of a SQLite file: per table, the columns as
/// `sqlite-source` reads them (name, logical type, nullability) with the
/// table's keys, then every row with each value's storage class.
struct Contents {
    /// Per table: name, `[name, logical type, nullable]` per column, keys.
    schema: Vec<serde_json::Value>,
    /// Per table, its rows as [`dump`] renders them, in key order.
    rows: Vec<(String, Vec<Vec<String>>)>,
    /// Per table, each row's storage classes (`integer,text,...`).
    classes: Vec<(String, Vec<String>)>,
}

/// The [`Contents`] of the SQLite file `file`. The logical schema is what
/// `sqlite-source` discovers, as `jsonl-target` writes it into its schema
/// files (declared type names may differ where the logical type does not:
/// `NUMERIC(12,2)` and `DECIMAL TEXT(12,2)` are both `decimal(12,2)`).
async fn contents(f: &Fixture, file: &Path) -> Contents {
    let name = file.file_stem().unwrap().to_string_lossy().into_owned();
    let schemas = f.path().join(format!("schema-of-{name}"));
    let toml = format!(
        "[project]\nname = \"schema\"\n\n\
         [connections.x]\ndsn = \"sqlite://{}?mode=ro\"\n\n\
         [stores.out]\ntype = \"fs\"\nroot = \"{}\"\n\n\
         [plugins.src]\npath = \"builtin:sqlite-source\"\ngrants.sql = {{ source = \"x\" }}\n\n\
         [plugins.dst]\npath = \"builtin:jsonl-target\"\ngrants.blob = {{ out = \"out\" }}\n\n\
         [[steps]]\nname = \"schema\"\nsource = \"src\"\ntarget = \"dst\"\nmode = \"replace\"\n",
        file.display(),
        schemas.display()
    );
    let run = run_in(f, &format!("schema-{name}"), &toml, &[]);
    assert_eq!(run.code, 0, "reading the schema of {name}: {}", run.all());
    let mut schema = Vec::new();
    for t in TABLES {
        let text = std::fs::read_to_string(schemas.join(format!("{t}.schema.json")))
            .unwrap_or_else(|e| panic!("{name}: schema of {t}: {e}"));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let columns: Vec<serde_json::Value> = doc["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| serde_json::json!([c["name"], c["type"], c["nullable"]]))
            .collect();
        let fks: Vec<serde_json::Value> = doc["foreign_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| serde_json::json!([k["columns"], k["ref_table"], k["ref_columns"]]))
            .collect();
        schema.push(serde_json::json!({
            "table": t, "columns": columns, "primary_key": doc["primary_key"], "foreign_keys": fks,
        }));
    }
    // Storage classes, row by row (`dump` renders by declared type).
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .expect("open sqlite");
    let mut classes = Vec::new();
    for t in TABLES {
        let cols: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(t)
                .fetch_all(&pool)
                .await
                .unwrap();
        let q = |c: &String| format!("\"{}\"", c.replace('"', "\"\""));
        let typeofs: Vec<String> = cols.iter().map(|c| format!("typeof({})", q(c))).collect();
        let order: Vec<String> = cols.iter().take(2).map(q).collect();
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT {} FROM \"{}\" ORDER BY {}",
            typeofs.join(" || ',' || "),
            t.replace('"', "\"\""),
            order.join(", ")
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        classes.push((t.to_string(), rows));
    }
    pool.close().await;
    Contents {
        schema,
        rows: dump(file, TABLES).await,
        classes,
    }
}

/// The direct SQLite → SQLite copy of the canonical database: what every
/// round trip must equal.
async fn direct(f: &Fixture) -> Contents {
    let file = f.path().join("direct.db");
    let decl = format!(
        "[connections.x]\ndsn = \"sqlite://{}?mode=ro\"\n",
        f.path().join("app.db").display()
    );
    let toml = copy_back(&decl, Kind::Sqlite.source_plugin(), &file);
    let run = run_in(f, "direct", &toml, &[]);
    assert_eq!(run.code, 0, "direct copy: {}", run.all());
    contents(f, &file).await
}

/// The rows each table of a run's report says were written.
fn written(run: &Run) -> Vec<(String, u64)> {
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("report: {e}: {}", run.all()));
    let mut out: Vec<(String, u64)> = report["steps"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_owned(),
                t["rows_written"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The rows the canonical database holds per table, as `written` lists them.
fn expected_counts() -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = [
        ("kinds", 5),
        ("Order Items", 3),
        ("pairs", 3),
        ("children", 4),
        ("empty_one", 0),
        ("many", MANY as u64),
    ]
    .iter()
    .map(|(t, n)| (t.to_string(), *n))
    .collect();
    v.sort();
    v
}

/// Reads `place` back into `name.db` and returns its contents.
async fn read_back(f: &Fixture, place: &Place, name: &str) -> Contents {
    let file = f.path().join(format!("{name}.db"));
    let run = run_in(f, name, &out_project(place, &file), &[]);
    assert_eq!(run.code, 0, "{:?} read back: {}", place.kind, run.all());
    assert_eq!(
        written(&run),
        expected_counts(),
        "{:?} read back",
        place.kind
    );
    contents(f, &file).await
}

impl Kind {
    /// Whether the store keeps JSON documents in a normal form of its own
    /// rather than as written: PostgreSQL's default `jsonb` (docs/casts.md)
    /// sorts keys, drops duplicate keys and sets its own spacing. The
    /// suite then compares JSON cells as parsed documents; every other
    /// store must keep their text byte for byte.
    fn normalizes_json(self) -> bool {
        matches!(self, Kind::Postgres)
    }
}

/// `t:<json text>` as a normal form (keys sorted, no spacing), for stores
/// that keep documents in their own normal form.
fn json_normal(cell: &str) -> String {
    match cell
        .strip_prefix("t:")
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(v)) => format!("json:{v}"),
        _ => cell.to_owned(),
    }
}

/// Asserts that a round trip's [`Contents`] equal the direct copy's,
/// naming the lines that differ (the whole dump of a many-batch table
/// would hide them).
fn assert_same(kind: Kind, got: &Contents, want: &Contents, what: &str) {
    assert_eq!(got.schema, want.schema, "{what}: logical columns and keys");
    let render = |c: &Contents| {
        let mut rows = c.rows.clone();
        if kind.normalizes_json() {
            for ((_, rows), table) in rows.iter_mut().zip(&want.schema) {
                let json_cols: Vec<usize> = table["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .filter(|(_, col)| col[1] == "json")
                    .map(|(i, _)| i)
                    .collect();
                for row in rows.iter_mut() {
                    for &i in &json_cols {
                        row[i] = json_normal(&row[i]);
                    }
                }
            }
        }
        format!("{rows:#?}\n{:#?}", c.classes)
    };
    let (g, w) = (render(got), render(want));
    if g != w {
        let (g, w): (Vec<&str>, Vec<&str>) = (g.lines().collect(), w.lines().collect());
        let diff: Vec<String> = (0..g.len().max(w.len()))
            .filter(|i| g.get(*i) != w.get(*i))
            .take(20)
            .map(|i| format!("line {i}: got {:?}, want {:?}", g.get(i), w.get(i)))
            .collect();
        panic!(
            "{what}: rows differ ({} lines vs {}):\n{}",
            g.len(),
            w.len(),
            diff.join("\n")
        );
    }
}

/// Case: types, NULLs, Unicode, extremes, quoting, keys and an empty table
/// survive target and source exactly.
pub async fn round_trip(kind: Kind) {
    let f = Fixture::empty();
    canonical(&f.path().join("app.db")).await;
    let want = direct(&f).await;
    let place = kind.fresh(&f, "");
    let run = run_in(&f, "into", &into_project(&f, &place, "create", ""), &[]);
    assert_eq!(run.code, 0, "{kind:?} into: {}", run.all());
    assert_eq!(written(&run), expected_counts(), "{kind:?} into");
    let got = read_back(&f, &place, "back").await;
    assert_same(
        kind,
        &got,
        &want,
        &format!("{kind:?}: after the round trip"),
    );
}

/// Case: running the same copy again (mode `replace`, and `--fresh`) leaves
/// exactly the data of one run: nothing doubled, nothing lost.
pub async fn rerun(kind: Kind) {
    let f = Fixture::empty();
    canonical(&f.path().join("app.db")).await;
    let want = direct(&f).await;
    let place = kind.fresh(&f, "");
    let toml = into_project(&f, &place, "replace", "");
    for attempt in 0..2 {
        let run = run_in(&f, "into", &toml, &[]);
        assert_eq!(run.code, 0, "{kind:?} run {attempt}: {}", run.all());
        assert_eq!(written(&run), expected_counts(), "{kind:?} run {attempt}");
    }
    f.write("into/godwit.toml", &toml);
    let project = f.path().join("into").display().to_string();
    let fresh = f.godwit_env(&["--json", "run", &project, "--fresh"], S3_ENV);
    assert_eq!(fresh.code, 0, "{kind:?} --fresh: {}", fresh.all());
    let got = read_back(&f, &place, "back").await;
    assert_same(kind, &got, &want, &format!("{kind:?}: after three runs"));
}

/// Case: a run killed mid-table (after a batch, before its commit) or
/// between tables, then resumed with a plain `godwit run`, leaves the same
/// data as a clean run.
pub async fn resume(kind: Kind) {
    let f = Fixture::empty();
    canonical(&f.path().join("app.db")).await;
    let want = direct(&f).await;
    for (i, at) in ["data:many", "loaded:kinds", "loaded:many"]
        .iter()
        .enumerate()
    {
        let place = kind.fresh(&f, &i.to_string());
        let toml = into_project(&f, &place, "replace", "");
        let dir = format!("into{i}");
        let killed = run_in(&f, &dir, &toml, &[("GODWIT_KILL_AT", at)]);
        assert!(
            killed.code != 0
                && killed
                    .stderr
                    .contains(&format!("GODWIT_KILL_AT={at}: aborting")),
            "{kind:?} {at}: the kill point was not reached: {}",
            killed.all()
        );
        let resumed = run_in(&f, &dir, &toml, &[]);
        assert_eq!(resumed.code, 0, "{kind:?} {at} resumed: {}", resumed.all());
        let got = read_back(&f, &place, &format!("back{i}")).await;
        assert_same(
            kind,
            &got,
            &want,
            &format!("{kind:?}: killed at {at}, then resumed"),
        );
    }
}

/// Case: rows the target refuses (NULL into a NOT NULL column of a table
/// that exists) are rejected one by one with their keys and the target's
/// reason; the other rows are written and the run exits 1.
pub async fn rejects(kind: Kind) {
    let f = Fixture::empty();
    let pool = sqlite_with(
        &f.path().join("app.db"),
        &[
            "CREATE TABLE checked (id INTEGER PRIMARY KEY, v TEXT)",
            "INSERT INTO checked VALUES (1, 'a'), (2, NULL), (3, 'c'), (4, NULL), (5, 'e')",
        ],
    )
    .await;
    pool.close().await;
    let place = kind.fresh(&f, "");
    let ddl = "CREATE TABLE checked (id INTEGER PRIMARY KEY, v TEXT NOT NULL)";
    let dsn = place.dsn.clone().expect("a SQL place");
    match kind {
        Kind::Sqlite => {
            let path = dsn
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc");
            sqlite_with(Path::new(path), &[ddl]).await.close().await;
        }
        Kind::Postgres => {
            let pool = sqlx::PgPool::connect(&dsn).await.unwrap();
            sqlx::query(ddl).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Kind::Mariadb => {
            let db = dsn.rsplit('/').next().unwrap();
            godwit_tests::mariadb::server().sql(db, ddl);
        }
        Kind::JsonlFolder | Kind::JsonlS3 | Kind::CsvFolder | Kind::CsvS3 => {
            unreachable!("files have no constraint to refuse a row with")
        }
    }
    let toml = into_project(&f, &place, "append", "max_rejects = 10\n");
    let run = run_in(&f, "into", &toml, &[]);
    assert_eq!(run.code, 1, "{kind:?}: {}", run.all());
    assert_eq!(written(&run), vec![("checked".to_owned(), 3)], "{kind:?}");
    let rejects = rejects_under(&f.path().join("into"));
    let keys: Vec<&serde_json::Value> = rejects.iter().map(|r| &r["key"]).collect();
    assert_eq!(
        keys,
        vec![&serde_json::json!({"id": 2}), &serde_json::json!({"id": 4})],
        "{kind:?}: {rejects:?}"
    );
    for r in &rejects {
        assert_eq!(r["table"], "checked", "{r}");
        let reason = r["reason"].as_str().unwrap_or_default().to_lowercase();
        assert!(
            reason.contains("null"),
            "{kind:?}: the target's reason is kept: {r}"
        );
    }
}

/// One module per adapter pair, one test per case.
macro_rules! conformance {
    ($($name:ident => $kind:expr $(, $case:ident)*;)*) => {$(
        mod $name {
            use super::Kind;

            #[tokio::test]
            async fn types_nulls_unicode_keys_and_empty_tables_round_trip_exactly() {
                super::round_trip($kind).await
            }
            #[tokio::test]
            async fn a_rerun_leaves_the_data_of_one_run() {
                super::rerun($kind).await
            }
            #[tokio::test]
            async fn a_killed_run_resumes_to_the_data_of_a_clean_run() {
                super::resume($kind).await
            }
            $(
            #[tokio::test]
            async fn $case() {
                super::rejects($kind).await
            }
            )*
        }
    )*};
}

conformance! {
    sqlite => Kind::Sqlite, rows_the_target_refuses_are_rejected_with_keys_and_reasons;
    postgres => Kind::Postgres, rows_the_target_refuses_are_rejected_with_keys_and_reasons;
    mariadb => Kind::Mariadb, rows_the_target_refuses_are_rejected_with_keys_and_reasons;
    // Files hold every value (a NULL, any text) and have no constraint to
    // refuse a row with; the refusal path of a batch-writing target is
    // checked by `contract::rows_a_plugin_writer_refuses_go_to_the_reject_file_with_their_keys`.
    jsonl_folder => Kind::JsonlFolder;
    jsonl_s3 => Kind::JsonlS3;
    // CSV refuses the rows it cannot keep exactly (a value of another kind
    // than its column's): `contract::csv_*` checks that path.
    csv_folder => Kind::CsvFolder;
    csv_s3 => Kind::CsvS3;
}
