//! `godwit run`: DDL, then data, then post-data statements, then validation.
//!
//! Per step: every table's `pre` statements run first, children before
//! parents (so `replace` can drop tables that others reference); then the data
//! loads parents first, one transaction per table; then indexes and other
//! `post` statements. Rows stream from the source query to the target loader
//! in bounded batches; only columns bound to a rewrite rule enter Wasm.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;

use super::order::load_order;
use super::report::{RunReport, Skipped, StepReport, TableReport};
use super::sink::{PluginWriter, Sink};
use super::stages::{
    FillStage, LengthLimits, Prepared, Project, RowKeys, Shape, TableStages, TypeFits, ZeroDates,
};
use super::state::{Progress, StepState};
use super::{select_tables, Loaded, Session};
use crate::caps::sql::{Database, RowStream};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Dialect;
use crate::model::ReadPlan;
use crate::model::{self as wit, SqlWritePlan as WritePlan, Staging};
use crate::model::{LogicalType, TableDef, Value};
use crate::project::{
    IdentifierCase, OrphanPolicy, Step, TypePolicy, ValidatorPhase, WriteMode, ZeroDatePolicy,
};
use crate::runtime::Kind;
use crate::value::{excerpt, row_size};

/// Rows per batch when the step does not say. Each batch costs a few round
/// trips to the target (PostgreSQL: a savepoint, a COPY, a release) and one
/// Wasm crossing per rewrite rule; at 1,000 rows those round trips left the
/// server idle a quarter of the time (1 M rows: 3.5 s against 2.6 s at
/// 10,000). A batch of 10,000 narrow rows is a few MiB; wide rows are
/// bounded by [`BATCH_BYTES`] instead.
pub const DEFAULT_BATCH_ROWS: usize = 10_000;
/// Bytes per batch: caps memory for tables with large cells (1 MiB texts).
pub const BATCH_BYTES: usize = 8 << 20;
/// Prepared batches waiting for the target: two keep the load stage busy
/// while the next is prepared; memory stays a few batches.
pub const LOAD_QUEUE_BATCHES: usize = 2;

pub(crate) fn wit_mode(m: WriteMode) -> wit::WriteMode {
    match m {
        WriteMode::Create => wit::WriteMode::Create,
        WriteMode::Replace => wit::WriteMode::Replace,
        WriteMode::Truncate => wit::WriteMode::Truncate,
        WriteMode::Append => wit::WriteMode::Append,
        WriteMode::Upsert => wit::WriteMode::Upsert,
    }
}

/// The target table definition: the source's, renamed as configured.
pub(crate) fn target_def(step: &Step, t: &TableDef) -> TableDef {
    let mut def = t.clone();
    let rename = |n: &str| step.rename.get(n).cloned().unwrap_or_else(|| n.to_owned());
    def.name = rename(&t.name);
    for f in &mut def.foreign_keys {
        f.ref_table = rename(&f.ref_table);
        if step.orphans == OrphanPolicy::Keep {
            // Added without checking the rows (PostgreSQL `NOT VALID`),
            // validated afterwards where they allow it.
            f.validated = false;
        }
    }
    if step.identifiers == IdentifierCase::Lower {
        fold_identifiers(&mut def);
    }
    if step.zero_dates == ZeroDatePolicy::Null && t.native_dialect == "mysql" {
        // Zero dates load as NULL: the columns that may hold them must
        // allow it.
        for c in &mut def.columns {
            if matches!(
                c.logical,
                LogicalType::Date | LogicalType::Timestamp | LogicalType::Timestamptz
            ) {
                c.nullable = true;
            }
        }
    }
    for c in &mut def.columns {
        if let Some(rule) = step
            .casts
            .iter()
            .find(|r| r.applies(&t.name, &c.name, &c.native_type))
        {
            c.logical = super::cast::logical(rule.to);
            c.native_type = super::cast::native_type(rule.to, &t.native_dialect);
            // A default written for the old type may not fit the new one.
            c.default = None;
        }
    }
    def
}

/// The two rounds of statements after the data.
#[derive(Clone, Copy)]
enum Phase {
    /// Each table's keys and indexes.
    Post,
    /// Constraints between tables, once every table has its keys.
    Constraints,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Post => "post",
            Phase::Constraints => "constraints",
        }
    }

    /// The kill point after a statement ran, before it is recorded.
    fn ran_name(self) -> &'static str {
        match self {
            Phase::Post => "post-ran",
            Phase::Constraints => "constraints-ran",
        }
    }
}

/// A post-data statement that failed because its object exists: after an
/// interruption, the statement that ran just before the kill.
fn done_before_kill(e: &Error) -> bool {
    crate::caps::sql::already_exists(e)
}

/// Whether a table's `pre` statements run inside its load transaction:
/// where DDL is transactional (SQLite, PostgreSQL). MySQL commits DDL
/// implicitly, so its `pre` run first and a failed run drops the tables it
/// created.
fn ddl_in_load(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Sqlite | Dialect::Postgres)
}

use crate::text::first_line;

/// Lower-cases every name in a table definition (tables, columns, keys,
/// constraints, indexes). Expressions are left alone; index definitions in
/// the source dialect are dropped so the index is rebuilt from its columns.
fn fold_identifiers(def: &mut TableDef) {
    let low = |v: &mut String| *v = v.to_lowercase();
    let all = |v: &mut Vec<String>| v.iter_mut().for_each(|x| *x = x.to_lowercase());
    low(&mut def.name);
    def.columns.iter_mut().for_each(|c| low(&mut c.name));
    all(&mut def.primary_key);
    for u in &mut def.uniques {
        all(&mut u.columns);
        u.name.iter_mut().for_each(low);
    }
    for c in &mut def.checks {
        c.name.iter_mut().for_each(low);
    }
    for f in &mut def.foreign_keys {
        all(&mut f.columns);
        all(&mut f.ref_columns);
        low(&mut f.ref_table);
        f.name.iter_mut().for_each(low);
    }
    for i in &mut def.indexes {
        low(&mut i.name);
        all(&mut i.columns);
        if !i.columns.is_empty() {
            i.definition = None;
        }
    }
}

/// `table.trigger` for every trigger of the planned tables (reported, not copied).
pub(crate) fn triggers_of(plans: &[TablePlan]) -> Vec<String> {
    plans
        .iter()
        .flat_map(|p| {
            p.source
                .triggers
                .iter()
                .map(move |t| format!("{}.{t}", p.source.name))
        })
        .collect()
}

/// Everything needed to copy one table.
pub(crate) struct TablePlan {
    pub source: TableDef,
    pub target: TableDef,
    pub read: ReadPlan,
    /// The SQL the host runs and the table it loads. For a table the
    /// target writes itself (`batches`) only `table` (its name),
    /// `columns`, `existing` and `upsert_key` (the plan's `key`) are set.
    pub write: WritePlan,
    /// Set when the target writes the table itself, through its
    /// `table-writer` (contract 0.3): the plugin's plan.
    pub batches: Option<wit::BatchWritePlan>,
    /// The mode the target planned the table for.
    pub mode: WriteMode,
    /// How source columns land in the target (all of them, unless the table exists).
    pub mapping: super::mapping::ColumnMapping,
    /// `replace` of an existing PostgreSQL or MySQL table: the rows are
    /// loaded into a staging table beside it, swapped in only when every table of the
    /// step loaded (see [`Staging`]).
    pub staging: Option<Staging>,
    /// The table's `pre` creates it (mode `create`, or `replace` of a table
    /// that does not exist yet): a failed run removes it again.
    pub creates: bool,
    /// For sources that type values per row (SQLite): how each column's
    /// type was decided from its declaration and its data (empty with
    /// `types = "declared"`); `None` for statically typed sources. When
    /// set, every value is checked against its column's type at load.
    pub types: Option<Vec<super::profile::ColumnType>>,
}

/// Gives every index a name no other index or table of the step has: an
/// index whose name is taken (MySQL names indexes per table; PostgreSQL and
/// SQLite per schema, shared with tables) becomes `<table>_<index>` (cut to
/// 63 bytes, with a counter while still taken). Returns what was renamed.
fn rename_colliding_indexes(tables: &mut [&mut TableDef]) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for t in tables.iter() {
        *uses.entry(t.name.to_lowercase()).or_default() += 1;
        for i in &t.indexes {
            *uses.entry(i.name.to_lowercase()).or_default() += 1;
        }
    }
    let mut taken: BTreeSet<String> = uses.keys().cloned().collect();
    let mut notes = Vec::new();
    for t in tables.iter_mut() {
        let table = t.name.clone();
        for i in &mut t.indexes {
            if uses.get(&i.name.to_lowercase()).copied().unwrap_or(0) < 2 {
                continue;
            }
            let base = format!("{table}_{}", i.name);
            let mut name = cut_identifier(&base, "");
            let mut n = 2;
            while taken.contains(&name.to_lowercase()) {
                name = cut_identifier(&base, &format!("_{n}"));
                n += 1;
            }
            taken.insert(name.to_lowercase());
            notes.push(format!(
                "index {} of table {table} is renamed {name}: its name is also used by another \
                 index or table, and the target names indexes per schema",
                i.name
            ));
            i.name = name;
            // Rebuilt from the columns under the new name.
            if !i.columns.is_empty() {
                i.definition = None;
            }
        }
    }
    notes
}

/// `base` + `suffix`, with `base` cut (at a character boundary) so the
/// whole fits PostgreSQL's 63-byte identifiers.
fn cut_identifier(base: &str, suffix: &str) -> String {
    let room = 63 - suffix.len();
    let mut cut = base.len().min(room);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &base[..cut])
}

/// Decides the types of a SQLite-read table's columns from their
/// declarations and what they hold (see `engine::profile`), changing
/// `source`'s logical types where the data needs another; returns how each
/// was decided. Other sources type their columns statically: unchanged.
async fn refine_types(
    src: &Loaded,
    step: &Step,
    source: &mut TableDef,
    read: &ReadPlan,
) -> Result<Option<Vec<super::profile::ColumnType>>> {
    let ReadPlan::Sql(r) = read else {
        return Ok(None);
    };
    let lazy = src.connection(&r.connection)?;
    if lazy.dialect() != Some(Dialect::Sqlite) {
        return Ok(None);
    }
    if step.types == TypePolicy::Declared {
        return Ok(Some(Vec::new()));
    }
    let db = lazy.get().await?;
    let observed = super::profile::observe(&db, &r.statement, &r.params, &source.columns)
        .await
        .map_err(|e| {
            e.context(format!(
                "step {}: reading what the columns of {} hold",
                step.name, source.name
            ))
        })?;
    let mut out = Vec::with_capacity(observed.len());
    for (col, o) in source.columns.iter_mut().zip(&observed) {
        if step
            .casts
            .iter()
            .any(|c| c.applies(&source.name, &col.name, &col.native_type))
        {
            // The cast rule decides the type and reads the values.
            out.push(super::profile::ColumnType {
                column: col.name.clone(),
                declared: col.native_type.clone(),
                observed: o.summary(),
                chosen: "(cast rule)".into(),
                why: Some("a cast rule of the step applies".into()),
                warning: false,
            });
            continue;
        }
        let (chosen, info) = super::profile::decide(col, o);
        if info.warning {
            tracing::warn!(step = %step.name, table = %source.name, column = %col.name, declared = %col.native_type, observed = %info.observed, chosen = %info.chosen, "{}", info.why.clone().unwrap_or_default());
        }
        col.logical = chosen;
        out.push(info);
    }
    // SQLite allows NULLs in a primary key that is not the rowid. No other
    // database does: such a key becomes a UNIQUE constraint (NULLs stay
    // distinct, as they were) and its columns nullable, said in the plan.
    let null_keys: Vec<(usize, u64)> = source
        .primary_key
        .iter()
        .filter_map(|k| source.columns.iter().position(|c| &c.name == k))
        .filter_map(|i| observed.get(i).map(|o| (i, o.null)))
        .filter(|(_, n)| *n > 0)
        .collect();
    if !null_keys.is_empty() {
        let key = std::mem::take(&mut source.primary_key);
        for (i, nulls) in &null_keys {
            source.columns[*i].nullable = true;
            if let Some(info) = out.get_mut(*i) {
                info.warning = true;
                let note = format!(
                    "part of the primary key ({}) and holds {nulls} NULL{}, which SQLite allows \
                     and other databases do not: the key is created as a UNIQUE constraint",
                    key.join(", "),
                    if *nulls == 1 { "" } else { "s" }
                );
                info.why = Some(match info.why.take() {
                    Some(w) => format!("{w}; {note}"),
                    None => note,
                });
                tracing::warn!(step = %step.name, table = %source.name, column = %source.columns[*i].name, "{}", info.why.clone().unwrap_or_default());
            }
        }
        source.uniques.insert(
            0,
            crate::model::UniqueConstraint {
                name: None,
                columns: key,
            },
        );
    }
    Ok(Some(out))
}

/// The table as it stands once the step's tables are swapped in: the
/// final table of one built beside, else the one written.
fn final_table(p: &TablePlan) -> &str {
    p.staging
        .as_ref()
        .map_or(p.write.table.as_str(), |s| s.final_table.as_str())
}

/// The part of a SQL plan a table the target writes itself shares: the
/// columns, the existing table's columns (for the mapping) and the key.
fn batch_stand_in(target: &TableDef, b: &wit::BatchWritePlan) -> WritePlan {
    WritePlan {
        connection: String::new(),
        pre: Vec::new(),
        table: target.name.clone(),
        columns: b.columns.clone(),
        post: Vec::new(),
        constraints: Vec::new(),
        upsert_key: b.key.clone(),
        existing: b.existing.clone(),
    }
}

/// Lines a target's `finish` may add to the report (the rest are dropped).
const MAX_FINISH_LINES: usize = 100;

/// Where `copy_table` sends a table's rows.
pub(crate) enum Dest {
    /// The host loads them into this database (plan `sql`).
    Sql(Arc<Database>),
    /// The target plugin writes them (plan `batches`).
    Plugin(Arc<Loaded>),
}

/// What the step's target can do: its own `traits` (contract 0.3), or for
/// a 0.2 target what its connections' dialects allow (the strictest of
/// them). The engine decides from these, not from the target's name.
pub(crate) async fn target_traits(
    tgt: &Arc<Loaded>,
    plans: &[TablePlan],
) -> Result<wit::TargetTraits> {
    if let Some(t) = tgt.plugin.lock().await.traits().await? {
        return Ok(t);
    }
    let mut traits = wit::TargetTraits {
        transactional: true,
        parallel_tables: true,
        upsert: true,
        idempotent_by_key: false,
    };
    for p in plans.iter().filter(|p| p.batches.is_none()) {
        let t = wit::TargetTraits::of_dialect(
            tgt.connection(&p.write.connection)?.get().await?.dialect,
        );
        traits.transactional &= t.transactional;
        traits.parallel_tables &= t.parallel_tables;
        traits.upsert &= t.upsert;
    }
    Ok(traits)
}

/// Suffix of staging tables (`<table>__gw_new`).
pub const STAGING_SUFFIX: &str = "__gw_new";

/// The staging name of `table`, within PostgreSQL's 63-byte identifiers.
fn staging_name(table: &str) -> String {
    cut_identifier(table, STAGING_SUFFIX)
}

/// Asks the plugins for the read and write plans of a step's tables, in load order.
pub(crate) async fn plan_step(session: &Session, step: &Step) -> Result<StepPlan> {
    let src = session.plugin(&step.source, Kind::Source).await?;
    let tgt = session.plugin(&step.target, Kind::Target).await?;
    // A mode the target's traits rule out is refused before any table is
    // planned (a 0.2 target's traits come from its dialect, which upserts).
    if step.mode == WriteMode::Upsert {
        if let Some(t) = tgt.plugin.lock().await.traits().await? {
            if !t.upsert {
                return Err(Error::project(format!(
                    "step {}: mode = \"upsert\" needs a target that can upsert, and {} does not \
                     (its traits: {}); use mode \"replace\", \"truncate\" or \"create\", or \
                     a target that upserts",
                    step.name,
                    step.target,
                    match t.names().join(", ") {
                        n if n.is_empty() => "none".to_owned(),
                        n => n,
                    }
                )));
            }
        }
    }
    // Resuming a `create` step: the tables not yet loaded may have been
    // created by the interrupted run (their loads rolled back, so they are
    // empty): they are planned as `replace`; loaded tables keep their rows
    // (their DDL is not run again).
    let resuming = StepState::load(
        &session.project.state_dir,
        &step.name,
        &session.project.fingerprint,
        session.fresh,
    )
    .resumed();
    let mode = if resuming && step.mode == WriteMode::Create {
        WriteMode::Replace
    } else {
        step.mode
    };
    // Tables an earlier run of another version of the project file loaded
    // (its progress no longer applies): godwit created them, so `create`
    // loads them again as `replace` instead of failing on them.
    let stale = if step.mode == WriteMode::Create && !session.fresh {
        StepState::stale_tables(
            &session.project.state_dir,
            &step.name,
            &session.project.fingerprint,
        )
    } else {
        Vec::new()
    };
    let discovered = src.plugin.lock().await.discover().await?;
    // Triggers on views (INSTEAD OF) are reported with the tables' own.
    let view_triggers: Vec<String> = discovered
        .iter()
        .filter(|t| t.is_view)
        .flat_map(|t| t.triggers.iter().map(move |tr| format!("{}.{tr}", t.name)))
        .collect();
    let excluded: Vec<Skipped> = discovered
        .iter()
        .filter(|t| !t.is_view)
        .filter(|t| {
            step.exclude.contains(&t.name)
                || step.tables.as_ref().is_some_and(|l| !l.contains(&t.name))
        })
        .map(|t| Skipped {
            name: t.name.clone(),
            reason: if step.exclude.contains(&t.name) {
                step.reasons
                    .get(&t.name)
                    .cloned()
                    .unwrap_or_else(|| "exclude".to_owned())
            } else {
                "not listed in tables".to_owned()
            },
        })
        .collect();
    let (tables, views) = select_tables(step, discovered)?;
    let (order, broken) = load_order(&tables);
    let mut reads = Vec::with_capacity(tables.len());
    for i in order {
        let source = tables[i].clone();
        let read = src.plugin.lock().await.plan_read(&source.name).await?;
        reads.push((source, read));
    }
    // What each table holds is counted `workers` tables at a time (each
    // count is one scan inside the source database), in load order.
    let src_ref = &src;
    // A SQLite target stores any value in any column, as the source did:
    // nothing to decide, and nothing to convert.
    let target_dialects = tgt.dialects();
    let typed_target =
        target_dialects.is_empty() || target_dialects.iter().any(|d| *d != Dialect::Sqlite);
    let prepared: Vec<_> =
        futures::stream::iter(reads.into_iter().map(|(mut source, read)| async move {
            let types = if typed_target {
                refine_types(src_ref, step, &mut source, &read).await?
            } else {
                None
            };
            let target = target_def(step, &source);
            Ok::<_, Error>((source, read, types, target))
        }))
        .buffered(step.workers.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let mut prepared = prepared;
    // Index names are per table in MySQL but per schema (with the tables)
    // in PostgreSQL and per database in SQLite.
    let per_table_index_names = tgt.dialects().iter().all(|d| *d == Dialect::Mysql);
    if !per_table_index_names {
        let mut targets: Vec<&mut TableDef> = prepared.iter_mut().map(|p| &mut p.3).collect();
        for note in rename_colliding_indexes(&mut targets) {
            tracing::warn!(step = %step.name, "{note}");
        }
    }
    let mut plans = Vec::with_capacity(prepared.len());
    // Tables that do not fit their existing target: every one is reported.
    let mut misfits = Vec::new();
    for (source, read, types, target) in prepared {
        let mode = if stale.contains(&source.name) {
            tracing::warn!(step = %step.name, table = %target.name, "loaded by an earlier run of another version of the project file: loaded again (replace)");
            WriteMode::Replace
        } else {
            mode
        };
        let planned = tgt
            .plugin
            .lock()
            .await
            .plan_write(&target, wit_mode(mode))
            .await
            .map_err(|e| {
                if mode == WriteMode::Create && e.message.contains("already exists") {
                    let progress = StepState::ignored_because(
                        &session.project.state_dir,
                        &step.name,
                        &session.project.fingerprint,
                    )
                    .unwrap_or_else(|| "no saved progress of an interrupted run".to_owned());
                    e.context(format!("step {}", step.name))
                        .context_after(format!(
                            "{progress}. Ways out: mode = \"replace\" (the table is dropped and \
                         loaded again), or drop the table by hand; a run of the same project \
                         file resumes by itself"
                        ))
                } else {
                    e
                }
            })?;
        let (mut write, batches) = match planned {
            wit::WritePlan::Sql(w) => (w, None),
            wit::WritePlan::Batches(b) => (batch_stand_in(&target, &b), Some(b)),
        };
        let mut staging = None;
        // Known from the DSN: a SQLite target (never built beside) is not
        // opened here, so `plan` does not need its file to exist. A target
        // writing its tables itself replaces them as it sees fit.
        let beside_ok = batches.is_none()
            && matches!(
                tgt.connection(&write.connection)?.dialect(),
                Some(Dialect::Postgres | Dialect::Mysql)
            );
        if mode == WriteMode::Replace && beside_ok {
            let db = tgt.connection(&write.connection)?.get().await?;
            if db.relation_exists(&write.table, &target.name).await? {
                let mut def = target.clone();
                def.name = staging_name(&target.name);
                let wit::WritePlan::Sql(beside) = tgt
                    .plugin
                    .lock()
                    .await
                    .plan_write(&def, wit_mode(WriteMode::Replace))
                    .await?
                else {
                    return Err(Error::new(
                        ErrorKind::PluginError,
                        format!(
                            "plugin {}: planned {} as SQL but its staging table {} as batches",
                            step.target, target.name, def.name
                        ),
                    ));
                };
                staging = Some(Staging {
                    name: def.name.clone(),
                    table: beside.table.clone(),
                    final_table: write.table.clone(),
                    final_name: target.name.clone(),
                });
                // Built and loaded beside; keys, indexes and constraints
                // are made on the final table after the swap.
                write.pre = beside.pre;
                write.table = beside.table;
            }
        }
        let mapping = match &write.existing {
            Some(existing) => {
                match super::mapping::map_columns(
                    step,
                    &source,
                    &target.name,
                    existing,
                    session.started_us,
                ) {
                    Ok(m) => {
                        write.columns = m.targets.clone();
                        m
                    }
                    Err(e) => {
                        misfits.push(e.message);
                        continue;
                    }
                }
            }
            None => {
                // These options shape a load into a table that exists; a
                // table godwit creates takes the source's columns as they are.
                let of_table =
                    |k: &String| k.split_once('.').is_some_and(|(t, _)| t == source.name);
                let misused: Vec<&str> = [
                    ("fill", step.fills.keys().any(of_table)),
                    ("drop_columns", step.drop_columns.iter().any(of_table)),
                    ("columns", step.column_renames.keys().any(of_table)),
                    (
                        "a rewrite with into",
                        step.rewrites
                            .iter()
                            .any(|r| r.table == source.name && r.into.is_some()),
                    ),
                ]
                .into_iter()
                .filter_map(|(o, used)| used.then_some(o))
                .collect();
                if !misused.is_empty() {
                    misfits.push(format!(
                        "step {}: table {}: {} shape(s) the load into a table that exists, and the \
                         target table {} does not exist yet (godwit would create it from the \
                         source's columns). Create it first (the application's migrations), or \
                         leave these options out for it",
                        step.name,
                        source.name,
                        misused.join(", "),
                        target.name
                    ));
                    continue;
                }
                super::mapping::ColumnMapping::identity(&source)
            }
        };
        if write.existing.is_none() && write.columns.len() != source.columns.len() {
            return Err(Error::new(
                ErrorKind::PluginError,
                format!(
                    "plugin {}: write plan for {} names {} columns, the source has {}",
                    step.target,
                    target.name,
                    write.columns.len(),
                    source.columns.len()
                ),
            ));
        }
        plans.push(TablePlan {
            source,
            target,
            read,
            write,
            batches,
            mode,
            mapping,
            staging,
            creates: matches!(mode, WriteMode::Create | WriteMode::Replace),
            types,
        });
    }
    if !misfits.is_empty() {
        return Err(Error::project(misfits.join("\n")));
    }
    // A table waits for the tables it references — by the source's
    // foreign keys and, for a table that exists already (an application's
    // own schema, whose keys are enforced during the load), by the
    // target's — to finish loading: a child loaded before its parent would
    // have its rows refused. The plan lists tables in that order.
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); plans.len()];
    for (i, p) in plans.iter().enumerate() {
        let mut parents: Vec<usize> = p
            .source
            .foreign_keys
            .iter()
            .filter_map(|f| plans.iter().position(|q| q.source.name == f.ref_table))
            .collect();
        if p.write.existing.is_some() && p.batches.is_none() {
            let db = tgt.connection(&p.write.connection)?.get().await?;
            for t in db.referenced_tables(&p.write.table, &p.target.name).await? {
                parents.extend(plans.iter().position(|q| q.target.name == t));
            }
        }
        parents.retain(|&j| j != i);
        parents.sort_unstable();
        parents.dedup();
        deps[i] = parents;
    }
    // Parents first, otherwise the order so far (the source's order with
    // its cycles broken); a cycle of the target's keys starts at the first
    // table still waiting.
    let mut order: Vec<usize> = Vec::with_capacity(plans.len());
    let mut placed = vec![false; plans.len()];
    let mut broken = broken;
    while order.len() < plans.len() {
        let next = (0..plans.len())
            .find(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]))
            .unwrap_or_else(|| {
                let i = (0..plans.len()).find(|&i| !placed[i]).expect("one is left");
                if !broken.contains(&plans[i].source.name) {
                    broken.push(plans[i].source.name.clone());
                }
                i
            });
        placed[next] = true;
        order.push(next);
    }
    let position: Vec<usize> = {
        let mut at = vec![0; plans.len()];
        for (k, &i) in order.iter().enumerate() {
            at[i] = k;
        }
        at
    };
    let deps: Vec<Vec<usize>> = order
        .iter()
        .map(|&i| deps[i].iter().map(|&d| position[d]).collect())
        .collect();
    let mut slots: Vec<Option<TablePlan>> = plans.into_iter().map(Some).collect();
    let plans: Vec<TablePlan> = order
        .iter()
        .map(|&i| slots[i].take().expect("each once"))
        .collect();
    Ok(StepPlan {
        tables: plans,
        views,
        broken,
        view_triggers,
        excluded,
        deps,
    })
}

/// A step's tables as planned, and what it leaves out.
pub(crate) struct StepPlan {
    /// Tables in load order.
    pub tables: Vec<TablePlan>,
    /// Views found, not copied.
    pub views: Vec<String>,
    /// Tables loaded before a parent to break a cycle.
    pub broken: Vec<String>,
    /// Triggers on views.
    pub view_triggers: Vec<String>,
    /// Source tables left out, with the reason.
    pub excluded: Vec<Skipped>,
    /// Per table (index into `tables`), the tables it waits for.
    pub deps: Vec<Vec<usize>>,
}

impl StepPlan {
    /// Source columns not loaded, over all tables.
    pub fn dropped_columns(&self) -> Vec<Skipped> {
        self.tables
            .iter()
            .flat_map(|p| &p.mapping.dropped)
            .map(|(name, reason)| Skipped {
                name: name.clone(),
                reason: reason.clone(),
            })
            .collect()
    }
}

/// Rows coming from a source, whichever way it reads.
pub(crate) enum RowSource {
    Sql(RowStream),
    Plugin(Arc<Loaded>, wasmtime::component::ResourceAny),
}

impl RowSource {
    pub(crate) async fn open(src: &Arc<Loaded>, table: &str, read: &ReadPlan) -> Result<Self> {
        match read {
            ReadPlan::Sql(r) => {
                let db = src.connection(&r.connection)?.get().await?;
                Ok(RowSource::Sql(
                    db.query_read_only(&r.statement, r.params.clone()).await?,
                ))
            }
            ReadPlan::Batches => {
                let reader = src.plugin.lock().await.open_reader(table).await?;
                Ok(RowSource::Plugin(src.clone(), reader))
            }
        }
    }

    /// The next batch and its approximate size in bytes.
    pub(crate) async fn next(&mut self, rows: usize) -> Result<Option<(Vec<Vec<Value>>, usize)>> {
        match self {
            RowSource::Sql(s) => s.next_rows_sized(rows, BATCH_BYTES).await,
            RowSource::Plugin(p, reader) => {
                let mut guard = p.plugin.lock().await;
                let batch = guard.reader_next(*reader, rows as u32).await?;
                match batch {
                    None => Ok(None),
                    Some(b) => crate::value::batch_to_rows(b)
                        .map(|rows| {
                            let bytes = rows.iter().map(|r| row_size(r)).sum();
                            Some((rows, bytes))
                        })
                        .map_err(|m| {
                            Error::new(
                                ErrorKind::PluginError,
                                format!("plugin {}: malformed batch: {m}", guard.name),
                            )
                        }),
                }
            }
        }
    }

    pub(crate) async fn close(self) {
        if let RowSource::Plugin(p, reader) = self {
            p.plugin.lock().await.drop_resource(reader).await;
        }
    }
}

/// Writes rejected rows as JSON lines, creating the file on the first one.
/// Shared by the tables a step loads in parallel.
pub(crate) struct Rejects {
    pub(crate) path: std::path::PathBuf,
    inner: std::sync::Mutex<RejectFile>,
}

#[derive(Default)]
struct RejectFile {
    file: Option<std::io::BufWriter<std::fs::File>>,
    count: u64,
    /// Records per (step, table, stage), for the tables' reports.
    by_stage: std::collections::BTreeMap<(String, String, String), u64>,
}

impl Rejects {
    fn new(path: std::path::PathBuf) -> Self {
        Self {
            path,
            inner: Default::default(),
        }
    }

    pub(crate) fn write(&self, record: serde_json::Value) -> Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.file.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
            }
            let f = std::fs::File::create(&self.path)
                .map_err(|e| Error::io(format!("{}: {e}", self.path.display())))?;
            inner.file = Some(std::io::BufWriter::new(f));
        }
        let f = inner.file.as_mut().expect("opened above");
        serde_json::to_writer(&mut *f, &record).map_err(|e| Error::io(e.to_string()))?;
        f.write_all(b"\n").map_err(|e| Error::io(e.to_string()))?;
        inner.count += 1;
        let field = |k: &str| record[k].as_str().unwrap_or_default().to_owned();
        *inner
            .by_stage
            .entry((field("step"), field("table"), field("stage")))
            .or_default() += 1;
        Ok(())
    }

    /// The records written for one table of one step, by stage.
    pub(crate) fn stages(
        &self,
        step: &str,
        table: &str,
    ) -> std::collections::BTreeMap<String, u64> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .by_stage
            .iter()
            .filter(|((s, t, _), _)| s == step && t == table)
            .map(|((_, _, stage), n)| (stage.clone(), *n))
            .collect()
    }

    fn count(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).count
    }

    fn finish(&self) -> Result<()> {
        if let Some(f) = self
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .file
            .as_mut()
        {
            f.flush().map_err(|e| Error::io(e.to_string()))?;
        }
        Ok(())
    }
}

/// A sortable, filesystem-safe id for this run (UTC time).
pub(crate) fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ts = crate::value::format_timestamp(now.as_micros() as i64);
    ts.replace(['-', ':'], "")
        .replace(' ', "T")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned()
        + "Z"
}

impl Session {
    /// Runs every step, then the validators.
    pub async fn run(&self) -> Result<RunReport> {
        if self.dry_run {
            return Err(Error::internal("run called on a dry-run session"));
        }
        self.preflight().await?;
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let rejects = Rejects::new(self.run_dir.join("rejects.jsonl"));
        // Checks before writing: with `--strict`, an error among them stops
        // the run before anything is written.
        let before = self
            .validate_all(Some(ValidatorPhase::Before), None)
            .await?;
        if self.project.strict && !before.passed {
            let failing: Vec<String> = before
                .findings
                .iter()
                .filter(|f| f.severity == "error")
                .take(5)
                .map(|f| format!("{} {}: {}", f.validator, f.subject, f.message))
                .collect();
            let n = before
                .findings
                .iter()
                .filter(|f| f.severity == "error")
                .count();
            return Err(Error::new(
                ErrorKind::Rejected,
                format!(
                    "the checks before writing found {n} error(s), and --strict refuses to \
                     write; nothing was written. Run `godwit validate --before` for every \
                     finding. First: {}",
                    failing.join("; ")
                ),
            ));
        }
        self.observer.checks_before(&before);
        let mut copies = Vec::new();
        for copy in &self.project.copies {
            let report = self.run_copy(copy, &rejects).await;
            rejects.finish()?;
            copies.push(report?);
        }
        let mut steps = Vec::new();
        for step in &self.project.steps {
            let report = self.run_step(step, &rejects).await;
            rejects.finish()?;
            steps.push(report?);
        }
        let after = self
            .validate_all(Some(ValidatorPhase::After), Some(&steps))
            .await?;
        let mut all = before.findings;
        all.extend(after.findings);
        let validation = super::report::ValidationReport::new(all);
        Ok(RunReport {
            schema: super::report::REPORT_SCHEMA,
            command: "run".into(),
            started_at,
            run_dir: self.run_dir.display().to_string(),
            project: self.project.name.clone(),
            copies,
            steps,
            validation,
            rejects_file: (rejects.count() > 0).then(|| rejects.path.display().to_string()),
            plugins: self.plugin_reports().await,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    async fn run_step(&self, step: &Step, rejects: &Rejects) -> Result<StepReport> {
        let planned = plan_step(self, step).await?;
        let (excluded_tables, dropped_columns) =
            (planned.excluded.clone(), planned.dropped_columns());
        for s in excluded_tables.iter().chain(&dropped_columns) {
            tracing::info!(step = %step.name, object = %s.name, reason = %s.reason, "not copied");
        }
        let StepPlan {
            tables: plans,
            views,
            broken,
            view_triggers,
            deps: planned_deps,
            ..
        } = planned;
        for t in &broken {
            tracing::warn!(step = %step.name, table = %t, "foreign-key cycle: loaded before a parent (checks deferred to commit)");
        }
        let src = self.plugin(&step.source, Kind::Source).await?;
        let tgt = self.plugin(&step.target, Kind::Target).await?;

        let state = StepState::load(
            &self.project.state_dir,
            &step.name,
            &self.project.fingerprint,
            self.fresh,
        );
        let mut state = state;
        state.begin()?;
        // Appends of a killed run that were about to commit: the database
        // says whether they did (their rows must not be loaded twice).
        for p in &plans {
            let Some((id, report)) = state.pending_commit(&p.source.name) else {
                continue;
            };
            if state.progress(&p.source.name).is_some() || p.batches.is_some() {
                continue;
            }
            let db = tgt.connection(&p.write.connection)?.get().await?;
            match db.commit_status(&id).await? {
                Some(true) => {
                    tracing::info!(step = %step.name, table = %p.target.name, "the interrupted run committed this table's rows");
                    state.mark(&p.source.name, Progress::Loaded, &report)?;
                }
                Some(false) => state.forget_commit(&p.source.name)?,
                None => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                        "step {}: the interrupted run's load of {} (transaction {id}) is too old \
                             for the server to say whether it committed; check the table and run \
                             with --fresh (which appends every row again) or remove the table's \
                             rows first",
                        step.name, p.target.name
                    ),
                    ))
                }
            }
        }
        // Tables an interrupted run loaded must still be there: a target
        // recreated (or dropped) since would otherwise fail later with
        // "relation does not exist" and no word of the saved progress.
        for p in &plans {
            // (A target writing its tables itself keeps what it committed;
            // the host cannot look.)
            if state.progress(&p.source.name).is_none() || p.batches.is_some() {
                continue;
            }
            let db = tgt.connection(&p.write.connection)?.get().await?;
            // Built beside: the staging table until the swap, then the final one.
            let there = match &p.staging {
                Some(s) => {
                    db.relation_exists(&s.final_table, &s.final_name).await?
                        || db.relation_exists(&s.table, &s.name).await?
                }
                None => db.relation_exists(&p.write.table, &p.target.name).await?,
            };
            if !there {
                return Err(Error::new(
                    ErrorKind::Project,
                    format!(
                        "step {}: the saved progress of an interrupted run ({}) says table {} was \
                         loaded, but the target has no table {}: the target changed since. \
                         Run with --fresh to start the step over (or restore the target to \
                         continue where the run stopped)",
                        step.name,
                        state.path().display(),
                        p.target.name,
                        p.target.name
                    ),
                ));
            }
        }
        // DDL first, children before parents (tables an interrupted run
        // already loaded keep their rows).
        for p in plans
            .iter()
            .rev()
            .filter(|p| state.progress(&p.source.name).is_none() && p.batches.is_none())
        {
            let db = tgt.connection(&p.write.connection)?.get().await?;
            if ddl_in_load(db.dialect) {
                // Inside the table's load transaction (`copy_table`).
                continue;
            }
            for stmt in &p.write.pre {
                db.execute(stmt, vec![]).await.map_err(|e| {
                    e.context(format!(
                        "step {}: preparing {} ({})",
                        step.name,
                        p.target.name,
                        first_line(stmt)
                    ))
                })?;
            }
            super::killpoint("ddl", &p.target.name, 0);
        }
        // Loads: parents first; up to `workers` tables at a time where the
        // target adds constraints after the data (a SQLite target checks
        // them per table, and has one writer anyway: one at a time).
        let rejected_total = AtomicU64::new(0);
        let mut tables: Vec<Option<TableReport>> = vec![None; plans.len()];
        for (i, p) in plans.iter().enumerate() {
            if let Some(mut done) = state.report(&p.source.name) {
                done.resumed = true;
                rejected_total.fetch_add(done.rows_rejected, Ordering::Relaxed);
                self.observer.table_finished(&done);
                tables[i] = Some(done);
            }
        }
        // How many tables at a time: the target's traits say whether it
        // takes several at once (a 0.2 target's follow from its dialect:
        // SQLite has one writer).
        let traits = target_traits(&tgt, &plans).await?;
        let workers = if traits.parallel_tables {
            step.workers.max(1)
        } else {
            1
        };
        let state = std::sync::Mutex::new(state);
        let todo: Vec<usize> = (0..plans.len()).filter(|i| tables[*i].is_none()).collect();
        let src_ref = &src;
        let tgt_ref = &tgt;
        let rejected_ref = &rejected_total;
        let state_ref = &state;
        let deps = &planned_deps;
        // `truncate` into tables whose foreign keys link them (an
        // application's schema): each table's own DELETE runs in its load
        // transaction, parents first, and a parent's would fail while its
        // children still hold rows. So the children are emptied first, in
        // reverse load order, before any load starts (each DELETE commits
        // on its own: a run that then fails leaves those tables empty,
        // which is where `truncate` was taking them anyway).
        if step.mode == WriteMode::Truncate {
            let linked: Vec<usize> = todo
                .iter()
                .copied()
                .filter(|&i| plans[i].write.existing.is_some() && plans[i].batches.is_none())
                .filter(|&i| {
                    deps[i].iter().any(|d| todo.contains(d))
                        || todo.iter().any(|&j| deps[j].contains(&i))
                })
                .collect();
            for &i in linked.iter().rev() {
                let p = &plans[i];
                let db = tgt.connection(&p.write.connection)?.get().await?;
                db.execute(&format!("DELETE FROM {}", p.write.table), Vec::new())
                    .await
                    .map_err(|e| {
                        e.context(format!(
                            "step {}: emptying {} before the load (children first)",
                            step.name, p.target.name
                        ))
                    })?;
            }
        }
        let load = |i: usize| {
            let p = &plans[i];
            async move {
                let dest = match &p.batches {
                    None => Dest::Sql(tgt_ref.connection(&p.write.connection)?.get().await?),
                    Some(_) => Dest::Plugin(tgt_ref.clone()),
                };
                let record = |id: &str, report: &TableReport| {
                    state_ref
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .committing(&p.source.name, id, report)
                };
                let report = self
                    .copy_table(step, src_ref, dest, p, rejects, rejected_ref, &record)
                    .await?;
                super::killpoint("loaded", &p.target.name, 0);
                state_ref.lock().unwrap_or_else(|e| e.into_inner()).mark(
                    &p.source.name,
                    Progress::Loaded,
                    &report,
                )?;
                self.observer.table_finished(&report);
                Ok::<_, Error>((i, report))
            }
        };
        let mut pending: Vec<usize> = todo;
        let mut loads = futures::stream::FuturesUnordered::new();
        let mut failed = None;
        loop {
            // Start what may start: parents finished (or not in this run's
            // work), at most `workers` at a time. With nothing running and
            // nothing ready, a cycle of the target's keys: the first one
            // waiting starts anyway (its foreign keys then refuse what
            // they refuse, as with one worker).
            while loads.len() < workers {
                let ready = pending
                    .iter()
                    .position(|&i| deps[i].iter().all(|&d| tables[d].is_some()))
                    .or_else(|| (loads.is_empty() && !pending.is_empty()).then_some(0));
                let Some(at) = ready else { break };
                loads.push(load(pending.remove(at)));
            }
            let Some(done) = loads.next().await else {
                break;
            };
            match done {
                Ok((i, report)) => tables[i] = Some(report),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(loads);
        if let Some(e) = failed {
            // The tables being replaced are untouched. Staging tables whose
            // load did not commit are dropped; loaded ones stay for the
            // next run to resume from.
            let unloaded: Vec<&TablePlan> = {
                let state = state.lock().unwrap_or_else(|e| e.into_inner());
                plans
                    .iter()
                    .filter(|p| p.staging.is_some() && state.progress(&p.source.name).is_none())
                    .collect()
            };
            for p in unloaded {
                let s = p.staging.as_ref().expect("filtered");
                if let Ok(db) = tgt.connection(&p.write.connection)?.get().await {
                    let _ = db
                        .execute(&format!("DROP TABLE IF EXISTS {} CASCADE", s.table), vec![])
                        .await;
                }
            }
            // MySQL committed the DDL of tables this run created: those
            // whose load did not commit are dropped, so the target holds no
            // empty table a rerun would trip over. (SQLite and PostgreSQL
            // rolled theirs back with the load.)
            let created: Vec<&TablePlan> = {
                let state = state.lock().unwrap_or_else(|e| e.into_inner());
                plans
                    .iter()
                    .filter(|p| p.creates && p.staging.is_none() && p.batches.is_none())
                    .filter(|p| state.progress(&p.source.name).is_none())
                    .collect()
            };
            for p in created {
                if let Ok(db) = tgt.connection(&p.write.connection)?.get().await {
                    if !ddl_in_load(db.dialect) {
                        if let Err(e) = db
                            .execute(&format!("DROP TABLE IF EXISTS {}", p.write.table), vec![])
                            .await
                        {
                            tracing::warn!(step = %step.name, table = %p.target.name, error = %e, "could not drop the table this failed run created");
                        }
                    }
                }
            }
            return Err(e);
        }
        let mut state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        let tables: Vec<TableReport> = tables
            .into_iter()
            .map(|t| t.expect("every table loaded"))
            .collect();
        // Every table loaded: tables built beside the ones they replace are
        // swapped in, one transaction per connection.
        let mut labels: Vec<&String> = plans
            .iter()
            .filter(|p| p.staging.is_some())
            .map(|p| &p.write.connection)
            .collect();
        labels.sort();
        labels.dedup();
        for label in labels {
            let swaps: Vec<&Staging> = plans
                .iter()
                .filter(|p| &p.write.connection == label)
                .filter_map(|p| p.staging.as_ref())
                .collect();
            super::killpoint("swap", "", 0);
            let db = tgt.connection(label)?.get().await?;
            db.swap_in(&swaps).await.map_err(|e| {
                e.context(format!("step {}: swapping in the new tables", step.name))
            })?;
            super::killpoint("swapped", "", 0);
        }
        let mut tables = tables;
        for (phase, before, after) in [
            (Phase::Post, Progress::Loaded, Progress::Indexed),
            (Phase::Constraints, Progress::Indexed, Progress::Constrained),
        ] {
            if matches!(phase, Phase::Constraints) {
                self.settle_orphans(
                    step,
                    &tgt,
                    &plans,
                    &mut tables,
                    &mut state,
                    rejects,
                    &rejected_total,
                )
                .await?;
            }
            for (p, report) in plans.iter().zip(&tables) {
                if state.progress(&p.source.name) != Some(before) {
                    continue;
                }
                if p.batches.is_some() {
                    // Nothing for the host to run after a table the target wrote.
                    state.mark(&p.source.name, after, report)?;
                    continue;
                }
                let db = tgt.connection(&p.write.connection)?.get().await?;
                let stmts = match phase {
                    Phase::Post => &p.write.post,
                    Phase::Constraints => &p.write.constraints,
                };
                let done = state.statements_done(&p.source.name);
                for (i, stmt) in stmts.iter().enumerate().skip(done) {
                    super::killpoint(phase.name(), &p.target.name, i);
                    let ran = if matches!(phase, Phase::Constraints)
                        && step.orphans == OrphanPolicy::Keep
                    {
                        db.execute_unchecked(stmt).await
                    } else {
                        db.execute(stmt, vec![]).await
                    };
                    match ran {
                        Ok(_) => {}
                        // The one statement in doubt after a kill: it ran,
                        // and what it creates is there.
                        Err(e) if i == done && done_before_kill(&e) && state.resumed() => {
                            tracing::info!(
                                step = %step.name, table = %p.target.name, statement = %first_line(stmt),
                                "already done before the interruption"
                            );
                        }
                        Err(e) => {
                            return Err(e.context(format!(
                                "step {}: finishing {} ({})",
                                step.name,
                                p.target.name,
                                first_line(stmt)
                            )))
                        }
                    }
                    super::killpoint(phase.ran_name(), &p.target.name, i);
                    state.mark_statements(&p.source.name, i + 1)?;
                }
                super::killpoint(phase.name(), &p.target.name, usize::MAX);
                state.mark(&p.source.name, after, report)?;
            }
        }
        self.validate_foreign_keys(step, &tgt, &plans, &mut tables)
            .await?;
        // Work the target does once every table is in (contract 0.3):
        // after the last table, before the step counts as done.
        let mut finished = Vec::new();
        if tgt.plugin.lock().await.contract >= crate::runtime::Contract::V0_3 {
            let names: Vec<String> = plans.iter().map(|p| p.target.name.clone()).collect();
            finished = tgt
                .plugin
                .lock()
                .await
                .finish(&names)
                .await
                .map_err(|e| e.context(format!("step {}: finishing the target", step.name)))?
                .into_iter()
                .take(MAX_FINISH_LINES)
                .map(|l| crate::text::plugin_text(&l, crate::text::MAX_PLUGIN_TEXT))
                .collect();
            for line in &finished {
                tracing::info!(step = %step.name, target = %step.target, "{line}");
            }
        }
        state.finish()?;
        // Rejected rows by stage, as the reject file has them (tables done
        // by an earlier run keep theirs from the saved progress).
        // (Orphan records name the target table, the others the source's.)
        for t in tables.iter_mut().filter(|t| !t.resumed) {
            let mut by_stage = rejects.stages(&step.name, &t.source);
            by_stage.remove("orphan");
            if let Some(n) = rejects.stages(&step.name, &t.target).get("orphan") {
                by_stage.insert("orphan".to_owned(), *n);
            }
            t.rejected_by_stage = by_stage;
        }
        let mut skipped_triggers = triggers_of(&plans);
        skipped_triggers.extend(view_triggers);
        for t in &skipped_triggers {
            tracing::warn!(step = %step.name, trigger = %t, "trigger not copied (recreate it in the target if the application needs it)");
        }
        Ok(StepReport {
            name: step.name.clone(),
            tables,
            skipped_views: views,
            skipped_triggers,
            excluded_tables,
            dropped_columns,
            target_notes: finished,
        })
    }

    /// Before the foreign keys between the step's tables are added
    /// (PostgreSQL and MySQL targets, tables the step created): child rows
    /// whose parent row is missing are found in the target and handled as
    /// the step's `orphans` policy says. Parents come first, and a pass
    /// repeats until nothing changes, so rows whose parent was rejected
    /// (at load or here) are rejected in turn. SQLite targets check at
    /// each table's commit instead (`TableLoader::commit`).
    #[allow(clippy::too_many_arguments)]
    async fn settle_orphans(
        &self,
        step: &Step,
        tgt: &Arc<Loaded>,
        plans: &[TablePlan],
        tables: &mut [TableReport],
        state: &mut StepState,
        rejects: &Rejects,
        rejected_total: &AtomicU64,
    ) -> Result<()> {
        /// Examples of orphans kept per foreign key in the report.
        const EXAMPLES: usize = 5;
        /// Passes over the step's foreign keys before giving up on a
        /// cascade (each pass removes rows, so it ends; this bounds a
        /// pathological chain, which the foreign-key step then reports).
        const MAX_PASSES: usize = 64;
        for pass in 0..MAX_PASSES {
            let mut changed = false;
            for (ci, p) in plans.iter().enumerate() {
                if state.progress(&p.source.name) != Some(Progress::Indexed)
                    || p.write.existing.is_some()
                    || p.write.constraints.is_empty()
                {
                    continue;
                }
                let db = tgt.connection(&p.write.connection)?.get().await?;
                if db.dialect == Dialect::Sqlite {
                    continue;
                }
                for fk in &p.target.foreign_keys {
                    // The parent: a table of this step, or one outside it (the
                    // application's, another step's) in the child's schema.
                    let (parent, outside) =
                        match plans.iter().find(|q| q.target.name == fk.ref_table) {
                            Some(parent) => (final_table(parent).to_owned(), false),
                            None => {
                                let (table, bare) = match &p.staging {
                                    Some(s) => (s.final_table.as_str(), s.final_name.as_str()),
                                    None => (p.write.table.as_str(), p.target.name.as_str()),
                                };
                                let schema =
                                    table.strip_suffix(&db.quote_ident(bare)).unwrap_or("");
                                (format!("{schema}{}", db.quote_ident(&fk.ref_table)), true)
                            }
                        };
                    if fk.columns.is_empty()
                        || fk.columns.len() != fk.ref_columns.len()
                        || !fk
                            .columns
                            .iter()
                            .all(|c| p.target.columns.iter().any(|d| &d.name == c))
                    {
                        continue;
                    }
                    let label = format!(
                        "{} -> {} ({})",
                        fk.columns.join(", "),
                        fk.ref_table,
                        fk.ref_columns.join(", ")
                    );
                    let check = crate::caps::sql::ForeignKeyCheck {
                        child: final_table(p),
                        child_key: &p.target.primary_key,
                        columns: &fk.columns,
                        parent: &parent,
                        ref_columns: &fk.ref_columns,
                    };
                    let found = match db.count_orphans(&check).await {
                        Ok(n) => n,
                        // A parent outside the step that the target does not
                        // have: the foreign key itself will say so.
                        Err(e) if e.kind == ErrorKind::NotFound && outside => continue,
                        Err(e) => {
                            return Err(e.context(format!(
                                "step {}: looking for orphans of {} ({label})",
                                step.name, p.target.name
                            )))
                        }
                    };
                    if found == 0 {
                        continue;
                    }
                    let nullable = fk
                        .columns
                        .iter()
                        .all(|c| p.target.columns.iter().any(|d| &d.name == c && d.nullable));
                    let action = match step.orphans {
                        OrphanPolicy::Keep => "kept",
                        OrphanPolicy::Null if nullable => "set-null",
                        OrphanPolicy::Fail => "fail",
                        _ => "rejected",
                    };
                    // The rows, named by key and missing parent key: every
                    // one to the reject file when rejected, the first few
                    // to the report otherwise.
                    // Past `max_rejects` nothing is removed (or written
                    // to the reject file): the step stops and says why.
                    let over = action == "rejected"
                        && rejected_total.load(Ordering::Relaxed) + found > step.max_rejects;
                    let nkey = p.target.primary_key.len();
                    let mut rows = db.orphans(&check).await?;
                    let mut examples = Vec::new();
                    let mut seen = 0u64;
                    while let Some(batch) = rows.next_rows(1000, 1 << 20).await? {
                        for row in batch {
                            seen += 1;
                            let key: serde_json::Map<String, serde_json::Value> = p
                                .target
                                .primary_key
                                .iter()
                                .zip(&row)
                                .map(|(k, v)| (k.clone(), excerpt(v)))
                                .collect();
                            let missing: Vec<String> =
                                row[nkey..].iter().map(crate::value::render_text).collect();
                            let named = |cols: &[String]| -> String {
                                cols.iter()
                                    .zip(&missing)
                                    .map(|(c, v)| format!("{c} = {v}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            };
                            if examples.len() < EXAMPLES {
                                let k: Vec<String> = p
                                    .target
                                    .primary_key
                                    .iter()
                                    .zip(&row)
                                    .map(|(k, v)| format!("{k}={}", crate::value::render_text(v)))
                                    .collect();
                                examples.push(format!("{}: {}", k.join(","), named(&fk.columns)));
                            }
                            if action == "rejected" && !over {
                                rejects.write(json!({
                                    "step": step.name, "table": p.target.name,
                                    "key": key, "column": fk.columns.join(","),
                                    "value": missing.join(","),
                                    "stage": "orphan",
                                    "reason": format!(
                                        "no row of {} with {}{}",
                                        fk.ref_table,
                                        named(&fk.ref_columns),
                                        if step.orphans == OrphanPolicy::Null {
                                            " (orphans = \"null\", but the column is NOT NULL)"
                                        } else {
                                            ""
                                        }
                                    ),
                                }))?;
                            }
                        }
                    }
                    drop(rows);
                    match action {
                        "fail" => {
                            return Err(Error::new(
                                ErrorKind::Rejected,
                                format!(
                                    "step {}: {seen} row(s) of {} reference missing rows of {} \
                                     ({label}), e.g. {}; the tables are loaded, the foreign keys \
                                     not added. Set orphans = \"reject\", \"null\" or \"keep\" \
                                     in the step, or fix the source",
                                    step.name,
                                    p.target.name,
                                    fk.ref_table,
                                    examples.join("; ")
                                ),
                            ))
                        }
                        "rejected" => {
                            if over {
                                let total = rejected_total.load(Ordering::Relaxed) + seen;
                                return Err(Error::new(
                                    ErrorKind::Rejected,
                                    format!(
                                        "step {}: {seen} row(s) of {} reference missing rows of {} \
                                         ({label}), e.g. {}; rejecting them would make {total} \
                                         rejected rows, more than max_rejects = {}. The tables \
                                         are loaded, nothing was removed and the foreign keys \
                                         are not added; raise max_rejects to reject them, or \
                                         set orphans = \"null\" or \"keep\" in the step",
                                        step.name,
                                        p.target.name,
                                        fk.ref_table,
                                        examples.join("; "),
                                        step.max_rejects,
                                    ),
                                ));
                            }
                            rejects.finish()?;
                            rejected_total.fetch_add(seen, Ordering::Relaxed);
                            db.remove_orphans(&check, false).await?;
                            changed = true;
                        }
                        "set-null" => {
                            db.remove_orphans(&check, true).await?;
                        }
                        _ => {}
                    }
                    let report = &mut tables[ci];
                    if action == "rejected" {
                        report.rows_rejected += seen;
                        report.rows_written = report.rows_written.saturating_sub(seen);
                    }
                    match report
                        .orphans
                        .iter_mut()
                        .find(|o| o.foreign_key == label && o.action == action)
                    {
                        Some(o) => {
                            o.rows += seen;
                            let room = EXAMPLES.saturating_sub(o.examples.len());
                            o.examples.extend(examples.into_iter().take(room));
                        }
                        None => report.orphans.push(crate::model::OrphanReport {
                            foreign_key: label.clone(),
                            action: action.to_owned(),
                            rows: seen,
                            examples,
                        }),
                    }
                    tracing::warn!(step = %step.name, table = %p.target.name, foreign_key = %label, rows = seen, action, "orphan rows");
                    state.mark(&p.source.name, Progress::Indexed, report)?;
                }
            }
            if !changed {
                return Ok(());
            }
            tracing::debug!(step = %step.name, pass, "orphans removed; checking the children again");
        }
        Ok(())
    }

    /// After the foreign keys were added: every PostgreSQL key of the
    /// step's new tables still `NOT VALID` (as the source had it, or
    /// added so by `orphans = "keep"`) is validated when the loaded rows
    /// allow it; a key the rows break stays `NOT VALID` and is reported.
    async fn validate_foreign_keys(
        &self,
        step: &Step,
        tgt: &Arc<Loaded>,
        plans: &[TablePlan],
        tables: &mut [TableReport],
    ) -> Result<()> {
        for (p, report) in plans.iter().zip(tables.iter_mut()) {
            if p.write.existing.is_some() || p.write.constraints.is_empty() {
                continue;
            }
            let db = tgt.connection(&p.write.connection)?.get().await?;
            if db.dialect != Dialect::Postgres {
                continue;
            }
            for name in db.unvalidated_foreign_keys(final_table(p)).await? {
                let stmt = format!(
                    "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                    final_table(p),
                    db.quote_ident(&name)
                );
                match db.execute(&stmt, vec![]).await {
                    Ok(_) => {
                        tracing::info!(step = %step.name, table = %p.target.name, constraint = %name, "foreign key validated (the loaded rows satisfy it)");
                    }
                    Err(e) if e.code.as_deref() == Some("23503") => {
                        tracing::warn!(step = %step.name, table = %p.target.name, constraint = %name, "foreign key left NOT VALID: rows break it");
                        if !report.orphans.iter().any(|o| o.action == "kept") {
                            report.orphans.push(crate::model::OrphanReport {
                                foreign_key: name.clone(),
                                action: "not-valid".into(),
                                rows: 0,
                                examples: vec![crate::text::plugin_text(
                                    &e.message,
                                    crate::text::MAX_PLUGIN_TEXT,
                                )],
                            });
                        }
                    }
                    Err(e) => {
                        return Err(e.context(format!(
                            "step {}: validating {name} of {}",
                            step.name, p.target.name
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    // The step's shared tallies (rejects, their total, commit records) are
    // passed one by one: each has its own owner in `run_step`.
    #[allow(clippy::too_many_arguments)]
    async fn copy_table(
        &self,
        step: &Step,
        src: &Arc<Loaded>,
        dest: Dest,
        p: &TablePlan,
        rejects: &Rejects,
        rejected_total: &AtomicU64,
        record_commit: &(dyn Fn(&str, &TableReport) -> Result<()> + Sync),
    ) -> Result<TableReport> {
        let started = Instant::now();
        let table = &p.source.name;
        self.observer
            .table_started(&step.name, table, p.source.estimated_rows);
        // Rewrite rules of this table: (column index, column name, rule).
        let mut rules = Vec::new();
        for r in step.rewrites.iter().filter(|r| &r.table == table) {
            let idx = match &r.into {
                // The copy of the column that fills the other one.
                Some(into) => p
                    .mapping
                    .fill_index(&p.source, into)
                    .expect("mapped by map_columns"),
                None => p
                    .source
                    .columns
                    .iter()
                    .position(|c| c.name == r.column)
                    .expect("checked in select_tables"),
            };
            rules.push((
                idx,
                match &r.into {
                    Some(into) => format!("{} -> {into}", r.column),
                    None => r.column.clone(),
                },
                r.rule.clone(),
                self.plugin(&r.rule, Kind::Rewrite).await?,
            ));
        }
        let mut casts = super::pipeline::step_casts(step, &p.source);
        // Casts implied by an existing target table's column types.
        casts.extend(p.mapping.casts.iter().map(|(i, to)| {
            let name = p.mapping.column_name(&p.source, *i).to_owned();
            let rule = crate::project::Cast {
                matches: crate::project::CastMatch::Column(table.clone(), name.clone()),
                to: *to,
                from: crate::project::CastFrom::Auto,
                zone_secs: 0,
            };
            (*i, name, rule)
        }));
        let values = super::pipeline::ValuePipeline {
            casts,
            nul_bytes: step.nul_bytes,
            rules,
        };
        let project_rows = p.mapping.keep.len() != p.source.columns.len()
            || p.mapping.keep.iter().enumerate().any(|(k, i)| k != *i);
        let keys = RowKeys::of(&p.source);
        let key_width = keys.width();
        let names: Vec<String> = p.source.columns.iter().map(|c| c.name.clone()).collect();
        let stages = TableStages {
            step: &step.name,
            table,
            keys: keys.clone(),
            shape: Shape {
                width: p.source.columns.len(),
            },
            fills: FillStage {
                fills: &p.mapping.fills,
            },
            values,
            // Sources typing values per row (SQLite): each value is checked
            // against its column's type before the target sees it.
            fits: TypeFits {
                fits: match (&p.types, &p.write.existing) {
                    (Some(_), None) => p
                        .target
                        .columns
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| {
                            super::profile::Fit::of(&c.logical)
                                .map(|f| (i, f, p.source.columns[i].name.clone()))
                        })
                        .collect(),
                    _ => Vec::new(),
                },
            },
            // Date and time columns: MySQL's zero dates arrive as text.
            zero_dates: ZeroDates {
                temporal: super::pipeline::temporal_columns(&p.target),
                names,
                policy: step.zero_dates,
            },
            limits: LengthLimits {
                limits: p
                    .mapping
                    .max_chars
                    .iter()
                    .map(|(i, n)| (*i, *n, p.mapping.column_name(&p.source, *i).to_owned()))
                    .collect(),
            },
            project: Project {
                keep: project_rows.then_some(p.mapping.keep.as_slice()),
            },
        };
        let nulled = AtomicU64::new(0);
        // Values each rule changed, per column: counted, the first few kept
        // as `before -> after` for the report.
        let rewritten: std::sync::Mutex<Vec<super::report::RewriteReport>> =
            std::sync::Mutex::new(Vec::new());
        let mut source = RowSource::open(src, table, &p.read).await?;
        let loader = match dest {
            Dest::Sql(db) => {
                // Where DDL is transactional the table's own DDL runs in its
                // load transaction: a failed or killed load leaves no new
                // table behind and keeps the old one.
                let in_tx: &[String] = if ddl_in_load(db.dialect) {
                    &p.write.pre
                } else {
                    &[]
                };
                let loader = db
                    .begin_load(&p.write.table, &p.write.columns, &p.write.upsert_key, in_tx)
                    .await
                    .map_err(|e| {
                        e.context(format!("step {}: preparing {}", step.name, p.target.name))
                    })?;
                if !in_tx.is_empty() {
                    super::killpoint("ddl", &p.target.name, 0);
                }
                Sink::Sql(loader)
            }
            Dest::Plugin(tgt) => Sink::Writer(
                PluginWriter::open(tgt, &p.target, wit_mode(p.mode), p.write.columns.len())
                    .await
                    .map_err(|e| {
                        e.context(format!("step {}: opening {}", step.name, p.target.name))
                    })?,
            ),
        };
        let mut loader = loader;
        let batch_rows = step.batch_rows.unwrap_or(DEFAULT_BATCH_ROWS);
        // Rows rejected in this table so far, by either stage.
        let rejected_here = AtomicU64::new(0);
        let over_limit = |extra: &str| -> Result<()> {
            let total =
                rejected_total.load(Ordering::Relaxed) + rejected_here.load(Ordering::Relaxed);
            if total > step.max_rejects {
                return Err(Error::new(
                    ErrorKind::Rejected,
                    format!(
                        "step {}: {total} rows rejected, more than max_rejects = {} (see {}){extra}",
                        step.name,
                        step.max_rejects,
                        rejects.path.display()
                    ),
                ));
            }
            Ok(())
        };
        // Two stages joined by a short queue, so the target loads one batch
        // while the next is read, cast and rewritten: the database is never
        // left waiting on the host's per-batch work.
        let (queue_tx, mut queue_rx) = tokio::sync::mpsc::channel::<Prepared>(LOAD_QUEUE_BATCHES);
        // The loader runs in a task of its own, so its round trips progress
        // while this task is busy (a rewrite rule's Wasm call, casts); the
        // outcomes come back in order and are handled here.
        let (done_tx, done_rx) = tokio::sync::mpsc::channel::<(
            Result<crate::caps::sql::LoadOutcome>,
            Vec<Value>,
        )>(LOAD_QUEUE_BATCHES);
        let worker = tokio::spawn(async move {
            while let Some(batch) = queue_rx.recv().await {
                let outcome = loader.load(batch.rows).await;
                let failed = outcome.is_err();
                if done_tx.send((outcome, batch.keys)).await.is_err() || failed {
                    break;
                }
            }
            loader
        });
        let prepare = async {
            // Owned by this stage: however it ends (an error included), the
            // queue closes, the worker stops, and the load stage ends too.
            let queue_tx = queue_tx;
            let (mut read, mut bytes) = (0u64, 0u64);
            while let Some((rows, size)) = source.next(batch_rows).await? {
                let before = read;
                read += rows.len() as u64;
                bytes += size as u64;
                let staged = stages.run(rows, before).await?;
                for record in staged.rejects {
                    rejects.write(record)?;
                    rejected_here.fetch_add(1, Ordering::Relaxed);
                }
                nulled.fetch_add(staged.nulled, Ordering::Relaxed);
                if !staged.changes.is_empty() {
                    let mut all = rewritten.lock().unwrap_or_else(|e| e.into_inner());
                    for (column, rule, changed, examples) in staged.changes {
                        let column = format!("{table}.{column}");
                        match all
                            .iter_mut()
                            .find(|r| r.column == column && r.rule == rule)
                        {
                            Some(r) => {
                                r.values += changed;
                                let room = super::report::REWRITE_EXAMPLES
                                    .saturating_sub(r.examples.len());
                                r.examples.extend(examples.into_iter().take(room));
                            }
                            None => all.push(super::report::RewriteReport {
                                column,
                                rule,
                                values: changed,
                                examples,
                            }),
                        }
                    }
                }
                over_limit(&format!("; table {table} rolled back"))?;
                if queue_tx.send(staged.prepared).await.is_err() {
                    // The load stage stopped; its error is the one reported.
                    break;
                }
            }
            drop(queue_tx);
            Ok((read, bytes))
        };
        let load = async {
            // Owned by this stage: when it stops on an error the channel
            // closes, so the worker stops and the prepare stage with it
            // (borrowed, it left both waiting on full channels forever).
            let mut done_rx = done_rx;
            let mut written = 0u64;
            while let Some((outcome, row_keys)) = done_rx.recv().await {
                let outcome = outcome?;
                for (i, reason) in &outcome.rejected {
                    let key = keys.json(&row_keys[i * key_width..(i + 1) * key_width]);
                    rejects.write(json!({
                        "step": step.name, "table": table, "key": key,
                        "column": null, "value": null, "stage": "load", "reason": reason,
                    }))?;
                }
                rejected_here.fetch_add(outcome.rejected.len() as u64, Ordering::Relaxed);
                written += outcome.written;
                super::killpoint("data", table, 0);
                self.observer.rows_written(outcome.written);
                over_limit(&format!("; table {table} rolled back"))?;
            }
            Ok(written)
        };
        let (prepared, loaded) = tokio::join!(prepare, load);
        source.close().await;
        // Both stages ended, so the worker's queue is closed: it returns the
        // loader (dropping it, on an error below, rolls the table back).
        let loader = worker
            .await
            .map_err(|e| Error::internal(format!("load task failed: {e}")))?;
        // A load error ends the prepare stage too (its queue closes); the
        // load stage's error is the cause, so it is reported first.
        let (mut written, (read, bytes)) = match (loaded, prepared) {
            (Ok(w), Ok(r)) => (w, r),
            (Err(e), _) | (Ok(_), Err(e)) => {
                loader.abort().await;
                return Err(e);
            }
        };
        let mut rejected = rejected_here.load(Ordering::Relaxed);
        let report = |written: u64, rejected: u64| {
            let seconds = started.elapsed().as_secs_f64();
            TableReport {
                source: table.clone(),
                target: p.target.name.clone(),
                rows_read: read,
                rows_written: written,
                rows_rejected: rejected,
                bytes,
                seconds,
                resumed: false,
                zero_dates_nulled: nulled.load(Ordering::Relaxed),
                orphans: Vec::new(),
                rewritten: rewritten.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                location: None,
                rejected_by_stage: Default::default(),
                rows_per_second: if seconds > 0.0 {
                    written as f64 / seconds
                } else {
                    0.0
                },
            }
        };
        let mut loader = loader;
        // An append cannot be told apart from the rows already there: its
        // transaction id is recorded before COMMIT, so that a kill between
        // the commit and the progress file does not load the rows twice.
        if step.mode == WriteMode::Append {
            if let Some(id) = loader.commit_id().await? {
                record_commit(&id, &report(written, rejected))?;
                super::killpoint("commit", table, 0);
            }
        }
        let (committed, location) = loader
            .commit(&p.target.name, step.orphans)
            .await
            .map_err(|e| e.context(format!("table {}", p.target.name)))?;
        super::killpoint("committed", table, 0);
        let late = &committed.rejected;
        for r in late {
            rejects.write(json!({
                "step": step.name, "table": table, "key": r.key,
                "column": r.column, "value": r.value, "stage": "commit", "reason": r.reason,
            }))?;
        }
        rejected += late.len() as u64;
        written = written.saturating_sub(late.len() as u64);
        let total = rejected_total.fetch_add(rejected, Ordering::Relaxed) + rejected;
        if total > step.max_rejects {
            return Err(Error::new(
                ErrorKind::Rejected,
                format!(
                    "step {}: {} rows rejected, more than max_rejects = {} (see {})",
                    step.name,
                    total,
                    step.max_rejects,
                    rejects.path.display()
                ),
            ));
        }
        let mut done = report(written, rejected);
        done.orphans = committed.orphans;
        done.location = location;
        Ok(done)
    }
}
