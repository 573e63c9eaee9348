//! `mysql-source`: reads tables from MySQL or MariaDB (label `source`).
//!
//! Discovery reads `information_schema` for the connection's database: exact
//! column types (`COLUMN_TYPE`, e.g. `int(10) unsigned`, `decimal(12,2)`),
//! defaults (MariaDB and MySQL spellings), auto-increment, comments; primary
//! keys, unique and secondary indexes, foreign keys with actions, CHECK
//! constraints; MariaDB's JSON columns (longtext + `json_valid`) are JSON.
//! Reading is a `SELECT` the host runs itself.

use godwit_sdk::caps::sql;
use godwit_sdk::db::query_rows;
use godwit_sdk::source::{
    CapabilityKind, CapabilityRequest, PluginInfo, ReadPlan, Reader, Source, SqlRead,
};
use godwit_sdk::values::{as_i64, as_str, quote_backtick as q};
use godwit_sdk::{
    CheckConstraint, ColumnDef, Error, ForeignKey, IndexDef, LogicalType, TableDef,
    UniqueConstraint, Value,
};

/// The connection label this plugin requests.
const LABEL: &str = "source";

struct MysqlSource;

impl Source for MysqlSource {
    type Reader = godwit_sdk::source::NoReader;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "mysql-source".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Reads tables, columns, keys, indexes and constraints from MySQL or MariaDB.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: LABEL.into(),
                purpose: "read the catalog and rows of the source database".into(),
            }],
            params_doc: "No parameters (the database is the connection's).".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        let conn = sql::open(LABEL)?;
        let tables = query_rows(
            &conn,
            "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            &[],
        )?;
        tables
            .iter()
            .map(|r| {
                let view = text(&r[1]).contains("VIEW");
                let comment = opt_text(&r[2]).filter(|c| !c.is_empty() && c != "VIEW");
                describe_table(
                    &conn,
                    &text(&r[0]),
                    view,
                    comment,
                    as_i64(&r[3]).map(|n| n as u64),
                )
            })
            .collect()
    }

    fn plan_read(table: String) -> Result<ReadPlan, Error> {
        let conn = sql::open(LABEL)?;
        let cols = query_rows(
            &conn,
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            &[Value::Text(table.clone())],
        )?;
        if cols.is_empty() {
            return Err(Error::NotFound(format!("table {table:?} does not exist")));
        }
        // Text in a binary collation (`*_bin`, and MariaDB's JSON) reaches the
        // client flagged as binary and would be read as bytes: convert it to
        // plain utf8mb4 text in the query.
        let list: Vec<String> = cols
            .iter()
            .map(|r| {
                let (name, ty) = (q(&text(&r[0])), text(&r[1]).to_ascii_lowercase());
                match ty.as_str() {
                    "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext"
                    | "enum" | "set" | "json" => {
                        format!("CONVERT({name} USING utf8mb4) AS {name}")
                    }
                    _ => name,
                }
            })
            .collect();
        Ok(ReadPlan::Sql(SqlRead {
            connection: LABEL.into(),
            statement: format!("SELECT {} FROM {}", list.join(", "), q(&table)),
            params: vec![],
        }))
    }

    fn open_reader(table: String) -> Result<Reader, Error> {
        Err(Error::Unsupported(format!(
            "mysql-source reads {table:?} through SQL"
        )))
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => as_str(other).map(str::to_owned).unwrap_or_default(),
    }
}

fn opt_text(v: &Value) -> Option<String> {
    (!matches!(v, Value::Null)).then(|| text(v))
}

fn describe_table(
    conn: &sql::Connection,
    name: &str,
    is_view: bool,
    comment: Option<String>,
    estimated_rows: Option<u64>,
) -> Result<TableDef, Error> {
    let t = Value::Text(name.to_owned());
    let cols = query_rows(
        conn,
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        std::slice::from_ref(&t),
    )?;
    let mut checks = Vec::new();
    let mut json_columns = Vec::new();
    if !is_view {
        let rows = query_rows(
            conn,
            "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc \
             JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA \
               AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK' \
             WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = ? ORDER BY 1",
            std::slice::from_ref(&t),
        )?;
        for r in &rows {
            let clause = text(&r[1]);
            // MariaDB's JSON type is longtext plus CHECK (json_valid(`col`)).
            if let Some(col) = clause
                .strip_prefix("json_valid(`")
                .and_then(|c| c.strip_suffix("`)"))
            {
                json_columns.push(col.replace("``", "`"));
                continue;
            }
            checks.push(CheckConstraint {
                name: opt_text(&r[0]),
                expression: clause,
                validated: true,
            });
        }
    }
    let columns = cols
        .iter()
        .map(|c| {
            let name = text(&c[0]);
            let data_type = text(&c[1]).to_ascii_lowercase();
            let column_type = text(&c[2]);
            let extra = text(&c[5]).to_ascii_lowercase();
            let logical = if json_columns.contains(&name) {
                LogicalType::Json
            } else {
                godwit_sdk::dialect::mysql_logical(&data_type, &column_type)
            };
            ColumnDef {
                logical,
                native_type: column_type,
                nullable: text(&c[3]) == "YES",
                // MariaDB spells a NULL default as the text NULL.
                default: opt_text(&c[4]).filter(|d| d != "NULL"),
                auto_increment: extra.contains("auto_increment"),
                comment: opt_text(&c[6]).filter(|s| !s.is_empty()),
                name,
            }
        })
        .collect();
    let mut def = TableDef {
        schema: None,
        name: name.to_owned(),
        columns,
        primary_key: vec![],
        uniques: vec![],
        checks,
        foreign_keys: vec![],
        indexes: vec![],
        comment,
        estimated_rows,
        is_view,
        native_dialect: "mysql".into(),
        triggers: vec![],
    };
    if is_view {
        return Ok(def);
    }
    def.triggers = query_rows(
        conn,
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS \
         WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ? ORDER BY 1",
        std::slice::from_ref(&t),
    )?
    .iter()
    .map(|r| text(&r[0]))
    .collect();
    let idx = query_rows(
        conn,
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        std::slice::from_ref(&t),
    )?;
    let fk_names: Vec<String> = query_rows(
        conn,
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        std::slice::from_ref(&t),
    )?
    .iter()
    .map(|r| text(&r[0]))
    .collect();
    let mut groups: Vec<(String, bool, Vec<String>)> = Vec::new();
    for r in &idx {
        let (iname, unique, col) = (text(&r[0]), as_i64(&r[1]) == Some(0), text(&r[2]));
        match groups.last_mut() {
            Some((n, _, cols)) if *n == iname => cols.push(col),
            _ => groups.push((iname, unique, vec![col])),
        }
    }
    for (iname, unique, cols) in groups {
        if iname == "PRIMARY" {
            def.primary_key = cols;
        } else if unique {
            def.uniques.push(UniqueConstraint {
                name: Some(iname),
                columns: cols,
            });
        } else if !fk_names.contains(&iname) {
            // Indexes MySQL made implicitly for a foreign key are recreated with it.
            def.indexes.push(IndexDef {
                name: iname,
                columns: cols,
                unique: false,
                definition: None,
            });
        }
    }
    let fks = query_rows(
        conn,
        "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, \
                r.DELETE_RULE, r.UPDATE_RULE \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        std::slice::from_ref(&t),
    )?;
    for r in &fks {
        let cname = text(&r[0]);
        match def.foreign_keys.last_mut() {
            Some(f) if f.name.as_deref() == Some(cname.as_str()) => {
                f.columns.push(text(&r[1]));
                f.ref_columns.push(text(&r[3]));
            }
            _ => def.foreign_keys.push(ForeignKey {
                name: Some(cname),
                columns: vec![text(&r[1])],
                ref_table: text(&r[2]),
                ref_columns: vec![text(&r[3])],
                on_delete: text(&r[4]),
                on_update: text(&r[5]),
                deferrable: false,
                validated: true,
            }),
        }
    }
    Ok(def)
}

godwit_sdk::source::export_source!(MysqlSource);
