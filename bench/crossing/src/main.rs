//! Batch-crossing benchmark: what it costs to hand 1000 rows of a realistic
//! table to a Wasm guest as a columnar `batch` versus as rows of `value`s.
//!
//! Run: `cargo run --release -p godwit-bench-crossing` (prints a markdown
//! table; the numbers in docs/architecture.md come from it).

use std::time::Instant;

use godwit_host::value::rows_to_batch;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

include!(concat!(env!("OUT_DIR"), "/guest.rs"));

/// Bindings of the benchmark world.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "godwit:bench/crossing",
        with: { "godwit:plugin/types@0.2.0": godwit_host::model::types_v0_2 },
    });
}
use bindings::Crossing;
use godwit_host::model::Value;

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Rows per batch: the engine's default batch size.
const ROWS: usize = 1000;
/// Timed repetitions per measurement (after one warm-up).
const REPS: usize = 50;

/// A deterministic pseudo-random sequence (no dependency needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn words(&mut self, n: usize) -> String {
        const W: &[&str] = &[
            "meeting",
            "budget",
            "roadmap",
            "hiring",
            "launch",
            "review",
            "sync",
            "design",
            "ünïcödé",
            "会议",
        ];
        (0..n)
            .map(|_| W[(self.next() % W.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The quickstart's `tasks` shape: 7 narrow columns.
fn tasks(rng: &mut Lcg) -> Vec<Vec<Value>> {
    (0..ROWS as i64)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int((rng.next() % 500) as i64),
                Value::Text(rng.words(3)),
                Value::Text("done".into()),
                if i % 7 == 0 {
                    Value::Null
                } else {
                    Value::Text(format!("/app/.data/uploads/{i}/audio.m4a"))
                },
                Value::Float(rng.next() as f64 / 1e6),
                Value::Text(format!("2024-10-{:02} 12:{:02}:00", 1 + i % 28, i % 60)),
            ]
        })
        .collect()
}

/// The quickstart's `transcripts` shape: wide text and JSON cells.
fn transcripts(rng: &mut Lcg) -> Vec<Vec<Value>> {
    (0..ROWS as i64)
        .map(|i| {
            let body = rng.words(200);
            let segments = format!(
                "[{}]",
                (0..20)
                    .map(|s| format!("{{\"start\":{s},\"text\":\"{}\"}}", rng.words(10)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            vec![
                Value::Int(i),
                Value::Int(i * 3),
                if i % 4 == 0 {
                    Value::Null
                } else {
                    Value::Text("en".into())
                },
                Value::Text(body),
                Value::Json(segments),
                Value::Int(200),
                Value::Int(1_700_000_000 + i),
            ]
        })
        .collect()
}

fn main() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let component = Component::new(&engine, GUEST)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let mut store = Store::new(
        &engine,
        State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    let guest = Crossing::instantiate(&mut store, &component, &linker)?;

    let mut rng = Lcg(42);
    #[allow(clippy::print_stdout)]
    {
        println!("| table | shape | µs per {ROWS}-row batch | ns per cell | MiB/s of payload |");
        println!("|---|---|---|---|---|");
    }
    for (name, rows) in [
        ("tasks (7 narrow columns)", tasks(&mut rng)),
        (
            "transcripts (7 columns, 1.5 KiB text + 4 KiB JSON)",
            transcripts(&mut rng),
        ),
    ] {
        let cells = (rows.len() * rows[0].len()) as f64;
        let payload: usize = rows.iter().map(|r| godwit_host::value::row_size(r)).sum();
        let batch = rows_to_batch(rows.clone(), rows[0].len());
        // Warm up, then time.
        guest.call_take_rows(&mut store, &rows)?;
        guest.call_take_columns(&mut store, &batch)?;
        let t = Instant::now();
        for _ in 0..REPS {
            std::hint::black_box(guest.call_take_rows(&mut store, &rows)?);
        }
        let row_us = t.elapsed().as_secs_f64() * 1e6 / REPS as f64;
        let t = Instant::now();
        for _ in 0..REPS {
            std::hint::black_box(guest.call_take_columns(&mut store, &batch)?);
        }
        let col_us = t.elapsed().as_secs_f64() * 1e6 / REPS as f64;
        for (shape, us) in [("rows of values", row_us), ("columnar batch", col_us)] {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "| {name} | {shape} | {us:.0} | {:.1} | {:.0} |",
                    us * 1000.0 / cells,
                    payload as f64 / (1 << 20) as f64 / (us / 1e6)
                );
            }
        }
    }
    Ok(())
}
