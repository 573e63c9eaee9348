//! Results of `run` and `validate`, as data (the CLI renders them as a table
//! or as JSON; the JSON shape is documented in docs/cli.md).

use serde::Serialize;

pub use crate::model::OrphanReport;

use crate::limits::Limits;
use crate::runtime::Kind;

/// One table copied by a step.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TableReport {
    /// Source table.
    pub source: String,
    /// Target table.
    pub target: String,
    /// Rows read from the source.
    pub rows_read: u64,
    /// Rows written to the target.
    pub rows_written: u64,
    /// Rows rejected (by a rewrite rule or by the target).
    pub rows_rejected: u64,
    /// Approximate payload bytes read from the source.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Rows written per second.
    pub rows_per_second: f64,
    /// True when an earlier, interrupted run already copied this table.
    #[serde(default)]
    pub resumed: bool,
    /// MySQL zero dates loaded as NULL (`zero_dates = "null"`).
    #[serde(default)]
    pub zero_dates_nulled: u64,
    /// Child rows whose parent row is missing, per foreign key, and what
    /// the step's `orphans` policy did with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphans: Vec<OrphanReport>,
    /// Values the rewrite rules changed, per column and rule (a value a
    /// rule returns as it was is not counted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewritten: Vec<RewriteReport>,
    /// Where a target that writes its tables itself put the rows (an
    /// object path, a key prefix), as its commit said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `rows_rejected` by stage (`cast`, `fill`, `load`, `orphan`, …), as
    /// in the reject file.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub rejected_by_stage: std::collections::BTreeMap<String, u64>,
}

/// Examples of changed values kept per column and rule.
pub const REWRITE_EXAMPLES: usize = 5;

/// What one rewrite rule changed in one column.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RewriteReport {
    /// `table.column`, as the step names it.
    pub column: String,
    /// The rule's plugin instance.
    pub rule: String,
    /// Values changed.
    pub values: u64,
    /// The first of them, `before -> after`.
    pub examples: Vec<String>,
}

/// One blob copy step of a run.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Step name.
    pub name: String,
    /// Source store.
    pub from: String,
    /// Target store.
    pub to: String,
    /// Objects found under the source prefix.
    pub objects: u64,
    /// Their total size in bytes (of those with a target key).
    pub bytes: u64,
    /// Objects copied (and verified) by this run.
    pub copied: u64,
    /// Objects already present with the same content.
    pub skipped: u64,
    /// Of `copied`: objects that were verified by an earlier run but found
    /// different (corrupted or changed in the target) and copied again.
    pub repaired: u64,
    /// Objects not copied: rejected by the rule, or failing (see the reject file).
    pub failed: u64,
    /// Target objects deleted because the source lacks them (`delete_extraneous`).
    pub deleted: u64,
    /// Bytes copied.
    pub bytes_copied: u64,
    /// Copies verified by the target's checksum (ETag).
    pub verified_by_etag: u64,
    /// Copies verified by reading the object back.
    pub verified_by_read_back: u64,
    /// Objects copied that nobody may read (local folders: no read bit in
    /// their mode, e.g. 000); copied with that mode, and named here.
    #[serde(skip_serializing_if = "Unreadable::is_empty")]
    pub unreadable: Unreadable,
    /// Wall time.
    pub seconds: f64,
    /// Copy throughput.
    pub bytes_per_second: f64,
}

/// One step of a run.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Step name.
    pub name: String,
    /// Tables in load order.
    pub tables: Vec<TableReport>,
    /// Views found in the source and not copied.
    pub skipped_views: Vec<String>,
    /// Triggers (`table.trigger`) of copied tables, not recreated.
    pub skipped_triggers: Vec<String>,
    /// Source tables the step leaves out, with the project's reason.
    pub excluded_tables: Vec<Skipped>,
    /// Source columns not loaded (`table.column`), with the reason.
    pub dropped_columns: Vec<Skipped>,
    /// What the target's `finish` said, once every table was written
    /// (contract 0.3 targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_notes: Vec<String>,
}

/// A source object that is not copied, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// Table name, or `table.column`.
    pub name: String,
    /// The reason the project gives (`exclude = { t = "why" }`), or the
    /// option that leaves it out.
    pub reason: String,
}

/// `name (reason), …` for one line of the terminal or report.md.
pub fn skipped_line(items: &[Skipped]) -> String {
    items
        .iter()
        .map(|s| format!("{} ({})", s.name, s.reason))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding of a validator.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    /// Validator plugin instance.
    pub validator: String,
    /// Check name.
    pub check: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// What was checked.
    pub subject: String,
    /// Explanation.
    pub message: String,
    /// Expected value.
    pub expected: Option<String>,
    /// Observed value.
    pub observed: Option<String>,
    /// `before` (checks before writing) or `after`.
    pub when: crate::project::ValidatorPhase,
}

/// All validators' findings.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ValidationReport {
    /// True when no finding has severity `error`.
    pub passed: bool,
    /// Findings, failing ones first.
    pub findings: Vec<FindingReport>,
}

impl ValidationReport {
    /// Builds a report, failing findings first.
    pub fn new(mut findings: Vec<FindingReport>) -> Self {
        let rank = |s: &str| match s {
            "error" => 0,
            "warning" => 1,
            _ => 2,
        };
        findings.sort_by_key(|f| rank(&f.severity));
        Self {
            passed: !findings.iter().any(|f| f.severity == "error"),
            findings,
        }
    }
}

/// How long a plugin took to start.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StartReport {
    /// True when its compiled code came from the compile cache (every run
    /// after the first with the same component and godwit build).
    pub from_cache: bool,
    /// Milliseconds compiling it, or loading the cached compilation.
    pub compile_ms: f64,
    /// Milliseconds creating its sandboxed store and instance.
    pub instantiate_ms: f64,
}

/// A plugin as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// Instance name in the project.
    pub instance: String,
    /// Where the code came from (`builtin:…`, `bundle … (sha256:…)`, or an
    /// unsigned development file).
    pub origin: String,
    /// Reviewers whose signatures were verified and trusted (bundles).
    pub signers: Vec<String>,
    /// Plugin's own name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Component digest.
    pub digest: String,
    /// Start-up times.
    pub start: StartReport,
    /// Exported kinds.
    pub kinds: Vec<Kind>,
    /// `kind:label -> resource` grants in effect.
    pub granted: Vec<String>,
    /// Requested but not granted.
    pub not_granted: Vec<String>,
    /// Granted but never requested (ignored).
    pub ignored_grants: Vec<String>,
    /// Limits in effect.
    pub limits: Limits,
}

/// The result of `godwit run` or `godwit validate` (which has no copies
/// or steps). Written as `report.json` into the run directory; the schema is
/// documented in docs/reports.md.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Version of this report's shape.
    pub schema: u32,
    /// `run` or `validate`.
    pub command: String,
    /// Project name.
    pub project: String,
    /// When the command started (UTC, RFC 3339).
    pub started_at: String,
    /// The run directory holding this report, the rejects and the log.
    pub run_dir: String,
    /// Blob copy steps in order (run before the table steps).
    pub copies: Vec<CopyReport>,
    /// Steps in order.
    pub steps: Vec<StepReport>,
    /// Validation after the steps.
    pub validation: ValidationReport,
    /// Reject file, if any row or object was rejected.
    pub rejects_file: Option<String>,
    /// Plugins that ran.
    pub plugins: Vec<PluginReport>,
    /// Total wall time.
    pub seconds: f64,
}

/// The current `report.json` schema version.
pub const REPORT_SCHEMA: u32 = 1;

impl RunReport {
    /// True when the command succeeded without rejects, failed objects or
    /// failing validators (exit code 0).
    pub fn clean(&self) -> bool {
        self.validation.passed && self.rows_rejected() == 0 && self.objects_failed() == 0
    }

    /// Writes `report.json` and `report.md` into the run directory.
    pub fn write(&self) -> crate::error::Result<()> {
        use crate::error::Error;
        let dir = std::path::Path::new(&self.run_dir);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::internal(e.to_string()))?;
        let scrub = |b: &[u8]| crate::redact::scrub(&String::from_utf8_lossy(b));
        for (name, text) in [
            ("report.json", scrub(&json)),
            ("report.md", crate::redact::scrub(&self.markdown())),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }

    /// The report for people: what moved, what failed, what the validators found.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let mut m = String::new();
        let status = if self.clean() { "passed" } else { "FAILED" };
        let _ = writeln!(
            m,
            "# godwit {} of {}: {status}\n",
            self.command, self.project
        );
        let _ = writeln!(m, "- started: {}", self.started_at);
        let _ = writeln!(m, "- duration: {:.2} s", self.seconds);
        let _ = writeln!(m, "- rows rejected: {}", self.rows_rejected());
        let _ = writeln!(m, "- objects not copied: {}", self.objects_failed());
        if let Some(f) = &self.rejects_file {
            let _ = writeln!(m, "- rejects: `{f}`");
        }
        let failing: Vec<_> = self
            .validation
            .findings
            .iter()
            .filter(|f| f.severity == "error")
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(m, "\n## Failing findings\n");
            for f in failing {
                let _ = writeln!(m, "- **{}** `{}`: {}", f.check, f.subject, f.message);
            }
        }
        if !self.copies.is_empty() {
            let _ = writeln!(m, "\n## Blob copies\n");
            let _ = writeln!(m, "| copy | from | to | objects | copied | skipped | repaired | failed | deleted | MiB copied | MiB/s |");
            let _ = writeln!(m, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for c in &self.copies {
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.1} |",
                    c.name,
                    c.from,
                    c.to,
                    c.objects,
                    c.copied,
                    c.skipped,
                    c.repaired,
                    c.failed,
                    c.deleted,
                    c.bytes_copied as f64 / 1048576.0,
                    c.bytes_per_second / 1048576.0
                );
            }
            for c in self.copies.iter().filter(|c| !c.unreadable.is_empty()) {
                let _ = writeln!(m, "\n{}", unreadable_line(c));
            }
        }
        if !self.steps.is_empty() {
            let _ = writeln!(m, "\n## Tables\n");
            let _ = writeln!(
                m,
                "| step | source | target | read | written | rejected | seconds | rows/s |"
            );
            let _ = writeln!(m, "|---|---|---|---:|---:|---:|---:|---:|");
            for s in &self.steps {
                for t in &s.tables {
                    let _ = writeln!(
                        m,
                        "| {} | {} | {}{} | {} | {} | {} | {:.2} | {:.0} |",
                        s.name,
                        t.source,
                        t.target,
                        if t.resumed { " (done earlier)" } else { "" },
                        t.rows_read,
                        t.rows_written,
                        t.rows_rejected,
                        t.seconds,
                        t.rows_per_second
                    );
                }
                for t in &s.tables {
                    for o in &t.orphans {
                        let _ = writeln!(m, "\n{}", orphan_line(&t.target, o));
                    }
                    for r in &t.rewritten {
                        let _ = writeln!(m, "\n{}", rewrite_line(r));
                    }
                }
                if !s.excluded_tables.is_empty() {
                    let _ = writeln!(
                        m,
                        "\nTables not copied: {}",
                        skipped_line(&s.excluded_tables)
                    );
                }
                if !s.dropped_columns.is_empty() {
                    let _ = writeln!(
                        m,
                        "\nColumns not copied: {}",
                        skipped_line(&s.dropped_columns)
                    );
                }
                if !s.skipped_views.is_empty() {
                    let _ = writeln!(m, "\nViews not copied: {}", s.skipped_views.join(", "));
                }
                if !s.skipped_triggers.is_empty() {
                    let _ = writeln!(
                        m,
                        "\nTriggers not copied: {}",
                        s.skipped_triggers.join(", ")
                    );
                }
            }
        }
        let _ = writeln!(m, "\n## Validation\n");
        if self.validation.findings.is_empty() {
            let _ = writeln!(m, "No validators configured.");
        } else {
            let _ = writeln!(m, "| result | validator | check | subject | message |");
            let _ = writeln!(m, "|---|---|---|---|---|");
            for f in &self.validation.findings {
                let result = match f.severity.as_str() {
                    "error" => "FAIL",
                    "warning" => "warn",
                    _ => "ok",
                };
                let _ = writeln!(
                    m,
                    "| {result} | {} | {} | {} | {} |",
                    f.validator,
                    f.check,
                    f.subject,
                    f.message.replace('|', "\\|")
                );
            }
        }
        let _ = writeln!(m, "\n## Plugins\n");
        for p in &self.plugins {
            let _ = writeln!(
                m,
                "- `{}` = {} {} (`{}`), grants: {}",
                p.instance,
                p.name,
                p.version,
                p.digest,
                if p.granted.is_empty() {
                    "none".to_owned()
                } else {
                    p.granted.join(", ")
                }
            );
        }
        m
    }

    /// Objects not copied across all copy steps.
    pub fn objects_failed(&self) -> u64 {
        self.copies.iter().map(|c| c.failed).sum()
    }

    /// Rows rejected across all steps.
    pub fn rows_rejected(&self) -> u64 {
        self.steps
            .iter()
            .flat_map(|s| &s.tables)
            .map(|t| t.rows_rejected)
            .sum()
    }
}

/// One line about a foreign key's orphans, the same in the terminal and
/// in report.md.
pub fn orphan_line(table: &str, o: &OrphanReport) -> String {
    let what = match o.action.as_str() {
        "rejected" => "rejected (reject file)",
        "set-null" => "foreign key set NULL",
        "kept" => "kept; the foreign key was added without checking them",
        "not-valid" => "the foreign key stays NOT VALID",
        other => other,
    };
    let rows = if o.rows > 0 {
        format!("{} row(s) without a parent, ", o.rows)
    } else {
        String::new()
    };
    format!(
        "orphans in {table} ({}): {rows}{what}; e.g. {}",
        o.foreign_key,
        o.examples.join("; ")
    )
}

/// One line about what a rewrite rule changed, the same in the terminal
/// and in report.md.
pub fn rewrite_line(r: &RewriteReport) -> String {
    format!(
        "{}: {} value(s) rewritten by {}; e.g. {}",
        r.column,
        r.values,
        r.rule,
        r.examples.join("; ")
    )
}

/// Objects copied without any read permission.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Unreadable {
    /// How many.
    pub objects: u64,
    /// The first keys.
    pub examples: Vec<String>,
}

impl Unreadable {
    fn is_empty(&self) -> bool {
        self.objects == 0
    }
}

/// The line about objects copied without read permission, the same in
/// the terminal and in report.md.
pub fn unreadable_line(c: &CopyReport) -> String {
    format!(
        "copy {}: {} object(s) have no read permission (mode 000 or similar) and were copied \
         with that mode: the application cannot read them; e.g. {}",
        c.name,
        c.unreadable.objects,
        c.unreadable.examples.join(", ")
    )
}
