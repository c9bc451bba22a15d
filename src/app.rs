//! The commands: glue between the CLI and the parse → run → check → report modules.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::values::{parse_duration, parse_headers, parse_vars};
use crate::cli::{
    Cli, Command, ListArgs, OutputFormat, RunArgs, SelectArgs, ServeArgs, ValidateArgs,
};
use crate::error::{exit, Error, Result};
use crate::outcome::{RunReport, ScenarioResult, Target, Tool, REPORT_VERSION};
use crate::report::console::Console;
use crate::run::{Interrupt, Progress, Runner};
use crate::scenario::load::{self, Selection, SourceFile};
use crate::scenario::Scenario;
use crate::server;
use crate::support::diagnostic::Diagnostic;
use crate::support::out::{say, say_raw, write_file};
use crate::support::styles::Styles;
use crate::transport::{warn_insecure, without_secrets, Auth, Transport, TransportConfig};

/// Runs a parsed command line and returns the process exit code.
pub async fn main(cli: Cli) -> i32 {
    let stdout_styles = cli.color.styles(std::io::stdout().is_terminal());
    let stderr_styles = cli.color.styles(std::io::stderr().is_terminal());
    let result = match cli.command {
        Command::Run(args) => run(*args, stdout_styles).await,
        Command::Validate(args) => validate(args, stdout_styles),
        Command::List(args) => list(args),
        Command::Serve(args) => serve(args).await,
        Command::Load(args) => crate::load::run(*args, stdout_styles).await,
        Command::Record(args) => crate::record::command::record(args).await,
        Command::Import(args) => crate::record::command::import(args),
        Command::Audit(args) => crate::audit::command::from_args(args, stdout_styles).await,
        Command::Completions(args) => crate::cli::completions(args.shell),
        Command::Man => crate::cli::man(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            report_error(&err, &stderr_styles);
            err.exit_code()
        }
    }
}

fn report_error(err: &Error, styles: &Styles) {
    let mut stderr = std::io::stderr().lock();
    match err {
        Error::InvalidScenarios(diags) => {
            for d in diags {
                let _ = write!(
                    stderr,
                    "{}",
                    d.render(source_text(&d.file).as_deref(), styles)
                );
                let _ = writeln!(stderr);
            }
            let files: std::collections::BTreeSet<&str> =
                diags.iter().map(|d| d.file.as_str()).collect();
            let _ = writeln!(
                stderr,
                "{}: {} problem(s) in {} scenario file(s); nothing was sent",
                styles.error.paint("error"),
                diags.len(),
                files.len()
            );
        }
        other => {
            let _ = writeln!(stderr, "{}: {other}", styles.error.paint("error"));
        }
    }
}

/// The text of a scenario file for quoting in diagnostics (shipped files are embedded).
fn source_text(display: &str) -> Option<String> {
    load::shipped()
        .into_iter()
        .find(|f| f.display == display)
        .map(|f| f.text)
        .or_else(|| std::fs::read_to_string(display).ok())
}

fn selection(s: &SelectArgs) -> Selection {
    Selection {
        tags: s.tags.clone(),
        skip_tags: s.skip_tags.clone(),
        idp: s.idp.clone(),
        profiles: s.profiles.clone(),
        names: s.names.clone(),
    }
}

/// Reads and validates scenario files; invalid ones stop everything before anything is sent.
fn load(paths: &[std::path::PathBuf]) -> Result<(Vec<Scenario>, Vec<SourceFile>)> {
    let files = load::collect(paths)?;
    let scenarios =
        load::parse_all(&files, &crate::idp::Catalogue).map_err(Error::InvalidScenarios)?;
    Ok((scenarios, files))
}

fn validate(args: ValidateArgs, styles: Styles) -> Result<i32> {
    let (scenarios, _) = load(&args.paths)?;
    let steps: usize = scenarios
        .iter()
        .map(|s| s.steps.len() + s.cleanup.len())
        .sum();
    say!(
        "{}: {} scenario(s), {} step(s): all valid",
        styles.pass.paint("ok"),
        scenarios.len(),
        steps
    );
    Ok(exit::PASSED)
}

fn list(args: ListArgs) -> Result<i32> {
    let (scenarios, _) = load(&args.paths)?;
    let sel = selection(&args.select);
    for s in scenarios.iter().filter(|s| sel.matches(s)) {
        let profile = s
            .profile
            .as_deref()
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        say!("{}  [{}{}]  {}", s.name, s.idp.name(), profile, s.file);
        if !s.tags.is_empty() {
            say!("    tags: {}", s.tags.join(", "));
        }
        if let Some(d) = &s.description {
            say!("    {}", d.trim().replace('\n', "\n    "));
        }
    }
    Ok(exit::PASSED)
}

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

async fn run(mut args: RunArgs, styles: Styles) -> Result<i32> {
    // Everything that can be wrong with the command line, the config file, the baseline or the
    // scenarios is found before any request is sent.
    if let Some(path) = crate::config::locate(&args) {
        crate::config::load(&path)?.apply(&mut args)?;
    }
    let gate = crate::gate::GateOptions::from_args(&args)?;
    let baseline = gate.load_baseline()?;
    let time_scale = args.time_scale.unwrap_or(1.0);
    // Checked before anything starts (NaN fails the range check too).
    if !(0.0..=1000.0).contains(&time_scale) {
        return Err(Error::Usage(
            "--time-scale takes a factor between 0 and 1000".into(),
        ));
    }
    let timeout = parse_duration(args.timeout.as_deref().unwrap_or("60s"))?;
    let grace = match args.grace_period.as_deref() {
        Some(text) => parse_duration(text)?,
        None => crate::run::DEFAULT_GRACE_PERIOD,
    };
    let headers = parse_headers(&args.headers)?;
    let vars = parse_vars(&args.vars)?;
    let (scenarios, files) = load(&args.paths)?;
    let sel = selection(&args.select);
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
    for (name, _) in &vars {
        if !scenarios
            .iter()
            .any(|s| s.variables.iter().any(|(v, _)| v == name))
        {
            return Err(Error::Usage(format!(
                "--var {name}: no selected scenario declares a variable `{name}`"
            )));
        }
    }
    let auth = Auth::from_flags(args.token.as_deref(), args.basic.as_deref())?;

    // The embedded default: no --target means the built-in reference server on loopback.
    let mut builtin = None;
    let (target_url, auth) = match &args.target {
        Some(url) => (url.clone(), auth),
        None if args.dry_run => ("http://127.0.0.1:8080/scim/v2".to_string(), auth),
        None => {
            if args.token.is_some() || args.basic.is_some() {
                eprintln!("note: --token/--basic are for --target; the built-in server gets a fresh token of its own");
            }
            let token = crate::scenario::template::random_hex(32);
            let config = server::ServerConfig {
                token: Some(token.clone()),
                ..server::ServerConfig::default()
            };
            let srv = server::start(config)
                .await
                .map_err(|e| Error::Server(e.to_string()))?;
            let url = srv.base_url();
            let notice = format!(
                "idpsim {}: no --target given; started the built-in reference SCIM server at {url}",
                env!("CARGO_PKG_VERSION")
            );
            // stdout stays pure JSON lines with --format jsonl.
            if gate.format == OutputFormat::Jsonl {
                eprintln!("{notice}");
            } else {
                say!("{notice}");
            }
            builtin = Some(srv);
            (url, Auth::Bearer(token))
        }
    };
    let transport = Transport::new(TransportConfig {
        base_url: target_url.clone(),
        auth,
        headers,
        timeout,
        cacert: args.cacert.clone(),
        insecure: args.insecure,
    })?;
    if args.insecure {
        warn_insecure(&target_url);
    }
    // Listening starts before the first request, so a signal at any point after this is handled
    // (before it, the default applies: nothing has been sent, so nothing needs cleaning up).
    let interrupt = Arc::new(Interrupt::new(grace));
    spawn_interrupt_handler(Arc::clone(&interrupt))?;

    // A dry run answers from a scratch built-in server, so conditional flows unfold as they
    // would against a fresh, compliant server; nothing reaches the target.
    let mut scratch = None;
    let mut spc = None;
    let simulator = if args.dry_run {
        let token = crate::scenario::template::random_hex(32);
        let srv = server::start(server::ServerConfig {
            token: Some(token.clone()),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Server(e.to_string()))?;
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
                return Ok(interrupt.signal().map_or(exit::INTERRUPTED, |s| s.exit_code()));
            }
        }
        None
    };
    // Capability gating reads the document the preflight fetched.
    let plan = crate::gate::plan(scenarios, spc.as_ref());
    let scenarios = plan.run.clone();

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
        format: gate.format,
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
            insecure: args.insecure,
        },
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        interrupted: interrupt.is_set(),
        signal: interrupt.signal().map(|s| s.name()),
        summary: RunReport::summarize(&results, &problems),
        problems,
        scenarios: results,
    };
    // Reports are written whatever happened, so an interrupted run still leaves its evidence.
    if let Some(path) = &args.report_json {
        write_file(path, &crate::report::json::render(&report))?;
    }
    if let Some(path) = &args.report_junit {
        write_file(path, &crate::report::junit::render(&report))?;
    }
    if let Some(path) = &args.write_state {
        write_file(path, &crate::audit::state_file::document(&report.scenarios))?;
    }
    if !args.dry_run {
        let text = live.console.finish(&report);
        match gate.format {
            OutputFormat::Jsonl => eprint!("{text}"),
            _ => say_raw!("{text}"),
        }
    }
    let code = crate::gate::finish(&report, &gate, baseline.as_ref(), &live.console.sources)?;
    if let Some(srv) = builtin {
        srv.shutdown().await;
    }
    if let Some(srv) = scratch {
        srv.shutdown().await;
    }
    if let Some(signal) = interrupt.signal() {
        let left = crate::run::left_behind(&report.scenarios);
        if !left.is_empty() {
            eprintln!(
                "idpsim: {} resource(s) left behind on the server (the grace period of {:?} ran out); delete them by hand:",
                left.len(),
                interrupt.grace()
            );
            for url in &left {
                eprintln!("  {url}");
            }
        }
        // The signal's code wins over the verdict: what ran is incomplete, whatever it showed.
        return Ok(signal.exit_code());
    }
    Ok(code)
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

async fn serve(args: ServeArgs) -> Result<i32> {
    if args.list_quirks {
        for q in server::Quirk::all() {
            say!(
                "{}\n    {}\n    breaks: {}\n    source: {}\n",
                q.name,
                q.summary,
                q.breaks,
                q.source
            );
        }
        return Ok(exit::PASSED);
    }
    let mut quirks = Vec::new();
    for name in &args.quirks {
        match server::Quirk::from_name(name) {
            Some(q) => quirks.push(q),
            None => {
                let names: Vec<&str> = server::Quirk::all().iter().map(|q| q.name).collect();
                let hint = crate::scenario::parse::suggest(name, &names)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!(
                    "--quirk {name}: no such quirk{hint} (see --list-quirks)"
                )));
            }
        }
    }
    let request_timeout = parse_duration(&args.request_timeout)?;
    if !args.bind.is_loopback() && args.token.is_none() {
        eprintln!(
            "warning: serving on {} without --token: anyone who can reach this address can read and change the store",
            args.bind
        );
    }
    let config = server::ServerConfig {
        bind: args.bind,
        port: args.port,
        token: args.token.clone(),
        auth: server::ServerAuth::default(),
        base: args.base.clone(),
        quirks,
        data: args.data.clone(),
        limits: server::Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: request_timeout,
            body_timeout: request_timeout,
        },
    };
    let srv = server::start(config)
        .await
        .map_err(|e| Error::Server(e.to_string()))?;
    say!(
        "idpsim {}: serving SCIM 2.0 at {}",
        env!("CARGO_PKG_VERSION"),
        srv.base_url()
    );
    say!(
        "{}",
        if args.token.is_some() {
            "auth: bearer token required"
        } else {
            "auth: none (pass --token to require a bearer token)"
        }
    );
    if !args.quirks.is_empty() {
        say!("quirks: {}", args.quirks.join(", "));
    }
    let _ = std::io::stdout().flush();
    let mut signals = crate::support::signal::Signals::listen()
        .map_err(|e| Error::Server(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
    // A signal shuts the server down gracefully: in-flight requests finish, and every change was
    // persisted (fsynced) before it was answered, so the --data file is complete. A requested
    // shutdown is the normal end of a server, hence exit 0.
    srv.wait_until(async move {
        let signal = signals.recv().await;
        eprintln!("idpsim serve: {}; shutting down", signal.describe());
    })
    .await;
    Ok(exit::PASSED)
}

/// Renders diagnostics for tests and snapshot checks.
pub fn render_diagnostics(diags: &[Diagnostic], styles: &Styles) -> String {
    diags
        .iter()
        .map(|d| d.render(source_text(&d.file).as_deref(), styles))
        .collect::<Vec<_>>()
        .join("\n")
}
