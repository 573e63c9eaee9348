//! A DDL builder shared by SQL targets (feature `checks`): the statements
//! every SQL target writes the same way up to its dialect's quoting and
//! rules — keys, unique constraints, CHECKs, indexes, foreign keys, the
//! identity column — so a fix reaches every target and a new SQL target
//! starts from them. Column types, defaults and `CREATE TABLE` options stay
//! each target's own: they are what differs between dialects.
//!
//! ```ignore
//! let ddl = Ddl::new(SqlDialect::Postgres);
//! let name = ddl.quote(&table.name);
//! post.extend(table.uniques.iter().map(|u| ddl.add_unique(&name, &table, u)));
//! post.extend(table.checks.iter().enumerate().filter_map(|(i, c)| ddl.add_check(&name, &table, i, c)));
//! ```

use crate::values::{quote_backtick, quote_double};
use crate::{CheckConstraint, ForeignKey, IndexDef, LogicalType, TableDef, UniqueConstraint};

/// The SQL dialects a [`Ddl`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl SqlDialect {
    /// The name `checks::check_for` and `TableDef::native_dialect` use.
    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::Postgres => "postgres",
            SqlDialect::Mysql => "mysql",
        }
    }
}

/// Statements for one dialect.
#[derive(Clone, Copy, Debug)]
pub struct Ddl {
    dialect: SqlDialect,
}

impl Ddl {
    pub const fn new(dialect: SqlDialect) -> Self {
        Ddl { dialect }
    }

    /// An identifier, quoted for the dialect (`"a""b"`, `` `a``b` ``).
    pub fn quote(&self, ident: &str) -> String {
        match self.dialect {
            SqlDialect::Mysql => quote_backtick(ident),
            _ => quote_double(ident),
        }
    }

    /// A column list: `"a", "b"`.
    pub fn list(&self, cols: &[String]) -> String {
        cols.iter()
            .map(|c| self.quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The column that becomes the table's identity (auto-increment): a
    /// column the source marks so, or a SQLite `INTEGER PRIMARY KEY` (the
    /// rowid), whose values new rows continue.
    pub fn identity_column(&self, t: &TableDef) -> Option<String> {
        let integral = |l: &LogicalType| match self.dialect {
            SqlDialect::Mysql => matches!(l, LogicalType::Int(_) | LogicalType::Uint(_)),
            _ => matches!(l, LogicalType::Int(_)),
        };
        if let Some(c) = t
            .columns
            .iter()
            .find(|c| c.auto_increment && integral(&c.logical))
        {
            return Some(c.name.clone());
        }
        if t.native_dialect == "sqlite" && t.primary_key.len() == 1 {
            let c = t.columns.iter().find(|c| c.name == t.primary_key[0])?;
            if c.native_type.eq_ignore_ascii_case("INTEGER") {
                return Some(c.name.clone());
            }
        }
        None
    }

    /// `ALTER TABLE <table> ADD CONSTRAINT <name> UNIQUE (…)`, named after
    /// the source's constraint or `<table>_<columns>_key`.
    pub fn add_unique(&self, table_sql: &str, t: &TableDef, u: &UniqueConstraint) -> String {
        let name = u
            .name
            .clone()
            .unwrap_or_else(|| crate::dialect::constraint_name(&t.name, &u.columns, "key"));
        format!(
            "ALTER TABLE {table_sql} ADD CONSTRAINT {} UNIQUE ({})",
            self.quote(&name),
            self.list(&u.columns)
        )
    }

    /// The CHECK expression as this dialect can hold it (verbatim within a
    /// dialect, translated across, `None` — and a log line — when it
    /// cannot be carried: `checks::check_for`).
    pub fn check_expression(&self, t: &TableDef, c: &CheckConstraint) -> Option<String> {
        crate::checks::check_for(t, &c.expression, self.dialect.name())
    }

    /// `ALTER TABLE <table> ADD CONSTRAINT <name> CHECK (…)` for the `i`th
    /// CHECK of `t` (PostgreSQL keeps `NOT VALID` for one the source never
    /// validated), or `None` when it cannot be carried.
    pub fn add_check(
        &self,
        table_sql: &str,
        t: &TableDef,
        i: usize,
        c: &CheckConstraint,
    ) -> Option<String> {
        let expr = self.check_expression(t, c)?;
        let name = c.name.clone().unwrap_or_else(|| {
            crate::dialect::constraint_name(&t.name, &[format!("{i}")], "check")
        });
        let not_valid = if self.dialect == SqlDialect::Postgres && !c.validated {
            " NOT VALID"
        } else {
            ""
        };
        Some(format!(
            "ALTER TABLE {table_sql} ADD CONSTRAINT {} CHECK ({expr}){not_valid}",
            self.quote(&name)
        ))
    }

    /// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] <name> ON <table> (…)` from
    /// the index's columns (`None` for an expression index: the caller
    /// decides whether its definition can be kept).
    pub fn create_index(
        &self,
        table_sql: &str,
        i: &IndexDef,
        if_not_exists: bool,
    ) -> Option<String> {
        if i.columns.is_empty() {
            return None;
        }
        Some(format!(
            "CREATE {}INDEX {}{} ON {table_sql} ({})",
            if i.unique { "UNIQUE " } else { "" },
            if if_not_exists { "IF NOT EXISTS " } else { "" },
            self.quote(&i.name),
            self.list(&i.columns)
        ))
    }

    /// `FOREIGN KEY (…) REFERENCES <ref_sql> (…)` with the actions and
    /// deferral this dialect has: referential actions other than the
    /// default (`NO ACTION`) when the dialect knows them (MySQL's InnoDB
    /// has no `SET DEFAULT`), `DEFERRABLE INITIALLY DEFERRED` where
    /// deferral exists (not MySQL), and PostgreSQL's `NOT VALID` for a key
    /// the source never validated.
    pub fn foreign_key(&self, f: &ForeignKey, ref_sql: &str) -> String {
        let mut s = format!(
            "FOREIGN KEY ({}) REFERENCES {ref_sql} ({})",
            self.list(&f.columns),
            self.list(&f.ref_columns)
        );
        for (word, action) in [("DELETE", &f.on_delete), ("UPDATE", &f.on_update)] {
            let a = action.trim().to_ascii_uppercase();
            let known = match self.dialect {
                SqlDialect::Mysql => matches!(a.as_str(), "CASCADE" | "SET NULL" | "RESTRICT"),
                _ => matches!(
                    a.as_str(),
                    "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT"
                ),
            };
            if known {
                s.push_str(&format!(" ON {word} {a}"));
            }
        }
        if f.deferrable && self.dialect != SqlDialect::Mysql {
            s.push_str(" DEFERRABLE INITIALLY DEFERRED");
        }
        if !f.validated && self.dialect == SqlDialect::Postgres {
            s.push_str(" NOT VALID");
        }
        s
    }

    /// `ALTER TABLE <table> ADD CONSTRAINT <name> FOREIGN KEY …`, named
    /// after the source's key or `<table>_<columns>_fkey`.
    pub fn add_foreign_key(
        &self,
        table_sql: &str,
        t: &TableDef,
        f: &ForeignKey,
        ref_sql: &str,
    ) -> String {
        let name = f
            .name
            .clone()
            .unwrap_or_else(|| crate::dialect::constraint_name(&t.name, &f.columns, "fkey"));
        format!(
            "ALTER TABLE {table_sql} ADD CONSTRAINT {} {}",
            self.quote(&name),
            self.foreign_key(f, ref_sql)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ColumnDef;

    fn table() -> TableDef {
        let col = |name: &str, logical: LogicalType, native: &str| ColumnDef {
            name: name.into(),
            logical,
            native_type: native.into(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        };
        TableDef {
            schema: None,
            name: "order items".into(),
            columns: vec![
                col("id", LogicalType::Int(64), "INTEGER"),
                col("parent", LogicalType::Int(64), "INTEGER"),
                col("n\"ame", LogicalType::Text(None), "TEXT"),
            ],
            primary_key: vec!["id".into()],
            uniques: vec![UniqueConstraint {
                name: None,
                columns: vec!["n\"ame".into()],
            }],
            checks: vec![CheckConstraint {
                name: None,
                expression: "parent > 0".into(),
                validated: false,
            }],
            foreign_keys: vec![ForeignKey {
                name: None,
                columns: vec!["parent".into()],
                ref_table: "orders".into(),
                ref_columns: vec!["id".into()],
                on_delete: "set default".into(),
                on_update: "NO ACTION".into(),
                deferrable: true,
                validated: false,
            }],
            indexes: vec![IndexDef {
                name: "by_parent".into(),
                columns: vec!["parent".into()],
                unique: false,
                definition: None,
            }],
            comment: None,
            estimated_rows: None,
            is_view: false,
            triggers: Vec::new(),
            native_dialect: "sqlite".into(),
        }
    }

    #[test]
    fn each_dialect_gets_its_quoting_and_its_rules() {
        let t = table();
        let pg = Ddl::new(SqlDialect::Postgres);
        let my = Ddl::new(SqlDialect::Mysql);
        let lite = Ddl::new(SqlDialect::Sqlite);
        assert_eq!(pg.list(&t.uniques[0].columns), "\"n\"\"ame\"");
        assert_eq!(my.list(&t.uniques[0].columns), "`n\"ame`");
        assert_eq!(
            pg.add_unique("\"t\"", &t, &t.uniques[0]),
            format!(
                "ALTER TABLE \"t\" ADD CONSTRAINT {} UNIQUE (\"n\"\"ame\")",
                pg.quote(&crate::dialect::constraint_name(
                    "order items",
                    &t.uniques[0].columns,
                    "key"
                ))
            )
        );
        let fk = &t.foreign_keys[0];
        assert_eq!(
            pg.foreign_key(fk, "\"orders\""),
            "FOREIGN KEY (\"parent\") REFERENCES \"orders\" (\"id\") ON DELETE SET DEFAULT \
             DEFERRABLE INITIALLY DEFERRED NOT VALID"
        );
        assert_eq!(
            lite.foreign_key(fk, "\"orders\""),
            "FOREIGN KEY (\"parent\") REFERENCES \"orders\" (\"id\") ON DELETE SET DEFAULT \
             DEFERRABLE INITIALLY DEFERRED"
        );
        assert_eq!(
            my.foreign_key(fk, "`orders`"),
            "FOREIGN KEY (`parent`) REFERENCES `orders` (`id`)"
        );
        let check = pg.add_check("\"t\"", &t, 0, &t.checks[0]).unwrap();
        assert!(
            check.ends_with("CHECK (\"parent\" > 0) NOT VALID"),
            "{check}"
        );
        let check = my.add_check("`t`", &t, 0, &t.checks[0]).unwrap();
        assert!(check.ends_with("CHECK (`parent` > 0)"), "{check}");
        assert_eq!(
            lite.create_index("\"t\"", &t.indexes[0], true).unwrap(),
            "CREATE INDEX IF NOT EXISTS \"by_parent\" ON \"t\" (\"parent\")"
        );
        // A SQLite INTEGER PRIMARY KEY is the rowid: new rows continue it.
        assert_eq!(pg.identity_column(&t).as_deref(), Some("id"));
    }
}
