//! Loading into tables the application created: source columns matched to
//! the existing target columns by name (renames and drops configurable),
//! target columns the source lacks filled by expressions (`fill`), values
//! cast to the target's declared types, and every mismatch reported before
//! anything is written.

use crate::error::{Error, Result};
use crate::model::{ColumnDef, LogicalType, TableDef, Value};
use crate::project::{CastTo, Step};

use super::fill::{Fill, FillKind, Fills};

/// How source columns land in an existing target table.
#[derive(Debug, Clone, Default)]
pub struct ColumnMapping {
    /// Source column indices that are loaded, in the order of `targets`.
    /// Index `source width + k` is the value of `fills[k]`, appended to
    /// each row before the casts.
    pub keep: Vec<usize>,
    /// Target column names, parallel to `keep`.
    pub targets: Vec<String>,
    /// Casts implied by the target's declared types: (source index, cast).
    pub casts: Vec<(usize, CastTo)>,
    /// Length limits of the target's text columns: (source index, characters).
    pub max_chars: Vec<(usize, u32)>,
    /// What `plan` shows about the mapping.
    pub notes: Vec<String>,
    /// Target columns computed per row (existing tables only).
    pub fills: Fills,
    /// Source columns not loaded, with the reason (`drop_columns` and its
    /// reason from the project, or the fill that replaces them).
    pub dropped: Vec<(String, String)>,
}

impl ColumnMapping {
    /// Every column, as is (a table godwit creates itself).
    pub fn identity(source: &TableDef) -> Self {
        Self {
            keep: (0..source.columns.len()).collect(),
            targets: source.columns.iter().map(|c| c.name.clone()).collect(),
            ..Default::default()
        }
    }

    /// The row index of the value filling target column `column`, if a
    /// fill computes it.
    pub fn fill_index(&self, source: &TableDef, column: &str) -> Option<usize> {
        let list = &self.fills.list;
        list.iter()
            .position(|f| f.column == column)
            .or_else(|| {
                list.iter()
                    .position(|f| f.column.eq_ignore_ascii_case(column))
            })
            .map(|k| source.columns.len() + k)
    }

    /// The name of row index `i` in reject records: the source column, or
    /// the target column a fill computes.
    pub fn column_name<'a>(&'a self, source: &'a TableDef, i: usize) -> &'a str {
        match source.columns.get(i) {
            Some(c) => &c.name,
            None => &self.fills.list[i - source.columns.len()].column,
        }
    }
}

/// Matches `source` to the `existing` columns of target table `target`.
/// All problems are reported together, each with the option that fixes it.
/// `now_us` is the run's start time, for `now()` in fills.
pub fn map_columns(
    step: &Step,
    source: &TableDef,
    target: &str,
    existing: &[ColumnDef],
    now_us: i64,
) -> Result<ColumnMapping> {
    let mut m = ColumnMapping {
        fills: Fills::new(&source.columns, now_us),
        ..Default::default()
    };
    let mut problems = Vec::new();
    let mut used = vec![false; existing.len()];
    let width = source.columns.len();
    // Fills first: a filled target column is not taken from the source.
    let prefix = format!("{}.", source.name);
    let mut fills: Vec<(usize, Fill, Option<CastTo>, Option<u32>)> = Vec::new();
    // A rewrite `into` another column fills it with the source column, which
    // the rule then rewrites (in the run's rewrite stage).
    let into: Vec<(String, String)> = step
        .rewrites
        .iter()
        .filter(|r| r.table == source.name)
        .filter_map(|r| {
            r.into
                .as_ref()
                .map(|c| (format!("{prefix}{c}"), r.column.clone()))
        })
        .collect();
    for (key, text) in step
        .fills
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .chain(into.iter().map(|(k, t)| (k, t)))
    {
        if fills
            .iter()
            .any(|f: &(usize, Fill, Option<CastTo>, Option<u32>)| {
                f.1.column.eq_ignore_ascii_case(&key[prefix.len()..])
            })
        {
            problems.push(format!(
                "{key:?} is filled twice (by fill, or a rewrite with into): keep one"
            ));
            continue;
        }
        let column = &key[prefix.len()..];
        let found = existing.iter().position(|e| e.name == column).or_else(|| {
            existing
                .iter()
                .position(|e| e.name.eq_ignore_ascii_case(column))
        });
        let Some(j) = found else {
            problems.push(format!(
                "fill {key:?}: the target table {target} has no column {column:?} (its columns: {})",
                names(existing)
            ));
            continue;
        };
        used[j] = true;
        let dst = &existing[j];
        let kind = match m.fills.compile(text, &source.columns) {
            Ok(k) => k,
            Err(why) => {
                problems.push(format!("fill {key:?} = {text:?}: {why}"));
                continue;
            }
        };
        let fill = Fill {
            column: dst.name.clone(),
            text: text.clone(),
            kind,
        };
        let cast = match fill.source_type(&source.columns) {
            Some(src) => match implicit(src, &dst.logical) {
                Ok(c) => c,
                Err(why) => {
                    problems.push(format!(
                        "fill {key:?} = {text:?}: the column cannot go into {target}.{} ({}): {why}",
                        dst.name, dst.native_type
                    ));
                    continue;
                }
            },
            None => implicit(&LogicalType::Any, &dst.logical).unwrap_or(None),
        };
        if let (FillKind::Constant(v), Some(to)) = (&fill.kind, cast) {
            if let Err(why) = super::cast::convert(v.clone(), to, crate::project::CastFrom::Auto, 0)
            {
                let hint = if matches!(dst.logical, LogicalType::Int(_) | LogicalType::Uint(_))
                    && text.contains("now()")
                {
                    " (now() is a timestamp; an integer column takes now('s'), now('ms'), now('us') or now('ns'))"
                } else {
                    ""
                };
                problems.push(format!(
                    "fill {key:?} = {text:?} gives {}, which cannot go into {target}.{} ({}): {why}{hint}",
                    crate::value::excerpt(v),
                    dst.name,
                    dst.native_type
                ));
                continue;
            }
        }
        if matches!(fill.kind, FillKind::Constant(Value::Null)) && !dst.nullable {
            problems.push(format!(
                "fill {key:?} = {text:?} is NULL, and {target}.{} is NOT NULL",
                dst.name
            ));
            continue;
        }
        let limit = match dst.logical {
            LogicalType::Text(Some(n)) => Some(n),
            _ => None,
        };
        m.notes.push(format!(
            "{target}.{} ({}) = {text} (fill)",
            dst.name, dst.native_type
        ));
        fills.push((j, fill, cast, limit));
    }
    let filled: Vec<usize> = fills.iter().map(|f| f.0).collect();
    for (i, col) in source.columns.iter().enumerate() {
        let key = format!("{}.{}", source.name, col.name);
        if step.drop_columns.contains(&key) {
            let why = step
                .reasons
                .get(&key)
                .cloned()
                .unwrap_or_else(|| "drop_columns".to_owned());
            m.notes.push(format!("{key} is dropped ({why})"));
            m.dropped.push((key, why));
            continue;
        }
        let wanted = step
            .column_renames
            .get(&key)
            .cloned()
            .unwrap_or_else(|| col.name.clone());
        let found = existing.iter().position(|e| e.name == wanted).or_else(|| {
            existing
                .iter()
                .position(|e| e.name.eq_ignore_ascii_case(&wanted))
        });
        if let Some(j) = found.filter(|j| filled.contains(j)) {
            // The fill replaces it (its expression may read it).
            let why = format!("{target}.{} is filled by an expression", existing[j].name);
            m.notes.push(format!("{key} is not loaded as is: {why}"));
            m.dropped.push((key, why));
            continue;
        }
        let Some(j) = found else {
            problems.push(format!(
                "source column {key} has no column {wanted:?} in the target table {target} \
                 (rename it with columns = {{ \"{key}\" = \"...\" }} or leave it out with drop_columns)"
            ));
            continue;
        };
        used[j] = true;
        let dst = &existing[j];
        let explicit = step
            .casts
            .iter()
            .any(|r| r.applies(&source.name, &col.name, &col.native_type));
        if !explicit {
            match implicit(&col.logical, &dst.logical) {
                Ok(Some(cast)) => {
                    m.casts.push((i, cast));
                    m.notes.push(format!(
                        "{key} -> {} ({}): values cast to {cast:?}",
                        dst.name, dst.native_type
                    ));
                }
                Ok(None) => {}
                Err(why) => problems.push(format!(
                    "source column {key} ({}) cannot go into {target}.{} ({}): {why} (a \
                     `casts` rule for {key}, or fill = {{ \"{}.{}\" = \"...\" }} with \
                     drop_columns = [\"{key}\"], converts it)",
                    col.native_type, dst.name, dst.native_type, source.name, dst.name
                )),
            }
        }
        if let LogicalType::Text(Some(n)) = dst.logical {
            m.max_chars.push((i, n));
        }
        m.keep.push(i);
        m.targets.push(dst.name.clone());
    }
    for (k, (_, fill, cast, limit)) in fills.into_iter().enumerate() {
        let idx = width + k;
        if let Some(c) = cast {
            m.casts.push((idx, c));
        }
        if let Some(n) = limit {
            m.max_chars.push((idx, n));
        }
        m.keep.push(idx);
        m.targets.push(fill.column.clone());
        m.fills.list.push(fill);
    }
    for dst in existing
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(d, _)| d)
    {
        if !dst.nullable && dst.default.is_none() && !dst.auto_increment {
            problems.push(format!(
                "target column {target}.{} ({}) is NOT NULL without a default, and no source \
                 column fills it (fill = {{ \"{}.{}\" = \"...\" }} computes it: a constant, \
                 now(), another column or an expression)",
                dst.name, dst.native_type, source.name, dst.name
            ));
        } else {
            m.notes.push(format!(
                "target column {target}.{} is not in the source: left to its default",
                dst.name
            ));
        }
    }
    if problems.is_empty() {
        Ok(m)
    } else {
        Err(Error::project(format!(
            "step {}: table {} does not fit the existing target table {target}:\n  - {}",
            step.name,
            source.name,
            problems.join("\n  - ")
        )))
    }
}

fn names(cols: &[ColumnDef]) -> String {
    cols.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cast the target's type implies for a source type, if any; `Err` when
/// no value of the source type could fit.
fn implicit(src: &LogicalType, dst: &LogicalType) -> std::result::Result<Option<CastTo>, String> {
    use LogicalType as L;
    let same = std::mem::discriminant(src) == std::mem::discriminant(dst)
        || matches!((src, dst), (L::Int(_) | L::Uint(_), L::Int(_) | L::Uint(_)));
    if same && !matches!(src, L::Any) {
        return Ok(None);
    }
    if matches!(src, L::Bytes(_)) && !matches!(dst, L::Bytes(_) | L::Any) {
        return Err("bytes cannot become another type".into());
    }
    Ok(match dst {
        L::Boolean => Some(CastTo::Boolean),
        L::Int(_) | L::Uint(_) => Some(CastTo::Int),
        L::Float(_) => Some(CastTo::Float),
        L::Decimal(_) => Some(CastTo::Decimal),
        L::Text(_) => Some(CastTo::Text),
        L::Bytes(_) => Some(CastTo::Bytes),
        L::Json => Some(CastTo::Json),
        L::Timestamp => Some(CastTo::Timestamp),
        L::Timestamptz => Some(CastTo::Timestamptz),
        L::Date => Some(CastTo::Date),
        L::Time => Some(CastTo::Time),
        L::Uuid => Some(CastTo::Uuid),
        L::Vector(_) | L::Any => None,
    })
}
