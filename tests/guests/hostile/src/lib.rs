//! A rewrite rule that misbehaves in the way its `mode` parameter says, so the
//! tests can check the host contains it:
//! - `loop`: spins forever in `rewrite`
//! - `memory`: allocates without bound in `rewrite`
//! - `panic`: panics in `rewrite`
//! - `sneaky`: opens the sql label `db` (requested, never granted) and returns the error
//! - `chatty`: prints 1 MiB to stdout and stderr, then behaves
//! - `ok`: behaves (returns every value unchanged)

use std::cell::RefCell;

use godwit_sdk::caps::sql;
use godwit_sdk::rewrite::{CapabilityKind, CapabilityRequest, Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};

thread_local! {
    static MODE: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Hostile;

impl Rewriter for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.0.1".into(),
            description: "Misbehaves on purpose (tests only).".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: "db".into(),
                purpose: "probe for access it was not granted".into(),
            }],
            params_doc: "- `mode`: loop | memory | panic | sneaky | chatty | ok".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        struct Params {
            mode: String,
        }
        let p: Params = godwit_sdk::params::parse(&params)?;
        MODE.with(|m| *m.borrow_mut() = p.mode);
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
            "chatty" => {
                let line = "x".repeat(1023);
                for _ in 0..1024 {
                    println!("{line}");
                    eprintln!("{line}");
                }
                Ok(values.iter().map(|_| Outcome::Unchanged).collect())
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

godwit_sdk::rewrite::export_rewrite!(Hostile);
