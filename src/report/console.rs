//! The console reporter: a line per scenario as it finishes, then every failure with what was
//! sent, what came back, the diff and the scenario line that set the expectation, then a summary.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::outcome::problems::{self, Problem};
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, RunReport, ScenarioResult, StepResult, Summary};
use crate::support::diagnostic::{Diagnostic, Pos};
use crate::support::styles::Styles;
use crate::support::text::{printable, printable_line};
use crate::transport::exchange::Exchange;

pub struct Console {
    pub styles: Styles,
    pub verbose: bool,
    /// Scenario file texts, to quote the line of a failed expectation.
    pub sources: HashMap<String, String>,
}

impl Console {
    fn outcome(&self, o: Outcome) -> String {
        let label = o.label();
        match o {
            Outcome::Passed => self.styles.pass.paint(label),
            Outcome::Warned => self.styles.warn.paint(label),
            Outcome::Failed => self.styles.fail.paint(label),
            Outcome::Skipped | Outcome::NotRun => self.styles.dim.paint(label),
        }
    }

    /// One line per finished scenario (and every exchange with `-v`).
    pub fn scenario_line(&self, r: &ScenarioResult) -> String {
        let mut out = String::new();
        let profile = r
            .profile
            .as_deref()
            .map(|p| format!(" ({} {p})", r.idp))
            .unwrap_or_else(|| {
                if r.idp == "generic" {
                    String::new()
                } else {
                    format!(" ({})", r.idp)
                }
            });
        let _ = writeln!(
            out,
            "{} {} {}{}",
            self.outcome(r.outcome),
            self.styles.dim.paint(&printable_line(&r.file)),
            printable_line(&r.name),
            printable_line(&profile)
        );
        if let (Outcome::Skipped, Some(why)) = (r.outcome, &r.skip_reason) {
            let _ = writeln!(
                out,
                "     {}",
                self.styles
                    .dim
                    .paint(&format!("skipped: {}", printable_line(why)))
            );
        }
        if self.verbose {
            let labelled = r
                .steps
                .iter()
                .map(|s| ("step", s))
                .chain(r.cleanup.iter().map(|s| ("cleanup", s)));
            for (label, step) in labelled {
                let why = match (step.outcome, &step.skip_reason) {
                    (Outcome::NotRun, Some(why)) => {
                        self.styles.dim.paint(&format!(" — not run: {why}"))
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "     {} {label} {}: {}{why}",
                    self.outcome(step.outcome),
                    step.index,
                    printable_line(&step.name)
                );
                for ex in &step.exchanges {
                    out.push_str(&indent(&self.exchange(ex, true), 8));
                }
            }
        }
        out
    }

    /// The distinct problems (one line each), the failures and warnings in detail, then the
    /// verdict line.
    pub fn finish(&self, report: &RunReport) -> String {
        let mut out = String::new();
        out.push_str(&self.problems(&report.problems));
        let noteworthy: Vec<&ScenarioResult> = report
            .scenarios
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed | Outcome::Warned))
            .collect();
        if !noteworthy.is_empty() {
            let _ = writeln!(out, "\n{}", self.styles.bold.paint("findings:"));
        }
        // Failures first: they are what a person came for.
        let mut ordered = noteworthy;
        ordered.sort_by_key(|s| std::cmp::Reverse(s.outcome));
        let mut detailed: Vec<String> = Vec::new();
        for sc in ordered {
            let _ = writeln!(
                out,
                "\n{} {}: {}",
                self.outcome(sc.outcome),
                printable_line(&sc.file),
                self.styles.bold.paint(&printable_line(&sc.name))
            );
            if let Some(src) = &sc.source {
                let _ = writeln!(
                    out,
                    "  {} {}",
                    self.styles.dim.paint("source:"),
                    printable_line(src)
                );
            }
            let labelled = sc
                .steps
                .iter()
                .map(|s| ("step", s))
                .chain(sc.cleanup.iter().map(|s| ("cleanup", s)));
            for (label, step) in labelled {
                if step.findings.is_empty() && step.outcome != Outcome::NotRun {
                    continue;
                }
                out.push_str(&self.step_detail(label, step, &report.problems, &mut detailed));
            }
        }
        out.push('\n');
        out.push_str(&self.summary(&report.summary, report.interrupted));
        out.push_str(&self.left_behind(report));
        out
    }

    /// What the run created and is still on the server, by URL, with what the server did: a
    /// person deletes these by hand.
    fn left_behind(&self, report: &RunReport) -> String {
        let left: Vec<(&str, Option<&Finding>)> = report
            .scenarios
            .iter()
            .flat_map(|sc| sc.steps.iter().chain(&sc.cleanup))
            .filter_map(|step| {
                let url = step.skip_reason.as_deref()?.strip_prefix("left behind: ")?;
                Some((url, step.findings.first()))
            })
            .collect();
        if left.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "{} resource(s) the run created are left behind on the server; delete them by hand:\n",
            left.len()
        );
        for (url, finding) in left {
            let why = finding
                .map(|f| f.message.trim_start_matches("left behind: "))
                .unwrap_or_default();
            // The grace-period note names the URL itself.
            let why = why.strip_prefix(url).map_or(why, str::trim_start);
            let _ = writeln!(out, "  {url}  {}", self.styles.dim.paint(why));
        }
        out
    }

    /// `N distinct problem(s):` and one line per problem, most consequential first.
    pub fn problems(&self, problems: &[Problem]) -> String {
        let mut out = String::new();
        if problems.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "\n{}",
            self.styles
                .bold
                .paint(&format!("{} distinct problem(s):", problems.len()))
        );
        let width = problems.len().to_string().len();
        for (i, p) in problems.iter().enumerate() {
            let first = match &p.first.exchange {
                Some(ex) => format!("{}: {}", p.first.label(), ex.line()),
                None => p.first.label(),
            };
            let _ = writeln!(
                out,
                "  {:>width$}. {}[{}]: {} — {} {}, {} {}; first: {first}",
                i + 1,
                self.severity(p.severity),
                p.rule,
                printable_line(&headline(p)),
                p.scenarios,
                plural(p.scenarios, "scenario", "scenarios"),
                p.steps,
                plural(p.steps, "step", "steps"),
            );
        }
        out
    }

    /// A step's findings. A problem is shown in full (the exchange with bodies, the scenario
    /// line, the IdP's consequence) the first time; after that each finding is one line that
    /// points back to it, so one fault in 30 scenarios reads as one fault, not a flood.
    fn step_detail(
        &self,
        label: &str,
        step: &StepResult,
        problems: &[Problem],
        detailed: &mut Vec<String>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {} {label} {}: {}  {}",
            self.outcome(step.outcome),
            step.index,
            printable_line(&step.name),
            self.styles
                .dim
                .paint(&format!("({})", printable_line(&step.source.to_string())))
        );
        if let (Outcome::NotRun, Some(why)) = (step.outcome, &step.skip_reason) {
            let _ = writeln!(
                out,
                "    {}",
                self.styles.dim.paint(&format!("not run: {why}"))
            );
        }
        let mut findings: Vec<&Finding> = step.findings.iter().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        // Decided before printing, so an exchange shows its bodies when any finding on it is
        // shown in full, whatever order the findings come in.
        let full: Vec<bool> = findings
            .iter()
            .map(|f| {
                let k = problems::key(f);
                let first = !problems::counts(f) || self.verbose || !detailed.contains(&k);
                if problems::counts(f) && !detailed.contains(&k) {
                    detailed.push(k);
                }
                first
            })
            .collect();
        let mut shown = Vec::new();
        for (f, &in_full) in findings.iter().zip(&full) {
            if let Some(i) = f.exchange {
                if !shown.contains(&i) && !self.verbose {
                    if let Some(ex) = step.exchanges.get(i) {
                        let bodies = findings.iter().zip(&full).any(|(g, &gf)| {
                            gf && g.exchange == Some(i) && g.severity == Severity::Error
                        });
                        out.push_str(&indent(&self.exchange(ex, bodies), 4));
                    }
                    shown.push(i);
                }
            }
            if in_full {
                out.push_str(&indent(&self.finding(f), 4));
            } else {
                out.push_str(&indent(&self.repeated(f, problems), 4));
            }
        }
        out
    }

    /// A finding of a problem already shown in full: its line and its diffs, and which problem
    /// it is.
    fn repeated(&self, f: &Finding, problems: &[Problem]) -> String {
        let k = problems::key(f);
        let n = problems
            .iter()
            .position(|p| p.key == k)
            .map(|i| format!("problem {}", i + 1))
            .unwrap_or_else(|| "see above".into());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}[{}]: {}  {}",
            self.severity(f.severity),
            f.rule,
            printable(&f.message),
            self.styles
                .dim
                .paint(&format!("({n}, shown in full above)"))
        );
        for d in &f.diff {
            let _ = writeln!(
                out,
                "  {}: expected {} — actual {}",
                self.styles.bold.paint(&printable(&d.pointer)),
                self.styles.expected.paint(&printable(&d.expected)),
                self.styles.actual.paint(&printable(&d.actual))
            );
        }
        out
    }

    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Error => self.styles.error.paint("error"),
            Severity::Warning => self.styles.warn.paint("warning"),
            Severity::Info => self.styles.info.paint("info"),
        }
    }

    pub fn finding(&self, f: &Finding) -> String {
        let mut out = String::new();
        let sev = self.severity(f.severity);
        let _ = writeln!(out, "{sev}[{}]: {}", f.rule, printable(&f.message));
        if let Some(src) = &f.source {
            let d = Diagnostic {
                file: src.file.clone(),
                pos: Pos {
                    line: src.line,
                    col: src.column,
                },
                width: 1,
                message: String::new(),
                label: None,
                help: None,
            };
            let rendered = d.render(
                self.sources.get(&src.file).map(String::as_str),
                &self.styles,
            );
            // Drop the diagnostic's own headline: the finding's line above says it.
            for line in rendered.lines().skip(1) {
                let _ = writeln!(out, "  {line}");
            }
        }
        for d in &f.diff {
            let _ = writeln!(
                out,
                "  {}: expected {} — actual {}",
                self.styles.bold.paint(&printable(&d.pointer)),
                self.styles.expected.paint(&printable(&d.expected)),
                self.styles.actual.paint(&printable(&d.actual))
            );
        }
        if let Some(r) = &f.reference {
            let _ = writeln!(out, "  {} {}", self.styles.dim.paint("= see"), printable(r));
        }
        if let Some(i) = &f.impact {
            let _ = writeln!(
                out,
                "  {} {}",
                self.styles.dim.paint("= IdP:"),
                printable(i)
            );
        }
        out
    }

    /// What was sent and what came back. `bodies`: include bodies (cut to a few lines).
    pub fn exchange(&self, ex: &Exchange, bodies: bool) -> String {
        let mut out = String::new();
        let sim = if ex.simulated { " (dry run)" } else { "" };
        let _ = writeln!(
            out,
            "{} {} {}{sim}",
            self.styles.dim.paint(">"),
            printable_line(&ex.request.method),
            printable_line(&ex.request.url)
        );
        if self.verbose {
            for (k, v) in &ex.request.headers {
                let _ = writeln!(
                    out,
                    "{} {}: {}",
                    self.styles.dim.paint(">"),
                    printable_line(k),
                    printable_line(v)
                );
            }
        }
        if bodies {
            if let Some(b) = &ex.request.body {
                out.push_str(&prefixed(&pretty(b), "> ", 12, &self.styles));
            } else if let Some(raw) = &ex.request.raw_body {
                out.push_str(&prefixed(raw, "> ", 12, &self.styles));
            }
        }
        match (&ex.response, &ex.error) {
            (Some(r), _) => {
                let _ = writeln!(
                    out,
                    "{} {} {}",
                    self.styles.dim.paint("<"),
                    r.status,
                    reason(r.status)
                );
                if self.verbose {
                    for (k, v) in &r.headers {
                        let _ = writeln!(
                            out,
                            "{} {}: {}",
                            self.styles.dim.paint("<"),
                            printable_line(k),
                            printable_line(v)
                        );
                    }
                }
                if bodies {
                    if let Some(b) = &r.body {
                        out.push_str(&prefixed(&pretty(b), "< ", 20, &self.styles));
                    } else if let Some(t) = &r.text {
                        out.push_str(&prefixed(t, "< ", 8, &self.styles));
                    }
                }
            }
            (None, Some(e)) => {
                let _ = writeln!(
                    out,
                    "{} no answer: {}",
                    self.styles.dim.paint("<"),
                    printable(&e.message)
                );
            }
            (None, None) => {}
        }
        out
    }

    pub fn summary(&self, s: &Summary, interrupted: bool) -> String {
        let mut parts = vec![format!("{} passed", s.passed)];
        if s.warned > 0 {
            parts.push(format!("{} warned", s.warned));
        }
        parts.push(format!("{} failed", s.failed));
        if s.skipped > 0 {
            parts.push(format!("{} skipped", s.skipped));
        }
        // An interrupted run proves nothing by passing: what did not run was not checked.
        let verdict = if s.failed > 0 {
            self.styles.fail.paint("FAILED")
        } else if interrupted {
            self.styles.warn.paint("INTERRUPTED")
        } else {
            self.styles.pass.paint("PASSED")
        };
        let not_run = if s.not_run > 0 {
            format!(" ({} not run)", s.not_run)
        } else {
            String::new()
        };
        let mut out = format!(
            "{verdict}: {} scenario(s): {}; {} step(s){not_run}, {} exchange(s); {} distinct problem(s): {} error(s), {} warning(s)\n",
            s.scenarios,
            parts.join(", "),
            s.steps,
            s.exchanges,
            s.problems,
            s.errors,
            s.warnings
        );
        if interrupted {
            out.push_str("interrupted: steps after the signal did not run; cleanup ran within the grace period (anything it could not delete is a cleanup.left-behind warning above)\n");
        }
        out
    }
}

pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn prefixed(text: &str, prefix: &str, max_lines: usize, styles: &Styles) -> String {
    let mut out = String::new();
    let total = text.lines().count();
    for line in text.lines().take(max_lines) {
        let _ = writeln!(out, "{}{}", styles.dim.paint(prefix), printable(line));
    }
    if total > max_lines {
        let _ = writeln!(
            out,
            "{}… {} more line(s)",
            styles.dim.paint(prefix),
            total - max_lines
        );
    }
    out
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

pub fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// A message on one line, cut at 140 characters: the problems list is one line per problem.
pub fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 140 {
        let cut: String = line.chars().take(139).collect();
        format!("{cut}…")
    } else {
        line
    }
}

/// A problem's message on one line, with the trigger its probes found kept in view: the
/// probe's sentence is replaced by a short note that a cut cannot hide.
fn headline(p: &Problem) -> String {
    if p.triggers.is_empty() {
        return one_line(&p.message);
    }
    let cut = [" — it fails only with ", " — without any one of "]
        .iter()
        .filter_map(|m| p.message.find(m))
        .min()
        .unwrap_or(p.message.len());
    let names: Vec<String> = p.triggers.iter().map(|t| format!("`{t}`")).collect();
    format!(
        "{} [depends on {}]",
        one_line(&p.message[..cut]),
        names.join(", ")
    )
}
