//! # godwit-sdk
//!
//! Everything needed to write a godwit plugin in Rust: the bindings of the
//! `godwit:plugin@0.2.0` WIT package (for `@0.3.0`: the `godwit-sdk-v0-3`
//! crate, in `sdk/v0_3`, which reuses this crate's types and helpers), one module and one export macro per plugin kind, and helpers
//! for values, batches, parameters and errors.
//!
//! A plugin is a type implementing its kind's trait (`describe` and
//! `configure` for identity and parameters, plus the kind's own functions) and
//! one macro call:
//!
//! ```ignore
//! use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
//! struct Upper;
//! impl Rewriter for Upper { /* describe, configure, rewrite */ }
//! godwit_sdk::rewrite::export_rewrite!(Upper);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`: the output `.wasm`
//! is a component the host loads directly. This crate is only for guests; it is
//! not a host library.

#![allow(missing_docs)] // generated bindings carry the WIT docs

/// Shared bindings: the data types and the host capabilities every world imports.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v0.2",
        world: "godwit:plugin/capabilities@0.2.0",
        generate_all,
    });
}

pub use bindings::godwit::plugin::types::{
    Batch, CapabilityKind, CapabilityRequest, CheckConstraint, Column, ColumnDef, ColumnValues,
    DecimalSpec, Error, ForeignKey, IndexDef, LogicalType, PluginInfo, TableDef, UniqueConstraint,
    Value,
};
/// Host capabilities: `sql`, `blob`, `http`, `log`, `progress`.
pub mod caps {
    pub use crate::bindings::godwit::plugin::{blob, http, log, progress, sql};
}

macro_rules! kind_module {
    ($(#[$doc:meta])* $module:ident, $world:literal, $macro_name:literal, $path:literal, { $($extra:item)* }) => {
        $(#[$doc])*
        pub mod $module {
            wit_bindgen::generate!({
                path: "../wit/v0.2",
                world: $world,
                with: {
                    "godwit:plugin/types@0.2.0": crate::bindings::godwit::plugin::types,
                    "godwit:plugin/sql@0.2.0": crate::bindings::godwit::plugin::sql,
                    "godwit:plugin/blob@0.2.0": crate::bindings::godwit::plugin::blob,
                    "godwit:plugin/http@0.2.0": crate::bindings::godwit::plugin::http,
                    "godwit:plugin/log@0.2.0": crate::bindings::godwit::plugin::log,
                    "godwit:plugin/progress@0.2.0": crate::bindings::godwit::plugin::progress,
                },
                pub_export_macro: true,
                export_macro_name: $macro_name,
                default_bindings_module: $path,
            });
            pub use crate::{
                Batch, CapabilityKind, CapabilityRequest, Column, ColumnDef, ColumnValues, Error,
                PluginInfo, TableDef, Value,
            };
            $($extra)*
        }
    };
}

kind_module!(
    /// Source adapters: `impl Source`, then `godwit_sdk::source::export_source!(T)`.
    source, "godwit:plugin/source@0.2.0", "export_source", "godwit_sdk::source", {
        pub use self::exports::godwit::plugin::source_adapter::{
            Guest as Source, GuestReader, ReadPlan, Reader, SqlRead,
        };

        /// The `Reader` of a source whose every `plan-read` is SQL (the
        /// host reads the rows itself): `type Reader = NoReader;`. Asked
        /// for batches anyway, it says so.
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
kind_module!(
    /// Target adapters: `impl Target`, then `godwit_sdk::target::export_target!(T)`.
    target, "godwit:plugin/target@0.2.0", "export_target", "godwit_sdk::target", {
        pub use self::exports::godwit::plugin::target_adapter::{
            Guest as Target, WriteMode, WritePlan,
        };
    }
);
kind_module!(
    /// Rewrite rules: `impl Rewriter`, then `godwit_sdk::rewrite::export_rewrite!(T)`.
    rewrite, "godwit:plugin/rewrite@0.2.0", "export_rewrite", "godwit_sdk::rewrite", {
        pub use self::exports::godwit::plugin::rewriter::{Guest as Rewriter, Outcome};
    }
);
kind_module!(
    /// Validators: `impl Validator`, then `godwit_sdk::validator::export_validator!(T)`.
    validator, "godwit:plugin/validator@0.2.0", "export_validator", "godwit_sdk::validator", {
        pub use self::exports::godwit::plugin::validation::{
            Finding, Guest as Validator, Severity, TablePair,
        };
    }
);

#[cfg(feature = "checks")]
pub mod checks;
#[cfg(feature = "checks")]
pub mod ddl;
#[cfg(feature = "csv")]
pub mod csv;
pub mod dialect;
#[cfg(feature = "jsonl")]
pub mod jsonl;
pub mod params;
pub mod textforms;
pub mod values;

/// Logs through the host (`log` capability, always granted).
pub fn log(level: caps::log::Level, message: &str) {
    caps::log::emit(level, message);
}

/// Convenience over the `sql` capability.
pub mod db {
    use crate::caps::sql::{Connection, Dialect, Rows};
    use crate::{Batch, Error, Value};

    /// Rows per batch asked of the host by [`query_rows`]; the host caps it too.
    pub const QUERY_BATCH_ROWS: u32 = 1024;
    /// Bytes per batch asked of the host by [`query_rows`].
    pub const QUERY_BATCH_BYTES: u64 = 4 << 20;

    /// A granted SQL connection of any contract version (0.2's here,
    /// 0.3's in `godwit-sdk-v0-3`), so the helpers below serve both. The
    /// dialect is 0.2's enum (the same cases in every version).
    pub trait SqlConnection {
        /// The result stream of a query.
        type Rows: SqlRows;
        /// The dialect behind the connection.
        fn dialect(&self) -> Dialect;
        /// Runs a query.
        fn query(&self, sql: &str, params: &[Value]) -> Result<Self::Rows, Error>;
        /// Runs a query the server stops after `timeout_ms`.
        fn query_with_timeout(
            &self,
            sql: &str,
            params: &[Value],
            timeout_ms: u32,
        ) -> Result<Self::Rows, Error>;
    }

    /// A query's result stream.
    pub trait SqlRows {
        /// The next batch; `None` at the end.
        fn next_batch(&self, max_rows: u32, max_bytes: u64) -> Result<Option<Batch>, Error>;
    }

    impl SqlConnection for Connection {
        type Rows = Rows;
        fn dialect(&self) -> Dialect {
            Connection::dialect(self)
        }
        fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, Error> {
            Connection::query(self, sql, params)
        }
        fn query_with_timeout(
            &self,
            sql: &str,
            params: &[Value],
            timeout_ms: u32,
        ) -> Result<Rows, Error> {
            Connection::query_with_timeout(self, sql, params, timeout_ms)
        }
    }

    impl SqlRows for Rows {
        fn next_batch(&self, max_rows: u32, max_bytes: u64) -> Result<Option<Batch>, Error> {
            Rows::next_batch(self, max_rows, max_bytes)
        }
    }

    fn collect(rows: impl SqlRows) -> Result<Vec<Vec<Value>>, Error> {
        let mut out = Vec::new();
        while let Some(batch) = rows.next_batch(QUERY_BATCH_ROWS, QUERY_BATCH_BYTES)? {
            out.extend(crate::values::rows(&batch));
        }
        Ok(out)
    }

    /// Runs a query and collects every row. For catalog queries and other small
    /// results; large results should be read batch by batch.
    pub fn query_rows(
        conn: &impl SqlConnection,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>, Error> {
        collect(conn.query(sql, params)?)
    }

    /// As [`query_rows`], but the server stops the statement after
    /// `timeout_ms`; the error is then [`Error::Timeout`].
    pub fn query_rows_with_timeout(
        conn: &impl SqlConnection,
        sql: &str,
        params: &[Value],
        timeout_ms: u32,
    ) -> Result<Vec<Vec<Value>>, Error> {
        collect(conn.query_with_timeout(sql, params, timeout_ms)?)
    }

    /// Streams a query's rows batch by batch into `f` (memory stays bounded
    /// by one batch); `f` returns `false` to stop early.
    pub fn for_each_row(
        conn: &impl SqlConnection,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(Vec<Value>) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        let rows = conn.query(sql, params)?;
        while let Some(batch) = rows.next_batch(QUERY_BATCH_ROWS, QUERY_BATCH_BYTES)? {
            for row in crate::values::rows(&batch) {
                if !f(row)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// An identifier quoted for the connection's dialect.
    pub fn quote(conn: &impl SqlConnection, ident: &str) -> String {
        match conn.dialect() {
            Dialect::Mysql => crate::values::quote_backtick(ident),
            _ => crate::values::quote_double(ident),
        }
    }

    /// The `?` / `$n` placeholder for parameter `n` (1-based).
    pub fn placeholder(conn: &impl SqlConnection, n: usize) -> String {
        match conn.dialect() {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    }
}

/// Deterministic pseudo-random numbers (xorshift64*) for reproducible
/// sampling: the same seed picks the same rows on every run.
pub struct SeededRng(u64);

impl SeededRng {
    /// A generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Reservoir sampling: keeps a uniform sample of at most `k` items of a
/// stream of unknown length, in memory proportional to `k`.
pub struct Reservoir<T> {
    k: usize,
    seen: u64,
    items: Vec<T>,
    rng: SeededRng,
}

impl<T> Reservoir<T> {
    /// An empty reservoir of size `k`, seeded.
    pub fn new(k: usize, seed: u64) -> Self {
        Self {
            k,
            seen: 0,
            items: Vec::with_capacity(k),
            rng: SeededRng::new(seed),
        }
    }

    /// Offers one item.
    pub fn offer(&mut self, item: T) {
        self.seen += 1;
        if self.items.len() < self.k {
            self.items.push(item);
        } else {
            let j = self.rng.below(self.seen) as usize;
            if j < self.k {
                self.items[j] = item;
            }
        }
    }

    /// Items offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}
