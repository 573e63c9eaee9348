//! The `sql` capability: connections bound to project connection names.
//!
//! The host owns pools, cursors and bulk loads; plugins hold only handles.
//! A query runs in its own task that feeds a bounded channel, so a slow
//! consumer applies back-pressure instead of buffering a whole result.
//!
//! One module per dialect, each with the same parts: `open`, `query` (the
//! producer task), `execute`, a `Loader` (bulk load with per-row rejects),
//! value decoding and binding. Supported: SQLite, PostgreSQL, MySQL/MariaDB.

/// Shared parts of the dialect modules, written once. Each expands inside a
/// dialect module and uses that module's `bind`, `decode_row`,
/// `is_rejection` and types.
macro_rules! dialect_common {
    ($pool:ty) => {
        dialect_common!(@query $pool);
        dialect_common!(@execute $pool);
    };
    (@query $pool:ty) => {
        /// The producer task of a query: describes the result, then streams rows.
        pub(super) async fn query(
            pool: $pool,
            name: String,
            sql: String,
            params: Vec<Value>,
            cols_tx: tokio::sync::oneshot::Sender<Result<Vec<ColumnInfo>>>,
            tx: tokio::sync::mpsc::Sender<Result<super::Chunk>>,
            session: super::Session,
        ) {
            use futures::StreamExt;
            use sqlx::{Column as _, Executor as _, Statement as _, TypeInfo as _};
            let mut conn = match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    let _ = cols_tx.send(Err(classify(&name, e)));
                    return;
                }
            };
            if !session.settings.is_empty() || session.read_only {
                // Session settings (a statement timeout) and anything a
                // read-only statement may have set must not outlive this
                // query: the connection is closed, not returned to the pool.
                conn.close_on_drop();
            }
            if session.read_only {
                // Opened, and its first snapshot taken, before the plugin's
                // statement runs: from then on the transaction cannot be
                // made read-write again.
                for stmt in session.begin {
                    if let Err(e) = (&mut *conn).execute(*stmt).await {
                        let _ = cols_tx.send(Err(classify(&name, e)));
                        return;
                    }
                }
            }
            if !session.settings.is_empty() {
                let mut applied = false;
                let mut last = None;
                // Alternatives (MariaDB, then MySQL spelling): the first that works.
                for stmt in &session.settings {
                    match (&mut *conn).execute(stmt.as_str()).await {
                        Ok(_) => {
                            applied = true;
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                if !applied {
                    if let Some(e) = last {
                        let _ = cols_tx.send(Err(classify(&name, e)));
                        return;
                    }
                }
            }
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
            let mut chunk = super::ChunkBuilder::default();
            while let Some(row) = rows.next().await {
                match row
                    .map_err(|e| classify(&name, e))
                    .and_then(|r| decode_row(&r))
                {
                    Ok(values) => {
                        if let Some(full) = chunk.push(values) {
                            if tx.send(Ok(full)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        if let Some(rest) = chunk.finish() {
                            let _ = tx.send(Ok(rest)).await;
                        }
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
            drop(rows);
            if let Some(rest) = chunk.finish() {
                let _ = tx.send(Ok(rest)).await;
            }
            if session.read_only {
                // The connection is closed after this anyway.
                let _ = (&mut *conn).execute("ROLLBACK").await;
            }
        }

    };
    (@execute $pool:ty) => {
        /// Runs a statement without result rows. Without parameters the simple
        /// protocol is used, which allows several statements and any DDL.
        ///
        /// The statement is cancelled in the server too when the caller stops
        /// waiting (a plugin's host-call deadline drops this future): the
        /// connection's server-side id is read first, and a guard sends
        /// [`CANCEL_SQL`] for it from another connection unless the statement
        /// finished.
        pub(super) async fn execute(
            pool: &$pool,
            name: &str,
            statement: &str,
            params: Vec<Value>,
        ) -> Result<u64> {
            use sqlx::Executor as _;
            let mut conn = pool.acquire().await.map_err(|e| classify(name, e))?;
            let id: i64 = sqlx::query_scalar(BACKEND_ID_SQL)
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| classify(name, e))?;
            let mut guard = {
                let pool = pool.clone();
                super::CancelOnDrop::new(move || {
                    let cancel = CANCEL_SQL.replace("{id}", &id.to_string());
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        rt.spawn(async move {
                            let _ = pool.execute(cancel.as_str()).await;
                        });
                    }
                })
            };
            let done = if params.is_empty() {
                (&mut *conn).execute(statement).await
            } else {
                let mut q = sqlx::query(statement);
                for p in params {
                    q = bind(q, p);
                }
                q.execute(&mut *conn).await
            };
            guard.disarm();
            Ok(done.map_err(|e| classify(name, e))?.rows_affected())
        }
    };
}

/// Multi-row INSERT loading with a per-row fallback, for loaders with the
/// fields `db`, `tx`, `prefix`, `row_sql`, `conflict`, `width`, `rows_per_stmt`
/// (SQLite and MySQL both roll back only a failed statement, so the
/// transaction survives a refused row).
macro_rules! insert_loading {
    () => {
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

        /// Loads rows. A chunk the database refuses is retried row by row so
        /// that only the offending rows are rejected, each with the reason.
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
                    Ok(_) => outcome.written += chunk.len() as u64,
                    Err(e) if is_rejection(&e) => {
                        let single = self.statement(1);
                        for (i, row) in chunk.into_iter().enumerate() {
                            let mut q = sqlx::query(&single);
                            for v in row {
                                q = bind(q, v);
                            }
                            match q.execute(&mut *self.tx).await {
                                Ok(_) => outcome.written += 1,
                                Err(e) if is_rejection(&e) => outcome
                                    .rejected
                                    .push((base + i, $crate::caps::sql::reject_reason(&e))),
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
    };
}

mod errors;
mod load;
mod mysql;
mod postgres;
mod sqlite;
mod stream;

pub use errors::*;
pub use load::*;
pub use stream::*;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::dsn::{parse_dsn, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Value;
use crate::model::{ColumnInfo, Dialect};
use crate::project::Secret;

/// The kind's name in manifests and grants.
pub const KIND: &str = "sql";

/// Binds a granted connection to the plugin's label.
pub(crate) fn bind(
    ctx: &mut super::PluginContext,
    res: &super::Resources<'_>,
    label: &str,
    name: &str,
) {
    ctx.sql
        .insert(label.to_owned(), res.connections[name].clone());
}

/// Rows per chunk handed from a query's producer to its reader. Rows cross
/// the channel in chunks, not one by one: a per-row hand-off (a wake-up and a
/// lock per row) cost more than decoding the row did.
pub const STREAM_CHUNK_ROWS: usize = 256;
/// Bytes per chunk, whatever the row count: bounds chunks of wide rows.
pub const STREAM_CHUNK_BYTES: usize = 1 << 20;
/// Chunks buffered between a query's producer and its reader: enough to keep
/// the database busy while a batch is processed (8 x 256 rows), small enough
/// to bound memory (at most 8 MiB).
pub const STREAM_CHANNEL_CHUNKS: usize = 8;

/// Runs a cancellation when dropped armed: a statement abandoned by its
/// caller (a deadline) is stopped in the database too, not left running.
pub(crate) struct CancelOnDrop {
    cancel: Option<Box<dyn FnOnce() + Send>>,
}

impl CancelOnDrop {
    pub(crate) fn new(cancel: impl FnOnce() + Send + 'static) -> Self {
        Self {
            cancel: Some(Box::new(cancel)),
        }
    }

    /// The statement finished: nothing to cancel.
    pub(crate) fn disarm(&mut self) {
        self.cancel = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.cancel.take() {
            c();
        }
    }
}

/// How a query's connection is prepared: session settings to apply (the
/// first alternative that works) and, for a read-only query, the
/// statements that open its read-only transaction.
pub(crate) struct Session {
    settings: Vec<String>,
    read_only: bool,
    begin: &'static [&'static str],
}

impl Session {
    fn new(settings: Vec<String>, read_only: bool, begin: &'static [&'static str]) -> Self {
        Self {
            settings,
            read_only,
            begin,
        }
    }
}

/// Rows a producer hands over at once, with each row's approximate size
/// (measured once, by the producer, on its own thread).
#[derive(Default)]
pub(crate) struct Chunk {
    rows: Vec<Vec<Value>>,
    sizes: Vec<u32>,
}

/// Collects rows into chunks of [`STREAM_CHUNK_ROWS`] rows or
/// [`STREAM_CHUNK_BYTES`] bytes, whichever comes first.
#[derive(Default)]
pub(crate) struct ChunkBuilder {
    chunk: Chunk,
    bytes: usize,
}

impl ChunkBuilder {
    /// Adds a row; returns a full chunk when one is ready.
    pub(crate) fn push(&mut self, row: Vec<Value>) -> Option<Chunk> {
        let size = crate::value::row_size(&row);
        self.bytes += size;
        self.chunk.rows.push(row);
        self.chunk.sizes.push(size.min(u32::MAX as usize) as u32);
        if self.chunk.rows.len() >= STREAM_CHUNK_ROWS || self.bytes >= STREAM_CHUNK_BYTES {
            self.bytes = 0;
            Some(std::mem::replace(
                &mut self.chunk,
                Chunk {
                    rows: Vec::with_capacity(STREAM_CHUNK_ROWS),
                    sizes: Vec::with_capacity(STREAM_CHUNK_ROWS),
                },
            ))
        } else {
            None
        }
    }

    /// The rows left over, if any.
    pub(crate) fn finish(&mut self) -> Option<Chunk> {
        self.bytes = 0;
        (!self.chunk.rows.is_empty()).then(|| std::mem::take(&mut self.chunk))
    }
}

/// An opened database, shared by the host and every plugin granted it.
pub struct Database {
    /// The project's name for this connection.
    pub name: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// True when writes are refused (dry runs, connections no target uses).
    pub read_only: bool,
    /// What the connection's role could do despite read-only transactions
    /// (superuser, server-program or server-file privileges); checked when a
    /// read-only connection opens.
    pub bypasses: Vec<String>,
    backend: Backend,
}

enum Backend {
    Sqlite(sqlx::SqlitePool, sqlite::SqliteFile),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
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
    strict: bool,
    cell: tokio::sync::OnceCell<Arc<Database>>,
}

impl LazyDatabase {
    /// A connection that will be opened on first use; with `read_only`
    /// (a dry run, or a connection no step writes to) nothing can write
    /// through it. With `strict`, a read-only connection whose role could
    /// bypass read-only transactions is refused instead of warned about.
    pub fn new(name: &str, dsn: Secret, project_dir: &Path, read_only: bool, strict: bool) -> Self {
        Self {
            name: name.to_owned(),
            dsn,
            project_dir: project_dir.to_path_buf(),
            dry_run: read_only,
            strict,
            cell: tokio::sync::OnceCell::new(),
        }
    }

    /// The project's name for the connection.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dialect the DSN names, known without connecting.
    pub fn dialect(&self) -> Option<Dialect> {
        match parse_dsn(&self.dsn, &self.project_dir).ok()? {
            Target::Sqlite { .. } => Some(Dialect::Sqlite),
            Target::Postgres => Some(Dialect::Postgres),
            Target::MySql => Some(Dialect::Mysql),
        }
    }

    /// The DSN, redacted.
    pub fn redacted(&self) -> String {
        self.dsn.to_string()
    }

    /// Opens the connection (once) and returns it.
    pub async fn get(&self) -> Result<Arc<Database>> {
        self.cell
            .get_or_try_init(|| async {
                let db =
                    Database::open(&self.name, &self.dsn, &self.project_dir, self.dry_run).await?;
                if !db.bypasses.is_empty() {
                    let what = format!(
                        "connection {} is used read-only, but {}: read-only transactions do not stop that; use a least-privilege role (docs/security.md)",
                        self.name,
                        db.bypasses.join("; ")
                    );
                    if self.strict {
                        return Err(Error::new(
                            ErrorKind::Project,
                            format!("{what} (refused with --strict)"),
                        ));
                    }
                    tracing::warn!("{what}");
                }
                Ok(Arc::new(db))
            })
            .await
            .cloned()
    }
}

/// A plugin's handle on a granted connection (WIT `connection`).
pub struct ConnectionHandle {
    pub(crate) db: Arc<Database>,
    /// Statements through this handle run read-only (the plugin is not a
    /// step's target); writes are refused.
    pub(crate) read_only: bool,
}

/// A plugin's handle on a running query (WIT `rows`).
pub struct RowsHandle {
    pub(crate) stream: RowStream,
}

/// Opens one direct connection and closes it: its error says what is wrong
/// (refused, authentication, unknown database) where a pool would only time out.
async fn probe<O>(name: &str, dsn: &Secret, opts: &O, timeout: std::time::Duration) -> Result<()>
where
    O: sqlx::ConnectOptions,
    O::Connection: Sized,
{
    match tokio::time::timeout(timeout, opts.connect()).await {
        Ok(Ok(conn)) => {
            let _ = sqlx::Connection::close(conn).await;
            Ok(())
        }
        Ok(Err(e)) => Err(report_connect(name, dsn, e)),
        Err(_) => Err(Error::io(format!(
            "connection {name} ({dsn}): no answer within {} s",
            timeout.as_secs()
        ))),
    }
}

/// A failure to connect, with the redacted DSN.
fn report_connect(name: &str, dsn: &Secret, e: sqlx::Error) -> Error {
    let mut err = Error::io(format!("connection {name} ({dsn}): {}", db_message(&e)));
    err.retryable = matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut);
    err
}

impl Database {
    /// Opens connection `name`. With `dry_run`, the database is opened
    /// read-only (SQLite: never created; PostgreSQL: read-only transactions).
    pub async fn open(name: &str, dsn: &Secret, project_dir: &Path, dry_run: bool) -> Result<Self> {
        let (dialect, read_only, backend) = match parse_dsn(dsn, project_dir)? {
            Target::Sqlite { path, mode } => {
                let (read_only, pool) = sqlite::open(name, dsn, &path, &mode, dry_run).await?;
                let file = sqlite::SqliteFile { path, read_only };
                (Dialect::Sqlite, read_only, Backend::Sqlite(pool, file))
            }
            Target::Postgres => {
                let pool = postgres::open(name, dsn, dry_run).await?;
                (Dialect::Postgres, dry_run, Backend::Postgres(pool))
            }
            Target::MySql => {
                let pool = mysql::open(name, dsn, dry_run).await?;
                (Dialect::Mysql, dry_run, Backend::MySql(pool))
            }
        };
        let checked = match (&backend, read_only) {
            (Backend::Postgres(pool), true) => postgres::bypasses(pool).await,
            (Backend::MySql(pool), true) => mysql::bypasses(pool).await,
            _ => Ok(Vec::new()),
        };
        // A server too old for the check (PostgreSQL before 11 has no
        // pg_execute_server_program role) is not refused for that: the
        // unknown is named the same way, so `--strict` refuses it.
        let bypasses = checked.unwrap_or_else(|e| {
            vec![format!(
                "its role's privileges could not be checked ({})",
                db_message(&e)
            )]
        });
        Ok(Self {
            name: name.to_owned(),
            dialect,
            read_only,
            bypasses,
            backend,
        })
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

    /// Starts a query; rows are read from the returned stream. On a
    /// read-only connection it runs read-only (see [`Database::query_read_only`]).
    pub async fn query(&self, statement: &str, params: Vec<Value>) -> Result<RowStream> {
        self.query_in_session(statement, params, Vec::new(), false)
            .await
    }

    /// Starts a query that cannot write, whatever the connection allows:
    /// SQLite opens it read-only with a reads-only authorizer; PostgreSQL
    /// and MySQL run it alone in a `READ ONLY` transaction that is rolled
    /// back (undoing any session setting it made) on a connection that is
    /// then closed, not returned to the pool. Used for every statement of a
    /// plugin on a source grant and for the source reads themselves.
    pub async fn query_read_only(&self, statement: &str, params: Vec<Value>) -> Result<RowStream> {
        self.query_in_session(statement, params, Vec::new(), true)
            .await
    }

    /// Starts a query the server stops after `timeout` (PostgreSQL
    /// `statement_timeout`, MariaDB `max_statement_time`, MySQL
    /// `max_execution_time`). SQLite has no server: the caller's deadline
    /// applies (see `RowStream::deadline`).
    pub async fn query_with_timeout(
        &self,
        statement: &str,
        params: Vec<Value>,
        timeout: std::time::Duration,
        read_only: bool,
    ) -> Result<RowStream> {
        let ms = timeout.as_millis().max(1);
        let session = match self.dialect {
            Dialect::Postgres => vec![format!("SET statement_timeout = {ms}")],
            Dialect::Mysql => vec![
                format!("SET SESSION max_statement_time = {}", ms as f64 / 1000.0),
                format!("SET SESSION max_execution_time = {ms}"),
            ],
            Dialect::Sqlite => Vec::new(),
        };
        let mut stream = self
            .query_in_session(statement, params, session, read_only)
            .await?;
        stream.deadline = Some(tokio::time::Instant::now() + timeout);
        Ok(stream)
    }

    async fn query_in_session(
        &self,
        statement: &str,
        params: Vec<Value>,
        session: Vec<String>,
        read_only: bool,
    ) -> Result<RowStream> {
        let read_only = read_only || self.read_only;
        let sql = statement.to_owned();
        let (tx, rx) = mpsc::channel::<Result<Chunk>>(STREAM_CHANNEL_CHUNKS);
        let (cols_tx, cols_rx) = tokio::sync::oneshot::channel::<Result<Vec<ColumnInfo>>>();
        let name = self.name.clone();
        let mut interrupt = None;
        let task = match &self.backend {
            Backend::Sqlite(_, file) => {
                // Rows are read through rusqlite on a blocking thread (see
                // `sqlite::stream`); dropping the stream interrupts the query.
                let read_only = read_only || file.read_only;
                let conn = sqlite::open_reader(&name, file, read_only)?;
                interrupt = Some(conn.get_interrupt_handle());
                tokio::task::spawn_blocking(move || {
                    sqlite::stream(conn, read_only, name, sql, params, cols_tx, tx)
                })
            }
            Backend::Postgres(pool) => tokio::spawn(postgres::query(
                pool.clone(),
                name,
                sql,
                params,
                cols_tx,
                tx,
                Session::new(session, read_only, postgres::READ_ONLY),
            )),
            Backend::MySql(pool) => tokio::spawn(mysql::query(
                pool.clone(),
                name,
                sql,
                params,
                cols_tx,
                tx,
                Session::new(session, read_only, mysql::READ_ONLY),
            )),
        };
        let columns = cols_rx
            .await
            .map_err(|_| Error::internal("query task ended before describing its result"))??;
        Ok(RowStream {
            columns,
            rx,
            pending: Vec::new().into_iter(),
            pending_sizes: Vec::new().into_iter(),
            task: StopOnDrop { task, interrupt },
            done: false,
            deadline: None,
        })
    }

    /// Runs a statement without result rows; returns affected rows.
    pub async fn execute(&self, statement: &str, params: Vec<Value>) -> Result<u64> {
        self.refuse_writes()?;
        match &self.backend {
            Backend::Sqlite(_, file) => sqlite::execute(file, &self.name, statement, params).await,
            Backend::Postgres(pool) => postgres::execute(pool, &self.name, statement, params).await,
            Backend::MySql(pool) => mysql::execute(pool, &self.name, statement, params).await,
        }
    }

    /// Whether a table or view exists: `quoted` as the target writes it
    /// (PostgreSQL: possibly schema-qualified), `bare` its name (MySQL: in
    /// the current database). SQLite: `false` (not built beside).
    pub async fn relation_exists(&self, quoted: &str, bare: &str) -> Result<bool> {
        match &self.backend {
            Backend::Postgres(pool) => postgres::relation_exists(pool, &self.name, quoted).await,
            Backend::MySql(pool) => mysql::relation_exists(pool, &self.name, bare).await,
            Backend::Sqlite(pool, _) => {
                let found: Option<(i64,)> =
                    sqlx::query_as("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
                        .bind(bare)
                        .fetch_optional(pool)
                        .await
                        .map_err(|e| classify(&self.name, e))?;
                Ok(found.is_some())
            }
        }
    }

    /// The tables an existing table's foreign keys reference, as the target
    /// declares them (bare names): `quoted` as the target writes the table
    /// (PostgreSQL: possibly schema-qualified), `bare` its name. Empty for
    /// a table that does not exist. Used to load an application's own
    /// schema parents first, whatever the source declares.
    pub async fn referenced_tables(&self, quoted: &str, bare: &str) -> Result<Vec<String>> {
        let err = |e| classify(&self.name, e);
        match &self.backend {
            Backend::Postgres(pool) => sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT p.relname::text FROM pg_constraint con \
                 JOIN pg_class p ON p.oid = con.confrelid \
                 WHERE con.contype = 'f' AND con.conrelid = to_regclass($1)",
            )
            .bind(quoted)
            .fetch_all(pool)
            .await
            .map_err(err),
            Backend::MySql(pool) => sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT CAST(REFERENCED_TABLE_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL",
            )
            .bind(bare)
            .fetch_all(pool)
            .await
            .map_err(err),
            Backend::Sqlite(pool, _) => {
                sqlx::query_scalar::<_, String>("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)")
                    .bind(bare)
                    .fetch_all(pool)
                    .await
                    .map_err(err)
            }
        }
    }

    /// An identifier quoted for this connection's dialect.
    pub fn quote_ident(&self, name: &str) -> String {
        match self.dialect {
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The child rows of `fk` whose parent row is missing, as
    /// `(child key values..., foreign-key values...)`; rows with a NULL in
    /// a foreign-key column are never orphans (MATCH SIMPLE).
    pub async fn orphans(&self, fk: &ForeignKeyCheck<'_>) -> Result<RowStream> {
        let cols: Vec<String> = fk
            .child_key
            .iter()
            .chain(fk.columns)
            .map(|c| format!("gw_c.{}", self.quote_ident(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} gw_c WHERE {}",
            cols.join(", "),
            fk.child,
            self.orphan_predicate(fk)
        );
        self.query(&sql, Vec::new()).await
    }

    /// How many child rows of `fk` have no parent row.
    pub async fn count_orphans(&self, fk: &ForeignKeyCheck<'_>) -> Result<u64> {
        let sql = format!(
            "SELECT count(*) FROM {} gw_c WHERE {}",
            fk.child,
            self.orphan_predicate(fk)
        );
        let mut rows = self.query(&sql, Vec::new()).await?;
        let n = rows
            .next_rows(1, 1 << 10)
            .await?
            .and_then(|r| r.into_iter().next())
            .and_then(|r| r.into_iter().next());
        Ok(match n {
            Some(Value::Int(n)) => n.max(0) as u64,
            Some(Value::Uint(n)) => n,
            Some(Value::Decimal(d)) | Some(Value::Text(d)) => d.parse().unwrap_or(0),
            _ => 0,
        })
    }

    /// Deletes the child rows of `fk` whose parent row is missing
    /// (`set_null`: sets their foreign-key columns NULL instead); returns
    /// how many rows it changed.
    pub async fn remove_orphans(&self, fk: &ForeignKeyCheck<'_>, set_null: bool) -> Result<u64> {
        let q = |c: &str| self.quote_ident(c);
        let sql = match (self.dialect, set_null) {
            // MySQL refuses a subquery on the table a DELETE or UPDATE
            // changes (a self-reference): its multi-table forms join instead.
            (Dialect::Mysql, _) => {
                let on: Vec<String> = fk
                    .columns
                    .iter()
                    .zip(fk.ref_columns)
                    .map(|(c, r)| format!("gw_p.{} = gw_c.{}", q(r), q(c)))
                    .collect();
                let present: Vec<String> = fk
                    .columns
                    .iter()
                    .map(|c| format!("gw_c.{} IS NOT NULL", q(c)))
                    .collect();
                let missing = format!("gw_p.{} IS NULL", q(&fk.ref_columns[0]));
                let join = format!(
                    "{} gw_c LEFT JOIN {} gw_p ON {}",
                    fk.child,
                    fk.parent,
                    on.join(" AND ")
                );
                let wh = format!("{} AND {missing}", present.join(" AND "));
                if set_null {
                    let set: Vec<String> = fk
                        .columns
                        .iter()
                        .map(|c| format!("gw_c.{} = NULL", q(c)))
                        .collect();
                    format!("UPDATE {join} SET {} WHERE {wh}", set.join(", "))
                } else {
                    format!("DELETE gw_c FROM {join} WHERE {wh}")
                }
            }
            (_, true) => {
                let set: Vec<String> = fk
                    .columns
                    .iter()
                    .map(|c| format!("{} = NULL", q(c)))
                    .collect();
                format!(
                    "UPDATE {} AS gw_c SET {} WHERE {}",
                    fk.child,
                    set.join(", "),
                    self.orphan_predicate(fk)
                )
            }
            (_, false) => format!(
                "DELETE FROM {} AS gw_c WHERE {}",
                fk.child,
                self.orphan_predicate(fk)
            ),
        };
        self.execute(&sql, Vec::new()).await
    }

    fn orphan_predicate(&self, fk: &ForeignKeyCheck<'_>) -> String {
        let q = |c: &str| self.quote_ident(c);
        let present: Vec<String> = fk
            .columns
            .iter()
            .map(|c| format!("gw_c.{} IS NOT NULL", q(c)))
            .collect();
        let matches: Vec<String> = fk
            .columns
            .iter()
            .zip(fk.ref_columns)
            .map(|(c, r)| format!("gw_p.{} = gw_c.{}", q(r), q(c)))
            .collect();
        format!(
            "{} AND NOT EXISTS (SELECT 1 FROM {} gw_p WHERE {})",
            present.join(" AND "),
            fk.parent,
            matches.join(" AND ")
        )
    }

    /// Runs a statement that adds foreign keys without checking the rows
    /// already there: MySQL with `foreign_key_checks` off for that one
    /// statement, on a connection closed afterwards. (PostgreSQL says so in
    /// the statement, `NOT VALID`.)
    pub async fn execute_unchecked(&self, statement: &str) -> Result<u64> {
        self.refuse_writes()?;
        match &self.backend {
            Backend::MySql(pool) => mysql::execute_unchecked(pool, &self.name, statement).await,
            _ => self.execute(statement, Vec::new()).await,
        }
    }

    /// Foreign keys of a PostgreSQL table that are not validated
    /// (`NOT VALID`): their names. Empty on other dialects.
    pub async fn unvalidated_foreign_keys(&self, quoted: &str) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Postgres(pool) => sqlx::query_scalar::<_, String>(
                "SELECT conname::text FROM pg_constraint \
                 WHERE conrelid = to_regclass($1) AND contype = 'f' AND NOT convalidated ORDER BY conname",
            )
            .bind(quoted)
            .fetch_all(pool)
            .await
            .map_err(|e| classify(&self.name, e)),
            _ => Ok(Vec::new()),
        }
    }

    /// Swaps tables built beside the ones they replace into place: one
    /// transaction on PostgreSQL, one atomic `RENAME TABLE` on MySQL (see
    /// `model::Staging`).
    pub async fn swap_in(&self, swaps: &[&crate::model::Staging]) -> Result<()> {
        self.refuse_writes()?;
        match &self.backend {
            Backend::Postgres(pool) => postgres::swap_in(pool, &self.name, swaps).await,
            Backend::MySql(pool) => mysql::swap_in(pool, &self.name, swaps).await,
            Backend::Sqlite(..) => Err(Error::internal("SQLite tables are not built beside")),
        }
    }

    /// Whether the transaction `id` ([`TableLoader::commit_id`]) committed:
    /// `Some(true)` committed, `Some(false)` aborted (or never reached its
    /// commit), `None` when the server no longer knows. A transaction still
    /// "in progress" (its connection not yet closed by the server after a
    /// kill) is waited for, up to [`COMMIT_STATUS_WAIT`].
    pub async fn commit_status(&self, id: &str) -> Result<Option<bool>> {
        let Backend::Postgres(pool) = &self.backend else {
            return Err(Error::internal("commit ids are PostgreSQL's"));
        };
        let started = std::time::Instant::now();
        loop {
            let (status,): (Option<String>,) =
                sqlx::query_as("SELECT txid_status($1::text::bigint)")
                    .bind(id)
                    .fetch_one(pool)
                    .await
                    .map_err(|e| classify(&self.name, e))?;
            match status.as_deref() {
                Some("committed") => return Ok(Some(true)),
                Some("aborted") => return Ok(Some(false)),
                Some(_) if started.elapsed() < COMMIT_STATUS_WAIT => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                // Not decided yet: loading again now could duplicate rows
                // if it still commits, so the run stops and says so.
                Some(other) => {
                    let mut e = Error::io(format!(
                        "connection {}: the load transaction {id} of the interrupted run is \
                         still {other:?} on the server after {}s; run again once it has ended",
                        self.name,
                        COMMIT_STATUS_WAIT.as_secs()
                    ));
                    e.retryable = true;
                    return Err(e);
                }
                None => return Ok(None),
            }
        }
    }

    /// Starts loading rows into `table` (quoted) inside one transaction.
    /// `pre` (SQLite and PostgreSQL, whose DDL is transactional) are the
    /// table's DDL statements, run first inside that transaction: a failed
    /// load then leaves the target as it was.
    pub async fn begin_load(
        &self,
        table: &str,
        columns: &[String],
        upsert_key: &[String],
        pre: &[String],
    ) -> Result<TableLoader> {
        self.refuse_writes()?;
        if !pre.is_empty() && matches!(self.backend, Backend::MySql(..)) {
            return Err(Error::internal(format!(
                "{table}: MySQL commits DDL implicitly; it cannot run inside the load transaction"
            )));
        }
        if columns.is_empty() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{table}: no columns to load"),
            ));
        }
        Ok(match &self.backend {
            Backend::Sqlite(pool, _) => TableLoader::Sqlite(
                sqlite::Loader::begin(pool, &self.name, table, columns, upsert_key, pre).await?,
            ),
            Backend::Postgres(pool) => TableLoader::Postgres(
                postgres::Loader::begin(pool, &self.name, table, columns, upsert_key, pre).await?,
            ),
            Backend::MySql(pool) => TableLoader::MySql(
                mysql::Loader::begin(pool, &self.name, table, columns, upsert_key).await?,
            ),
        })
    }
}

/// A foreign key between two tables of a step, as the host checks it
/// for orphans before adding it (`orphans` policy).
pub struct ForeignKeyCheck<'a> {
    /// The child table, quoted for the dialect.
    pub child: &'a str,
    /// The child's key columns (bare), to name the rows found.
    pub child_key: &'a [String],
    /// The referencing columns (bare).
    pub columns: &'a [String],
    /// The parent table, quoted.
    pub parent: &'a str,
    /// The referenced columns (bare), in the order of `columns`.
    pub ref_columns: &'a [String],
}
