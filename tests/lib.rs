//! Harness for godwit's end-to-end tests: paths of the test guests, throwaway
//! project directories, and helpers to run the real `godwit` binary.
//!
//! The tests themselves are in `tests/e2e/` and are compiled as the `e2e`
//! test of the `godwit-cli` package, so they run the binary cargo just built.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Test guest components.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repo root")
}

/// A finished `godwit` invocation.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `godwit` (the binary at `bin`) with `args`, extra environment, and a
/// private compile cache under `cache`.
pub fn godwit(bin: &str, cache: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("GODWIT_CACHE_DIR", cache)
        .env_remove("GODWIT_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run godwit"))
}

/// Starts a server through `sh -c script`, detached: the script itself
/// watches this test process and stops the server when it exits (the
/// server must outlive no one).
#[allow(clippy::zombie_processes)]
pub fn spawn_detached(script: &str) {
    Command::new("sh")
        .args(["-c", script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start a test server");
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            if entry.file_name() == "out" || entry.file_name() == ".godwit" {
                continue;
            }
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// sha256 of every file under `dir` (relative path -> hex), for
/// "nothing changed" checks.
pub fn tree_hashes(dir: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((
                    p.strip_prefix(dir).expect("prefix").display().to_string(),
                    hex::encode(Sha256::digest(&bytes)),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Throwaway PostgreSQL servers for the tests, started from the binaries on
/// the machine (Debian's `/usr/lib/postgresql/*/bin`, or `GODWIT_PG_BIN`).
///
/// One cluster per test process, on a free port, in a temporary directory;
/// each test gets its own database. A watchdog shell stops the cluster and
/// removes its directory when the test process exits, however it exits.
pub mod pg {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    /// A running cluster.
    pub struct Server {
        /// TCP port on 127.0.0.1.
        pub port: u16,
        bin: PathBuf,
    }

    static SERVER: OnceLock<Server> = OnceLock::new();
    static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

    fn bin_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("GODWIT_PG_BIN") {
            return PathBuf::from(d);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path().join("bin"))
                    .filter(|p| p.join("initdb").exists())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.pop().unwrap_or_else(|| {
            panic!("PostgreSQL server binaries not found: run `bash scripts/test.sh` (it installs them) or set GODWIT_PG_BIN")
        })
    }

    fn is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false)
    }

    /// Runs a server binary, as the `postgres` user when we are root
    /// (PostgreSQL refuses to run as root).
    fn run(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
            c
        } else {
            Command::new(bin.join(tool))
        };
        cmd.args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"))
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// The shared server, started on first use.
    pub fn server() -> &'static Server {
        SERVER.get_or_init(|| {
            let bin = bin_dir();
            let dir = tempfile::Builder::new().prefix("godwit-pg-").tempdir_in("/tmp").unwrap().keep();
            if is_root() {
                let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
                assert!(ok.success(), "chown {}", dir.display());
            }
            let data = dir.join("data");
            let d = data.to_str().unwrap();
            let out = run(&bin, "initdb", &["-D", d, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]);
            assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
            let mut last = String::new();
            for _ in 0..5 {
                let port = free_port();
                let opts = format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    dir.display()
                );
                let log = dir.join("server.log");
                let out = run(&bin, "pg_ctl", &["-D", d, "-l", log.to_str().unwrap(), "-w", "-t", "60", "-o", &opts, "start"]);
                if out.status.success() {
                    watchdog(&bin, &dir);
                    return Server { port, bin };
                }
                last = std::fs::read_to_string(&log).unwrap_or_default();
            }
            panic!("PostgreSQL did not start: {last}");
        })
    }

    /// Stops the cluster and removes its files once this process is gone.
    /// The watchdog must outlive us, so it is deliberately never waited for.
    #[allow(clippy::zombie_processes)]
    fn watchdog(bin: &Path, dir: &Path) {
        let stop = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}{ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            ctl = bin.join("pg_ctl").display(),
            data = dir.join("data").display(),
            dir = dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the PostgreSQL watchdog");
    }

    impl Server {
        /// The folder holding `psql`, `pg_dump` and the server binaries.
        pub fn bin_dir(&self) -> &Path {
            &self.bin
        }

        /// Runs a SQL file with psql against `db`; panics on failure.
        pub fn psql_file(&self, db: &str, file: &Path) {
            let out = Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .args(["-p", &self.port.to_string(), "-d", db, "-f"])
                .arg(file)
                .output()
                .expect("run psql");
            assert!(
                out.status.success(),
                "psql -f {}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        /// `pg_dump` of `db` (schema and data, deterministic order), for
        /// "nothing changed" checks.
        pub fn dump(&self, db: &str) -> String {
            let out = Command::new(self.bin.join("pg_dump"))
                .args([
                    "--no-owner",
                    "--no-privileges",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .args(["-p", &self.port.to_string(), db])
                .output()
                .expect("run pg_dump");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // pg_dump >= 15.14 fences its output with a random \restrict key.
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
                .collect::<Vec<_>>()
                .join("\n")
        }

        /// Runs SQL with psql against `db`: its output, or psql's error
        /// text when the server refused it.
        pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
            let out = Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-q",
                    "-t",
                    "-A",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                ])
                .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
                .output()
                .expect("run psql");
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        }

        /// Runs SQL with psql against `db`; panics on failure.
        pub fn psql(&self, db: &str, sql: &str) -> String {
            self.try_psql(db, sql)
                .unwrap_or_else(|e| panic!("psql {sql}: {e}"))
        }

        /// Creates a fresh database and returns its URL.
        pub fn create_db(&self) -> String {
            let name = format!(
                "t{}_{}",
                std::process::id(),
                NEXT_DB.fetch_add(1, Ordering::SeqCst)
            );
            self.psql("postgres", &format!("CREATE DATABASE {name}"));
            self.url(&name)
        }

        /// The URL of database `db`.
        pub fn url(&self, db: &str) -> String {
            format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
        }
    }
}

/// Throwaway MariaDB (or MySQL) servers for the tests: `mariadb-install-db`
/// and `mariadbd` from the machine, a temporary datadir, a free port, a
/// watchdog that stops the server when the test process exits.
pub mod mariadb {
    use super::spawn_detached;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// How long a fresh server may take to accept connections (seconds under
    /// load on 2 cores; generous because CI machines are shared).
    const READY_TIMEOUT: Duration = Duration::from_secs(60);

    /// A running server.
    pub struct Server {
        /// TCP port on 127.0.0.1.
        pub port: u16,
    }

    static SERVER: OnceLock<Server> = OnceLock::new();
    static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

    fn is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false)
    }

    /// The shared server, started on first use.
    pub fn server() -> &'static Server {
        SERVER.get_or_init(|| {
            let dir: PathBuf = tempfile::Builder::new().prefix("godwit-maria-").tempdir_in("/tmp").unwrap().keep();
            let data = dir.join("data");
            let mut install = Command::new("mariadb-install-db");
            install.arg("--no-defaults");
            if is_root() {
                install.arg("--user=root");
            }
            let out = install
                .arg(format!("--datadir={}", data.display()))
                .args(["--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"])
                .output()
                .unwrap_or_else(|e| panic!("mariadb-install-db not found ({e}): run `bash scripts/test.sh` (it installs MariaDB)"));
            assert!(out.status.success(), "mariadb-install-db: {}", String::from_utf8_lossy(&out.stderr));
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let user = if is_root() { "--user=root" } else { "" };
            let script = format!(
                "{bin} --no-defaults {user} --datadir={data} --port={port} --bind-address=127.0.0.1 \
                 --socket={dir}/m.sock --pid-file={dir}/m.pid --log-error={dir}/error.log --skip-name-resolve \
                 --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 \
                 --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci & \
                 pid=$!; while kill -0 {me} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; \
                 kill -TERM $pid 2>/dev/null; wait $pid; rm -rf {dir}",
                data = data.display(),
                dir = dir.display(),
                me = std::process::id(),
                bin = if std::path::Path::new("/usr/sbin/mariadbd").exists() { "/usr/sbin/mariadbd" } else { "mariadbd" },
            );
            spawn_detached(&script);
            let start = Instant::now();
            loop {
                let ok = Command::new("mariadb-admin")
                    .args(["--no-defaults", "-uroot", "-h127.0.0.1", &format!("-P{port}"), "ping"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                if ok {
                    break;
                }
                if start.elapsed() > READY_TIMEOUT {
                    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                    panic!("MariaDB did not start: {log}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Server { port }
        })
    }

    impl Server {
        /// Runs SQL with the `mariadb` client in `db`: its rows, or the
        /// client's error text when the server refused it.
        pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
            let out = Command::new("mariadb")
                .args([
                    "--no-defaults",
                    "-uroot",
                    "-h127.0.0.1",
                    &format!("-P{}", self.port),
                ])
                .args(["-N", "-B", "-D", db, "-e", sql])
                .output()
                .expect("run mariadb");
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        }

        /// Runs SQL with the `mariadb` client in `db`; returns tab-separated rows.
        pub fn sql(&self, db: &str, sql: &str) -> String {
            self.try_sql(db, sql)
                .unwrap_or_else(|e| panic!("mariadb {sql}: {e}"))
        }

        /// Creates a fresh database and returns its URL.
        pub fn create_db(&self) -> String {
            let name = format!(
                "t{}_{}",
                std::process::id(),
                NEXT_DB.fetch_add(1, Ordering::SeqCst)
            );
            self.sql(
                "mysql",
                &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
            );
            format!("mysql://root@127.0.0.1:{}/{name}", self.port)
        }
    }
}

/// An S3-compatible server (s3s-fs) for the object-storage tests: SigV4 is
/// enforced with the credentials below; buckets are folders under `root`,
/// objects plain files, so tests can inspect (and corrupt) them directly.
pub mod s3 {
    use super::spawn_detached;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Access key the server accepts.
    pub const ACCESS_KEY: &str = "AKIDGODWITTEST";
    /// Secret key the server accepts.
    pub const SECRET_KEY: &str = "godwit-s3-test-secret-9f3a";
    /// Where `scripts/test.sh` installs the server.
    pub const BIN: &str = "/opt/godwit-tools/bin/s3s-fs";
    /// How long the server may take to accept connections.
    const READY_TIMEOUT: Duration = Duration::from_secs(30);

    /// A running server.
    pub struct Server {
        /// TCP port on 127.0.0.1.
        pub port: u16,
        /// The folder holding the buckets.
        pub root: PathBuf,
    }

    static SERVER: OnceLock<Server> = OnceLock::new();
    static NEXT_BUCKET: AtomicUsize = AtomicUsize::new(0);

    /// The shared server, started on first use; stopped when the tests exit.
    pub fn server() -> &'static Server {
        SERVER.get_or_init(|| {
            let bin = std::env::var("GODWIT_S3S_FS").unwrap_or_else(|_| BIN.to_owned());
            assert!(
                std::path::Path::new(&bin).exists(),
                "{bin} not found: run `bash scripts/test.sh` (it installs s3s-fs)"
            );
            let dir: PathBuf = tempfile::Builder::new()
                .prefix("godwit-s3-")
                .tempdir_in("/tmp")
                .unwrap()
                .keep();
            let root = dir.join("root");
            std::fs::create_dir_all(&root).unwrap();
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let script = format!(
                "{bin} --host 127.0.0.1 --port {port} --access-key {ACCESS_KEY} --secret-key {SECRET_KEY} {root} \
                 >{dir}/s3.log 2>&1 & pid=$!; \
                 while kill -0 {me} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; \
                 kill -TERM $pid 2>/dev/null; wait $pid; rm -rf {dir}",
                root = root.display(),
                dir = dir.display(),
                me = std::process::id(),
            );
            spawn_detached(&script);
            let start = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if start.elapsed() > READY_TIMEOUT {
                    let log = std::fs::read_to_string(dir.join("s3.log")).unwrap_or_default();
                    panic!("s3s-fs did not start: {log}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Server { port, root }
        })
    }

    impl Server {
        /// The endpoint URL.
        pub fn endpoint(&self) -> String {
            format!("http://127.0.0.1:{}", self.port)
        }

        /// Creates a fresh, empty bucket and returns its name.
        pub fn create_bucket(&self) -> String {
            let name = format!(
                "b{}-{}",
                std::process::id(),
                NEXT_BUCKET.fetch_add(1, Ordering::SeqCst)
            );
            std::fs::create_dir_all(self.root.join(&name)).unwrap();
            name
        }

        /// The file behind an object.
        pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
            self.root.join(bucket).join(key)
        }
    }
}
