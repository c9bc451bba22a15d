//! `idpsim load`: an IdP's initial provisioning cycle at scale, then an incremental cycle, then
//! an audit that every user and membership is on the server exactly once (issue 8).
//!
//! * `generator` — the reproducible synthetic directory (stateless per index; `--seed`).
//! * `wire` — the requests per IdP (Entra through `entra::wire`; Okta through `idp::okta::wire`).
//! * `cycle` — workers, phases, sending with pacing and 429 policy, the compact id table.
//! * `throttle` — each IdP's 429 policy, Entra's job-wide pause, `--rate` pacing.
//! * `metrics` — per-operation HdrHistograms and counters (bounded memory).
//! * `audit` — what the server holds against what the IdP wrote.
//! * `report` — JSON and human report.
//!
//! Memory stays flat in the number of users: responses are dropped as soon as the id is taken,
//! per user only the id is kept, and latency goes into fixed-size histograms.

pub mod audit;
pub mod cycle;
pub mod generator;
pub mod metrics;
pub mod report;
pub mod throttle;
pub mod wire;

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::scenario::Idp;
use crate::support::cpu;
use crate::support::signal::Signal;
use crate::transport::Transport;
use cycle::{Ctx, IdTable, PhaseStats};
use generator::Directory;
use metrics::Metrics;
use throttle::{Pacer, Pause, Policy};
use wire::{EntraWire, OktaProfile, Wire};

/// Most users a run accepts (the id table indexes with u32 and memory is planned for this).
pub const MAX_USERS: u32 = 10_000_000;

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// What `idpsim load` was asked to play, checked (see `commands::load`).
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub idp: Idp,
    pub profile: Option<String>,
    pub dir: Directory,
    pub seed: u64,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub time_scale: f64,
}

impl LoadPlan {
    /// Checks the numbers before anything starts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        idp: Idp,
        profile: Option<String>,
        (users, groups, members): (u32, u32, u32),
        overlap_per_mille: u32,
        seed: Option<u64>,
        concurrency: usize,
        rate: Option<f64>,
        time_scale: Option<f64>,
    ) -> Result<Self> {
        if idp == Idp::Generic {
            return Err(usage("--idp takes okta or entra"));
        }
        if users > MAX_USERS {
            return Err(usage(format!("--users: at most {MAX_USERS}")));
        }
        if concurrency == 0 || concurrency > 1024 {
            return Err(usage("-c/--concurrency takes 1 to 1024"));
        }
        if let Some(r) = rate {
            if !(r > 0.0 && r <= 1_000_000.0) {
                return Err(usage("--rate takes requests per second above 0"));
            }
        }
        let time_scale = time_scale.unwrap_or(1.0);
        if !(0.0..=1000.0).contains(&time_scale) {
            return Err(usage("--time-scale takes a factor between 0 and 1000"));
        }
        if overlap_per_mille > 1000 {
            return Err(usage("--overlap is per mille: 0 to 1000"));
        }
        let seed = seed.unwrap_or_else(|| u64::from(rand::random::<u32>()));
        let mut dir = Directory::new(seed, users, groups, members);
        dir.overlap_per_mille = overlap_per_mille;
        Ok(LoadPlan {
            idp,
            profile,
            dir,
            seed,
            concurrency,
            rate,
            time_scale,
        })
    }
}

/// Plays the cycles and the audit against `transport` (already connected and preflighted);
/// returns the report and the signal that cut it short, if one did.
pub async fn run(
    plan: LoadPlan,
    transport: Transport,
    target: String,
    builtin: bool,
) -> Result<(report::LoadReport, Option<Signal>)> {
    let LoadPlan {
        idp,
        profile,
        dir,
        seed,
        concurrency: c,
        rate,
        time_scale,
    } = plan;
    let wire = match idp {
        Idp::Okta => Wire::Okta(match profile.as_deref() {
            None | Some("oin") => OktaProfile::Oin,
            Some("aiw") => OktaProfile::Aiw,
            Some(p) => {
                return Err(usage(format!(
                    "--profile {p}: Okta's profiles are oin and aiw"
                )))
            }
        }),
        _ => {
            if let Some(p) = profile.as_deref() {
                if !crate::idp::entra::PROFILES.contains(&p) {
                    return Err(usage(format!(
                        "--profile {p}: Entra's profiles are default and aadOptscim062020"
                    )));
                }
            }
            let q = transport.base().query.clone();
            Wire::Entra(Box::new(EntraWire::new(profile.as_deref(), q.as_deref())))
        }
    };
    let policy = Policy::for_idp(idp);
    let ctx = Arc::new(Ctx {
        transport,
        dir,
        wire,
        metrics: Metrics::default(),
        policy,
        pause: Pause::default(),
        pacer: rate.map(Pacer::new),
        time_scale,
        users: IdTable::with_len(dir.users as usize),
        groups: IdTable::with_len(dir.groups as usize),
        failures: Mutex::new(Default::default()),
        stop: Default::default(),
        done: Default::default(),
    });
    // The first SIGINT/SIGTERM stops issuing work; the requests in flight finish (each bounded
    // by --timeout) so their outcome is counted, then the report is written. Load has no cleanup
    // (what it created is the point of the audit), so there is no grace period to wait for.
    let stopped_by: Arc<std::sync::OnceLock<Signal>> = Arc::default();
    {
        let (ctx, stopped_by) = (Arc::clone(&ctx), Arc::clone(&stopped_by));
        crate::support::signal::on_first_signal(move |signal| {
            let _ = stopped_by.set(signal);
            ctx.stop.store(true, Ordering::SeqCst);
            eprintln!(
                "\nidpsim load: {}: issuing no new requests; finishing the ones in flight, then writing the report. Send it again to quit at once.",
                signal.describe()
            );
        })?;
    }

    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix:>20} {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let ticker = {
        let (ctx, bar) = (Arc::clone(&ctx), bar.clone());
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = Instant::now();
                let reqs = ctx.metrics.requests.load(Ordering::Relaxed);
                let rps =
                    (reqs - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(0.001);
                last = (now, reqs);
                let (p50, p99) = ctx.metrics.live_percentiles();
                bar.set_position(ctx.done.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{rps:>7.0} req/s · {} errors · p50 {p50:.1} ms · p99 {p99:.1} ms",
                    ctx.metrics.errors.load(Ordering::Relaxed)
                        + ctx.metrics.transport_errors.load(Ordering::Relaxed)
                ));
            }
        })
    };

    let started = Instant::now();
    let mut phases = Vec::new();
    let run_phase = |name: &'static str, n: usize| {
        bar.set_prefix(name);
        bar.set_length(n as u64);
        bar.set_position(0);
        let before = ctx.metrics.requests.load(Ordering::Relaxed);
        let start = PhaseStart {
            wall: SystemTime::now(),
            cpu: cpu::process_cpu(),
            at: Instant::now(),
        };
        (name, n, start, before)
    };
    let mut end_phase = |(name, n, start, before): (&'static str, usize, PhaseStart, u64)| {
        let requests = ctx.metrics.requests.load(Ordering::Relaxed) - before;
        let d = start.at.elapsed();
        let client_cpu = cpu::process_cpu()
            .zip(start.cpu)
            .map(|(now, then)| now.saturating_sub(then));
        phases.push(PhaseStats {
            name,
            items: n as u64,
            requests,
            duration_ms: d.as_millis() as u64,
            requests_per_second: cycle::rate(requests, d),
            started_unix_ms: start
                .wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |t| t.as_millis() as u64),
            client_cpu_ms: client_cpu.map(|c| (c.as_secs_f64() * 1e6).round() / 1e3),
        });
    };

    // Initial cycle.
    let items = Arc::new(cycle::user_items(&dir));
    let p = run_phase("initial: users", items.len());
    let it = Arc::clone(&items);
    cycle::phase(&ctx, items.len(), c, move |ctx, i| {
        let u = it.get(i).copied().unwrap_or(0);
        cycle::provision_user(ctx, u)
    })
    .await;
    drop(items);
    end_phase(p);
    let p = run_phase("initial: groups", dir.groups as usize);
    cycle::phase(&ctx, dir.groups as usize, c, |ctx, g| {
        cycle::provision_group(ctx, g as u32)
    })
    .await;
    end_phase(p);
    let n = if dir.members == 0 {
        0
    } else {
        dir.groups as usize * cycle::batches_per_group(&ctx)
    };
    let p = run_phase("initial: members", n);
    cycle::phase(&ctx, n, c, cycle::push_members).await;
    end_phase(p);

    // Incremental cycle.
    let changed = Arc::new(cycle::changed_users(&dir));
    let p = run_phase("incremental: users", changed.len());
    let ch = Arc::clone(&changed);
    cycle::phase(&ctx, changed.len(), c, move |ctx, i| {
        let u = ch.get(i).copied().unwrap_or(0);
        cycle::update_user(ctx, u)
    })
    .await;
    end_phase(p);
    let n = if dir.churn() == 0 {
        0
    } else {
        dir.groups as usize
    };
    let p = run_phase("incremental: members", n);
    cycle::phase(&ctx, n, c, |ctx, g| cycle::change_members(ctx, g as u32)).await;
    end_phase(p);

    // Audit (runs even after Ctrl-C would make little sense: skip it then).
    let interrupted = ctx.stop.load(Ordering::SeqCst);
    let result: audit::Shared = Arc::new(Mutex::new(audit::AuditResult {
        users_expected: u64::from(dir.users),
        groups_expected: u64::from(dir.groups),
        memberships_expected: dir.memberships(),
        ..Default::default()
    }));
    if !interrupted {
        let p = run_phase("audit: users", dir.users as usize);
        let r = Arc::clone(&result);
        cycle::phase(&ctx, dir.users as usize, c, move |ctx, i| {
            audit::user(ctx, Arc::clone(&r), i as u32)
        })
        .await;
        end_phase(p);
        let p = run_phase("audit: groups", dir.groups as usize);
        let r = Arc::clone(&result);
        cycle::phase(&ctx, dir.groups as usize, c, move |ctx, g| {
            audit::group(ctx, Arc::clone(&r), g as u32)
        })
        .await;
        end_phase(p);
    }
    ticker.abort();
    bar.finish_and_clear();
    let duration = started.elapsed();

    let mut audit_result = result.lock().unwrap_or_else(|e| e.into_inner()).clone();
    audit_result.finish();
    if interrupted {
        audit_result.passed = false;
    }
    let (operations, status, mut throttling) = ctx.metrics.summary();
    throttling.policy = policy.describe();
    let requests = ctx.metrics.requests.load(Ordering::Relaxed);
    let report = report::LoadReport {
        version: report::LOAD_REPORT_VERSION,
        idp: idp.name(),
        profile: ctx.wire.profile_name(),
        target,
        builtin,
        concurrency: c,
        rate,
        time_scale,
        directory: report::DirectoryInfo {
            seed,
            users: dir.users,
            groups: dir.groups,
            members_per_group: dir.members,
            memberships: dir.memberships(),
            overlapping_users: (0..dir.users).filter(|&i| dir.is_overlapping(i)).count() as u64,
            fingerprint: dir.fingerprint(),
        },
        interrupted,
        duration_ms: duration.as_millis() as u64,
        requests,
        requests_per_second: cycle::rate(requests, duration),
        phases,
        operations,
        status_codes: status
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        transport_errors: ctx.metrics.transport_errors.load(Ordering::Relaxed),
        throttling,
        failures: ctx
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        audit: audit_result,
    };
    let stopped = interrupted.then(|| stopped_by.get().copied().unwrap_or(Signal::Interrupt));
    Ok((report, stopped))
}

/// Where a phase began: on the wall clock (reported), on the process's CPU clock, and on the
/// monotonic clock its duration is measured by.
struct PhaseStart {
    wall: SystemTime,
    cpu: Option<Duration>,
    at: Instant,
}
