//! SQLite: pools, queries, decoding by storage class, multi-row INSERT loads.

use std::path::Path;

use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::{classify, LoadOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::model::ColumnInfo;
use crate::model::Value;
use crate::project::Secret;
use crate::value::render_text;

/// Connections per SQLite pool: readers run in parallel, SQLite serialises writers.
pub const SQLITE_POOL_SIZE: u32 = 4;
/// SQLite's default limit on bound parameters per statement (since 3.32).
pub const SQLITE_MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row INSERT: past a few hundred rows statements stop getting
/// faster and only use more memory.
pub const INSERT_ROWS_PER_STATEMENT: usize = 500;

/// Opens a SQLite pool; returns whether it is read-only.
pub(super) async fn open(
    name: &str,
    dsn: &Secret,
    path: &Path,
    mode: &str,
    dry_run: bool,
) -> Result<(bool, SqlitePool)> {
    let read_only = dry_run || mode == "ro";
    let create = !dry_run && mode == "rwc";
    if !create && !path.exists() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "connection {name} ({dsn}): database file {} does not exist",
                path.display()
            ),
        ));
    }
    if create {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("connection {name}: {e}")))?;
        }
    }
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(create)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(SQLITE_POOL_SIZE)
        // One granted file, one database: no ATTACH (which also stops
        // `VACUUM INTO` another file), on every pooled connection.
        .after_connect(|conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                forbid_attach(handle.as_raw_handle());
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .map_err(|e| Error::io(format!("connection {name} ({dsn}): {e}")))?;
    Ok((read_only, pool))
}

/// How long a statement waits for another connection's write lock (the
/// same as sqlx's pooled connections).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs a statement without result rows (without parameters, several
/// statements may be given) on a connection of its own, on a blocking
/// thread. When the caller stops waiting (a host-call deadline drops this
/// future), the statement is interrupted (`sqlite3_interrupt`) instead of
/// running on: an endless INSERT used to grow the file until the process
/// exited.
pub(super) async fn execute(
    file: &SqliteFile,
    name: &str,
    statement: &str,
    params: Vec<Value>,
) -> Result<u64> {
    let conn = open_reader(name, file, false)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| reader_error(name, e))?;
    let interrupt = conn.get_interrupt_handle();
    let mut guard = super::CancelOnDrop::new(move || interrupt.interrupt());
    let (name_owned, sql) = (name.to_owned(), statement.to_owned());
    let done = tokio::task::spawn_blocking(move || -> Result<u64> {
        let err = |e| reader_error(&name_owned, e);
        if params.is_empty() {
            let before = conn.total_changes();
            conn.execute_batch(&sql).map_err(err)?;
            Ok(conn.total_changes().saturating_sub(before))
        } else {
            let params: Vec<rusqlite::types::Value> =
                params.into_iter().map(reader_param).collect();
            conn.execute(&sql, rusqlite::params_from_iter(params))
                .map(|n| n as u64)
                .map_err(err)
        }
    })
    .await;
    guard.disarm();
    done.map_err(|e| Error::internal(format!("statement task failed: {e}")))?
}

/// The database file behind a pool, for the bulk reader.
pub(crate) struct SqliteFile {
    pub(crate) path: std::path::PathBuf,
    pub(crate) read_only: bool,
}

/// Sets `SQLITE_LIMIT_ATTACHED` to 0 on a sqlx connection: `ATTACH` and
/// `VACUUM INTO` (which attaches its output file) then fail.
#[allow(unsafe_code)]
fn forbid_attach(db: std::ptr::NonNull<libsqlite3_sys::sqlite3>) {
    // SAFETY: `db` is the live handle of a connection we hold locked
    // (`LockedSqliteHandle`) for the duration of this call; sqlite3_limit
    // only reads and sets an integer of that connection.
    unsafe {
        libsqlite3_sys::sqlite3_limit(db.as_ptr(), libsqlite3_sys::SQLITE_LIMIT_ATTACHED, 0);
    }
}

/// Functions a read-only statement may not call: they read or write files,
/// load code, or change the connection.
const DENIED_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    "sqlite_dbpage",
];

/// Pragmas that only describe the schema or the database; any other pragma
/// is refused on a read-only connection (many of them change state).
const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
    "encoding",
    "page_count",
    "page_size",
    "freelist_count",
    "schema_version",
    "user_version",
    "application_id",
    "integrity_check",
    "quick_check",
    "data_version",
];

/// The authorizer of read-only connections: reads only. Everything that
/// writes, attaches, changes the schema or calls a file function is denied
/// by SQLite before the statement runs.
fn read_only_authorizer(ctx: rusqlite::hooks::AuthContext<'_>) -> rusqlite::hooks::Authorization {
    use rusqlite::hooks::{AuthAction as A, Authorization};
    match ctx.action {
        A::Select | A::Read { .. } | A::Recursive | A::Transaction { .. } | A::Savepoint { .. } => {
            Authorization::Allow
        }
        A::Function { function_name } => {
            if DENIED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name))
            {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        A::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            // Introspection pragmas take a table or index name; the rest
            // may only be read (a value would set them).
            let takes_name = matches!(
                name.as_str(),
                "table_info"
                    | "table_xinfo"
                    | "index_list"
                    | "index_info"
                    | "index_xinfo"
                    | "foreign_key_list"
                    | "foreign_key_check"
                    | "table_list"
                    | "integrity_check"
                    | "quick_check"
            );
            if READ_PRAGMAS.contains(&name.as_str()) && (pragma_value.is_none() || takes_name) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        _ => Authorization::Deny,
    }
}

/// The authorizer of writable connections: one database, no attaching.
fn single_database_authorizer(
    ctx: rusqlite::hooks::AuthContext<'_>,
) -> rusqlite::hooks::Authorization {
    use rusqlite::hooks::{AuthAction as A, Authorization};
    match ctx.action {
        A::Attach { .. } | A::Detach { .. } => Authorization::Deny,
        A::Function { function_name }
            if DENIED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name)) =>
        {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

/// Opens a connection for one query's rows, with the pool's access mode.
///
/// Query rows are read through rusqlite, not sqlx: sqlx-sqlite runs each
/// connection on a worker thread and hands every row over with a channel
/// message, a duplicated value per cell and a lock, which cost more than
/// twice the time SQLite took to produce the rows (profiled on 1 M rows).
///
/// Read-only (a source grant, a dry run, `mode=ro`): opened read-only by
/// SQLite, with an authorizer that allows reads only, no attached
/// databases, and statements that SQLite says would write refused before
/// they run (see `stream`). Writable: still one database, no ATTACH.
pub(super) fn open_reader(
    name: &str,
    file: &SqliteFile,
    read_only: bool,
) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let read_only = read_only || file.read_only;
    let access = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn =
        rusqlite::Connection::open_with_flags(&file.path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| reader_error(name, e))?;
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0);
    if read_only {
        conn.authorizer(Some(read_only_authorizer));
    } else {
        // As on the pool's connections, for statements that write.
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| reader_error(name, e))?;
        conn.authorizer(Some(single_database_authorizer));
    }
    Ok(conn)
}

/// A rusqlite error as a host error, worded like sqlx's.
fn reader_error(name: &str, e: rusqlite::Error) -> Error {
    let message = match &e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    };
    let (kind, code) = match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            (ErrorKind::Timeout, Some(f.extended_code.to_string()))
        }
        rusqlite::Error::SqliteFailure(f, _) => {
            let code = f.extended_code.to_string();
            (super::sqlite_kind(Some(&code), &message), Some(code))
        }
        _ => (ErrorKind::Io, None),
    };
    let mut err = Error::new(kind, format!("connection {name}: {message}"));
    err.code = code;
    err
}

/// The producer of a query's rows, run on a blocking thread: describes the
/// result, binds the parameters, then sends rows in chunks until the reader
/// hangs up or the statement is interrupted.
pub(super) fn stream(
    conn: rusqlite::Connection,
    read_only: bool,
    name: String,
    sql: String,
    params: Vec<Value>,
    cols_tx: tokio::sync::oneshot::Sender<Result<Vec<ColumnInfo>>>,
    tx: tokio::sync::mpsc::Sender<Result<super::Chunk>>,
) {
    let mut stmt = match conn.prepare(&sql) {
        Ok(s) => s,
        Err(e) => {
            let _ = cols_tx.send(Err(reader_error(&name, e)));
            return;
        }
    };
    // SQLite's own verdict on the prepared statement (VACUUM, for one,
    // needs no authorizer action): one that would write is refused here.
    if read_only && !stmt.readonly() {
        let _ = cols_tx.send(Err(Error::new(
            ErrorKind::Unsupported,
            format!("connection {name} is read-only here: the statement would write"),
        )));
        return;
    }
    let columns = stmt
        .columns()
        .iter()
        .map(|c| ColumnInfo {
            name: c.name().to_owned(),
            native_type: c.decl_type().unwrap_or("").to_owned(),
        })
        .collect();
    if cols_tx.send(Ok(columns)).is_err() {
        return;
    }
    for (i, p) in params.into_iter().enumerate() {
        if let Err(e) = stmt.raw_bind_parameter(i + 1, reader_param(p)) {
            let _ = tx.blocking_send(Err(reader_error(&name, e)));
            return;
        }
    }
    let width = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut chunk = super::ChunkBuilder::default();
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                let mut values = Vec::with_capacity(width);
                for i in 0..width {
                    values.push(match row.get_ref(i) {
                        Ok(v) => reader_value(v),
                        Err(e) => {
                            let _ = tx.blocking_send(Err(reader_error(&name, e)));
                            return;
                        }
                    });
                }
                if let Some(full) = chunk.push(values) {
                    if tx.blocking_send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                if let Some(rest) = chunk.finish() {
                    let _ = tx.blocking_send(Ok(rest));
                }
                let _ = tx.blocking_send(Err(reader_error(&name, e)));
                return;
            }
        }
    }
    if let Some(rest) = chunk.finish() {
        let _ = tx.blocking_send(Ok(rest));
    }
}

/// A cell by its storage class, exactly as `decode_row` decodes sqlx rows:
/// TEXT that is not valid UTF-8 becomes bytes.
fn reader_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
    }
}

/// A query parameter, bound as `bind` binds it for sqlx.
fn reader_param(v: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Boolean(b) => V::Integer(b as i64),
        Value::Int(i) => V::Integer(i),
        Value::Uint(u) => match i64::try_from(u) {
            Ok(i) => V::Integer(i),
            Err(_) => V::Text(u.to_string()),
        },
        Value::Float(f) => V::Real(f),
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => V::Text(s),
        Value::Bytes(b) => V::Blob(b),
        other => V::Text(render_text(&other)),
    }
}

/// A table being loaded with multi-row INSERTs inside one transaction.
///
/// The table's own DDL (`pre`: drop and create for `replace`, the delete
/// of `truncate`) runs inside the same transaction, so a load that fails
/// or is killed leaves the old table exactly as it was (SQLite's DDL is
/// transactional). Foreign keys are not enforced while loading: replacing
/// a parent would otherwise cascade into, or be refused because of, the
/// old rows of its children; instead the table's own keys are checked
/// once, before the commit (`commit`).
pub struct Loader {
    db: String,
    /// A pooled connection inside `BEGIN IMMEDIATE`. It is closed, never
    /// returned to the pool, when dropped: a loader dropped before its
    /// commit rolls back by closing, and no connection with foreign keys
    /// off is handed to anyone else.
    tx: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    prefix: String,
    row_sql: String,
    conflict: String,
    width: usize,
    rows_per_stmt: usize,
}

impl Loader {
    pub(super) async fn begin(
        pool: &SqlitePool,
        name: &str,
        table: &str,
        columns: &[String],
        upsert_key: &[String],
        pre: &[String],
    ) -> Result<Self> {
        let mut tx = pool.acquire().await.map_err(|e| classify(name, e))?;
        tx.close_on_drop();
        // Checked at commit, so self-references and rows in any order load.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(name, e))?;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(name, e))?;
        for stmt in pre {
            sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(stmt))
                .await
                .map_err(|e| {
                    classify(name, e).context(format!("({})", crate::text::first_line(stmt)))
                })?;
        }
        let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let col_list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
        let conflict = if upsert_key.is_empty() {
            String::new()
        } else {
            let sets: Vec<String> = columns
                .iter()
                .filter(|c| !upsert_key.contains(c))
                .map(|c| format!("{0} = excluded.{0}", q(c)))
                .collect();
            let keys = upsert_key
                .iter()
                .map(|c| q(c))
                .collect::<Vec<_>>()
                .join(", ");
            if sets.is_empty() {
                format!(" ON CONFLICT ({keys}) DO NOTHING")
            } else {
                format!(" ON CONFLICT ({keys}) DO UPDATE SET {}", sets.join(", "))
            }
        };
        let width = columns.len();
        Ok(Self {
            db: name.to_owned(),
            tx,
            prefix: format!("INSERT INTO {table} ({col_list}) VALUES "),
            row_sql: format!("({})", vec!["?"; width].join(", ")),
            conflict,
            width,
            rows_per_stmt: (SQLITE_MAX_VARIABLES / width).clamp(1, INSERT_ROWS_PER_STATEMENT),
        })
    }

    insert_loading!();

    /// Checks the table's foreign keys once, here (checks are deferred so
    /// self-references and rows in any order load), handles the rows that
    /// point at nothing as `orphans` says, then commits. Rejected rows are
    /// removed and returned, each with the missing parent key; removing a
    /// row can orphan another of the same table, so the check repeats until
    /// clean. `table` is the unquoted table name.
    pub async fn commit(
        mut self,
        table: &str,
        orphans: crate::project::OrphanPolicy,
    ) -> Result<super::Committed> {
        use crate::project::OrphanPolicy;
        /// Checks of one table before giving up on a chain of
        /// self-references (each pass removes rows, so it ends).
        const MAX_PASSES: usize = 64;
        /// Examples kept per foreign key in the report.
        const EXAMPLES: usize = 5;
        let db = self.db.clone();
        let err = |e| classify(&db, e);
        let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let mut out = super::Committed::default();
        if orphans == OrphanPolicy::Keep {
            // Reported, not changed.
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pragma_foreign_key_check(?)")
                .bind(table)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(|e| err(e).context("foreign key check"))?;
            if n > 0 {
                out.orphans.push(crate::model::OrphanReport {
                    foreign_key: format!("{table} foreign keys"),
                    action: "kept".into(),
                    rows: n as u64,
                    examples: Vec::new(),
                });
            }
        }
        // id -> (columns, parent, referenced columns; none: its primary key)
        type ForeignKey = (Vec<String>, String, Vec<Option<String>>);
        let mut fks: std::collections::BTreeMap<i64, ForeignKey> = Default::default();
        let listed: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(table)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(err)?;
        for (id, parent, from, to) in listed {
            let e = fks.entry(id).or_insert((Vec::new(), parent, Vec::new()));
            e.0.push(from);
            e.2.push(to);
        }
        let not_null: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) WHERE \"notnull\"")
                .bind(table)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(err)?;
        for _ in 0..MAX_PASSES {
            if orphans == OrphanPolicy::Keep {
                break;
            }
            let violations: Vec<(Option<i64>, String, i64)> =
                sqlx::query_as("SELECT rowid, \"parent\", fkid FROM pragma_foreign_key_check(?)")
                    .bind(table)
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(|e| err(e).context("foreign key check"))?;
            if violations.is_empty() {
                break;
            }
            let mut removed = false;
            // A row breaking two foreign keys is listed twice: rejected once.
            let mut gone = std::collections::HashSet::new();
            for (rowid, parent, fkid) in violations {
                if rowid.is_some_and(|r| gone.contains(&r)) {
                    continue;
                }
                let Some(rowid) = rowid else {
                    return Err(Error::new(
                        ErrorKind::Rejected,
                        format!("{table}: rows reference missing rows of {parent} (WITHOUT ROWID table: cannot single them out)"),
                    ));
                };
                let (cols, _, refs) = fks
                    .get(&fkid)
                    .cloned()
                    .unwrap_or_else(|| (Vec::new(), parent.clone(), Vec::new()));
                let values: Vec<String> = if cols.is_empty() {
                    Vec::new()
                } else {
                    let sel = format!(
                        "SELECT {} FROM {} WHERE rowid = ?",
                        cols.iter()
                            .map(|c| format!("CAST({} AS TEXT)", q(c)))
                            .collect::<Vec<_>>()
                            .join(", "),
                        q(table)
                    );
                    let row = sqlx::query(&sel)
                        .bind(rowid)
                        .fetch_one(&mut *self.tx)
                        .await
                        .map_err(err)?;
                    (0..cols.len())
                        .map(|i| {
                            sqlx::Row::try_get::<Option<String>, _>(&row, i)
                                .ok()
                                .flatten()
                                .unwrap_or_else(|| "NULL".into())
                        })
                        .collect()
                };
                let refs: Vec<String> = refs
                    .iter()
                    .map(|r| r.clone().unwrap_or_else(|| "its primary key".into()))
                    .collect();
                let named = |names: &[String]| {
                    names
                        .iter()
                        .zip(&values)
                        .map(|(c, v)| format!("{c} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let label = format!("{} -> {parent} ({})", cols.join(", "), refs.join(", "));
                let example = format!("rowid={rowid}: {}", named(&cols));
                let nullable = !cols.is_empty() && cols.iter().all(|c| !not_null.contains(c));
                let action = match orphans {
                    OrphanPolicy::Fail => {
                        return Err(Error::new(
                            ErrorKind::Rejected,
                            format!(
                                "{table}: rows reference missing rows of {parent} ({label}), e.g. \
                                 {example}"
                            ),
                        ))
                    }
                    OrphanPolicy::Null if nullable => {
                        let set = cols
                            .iter()
                            .map(|c| format!("{} = NULL", q(c)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        sqlx::query(&format!("UPDATE {} SET {set} WHERE rowid = ?", q(table)))
                            .bind(rowid)
                            .execute(&mut *self.tx)
                            .await
                            .map_err(err)?;
                        "set-null"
                    }
                    _ => {
                        sqlx::query(&format!("DELETE FROM {} WHERE rowid = ?", q(table)))
                            .bind(rowid)
                            .execute(&mut *self.tx)
                            .await
                            .map_err(err)?;
                        removed = true;
                        gone.insert(rowid);
                        out.rejected.push(super::CommitReject {
                            key: serde_json::json!({ "rowid": rowid }),
                            column: (!cols.is_empty()).then(|| cols.join(",")),
                            value: (!values.is_empty()).then(|| values.join(",")),
                            reason: format!("no row of {parent} with {}", named(&refs)),
                        });
                        "rejected"
                    }
                };
                match out
                    .orphans
                    .iter_mut()
                    .find(|o| o.foreign_key == label && o.action == action)
                {
                    Some(o) => {
                        o.rows += 1;
                        if o.examples.len() < EXAMPLES {
                            o.examples.push(example);
                        }
                    }
                    None => out.orphans.push(crate::model::OrphanReport {
                        foreign_key: label,
                        action: action.into(),
                        rows: 1,
                        examples: vec![example],
                    }),
                }
            }
            if !removed {
                break;
            }
        }
        sqlx::query("COMMIT")
            .execute(&mut *self.tx)
            .await
            .map_err(|e| err(e).context("commit"))?;
        Ok(out)
    }
}

/// SQLite primary result codes that mean "this row is refused"
/// (SQLITE_CONSTRAINT = 19, SQLITE_MISMATCH = 20, SQLITE_TOOBIG = 18).
fn is_rejection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| matches!(c & 0xff, 18..=20)),
        _ => false,
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>>;

/// Binds a value for SQLite: integers, reals, text and blobs as themselves;
/// temporal values, decimals, UUIDs and vectors as their canonical text.
fn bind(q: SqliteQuery<'_>, v: Value) -> SqliteQuery<'_> {
    match v {
        Value::Null => q.bind(None::<i64>),
        Value::Boolean(b) => q.bind(b),
        Value::Int(i) => q.bind(i),
        Value::Uint(u) => match i64::try_from(u) {
            Ok(i) => q.bind(i),
            Err(_) => q.bind(u.to_string()),
        },
        Value::Float(f) => q.bind(f),
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => q.bind(s),
        Value::Bytes(b) => q.bind(b),
        other => q.bind(render_text(&other)),
    }
}
