//! `idpsim run [PATHS]`: parse and select scenarios, connect, run them (`run::Runner`), judge
//! (`check`, in the engine), gate (`gate`), write the reports (`report::write_all`), and return
//! the verdict.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::target::{start_builtin, WithoutTarget};
use crate::cli::values::{parse_duration, parse_vars};
use crate::cli::{OutputFormat, RunArgs};
use crate::error::{Error, Result};
use crate::gate::GateOptions;
use crate::outcome::{RunReport, ScenarioResult, Severity, Target, Tool, REPORT_VERSION};
use crate::report::console::Console;
use crate::report::ReportFiles;
use crate::run::{Interrupt, Progress, Runner};
use crate::scenario::Scenario;
use crate::support::out::{say_raw, write_file};
use crate::support::signal::Signal;
use crate::support::styles::Styles;
use crate::transport::{without_secrets, Auth, Transport, TransportConfig};
use crate::verdict::Verdict;

/// Prints each scenario's line as it finishes, under the progress bar when there is one.
struct LiveConsole {
    console: Console,
    bar: indicatif::ProgressBar,
    format: OutputFormat,
    dry_run: bool,
    out: Mutex<()>,
}

impl Progress for LiveConsole {
    fn scenario_done(&self, r: &ScenarioResult) {
        let text = match (self.dry_run, self.format) {
            // A dry run's JSON lines are the requests; a real run's are one scenario result each.
            (true, OutputFormat::Jsonl) => crate::report::dry::jsonl(r),
            (false, OutputFormat::Jsonl) => serde_json::to_string(r)
                .map(|l| l + "\n")
                .unwrap_or_default(),
            (true, _) => crate::report::dry::readable(r, &self.console.styles),
            (false, _) => self.console.scenario_line(r),
        };
        let _guard = self.out.lock();
        self.bar.suspend(|| {
            say_raw!("{text}");
            let _ = std::io::stdout().flush();
        });
        self.bar.inc(1);
    }
}

pub async fn run(mut args: RunArgs, styles: Styles) -> Result<Verdict> {
    // Everything that can be wrong with the command line, the config file, the baseline or the
    // scenarios is found before any request is sent.
    if let Some(path) = crate::config::locate(&args) {
        crate::config::load(&path)?.apply(&mut args)?;
    }
    let format = output_format(&args)?;
    let gate = gate_options(&args)?;
    let baseline = gate.load_baseline()?;
    let time_scale = args.time_scale.unwrap_or(1.0);
    // Checked before anything starts (NaN fails the range check too).
    if !(0.0..=1000.0).contains(&time_scale) {
        return Err(Error::Usage(
            "--time-scale takes a factor between 0 and 1000".into(),
        ));
    }
    let target = args.target.parse()?;
    let auth_mode = target.mode;
    let timeout = target.timeout;
    let insecure = target.insecure;
    let grace = match args.grace_period.as_deref() {
        Some(text) => parse_duration(text)?,
        None => crate::run::DEFAULT_GRACE_PERIOD,
    };
    let vars = parse_vars(&args.vars)?;
    let (scenarios, files) = super::load_scenarios(&args.paths)?;
    let sel = super::selection(&args.select);
    let mut scenarios: Vec<Scenario> = scenarios.into_iter().filter(|s| sel.matches(s)).collect();
    if args.no_cleanup {
        for s in scenarios.iter_mut() {
            s.auto_cleanup = false;
        }
    }
    if scenarios.is_empty() {
        return Err(Error::Usage(
            "no scenario matches the selection (see `idpsim list`)".into(),
        ));
    }
    // Each IdP authenticates only as it can: asking Okta for client credentials is a usage error,
    // found before anything is sent. Scenarios with their own `auth:` were checked at load.
    if let Some(mode) = auth_mode {
        for s in scenarios.iter().filter(|s| s.auth.is_none()) {
            crate::idp::auth::check_mode(s.idp, mode).map_err(|why| {
                Error::Usage(format!(
                    "--auth {}: {why}
(scenario {} is for {}; select others with --idp, or pick one of these modes)",
                    mode.name(),
                    s.file,
                    s.idp.name()
                ))
            })?;
        }
    }
    for (name, _) in &vars {
        if name == crate::scenario::template::EMAIL_DOMAIN {
            continue; // a built-in every scenario reads
        }
        if !scenarios
            .iter()
            .any(|s| s.variables.iter().any(|(v, _)| v == name))
        {
            return Err(Error::Usage(format!(
                "--var {name}: no selected scenario declares a variable `{name}`"
            )));
        }
    }

    // The embedded default: no --target means the built-in reference server on loopback; a dry
    // run sends nothing, so it needs none.
    let without = if args.dry_run {
        WithoutTarget::Placeholder
    } else {
        WithoutTarget::StartBuiltin {
            // stdout stays pure JSON lines with --format jsonl.
            notice_on_stderr: format == OutputFormat::Jsonl,
        }
    };
    let connection = target.connect(without).await?;
    let (transport, target_url, builtin, builtin_auth) = (
        connection.transport,
        connection.url,
        connection.builtin,
        connection.builtin_auth,
    );
    // Listening starts before the first request, so a signal at any point after this is handled
    // (before it, the default applies: nothing has been sent, so nothing needs cleaning up).
    let interrupt = Arc::new(Interrupt::new(grace));
    spawn_interrupt_handler(Arc::clone(&interrupt))?;

    // A dry run answers from a scratch built-in server, so conditional flows unfold as they
    // would against a fresh, compliant server; nothing reaches the target.
    let mut scratch = None;
    let mut spc = None;
    let simulator = if args.dry_run {
        let (srv, token) = start_builtin().await?;
        let sim = Transport::new(TransportConfig {
            base_url: srv.base_url(),
            auth: Auth::Bearer(token),
            headers: Vec::new(),
            timeout,
            cacert: None,
            insecure: false,
        })?;
        scratch = Some(srv);
        Some(sim)
    } else {
        // A slow target can hold the preflight for the whole timeout: let Ctrl-C end it cleanly.
        tokio::select! {
            read = transport.preflight() => spc = Some(read.map_err(|e| without_secrets(e, &transport))?),
            _ = interrupt.triggered() => {
                eprintln!("stopped while reading the target's /ServiceProviderConfig; no scenario ran");
                return Ok(Verdict::Stopped(interrupt.signal().unwrap_or(Signal::Interrupt)));
            }
        }
        None
    };
    // Capability gating reads the document the preflight fetched.
    let mut plan = crate::gate::plan(scenarios, spc.as_ref());
    // Moved, not copied: each scenario is dropped as soon as it has run.
    let scenarios = std::mem::take(&mut plan.run);

    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
    let sources: HashMap<String, String> = files.into_iter().map(|f| (f.display, f.text)).collect();
    let console = Console {
        styles,
        verbose: args.verbose,
        sources,
    };
    let show_bar =
        std::io::stderr().is_terminal() && !args.verbose && !args.dry_run && scenarios.len() > 1;
    let bar = if show_bar {
        let bar = indicatif::ProgressBar::new(scenarios.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} scenarios {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let live = Arc::new(LiveConsole {
        console,
        bar,
        format,
        dry_run: args.dry_run,
        out: Mutex::new(()),
    });
    for skipped in &plan.skipped {
        live.scenario_done(skipped);
    }
    let runner = Arc::new(Runner {
        transport,
        simulator,
        vars,
        interrupt: Arc::clone(&interrupt),
        time_scale,
        write_state: args.write_state.is_some(),
        auth: crate::run::RunAuth {
            builtin: builtin_auth,
        },
        // Bodies are shown again only by a report file, `-v` and a dry run's listing; the
        // console's end shows the exchanges findings point at, which are kept.
        keep_bodies: args.verbose
            || args.dry_run
            || args.report_json.is_some()
            || args.report_junit.is_some()
            || args.report_md.is_some()
            || args.report_html.is_some(),
    });
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let started = Instant::now();
    let results = Arc::clone(&runner)
        .run_all(scenarios, jobs, live.clone())
        .await;
    live.bar.finish_and_clear();
    let results = plan.merge(results, spc.as_ref());
    let problems = crate::outcome::problems::group(&results);

    let report = RunReport {
        version: REPORT_VERSION,
        tool: Tool {
            name: "idpsim",
            version: env!("CARGO_PKG_VERSION"),
        },
        target: Target {
            // The report shows the target as the transport would: without URL-borne secrets.
            url: runner.transport.redactor().text(&target_url),
            builtin: builtin.is_some(),
            dry_run: args.dry_run,
            insecure,
        },
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        interrupted: interrupt.is_set(),
        signal: interrupt.signal().map(|s| s.name()),
        summary: RunReport::summarize(&results, &problems),
        problems,
        scenarios: results,
    };
    let verdict = finish(
        &args,
        format,
        &gate,
        baseline.as_ref(),
        &report,
        &live.console,
        interrupt.signal(),
    )?;
    if let Some(srv) = builtin {
        srv.shutdown().await;
    }
    if let Some(srv) = scratch {
        srv.shutdown().await;
    }
    if interrupt.signal().is_some() {
        let left = crate::run::left_behind(&report.scenarios);
        if !left.is_empty() {
            eprintln!(
                "idpsim: {} resource(s) left behind on the server (not deleted before the grace period of {:?} ran out, or created by a request the signal left unanswered); delete them by hand:",
                left.len(),
                interrupt.grace()
            );
            for url in &left {
                eprintln!("  {url}");
            }
        }
    }
    Ok(verdict)
}

/// After the run, whatever happened (an interrupted run still leaves its evidence): the gate's
/// verdict, every report file, the state and baseline files, then the console's end and the
/// gate's lines.
fn finish(
    args: &RunArgs,
    format: OutputFormat,
    opts: &GateOptions,
    baseline: Option<&(String, crate::gate::baseline::Baseline)>,
    report: &RunReport,
    console: &Console,
    stopped_by: Option<Signal>,
) -> Result<Verdict> {
    let gate = crate::gate::evaluate(report, opts, baseline);
    let files = ReportFiles {
        json: args.report_json.clone(),
        junit: args.report_junit.clone(),
        markdown: args.report_md.clone(),
        html: args.report_html.clone(),
    };
    crate::report::write_all(&files, report, &gate, &console.sources)?;
    if let Some(path) = &args.write_state {
        write_file(path, &crate::audit::state_file::document(&report.scenarios))?;
    }
    crate::gate::write_baseline(report, opts, baseline, &gate)?;
    let mut text = if args.dry_run {
        String::new()
    } else {
        console.finish(report)
    };
    text.push_str(&gate.console_summary());
    if format == OutputFormat::Github {
        text.push_str(&crate::report::github::render(report, &gate));
    }
    // With --format jsonl stdout carries only the JSON lines.
    if format == OutputFormat::Jsonl {
        crate::support::out::stderr(&text);
    } else {
        crate::support::out::stdout(&text);
    }
    Ok(gate.verdict(stopped_by))
}

/// `--format` (default human); a dry run has no findings to annotate.
fn output_format(args: &RunArgs) -> Result<OutputFormat> {
    let format = args.format.unwrap_or(OutputFormat::Human);
    if args.dry_run && format == OutputFormat::Github {
        return Err(Error::Usage(
            "--format github annotates findings, and --dry-run has none; use human or jsonl".into(),
        ));
    }
    Ok(format)
}

/// What the gate needs from the command line (after `idpsim.toml` was applied).
fn gate_options(args: &RunArgs) -> Result<GateOptions> {
    if args.baseline_strict && args.baseline.is_none() {
        return Err(Error::Usage(
            "--baseline-strict needs a baseline: --baseline FILE (or [baseline] file in idpsim.toml)".into(),
        ));
    }
    Ok(GateOptions {
        fail_on: args.fail_on.unwrap_or(Severity::Error),
        baseline: args.baseline.clone(),
        strict: args.baseline_strict,
        write_baseline: args.write_baseline.clone(),
    })
}

/// The first SIGINT/SIGTERM sets the interrupt (no new requests, cleanup within the grace
/// period, reports written); a second one quits at once with that signal's code.
fn spawn_interrupt_handler(interrupt: Arc<Interrupt>) -> Result<()> {
    Ok(crate::support::signal::on_first_signal(move |signal| {
        interrupt.trigger(signal);
        let again = match signal {
            crate::support::signal::Signal::Interrupt => "Ctrl-C",
            crate::support::signal::Signal::Terminate => "SIGTERM",
        };
        eprintln!(
            "\nidpsim: {}: starting no new requests; cleaning up what the run created (for up to {:?}, \
             --grace-period), then writing the reports. {again} again to quit at once (cleanup is then cut short).",
            signal.describe(),
            interrupt.grace()
        );
    })?)
}
