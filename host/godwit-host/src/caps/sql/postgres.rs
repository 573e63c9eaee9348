//! PostgreSQL: pools, queries, decoding by type (binary protocol, exact for
//! NUMERIC, JSON and pgvector), COPY loads with per-row rejects.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgValueFormat};
use sqlx::{Executor, Row, TypeInfo, ValueRef};

use super::{classify, LoadOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::model::ColumnInfo;
use crate::model::Value;
use crate::project::Secret;
use crate::value::{format_date, format_time, format_timestamp, render_text};

/// Connections per pool: one reader or loader per concurrently loaded table
/// (up to `MAX_WORKERS`) plus a couple for plugin queries. Opened lazily.
pub const PG_POOL_SIZE: u32 = crate::project::MAX_WORKERS as u32 + 2;
/// How long to wait for a connection before failing.
pub const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Bytes of COPY data sent per message: large enough to amortise round trips.
pub const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Opens a PostgreSQL pool. In a dry run every transaction is read-only.
pub(super) async fn open(name: &str, dsn: &Secret, dry_run: bool) -> Result<PgPool> {
    crate::dsn::check_postgres_params(dsn)
        .map_err(|m| Error::project(format!("connection {name}: {m}")))?;
    // sqlx's parse errors may quote the URL: report our own message instead.
    let mut opts = PgConnectOptions::from_str(dsn.expose())
        .map_err(|_| {
            Error::project(format!(
                "connection {name} ({dsn}): not a valid PostgreSQL URL"
            ))
        })?
        .application_name("godwit");
    if dry_run {
        opts = opts.options([("default_transaction_read_only", "on")]);
    }
    super::probe(name, dsn, &opts, PG_CONNECT_TIMEOUT).await?;
    PgPoolOptions::new()
        .max_connections(PG_POOL_SIZE)
        .acquire_timeout(PG_CONNECT_TIMEOUT)
        .connect_with(opts)
        .await
        .map_err(|e| super::report_connect(name, dsn, e))
}

/// Opens a read-only query's transaction. The `SELECT 1` takes the
/// transaction's first snapshot: after it PostgreSQL refuses to make the
/// transaction read-write (`SET transaction_read_only = off`, or the same
/// through `set_config`), which it would allow before any query.
pub(super) const READ_ONLY: &[&str] = &["BEGIN TRANSACTION READ ONLY", "SELECT 1"];

/// What the connection's role may do that no read-only transaction stops:
/// a superuser, or a member of the roles that run server programs or read
/// and write server files (`COPY ... TO PROGRAM`, `pg_read_file`).
pub(super) async fn bypasses(pool: &PgPool) -> std::result::Result<Vec<String>, sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT current_user::text, r.rolsuper, \
                pg_has_role(current_user, 'pg_execute_server_program', 'USAGE'), \
                pg_has_role(current_user, 'pg_read_server_files', 'USAGE'), \
                pg_has_role(current_user, 'pg_write_server_files', 'USAGE') \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(pool)
    .await?;
    let role: String = row.try_get(0)?;
    if row.try_get::<bool, _>(1)? {
        return Ok(vec![format!(
            "role {role} is a superuser (it can run server programs with COPY ... TO PROGRAM and read server files whatever the transaction mode)"
        )]);
    }
    let mut out = Vec::new();
    for (i, what) in [
        (
            2,
            "pg_execute_server_program (COPY ... TO PROGRAM runs shell commands)",
        ),
        (
            3,
            "pg_read_server_files (pg_read_file and COPY FROM read server files)",
        ),
        (4, "pg_write_server_files (COPY TO writes server files)"),
    ] {
        if row.try_get::<bool, _>(i)? {
            out.push(format!("role {role} is a member of {what}"));
        }
    }
    Ok(out)
}

/// Whether a relation of this quoted (possibly qualified) name exists.
pub(super) async fn relation_exists(pool: &PgPool, name: &str, quoted: &str) -> Result<bool> {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(quoted)
        .fetch_one(pool)
        .await
        .map_err(|e| classify(name, e))
}

/// Drops each replaced table and renames its staging table (and the indexes
/// and sequences named after it) into place, all in one transaction. A
/// staging table that is gone was swapped in by an interrupted run.
pub(super) async fn swap_in(
    pool: &PgPool,
    name: &str,
    swaps: &[&crate::model::Staging],
) -> Result<()> {
    use sqlx::Executor as _;
    let err = |e| classify(name, e);
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut tx = pool.begin().await.map_err(err)?;
    for s in swaps {
        let there: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&s.table)
            .fetch_one(&mut *tx)
            .await
            .map_err(err)?;
        if !there {
            tracing::warn!(
                table = %s.final_name,
                "staging table {} not found: taken as swapped in by an interrupted run",
                s.name
            );
            continue;
        }
        (&mut *tx)
            .execute(format!("DROP TABLE IF EXISTS {} CASCADE", s.final_table).as_str())
            .await
            .map_err(err)?;
        (&mut *tx)
            .execute(format!("ALTER TABLE {} RENAME TO {}", s.table, quote(&s.final_name)).as_str())
            .await
            .map_err(err)?;
        // Indexes and sequences the staging table's DDL named after it
        // (an identity column's sequence, an inline key's index).
        let owned: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.oid::regclass::text, c.relname::text, c.relkind::text FROM pg_class c \
             WHERE c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = to_regclass($1)) \
                OR c.oid IN (SELECT objid FROM pg_depend WHERE refobjid = to_regclass($1) \
                             AND classid = 'pg_class'::regclass AND deptype IN ('a', 'i'))",
        )
        .bind(&s.final_table)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        for (reg, relname, kind) in owned {
            if let Some(rest) = relname.strip_prefix(s.name.as_str()) {
                let what = if kind == "S" { "SEQUENCE" } else { "INDEX" };
                let new = format!("{}{rest}", s.final_name);
                (&mut *tx)
                    .execute(format!("ALTER {what} {reg} RENAME TO {}", quote(&new)).as_str())
                    .await
                    .map_err(err)?;
            }
        }
    }
    tx.commit().await.map_err(err)
}

/// The connection's server-side id, read before a statement that may be
/// cancelled.
const BACKEND_ID_SQL: &str = "SELECT pg_backend_pid()::int8";
/// Cancels the running statement of connection `{id}`.
const CANCEL_SQL: &str = "SELECT pg_cancel_backend({id})";

dialect_common!(PgPool);

/// A table being loaded with COPY (text format) inside one transaction.
pub struct Loader {
    db: String,
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    copy_sql: String,
    /// For upserts: the statement moving the staged batch into the table.
    merge: Option<String>,
    /// Encoded size of the last batch: the next buffer starts this large.
    last_batch_bytes: usize,
}

/// Name of the per-transaction staging table used for upserts.
const STAGE: &str = "godwit_stage";

impl Loader {
    pub(super) async fn begin(
        pool: &PgPool,
        name: &str,
        table: &str,
        columns: &[String],
        upsert_key: &[String],
        pre: &[String],
    ) -> Result<Self> {
        let mut tx = pool.begin().await.map_err(|e| classify(name, e))?;
        for stmt in pre {
            // Simple protocol: an entry may hold several statements.
            sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(stmt))
                .await
                .map_err(|e| {
                    classify(name, e).context(format!("({})", crate::text::first_line(stmt)))
                })?;
        }
        let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let col_list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
        let (copy_into, merge) = if upsert_key.is_empty() {
            (table.to_owned(), None)
        } else {
            let create = format!(
                "CREATE TEMP TABLE {STAGE} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            );
            sqlx::query(&create)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(name, e))?;
            let keys = upsert_key
                .iter()
                .map(|c| q(c))
                .collect::<Vec<_>>()
                .join(", ");
            let sets: Vec<String> = columns
                .iter()
                .filter(|c| !upsert_key.contains(c))
                .map(|c| format!("{0} = EXCLUDED.{0}", q(c)))
                .collect();
            let action = if sets.is_empty() {
                "DO NOTHING".to_owned()
            } else {
                format!("DO UPDATE SET {}", sets.join(", "))
            };
            let merge = format!(
                "INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {STAGE} ON CONFLICT ({keys}) {action}; TRUNCATE {STAGE}"
            );
            (STAGE.to_owned(), Some(merge))
        };
        Ok(Self {
            db: name.to_owned(),
            tx,
            copy_sql: format!("COPY {copy_into} ({col_list}) FROM STDIN"),
            merge,
            last_batch_bytes: 0,
        })
    }

    async fn copy(&mut self, data: &[u8]) -> std::result::Result<u64, sqlx::Error> {
        let mut copy = self.tx.copy_in_raw(&self.copy_sql).await?;
        for chunk in data.chunks(COPY_CHUNK_BYTES) {
            if let Err(e) = copy.send(chunk).await {
                let _ = copy.abort("godwit: send failed").await;
                return Err(e);
            }
        }
        copy.finish().await
    }

    async fn savepoint(&mut self, sql: &str) -> Result<()> {
        self.tx
            .execute(sql)
            .await
            .map(|_| ())
            .map_err(|e| classify(&self.db, e))
    }

    /// Loads rows with one COPY; if the server refuses the batch, each row is
    /// copied alone (inside savepoints) so only the offending rows are rejected.
    pub async fn load(&mut self, rows: Vec<Vec<Value>>) -> Result<LoadOutcome> {
        let mut outcome = LoadOutcome::default();
        // Every row encoded into one buffer; `encoded` keeps each row's index
        // in the batch and where its line ends, for the per-row fallback.
        let mut all: Vec<u8> = Vec::with_capacity(self.last_batch_bytes);
        let mut encoded: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let start = all.len();
            match encode_row(row, &mut all) {
                Ok(()) => encoded.push((i, all.len())),
                Err(reason) => {
                    all.truncate(start);
                    outcome.rejected.push((i, reason));
                }
            }
        }
        self.last_batch_bytes = all.len();
        if encoded.is_empty() {
            return Ok(outcome);
        }
        self.savepoint("SAVEPOINT godwit_batch").await?;
        match self.copy(&all).await {
            Ok(n) => {
                self.savepoint("RELEASE SAVEPOINT godwit_batch").await?;
                outcome.written += n;
            }
            Err(e) if is_rejection(&e) => {
                self.savepoint("ROLLBACK TO SAVEPOINT godwit_batch").await?;
                let mut start = 0;
                for &(i, end) in &encoded {
                    let line = &all[start..end];
                    start = end;
                    self.savepoint("SAVEPOINT godwit_row").await?;
                    match self.copy(line).await {
                        Ok(n) => {
                            self.savepoint("RELEASE SAVEPOINT godwit_row").await?;
                            outcome.written += n;
                        }
                        Err(e) if is_rejection(&e) => {
                            self.savepoint("ROLLBACK TO SAVEPOINT godwit_row").await?;
                            outcome.rejected.push((i, super::reject_reason(&e)));
                        }
                        Err(e) => return Err(classify(&self.db, e)),
                    }
                }
                outcome.rejected.sort_by_key(|(i, _)| *i);
            }
            Err(e) => return Err(classify(&self.db, e)),
        }
        if let Some(merge) = &self.merge {
            let merge = merge.clone();
            self.tx
                .execute(merge.as_str())
                .await
                .map_err(|e| classify(&self.db, e).context("upsert"))?;
        }
        Ok(outcome)
    }

    /// The id of the load's transaction (`txid_current()`, with its epoch,
    /// so it never wraps): recorded before `COMMIT`, so that a run killed
    /// between the commit and its progress file can ask the server whether
    /// the rows are there (`txid_status`).
    pub async fn commit_id(&mut self) -> Result<String> {
        let (id,): (String,) = sqlx::query_as("SELECT txid_current()::text")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| classify(&self.db, e))?;
        Ok(id)
    }

    /// Commits the table (constraints are created after the data, by the
    /// target plugin's `post` statements, so nothing is checked here).
    pub async fn commit(self) -> Result<Vec<(serde_json::Value, String)>> {
        let db = self.db.clone();
        self.tx
            .commit()
            .await
            .map_err(|e| classify(&db, e).context("commit"))?;
        Ok(Vec::new())
    }
}

/// SQLSTATE classes that mean "this row is refused": 22 (data exception:
/// bad input syntax, out of range, invalid JSON) and 23 (integrity constraint
/// violation).
fn is_rejection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        _ => false,
    }
}

/// Appends one row in COPY text format. Fails (a reject reason) for values
/// PostgreSQL cannot store, such as text with NUL bytes.
pub fn encode_row(row: &[Value], out: &mut Vec<u8>) -> std::result::Result<(), String> {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match v {
            Value::Null => out.extend_from_slice(b"\\N"),
            Value::Bytes(b) => {
                out.extend_from_slice(b"\\\\x");
                let start = out.len();
                out.resize(start + 2 * b.len(), 0);
                hex::encode_to_slice(b, &mut out[start..]).expect("sized for the hex digits");
            }
            Value::Boolean(b) => out.push(if *b { b't' } else { b'f' }),
            Value::Float(f) => push_float(*f, out),
            Value::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Uint(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Timestamptz(us) => {
                out.extend_from_slice(format!("{}+00", format_timestamp(*us)).as_bytes())
            }
            Value::Timestamp(us) => out.extend_from_slice(format_timestamp(*us).as_bytes()),
            Value::Date(d) => out.extend_from_slice(format_date(*d).as_bytes()),
            Value::Time(t) => out.extend_from_slice(format_time(*t).as_bytes()),
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) => {
                if s.contains('\0') {
                    return Err(format!(
                        "column {i}: text contains a NUL byte, which PostgreSQL cannot store"
                    ));
                }
                escape_into(s, out);
            }
            other => escape_into(&render_text(other), out),
        }
    }
    out.push(b'\n');
    Ok(())
}

fn escape_into(s: &str, out: &mut Vec<u8>) {
    // Runs without a special byte are copied whole.
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[from..i]);
        out.extend_from_slice(escaped);
        from = i + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

/// A float as PostgreSQL's float8 input accepts it, round-tripping exactly
/// (ryu prints the shortest representation that parses back to the same bits).
fn push_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN")
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" })
    } else {
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes())
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

/// Binds a value with its natural PostgreSQL type.
fn bind(q: PgQuery<'_>, v: Value) -> PgQuery<'_> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Boolean(b) => q.bind(b),
        Value::Int(i) => q.bind(i),
        Value::Uint(u) => match i64::try_from(u) {
            Ok(i) => q.bind(i),
            Err(_) => q.bind(u.to_string()),
        },
        Value::Float(f) => q.bind(f),
        Value::Text(s) | Value::Decimal(s) => q.bind(s),
        Value::Json(s) => match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(j) => q.bind(j),
            Err(_) => q.bind(s),
        },
        Value::Bytes(b) => q.bind(b),
        Value::Timestamp(us) => match chrono::DateTime::from_timestamp_micros(us) {
            Some(t) => q.bind(t.naive_utc()),
            None => q.bind(format_timestamp(us)),
        },
        Value::Timestamptz(us) => match chrono::DateTime::from_timestamp_micros(us) {
            Some(t) => q.bind(t),
            None => q.bind(format_timestamp(us)),
        },
        Value::Date(d) => match chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(i64::from(d))))
        {
            Some(date) => q.bind(date),
            None => q.bind(format_date(d)),
        },
        Value::Time(us) => {
            let secs = (us / 1_000_000) as u32;
            match chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                secs,
                ((us % 1_000_000) * 1000) as u32,
            ) {
                Some(t) => q.bind(t),
                None => q.bind(format_time(us)),
            }
        }
        Value::Uuid((hi, lo)) => q.bind(uuid::Uuid::from_u128(
            (u128::from(hi) << 64) | u128::from(lo),
        )),
        other => q.bind(render_text(&other)),
    }
}

fn decode_row(row: &PgRow) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i).map_err(|e| Error::io(e.to_string()))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        out.push(decode_value(row, i, &ty)?);
    }
    Ok(out)
}

fn decode_value(row: &PgRow, i: usize, ty: &str) -> Result<Value> {
    let bad = |e: sqlx::Error| Error::io(format!("column {i} ({ty}): {e}"));
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    Ok(match ty {
        "BOOL" => Value::Boolean(row.try_get(i).map_err(bad)?),
        "INT2" => Value::Int(i64::from(row.try_get::<i16, _>(i).map_err(bad)?)),
        "INT4" => Value::Int(i64::from(row.try_get::<i32, _>(i).map_err(bad)?)),
        "INT8" => Value::Int(row.try_get(i).map_err(bad)?),
        "OID" => Value::Int(i64::from(row.try_get::<sqlx::postgres::types::Oid, _>(i).map_err(bad)?.0)),
        "FLOAT4" => Value::Float(f64::from(row.try_get::<f32, _>(i).map_err(bad)?)),
        "FLOAT8" => Value::Float(row.try_get(i).map_err(bad)?),
        "NUMERIC" => Value::Decimal(numeric_text(raw_bytes(row, i)?).map_err(|m| Error::io(format!("column {i}: {m}")))?),
        "BYTEA" => Value::Bytes(row.try_get(i).map_err(bad)?),
        "JSON" | "JSONB" => {
            let bytes = raw_bytes(row, i)?;
            // Binary jsonb starts with a version byte (1); json is its text.
            let text = if ty == "JSONB" && bytes.first() == Some(&1) { &bytes[1..] } else { bytes };
            Value::Json(String::from_utf8_lossy(text).into_owned())
        }
        "TIMESTAMP" => Value::Timestamp(row.try_get::<chrono::NaiveDateTime, _>(i).map_err(bad)?.and_utc().timestamp_micros()),
        "TIMESTAMPTZ" => {
            Value::Timestamptz(row.try_get::<chrono::DateTime<chrono::Utc>, _>(i).map_err(bad)?.timestamp_micros())
        }
        "DATE" => Value::Date((row.try_get::<chrono::NaiveDate, _>(i).map_err(bad)? - epoch).num_days() as i32),
        "TIME" => {
            let t: chrono::NaiveTime = row.try_get(i).map_err(bad)?;
            let since = t - chrono::NaiveTime::MIN;
            Value::Time(since.num_microseconds().unwrap_or(0))
        }
        "UUID" => {
            let u: uuid::Uuid = row.try_get(i).map_err(bad)?;
            let n = u.as_u128();
            Value::Uuid(((n >> 64) as u64, n as u64))
        }
        "VECTOR" => Value::Vector(vector_floats(raw_bytes(row, i)?).map_err(|m| Error::io(format!("column {i}: {m}")))?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => Value::Text(row.try_get(i).map_err(bad)?),
        other => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("column {i} has type {other}, which godwit cannot read yet; cast it to text in the query"),
            ))
        }
    })
}

fn raw_bytes(row: &PgRow, i: usize) -> Result<&[u8]> {
    let raw = row.try_get_raw(i).map_err(|e| Error::io(e.to_string()))?;
    if raw.format() != PgValueFormat::Binary {
        return Err(Error::internal("expected a binary-format value"));
    }
    raw.as_bytes().map_err(|e| Error::io(e.to_string()))
}

/// Decodes PostgreSQL's binary NUMERIC (base-10000 digits) to exact text.
pub fn numeric_text(b: &[u8]) -> std::result::Result<String, String> {
    let rd = |o: usize| -> std::result::Result<i16, String> {
        b.get(o..o + 2)
            .map(|s| i16::from_be_bytes([s[0], s[1]]))
            .ok_or_else(|| "truncated numeric".to_owned())
    };
    let ndigits = rd(0)? as usize;
    let weight = rd(2)? as i32;
    let sign = rd(4)? as u16;
    let dscale = rd(6)? as u16 as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i16> = (0..ndigits)
        .map(|k| rd(8 + 2 * k))
        .collect::<std::result::Result<_, _>>()?;
    // Integer part: groups with exponent weight..0.
    let mut int = String::new();
    if weight < 0 {
        int.push('0');
    } else {
        for w in 0..=weight {
            let d = digits.get(w as usize).copied().unwrap_or(0);
            if w == 0 {
                int.push_str(&d.to_string());
            } else {
                int.push_str(&format!("{d:04}"));
            }
        }
    }
    let mut frac = String::new();
    let mut k = weight + 1;
    while frac.len() < dscale {
        let d = if k < 0 {
            0
        } else {
            digits.get(k as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        k += 1;
    }
    frac.truncate(dscale);
    let mut s = if sign == 0x4000 {
        "-".to_owned()
    } else {
        String::new()
    };
    s.push_str(&int);
    if dscale > 0 {
        s.push('.');
        s.push_str(&frac);
    }
    Ok(s)
}

/// Decodes pgvector's binary `vector`: dim (u16), unused (u16), dim × f32, big-endian.
fn vector_floats(b: &[u8]) -> std::result::Result<Vec<f32>, String> {
    let dim = b
        .get(0..2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]) as usize)
        .ok_or("truncated vector")?;
    let body = b.get(4..4 + 4 * dim).ok_or("truncated vector")?;
    Ok(body
        .chunks_exact(4)
        .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for x in [ndigits, weight, sign as i16, dscale as i16] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_decoding_is_exact() {
        // 12345.6789 = [1, 2345, 6789], weight 1, dscale 4
        assert_eq!(
            numeric_text(&numeric(3, 1, 0, 4, &[1, 2345, 6789])).unwrap(),
            "12345.6789"
        );
        // -0.0012 = [12], weight -1, dscale 4
        assert_eq!(
            numeric_text(&numeric(1, -1, 0x4000, 4, &[12])).unwrap(),
            "-0.0012"
        );
        // 1.10 keeps its scale
        assert_eq!(
            numeric_text(&numeric(2, 0, 0, 2, &[1, 1000])).unwrap(),
            "1.10"
        );
        // 100000000 = [1, 0, 0] weight 2 (trailing zero groups stripped: ndigits 1)
        assert_eq!(
            numeric_text(&numeric(1, 2, 0, 0, &[1])).unwrap(),
            "100000000"
        );
        assert_eq!(numeric_text(&numeric(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn copy_text_escapes_and_refuses_nul() {
        let mut out = Vec::new();
        encode_row(
            &[
                Value::Text("a\tb\\c\nd".into()),
                Value::Null,
                Value::Bytes(vec![0, 255]),
                Value::Float(0.1),
                Value::Int(-42),
                Value::Uint(u64::MAX),
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\tb\\\\c\\nd\t\\N\t\\\\x00ff\t0.1\t-42\t18446744073709551615\n"
        );
        // Floats are written so that they parse back to the same bits.
        for f in [
            1e-7,
            -0.0,
            1e300,
            5e-324,
            f64::MAX,
            11.737,
            f64::NAN,
            f64::NEG_INFINITY,
        ] {
            let mut out = Vec::new();
            push_float(f, &mut out);
            let text = String::from_utf8(out).unwrap();
            let back: f64 = match text.as_str() {
                "NaN" => f64::NAN,
                "-Infinity" => f64::NEG_INFINITY,
                t => t.parse().unwrap(),
            };
            assert_eq!(back.to_bits(), f.to_bits(), "{f} written as {text}");
        }
        assert!(encode_row(&[Value::Text("a\0b".into())], &mut Vec::new()).is_err());
    }
}
