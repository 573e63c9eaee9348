//! SQL errors as godwit errors: classified by their code (SQLSTATE, MySQL
//! error number, SQLite extended code) into kinds, the code kept, and the
//! WIT error a plugin receives.

use crate::error::{Error, ErrorKind};

/// The server's message of an error.
pub(crate) fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// A refused row's reason: the server's message, with PostgreSQL's DETAIL
/// line (it names the row: `Failing row contains (…)`, `Key (id)=(7)
/// already exists.`) and its SQLSTATE, MySQL's error number, or SQLite's
/// extended result code.
pub(crate) fn reject_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => {
            let mut s = db.message().to_owned();
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                if let Some(detail) = pg.detail() {
                    s.push_str(&format!(" (DETAIL: {detail})"));
                }
                s.push_str(&format!(" [SQLSTATE {}]", pg.code()));
            } else if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                s.push_str(&format!(" [MySQL error {}]", my.number()));
            } else if let Some(code) = db.code() {
                s.push_str(&format!(" [SQLite code {code}]"));
            }
            s
        }
        other => other.to_string(),
    }
}

/// Maps a sqlx error to a host error (messages from sqlx carry no DSN):
/// classified by the database's own code (SQLSTATE on PostgreSQL, the error
/// number on MySQL/MariaDB, the extended result code on SQLite), which the
/// error keeps.
pub(crate) fn classify(conn: &str, e: sqlx::Error) -> Error {
    let (kind, code) = match &e {
        sqlx::Error::Database(d) => {
            if let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                (
                    mysql_kind(my.number(), d.message()),
                    Some(my.number().to_string()),
                )
            } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                let code = d.code().map(|c| c.into_owned());
                (sqlite_kind(code.as_deref(), d.message()), code)
            } else {
                let code = d.code().map(|c| c.into_owned());
                (postgres_kind(code.as_deref().unwrap_or("")), code)
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            (ErrorKind::Connection, None)
        }
        _ => (ErrorKind::Io, None),
    };
    let mut err = Error::new(kind, format!("connection {conn}: {}", db_message(&e)));
    err.retryable = matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_))
        || kind == ErrorKind::Connection;
    err.code = code;
    err
}

/// The kind of a PostgreSQL error, by SQLSTATE.
pub fn postgres_kind(sqlstate: &str) -> ErrorKind {
    match sqlstate {
        // query_canceled (statement_timeout)
        "57014" => ErrorKind::Timeout,
        "42601" => ErrorKind::Syntax,
        "42501" => ErrorKind::Permission,
        // undefined table, column, function, object; invalid schema, catalog
        "42P01" | "42703" | "42883" | "42704" | "3F000" | "3D000" => ErrorKind::NotFound,
        c if c.starts_with("08") => ErrorKind::Connection,
        c if c.starts_with("23") => ErrorKind::Constraint,
        c if c.starts_with("28") => ErrorKind::Permission,
        _ => ErrorKind::Io,
    }
}

/// The kind of a MySQL / MariaDB error, by error number.
pub fn mysql_kind(number: u16, message: &str) -> ErrorKind {
    match number {
        // duplicate entry, FK parent/child, NOT NULL, CHECK (MySQL, MariaDB)
        1062 | 1451 | 1452 | 1216 | 1217 | 1048 | 3819 | 4025 => ErrorKind::Constraint,
        1064 | 1149 => ErrorKind::Syntax,
        1044 | 1045 | 1142 | 1143 | 1227 | 1370 => ErrorKind::Permission,
        // no such table, column, database, function; cannot drop
        1146 | 1054 | 1049 | 1305 | 1051 | 1091 => ErrorKind::NotFound,
        2002 | 2003 | 2006 | 2013 => ErrorKind::Connection,
        // max_execution_time (MySQL), max_statement_time (MariaDB)
        3024 | 1969 => ErrorKind::Timeout,
        _ if message.contains("max_statement_time")
            || message.contains("maximum statement execution time") =>
        {
            ErrorKind::Timeout
        }
        _ => ErrorKind::Io,
    }
}

/// The kind of a SQLite error, by (extended) result code and message.
pub fn sqlite_kind(code: Option<&str>, message: &str) -> ErrorKind {
    let primary = code.and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff);
    match primary {
        Some(19) => ErrorKind::Constraint,
        Some(23) => ErrorKind::Permission,
        Some(9) => ErrorKind::Timeout,
        _ if message.contains("syntax error") || message.contains("incomplete input") => {
            ErrorKind::Syntax
        }
        _ if message.starts_with("no such") => ErrorKind::NotFound,
        _ if message.contains("not authorized") => ErrorKind::Permission,
        _ => ErrorKind::Io,
    }
}

/// Whether a failed DDL statement failed because what it creates already
/// exists: PostgreSQL duplicate_table / duplicate_object / "multiple primary
/// keys", MySQL duplicate key name / multiple primary key / duplicate
/// foreign key, SQLite "already exists".
pub fn already_exists(e: &Error) -> bool {
    match e.code.as_deref() {
        Some("42P07" | "42710" | "42P16" | "1061" | "1068" | "1826" | "1022") => true,
        // MariaDB reports some through the generic SQLSTATE 42000/23000.
        _ => e.message.contains("already exists") || e.message.contains("Duplicate key name"),
    }
}

/// The same error as the WIT variant a plugin receives.
pub fn to_wit(e: &Error) -> crate::model::Error {
    use crate::model::Error as W;
    let m = e.message.clone();
    match e.kind {
        ErrorKind::Unsupported => W::Unsupported(m),
        ErrorKind::Rejected => W::Rejected(m),
        ErrorKind::Project => W::InvalidInput(m),
        ErrorKind::Internal => W::Internal(m),
        ErrorKind::Timeout => W::Timeout(m),
        ErrorKind::NotFound => W::NotFound(m),
        ErrorKind::Constraint => W::Rejected(m),
        ErrorKind::Syntax => W::InvalidInput(m),
        ErrorKind::Permission => W::AccessDenied(m),
        _ if m.contains("syntax error") || m.contains("no such") => W::InvalidInput(m),
        _ => W::Io(m),
    }
}
