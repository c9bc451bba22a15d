//! The result of a run: what every reporter (console, JSON, JUnit) renders. Serialized as the
//! versioned JSON report; `docs/report.schema.json` describes it and a test keeps them in step.
//!
//! A leaf: it holds data the engine, the judges and the gate produce, and imports only the
//! transport's `Exchange` and `support`, so every layer above can name it without a cycle.

mod finding;
pub mod problems;

pub use finding::{Citation, DiffEntry, Finding, Severity, Trigger};

use serde::Serialize;

use crate::support::diagnostic::SourceRef;
use crate::transport::exchange::Exchange;

/// Version 2 added `problems` (findings grouped into distinct problems), the `not-run` outcome
/// with `needs`, and `summary.not_run`.
pub const REPORT_VERSION: &str = "2";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Skipped,
    /// The step needed something an earlier step failed to produce (or the IdP itself would
    /// have stopped before it): it proves nothing either way and is not counted as a failure.
    #[serde(rename = "not-run")]
    NotRun,
    Warned,
    Failed,
}

impl Outcome {
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let worst = findings.into_iter().map(|f| f.severity).max();
        match worst {
            Some(Severity::Error) => Outcome::Failed,
            Some(Severity::Warning) => Outcome::Warned,
            _ => Outcome::Passed,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Skipped => "SKIP",
            Outcome::NotRun => "NOT RUN",
            Outcome::Warned => "WARN",
            Outcome::Failed => "FAIL",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub version: &'static str,
    pub tool: Tool,
    pub target: Target,
    pub started_at: String,
    pub duration_ms: u64,
    pub interrupted: bool,
    /// The signal that interrupted the run (`SIGINT` or `SIGTERM`); absent when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<&'static str>,
    pub summary: Summary,
    /// The findings grouped into distinct problems, most consequential first (`problems`).
    pub problems: Vec<problems::Problem>,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub url: String,
    /// True when no --target was given and the built-in reference server answered.
    pub builtin: bool,
    pub dry_run: bool,
    /// `--insecure`: the target's TLS certificate was not verified. Only present when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub scenarios: usize,
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub steps: usize,
    /// Steps not run because they needed what a failed step did not produce.
    pub not_run: usize,
    pub exchanges: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Distinct problems: what the errors and warnings come down to.
    pub problems: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub file: String,
    pub line: u32,
    pub idp: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The unique suffix this run gave the scenario's names.
    pub run_id: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub steps: Vec<StepResult>,
    /// The scenario's cleanup steps and idpsim's deletions of what the scenario created.
    pub cleanup: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// What the IdP believes it provisioned, in the state-file shape, taken before cleanup; only
    /// when `--write-state` asked for it (`audit::state_file` writes it). Not in the JSON report.
    #[serde(skip)]
    pub believed: Option<serde_json::Value>,
}

impl ScenarioResult {
    /// Drops the bodies of the exchanges of steps without a finding: a run that writes no
    /// report file and prints only what its findings point at never shows them again, and they
    /// are most of what a suite run holds. Statuses, URLs and counts stay, so the summary and
    /// the verdict are the same.
    pub fn shed_unshown_bodies(&mut self) {
        for step in self.steps.iter_mut().chain(&mut self.cleanup) {
            if !step.findings.is_empty() {
                continue;
            }
            for ex in step.exchanges.iter_mut().chain(&mut step.probes) {
                ex.request.body = None;
                ex.request.raw_body = None;
                ex.request.headers = Vec::new();
                if let Some(r) = &mut ex.response {
                    r.body = None;
                    r.text = None;
                    r.headers = Vec::new();
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepResult {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub source: SourceRef,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub exchanges: Vec<Exchange>,
    pub findings: Vec<Finding>,
    /// Why the step was skipped or not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// A step not run: the failed step it needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<StepRef>,
    /// idpsim's diagnostic re-sends of a failed query without one parameter each (never the
    /// IdP's traffic, never a change of state); findings name what they showed (`triggers`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Exchange>,
}

/// Whether a step is one of a scenario's steps or of its cleanup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Step,
    Cleanup,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Step => "step",
            Phase::Cleanup => "cleanup",
        }
    }
}

/// A step of a scenario by phase and 1-based index: `step 3`, `cleanup step 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub phase: Phase,
    pub index: usize,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.phase {
            Phase::Step => write!(f, "step {}", self.index),
            Phase::Cleanup => write!(f, "cleanup step {}", self.index),
        }
    }
}

impl RunReport {
    pub fn summarize(scenarios: &[ScenarioResult], problems: &[problems::Problem]) -> Summary {
        let mut s = Summary {
            scenarios: scenarios.len(),
            problems: problems.len(),
            ..Summary::default()
        };
        for sc in scenarios {
            match sc.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Warned => s.warned += 1,
                Outcome::Failed => s.failed += 1,
                // A scenario's outcome is its worst step's; "not run" never is the worst of
                // a scenario that ran (the step it needed failed).
                Outcome::Skipped | Outcome::NotRun => s.skipped += 1,
            }
            for step in sc.steps.iter().chain(&sc.cleanup) {
                s.steps += usize::from(sc.steps.iter().any(|x| std::ptr::eq(x, step)));
                s.not_run += usize::from(step.outcome == Outcome::NotRun);
                s.exchanges += step.exchanges.len();
                for f in &step.findings {
                    match f.severity {
                        Severity::Error => s.errors += 1,
                        Severity::Warning => s.warnings += 1,
                        Severity::Info => {}
                    }
                }
            }
        }
        s
    }
}
