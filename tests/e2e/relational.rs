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
