//! `sqlite-source`: reads tables from a SQLite database through the host's
//! `sql` capability (label `source`).
//!
//! Discovery uses `sqlite_master` and the `pragma_*` table-valued functions;
//! reading is a plain `SELECT` the host runs itself, so rows never enter Wasm.
//! Declared types are mapped to logical types with SQLite's affinity rules,
//! refined by common declarations (BOOLEAN, DATETIME, JSON, ...); the declared
//! type is also passed on verbatim as `native-type`.

use godwit_sdk::caps::sql;
use godwit_sdk::db::query_rows;
use godwit_sdk::source::{
    CapabilityKind, CapabilityRequest, PluginInfo, ReadPlan, Reader, Source, SqlRead,
};
use godwit_sdk::values::{as_i64, as_str, quote_double};
use godwit_sdk::{
    CheckConstraint, ColumnDef, Error, ForeignKey, IndexDef, TableDef, UniqueConstraint, Value,
};

/// The connection label this plugin requests.
const LABEL: &str = "source";

struct SqliteSource;

impl Source for SqliteSource {
    type Reader = godwit_sdk::source::NoReader;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "sqlite-source".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Reads tables, columns, keys and indexes from a SQLite database.".into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: LABEL.into(),
                purpose: "read the schema and rows of the source database".into(),
            }],
            params_doc: "No parameters.".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        let conn = sql::open(LABEL)?;
        let objects = query_rows(
            &conn,
            "SELECT name, type, coalesce(sql, '') FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
            &[],
        )?;
        // SQLite 3.37+ tells virtual tables (fts5, rtree, ...) and the
        // shadow tables their modules keep (`docs_data`, `shapes_node`).
        let kinds: std::collections::BTreeMap<String, String> = query_rows(
            &conn,
            "SELECT name, type FROM pragma_table_list WHERE schema = 'main'",
            &[],
        )
        .unwrap_or_default()
        .iter()
        .map(|r| (text(&r[0]), text(&r[1])))
        .collect();
        let mut out = Vec::with_capacity(objects.len());
        for row in &objects {
            let name = text(&row[0]);
            let is_view = text(&row[1]) == "view";
            let ddl = text(&row[2]);
            match kinds.get(&name).map(String::as_str) {
                Some("shadow") => {
                    godwit_sdk::log(
                        godwit_sdk::caps::log::Level::Warn,
                        &format!("{name} is a shadow table of a virtual table (the module's own storage): not copied"),
                    );
                    continue;
                }
                Some("virtual") => godwit_sdk::log(
                    godwit_sdk::caps::log::Level::Warn,
                    &format!(
                        "{name} is a virtual table ({}): its rows are copied into a plain table; \
                         the module (a full-text or spatial index) is not recreated",
                        ddl.split_whitespace()
                            .skip_while(|w| !w.eq_ignore_ascii_case("USING"))
                            .nth(1)
                            .unwrap_or("unknown module")
                    ),
                ),
                _ => {}
            }
            out.push(describe_table(&conn, &name, is_view, &ddl)?);
        }
        Ok(out)
    }

    fn plan_read(table: String) -> Result<ReadPlan, Error> {
        let conn = sql::open(LABEL)?;
        let columns = query_rows(
            &conn,
            "SELECT name FROM pragma_table_info(?) ORDER BY cid",
            &[Value::Text(table.clone())],
        )?;
        if columns.is_empty() {
            return Err(Error::NotFound(format!("table {table:?} does not exist")));
        }
        let list: Vec<String> = columns.iter().map(|r| quote_double(&text(&r[0]))).collect();
        Ok(ReadPlan::Sql(SqlRead {
            connection: LABEL.into(),
            statement: format!("SELECT {} FROM {}", list.join(", "), quote_double(&table)),
            params: vec![],
        }))
    }

    fn open_reader(table: String) -> Result<Reader, Error> {
        Err(Error::Unsupported(format!(
            "sqlite-source reads {table:?} through SQL; it has no batch reader"
        )))
    }
}

fn text(v: &Value) -> String {
    as_str(v).map(str::to_owned).unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    as_i64(v).unwrap_or(0)
}

fn describe_table(
    conn: &sql::Connection,
    name: &str,
    is_view: bool,
    ddl: &str,
) -> Result<TableDef, Error> {
    let table = Value::Text(name.to_owned());
    // cid, name, type, notnull, dflt_value, pk
    let cols = query_rows(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        std::slice::from_ref(&table),
    )?;
    let upper_ddl = ddl.to_ascii_uppercase();
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::with_capacity(cols.len());
    for c in &cols {
        let col_name = text(&c[0]);
        let declared = text(&c[1]);
        let pk_pos = int(&c[4]);
        if pk_pos > 0 {
            pk.push((pk_pos, col_name.clone()));
        }
        let rowid_alias = pk_pos > 0 && declared.eq_ignore_ascii_case("INTEGER");
        columns.push(ColumnDef {
            logical: godwit_sdk::dialect::sqlite_logical(&declared),
            native_type: declared,
            nullable: int(&c[2]) == 0 && !rowid_alias,
            default: as_str(&c[3]).map(str::to_owned),
            auto_increment: rowid_alias && upper_ddl.contains("AUTOINCREMENT"),
            comment: None,
            name: col_name,
        });
    }
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    // A single INTEGER PRIMARY KEY is only the rowid alias when it is the whole key.
    if primary_key.len() > 1 {
        for c in &mut columns {
            c.auto_increment = false;
            if primary_key.contains(&c.name) && c.native_type.eq_ignore_ascii_case("INTEGER") {
                c.nullable = cols
                    .iter()
                    .any(|r| text(&r[0]) == c.name && int(&r[2]) == 0);
            }
        }
    }

    let mut foreign_keys = Vec::new();
    if !is_view {
        // id, seq, table, from, to, on_update, on_delete, match
        let fks = query_rows(
            conn,
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
            std::slice::from_ref(&table),
        )?;
        let mut current: Option<(i64, ForeignKey)> = None;
        for fk in &fks {
            let id = int(&fk[0]);
            if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
                if let Some((_, done)) = current.take() {
                    foreign_keys.push(done);
                }
                current = Some((
                    id,
                    ForeignKey {
                        name: None,
                        columns: vec![],
                        ref_table: text(&fk[2]),
                        ref_columns: vec![],
                        on_delete: text(&fk[6]),
                        on_update: text(&fk[5]),
                        deferrable: false,
                        validated: true,
                    },
                ));
            }
            if let Some((_, f)) = current.as_mut() {
                f.columns.push(text(&fk[3]));
                // `to` is NULL when the key references the parent's primary key.
                f.ref_columns.push(text(&fk[4]));
            }
        }
        if let Some((_, done)) = current.take() {
            foreign_keys.push(done);
        }
        for f in &mut foreign_keys {
            if f.ref_columns.iter().any(String::is_empty) {
                f.ref_columns = primary_key_of(conn, &f.ref_table)?;
            }
        }
        let deferrable = upper_ddl.contains("DEFERRABLE INITIALLY DEFERRED");
        for f in &mut foreign_keys {
            f.deferrable = deferrable;
        }
    }

    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    if !is_view {
        // seq, name, unique, origin ('c' = CREATE INDEX, 'u' = UNIQUE, 'pk'), partial
        let idx = query_rows(
            conn,
            "SELECT l.name, l.\"unique\", l.origin, coalesce(m.sql, '') \
             FROM pragma_index_list(?) AS l LEFT JOIN sqlite_master AS m ON m.name = l.name \
             ORDER BY l.name",
            std::slice::from_ref(&table),
        )?;
        for i in &idx {
            let index_name = text(&i[0]);
            let origin = text(&i[2]);
            let cols = query_rows(
                conn,
                "SELECT coalesce(name, '') FROM pragma_index_info(?) ORDER BY seqno",
                &[Value::Text(index_name.clone())],
            )?;
            let cols: Vec<String> = cols.iter().map(|r| text(&r[0])).collect();
            match origin.as_str() {
                "pk" => {}
                "u" => uniques.push(UniqueConstraint {
                    name: None,
                    columns: cols,
                }),
                _ => indexes.push(IndexDef {
                    unique: int(&i[1]) == 1,
                    definition: Some(text(&i[3])).filter(|s| !s.is_empty()),
                    columns: if cols.iter().any(String::is_empty) {
                        vec![]
                    } else {
                        cols
                    },
                    name: index_name,
                }),
            }
        }
    }

    let checks = if is_view {
        vec![]
    } else {
        check_constraints(ddl)
    };
    let triggers = query_rows(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
        std::slice::from_ref(&table),
    )?
    .iter()
    .map(|r| text(&r[0]))
    .collect();
    Ok(TableDef {
        triggers,
        schema: None,
        name: name.to_owned(),
        columns,
        primary_key,
        uniques,
        checks,
        foreign_keys,
        indexes,
        comment: None,
        estimated_rows: None,
        is_view,
        native_dialect: "sqlite".into(),
    })
}

/// CHECK constraints of a `CREATE TABLE` statement, column- or table-level,
/// with their `CONSTRAINT` names. SQLite keeps no catalog of them, so the
/// statement is scanned: string literals, quoted identifiers and comments are
/// skipped, parentheses balanced.
fn check_constraints(ddl: &str) -> Vec<CheckConstraint> {
    let b = ddl.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut last_word = String::new();
    let mut pending_name: Option<String> = None;
    let mut expect_name = false;
    while i < b.len() {
        let c = b[i];
        // Skip literals, quoted names and comments.
        if matches!(c, b'\'' | b'"' | b'`' | b'[') {
            let close = if c == b'[' { b']' } else { c };
            let start = i + 1;
            i += 1;
            while i < b.len() && !(b[i] == close && b.get(i + 1) != Some(&close)) {
                i += if b[i] == close { 2 } else { 1 };
            }
            if expect_name && c != b'\'' {
                pending_name = Some(ddl[start..i.min(b.len())].replace(
                    std::str::from_utf8(&[close, close]).unwrap_or(""),
                    std::str::from_utf8(&[close]).unwrap_or(""),
                ));
                expect_name = false;
            }
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = ddl[start..i].to_ascii_uppercase();
            if expect_name {
                pending_name = Some(ddl[start..i].to_owned());
                expect_name = false;
            } else if word == "CONSTRAINT" {
                expect_name = true;
            } else if word == "CHECK" {
                // The expression is the balanced parenthesis group that follows.
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if b.get(i) == Some(&b'(') {
                    let open = i;
                    let mut depth = 0;
                    while i < b.len() {
                        match b[i] {
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            q @ (b'\'' | b'"' | b'`') => {
                                i += 1;
                                while i < b.len() && b[i] != q {
                                    i += 1;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    let expression = ddl[open + 1..i.min(b.len())].trim().to_owned();
                    out.push(CheckConstraint {
                        name: pending_name.take(),
                        expression,
                        validated: true,
                    });
                }
            } else if !matches!(word.as_str(), "NOT" | "NULL") {
                // A name applies only to the constraint right after it.
                if last_word != "CONSTRAINT" {
                    pending_name = None;
                }
            }
            last_word = word;
            continue;
        }
        if c == b',' {
            pending_name = None;
        }
        i += 1;
    }
    out
}

fn primary_key_of(conn: &sql::Connection, table: &str) -> Result<Vec<String>, Error> {
    let rows = query_rows(
        conn,
        "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
        &[Value::Text(table.to_owned())],
    )?;
    Ok(rows.iter().map(|r| text(&r[0])).collect())
}

godwit_sdk::source::export_source!(SqliteSource);
