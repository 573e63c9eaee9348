//! Type names of each SQL dialect mapped to logical types, shared by the
//! source adapters (describing tables) and the target adapters (describing
//! the tables an application already created).

use crate::{DecimalSpec, LogicalType};

/// Numbers inside the parentheses of a declared type: `DECIMAL(12, 2)` → `[12, 2]`.
pub fn type_args(declared: &str) -> Vec<u32> {
    declared
        .split_once('(')
        .map(|(_, rest)| {
            rest.split(')')
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A SQLite declaration: common spellings first, then SQLite's own affinity
/// rules (section 3.1 of "Datatypes In SQLite").
pub fn sqlite_logical(declared: &str) -> LogicalType {
    let t = declared.trim().to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    let args = type_args(&t);
    match base {
        "" => return LogicalType::Any,
        "BOOLEAN" | "BOOL" => return LogicalType::Boolean,
        "DATE" => return LogicalType::Date,
        "DATETIME" | "TIMESTAMP" => return LogicalType::Timestamp,
        "TIMESTAMPTZ" => return LogicalType::Timestamptz,
        "TIME" => return LogicalType::Time,
        // `JSON TEXT` and `DECIMAL TEXT(p,s)`: what sqlite-target declares
        // for them (TEXT affinity keeps `1.10` as written).
        "JSON" | "JSONB" | "JSON TEXT" => return LogicalType::Json,
        "UUID" => return LogicalType::Uuid,
        "DECIMAL" | "NUMERIC" | "DECIMAL TEXT" => {
            return LogicalType::Decimal(DecimalSpec {
                precision: args.first().map(|p| (*p).min(255) as u8),
                scale: args.get(1).map(|s| (*s).min(255) as u8),
            })
        }
        _ => {}
    }
    if t.contains("INT") {
        LogicalType::Int(64)
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        LogicalType::Text(args.first().copied())
    } else if t.contains("BLOB") {
        LogicalType::Bytes(None)
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        LogicalType::Float(64)
    } else {
        // NUMERIC affinity: values keep whatever storage class they have.
        LogicalType::Any
    }
}

/// A PostgreSQL type by `typname` (`int8`, `varchar`) and its formatted
/// declaration (`character varying(255)`, `numeric(12,2)`).
pub fn postgres_logical(typname: &str, declared: &str) -> LogicalType {
    let args = type_args(declared);
    match typname {
        "bool" => LogicalType::Boolean,
        "int2" => LogicalType::Int(16),
        "int4" => LogicalType::Int(32),
        "int8" => LogicalType::Int(64),
        "float4" => LogicalType::Float(32),
        "float8" => LogicalType::Float(64),
        "numeric" => LogicalType::Decimal(DecimalSpec {
            precision: args.first().map(|p| (*p).min(255) as u8),
            scale: args.get(1).map(|s| (*s).min(255) as u8),
        }),
        "varchar" | "bpchar" => LogicalType::Text(args.first().copied()),
        "text" | "name" | "citext" => LogicalType::Text(None),
        "bytea" => LogicalType::Bytes(None),
        "json" | "jsonb" => LogicalType::Json,
        "timestamp" => LogicalType::Timestamp,
        "timestamptz" => LogicalType::Timestamptz,
        "date" => LogicalType::Date,
        "time" => LogicalType::Time,
        "uuid" => LogicalType::Uuid,
        "vector" => LogicalType::Vector(args.first().copied()),
        _ => LogicalType::Any,
    }
}

/// A MySQL/MariaDB type by `DATA_TYPE` (`int`) and `COLUMN_TYPE` (`int(10) unsigned`).
pub fn mysql_logical(data_type: &str, column_type: &str) -> LogicalType {
    let ct = column_type.to_ascii_lowercase();
    let unsigned = ct.contains("unsigned");
    let args = type_args(&ct);
    let int = |bits: u8| {
        if unsigned {
            LogicalType::Uint(bits)
        } else {
            LogicalType::Int(bits)
        }
    };
    match data_type.to_ascii_lowercase().as_str() {
        "tinyint" if ct.starts_with("tinyint(1)") && !unsigned => LogicalType::Boolean,
        "bool" | "boolean" => LogicalType::Boolean,
        "tinyint" => int(8),
        "smallint" | "year" => int(16),
        "mediumint" | "int" | "integer" => int(32),
        "bigint" | "bit" => int(64),
        "float" => LogicalType::Float(32),
        "double" | "real" => LogicalType::Float(64),
        "decimal" | "numeric" => LogicalType::Decimal(DecimalSpec {
            precision: args.first().map(|p| (*p).min(255) as u8),
            scale: args.get(1).map(|s| (*s).min(255) as u8),
        }),
        "char" | "varchar" => LogicalType::Text(args.first().copied()),
        "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => LogicalType::Text(None),
        "binary" | "varbinary" => LogicalType::Bytes(args.first().copied()),
        "tinyblob" | "blob" | "mediumblob" | "longblob" => LogicalType::Bytes(None),
        "json" => LogicalType::Json,
        "date" => LogicalType::Date,
        "datetime" => LogicalType::Timestamp,
        "timestamp" => LogicalType::Timestamptz,
        "time" => LogicalType::Time,
        "uuid" => LogicalType::Uuid,
        _ => LogicalType::Any,
    }
}

/// Longest identifier PostgreSQL keeps (it cuts longer ones; MySQL allows
/// 64): generated names are cut here, the same way on every run.
pub const MAX_GENERATED_NAME: usize = 63;

/// A deterministic name for a constraint the source left unnamed,
/// PostgreSQL's own convention: `<table>_<col>_<col>_<suffix>` (`key` for
/// unique, `check`, `fkey`), cut to [`MAX_GENERATED_NAME`] bytes.
///
/// Targets name every constraint they create so that a post-data statement
/// run twice (after a run was killed between the statement and its
/// progress record) fails with "already exists" instead of silently adding
/// a second, differently named copy of the constraint.
pub fn constraint_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = format!("{table}_{}_{suffix}", columns.join("_"));
    if name.len() > MAX_GENERATED_NAME {
        let mut cut = MAX_GENERATED_NAME;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// A PostgreSQL index definition (as `pg_get_indexdef` prints it:
/// `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method (...)`)
/// re-aimed at `relation` (already quoted, schema-qualified or not) under
/// the index name `index` (unquoted). The source's schema and table name
/// would otherwise follow the index into a target with another schema or
/// a renamed table. `None` when the text does not have that shape.
pub fn retarget_pg_index(definition: &str, index: &str, relation: &str) -> Option<String> {
    let rest = definition.trim();
    let (unique, rest) = if let Some(r) = rest.strip_prefix("CREATE UNIQUE INDEX ") {
        (true, r)
    } else {
        (false, rest.strip_prefix("CREATE INDEX ")?)
    };
    let rest = skip_identifier(rest)?;
    let rest = rest.strip_prefix(" ON ")?;
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    let mut rest = skip_identifier(rest)?;
    if let Some(r) = rest.strip_prefix('.') {
        rest = skip_identifier(r)?;
    }
    let tail = rest.strip_prefix(" USING ")?;
    Some(format!(
        "CREATE {}INDEX {} ON {relation} USING {tail}",
        if unique { "UNIQUE " } else { "" },
        crate::values::quote_double(index)
    ))
}

/// The text after one SQL identifier: `"quoted ""x"""` or a bare word.
fn skip_identifier(s: &str) -> Option<&str> {
    if let Some(body) = s.strip_prefix('"') {
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().map(|(_, n)| *n) == Some('"') {
                    chars.next();
                } else {
                    return Some(&body[i + 1..]);
                }
            }
        }
        None
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(s.len());
        (end > 0).then(|| &s[end..])
    }
}

#[cfg(test)]
mod retarget_tests {
    use super::retarget_pg_index;

    #[test]
    fn the_source_schema_and_name_are_replaced() {
        assert_eq!(
            retarget_pg_index(
                "CREATE UNIQUE INDEX x_lower ON public.x USING btree (lower(email))",
                "x_lower",
                "\"staging\".\"x\""
            )
            .unwrap(),
            "CREATE UNIQUE INDEX \"x_lower\" ON \"staging\".\"x\" USING btree (lower(email))"
        );
        assert_eq!(
            retarget_pg_index(
                "CREATE INDEX \"Odd \"\"name\" ON ONLY \"My Schema\".\"T\" USING gin (doc) WHERE (a > 1)",
                "new",
                "\"t2\""
            )
            .unwrap(),
            "CREATE INDEX \"new\" ON \"t2\" USING gin (doc) WHERE (a > 1)"
        );
        assert!(retarget_pg_index("CREATE INDEX CONCURRENTLY", "a", "b").is_none());
    }
}

/// A column default, as far as it means the same in every dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortableDefault {
    /// The current date and time (`CURRENT_TIMESTAMP`, MariaDB's
    /// `current_timestamp()`, `now()`, `CURRENT_TIMESTAMP(6)`, SQLite's
    /// `datetime('now')`).
    CurrentTimestamp,
    /// The current date.
    CurrentDate,
    /// The current time of day.
    CurrentTime,
    /// true / false (also SQLite's and MySQL's 0 / 1 on boolean columns).
    Boolean(bool),
    /// A number, as written.
    Number(String),
    /// A quoted string literal, as written (`'abc'`, quotes doubled inside).
    Text(String),
}

/// Why a source default is left out of the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultLeftOut {
    /// No default, or `NULL` (the same as none).
    None,
    /// MySQL's zero date (`'0000-00-00 00:00:00'`): no other database
    /// stores it.
    ZeroDate(String),
    /// An expression of the source's own dialect.
    DialectSpecific(String),
}

/// What a source default means, independent of its dialect's spelling.
pub fn portable_default(
    default: Option<&str>,
    logical: &LogicalType,
) -> Result<PortableDefault, DefaultLeftOut> {
    let Some(d) = default.map(str::trim).filter(|d| !d.is_empty()) else {
        return Err(DefaultLeftOut::None);
    };
    let upper = d.to_ascii_uppercase();
    let mut bare = upper.as_str();
    while bare.starts_with('(') && bare.ends_with(')') {
        bare = bare[1..bare.len() - 1].trim();
    }
    let call = bare.strip_suffix("()").unwrap_or(bare);
    let precision_call = call
        .split_once('(')
        .filter(|(_, rest)| rest.trim_end_matches(')').trim().parse::<u8>().is_ok())
        .map(|(f, _)| f)
        .unwrap_or(call);
    match precision_call {
        "CURRENT_TIMESTAMP" | "NOW" | "LOCALTIMESTAMP" | "LOCALTIME" | "SYSDATE" => {
            return Ok(PortableDefault::CurrentTimestamp)
        }
        "CURRENT_DATE" | "CURDATE" => return Ok(PortableDefault::CurrentDate),
        "CURRENT_TIME" | "CURTIME" => return Ok(PortableDefault::CurrentTime),
        "NULL" => return Err(DefaultLeftOut::None),
        _ => {}
    }
    if matches!(
        bare,
        "DATETIME('NOW')" | "DATETIME('NOW', 'LOCALTIME')" | "STRFTIME('%Y-%M-%D %H:%M:%S', 'NOW')"
    ) {
        return Ok(PortableDefault::CurrentTimestamp);
    }
    if bare == "DATE('NOW')" {
        return Ok(PortableDefault::CurrentDate);
    }
    let quoted = d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'');
    let inner = if quoted { &d[1..d.len() - 1] } else { d };
    if inner.starts_with("0000-00-00") {
        return Err(DefaultLeftOut::ZeroDate(d.to_owned()));
    }
    if matches!(logical, LogicalType::Boolean) {
        match bare.trim_matches('\'') {
            "0" | "FALSE" | "B'0'" => return Ok(PortableDefault::Boolean(false)),
            "1" | "TRUE" | "B'1'" => return Ok(PortableDefault::Boolean(true)),
            _ => {}
        }
    }
    if quoted {
        return Ok(PortableDefault::Text(d.to_owned()));
    }
    if bare == "TRUE" || bare == "FALSE" {
        return Ok(PortableDefault::Boolean(bare == "TRUE"));
    }
    if d.parse::<f64>().is_ok() {
        return Ok(PortableDefault::Number(d.to_owned()));
    }
    Err(DefaultLeftOut::DialectSpecific(d.to_owned()))
}

#[cfg(test)]
mod default_tests {
    use super::{portable_default as p, DefaultLeftOut, PortableDefault as D};
    use crate::LogicalType as L;

    #[test]
    fn spellings_of_now_and_zero_dates() {
        for now in [
            "CURRENT_TIMESTAMP",
            "current_timestamp()",
            "now()",
            "CURRENT_TIMESTAMP(6)",
            "(datetime('now'))",
        ] {
            assert_eq!(
                p(Some(now), &L::Timestamp),
                Ok(D::CurrentTimestamp),
                "{now}"
            );
        }
        assert!(matches!(
            p(Some("'0000-00-00 00:00:00'"), &L::Timestamp),
            Err(DefaultLeftOut::ZeroDate(_))
        ));
        assert!(matches!(
            p(Some("0000-00-00"), &L::Date),
            Err(DefaultLeftOut::ZeroDate(_))
        ));
        assert_eq!(p(Some("0"), &L::Boolean), Ok(D::Boolean(false)));
        assert_eq!(p(Some("'x'"), &L::Text(None)), Ok(D::Text("'x'".into())));
        assert_eq!(p(Some("NULL"), &L::Text(None)), Err(DefaultLeftOut::None));
        assert!(matches!(
            p(Some("(random())"), &L::Int(64)),
            Err(DefaultLeftOut::DialectSpecific(_))
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated types have no `PartialEq`: compare their Debug form.
    fn read(declared: &str) -> String {
        format!("{:?}", sqlite_logical(declared))
    }

    #[test]
    fn what_sqlite_target_declares_reads_back_as_the_same_logical_type() {
        let decimal = |p, s| {
            format!(
                "{:?}",
                LogicalType::Decimal(DecimalSpec {
                    precision: Some(p),
                    scale: Some(s),
                })
            )
        };
        assert_eq!(read("DECIMAL TEXT(30,10)"), decimal(30, 10));
        assert_eq!(read("NUMERIC(12,2)"), decimal(12, 2));
        assert_eq!(read("JSON TEXT"), format!("{:?}", LogicalType::Json));
        assert_eq!(
            read("TIMESTAMPTZ"),
            format!("{:?}", LogicalType::Timestamptz)
        );
        assert_eq!(read("UUID"), format!("{:?}", LogicalType::Uuid));
        // Other names with TEXT in them stay text.
        assert_eq!(read("LONG TEXT"), format!("{:?}", LogicalType::Text(None)));
    }
}
