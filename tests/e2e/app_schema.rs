//! Into the application's own schema (issue 22): a target schema made by
//! the new backend's migrations, which add NOT NULL columns, split a
//! column, change keys and drop tables; one godwit project loads it, and
//! every skipped object and refused row is accounted for.

use super::common::*;

/// A fresh database with the example's migrations applied in file-name
/// order, as the application (or `sqlx migrate run`) applies them.
fn migrated(s: &godwit_tests::pg::Server, f: &Fixture) -> (String, String) {
    let url = s.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let mut files: Vec<_> = std::fs::read_dir(f.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    for m in files {
        s.psql(&db, &std::fs::read_to_string(m).unwrap());
    }
    (url, db)
}

/// Items 1, 2, 4, 5, 6, 8 and 9, on `examples/app-rewrite` as shipped (and
/// once more with one worker). On ccbea0b (before this change) `plan`
/// refused the project: `fill` did not exist, so four tables had NOT NULL
/// columns no source column filled; with the fills taken out the first
/// table was the only one named. The load order followed the source
/// (which declares no keys), rejects of `message` and `chat_tag` had
/// `"key": null` and no DETAIL, excluded tables and dropped columns were
/// in no report, the dropped `setting.id` still got a `setval` (exit 3),
/// and a second `truncate` run failed deleting a parent.
#[tokio::test]
async fn app_rewrite_example_loads_into_the_schema_its_migrations_made() {
    let s = godwit_tests::pg::server();
    for workers in ["", "workers = 1\n"] {
        let f = Fixture::example("app-rewrite");
        if !workers.is_empty() {
            let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
            f.write(
                "godwit.toml",
                &toml.replace("max_rejects = 2\n", &format!("max_rejects = 2\n{workers}")),
            );
        }
        let (url, db) = migrated(s, &f);
        let env = [("APP_PG_URL", url.as_str())];

        let plan = f.godwit_env(&["plan", &f.arg()], &env);
        assert_eq!(plan.code, 0, "{}", plan.all());
        assert!(
            !plan.stdout.contains("setval"),
            "no identity is loaded: nothing to reset\n{}",
            plan.stdout
        );
        // Parents before children, by the target's keys.
        let at = |t: &str| {
            plan.stdout
                .find(&format!("  {t} -> {t} on connection"))
                .unwrap_or_else(|| panic!("{t} in\n{}", plan.stdout))
        };
        assert!(at("user") < at("chat") && at("chat") < at("message"));
        assert!(at("tag") < at("chat_tag") && at("chat") < at("chat_tag"));
        for line in [
            "tables not copied: alembic_version (the old backend's migration bookkeeping), legacy_plugin (the new backend has no plugins)",
            "chat.share_id (the new backend has no sharing)",
            "column: tag.id (uuid) = uuid5('tag', name, user_id) (fill)",
            "column: chat.imported_at (timestamp with time zone) = now() (fill)",
        ] {
            assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
        }

        // Two rows are refused by the new schema: exit 1, as any reject.
        let run = f.godwit_env(&["--json", "run", &f.arg()], &env);
        assert_eq!(run.code, 1, "{}", run.all());
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let step = &report["steps"][0];
        assert_eq!(
            step["excluded_tables"],
            serde_json::json!([
                {"name": "alembic_version", "reason": "the old backend's migration bookkeeping"},
                {"name": "legacy_plugin", "reason": "the new backend has no plugins"},
            ])
        );
        let dropped: Vec<String> = step["dropped_columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} ({})",
                    d["name"].as_str().unwrap(),
                    d["reason"].as_str().unwrap()
                )
            })
            .collect();
        for d in [
            "user.name (split into first_name and last_name)",
            "setting.id (settings are keyed by name)",
            "chat.timestamp (became created_at and updated_at)",
        ] {
            assert!(dropped.contains(&d.to_owned()), "{d} in {dropped:?}");
        }
        let report_md = std::fs::read_to_string(
            std::path::Path::new(report["run_dir"].as_str().unwrap()).join("report.md"),
        )
        .unwrap();
        assert!(
            report_md.contains(
                "Tables not copied: alembic_version (the old backend's migration bookkeeping)"
            ),
            "{report_md}"
        );
        assert!(report_md.contains("Columns not copied: "), "{report_md}");

        // The data, reshaped.
        let q = |sql: &str| s.psql(&db, &format!("SET timezone = 'UTC'; {sql}"));
        assert_eq!(
            q("SELECT concat_ws('|', id, first_name, last_name, role, created_at, updated_at) FROM \"user\" ORDER BY id"),
            "1|Ann|Smith|user|2023-11-14 22:13:20+00|2023-11-14 22:13:20+00\n\
             2|Bob|de Vries|user|2023-11-14 22:15:00+00|2023-11-14 22:15:00+00\n\
             3|Cher||user|2023-11-14 22:16:40+00|2023-11-14 22:16:40+00\n"
        );
        assert_eq!(
            q("SELECT concat_ws('|', id, created_at, updated_at) FROM chat ORDER BY id"),
            "c1|2023-11-14 22:30:00+00|2023-11-14 22:30:00+00\n\
             c2|2023-11-14 22:46:40+00|2023-11-14 22:46:40+00\n\
             c3|2023-11-14 23:03:20+00|2023-11-14 23:03:20+00\n"
        );
        // now(): one instant for every row, the run's start, and the same
        // one in epoch milliseconds.
        let started = chrono::DateTime::parse_from_rfc3339(report["started_at"].as_str().unwrap())
            .unwrap()
            .timestamp();
        let imported: Vec<String> =
            q("SELECT DISTINCT extract(epoch FROM imported_at)::bigint FROM chat")
                .lines()
                .map(str::to_owned)
                .collect();
        assert_eq!(imported.len(), 1, "{imported:?}");
        let imported: i64 = imported[0].parse().unwrap();
        assert!((imported - started).abs() <= 2, "{imported} vs {started}");
        assert_eq!(
            q("SELECT count(DISTINCT created_ms) || '|' || (max(created_ms) - (SELECT floor(extract(epoch FROM max(imported_at)) * 1000)::bigint FROM chat)) FROM message").trim(),
            "1|0"
        );
        // Derived keys: the link table's uuid5 equals the tag's own.
        assert_eq!(
            q("SELECT string_agg(t.name || ':' || t.user_id || ':' || ct.chat_id, ',' ORDER BY ct.chat_id, t.name) FROM chat_tag ct JOIN tag t ON t.id = ct.tag_id").trim(),
            "home:1:c1,work:1:c1,work:2:c2"
        );
        assert_eq!(q("SELECT count(*) FROM tag").trim(), "3");
        assert_eq!(
            q("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM setting").trim(),
            "lang=en,theme=dark"
        );
        assert_eq!(
            q("SELECT count(*) FROM _app_migrations").trim(),
            "2",
            "the app's bookkeeping is untouched"
        );

        // Refused rows, identified: by the unique NOT NULL index (message has
        // no primary key), by ordinal (chat_tag has no key at all); reasons
        // keep PostgreSQL's DETAIL and SQLSTATE.
        let rejects = all_rejects(&f);
        assert_eq!(rejects.len(), 2, "{rejects:?}");
        assert_eq!(
            report["rejects_file"]
                .as_str()
                .map(|p| p.ends_with("rejects.jsonl")),
            Some(true)
        );
        let m = rejects.iter().find(|r| r["table"] == "message").unwrap();
        assert_eq!(m["key"], serde_json::json!({"id": "m2"}));
        let reason = m["reason"].as_str().unwrap();
        assert!(
            reason.contains("DETAIL: Failing row contains (m2, c1, 1, ,"),
            "{reason}"
        );
        assert!(reason.contains("[SQLSTATE 23514]"), "{reason}");
        let ct = rejects.iter().find(|r| r["table"] == "chat_tag").unwrap();
        assert_eq!(ct["key"], serde_json::json!({"#row": 4}));
        assert!(
            ct["reason"]
                .as_str()
                .unwrap()
                .contains("DETAIL: Key (chat_id, tag_id)=(c1, "),
            "{ct}"
        );

        // Mode truncate again, into tables whose keys link them: children
        // are emptied first, and the result is the same.
        let again = f.godwit_env(&["run", &f.arg()], &env);
        assert_eq!(again.code, 1, "{}", again.all());
        assert!(
            !again.all().contains("violates foreign key"),
            "{}",
            again.all()
        );
        assert_eq!(
            q("SELECT (SELECT count(*) FROM \"user\") || '|' || (SELECT count(*) FROM chat_tag) || '|' || (SELECT count(*) FROM message)").trim(),
            "3|3|3"
        );
    }
}

/// Item 3: without the fills, `plan` names every table that does not fit
/// (on ccbea0b only the first, `chat`), each problem with the option that
/// fixes it; and a fill whose value cannot go into its column is refused
/// by `plan`, with the way out.
#[tokio::test]
async fn plan_names_every_table_that_does_not_fit_and_how_to_fix_it() {
    let s = godwit_tests::pg::server();
    let f = Fixture::example("app-rewrite");
    let (url, _db) = migrated(s, &f);
    let env = [("APP_PG_URL", url.as_str())];
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    let (head, _fills) = toml.split_once("[steps.fill]").unwrap();
    f.write("godwit.toml", head);
    let plan = f.godwit_env(&["plan", &f.arg()], &env);
    assert_eq!(plan.code, 2, "{}", plan.all());
    for problem in [
        "target column user.role (text) is NOT NULL without a default, and no source column fills it (fill = { \"user.role\" = \"...\" }",
        "target column chat.created_at (timestamp with time zone) is NOT NULL",
        "target column tag.id (uuid) is NOT NULL",
        "target column chat_tag.tag_id (uuid) is NOT NULL",
        "target column message.created_ms (bigint) is NOT NULL",
    ] {
        assert!(plan.stderr.contains(problem), "{problem}\n{}", plan.stderr);
    }

    let wrong = toml
        .replace(
            "\"message.created_ms\" = \"now('ms')\"",
            "\"message.created_ms\" = \"now()\"",
        )
        .replace(
            "\"tag.id\" = \"uuid5('tag', name, user_id)\"",
            "\"tag.id\" = \"uuid5('tag', nmae, user_id)\"",
        );
    f.write("godwit.toml", &wrong);
    let plan = f.godwit_env(&["plan", &f.arg()], &env);
    assert_eq!(plan.code, 2, "{}", plan.all());
    for problem in [
        "fill \"message.created_ms\" = \"now()\" gives",
        "now() is a timestamp; an integer column takes now('s'), now('ms'), now('us') or now('ns')",
        "fill \"tag.id\" = \"uuid5('tag', nmae, user_id)\": nmae is not a column of the source table (its columns: name, user_id",
    ] {
        assert!(plan.stderr.contains(problem), "{problem}\n{}", plan.stderr);
    }
    // A fill into a table godwit would create is refused, as are the other
    // options that shape a load into an existing table.
    let g = Fixture::empty();
    sqlite_with(
        &g.path().join("src.db"),
        &["CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)"],
    )
    .await
    .close()
    .await;
    let url2 = s.create_db();
    g.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url2,
            "postgres-target",
            "drop_columns = [\"t.a\"]\n[steps.fill]\n\"t.b\" = \"a\"",
            false,
        ),
    );
    let plan = g.godwit(&["plan", &g.arg()]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stderr
            .contains("table t: fill, drop_columns shape(s) the load into a table that exists"),
        "{}",
        plan.stderr
    );
}

/// A fill that fails on some rows rejects those rows (stage `fill`, with
/// the row's key and the expression), and loads the others.
#[tokio::test]
async fn a_fill_that_fails_on_a_row_rejects_that_row() {
    let s = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, qty, label TEXT)",
            "INSERT INTO items VALUES (1, 2, 'a'), (2, 'many', 'b'), (3, 5, 'c d')",
        ],
    )
    .await
    .close()
    .await;
    let url = s.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    s.psql(
        &db,
        "CREATE TABLE items (id bigint PRIMARY KEY, qty text, label text, next_qty bigint NOT NULL, slug text NOT NULL)",
    );
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "mode = \"append\"\nmax_rejects = 1\ntypes = \"declared\"\n[steps.fill]\n\"items.next_qty\" = \"qty + 1\"\n\"items.slug\" = \"label | replace(' ', '-') ~ '-' ~ id\"",
            false,
        ),
    );
    // `plan` tries the fills on the first rows and warns.
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains(
            "warning: fill items.next_qty = qty + 1: 1 of the first 3 rows would be rejected (stage fill/cast); row 2: "
        ),
        "{}",
        plan.stdout
    );
    let run = f.godwit(&["run", &f.arg()]);
    // `'many' + 1` fails: that row is rejected (exit 1, as any reject).
    let rejects = all_rejects(&f);
    assert_eq!(run.code, 1, "{}\n{rejects:?}", run.all());
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["stage"], "fill");
    assert_eq!(rejects[0]["key"], serde_json::json!({"id": 2}));
    assert_eq!(rejects[0]["column"], "next_qty");
    assert_eq!(rejects[0]["fill"], "qty + 1");
    assert!(
        rejects[0]["reason"]
            .as_str()
            .unwrap()
            .contains("unsupported types"),
        "{rejects:?}"
    );
    assert_eq!(
        s.psql(
            &db,
            "SELECT string_agg(concat_ws(':', id, qty, next_qty, slug), ',' ORDER BY id) FROM items"
        )
        .trim(),
        "1:2:3:a-1,3:5:6:c-d-3"
    );
}

/// "A rewrite rule may also fill a column": the new schema keeps the old
/// path and adds the object URL; one rule rewrites a copy of the path into
/// `url`, the path itself loads unchanged.
#[tokio::test]
async fn a_rewrite_rule_fills_another_column() {
    let s = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL)",
            "INSERT INTO files VALUES (1, '/app/.data/a.png'), (2, '/app/.data/b/c.pdf')",
        ],
    )
    .await
    .close()
    .await;
    let url = s.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    s.psql(
        &db,
        "CREATE TABLE files (id bigint PRIMARY KEY, path text NOT NULL, url text NOT NULL)",
    );
    let mut toml = copy_project(
        "sqlite://src.db",
        "sqlite-source",
        &url,
        "postgres-target",
        "mode = \"append\"\nrewrites = [{ column = \"files.path\", rule = \"to-s3\", into = \"url\" }]",
        false,
    );
    toml.push_str(
        "\n[plugins.to-s3]\npath = \"builtin:prefix-rewrite\"\nparams = { from = \"/app/.data/\", to = \"s3://bucket/\" }\n",
    );
    f.write("godwit.toml", &toml);
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        s.psql(
            &db,
            "SELECT string_agg(concat_ws('|', id, path, url), ',' ORDER BY id) FROM files"
        )
        .trim(),
        "1|/app/.data/a.png|s3://bucket/a.png,2|/app/.data/b/c.pdf|s3://bucket/b/c.pdf"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["steps"][0]["tables"][0]["rewritten"][0]["column"],
        "files.path -> url"
    );
}

/// Items 6 and 8 without any new option, so the test runs on the code
/// before this change too (ccbea0b: exit 3 on `setval(... 'id')` for the
/// dropped identity; with that fixed by hand, `"key": null` and no DETAIL
/// for the refused rows).
#[tokio::test]
async fn refused_rows_without_a_primary_key_are_identified_and_a_dropped_identity_is_not_reset() {
    let s = godwit_tests::pg::server();
    let f = Fixture::empty();
    sqlite_with(
        &f.path().join("src.db"),
        &[
            "CREATE TABLE setting (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT)",
            "INSERT INTO setting VALUES (1, 'theme', 'dark'), (2, 'lang', '')",
            "CREATE TABLE message (id TEXT NOT NULL, body TEXT)",
            "CREATE UNIQUE INDEX message_id ON message (id)",
            "INSERT INTO message VALUES ('m1', 'hi'), ('m2', '')",
            "CREATE TABLE pair (a TEXT, b TEXT)",
            "INSERT INTO pair VALUES ('x', 'y'), ('x', 'y')",
        ],
    )
    .await
    .close()
    .await;
    let url = s.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    s.psql(
        &db,
        "CREATE TABLE setting (key text PRIMARY KEY, value text CHECK (value <> '')); \
         CREATE TABLE message (id text PRIMARY KEY, body text CHECK (body <> '')); \
         CREATE TABLE pair (a text, b text, PRIMARY KEY (a, b))",
    );
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "postgres-target",
            "mode = \"append\"\nmax_rejects = 3\ndrop_columns = [\"setting.id\"]",
            false,
        ),
    );
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(!plan.stdout.contains("setval"), "{}", plan.stdout);
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(run.code, 1, "three rows refused\n{}", run.all());
    let rejects = all_rejects(&f);
    let by_table = |t: &str| rejects.iter().find(|r| r["table"] == t).unwrap();
    // setting: its primary key column is dropped, but the source's key still
    // names the row.
    assert_eq!(by_table("setting")["key"], serde_json::json!({"id": 2}));
    assert_eq!(by_table("message")["key"], serde_json::json!({"id": "m2"}));
    assert_eq!(by_table("pair")["key"], serde_json::json!({"#row": 2}));
    for r in &rejects {
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("(DETAIL: "), "{reason}");
        assert!(reason.contains("[SQLSTATE 23"), "{reason}");
    }
    assert_eq!(
        s.psql(&db, "SELECT (SELECT count(*) FROM setting) || '|' || (SELECT count(*) FROM message) || '|' || (SELECT count(*) FROM pair)").trim(),
        "1|1|1"
    );
}

/// The same options into MariaDB and SQLite tables the application made:
/// fills (constant, epoch column into a datetime, a uuid5 key), load order
/// by the target's foreign key, and `truncate` twice (children emptied
/// first).
#[tokio::test]
async fn fills_and_target_order_work_into_mariadb_and_sqlite() {
    async fn source(f: &Fixture) {
        sqlite_with(
            &f.path().join("src.db"),
            &[
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, created INTEGER)",
                "INSERT INTO users VALUES (1, 'ann', 1700000000), (2, 'bob', 1700000060)",
                // The child first by name, no foreign key declared.
                "CREATE TABLE a_posts (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT)",
                "INSERT INTO a_posts VALUES (10, 2, 'x'), (11, 1, 'y')",
            ],
        )
        .await
        .close()
        .await;
    }
    let step = "mode = \"truncate\"\nworkers = 1\n[steps.fill]\n\"users.role\" = \"'member'\"\n\"users.created_at\" = \"created\"\n\"users.uid\" = \"uuid5('u', id)\"\n\"a_posts.slug\" = \"concat(title, '-', id)\"";
    let drop = "drop_columns = [\"users.created\"]\n";

    // MariaDB.
    let my = godwit_tests::mariadb::server();
    let f = Fixture::empty();
    source(&f).await;
    let url = my.create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    my.sql(
        &db,
        "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(50), role varchar(10) NOT NULL, \
         created_at datetime NOT NULL, uid char(36) NOT NULL); \
         CREATE TABLE a_posts (id bigint PRIMARY KEY, user_id bigint NOT NULL, title text, slug text NOT NULL, \
         FOREIGN KEY (user_id) REFERENCES users (id))",
    );
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            &url,
            "mysql-target",
            &format!("{drop}{step}"),
            false,
        ),
    );
    for _ in 0..2 {
        let run = f.godwit(&["run", &f.arg()]);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    assert_eq!(
        my.sql(&db, "SELECT u.id, u.role, u.created_at, u.uid, p.slug FROM users u JOIN a_posts p ON p.user_id = u.id ORDER BY u.id").trim(),
        format!(
            "1\tmember\t2023-11-14 22:13:20\t{}\ty-11\n2\tmember\t2023-11-14 22:14:20\t{}\tx-10",
            uuid_of("u", "1"),
            uuid_of("u", "2")
        )
    );

    // SQLite.
    let g = Fixture::empty();
    source(&g).await;
    sqlite_with(
        &g.path().join("out.db"),
        &[
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, role TEXT NOT NULL, created_at TIMESTAMP NOT NULL, uid TEXT NOT NULL)",
            "CREATE TABLE a_posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT, slug TEXT NOT NULL)",
        ],
    )
    .await
    .close()
    .await;
    g.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db",
            "sqlite-source",
            "sqlite://out.db",
            "sqlite-target",
            &format!("{drop}{step}"),
            false,
        ),
    );
    for _ in 0..2 {
        let run = g.godwit(&["run", &g.arg()]);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", g.path().join("out.db").display()))
            .await
            .unwrap();
    let got: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.role, u.uid, p.slug FROM users u JOIN a_posts p ON p.user_id = u.id ORDER BY u.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(
        got,
        vec![
            (1, "member".into(), uuid_of("u", "1"), "y-11".into()),
            (2, "member".into(), uuid_of("u", "2"), "x-10".into()),
        ]
    );
}

/// `uuid5(namespace text, name)` as godwit's fill computes it, from the
/// uuid crate directly.
fn uuid_of(namespace: &str, name: &str) -> String {
    let ns = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, namespace.as_bytes());
    uuid::Uuid::new_v5(&ns, name.as_bytes()).to_string()
}

/// Issue 22, item 7: rows the run rejects on purpose (and reports) are
/// allowed for by `row-count` at the end of the run — it says how the
/// expected count was formed — while a difference nobody reported still
/// fails it.
#[tokio::test]
async fn row_count_allows_for_the_rows_the_run_rejected_and_reported() {
    let s = godwit_tests::pg::server();
    for extra_row in [false, true] {
        let f = Fixture::empty();
        sqlite_with(
            &f.path().join("src.db"),
            &[
                "CREATE TABLE items (id INTEGER PRIMARY KEY, qty)",
                "INSERT INTO items VALUES (1, 2), (2, 'many'), (3, 5)",
            ],
        )
        .await
        .close()
        .await;
        let url = s.create_db();
        let db = url.rsplit('/').next().unwrap().to_owned();
        s.psql(
            &db,
            "CREATE TABLE items (id bigint PRIMARY KEY, qty text, next_qty bigint NOT NULL)",
        );
        if extra_row {
            // A row that was there before: the count is off by one that no
            // reject explains.
            s.psql(&db, "INSERT INTO items VALUES (100, 'old', 1)");
        }
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://src.db",
                "sqlite-source",
                &url,
                "postgres-target",
                "mode = \"append\"\nmax_rejects = 5\ntypes = \"declared\"\n[steps.fill]\n\"items.next_qty\" = \"qty + 1\"",
                true,
            ),
        );
        let run = f.godwit(&["--json", "run", &f.arg()]);
        assert_eq!(run.code, 1, "{}", run.all());
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let t = &report["steps"][0]["tables"][0];
        assert_eq!(
            t["rejected_by_stage"],
            serde_json::json!({"fill": 1}),
            "{t}"
        );
        let finding = report["validation"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["check"] == "row-count" && x["subject"] == "items")
            .cloned()
            .unwrap_or_else(|| panic!("{}", report["validation"]));
        if extra_row {
            assert_eq!(finding["severity"], "error", "{finding}");
            assert!(
                finding["message"]
                    .as_str()
                    .unwrap()
                    .contains("expected 2, target 3"),
                "{finding}"
            );
        } else {
            assert_eq!(finding["severity"], "info", "{finding}");
            assert_eq!(
                finding["message"],
                "source 3, 1 rejected by the run (fill 1; see the reject file), expected 2, target 2",
                "{finding}"
            );
            assert_eq!(finding["expected"], "3 - 1 rejected = 2");
        }
    }
}
