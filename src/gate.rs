//! The CI gate around a run: what `app::run` calls before sending (load the baseline, so a bad
//! one stops the run before anything is sent; skip what the server says it cannot do) and after
//! (write the baseline and the Markdown/HTML reports, print GitHub annotations and the baseline
//! verdict, and decide the exit code). The decisions themselves live in `baseline` and
//! `capability`; the renderers in `report::{markdown,html,github}`.

use std::io::Write as _;
use std::path::PathBuf;

use crate::baseline::{self, Baseline};
use crate::capability::{self, Decision};
use crate::cli::{OutputFormat, RunArgs};
use crate::error::{Error, Result};
use crate::outcome::{Finding, Severity};
use crate::outcome::{RunReport, ScenarioResult};
use crate::scenario::Scenario;
use crate::support::out::write_file;
use crate::transport::exchange::Exchange;

/// What the gate needs from the command line (after `idpsim.toml` was applied).
#[derive(Clone, Debug)]
pub struct GateOptions {
    pub fail_on: Severity,
    pub format: OutputFormat,
    pub baseline: Option<PathBuf>,
    pub strict: bool,
    pub write_baseline: Option<PathBuf>,
    pub report_md: Option<PathBuf>,
    pub report_html: Option<PathBuf>,
}

impl GateOptions {
    pub fn from_args(args: &RunArgs) -> Result<Self> {
        let format = args.format.unwrap_or(OutputFormat::Human);
        if args.dry_run && format == OutputFormat::Github {
            return Err(Error::Usage(
                "--format github annotates findings, and --dry-run has none; use human or jsonl"
                    .into(),
            ));
        }
        if args.baseline_strict && args.baseline.is_none() {
            return Err(Error::Usage(
                "--baseline-strict needs a baseline: --baseline FILE (or [baseline] file in idpsim.toml)".into(),
            ));
        }
        Ok(GateOptions {
            fail_on: args.fail_on.unwrap_or(Severity::Error),
            format,
            baseline: args.baseline.clone(),
            strict: args.baseline_strict,
            write_baseline: args.write_baseline.clone(),
            report_md: args.report_md.clone(),
            report_html: args.report_html.clone(),
        })
    }

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

/// The scenarios to run after capability gating, and what to put back into the results.
pub struct Plan {
    pub run: Vec<Scenario>,
    pub skipped: Vec<ScenarioResult>,
    warnings: Vec<((String, String), Finding)>,
    order: Vec<(String, String)>,
}

/// Splits the scenarios by what the server's `/ServiceProviderConfig` (the preflight's answer)
/// says it supports. A dry run has no preflight: everything runs.
pub fn plan(scenarios: Vec<Scenario>, spc: Option<&Exchange>) -> Plan {
    let unsupported = capability::unsupported(spc);
    let mut plan = Plan {
        run: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
        order: Vec::new(),
    };
    for s in scenarios {
        let key = (s.file.clone(), s.name.clone());
        plan.order.push(key.clone());
        match capability::decide(&s, &unsupported) {
            Decision::Run => plan.run.push(s),
            Decision::Skip(reason) => plan.skipped.push(capability::skipped(&s, reason)),
            Decision::RunAndWarn(f) => {
                plan.warnings.push((key, f));
                plan.run.push(s);
            }
        }
    }
    plan
}

impl Plan {
    /// The results in the order the scenarios were selected, with capability warnings attached
    /// and skipped scenarios in their place.
    pub fn merge(
        self,
        mut results: Vec<ScenarioResult>,
        spc: Option<&Exchange>,
    ) -> Vec<ScenarioResult> {
        for (key, finding) in self.warnings {
            if let Some(r) = results
                .iter_mut()
                .find(|r| r.file == key.0 && r.name == key.1)
            {
                capability::attach(r, finding, spc);
            }
        }
        results.extend(self.skipped);
        let order = self.order;
        results.sort_by_key(|r| {
            order
                .iter()
                .position(|(f, n)| *f == r.file && *n == r.name)
                .unwrap_or(usize::MAX)
        });
        results
    }
}

/// After the run: reports, baseline, annotations, verdict. Returns the exit code.
pub fn finish(
    report: &RunReport,
    opts: &GateOptions,
    baseline: Option<&(String, Baseline)>,
    sources: &std::collections::HashMap<String, String>,
) -> Result<i32> {
    let gate = baseline::evaluate(
        report,
        baseline.map(|(p, b)| (p.as_str(), b)),
        opts.fail_on,
        opts.strict,
    );
    if let Some(path) = &opts.report_md {
        write_file(
            path,
            &crate::report::markdown::render(report, &gate, sources),
        )?;
    }
    if let Some(path) = &opts.report_html {
        write_file(path, &crate::report::html::render(report, &gate))?;
    }
    if let Some(path) = &opts.write_baseline {
        // Keep the reasons people wrote: from the baseline in use, else from the file replaced.
        let previous = baseline.map(|(_, b)| b.clone()).or_else(|| {
            std::fs::read_to_string(path)
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
    }
    // Written, not print!ed: a closed stdout (`| head`) must not panic.
    let mut text = gate.console_summary();
    if opts.format == OutputFormat::Github {
        text.push_str(&crate::report::github::render(report, &gate));
    }
    if opts.format == OutputFormat::Jsonl {
        let _ = std::io::stderr().write_all(text.as_bytes());
    } else {
        let _ = std::io::stdout().write_all(text.as_bytes());
    }
    Ok(gate.exit_code())
}
