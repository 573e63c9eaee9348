//! `godwit validate` (and the end of `run`): every configured validator over
//! the tables of its step.

use super::report::{FindingReport, ValidationReport};
use super::run::target_def;
use super::{select_tables, Session};
use crate::error::Result;
use crate::model::{Severity, TableOutcome, TablePair};
use crate::project::ValidatorPhase;
use crate::runtime::Kind;

/// Findings kept per validator: a report stays readable and bounded; what
/// is dropped is counted in one more error finding.
pub const MAX_FINDINGS: usize = 10_000;

impl Session {
    /// Source/target table pairs of a step; with the step's report of this
    /// run, each pair carries what the run did with the table.
    pub async fn table_pairs(
        &self,
        step: &crate::project::Step,
        ran: Option<&super::report::StepReport>,
    ) -> Result<Vec<TablePair>> {
        let src = self.plugin(&step.source, Kind::Source).await?;
        let discovered = src.plugin.lock().await.discover().await?;
        let (tables, _) = select_tables(step, discovered)?;
        Ok(tables
            .iter()
            .map(|t| {
                let target_def = target_def(step, t);
                let outcome = ran
                    .and_then(|r| r.tables.iter().find(|x| x.source == t.name))
                    .map(|x| TableOutcome {
                        rows_read: x.rows_read,
                        rows_written: x.rows_written,
                        rows_rejected: x.rows_rejected,
                        rejected_by_stage: x
                            .rejected_by_stage
                            .iter()
                            .map(|(k, v)| (k.clone(), *v))
                            .collect(),
                    });
                TablePair {
                    source: t.name.clone(),
                    target: target_def.name.clone(),
                    source_def: t.clone(),
                    target_def,
                    outcome,
                }
            })
            .collect())
    }

    /// `godwit validate`: the validators alone, as a report (no copies, no
    /// steps); `only` limits them to one phase (`validate --before`).
    pub async fn validate_report(&self, only: Option<ValidatorPhase>) -> Result<super::RunReport> {
        let started = std::time::Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.preflight().await?;
        let validation = self.validate_all(only, None).await?;
        Ok(super::RunReport {
            schema: super::report::REPORT_SCHEMA,
            command: "validate".into(),
            project: self.project.name.clone(),
            started_at,
            run_dir: self.run_dir.display().to_string(),
            copies: Vec::new(),
            steps: Vec::new(),
            validation,
            rejects_file: None,
            plugins: self.plugin_reports().await,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Runs every validator (of phase `only`, if given) and gathers the
    /// findings; `ran` is the run's step reports, when validating at its end.
    pub async fn validate_all(
        &self,
        only: Option<ValidatorPhase>,
        ran: Option<&[super::report::StepReport]>,
    ) -> Result<ValidationReport> {
        let mut findings = Vec::new();
        for v in &self.project.validators {
            if only.is_some_and(|w| w != v.when) {
                continue;
            }
            let steps: Vec<_> = self
                .project
                .steps
                .iter()
                .filter(|s| v.step.as_ref().is_none_or(|n| n == &s.name))
                .collect();
            let mut pairs = Vec::new();
            for s in steps {
                let report = ran.and_then(|r| r.iter().find(|x| x.name == s.name));
                pairs.extend(self.table_pairs(s, report).await?);
            }
            let plugin = self.plugin(&v.plugin, Kind::Validator).await?;
            let found = match plugin.plugin.lock().await.validate(&pairs).await {
                Ok(found) => found,
                // `godwit validate` before the first run: a check after
                // writing finds no target tables.
                Err(e)
                    if ran.is_none()
                        && v.when == ValidatorPhase::After
                        && e.code.as_deref() == Some("not-found") =>
                {
                    return Err(e.context_after(
                        "this check runs after writing: if the target is not written yet, \
                         `godwit validate --before` runs the checks that need no target alone \
                         (`godwit plan` lists which run when)",
                    ))
                }
                Err(e) => return Err(e),
            };
            let total = found.len();
            // Every field is plugin text: escaped and bounded.
            let t = |s: String| crate::text::plugin_text(&s, crate::text::MAX_PLUGIN_TEXT);
            findings.extend(found.into_iter().take(MAX_FINDINGS).map(|f| {
                FindingReport {
                    validator: v.plugin.clone(),
                    check: t(f.check),
                    severity: match f.severity {
                        Severity::Info => "info",
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    }
                    .into(),
                    subject: t(f.subject),
                    message: t(f.message),
                    expected: f.expected.map(t),
                    observed: f.observed.map(t),
                    when: v.when,
                }
            }));
            if total > MAX_FINDINGS {
                findings.push(FindingReport {
                    validator: v.plugin.clone(),
                    check: "findings".into(),
                    severity: "error".into(),
                    subject: v.plugin.clone(),
                    message: format!(
                        "{} more findings were dropped (at most {MAX_FINDINGS} are kept per validator)",
                        total - MAX_FINDINGS
                    ),
                    expected: None,
                    observed: None,
                    when: v.when,
                });
            }
        }
        Ok(ValidationReport::new(findings))
    }
}
