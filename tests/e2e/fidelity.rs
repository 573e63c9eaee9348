//! Real databases with default settings: types decided from the data,
//! nothing changed silently, and errors and resumes that explain themselves
//! (issue 13). Each test names the case of the issue it covers.

use super::common::*;

/// A SQLite table whose declared types say little: a `GEOMETRY` column of
/// BLOBs, a column with no type holding integers, reals and text, an
/// `INTEGER` column with a text value, a `MULTIPOLYGON` column.
async fn loosely_typed_source(f: &Fixture) {
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE shapes (id INTEGER PRIMARY KEY, g GEOMETRY, n, i INTEGER, m MULTIPOLYGON, r REAL)",
            "INSERT INTO shapes VALUES (1, x'00ff10', 5, 7, x'0102', 1.5)",
            "INSERT INTO shapes VALUES (2, x'5c7830', 'text', 'abc', x'', 2)",
            "INSERT INTO shapes VALUES (3, NULL, 2.5, 9, NULL, NULL)",
            "INSERT INTO shapes VALUES (4, x'00', 9007199254740993, -3, x'ff', 0.25)",
        ],
    )
    .await
    .close()
    .await;
}

/// Case 1 and 2: on e16b6b6 the BLOBs of `GEOMETRY`/`MULTIPOLYGON` columns
/// arrived in PostgreSQL as the text `\x00ff10`, numbers of the untyped
/// column as text with no word, and the `INTEGER` column holding `'abc'`
/// became `bigint` with that row rejected (`"column": null`). Now the plan
/// shows per column what it holds and the type chosen; BLOBs land in
/// `bytea` byte for byte, the mixed columns become text with a warning.
#[tokio::test]
async fn sqlite_types_come_from_the_data_into_postgres() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    loosely_typed_source(&f).await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "",
            false,
        ),
    );
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    for line in [
        "type:  g: declared GEOMETRY, holds blob 3, null 1 -> bytes",
        "type:  m: declared MULTIPOLYGON, holds blob 3, null 1 -> bytes",
        "type! n: declared (no type), holds integer 2, real 1, text 1 -> text",
        "type! i: declared INTEGER, holds integer 3, text 1 -> text",
        "type:  r: declared REAL, holds real 3, null 1 -> float64",
    ] {
        assert!(
            plan.stdout.contains(line),
            "missing {line:?} in\n{}",
            plan.stdout
        );
    }
    let json = f.godwit(&["--json", "plan", &f.arg()]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let types = &v["steps"][0]["tables"][0]["types"];
    assert_eq!(types[1]["chosen"], "bytes", "{types}");
    assert_eq!(types[1]["declared"], "GEOMETRY", "{types}");

    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("kept as text"), "{}", run.stderr);
    let got = pg.psql(
        &db,
        "SELECT id, encode(g, 'hex'), n, i, encode(m, 'hex'), r::text, pg_typeof(g), pg_typeof(n) \
         FROM shapes ORDER BY id",
    );
    assert_eq!(
        got.trim(),
        "1|00ff10|5|7|0102|1.5|bytea|text\n\
         2|5c7830|text|abc||2|bytea|text\n\
         3||2.5|9|||bytea|text\n\
         4|00|9007199254740993|-3|ff|0.25|bytea|text"
    );
}

/// The same source into MariaDB, which on e16b6b6 rejected the BLOB rows
/// of the `GEOMETRY` column (typed `longtext`) and the `'abc'` row.
#[tokio::test]
async fn sqlite_types_come_from_the_data_into_mariadb() {
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    loosely_typed_source(&f).await;
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "mysql-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let got = my.sql(
        &db,
        "SELECT id, HEX(g), n, i, HEX(m) FROM shapes ORDER BY id",
    );
    assert_eq!(
        got.trim(),
        "1\t00FF10\t5\t7\t0102\n\
         2\t5C7830\ttext\tabc\t\n\
         3\tNULL\t2.5\t9\tNULL\n\
         4\t00\t9007199254740993\t-3\tFF"
    );
}

/// Values no single type holds (BLOBs mixed with text), or that the chosen
/// type cannot read (epoch integers in a `DATETIME` column, whose unit is
/// unknown), are rejected with their column named and the reason, and the
/// plan says so beforehand; with `max_rejects = 0` the run fails (exit 1)
/// instead of writing changed values.
#[tokio::test]
async fn values_no_type_holds_are_rejected_with_their_column() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, at DATETIME)",
            "INSERT INTO notes VALUES (1, x'01', '2024-05-01 10:00:00')",
            "INSERT INTO notes VALUES (2, x'00ff', '2024-05-01 11:00:00')",
            "INSERT INTO notes VALUES (3, 'text', '2024-05-01 12:00:00')",
            "INSERT INTO notes VALUES (4, x'02', 1714557600)",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "",
            false,
        ),
    );
    let plan = f.godwit(&["plan", &f.arg()]);
    assert!(
        plan.stdout
            .contains("type! body: declared TEXT, holds text 1, blob 3 -> bytes"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "type! at: declared DATETIME, holds integer 1, text 3 -> timestamp (1 number"
        ),
        "{}",
        plan.stdout
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", run.all());
    let rejects = std::fs::read_dir(f.path().join(".godwit/runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rejects.jsonl"))
        .find(|p| p.exists())
        .expect("a reject file");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let columns: Vec<&str> = lines
        .iter()
        .map(|l| l["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["body", "at"], "{lines:?}");
    assert_eq!(lines[0]["reason"], "text in a BLOB column");
    assert_eq!(lines[0]["key"]["id"], 3);
    assert!(lines[1]["reason"]
        .as_str()
        .unwrap()
        .contains("epoch-seconds"));

    // Told how to read the integers (and with the BLOB row removed), the
    // run goes through: text and epoch values land as the same instants.
    sqlite_with(
        &f.path().join("src.db"),
        &["DELETE FROM notes WHERE id = 3"],
    )
    .await
    .close()
    .await;
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "casts = [{ column = \"notes.at\", to = \"timestamp\", from = \"epoch-seconds\" }]",
            false,
        ),
    );
    let ok = f.godwit(&["run", "--fresh", &f.arg()]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let db = url.rsplit('/').next().unwrap();
    assert_eq!(
        pg.psql(
            db,
            "SELECT id || '|' || encode(body, 'hex') || '|' || at FROM notes ORDER BY id"
        )
        .trim(),
        "1|01|2024-05-01 10:00:00\n2|00ff|2024-05-01 11:00:00\n4|02|2024-05-01 10:00:00"
    );
}

/// Case 6: with the default mode `create`, a run that failed used to leave
/// its empty tables behind, and the rerun (after the project was fixed)
/// failed with `table "a" already exists` and no word of the saved progress
/// or the way out; a target recreated by hand since a killed run failed
/// later with `relation ... does not exist`. Now a failed load leaves no
/// table (its CREATE TABLE is in the load's transaction), the plain rerun
/// goes through, and a target that lost tables the progress says were
/// loaded is refused up front, naming the progress file and `--fresh`.
#[tokio::test]
async fn resume_with_the_default_mode_explains_itself() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)",
            "INSERT INTO a VALUES (1, 'x'), (2, 'y')",
            "CREATE TABLE z (id INTEGER PRIMARY KEY, at DATETIME)",
            "INSERT INTO z VALUES (1, '2024-01-01 00:00:00'), (2, 1704067200)",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let project = |step: &str| {
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                "postgres-target",
                step,
                false,
            ),
        )
    };
    // One table at a time: `a` loads, then `z` fails.
    project("workers = 1");
    let failed = f.godwit(&["run", &f.arg()]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    // `z` failed: nothing of it is left; `a` loaded.
    assert_eq!(
        pg.psql(
            &db,
            "SELECT coalesce(to_regclass('z')::text, 'none') || '/' || (SELECT count(*) FROM a)"
        )
        .trim(),
        "none/2",
    );
    // Fixed: the project file changed, so its saved progress does not
    // apply; `a`, which that run loaded, is loaded again instead of failing
    // with "already exists". A plain rerun.
    project("workers = 1\ncasts = [{ column = \"z.at\", to = \"timestamp\", from = \"epoch-seconds\" }]");
    let fixed = f.godwit(&["run", &f.arg()]);
    assert_eq!(fixed.code, 0, "{}", fixed.all());
    assert!(
        fixed.stderr.contains("loaded again (replace)"),
        "{}",
        fixed.stderr
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT (SELECT count(*) FROM a) || '/' || (SELECT count(*) FROM z)"
        )
        .trim(),
        "2/2"
    );

    // A table of the target that exists already: the message says there is
    // no progress to resume and the two ways out.
    let again = f.godwit(&["run", &f.arg()]);
    assert_eq!(again.code, 3, "{}", again.all());
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert!(
        again.stderr.contains("no saved progress"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("mode = \"replace\""),
        "{}",
        again.stderr
    );

    // Killed after both tables loaded, then the target emptied by hand.
    pg.psql(&db, "DROP TABLE z; DROP TABLE a");
    let killed = f.godwit_env(&["run", &f.arg()], &[("GODWIT_KILL_AT", "post:z:0")]);
    assert!(killed.stderr.contains("aborting at"), "{}", killed.all());
    pg.psql(&db, "DROP TABLE z; DROP TABLE a");
    let gone = f.godwit(&["run", &f.arg()]);
    assert_eq!(gone.code, 2, "{}", gone.all());
    for words in ["saved progress", "copy.json", "--fresh", "has no table"] {
        assert!(
            gone.stderr.contains(words),
            "{words:?} missing: {}",
            gone.stderr
        );
    }
    let fresh = f.godwit(&["run", "--fresh", &f.arg()]);
    assert_eq!(fresh.code, 0, "{}", fresh.all());
}

/// Case 3: SQLite allows NULLs in a primary key that is not the rowid; on
/// e16b6b6 the key was added after the data and failed with exit 3, the
/// message not saying it was the primary key. Now the plan says so and the
/// key becomes a UNIQUE constraint (NULLs distinct, as in SQLite) that a
/// child's foreign key can still reference.
#[tokio::test]
async fn null_primary_keys_from_sqlite_become_unique_constraints() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT)",
            "INSERT INTO codes VALUES ('a', 'A'), (NULL, 'none 1'), (NULL, 'none 2')",
            "CREATE TABLE uses (id INTEGER PRIMARY KEY, code TEXT REFERENCES codes(code))",
            "INSERT INTO uses VALUES (1, 'a'), (2, NULL)",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "",
            false,
        ),
    );
    let plan = f.godwit(&["plan", &f.arg()]);
    assert!(
        plan.stdout
            .contains("part of the primary key (code) and holds 2 NULLs"),
        "{}",
        plan.stdout
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        pg.psql(
            &db,
            "SELECT string_agg(contype::text, ',' ORDER BY contype) FROM pg_constraint \
             WHERE conrelid IN ('codes'::regclass, 'uses'::regclass)"
        )
        .trim(),
        "f,p,u"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FILTER (WHERE code IS NULL) || '/' || count(*) FROM codes"
        )
        .trim(),
        "2/3"
    );
}

/// Case 4: MySQL names indexes per table; PostgreSQL per schema, shared
/// with tables. Copied as they were, two tables' `by_name` indexes (and an
/// index named like another table) failed with `relation "x" already
/// exists`, exit 3, after the data was written. Now such indexes are renamed
/// `<table>_<index>` and the run says so.
#[tokio::test]
async fn index_names_shared_across_mysql_tables_are_renamed_for_postgres() {
    let my = godwit_tests::mariadb::server();
    let pg = godwit_tests::pg::server();
    let src = my.create_db();
    let src_db = src.rsplit('/').next().unwrap().to_owned();
    my.sql(
        &src_db,
        "CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20), KEY by_name (name)); \
         CREATE TABLE b (id INT PRIMARY KEY, name VARCHAR(20), KEY by_name (name)); \
         CREATE TABLE c (id INT PRIMARY KEY, v INT, KEY a (v)); \
         INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 'y'); INSERT INTO c VALUES (1, 2);",
    );
    let dst = pg.create_db();
    let db = dst.rsplit('/').next().unwrap().to_owned();
    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(&src, "mysql-source", &dst, "postgres-target", "", false),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("is renamed a_by_name"),
        "{}",
        run.stderr
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes \
             WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey'"
        )
        .trim(),
        "a_by_name,b_by_name,c_a"
    );
}

/// Case 7: PostgreSQL → PostgreSQL into another schema: the index
/// definitions from `pg_get_indexdef` named the source's schema (`ON
/// public.x`) and failed. They are re-aimed at the target table.
#[tokio::test]
async fn postgres_indexes_follow_their_table_into_a_target_schema() {
    let pg = godwit_tests::pg::server();
    let src = pg.create_db();
    let src_db = src.rsplit('/').next().unwrap().to_owned();
    pg.psql(
        &src_db,
        "CREATE TABLE people (id int PRIMARY KEY, email text); \
         CREATE UNIQUE INDEX people_email_lower ON people (lower(email)); \
         INSERT INTO people VALUES (1, 'A@x'), (2, 'b@x');",
    );
    let dst = pg.create_db();
    let db = dst.rsplit('/').next().unwrap().to_owned();
    pg.psql(&db, "CREATE SCHEMA staging");
    let f = Fixture::empty();
    let toml = copy_project(&src, "postgres-source", &dst, "postgres-target", "", false).replace(
        "path = \"builtin:postgres-target\"",
        "path = \"builtin:postgres-target\"\nparams = { schema = \"staging\" }",
    );
    f.write("godwit.toml", &toml);
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        pg.psql(
            &db,
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'staging' AND indexname = 'people_email_lower'"
        )
        .trim(),
        "CREATE UNIQUE INDEX people_email_lower ON staging.people USING btree (lower(email))"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        .trim(),
        "0"
    );
}

/// Case 12: every SQL error was of kind `io`, and "finishing X" did not
/// name the statement. A CHECK the data breaks (SQLite let the row in with
/// `ignore_check_constraints`) now fails with kind `constraint`, the
/// SQLSTATE, and the statement's first line. (Until orphans of keys to
/// tables outside the step followed the step's policy, this case was a
/// foreign key; rehearsal.rs has that now.)
#[tokio::test]
async fn sql_errors_are_classified_and_name_their_statement() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            // A row the CHECK refuses: SQLite skips CHECKs when asked to.
            "PRAGMA ignore_check_constraints = ON",
            "CREATE TABLE ch (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0))",
            "INSERT INTO ch VALUES (1, 1), (2, -1)",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 3, "{}", run.all());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON error");
    assert_eq!(v["error"]["kind"], "constraint", "{v}");
    assert_eq!(v["error"]["code"], "23514", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("finishing ch (ALTER TABLE \"ch\" ADD CONSTRAINT"),
        "{msg}"
    );
}

/// Case 5: MySQL zero dates. On e16b6b6 `DEFAULT '0000-00-00 00:00:00'`
/// was copied verbatim and failed, zero-date values became NULL with no
/// word (casts.md says never silently), and MariaDB's `current_timestamp()`
/// default was dropped. Now the zero default is left out with a warning,
/// `current_timestamp()` becomes `CURRENT_TIMESTAMP`, and zero dates are
/// rejected with their column (the default) or loaded as NULL and counted
/// (`zero_dates = "null"`).
#[tokio::test]
async fn mysql_zero_dates_follow_a_policy() {
    let my = godwit_tests::mariadb::server();
    let pg = godwit_tests::pg::server();
    let src = my.create_db();
    let src_db = src.rsplit('/').next().unwrap().to_owned();
    my.sql(
        &src_db,
        "SET SESSION sql_mode = ''; \
         CREATE TABLE ev (id INT PRIMARY KEY, \
           created DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', \
           updated DATETIME DEFAULT current_timestamp(), \
           day DATE); \
         INSERT INTO ev VALUES (1, '2024-05-01 10:00:00', '2024-05-01 10:00:00', '2024-05-01'), \
           (2, '0000-00-00 00:00:00', NULL, '2024-00-00'), \
           (3, '2024-05-02 00:00:00', NULL, '0000-00-00');",
    );
    let dst = pg.create_db();
    let db = dst.rsplit('/').next().unwrap().to_owned();
    let f = Fixture::empty();
    let project = |step: &str| {
        f.write(
            "godwit.toml",
            &copy_project(&src, "mysql-source", &dst, "postgres-target", step, false),
        )
    };
    project("max_rejects = 10");
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "rows were rejected: {}", run.all());
    assert!(run.stderr.contains("zero date"), "{}", run.stderr);
    assert_eq!(
        pg.psql(
            &db,
            "SELECT string_agg(id || ':' || coalesce(day::text, 'NULL'), ',' ORDER BY id) FROM ev"
        )
        .trim(),
        "1:2024-05-01"
    );
    let rejects = std::fs::read_dir(f.path().join(".godwit/runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rejects.jsonl"))
        .find(|p| p.exists())
        .expect("a reject file");
    let text = std::fs::read_to_string(rejects).unwrap();
    assert!(
        text.contains("\"column\":\"created\"") && text.contains("\"column\":\"day\""),
        "{text}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT column_name || '=' || coalesce(column_default, '-') FROM information_schema.columns \
             WHERE table_name = 'ev' AND column_name IN ('created', 'updated') ORDER BY 1"
        )
        .trim(),
        "created=-\nupdated=CURRENT_TIMESTAMP"
    );

    project("mode = \"replace\"\nzero_dates = \"null\"");
    let nulls = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(nulls.code, 0, "{}", nulls.all());
    let report: serde_json::Value = serde_json::from_str(&nulls.stdout).unwrap();
    assert_eq!(
        report["steps"][0]["tables"][0]["zero_dates_nulled"], 3,
        "{report}"
    );
    assert_eq!(
        pg.psql(&db, "SELECT id || ':' || coalesce(created::text, 'NULL') || ':' || coalesce(day::text, 'NULL') FROM ev ORDER BY id").trim(),
        "1:2024-05-01 10:00:00:2024-05-01\n2:NULL:NULL\n3:2024-05-02 00:00:00:NULL"
    );
}

/// Case 9: into MariaDB, a primary key over four text columns exceeded
/// InnoDB's 3,072-byte key limit (four `varchar(255)` in utf8mb4), and ISO
/// 8601 text with `T` and `Z` from a `DATETIME` column was refused where
/// PostgreSQL takes it. Now such a key's columns share the limit (said in
/// the log) and the text is read into its wall-clock time, as PostgreSQL
/// reads it.
#[tokio::test]
async fn wide_text_keys_and_iso_timestamps_load_into_mariadb() {
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE tags (a TEXT, b TEXT, c TEXT, d TEXT, at DATETIME, PRIMARY KEY (a, b, c, d))",
            "INSERT INTO tags VALUES ('x', 'y', 'z', 'w', '2024-05-01T10:00:00.000Z')",
            "INSERT INTO tags VALUES ('x', 'y', 'z', 'v', '2024-05-01 11:30:00')",
        ],
    )
    .await
    .close()
    .await;
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "mysql-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("3072-byte key limit"), "{}", run.stderr);
    assert_eq!(
        my.sql(&db, "SELECT CONCAT(d, ' ', at) FROM tags ORDER BY d")
            .trim(),
        "v 2024-05-01 11:30:00.000000\nw 2024-05-01 10:00:00.000000"
    );
    assert_eq!(
        my.sql(
            &db,
            "SELECT GROUP_CONCAT(COLUMN_TYPE ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tags' AND COLUMN_KEY = 'PRI'"
        )
        .trim(),
        "varchar(192),varchar(192),varchar(192),varchar(192)"
    );
}

/// Case 10: every CHECK from SQLite and MySQL was dropped with a log line,
/// even portable ones. Now `length(c) >= 1`, `x IN (0, 1)` and `a < b` are
/// written for the target (PostgreSQL and MariaDB here) and enforced
/// there; what means otherwise (LIKE, a boolean compared with numbers) is
/// named in the log as not created.
#[tokio::test]
async fn portable_check_constraints_are_carried_over() {
    let pg = godwit_tests::pg::server();
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, \
               name TEXT CHECK (length(name) >= 1), \
               x INTEGER CHECK (x IN (0, 1)), \
               a REAL, b REAL, flag BOOLEAN CHECK (flag IN (0, 1)), \
               CHECK (a < b), CHECK (name LIKE 'i%'))",
            "INSERT INTO items VALUES (1, 'item', 1, 1.0, 2.0, 1)",
        ],
    )
    .await
    .close()
    .await;
    for (url, plugin) in [
        (pg.create_db(), "postgres-target"),
        (my.create_db(), "mysql-target"),
    ] {
        let db = url.rsplit('/').next().unwrap().to_owned();
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                plugin,
                "mode = \"replace\"",
                false,
            ),
        );
        let run = f.godwit(&["run", "--fresh", &f.arg()]);
        assert_eq!(run.code, 0, "{plugin}: {}", run.all());
        assert!(
            run.stderr.contains("CHECK (name LIKE 'i%')"),
            "{plugin}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("CHECK (flag IN (0, 1))"),
            "{plugin}: {}",
            run.stderr
        );
        let refused = |stmt: &str| -> bool {
            if plugin == "postgres-target" {
                pg.try_psql(&db, stmt).is_err()
            } else {
                my.try_sql(&db, stmt).is_err()
            }
        };
        assert!(
            refused("INSERT INTO items (id, name, x, a, b) VALUES (2, '', 1, 1, 2)"),
            "{plugin}: length"
        );
        assert!(
            refused("INSERT INTO items (id, name, x, a, b) VALUES (3, 'i', 5, 1, 2)"),
            "{plugin}: IN"
        );
        assert!(
            refused("INSERT INTO items (id, name, x, a, b) VALUES (4, 'i', 0, 3, 2)"),
            "{plugin}: a < b"
        );
        assert!(
            !refused("INSERT INTO items (id, name, x, a, b) VALUES (5, 'zz', 0, 1, 2)"),
            "{plugin}: LIKE is not created"
        );
    }
}

/// Case 11: views were named only in report.md, INSTEAD OF triggers on
/// views nowhere, and an fts5 virtual table's shadow tables were copied as
/// if they were user data. Now the terminal summary names the views and
/// triggers not copied, shadow tables are left out with a warning, and the
/// virtual table's rows land in a plain table, said in the log.
#[tokio::test]
async fn views_triggers_and_virtual_tables_are_accounted_for() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
            "INSERT INTO notes VALUES (1, 'hello world'), (2, 'bye')",
            "CREATE VIEW short_notes AS SELECT id, body FROM notes WHERE length(body) < 5",
            "CREATE TRIGGER short_notes_insert INSTEAD OF INSERT ON short_notes \
             BEGIN INSERT INTO notes (body) VALUES (NEW.body); END",
            "CREATE VIRTUAL TABLE docs USING fts5(title, body)",
            "INSERT INTO docs VALUES ('one', 'first text'), ('two', 'second text')",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("views not copied (recreate them in the target): short_notes"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "triggers not copied (recreate them in the target): short_notes.short_notes_insert"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("docs is a virtual table (fts5"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("docs_data is a shadow table"),
        "{}",
        run.stderr
    );
    assert_eq!(
        pg.psql(&db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'").trim(),
        "docs,notes"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT string_agg(title, ',' ORDER BY title) FROM docs"
        )
        .trim(),
        "one,two"
    );
}

/// Case 11 (checksum): across engines it compared nothing (an `info`
/// finding no one reads) and passed. Now SQLite → PostgreSQL tables with
/// integer keys are compared by meaning (numbers, text, instants written
/// as text, bytes), a changed value in the target is an error naming the
/// key, and what cannot be compared (text keys sort differently) is a
/// warning.
#[tokio::test]
async fn checksum_compares_across_dialects() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r REAL, d NUMERIC(10,2), s TEXT, b BLOB, at DATETIME, ok BOOLEAN, j JSON)",
            "INSERT INTO t VALUES (1, 5, 2.5, 3.10, 'x', x'00ff', '2024-05-01 10:00:00', 1, '{\"b\": 1, \"a\": [1, 2]}')",
            "INSERT INTO t VALUES (2, -7, 1e300, 0, 'é', x'', '2024-05-01T10:00:00.123Z', 0, NULL)",
            "CREATE TABLE tags (name TEXT PRIMARY KEY)",
            "INSERT INTO tags VALUES ('b'), ('A')",
        ],
    )
    .await
    .close()
    .await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &format!(
            "{}\n[plugins.sum]\npath = \"builtin:checksum\"\ngrants.sql = {{ source = \"src\", target = \"dst\" }}\n\n[[validators]]\nplugin = \"sum\"\n",
            copy_project("sqlite://src.db", "sqlite-source", &url, "postgres-target", "", false)
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = r["validation"]["findings"].as_array().unwrap();
    let of = |t: &str| {
        findings
            .iter()
            .find(|f| f["subject"] == t)
            .unwrap_or_else(|| panic!("{t}: {findings:?}"))
    };
    assert_eq!(of("t")["severity"], "info", "{findings:?}");
    assert!(
        of("t")["message"]
            .as_str()
            .unwrap()
            .starts_with("2 rows identical"),
        "{findings:?}"
    );
    assert_eq!(of("tags")["severity"], "warning", "{findings:?}");

    pg.psql(&db, "UPDATE t SET s = 'changed' WHERE id = 2");
    let v = f.godwit(&["--json", "validate", &f.arg()]);
    assert_ne!(v.code, 0, "{}", v.all());
    let r: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    let bad = r["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"] == "t")
        .unwrap()
        .clone();
    assert_eq!(bad["severity"], "error", "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("2 (different values)"),
        "{bad}"
    );
}

/// A small deterministic generator (xorshift64*), so a failing round trip
/// names its seed and can be run again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A SQLite literal for one random value of storage class `class`.
fn random_literal(r: &mut Rng, class: &str) -> String {
    if r.below(6) == 0 {
        return "NULL".into();
    }
    match class {
        "INTEGER" => match r.below(5) {
            0 => i64::MIN.to_string(),
            1 => i64::MAX.to_string(),
            2 => "0".into(),
            _ => (r.next() as i64).to_string(),
        },
        "REAL" => {
            if r.below(12) == 0 {
                // ±Infinity: SQLite reads an overflowing literal as it.
                return if r.below(2) == 0 { "9e999" } else { "-9e999" }.into();
            }
            let f = match r.below(7) {
                0 => f64::MAX,
                1 => -2.5e-300,
                2 => 5e-324,
                3 => 1.0 / 3.0,
                4 => -1e308,
                _ => f64::from_bits(r.next() >> 2) * if r.below(2) == 0 { -1.0 } else { 1.0 },
            };
            // The shortest text that reads back as exactly this double.
            format!("{f:e}")
        }
        "TEXT" => {
            let pieces = [
                "a", "é", "𝄞", "😀", "\t", "\n", "\\", "'", "\"", " ", "ü", "中", "\r", "%", "_",
            ];
            let n = r.below(40);
            let s: String = (0..n)
                .map(|_| pieces[r.below(pieces.len() as u64) as usize])
                .collect();
            format!("'{}'", s.replace('\'', "''"))
        }
        _ => {
            let n = if r.below(10) == 0 {
                300_000
            } else {
                r.below(64)
            } as usize;
            let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
            format!("x'{}'", hex::encode(bytes))
        }
    }
}

/// Case 6 (property-style round trip): random SQLite tables (every storage
/// class, NULLs, 4-byte Unicode, control characters, extreme floats and
/// infinities,
/// 300 kB blobs, integer limits) go SQLite → PostgreSQL → SQLite and come
/// back cell for cell, storage class included.
#[tokio::test]
async fn random_sqlite_tables_round_trip_through_postgres() {
    let pg = godwit_tests::pg::server();
    for seed in [0x5eed_0001u64, 0x5eed_0002, 0x5eed_0003] {
        let mut r = Rng(seed);
        let f = Fixture::empty();
        let classes = ["INTEGER", "REAL", "TEXT", "BLOB"];
        let mut stmts = Vec::new();
        let mut tables = Vec::new();
        for t in 0..3 {
            let width = 1 + r.below(6) as usize;
            let cols: Vec<(String, &str, &str)> = (0..width)
                .map(|c| {
                    let class = classes[r.below(4) as usize];
                    // Declared as the class, or not at all (types come from the data).
                    let declared = if r.below(3) == 0 { "" } else { class };
                    (format!("c{c}"), class, declared)
                })
                .collect();
            let name = format!("t{t}");
            stmts.push(format!(
                "CREATE TABLE {name} (id INTEGER PRIMARY KEY, {})",
                cols.iter()
                    .map(|(n, _, d)| format!("{n} {d}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for id in 1..=(1 + r.below(40)) {
                let values: Vec<String> = cols
                    .iter()
                    .map(|(_, c, _)| random_literal(&mut r, c))
                    .collect();
                stmts.push(format!(
                    "INSERT INTO {name} VALUES ({id}, {})",
                    values.join(", ")
                ));
            }
            tables.push(name);
        }
        let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
        sqlite_with(&f.path().join("src.db"), &refs)
            .await
            .close()
            .await;
        let url = pg.create_db();
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                "postgres-target",
                "",
                false,
            ),
        );
        let there = f.godwit(&["run", &f.arg()]);
        assert_eq!(there.code, 0, "seed {seed:#x}: {}", there.all());
        let back = Fixture::empty();
        back.write(
            "godwit.toml",
            &copy_project(
                &url,
                "postgres-source",
                "sqlite://back.db?mode=rwc",
                "sqlite-target",
                "",
                false,
            ),
        );
        let again = back.godwit(&["run", &back.arg()]);
        assert_eq!(again.code, 0, "seed {seed:#x}: {}", again.all());
        let names: Vec<&str> = tables.iter().map(String::as_str).collect();
        let a = dump(&f.path().join("src.db"), &names).await;
        let b = dump(&back.path().join("back.db"), &names).await;
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.1.len(), y.1.len(), "seed {seed:#x}: rows of {}", x.0);
            for (rx, ry) in x.1.iter().zip(&y.1) {
                assert_eq!(rx, ry, "seed {seed:#x}: table {}", x.0);
            }
        }
    }
}

/// Case 6, MySQL side: random MariaDB tables of typed columns (integers to
/// their limits, unsigned 64-bit, doubles, exact decimals, varchar and
/// text with 4-byte Unicode, blobs, datetime(6), date, time) go MariaDB →
/// PostgreSQL → MariaDB and come back cell for cell.
#[tokio::test]
async fn random_mariadb_tables_round_trip_through_postgres() {
    let my = godwit_tests::mariadb::server();
    let pg = godwit_tests::pg::server();
    let types = [
        ("bigint", "INTEGER"),
        ("int", "INT32"),
        ("bigint unsigned", "U64"),
        ("double", "REAL"),
        ("decimal(30,8)", "DEC"),
        ("varchar(200)", "TEXT"),
        ("longtext", "TEXT"),
        ("longblob", "BLOB"),
        ("datetime(6)", "DT"),
        ("date", "DATE"),
        ("time(6)", "TIME"),
    ];
    for seed in [0xdb_0001u64, 0xdb_0002] {
        let mut r = Rng(seed);
        let src = my.create_db();
        let src_db = src.rsplit('/').next().unwrap().to_owned();
        let mut script = Vec::new();
        let mut tables = Vec::new();
        for t in 0..3 {
            let width = 1 + r.below(6) as usize;
            let cols: Vec<(&str, &str)> = (0..width)
                .map(|_| types[r.below(types.len() as u64) as usize])
                .collect();
            let name = format!("t{t}");
            script.push(format!(
                "CREATE TABLE {name} (id INT PRIMARY KEY, {}) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                cols.iter()
                    .enumerate()
                    .map(|(i, (ty, _))| format!("c{i} {ty}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for id in 1..=(1 + r.below(30)) {
                let values: Vec<String> = cols
                    .iter()
                    .map(|(_, class)| {
                        if r.below(6) == 0 {
                            return "NULL".into();
                        }
                        match *class {
                            "INT32" => ((r.next() as i64) >> 33).to_string(),
                            "U64" => {
                                if r.below(3) == 0 {
                                    u64::MAX.to_string()
                                } else {
                                    r.next().to_string()
                                }
                            }
                            "DEC" => format!(
                                "{}.{:08}",
                                (r.next() % 10u64.pow(18)) as i64
                                    * if r.below(2) == 0 { -1 } else { 1 },
                                r.below(100_000_000)
                            ),
                            "DT" => format!(
                                "'{}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}'",
                                1000 + r.below(8999),
                                1 + r.below(12),
                                1 + r.below(28),
                                r.below(24),
                                r.below(60),
                                r.below(60),
                                r.below(1_000_000)
                            ),
                            "DATE" => format!(
                                "'{}-{:02}-{:02}'",
                                1000 + r.below(8999),
                                1 + r.below(12),
                                1 + r.below(28)
                            ),
                            "TIME" => format!(
                                "'{:02}:{:02}:{:02}.{:06}'",
                                r.below(24),
                                r.below(60),
                                r.below(60),
                                r.below(1_000_000)
                            ),
                            // Up to 16 KiB: the statement travels as one command-line argument.
                            "BLOB" => {
                                let n = r.below(16 << 10) as usize;
                                let bytes: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                                format!("x'{}'", hex::encode(bytes))
                            }
                            other => random_literal(&mut r, other).replace('\\', "\\\\"),
                        }
                    })
                    .collect();
                script.push(format!(
                    "INSERT INTO {name} VALUES ({id}, {})",
                    values.join(", ")
                ));
            }
            tables.push(name);
        }
        for stmt in &script {
            my.sql(&src_db, &format!("SET NAMES utf8mb4; {stmt}"));
        }
        let mid = pg.create_db();
        let f = Fixture::empty();
        f.write(
            "godwit.toml",
            &copy_project(&src, "mysql-source", &mid, "postgres-target", "", false),
        );
        let there = f.godwit(&["run", &f.arg()]);
        assert_eq!(there.code, 0, "seed {seed:#x}: {}", there.all());
        let back = my.create_db();
        let back_db = back.rsplit('/').next().unwrap().to_owned();
        let b = Fixture::empty();
        b.write(
            "godwit.toml",
            &copy_project(&mid, "postgres-source", &back, "mysql-target", "", false),
        );
        let again = b.godwit(&["run", &b.arg()]);
        assert_eq!(again.code, 0, "seed {seed:#x}: {}", again.all());
        for t in &tables {
            // Every cell as its exact text: text and blobs as the hex of
            // their bytes, numbers and times as MariaDB writes them (HEX of
            // a number goes through a double: 64-bit values would differ).
            let cols = my.sql(
                &src_db,
                &format!(
                    "SELECT GROUP_CONCAT(IF(DATA_TYPE IN ('varchar', 'longtext', 'longblob'), \
                       CONCAT('HEX(', COLUMN_NAME, ')'), CONCAT('CAST(', COLUMN_NAME, ' AS CHAR)')) \
                       ORDER BY ORDINAL_POSITION) \
                     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{t}'"
                ),
            );
            let q = format!("SELECT {} FROM {t} ORDER BY id", cols.trim());
            let rows = my.sql(&src_db, &q);
            assert!(!rows.trim().is_empty(), "seed {seed:#x}: {t} is empty");
            let got = my.sql(&back_db, &q);
            for (i, (x, y)) in rows.lines().zip(got.lines()).enumerate() {
                for (c, (a, b)) in x.split('\t').zip(y.split('\t')).enumerate() {
                    assert!(
                        a == b,
                        "seed {seed:#x}: table {t} row {i} column {c}: {} became {} ({})",
                        &a[..a.len().min(80)],
                        &b[..b.len().min(80)],
                        script
                            .iter()
                            .find(|s| s.starts_with(&format!("CREATE TABLE {t} ")))
                            .unwrap()
                    );
                }
            }
            assert_eq!(
                rows.lines().count(),
                got.lines().count(),
                "seed {seed:#x}: rows of {t}"
            );
        }
    }
}

/// SQLite → SQLite keeps every value's storage class, mixed columns
/// included: the target stores any value in any column, as the source
/// did, so no type is decided and nothing is converted (numbers in a
/// column that another target would get as text stay numbers).
#[tokio::test]
async fn sqlite_to_sqlite_keeps_mixed_columns_as_they_are() {
    let f = Fixture::empty();
    loosely_typed_source(&f).await;
    sqlite_with(
        &f.path().join("src.db"),
        &["INSERT INTO shapes VALUES (5, 'text', x'01', 2.5, 3, 'x')"],
    )
    .await
    .close()
    .await;
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            "sqlite://dst.db?mode=rwc",
            "sqlite-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        dump(&f.path().join("dst.db"), &["shapes"]).await,
        dump(&f.path().join("src.db"), &["shapes"]).await
    );
}

/// Item 13 (left last time): `replace` into MySQL/MariaDB when the tables
/// reference each other in a cycle (meetings <-> summaries) and the target
/// already holds them from an earlier run. The second run must replace
/// both tables, keep the cycle's foreign keys, and leave the new rows.
#[tokio::test]
async fn replace_into_mariadb_with_a_foreign_key_cycle_runs_twice() {
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE meetings (id INTEGER PRIMARY KEY, title TEXT, summary_id INTEGER REFERENCES summaries (id))",
            "CREATE TABLE summaries (id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL REFERENCES meetings (id), body TEXT)",
            "INSERT INTO meetings VALUES (1, 'a', NULL), (2, 'b', NULL)",
            "INSERT INTO summaries VALUES (10, 1, 'x'), (20, 2, 'y')",
            "UPDATE meetings SET summary_id = id * 10",
        ],
    )
    .await
    .close()
    .await;
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "mysql-target",
            "mode = \"replace\"",
            false,
        ),
    );
    for round in 0..2 {
        let run = f.godwit(&["run", &f.arg()]);
        assert_eq!(run.code, 0, "round {round}: {}", run.all());
    }
    let got = my.sql(
        &db,
        "SELECT m.id, m.summary_id, s.meeting_id FROM meetings m JOIN summaries s ON s.id = m.summary_id ORDER BY m.id",
    );
    assert_eq!(got.trim(), "1\t10\t1\n2\t20\t2");
    let fks = my.sql(
        &db,
        "SELECT table_name, referenced_table_name FROM information_schema.referential_constraints \
         WHERE constraint_schema = DATABASE() ORDER BY table_name",
    );
    assert_eq!(fks.trim(), "meetings\tsummaries\nsummaries\tmeetings");
    // No table built beside the old ones is left over.
    let tables = my.sql(
        &db,
        "SELECT group_concat(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = DATABASE()",
    );
    assert_eq!(tables.trim(), "meetings,summaries");
}

/// Two fresh PostgreSQL databases, the source set up by `setup`, and a
/// project copying one into the other: `(fixture, source url, target url)`.
fn pg_to_pg(setup: &str) -> (Fixture, String, String) {
    let pg = godwit_tests::pg::server();
    let (src, dst) = (pg.create_db(), pg.create_db());
    pg.psql(db_of(&src), setup);
    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(&src, "postgres-source", &dst, "postgres-target", "", false),
    );
    (f, src, dst)
}

/// The database name of a URL.
fn db_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

/// Items 8 and 13: PostgreSQL → PostgreSQL with a column of a type the
/// application created (an enum). The CREATE TABLE failed in the middle of
/// the run (exit 3, other tables already committed). Now `plan` and `run`
/// refuse before any write, naming the column, its type and the ways out;
/// with the type created in the target, the column keeps it; with a cast
/// to text, the values arrive as text.
#[tokio::test]
async fn postgres_types_the_target_lacks_are_refused_before_any_write() {
    let pg = godwit_tests::pg::server();
    let (f, src, dst) = pg_to_pg(
        "CREATE TYPE mood AS ENUM ('ok', 'sad', 'happy'); \
         CREATE TABLE a_plain (id int PRIMARY KEY); INSERT INTO a_plain VALUES (1); \
         CREATE TABLE people (id int PRIMARY KEY, m mood NOT NULL); \
         INSERT INTO people VALUES (1, 'sad'), (2, 'happy')",
    );
    let name = |url: &str| db_of(url).to_owned();
    let tables = || {
        pg.psql(
            &name(&dst),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        )
        .trim()
        .to_owned()
    };
    for cmd in ["plan", "run"] {
        let r = f.godwit(&[cmd, &f.arg()]);
        assert_ne!(r.code, 0, "{cmd}: {}", r.all());
        assert!(
            r.all()
                .contains("the target database has no type for people.m (mood)")
                && r.all().contains("CREATE TYPE")
                && r.all()
                    .contains("casts = [{ column = \"people.m\", to = \"text\" }]"),
            "{cmd}: {}",
            r.all()
        );
        assert_eq!(tables(), "0", "{cmd} wrote a table");
    }
    // The type created first: the column keeps it.
    pg.psql(
        &name(&dst),
        "CREATE TYPE mood AS ENUM ('ok', 'sad', 'happy')",
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        pg.psql(
            &name(&dst),
            "SELECT string_agg(m::text || ':' || pg_typeof(m)::text, ',' ORDER BY id) FROM people"
        )
        .trim(),
        "sad:mood,happy:mood"
    );
    // Or cast to text, into a database without the type.
    let other = pg.create_db();
    f.write(
        "godwit.toml",
        &copy_project(
            &src,
            "postgres-source",
            &other,
            "postgres-target",
            "casts = [{ column = \"people.m\", to = \"text\" }]",
            false,
        ),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        pg.psql(
            &name(&other),
            "SELECT string_agg(m || ':' || pg_typeof(m)::text, ',' ORDER BY id) FROM people"
        )
        .trim(),
        "sad:text,happy:text"
    );
}

/// Item 8: a table an extension owns (PostGIS's `spatial_ref_sys`; here a
/// table made a member of citext with `ALTER EXTENSION ... ADD TABLE`,
/// the same catalog state) was copied as user data, and then blocked
/// `CREATE EXTENSION` in the target. Now it is left out with a warning
/// naming the extension; the extension's type still needs the extension
/// in the target, which `plan` says before anything is written.
#[tokio::test]
async fn tables_an_extension_owns_are_left_to_the_extension() {
    let pg = godwit_tests::pg::server();
    let (f, _, dst) = pg_to_pg(
        "CREATE EXTENSION citext; \
         CREATE TABLE ref_sys (srid int PRIMARY KEY, name text); INSERT INTO ref_sys VALUES (4326, 'WGS 84'); \
         ALTER EXTENSION citext ADD TABLE ref_sys; \
         CREATE TABLE places (id int PRIMARY KEY, srid int, name citext); \
         INSERT INTO places VALUES (1, 4326, 'Zürich')",
    );
    let name = |url: &str| db_of(url).to_owned();
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_ne!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.all()
            .contains("the target database has no type for places.name (citext)"),
        "{}",
        plan.all()
    );
    pg.psql(&name(&dst), "CREATE EXTENSION citext");
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("table ref_sys belongs to extension citext: not copied"),
        "{}",
        run.all()
    );
    assert_eq!(
        pg.psql(
            &name(&dst),
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
        )
        .trim(),
        "places"
    );
    assert_eq!(
        pg.psql(&name(&dst), "SELECT name || ':' || pg_typeof(name)::text || ':' || (name = 'ZÜRICH')::text FROM places").trim(),
        "Zürich:citext:true"
    );
}

/// Item 8: PostgreSQL → PostgreSQL, an expression index and a default that
/// call a function the application created. The index failed after the
/// rows were loaded (`function norm(text) does not exist`, exit 3). Now
/// `plan` and `run` refuse before any write, naming each function and what
/// calls it; with the function created in the target, both are kept.
#[tokio::test]
async fn functions_the_target_lacks_are_refused_before_any_write() {
    let pg = godwit_tests::pg::server();
    let function = "CREATE FUNCTION norm(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT lower(trim($1))'";
    let (f, _, dst) = pg_to_pg(
        &format!(
            "{function}; \
             CREATE TABLE people (id serial PRIMARY KEY, email text, code text DEFAULT norm(' X ')); \
             CREATE INDEX people_norm ON people (norm(email)); \
             INSERT INTO people (email) VALUES (' Ann@Example.org ')"
        ),
    );
    let name = |url: &str| db_of(url).to_owned();
    for cmd in ["plan", "run"] {
        let r = f.godwit(&[cmd, &f.arg()]);
        assert_ne!(r.code, 0, "{cmd}: {}", r.all());
        assert!(
            r.all().contains(
                "the target database has no function norm() (called by the default of people.code)"
            ),
            "{cmd}: {}",
            r.all()
        );
        let tables = pg.psql(
            &name(&dst),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        );
        assert_eq!(tables.trim(), "0", "{cmd} wrote a table");
    }
    pg.psql(&name(&dst), function);
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        pg.psql(
            &name(&dst),
            "SELECT code || '|' || (SELECT count(*) FROM pg_indexes WHERE indexname = 'people_norm') FROM people"
        )
        .trim(),
        "x|1"
    );
}

/// A PostgreSQL expression index (`lower(email)`) has no columns to carry
/// into another dialect. `sqlite-target` wrote it as `CREATE INDEX … ()`,
/// which SQLite refuses, after the rows were loaded; now it is named in a
/// warning and left out, and the table's column indexes are created.
#[tokio::test]
async fn an_expression_index_of_another_dialect_is_named_and_left_out() {
    let pg = godwit_tests::pg::server();
    let src = pg.create_db();
    pg.psql(
        db_of(&src),
        "CREATE TABLE people (id int PRIMARY KEY, email text, team int); \
         CREATE INDEX people_email_lower ON people (lower(email)); \
         CREATE INDEX people_team ON people (team); \
         INSERT INTO people VALUES (1, 'A@x', 1), (2, 'b@x', NULL);",
    );
    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(
            &src,
            "postgres-source",
            "sqlite://out.db?mode=rwc",
            "sqlite-target",
            "",
            false,
        ),
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("index people_email_lower on people is an expression index in another dialect; not created"),
        "{}",
        run.all()
    );
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", f.path().join("out.db").display()))
            .await
            .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, ["people_team"]);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM people")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    pool.close().await;
}
