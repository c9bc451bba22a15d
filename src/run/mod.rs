//! Running scenarios: steps in order within a scenario, scenarios concurrently (`-j`), cleanup
//! always (after a failure and after Ctrl-C too), and every exchange judged as it happens.

mod probe;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check;
use crate::idp::context::{send_judged, ActionCtx, ScenarioState};
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, Phase, ScenarioResult, StepRef, StepResult};
use crate::scenario::{
    template, CaptureFrom, Collection, Dep, Idp, RequestStep, Scenario, Step, StepKind,
};
use crate::support::diagnostic::Pos;
use crate::support::signal::Signal;
use crate::transport::exchange::{Exchange, TransportErrorKind};
use crate::transport::{
    Auth, AuthMode, Lapse, OutgoingBody, OutgoingRequest, RawResponse, Transport,
};

/// The default `--grace-period`: long enough for a few DELETEs against a slow server, short
/// enough that a CI runner's own kill timeout (often 10–30 s after SIGTERM) does not hit first.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// Set once by the first SIGINT or SIGTERM: no scenario starts, started ones stop at once and
/// clean up until the grace period (counted from the signal) runs out.
#[derive(Debug)]
pub struct Interrupt {
    grace: Duration,
    /// The signal and when cleanup must give up; set once.
    fired: OnceLock<(Signal, tokio::time::Instant)>,
    /// Wakes whatever waits on the interrupt (in-flight steps, the preflight).
    woken: tokio::sync::watch::Sender<bool>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new(DEFAULT_GRACE_PERIOD)
    }
}

impl Interrupt {
    pub fn new(grace: Duration) -> Self {
        Interrupt {
            grace,
            fired: OnceLock::new(),
            woken: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Records the first signal; later calls change nothing (the grace period keeps its start).
    pub fn trigger(&self, signal: Signal) {
        if self
            .fired
            .set((signal, tokio::time::Instant::now() + self.grace))
            .is_ok()
        {
            self.woken.send_replace(true);
        }
    }

    pub fn is_set(&self) -> bool {
        self.fired.get().is_some()
    }

    pub fn signal(&self) -> Option<Signal> {
        self.fired.get().map(|(s, _)| *s)
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Resolves once the interrupt is set (at once if it already is).
    pub async fn triggered(&self) {
        let mut rx = self.woken.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = rx.wait_for(|set| *set).await;
    }

    /// Resolves when half the grace period after the interrupt is over: how long a write that
    /// was already sent is waited for (its answer names what cleanup must delete), leaving the
    /// other half to cleanup.
    pub async fn answer_awaited(&self) {
        self.triggered().await;
        if let Some((_, deadline)) = self.fired.get() {
            tokio::time::sleep_until(*deadline - self.grace / 2).await;
        }
    }

    /// Resolves when the grace period after the interrupt is over; never without an interrupt.
    pub async fn grace_expired(&self) {
        self.triggered().await;
        if let Some((_, deadline)) = self.fired.get() {
            tokio::time::sleep_until(*deadline).await;
        }
    }
}

pub struct Runner {
    pub transport: Transport,
    /// `--dry-run`: answers come from a scratch reference server; nothing reaches the target.
    pub simulator: Option<Transport>,
    /// `--var name=value` overrides.
    pub vars: Vec<(String, String)>,
    pub interrupt: Arc<Interrupt>,
    /// Multiplies IdP waits (Retry-After, back-off); 1.0 waits as the IdP does.
    pub time_scale: f64,
    /// `--write-state`: each result carries what the IdP believes, taken before cleanup.
    pub write_state: bool,
    /// How scenarios that play their own auth mode get their credentials.
    pub auth: RunAuth,
    /// Whether every exchange's bodies are kept to the end (a report file, `-v`, a dry run);
    /// otherwise those of steps without a finding are dropped once the scenario is shown.
    pub keep_bodies: bool,
}

/// The credentials scenarios with an `auth:` block get.
#[derive(Default)]
pub struct RunAuth {
    /// Against the built-in server: credentials for every mode it was set up with, so each
    /// scenario plays its own mode whatever the run's.
    pub builtin: Option<std::collections::HashMap<AuthMode, Auth>>,
}

/// An action that makes the scenario's credential lapse; a scenario that has one plays its own
/// app instance, so the lapse is its alone.
const EXPIRE_TOKEN: &str = "expire_token";

/// Called as each scenario finishes (for live console output and the progress bar).
pub trait Progress: Send + Sync {
    fn scenario_done(&self, result: &ScenarioResult);
}

impl Runner {
    /// Runs the scenarios with at most `jobs` at once; results come back in input order.
    pub async fn run_all(
        self: Arc<Self>,
        scenarios: Vec<Scenario>,
        jobs: usize,
        progress: Arc<dyn Progress>,
    ) -> Vec<ScenarioResult> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        let mut handles = Vec::with_capacity(scenarios.len());
        for scenario in scenarios {
            let runner = Arc::clone(&self);
            let semaphore = Arc::clone(&semaphore);
            let progress = Arc::clone(&progress);
            handles.push(tokio::spawn(async move {
                let _permit = semaphore.acquire_owned().await.ok();
                // Boxed, so that a scenario's state (about 10 KB) exists only while it runs,
                // not for every scenario queued behind the semaphore.
                let mut result = Box::pin(runner.run_scenario(&scenario)).await;
                drop(scenario);
                progress.scenario_done(&result);
                if !runner.keep_bodies {
                    result.shed_unshown_bodies();
                }
                result
            }));
        }
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            match handle.await {
                Ok(r) => results.push(r),
                // A panic in one scenario must not lose the others' results.
                Err(e) => eprintln!("idpsim: internal error in a scenario task: {e}"),
            }
        }
        results
    }

    pub async fn run_scenario(&self, scenario: &Scenario) -> ScenarioResult {
        let started = Instant::now();
        let mut state = ScenarioState::new(template::random_hex(8), self.transport.base().full());
        let mut steps: Vec<StepResult> = Vec::new();
        let mut skip_reason = None;
        let mut ledger = Ledger::new(scenario.steps.len());

        let transport = match self.transport_for(scenario) {
            Ok(t) => t,
            Err(reason) => {
                skip_reason = Some(reason);
                self.transport.clone()
            }
        };
        if skip_reason.is_none() && self.interrupt.is_set() {
            skip_reason = Some("interrupted before it started".to_string());
        } else if skip_reason.is_some() {
            // Not runnable with this run's credentials: nothing is sent.
        } else if let Err(f) = self.prepare(scenario, &mut state) {
            steps.push(step_result(
                0,
                "prepare the scenario".into(),
                "setup",
                scenario.source_ref(scenario.pos),
                Vec::new(),
                vec![*f],
                0,
            ));
        } else {
            // Carry on like the IdP: a failed step ends the scenario only where the IdP
            // itself could not go on (`idp_stops`); a step that needs what a failed step did
            // not produce is "not run"; everything else still runs, so one fault never hides
            // another.
            let mut interrupted = false;
            let mut stopped: Option<(String, StepRef)> = None;
            for (i, step) in scenario.steps.iter().enumerate() {
                let source = scenario.source_ref(step.pos);
                let kind = step_kind(step);
                let here = StepRef {
                    phase: Phase::Step,
                    index: i + 1,
                };
                if let Some(why) = state.not_applicable.clone() {
                    // An earlier step found that the server does not offer what this scenario
                    // tests: the IdP would not send the rest.
                    ledger.push(Outcome::Skipped, None);
                    steps.push(skipped_step(i + 1, step.label(), kind, source, why));
                    continue;
                }
                if interrupted || self.interrupt.is_set() {
                    interrupted = true;
                    ledger.push(Outcome::Skipped, None);
                    steps.push(skipped_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        "interrupted".into(),
                    ));
                    continue;
                }
                let blocked = stopped.clone().or_else(|| ledger.blocked(step, &state));
                if let Some((reason, root)) = blocked {
                    ledger.push(Outcome::NotRun, Some(root));
                    steps.push(not_run_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        reason,
                        root,
                    ));
                    continue;
                }
                let t = Instant::now();
                // A step in flight when the signal comes sends nothing more. A read on the wire
                // is abandoned at once (it may be a slow one held for the whole --timeout, and
                // the grace period belongs to cleanup); a write already sent is waited for, for
                // half the grace period, since its answer names what cleanup must delete.
                let flight = Arc::new(crate::transport::inflight::InFlight::default());
                // The step future borrows the state; it ends with this block.
                let ran = {
                    let step_run =
                        flight.scoped(self.run_step(scenario, &mut state, step, &transport));
                    tokio::pin!(step_run);
                    let mut ran = tokio::select! {
                        biased;
                        ran = &mut step_run => Some(ran),
                        _ = self.interrupt.triggered() => None,
                    };
                    if ran.is_none() {
                        interrupted = true;
                        flight.stop_new();
                        if flight.write_unanswered() {
                            ran = tokio::select! {
                                biased;
                                ran = &mut step_run => Some(ran),
                                _ = self.interrupt.answer_awaited() => None,
                            };
                        }
                    }
                    ran
                };
                let Some((exchanges, findings, sent, auth_stop)) = ran else {
                    let result = self.unanswered_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        &flight.unanswered(),
                        t,
                    );
                    let root = (result.outcome == Outcome::Failed).then_some(here);
                    ledger.push(result.outcome, root);
                    steps.push(result);
                    continue;
                };
                state.note_failures(&exchanges, &findings);
                let mut result = step_result(
                    i + 1,
                    step.label(),
                    kind,
                    source,
                    exchanges,
                    findings,
                    t.elapsed().as_millis() as u64,
                );
                // Between steps, so the IdP's own sequence is untouched; not after a signal.
                if self.simulator.is_none() && !self.interrupt.is_set() {
                    probe::probe(&self.transport, &sent, &mut result).await;
                }
                // A step that sent nothing and could not be carried out as written (a template
                // that reads a missing value, an audit with nothing to audit) after an earlier
                // failure is that failure's consequence, whatever the load-time analysis saw.
                let result = match ledger.latest_failure() {
                    Some(root) if unrunnable(&result) => not_run_step(
                        i + 1,
                        result.name,
                        result.kind,
                        result.source,
                        format!(
                            "needs {root}: this step could not be carried out after it failed ({})",
                            result.findings.first().map_or("", |f| f.message.as_str())
                        ),
                        root,
                    ),
                    _ => result,
                };
                if let Some(why) = auth_stop {
                    // A refused credential is where the IdP cannot go on, even when the refusal
                    // was the server being right (a lapse the scenario played).
                    stopped = Some((format!("needs {here}: {why}"), here));
                } else if result.outcome == Outcome::Failed {
                    if let Some(why) = idp_stops(&result) {
                        stopped = Some((format!("needs {here}: {why}"), here));
                    }
                }
                let root = match result.outcome {
                    Outcome::Failed => Some(here),
                    Outcome::NotRun => result.needs,
                    _ => None,
                };
                ledger.push(result.outcome, root);
                steps.push(result);
            }
        }

        // A `/Schemas` finding about an extension the writes showed unsupported is that
        // problem's supporting sign (`idp::custom::fold`).
        crate::idp::custom::fold(&state.extensions, &mut steps);
        // `--write-state`: what the IdP believes, before cleanup deletes it.
        let believed = self
            .write_state
            .then(|| crate::idp::believed::for_state_file(scenario, &state));
        // A scenario the signal stopped before it started created nothing, and its cleanup
        // steps would be new requests after the signal: it has nothing to clean up.
        let cleanup = if skip_reason.is_some() {
            Vec::new()
        } else {
            // Cleanup is idpsim's, not the IdP's: a lapse the scenario played (idpsim sending
            // the token as expired) does not stop it deleting what the scenario created.
            let transport = transport.unlapsed().await;
            self.cleanup(scenario, &mut state, &mut ledger, &transport)
                .await
        };
        // Not applicable (the server does not offer the feature): skipped, after its cleanup,
        // unless a step before the discovery already showed a fault.
        let not_applicable = skip_reason.is_none() && state.not_applicable.is_some();
        let outcome = if skip_reason.is_some() {
            Outcome::Skipped
        } else {
            steps
                .iter()
                .map(|s| s.outcome)
                .chain(cleanup.iter().map(|s| s.outcome.min(Outcome::Warned)))
                .max()
                .unwrap_or(Outcome::Passed)
        };
        let outcome = if not_applicable && outcome <= Outcome::Skipped {
            skip_reason = state.not_applicable.clone();
            Outcome::Skipped
        } else {
            outcome
        };
        ScenarioResult {
            name: scenario.name.clone(),
            file: scenario.file.clone(),
            line: scenario.pos.line,
            idp: scenario.idp.name(),
            profile: scenario.profile.clone(),
            tags: scenario.tags.clone(),
            description: scenario.description.clone(),
            source: scenario.source.clone(),
            run_id: state.run_id.clone(),
            outcome,
            duration_ms: started.elapsed().as_millis() as u64,
            steps,
            cleanup,
            skip_reason,
            believed,
        }
    }

    /// Renders variables (`--var` wins) and lets the IdP profile set up its directory.
    fn prepare(&self, scenario: &Scenario, state: &mut ScenarioState) -> Result<(), Box<Finding>> {
        let domain = self
            .vars
            .iter()
            .find(|(k, _)| k == template::EMAIL_DOMAIN)
            .map(|(_, v)| v.as_str())
            .unwrap_or(template::DEFAULT_EMAIL_DOMAIN);
        state
            .values
            .insert(template::EMAIL_DOMAIN.into(), Value::String(domain.into()));
        // One context, grown as each variable is rendered: building it afresh per variable made
        // a file of 100,000 variables quadratic.
        let mut ctx = state.template_context();
        for (name, node) in &scenario.variables {
            let value = match self.vars.iter().find(|(k, _)| k == name) {
                Some((_, v)) => Value::String(v.clone()),
                None => template::render_value(&node.to_json(), &ctx).map_err(|e| {
                    Box::new(
                        Finding::judged(
                            "scenario.template",
                            scenario.idp,
                            format!("variable `{name}`: {e}"),
                        )
                        .source(scenario.source_ref(node.pos)),
                    )
                })?,
            };
            if let Value::Object(map) = &mut ctx {
                map.insert(name.clone(), value.clone());
            }
            state.values.insert(name.clone(), value);
        }
        crate::idp::prepare(scenario, state)
    }

    /// The transport a scenario sends through: the run's, or — for a scenario that plays its own
    /// auth mode or lets its credential lapse — its own app instance. `Err` says why the scenario
    /// cannot run with this run's credentials.
    fn transport_for(&self, scenario: &Scenario) -> Result<Transport, String> {
        if self.simulator.is_some() {
            return Ok(self.transport.clone());
        }
        let Some(auth) = &scenario.auth else {
            let expires = scenario
                .steps
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Action(a) if a.name == EXPIRE_TOKEN));
            return Ok(if expires {
                self.transport.sibling(Lapse::default())
            } else {
                self.transport.clone()
            });
        };
        if let Some(modes) = &self.auth.builtin {
            return match modes.get(&auth.mode) {
                Some(creds) => Ok(self.transport.with_auth(creds.clone(), auth.lapse)),
                None => Err(format!(
                    "it plays auth mode {}, which the built-in server was not set up for",
                    auth.mode.name()
                )),
            };
        }
        let run_mode = self.transport.session().mode();
        if run_mode == auth.mode {
            Ok(self.transport.sibling(auth.lapse))
        } else {
            Err(format!(
                "it plays auth mode {} (its `auth:`), and this run authenticates with {}; run it with --auth {} and that mode's credentials",
                auth.mode.name(),
                run_mode.name(),
                auth.mode.name()
            ))
        }
    }

    async fn run_step(
        &self,
        scenario: &Scenario,
        state: &mut ScenarioState,
        step: &Step,
        transport: &Transport,
    ) -> Ran {
        match &step.kind {
            StepKind::Request(req) => self.request_step(scenario, state, req, transport).await,
            StepKind::Action(action) => {
                let mut ctx = ActionCtx::new(
                    scenario,
                    state,
                    transport,
                    self.simulator.as_ref(),
                    step.pos,
                );
                ctx.time_scale = self.time_scale;
                crate::idp::run_action(&mut ctx, action).await;
                ctx.into_results()
            }
        }
    }

    async fn request_step(
        &self,
        scenario: &Scenario,
        state: &mut ScenarioState,
        step: &RequestStep,
        transport: &Transport,
    ) -> Ran {
        let req = match build_request(state, step, scenario.idp) {
            Ok(r) => r,
            Err((pos, msg)) => {
                let f = Finding::judged("scenario.template", scenario.idp, msg)
                    .source(scenario.source_ref(pos));
                return (Vec::new(), vec![f], Vec::new(), None);
            }
        };
        let sent = send_judged(
            transport,
            self.simulator.as_ref(),
            scenario.idp,
            &state.history,
            &req,
            0,
        )
        .await;
        let mut findings = sent.findings;
        let raw = sent.raw;
        let answer = sent.answer.and_then(|i| sent.exchanges.get(i));
        // When the server refused the credentials, the refusal is the finding: expectations
        // written for an authenticated answer would only repeat it.
        if self.simulator.is_none() && sent.stopped.is_none() {
            if let Some(resp) = answer.and_then(|e| e.response.as_ref()) {
                let ctx = state.template_context();
                let at = sent.answer.unwrap_or(0);
                let expected = check::expect::check(&step.expect, resp, scenario, &ctx);
                check::expect::fold(
                    &mut findings,
                    expected,
                    &step.expect,
                    resp,
                    scenario.idp,
                    at,
                );
            }
        }
        // A read of a resource whose last write failed shows that failure again: its mismatches
        // are that problem, not a new one.
        let intent = check::rules::Intent::infer(&req.method, &req.path);
        if let Some(rule) = check::history::resource_key(&intent)
            .filter(|_| req.method == "GET")
            .and_then(|k| state.history.failure(&k))
        {
            for f in findings
                .iter_mut()
                .filter(|f| DRIFT.contains(&f.rule.as_str()))
            {
                *f = f.clone().rebind(rule, scenario.idp);
            }
        }
        state.track(&req, &raw);
        crate::idp::traffic::observe(state, &req, &raw);
        // Nothing to capture from an answer that failed (the wrong status, or a fault a rule
        // names): the failure is the problem, and the steps that need the value are "not run",
        // naming this one.
        let failed = raw.status >= 300 || findings.iter().any(|f| f.severity == Severity::Error);
        if answer.is_some_and(|e| e.response.is_some()) && sent.stopped.is_none() && !failed {
            for c in &step.capture {
                match capture(&c.from, &raw) {
                    Some(v) => {
                        state.values.insert(c.name.clone(), v);
                    }
                    None if failed => {}
                    None => findings.push(
                        Finding::judged(
                            "scenario.capture",
                            scenario.idp,
                            format!(
                                "could not capture `{}`: {} is not in the answer",
                                c.name,
                                describe_capture(&c.from)
                            ),
                        )
                        .source(scenario.source_ref(c.pos))
                        .at_exchange(sent.answer.unwrap_or(0)),
                    ),
                }
            }
        }
        (sent.exchanges, findings, sent.requests, sent.stopped)
    }

    /// The scenario's own cleanup steps, then deletion of whatever it created and did not delete.
    /// Problems here are warnings: they do not change what the scenario proved.
    ///
    /// After a signal, cleanup still runs, but only until the grace period is over; what is
    /// still on the server then is reported as left behind, by URL, for deletion by hand.
    async fn cleanup(
        &self,
        scenario: &Scenario,
        state: &mut ScenarioState,
        ledger: &mut Ledger,
        transport: &Transport,
    ) -> Vec<StepResult> {
        let mut out = Vec::new();
        let mut expired = false;
        for (i, step) in scenario.cleanup.iter().enumerate() {
            let source = scenario.source_ref(step.pos);
            let t = Instant::now();
            // A cleanup step that addresses what was never created (`DELETE /Users/{{ id }}`
            // after the create failed) has nothing to do.
            if let Some((reason, root)) = ledger.blocked(step, state) {
                ledger.push(Outcome::NotRun, Some(root));
                out.push(not_run_step(
                    i + 1,
                    step.label(),
                    step_kind(step),
                    source,
                    reason,
                    root,
                ));
                continue;
            }
            let ran = if expired {
                None
            } else {
                tokio::select! {
                    biased;
                    ran = self.run_step(scenario, state, step, transport) => Some(ran),
                    _ = self.interrupt.grace_expired() => None,
                }
            };
            let Some((exchanges, findings, _, _)) = ran else {
                expired = true;
                ledger.push(Outcome::Skipped, None);
                out.push(skipped_step(
                    i + 1,
                    step.label(),
                    step_kind(step),
                    source,
                    self.grace_expired_reason(),
                ));
                continue;
            };
            let findings = findings.into_iter().map(downgrade).collect();
            let result = step_result(
                i + 1,
                step.label(),
                step_kind(step),
                source,
                exchanges,
                findings,
                t.elapsed().as_millis() as u64,
            );
            // Cleanup findings are warnings, but what a cleanup step failed to produce is as
            // missing as a step's.
            let failed = result
                .findings
                .iter()
                .any(|f| f.severity >= Severity::Warning);
            let here = StepRef {
                phase: Phase::Cleanup,
                index: i + 1,
            };
            ledger.push(
                if failed {
                    Outcome::Failed
                } else {
                    result.outcome
                },
                failed.then_some(here),
            );
            out.push(result);
        }
        if !scenario.auto_cleanup || self.simulator.is_some() {
            return out;
        }
        // Groups first, so that deleting users never trips over memberships; newest first.
        let mut created = std::mem::take(&mut state.created);
        created.reverse();
        created.sort_by_key(|c| !c.path.starts_with("/Groups"));
        for c in created {
            let t = Instant::now();
            let req = OutgoingRequest::new("DELETE", c.path.clone())
                .header("Accept", "application/scim+json");
            let sent = if expired {
                None
            } else {
                tokio::select! {
                    biased;
                    sent = transport.send(&req) => Some(sent),
                    _ = self.interrupt.grace_expired() => None,
                }
            };
            let Some((exchange, _)) = sent else {
                expired = true;
                out.push(self.left_behind(out.len() + 1, scenario, &c.path, t));
                continue;
            };
            // A DELETE refused for a reason a built-in rule names (credentials, headers, …) is
            // that rule's problem again, not a cleanup problem of its own.
            let judged: Vec<Finding> = state
                .judge(scenario.idp, &req, &exchange)
                .into_iter()
                .filter(|f| f.severity == Severity::Error || f.rule.starts_with("http."))
                .map(|f| downgrade(f).at_exchange(0))
                .collect();
            let mut findings = Vec::new();
            let mut exchanges = Vec::new();
            let mut kept = None;
            let deleted = exchange
                .response
                .as_ref()
                .filter(|r| (200..300).contains(&r.status))
                .map(|r| r.status);
            match (&exchange.response, &exchange.error) {
                (Some(r), _) if (200..300).contains(&r.status) || r.status == 404 => {}
                _ if !judged.is_empty() => findings = judged,
                (Some(r), _) => findings.push(Finding::judged(
                    "cleanup.delete",
                    scenario.idp,
                    format!(
                        "could not delete {} (status {}); it is left on the server",
                        c.path, r.status
                    ),
                )),
                (None, Some(e)) => findings.push(Finding::judged(
                    "cleanup.delete",
                    scenario.idp,
                    format!("could not delete {}: {}", c.path, e.message),
                )),
                (None, None) => {}
            }
            exchanges.push(exchange);
            // After a signal, cleanup sends only its DELETEs: the grace period is for them.
            if let (Some(status), false) = (deleted, expired || self.interrupt.is_set()) {
                match self
                    .verify_deleted(scenario, &c.path, status, transport)
                    .await
                {
                    Some(verified) => {
                        exchanges.push(verified.exchange);
                        findings.extend(verified.finding.map(|f| f.at_exchange(1)));
                        kept = verified.kept;
                    }
                    None => expired = true,
                }
            }
            let mut result = step_result(
                out.len() + 1,
                format!("delete {}", c.path),
                "cleanup",
                scenario.source_ref(scenario.pos),
                exchanges,
                findings,
                t.elapsed().as_millis() as u64,
            );
            result.skip_reason = kept.map(|url| format!("left behind: {url}"));
            out.push(result);
        }
        out
    }

    /// Reads a resource back after its DELETE answered `status` (2xx): a server that only
    /// deactivates, or ignores the DELETE, still returns it. idpsim's own read (neutral
    /// headers), bounded by the grace period after a signal (None when it ran out).
    ///
    /// What it means depends on who would send that DELETE. Okta never deletes users (it
    /// deactivates them), so for an Okta user the note is information, not a fault of the
    /// server; Okta does delete groups (unlink with delete), and Entra deletes users and groups
    /// (hard delete, unassignment set to delete) and takes them as gone — for those, and by
    /// RFC 7644 §3.6 (a deleted resource answers 404 from then on), it is a warning. A read
    /// that gets no usable answer (another status, no answer) proves nothing either way: the
    /// server acknowledged the DELETE, so it is a note that the cleanup is unverified
    /// (`cleanup.unverified`). Cleanup findings never fail a scenario; a scenario that asserts
    /// deletion checks it in its steps.
    async fn verify_deleted(
        &self,
        scenario: &Scenario,
        path: &str,
        status: u16,
        transport: &Transport,
    ) -> Option<DeleteCheck> {
        let req =
            OutgoingRequest::new("GET", path.to_string()).header("Accept", "application/scim+json");
        let (exchange, raw) = tokio::select! {
            biased;
            sent = transport.send(&req) => sent,
            _ = self.interrupt.grace_expired() => return None,
        };
        let mut check = DeleteCheck {
            exchange,
            finding: None,
            kept: None,
        };
        match check.exchange.response.as_ref().map(|r| r.status) {
            Some(404 | 410) => {}
            Some(200..=299) => {
                let base = self.transport.base();
                let url =
                    self.transport
                        .redactor()
                        .text(&format!("{}{}", base.origin, base.join(path)));
                let how = match raw.body.as_ref().and_then(|b| b.get("active")) {
                    Some(serde_json::Value::Bool(false)) => {
                        " with active=false: the server only deactivated it".to_string()
                    }
                    Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => {
                        format!(" with active={s:?}: the server only deactivated it")
                    }
                    _ => ": the server kept it".to_string(),
                };
                let mut finding = Finding::judged(
                    NOT_DELETED_RULE,
                    scenario.idp,
                    format!(
                        "left behind: DELETE {path} answered {status}, but GET still returns it{how}"
                    ),
                );
                if scenario.idp == Idp::Okta && path.starts_with("/Users") {
                    // The one consequence the catalogue cannot hold: it depends on the resource.
                    // Okta never deletes a user, so a user the server keeps costs Okta nothing.
                    finding.severity = Severity::Info;
                    finding.impact = Some(
                        "Okta never deletes users (it deactivates them), so Okta does not depend \
                         on this; the run's test user stays on the server: delete it by hand."
                            .into(),
                    );
                }
                check.finding = Some(finding);
                check.kept = Some(url);
            }
            other => {
                let why = match (other, &check.exchange.error) {
                    (Some(code), _) => format!("GET answered {code}"),
                    (None, Some(e)) => e.message.clone(),
                    (None, None) => "no answer".into(),
                };
                check.finding = Some(Finding::judged(
                    UNVERIFIED_RULE,
                    scenario.idp,
                    format!(
                        "could not read {path} back after its DELETE ({why}): whether it is gone is unknown"
                    ),
                ));
            }
        }
        Some(check)
    }

    fn grace_expired_reason(&self) -> String {
        format!(
            "the grace period ({}) after the signal ran out before this cleanup step finished",
            humane(self.interrupt.grace())
        )
    }

    /// A step the signal cut off with requests sent and unanswered: it ran (it is not
    /// "skipped"), and a write among them may have created something nobody can name, so each
    /// is listed as possibly left behind, with what identifies it (its `userName`,
    /// `displayName` or `externalId`).
    fn unanswered_step(
        &self,
        index: usize,
        name: String,
        kind: &'static str,
        source: crate::support::diagnostic::SourceRef,
        unanswered: &[crate::transport::exchange::RecordedRequest],
        started: Instant,
    ) -> StepResult {
        let exchanges: Vec<Exchange> = unanswered
            .iter()
            .map(|request| Exchange {
                request: request.clone(),
                response: None,
                error: Some(crate::transport::exchange::TransportError {
                    kind: crate::transport::exchange::TransportErrorKind::Timeout,
                    message: "sent; the run was interrupted before its answer came".into(),
                }),
                simulated: false,
            })
            .collect();
        let writes: Vec<String> = unanswered
            .iter()
            .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
            .map(|r| {
                let named = r
                    .body
                    .as_ref()
                    .and_then(|b| {
                        ["userName", "displayName", "externalId"]
                            .iter()
                            .find_map(|k| {
                                b.get(*k)
                                    .and_then(serde_json::Value::as_str)
                                    .map(|v| format!(" ({k} {v:?})"))
                            })
                    })
                    .unwrap_or_default();
                format!("{} {}{named}", r.method, r.url)
            })
            .collect();
        let findings = writes
            .iter()
            .map(|w| {
                Finding::judged(
                    LEFT_BEHIND_RULE,
                    Idp::Generic,
                    format!(
                        "left behind: {w} was sent when the signal came and not answered: the server may have acted on it"
                    ),
                )
            })
            .collect();
        let mut result = step_result(
            index,
            name,
            kind,
            source,
            exchanges,
            findings,
            started.elapsed().as_millis() as u64,
        );
        match writes.first() {
            // A write whose fate is unknown: the step did not do what it was for.
            Some(w) => {
                result.outcome = Outcome::Failed;
                result.skip_reason = Some(format!("left behind: {w}"));
            }
            // A read changed nothing: the step proves nothing either way.
            None => {
                result.outcome = Outcome::Skipped;
                result.skip_reason = Some(
                    "interrupted while its request was in flight: it was sent and its answer \
                     was not awaited"
                        .into(),
                );
            }
        }
        result
    }

    /// A resource the run created and could not delete before the grace period ran out: a
    /// warning with its full URL (secrets redacted), so a person can delete it by hand.
    fn left_behind(
        &self,
        index: usize,
        scenario: &Scenario,
        path: &str,
        started: Instant,
    ) -> StepResult {
        let base = self.transport.base();
        let url = self
            .transport
            .redactor()
            .text(&format!("{}{}", base.origin, base.join(path)));
        let finding = Finding::judged(
            LEFT_BEHIND_RULE,
            scenario.idp,
            format!(
                "left behind: {url} was not deleted; the grace period ({}) after the signal ran out",
                humane(self.interrupt.grace())
            ),
        );
        StepResult {
            skip_reason: Some(format!("left behind: {url}")),
            ..step_result(
                index,
                format!("delete {path}"),
                "cleanup",
                scenario.source_ref(scenario.pos),
                Vec::new(),
                vec![finding],
                started.elapsed().as_millis() as u64,
            )
        }
    }
}

/// Rules whose findings on a read are a write's effect missing: after a failed write to that
/// resource, they are the failure's consequence.
const DRIFT: &[&str] = &[
    "expect.body",
    "rfc7644.patch.not-applied",
    "rfc7644.replace.not-applied",
    "rfc7644.create.not-stored",
];

/// The rule id of a resource that cleanup could not delete in time after a signal.
pub const LEFT_BEHIND_RULE: &str = "cleanup.left-behind";

/// What a step sent and what it found: the recorded exchanges, the findings, the requests as
/// built (unredacted; only trigger probing re-sends them), and, when the server refused the
/// IdP's credentials, why the IdP cannot go on.
type Ran = (
    Vec<Exchange>,
    Vec<Finding>,
    Vec<OutgoingRequest>,
    Option<String>,
);

/// The rule id of a resource the server still returns after answering its DELETE with 2xx.
pub const NOT_DELETED_RULE: &str = "cleanup.not-deleted";

/// The rule id of a resource whose DELETE was acknowledged but whose read-back got no usable
/// answer: the run cannot tell whether it is gone.
pub const UNVERIFIED_RULE: &str = "cleanup.unverified";

/// What reading a resource back after its DELETE showed.
struct DeleteCheck {
    exchange: Exchange,
    finding: Option<Finding>,
    /// The full URL (redacted) of a resource the server kept.
    kept: Option<String>,
}

/// The resources the results report as left behind (full URLs), for the final note on stderr.
pub fn left_behind(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| r.steps.iter().chain(&r.cleanup))
        .filter_map(|s| s.skip_reason.as_deref()?.strip_prefix("left behind: "))
        .map(str::to_string)
        .collect()
}

/// A duration as a person writes it: `10s`, `1.5s`, `500ms`.
fn humane(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn downgrade(f: Finding) -> Finding {
    f.at_most(Severity::Warning)
}

fn step_kind(step: &Step) -> &'static str {
    match step.kind {
        StepKind::Request(_) => "request",
        StepKind::Action(_) => "action",
    }
}

fn step_result(
    index: usize,
    name: String,
    kind: &'static str,
    source: crate::support::diagnostic::SourceRef,
    exchanges: Vec<Exchange>,
    findings: Vec<Finding>,
    duration_ms: u64,
) -> StepResult {
    let findings = crate::outcome::problems::one_per_exchange(findings);
    let outcome = Outcome::from_findings(&findings);
    StepResult {
        index,
        name,
        kind,
        source,
        outcome,
        duration_ms,
        exchanges,
        findings,
        skip_reason: None,
        needs: None,
        probes: Vec::new(),
    }
}

fn skipped_step(
    index: usize,
    name: String,
    kind: &'static str,
    source: crate::support::diagnostic::SourceRef,
    reason: String,
) -> StepResult {
    StepResult {
        index,
        name,
        kind,
        source,
        outcome: Outcome::Skipped,
        duration_ms: 0,
        exchanges: Vec::new(),
        findings: Vec::new(),
        skip_reason: Some(reason),
        needs: None,
        probes: Vec::new(),
    }
}

/// A step that needed what a failed step did not produce, or came after the IdP stopped.
fn not_run_step(
    index: usize,
    name: String,
    kind: &'static str,
    source: crate::support::diagnostic::SourceRef,
    reason: String,
    needs: StepRef,
) -> StepResult {
    StepResult {
        outcome: Outcome::NotRun,
        needs: Some(needs),
        ..skipped_step(index, name, kind, source, reason)
    }
}

/// What each step of a scenario (steps, then cleanup steps) came to, so later steps can tell
/// whether what they need was never produced because its producer failed.
struct Ledger {
    steps: usize,
    /// Per step in order: its outcome and, for a failed or not-run step, the failed step at
    /// the root of it.
    outcomes: Vec<(Outcome, Option<StepRef>)>,
}

impl Ledger {
    fn new(steps: usize) -> Self {
        Ledger {
            steps,
            outcomes: Vec::new(),
        }
    }

    fn push(&mut self, outcome: Outcome, root: Option<StepRef>) {
        self.outcomes.push((outcome, root));
    }

    /// The latest failed step so far.
    fn latest_failure(&self) -> Option<StepRef> {
        self.outcomes
            .iter()
            .rev()
            .find(|(o, _)| *o == Outcome::Failed)
            .and_then(|(_, root)| *root)
    }

    fn step_ref(&self, position: usize) -> StepRef {
        if position < self.steps {
            StepRef {
                phase: Phase::Step,
                index: position + 1,
            }
        } else {
            StepRef {
                phase: Phase::Cleanup,
                index: position - self.steps + 1,
            }
        }
    }

    /// The reason a step cannot run and the failed step it needs: something it needs is
    /// missing, and the step that should have produced it failed or did not run. A need that
    /// is missing although its producer passed is left to the step itself to report (the IdP
    /// acts on what it has).
    fn blocked(&self, step: &Step, state: &ScenarioState) -> Option<(String, StepRef)> {
        for check in &step.verifies {
            let Some((outcome, root)) = self.outcomes.get(check.from) else {
                continue;
            };
            if matches!(outcome, Outcome::Failed | Outcome::NotRun) {
                let actor = self.step_ref(check.from);
                let root = root.unwrap_or(actor);
                let what = match &check.dep {
                    Dep::Linked { collection, key } => format!("{} `{key}`", collection.noun()),
                    other => other.describe(),
                };
                let reason = if actor == root {
                    format!("needs {root}: it failed on {what}, so checking {what} now would only restate that failure")
                } else {
                    format!("needs {root}: {actor} acts on {what} and did not run")
                };
                return Some((reason, root));
            }
        }
        for need in &step.needs {
            if available(&need.dep, state) {
                continue;
            }
            let Some((outcome, root)) = self.outcomes.get(need.from) else {
                continue;
            };
            if !matches!(outcome, Outcome::Failed | Outcome::NotRun) {
                continue;
            }
            let producer = self.step_ref(need.from);
            let root = root.unwrap_or(producer);
            let what = need.dep.describe();
            let reason = if producer == root {
                format!("needs {root}: {what}, which it did not produce")
            } else {
                format!("needs {root}: {what} ({producer} would have produced it, and did not run)")
            };
            return Some((reason, root));
        }
        None
    }
}

/// A step that sent nothing and whose only findings say the scenario could not be carried out
/// as written (`scenario.template`, `scenario.audit`).
fn unrunnable(result: &StepResult) -> bool {
    result.exchanges.is_empty()
        && !result.findings.is_empty()
        && result
            .findings
            .iter()
            .all(|f| matches!(f.rule.as_str(), "scenario.template" | "scenario.audit"))
}

/// Whether the scenario's state holds what a step needs.
fn available(dep: &Dep, state: &ScenarioState) -> bool {
    match dep {
        Dep::Value(name) => state.values.contains_key(name),
        Dep::Linked { collection, key } => {
            let table = match collection {
                Collection::Users => &state.users,
                Collection::Groups => &state.groups,
            };
            table
                .get(key)
                .and_then(|o| o.get("id"))
                .and_then(Value::as_str)
                .is_some_and(|id| !id.is_empty())
        }
    }
}

/// Where the IdP itself cannot go on after a failed step, besides a refused credential (which
/// the engine's judged send reports, with the IdP's own reaction: `crate::idp::auth`): the server
/// could not be reached at all. Any other failure is one operation failing, and the IdP goes on
/// with the next.
fn idp_stops(result: &StepResult) -> Option<String> {
    result.exchanges.iter().find_map(|ex| {
        ex.error
            .as_ref()
            .filter(|e| e.kind == TransportErrorKind::Connect)
            .map(|e| {
                format!(
                    "the server could not be reached ({}), and the IdP stops there",
                    e.message
                )
            })
    })
}

/// Renders a raw request step. Defaults: `Accept: application/scim+json`, a SCIM JSON
/// Content-Type for bodies, and idpsim's User-Agent — each overridden by the step's own headers.
fn build_request(
    state: &ScenarioState,
    step: &RequestStep,
    idp: crate::scenario::Idp,
) -> Result<OutgoingRequest, (Pos, String)> {
    let ctx = state.template_context();
    let path =
        template::render(&step.path, &ctx).map_err(|e| (step.path_pos, format!("path: {e}")))?;
    let mut req = OutgoingRequest::new(&step.method, path);
    req.with_auth = !step.no_auth && !step.invalid_auth;
    if step.invalid_auth {
        req.headers.push((
            "Authorization".into(),
            "Bearer idpsim-invalid-credential".into(),
        ));
    }
    for (k, v) in &step.headers {
        let value =
            template::render(v, &ctx).map_err(|e| (step.path_pos, format!("header {k}: {e}")))?;
        req.headers.push((k.clone(), value));
    }
    if let Some(body) = &step.body {
        let value = template::render_value(&body.to_json(), &ctx)
            .map_err(|e| (body.pos, format!("body: {e}")))?;
        req.body = Some(OutgoingBody::Json(value));
    } else if let Some(raw) = &step.raw_body {
        let text =
            template::render(raw, &ctx).map_err(|e| (step.path_pos, format!("raw_body: {e}")))?;
        req.body = Some(OutgoingBody::Raw(text));
    }
    // Entra sends no Accept and no User-Agent (Microsoft Learn's tutorial; MicrosoftDocs/
    // azure-docs#94189; kortix-ai/suna#7297): a raw step replaying Entra traffic sends what
    // Entra sends, so a server that needs those headers fails here as it fails with Entra.
    let entra = idp == crate::scenario::Idp::Entra;
    if !req.has_header("accept") && !entra {
        req.headers
            .insert(0, ("Accept".into(), "application/scim+json".into()));
    }
    if req.body.is_some() && !req.has_header("content-type") {
        req.headers.push((
            "Content-Type".into(),
            "application/scim+json; charset=utf-8".into(),
        ));
    }
    if !req.has_header("user-agent") && !entra {
        req.headers.push((
            "User-Agent".into(),
            concat!("idpsim/", env!("CARGO_PKG_VERSION")).into(),
        ));
    }
    Ok(req)
}

fn capture(from: &CaptureFrom, raw: &RawResponse) -> Option<Value> {
    match from {
        CaptureFrom::Pointer(p) => raw.body.as_ref()?.pointer(p).cloned(),
        CaptureFrom::Header(h) => raw
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(h))
            .map(|(_, v)| Value::String(v.clone())),
        CaptureFrom::Status => Some(Value::from(raw.status)),
    }
}

fn describe_capture(from: &CaptureFrom) -> String {
    match from {
        CaptureFrom::Pointer(p) => format!("`{p}`"),
        CaptureFrom::Header(h) => format!("header `{h}`"),
        CaptureFrom::Status => "the status".into(),
    }
}
