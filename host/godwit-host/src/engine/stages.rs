//! The engine as stages over a batch (issue 15, item 4): what happens to
//! one batch of a table between the source's reader and the target's sink.
//!
//! ```text
//! read ─▶ shape ─▶ fills ─▶ values ─▶ type fits ─▶ zero dates ─▶ limits ─▶ project ─▶ sink
//!                           (casts, NUL policy, rewrite rules: pipeline.rs)
//! ```
//!
//! Each stage is a small type with one `apply` over a [`Batch`]. A stage
//! that refuses a row records it in the batch (`Batch::reject`): the row's
//! first refusal is the one kept and written to the reject file, later
//! stages still see the row (as the run always did, so a row refused by a
//! cast is still counted by the rules it passes through), and `project`
//! leaves refused rows out of what the sink gets. The sink is the other
//! half (`sink.rs`): the host's SQL loader or the target plugin's writer,
//! behind one `Sink`.
//!
//! Nothing here does I/O but the value pipeline's calls to rewrite rules,
//! so every stage but that one is tested below without a database or a
//! plugin; `copy_table` in `run.rs` only joins the reader, these stages and
//! the sink with two bounded queues, and keeps the table's tallies.

use serde_json::{json, Value as Json};

use super::fill::Fills;
use super::pipeline::{Changed, Refusal, ValuePipeline};
use super::profile::Fit;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{TableDef, Value};
use crate::project::ZeroDatePolicy;
use crate::value::excerpt;

/// The key of reject records for rows without key columns: the row's
/// ordinal (1-based) in the order the source read them.
pub const ROW_ORDINAL: &str = "#row";

/// How a row is named in the reject file: by the columns that identify it,
/// or by its ordinal.
#[derive(Debug, Clone)]
pub(crate) struct RowKeys {
    /// Indexes of the identifying columns; empty: the ordinal is used.
    idx: Vec<usize>,
    /// Their names, parallel to `idx`.
    names: Vec<String>,
}

impl RowKeys {
    /// The columns that identify a row of `t`: the primary key; else the
    /// first unique index whose columns are all NOT NULL; else the first
    /// unique index (a NULL there still narrows it down); else none (the
    /// row's ordinal is used, [`ROW_ORDINAL`]).
    pub fn of(t: &TableDef) -> Self {
        let positions = |cols: &[String]| -> Option<Vec<usize>> {
            cols.iter()
                .map(|k| t.columns.iter().position(|c| &c.name == k))
                .collect()
        };
        let idx = positions(&t.primary_key)
            .filter(|k| !k.is_empty())
            .or_else(|| {
                let unique: Vec<Vec<usize>> = t
                    .indexes
                    .iter()
                    .filter(|i| i.unique && !i.columns.is_empty())
                    .filter_map(|i| positions(&i.columns))
                    .collect();
                unique
                    .iter()
                    .find(|k| k.iter().all(|&i| !t.columns[i].nullable))
                    .or_else(|| unique.first())
                    .cloned()
            })
            .unwrap_or_default();
        let names = idx.iter().map(|&i| t.columns[i].name.clone()).collect();
        Self { idx, names }
    }

    /// Values per row in [`RowKeys::values`]: the key's width, or 1 (the
    /// ordinal).
    pub fn width(&self) -> usize {
        self.idx.len().max(1)
    }

    /// The key values of `row`, whose 1-based ordinal in the source's read
    /// order is `ordinal`.
    pub fn values(&self, row: &[Value], ordinal: u64) -> Vec<Value> {
        if self.idx.is_empty() {
            vec![Value::Int(ordinal as i64)]
        } else {
            self.idx.iter().map(|&i| row[i].clone()).collect()
        }
    }

    /// A reject record's `key` from [`RowKeys::values`]: `{column: value}`,
    /// or `{"#row": n}`.
    pub fn json(&self, values: &[Value]) -> Json {
        if self.idx.is_empty() {
            json!({ ROW_ORDINAL: values.first().map(excerpt) })
        } else {
            Json::Object(
                self.names
                    .iter()
                    .zip(values)
                    .map(|(n, v)| (n.clone(), excerpt(v)))
                    .collect(),
            )
        }
    }
}

/// Where the rows come from, for reject records.
pub(crate) struct At<'a> {
    pub step: &'a str,
    pub table: &'a str,
    pub keys: &'a RowKeys,
}

impl At<'_> {
    /// A reject record: step, table, key, then the stage's own fields.
    fn record(&self, key: Json, fields: Json) -> Json {
        let mut r = json!({ "step": self.step, "table": self.table, "key": key });
        if let (Json::Object(r), Json::Object(f)) = (&mut r, fields) {
            r.extend(f);
        }
        r
    }

    /// The reject record of a row the value pipeline refused.
    fn refusal(&self, r: Refusal) -> Json {
        let mut fields = json!({ "column": r.column, "value": r.value, "stage": r.stage });
        if let Some(rule) = r.rule {
            fields["rule"] = Json::String(rule);
        }
        fields["reason"] = Json::String(r.reason);
        self.record(r.key, fields)
    }
}

/// One batch on its way through the stages.
pub(crate) struct Batch {
    /// The rows: source columns, then the fills' values.
    pub rows: Vec<Vec<Value>>,
    /// Rows the source read before this batch (for ordinals).
    read_before: u64,
    /// Rows no stage refused yet.
    keep: Vec<bool>,
    /// Reject records, in the order the stages refused rows.
    rejects: Vec<Json>,
}

impl Batch {
    pub fn new(rows: Vec<Vec<Value>>, read_before: u64) -> Self {
        let keep = vec![true; rows.len()];
        Self {
            rows,
            read_before,
            keep,
            rejects: Vec::new(),
        }
    }

    /// The key record of row `r`.
    fn key(&self, keys: &RowKeys, r: usize) -> Json {
        keys.json(&keys.values(&self.rows[r], self.read_before + r as u64 + 1))
    }

    /// Refuses row `r` with `record`, unless an earlier stage did.
    fn reject(&mut self, r: usize, record: Json) {
        if std::mem::replace(&mut self.keep[r], false) {
            self.rejects.push(record);
        }
    }

    /// Rows refused so far.
    #[cfg(test)]
    pub fn rejected(&self) -> usize {
        self.rejects.len()
    }
}

/// Shape: every row has the source table's width, or the source is broken
/// (a plugin error, not a reject: nothing about the row can be trusted).
pub(crate) struct Shape {
    pub width: usize,
}

impl Shape {
    pub fn apply(&self, b: &Batch, table: &str) -> Result<()> {
        match b.rows.iter().find(|r| r.len() != self.width) {
            None => Ok(()),
            Some(bad) => Err(Error::new(
                ErrorKind::PluginError,
                format!(
                    "{table}: the source returned rows of {} values for {} columns",
                    bad.len(),
                    self.width
                ),
            )),
        }
    }
}

/// Fills: target columns computed from the row as read, appended to it
/// (index `width + k`), so the casts to the target's types and the length
/// limits apply to them too.
pub(crate) struct FillStage<'a> {
    pub fills: &'a Fills,
}

impl FillStage<'_> {
    pub fn apply(&self, b: &mut Batch, at: &At) {
        if self.fills.list.is_empty() {
            return;
        }
        for r in 0..b.rows.len() {
            if let Err((k, reason)) = self.fills.apply(&mut b.rows[r]) {
                let fill = &self.fills.list[k];
                let record = at.record(
                    b.key(at.keys, r),
                    json!({
                        "column": fill.column, "value": null,
                        "stage": "fill", "fill": fill.text, "reason": reason,
                    }),
                );
                b.reject(r, record);
            }
        }
    }
}

/// Values: casts, the NUL-byte policy and the rewrite rules (the one stage
/// that calls plugins; see `pipeline.rs`). Returns what each rule changed.
pub(crate) async fn values(
    pipeline: &ValuePipeline,
    b: &mut Batch,
    at: &At<'_>,
) -> Result<Vec<Changed>> {
    let (keys, before) = (at.keys, b.read_before);
    let key_of = |row: &[Value], r: usize| keys.json(&keys.values(row, before + r as u64 + 1));
    let mut refused = Vec::new();
    let changes = pipeline.apply(&mut b.rows, &key_of, &mut refused).await?;
    for r in refused {
        let row = r.row;
        b.reject(row, at.refusal(r));
    }
    Ok(changes)
}

/// Type fits: for sources that type values per row (SQLite), each value is
/// checked against its column's type before the target sees it.
pub(crate) struct TypeFits {
    /// `(column index, check, column name)`.
    pub fits: Vec<(usize, Fit, String)>,
}

impl TypeFits {
    pub fn apply(&self, b: &mut Batch, at: &At) {
        for (idx, fit, column) in &self.fits {
            for r in 0..b.rows.len() {
                let v = std::mem::replace(&mut b.rows[r][*idx], Value::Null);
                match fit.apply(v) {
                    Ok(v) => b.rows[r][*idx] = v,
                    Err((v, reason)) => {
                        b.rows[r][*idx] = v;
                        let record = at.record(
                            b.key(at.keys, r),
                            json!({
                                "column": column, "value": excerpt(&b.rows[r][*idx]),
                                "stage": "type", "reason": reason,
                            }),
                        );
                        b.reject(r, record);
                    }
                }
            }
        }
    }
}

/// Zero dates: MySQL's `0000-00-00` in the target's date and time columns,
/// NULL (counted) or refused, per the step's policy.
pub(crate) struct ZeroDates {
    /// The target's date and time columns.
    pub temporal: Vec<usize>,
    /// The source's column names.
    pub names: Vec<String>,
    pub policy: ZeroDatePolicy,
}

impl ZeroDates {
    /// Returns the values set to NULL.
    pub fn apply(&self, b: &mut Batch, at: &At) -> u64 {
        if self.temporal.is_empty() {
            return 0;
        }
        let (keys, before) = (at.keys, b.read_before);
        let key_of = |row: &[Value], r: usize| keys.json(&keys.values(row, before + r as u64 + 1));
        let mut refused = Vec::new();
        let nulled = super::pipeline::zero_dates(
            &mut b.rows,
            &self.temporal,
            &self.names,
            self.policy,
            &key_of,
            &mut refused,
        );
        for r in refused {
            let row = r.row;
            b.reject(row, at.refusal(r));
        }
        nulled
    }
}

/// Length limits: a text longer than its existing target column holds is
/// refused here, with the column named, rather than by the database (which
/// would fail the batch, or truncate it in MySQL's non-strict modes).
pub(crate) struct LengthLimits {
    /// `(row index, characters, column name)`.
    pub limits: Vec<(usize, u32, String)>,
}

impl LengthLimits {
    pub fn apply(&self, b: &mut Batch, at: &At) {
        for (idx, limit, column) in &self.limits {
            for r in 0..b.rows.len() {
                let Value::Text(text) = &b.rows[r][*idx] else {
                    continue;
                };
                let n = text.chars().count();
                if n > *limit as usize {
                    let record = at.record(
                        b.key(at.keys, r),
                        json!({
                            "column": column, "value": excerpt(&b.rows[r][*idx]),
                            "stage": "cast",
                            "reason": format!("{n} characters, more than the target column's {limit}"),
                        }),
                    );
                    b.reject(r, record);
                }
            }
        }
    }
}

/// A batch ready for the sink, with the key values of its rows (flattened,
/// [`RowKeys::width`] per row) for the reject records of rows the target
/// refuses.
pub(crate) struct Prepared {
    pub rows: Vec<Vec<Value>>,
    pub keys: Vec<Value>,
}

/// Project: the rows no stage refused, with the target's columns in the
/// target's order (`keep`: row indexes; `None` when that is every column
/// in order). Returns the prepared batch and the reject records.
pub(crate) struct Project<'a> {
    pub keep: Option<&'a [usize]>,
}

impl Project<'_> {
    pub fn apply(&self, b: Batch, keys: &RowKeys) -> (Prepared, Vec<Json>) {
        let Batch {
            rows,
            read_before,
            keep,
            rejects,
        } = b;
        let mut key_values = Vec::with_capacity(rows.len() * keys.width());
        let rows: Vec<Vec<Value>> = rows
            .into_iter()
            .zip(keep)
            .enumerate()
            .filter(|(_, (_, kept))| *kept)
            .map(|(r, (mut row, _))| {
                // Keys index source columns: taken before the projection.
                key_values.extend(keys.values(&row, read_before + r as u64 + 1));
                match self.keep {
                    None => row,
                    Some(keep) => keep
                        .iter()
                        .map(|&i| std::mem::replace(&mut row[i], Value::Null))
                        .collect(),
                }
            })
            .collect();
        (
            Prepared {
                rows,
                keys: key_values,
            },
            rejects,
        )
    }
}

/// What the stages made of one batch.
pub(crate) struct Staged {
    pub prepared: Prepared,
    /// Reject records, in order.
    pub rejects: Vec<Json>,
    /// Zero dates set to NULL.
    pub nulled: u64,
    /// Values each rule changed.
    pub changes: Vec<Changed>,
}

/// Every stage of one table, in order.
pub(crate) struct TableStages<'a> {
    pub step: &'a str,
    pub table: &'a str,
    pub keys: RowKeys,
    pub shape: Shape,
    pub fills: FillStage<'a>,
    pub values: ValuePipeline,
    pub fits: TypeFits,
    pub zero_dates: ZeroDates,
    pub limits: LengthLimits,
    pub project: Project<'a>,
}

impl TableStages<'_> {
    /// Runs `rows` (the source read `read_before` rows before them) through
    /// every stage.
    pub async fn run(&self, rows: Vec<Vec<Value>>, read_before: u64) -> Result<Staged> {
        let mut b = Batch::new(rows, read_before);
        self.shape.apply(&b, self.table)?;
        let at = At {
            step: self.step,
            table: self.table,
            keys: &self.keys,
        };
        self.fills.apply(&mut b, &at);
        let changes = values(&self.values, &mut b, &at).await?;
        self.fits.apply(&mut b, &at);
        let nulled = self.zero_dates.apply(&mut b, &at);
        self.limits.apply(&mut b, &at);
        let (prepared, rejects) = self.project.apply(b, &self.keys);
        Ok(Staged {
            prepared,
            rejects,
            nulled,
            changes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fill::Fill;
    use crate::model::{ColumnDef, IndexDef, LogicalType};
    use crate::project::NulPolicy;

    fn col(name: &str, logical: LogicalType, nullable: bool) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            logical,
            native_type: String::new(),
            nullable,
            default: None,
            auto_increment: false,
            comment: None,
        }
    }

    fn table(columns: Vec<ColumnDef>, pk: &[&str], indexes: Vec<IndexDef>) -> TableDef {
        TableDef {
            schema: None,
            name: "t".into(),
            columns,
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            uniques: vec![],
            checks: vec![],
            foreign_keys: vec![],
            indexes,
            comment: None,
            estimated_rows: None,
            is_view: false,
            triggers: vec![],
            native_dialect: String::new(),
        }
    }

    fn unique(name: &str, cols: &[&str]) -> IndexDef {
        IndexDef {
            name: name.into(),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            unique: true,
            definition: None,
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// Columns `id` (key), `name`, `at`; three rows.
    fn sample() -> (TableDef, Vec<Vec<Value>>) {
        let t = table(
            vec![
                col("id", LogicalType::Int(8), false),
                col("name", LogicalType::Text(None), true),
                col("at", LogicalType::Timestamp, true),
            ],
            &["id"],
            vec![],
        );
        let rows = vec![
            vec![Value::Int(1), text("ann"), text("2024-01-02 03:04:05")],
            vec![
                Value::Int(2),
                text("bob-is-long"),
                text("0000-00-00 00:00:00"),
            ],
            vec![Value::Int(3), Value::Bytes(vec![0, 255]), Value::Null],
        ];
        (t, rows)
    }

    fn at<'a>(keys: &'a RowKeys) -> At<'a> {
        At {
            step: "s",
            table: "t",
            keys,
        }
    }

    #[test]
    fn rows_are_named_by_key_then_unique_index_then_ordinal() {
        let (t, rows) = sample();
        let k = RowKeys::of(&t);
        assert_eq!(k.json(&k.values(&rows[1], 2)), json!({"id": 2}));

        // No key: a unique index of NOT NULL columns wins over an earlier
        // one with a nullable column.
        let mut t2 = t.clone();
        t2.primary_key.clear();
        t2.indexes = vec![unique("u1", &["name"]), unique("u2", &["id", "at"])];
        t2.columns[2].nullable = false;
        let k = RowKeys::of(&t2);
        assert_eq!(k.width(), 2);
        assert_eq!(
            k.json(&k.values(&rows[0], 1)),
            json!({"id": 1, "at": "2024-01-02 03:04:05"})
        );
        // Only nullable ones: the first.
        t2.columns[2].nullable = true;
        let k = RowKeys::of(&t2);
        assert_eq!(k.json(&k.values(&rows[0], 1)), json!({"name": "ann"}));

        // Nothing identifies rows: the ordinal, counted across batches.
        t2.indexes.clear();
        let k = RowKeys::of(&t2);
        assert_eq!(k.width(), 1);
        let b = Batch::new(rows, 10_000);
        assert_eq!(b.key(&k, 2), json!({ ROW_ORDINAL: 10_003 }));
    }

    #[test]
    fn shape_refuses_a_source_whose_rows_have_another_width() {
        let (_, mut rows) = sample();
        let shape = Shape { width: 3 };
        assert!(shape.apply(&Batch::new(rows.clone(), 0), "t").is_ok());
        rows[1].pop();
        let e = shape.apply(&Batch::new(rows, 0), "t").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PluginError);
        assert!(
            e.to_string().contains("rows of 2 values for 3 columns"),
            "{e}"
        );
    }

    #[test]
    fn a_row_is_rejected_once_by_its_first_stage_and_left_out_of_the_sink() {
        let (t, rows) = sample();
        let keys = RowKeys::of(&t);
        let at = at(&keys);
        let mut b = Batch::new(rows, 0);
        // Row 2 (a BLOB in a text column) fails the type fit...
        let fits = TypeFits {
            fits: vec![(1, Fit::Text, "name".into())],
        };
        fits.apply(&mut b, &at);
        // ...and would fail the length limit too; only the first counts.
        let limits = LengthLimits {
            limits: vec![(1, 5, "name".into())],
        };
        limits.apply(&mut b, &at);
        assert_eq!(b.rejected(), 2, "row 3 by its type, row 2 by its length");
        let (prepared, rejects) = Project { keep: None }.apply(b, &keys);
        assert_eq!(
            rejects,
            vec![
                json!({"step": "s", "table": "t", "key": {"id": 3}, "column": "name",
                       "value": "0x00ff", "stage": "type",
                       "reason": "a BLOB of 2 bytes in a text column"}),
                json!({"step": "s", "table": "t", "key": {"id": 2}, "column": "name",
                       "value": "bob-is-long", "stage": "cast",
                       "reason": "11 characters, more than the target column's 5"}),
            ]
        );
        assert_eq!(prepared.rows.len(), 1);
        assert_eq!(prepared.keys, vec![Value::Int(1)]);
    }

    #[test]
    fn zero_dates_become_null_and_are_counted_or_are_refused() {
        let (t, rows) = sample();
        let keys = RowKeys::of(&t);
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let mut b = Batch::new(rows.clone(), 0);
        let z = ZeroDates {
            temporal: vec![2],
            names: names.clone(),
            policy: ZeroDatePolicy::Null,
        };
        assert_eq!(z.apply(&mut b, &at(&keys)), 1);
        assert_eq!(b.rows[1][2], Value::Null);
        assert_eq!(b.rejected(), 0);

        let mut b = Batch::new(rows, 0);
        let z = ZeroDates {
            policy: ZeroDatePolicy::Reject,
            ..z
        };
        assert_eq!(z.apply(&mut b, &at(&keys)), 0);
        let (prepared, rejects) = Project { keep: None }.apply(b, &keys);
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0]["key"], json!({"id": 2}));
        assert_eq!(rejects[0]["column"], "at");
        assert_eq!(rejects[0]["stage"], "type");
        assert_eq!(
            rejects[0]["reason"],
            super::super::pipeline::ZERO_DATE_REASON
        );
        assert_eq!(prepared.rows.len(), 2);
    }

    #[test]
    fn fills_append_their_value_and_a_failing_one_rejects_the_row() {
        let (t, mut rows) = sample();
        rows[2][1] = text("cy");
        let keys = RowKeys::of(&t);
        let mut fills = Fills::new(&t.columns, 0);
        for (column, expr) in [("label", "name ~ '#' ~ id"), ("twice", "name * name")] {
            let kind = fills.compile(expr, &t.columns).unwrap();
            fills.list.push(Fill {
                column: column.into(),
                text: expr.into(),
                kind,
            });
        }
        let mut b = Batch::new(rows, 0);
        FillStage { fills: &fills }.apply(&mut b, &at(&keys));
        // `name * name` fails on every row: text times text.
        assert_eq!(b.rejected(), 3);
        assert!(b.rows.iter().all(|r| r.len() == 5), "the width stays right");
        let (_, rejects) = Project { keep: None }.apply(b, &keys);
        assert_eq!(rejects[0]["stage"], "fill");
        assert_eq!(rejects[0]["column"], "twice");
        assert_eq!(rejects[0]["fill"], "name * name");

        // Only the first fill: every row passes, with its value appended.
        fills.list.truncate(1);
        let (_, rows) = sample();
        let mut b = Batch::new(rows, 0);
        FillStage { fills: &fills }.apply(&mut b, &at(&keys));
        assert_eq!(b.rejected(), 0);
        assert_eq!(b.rows[0][3], text("ann#1"));
    }

    #[test]
    fn project_keeps_the_target_columns_in_order_with_keys_from_the_source_row() {
        let (t, rows) = sample();
        let keys = RowKeys::of(&t);
        // The target holds `at` then `name`; `id` (the key) is not loaded.
        let keep = [2usize, 1];
        let (prepared, rejects) = Project { keep: Some(&keep) }.apply(Batch::new(rows, 0), &keys);
        assert!(rejects.is_empty());
        assert_eq!(
            prepared.rows[0],
            vec![text("2024-01-02 03:04:05"), text("ann")]
        );
        assert_eq!(
            prepared.keys,
            vec![Value::Int(1), Value::Int(2), Value::Int(3)]
        );
    }

    #[tokio::test]
    async fn every_stage_in_order_over_one_batch() {
        let (t, rows) = sample();
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let fills = Fills::new(&t.columns, 0);
        let stages = TableStages {
            step: "s",
            table: "t",
            keys: RowKeys::of(&t),
            shape: Shape { width: 3 },
            fills: FillStage { fills: &fills },
            values: ValuePipeline {
                casts: vec![],
                nul_bytes: NulPolicy::Reject,
                rules: vec![],
            },
            fits: TypeFits {
                fits: vec![(1, Fit::Text, "name".into())],
            },
            zero_dates: ZeroDates {
                temporal: vec![2],
                names,
                policy: ZeroDatePolicy::Null,
            },
            limits: LengthLimits { limits: vec![] },
            project: Project { keep: None },
        };
        let staged = stages.run(rows, 0).await.unwrap();
        assert_eq!(staged.nulled, 1);
        assert_eq!(staged.rejects.len(), 1, "the BLOB in a text column");
        assert_eq!(staged.prepared.rows.len(), 2);
        assert_eq!(staged.prepared.rows[1][2], Value::Null, "the zero date");
        assert!(staged.changes.is_empty());
    }
}
