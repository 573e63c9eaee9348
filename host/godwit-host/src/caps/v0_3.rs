//! Bindings of `godwit:plugin@0.3.0` (wit/v0.3), and their conversions to
//! the host model ([`crate::model`]).
//!
//! The data types and the capability records are the model's own types
//! (`with`), so values cross without conversion; only the plugin
//! interfaces' own records (plans, outcomes, findings) are converted here.
//! New in 0.3: a target's plan is SQL or plugin-written batches, targets
//! declare their traits, and batch tables are written through a
//! `table-writer` resource.

#![allow(missing_docs)] // the WIT files document every item; see docs/wit.md

use crate::model;

wasmtime::component::bindgen!({
    path: "wit",
    world: "godwit:host/all-v0-3",
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "godwit:plugin/types@0.3.0": crate::model::types_v0_3,
        "godwit:plugin/sql@0.3.0.connection": crate::caps::sql::ConnectionHandle,
        "godwit:plugin/sql@0.3.0.rows": crate::caps::sql::RowsHandle,
        "godwit:plugin/blob@0.3.0.store": crate::caps::blob::StoreHandle,
        "godwit:plugin/blob@0.3.0.lister": crate::caps::blob::ListerHandle,
        "godwit:plugin/blob@0.3.0.writer": crate::caps::blob::WriterHandle,
        "godwit:plugin/pipeline@0.3.0.table-pipeline": crate::caps::pipeline::PipelineHandle,
    },
});

/// The plugin interfaces (exports).
pub use exports::godwit::plugin0_3_0 as plugins;
use plugins::{rewriter, source_adapter, target_adapter, validation};

/// The interfaces' path, for the capability implementations.
pub use godwit::plugin0_3_0 as caps;

impl From<source_adapter::ReadPlan> for model::ReadPlan {
    fn from(p: source_adapter::ReadPlan) -> Self {
        match p {
            source_adapter::ReadPlan::Sql(r) => model::ReadPlan::Sql(model::SqlRead {
                connection: r.connection,
                statement: r.statement,
                params: r.params,
            }),
            source_adapter::ReadPlan::Batches => model::ReadPlan::Batches,
        }
    }
}

impl From<model::WriteMode> for target_adapter::WriteMode {
    fn from(m: model::WriteMode) -> Self {
        use target_adapter::WriteMode as W;
        match m {
            model::WriteMode::Create => W::Create,
            model::WriteMode::Replace => W::Replace,
            model::WriteMode::Truncate => W::Truncate,
            model::WriteMode::Append => W::Append,
            model::WriteMode::Upsert => W::Upsert,
        }
    }
}

impl From<target_adapter::WritePlan> for model::WritePlan {
    fn from(p: target_adapter::WritePlan) -> Self {
        match p {
            target_adapter::WritePlan::Sql(p) => model::WritePlan::Sql(model::SqlWritePlan {
                connection: p.connection,
                pre: p.pre,
                table: p.table,
                columns: p.columns,
                post: p.post,
                constraints: p.constraints,
                upsert_key: p.upsert_key,
                existing: p.existing,
            }),
            target_adapter::WritePlan::Batches(p) => {
                model::WritePlan::Batches(model::BatchWritePlan {
                    columns: p.columns,
                    existing: p.existing,
                    key: p.key,
                    notes: p.notes,
                })
            }
        }
    }
}

impl From<target_adapter::TargetTraits> for model::TargetTraits {
    fn from(t: target_adapter::TargetTraits) -> Self {
        use target_adapter::TargetTraits as T;
        model::TargetTraits {
            transactional: t.contains(T::TRANSACTIONAL),
            parallel_tables: t.contains(T::PARALLEL_TABLES),
            upsert: t.contains(T::UPSERT),
            idempotent_by_key: t.contains(T::IDEMPOTENT_BY_KEY),
        }
    }
}

impl From<target_adapter::RowReject> for model::RowReject {
    fn from(r: target_adapter::RowReject) -> Self {
        model::RowReject {
            row: r.row,
            column: r.column,
            reason: r.reason,
        }
    }
}

impl From<target_adapter::CommitReceipt> for model::CommitReceipt {
    fn from(r: target_adapter::CommitReceipt) -> Self {
        model::CommitReceipt {
            rows: r.rows,
            location: r.location,
        }
    }
}

impl From<rewriter::Outcome> for model::Outcome {
    fn from(o: rewriter::Outcome) -> Self {
        match o {
            rewriter::Outcome::Unchanged => model::Outcome::Unchanged,
            rewriter::Outcome::Replaced(v) => model::Outcome::Replaced(v),
            rewriter::Outcome::Rejected(r) => model::Outcome::Rejected(r),
        }
    }
}

impl From<validation::Finding> for model::Finding {
    fn from(f: validation::Finding) -> Self {
        model::Finding {
            check: f.check,
            severity: match f.severity {
                validation::Severity::Info => model::Severity::Info,
                validation::Severity::Warning => model::Severity::Warning,
                validation::Severity::Error => model::Severity::Error,
            },
            subject: f.subject,
            message: f.message,
            expected: f.expected,
            observed: f.observed,
        }
    }
}

impl From<model::TablePair> for validation::TablePair {
    fn from(t: model::TablePair) -> Self {
        validation::TablePair {
            source: t.source,
            target: t.target,
            source_def: t.source_def,
            target_def: t.target_def,
            outcome: t.outcome.map(|o| validation::TableOutcome {
                rows_read: o.rows_read,
                rows_written: o.rows_written,
                rows_rejected: o.rows_rejected,
                rejected_by_stage: o.rejected_by_stage,
            }),
        }
    }
}

/// The plugin interfaces one component exports, loaded from its instance.
#[derive(Clone)]
pub struct Guests {
    pub source: Option<source_adapter::Guest>,
    pub target: Option<target_adapter::Guest>,
    pub rewrite: Option<rewriter::Guest>,
    pub validator: Option<validation::Guest>,
}
