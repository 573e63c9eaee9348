//! SQLite: pools, queries, decoding by storage class, multi-row INSERT loads.

use std::path::Path;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, TypeInfo, ValueRef};

use super::{classify, db_message, LoadOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::project::Secret;
use crate::runtime::bindings::godwit::plugin::sql::ColumnInfo;
use crate::runtime::bindings::types::Value;
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
        .connect_with(opts)
        .await
        .map_err(|e| Error::io(format!("connection {name} ({dsn}): {e}")))?;
    Ok((read_only, pool))
}

dialect_common!(SqlitePool);

/// A table being loaded with multi-row INSERTs inside one transaction.
pub struct Loader {
    db: String,
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
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
    ) -> Result<Self> {
        let mut tx = pool.begin().await.map_err(|e| classify(name, e))?;
        // Checked at commit, so self-references and rows in any order load.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(name, e))?;
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
