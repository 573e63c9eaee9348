//! Promises kept under faults: a failing load ends the run (never hangs),
//! a signal flushes the reject file and writes a report, killed runs resume
//! exactly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::*;

/// Runs `godwit args` as a child, killing it (and failing) if it has not
/// ended within `limit`. Returns (exit code, stderr).
fn run_bounded(f: &Fixture, args: &[&str], limit: Duration) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("GODWIT_CACHE_DIR", &f.cache)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("godwit {args:?} hung (killed after {limit:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A SQLite → SQLite project appending `rows` rows (`x` = -1 for every
/// third row) into a target table with `CHECK (x >= 0)`.
async fn check_project(rows: usize, step: &str) -> Fixture {
    let f = Fixture::empty();
    let mut stmts = vec!["CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)".to_owned()];
    let values: Vec<String> = (0..rows)
        .map(|i| format!("({i}, {})", if i % 3 == 0 { -1 } else { i as i64 }))
        .collect();
    for chunk in values.chunks(500) {
        stmts.push(format!("INSERT INTO t VALUES {}", chunk.join(",")));
    }
    let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
    sqlite_with(&f.path().join("src.db"), &refs)
        .await
        .close()
        .await;
    sqlite_with(
        &f.path().join("dst.db"),
        &["CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER CHECK (x >= 0))"],
    )
    .await
    .close()
    .await;
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            "sqlite://dst.db",
            "sqlite-target",
            step,
            false,
        ),
    );
    f
}

/// Rejects past `max_rejects` with small batches used to hang forever at 0 %
/// CPU (3 of 3 tries on e16b6b6): the load stage returned its error while
/// the loader task waited on a full channel. Now the run ends with exit 1
/// and the rejects are in the reject file.
#[tokio::test]
async fn rejects_past_the_limit_end_the_run_instead_of_hanging() {
    let f = check_project(
        3000,
        "mode = \"append\"\nbatch_rows = 5\nmax_rejects = 10\n",
    )
    .await;
    let (code, err) = run_bounded(&f, &["run", &f.arg()], Duration::from_secs(120));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than max_rejects = 10"), "{err}");
    let runs: Vec<_> = std::fs::read_dir(f.path().join(".godwit/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let rejects = std::fs::read_to_string(runs[0].join("rejects.jsonl")).unwrap();
    assert!(rejects.lines().count() > 10, "{rejects}");
    assert!(rejects.contains("CHECK"), "{rejects}");
    let report = std::fs::read_to_string(runs[0].join("report.json")).unwrap();
    assert!(report.contains("max_rejects"), "{report}");
}

/// SIGINT and SIGTERM stop a run with its own exit code (130) after
/// flushing the reject file and writing a report that says so (on e16b6b6
/// Ctrl-C left `rejects.jsonl` empty and no report).
#[tokio::test]
async fn a_signal_flushes_rejects_and_writes_a_report() {
    for sig in ["INT", "TERM"] {
        let f = check_project(
            60_000,
            "mode = \"append\"\nbatch_rows = 3\nmax_rejects = 1000000\n",
        )
        .await;
        let mut child = f.spawn(&["run", &f.arg()], &[]);
        // Wait until the run has rejected rows (the run directory exists).
        let deadline = Instant::now() + Duration::from_secs(120);
        let run_dir = loop {
            let dir = std::fs::read_dir(f.path().join(".godwit/runs"))
                .ok()
                .and_then(|mut d| d.next())
                .map(|e| e.unwrap().path());
            if let Some(d) = dir.filter(|d| d.join("rejects.jsonl").exists()) {
                break d;
            }
            assert!(Instant::now() < deadline, "never rejected anything");
            assert!(child.try_wait().unwrap().is_none(), "finished too early");
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(300));
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{sig}");
        let rejects = std::fs::read_to_string(run_dir.join("rejects.jsonl")).unwrap();
        assert!(!rejects.is_empty(), "SIG{sig}: rejects were not flushed");
        for line in rejects.lines() {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("SIG{sig}: a cut line {line:?}: {e}"));
        }
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["error"]["kind"], "interrupted", "{report}");
        assert_eq!(report["error"]["exit_code"], 130, "{report}");
        assert_eq!(
            report["rejected"].as_u64().unwrap(),
            rejects.lines().count() as u64
        );
        // A plain run afterwards finishes the job.
        let (code, err) = run_bounded(&f, &["run", &f.arg()], Duration::from_secs(300));
        assert_eq!(code, 1, "rows were rejected, so exit 1: {err}");
    }
}

/// A SQLite source with a parent and a child table (keys, a unique index,
/// an index, a foreign key), `n` rows each.
async fn parent_child_source(f: &Fixture, n: usize) {
    let mut stmts = vec![
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)".to_owned(),
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT)".to_owned(),
        "CREATE INDEX child_parent ON child(parent_id)".to_owned(),
    ];
    let parents: Vec<String> = (1..=n).map(|i| format!("({i}, 'p{i}')")).collect();
    let children: Vec<String> = (1..=n)
        .map(|i| format!("({i}, {}, 'n{i}')", 1 + i % n))
        .collect();
    for c in parents.chunks(500) {
        stmts.push(format!("INSERT INTO parent VALUES {}", c.join(",")));
    }
    for c in children.chunks(500) {
        stmts.push(format!("INSERT INTO child VALUES {}", c.join(",")));
    }
    let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
    sqlite_with(&f.path().join("src.db"), &refs)
        .await
        .close()
        .await;
}

/// What a PostgreSQL database holds: rows (count, distinct ids, sums) and
/// the schema's constraints and indexes.
fn pg_shape(db: &str) -> String {
    let s = godwit_tests::pg::server();
    let rows = s.psql(
        db,
        "SELECT (SELECT count(*) || '/' || count(DISTINCT id) || '/' || sum(id) FROM parent) || ' ' || \
                (SELECT count(*) || '/' || count(DISTINCT id) || '/' || sum(parent_id) FROM child)",
    );
    let cons = s.psql(
        db,
        "SELECT string_agg(conrelid::regclass::text || ':' || contype::text, ',' \
                           ORDER BY conrelid::regclass::text, contype::text) \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    );
    let idx = s.psql(
        db,
        "SELECT string_agg(tablename || ':' || indexdef, ' | ' ORDER BY tablename, indexdef) FROM pg_indexes WHERE schemaname = 'public'",
    );
    let seqs = s.psql(
        db,
        "SELECT coalesce(string_agg(sequencename, ',' ORDER BY sequencename), '') FROM pg_sequences WHERE schemaname = 'public'",
    );
    let tables = s.psql(
        db,
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    );
    format!(
        "{}\n{}\n{}\n{}\n{}",
        rows.trim(),
        cons.trim(),
        idx.trim(),
        seqs.trim(),
        tables.trim()
    )
}

/// Killed (SIGABRT, nothing flushed) at every phase boundary of a
/// SQLite → PostgreSQL step in the default mode `create`, then a plain
/// `godwit run` (no `--fresh`) ends exact: same rows, keys, indexes and
/// foreign keys as an uninterrupted run. On e16b6b6 4 of 9 killed runs
/// failed on rerun (`multiple primary keys for table ... are not
/// allowed`) when the kill fell between post-data statements and the
/// progress file, and `create` refused to resume at all.
#[tokio::test]
async fn a_kill_at_any_phase_boundary_resumes_exactly() {
    let pg = godwit_tests::pg::server();
    let project = |f: &Fixture, url: &str| {
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                url,
                "postgres-target",
                "batch_rows = 100",
                false,
            ),
        );
    };
    // The reference: an uninterrupted run.
    let reference = {
        let f = Fixture::empty();
        parent_child_source(&f, 1000).await;
        let url = pg.create_db();
        project(&f, &url);
        let r = f.godwit(&["run", &f.arg()]);
        assert_eq!(r.code, 0, "{}", r.all());
        pg_shape(url.rsplit('/').next().unwrap())
    };
    assert!(
        reference.starts_with("1000/1000/500500 1000/1000/"),
        "{reference}"
    );
    assert!(
        reference.contains("child:f"),
        "the foreign key exists: {reference}"
    );
    for at in [
        "ddl:child",
        "ddl:parent",
        "data:parent",
        "loaded:parent",
        "data:child",
        "loaded:child",
        "post:parent:0",
        "post-ran:parent:0",
        "post:parent:1",
        "post-ran:parent:1",
        "post:parent:max",
        "post:child:1",
        "post:child:max",
        "constraints:child:0",
        "constraints-ran:child:0",
        "constraints:child:max",
        // `replace` over tables that exist: built beside, then swapped.
        "replace data:child",
        "replace loaded:parent",
        "replace swap",
        "replace swapped",
        "replace post:parent:0",
        "replace constraints-ran:child:0",
    ] {
        let f = Fixture::empty();
        parent_child_source(&f, 1000).await;
        let url = pg.create_db();
        project(&f, &url);
        let at = match at.strip_prefix("replace ") {
            Some(at) => {
                let first = f.godwit(&["run", &f.arg()]);
                assert_eq!(first.code, 0, "{}", first.all());
                let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
                f.write(
                    "godwit.toml",
                    &toml.replace("batch_rows = 100", "batch_rows = 100\nmode = \"replace\""),
                );
                at
            }
            None => at,
        };
        let killed = f.godwit_env(&["run", &f.arg()], &[("GODWIT_KILL_AT", at)]);
        assert!(
            killed.stderr.contains("aborting at"),
            "{at}: the kill point was not reached: {}",
            killed.all()
        );
        assert_ne!(killed.code, 0, "{at}");
        let rerun = f.godwit(&["run", &f.arg()]);
        assert_eq!(rerun.code, 0, "{at}: {}", rerun.all());
        assert_eq!(
            pg_shape(url.rsplit('/').next().unwrap()),
            reference,
            "{at}: not exact after resuming"
        );
    }
}

/// Opens a project connection from the host library, as a plugin's grant would.
async fn open_db(dsn: &str, dir: &std::path::Path) -> godwit_host::caps::sql::Database {
    godwit_host::caps::sql::Database::open("t", &godwit_host::project::Secret::new(dsn), dir, false)
        .await
        .unwrap()
}

/// A statement whose caller stops waiting (a plugin's host-call deadline)
/// is cancelled in the database too. On e16b6b6 an endless SQLite INSERT
/// kept growing the file (20 MB/s) after the plugin got `timeout`.
#[tokio::test]
async fn a_statement_past_its_deadline_is_cancelled_in_the_database() {
    // SQLite: sqlite3_interrupt.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let db = open_db(&format!("sqlite://{}?mode=rwc", path.display()), dir.path()).await;
    db.execute("CREATE TABLE t(x)", vec![]).await.unwrap();
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   INSERT INTO t SELECT randomblob(1000) FROM c";
    let r = tokio::time::timeout(Duration::from_millis(500), db.execute(endless, vec![])).await;
    assert!(r.is_err(), "the statement should still have been running");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let size = |p: &std::path::Path| {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(p.with_extension("db-journal"))
                .map(|m| m.len())
                .unwrap_or(0)
    };
    let a = size(&path);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        size(&path),
        a,
        "the statement kept running after its deadline"
    );
    // The database is usable (nothing holds its write lock).
    db.execute("INSERT INTO t VALUES (1)", vec![])
        .await
        .unwrap();

    // PostgreSQL: pg_cancel_backend from another connection.
    let pg = godwit_tests::pg::server();
    let url = pg.create_db();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let db = open_db(&url, dir.path()).await;
    let r = tokio::time::timeout(
        Duration::from_millis(500),
        db.execute("SELECT pg_sleep(60)", vec![]),
    )
    .await;
    assert!(r.is_err());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running = pg.psql(
            &name,
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'",
        );
        if running.trim() == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "pg_sleep kept running");
        // Yield to the runtime: the cancellation is a task on it.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // MariaDB: KILL QUERY.
    let my = godwit_tests::mariadb::server();
    let url = my.create_db();
    let db = open_db(&url, dir.path()).await;
    let r = tokio::time::timeout(
        Duration::from_millis(500),
        db.execute("SELECT SLEEP(60)", vec![]),
    )
    .await;
    assert!(r.is_err());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running = my.sql(
            "mysql",
            "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'",
        );
        if running.trim() == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "SLEEP kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `replace` into tables that exist builds the new ones beside them and
/// swaps them in only when every load succeeded: a load that fails past
/// `max_rejects` leaves the old tables exactly as they were (on e16b6b6 the
/// old table was gone and an empty new one left, while the run said
/// "rolled back"). A run that succeeds ends with the same names as a fresh
/// copy: no staging name survives on a table, index or sequence.
#[tokio::test]
async fn a_failed_replace_keeps_the_old_tables() {
    let pg = godwit_tests::pg::server();
    let f = Fixture::empty();
    parent_child_source(&f, 300).await;
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let write = |step: &str| {
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
    write("mode = \"replace\"\nbatch_rows = 50");
    let first = f.godwit(&["run", &f.arg()]);
    assert_eq!(first.code, 0, "{}", first.all());
    let before = pg_shape(&db);
    // A source with rows the target refuses (a NUL byte in text).
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "INSERT INTO parent VALUES (100001, 'x' || char(0) || 'y')",
            "INSERT INTO child VALUES (100001, 1, 'a' || char(0) || 'b')",
        ],
    )
    .await
    .close()
    .await;
    write("mode = \"replace\"\nbatch_rows = 50\nmax_rejects = 0");
    let failed = f.godwit(&["run", &f.arg()]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert!(failed.stderr.contains("max_rejects"), "{}", failed.stderr);
    assert_eq!(pg_shape(&db), before, "the old tables changed");
    // Fixed (the refused rows removed), the replace goes through and ends
    // with exactly the names of a fresh copy.
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "DELETE FROM child WHERE id = 100001",
            "DELETE FROM parent WHERE id = 100001",
            "UPDATE child SET note = 'changed'",
        ],
    )
    .await
    .close()
    .await;
    write("mode = \"replace\"\nbatch_rows = 50");
    let again = f.godwit(&["run", "--fresh", &f.arg()]);
    assert_eq!(again.code, 0, "{}", again.all());
    let after = pg_shape(&db);
    assert_eq!(
        after, before,
        "same rows, keys, indexes, sequences and tables"
    );
    assert!(!after.contains("__gw_new"), "{after}");
    assert_eq!(
        pg.psql(&db, "SELECT count(*) FROM child WHERE note = 'changed'")
            .trim(),
        "300"
    );
}

/// The same on MariaDB: the new table is built beside and swapped in with
/// one atomic `RENAME TABLE` only when its load succeeded.
#[tokio::test]
async fn a_failed_replace_keeps_the_old_table_on_mariadb() {
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    let rows: Vec<String> = (1..=200).map(|i| format!("({i}, {i})")).collect();
    let insert = format!("INSERT INTO t VALUES {}", rows.join(","));
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)",
            &insert,
        ],
    )
    .await
    .close()
    .await;
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let write = |step: &str| {
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                "mysql-target",
                step,
                false,
            ),
        )
    };
    write("mode = \"replace\"");
    let first = f.godwit(&["run", &f.arg()]);
    assert_eq!(first.code, 0, "{}", first.all());
    let shape = || {
        my.sql(
            &db,
            "SELECT CONCAT(COUNT(*), '/', SUM(n)) FROM t; \
             SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = DATABASE()",
        )
    };
    let before = shape();
    // A value the integer column refuses (types as declared: with types
    // from the data the column would become text).
    sqlite_with(
        &f.path().join("src.db"),
        &["INSERT INTO t VALUES (1000, 'abc')"],
    )
    .await
    .close()
    .await;
    write("mode = \"replace\"\nmax_rejects = 0\ntypes = \"declared\"");
    let failed = f.godwit(&["run", &f.arg()]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert_eq!(shape(), before, "the old table changed");
    sqlite_with(
        &f.path().join("src.db"),
        &["UPDATE t SET n = 7 WHERE id = 1000"],
    )
    .await
    .close()
    .await;
    write("mode = \"replace\"");
    let again = f.godwit(&["run", "--fresh", &f.arg()]);
    assert_eq!(again.code, 0, "{}", again.all());
    let after = shape();
    assert!(after.starts_with("201/20107"), "{after}");
    assert!(
        after.trim_end().ends_with("\nt"),
        "only the table t: {after}"
    );
}

/// On a SQLite target a table's DDL (drop and create for `replace`, the
/// delete of `truncate`) runs inside the transaction that loads it: a
/// `replace` killed in the middle of a table's rows, or one that fails past
/// `max_rejects`, leaves that table exactly as it was. Before, every table
/// was dropped and recreated first, outside any transaction: the kill left
/// `child` empty. The old children's keys into rows of the new parent that
/// are gone do not block the parent's replacement.
#[tokio::test]
async fn a_killed_or_failed_replace_keeps_the_old_sqlite_table() {
    let f = Fixture::empty();
    parent_child_source(&f, 300).await;
    let project = |step: &str| {
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                "sqlite://dst.db?mode=rwc",
                "sqlite-target",
                step,
                false,
            ),
        )
    };
    project("mode = \"replace\"\nbatch_rows = 50");
    let first = f.godwit(&["run", &f.arg()]);
    assert_eq!(first.code, 0, "{}", first.all());
    let dst = f.path().join("dst.db");
    let before = dump(&dst, &["parent", "child"]).await;
    assert_eq!(before[1].1.len(), 300);

    // New source data: fewer parents (old children point at parents that
    // are gone), every note changed.
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "DELETE FROM child WHERE parent_id > 200",
            "DELETE FROM parent WHERE id > 200",
            "UPDATE child SET note = 'changed'",
        ],
    )
    .await
    .close()
    .await;
    let killed = f.godwit_env(&["run", &f.arg()], &[("GODWIT_KILL_AT", "data:child")]);
    assert!(killed.stderr.contains("aborting at"), "{}", killed.all());
    assert_ne!(killed.code, 0);
    let after_kill = dump(&dst, &["parent", "child"]).await;
    assert_eq!(after_kill[1], before[1], "the killed table changed");

    // Resumed: exact, and what the source holds.
    let rerun = f.godwit(&["run", &f.arg()]);
    assert_eq!(rerun.code, 0, "{}", rerun.all());
    let src = dump(&f.path().join("src.db"), &["parent", "child"]).await;
    assert_eq!(dump(&dst, &["parent", "child"]).await, src);

    // A replace that fails (a value its cast refuses, past max_rejects = 0)
    // keeps the tables too.
    sqlite_with(
        &f.path().join("src.db"),
        &["INSERT INTO child VALUES (100001, 1, 'not a number')"],
    )
    .await
    .close()
    .await;
    project(
        "mode = \"replace\"\nbatch_rows = 50\nmax_rejects = 0\n\
         casts = [{ column = \"child.note\", to = \"int\" }]",
    );
    // Only this row's note is not a number.
    sqlite_with(
        &f.path().join("src.db"),
        &["UPDATE child SET note = '1' WHERE id < 100001"],
    )
    .await
    .close()
    .await;
    let failed = f.godwit(&["run", "--fresh", &f.arg()]);
    assert_ne!(failed.code, 0, "{}", failed.all());
    assert_eq!(
        dump(&dst, &["parent", "child"]).await,
        src,
        "the old tables changed"
    );
}

/// An `append` killed after its COMMIT but before the progress file was
/// written used to load the same rows again on the next run (a table
/// without a key then held them twice). The load's transaction id is now
/// recorded before COMMIT and the rerun asks PostgreSQL whether it
/// committed; killed before the COMMIT, the rows are loaded once, by the
/// rerun.
#[tokio::test]
async fn a_kill_around_an_append_commit_loads_the_rows_once() {
    let pg = godwit_tests::pg::server();
    for at in ["loaded:events", "commit:events", "committed:events"] {
        let f = Fixture::empty();
        let rows: Vec<String> = (1..=1000).map(|i| format!("({i}, 'n{i}')")).collect();
        sqlite_with(
            &f.path().join("src.db"),
            &[
                "CREATE TABLE events (id INTEGER, note TEXT)",
                &format!("INSERT INTO events VALUES {}", rows.join(",")),
            ],
        )
        .await
        .close()
        .await;
        let url = pg.create_db();
        let db = url.rsplit('/').next().unwrap().to_owned();
        pg.psql(&db, "CREATE TABLE events (id bigint, note text)");
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                "postgres-target",
                "mode = \"append\"\nbatch_rows = 100",
                false,
            ),
        );
        let killed = f.godwit_env(&["run", &f.arg()], &[("GODWIT_KILL_AT", at)]);
        assert!(
            killed.stderr.contains("aborting at"),
            "{at}: {}",
            killed.all()
        );
        let rerun = f.godwit(&["run", &f.arg()]);
        assert_eq!(rerun.code, 0, "{at}: {}", rerun.all());
        assert_eq!(
            pg.psql(
                &db,
                "SELECT count(*) || '/' || count(DISTINCT id) || '/' || sum(id) FROM events"
            )
            .trim(),
            "1000/1000/500500",
            "{at}: rows lost or loaded twice"
        );
    }
}
