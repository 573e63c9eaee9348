//! CHECK constraints carried between dialects (feature `checks`).
//!
//! A CHECK written for SQLite or MySQL usually means the same elsewhere:
//! `length(c) >= 1`, `x IN (0, 1)`, `a < b`. The expression is parsed with
//! the source dialect's grammar (`sqlparser`: precedence, quoting and
//! literals are its business, not ours) and written again for the target
//! from a small set of constructs whose meaning is the same in SQLite,
//! PostgreSQL and MySQL: columns of the table, numbers, strings, NULL,
//! comparisons, AND / OR / NOT, arithmetic, IN lists, BETWEEN, IS [NOT]
//! NULL and a few functions (`length` in characters, `lower`, `upper`,
//! `abs`, `trim`). Everything else — LIKE (case rules differ), GLOB,
//! REGEXP, subqueries, casts, other functions, booleans compared with
//! numbers — is not translated, and the caller reports the constraint as
//! skipped.

use sqlparser::ast::{
    BinaryOperator as B, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget,
    ObjectNamePart, UnaryOperator as U, Value as V,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::{ColumnDef, LogicalType, TableDef};

/// What a sub-expression yields, for the checks that keep a translation
/// meaning the same (a text column compared with a number does not).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Number,
    Text,
    Bool,
    Null,
}

/// `expression` (a CHECK written in dialect `from`: `"sqlite"`, `"mysql"`
/// or `"postgres"`) written for dialect `to` over `columns`, or `None` when
/// it uses anything whose meaning differs between them.
pub fn portable_check(
    expression: &str,
    from: &str,
    to: &str,
    columns: &[ColumnDef],
) -> Option<String> {
    let dialect: Box<dyn Dialect> = match from {
        "sqlite" => Box::new(SQLiteDialect {}),
        "mysql" => Box::new(MySqlDialect {}),
        "postgres" => Box::new(PostgreSqlDialect {}),
        _ => return None,
    };
    let mut parser = Parser::new(dialect.as_ref())
        .try_with_sql(expression)
        .ok()?;
    let expr = parser.parse_expr().ok()?;
    // The whole text must be the expression.
    if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
        return None;
    }
    let w = Writer { from, to, columns };
    let (sql, kind) = w.expr(&expr)?;
    (kind == Kind::Bool).then_some(sql)
}

struct Writer<'a> {
    from: &'a str,
    to: &'a str,
    columns: &'a [ColumnDef],
}

impl Writer<'_> {
    fn quote(&self, ident: &str) -> String {
        if self.to == "mysql" {
            format!("`{}`", ident.replace('`', "``"))
        } else {
            format!("\"{}\"", ident.replace('"', "\"\""))
        }
    }

    fn column(&self, name: &str) -> Option<(String, Kind)> {
        let c = self.columns.iter().find(|c| c.name == name).or_else(|| {
            self.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })?;
        let kind = match c.logical {
            LogicalType::Int(_)
            | LogicalType::Uint(_)
            | LogicalType::Float(_)
            | LogicalType::Decimal(_) => Kind::Number,
            LogicalType::Text(_) => Kind::Text,
            // Booleans are integers in SQLite and MySQL, not in PostgreSQL;
            // dates, bytes, JSON and untyped columns compare differently.
            _ => return None,
        };
        Some((self.quote(&c.name), kind))
    }

    fn string(&self, s: &str) -> String {
        let body = s.replace('\'', "''");
        if self.to == "mysql" {
            // MySQL reads backslashes in literals as escapes.
            format!("'{}'", body.replace('\\', "\\\\"))
        } else {
            format!("'{body}'")
        }
    }

    fn expr(&self, e: &Expr) -> Option<(String, Kind)> {
        Some(match e {
            Expr::Identifier(id) => {
                // SQLite and MySQL (without ANSI_QUOTES) read "x" as a
                // string when no column has that name: not portable.
                self.column(&id.value)?
            }
            Expr::CompoundIdentifier(parts) => self.column(&parts.last()?.value)?,
            Expr::Value(v) => match &v.value {
                V::Number(n, _) => (n.clone(), Kind::Number),
                V::SingleQuotedString(s) => (self.string(s), Kind::Text),
                V::DoubleQuotedString(s) if self.from != "postgres" => (self.string(s), Kind::Text),
                V::Null => ("NULL".into(), Kind::Null),
                V::Boolean(_) => return None,
                _ => return None,
            },
            Expr::Nested(inner) => {
                let (s, k) = self.expr(inner)?;
                (format!("({s})"), k)
            }
            Expr::UnaryOp { op, expr } => {
                let (s, k) = self.expr(expr)?;
                match (op, k) {
                    (U::Not, Kind::Bool) => (format!("NOT {s}"), Kind::Bool),
                    (U::Minus, Kind::Number) => (format!("-{s}"), Kind::Number),
                    (U::Plus, Kind::Number) => (s, Kind::Number),
                    _ => return None,
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let (l, lk) = self.expr(left)?;
                let (r, rk) = self.expr(right)?;
                let comparable = lk == rk || lk == Kind::Null || rk == Kind::Null;
                match op {
                    B::And | B::Or if lk == Kind::Bool && rk == Kind::Bool => {
                        let word = if *op == B::And { "AND" } else { "OR" };
                        (format!("{l} {word} {r}"), Kind::Bool)
                    }
                    B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq
                        if comparable && lk != Kind::Bool =>
                    {
                        let sym = match op {
                            B::Eq => "=",
                            B::NotEq => "<>",
                            B::Lt => "<",
                            B::LtEq => "<=",
                            B::Gt => ">",
                            _ => ">=",
                        };
                        (format!("{l} {sym} {r}"), Kind::Bool)
                    }
                    // `/` differs (integer division in SQLite and PostgreSQL,
                    // not in MySQL): left out.
                    B::Plus | B::Minus | B::Multiply
                        if lk == Kind::Number && rk == Kind::Number =>
                    {
                        let sym = match op {
                            B::Plus => "+",
                            B::Minus => "-",
                            _ => "*",
                        };
                        (format!("{l} {sym} {r}"), Kind::Number)
                    }
                    _ => return None,
                }
            }
            Expr::IsNull(inner) => (format!("{} IS NULL", self.expr(inner)?.0), Kind::Bool),
            Expr::IsNotNull(inner) => (format!("{} IS NOT NULL", self.expr(inner)?.0), Kind::Bool),
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated,
                ..
            } => {
                let (s, k) = self.expr(expr)?;
                if k == Kind::Bool || list.is_empty() {
                    return None;
                }
                let mut items = Vec::with_capacity(list.len());
                for item in list {
                    let (i, ik) = self.expr(item)?;
                    if ik != k {
                        return None;
                    }
                    items.push(i);
                }
                let not = if *negated { "NOT " } else { "" };
                (format!("{s} {not}IN ({})", items.join(", ")), Kind::Bool)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (s, k) = self.expr(expr)?;
                let (lo, lk) = self.expr(low)?;
                let (hi, hk) = self.expr(high)?;
                if k == Kind::Bool || lk != k || hk != k {
                    return None;
                }
                let not = if *negated { "NOT " } else { "" };
                (format!("{s} {not}BETWEEN {lo} AND {hi}"), Kind::Bool)
            }
            Expr::Function(f) => {
                let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
                    return None;
                };
                let FunctionArguments::List(list) = &f.args else {
                    return None;
                };
                if list.duplicate_treatment.is_some()
                    || !list.clauses.is_empty()
                    || f.filter.is_some()
                    || f.over.is_some()
                {
                    return None;
                }
                let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice()
                else {
                    return None;
                };
                let (a, k) = self.expr(arg)?;
                let fname = name.value.to_ascii_lowercase();
                // `length` counts characters in SQLite and PostgreSQL but
                // bytes in MySQL, where `char_length` counts characters.
                let chars = match self.to {
                    "mysql" => "char_length",
                    _ => "length",
                };
                match (fname.as_str(), k) {
                    ("length", Kind::Text) if self.from != "mysql" => {
                        (format!("{chars}({a})"), Kind::Number)
                    }
                    ("char_length" | "character_length", Kind::Text) => {
                        (format!("{chars}({a})"), Kind::Number)
                    }
                    ("lower" | "upper" | "trim", Kind::Text) => {
                        (format!("{fname}({a})"), Kind::Text)
                    }
                    ("abs", Kind::Number) => (format!("abs({a})"), Kind::Number),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

/// A CHECK of table `t` (written in `t.native_dialect`) for a target of
/// dialect `target` (`"sqlite"`, `"mysql"`, `"postgres"`): verbatim within a
/// dialect, else [`portable_check`]; a CHECK that does not translate is
/// named in the log as not created and `None` returned. One function for
/// every SQL target, so they skip and say the same.
pub fn check_for(t: &TableDef, expression: &str, target: &str) -> Option<String> {
    if t.native_dialect == target {
        return Some(expression.to_owned());
    }
    let out = portable_check(expression, &t.native_dialect, target, &t.columns);
    if out.is_none() {
        let name = match target {
            "postgres" => "PostgreSQL",
            "mysql" => "MySQL",
            "sqlite" => "SQLite",
            other => other,
        };
        crate::log(
            crate::caps::log::Level::Warn,
            &format!(
                "CHECK ({expression}) on {} is written for {} and uses something that means \
                 otherwise in {name}; not created",
                t.name, t.native_dialect
            ),
        );
    }
    out
}

/// Words that are followed by `(` in PostgreSQL text without being a call
/// of a function in `pg_proc`: syntax that looks like a call (`CAST (`,
/// `COALESCE (`, `IN (`), and the places an index definition puts a name
/// before a parenthesis (`USING btree (`, `INCLUDE (`, `WITH (`).
const NOT_CALLS: &[&str] = &[
    "all", "any", "array", "as", "between", "cast", "coalesce", "collate", "exists",
    "extract", "filter", "greatest", "grouping", "in", "include", "least", "normalize",
    "nullif", "on", "over", "overlay", "position", "row", "some", "substring", "treat", "trim",
    "using", "values", "where", "with", "within", "xmlelement", "xmlforest", "xmlpi",
];

/// The functions a PostgreSQL expression or statement (a column default,
/// `pg_get_indexdef`'s `CREATE INDEX ...`, a CHECK) calls: `(schema, name)`,
/// names folded to lower case unless quoted, each once. Found from the
/// tokens (`sqlparser`'s tokenizer: quoting, strings and comments are its
/// business): a name directly followed by `(`, unless it is syntax
/// ([`NOT_CALLS`]), a type after `::` or `AS` (`varchar(10)`), or the table
/// of `ON t (`. Used to refuse, before any write, a copy whose defaults or
/// indexes call functions the target database does not have.
pub fn called_functions(text: &str) -> Vec<(Option<String>, String)> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, text).tokenize() else {
        return Vec::new();
    };
    let tokens: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let name = |w: &sqlparser::tokenizer::Word| {
        if w.quote_style.is_some() {
            w.value.clone()
        } else {
            w.value.to_lowercase()
        }
    };
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = t else { continue };
        if !matches!(tokens.get(i + 1), Some(Token::LParen)) {
            continue;
        }
        if w.quote_style.is_none() && NOT_CALLS.contains(&w.value.to_lowercase().as_str()) {
            continue;
        }
        // `schema.name (`: the qualifier, and what comes before the name.
        let (schema, before) = match (i.checked_sub(1).map(|j| tokens[j]), i.checked_sub(2)) {
            (Some(Token::Period), Some(j)) => match tokens[j] {
                Token::Word(s) => (Some(name(s)), j.checked_sub(1).map(|k| tokens[k])),
                _ => continue,
            },
            (prev, _) => (None, prev),
        };
        let after_type_position = match before {
            Some(Token::DoubleColon) => true,
            Some(Token::Word(p)) => {
                p.quote_style.is_none()
                    && ["as", "on", "using", "index", "table"].contains(&p.value.to_lowercase().as_str())
            }
            _ => false,
        };
        if after_type_position {
            continue;
        }
        let f = (schema, name(w));
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::portable_check as p;

    #[test]
    fn called_functions_are_the_calls_not_the_syntax() {
        let f = |s: &str| -> Vec<String> {
            super::called_functions(s)
                .into_iter()
                .map(|(schema, n)| match schema {
                    Some(s) => format!("{s}.{n}"),
                    None => n,
                })
                .collect()
        };
        assert_eq!(
            f("CREATE INDEX people_norm ON public.people USING btree (app.norm(email), lower((name)::text)) INCLUDE (id) WHERE (COALESCE(x, 0) > 0)"),
            ["app.norm", "lower"]
        );
        assert_eq!(
            f("nextval('people_id_seq'::regclass)"),
            ["nextval"]
        );
        assert_eq!(
            f("CAST(now() AS timestamp(3)) + '1 day'::interval(0)"),
            ["now"]
        );
        assert_eq!(f("\"MyFn\"(a) + myfn(b) + 'f(x)'"), ["MyFn", "myfn"]);
        assert_eq!(f("(x IN (1, 2)) AND EXISTS (SELECT 1)"), Vec::<String>::new());
    }
    use crate::{ColumnDef, LogicalType};

    fn cols() -> Vec<ColumnDef> {
        let c = |name: &str, logical: LogicalType| ColumnDef {
            name: name.into(),
            logical,
            native_type: String::new(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        };
        vec![
            c("name", LogicalType::Text(None)),
            c("x", LogicalType::Int(64)),
            c("a", LogicalType::Float(64)),
            c("b", LogicalType::Float(64)),
            c("flag", LogicalType::Boolean),
        ]
    }

    #[test]
    fn portable_checks_are_written_for_the_target() {
        let c = cols();
        assert_eq!(
            p("length(name) >= 1", "sqlite", "postgres", &c).unwrap(),
            "length(\"name\") >= 1"
        );
        assert_eq!(
            p("length(name) >= 1", "sqlite", "mysql", &c).unwrap(),
            "char_length(`name`) >= 1"
        );
        assert_eq!(
            p("x IN (0,1)", "mysql", "postgres", &c).unwrap(),
            "\"x\" IN (0, 1)"
        );
        assert_eq!(
            p("(`a` < `b`)", "mysql", "postgres", &c).unwrap(),
            "(\"a\" < \"b\")"
        );
        assert_eq!(
            p(
                "x BETWEEN 1 AND 10 AND name <> 'it''s'",
                "sqlite",
                "mysql",
                &c
            )
            .unwrap(),
            "`x` BETWEEN 1 AND 10 AND `name` <> 'it''s'"
        );
        assert_eq!(
            p("name IS NOT NULL OR x > -1", "sqlite", "postgres", &c).unwrap(),
            "\"name\" IS NOT NULL OR \"x\" > -1"
        );
    }

    #[test]
    fn anything_else_is_not_translated() {
        let c = cols();
        for e in [
            "name LIKE 'a%'",
            "flag IN (0, 1)",
            "name > 0",
            "x / 2 > 1",
            "length(name) > 1",
            "x > (SELECT 1)",
            "json_valid(name)",
            "x > 1; DROP TABLE t",
            "nosuch > 1",
            "x",
        ] {
            let from = if e == "length(name) > 1" {
                "mysql"
            } else {
                "sqlite"
            };
            assert_eq!(p(e, from, "postgres", &c), None, "{e}");
        }
    }
}
