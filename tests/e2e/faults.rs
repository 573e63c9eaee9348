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
        let mut child = Command::new(BIN)
            .args(["run", &f.arg()])
            .env("GODWIT_CACHE_DIR", &f.cache)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
