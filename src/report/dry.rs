//! `--dry-run` output: the exact requests each scenario would send, readable or as JSON lines.

use std::fmt::Write as _;

use super::console::pretty;
use crate::outcome::ScenarioResult;
use crate::support::styles::Styles;
use crate::support::text::{printable, printable_line};

pub fn readable(r: &ScenarioResult, styles: &Styles) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}: {}",
        styles.bold.paint("#"),
        printable_line(&r.file),
        styles.bold.paint(&printable_line(&r.name))
    );
    for step in r.steps.iter().chain(&r.cleanup) {
        let _ = writeln!(
            out,
            "{} step {}: {}",
            styles.dim.paint("##"),
            step.index,
            printable_line(&step.name)
        );
        for ex in &step.exchanges {
            let req = &ex.request;
            let _ = writeln!(
                out,
                "{} {}",
                printable_line(&req.method),
                printable_line(&req.url)
            );
            for (k, v) in &req.headers {
                let _ = writeln!(out, "{}: {}", printable_line(k), printable_line(v));
            }
            if let Some(b) = &req.body {
                let _ = writeln!(out, "\n{}", printable(&pretty(b)));
            } else if let Some(raw) = &req.raw_body {
                let _ = writeln!(out, "\n{}", printable(raw));
            }
            out.push('\n');
        }
        for f in &step.findings {
            let _ = writeln!(
                out,
                "{} [{}] {}",
                styles.warn.paint("note:"),
                f.rule,
                printable(&f.message)
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
