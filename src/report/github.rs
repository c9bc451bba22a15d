//! GitHub Actions annotations (`--format github`): workflow commands on stdout that GitHub turns
//! into annotations on the scenario line of each finding.
//!
//! Failures that fail the run are `::error`; failures the baseline accepts are `::notice`
//! (visible, but not alarming); findings below `--fail-on` are `::warning` (warnings) or
//! skipped (info); baseline entries that no longer fail and capability-skipped scenarios are
//! `::notice`. Values are escaped as the runner expects (`%`, CR, LF; and `:`/`,` in
//! properties), so a message can never end the command early or forge another.

use std::fmt::Write as _;

use crate::gate::baseline::Gate;
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, RunReport};

pub fn render(report: &RunReport, gate: &Gate) -> String {
    let mut out = String::new();
    for sc in &report.scenarios {
        if sc.outcome == Outcome::Skipped {
            let reason = sc.skip_reason.as_deref().unwrap_or("skipped");
            command(
                &mut out,
                "notice",
                &sc.file,
                sc.line,
                None,
                &format!("skipped: {}", sc.name),
                reason,
            );
            continue;
        }
        for step in &sc.steps {
            for f in &step.findings {
                let (level, tag) = if gate.is_new_failure(f) {
                    ("error", String::new())
                } else if let Some(e) = gate.known_entry(f) {
                    let why = e
                        .reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default();
                    ("notice", format!(" (known failure, in the baseline{why})"))
                } else if f.severity == Severity::Warning || f.severity >= gate.fail_on {
                    ("warning", String::new())
                } else {
                    continue;
                };
                let src = f.source.as_ref().unwrap_or(&step.source);
                let title = format!(
                    "{}{tag}: {} — step {}: {}",
                    f.rule, sc.name, step.index, step.name
                );
                command(
                    &mut out,
                    level,
                    &src.file,
                    src.line,
                    Some(src.column),
                    &title,
                    &message(f),
                );
            }
        }
    }
    for e in gate.fixed() {
        let line = report
            .scenarios
            .iter()
            .find(|s| s.file == e.file && s.name == e.scenario)
            .map_or(1, |s| s.line);
        command(
            &mut out,
            "notice",
            &e.file,
            line,
            None,
            &format!("fixed: {}", e.rule),
            &format!(
                "{} no longer fails; remove it from the baseline{}",
                e.label(),
                if gate.strict {
                    " (the strict baseline fails the run until then)"
                } else {
                    ""
                }
            ),
        );
    }
    out
}

fn message(f: &Finding) -> String {
    let mut m = f.message.clone();
    for d in &f.diff {
        let _ = write!(
            m,
            "\n{}: expected {} — actual {}",
            d.pointer, d.expected, d.actual
        );
    }
    if let Some(i) = &f.impact {
        let _ = write!(m, "\nIdP: {i}");
    }
    if let Some(r) = &f.reference {
        let _ = write!(m, "\nsee {r}");
    }
    m
}

fn command(
    out: &mut String,
    level: &str,
    file: &str,
    line: u32,
    col: Option<u32>,
    title: &str,
    msg: &str,
) {
    let col = col.map(|c| format!(",col={c}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "::{level} file={},line={line}{col},title={}::{}",
        property(file),
        property(title),
        data(msg)
    );
}

/// Escapes a command's message (as `@actions/core` does).
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: also `:` and `,`, which would end it.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_cannot_forge_commands() {
        assert_eq!(super::data("a\n::error::x%"), "a%0A::error::x%25");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
