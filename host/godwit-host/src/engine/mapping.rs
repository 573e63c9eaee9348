//! Loading into tables the application created: source columns matched to
//! the existing target columns by name (renames and drops configurable),
//! values cast to the target's declared types, and every mismatch reported
//! before anything is written.

use crate::error::{Error, Result};
use crate::project::{CastTo, Step};
use crate::runtime::bindings::types::{ColumnDef, LogicalType, TableDef};

/// How source columns land in an existing target table.
#[derive(Debug, Clone, Default)]
pub struct ColumnMapping {
    /// Source column indices that are loaded, in the order of `targets`.
    pub keep: Vec<usize>,
    /// Target column names, parallel to `keep`.
    pub targets: Vec<String>,
    /// Casts implied by the target's declared types: (source index, cast).
    pub casts: Vec<(usize, CastTo)>,
    /// Length limits of the target's text columns: (source index, characters).
    pub max_chars: Vec<(usize, u32)>,
    /// What `plan` shows about the mapping.
    pub notes: Vec<String>,
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
}

/// Matches `source` to the `existing` columns of target table `target`.
/// All problems are reported together.
pub fn map_columns(
    step: &Step,
    source: &TableDef,
    target: &str,
    existing: &[ColumnDef],
) -> Result<ColumnMapping> {
    let mut m = ColumnMapping::default();
    let mut problems = Vec::new();
    let mut used = vec![false; existing.len()];
    for (i, col) in source.columns.iter().enumerate() {
        let key = format!("{}.{}", source.name, col.name);
        if step.drop_columns.contains(&key) {
            m.notes.push(format!("{key} is dropped (drop_columns)"));
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
                    "source column {key} ({}) cannot go into {target}.{} ({}): {why}",
                    col.native_type, dst.name, dst.native_type
                )),
            }
        }
        if let LogicalType::Text(Some(n)) = dst.logical {
            m.max_chars.push((i, n));
        }
        m.keep.push(i);
        m.targets.push(dst.name.clone());
    }
    for (j, dst) in existing.iter().enumerate().filter(|(j, _)| !used[*j]) {
        let _ = j;
        if !dst.nullable && dst.default.is_none() && !dst.auto_increment {
            problems.push(format!(
                "target column {target}.{} is NOT NULL without a default, and no source column fills it",
                dst.name
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
