//! Baselines: the failures a CI gate already knows about.
//!
//! A baseline is a TOML file a person can read, edit and review in a pull request:
//!
//! ```toml
//! version = 1
//!
//! [[known]]
//! file = "scenarios/generic/users-lifecycle.yaml"
//! scenario = "User lifecycle by the RFC"
//! step = 1
//! step_name = "create the user"
//! rule = "expect.status"
//! severity = "error"
//! reason = "our server answers 200 to a create; ticket SCIM-42"
//! ```
//!
//! An entry is keyed by scenario file + scenario name, the step (its 1-based index and/or its
//! name; leave either out to match any), and the rule id. `severity` is informational (what it
//! was when recorded); `reason` is a line a person wrote and is kept when the baseline is
//! rewritten. Several findings of one rule in one step are one entry: the key says *what* breaks,
//! not how often.
//!
//! The gate (`evaluate`) sorts every failing finding of a run — severity at or above `--fail-on`,
//! in a scenario's steps (cleanup problems never fail a run, as without a baseline) — into
//! *known* (an entry matches) or *new*, and every entry into *still failing*, *fixed* (its step
//! ran and the finding is gone, or the step no longer exists), *unverified* (its scenario or step
//! was skipped, so nobody knows) or *not run* (its scenario was not selected). New failures fail
//! the run; in strict mode fixed and unverified entries fail it too, so the baseline doubles as an
//! exact expectation ("any unexpected change fails CI").

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, RunReport, ScenarioResult, StepResult};
use crate::support::diagnostic::{Diagnostic, Pos};
use crate::support::signal::Signal;
use crate::verdict::Verdict;

/// The baseline format version this idpsim reads and writes.
pub const BASELINE_VERSION: i64 = 1;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: i64,
    #[serde(default)]
    pub known: Vec<Entry>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub file: String,
    pub scenario: String,
    #[serde(default)]
    pub step: Option<usize>,
    #[serde(default)]
    pub step_name: Option<String>,
    pub rule: String,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Entry {
    fn matches(&self, sc: &ScenarioResult, step: &StepResult, rule: &str) -> bool {
        self.file == sc.file
            && self.scenario == sc.name
            && self.rule == rule
            && self.step.is_none_or(|i| i == step.index)
            && self.step_name.as_deref().is_none_or(|n| n == step.name)
    }

    fn matches_step(&self, step: &StepResult) -> bool {
        self.step.is_none_or(|i| i == step.index)
            && self.step_name.as_deref().is_none_or(|n| n == step.name)
    }

    /// `file: scenario — step 3 "name" — rule`, for console lines.
    pub fn label(&self) -> String {
        let mut out = format!("{}: {}", self.file, self.scenario);
        match (&self.step, &self.step_name) {
            (Some(i), Some(n)) => {
                let _ = write!(out, " — step {i}: {n}");
            }
            (Some(i), None) => {
                let _ = write!(out, " — step {i}");
            }
            (None, Some(n)) => {
                let _ = write!(out, " — step {n}");
            }
            (None, None) => {}
        }
        let _ = write!(out, " — {}", self.rule);
        out
    }
}

/// Reads and checks a baseline file; problems are usage errors (exit 2) with file:line:col.
pub fn load(path: &Path) -> Result<Baseline> {
    let text = crate::support::input::read_text(path).map_err(|e| Error::io(path.display(), e))?;
    parse(&path.display().to_string(), &text)
}

pub fn parse(display: &str, text: &str) -> Result<Baseline> {
    let baseline: Baseline = toml::from_str(text).map_err(|e| toml_error(display, text, &e))?;
    if baseline.version != BASELINE_VERSION {
        let pos = find_key(text, "version").unwrap_or_default();
        return Err(usage_diag(
            Diagnostic::new(
                display,
                pos,
                format!(
                    "unsupported baseline version {}; this idpsim reads `version = {BASELINE_VERSION}`",
                    baseline.version
                ),
            ),
            text,
        ));
    }
    for (i, e) in baseline.known.iter().enumerate() {
        if let Some(sev) = &e.severity {
            if !["error", "warning", "info"].contains(&sev.as_str()) {
                let pos = nth_table(text, "known", i).unwrap_or_default();
                return Err(usage_diag(
                    Diagnostic::new(
                        display,
                        pos,
                        format!(
                            "[[known]] entry {}: severity `{sev}` is not error, warning or info",
                            i + 1
                        ),
                    ),
                    text,
                ));
            }
        }
    }
    Ok(baseline)
}

/// A TOML problem as a rendered diagnostic pointing at its line and column.
pub fn toml_error(display: &str, text: &str, e: &toml::de::Error) -> Error {
    let pos = e
        .span()
        .map(|s| offset_pos(text, s.start))
        .unwrap_or_default();
    let width = e
        .span()
        .map(|s| text.get(s.clone()).map_or(1, |t| t.chars().count()))
        .unwrap_or(1)
        .clamp(1, 60);
    let message = e.message().trim().replace('\n', " ");
    usage_diag(Diagnostic::new(display, pos, message).width(width), text)
}

/// A diagnostic rendered (plain) into a usage error, so it exits 2 and shows the line.
pub fn usage_diag(d: Diagnostic, text: &str) -> Error {
    let rendered = d.render(Some(text), &crate::support::styles::Styles::plain());
    // `report_error` prefixes "error: " itself.
    let rendered = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    Error::Usage(rendered.trim_end().to_string())
}

/// 1-based line and column (in characters) of a byte offset.
pub fn offset_pos(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos::new(line, col)
}

fn find_key(text: &str, key: &str) -> Option<Pos> {
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        (t.starts_with(key) && t[key.len()..].trim_start().starts_with('='))
            .then(|| Pos::new(i + 1, l.len() - t.len() + 1))
    })
}

fn nth_table(text: &str, name: &str, n: usize) -> Option<Pos> {
    let header = format!("[[{name}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| Pos::new(i + 1, 1))
}

/// One failing finding of the run, located.
#[derive(Clone, Debug)]
pub struct Failure<'a> {
    pub scenario: &'a ScenarioResult,
    pub step: &'a StepResult,
    pub finding: &'a Finding,
    /// The baseline entry that accepts it, when there is one.
    pub known: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EntryStatus {
    StillFailing,
    Fixed,
    Unverified(String),
    NotRun,
}

/// What the gate makes of a distinct problem.
#[derive(Debug, PartialEq)]
pub enum ProblemVerdict<'a> {
    /// It fails the run.
    New,
    /// It would fail the run, but the baseline accepts every finding of it (these entries).
    Known(Vec<&'a Entry>),
    /// It does not fail the run: below `--fail-on`, or in cleanup.
    Tolerated,
}

/// What the gate decided about a run.
#[derive(Debug)]
pub struct Gate<'a> {
    pub fail_on: Severity,
    pub strict: bool,
    /// Where the baseline came from (None: no baseline, every failure is new).
    pub baseline_path: Option<String>,
    pub entries: Vec<(Entry, EntryStatus)>,
    pub failures: Vec<Failure<'a>>,
}

impl<'a> Gate<'a> {
    pub fn new_failures(&self) -> impl Iterator<Item = &Failure<'a>> {
        self.failures.iter().filter(|f| f.known.is_none())
    }
    pub fn known_failures(&self) -> impl Iterator<Item = &Failure<'a>> {
        self.failures.iter().filter(|f| f.known.is_some())
    }
    pub fn with_status(
        &self,
        pick: fn(&EntryStatus) -> bool,
    ) -> impl Iterator<Item = &(Entry, EntryStatus)> {
        self.entries.iter().filter(move |(_, s)| pick(s))
    }
    pub fn fixed(&self) -> impl Iterator<Item = &Entry> {
        self.with_status(|s| *s == EntryStatus::Fixed)
            .map(|(e, _)| e)
    }
    pub fn unverified(&self) -> impl Iterator<Item = (&Entry, &str)> {
        self.entries.iter().filter_map(|(e, s)| match s {
            EntryStatus::Unverified(why) => Some((e, why.as_str())),
            _ => None,
        })
    }
    /// The baseline entry accepting this finding, for reports that mark known failures.
    pub fn known_entry(&self, finding: &Finding) -> Option<&Entry> {
        self.failures
            .iter()
            .find(|f| std::ptr::eq(f.finding, finding))
            .and_then(|f| f.known)
            .and_then(|i| self.entries.get(i))
            .map(|(e, _)| e)
    }
    /// Whether this finding fails the run (at or above --fail-on and not in the baseline).
    pub fn is_new_failure(&self, finding: &Finding) -> bool {
        self.failures
            .iter()
            .any(|f| std::ptr::eq(f.finding, finding) && f.known.is_none())
    }

    /// What the gate makes of a distinct problem (by its key): new when any of its failing
    /// findings is new, known when the baseline accepts all of them, else tolerated (below
    /// `--fail-on`, or only in cleanup, which never fails a run).
    pub fn problem_verdict(&self, key: &str) -> ProblemVerdict<'_> {
        let mut known = Vec::new();
        let mut any = false;
        for f in &self.failures {
            if crate::outcome::problems::key(f.finding) != key {
                continue;
            }
            any = true;
            match f.known.and_then(|i| self.entries.get(i)) {
                None => return ProblemVerdict::New,
                Some((e, _)) => {
                    if !known.contains(&e) {
                        known.push(e);
                    }
                }
            }
        }
        if any {
            ProblemVerdict::Known(known)
        } else {
            ProblemVerdict::Tolerated
        }
    }

    pub fn passed(&self) -> bool {
        self.new_failures().next().is_none()
            && !(self.strict
                && self
                    .entries
                    .iter()
                    .any(|(_, s)| matches!(s, EntryStatus::Fixed | EntryStatus::Unverified(_))))
    }

    /// The run's verdict. A signal wins: what ran is incomplete, whatever it showed. Else new
    /// failures (or, strict, any change from the baseline) fail the run.
    pub fn verdict(&self, stopped_by: Option<Signal>) -> Verdict {
        match stopped_by {
            Some(signal) => Verdict::Stopped(signal),
            None => Verdict::passed_if(self.passed()),
        }
    }

    /// The console lines about the baseline (nothing when there is no baseline).
    pub fn console_summary(&self) -> String {
        let Some(path) = &self.baseline_path else {
            return String::new();
        };
        let mut out = String::new();
        let new = self.new_failures().count();
        let known = self.known_failures().count();
        let fixed = self.fixed().count();
        let unverified = self.unverified().count();
        let not_run = self.with_status(|s| *s == EntryStatus::NotRun).count();
        let _ = writeln!(
            out,
            "baseline {path}{}: {new} new failure(s), {known} known failure(s), {fixed} fixed, {unverified} unverified, {not_run} not run",
            if self.strict { " (strict)" } else { "" }
        );
        for f in self.new_failures() {
            let _ = writeln!(
                out,
                "  NEW       {}: {} — step {}: {} — {}: {}",
                f.scenario.file,
                f.scenario.name,
                f.step.index,
                f.step.name,
                f.finding.rule,
                f.finding.message
            );
        }
        for e in self.fixed() {
            let _ = writeln!(
                out,
                "  FIXED     {}{}",
                e.label(),
                e.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        for (e, why) in self.unverified() {
            let _ = writeln!(out, "  UNVERIFIED {} ({why})", e.label());
        }
        if self.strict && (fixed > 0 || unverified > 0) {
            let _ = writeln!(
                out,
                "  strict baseline: update it (--write-baseline) once these changes are intended"
            );
        } else if fixed > 0 {
            let _ = writeln!(
                out,
                "  remove the fixed entries from {path} (or rewrite it with --write-baseline) so they cannot come back unnoticed"
            );
        }
        out
    }
}

/// Sorts the run's failures and the baseline's entries (see the module docs).
pub fn evaluate<'a>(
    report: &'a RunReport,
    baseline: Option<(&str, &Baseline)>,
    fail_on: Severity,
    strict: bool,
) -> Gate<'a> {
    let entries: Vec<Entry> = baseline.map(|(_, b)| b.known.clone()).unwrap_or_default();
    let mut failures = Vec::new();
    let mut hit = vec![false; entries.len()];
    for sc in &report.scenarios {
        for step in &sc.steps {
            for finding in step.findings.iter().filter(|f| f.severity >= fail_on) {
                let known = entries
                    .iter()
                    .position(|e| e.matches(sc, step, &finding.rule));
                if let Some(i) = known {
                    hit[i] = true;
                }
                failures.push(Failure {
                    scenario: sc,
                    step,
                    finding,
                    known,
                });
            }
        }
    }
    let entries = entries
        .into_iter()
        .zip(hit)
        .map(|(e, hit)| {
            let status = if hit {
                EntryStatus::StillFailing
            } else {
                entry_status(report, &e)
            };
            (e, status)
        })
        .collect();
    Gate {
        fail_on,
        strict,
        baseline_path: baseline.map(|(p, _)| p.to_string()),
        entries,
        failures,
    }
}

fn entry_status(report: &RunReport, e: &Entry) -> EntryStatus {
    let Some(sc) = report
        .scenarios
        .iter()
        .find(|s| s.file == e.file && s.name == e.scenario)
    else {
        return EntryStatus::NotRun;
    };
    if sc.outcome == Outcome::Skipped {
        return EntryStatus::Unverified(format!(
            "the scenario was skipped: {}",
            sc.skip_reason.as_deref().unwrap_or("no reason given")
        ));
    }
    let steps: Vec<&StepResult> = sc.steps.iter().filter(|s| e.matches_step(s)).collect();
    // A step not run (it needed what a failed step did not produce) proves nothing either way.
    if !steps.is_empty()
        && steps
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Skipped | Outcome::NotRun))
    {
        let why = steps
            .iter()
            .find_map(|s| s.skip_reason.clone())
            .unwrap_or_else(|| "skipped".into());
        return EntryStatus::Unverified(format!("the step did not run: {why}"));
    }
    EntryStatus::Fixed
}

/// Writes the run's failures (at or above `fail_on`) as a baseline, keeping the reasons of
/// matching entries in `previous`.
pub fn render(report: &RunReport, fail_on: Severity, previous: Option<&Baseline>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# idpsim baseline: failures accepted by `idpsim run --baseline FILE`.\n\
         # Written by idpsim {} (--fail-on {}). Each [[known]] entry is keyed by file, scenario,\n\
         # step (index and/or name; leave one out to match any) and rule. Add a `reason` line for\n\
         # people; idpsim keeps reasons when it rewrites this file. The comments are not read.\n",
        env!("CARGO_PKG_VERSION"),
        fail_on.name()
    );
    let _ = writeln!(out, "version = {BASELINE_VERSION}");
    let mut seen: Vec<Entry> = Vec::new();
    for sc in &report.scenarios {
        for step in &sc.steps {
            for f in step.findings.iter().filter(|f| f.severity >= fail_on) {
                let mut entry = Entry {
                    file: sc.file.clone(),
                    scenario: sc.name.clone(),
                    step: Some(step.index),
                    step_name: Some(step.name.clone()),
                    rule: f.rule.clone(),
                    severity: Some(f.severity.name().to_string()),
                    reason: None,
                };
                if seen.iter().any(|e| {
                    e.file == entry.file
                        && e.scenario == entry.scenario
                        && e.step == entry.step
                        && e.step_name == entry.step_name
                        && e.rule == entry.rule
                }) {
                    continue;
                }
                entry.reason = previous.and_then(|b| {
                    b.known
                        .iter()
                        .find(|p| p.matches(sc, step, &f.rule))
                        .and_then(|p| p.reason.clone())
                });
                let _ = writeln!(out, "\n# {}", one_line(&f.message));
                let _ = writeln!(out, "[[known]]");
                let _ = writeln!(out, "file = {}", quote(&entry.file));
                let _ = writeln!(out, "scenario = {}", quote(&entry.scenario));
                let _ = writeln!(out, "step = {}", step.index);
                let _ = writeln!(out, "step_name = {}", quote(&step.name));
                let _ = writeln!(out, "rule = {}", quote(&entry.rule));
                let _ = writeln!(out, "severity = {}", quote(f.severity.name()));
                if let Some(r) = &entry.reason {
                    let _ = writeln!(out, "reason = {}", quote(r));
                }
                seen.push(entry);
            }
        }
    }
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn one_line(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 110 {
        let cut: String = line.chars().take(107).collect();
        format!("{cut}…")
    } else {
        line
    }
}
