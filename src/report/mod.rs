//! Reporters: everything a person or a CI system reads. They only render the outcome
//! (`outcome::RunReport`, and the gate's verdict on it); `write_all` is the one place a run's
//! report files are written, `write_json` the one place the `load` and `audit` reports are.

pub mod console;
pub mod dry;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::gate::baseline::Gate;
use crate::outcome::RunReport;
use crate::support::out::write_file;

/// The report files `idpsim run` was asked for (`--report-json`, `--report-junit`,
/// `--report-md`, `--report-html`, or `[report]` in idpsim.toml).
#[derive(Clone, Debug, Default)]
pub struct ReportFiles {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// Writes every report file asked for. Called whatever happened, so an interrupted run still
/// leaves its evidence. `sources` are the scenario texts, for quoting lines in Markdown.
pub fn write_all(
    files: &ReportFiles,
    report: &RunReport,
    gate: &Gate<'_>,
    sources: &HashMap<String, String>,
) -> Result<()> {
    if let Some(path) = &files.json {
        write_file(path, &json::render(report))?;
    }
    if let Some(path) = &files.junit {
        write_file(path, &junit::render(report))?;
    }
    if let Some(path) = &files.markdown {
        write_file(path, &markdown::render(report, gate, sources))?;
    }
    if let Some(path) = &files.html {
        write_file(path, &html::render(report, gate))?;
    }
    Ok(())
}

/// A report as pretty JSON with a final newline (`idpsim load` and `idpsim audit`).
pub fn write_json(path: &Path, report: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    Ok(write_file(path, &(text + "\n"))?)
}
