//! The value pipeline of a table: what happens to a source row's values on
//! their way to the target — casts, the NUL-byte policy, rewrite rules in
//! the order listed, MySQL zero dates — written once and used twice: by
//! `copy_table` for every batch the run loads, and by the `pipeline`
//! capability (`caps::pipeline`), so a validator compares a source row as
//! the run wrote it (issue 14: checksums over rewritten paths).
//!
//! Fills, rewrites `into` another column, the types a SQLite profile or an
//! existing target table imposes and length limits stay in `copy_table`:
//! they add columns or check the target side, which a table pair does not
//! carry.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value as Json;

use super::{select_tables, Loaded};
use crate::caps::pipeline::{RowOutcomes, StepPipeline, TablePipeline};
use crate::error::Result;
use crate::model::{Error as WErr, LogicalType, Outcome, TableDef, Value};
use crate::project::{Cast, NulPolicy, Step, ZeroDatePolicy};
use crate::value::excerpt;

/// A row the pipeline refuses, as the reject file records it.
pub(crate) struct Refusal {
    /// Index of the row in the batch.
    pub row: usize,
    /// The row's key (from the caller's `key_of`, when it was refused).
    pub key: Json,
    /// The column refused.
    pub column: String,
    /// An excerpt of the value as read.
    pub value: Json,
    /// `cast`, `rewrite` or `type`.
    pub stage: &'static str,
    /// The rule, for stage `rewrite`.
    pub rule: Option<String>,
    pub reason: String,
}

/// Values one rule changed in one batch: `(column, rule, count, examples)`.
pub(crate) type Changed = (String, String, u64, Vec<String>);

/// Casts, the NUL policy and the rewrite rules of one table.
pub(crate) struct ValuePipeline {
    /// `(column index, column name, rule)`, in the step's order.
    pub casts: Vec<(usize, String, Cast)>,
    pub nul_bytes: NulPolicy,
    /// `(column index, column as reported, rule instance name, rule)`.
    pub rules: Vec<(usize, String, String, Arc<Loaded>)>,
}

impl ValuePipeline {
    /// Runs `rows` through the casts, the NUL policy and the rules, in that
    /// order. A refused value is put back as it was and the row's first
    /// refusal is pushed to `refused` (`key_of` names the row); the other
    /// stages still see the row, as the run always did. Returns what each
    /// rule changed.
    pub async fn apply(
        &self,
        rows: &mut [Vec<Value>],
        key_of: &(dyn Fn(&[Value], usize) -> Json + Sync),
        refused: &mut Vec<Refusal>,
    ) -> Result<Vec<Changed>> {
        let mut seen = vec![false; rows.len()];
        let mut refuse = |r: Refusal| {
            if !std::mem::replace(&mut seen[r.row], true) {
                refused.push(r);
            }
        };
        for (idx, column, rule) in &self.casts {
            for (i, row) in rows.iter_mut().enumerate() {
                let v = std::mem::replace(&mut row[*idx], Value::Null);
                match super::cast::convert(v.clone(), rule.to, rule.from, rule.zone_secs) {
                    Ok(new) => row[*idx] = new,
                    Err(reason) => {
                        row[*idx] = v;
                        refuse(Refusal {
                            row: i,
                            key: key_of(row, i),
                            column: column.clone(),
                            value: excerpt(&row[*idx]),
                            stage: "cast",
                            rule: None,
                            reason,
                        });
                    }
                }
            }
        }
        if self.nul_bytes != NulPolicy::Reject {
            for row in rows.iter_mut() {
                for cell in row.iter_mut() {
                    if let Value::Text(s) = cell {
                        if s.contains('\0') {
                            let v = std::mem::replace(cell, Value::Null);
                            *cell = super::cast::nul_bytes(v, self.nul_bytes)
                                .expect("strip and replace never fail");
                        }
                    }
                }
            }
        }
        let mut changes = Vec::new();
        for (idx, column, rule, plugin) in &self.rules {
            // The column's values move out for the call and back after it
            // (the outcome count is checked against the values), so nothing
            // is cloned.
            let values: Vec<Value> = rows
                .iter_mut()
                .map(|r| std::mem::replace(&mut r[*idx], Value::Null))
                .collect();
            let outcomes = plugin.plugin.lock().await.rewrite(&values).await?;
            let (mut changed, mut examples) = (0u64, Vec::new());
            for (i, (o, old)) in outcomes.into_iter().zip(values).enumerate() {
                match o {
                    Outcome::Unchanged => rows[i][*idx] = old,
                    Outcome::Replaced(v) if v == old => rows[i][*idx] = v,
                    Outcome::Replaced(v) => {
                        changed += 1;
                        if examples.len() < super::report::REWRITE_EXAMPLES {
                            examples.push(format!("{} -> {}", excerpt(&old), excerpt(&v)));
                        }
                        rows[i][*idx] = v;
                    }
                    Outcome::Rejected(reason) => {
                        rows[i][*idx] = old;
                        refuse(Refusal {
                            row: i,
                            key: key_of(&rows[i], i),
                            column: column.clone(),
                            value: excerpt(&rows[i][*idx]),
                            stage: "rewrite",
                            rule: Some(rule.clone()),
                            reason: crate::text::plugin_text(&reason, crate::text::MAX_PLUGIN_TEXT),
                        });
                    }
                }
            }
            if changed > 0 {
                changes.push((column.clone(), rule.clone(), changed, examples));
            }
        }
        Ok(changes)
    }
}

/// The columns (indexes) whose MySQL zero dates the step's policy decides:
/// the target's date and time columns.
pub(crate) fn temporal_columns(target: &TableDef) -> Vec<usize> {
    target
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            matches!(
                c.logical,
                LogicalType::Date | LogicalType::Timestamp | LogicalType::Timestamptz
            )
        })
        .map(|(i, _)| i)
        .collect()
}

/// The reason a zero date is rejected under `zero_dates = "reject"`.
pub(crate) const ZERO_DATE_REASON: &str =
    "a MySQL zero date, which no other database stores (zero_dates = \"null\" loads NULL instead)";

/// Applies the zero-date policy to the `temporal` columns of `rows`: NULL
/// (counted in the result) or a refusal per row.
pub(crate) fn zero_dates(
    rows: &mut [Vec<Value>],
    temporal: &[usize],
    names: &[String],
    policy: ZeroDatePolicy,
    key_of: &(dyn Fn(&[Value], usize) -> Json + Sync),
    refused: &mut Vec<Refusal>,
) -> u64 {
    let mut nulled = 0;
    for idx in temporal {
        for (r, row) in rows.iter_mut().enumerate() {
            let Value::Text(text) = &row[*idx] else {
                continue;
            };
            if !super::cast::is_zero_date(text) {
                continue;
            }
            match policy {
                ZeroDatePolicy::Null => {
                    row[*idx] = Value::Null;
                    nulled += 1;
                }
                ZeroDatePolicy::Reject => refused.push(Refusal {
                    row: r,
                    key: key_of(row, r),
                    column: names[*idx].clone(),
                    value: excerpt(&row[*idx]),
                    stage: "type",
                    rule: None,
                    reason: ZERO_DATE_REASON.into(),
                }),
            }
        }
    }
    nulled
}

/// The casts of `step` that apply to the columns of source table `t`.
pub(crate) fn step_casts(step: &Step, t: &TableDef) -> Vec<(usize, String, Cast)> {
    t.columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            step.casts
                .iter()
                .find(|r| r.applies(&t.name, &c.name, &c.native_type))
                .map(|r| (i, c.name.clone(), r.clone()))
        })
        .collect()
}

/// A step's pipelines, as granted to a validator: the step, its source
/// (to learn a table's columns) and its rewrite rules, loaded.
pub(crate) struct GrantedStep {
    pub step: Step,
    pub source: Arc<Loaded>,
    /// Rule instance name -> instance.
    pub rules: BTreeMap<String, Arc<Loaded>>,
    /// The step's tables, discovered once (on the first `open`).
    pub tables: tokio::sync::OnceCell<Vec<TableDef>>,
}

impl GrantedStep {
    /// The step's tables as selected from the source's discovery.
    async fn tables(&self) -> std::result::Result<&[TableDef], WErr> {
        let wit = |e: crate::Error| crate::caps::sql::to_wit(&e);
        self.tables
            .get_or_try_init(|| async {
                let discovered = self
                    .source
                    .plugin
                    .lock()
                    .await
                    .discover()
                    .await
                    .map_err(wit)?;
                select_tables(&self.step, discovered)
                    .map(|(t, _)| t)
                    .map_err(wit)
            })
            .await
            .map(Vec::as_slice)
    }
}

impl StepPipeline for GrantedStep {
    fn open<'a>(
        &'a self,
        table: &'a str,
    ) -> BoxFuture<'a, std::result::Result<Option<Arc<dyn TablePipeline>>, WErr>> {
        Box::pin(async move {
            let Some(t) = self.tables().await?.iter().find(|t| t.name == table) else {
                return Ok(None);
            };
            let mut rules = Vec::new();
            for r in self.step.rewrites.iter().filter(|r| r.table == table) {
                // A rule writing `into` another column fills a column the
                // pair does not have; left out (see the module docs).
                if r.into.is_some() {
                    continue;
                }
                let Some(idx) = t.columns.iter().position(|c| c.name == r.column) else {
                    continue;
                };
                rules.push((
                    idx,
                    r.column.clone(),
                    r.rule.clone(),
                    self.rules[&r.rule].clone(),
                ));
            }
            let target = super::run::target_def(&self.step, t);
            let pipe = OneTable {
                values: ValuePipeline {
                    casts: step_casts(&self.step, t),
                    nul_bytes: self.step.nul_bytes,
                    rules,
                },
                temporal: temporal_columns(&target),
                zero_dates: self.step.zero_dates,
                names: t.columns.iter().map(|c| c.name.clone()).collect(),
            };
            Ok(Some(Arc::new(pipe) as Arc<dyn TablePipeline>))
        })
    }
}

/// The pipeline of one table, for a validator.
struct OneTable {
    values: ValuePipeline,
    temporal: Vec<usize>,
    zero_dates: ZeroDatePolicy,
    /// The source columns, in order.
    names: Vec<String>,
}

impl TablePipeline for OneTable {
    fn width(&self) -> usize {
        self.names.len()
    }

    fn changed_columns(&self) -> Vec<String> {
        let mut idx: Vec<usize> = self
            .values
            .casts
            .iter()
            .map(|c| c.0)
            .chain(self.values.rules.iter().map(|r| r.0))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| self.names[i].clone()).collect()
    }

    fn apply(
        &self,
        mut rows: Vec<Vec<Value>>,
    ) -> BoxFuture<'_, std::result::Result<RowOutcomes, WErr>> {
        Box::pin(async move {
            let no_key = |_: &[Value], _: usize| Json::Null;
            let mut refused = Vec::new();
            self.values
                .apply(&mut rows, &no_key, &mut refused)
                .await
                .map_err(|e| crate::caps::sql::to_wit(&e))?;
            zero_dates(
                &mut rows,
                &self.temporal,
                &self.names,
                self.zero_dates,
                &no_key,
                &mut refused,
            );
            let mut out: RowOutcomes = rows.into_iter().map(Ok).collect();
            for r in refused {
                if out[r.row].is_ok() {
                    out[r.row] = Err(format!("{}: {}", r.column, r.reason));
                }
            }
            Ok(out)
        })
    }
}
