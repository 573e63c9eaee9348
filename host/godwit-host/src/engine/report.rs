//! Results of `run` and `validate`, as data (the CLI renders them as a table
//! or as JSON; the JSON shape is documented in docs/cli.md).

use serde::Serialize;

use crate::runtime::limits::Limits;
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
    /// Approximate payload bytes moved.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Rows written per second.
    pub rows_per_second: f64,
    /// True when an earlier, interrupted run already copied this table.
    #[serde(default)]
    pub resumed: bool,
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

/// A plugin as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// Instance name in the project.
    pub instance: String,
    /// Plugin's own name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Component digest.
    pub digest: String,
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

/// The result of `godwit run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Project name.
    pub project: String,
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

impl RunReport {
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
