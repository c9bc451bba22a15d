//! The CI gate around a run. Before sending: the baseline is loaded (a bad one stops the run
//! before anything is sent) and the `plan` skips what the server says it cannot do. After:
//! `evaluate` says which failures are new, known or fixed, and so the run's `Verdict`;
//! `write_baseline` records the failures for next time. The decisions live in `baseline` and
//! `capability`; the reports are written by `report::write_all`.

pub mod baseline;
pub mod capability;
mod plan;

use std::path::PathBuf;

pub use plan::{plan, Plan};

use crate::error::{Error, Result};
use crate::outcome::{RunReport, Severity};
use crate::support::out::write_file;
use baseline::{Baseline, Gate};

/// What the gate needs from the command line (after `idpsim.toml` was applied).
#[derive(Clone, Debug)]
pub struct GateOptions {
    pub fail_on: Severity,
    pub baseline: Option<PathBuf>,
    pub strict: bool,
    pub write_baseline: Option<PathBuf>,
}

impl GateOptions {
    /// Reads the baseline now, so a missing or broken one stops the run before anything is sent.
    pub fn load_baseline(&self) -> Result<Option<(String, Baseline)>> {
        match &self.baseline {
            None => Ok(None),
            Some(p) if !p.exists() => Err(Error::Usage(format!(
                "{}: no such baseline file (create it with --write-baseline {})",
                p.display(),
                p.display()
            ))),
            Some(p) => Ok(Some((p.display().to_string(), baseline::load(p)?))),
        }
    }
}

/// After the run: the findings at or above `--fail-on`, held against the baseline.
pub fn evaluate<'r>(
    report: &'r RunReport,
    opts: &GateOptions,
    baseline: Option<&'r (String, Baseline)>,
) -> Gate<'r> {
    baseline::evaluate(
        report,
        baseline.map(|(p, b)| (p.as_str(), b)),
        opts.fail_on,
        opts.strict,
    )
}

/// `--write-baseline FILE`: this run's failures as a baseline, keeping the reasons people wrote
/// (from the baseline in use, else from the file replaced).
pub fn write_baseline(
    report: &RunReport,
    opts: &GateOptions,
    baseline: Option<&(String, Baseline)>,
    gate: &Gate<'_>,
) -> Result<()> {
    let Some(path) = &opts.write_baseline else {
        return Ok(());
    };
    let previous = baseline.map(|(_, b)| b.clone()).or_else(|| {
        crate::support::input::read_text(path)
            .ok()
            .and_then(|t| baseline::parse(&path.display().to_string(), &t).ok())
    });
    write_file(
        path,
        &baseline::render(report, opts.fail_on, previous.as_ref()),
    )?;
    eprintln!(
        "wrote the baseline {} ({} known failure(s))",
        path.display(),
        gate.failures.len()
    );
    Ok(())
}
