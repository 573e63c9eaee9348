//! DSN syntax: which schemes and URL parameters a connection string may
//! use. It is part of the project file's schema, so [`crate::project`]
//! checks every DSN with it when the file is loaded (mistakes point at their
//! line), and the SQL capability ([`crate::caps::sql`]) parses the same DSN
//! with it when it opens the connection. A leaf: it imports no capability.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::redact::Secret;

/// URL parameters godwit passes to PostgreSQL. Anything else is refused: a
/// typo must not be silently ignored, and the driver would echo an unknown
/// parameter's value (possibly a secret) into its log.
pub const PG_URL_PARAMS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
    "statement-cache-capacity",
];

/// Refuses URL parameters not in [`PG_URL_PARAMS`].
pub(crate) fn check_postgres_params(dsn: &Secret) -> std::result::Result<(), String> {
    check_params(dsn, PG_URL_PARAMS)
}

/// Refuses a URL parameter whose key is not in `allowed`.
fn check_params(dsn: &Secret, allowed: &[&str]) -> std::result::Result<(), String> {
    let query = dsn.expose().split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if !allowed.contains(&key) {
            return Err(format!(
                "DSN {dsn}: unsupported parameter {key:?} (supported: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// URL parameters godwit passes to MySQL/MariaDB; anything else is refused.
pub const MYSQL_URL_PARAMS: &[&str] = &[
    "ssl-mode",
    "ssl-ca",
    "ssl-cert",
    "ssl-key",
    "socket",
    "statement-cache-capacity",
    "charset",
    "collation",
];

/// Refuses URL parameters not in [`MYSQL_URL_PARAMS`].
pub(crate) fn check_mysql_params(dsn: &Secret) -> std::result::Result<(), String> {
    check_params(dsn, MYSQL_URL_PARAMS)
}

/// Where a DSN points.
pub(crate) enum Target {
    Sqlite { path: PathBuf, mode: String },
    Postgres,
    MySql,
}

pub(crate) fn parse_dsn(dsn: &Secret, project_dir: &Path) -> Result<Target> {
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
    match scheme {
        "postgres" | "postgresql" => Ok(Target::Postgres),
        "mysql" | "mariadb" => Ok(Target::MySql),
        _ => Err(Error::project(format!(
            "DSN {dsn}: unknown scheme (expected sqlite://PATH, postgres://... or mysql://...)"
        ))),
    }
}

/// Checks a DSN without connecting: known scheme, known parameters. Used
/// when the project file is loaded, so mistakes point at their line.
pub fn check_dsn(dsn: &Secret) -> std::result::Result<(), String> {
    match parse_dsn(dsn, Path::new(".")) {
        Ok(Target::Postgres) => check_postgres_params(dsn),
        Ok(Target::MySql) => check_mysql_params(dsn),
        Ok(Target::Sqlite { .. }) => Ok(()),
        Err(e) => Err(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(dsn: &str) -> std::result::Result<(), String> {
        check_dsn(&Secret::new(dsn))
    }

    #[test]
    fn known_schemes_and_parameters_pass_and_others_are_named() {
        assert_eq!(
            check("postgres://u:pw@127.0.0.1/db?sslmode=disable"),
            Ok(())
        );
        assert_eq!(check("mariadb://u@127.0.0.1/db?charset=utf8mb4"), Ok(()));
        assert_eq!(check("sqlite://app.db?mode=ro"), Ok(()));
        let e = check("postgres://u:hunter22@127.0.0.1/db?sslmod=disable").unwrap_err();
        assert!(e.contains("\"sslmod\"") && e.contains("sslmode"), "{e}");
        assert!(!e.contains("hunter22"), "the password is redacted: {e}");
        let e = check("mysql://u@127.0.0.1/db?sslmode=x").unwrap_err();
        assert!(e.contains("\"sslmode\"") && e.contains("ssl-mode"), "{e}");
        let e = check("sqlite://app.db?mode=rwx").unwrap_err();
        assert!(e.contains("mode=ro|rw|rwc"), "{e}");
        let e = check("oracle://x").unwrap_err();
        assert!(e.contains("unknown scheme"), "{e}");
    }
}
