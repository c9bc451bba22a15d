//! The Markdown summary (`--report-md FILE`), fit for a pull-request comment or a support ticket:
//! a verdict line, the distinct problems (a table, most consequential first: the consequence for
//! each IdP, where it showed first, how many scenarios and steps), a table of every scenario
//! (failures first), then each failing or warning step (and each step not run) with its findings — rule, message, diff, what the IdP does, the scenario line — and the
//! exchanges folded in `<details>`. Known failures (baseline) are marked as such; fixed and
//! skipped ones are listed at the end.
//!
//! Everything that came from a server or a scenario is escaped for where it lands: table cells
//! lose `|` and newlines, inline code gets a long-enough backtick run, code blocks a fence longer
//! than any backtick run inside. Exchanges are the report model's, already redacted.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::console::{pretty, reason};
use crate::gate::baseline::{Gate, ProblemVerdict};
use crate::outcome::problems;
use crate::outcome::{Citation, Finding, Severity};
use crate::outcome::{Outcome, RunReport, ScenarioResult, StepResult};
use crate::transport::exchange::Exchange;

pub fn render(report: &RunReport, gate: &Gate, sources: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = if gate.passed() && !report.interrupted {
        "✅ PASSED"
    } else {
        "❌ FAILED"
    };
    let _ = writeln!(
        out,
        "## idpsim: {verdict} — {} scenario(s): {} passed, {} warned, {} failed, {} skipped\n",
        s.scenarios, s.passed, s.warned, s.failed, s.skipped
    );
    let _ = writeln!(
        out,
        "Target: {}{} · idpsim {} · {} step(s){}, {} exchange(s), {} distinct problem(s): {} error(s), {} warning(s) · fails on: {}",
        code(&report.target.url),
        if report.target.builtin { " (built-in reference server)" } else { "" },
        report.tool.version,
        s.steps,
        if s.not_run > 0 { format!(" ({} not run)", s.not_run) } else { String::new() },
        s.exchanges,
        s.problems,
        s.errors,
        s.warnings,
        gate.fail_on.name()
    );
    if let Some(path) = &gate.baseline_path {
        let _ = writeln!(
            out,
            "\nBaseline {}{}: **{} new** failure(s), {} known, {} fixed, {} unverified",
            code(path),
            if gate.strict { " (strict)" } else { "" },
            gate.new_failures().count(),
            gate.known_failures().count(),
            gate.fixed().count(),
            gate.unverified().count()
        );
    }
    if report.interrupted {
        out.push_str("\n**Interrupted**: unfinished scenarios are reported as they stood.\n");
    }

    problems_table(&mut out, report, gate);

    out.push_str("\n| Outcome | Scenario | IdP | File | Findings |\n|---|---|---|---|---|\n");
    for sc in ordered(report) {
        let idp = match &sc.profile {
            Some(p) => format!("{} {p}", sc.idp),
            None => sc.idp.to_string(),
        };
        let findings = if sc.outcome == Outcome::Skipped {
            format!("skipped: {}", sc.skip_reason.as_deref().unwrap_or(""))
        } else {
            counts(sc)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            badge(sc.outcome),
            cell(&sc.name),
            cell(&idp),
            code(&format!("{}:{}", sc.file, sc.line)),
            cell(&findings)
        );
    }

    let noteworthy: Vec<&ScenarioResult> = ordered(report)
        .into_iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed | Outcome::Warned))
        .collect();
    if !noteworthy.is_empty() {
        out.push_str("\n### Findings\n");
    }
    for sc in noteworthy {
        let _ = writeln!(
            out,
            "\n#### {} {} — {}\n",
            badge(sc.outcome),
            text(&sc.name),
            code(&sc.file)
        );
        if let Some(src) = &sc.source {
            let _ = writeln!(out, "Source: {}\n", text(src));
        }
        for step in sc.steps.iter().chain(&sc.cleanup) {
            if step.findings.is_empty() && step.outcome != Outcome::NotRun {
                continue;
            }
            step_detail(&mut out, step, report, gate, sources);
        }
    }

    let fixed: Vec<_> = gate.fixed().collect();
    if !fixed.is_empty() {
        out.push_str("\n### Fixed since the baseline\n\n");
        for e in fixed {
            let _ = writeln!(
                out,
                "- {}{}",
                text(&e.label()),
                e.reason
                    .as_deref()
                    .map(|r| format!(" — was: {}", text(r)))
                    .unwrap_or_default()
            );
        }
    }
    let unverified: Vec<_> = gate.unverified().collect();
    if !unverified.is_empty() {
        out.push_str("\n### Baseline entries not checked this run\n\n");
        for (e, why) in unverified {
            let _ = writeln!(out, "- {} ({})", text(&e.label()), text(why));
        }
    }
    out
}

/// `### N distinct problem(s)` and a row per problem: what a person fixes, before where it showed.
fn problems_table(out: &mut String, report: &RunReport, gate: &Gate) {
    if report.problems.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### {} distinct problem(s)\n\n| # | Severity | Rule | Problem | IdP consequence | Affects | First shown |\n|---|---|---|---|---|---|---|",
        report.problems.len()
    );
    for (i, p) in report.problems.iter().enumerate() {
        let severity = match p.severity {
            Severity::Error => "❌ error",
            _ => "⚠️ warning",
        };
        let status = match (gate.baseline_path.is_some(), gate.problem_verdict(&p.key)) {
            (true, ProblemVerdict::New) => " **new**",
            (_, ProblemVerdict::Known(_)) => " *known (baseline)*",
            _ => "",
        };
        let consequence = p
            .consequences
            .iter()
            .map(|c| format!("**{}**: {}", c.idp, cell(&c.impact)))
            .collect::<Vec<_>>()
            .join("<br>");
        let consequence = if consequence.is_empty() {
            "—".to_string()
        } else {
            consequence
        };
        let first = match &p.first.exchange {
            Some(ex) => format!(
                "{} {} {}",
                code(&p.first.source.to_string()),
                text(&format!("{} {}:", p.first.phase.name(), p.first.step)),
                code(&ex.line())
            ),
            None => format!(
                "{} {}",
                code(&p.first.source.to_string()),
                text(&format!("{} {}", p.first.phase.name(), p.first.step))
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {severity}{status} | {} | {} | {} | {} scenario(s), {} step(s) | {first} |",
            i + 1,
            code(&p.rule),
            cell(&p.message),
            consequence,
            p.scenarios,
            p.steps,
        );
    }
}

fn step_detail(
    out: &mut String,
    step: &StepResult,
    report: &RunReport,
    gate: &Gate,
    sources: &HashMap<String, String>,
) {
    let _ = writeln!(
        out,
        "**{} step {}: {}** ({})\n",
        step.outcome.label(),
        step.index,
        text(&step.name),
        code(&step.source.to_string())
    );
    if let (Outcome::NotRun, Some(why)) = (step.outcome, &step.skip_reason) {
        let _ = writeln!(out, "Not run: {}\n", text(why));
    }
    let mut findings: Vec<&Finding> = step.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in findings {
        let status = if gate.baseline_path.is_some() && gate.is_new_failure(f) {
            " **new**".to_string()
        } else if let Some(e) = gate.known_entry(f) {
            match &e.reason {
                Some(r) => format!(" *known (baseline): {}*", text(r)),
                None => " *known (baseline)*".to_string(),
            }
        } else {
            String::new()
        };
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let problem = problems::number(&report.problems, f)
            .map(|n| format!(" (problem {n})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- {sev} {}{status}: {}{problem}",
            code(&f.rule),
            text(&f.message)
        );
        if let Some(i) = &f.impact {
            let _ = writeln!(out, "  - IdP impact: {}", text(i));
        }
        if let Some(r) = &f.reference {
            let _ = writeln!(out, "  - Reference: {}", references(r));
        }
        // Built-in rules have no scenario line of their own: point at the step.
        {
            let src = f.source.as_ref().unwrap_or(&step.source);
            let line = sources
                .get(&src.file)
                .and_then(|t| t.lines().nth(src.line.saturating_sub(1) as usize))
                .map(|l| format!(" {}", code(&crate::support::redact::source_line(l.trim()))))
                .unwrap_or_default();
            let _ = writeln!(out, "  - Scenario line: {}{line}", code(&src.to_string()));
        }
        if !f.diff.is_empty() {
            let mut diff = String::new();
            for d in &f.diff {
                let _ = writeln!(diff, "@ {}\n- {}\n+ {}", d.pointer, d.expected, d.actual);
            }
            out.push_str(&indent(&fenced("diff", &diff), 2));
        }
    }
    if !step.exchanges.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>{} exchange(s)</summary>\n",
            step.exchanges.len()
        );
        for ex in &step.exchanges {
            let (req, resp) = http_text(ex);
            out.push_str(&fenced("http", &req));
            out.push_str(&fenced("http", &resp));
        }
        out.push_str("\n</details>\n");
    }
    out.push('\n');
}

/// Failures first, then warnings, passes and skips, keeping the run's order within each.
fn ordered(report: &RunReport) -> Vec<&ScenarioResult> {
    let mut v: Vec<&ScenarioResult> = report.scenarios.iter().collect();
    v.sort_by_key(|s| match s.outcome {
        Outcome::Failed => 0,
        Outcome::Warned => 1,
        Outcome::Passed => 2,
        Outcome::NotRun | Outcome::Skipped => 3,
    });
    v
}

fn badge(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "✅ PASS",
        Outcome::Warned => "⚠️ WARN",
        Outcome::Failed => "❌ FAIL",
        Outcome::Skipped => "⏭️ SKIP",
        Outcome::NotRun => "⏸️ NOT RUN",
    }
}

fn counts(sc: &ScenarioResult) -> String {
    let all = || sc.steps.iter().chain(&sc.cleanup).flat_map(|s| &s.findings);
    let e = all().filter(|f| f.severity == Severity::Error).count();
    let w = all().filter(|f| f.severity == Severity::Warning).count();
    match (e, w) {
        (0, 0) => String::new(),
        (e, 0) => format!("{e} error(s)"),
        (0, w) => format!("{w} warning(s)"),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    }
}

/// The request and the response as HTTP-like text (headers and pretty JSON bodies).
pub fn http_text(ex: &Exchange) -> (String, String) {
    let mut req = format!("{} {}\n", ex.request.method, ex.request.target);
    for (k, v) in &ex.request.headers {
        let _ = writeln!(req, "{k}: {v}");
    }
    if let Some(b) = &ex.request.body {
        let _ = writeln!(req, "\n{}", pretty(b));
    } else if let Some(raw) = &ex.request.raw_body {
        let _ = writeln!(req, "\n{raw}");
    }
    let mut resp = String::new();
    match (&ex.response, &ex.error) {
        (Some(r), _) => {
            let _ = writeln!(resp, "HTTP {} {}", r.status, reason(r.status));
            for (k, v) in &r.headers {
                let _ = writeln!(resp, "{k}: {v}");
            }
            if let Some(b) = &r.body {
                let _ = writeln!(resp, "\n{}", pretty(b));
            } else if let Some(t) = &r.text {
                let _ = writeln!(resp, "\n{t}");
            }
            if r.truncated {
                let _ = writeln!(resp, "… (body cut at the size limit)");
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(resp, "no answer: {}", e.message);
        }
        (None, None) => resp.push_str("no answer\n"),
    }
    if ex.simulated {
        resp.push_str("(dry run: answered by a scratch reference server)\n");
    }
    (req, resp)
}

/// Inline code that no backtick inside can close early.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = crate::support::text::printable_line(&s).into_owned();
    let longest = longest_run(&s, '`');
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// A fenced block with a fence longer than any backtick run in the text.
fn fenced(lang: &str, body: &str) -> String {
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    let body = crate::support::text::printable(body.trim_end_matches('\n'));
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Text in a paragraph or list: HTML and Markdown specials escaped, one line.
fn text(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = crate::support::text::printable_line(&s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// A finding's reference: each cited page a link, a path in idpsim's repository as code, and
/// any other text escaped, with the bare URLs in it as autolinks.
fn references(reference: &str) -> String {
    Citation::parse(reference)
        .iter()
        .map(|c| match (c.web(), c.url) {
            (Some(url), _) => format!("[{}]({url})", text(c.label)),
            (None, Some(path)) => format!("{} ({})", text(c.label), code(path)),
            (None, None) => linked(c.label),
        })
        .collect::<Vec<_>>()
        .join(Citation::SEPARATOR)
}

/// `text`, with every bare `http(s)://` URL an autolink (`<url>`): escaping inside a URL would
/// break it, and an autolink takes its characters literally.
fn linked(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let at = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min();
        let Some(at) = at else {
            out.push_str(&text(rest));
            return out;
        };
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !Citation::url_char(c))
            .unwrap_or(tail.len());
        // Punctuation after a URL ends the sentence, not the URL.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        out.push_str(&text(&rest[..at]));
        if url.contains("://") && !url.ends_with("://") {
            let _ = write!(out, "<{url}>");
        } else {
            out.push_str(&text(url));
        }
        rest = &tail[url.len()..];
    }
}

fn cell(s: &str) -> String {
    text(s)
}

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.lines().map(|l| format!("{pad}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::references;

    #[test]
    fn references_are_links_not_escaped_brackets() {
        let r = "RFC 7643 §4.1.1 <https://www.rfc-editor.org/rfc/rfc7643#section-4.1.1>; \
                 Okta: Delete [Users] <https://developer.okta.com/docs/concepts/scim/>";
        assert_eq!(
            references(r),
            "[RFC 7643 §4.1.1](https://www.rfc-editor.org/rfc/rfc7643#section-4.1.1); \
             [Okta: Delete \\[Users\\]](https://developer.okta.com/docs/concepts/scim/)"
        );
    }

    #[test]
    fn a_repository_path_is_code_and_free_text_keeps_its_urls_whole() {
        assert_eq!(
            references("idpsim: cleanup <scenarios/README.md>"),
            "idpsim: cleanup (`scenarios/README.md`)"
        );
        assert_eq!(
            references(
                "Test_One (https://github.com/a/b_c/x.json): reads <it> back; RFC 7644 §3.6"
            ),
            "Test\\_One (<https://github.com/a/b_c/x.json>): reads &lt;it&gt; back; RFC 7644 §3.6"
        );
        // What is not a URL between angle brackets is text, escaped.
        assert_eq!(
            references("a <javascript:alert(1)>"),
            "a &lt;javascript:alert(1)&gt;"
        );
        assert_eq!(references("see http:// alone"), "see http:// alone");
    }
}
