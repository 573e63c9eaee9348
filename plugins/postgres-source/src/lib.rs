//! `postgres-source`: reads tables from PostgreSQL (label `source`).
//!
//! Discovery reads `pg_catalog` for one schema (param `schema`, default
//! `public`): columns with their exact declared types, defaults, identity,
//! comments; primary keys, unique and check constraints, foreign keys (with
//! actions, deferrability and `NOT VALID`), indexes (with full definitions);
//! views are reported; tables an extension owns are left out with a warning
//! (the extension creates them). Reading is a `SELECT` the host runs itself; columns of
//! types the host does not decode natively (arrays, enums, intervals, network
//! types, ...) are read as their text form, which PostgreSQL accepts back.

use godwit_sdk::caps::sql;
use godwit_sdk::db::query_rows;
use godwit_sdk::params::Configured;
use godwit_sdk::source::{
    CapabilityKind, CapabilityRequest, PluginInfo, ReadPlan, Reader, Source, SqlRead,
};
use godwit_sdk::values::{as_i64, as_str, quote_double as q};
use godwit_sdk::{
    CheckConstraint, ColumnDef, Error, ForeignKey, IndexDef, TableDef, UniqueConstraint, Value,
};

/// The connection label this plugin requests.
const LABEL: &str = "source";
/// Separator for lists aggregated in SQL (ASCII unit separator: not in names).
const SEP: char = '\u{1f}';

/// Types the host decodes natively; everything else is read as text.
const NATIVE: &[&str] = &[
    "bool",
    "int2",
    "int4",
    "int8",
    "oid",
    "float4",
    "float8",
    "numeric",
    "bytea",
    "json",
    "jsonb",
    "timestamp",
    "timestamptz",
    "date",
    "time",
    "uuid",
    "vector",
    "text",
    "varchar",
    "bpchar",
    "name",
    "char",
];

#[derive(serde::Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "public")]
    schema: String,
}

fn public() -> String {
    "public".into()
}

static PARAMS: Configured<Params> = Configured::new();

fn schema() -> String {
    PARAMS.get_or_else(|| Params { schema: public() }).schema
}

struct PostgresSource;

impl Source for PostgresSource {
    type Reader = godwit_sdk::source::NoReader;

    fn describe() -> PluginInfo {
        PluginInfo {
            name: "postgres-source".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "Reads tables, columns, keys, constraints and indexes from a PostgreSQL schema."
                    .into(),
            requests: vec![CapabilityRequest {
                kind: CapabilityKind::Sql,
                label: LABEL.into(),
                purpose: "read the catalog and rows of the source database".into(),
            }],
            params_doc: "- `schema` (string, default `public`): the schema to read".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        PARAMS.set(p);
        Ok(())
    }

    fn discover() -> Result<Vec<TableDef>, Error> {
        let conn = sql::open(LABEL)?;
        let s = Value::Text(schema());
        // A table an extension owns (PostGIS's spatial_ref_sys) is created,
        // with its rows, by `CREATE EXTENSION` in the target; copied as user
        // data it would block that statement. Left out, and said.
        let tables = query_rows(
            &conn,
            "SELECT c.relname::text, c.relkind::text, obj_description(c.oid, 'pg_class'), c.reltuples::int8, \
                    (SELECT e.extname::text FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid \
                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e' \
                       AND d.refclassid = 'pg_extension'::regclass LIMIT 1) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
            &[s],
        )?;
        for r in &tables {
            if let Some(ext) = opt_text(&r[4]) {
                godwit_sdk::caps::log::emit(
                    godwit_sdk::caps::log::Level::Warn,
                    &format!(
                        "table {} belongs to extension {ext}: not copied (CREATE EXTENSION {ext} in the target creates it with its rows)",
                        text(&r[0])
                    ),
                );
            }
        }
        tables
            .iter()
            .filter(|r| opt_text(&r[4]).is_none())
            .map(|r| {
                let name = text(&r[0]);
                let kind = text(&r[1]);
                let estimate = as_i64(&r[3]).filter(|n| *n >= 0).map(|n| n as u64);
                describe_table(
                    &conn,
                    &name,
                    kind == "v" || kind == "m",
                    opt_text(&r[2]),
                    estimate,
                )
            })
            .collect()
    }

    fn plan_read(table: String) -> Result<ReadPlan, Error> {
        let conn = sql::open(LABEL)?;
        let cols = columns(&conn, &table)?;
        if cols.is_empty() {
            return Err(Error::NotFound(format!(
                "table {table:?} does not exist in schema {}",
                schema()
            )));
        }
        let list: Vec<String> = cols
            .iter()
            .map(|(name, typname, ..)| {
                if NATIVE.contains(&typname.as_str()) {
                    q(name)
                } else {
                    format!("{}::text AS {}", q(name), q(name))
                }
            })
            .collect();
        Ok(ReadPlan::Sql(SqlRead {
            connection: LABEL.into(),
            statement: format!(
                "SELECT {} FROM {}.{}",
                list.join(", "),
                q(&schema()),
                q(&table)
            ),
            params: vec![],
        }))
    }

    fn open_reader(table: String) -> Result<Reader, Error> {
        Err(Error::Unsupported(format!(
            "postgres-source reads {table:?} through SQL"
        )))
    }
}

fn text(v: &Value) -> String {
    as_str(v).map(str::to_owned).unwrap_or_default()
}

fn opt_text(v: &Value) -> Option<String> {
    as_str(v).map(str::to_owned)
}

fn split(v: &Value) -> Vec<String> {
    as_str(v)
        .map(|s| s.split(SEP).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `(name, typname, declared type, not null, default, identity, comment)` per column.
type Col = (
    String,
    String,
    String,
    bool,
    Option<String>,
    String,
    Option<String>,
);

fn columns(conn: &sql::Connection, table: &str) -> Result<Vec<Col>, Error> {
    let rows = query_rows(
        conn,
        "SELECT a.attname::text, t.typname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, col_description(a.attrelid, a.attnum) \
         FROM pg_attribute a \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
           AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
        &[Value::Text(schema()), Value::Text(table.to_owned())],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                text(&r[0]),
                text(&r[1]),
                text(&r[2]),
                matches!(r[3], Value::Boolean(true)),
                opt_text(&r[4]),
                text(&r[5]),
                opt_text(&r[6]),
            )
        })
        .collect())
}

fn describe_table(
    conn: &sql::Connection,
    name: &str,
    is_view: bool,
    comment: Option<String>,
    estimated_rows: Option<u64>,
) -> Result<TableDef, Error> {
    let cols = columns(conn, name)?;
    let columns_def = cols
        .iter()
        .map(
            |(col, typname, declared, not_null, default, identity, comment)| {
                let serial = default
                    .as_deref()
                    .is_some_and(|d| d.starts_with("nextval("));
                ColumnDef {
                    name: col.clone(),
                    logical: godwit_sdk::dialect::postgres_logical(typname, declared),
                    native_type: declared.clone(),
                    nullable: !not_null,
                    // Identity and serial defaults are recreated by the target.
                    default: if serial { None } else { default.clone() },
                    auto_increment: !identity.is_empty() || serial,
                    comment: comment.clone(),
                }
            },
        )
        .collect();
    let mut t = TableDef {
        schema: Some(schema()),
        name: name.to_owned(),
        columns: columns_def,
        primary_key: vec![],
        uniques: vec![],
        checks: vec![],
        foreign_keys: vec![],
        indexes: vec![],
        comment,
        estimated_rows,
        is_view,
        native_dialect: "postgres".into(),
        triggers: vec![],
    };
    if is_view {
        return Ok(t);
    }
    let args = [Value::Text(schema()), Value::Text(name.to_owned())];
    t.triggers = query_rows(
        conn,
        "SELECT tgname::text FROM pg_trigger \
         WHERE tgrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND NOT tgisinternal ORDER BY 1",
        &args,
    )?
    .iter()
    .map(|r| text(&r[0]))
    .collect();
    let cons = query_rows(
        conn,
        "SELECT con.conname::text, con.contype::text, \
           (SELECT string_agg(a.attname::text, chr(31) ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(n, ord) \
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n), \
           fc.relname::text, \
           (SELECT string_agg(a.attname::text, chr(31) ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(n, ord) \
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n), \
           con.confdeltype::text, con.confupdtype::text, con.condeferrable, con.convalidated, \
           pg_get_constraintdef(con.oid) \
         FROM pg_constraint con LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE con.conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
         ORDER BY con.conname",
        &args,
    )?;
    for c in &cons {
        let cname = text(&c[0]);
        match text(&c[1]).as_str() {
            "p" => t.primary_key = split(&c[2]),
            "u" => t.uniques.push(UniqueConstraint {
                name: Some(cname),
                columns: split(&c[2]),
            }),
            "c" => {
                let def = text(&c[9]);
                let expr = def
                    .trim_end_matches(" NOT VALID")
                    .strip_prefix("CHECK ")
                    .unwrap_or(&def)
                    .to_owned();
                t.checks.push(CheckConstraint {
                    name: Some(cname),
                    expression: expr,
                    validated: matches!(c[8], Value::Boolean(true)),
                });
            }
            "f" => t.foreign_keys.push(ForeignKey {
                name: Some(cname),
                columns: split(&c[2]),
                ref_table: text(&c[3]),
                ref_columns: split(&c[4]),
                on_delete: action(&text(&c[5])),
                on_update: action(&text(&c[6])),
                deferrable: matches!(c[7], Value::Boolean(true)),
                validated: matches!(c[8], Value::Boolean(true)),
            }),
            _ => {}
        }
    }
    let idx = query_rows(
        conn,
        "SELECT i.relname::text, ix.indisunique, pg_get_indexdef(ix.indexrelid), \
           (SELECT string_agg(a.attname::text, chr(31) ORDER BY k.ord) FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, ord) \
              JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n), \
           0 = ANY (ix.indkey::int2[]) OR ix.indpred IS NOT NULL \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         WHERE ix.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) \
         ORDER BY 1",
        &args,
    )?;
    for i in &idx {
        let expression = matches!(i[4], Value::Boolean(true));
        t.indexes.push(IndexDef {
            name: text(&i[0]),
            columns: if expression { vec![] } else { split(&i[3]) },
            unique: matches!(i[1], Value::Boolean(true)),
            definition: opt_text(&i[2]),
        });
    }
    Ok(t)
}

fn action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .into()
}

godwit_sdk::source::export_source!(PostgresSource);
