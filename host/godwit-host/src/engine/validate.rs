//! `godwit validate` (and the end of `run`): every configured validator over
//! the tables of its step.

use super::report::{FindingReport, ValidationReport};
use super::run::target_def;
use super::{select_tables, Session};
use crate::error::Result;
use crate::runtime::bindings::exports::godwit::plugin::validation::{Severity, TablePair};
use crate::runtime::Kind;

impl Session {
    /// Source/target table pairs of a step.
    pub async fn table_pairs(&self, step: &crate::project::Step) -> Result<Vec<TablePair>> {
        let src = self.plugin(&step.source, Kind::Source).await?;
        let discovered = src.plugin.lock().await.discover().await?;
        let (tables, _) = select_tables(step, discovered)?;
        Ok(tables
            .iter()
            .map(|t| TablePair {
                source: t.name.clone(),
                target: target_def(step, t).name,
            })
            .collect())
    }

    /// Runs every validator and gathers the findings.
    pub async fn validate_all(&self) -> Result<ValidationReport> {
        let mut findings = Vec::new();
        for v in &self.project.validators {
            let steps: Vec<_> = self
                .project
                .steps
                .iter()
                .filter(|s| v.step.as_ref().is_none_or(|n| n == &s.name))
                .collect();
            let mut pairs = Vec::new();
            for s in steps {
                pairs.extend(self.table_pairs(s).await?);
            }
            let plugin = self.plugin(&v.plugin, Kind::Validator).await?;
            let found = plugin.plugin.lock().await.validate(&pairs).await?;
            findings.extend(found.into_iter().map(|f| {
                FindingReport {
                    validator: v.plugin.clone(),
                    check: f.check,
                    severity: match f.severity {
                        Severity::Info => "info",
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    }
                    .into(),
                    subject: f.subject,
                    message: f.message,
                    expected: f.expected,
                    observed: f.observed,
                }
            }));
        }
        Ok(ValidationReport::new(findings))
    }
}
