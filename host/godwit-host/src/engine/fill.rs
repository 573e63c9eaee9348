//! `fill`: target columns of an existing table computed from the source
//! row — a constant, the run's start time, another source column, or a
//! small expression (concat, coalesce, arithmetic, hashes, UUID v5 from
//! columns). Evaluated in the host on each batch, before the casts to the
//! target's types, so no value crosses into Wasm for it.
//!
//! The expression language is MiniJinja's (Jinja2 expressions, no
//! templates): a maintained, dependency-light crate whose syntax is widely
//! known, with a fuel limit that bounds every evaluation. godwit adds the
//! functions a migration needs (see [`FUNCTIONS`]); docs/project-file.md
//! lists them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Rest, Value as J, ValueKind};
use minijinja::{Environment, Error as JError, ErrorKind as JErrorKind, State};

use crate::model::{ColumnDef, LogicalType, Value};

/// Instructions one evaluation may run. A fill over one row takes tens;
/// the limit stops a loop (`range(10**9) | sum`) from stalling the run.
pub const FILL_FUEL: u64 = 50_000;

/// Bytes a filled text or bytes value may have: far above any key or
/// label, and it keeps a runaway `'x' * 10**9` from taking the host's memory.
pub const MAX_FILL_BYTES: usize = 16 << 20;

/// The context variable holding the run's start time (µs since the epoch):
/// `now()` reads it. Not a valid column name for a user to shadow by accident.
const NOW_VAR: &str = "__godwit_now_us";

/// The functions godwit adds to MiniJinja's built-ins.
pub const FUNCTIONS: &[&str] = &["now", "uuid5", "sha256", "md5", "concat", "coalesce"];

/// MiniJinja's own global functions (not columns).
const BUILTIN_FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug"];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_fuel(Some(FILL_FUEL));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_function("now", now);
    env.add_function("uuid5", uuid5);
    env.add_function("sha256", |parts: Rest<J>| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(joined(&parts).as_bytes()))
    });
    env.add_function("md5", |parts: Rest<J>| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(joined(&parts).as_bytes()))
    });
    env.add_function("concat", |parts: Rest<J>| {
        parts.iter().map(text_of).collect::<String>()
    });
    env.add_function("coalesce", |args: Rest<J>| {
        args.iter()
            .find(|v| !v.is_none() && !v.is_undefined())
            .cloned()
            .unwrap_or(J::from(()))
    });
    env
});

/// `now()`: the run's start time (a timestamp with time zone); `now('s')`,
/// `now('ms')`, `now('us')`, `now('ns')`: the same instant as an integer
/// since the Unix epoch, for targets that store epochs.
fn now(state: &State, unit: Option<String>) -> Result<J, JError> {
    let us = state
        .lookup(NOW_VAR)
        .and_then(|v| v.as_i64())
        .unwrap_or_default();
    Ok(match unit.as_deref() {
        None => J::from(format!(
            "{}Z",
            crate::value::format_timestamp(us).replacen(' ', "T", 1)
        )),
        Some("s") => J::from(us.div_euclid(1_000_000)),
        Some("ms") => J::from(us.div_euclid(1_000)),
        Some("us") => J::from(us),
        Some("ns") => J::from(i128::from(us) * 1_000),
        Some(other) => {
            return Err(JError::new(
                JErrorKind::InvalidOperation,
                format!("now({other:?}): the unit is one of \"s\", \"ms\", \"us\", \"ns\""),
            ))
        }
    })
}

/// `uuid5(namespace, part, ...)`: the name-based UUID (RFC 9562 v5) of the
/// parts' text joined by U+001F (one part: its text alone, as any other v5
/// implementation computes it). `namespace` is a UUID, or any other text,
/// which is first turned into one as `uuid5(NAMESPACE_OID, text)`. The same
/// inputs give the same UUID in every run and in every table, which is what
/// keeps a child's foreign key equal to its parent's new key.
fn uuid5(namespace: String, parts: Rest<J>) -> Result<String, JError> {
    if parts.is_empty() {
        return Err(JError::new(
            JErrorKind::MissingArgument,
            "uuid5(namespace, value, ...) needs at least one value",
        ));
    }
    let ns = uuid::Uuid::parse_str(&namespace)
        .unwrap_or_else(|_| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, namespace.as_bytes()));
    Ok(uuid::Uuid::new_v5(&ns, joined(&parts).as_bytes()).to_string())
}

/// Parts as text joined by U+001F (NULL is the empty string).
fn joined(parts: &[J]) -> String {
    parts.iter().map(text_of).collect::<Vec<_>>().join("\u{1f}")
}

/// A value's text as `concat` sees it: NULL is empty (as SQL's `concat`).
fn text_of(v: &J) -> String {
    if v.is_none() || v.is_undefined() {
        String::new()
    } else if let Some(b) = v.as_bytes().filter(|_| v.kind() == ValueKind::Bytes) {
        hex::encode(b)
    } else {
        v.to_string()
    }
}

/// How one target column is filled.
#[derive(Debug, Clone)]
pub enum FillKind {
    /// Copied from a source column (its index).
    Column(usize),
    /// The same value in every row (evaluated once, when the run starts).
    Constant(Value),
    /// Evaluated per row.
    Expr(Arc<minijinja::Expression<'static, 'static>>),
}

/// A target column filled by an expression.
#[derive(Debug, Clone)]
pub struct Fill {
    /// Target column name.
    pub column: String,
    /// The expression as written in the project file.
    pub text: String,
    /// How it is computed.
    pub kind: FillKind,
}

impl Fill {
    /// The source column type when the fill copies a column, else `None`
    /// (the value's type is known per row).
    pub fn source_type<'a>(&self, columns: &'a [ColumnDef]) -> Option<&'a LogicalType> {
        match &self.kind {
            FillKind::Column(i) => Some(&columns[*i].logical),
            _ => None,
        }
    }
}

/// The fills of one table, and what evaluating them needs.
#[derive(Debug, Clone, Default)]
pub struct Fills {
    /// In the order their values are appended to a row.
    pub list: Vec<Fill>,
    /// Source column name -> index.
    names: Arc<HashMap<String, usize>>,
    now_us: i64,
}

impl Fills {
    /// No fills yet, for a source table's columns; `now_us` is the run's
    /// start time.
    pub fn new(columns: &[ColumnDef], now_us: i64) -> Self {
        Self {
            list: Vec::new(),
            names: Arc::new(
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name.clone(), i))
                    .collect(),
            ),
            now_us,
        }
    }

    /// Compiles `text` for the source table's columns. `Err` says what is
    /// wrong (syntax, a name that is no column) for `plan` to report.
    pub fn compile(&self, text: &str, columns: &[ColumnDef]) -> Result<FillKind, String> {
        let trimmed = text.trim();
        if let Some(&i) = self.names.get(trimmed) {
            return Ok(FillKind::Column(i));
        }
        let expr = ENV
            .compile_expression_owned(text.to_owned())
            .map_err(|e| describe(&e))?;
        // Names that are neither columns nor functions. (MiniJinja's list is
        // best effort: a name it misses fails when the expression is first
        // evaluated, in `plan`'s samples or the run's first row.)
        let mut unknown: Vec<String> = expr
            .undeclared_variables(false)
            .into_iter()
            .filter(|n| {
                n != "row"
                    && !self.names.contains_key(n)
                    && !FUNCTIONS.contains(&n.as_str())
                    && !BUILTIN_FUNCTIONS.contains(&n.as_str())
            })
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            return Err(format!(
                "{} {} not a column of the source table (its columns: {}; a column whose name is \
                 not an identifier is row[\"name\"])",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // Evaluated once over a row of NULLs: an expression that reads no
        // column is a constant (its value, or its error, is final).
        let probe = Arc::new(RowContext {
            names: self.names.clone(),
            row: vec![Value::Null; columns.len()],
            now_us: self.now_us,
            touched: AtomicBool::new(false),
        });
        let out = expr.eval(J::from_dyn_object(probe.clone()));
        if !probe.touched.load(Ordering::Relaxed) {
            return out
                .map_err(|e| describe(&e))
                .and_then(from_jinja)
                .map(FillKind::Constant);
        }
        Ok(FillKind::Expr(Arc::new(expr)))
    }

    /// Appends the value of every fill to a source row; `Err` is the
    /// failing fill's index and the reject reason (the row then holds
    /// NULL for every fill, so its width stays right).
    pub fn apply(&self, row: &mut Vec<Value>) -> Result<(), (usize, String)> {
        let width = row.len();
        let mut values = Vec::with_capacity(self.list.len());
        let mut ctx: Option<Arc<RowContext>> = None;
        let mut failed = None;
        for (k, fill) in self.list.iter().enumerate() {
            let v = match &fill.kind {
                FillKind::Column(i) => Ok(match &ctx {
                    Some(c) => c.row[*i].clone(),
                    None => row[*i].clone(),
                }),
                FillKind::Constant(v) => Ok(v.clone()),
                FillKind::Expr(expr) => {
                    // The row moves into the context for the first
                    // expression and back after the last: nothing is copied.
                    let c = ctx.get_or_insert_with(|| {
                        Arc::new(RowContext {
                            names: self.names.clone(),
                            row: std::mem::take(row),
                            now_us: self.now_us,
                            touched: AtomicBool::new(false),
                        })
                    });
                    expr.eval(J::from_dyn_object(c.clone()))
                        .map_err(|e| describe(&e))
                        .and_then(from_jinja)
                }
            };
            match v {
                Ok(v) => values.push(v),
                Err(reason) => {
                    failed = Some((k, reason));
                    break;
                }
            }
        }
        if let Some(c) = ctx {
            *row = Arc::try_unwrap(c).map_or_else(|c| c.row.clone(), |c| c.row);
        }
        debug_assert_eq!(row.len(), width);
        match failed {
            None => {
                row.extend(values);
                Ok(())
            }
            Some(f) => {
                row.resize(width + self.list.len(), Value::Null);
                Err(f)
            }
        }
    }
}

/// A source row as an expression sees it: each column by its name (and
/// all of them as `row`, for names that are not identifiers), converted
/// only when read.
#[derive(Debug)]
struct RowContext {
    names: Arc<HashMap<String, usize>>,
    row: Vec<Value>,
    now_us: i64,
    /// Set when a column is read: an expression that never sets it is a
    /// constant.
    touched: AtomicBool,
}

impl Object for RowContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &J) -> Option<J> {
        let key = key.as_str()?;
        if key == NOW_VAR {
            return Some(J::from(self.now_us));
        }
        if key == "row" && !self.names.contains_key("row") {
            self.touched.store(true, Ordering::Relaxed);
            return Some(J::from_dyn_object(self.clone()));
        }
        let i = *self.names.get(key)?;
        self.touched.store(true, Ordering::Relaxed);
        Some(to_jinja(&self.row[i]))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut names: Vec<(&String, &usize)> = self.names.iter().collect();
        names.sort_by_key(|(_, i)| **i);
        Enumerator::Values(
            names
                .into_iter()
                .map(|(n, _)| J::from(n.as_str()))
                .collect(),
        )
    }
}

/// MiniJinja's error text without its debug info.
fn describe(e: &JError) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

/// A godwit value as the expression sees it: numbers, text, booleans and
/// NULL (`none`) as themselves; JSON parsed (so `meta.title` works); bytes
/// as bytes; decimals, dates, times, timestamps and UUIDs as their text
/// (decimals stay exact: `| float` turns one into a number).
pub fn to_jinja(v: &Value) -> J {
    match v {
        Value::Null => J::from(()),
        Value::Boolean(b) => J::from(*b),
        Value::Int(i) => J::from(*i),
        Value::Uint(u) => J::from(*u),
        Value::Float(f) => J::from(*f),
        Value::Text(s) => J::from(s.as_str()),
        Value::Bytes(b) => J::from_bytes(b.clone()),
        Value::Json(s) => serde_json::from_str::<serde_json::Value>(s)
            .map(|j| J::from(minijinja::value::Serde(j)))
            .unwrap_or_else(|_| J::from(s.as_str())),
        Value::Vector(v) => J::from(v.iter().map(|f| f64::from(*f)).collect::<Vec<_>>()),
        other => J::from(crate::value::render_text(other)),
    }
}

/// The expression's result as a godwit value (then cast to the target
/// column's type like any other value).
fn from_jinja(v: J) -> Result<Value, String> {
    let too_big = |n: usize| {
        Err(format!(
            "the expression gave {n} bytes, more than {MAX_FILL_BYTES}"
        ))
    };
    Ok(match v.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Boolean(v.is_true()),
        ValueKind::Number if v.is_integer() => match i64::try_from(v.clone()) {
            Ok(i) => Value::Int(i),
            Err(_) => match u64::try_from(v.clone()) {
                Ok(u) => Value::Uint(u),
                Err(_) => return Err(format!("{v} does not fit in 64 bits")),
            },
        },
        ValueKind::Number => Value::Float(f64::try_from(v.clone()).map_err(|e| e.to_string())?),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if s.len() > MAX_FILL_BYTES {
                return too_big(s.len());
            }
            Value::Text(s.to_owned())
        }
        ValueKind::Bytes => {
            let b = v.as_bytes().unwrap_or_default();
            if b.len() > MAX_FILL_BYTES {
                return too_big(b.len());
            }
            Value::Bytes(b.to_vec())
        }
        ValueKind::Seq | ValueKind::Map => {
            let s = serde_json::to_string(&v).map_err(|e| e.to_string())?;
            if s.len() > MAX_FILL_BYTES {
                return too_big(s.len());
            }
            Value::Json(s)
        }
        other => {
            return Err(format!(
                "the expression gave a value of kind {other}, not a column value"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            logical: LogicalType::Any,
            native_type: String::new(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        }
    }

    #[test]
    fn expressions_over_a_row() {
        let cols = [col("id"), col("name"), col("ts")];
        let row = vec![Value::Int(7), Value::Text("ann lee".into()), Value::Null];
        let fills = Fills::new(&cols, 1_700_000_000_123_456);
        let eval = |t: &str| -> Result<Value, String> {
            let mut f = fills.clone();
            f.list.push(Fill {
                column: "x".into(),
                text: t.into(),
                kind: f.compile(t, &cols)?,
            });
            let mut r = row.clone();
            f.apply(&mut r).map_err(|e| e.1)?;
            assert_eq!(&r[..3], &row[..], "the source row is left as it was");
            Ok(r.pop().unwrap())
        };
        assert_eq!(eval("id * 10 + 1").unwrap(), Value::Int(71));
        assert_eq!(
            eval("concat(name, ':', id, ts)").unwrap(),
            Value::Text("ann lee:7".into())
        );
        assert_eq!(eval("coalesce(ts, id)").unwrap(), Value::Int(7));
        assert_eq!(eval("name | upper").unwrap(), Value::Text("ANN LEE".into()));
        assert_eq!(eval("row['name']").unwrap(), Value::Text("ann lee".into()));
        // A slice: MiniJinja's list of names misses `name` here; the
        // context still provides it.
        assert_eq!(
            eval("(name | split(' ') | list)[1:] | join(' ')").unwrap(),
            Value::Text("lee".into())
        );
        assert_eq!(eval("now('s')").unwrap(), Value::Int(1_700_000_000));
        assert_eq!(eval("now('ms')").unwrap(), Value::Int(1_700_000_000_123));
        assert_eq!(
            eval("now()").unwrap(),
            Value::Text("2023-11-14T22:13:20.123456Z".into())
        );
        // RFC 9562's example: uuid5(DNS, "www.example.com").
        assert_eq!(
            eval("uuid5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')").unwrap(),
            Value::Text("2ed6657d-e927-568b-95e1-2665a8aea6a2".into())
        );
        assert_eq!(
            eval("sha256('abc')").unwrap(),
            Value::Text("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into())
        );
        assert!(matches!(
            fills.compile("name", &cols),
            Ok(FillKind::Column(1))
        ));
        assert!(matches!(
            fills.compile("'user'", &cols),
            Ok(FillKind::Constant(Value::Text(_)))
        ));
        assert!(matches!(
            fills.compile("now()", &cols),
            Ok(FillKind::Constant(Value::Text(_)))
        ));
        assert!(matches!(
            fills.compile("(name|list)[1:]", &cols),
            Ok(FillKind::Expr(_))
        ));
        let err = fills.compile("nmae ~ 'x'", &cols).unwrap_err();
        assert!(err.contains("nmae is not a column"), "{err}");
        assert!(fills.compile("id +", &cols).is_err());
        // A failing fill leaves the row's width right.
        let mut f = fills.clone();
        f.list.push(Fill {
            column: "u".into(),
            text: "".into(),
            kind: f.compile("name ~ '!'", &cols).unwrap(),
        });
        f.list.push(Fill {
            column: "x".into(),
            text: "ts".into(),
            kind: FillKind::Column(2),
        });
        let mut r = row.clone();
        f.apply(&mut r).unwrap();
        assert_eq!(
            r[3..],
            [Value::Text("ann lee!".into()), Value::Null],
            "a column after an expression"
        );
        f.list.push(Fill {
            column: "x".into(),
            text: "id".into(),
            kind: FillKind::Column(0),
        });
        f.list.push(Fill {
            column: "y".into(),
            text: "".into(),
            kind: f.compile("name * name", &cols).unwrap(),
        });
        let mut r = row.clone();
        assert!(f.apply(&mut r).is_err());
        assert_eq!(r.len(), 7);
        // Bounded: MiniJinja caps ranges, and the fuel stops repetition.
        let err = fills.compile("'x' * 100000000", &cols).unwrap_err();
        assert!(err.contains("fuel"), "{err}");
        assert!(fills.compile("range(100000000) | sum", &cols).is_err());
    }
}
