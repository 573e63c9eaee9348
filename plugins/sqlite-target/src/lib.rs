//! `sqlite-target`: plans writing tables into a SQLite database (label `target`).
//!
//! SQLite cannot add primary keys, unique constraints or foreign keys to an
//! existing table, so they are part of `CREATE TABLE`; indexes are created after
//! the data. Declared types from a SQLite source are kept verbatim (exact
//! round trip); other dialects' types are mapped from the logical type.

use godwit_sdk::ddl::{Ddl, SqlDialect};
use godwit_sdk::source::CapabilityKind;
use godwit_sdk::target::{CapabilityRequest, PluginInfo, Target, WriteMode, WritePlan};
use godwit_sdk::values::quote_double as q;
use godwit_sdk::{ColumnDef, Error, LogicalType, TableDef};

/// The connection label this plugin requests.
const LABEL: &str = "target";
/// Keys, constraints and indexes, as every SQL target writes them.
const DDL: Ddl = Ddl::new(SqlDialect::Sqlite);

struct SqliteTarget;

impl Target for SqliteTarget {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "sqlite-target".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Creates tables, keys and indexes in a SQLite database and loads rows."
                .into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: LABEL.into(),
                purpose: "create tables in and load rows into the target database".into(),
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
        let create = create_table(&table);
        let mut pre = Vec::new();
        let mut upsert_key = Vec::new();
        match mode {
            WriteMode::Create => pre.push(create),
            WriteMode::Replace => {
                pre.push(format!("DROP TABLE IF EXISTS {name}"));
                pre.push(create);
            }
            WriteMode::Truncate => {
                pre.push(create.replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1));
                pre.push(format!("DELETE FROM {name}"));
            }
            WriteMode::Append => {
                pre.push(create.replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1));
            }
            WriteMode::Upsert => {
                if table.primary_key.is_empty() {
                    return Err(Error::InvalidInput(format!(
                        "upsert needs a primary key and {} has none",
                        table.name
                    )));
                }
                pre.push(create.replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1));
                upsert_key = table.primary_key.clone();
            }
        }
        let keep_existing = matches!(
            mode,
            WriteMode::Append | WriteMode::Upsert | WriteMode::Truncate
        );
        let post = table
            .indexes
            .iter()
            .filter_map(|i| index_ddl(&table, i, keep_existing))
            .collect();
        let existing = if matches!(
            mode,
            WriteMode::Append | WriteMode::Truncate | WriteMode::Upsert
        ) {
            existing_columns(&table.name)?
        } else {
            None
        };
        Ok(WritePlan {
            connection: LABEL.into(),
            pre,
            table: name,
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            post,
            constraints: vec![],
            upsert_key,
            existing,
        })
    }
}

/// The columns of the table if it already exists, as SQLite declares them.
fn existing_columns(table: &str) -> Result<Option<Vec<ColumnDef>>, Error> {
    let conn = godwit_sdk::caps::sql::open(LABEL)?;
    let rows = godwit_sdk::db::query_rows(
        &conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        &[godwit_sdk::Value::Text(table.into())],
    )?;
    if rows.is_empty() {
        return Ok(None);
    }
    let text = |v: &godwit_sdk::Value| godwit_sdk::values::as_str(v).unwrap_or_default().to_owned();
    Ok(Some(
        rows.iter()
            .map(|r| ColumnDef {
                name: text(&r[0]),
                logical: godwit_sdk::dialect::sqlite_logical(&text(&r[1])),
                native_type: text(&r[1]),
                nullable: godwit_sdk::values::as_i64(&r[2]) == Some(0),
                default: godwit_sdk::values::as_str(&r[3]).map(str::to_owned),
                auto_increment: false,
                comment: None,
            })
            .collect(),
    ))
}

fn create_table(t: &TableDef) -> String {
    let single_rowid_pk = t.primary_key.len() == 1
        && t.columns
            .iter()
            .any(|c| c.name == t.primary_key[0] && c.auto_increment);
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_ddl(t, c, single_rowid_pk))
        .collect();
    if !t.primary_key.is_empty() && !single_rowid_pk {
        parts.push(format!("PRIMARY KEY ({})", list(&t.primary_key)));
    }
    for u in &t.uniques {
        parts.push(format!("UNIQUE ({})", list(&u.columns)));
    }
    for c in &t.checks {
        if let Some(expr) = DDL.check_expression(t, c) {
            parts.push(match &c.name {
                Some(n) => format!("CONSTRAINT {} CHECK ({expr})", q(n)),
                None => format!("CHECK ({expr})"),
            });
        }
    }
    for f in &t.foreign_keys {
        parts.push(DDL.foreign_key(f, &q(&f.ref_table)));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        q(&t.name),
        parts.join(",\n  ")
    )
}

fn column_ddl(t: &TableDef, c: &ColumnDef, single_rowid_pk: bool) -> String {
    let ty = if t.native_dialect == "sqlite" {
        c.native_type.clone()
    } else {
        sqlite_type(&c.logical)
    };
    let mut s = q(&c.name);
    if !ty.is_empty() {
        s.push(' ');
        s.push_str(&ty);
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if single_rowid_pk && t.primary_key[0] == c.name {
        s.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if let Some(d) = &c.default {
        if t.native_dialect == "sqlite" {
            s.push_str(&format!(" DEFAULT {d}"));
        }
    }
    s
}

/// Significant decimal digits every value of which survives SQLite's
/// NUMERIC affinity (text → REAL keeps 15 digits; an IEEE double holds any
/// 15-digit decimal exactly enough to print it back, DBL_DIG).
const EXACT_REAL_DIGITS: u8 = 15;

/// SQLite declarations for logical types from other dialects, chosen so that
/// the column affinity never alters the stored values and so that
/// `sqlite-source` (`godwit_sdk::dialect::sqlite_logical`) reads the same
/// logical type back: dates, times and UUIDs are stored as ISO text, which
/// is never a numeric literal, so the NUMERIC affinity of `DATE` or `UUID`
/// leaves them as they are. Decimals of at most [`EXACT_REAL_DIGITS`]
/// digits are declared `NUMERIC(p,s)`, as SQLite applications do: their
/// values become REALs that print back as the same number. Wider decimals
/// and JSON documents (which can be numeric literals: `1.10` would become
/// the REAL 1.1) get a name with TEXT affinity (it contains `TEXT`) that
/// still says what they are.
fn sqlite_type(l: &LogicalType) -> String {
    match l {
        LogicalType::Boolean => "BOOLEAN".into(),
        LogicalType::Int(_) | LogicalType::Uint(_) => "INTEGER".into(),
        LogicalType::Float(_) => "REAL".into(),
        // What SQLite applications declare (their values are REALs), where
        // every value survives a REAL exactly; wider ones as text.
        LogicalType::Decimal(d) => match (d.precision, d.scale) {
            (Some(p), Some(s)) if p <= EXACT_REAL_DIGITS => format!("NUMERIC({p},{s})"),
            (Some(p), None) if p <= EXACT_REAL_DIGITS => format!("NUMERIC({p})"),
            (Some(p), Some(s)) => format!("DECIMAL TEXT({p},{s})"),
            (Some(p), None) => format!("DECIMAL TEXT({p})"),
            _ => "DECIMAL TEXT".into(),
        },
        LogicalType::Json => "JSON TEXT".into(),
        LogicalType::Text(_) => "TEXT".into(),
        LogicalType::Uuid => "UUID".into(),
        LogicalType::Bytes(_) | LogicalType::Vector(_) => "BLOB".into(),
        LogicalType::Timestamp => "TIMESTAMP".into(),
        LogicalType::Timestamptz => "TIMESTAMPTZ".into(),
        LogicalType::Date => "DATE".into(),
        LogicalType::Time => "TIME".into(),
        LogicalType::Any => String::new(),
    }
}

/// An index: a SQLite source's own definition, or one from its columns
/// (`None`: an expression index of another dialect, not carried).
fn index_ddl(t: &TableDef, i: &godwit_sdk::IndexDef, if_not_exists: bool) -> Option<String> {
    match (&i.definition, t.native_dialect.as_str()) {
        (Some(def), "sqlite") if if_not_exists => {
            Some(def.replacen("INDEX", "INDEX IF NOT EXISTS", 1))
        }
        (Some(def), "sqlite") => Some(def.clone()),
        _ => {
            let ddl = DDL.create_index(&q(&t.name), i, if_not_exists);
            if ddl.is_none() {
                godwit_sdk::log(
                    godwit_sdk::caps::log::Level::Warn,
                    &format!(
                        "index {} on {} is an expression index in another dialect; not created",
                        i.name, t.name
                    ),
                );
            }
            ddl
        }
    }
}

fn list(cols: &[String]) -> String {
    DDL.list(cols)
}

godwit_sdk::target::export_target!(SqliteTarget);
