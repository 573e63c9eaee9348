//! `mysql-target`: plans writing tables into MySQL or MariaDB (label `target`).
//!
//! - Types: a MySQL source's column types are kept verbatim; others map from
//!   the logical type (docs/casts.md): `REAL` → `double`, text → `longtext`
//!   (or `varchar(255)` where it is part of a key, since MySQL cannot index
//!   unbounded text), bytes → `longblob`, timestamps → `datetime(6)` (instants
//!   in UTC; `timestamp` would end in 2038), JSON → `json`.
//! - Tables use `utf8mb4` with the binary collation, so text compares exactly
//!   as in SQLite and PostgreSQL (a case-insensitive collation would make
//!   `A@x` and `a@x` collide on a unique key).
//! - The key of an auto-increment column is declared inline (MySQL requires
//!   it); other keys and indexes follow the data, foreign keys come last.

use godwit_sdk::caps::sql;
use godwit_sdk::db::query_rows;
use godwit_sdk::ddl::{Ddl, SqlDialect};
use godwit_sdk::target::{
    CapabilityKind, CapabilityRequest, PluginInfo, Target, WriteMode, WritePlan,
};
use godwit_sdk::values::quote_backtick as q;
use godwit_sdk::{ColumnDef, Error, LogicalType, TableDef, Value};

/// The connection label this plugin requests.
const LABEL: &str = "target";
/// Keys, constraints and indexes, as every SQL target writes them.
const DDL: Ddl = Ddl::new(SqlDialect::Mysql);

struct MysqlTarget;

impl Target for MysqlTarget {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "mysql-target".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Creates tables, keys, indexes and foreign keys in MySQL or MariaDB and loads rows."
                    .into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: LABEL.into(),
                purpose: "inspect, create and load tables in the target database".into(),
            }],
            params_doc: "No parameters.".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn plan_write(table: TableDef, mode: WriteMode) -> Result<WritePlan, Error> {
        if table.is_view {
            return Err(Error::Unsupported(format!(
                "{} is a view; views are not copied",
                table.name
            )));
        }
        let name = q(&table.name);
        let exists = table_exists(&table.name)?;
        let keep = exists
            && matches!(
                mode,
                WriteMode::Append | WriteMode::Truncate | WriteMode::Upsert
            );
        let (mut pre, mut post, mut constraints) = (Vec::new(), Vec::new(), Vec::new());
        if keep {
            if mode == WriteMode::Truncate {
                pre.push(format!("DELETE FROM {name}"));
            }
        } else {
            match mode {
                WriteMode::Create if exists => {
                    return Err(Error::InvalidInput(format!(
                        "table {name} already exists (mode \"create\"); use replace, truncate, append or upsert"
                    )))
                }
                // Tables of a step are dropped children first, so the foreign
                // keys of an earlier run do not block the drop.
                WriteMode::Replace => pre.push(format!("DROP TABLE IF EXISTS {name}")),
                _ => {}
            }
            let identity = DDL.identity_column(&table);
            let inline_pk = identity.is_some() || mode == WriteMode::Upsert;
            pre.push(create_table(&name, &table, identity.as_deref(), inline_pk));
            if !inline_pk && !table.primary_key.is_empty() {
                post.push(format!(
                    "ALTER TABLE {name} ADD PRIMARY KEY ({})",
                    list(&table.primary_key)
                ));
            }
            post.extend(
                table
                    .uniques
                    .iter()
                    .map(|u| DDL.add_unique(&name, &table, u)),
            );
            post.extend(
                table
                    .checks
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| DDL.add_check(&name, &table, i, c)),
            );
            // Expression indexes of another dialect are not carried.
            post.extend(
                table
                    .indexes
                    .iter()
                    .filter_map(|i| DDL.create_index(&name, i, false)),
            );
            constraints.extend(
                table
                    .foreign_keys
                    .iter()
                    .map(|f| DDL.add_foreign_key(&name, &table, f, &q(&f.ref_table))),
            );
        }
        let upsert_key = if mode == WriteMode::Upsert {
            if table.primary_key.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "upsert needs a primary key and {} has none",
                    table.name
                )));
            }
            table.primary_key.clone()
        } else {
            vec![]
        };
        let existing = if keep {
            Some(existing_columns(&table.name)?)
        } else {
            None
        };
        Ok(WritePlan {
            connection: LABEL.into(),
            pre,
            table: name,
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            post,
            constraints,
            upsert_key,
            existing,
        })
    }
}

/// The columns of a table the application created, as MySQL declares them.
fn existing_columns(table: &str) -> Result<Vec<ColumnDef>, Error> {
    let conn = sql::open(LABEL)?;
    let rows = query_rows(
        &conn,
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        &[Value::Text(table.into())],
    )?;
    let text = |v: &Value| match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => godwit_sdk::values::as_str(other)
            .unwrap_or_default()
            .to_owned(),
    };
    Ok(rows
        .iter()
        .map(|r| ColumnDef {
            name: text(&r[0]),
            logical: godwit_sdk::dialect::mysql_logical(&text(&r[1]), &text(&r[2])),
            native_type: text(&r[2]),
            nullable: text(&r[3]) == "YES",
            default: (!matches!(r[4], Value::Null))
                .then(|| text(&r[4]))
                .filter(|d| d != "NULL"),
            auto_increment: text(&r[5]).to_ascii_lowercase().contains("auto_increment"),
            comment: None,
        })
        .collect())
}

fn table_exists(table: &str) -> Result<bool, Error> {
    let conn = sql::open(LABEL)?;
    let rows = query_rows(
        &conn,
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        &[Value::Text(table.into())],
    )?;
    Ok(!rows.is_empty())
}

/// See postgres-target: auto-increment, or SQLite's `INTEGER PRIMARY KEY`.
/// True when a column takes part in a key or index (MySQL cannot index
/// unbounded text or blobs without a prefix length).
fn keyed(t: &TableDef, col: &str) -> bool {
    let has = |cols: &[String]| cols.iter().any(|c| c == col);
    has(&t.primary_key)
        || t.uniques.iter().any(|u| has(&u.columns))
        || t.indexes.iter().any(|i| has(&i.columns))
        || t.foreign_keys.iter().any(|f| has(&f.columns))
}

/// InnoDB's limit on the bytes of one index key (DYNAMIC rows).
const MAX_KEY_BYTES: u32 = 3072;
/// The width of a text or bytes column in a key when nothing forces less.
const KEY_COLUMN_CHARS: u32 = 255;

/// Characters (text, 4 bytes each in utf8mb4) or bytes a variable-width
/// column may have where it is part of a key, so that every key holding it
/// fits [`MAX_KEY_BYTES`]: `varchar(255)` each, unless a key over several
/// such columns would be longer (four `varchar(255)` columns are 4,080
/// bytes), then their equal share.
fn key_width(t: &TableDef, col: &str) -> u32 {
    let variable = |c: &ColumnDef| {
        matches!(
            c.logical,
            LogicalType::Text(_) | LogicalType::Any | LogicalType::Bytes(_)
        ) && (t.native_dialect != "mysql" || c.native_type.is_empty())
    };
    let keys = std::iter::once(&t.primary_key)
        .chain(t.uniques.iter().map(|u| &u.columns))
        .chain(t.indexes.iter().map(|i| &i.columns))
        .chain(t.foreign_keys.iter().map(|f| &f.columns));
    let mut width = KEY_COLUMN_CHARS;
    for key in keys.filter(|k| k.iter().any(|c| c == col)) {
        let cols: Vec<&ColumnDef> = key
            .iter()
            .filter_map(|k| t.columns.iter().find(|c| &c.name == k))
            .collect();
        let (mut units, mut fixed) = (0u32, 0u32);
        for c in &cols {
            match c.logical {
                _ if !variable(c) => fixed += 8,
                LogicalType::Bytes(_) => units += 1,
                _ => units += 4,
            }
        }
        if units * KEY_COLUMN_CHARS + fixed > MAX_KEY_BYTES {
            let share = (MAX_KEY_BYTES.saturating_sub(fixed) / units.max(1)).max(1);
            let first = cols.iter().find(|c| variable(c)).map(|c| c.name.as_str());
            width = width.min(share);
            if first == Some(col) {
                godwit_sdk::log(
                    godwit_sdk::caps::log::Level::Warn,
                    &format!(
                        "key ({}) of {} would exceed MySQL's {MAX_KEY_BYTES}-byte key limit with \
                         columns of {KEY_COLUMN_CHARS} characters: its text columns are varchar({share}) \
                         (varbinary for bytes); longer values are rejected, never cut",
                        key.join(", "),
                        t.name
                    ),
                );
            }
        }
    }
    width
}

fn create_table(name: &str, t: &TableDef, identity: Option<&str>, inline_pk: bool) -> String {
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut s = format!("{} {}", q(&c.name), mysql_type(t, c));
            if !c.nullable || identity == Some(c.name.as_str()) {
                s.push_str(" NOT NULL");
            }
            if identity == Some(c.name.as_str()) {
                s.push_str(" AUTO_INCREMENT");
            } else if let Some(d) = default_expr(t, c) {
                s.push_str(&format!(" DEFAULT {d}"));
            }
            if let Some(text) = &c.comment {
                s.push_str(&format!(
                    " COMMENT '{}'",
                    text.replace('\\', "\\\\").replace('\'', "''")
                ));
            }
            s
        })
        .collect();
    if inline_pk && !t.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", list(&t.primary_key)));
    }
    let mut ddl = format!(
        "CREATE TABLE {name} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        parts.join(",\n  ")
    );
    if let Some(c) = &t.comment {
        ddl.push_str(&format!(
            " COMMENT='{}'",
            c.replace('\\', "\\\\").replace('\'', "''")
        ));
    }
    ddl
}

fn mysql_type(t: &TableDef, c: &ColumnDef) -> String {
    if t.native_dialect == "mysql" && !c.native_type.is_empty() {
        return c.native_type.clone();
    }
    let key = keyed(t, &c.name);
    let unsigned = |bits: u8| match bits {
        0..=8 => "tinyint unsigned",
        9..=16 => "smallint unsigned",
        17..=32 => "int unsigned",
        _ => "bigint unsigned",
    };
    match &c.logical {
        LogicalType::Boolean => "tinyint(1)".into(),
        LogicalType::Int(bits) => match bits {
            0..=8 => "tinyint",
            9..=16 => "smallint",
            17..=32 => "int",
            _ => "bigint",
        }
        .into(),
        LogicalType::Uint(bits) => unsigned(*bits).into(),
        LogicalType::Float(32) if t.native_dialect != "sqlite" => "float".into(),
        LogicalType::Float(_) => "double".into(),
        LogicalType::Decimal(d) => match (d.precision, d.scale) {
            (Some(p), Some(s)) if p <= 65 => format!("decimal({p},{s})"),
            (Some(p), None) if p <= 65 => format!("decimal({p},0)"),
            // Unbounded decimals: widest MySQL allows (overflow is rejected, not rounded).
            _ => "decimal(65,30)".into(),
        },
        LogicalType::Text(Some(n)) if *n <= 16_383 && t.native_dialect != "sqlite" => {
            format!("varchar({n})")
        }
        LogicalType::Text(_) | LogicalType::Any if key => {
            format!("varchar({})", key_width(t, &c.name))
        }
        LogicalType::Text(_) | LogicalType::Any => "longtext".into(),
        LogicalType::Bytes(_) if key => format!("varbinary({})", key_width(t, &c.name)),
        LogicalType::Bytes(_) => "longblob".into(),
        LogicalType::Json => "json".into(),
        LogicalType::Timestamp | LogicalType::Timestamptz => "datetime(6)".into(),
        LogicalType::Date => "date".into(),
        LogicalType::Time => "time(6)".into(),
        LogicalType::Uuid => "char(36)".into(),
        LogicalType::Vector(_) => "json".into(),
    }
}

/// A default that means the same in MySQL, or none (said in the log).
fn default_expr(t: &TableDef, c: &ColumnDef) -> Option<String> {
    use godwit_sdk::dialect::{portable_default, DefaultLeftOut, PortableDefault as D};
    if t.native_dialect == "mysql" {
        return c.default.clone();
    }
    let temporal = matches!(c.logical, LogicalType::Timestamp | LogicalType::Timestamptz);
    match portable_default(c.default.as_deref(), &c.logical) {
        Ok(D::CurrentTimestamp) if temporal => Some("CURRENT_TIMESTAMP(6)".into()),
        Ok(D::Boolean(b)) => Some(if b { "1" } else { "0" }.into()),
        Ok(D::Number(n)) => Some(n),
        Ok(D::Text(t)) => Some(t),
        Err(DefaultLeftOut::None) => None,
        Ok(other) => {
            godwit_sdk::log(
                godwit_sdk::caps::log::Level::Warn,
                &format!("default {other:?} of {}.{} has no MySQL equivalent on this column type; the column has no default", t.name, c.name),
            );
            None
        }
        Err(DefaultLeftOut::ZeroDate(d) | DefaultLeftOut::DialectSpecific(d)) => {
            godwit_sdk::log(
                godwit_sdk::caps::log::Level::Warn,
                &format!(
                    "default {d} of {}.{} is written for {}; the column has no default",
                    t.name, c.name, t.native_dialect
                ),
            );
            None
        }
    }
}

fn list(cols: &[String]) -> String {
    DDL.list(cols)
}

godwit_sdk::target::export_target!(MysqlTarget);
