//! `godwit plan`: everything `run` would do, computed without writing
//! anything. Databases are opened read-only (and never created), stores
//! refuse writes, and no statement the target plugin planned is executed.

use serde::Serialize;

use super::run::{plan_step, RowSource};
use super::{PluginReport, Session};
use crate::error::Result;
use crate::model::Outcome;
use crate::model::ReadPlan;
use crate::model::Value;
use crate::runtime::Kind;
use crate::value::excerpt;

/// Values sampled per rewritten column to show before → after.
pub const REWRITE_SAMPLES: usize = 3;
/// Rows scanned at most to find those samples (and to try fills on).
pub const SAMPLE_SCAN_ROWS: usize = 1000;

/// One before → after example of a rewrite rule.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRewrite {
    /// `table.column`.
    pub column: String,
    /// Rule instance.
    pub rule: String,
    /// Value before.
    pub before: serde_json::Value,
    /// Value after, or the rejection reason.
    pub after: serde_json::Value,
    /// True when the rule rejects this value.
    pub rejected: bool,
}

/// Lines of a batch target's notes `plan` shows per table.
const MAX_PLAN_NOTES: usize = 20;

/// A table as `run` would copy it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedTable {
    /// Source table.
    pub source: String,
    /// Target table.
    pub target: String,
    /// Columns.
    pub columns: Vec<String>,
    /// Source row count: exact (counted read-only), or the source's catalog
    /// estimate when counting took too long (`rows_estimated`).
    pub rows: Option<u64>,
    /// True when `rows` is the catalog estimate.
    pub rows_estimated: bool,
    /// How rows are read (`sql: <statement>` or `plugin batches`).
    pub read: String,
    /// Target connection (project name); empty when the target writes the
    /// table itself (`write` = `plugin batches`).
    pub target_connection: String,
    /// How rows are written: `sql` (the host loads them) or `plugin
    /// batches` (the target's own writer, contract 0.3).
    pub write: String,
    /// What the target says about a table it writes itself (where, how
    /// keys are formed), bounded by the host.
    pub notes: Vec<String>,
    /// Statements before the data.
    pub pre: Vec<String>,
    /// Statements after the data.
    pub post: Vec<String>,
    /// Statements once every table is loaded (foreign keys).
    pub constraints: Vec<String>,
    /// Upsert key, if any.
    pub upsert_key: Vec<String>,
    /// Sample rewrites.
    pub rewrites: Vec<SampleRewrite>,
    /// Into an existing table: how columns are matched and cast.
    pub mapping: Vec<String>,
    /// Sources that type values per row (SQLite): per column, the declared
    /// type, what the column holds, the type chosen and why.
    pub types: Vec<super::profile::ColumnType>,
}

/// A step as `run` would execute it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    /// Step name.
    pub name: String,
    /// Source plugin instance.
    pub source: String,
    /// Target plugin instance.
    pub target: String,
    /// Write mode.
    pub mode: crate::project::WriteMode,
    /// Tables in load order.
    pub tables: Vec<PlannedTable>,
    /// Tables loaded before one of their parents to break a foreign-key cycle.
    pub cycles_broken_at: Vec<String>,
    /// Views found and not copied.
    pub skipped_views: Vec<String>,
    /// Triggers (`table.trigger`) of copied tables, not recreated.
    pub skipped_triggers: Vec<String>,
    /// Source tables the step leaves out, with the project's reason.
    pub excluded_tables: Vec<super::report::Skipped>,
    /// Source columns not loaded (`table.column`), with the reason.
    pub dropped_columns: Vec<super::report::Skipped>,
}

/// A blob copy step as `run` would execute it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCopy {
    /// Step name.
    pub name: String,
    /// Source store and where it is (no secrets).
    pub from: String,
    /// Target store and where it is.
    pub to: String,
    /// Source prefix.
    pub prefix: String,
    /// Rewrite rule mapping keys, if any.
    pub rule: Option<String>,
    /// Objects under the prefix.
    pub objects: u64,
    /// Their total size.
    pub bytes: u64,
    /// Objects the rule rejects or maps outside the target store.
    pub rejected: u64,
    /// Objects whose target key already holds an object of the same size
    /// (`run` checks their content and skips those that match).
    pub present: u64,
    /// Sample keys before → after (target key or rejection reason).
    pub samples: Vec<SampleRewrite>,
    /// Whether target objects the source lacks would be deleted.
    pub delete_extraneous: bool,
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Project name.
    pub project: String,
    /// Blob copy steps (run before the table steps).
    pub copies: Vec<PlannedCopy>,
    /// Steps.
    pub steps: Vec<PlannedStep>,
    /// Validators that would run, in their phase.
    pub validators: Vec<PlannedValidator>,
    /// Plugins involved, with digests and grants.
    pub plugins: Vec<PluginReport>,
}

impl Session {
    /// Computes the plan. Writes nothing.
    pub async fn plan(&self) -> Result<Plan> {
        self.preflight().await?;
        let mut copies = Vec::new();
        for copy in &self.project.copies {
            copies.push(self.plan_copy(copy).await?);
        }
        let mut steps = Vec::new();
        // Project problems of every step are reported together (a table
        // that does not fit its target, a fill that does not compile).
        let mut problems = Vec::new();
        for step in &self.project.steps {
            let planned = match plan_step(self, step).await {
                Ok(p) => p,
                Err(e) if e.kind == crate::error::ErrorKind::Project => {
                    problems.push(e.message);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (excluded_tables, dropped_columns) =
                (planned.excluded.clone(), planned.dropped_columns());
            let super::run::StepPlan {
                tables: plans,
                views,
                broken,
                view_triggers,
                ..
            } = planned;
            let src = self.plugin(&step.source, Kind::Source).await?;
            let tgt = self.plugin(&step.target, Kind::Target).await?;
            let mut skipped_triggers = super::run::triggers_of(&plans);
            skipped_triggers.extend(view_triggers);
            let mut tables = Vec::new();
            for p in plans {
                let exact = match &p.read {
                    ReadPlan::Sql(r) => count(&src, &r.connection, &r.statement, &r.params).await,
                    ReadPlan::Batches => None,
                };
                let rows_estimated = exact.is_none() && p.source.estimated_rows.is_some();
                let rows = exact.or(p.source.estimated_rows);
                let mut rewrites = Vec::new();
                for r in step.rewrites.iter().filter(|r| r.table == p.source.name) {
                    let idx = p
                        .source
                        .columns
                        .iter()
                        .position(|c| c.name == r.column)
                        .expect("checked");
                    let samples = sample_values(&src, &p.source.name, &p.read, idx).await?;
                    let rule = self.plugin(&r.rule, Kind::Rewrite).await?;
                    let outcomes = rule.plugin.lock().await.rewrite(&samples).await?;
                    for (before, o) in samples.iter().zip(outcomes) {
                        let (after, rejected) = match o {
                            Outcome::Unchanged => (excerpt(before), false),
                            Outcome::Replaced(v) => (excerpt(&v), false),
                            Outcome::Rejected(reason) => (
                                serde_json::Value::String(crate::text::plugin_text(
                                    &reason,
                                    crate::text::MAX_TERMINAL_CELL,
                                )),
                                true,
                            ),
                        };
                        rewrites.push(SampleRewrite {
                            column: format!("{}.{}", r.table, r.column),
                            rule: r.rule.clone(),
                            before: excerpt(before),
                            after,
                            rejected,
                        });
                    }
                }
                let mut mapping = p.mapping.notes.clone();
                mapping.extend(sample_fills(&src, &p).await?);
                // A write plan naming a connection the plugin was not
                // granted fails the plan (it would fail the run).
                let (target_connection, write, notes) = match &p.batches {
                    None => (
                        tgt.connection(&p.write.connection)?.name().to_owned(),
                        "sql".to_owned(),
                        Vec::new(),
                    ),
                    Some(b) => (
                        String::new(),
                        "plugin batches".to_owned(),
                        b.notes
                            .iter()
                            .take(MAX_PLAN_NOTES)
                            .map(|n| crate::text::plugin_text(n, crate::text::MAX_PLUGIN_TEXT))
                            .collect(),
                    ),
                };
                tables.push(PlannedTable {
                    source: p.source.name.clone(),
                    target: p.target.name.clone(),
                    columns: p.write.columns.clone(),
                    rows,
                    rows_estimated,
                    read: match &p.read {
                        ReadPlan::Sql(r) => format!("sql: {}", r.statement),
                        ReadPlan::Batches => "plugin batches".into(),
                    },
                    target_connection,
                    write,
                    notes,
                    pre: p.write.pre,
                    post: p.write.post,
                    constraints: p.write.constraints,
                    upsert_key: p.write.upsert_key,
                    rewrites,
                    mapping,
                    types: p.types.clone().unwrap_or_default(),
                });
            }
            steps.push(PlannedStep {
                name: step.name.clone(),
                source: step.source.clone(),
                target: step.target.clone(),
                mode: step.mode,
                tables,
                cycles_broken_at: broken,
                skipped_views: views,
                skipped_triggers,
                excluded_tables,
                dropped_columns,
            });
        }
        if !problems.is_empty() {
            return Err(crate::error::Error::project(problems.join("\n")));
        }
        let mut validators = Vec::new();
        for v in &self.project.validators {
            // Instantiating shows grants and catches misconfiguration early;
            // validators are not run by `plan`.
            self.plugin(&v.plugin, Kind::Validator).await?;
            validators.push(PlannedValidator {
                plugin: v.plugin.clone(),
                step: v.step.clone().unwrap_or_else(|| "all".into()),
                when: v.when,
            });
        }
        Ok(Plan {
            project: self.project.name.clone(),
            copies,
            steps,
            validators,
            plugins: self.plugin_reports().await,
        })
    }
}

/// Counts the rows of a read statement (read-only); `None` if that fails.
async fn count(src: &super::Loaded, label: &str, statement: &str, params: &[Value]) -> Option<u64> {
    /// A plan must stay quick: give up on counting after this long.
    const COUNT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
    let db = src.connection(label).ok()?.get().await.ok()?;
    let fut = async {
        let mut s = db
            .query_read_only(
                &format!("SELECT count(*) FROM ({statement}) AS godwit_count"),
                params.to_vec(),
            )
            .await?;
        s.next_rows(1, 1024).await
    };
    match tokio::time::timeout(COUNT_TIMEOUT, fut).await {
        Ok(Ok(Some(rows))) => match rows.first().and_then(|r| r.first()) {
            Some(Value::Int(n)) => u64::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// The fills that read columns, tried on the first [`SAMPLE_SCAN_ROWS`]
/// rows with the casts to their target columns: a line per fill that fails
/// on some (those rows would be rejected by `run`).
async fn sample_fills(
    src: &std::sync::Arc<super::Loaded>,
    p: &super::run::TablePlan,
) -> Result<Vec<String>> {
    use super::fill::FillKind;
    let fills = &p.mapping.fills;
    if !fills
        .list
        .iter()
        .any(|f| matches!(f.kind, FillKind::Expr(_)))
    {
        return Ok(Vec::new());
    }
    let width = p.source.columns.len();
    let mut source = RowSource::open(src, &p.source.name, &p.read).await?;
    // Per fill: rows tried, rows failing, the first reasons.
    let mut failing: Vec<(u64, Vec<String>)> = vec![(0, Vec::new()); fills.list.len()];
    let mut scanned = 0;
    while scanned < SAMPLE_SCAN_ROWS {
        let Some((rows, _)) = source.next(100).await? else {
            break;
        };
        for mut row in rows {
            scanned += 1;
            let mut fail = |k: usize, why: String| {
                failing[k].0 += 1;
                if failing[k].1.len() < REWRITE_SAMPLES {
                    failing[k].1.push(format!("row {scanned}: {why}"));
                }
            };
            match fills.apply(&mut row) {
                Err((k, why)) => fail(k, why),
                Ok(()) => {
                    for (k, v) in row.drain(width..).enumerate() {
                        let cast = p.mapping.casts.iter().find(|(i, _)| *i == width + k);
                        if let Some((_, to)) = cast {
                            if let Err(why) =
                                super::cast::convert(v, *to, crate::project::CastFrom::Auto, 0)
                            {
                                fail(k, why);
                            }
                        }
                    }
                }
            }
        }
    }
    source.close().await;
    Ok(fills
        .list
        .iter()
        .zip(failing)
        .filter(|(_, (n, _))| *n > 0)
        .map(|(f, (n, examples))| {
            format!(
                "warning: fill {}.{} = {}: {n} of the first {scanned} rows would be rejected \
                 (stage fill/cast); {}",
                p.source.name,
                f.column,
                f.text,
                examples.join("; ")
            )
        })
        .collect())
}

/// Up to [`REWRITE_SAMPLES`] distinct non-NULL values of a column.
async fn sample_values(
    src: &std::sync::Arc<super::Loaded>,
    table: &str,
    read: &ReadPlan,
    idx: usize,
) -> Result<Vec<Value>> {
    let mut source = RowSource::open(src, table, read).await?;
    let mut out: Vec<Value> = Vec::new();
    let mut scanned = 0;
    while out.len() < REWRITE_SAMPLES && scanned < SAMPLE_SCAN_ROWS {
        let Some((rows, _)) = source.next(100).await? else {
            break;
        };
        scanned += rows.len();
        for r in rows {
            let v = r[idx].clone();
            if !matches!(v, Value::Null) && !out.contains(&v) && out.len() < REWRITE_SAMPLES {
                out.push(v);
            }
        }
    }
    source.close().await;
    Ok(out)
}

/// A validator `run` would call, and when.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedValidator {
    /// Plugin instance.
    pub plugin: String,
    /// The step whose tables it checks, or `all`.
    pub step: String,
    /// `before` (nothing written yet) or `after`.
    pub when: crate::project::ValidatorPhase,
}
