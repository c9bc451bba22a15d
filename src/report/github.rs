//! GitHub Actions annotations (`--format github`): workflow commands on stdout that GitHub turns
//! into annotations on the scenario line of each finding.
//!
//! One annotation per distinct problem (`outcome::problems`), at the scenario line of its first
//! place, with the consequence for each IdP it showed with and the list of the other places.
//! Problems that fail the run are `::error`; problems the baseline accepts are `::notice`
//! (visible, but not alarming); problems below `--fail-on` (and cleanup's) are `::warning`;
//! baseline entries that no longer fail and capability-skipped scenarios are `::notice`. Values are escaped as the runner expects (`%`, CR, LF; and `:`/`,` in
//! properties), so a message can never end the command early or forge another.

use std::fmt::Write as _;

use crate::gate::baseline::{Gate, ProblemVerdict};
use crate::outcome::problems;
use crate::outcome::Finding;
use crate::outcome::{Outcome, RunReport};

/// How many other places one annotation lists; the JSON report has them all.
const MAX_LISTED: usize = 20;

pub fn render(report: &RunReport, gate: &Gate) -> String {
    let mut out = String::new();
    for sc in report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Skipped)
    {
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
    }
    // One annotation per distinct problem, at the first place it showed, listing the others:
    // a fault that shows in 30 scenarios is one thing to fix, not 30 annotations.
    for (n, p) in report.problems.iter().enumerate() {
        let (level, tag) = match gate.problem_verdict(&p.key) {
            ProblemVerdict::New => ("error", String::new()),
            ProblemVerdict::Known(entries) => {
                let why: Vec<&str> = entries.iter().filter_map(|e| e.reason.as_deref()).collect();
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", why.join("; "))
                };
                ("notice", format!(" (known failure, in the baseline{why})"))
            }
            ProblemVerdict::Tolerated => ("warning", String::new()),
        };
        let places = problems::findings_of(&report.scenarios, &p.key);
        let Some((_, _, _, first)) = places
            .iter()
            .find(|(sc, phase, step, _)| {
                sc.file == p.first.file
                    && sc.name == p.first.scenario
                    && *phase == p.first.phase
                    && step.index == p.first.step
            })
            .or(places.first())
        else {
            continue;
        };
        let title = format!(
            "problem {}: {}{tag} — {} {}, {} {}",
            n + 1,
            p.rule,
            p.scenarios,
            if p.scenarios == 1 {
                "scenario"
            } else {
                "scenarios"
            },
            p.steps,
            if p.steps == 1 { "step" } else { "steps" },
        );
        let src = &p.first.source;
        let mut msg = message(first);
        // Each IdP's own consequence, when the first place spoke for only one.
        for c in &p.consequences {
            if first.impact.as_deref() != Some(c.impact.as_str()) {
                let _ = write!(msg, "\n{}: {}", c.idp, c.impact);
            }
        }
        let others: Vec<String> = p
            .places
            .iter()
            .filter(|pl| {
                !(pl.file == p.first.file
                    && pl.scenario == p.first.scenario
                    && pl.phase == p.first.phase
                    && pl.step == p.first.step)
            })
            .map(|pl| {
                format!(
                    "{}:{} — {} — {} {}: {}",
                    pl.source.file,
                    pl.source.line,
                    pl.scenario,
                    pl.phase.name(),
                    pl.step,
                    pl.step_name
                )
            })
            .collect();
        if !others.is_empty() {
            let _ = write!(msg, "\nAlso in {} other step(s):", others.len());
            for o in others.iter().take(MAX_LISTED) {
                let _ = write!(msg, "\n- {o}");
            }
            if others.len() > MAX_LISTED {
                let _ = write!(
                    msg,
                    "\n- … and {} more (see the JSON report's `problems`)",
                    others.len() - MAX_LISTED
                );
            }
        }
        command(
            &mut out,
            level,
            &src.file,
            src.line,
            Some(src.column),
            &title,
            &msg,
        );
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
    // Control characters are escaped before the runner's own escaping: an ESC or a bidi
    // override in a scenario name must reach neither the log nor the annotation as itself.
    let (file, title, msg) = (
        crate::support::text::printable_line(file),
        crate::support::text::printable_line(title),
        crate::support::text::printable(msg),
    );
    let _ = writeln!(
        out,
        "::{level} file={},line={line}{col},title={}::{}",
        property(&file),
        property(&title),
        data(&msg)
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
