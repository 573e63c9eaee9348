//! Plugins are contained: ungranted access is denied, runaway guests are
//! stopped within their limits, and the host reports them and exits 3.

use super::common::*;

fn assert_contained(r: &Run, needle: &str) {
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr.contains("plugin evil"),
        "names the plugin: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("sha256:"),
        "names the digest: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(needle),
        "expected {needle:?}: {}",
        r.stderr
    );
}

#[test]
fn ungranted_connection_is_access_denied() {
    let f = hostile_project("sneaky", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "access-denied");
    assert!(
        r.stderr.contains("\"db\" is not granted to plugin evil"),
        "{}",
        r.stderr
    );
    // A connection granted to *another* plugin is no help either.
    let f = hostile_project("sneaky", "grants.sql = {}\n");
    assert_contained(&f.godwit(&["run", &f.arg()]), "access-denied");
}

#[test]
fn infinite_loop_is_stopped_at_the_deadline() {
    let f = hostile_project("loop", "limits = { call_timeout_ms = 300 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its time limit of 300 ms",
    );
}

#[test]
fn memory_bomb_is_stopped_at_the_limit() {
    let f = hostile_project("memory", "limits = { memory_mib = 32 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its memory limit of 32 MiB",
    );
}

#[test]
fn panic_is_reported_with_its_message() {
    let f = hostile_project("panic", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "panicked");
    assert!(
        r.stderr.contains("hostile guest panicking on purpose"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_well_behaved_guest_in_the_same_setup_runs() {
    let f = hostile_project("ok", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn printing_a_lot_is_not_a_crash() {
    // Output beyond the capture buffer is discarded, not an error.
    let f = hostile_project("chatty", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.stdout.contains("xxxxxxxx"),
        "plugin output must not reach the terminal"
    );
}

#[test]
fn a_non_component_file_is_a_load_error() {
    let f = hostile_project("ok", "");
    f.write("bogus.wasm", "this is not wasm");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write("godwit.toml", &toml.replace(guests::HOSTILE, "bogus.wasm"));
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("plugin evil"), "{}", r.stderr);
}

/// The `blob` capability end to end: a guest lists a granted local store,
/// reads every object in chunks, writes copies, and cannot leave the root;
/// without the grant it gets `access-denied`; in `plan` writes are refused.
#[test]
fn blob_capability_reads_and_writes_granted_stores_only() {
    let extra = "grants.blob = { files = \"uploads\" }\n";
    let f = hostile_project("blob", extra);
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(
            "[plugins.evil]",
            "[stores.uploads]\ntype = \"fs\"\nroot = \"uploads\"\n\n[plugins.evil]",
        ),
    );
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::create_dir_all(f.path().join("uploads/7")).unwrap();
    std::fs::write(f.path().join("uploads/7/audio.m4a"), &big).unwrap();
    std::fs::write(f.path().join("uploads/notes ü.txt"), "hello").unwrap();
    std::fs::write(f.path().join("outside.txt"), "secret").unwrap();

    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(
        plan.code,
        3,
        "plan refuses the guest's writes\n{}",
        plan.all()
    );
    assert!(plan.stderr.contains("read-only"), "{}", plan.stderr);
    assert!(
        !f.path().join("uploads/copies").exists(),
        "plan wrote nothing"
    );

    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        std::fs::read(f.path().join("uploads/copies/7/audio.m4a")).unwrap(),
        big
    );
    assert_eq!(
        std::fs::read_to_string(f.path().join("uploads/copies/notes ü.txt")).unwrap(),
        "hello"
    );

    // Without the grant: access-denied.
    f.write(
        "godwit.toml",
        &std::fs::read_to_string(f.path().join("godwit.toml"))
            .unwrap()
            .replace(extra, ""),
    );
    let denied = f.godwit(&["run", &f.arg()]);
    assert_eq!(denied.code, 3, "{}", denied.all());
    assert!(
        denied
            .stderr
            .contains("blob label \"files\" is not granted to plugin evil"),
        "{}",
        denied.stderr
    );
}

/// Deep recursion overflows the guest's stack: a trap, reported, host fine.
#[test]
fn unbounded_recursion_is_a_contained_trap() {
    let f = hostile_project("recurse", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "stack");
}

/// A flood of connections stops at the plugin's connection limit (default
/// 8, here configured to 3) with a clear error; the host carries on.
#[test]
fn a_flood_of_handles_hits_the_limit() {
    let f = hostile_project("handles", "grants.sql = { db = \"copy\" }\n");
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "the host refused handle 9");
    assert!(
        r.stderr.contains("open connections (limit 8)"),
        "{}",
        r.stderr
    );
    let f = hostile_project(
        "handles",
        "grants.sql = { db = \"copy\" }\nlimits = { max_connections = 3 }\n",
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_contained(&r, "the host refused handle 4");
    assert!(
        r.stderr.contains("open connections (limit 3)"),
        "{}",
        r.stderr
    );
}

/// A rule returning more outcomes than values is refused, not trusted.
#[test]
fn an_oversized_answer_is_refused() {
    let f = hostile_project("oversize", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("outcomes for"), "{}", r.stderr);
}

/// An enormous answer (four million outcomes for a batch of a few hundred
/// values) is bounded by the guest's own memory limit and refused by the
/// host; the host stays well.
#[test]
fn an_enormous_answer_is_contained() {
    let f = hostile_project("enormous", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("4000000 outcomes for"), "{}", r.stderr);
    // With less memory the guest cannot even build it: a contained trap.
    let f = hostile_project("enormous", "limits = { memory_mib = 32 }\n");
    assert_contained(
        &f.godwit(&["run", &f.arg()]),
        "exceeded its memory limit of 32 MiB",
    );
}

/// Instance and table limits are per plugin too: a component needs a few
/// core instances, so a limit of one refuses to instantiate it, contained.
#[test]
fn instance_limits_are_configurable_per_plugin() {
    let f = hostile_project("ok", "limits = { max_instances = 1 }\n");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("plugin evil"), "{}", r.stderr);
    assert!(r.stderr.contains("instance"), "{}", r.stderr);
}

/// Through WASI a guest sees no files, no environment, no arguments and no
/// network; clocks and randomness work (hash maps need them). What it saw is
/// written into the rows, so the test reads it from the target database.
#[tokio::test]
async fn wasi_gives_no_files_env_or_network() {
    let f = hostile_project("probe", "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows = dump(&f.path().join("out/app.db"), &["tasks"]).await;
    let seen = rows[0].1[0]
        .iter()
        .find(|c| c.starts_with("t:fs:"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        seen,
        "t:fs:denied env:0 args:0 net:denied clock:true random:ok"
    );
}

/// A component built against another version of the contract is refused
/// by name and version before it runs.
#[test]
fn a_component_for_another_wit_version_is_refused() {
    let f = hostile_project("ok", "");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(guests::HOSTILE, guests::OLD_WIT),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr
            .contains("built against godwit:plugin@0.1.0; this host serves godwit:plugin@0.2.0 and godwit:plugin@0.3.0"),
        "{}",
        r.stderr
    );
}

/// A component importing an interface the host does not offer cannot be
/// linked: refused with the import named, nothing runs.
#[test]
fn an_undeclared_import_is_refused() {
    let f = hostile_project("ok", "");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(guests::HOSTILE, guests::EVIL_IMPORT),
    );
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("godwit:evil/backdoor"), "{}", r.stderr);
    assert!(!f.path().join("out/app.db").exists(), "ran anyway");
}

/// A project granting the hostile guest the folder store `uploads` as
/// `files`, in `mode`.
fn hostile_blob_project(mode: &str) -> Fixture {
    let f = hostile_project(mode, "grants.blob = { files = \"uploads\" }\n");
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace(
            "[plugins.evil]",
            "[stores.uploads]\ntype = \"fs\"\nroot = \"uploads\"\n\n[plugins.evil]",
        ),
    );
    f
}

/// Symbolic links inside a folder store cannot take a plugin outside its
/// root: reads, stats, listings, writes and deletes through a link to an
/// outside folder or file are all refused, and nothing outside changes.
/// (On e16b6b6 every one of them worked.)
#[tokio::test]
async fn symlinks_do_not_lead_out_of_a_folder_store() {
    let f = hostile_blob_project("escape");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::fs::write(outside.path().join("victim.txt"), "keep me").unwrap();
    std::fs::write(outside.path().join("file.txt"), "outside file").unwrap();
    std::fs::create_dir_all(f.path().join("uploads")).unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path().join("uploads/evil")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("file.txt"),
        f.path().join("uploads/link.txt"),
    )
    .unwrap();
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows = dump(&f.path().join("out/app.db"), &["tasks"]).await;
    let seen: Vec<&String> = rows[0]
        .1
        .iter()
        .flat_map(|row| row.iter())
        .filter(|c| c.starts_with("t:") && !c.contains('/') && c.len() < 80)
        .collect();
    assert!(
        seen.iter().any(|c| *c == "t:none"),
        "every escape must be refused, the guest saw: {seen:?}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("victim.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("file.txt")).unwrap(),
        "outside file"
    );
    assert!(!outside.path().join("planted.txt").exists());
}

/// The copy step reports a symbolic link in the source folder instead of
/// following it (a link to a folder outside would copy data nobody
/// granted), and a link in the target folder does not redirect its writes.
#[test]
fn copies_report_symlinks_and_never_write_through_them() {
    let f = Fixture::empty();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::fs::create_dir_all(f.path().join("src/a")).unwrap();
    std::fs::write(f.path().join("src/a/ok.txt"), "fine").unwrap();
    std::fs::write(f.path().join("src/b.txt"), "also fine").unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path().join("src/evil")).unwrap();
    std::fs::create_dir_all(f.path().join("dst")).unwrap();
    // The target's `a` folder is a link to the outside: writes into it are
    // refused, not redirected.
    std::os::unix::fs::symlink(outside.path(), f.path().join("dst/a")).unwrap();
    folder_copy_project(&f, "");
    let r = f.godwit(&["run", &f.arg()]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(f.path().join("dst/b.txt")).unwrap(),
        "also fine"
    );
    assert!(
        !outside.path().join("ok.txt").exists(),
        "wrote through a link"
    );
    assert!(!f.path().join("dst/evil").exists(), "followed a link");
    let rejects = std::fs::read_dir(f.path().join(".godwit/runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rejects.jsonl"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<String>();
    assert!(rejects.contains("symbolic link"), "{rejects}");
    assert!(rejects.contains("a/ok.txt"), "{rejects}");
}

/// A project where the hostile guest runs `statements` through a grant of
/// `conn` (a connection in the project) as `db`.
fn statements_project(conn_toml: &str, conn: &str, statements: &[String]) -> Fixture {
    let list = statements
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let f = hostile_project(
        "statements",
        &format!("grants.sql = {{ db = \"{conn}\" }}\n"),
    );
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    let toml = toml
        .replace(
            "params = { mode = \"statements\" }",
            &format!("params = {{ mode = \"statements\", statements = [{list}] }}"),
        )
        .replace("[plugins.src]", &format!("{conn_toml}\n[plugins.src]"));
    f.write("godwit.toml", &toml);
    f
}

/// The guest's verdicts (`i:ok` / `i:no`), read back from the copied rows.
async fn verdicts(f: &Fixture) -> String {
    let rows = dump(&f.path().join("out/app.db"), &["tasks"]).await;
    rows[0]
        .1
        .iter()
        .flat_map(|r| r.iter())
        .find(|c| c.starts_with("t:0:"))
        .cloned()
        .unwrap_or_default()
}

/// A SQLite grant on a source reaches one database, read-only: on e16b6b6
/// `VACUUM INTO` created a file through the read-only connection, `ATTACH`
/// read a database nobody granted, and the default (read-write) source DSN
/// let a plugin `DROP TABLE` in the source.
#[tokio::test]
async fn a_sqlite_source_grant_is_read_only_and_one_database() {
    let outside = tempfile::tempdir().unwrap();
    let other = outside.path().join("other.db");
    sqlite_with(
        &other,
        &[
            "CREATE TABLE secret(x)",
            "INSERT INTO secret VALUES ('s3cr3t')",
        ],
    )
    .await
    .close()
    .await;
    let stolen = outside.path().join("stolen.db");
    let statements = vec![
        "SELECT count(*) FROM users".to_owned(),
        format!("VACUUM INTO '{}'", stolen.display()),
        format!("ATTACH '{}' AS o", other.display()),
        "SELECT x FROM o.secret".to_owned(),
        "DROP TABLE users".to_owned(),
        "PRAGMA user_version = 7".to_owned(),
        "CREATE TABLE planted(a)".to_owned(),
        "SELECT load_extension('/tmp/x.so')".to_owned(),
        "PRAGMA table_info(users)".to_owned(),
    ];
    // The source DSN without `mode=ro`: read-write by its text, read-only
    // because no step writes to it.
    let f = statements_project("", "app", &statements);
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace("sqlite://data/app.db?mode=ro", "sqlite://data/app.db"),
    );
    let before = std::fs::read(f.path().join("data/app.db")).unwrap();
    for cmd in ["plan", "run"] {
        let r = f.godwit(&[cmd, &f.arg()]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.all());
    }
    assert_eq!(
        verdicts(&f).await,
        "t:0:ok 1:no 2:no 3:no 4:no 5:no 6:no 7:no 8:ok"
    );
    assert!(!stolen.exists(), "VACUUM INTO wrote a file");
    assert_eq!(
        std::fs::read(f.path().join("data/app.db")).unwrap(),
        before,
        "the source changed"
    );
}

/// The pooled SQLite connections behind `execute` (a target's) reach one
/// database too: no ATTACH, no VACUUM INTO.
#[tokio::test]
async fn a_writable_sqlite_connection_cannot_attach() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    sqlite_with(&other, &["CREATE TABLE secret(x)"])
        .await
        .close()
        .await;
    let db = godwit_host::caps::sql::Database::open(
        "t",
        &godwit_host::project::Secret::new(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.db").display()
        )),
        dir.path(),
        false,
    )
    .await
    .unwrap();
    let attach = db
        .execute(&format!("ATTACH '{}' AS o", other.display()), vec![])
        .await;
    assert!(attach.is_err(), "{attach:?}");
    let vacuum = db
        .execute(
            &format!("VACUUM INTO '{}'", dir.path().join("copy.db").display()),
            vec![],
        )
        .await;
    assert!(vacuum.is_err(), "{vacuum:?}");
    assert!(!dir.path().join("copy.db").exists());
    db.execute("CREATE TABLE ok(a)", vec![]).await.unwrap();
}

/// On PostgreSQL a plugin's statements through a source grant run in a
/// read-only transaction it cannot reopen: on e16b6b6
/// `set_config('default_transaction_read_only','off',false)` made the
/// pooled connection writable and `CREATE TABLE` worked during plan. A role
/// that can bypass read-only transactions (a superuser) is named in a
/// warning, and refused with `--strict`; a least-privilege role cannot read
/// server files at all.
#[tokio::test]
async fn a_postgres_source_grant_is_read_only_and_names_risky_roles() {
    let pg = godwit_tests::pg::server();
    let url = pg.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    pg.psql(&db, "CREATE TABLE t(a int); INSERT INTO t VALUES (1)");
    let statements = strings(&[
        "SELECT a FROM t",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SET transaction_read_only = off",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "CREATE TABLE planted(a int)",
        "INSERT INTO t VALUES (2)",
        "COMMIT",
        "CREATE TABLE planted2(a int)",
    ]);
    let conn = format!("[connections.pg]\ndsn = \"{url}\"\n");
    let f = statements_project(&conn, "pg", &statements);
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stderr.contains("is a superuser"),
        "the risky role is named: {}",
        plan.stderr
    );
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    // `COMMIT` (6) may or may not be accepted: it only ends the read-only
    // transaction of its own query. Everything that writes is refused.
    let v = verdicts(&f).await;
    let v: Vec<&str> = v.trim_start_matches("t:").split(' ').collect();
    assert_eq!(v.len(), 8, "{v:?}");
    for (i, want) in ["0:ok", "1:ok", "2:no", "3:no", "4:no", "5:no", "", "7:no"]
        .iter()
        .enumerate()
    {
        if !want.is_empty() {
            assert_eq!(v[i], *want, "{v:?}");
        }
    }
    let tables = pg.psql(
        &db,
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(tables.trim(), "t");
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM t").trim(), "1");

    let strict = f.godwit(&["--strict", "plan", &f.arg()]);
    assert_eq!(strict.code, 2, "{}", strict.all());
    assert!(
        strict.stderr.contains("refused with --strict"),
        "{}",
        strict.stderr
    );

    // A least-privilege role: no warning, and server files stay closed.
    let role = format!("reader_{db}");
    pg.psql(
        &db,
        &format!("CREATE ROLE {role} LOGIN; GRANT SELECT ON t TO {role}"),
    );
    let reader_url = url.replace("postgres@", &format!("{role}@"));
    let conn = format!("[connections.pg]\ndsn = \"{reader_url}\"\n");
    let statements = vec![
        "SELECT a FROM t".to_owned(),
        "SELECT pg_read_file('/etc/hostname')".to_owned(),
    ];
    let f = statements_project(&conn, "pg", &statements);
    let r = f.godwit(&["--strict", "run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.contains("superuser"), "{}", r.stderr);
    assert_eq!(verdicts(&f).await, "t:0:ok 1:no");
}

/// Text from a plugin cannot take the host down or flood it: a 70,000
/// character value in `plan`'s sample table panicked the host on e16b6b6
/// (exit 101); its log lines were unbounded (87 MB/s into godwit.log and
/// stderr) and a newline in one forged a log line.
#[test]
fn long_values_and_log_floods_are_bounded_and_escaped() {
    let f = hostile_project("long", "");
    let f = {
        // Rejects are expected: allow them all.
        let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
        f.write(
            "godwit.toml",
            &toml.replace(
                "mode = \"replace\"\n",
                "mode = \"replace\"\nmax_rejects = 1000\n",
            ),
        );
        f
    };
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .lines()
            .all(|l| l.len() < 10_000 && !l.starts_with("FORGED")),
        "plan printed a plugin's text unbounded or unescaped"
    );
    let run = f.godwit(&["-v", "run", &f.arg()]);
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(4000)]);
    for l in run.stdout.lines() {
        assert!(l.len() < 10_000, "an unbounded line on stdout");
    }
    assert!(
        run.stderr.len() < 3 << 20,
        "stderr holds {} bytes",
        run.stderr.len()
    );
    assert!(run.stderr.contains("log budget"), "the drop is said once");
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a plugin forged a log line"
    );
    assert!(
        run.stderr.contains("real line\\n2026-01-01"),
        "escaped, not dropped"
    );
    for e in std::fs::read_dir(f.path().join(".godwit/runs")).unwrap() {
        let dir = e.unwrap().path();
        if let Ok(m) = std::fs::metadata(dir.join("godwit.log")) {
            assert!(m.len() < 3 << 20, "{} is {} bytes", dir.display(), m.len());
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("rejects.jsonl")) {
            for line in text.lines() {
                let r: serde_json::Value = serde_json::from_str(line).unwrap();
                let reason = r["reason"].as_str().unwrap();
                assert!(reason.len() < 5000, "a reason of {} bytes", reason.len());
                assert!(reason.starts_with("bad\\nFORGED"), "{reason:.40}");
            }
        }
    }
}

/// The same on MariaDB: a plugin's statements through a source grant run
/// in a `READ ONLY` transaction it cannot switch back (`SET SESSION
/// TRANSACTION READ WRITE` is refused inside it), writes are refused, and
/// the root account's FILE privilege is named.
#[tokio::test]
async fn a_mariadb_source_grant_is_read_only_and_names_risky_accounts() {
    let my = godwit_tests::mariadb::server();
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    my.sql(
        &db,
        "CREATE TABLE t (a INT PRIMARY KEY); INSERT INTO t VALUES (1)",
    );
    let statements = strings(&[
        "SELECT a FROM t",
        "SET TRANSACTION READ WRITE",
        "CREATE TABLE planted (a INT)",
        "INSERT INTO t VALUES (2)",
        "DROP TABLE t",
    ]);
    let conn = format!("[connections.my]\ndsn = \"{url}\"\n");
    let f = statements_project(&conn, "my", &statements);
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("FILE privilege"), "{}", run.stderr);
    let v = verdicts(&f).await;
    assert!(v.starts_with("t:0:ok 1:"), "{v}");
    assert!(v.ends_with("2:no 3:no 4:no"), "{v}");
    assert_eq!(
        my.sql(&db, "SELECT GROUP_CONCAT(table_name) FROM information_schema.tables WHERE table_schema = DATABASE()").trim(),
        "t"
    );
    assert_eq!(my.sql(&db, "SELECT count(*) FROM t").trim(), "1");
}

/// The `pipeline` capability (contract 0.3) probed by a validator that
/// misuses it: without a grant every `open` is `access-denied`; with one,
/// a table no step reads is `not-found`, a batch of the wrong width is
/// `invalid-input` and 10,001 rows in one call `limit-exceeded` — each an
/// error value the plugin handles, the host unharmed; rows that are fine
/// come back as the step's rule writes them, or refused with its reason.
#[test]
fn the_pipeline_capability_is_granted_per_step_and_bounded() {
    let f = Fixture::empty();
    let pool_dir = f.path().to_path_buf();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlite_with(
            &pool_dir.join("src.db"),
            &[
                "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT)",
                "INSERT INTO files VALUES (1, '/app/.data/one.txt')",
            ],
        )
        .await
        .close()
        .await;
    });
    let mut toml = copy_project(
        "sqlite://src.db?mode=ro",
        "sqlite-source",
        "sqlite://out.db?mode=rwc",
        "sqlite-target",
        "mode = \"replace\"\nrewrites = [{ column = \"files.path\", rule = \"norm\" }]",
        false,
    );
    toml.push_str(&format!(
        r#"
[trust]
allow_unsigned_plugins = true

[plugins.norm]
path = "builtin:path-normalize"
params = {{ root = "/app/.data" }}

[plugins.granted]
path = "{wasm}"
grants.pipeline = ["copy"]

[plugins.ungranted]
path = "{wasm}"

[[validators]]
plugin = "granted"

[[validators]]
plugin = "ungranted"
"#,
        wasm = guests::PIPELINE_PROBE
    ));
    f.write("godwit.toml", &toml);
    let r = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let answer = |validator: &str, probe: &str| -> String {
        report["validation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["validator"] == validator && x["check"] == probe)
            .unwrap_or_else(|| panic!("{validator}/{probe}: {report}"))["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for probe in ["apply", "wide", "many", "changed", "missing"] {
        let a = answer("ungranted", probe);
        assert!(a.starts_with("error:access-denied: "), "{probe}: {a}");
    }
    assert_eq!(answer("granted", "changed"), "path");
    let apply = answer("granted", "apply");
    assert!(
        apply.starts_with("ok:/app/.data/a/b.txt | refused:path: ")
            && apply.ends_with(" | ok:/app/.data/c.txt"),
        "{apply}"
    );
    assert!(
        apply.contains(".."),
        "the rule's reason is passed on: {apply}"
    );
    assert!(
        answer("granted", "missing").starts_with("error:not-found: "),
        "{}",
        answer("granted", "missing")
    );
    let wide = answer("granted", "wide");
    assert!(
        wide.starts_with("error:invalid-input: a batch of 3 columns for a table of 2"),
        "{wide}"
    );
    let many = answer("granted", "many");
    assert!(
        many.starts_with("error:limit-exceeded: 10001 rows in one apply"),
        "{many}"
    );
}
