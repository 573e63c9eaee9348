//! Shared fixtures for the end-to-end tests.

use std::path::{Path, PathBuf};

pub use godwit_tests::{copy_tree, guests, repo_root, tree_hashes, Run};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_godwit");

/// A throwaway project directory plus a private compile cache.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub cache: PathBuf,
}

impl Fixture {
    /// An empty fixture.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = shared_cache();
        Self { dir, cache }
    }

    /// A copy of `examples/<name>` (without its output folders).
    pub fn example(name: &str) -> Self {
        let f = Self::empty();
        copy_tree(&repo_root().join("examples").join(name), f.path());
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn arg(&self) -> String {
        self.path().display().to_string()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Runs `godwit` with `args`.
    pub fn godwit(&self, args: &[&str]) -> Run {
        godwit_tests::godwit(BIN, &self.cache, args, &[])
    }

    /// Starts `godwit args` in the background (output discarded), for
    /// tests that kill or signal it.
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        std::process::Command::new(BIN)
            .args(args)
            .env("GODWIT_CACHE_DIR", &self.cache)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start godwit")
    }

    /// Runs `godwit` with extra environment variables.
    pub fn godwit_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        godwit_tests::godwit(BIN, &self.cache, args, env)
    }
}

/// One compile cache for the whole test run (components compile once).
fn shared_cache() -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join("godwit-cache");
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A project whose single step copies the quickstart database through the
/// `hostile` test guest in `mode`, with extra plugin settings.
pub fn hostile_project(mode: &str, extra: &str) -> Fixture {
    let f = Fixture::example("quickstart");
    let toml = format!(
        r#"[project]
name = "hostile"

# The test guests are unsigned components: development opt-in.
[trust]
allow_unsigned_plugins = true

[connections.app]
dsn = "sqlite://data/app.db?mode=ro"

[connections.copy]
dsn = "sqlite://out/app.db?mode=rwc"

[plugins.src]
path = "builtin:sqlite-source"
grants.sql = {{ source = "app" }}

[plugins.dst]
path = "builtin:sqlite-target"
grants.sql = {{ target = "copy" }}

[plugins.evil]
path = "{wasm}"
params = {{ mode = "{mode}" }}
{extra}

[[steps]]
name = "copy"
source = "src"
target = "dst"
mode = "replace"
tables = ["users", "tasks"]
rewrites = [{{ column = "tasks.audio_path", rule = "evil" }}]
"#,
        wasm = guests::HOSTILE
    );
    f.write("godwit.toml", &toml);
    f
}

/// A project with one blob copy step `files` from the folder `src` to the
/// folder `dst` (both under the project), with extra copy settings.
pub fn folder_copy_project(f: &Fixture, copy_extra: &str) {
    f.write(
        "godwit.toml",
        &format!(
            "[project]\nname = \"folders\"\n\n\
             [stores.src]\ntype = \"fs\"\nroot = \"src\"\n\n\
             [stores.dst]\ntype = \"fs\"\nroot = \"dst\"\n\n\
             [[copies]]\nname = \"files\"\nfrom = \"src\"\nto = \"dst\"\n{copy_extra}\n"
        ),
    );
}

/// Owned strings from string slices.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every row of every table of a SQLite file, ordered, rendered as strings.
pub async fn dump(db: &Path, tables: &[&str]) -> Vec<(String, Vec<Vec<String>>)> {
    use sqlx::{Row, ValueRef};
    let url = format!("sqlite://{}?mode=ro", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open sqlite");
    let mut out = Vec::new();
    for t in tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{t}\" ORDER BY 1, 2"))
            .fetch_all(&pool)
            .await
            .expect("select");
        let rendered = rows
            .iter()
            .map(|r| {
                (0..r.columns().len())
                    .map(|i| {
                        let raw = r.try_get_raw(i).unwrap();
                        if raw.is_null() {
                            return "NULL".to_owned();
                        }
                        use sqlx::TypeInfo;
                        let ty = raw.type_info().name().to_owned();
                        match ty.as_str() {
                            "INTEGER" => format!("i:{}", r.get::<i64, _>(i)),
                            // Bit-exact floats.
                            "REAL" => format!("f:{:016x}", r.get::<f64, _>(i).to_bits()),
                            "BLOB" => format!("b:{:?}", r.get::<Vec<u8>, _>(i)),
                            _ => format!("t:{}", r.get::<String, _>(i)),
                        }
                    })
                    .collect()
            })
            .collect();
        out.push((t.to_string(), rendered));
    }
    pool.close().await;
    out
}

/// A one-step project: `src_plugin` reads `src_dsn` (granted as `source`),
/// `dst_plugin` writes `dst_dsn` (granted as `target`); `step` holds the
/// step's extra settings (mode, casts, ...); with `validate`, a row-count
/// validator checks the step.
pub fn copy_project(
    src_dsn: &str,
    src_plugin: &str,
    dst_dsn: &str,
    dst_plugin: &str,
    step: &str,
    validate: bool,
) -> String {
    let mut toml = format!(
        r#"[project]
name = "test"

[connections.src]
dsn = "{src_dsn}"

[connections.dst]
dsn = "{dst_dsn}"

[plugins.src]
path = "builtin:{src_plugin}"
grants.sql = {{ source = "src" }}

[plugins.dst]
path = "builtin:{dst_plugin}"
grants.sql = {{ target = "dst" }}

[[steps]]
name = "copy"
source = "src"
target = "dst"
{step}
"#
    );
    if validate {
        toml.push_str(
            r#"
[plugins.count]
path = "builtin:row-count"
grants.sql = { source = "src", target = "dst" }

[[validators]]
plugin = "count"
"#,
        );
    }
    toml
}

/// Creates (or opens) the SQLite database at `path` and runs `statements` in it.
pub async fn sqlite_with(path: &Path, statements: &[&str]) -> sqlx::SqlitePool {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open sqlite");
    for stmt in statements {
        sqlx::query(stmt)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    pool
}

/// Every line of every `rejects.jsonl` of the fixture's runs, parsed.
pub fn all_rejects(f: &Fixture) -> Vec<serde_json::Value> {
    rejects_under(f.path())
}

/// Every line of every `rejects.jsonl` of the runs of the project in `dir`.
pub fn rejects_under(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(runs) = std::fs::read_dir(dir.join(".godwit/runs")) else {
        return out;
    };
    for d in runs {
        if let Ok(text) = std::fs::read_to_string(d.unwrap().path().join("rejects.jsonl")) {
            out.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    out
}
