//! Typed errors for the host library.
//!
//! Every failure has a [`ErrorKind`] (what went wrong, which decides the CLI's
//! exit code), a message with context, and a retryable flag. Messages never
//! contain secrets: DSNs are redacted before they are formatted into one.

use std::fmt;

/// What went wrong, coarsely. Decides the process exit code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The project file (or a file it names) is malformed or inconsistent.
    Project,
    /// A plugin could not be loaded (missing file, not a component, wrong WIT version).
    PluginLoad,
    /// A plugin trapped, panicked, timed out or exhausted its memory.
    PluginTrap,
    /// A plugin returned an error value.
    PluginError,
    /// A database or store failed (a server error of no class below).
    Io,
    /// The database could not be reached or dropped the connection
    /// (PostgreSQL SQLSTATE class 08, MySQL 2002/2003/2006/2013, I/O).
    Connection,
    /// The database refused a statement for a constraint (SQLSTATE class
    /// 23; MySQL 1062, 1451, 1452, 3819, 4025; SQLite SQLITE_CONSTRAINT).
    Constraint,
    /// The database could not parse a statement (SQLSTATE 42601, MySQL 1064,
    /// SQLite "syntax error").
    Syntax,
    /// The role lacks a privilege (SQLSTATE 42501, MySQL 1044/1045/1142/1227,
    /// SQLite SQLITE_AUTH).
    Permission,
    /// Something is not supported (yet).
    Unsupported,
    /// An operation exceeded its time limit (a statement timeout, a deadline).
    Timeout,
    /// An object, table or file does not exist.
    NotFound,
    /// Rows were rejected beyond what the project allows.
    Rejected,
    /// A bug in the host.
    Internal,
    /// The run was stopped by SIGINT (Ctrl-C) or SIGTERM.
    Interrupted,
}

/// The host library's error type.
#[derive(Debug, Clone)]
pub struct Error {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// What failed, with context; safe to show (no secrets).
    pub message: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
    /// The database's own code for a SQL error: PostgreSQL's SQLSTATE
    /// (`42P07`), MySQL's error number (`1061`) or SQLite's extended result
    /// code (`1555`); for a plugin's error value, its WIT error case
    /// (`not-found`).
    pub code: Option<String>,
}

impl Error {
    /// Creates an error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(kind, ErrorKind::Io | ErrorKind::Connection);
        Self {
            kind,
            message: message.into(),
            retryable,
            code: None,
        }
    }
    /// A project-file error.
    pub fn project(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Project, message)
    }
    /// An I/O error.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// Prefixes the message with context.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
    /// Appends to the message what the reader can do about it.
    pub fn context_after(mut self, more: impl fmt::Display) -> Self {
        self.message = format!("{}; {more}", self.message);
        self
    }
    /// The documented process exit code for this error (see docs/cli.md).
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Project => crate::EXIT_USAGE,
            ErrorKind::Rejected => crate::EXIT_VALIDATION,
            ErrorKind::Interrupted => crate::EXIT_INTERRUPTED,
            _ => crate::EXIT_RUNTIME,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Result alias for the host library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
