//! A contract 0.3 target that writes its batches nowhere (it counts them),
//! refusing rows or misbehaving as its params say, to check what the host
//! does with a plugin writer's outcomes.
//!
//! Params: `{"refuse": "odd"|"none", "misbehave": "none"|"index"|"twice"|"count"|"panic"}`.
//! `refuse = "odd"` refuses every row whose first column is an odd integer
//! (a well-behaved reject). The `misbehave` modes lie to the host: refuse a
//! row index past the batch, refuse one row twice, report one row more at
//! commit than it accepted, or panic in `write`.

use std::cell::{Cell, RefCell};

use godwit_sdk::{values, Batch, Error, TableDef, Value};
use godwit_sdk_v0_3::target::{
    BatchWritePlan, CommitReceipt, GuestTableWriter, PluginInfo, RowReject, TableWriter, Target,
    TargetTraits, WriteMode, WritePlan,
};

#[derive(serde::Deserialize, Default, Clone)]
struct Params {
    #[serde(default)]
    refuse: String,
    #[serde(default)]
    misbehave: String,
}

thread_local! {
    static PARAMS: RefCell<Params> = RefCell::new(Params::default());
}

fn params() -> Params {
    PARAMS.with(|p| p.borrow().clone())
}

struct Sink;

impl Target for Sink {
    type TableWriter = Counter;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "batch-writer".into(),
            version: "0.1.0".into(),
            description: "test guest: a 0.3 target that counts its rows".into(),
            requests: vec![],
            params_doc: String::new(),
        }
    }

    fn configure(p: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&p)?;
        PARAMS.with(|slot| *slot.borrow_mut() = p);
        Ok(())
    }

    fn traits() -> TargetTraits {
        TargetTraits::PARALLEL_TABLES
    }

    fn plan_write(table: TableDef, _mode: WriteMode) -> Result<WritePlan, Error> {
        Ok(WritePlan::Batches(BatchWritePlan {
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            existing: None,
            key: table.primary_key.clone(),
            notes: vec!["counts the rows".into()],
        }))
    }

    fn open_writer(table: TableDef, _mode: WriteMode) -> Result<TableWriter, Error> {
        Ok(TableWriter::new(Counter {
            accepted: Cell::new(0),
            first_column: table.columns[0].name.clone(),
        }))
    }

    fn finish(tables: Vec<String>) -> Result<Vec<String>, Error> {
        Ok(vec![format!("finished {} tables", tables.len())])
    }
}

struct Counter {
    accepted: Cell<u64>,
    first_column: String,
}

impl GuestTableWriter for Counter {
    fn write(&self, batch: Batch) -> Result<Vec<RowReject>, Error> {
        let p = params();
        if p.misbehave == "panic" {
            panic!("batch-writer was told to panic");
        }
        let rows = values::rows(&batch);
        let mut refused = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let odd = matches!(row.first(), Some(Value::Int(n)) if n % 2 != 0);
            if p.refuse == "odd" && odd {
                refused.push(RowReject {
                    row: i as u32,
                    column: Some(self.first_column.clone()),
                    reason: "odd id".into(),
                });
            }
        }
        match p.misbehave.as_str() {
            "index" => refused.push(RowReject {
                row: batch.row_count + 5,
                column: None,
                reason: "no such row".into(),
            }),
            "twice" if !rows.is_empty() => {
                for _ in 0..2 {
                    refused.push(RowReject {
                        row: 0,
                        column: None,
                        reason: "twice".into(),
                    });
                }
            }
            _ => {}
        }
        self.accepted
            .set(self.accepted.get() + rows.len() as u64 - refused.len().min(rows.len()) as u64);
        Ok(refused)
    }

    fn commit(&self) -> Result<CommitReceipt, Error> {
        let extra = u64::from(params().misbehave == "count");
        Ok(CommitReceipt {
            rows: self.accepted.get() + extra,
            location: Some("memory".into()),
        })
    }

    fn abort(&self) {}
}

godwit_sdk_v0_3::target::export_target!(Sink);
