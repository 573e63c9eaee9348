//! Default limits for plugins. Every one can be tightened or loosened per
//! plugin in the project file (`[plugins.NAME.limits]`).

use std::time::Duration;

use crate::project::LimitsSpec;

/// How often the engine's epoch advances. Deadlines are whole ticks, so this
/// is the resolution of every plugin deadline; 10 ms keeps the ticker thread's
/// cost negligible while stopping a runaway guest within a blink.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default deadline for one plugin call, host calls made during it included.
/// Catalog discovery of a large schema or a row count over a big table can take
/// tens of seconds; a minute is generous for that and still ends a hung guest.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Default deadline for one host call (a query, a chunk read) made by a plugin.
/// Epoch interruption cannot fire inside host code, so this timeout is what
/// bounds a plugin waiting on a slow server.
pub const DEFAULT_HOST_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Default linear memory per plugin instance. Plugins see batches (a few MiB)
/// and catalogs, not whole tables; 256 MiB leaves room for 1 MiB cells.
pub const DEFAULT_MEMORY_BYTES: usize = 256 << 20;

/// Default core instances per store: a wasip2 component instantiates a handful
/// (the guest, wasi adapter shims); anything near this is suspicious.
pub const MAX_INSTANCES: usize = 32;
/// Default tables per store (function tables of those instances).
pub const MAX_TABLES: usize = 32;
/// Linear memories per store.
pub const MAX_MEMORIES: usize = 8;
/// Default elements per table: generous for real programs, stops
/// table-growth bombs.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Default host resources (connections, cursors, listers, writers) a plugin
/// may hold open at once; stops a handle flood from exhausting host memory.
pub const MAX_OPEN_HANDLES: usize = 256;
/// Default database connections a plugin may hold open at once: a plugin
/// needs one per granted label, rarely two; more would drain the pools the
/// host's own loads use.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// Most rows a plugin may receive per `next-batch` call.
pub const MAX_BATCH_ROWS: u32 = 10_000;
/// Default bytes (approximate) a plugin may receive per host call; one row
/// larger than this is still delivered alone, so a 1 MiB cell always gets through.
pub const MAX_RESULT_BYTES: u64 = 16 << 20;

/// Bytes of a plugin's stderr kept for reports (panic messages).
pub const STDERR_CAPTURE_BYTES: usize = 64 << 10;

/// Effective limits of one plugin instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Linear memory, bytes.
    pub memory_bytes: usize,
    /// Deadline per plugin call.
    #[serde(serialize_with = "ms")]
    pub call_timeout: Duration,
    /// Deadline per host call.
    #[serde(serialize_with = "ms")]
    pub host_call_timeout: Duration,
    /// Host resources held at once (resource-table capacity).
    pub max_handles: usize,
    /// Database connections held at once.
    pub max_connections: usize,
    /// Bytes returned per host call (approximate, whole rows).
    pub max_result_bytes: u64,
    /// Core instances per store.
    pub max_instances: usize,
    /// Tables per store.
    pub max_tables: usize,
    /// Elements per table.
    pub max_table_elements: usize,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Limits {
    /// Defaults overridden by the project's settings.
    pub fn from_spec(spec: &LimitsSpec) -> Self {
        Self {
            memory_bytes: spec
                .memory_mib
                .map_or(DEFAULT_MEMORY_BYTES, |m| (m as usize) << 20),
            call_timeout: spec
                .call_timeout_ms
                .map_or(DEFAULT_CALL_TIMEOUT, Duration::from_millis),
            host_call_timeout: spec
                .host_call_timeout_ms
                .map_or(DEFAULT_HOST_CALL_TIMEOUT, Duration::from_millis),
            max_handles: spec.max_handles.unwrap_or(MAX_OPEN_HANDLES),
            max_connections: spec.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
            max_result_bytes: spec
                .max_result_mib
                .map_or(MAX_RESULT_BYTES, |m| m.max(1) << 20),
            max_instances: spec.max_instances.unwrap_or(MAX_INSTANCES),
            max_tables: spec.max_tables.unwrap_or(MAX_TABLES),
            max_table_elements: spec.max_table_elements.unwrap_or(MAX_TABLE_ELEMENTS),
        }
    }

    /// The call deadline in epoch ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        (self.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
}
