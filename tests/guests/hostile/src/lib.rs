//! A rewrite rule that misbehaves in the way its `mode` parameter says, so the
//! tests can check the host contains it:
//! - `loop`: spins forever in `rewrite`
//! - `memory`: allocates without bound in `rewrite`
//! - `panic`: panics in `rewrite`
//! - `sneaky`: opens the sql label `db` (requested, never granted) and returns the error
//! - `chatty`: prints 1 MiB to stdout and stderr, then behaves
//! - `blob`: copies every object of the store granted as `files` to
//!   `copies/`, chunk by chunk, and replaces each value with a summary; also
//!   checks that `..` cannot leave the store
//! - `recurse`: recurses without bound (stack overflow)
//! - `handles`: opens the granted sql label `db` over and over, keeping
//!   every handle, until the host refuses
//! - `oversize`: returns more outcomes than values
//! - `enormous`: returns an enormous answer (four million outcomes)
//! - `probe`: tries the filesystem, the environment, the network, the clock
//!   and randomness through WASI, and replaces each value with what it saw
//! - `escape`: tries to leave the store granted as `files` through
//!   symbolic links (`evil/` links to a folder outside, `link.txt` to a file
//!   outside): read, stat, list, open-writer and delete through each; every
//!   value becomes the list of what worked (`none` when all were refused)
//! - `statements`: runs each of the `statements` parameter through the sql
//!   label `db`, first as a query (reading its rows), then, if that was
//!   refused, as `execute`; every value becomes `i:ok` / `i:no` per
//!   statement, joined by spaces
//! - `long`: logs 12 MiB (one line carrying a newline and a forged log
//!   line), then replaces every other value with 70,000 characters and
//!   rejects the rest with a 70,000-character reason holding a newline
//! - `ok`: behaves (returns every value unchanged)

use std::cell::RefCell;

use godwit_sdk::caps::sql;
use godwit_sdk::rewrite::{CapabilityKind, CapabilityRequest, Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};

thread_local! {
    static MODE: RefCell<String> = const { RefCell::new(String::new()) };
    static STATEMENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

struct Hostile;

impl Rewriter for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            description: "Misbehaves on purpose (tests only).".into(),
            requests: vec![
                CapabilityRequest {
                    kind: CapabilityKind::Sql,
                    label: "db".into(),
                    purpose: "probe for access it was not granted".into(),
                },
                CapabilityRequest {
                    kind: CapabilityKind::Blob,
                    label: "files".into(),
                    purpose: "copy objects (blob mode)".into(),
                },
            ],
            params_doc: "- `mode`: loop | memory | panic | sneaky | chatty | ok".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        struct Params {
            mode: String,
            #[serde(default)]
            statements: Vec<String>,
        }
        let p: Params = godwit_sdk::params::parse(&params)?;
        MODE.with(|m| *m.borrow_mut() = p.mode);
        STATEMENTS.with(|s| *s.borrow_mut() = p.statements);
        Ok(())
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        let mode = MODE.with(|m| m.borrow().clone());
        match mode.as_str() {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("hostile guest panicking on purpose"),
            "recurse" => {
                // Bottomless on purpose: the stack must overflow.
                #[allow(unconditional_recursion)]
                fn down(n: u64) -> u64 {
                    std::hint::black_box(down(std::hint::black_box(n + 1))) + 1
                }
                Ok(vec![Outcome::Replaced(Value::Int(down(0) as i64))])
            }
            "handles" => {
                let mut held = Vec::new();
                loop {
                    match sql::open("db") {
                        Ok(c) => held.push(c),
                        Err(e) => {
                            return Err(Error::Internal(format!(
                                "the host refused handle {}: {e:?}",
                                held.len() + 1
                            )))
                        }
                    }
                }
            }
            "oversize" => Ok(vec![Outcome::Unchanged; values.len() + 1]),
            "enormous" => Ok(vec![Outcome::Replaced(Value::Int(7)); 4_000_000]),
            "probe" => {
                let summary = probe();
                Ok(values
                    .iter()
                    .map(|_| Outcome::Replaced(Value::Text(summary.clone())))
                    .collect())
            }
            "escape" => {
                let summary = escape_store()?;
                Ok(values
                    .iter()
                    .map(|_| Outcome::Replaced(Value::Text(summary.clone())))
                    .collect())
            }
            "blob" => {
                let summary = copy_store()?;
                Ok(values
                    .iter()
                    .map(|_| Outcome::Replaced(Value::Text(summary.clone())))
                    .collect())
            }
            "chatty" => {
                let line = "x".repeat(1023);
                for _ in 0..1024 {
                    println!("{line}");
                    eprintln!("{line}");
                }
                Ok(values.iter().map(|_| Outcome::Unchanged).collect())
            }
            "statements" => {
                let conn = sql::open("db")?;
                let list = STATEMENTS.with(|s| s.borrow().clone());
                let mut seen = Vec::new();
                for (i, stmt) in list.iter().enumerate() {
                    let queried = conn.query(stmt, &[]).and_then(|rows| {
                        while rows.next_batch(1000, 1 << 20)?.is_some() {}
                        Ok(())
                    });
                    let ok = queried.is_ok() || conn.execute(stmt, &[]).is_ok();
                    seen.push(format!("{i}:{}", if ok { "ok" } else { "no" }));
                }
                let summary = seen.join(" ");
                Ok(values
                    .iter()
                    .map(|_| Outcome::Replaced(Value::Text(summary.clone())))
                    .collect())
            }
            "long" => {
                use godwit_sdk::caps::log;
                log::emit(
                    log::Level::Warn,
                    "real line\n2026-01-01T00:00:00Z ERROR godwit: FORGED line",
                );
                let line = "z".repeat(4096);
                for _ in 0..3072 {
                    log::emit(log::Level::Info, &line);
                }
                let long = "y".repeat(70_000);
                let reason = format!("bad\nFORGED {}", "r".repeat(70_000));
                Ok(values
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        if i % 2 == 0 {
                            Outcome::Replaced(Value::Text(long.clone()))
                        } else {
                            Outcome::Rejected(reason.clone())
                        }
                    })
                    .collect())
            }
            "sneaky" => {
                let conn = sql::open("db")?;
                let _ = conn.query("SELECT 1", &[])?;
                Err(Error::Internal("unexpectedly got access".into()))
            }
            _ => Ok(values.iter().map(|_| Outcome::Unchanged).collect()),
        }
    }
}

/// What the sandbox lets a guest see through WASI: `key:result` pairs.
fn probe() -> String {
    let fs = match (std::fs::read("/etc/passwd"), std::fs::read_dir("/"), std::fs::read_dir(".")) {
        (Err(_), Err(_), Err(_)) => "denied",
        _ => "OPEN",
    };
    let env = std::env::vars().count();
    let args = std::env::args().count();
    let net = match std::net::TcpStream::connect("127.0.0.1:22") {
        Err(_) => "denied",
        Ok(_) => "OPEN",
    };
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() > 0)
        .unwrap_or(false);
    // std's HashMap seeds itself from WASI random.
    let random = std::collections::hash_map::RandomState::new();
    let _ = std::hint::black_box(random);
    format!("fs:{fs} env:{env} args:{args} net:{net} clock:{clock} random:ok")
}

/// Tries every blob operation through symbolic links that lead outside the
/// store root; returns the operations that worked.
fn escape_store() -> Result<String, Error> {
    use godwit_sdk::caps::blob;
    let store = blob::open("files")?;
    let mut worked = Vec::new();
    if store.read("evil/secret.txt", 0, 100).is_ok() {
        worked.push("read-dir-link");
    }
    if store.read("link.txt", 0, 100).is_ok() {
        worked.push("read-file-link");
    }
    if store.stat("evil/secret.txt").is_ok() {
        worked.push("stat");
    }
    if let Ok(l) = store.list("evil/", true) {
        if l.next_page(100).is_ok_and(|p| !p.is_empty()) {
            worked.push("list-into");
        }
    }
    if let Ok(l) = store.list("", true) {
        if l
            .next_page(1000)
            .is_ok_and(|p| p.iter().any(|e| e.path.contains("secret")))
        {
            worked.push("list-root");
        }
    }
    if let Ok(w) = store.open_writer("evil/planted.txt") {
        if w.write(b"planted").is_ok() && w.finish().is_ok() {
            worked.push("write");
        }
    }
    if let Ok(w) = store.open_writer("link.txt") {
        // Replacing the link itself (inside the root) is allowed; writing
        // through it to the outside file is not.
        let _ = w.write(b"overwritten");
        let _ = w.finish();
    }
    if store.delete("evil/victim.txt").is_ok() {
        worked.push("delete-call");
    }
    Ok(if worked.is_empty() {
        "none".to_owned()
    } else {
        worked.join(",")
    })
}

/// Copies every object under the store root to `copies/`, 64 KiB at a time.
fn copy_store() -> Result<String, Error> {
    use godwit_sdk::caps::blob;
    /// Chunk size: small, so that large objects take several calls.
    const CHUNK: u32 = 64 << 10;
    let store = blob::open("files")?;
    if store.read("../outside.txt", 0, 10).is_ok() {
        return Err(Error::Internal("read outside the store root".into()));
    }
    let lister = store.list("", true)?;
    let mut entries = Vec::new();
    loop {
        let page = lister.next_page(100)?;
        if page.is_empty() {
            break;
        }
        entries.extend(
            page.into_iter()
                .filter(|e| !e.is_dir && !e.path.starts_with("copies/")),
        );
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    for e in entries {
        let writer = store.open_writer(&format!("copies/{}", e.path))?;
        let mut offset = 0u64;
        loop {
            let chunk = store.read(&e.path, offset, CHUNK)?;
            if chunk.is_empty() {
                break;
            }
            offset += chunk.len() as u64;
            writer.write(&chunk)?;
        }
        let meta = writer.finish()?;
        if meta.size != e.size {
            return Err(Error::Internal(format!(
                "{}: copied {} of {} bytes",
                e.path, meta.size, e.size
            )));
        }
        files += 1;
        bytes += offset;
    }
    Ok(format!("{files} files, {bytes} bytes copied"))
}

godwit_sdk::rewrite::export_rewrite!(Hostile);
