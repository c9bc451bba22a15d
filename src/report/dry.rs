//! `--dry-run` output: the exact requests each scenario would send, readable or as JSON lines.

use std::fmt::Write as _;

use super::console::pretty;
use crate::outcome::ScenarioResult;
use crate::support::styles::Styles;

pub fn readable(r: &ScenarioResult, styles: &Styles) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}: {}",
        styles.bold.paint("#"),
        r.file,
        styles.bold.paint(&r.name)
    );
    for step in r.steps.iter().chain(&r.cleanup) {
        let _ = writeln!(
            out,
            "{} step {}: {}",
            styles.dim.paint("##"),
            step.index,
            step.name
        );
        for ex in &step.exchanges {
            let req = &ex.request;
            let _ = writeln!(out, "{} {}", req.method, req.url);
            for (k, v) in &req.headers {
                let _ = writeln!(out, "{k}: {v}");
            }
            if let Some(b) = &req.body {
                let _ = writeln!(out, "\n{}", pretty(b));
            } else if let Some(raw) = &req.raw_body {
                let _ = writeln!(out, "\n{raw}");
            }
            out.push('\n');
        }
        for f in &step.findings {
            let _ = writeln!(
                out,
                "{} [{}] {}",
                styles.warn.paint("note:"),
                f.rule,
                f.message
            );
        }
    }
    out
}

/// One JSON object per request: scenario, step, method, url, headers, body.
pub fn jsonl(r: &ScenarioResult) -> String {
    let mut out = String::new();
    for step in r.steps.iter().chain(&r.cleanup) {
        for ex in &step.exchanges {
            let line = serde_json::json!({
                "scenario": r.name,
                "file": r.file,
                "step": step.index,
                "step_name": step.name,
                "method": ex.request.method,
                "url": ex.request.url,
                "headers": ex.request.headers,
                "body": ex.request.body,
            });
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
