//! The HTML report (`--report-html FILE`): one self-contained file — inline CSS and JS, no
//! external assets, no network — that a person opens offline or a CI system keeps as an artifact.
//!
//! The page is rendered here, not by the script, so it reads fully without JavaScript and every
//! byte that came from a server or a scenario goes through `esc` exactly once. The script only
//! adds the filter box (text and "failures only") and expand/collapse; when it has run it sets
//! `data-ready="yes"` on `<body>`, which the headless-browser test looks for. Scenarios are
//! ordered failures first; failing steps are open; exchanges (request and response, headers and
//! bodies, already redacted in the report model) and diffs sit under each step.

use std::fmt::Write as _;

use super::markdown::http_text;
use crate::gate::baseline::{Gate, ProblemVerdict};
use crate::outcome::problems::{self, Problem};
use crate::outcome::Finding;
use crate::outcome::{Outcome, RunReport, ScenarioResult, StepResult};

const CSS: &str = r#"
:root{--fail:#b42318;--warn:#a15c07;--pass:#067647;--skip:#667085;--bg:#fff;--fg:#1d2939;--muted:#667085;--line:#e4e7ec;--code:#f8f9fb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:20px 28px;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}
.meta{color:var(--muted);margin-bottom:12px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;margin-right:8px}
.verdict.failed{background:var(--fail)}.verdict.passed{background:var(--pass)}
.counts span{margin-right:14px}
.toolbar{position:sticky;top:0;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);margin-bottom:12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
#filter{flex:1;min-width:240px;padding:6px 10px;border:1px solid #d0d5dd;border-radius:6px;font-size:14px}
button{padding:5px 10px;border:1px solid #d0d5dd;background:#fff;border-radius:6px;cursor:pointer}
details{border:1px solid var(--line);border-radius:8px;margin:6px 0;background:#fff}
details>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details details{margin:6px 12px}
.scenario>summary{font-weight:600}
.badge{display:inline-block;min-width:44px;text-align:center;font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;color:#fff;margin-right:6px}
.badge.failed{background:var(--fail)}.badge.warned{background:var(--warn)}.badge.passed{background:var(--pass)}.badge.skipped,.badge.not-run{background:var(--skip)}
.file{color:var(--muted);font-weight:400;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;margin-left:6px}
.body{padding:0 12px 10px}
.finding{border-left:4px solid var(--line);padding:6px 10px;margin:8px 0;background:var(--code)}
.finding.error{border-color:var(--fail)}.finding.warning{border-color:var(--warn)}.finding.info{border-color:var(--skip)}
.rule{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
.tag{font-size:11px;padding:0 6px;border-radius:4px;margin-left:6px;background:#eef4ff;color:#3538cd}
.tag.new{background:#fef3f2;color:var(--fail)}
.impact,.ref,.src{color:var(--muted);margin-top:2px}
table.diff{border-collapse:collapse;margin-top:6px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
table.diff td,table.diff th{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top;white-space:pre-wrap;word-break:break-word}
td.exp{background:#ecfdf3}td.act{background:#fef3f2}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;font-size:12px;margin:6px 0;white-space:pre-wrap;word-break:break-word}
.exchange{display:grid;grid-template-columns:1fr 1fr;gap:8px}
@media (max-width:800px){.exchange{grid-template-columns:1fr}}
.skipnote{color:var(--muted);padding:0 12px 10px}
table.problems{border-collapse:collapse;margin:8px 0 16px;width:100%}
table.problems td,table.problems th{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
table.problems details{border:0;margin:0}table.problems details>summary{padding:0}
h2{font-size:16px;margin:14px 0 4px}
[hidden]{display:none!important}
"#;

const JS: &str = r#"
(function () {
  var box = document.getElementById('filter');
  var only = document.getElementById('only-failing');
  var count = document.getElementById('count');
  var items = Array.prototype.slice.call(document.querySelectorAll('.scenario'));
  function apply() {
    var q = box.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (el) {
      var ok = (!q || (el.getAttribute('data-search') || '').indexOf(q) >= 0) &&
               (!only.checked || el.getAttribute('data-outcome') === 'failed');
      el.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + ' of ' + items.length + ' scenario(s) shown';
  }
  box.addEventListener('input', apply);
  only.addEventListener('change', apply);
  function setAll(open) {
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) { d.open = open; });
  }
  document.getElementById('expand').addEventListener('click', function () { setAll(true); });
  document.getElementById('collapse').addEventListener('click', function () { setAll(false); });
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

pub fn render(report: &RunReport, gate: &Gate) -> String {
    let s = &report.summary;
    let passed = gate.passed() && !report.interrupted;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No external anything: a strict policy makes that a property of the file, not a promise.
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    let _ = writeln!(
        out,
        "<title>idpsim report: {} — {}</title>",
        if passed { "passed" } else { "failed" },
        esc(&report.target.url)
    );
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<h1>idpsim report</h1>");
    let _ = writeln!(
        out,
        "<div class=\"meta\"><span class=\"verdict {}\">{}</span>target <code>{}</code>{} · idpsim {} · started {} · {} ms · fails on {}</div>",
        if passed { "passed" } else { "failed" },
        if passed { "PASSED" } else { "FAILED" },
        esc(&report.target.url),
        if report.target.builtin { " (built-in reference server)" } else { "" },
        esc(report.tool.version),
        esc(&report.started_at),
        report.duration_ms,
        gate.fail_on.name()
    );
    let _ = writeln!(
        out,
        "<div class=\"counts\"><span><b>{}</b> scenario(s)</span><span>{} passed</span><span>{} warned</span><span>{} failed</span><span>{} skipped</span><span>{} step(s)</span><span>{} not run</span><span>{} exchange(s)</span><span><b>{}</b> distinct problem(s)</span><span>{} error(s)</span><span>{} warning(s)</span></div>",
        s.scenarios, s.passed, s.warned, s.failed, s.skipped, s.steps, s.not_run, s.exchanges, s.problems, s.errors, s.warnings
    );
    if let Some(path) = &gate.baseline_path {
        let _ = writeln!(
            out,
            "<div class=\"meta\">baseline <code>{}</code>{}: <b>{} new</b> failure(s), {} known, {} fixed, {} unverified</div>",
            esc(path),
            if gate.strict { " (strict)" } else { "" },
            gate.new_failures().count(),
            gate.known_failures().count(),
            gate.fixed().count(),
            gate.unverified().count()
        );
        let fixed: Vec<_> = gate.fixed().collect();
        if !fixed.is_empty() {
            out.push_str("<details open><summary>Fixed since the baseline</summary><ul>");
            for e in fixed {
                let _ = write!(out, "<li>{}</li>", esc(&e.label()));
            }
            out.push_str("</ul></details>\n");
        }
    }
    if report.interrupted {
        out.push_str(
            "<p><b>Interrupted</b>: unfinished scenarios are reported as they stood.</p>\n",
        );
    }
    problems_table(&mut out, report, gate);
    out.push_str("<div class=\"toolbar\"><input id=\"filter\" type=\"search\" placeholder=\"Filter by scenario, file, step, rule or message…\" aria-label=\"Filter\">");
    out.push_str("<label><input id=\"only-failing\" type=\"checkbox\"> failures only</label>");
    out.push_str("<button id=\"expand\" type=\"button\">Expand all</button><button id=\"collapse\" type=\"button\">Collapse all</button><span id=\"count\"></span></div>\n<main>\n");

    let mut scenarios: Vec<&ScenarioResult> = report.scenarios.iter().collect();
    scenarios.sort_by_key(|s| match s.outcome {
        Outcome::Failed => 0,
        Outcome::Warned => 1,
        Outcome::Passed => 2,
        Outcome::NotRun | Outcome::Skipped => 3,
    });
    for sc in scenarios {
        scenario(&mut out, sc, &report.problems, gate);
    }
    let _ = writeln!(out, "</main>\n<script>{JS}</script>\n</body>\n</html>");
    out
}

/// The distinct problems first, one row each, with every place it showed folded beneath: the
/// first screen says what to fix, not nine copies of one fault.
fn problems_table(out: &mut String, report: &RunReport, gate: &Gate) {
    if report.problems.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"problems\"><h2>{} distinct problem(s)</h2><table class=\"problems\"><tr><th>#</th><th>severity</th><th>rule</th><th>problem</th><th>IdP consequence</th><th>affects</th><th>first shown</th></tr>",
        report.problems.len()
    );
    for (i, p) in report.problems.iter().enumerate() {
        let n = i + 1;
        let status = match (gate.baseline_path.is_some(), gate.problem_verdict(&p.key)) {
            (true, ProblemVerdict::New) => "<span class=\"tag new\">new</span>",
            (_, ProblemVerdict::Known(_)) => "<span class=\"tag\">known (baseline)</span>",
            _ => "",
        };
        let consequences: String = p
            .consequences
            .iter()
            .map(|c| format!("<div><b>{}</b>: {}</div>", esc(c.idp), esc(&c.impact)))
            .collect();
        let consequences = if consequences.is_empty() {
            "—".to_string()
        } else {
            consequences
        };
        let first = match &p.first.exchange {
            Some(ex) => format!(
                "{} {} {}<br><code>{}</code>",
                esc(&p.first.file),
                p.first.phase.name(),
                p.first.step,
                esc(&ex.line())
            ),
            None => format!(
                "{} {} {}",
                esc(&p.first.file),
                p.first.phase.name(),
                p.first.step
            ),
        };
        let mut places = String::new();
        for pl in &p.places {
            let _ = write!(
                places,
                "<li>{} — {} — {} {}: {} <span class=\"file\">{}</span></li>",
                esc(&pl.file),
                esc(&pl.scenario),
                pl.phase.name(),
                pl.step,
                esc(&pl.step_name),
                esc(&pl.source.to_string())
            );
        }
        let _ = writeln!(
            out,
            "<tr id=\"problem-{n}\" class=\"{}\"><td>{n}</td><td><span class=\"badge {}\">{}</span>{status}</td><td class=\"rule\">{}</td><td>{}</td><td>{consequences}</td><td><details><summary>{} scenario(s), {} step(s)</summary><ul>{places}</ul></details></td><td>{first}</td></tr>",
            p.severity.name(),
            if p.severity == crate::outcome::Severity::Error { "failed" } else { "warned" },
            p.severity.name(),
            esc(&p.rule),
            esc(&p.message),
            p.scenarios,
            p.steps,
        );
    }
    out.push_str("</table></section>\n");
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Warned => "warned",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::NotRun => "not-run",
    }
}

fn scenario(out: &mut String, sc: &ScenarioResult, problems: &[Problem], gate: &Gate) {
    let mut search = format!("{} {} {} {}", sc.name, sc.file, sc.idp, sc.tags.join(" "));
    for st in sc.steps.iter().chain(&sc.cleanup) {
        let _ = write!(search, " {}", st.name);
        for f in &st.findings {
            let _ = write!(search, " {} {}", f.rule, f.message);
        }
    }
    let open = if sc.outcome == Outcome::Failed {
        " open"
    } else {
        ""
    };
    let profile = sc
        .profile
        .as_deref()
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<details class=\"scenario\" data-outcome=\"{}\" data-search=\"{}\"{open}><summary><span class=\"badge {}\">{}</span>{} <span class=\"file\">{}:{} · {}{}</span></summary><div class=\"body\">",
        outcome_class(sc.outcome),
        esc(&search.to_lowercase()),
        outcome_class(sc.outcome),
        sc.outcome.label(),
        esc(&sc.name),
        esc(&sc.file),
        sc.line,
        esc(sc.idp),
        esc(&profile)
    );
    if let Some(r) = &sc.skip_reason {
        let _ = writeln!(out, "<p class=\"skipnote\">skipped: {}</p>", esc(r));
    }
    if let Some(d) = &sc.description {
        let _ = writeln!(out, "<p>{}</p>", esc(d.trim()));
    }
    if let Some(src) = &sc.source {
        let _ = writeln!(out, "<p class=\"ref\">source: {}</p>", esc(src));
    }
    for st in &sc.steps {
        step(out, st, problems, gate, "step");
    }
    for st in &sc.cleanup {
        step(out, st, problems, gate, "cleanup");
    }
    out.push_str("</div></details>\n");
}

fn step(out: &mut String, st: &StepResult, problems: &[Problem], gate: &Gate, kind: &str) {
    let open = if st.outcome == Outcome::Failed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"step\"{open}><summary><span class=\"badge {}\">{}</span>{kind} {}: {} <span class=\"file\">{}</span></summary><div class=\"body\">",
        outcome_class(st.outcome),
        st.outcome.label(),
        st.index,
        esc(&st.name),
        esc(&st.source.to_string())
    );
    if let Some(r) = &st.skip_reason {
        let what = if st.outcome == Outcome::NotRun {
            "not run"
        } else {
            "skipped"
        };
        let _ = writeln!(out, "<p class=\"skipnote\">{what}: {}</p>", esc(r));
    }
    let mut findings: Vec<&Finding> = st.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in findings {
        finding(out, f, problems, gate);
    }
    for (i, ex) in st.exchanges.iter().enumerate() {
        let (req, resp) = http_text(ex);
        let status = ex
            .response
            .as_ref()
            .map(|r| r.status.to_string())
            .unwrap_or_else(|| "no answer".into());
        let _ = writeln!(
            out,
            "<details class=\"exchange-box\"{}><summary>exchange {}: {} {} → {}</summary><div class=\"exchange\"><pre class=\"request\">{}</pre><pre class=\"response\">{}</pre></div></details>",
            if st.outcome == Outcome::Failed { " open" } else { "" },
            i + 1,
            esc(&ex.request.method),
            esc(&ex.request.target),
            esc(&status),
            esc(&req),
            esc(&resp)
        );
    }
    out.push_str("</div></details>\n");
}

fn finding(out: &mut String, f: &Finding, problems: &[Problem], gate: &Gate) {
    let tag = if gate.baseline_path.is_some() && gate.is_new_failure(f) {
        "<span class=\"tag new\">new</span>".to_string()
    } else if let Some(e) = gate.known_entry(f) {
        format!(
            "<span class=\"tag\">known (baseline){}</span>",
            e.reason
                .as_deref()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default()
        )
    } else {
        String::new()
    };
    let problem = problems::number(problems, f)
        .map(|n| format!(" <a class=\"tag\" href=\"#problem-{n}\">problem {n}</a>"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<div class=\"finding {}\"><div>{} <span class=\"rule\">{}</span>{tag}: {}{problem}</div>",
        f.severity.name(),
        f.severity.name(),
        esc(&f.rule),
        esc(&f.message)
    );
    if !f.diff.is_empty() {
        out.push_str(
            "<table class=\"diff\"><tr><th>where</th><th>expected</th><th>actual</th></tr>",
        );
        for d in &f.diff {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"exp\">{}</td><td class=\"act\">{}</td></tr>",
                esc(&d.pointer),
                esc(&d.expected),
                esc(&d.actual)
            );
        }
        out.push_str("</table>\n");
    }
    if let Some(i) = &f.impact {
        let _ = writeln!(out, "<div class=\"impact\">IdP: {}</div>", esc(i));
    }
    if let Some(r) = &f.reference {
        let _ = writeln!(out, "<div class=\"ref\">see {}</div>", references(r));
    }
    if let Some(s) = &f.source {
        let _ = writeln!(
            out,
            "<div class=\"src\">scenario line {}</div>",
            esc(&s.to_string())
        );
    }
    out.push_str("</div>\n");
}

/// A finding's reference: each cited page a link, a path in idpsim's repository as code, any
/// other text escaped once.
fn references(reference: &str) -> String {
    crate::outcome::Citation::parse(reference)
        .iter()
        .map(|c| match (c.web(), c.url) {
            (Some(url), _) => format!(
                "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
                esc(url),
                esc(c.label)
            ),
            (None, Some(path)) => format!("{} (<code>{}</code>)", esc(c.label), esc(path)),
            (None, None) => esc(c.label),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Escapes text for HTML content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    // Control characters are invalid in HTML text and can reach a terminal when the report is
    // printed; they are shown escaped, line breaks and tabs kept.
    let s = crate::support::text::printable(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc("</script><b a='x'>&"),
            "&lt;/script&gt;&lt;b a=&#39;x&#39;&gt;&amp;"
        );
    }

    #[test]
    fn references_are_links_escaped_once() {
        assert_eq!(
            super::references(
                "RFC 7644 §3.6 <https://www.rfc-editor.org/rfc/rfc7644#section-3.6>; A & B <https://example.com/?a=1&b=2>; idpsim <scenarios/README.md>; x <y z>"
            ),
            "<a href=\"https://www.rfc-editor.org/rfc/rfc7644#section-3.6\" rel=\"noreferrer\">RFC 7644 §3.6</a>; \
             <a href=\"https://example.com/?a=1&amp;b=2\" rel=\"noreferrer\">A &amp; B</a>; \
             idpsim (<code>scenarios/README.md</code>); x &lt;y z&gt;"
        );
    }
}
