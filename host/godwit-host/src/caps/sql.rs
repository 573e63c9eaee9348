//! The `sql` capability: connections bound to project connection names.
//!
//! The host owns pools, cursors and bulk loads; plugins hold only handles.
//! A query runs in its own task that feeds a bounded channel, so a slow
//! consumer applies back-pressure instead of buffering a whole result.
//! Supported now: SQLite. PostgreSQL and MySQL/MariaDB arrive with the
//! relational adapters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Column as _, Executor, Row, Statement, TypeInfo, ValueRef};
use tokio::sync::mpsc;

use crate::error::{Error, ErrorKind, Result};
use crate::project::Secret;
use crate::runtime::bindings::godwit::plugin::sql::{ColumnInfo, Dialect};
use crate::runtime::bindings::types::Value;
use crate::value::render_text;

/// Rows buffered between a query task and its reader: enough to keep the
/// database busy while a batch is processed, small enough to bound memory.
pub const STREAM_CHANNEL_ROWS: usize = 2048;
/// Connections per SQLite pool: readers run in parallel, SQLite serialises writers.
pub const SQLITE_POOL_SIZE: u32 = 4;
/// SQLite's default limit on bound parameters per statement (since 3.32).
pub const SQLITE_MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row INSERT: past a few hundred rows statements stop getting
/// faster and only use more memory.
pub const INSERT_ROWS_PER_STATEMENT: usize = 500;

/// An opened database, shared by the host and every plugin granted it.
pub struct Database {
    /// The project's name for this connection.
    pub name: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// True when writes are refused (dry runs).
    pub read_only: bool,
    pool: SqlitePool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.name)
    }
}

/// A project connection, opened on first use and shared by the host and every
/// plugin granted it. Nothing is opened for connections nobody uses, so a
/// dry run never touches (or creates) a target it does not read.
pub struct LazyDatabase {
    name: String,
    dsn: Secret,
    project_dir: PathBuf,
    dry_run: bool,
    cell: tokio::sync::OnceCell<Arc<Database>>,
}

impl LazyDatabase {
    /// A connection that will be opened on first use.
    pub fn new(name: &str, dsn: Secret, project_dir: &Path, dry_run: bool) -> Self {
        Self {
            name: name.to_owned(),
            dsn,
            project_dir: project_dir.to_path_buf(),
            dry_run,
            cell: tokio::sync::OnceCell::new(),
        }
    }

    /// The project's name for the connection.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DSN, redacted.
    pub fn redacted(&self) -> String {
        self.dsn.to_string()
    }

    /// Opens the connection (once) and returns it.
    pub async fn get(&self) -> Result<Arc<Database>> {
        self.cell
            .get_or_try_init(|| async {
                Database::open(&self.name, &self.dsn, &self.project_dir, self.dry_run)
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }
}

/// A plugin's handle on a granted connection (WIT `connection`).
pub struct ConnectionHandle {
    pub(crate) db: Arc<Database>,
}

/// A plugin's handle on a running query (WIT `rows`).
pub struct RowsHandle {
    pub(crate) stream: RowStream,
}

/// Where a DSN points.
enum Target {
    Sqlite { path: PathBuf, mode: String },
}

fn parse_dsn(dsn: &Secret, project_dir: &Path) -> Result<Target> {
    let raw = dsn.expose();
    let lower = raw.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("sqlite:")
        .map(|_| &raw["sqlite:".len()..])
    {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(Error::project(format!("DSN {dsn}: no database file")));
        }
        let mut mode = "rw".to_owned();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("mode", m @ ("ro" | "rw" | "rwc"))) => mode = m.to_owned(),
                _ => {
                    return Err(Error::project(format!(
                        "DSN {dsn}: unsupported parameter {pair:?} (supported: mode=ro|rw|rwc)"
                    )))
                }
            }
        }
        let path = Path::new(path);
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            project_dir.join(path)
        };
        return Ok(Target::Sqlite { path, mode });
    }
    let scheme = raw.split(':').next().unwrap_or("");
    if matches!(scheme, "postgres" | "postgresql" | "mysql" | "mariadb") {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "DSN {dsn}: {scheme} connections are not supported by this build yet (SQLite only)"
            ),
        ));
    }
    Err(Error::project(format!(
        "DSN {dsn}: unknown scheme (expected sqlite://PATH)"
    )))
}

impl Database {
    /// Opens connection `name`. With `dry_run`, the database is opened
    /// read-only and never created.
    pub async fn open(name: &str, dsn: &Secret, project_dir: &Path, dry_run: bool) -> Result<Self> {
        match parse_dsn(dsn, project_dir)? {
            Target::Sqlite { path, mode } => {
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
                    .filename(&path)
                    .read_only(read_only)
                    .create_if_missing(create)
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_POOL_SIZE)
                    .connect_with(opts)
                    .await
                    .map_err(|e| Error::io(format!("connection {name} ({dsn}): {e}")))?;
                Ok(Self {
                    name: name.to_owned(),
                    dialect: Dialect::Sqlite,
                    read_only,
                    pool,
                })
            }
        }
    }

    fn refuse_writes(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "connection {} is read-only here (dry run or mode=ro)",
                    self.name
                ),
            ));
        }
        Ok(())
    }

    /// Starts a query; rows are read from the returned stream.
    pub async fn query(&self, statement: &str, params: Vec<Value>) -> Result<RowStream> {
        let pool = self.pool.clone();
        let sql = statement.to_owned();
        let (tx, rx) = mpsc::channel::<Result<Vec<Value>>>(STREAM_CHANNEL_ROWS);
        let (cols_tx, cols_rx) = tokio::sync::oneshot::channel::<Result<Vec<ColumnInfo>>>();
        let name = self.name.clone();
        let task = tokio::spawn(async move {
            let mut conn = match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    let _ = cols_tx.send(Err(Error::io(format!("connection {name}: {e}"))));
                    return;
                }
            };
            let stmt = match (&mut *conn).prepare(sql.as_str()).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = cols_tx.send(Err(classify(&name, e)));
                    return;
                }
            };
            let columns = stmt
                .columns()
                .iter()
                .map(|c| ColumnInfo {
                    name: c.name().to_owned(),
                    native_type: c.type_info().name().to_owned(),
                })
                .collect();
            if cols_tx.send(Ok(columns)).is_err() {
                return;
            }
            let mut q = stmt.query();
            for p in params {
                q = bind(q, p);
            }
            let mut rows = q.fetch(&mut *conn);
            while let Some(row) = rows.next().await {
                let item = row
                    .map_err(|e| classify(&name, e))
                    .and_then(|r| decode_row(&r));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        let columns = cols_rx
            .await
            .map_err(|_| Error::internal("query task ended before describing its result"))??;
        Ok(RowStream {
            columns,
            rx,
            task: AbortOnDrop(task),
            done: false,
        })
    }

    /// Runs a statement without result rows; returns affected rows.
    pub async fn execute(&self, statement: &str, params: Vec<Value>) -> Result<u64> {
        self.refuse_writes()?;
        let mut q = sqlx::query(statement);
        for p in params {
            q = bind(q, p);
        }
        let done = q
            .execute(&self.pool)
            .await
            .map_err(|e| classify(&self.name, e))?;
        Ok(done.rows_affected())
    }

    /// Starts loading rows into `table` inside one transaction.
    pub async fn begin_load(
        &self,
        table: &str,
        columns: &[String],
        upsert_key: &[String],
    ) -> Result<TableLoader> {
        self.refuse_writes()?;
        if columns.is_empty() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{table}: no columns to load"),
            ));
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| classify(&self.name, e))?;
        // Checked at commit, so self-references and rows in any order load.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(&self.name, e))?;
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
        Ok(TableLoader {
            db: self.name.clone(),
            tx,
            prefix: format!("INSERT INTO {table} ({col_list}) VALUES "),
            row_sql: format!("({})", vec!["?"; width].join(", ")),
            conflict,
            width,
            rows_per_stmt: (SQLITE_MAX_VARIABLES / width).clamp(1, INSERT_ROWS_PER_STATEMENT),
        })
    }
}

/// Aborts a task when dropped (a plugin dropping `rows` stops its query).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Rows of a running query.
pub struct RowStream {
    /// Result columns.
    pub columns: Vec<ColumnInfo>,
    rx: mpsc::Receiver<Result<Vec<Value>>>,
    #[allow(dead_code)] // held for its Drop
    task: AbortOnDrop,
    done: bool,
}

impl RowStream {
    /// Up to `max_rows` rows and about `max_bytes` bytes (at least one row if
    /// any remain); `None` at the end.
    pub async fn next_rows(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Option<Vec<Vec<Value>>>> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < max_rows.max(1) && (out.is_empty() || bytes < max_bytes) {
            match self.rx.recv().await {
                Some(Ok(row)) => {
                    bytes += crate::value::row_size(&row);
                    out.push(row);
                }
                Some(Err(e)) => return Err(e),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }
}

/// Result of loading one batch.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// Rows written.
    pub written: u64,
    /// Rows the database refused: (index in the batch, reason).
    pub rejected: Vec<(usize, String)>,
}

/// A table being loaded inside one transaction.
pub struct TableLoader {
    db: String,
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    prefix: String,
    row_sql: String,
    conflict: String,
    width: usize,
    rows_per_stmt: usize,
}

impl TableLoader {
    fn statement(&self, rows: usize) -> String {
        let mut s = String::with_capacity(
            self.prefix.len() + rows * (self.row_sql.len() + 2) + self.conflict.len(),
        );
        s.push_str(&self.prefix);
        for i in 0..rows {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&self.row_sql);
        }
        s.push_str(&self.conflict);
        s
    }

    /// Loads rows. A chunk the database refuses is retried row by row so that
    /// only the offending rows are rejected, each with the database's reason.
    pub async fn load(&mut self, rows: Vec<Vec<Value>>) -> Result<LoadOutcome> {
        let mut outcome = LoadOutcome::default();
        let mut base = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(self.rows_per_stmt).collect();
            if let Some(bad) = chunk.iter().position(|r| r.len() != self.width) {
                return Err(Error::internal(format!(
                    "row {} has {} values, expected {}",
                    base + bad,
                    chunk[bad].len(),
                    self.width
                )));
            }
            let sql = self.statement(chunk.len());
            let mut q = sqlx::query(&sql);
            for v in chunk.iter().flatten() {
                q = bind(q, v.clone());
            }
            match q.execute(&mut *self.tx).await {
                Ok(done) => outcome.written += done.rows_affected().max(chunk.len() as u64),
                Err(e) if is_rejection(&e) => {
                    let single = self.statement(1);
                    for (i, row) in chunk.into_iter().enumerate() {
                        let mut q = sqlx::query(&single);
                        for v in row {
                            q = bind(q, v);
                        }
                        match q.execute(&mut *self.tx).await {
                            Ok(_) => outcome.written += 1,
                            Err(e) if is_rejection(&e) => {
                                outcome.rejected.push((base + i, db_message(&e)))
                            }
                            Err(e) => return Err(classify(&self.db, e)),
                        }
                    }
                }
                Err(e) => return Err(classify(&self.db, e)),
            }
            base += self.rows_per_stmt;
        }
        Ok(outcome)
    }

    /// Removes rows whose foreign keys point at nothing (checked once, here,
    /// since checks are deferred) and returns them as `(key, reason)` rejects;
    /// then commits. `table` is the unquoted table name.
    pub async fn commit(mut self, table: &str) -> Result<Vec<(serde_json::Value, String)>> {
        let db = self.db.clone();
        let violations: Vec<(Option<i64>, String)> =
            sqlx::query_as("SELECT rowid, \"parent\" FROM pragma_foreign_key_check(?)")
                .bind(table)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|e| classify(&db, e).context("foreign key check"))?;
        let mut rejected = Vec::with_capacity(violations.len());
        for (rowid, parent) in violations {
            let Some(rowid) = rowid else {
                return Err(Error::new(
                    ErrorKind::Rejected,
                    format!("{table}: rows reference missing rows of {parent} (WITHOUT ROWID table: cannot single them out)"),
                ));
            };
            let q = format!(
                "DELETE FROM \"{}\" WHERE rowid = ?",
                table.replace('"', "\"\"")
            );
            sqlx::query(&q)
                .bind(rowid)
                .execute(&mut *self.tx)
                .await
                .map_err(|e| classify(&db, e))?;
            rejected.push((
                serde_json::json!({ "rowid": rowid }),
                format!("foreign key violation: no matching row in {parent}"),
            ));
        }
        self.tx
            .commit()
            .await
            .map_err(|e| classify(&db, e).context("commit"))?;
        Ok(rejected)
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

fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// Maps a sqlx error to a host error (messages from sqlx carry no DSN).
fn classify(conn: &str, e: sqlx::Error) -> Error {
    let kind = match &e {
        sqlx::Error::Database(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::TypeNotFound { .. } => ErrorKind::Io,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => ErrorKind::Io,
        _ => ErrorKind::Io,
    };
    let mut err = Error::new(kind, format!("connection {conn}: {}", db_message(&e)));
    err.retryable = matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_));
    err
}

/// The same error as the WIT variant a plugin receives.
pub fn to_wit(e: &Error) -> crate::runtime::bindings::types::Error {
    use crate::runtime::bindings::types::Error as W;
    let m = e.message.clone();
    match e.kind {
        ErrorKind::Unsupported => W::Unsupported(m),
        ErrorKind::Rejected => W::Rejected(m),
        ErrorKind::Project => W::InvalidInput(m),
        ErrorKind::Internal => W::Internal(m),
        _ if m.contains("syntax error") || m.contains("no such") => W::InvalidInput(m),
        _ => W::Io(m),
    }
}

fn decode_row(row: &SqliteRow) -> Result<Vec<Value>> {
    use sqlx::Decode;
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(|e| Error::io(e.to_string()))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let kind = raw.type_info().name().to_owned();
        let bad = |e: sqlx::error::BoxDynError| Error::io(format!("column {i}: {e}"));
        let v = match kind.as_str() {
            "INTEGER" => Value::Int(<i64 as Decode<sqlx::Sqlite>>::decode(raw).map_err(bad)?),
            "REAL" => Value::Float(<f64 as Decode<sqlx::Sqlite>>::decode(raw).map_err(bad)?),
            "BLOB" => Value::Bytes(<Vec<u8> as Decode<sqlx::Sqlite>>::decode(raw).map_err(bad)?),
            _ => {
                // TEXT (and anything else): text if valid UTF-8, else the bytes.
                let bytes = <&[u8] as Decode<sqlx::Sqlite>>::decode(raw).map_err(bad)?;
                match std::str::from_utf8(bytes) {
                    Ok(s) => Value::Text(s.to_owned()),
                    Err(_) => Value::Bytes(bytes.to_vec()),
                }
            }
        };
        out.push(v);
    }
    Ok(out)
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
