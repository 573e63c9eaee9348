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
