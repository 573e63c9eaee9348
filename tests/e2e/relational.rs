//! SQLite → PostgreSQL against a real PostgreSQL server started by the harness.

use super::common::*;
use godwit_tests::pg;

/// The quickstart project retargeted at a fresh PostgreSQL database.
fn quickstart_to_postgres() -> (Fixture, String) {
    let f = Fixture::example("quickstart");
    let url = pg::server().create_db();
    let toml = std::fs::read_to_string(f.path().join("godwit.toml"))
        .unwrap()
        .replace(
            "dsn = \"sqlite://out/app.db?mode=rwc\"",
            &format!("dsn = \"{url}\""),
        )
        .replace("builtin:sqlite-target", "builtin:postgres-target");
    f.write("godwit.toml", &toml);
    (f, url)
}

/// Rows of a PostgreSQL table rendered like `dump` renders SQLite rows, so the
/// two compare directly: booleans as 0/1, timestamps in SQLite's text form,
/// floats bit for bit, JSON canonicalised.
async fn pg_rows(url: &str, table: &str) -> Vec<Vec<String>> {
    use sqlx::{Row, TypeInfo, ValueRef};
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query(&format!("SELECT * FROM \"{table}\" ORDER BY 1, 2"))
        .fetch_all(&pool)
        .await
        .unwrap();
    let out = rows
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let raw = r.try_get_raw(i).unwrap();
                    if raw.is_null() {
                        return "NULL".to_owned();
                    }
                    let ty = raw.type_info().name().to_owned();
                    match ty.as_str() {
                        "BOOL" => format!("i:{}", r.get::<bool, _>(i) as i64),
                        "INT8" => format!("i:{}", r.get::<i64, _>(i)),
                        "FLOAT8" => format!("f:{:016x}", r.get::<f64, _>(i).to_bits()),
                        "BYTEA" => format!("b:{:?}", r.get::<Vec<u8>, _>(i)),
                        "TIMESTAMP" => format!(
                            "t:{}",
                            r.get::<chrono::NaiveDateTime, _>(i)
                                .format("%Y-%m-%d %H:%M:%S")
                        ),
                        "JSONB" => format!("j:{}", r.get::<serde_json::Value, _>(i)),
                        "TEXT" => format!("t:{}", r.get::<String, _>(i)),
                        other => panic!("unexpected column type {other} in {table}"),
                    }
                })
                .collect()
        })
        .collect();
    pool.close().await;
    out
}

fn canonical_json(cell: &str) -> String {
    match cell.strip_prefix("t:") {
        Some(text) => format!(
            "j:{}",
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        ),
        None => cell.to_owned(),
    }
}

#[tokio::test]
async fn sqlite_to_postgres_keeps_every_value_and_constraint() {
    let (f, url) = quickstart_to_postgres();
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["validation"]["passed"], true);

    let tables = ["users", "tasks", "transcripts", "speakers"];
    let src = dump(&f.path().join("data/app.db"), &tables).await;
    for (name, rows) in src {
        let mut rows = rows;
        if name == "transcripts" {
            for r in &mut rows {
                r[4] = canonical_json(&r[4]); // segments: JSON text -> jsonb
            }
        }
        if name == "tasks" {
            for r in &mut rows {
                r[4] = r[4].replace("t:/app/.data/uploads/", "t:s3://meetings/uploads/");
            }
        }
        let dst = pg_rows(&url, &name).await;
        assert_eq!(rows.len(), dst.len(), "row count of {name}");
        for (a, b) in rows.iter().zip(&dst) {
            assert_eq!(a, b, "a row of {name}");
        }
    }

    let s = pg::server();
    let db = url.rsplit('/').next().unwrap();
    // Types chosen from SQLite's declarations, never narrowed.
    let types = s.psql(db, "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1");
    for expect in [
        "tasks.duration_seconds double precision",
        "users.is_admin boolean",
        "users.created_at timestamp without time zone",
        "transcripts.segments jsonb",
        "speakers.voiceprint bytea",
        "users.email text",
    ] {
        assert!(
            types.lines().any(|l| l == expect),
            "missing {expect} in\n{types}"
        );
    }
    // Keys, uniques, foreign keys and indexes exist and are valid.
    let cons = s.psql(db, "SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || convalidated::text FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1");
    for expect in [
        "users p true",
        "users u true",
        "tasks p true",
        "tasks f true",
        "transcripts u true",
        "transcripts f true",
        "speakers p true",
        "speakers f true",
    ] {
        assert!(
            cons.lines().any(|l| l == expect),
            "missing constraint {expect} in\n{cons}"
        );
    }
    let idx = s.psql(
        db,
        "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks' ORDER BY 1",
    );
    assert!(
        idx.contains("idx_tasks_user") && idx.contains("idx_tasks_status_created"),
        "{idx}"
    );
    // Identity columns continue after the largest id; defaults carried over.
    let id = s.psql(
        db,
        "INSERT INTO users (email) VALUES ('new@example.com') RETURNING id || ' ' || is_admin",
    );
    assert_eq!(id.trim(), "26 false");

    // Re-running in replace mode gives the same data.
    let again = f.godwit(&["run", &f.arg()]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(pg_rows(&url, "speakers").await.len(), 148);
}

#[tokio::test]
async fn plan_against_postgres_changes_nothing() {
    let (f, url) = quickstart_to_postgres();
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    let s = pg::server();
    let db = url.rsplit('/').next().unwrap();
    let snapshot = || {
        s.psql(db, "SELECT string_agg(relname || ':' || n_tup_ins || ':' || n_tup_del, ',' ORDER BY relname) FROM pg_stat_user_tables")
            + &s.psql(db, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM tasks t")
    };
    let before = snapshot();
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains("GENERATED BY DEFAULT AS IDENTITY"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("FOREIGN KEY (\"user_id\") REFERENCES \"users\""),
        "{}",
        plan.stdout
    );
    assert_eq!(before, snapshot());
}

#[tokio::test]
async fn rows_postgres_refuses_are_rejected_with_reasons() {
    let (f, url) = quickstart_to_postgres();
    // Plant values PostgreSQL cannot take: invalid JSON, text with a NUL byte.
    let src = f.path().join("data/app.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", src.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE transcripts SET segments = '{broken' WHERE id = 3")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE speakers SET display = 'a' || char(0) || 'b' WHERE rowid = 5")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let toml = std::fs::read_to_string(f.path().join("godwit.toml")).unwrap();
    f.write(
        "godwit.toml",
        &toml.replace("mode = \"replace\"", "mode = \"replace\"\nmax_rejects = 5"),
    );

    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "rejects make the run exit 1\n{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(report["rejects_file"].as_str().unwrap())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let json = lines
        .iter()
        .find(|l| l["table"] == "transcripts")
        .expect("the broken JSON row");
    assert_eq!(json["key"]["id"], 3);
    assert!(json["reason"].as_str().unwrap().contains("json"), "{json}");
    let nul = lines
        .iter()
        .find(|l| l["table"] == "speakers")
        .expect("the NUL row");
    assert!(nul["reason"].as_str().unwrap().contains("NUL"), "{nul}");
    // Everything else arrived.
    assert_eq!(pg_rows(&url, "transcripts").await.len(), 77);
    assert_eq!(pg_rows(&url, "speakers").await.len(), 147);
}

/// A PostgreSQL schema with every common type, NULLs everywhere, edge values,
/// Unicode, a 1 MiB text, identity and serial keys, a self-reference, a
/// foreign-key cycle, a NOT VALID foreign key, checks, comments, expression
/// and partial indexes.
const PG_FIXTURE: &str = r#"
CREATE TABLE accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email varchar(255) NOT NULL UNIQUE,
  balance numeric(12,2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
  ratio real, score double precision, active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(), seen_at timestamp, birthday date, wake_up time,
  avatar bytea, profile jsonb, settings json, ext_id uuid, tags text[], note text, big numeric, small smallint);
COMMENT ON TABLE accounts IS 'People who log in';
COMMENT ON COLUMN accounts.email IS 'Login, unique';
CREATE TABLE posts (
  id serial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  parent_id int REFERENCES posts(id),
  title text NOT NULL, body text, published_at timestamp);
CREATE INDEX posts_title_lower ON posts (lower(title));
CREATE INDEX posts_account ON posts (account_id) WHERE body IS NOT NULL;
CREATE TABLE left_side (id int PRIMARY KEY, right_id int);
CREATE TABLE right_side (id int PRIMARY KEY, left_id int REFERENCES left_side(id));
ALTER TABLE left_side ADD CONSTRAINT left_right FOREIGN KEY (right_id) REFERENCES right_side(id) DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE audit (at timestamptz, what text);
CREATE TABLE "Bücher ñ" ("Titel" text PRIMARY KEY, "Größe" int, "select" bytea);
INSERT INTO "Bücher ñ" VALUES ('Weiß', 1, decode(repeat('ab', 1048576), 'hex')), ('Ärger "quoted"', NULL, NULL);
CREATE VIEW active_accounts AS SELECT id, email FROM accounts WHERE active;

INSERT INTO accounts (email, balance, ratio, score, active, created_at, seen_at, birthday, wake_up, avatar, profile, settings, ext_id, tags, note, big, small) VALUES
 ('a@example.com', 10.50, 0.1, 0.1, true, '2024-01-02 03:04:05.123456+02', '2024-01-02 03:04:05.654321', '1999-12-31', '07:30:00.000001', '\x00ff10', '{"b": 1, "a": [1, 2, {"c": null}]}', '{"keep":  "spacing",  "dup": 1, "dup": 2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{x,"y z"}', 'Grüße, 世界 🌍 ''quoted'' \ backslash', 12345678901234567890.123456789, -32768),
 ('b@example.com', 0, 3.4e38, 1e-300, false, '1970-01-01 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 ('c@example.com', 99999.99, 'NaN', '-Infinity', true, '2262-04-11 23:47:16.854775+00', '1900-01-01 00:00:00', '0001-01-01', '23:59:59.999999', '', '[]', 'null', '00000000-0000-0000-0000-000000000000', '{}', E'tab\there\nnewline\r\\', -0.000000001, 32767),
 ('d@example.com', 1, -0.0, -0.0, true, now(), NULL, NULL, NULL, NULL, '{"text": "line\nbreak"}', NULL, NULL, NULL, repeat('x', 1048576), 0, 0);
INSERT INTO posts (account_id, parent_id, title, body, published_at) VALUES
 (1, NULL, 'First', 'Hello', '2024-05-01 10:00:00'),
 (1, 1, 'Reply', NULL, NULL),
 (2, 2, 'Nested', 'deep', '2024-05-02 11:00:00');
BEGIN;
INSERT INTO left_side VALUES (1, 1), (2, NULL);
INSERT INTO right_side VALUES (1, 2), (2, 1);
COMMIT;
INSERT INTO audit VALUES (now(), 'created'), (NULL, NULL);
INSERT INTO posts (account_id, title) VALUES (3, 'orphan-to-be');
ALTER TABLE posts ADD CONSTRAINT posts_title_len CHECK (length(title) < 100) NOT VALID;
CREATE FUNCTION touch_post() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.published_at := now(); RETURN NEW; END $$;
CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch_post();
"#;

#[tokio::test]
async fn postgres_to_postgres_is_exact() {
    let s = pg::server();
    let src_url = s.create_db();
    let dst_url = s.create_db();
    let src_db = src_url.rsplit('/').next().unwrap().to_owned();
    let dst_db = dst_url.rsplit('/').next().unwrap().to_owned();
    s.psql(&src_db, PG_FIXTURE);

    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(
            &src_url,
            "postgres-source",
            &dst_url,
            "postgres-target",
            "mode = \"replace\"",
            true,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["steps"][0]["skipped_views"][0], "active_accounts");
    assert_eq!(
        report["steps"][0]["skipped_triggers"],
        serde_json::json!(["posts.posts_touch"])
    );
    assert_eq!(report["validation"]["passed"], true);

    // Every row identical in PostgreSQL's own text form (exact for every type).
    for table in [
        "accounts",
        "posts",
        "left_side",
        "right_side",
        "audit",
        "\"Bücher ñ\"",
    ] {
        let q = format!("SELECT t::text FROM {table} t ORDER BY t::text");
        assert_eq!(s.psql(&src_db, &q), s.psql(&dst_db, &q), "rows of {table}");
    }
    // The same columns, types, nullability, defaults, comments.
    let cols = "SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, \
                is_nullable, CASE WHEN column_default LIKE 'nextval(%' THEN 'serial' ELSE coalesce(column_default, '') END, col_description((quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass, ordinal_position::int) \
                FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'active_accounts' \
                ORDER BY 1, 2";
    // A serial column becomes an identity column (the same behaviour, no
    // separately owned sequence): the only intended difference.
    let src_cols = s.psql(&src_db, cols).replace(
        "posts|id|integer||32|0|NO|serial|",
        "posts|id|integer||32|0|NO||",
    );
    assert_eq!(src_cols, s.psql(&dst_db, cols));
    // The same constraints (names, definitions, validation state) and indexes.
    let cons = "SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text FROM pg_constraint \
                WHERE connamespace = 'public'::regnamespace ORDER BY 1";
    assert_eq!(s.psql(&src_db, cons), s.psql(&dst_db, cons));
    let idx = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname";
    assert_eq!(s.psql(&src_db, idx), s.psql(&dst_db, idx));
    assert_eq!(
        s.psql(
            &dst_db,
            "SELECT obj_description('accounts'::regclass, 'pg_class')"
        )
        .trim(),
        "People who log in"
    );
    // Identity and serial columns continue after the copied ids.
    assert_eq!(
        s.psql(
            &dst_db,
            "INSERT INTO accounts (email) VALUES ('e@example.com') RETURNING id"
        )
        .trim(),
        "5"
    );
    assert_eq!(
        s.psql(
            &dst_db,
            "INSERT INTO posts (account_id, title) VALUES (1, 'x') RETURNING id"
        )
        .trim(),
        "5"
    );
}

/// A run killed with SIGKILL in the middle of a table finishes on the next
/// `run`: done tables are kept, the interrupted one is redone, and the result
/// has exactly the source's rows — no duplicates, no gaps.
#[tokio::test]
async fn killed_run_resumes_without_duplicates_or_gaps() {
    const BIG: i64 = 1_000_000;
    let f = Fixture::empty();
    let src = f.path().join("src.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", src.display()))
        .await
        .unwrap();
    for stmt in [
        "CREATE TABLE a_small (id INTEGER PRIMARY KEY, v TEXT)".to_owned(),
        "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT NOT NULL, amount REAL)".to_owned(),
        "CREATE TABLE z_after (id INTEGER PRIMARY KEY, v TEXT)".to_owned(),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) INSERT INTO a_small SELECT x, 'a' || x FROM c".to_owned(),
        "INSERT INTO z_after SELECT id, v FROM a_small".to_owned(),
        format!("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {BIG}) INSERT INTO big SELECT x, 'row ' || x, x * 1.5 FROM c"),
    ] {
        sqlx::query(&stmt).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://src.db?mode=ro",
            "sqlite-source",
            &url,
            "postgres-target",
            "mode = \"replace\"",
            false,
        ),
    );
    let state = f.path().join(".godwit/state/copy.json");
    let mut child = f.spawn(&["run", &f.arg()], &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&state)
        .unwrap_or_default()
        .contains("a_small")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first table never finished"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "godwit ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(
        !saved.contains("\"big\""),
        "killed too late to test a mid-table crash: {saved}"
    );
    let s = pg::server();
    // Its CREATE TABLE ran in the load's transaction: nothing is left.
    assert_eq!(
        s.psql(&db, "SELECT coalesce(to_regclass('big')::text, 'none')")
            .trim(),
        "none",
        "the interrupted table committed nothing"
    );

    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let tables = report["steps"][0]["tables"].as_array().unwrap();
    assert_eq!(tables[0]["source"], "a_small");
    assert_eq!(tables[0]["resumed"], true);
    assert_eq!(tables[1]["resumed"], false);
    assert_eq!(
        s.psql(&db, "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || min(id) || ' ' || max(id) FROM big").trim(),
        format!("{BIG} {BIG} 1 {BIG}")
    );
    assert_eq!(s.psql(&db, "SELECT count(*) FROM a_small").trim(), "100");
    assert_eq!(s.psql(&db, "SELECT count(*) FROM z_after").trim(), "100");
    assert!(!state.exists(), "a finished step forgets its progress");
}

/// Casting rules turn what apps really store into proper types: epoch
/// seconds / milliseconds / nanoseconds, naive text in a known zone, ISO text
/// with offsets, 0/1 flags, JSON text (invalid JSON rejected), NUL bytes.
#[tokio::test]
async fn casts_convert_app_data_and_reject_what_does_not_fit() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlite_with(
        &src,
        &[
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at_s INTEGER, at_ms INTEGER, at_ns INTEGER, at_local DATETIME, \
         at_iso TEXT, flag INTEGER, payload TEXT, note TEXT)",
        "INSERT INTO events VALUES (1, 1700000000, 1700000000123, 1700000000123456789, '2023-11-15 06:13:20', \
         '2023-11-14T17:13:20.5-05:00', 1, '{\"a\": [1, 2]}', 'a' || char(0) || 'b')",
        "INSERT INTO events VALUES (2, NULL, NULL, NULL, NULL, '2023-11-14 22:13:20Z', 0, 'null', 'plain')",
        "INSERT INTO events VALUES (3, 0, 0, 0, '1970-01-01 08:00:00', '1970-01-01T00:00:00+00:00', 1, '{broken', NULL)",
        "CREATE TRIGGER events_audit AFTER INSERT ON events BEGIN SELECT 1; END",
        ],
    )
    .await;
    pool.close().await;
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    f.write(
        "godwit.toml",
        &copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &url,
            "postgres-target",
            r#"mode = "replace"
max_rejects = 1
nul_bytes = "replace"
casts = [
  { column = "events.at_s", to = "timestamptz", from = "epoch-seconds" },
  { column = "events.at_ms", to = "timestamptz", from = "epoch-millis" },
  { column = "events.at_ns", to = "timestamptz", from = "epoch-nanos" },
  { type = "datetime", to = "timestamptz", zone = "+08:00" },
  { column = "events.at_iso", to = "timestamptz" },
  { column = "events.flag", to = "boolean" },
  { column = "events.payload", to = "json" },
]"#,
            false,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "one row rejected: exit 1\n{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let reject: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(report["rejects_file"].as_str().unwrap())
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["steps"][0]["skipped_triggers"],
        serde_json::json!(["events.events_audit"])
    );
    assert_eq!(reject["stage"], "cast");
    assert_eq!(reject["column"], "payload");
    assert_eq!(reject["key"]["id"], 3);
    assert!(
        reject["reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON"),
        "{reject}"
    );

    let s = pg::server();
    let types = s.psql(&db, "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'events'");
    assert_eq!(
        types.trim(),
        "id bigint, at_s timestamp with time zone, at_ms timestamp with time zone, at_ns timestamp with time zone, \
         at_local timestamp with time zone, at_iso timestamp with time zone, flag boolean, payload jsonb, note text"
    );
    let rows = s.psql(&db, "SET timezone = 'UTC'; SELECT concat_ws('|', id, at_s, at_ms, at_ns, at_local, at_iso, flag, payload, note) FROM events ORDER BY id");
    assert_eq!(
        rows,
        "1|2023-11-14 22:13:20+00|2023-11-14 22:13:20.123+00|2023-11-14 22:13:20.123456+00|2023-11-14 22:13:20+00|2023-11-14 22:13:20.5+00|t|{\"a\": [1, 2]}|a\u{fffd}b\n\
         2|2023-11-14 22:13:20+00|f|null|plain\n"
    );
}

use godwit_tests::mariadb;

#[tokio::test]
async fn sqlite_to_mariadb_keeps_every_value() {
    let f = Fixture::example("quickstart");
    let url = mariadb::server().create_db();
    let toml = std::fs::read_to_string(f.path().join("godwit.toml"))
        .unwrap()
        .replace(
            "dsn = \"sqlite://out/app.db?mode=rwc\"",
            &format!("dsn = \"{url}\""),
        )
        .replace("builtin:sqlite-target", "builtin:mysql-target");
    f.write("godwit.toml", &toml);
    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["validation"]["passed"], true);

    use sqlx::{Column, Row, TypeInfo, ValueRef};
    let pool = sqlx::MySqlPool::connect(&url).await.unwrap();
    let src = dump(
        &f.path().join("data/app.db"),
        &["users", "tasks", "transcripts", "speakers"],
    )
    .await;
    for (table, mut rows) in src {
        if table == "tasks" {
            for r in &mut rows {
                r[4] = r[4].replace("t:/app/.data/uploads/", "t:s3://meetings/uploads/");
            }
        }
        let got: Vec<Vec<String>> = sqlx::query(&format!("SELECT * FROM `{table}` ORDER BY 1, 2"))
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let raw = r.try_get_raw(i).unwrap();
                        if raw.is_null() {
                            return "NULL".to_owned();
                        }
                        match raw.type_info().name() {
                            "BOOLEAN" | "BIGINT" | "INT" => format!("i:{}", r.get::<i64, _>(i)),
                            "DOUBLE" => format!("f:{:016x}", r.get::<f64, _>(i).to_bits()),
                            // utf8mb4_bin text is flagged binary: only voiceprint is bytes.
                            "LONGBLOB" | "VARBINARY" | "BLOB"
                                if r.columns()[i].name() == "voiceprint" =>
                            {
                                format!("b:{:?}", r.get::<Vec<u8>, _>(i))
                            }
                            "LONGBLOB" | "VARBINARY" | "BLOB" => {
                                format!("t:{}", String::from_utf8(r.get::<Vec<u8>, _>(i)).unwrap())
                            }
                            "DATETIME" => format!(
                                "t:{}",
                                r.get::<chrono::NaiveDateTime, _>(i)
                                    .format("%Y-%m-%d %H:%M:%S")
                            ),
                            _ => format!("t:{}", r.get::<String, _>(i)),
                        }
                    })
                    .collect()
            })
            .collect();
        assert_eq!(rows, got, "rows of {table}");
    }
    pool.close().await;
    let s = mariadb::server();
    let db = url.rsplit('/').next().unwrap();
    let fks = s.sql(db, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()");
    assert_eq!(fks.trim(), "3");
    assert_eq!(
        s.sql(
            db,
            "INSERT INTO users (email) VALUES ('new@example.com'); SELECT LAST_INSERT_ID()"
        )
        .trim(),
        "26"
    );
}

const MARIADB_FIXTURE: &str = r#"
CREATE TABLE customers (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email varchar(190) NOT NULL UNIQUE,
  name varchar(100) COMMENT 'display name',
  vip tinyint(1) NOT NULL DEFAULT 0,
  balance decimal(12,2) NOT NULL DEFAULT 0.00,
  ratio float, score double, born date, created datetime(6) NOT NULL, seen timestamp(6) NULL DEFAULT NULL,
  wake time(6), avatar blob, prefs json, big bigint unsigned, tiny tinyint, kind enum('a','b'), note longtext
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id int unsigned NOT NULL,
  parent_id bigint NULL,
  total decimal(10,2),
  KEY idx_total (total),
  CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES orders (id)
) ENGINE=InnoDB;
CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = IFNULL(NEW.total, 0);
SET time_zone = '+00:00';
INSERT INTO customers (email, name, vip, balance, ratio, score, born, created, seen, wake, avatar, prefs, big, tiny, kind, note) VALUES
 ('a@example.com', 'Ünïcödé 世界', 1, 10.50, 0.1, 0.1, '1999-12-31', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.654321', '07:30:00.000001', X'00FF10', '{"b": 1, "a": [1, 2, {"c": null}]}', 18446744073709551615, -128, 'a', 'tab\there'),
 ('b@example.com', NULL, 0, 0, -3.5, 1e-300, NULL, '1970-01-01 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 ('C@example.com', 'caps', 0, 99999.99, 3.4e38, -1.7976931348623157e308, '0001-01-01', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.000000', '23:59:59.999999', X'', '[]', 0, 127, 'b', REPEAT('x', 1048576));
INSERT INTO orders (customer_id, parent_id, total) VALUES (1, NULL, 5.00), (1, 1, NULL), (2, 2, 7.25);
"#;

#[tokio::test]
async fn mariadb_to_postgres_keeps_every_value_and_constraint() {
    let m = mariadb::server();
    let src_url = m.create_db();
    let src_db = src_url.rsplit('/').next().unwrap().to_owned();
    m.sql(&src_db, MARIADB_FIXTURE);
    let dst_url = pg::server().create_db();
    let dst_db = dst_url.rsplit('/').next().unwrap().to_owned();
    let f = Fixture::empty();
    f.write(
        "godwit.toml",
        &copy_project(
            &src_url,
            "mysql-source",
            &dst_url,
            "postgres-target",
            "mode = \"replace\"",
            true,
        ),
    );
    let run = f.godwit(&["--json", "run", &f.arg()]);
    let rejects: String = walk_rejects(f.path());
    assert_eq!(run.code, 0, "{}\nrejects: {rejects}", run.all());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["steps"][0]["skipped_triggers"],
        serde_json::json!(["orders.orders_total"])
    );

    // The same values, rendered the same way on both sides.
    let maria = m.sql(
        &src_db,
        "SET time_zone = '+00:00'; SELECT CONCAT_WS('|', id, email, IFNULL(name, '-'), vip, balance, IFNULL(born, '-'), \
         DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f'), IFNULL(DATE_FORMAT(seen, '%Y-%m-%d %H:%i:%s.%f'), '-'), \
         IFNULL(TIME_FORMAT(wake, '%H:%i:%s.%f'), '-'), IFNULL(HEX(avatar), '-'), IFNULL(big, '-'), IFNULL(tiny, '-'), \
         IFNULL(kind, '-'), IFNULL(MD5(note), '-')) FROM customers ORDER BY id",
    );
    let pg = pg::server().psql(
        &dst_db,
        "SELECT concat_ws('|', id, email, coalesce(name, '-'), vip::int, balance, coalesce(born::text, '-'), \
         to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), coalesce(to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '-'), \
         coalesce(to_char('2000-01-01'::date + wake, 'HH24:MI:SS.US'), '-'), coalesce(upper(encode(avatar, 'hex')), '-'), \
         coalesce(big::text, '-'), coalesce(tiny::text, '-'), coalesce(kind, '-'), coalesce(md5(note), '-')) FROM customers ORDER BY id",
    );
    assert_eq!(maria, pg);
    // Floats bit for bit, JSON semantically.
    let src_pool = sqlx::MySqlPool::connect(&src_url).await.unwrap();
    let dst_pool = sqlx::PgPool::connect(&dst_url).await.unwrap();
    let a: Vec<(Option<f32>, Option<f64>, Option<String>)> = sqlx::query_as(
        "SELECT ratio, score, CONVERT(prefs USING utf8mb4) FROM customers ORDER BY id",
    )
    .fetch_all(&src_pool)
    .await
    .unwrap();
    let b: Vec<(Option<f32>, Option<f64>, Option<serde_json::Value>)> =
        sqlx::query_as("SELECT ratio, score, prefs FROM customers ORDER BY id")
            .fetch_all(&dst_pool)
            .await
            .unwrap();
    for ((r1, s1, p1), (r2, s2, p2)) in a.iter().zip(&b) {
        assert_eq!(r1.map(f32::to_bits), r2.map(f32::to_bits));
        assert_eq!(s1.map(f64::to_bits), s2.map(f64::to_bits));
        assert_eq!(
            p1.as_deref()
                .map(|t| serde_json::from_str::<serde_json::Value>(t).unwrap()),
            *p2
        );
    }
    // Types and constraints.
    let s = pg::server();
    let types = s.psql(&dst_db, "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'customers'");
    assert_eq!(
        types.trim(),
        "id bigint, email character varying, name character varying, vip boolean, balance numeric, ratio real, score double precision, \
         born date, created timestamp without time zone, seen timestamp with time zone, wake time without time zone, avatar bytea, \
         prefs jsonb, big numeric, tiny smallint, kind text, note text"
    );
    let cons = s.psql(&dst_db, "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype = 'f' ORDER BY 1");
    assert_eq!(
        cons,
        // MariaDB's unspecified actions are RESTRICT (checked immediately), and stay so.
        "fk_customer FOREIGN KEY (customer_id) REFERENCES customers(id) ON UPDATE RESTRICT ON DELETE CASCADE\n\
         fk_parent FOREIGN KEY (parent_id) REFERENCES orders(id) ON UPDATE RESTRICT ON DELETE RESTRICT\n"
    );
    assert_eq!(
        s.psql(&dst_db, "SELECT col_description('customers'::regclass, 3)")
            .trim(),
        "display name"
    );
    assert_eq!(
        s.psql(
            &dst_db,
            "INSERT INTO orders (customer_id) VALUES (3) RETURNING id"
        )
        .trim(),
        "4"
    );
}

/// Every reject file under a project, concatenated (for failure messages).
fn walk_rejects(dir: &std::path::Path) -> String {
    tree_hashes(dir)
        .into_iter()
        .filter(|(p, _)| p.ends_with("rejects.jsonl"))
        .map(|(p, _)| std::fs::read_to_string(dir.join(p)).unwrap_or_default())
        .collect()
}

/// `examples/meeting-agent` as shipped, into a real PostgreSQL and a real
/// S3-compatible server: rows and upload files move together, and every
/// rewritten path in the target rows names an object holding exactly the
/// source file's bytes.
#[tokio::test]
async fn meeting_agent_example_migrates_into_postgres_and_s3() {
    let f = Fixture::example("meeting-agent");
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let s3 = godwit_tests::s3::server();
    // The example names its bucket `meetings`; this is the only test using it.
    std::fs::create_dir_all(s3.root.join("meetings")).unwrap();
    let endpoint = s3.endpoint();
    let env = [
        ("MEETING_AGENT_PG_URL", url.as_str()),
        ("MEETING_AGENT_S3_ENDPOINT", endpoint.as_str()),
        ("MEETING_AGENT_S3_KEY", godwit_tests::s3::ACCESS_KEY),
        ("MEETING_AGENT_S3_SECRET", godwit_tests::s3::SECRET_KEY),
    ];
    let plan = f.godwit_env(&["plan", &f.arg()], &env);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout
            .contains("\"uploads/1/audio.m4a\" -> \"s3://meetings/uploads/1/audio.m4a\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("55 objects") && plan.stdout.contains(
            "\"uploads/1/audio.m4a\" -> \"s3://meetings/uploads/1/audio.m4a (key uploads/1/audio.m4a)\""
        ),
        "{}",
        plan.stdout
    );
    let run = f.godwit_env(&["--json", "run", &f.arg()], &env);
    assert_eq!(
        run.code,
        0,
        "{}\nrejects: {}",
        run.all(),
        walk_rejects(f.path())
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["validation"]["passed"], true);

    let s = pg::server();
    let q = |sql: &str| {
        s.psql(&db, &format!("SET timezone = 'UTC'; {sql}"))
            .trim()
            .to_owned()
    };
    // The foreign-key cycle and the self-reference exist and are valid.
    assert_eq!(
        q("SELECT string_agg(e, ',' ORDER BY e) FROM (SELECT conrelid::regclass::text || '->' || confrelid::regclass::text AS e \
           FROM pg_constraint WHERE contype = 'f' AND convalidated \
           AND (conrelid = 'meetings'::regclass OR confrelid = 'meetings'::regclass)) x"),
        "meetings->meetings,meetings->summaries,meetings->users,speakers->meetings,summaries->meetings"
    );
    // Every timestamp format became the same kind of instant.
    assert_eq!(
        q("SELECT concat_ws('|', started_at, ended_at IS NOT NULL, created_at) FROM meetings WHERE id IN (1, 2) ORDER BY id"),
        "2024-05-01 09:30:00+00|t|2024-05-01 09:20:00+00\n2024-05-01 11:00:00+00|t|2024-05-01 10:50:00+00"
    );
    assert_eq!(
        q("SELECT created_at FROM users WHERE id = 1"),
        "2024-03-23 08:00:00+00"
    );
    assert_eq!(
        q("SELECT created_at FROM summaries WHERE id = 1"),
        "2024-05-01 10:36:40+00"
    );
    assert_eq!(
        q("SELECT count(*) FILTER (WHERE is_active) || '/' || count(*) FROM users"),
        "10/12"
    );
    assert_eq!(
        q("SELECT meta->>'language' IS NOT NULL FROM summaries WHERE id = 1"),
        "t"
    );
    // Paths rewritten, NULLs kept.
    assert_eq!(
        q("SELECT count(*) FILTER (WHERE audio_path LIKE 's3://meetings/uploads/%/audio.m4a') || '/' || count(audio_path) || '/' || count(*) FROM meetings"),
        "54/54/60"
    );
    assert_eq!(report["copies"][0]["copied"], 55, "{report}");
    // Rows and objects agree: each path resolves to the source file's bytes.
    let paths = q("SELECT audio_path FROM meetings WHERE audio_path IS NOT NULL ORDER BY id");
    let mut checked = 0;
    for p in paths.lines() {
        let key = p.strip_prefix("s3://meetings/").expect("rewritten path");
        let object = std::fs::read(s3.object_path("meetings", key))
            .unwrap_or_else(|e| panic!("{p}: no object ({e})"));
        let source = std::fs::read(f.path().join("data").join(key)).unwrap();
        assert!(object == source, "{p}: object differs from the source file");
        checked += 1;
    }
    assert_eq!(checked, 54);

    // `checksum` compared every row as the step wrote it (the step's
    // pipeline is granted): rewritten paths and cast columns match.
    let sums: Vec<&serde_json::Value> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["check"] == "checksum")
        .collect();
    assert_eq!(sums.len(), 4, "{sums:?}");
    for x in &sums {
        // `speakers` has a text key, which sorts differently in SQLite and
        // PostgreSQL: named, not compared.
        let expected = if x["subject"] == "speakers" {
            "warning"
        } else {
            "info"
        };
        assert_eq!(x["severity"], expected, "{x}");
    }
    let meetings = sums.iter().find(|x| x["subject"] == "meetings").unwrap();
    let msg = meetings["message"].as_str().unwrap();
    assert!(
        msg.starts_with("60 rows identical")
            && msg.contains("as the step's pipeline writes them (")
            && msg.contains("audio_path"),
        "{msg}"
    );
    // A copy that does not hold rule(source) is still caught, by key.
    q("UPDATE meetings SET audio_path = 's3://meetings/uploads/7/other.m4a' WHERE id = 7");
    q("UPDATE users SET is_active = NOT is_active WHERE id = 3");
    let validate = f.godwit_env(&["--json", "validate", &f.arg()], &env);
    assert_eq!(validate.code, 1, "{}", validate.all());
    let report: serde_json::Value = serde_json::from_str(&validate.stdout).unwrap();
    let errors: Vec<String> = report["validation"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["severity"] == "error")
        .map(|x| format!("{}: {}", x["subject"], x["message"]))
        .collect();
    assert_eq!(
        errors,
        [
            "\"meetings\": \"1 rows differ; keys: 7 (different values)\"",
            "\"users\": \"1 rows differ; keys: 3 (different values)\"",
        ],
        "{errors:?}"
    );
}

/// Into a schema the application created: columns matched by name (with a
/// rename and a drop), values cast to the existing column types (epoch into
/// timestamptz, 0/1 into boolean, JSON text into jsonb), over-long text and
/// invalid JSON rejected, mismatches reported by `plan` before any write.
#[tokio::test]
async fn loads_into_tables_the_application_created() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlite_with(
        &src,
        &[
        "CREATE TABLE chat (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, chat TEXT, \
         created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived INTEGER NOT NULL, legacy TEXT)",
        "INSERT INTO chat VALUES ('c1', 'u1', 'Trip to Japan', '{\"messages\": []}', 1700000000, 1700000000123456789, 0, 'x')",
        "INSERT INTO chat VALUES ('c2', 'u1', 'A title far too long for the app', '{}', 1700000001, 1700000001000000000, 1, NULL)",
        "INSERT INTO chat VALUES ('c3', 'u2', 'Broken', '{oops', 1700000002, 1700000002000000000, 1, NULL)",
        "INSERT INTO chat VALUES ('c4', 'u2', 'Fine', NULL, 1700000003, 1700000003000000000, 1, NULL)",
        ],
    )
    .await;
    pool.close().await;
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let s = pg::server();
    // The application's own schema, created before the migration.
    s.psql(
        &db,
        "CREATE TABLE chat (id varchar(255) PRIMARY KEY, user_id varchar(255) NOT NULL, title varchar(20) NOT NULL, \
         chat jsonb, created_at timestamptz NOT NULL, updated_at bigint NOT NULL, archived boolean NOT NULL DEFAULT false, \
         share_id text, folder_id text DEFAULT 'none')",
    );
    let toml = |extra: &str| {
        let step = format!("mode = \"append\"\nmax_rejects = 5\ncolumns = {{ \"chat.name\" = \"title\" }}\n{extra}");
        copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &url,
            "postgres-target",
            &step,
            false,
        )
    };
    f.write("godwit.toml", &toml(""));
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 2, "{}", plan.all());
    assert!(
        plan.stderr
            .contains("source column chat.legacy has no column \"legacy\""),
        "{}",
        plan.stderr
    );

    f.write("godwit.toml", &toml("drop_columns = [\"chat.legacy\"]"));
    let plan = f.godwit(&["plan", &f.arg()]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stdout.contains(
            "chat.created_at -> created_at (timestamp with time zone): values cast to Timestamptz"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("target column chat.share_id is not in the source: left to its default"),
        "{}",
        plan.stdout
    );
    assert_eq!(
        s.psql(&db, "SELECT count(*) FROM chat").trim(),
        "0",
        "plan wrote nothing"
    );

    let run = f.godwit(&["--json", "run", &f.arg()]);
    assert_eq!(run.code, 1, "two rows rejected\n{}", run.all());
    let rejects = walk_rejects(f.path());
    assert!(
        rejects.contains("more than the target column's 20"),
        "{rejects}"
    );
    assert!(rejects.contains("invalid JSON"), "{rejects}");
    assert_eq!(
        s.psql(&db, "SET timezone = 'UTC'; SELECT concat_ws('|', id, user_id, title, chat, created_at, updated_at, archived, coalesce(share_id, '-'), folder_id) FROM chat ORDER BY id"),
        "c1|u1|Trip to Japan|{\"messages\": []}|2023-11-14 22:13:20+00|1700000000123456789|f|-|none\n\
         c4|u2|Fine|2023-11-14 22:13:23+00|1700000003000000000|t|-|none\n"
    );
}

/// `examples/open-webui` as shipped: webui.db into the schema Open WebUI
/// creates in PostgreSQL (applied from the example's schema file).
#[tokio::test]
async fn open_webui_example_loads_into_the_apps_own_schema() {
    let f = Fixture::example("open-webui");
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let s = pg::server();
    s.psql(
        &db,
        &std::fs::read_to_string(f.path().join("schema/postgres.sql")).unwrap(),
    );
    let env = [("OPEN_WEBUI_PG_URL", url.as_str())];
    let run = f.godwit_env(&["--json", "run", &f.arg()], &env);
    assert_eq!(
        run.code,
        0,
        "{}\nrejects: {}",
        run.all(),
        walk_rejects(f.path())
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["validation"]["passed"], true);
    // JSON chat documents arrive byte for byte (json, not jsonb: \u0000 escapes stay valid).
    let src = f.path().join("data/webui.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", src.display()))
        .await
        .unwrap();
    let chats: Vec<(String, String)> = sqlx::query_as("SELECT id, chat FROM chat ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    let pg_pool = sqlx::PgPool::connect(&url).await.unwrap();
    let got: Vec<(String, String)> = sqlx::query_as("SELECT id, chat::text FROM chat ORDER BY id")
        .fetch_all(&pg_pool)
        .await
        .unwrap();
    assert_eq!(chats, got);
    assert!(got.iter().any(|(_, c)| c.contains("\\u0000")));
    assert_eq!(
        s.psql(
            &db,
            "SELECT count(*) FILTER (WHERE archived) || '/' || count(*) FROM chat"
        )
        .trim(),
        "6/40"
    );
    assert_eq!(
        s.psql(&db, "SELECT created_at FROM message WHERE id = 'msg-003'")
            .trim(),
        "1717000003000000003"
    );
    assert_eq!(
        s.psql(&db, "SELECT created_at FROM config").trim(),
        "2024-05-29 16:26:40"
    );
    assert_eq!(
        s.psql(&db, "SELECT version_num FROM alembic_version")
            .trim(),
        "3781e22d8b01",
        "the app's bookkeeping is untouched"
    );
    // The app's own serial continues after the copied config row.
    assert_eq!(
        s.psql(
            &db,
            "INSERT INTO config (data, version) VALUES ('{}', 1) RETURNING id"
        )
        .trim(),
        "2"
    );
    // Re-running (mode truncate) gives the same result.
    let again = f.godwit_env(&["run", &f.arg()], &env);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(s.psql(&db, "SELECT count(*) FROM chat").trim(), "40");
}

/// `create` refuses an existing table; `upsert` inserts new rows and updates
/// changed ones by primary key, and re-running it changes nothing.
#[tokio::test]
async fn create_refuses_existing_tables_and_upsert_merges_by_key() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlite_with(
        &src,
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)",
            "INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', 5)",
        ],
    )
    .await;
    let url = pg::server().create_db();
    let db = url.rsplit('/').next().unwrap().to_owned();
    let s = pg::server();
    let project = |mode: &str| {
        copy_project(
            "sqlite://app.db?mode=ro",
            "sqlite-source",
            &url,
            "postgres-target",
            &format!("mode = \"{mode}\""),
            true,
        )
    };

    f.write("godwit.toml", &project("create"));
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 0);
    let again = f.godwit(&["run", &f.arg()]);
    assert_eq!(again.code, 3, "{}", again.all());
    assert!(
        again.stderr.contains("already exists (mode \"create\")"),
        "{}",
        again.stderr
    );

    // The source changes: one row updated, one added.
    sqlx::query("UPDATE items SET qty = 4 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO items VALUES (3, 'plum', 7)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // The target has a row the source does not: upsert keeps it.
    s.psql(&db, "INSERT INTO items VALUES (9, 'kept', 1)");
    f.write("godwit.toml", &project("upsert"));
    let rows = || {
        s.psql(
            &db,
            "SELECT string_agg(id || ':' || name || ':' || qty, ',' ORDER BY id) FROM items",
        )
    };
    let run = f.godwit(&["run", &f.arg()]);
    assert_eq!(
        run.code,
        1,
        "the row-count validator sees the extra target row\n{}",
        run.all()
    );
    assert_eq!(rows().trim(), "1:apple:4,2:pear:5,3:plum:7,9:kept:1");
    let before = rows();
    assert_eq!(f.godwit(&["run", &f.arg()]).code, 1);
    assert_eq!(rows(), before, "re-running upsert changes nothing");
}

/// `identifiers = "lower"` folds every name, so the target can be queried
/// without quotes; the default keeps names exactly as the source has them.
#[tokio::test]
async fn identifier_case_is_kept_or_folded() {
    let f = Fixture::empty();
    let src = f.path().join("app.db");
    let pool = sqlite_with(
        &src,
        &[
        "CREATE TABLE \"UserAccounts\" (\"UserId\" INTEGER PRIMARY KEY, \"DisplayName\" TEXT NOT NULL UNIQUE)",
        "CREATE TABLE \"Orders\" (\"OrderId\" INTEGER PRIMARY KEY, \"OwnerId\" INTEGER REFERENCES \"UserAccounts\"(\"UserId\"))",
        "CREATE INDEX \"IX_Orders_Owner\" ON \"Orders\"(\"OwnerId\")",
        "INSERT INTO \"UserAccounts\" VALUES (1, 'Ada'), (2, 'Grace')",
        "INSERT INTO \"Orders\" VALUES (10, 1), (11, 2)",
        ],
    )
    .await;
    pool.close().await;
    let s = pg::server();
    for (setting, expect_tables, probe) in [
        (
            "",
            "Orders,UserAccounts",
            "SELECT count(*) FROM \"Orders\" JOIN \"UserAccounts\" ON \"UserId\" = \"OwnerId\"",
        ),
        (
            "identifiers = \"lower\"",
            "orders,useraccounts",
            "SELECT count(*) FROM orders JOIN useraccounts ON userid = ownerid",
        ),
    ] {
        let url = s.create_db();
        let db = url.rsplit('/').next().unwrap().to_owned();
        f.write(
            "godwit.toml",
            &copy_project(
                "sqlite://app.db?mode=ro",
                "sqlite-source",
                &url,
                "postgres-target",
                &format!("mode = \"replace\"\n{setting}"),
                true,
            ),
        );
        let run = f.godwit(&["run", &f.arg()]);
        assert_eq!(run.code, 0, "{setting}: {}", run.all());
        assert_eq!(s.psql(&db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'").trim(), expect_tables);
        assert_eq!(s.psql(&db, probe).trim(), "2", "{setting}");
        assert_eq!(
            s.psql(
                &db,
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"
            )
            .trim(),
            "1"
        );
    }
}
