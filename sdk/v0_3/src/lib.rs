//! # godwit-sdk-v0-3
//!
//! Write godwit plugins against contract `godwit:plugin@0.3.0`: everything
//! of 0.2, plus targets that write their tables themselves
//! (`table-writer`), target traits and a step-level `finish`.
//!
//! The data types are the very types of [`godwit_sdk`] (their shape did not
//! change between 0.2 and 0.3), so `godwit_sdk::values`, `params` and the
//! other helpers work for 0.3 plugins unchanged. A separate crate because
//! the bindings of two versions of one world cannot share a crate (their
//! generated export macros would collide).
//!
//! ```ignore
//! use godwit_sdk_v0_3::target::{Target, TargetTraits, WritePlan};
//! struct Files;
//! impl Target for Files { /* describe, configure, traits, plan-write, open-writer, finish */ }
//! godwit_sdk_v0_3::target::export_target!(Files);
//! ```

#![allow(missing_docs)] // generated bindings carry the WIT docs

pub use godwit_sdk::{
    params, values, Batch, Column, ColumnDef, ColumnValues, Error, TableDef, Value,
};

#[cfg(feature = "files")]
pub mod files;

/// Shared bindings of 0.3: its host capabilities over the crate's types.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.3",
        world: "godwit:plugin/capabilities@0.3.0",
        with: {
            "godwit:plugin/types@0.3.0": godwit_sdk::bindings::godwit::plugin::types,
        },
        generate_all,
    });
}

/// Host capabilities of 0.3: `sql`, `blob`, `http`, `log`, `progress`.
pub mod caps {
    pub use super::bindings::godwit::plugin::{blob, http, log, progress, sql};
}

// `godwit_sdk::db`'s helpers over 0.3 connections.
impl godwit_sdk::db::SqlConnection for caps::sql::Connection {
    type Rows = caps::sql::Rows;
    fn dialect(&self) -> godwit_sdk::caps::sql::Dialect {
        use godwit_sdk::caps::sql::Dialect as D;
        match caps::sql::Connection::dialect(self) {
            caps::sql::Dialect::Sqlite => D::Sqlite,
            caps::sql::Dialect::Postgres => D::Postgres,
            caps::sql::Dialect::Mysql => D::Mysql,
        }
    }
    fn query(&self, sql: &str, params: &[Value]) -> Result<Self::Rows, Error> {
        caps::sql::Connection::query(self, sql, params)
    }
    fn query_with_timeout(
        &self,
        sql: &str,
        params: &[Value],
        timeout_ms: u32,
    ) -> Result<Self::Rows, Error> {
        caps::sql::Connection::query_with_timeout(self, sql, params, timeout_ms)
    }
}

impl godwit_sdk::db::SqlRows for caps::sql::Rows {
    fn next_batch(&self, max_rows: u32, max_bytes: u64) -> Result<Option<Batch>, Error> {
        caps::sql::Rows::next_batch(self, max_rows, max_bytes)
    }
}

macro_rules! kind_module_v0_3 {
    ($(#[$doc:meta])* $module:ident, $world:literal, $macro_name:literal, $path:literal, { $($extra:item)* }) => {
        $(#[$doc])*
        pub mod $module {
            wit_bindgen::generate!({
                path: "../../wit/v0.3",
                world: $world,
                with: {
                    "godwit:plugin/types@0.3.0": godwit_sdk::bindings::godwit::plugin::types,
                    "godwit:plugin/sql@0.3.0": crate::bindings::godwit::plugin::sql,
                    "godwit:plugin/blob@0.3.0": crate::bindings::godwit::plugin::blob,
                    "godwit:plugin/http@0.3.0": crate::bindings::godwit::plugin::http,
                    "godwit:plugin/log@0.3.0": crate::bindings::godwit::plugin::log,
                    "godwit:plugin/progress@0.3.0": crate::bindings::godwit::plugin::progress,
                },
                pub_export_macro: true,
                export_macro_name: $macro_name,
                default_bindings_module: $path,
            });
            pub use godwit_sdk::{
                Batch, CapabilityKind, CapabilityRequest, Column, ColumnDef, ColumnValues,
                Error, PluginInfo, TableDef, Value,
            };
            $($extra)*
        }
    };
}

kind_module_v0_3!(
    /// 0.3 source adapters: `impl Source`, then `godwit_sdk_v0_3::source::export_source!(T)`.
    source, "godwit:plugin/source@0.3.0", "export_source", "godwit_sdk_v0_3::source", {
        pub use self::exports::godwit::plugin::source_adapter::{
            Guest as Source, GuestReader, ReadPlan, Reader, SqlRead,
        };

        /// The `Reader` of a source whose every `plan-read` is SQL:
        /// `type Reader = NoReader;`.
        pub struct NoReader;

        impl GuestReader for NoReader {
            fn next_batch(&self, _max_rows: u32) -> Result<Option<Batch>, Error> {
                Err(Error::Unsupported(
                    "this source reads through SQL plans only; it has no batch reader".into(),
                ))
            }
        }
    }
);
kind_module_v0_3!(
    /// 0.3 target adapters: `impl Target` (and `GuestTableWriter` for
    /// tables written as batches), then
    /// `godwit_sdk_v0_3::target::export_target!(T)`.
    target, "godwit:plugin/target@0.3.0", "export_target", "godwit_sdk_v0_3::target", {
        pub use self::exports::godwit::plugin::target_adapter::{
            BatchWritePlan, CommitReceipt, Guest as Target, GuestTableWriter, RowReject,
            SqlWritePlan, TableWriter, TargetTraits, WriteMode, WritePlan,
        };
    }
);
kind_module_v0_3!(
    /// 0.3 rewrite rules: as in 0.2 (`export_rewrite!`).
    rewrite, "godwit:plugin/rewrite@0.3.0", "export_rewrite", "godwit_sdk_v0_3::rewrite", {
        pub use self::exports::godwit::plugin::rewriter::{Guest as Rewriter, Outcome};
    }
);
kind_module_v0_3!(
    /// 0.3 validators: as in 0.2 (`export_validator!`).
    validator, "godwit:plugin/validator@0.3.0", "export_validator", "godwit_sdk_v0_3::validator", {
        pub use self::exports::godwit::plugin::validation::{
            Finding, Guest as Validator, Severity, TablePair,
        };
        /// The step's own value pipeline (capability `pipeline`, granted
        /// by step): `pipeline::open(table)?.apply(batch)`.
        pub use self::godwit::plugin::pipeline;
    }
);
