//! MySQL / MariaDB: pools (strict SQL mode, UTC sessions), queries, decoding
//! by type, multi-row INSERT loads with per-row rejects.

use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Decode, Executor, Row, TypeInfo, ValueRef};

use super::{classify, LoadOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::model::ColumnInfo;
use crate::model::Value;
use crate::project::Secret;
use crate::value::{format_date, format_time, format_timestamp, render_text};

/// Connections per pool: one reader or loader per concurrently loaded table
/// (up to `MAX_WORKERS`) plus a couple for plugin queries. Opened lazily.
pub const MYSQL_POOL_SIZE: u32 = crate::project::MAX_WORKERS as u32 + 2;
/// How long to wait for a connection before failing.
pub const MYSQL_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// MySQL's limit on placeholders per prepared statement.
pub const MYSQL_MAX_PLACEHOLDERS: usize = 65_535;
/// Rows per multi-row INSERT (as for SQLite).
pub const INSERT_ROWS_PER_STATEMENT: usize = 500;

/// Session settings for every connection: refuse instead of truncating or
/// coercing (strict mode), never turn an explicit 0 id into a new
/// auto-increment value, and read and write TIMESTAMP values in UTC.
const SESSION_SQL: &str = "SET SESSION sql_mode = CONCAT(@@sql_mode, \
    ',STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO'), \
    time_zone = '+00:00'";

/// Opens a pool. In a dry run every session is read-only.
pub(super) async fn open(name: &str, dsn: &Secret, dry_run: bool) -> Result<MySqlPool> {
    crate::dsn::check_mysql_params(dsn)
        .map_err(|m| Error::project(format!("connection {name}: {m}")))?;
    let url = dsn.expose().replacen("mariadb://", "mysql://", 1);
    let opts = MySqlConnectOptions::from_str(&url)
        .map_err(|_| Error::project(format!("connection {name} ({dsn}): not a valid MySQL URL")))?;
    super::probe(name, dsn, &opts, MYSQL_CONNECT_TIMEOUT).await?;
    MySqlPoolOptions::new()
        .max_connections(MYSQL_POOL_SIZE)
        .acquire_timeout(MYSQL_CONNECT_TIMEOUT)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(SESSION_SQL).await?;
                if dry_run {
                    conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                }
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .map_err(|e| super::report_connect(name, dsn, e))
}

/// Opens a read-only query's transaction: MySQL and MariaDB refuse to
/// change its access mode while it is in progress.
pub(super) const READ_ONLY: &[&str] = &["START TRANSACTION READ ONLY"];

/// What the connection's account may do that no read-only transaction
/// stops: the FILE privilege (`SELECT ... INTO OUTFILE`, `LOAD_FILE`) and
/// SUPER.
pub(super) async fn bypasses(pool: &MySqlPool) -> std::result::Result<Vec<String>, sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT CAST(CURRENT_USER() AS CHAR), CAST(COALESCE(GROUP_CONCAT(PRIVILEGE_TYPE), '') AS CHAR) \
         FROM information_schema.USER_PRIVILEGES \
         WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                                SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')",
    )
    .fetch_one(pool)
    .await?;
    let user: String = row.try_get(0)?;
    let privs: String = row.try_get(1)?;
    let mut out = Vec::new();
    for p in privs.split(',') {
        match p.trim() {
            "FILE" => out.push(format!(
                "account {user} has the FILE privilege (SELECT ... INTO OUTFILE writes and LOAD_FILE reads server files)"
            )),
            "SUPER" => out.push(format!(
                "account {user} has the SUPER privilege (it can change global settings)"
            )),
            _ => {}
        }
    }
    Ok(out)
}

/// Whether a table of this name exists in the current database.
pub(super) async fn relation_exists(pool: &MySqlPool, name: &str, table: &str) -> Result<bool> {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .map(|n| n > 0)
    .map_err(|e| classify(name, e))
}

/// Runs `statement` with `foreign_key_checks` off, on a connection that
/// is closed afterwards (the session setting never reaches the pool).
pub(super) async fn execute_unchecked(
    pool: &MySqlPool,
    name: &str,
    statement: &str,
) -> Result<u64> {
    use sqlx::{Connection as _, Executor as _};
    let err = |e| classify(name, e);
    let mut conn = pool.acquire().await.map_err(err)?.detach();
    conn.execute("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(err)?;
    let done = conn.execute(sqlx::raw_sql(statement)).await.map_err(err);
    let _ = conn.close().await;
    Ok(done?.rows_affected())
}

/// Swaps staging tables in with one atomic `RENAME TABLE` (old tables to
/// `<name>__gw_old`, staging tables to their final names), then drops the
/// old tables, children first (plans come parents first). A staging table
/// that is gone was swapped in by an interrupted run.
pub(super) async fn swap_in(
    pool: &MySqlPool,
    name: &str,
    swaps: &[&crate::model::Staging],
) -> Result<()> {
    use sqlx::Executor as _;
    let err = |e| classify(name, e);
    let quote = |s: &str| format!("`{}`", s.replace('`', "``"));
    let mut renames = Vec::new();
    let mut olds = Vec::new();
    let mut pending = Vec::new();
    for s in swaps {
        if !relation_exists(pool, name, &s.name).await? {
            tracing::warn!(
                table = %s.final_name,
                "staging table {} not found: taken as swapped in by an interrupted run",
                s.name
            );
            continue;
        }
        pending.push(s);
    }
    // Old tables a killed run left behind (between its swap and its drops).
    let stale: Vec<String> = pending
        .iter()
        .map(|s| format!("{}__gw_old", s.final_name))
        .collect();
    drop_old_tables(pool, name, &stale).await?;
    for s in pending {
        let old = format!("{}__gw_old", s.final_name);
        if relation_exists(pool, name, &s.final_name).await? {
            renames.push(format!("{} TO {}", s.final_table, quote(&old)));
            olds.push(old);
        }
        renames.push(format!("{} TO {}", s.table, s.final_table));
    }
    if renames.is_empty() {
        return Ok(());
    }
    pool.execute(format!("RENAME TABLE {}", renames.join(", ")).as_str())
        .await
        .map_err(err)?;
    drop_old_tables(pool, name, &olds).await?;
    Ok(())
}

/// Drops the replaced tables `olds` (those that exist). They keep their
/// foreign keys, pointing at each other's old names after the swap; in a
/// cycle (a <-> b) neither could be dropped first, so their keys go first.
/// A key of a table outside the step still holds an old table, and its
/// DROP fails as it should.
async fn drop_old_tables(pool: &MySqlPool, name: &str, olds: &[String]) -> Result<()> {
    use sqlx::Executor as _;
    let err = |e| classify(name, e);
    let quote = |s: &str| format!("`{}`", s.replace('`', "``"));
    for old in olds {
        let keys: Vec<(String,)> = sqlx::query_as(
            "SELECT CAST(constraint_name AS CHAR) FROM information_schema.referential_constraints \
             WHERE constraint_schema = DATABASE() AND table_name = ?",
        )
        .bind(old)
        .fetch_all(pool)
        .await
        .map_err(err)?;
        for (key,) in keys {
            pool.execute(
                format!(
                    "ALTER TABLE {} DROP FOREIGN KEY {}",
                    quote(old),
                    quote(&key)
                )
                .as_str(),
            )
            .await
            .map_err(err)?;
        }
    }
    for old in olds.iter().rev() {
        pool.execute(format!("DROP TABLE IF EXISTS {}", quote(old)).as_str())
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The connection's server-side id, read before a statement that may be
/// cancelled.
const BACKEND_ID_SQL: &str = "SELECT CAST(CONNECTION_ID() AS SIGNED)";
/// Cancels the running statement of connection `{id}`.
const CANCEL_SQL: &str = "KILL QUERY {id}";

dialect_common!(MySqlPool);

/// A table being loaded with multi-row INSERTs inside one transaction.
pub struct Loader {
    db: String,
    tx: sqlx::Transaction<'static, sqlx::MySql>,
    prefix: String,
    row_sql: String,
    conflict: String,
    width: usize,
    rows_per_stmt: usize,
}

impl Loader {
    pub(super) async fn begin(
        pool: &MySqlPool,
        name: &str,
        table: &str,
        columns: &[String],
        upsert_key: &[String],
    ) -> Result<Self> {
        let tx = pool.begin().await.map_err(|e| classify(name, e))?;
        let q = |c: &str| format!("`{}`", c.replace('`', "``"));
        let col_list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
        let conflict = if upsert_key.is_empty() {
            String::new()
        } else {
            let sets: Vec<String> = columns
                .iter()
                .filter(|c| !upsert_key.contains(c))
                .map(|c| format!("{0} = VALUES({0})", q(c)))
                .collect();
            match sets.is_empty() {
                // No non-key column: a no-op update keeps the row.
                true => format!(" ON DUPLICATE KEY UPDATE {0} = {0}", q(&upsert_key[0])),
                false => format!(" ON DUPLICATE KEY UPDATE {}", sets.join(", ")),
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
            rows_per_stmt: (MYSQL_MAX_PLACEHOLDERS / width).clamp(1, INSERT_ROWS_PER_STATEMENT),
        })
    }

    insert_loading!();

    /// Commits the table (foreign keys come after the data, from the target
    /// plugin's `constraints`, so nothing is checked here).
    pub async fn commit(self) -> Result<Vec<(serde_json::Value, String)>> {
        let db = self.db.clone();
        self.tx
            .commit()
            .await
            .map_err(|e| classify(&db, e).context("commit"))?;
        Ok(Vec::new())
    }
}

/// SQLSTATE classes 22 (data exception) and 23 (integrity constraint), plus
/// MySQL errors reported as HY000 that also mean "this value does not fit":
/// 1366 incorrect value, 1292 incorrect datetime, 4025 CHECK constraint failed.
fn is_rejection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let state = db.code().unwrap_or_default();
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|m| m.number());
            state.starts_with("22")
                || state.starts_with("23")
                || matches!(number, Some(1366 | 1292 | 3819 | 4025))
        }
        _ => false,
    }
}

type MyQuery<'q> = sqlx::query::Query<'q, sqlx::MySql, MySqlArguments>;

/// Binds a value with its natural MySQL type.
fn bind(q: MyQuery<'_>, v: Value) -> MyQuery<'_> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Boolean(b) => q.bind(b),
        Value::Int(i) => q.bind(i),
        Value::Uint(u) => q.bind(u),
        Value::Float(f) => q.bind(f),
        Value::Text(s) | Value::Decimal(s) | Value::Json(s) => q.bind(s),
        Value::Bytes(b) => q.bind(b),
        Value::Timestamp(us) | Value::Timestamptz(us) => q.bind(format_timestamp(us)),
        Value::Date(d) => q.bind(format_date(d)),
        Value::Time(t) => q.bind(format_time(t)),
        Value::Vector(v) => q.bind(format!(
            "[{}]",
            v.iter().map(f32::to_string).collect::<Vec<_>>().join(",")
        )),
        other => q.bind(render_text(&other)),
    }
}

/// The text form of a MySQL zero date (`0000-00-00 00:00:00`) or of a date
/// with a zero month or day (`2024-00-00`), which no date type outside
/// MySQL holds; `None` for an ordinary date.
fn zero_date(raw: &sqlx::mysql::MySqlValueRef<'_>, date_only: bool) -> Option<String> {
    let buf = <&[u8] as Decode<sqlx::MySql>>::decode(raw.clone()).ok()?;
    // The text protocol sends `YYYY-MM-DD...`; the binary one a length byte
    // (0, 4, 7 or 11: never an ASCII digit), then year (u16 LE), month,
    // day, [hour, minute, second, [microseconds]].
    if buf.first().is_some_and(u8::is_ascii_digit) {
        let s = std::str::from_utf8(buf).ok()?;
        let (month, day) = (s.get(5..7)?, s.get(8..10)?);
        return (s.starts_with("0000-") || month == "00" || day == "00").then(|| s.to_owned());
    }
    let len = *buf.first()? as usize;
    let body = buf.get(1..1 + len)?;
    let (year, month, day) = if len >= 4 {
        (u16::from_le_bytes([body[0], body[1]]), body[2], body[3])
    } else {
        (0, 0, 0)
    };
    if year != 0 && month != 0 && day != 0 {
        return None;
    }
    let (h, m, sec) = if len >= 7 {
        (body[4], body[5], body[6])
    } else {
        (0, 0, 0)
    };
    Some(if date_only {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{sec:02}")
    })
}

fn decode_row(row: &MySqlRow) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(|e| Error::io(e.to_string()))?;
        let ty = raw.type_info().name().to_owned();
        // Before the NULL check: sqlx reports a zero date as NULL. No other
        // database stores one, so the step's `zero_dates` policy decides
        // (engine), never a silent NULL.
        if matches!(ty.as_str(), "DATE" | "DATETIME" | "TIMESTAMP") {
            if let Some(text) = zero_date(&raw, ty == "DATE") {
                out.push(Value::Text(text));
                continue;
            }
        }
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let bad = |e: sqlx::error::BoxDynError| Error::io(format!("column {i} ({ty}): {e}"));
        let v = match ty.as_str() {
            "BOOLEAN" | "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                Value::Int(<i64 as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?)
            }
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" | "BIGINT UNSIGNED" | "BIT" => {
                let u = <u64 as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?;
                i64::try_from(u).map_or(Value::Uint(u), Value::Int)
            }
            "FLOAT" => Value::Float(f64::from(<f32 as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?)),
            "DOUBLE" => Value::Float(<f64 as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?),
            "DECIMAL" => Value::Decimal(<&str as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?.to_owned()),
            "DATE" => {
                let d = <chrono::NaiveDate as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?;
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                Value::Date((d - epoch).num_days() as i32)
            }
            "DATETIME" => Value::Timestamp(
                <chrono::NaiveDateTime as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?.and_utc().timestamp_micros(),
            ),
            "TIMESTAMP" => Value::Timestamptz(
                <chrono::DateTime<chrono::Utc> as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?.timestamp_micros(),
            ),
            "TIME" => {
                let t = <chrono::NaiveTime as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?;
                Value::Time((t - chrono::NaiveTime::MIN).num_microseconds().unwrap_or(0))
            }
            "JSON" => Value::Json(<&str as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?.to_owned()),
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => {
                Value::Bytes(<Vec<u8> as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?)
            }
            "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" => {
                Value::Text(<&str as Decode<sqlx::MySql>>::decode(raw).map_err(bad)?.to_owned())
            }
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("column {i} has type {other}, which godwit cannot read yet; cast it to CHAR in the query"),
                ))
            }
        };
        out.push(v);
    }
    Ok(out)
}
