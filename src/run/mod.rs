//! Running scenarios: steps in order within a scenario, scenarios concurrently (`-j`), cleanup
//! always (after a failure and after Ctrl-C too), and every exchange judged as it happens.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check;
use crate::idp::context::{send_judged, ActionCtx, ScenarioState};
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, ScenarioResult, StepResult};
use crate::scenario::{template, CaptureFrom, RequestStep, Scenario, Step, StepKind};
use crate::support::diagnostic::Pos;
use crate::support::signal::Signal;
use crate::transport::exchange::Exchange;
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
                let result = runner.run_scenario(&scenario).await;
                progress.scenario_done(&result);
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
        let mut state =
            ScenarioState::new(template::random_hex(8), self.transport.base().display());
        let mut steps: Vec<StepResult> = Vec::new();
        let mut skip_reason = None;

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
            let mut stopped: Option<String> = None;
            for (i, step) in scenario.steps.iter().enumerate() {
                let source = scenario.source_ref(step.pos);
                let kind = step_kind(step);
                if let Some(reason) = &stopped {
                    steps.push(skipped_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        reason.clone(),
                    ));
                    continue;
                }
                if self.interrupt.is_set() {
                    stopped = Some("interrupted".into());
                    steps.push(skipped_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        "interrupted".into(),
                    ));
                    continue;
                }
                let t = Instant::now();
                // A step in flight when the signal comes is cancelled rather than awaited: its
                // request may be a slow one held for the whole --timeout, and the grace period
                // belongs to cleanup. The cost: a create the server received but never answered
                // leaves a resource idpsim cannot name, which the step's reason says.
                let ran = tokio::select! {
                    biased;
                    ran = self.run_step(scenario, &mut state, step, &transport) => Some(ran),
                    _ = self.interrupt.triggered() => None,
                };
                let Some((exchanges, findings, auth_stop)) = ran else {
                    stopped = Some("interrupted".into());
                    steps.push(skipped_step(
                        i + 1,
                        step.label(),
                        kind,
                        source,
                        "interrupted while its request was in flight: its answer was not awaited, \
                         so the server may have acted on it"
                            .into(),
                    ));
                    continue;
                };
                let result = step_result(
                    i + 1,
                    step.label(),
                    kind,
                    source,
                    exchanges,
                    findings,
                    t.elapsed().as_millis() as u64,
                );
                if let Some(reason) = auth_stop {
                    // A refused credential is where the IdP cannot go on, whatever else carries on.
                    stopped = Some(format!("step {}: {reason}", i + 1));
                } else if result.outcome == Outcome::Failed {
                    stopped = Some(format!("step {} failed", i + 1));
                }
                steps.push(result);
            }
        }

        // `--write-state`: what the IdP believes, before cleanup deletes it.
        let believed = self
            .write_state
            .then(|| crate::idp::believed::believed(&state));
        // A scenario the signal stopped before it started created nothing, and its cleanup
        // steps would be new requests after the signal: it has nothing to clean up.
        let cleanup = if skip_reason.is_some() {
            Vec::new()
        } else {
            // Cleanup is idpsim's, not the IdP's: a lapse the scenario played (idpsim sending
            // the token as expired) does not stop it deleting what the scenario created.
            let transport = transport.unlapsed().await;
            self.cleanup(scenario, &mut state, &transport).await
        };
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
        for (name, node) in &scenario.variables {
            let value = match self.vars.iter().find(|(k, _)| k == name) {
                Some((_, v)) => Value::String(v.clone()),
                None => template::render_value(&node.to_json(), &state.template_context())
                    .map_err(|e| {
                        Box::new(
                            Finding::error("scenario.template", format!("variable `{name}`: {e}"))
                                .source(scenario.source_ref(node.pos)),
                        )
                    })?,
            };
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
    ) -> (Vec<Exchange>, Vec<Finding>, Option<String>) {
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
    ) -> (Vec<Exchange>, Vec<Finding>, Option<String>) {
        let req = match build_request(state, step) {
            Ok(r) => r,
            Err((pos, msg)) => {
                let f = Finding::error("scenario.template", msg)
                    .source(scenario.source_ref(pos))
                    .impact("idpsim could not build this request, usually because an earlier capture is missing.");
                return (Vec::new(), vec![f], None);
            }
        };
        let sent = send_judged(transport, self.simulator.as_ref(), scenario.idp, &req, 0).await;
        let mut findings = sent.findings;
        let raw = sent.raw;
        let answer = sent.answer.and_then(|i| sent.exchanges.get(i));
        // When the server refused the credentials, the refusal is the finding: expectations
        // written for an authenticated answer would only repeat it.
        if self.simulator.is_none() && sent.stopped.is_none() {
            if let Some(resp) = answer.and_then(|e| e.response.as_ref()) {
                let ctx = state.template_context();
                let at = sent.answer.unwrap_or(0);
                findings.extend(
                    check::expect::check(&step.expect, resp, scenario, &ctx)
                        .into_iter()
                        .map(|f| f.at_exchange(at)),
                );
            }
        }
        state.track(&req.method, &req.path, &raw);
        if answer.is_some_and(|e| e.response.is_some()) && sent.stopped.is_none() {
            for c in &step.capture {
                match capture(&c.from, &raw) {
                    Some(v) => {
                        state.values.insert(c.name.clone(), v);
                    }
                    None => findings.push(
                        Finding::error(
                            "scenario.capture",
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
        (sent.exchanges, findings, sent.stopped)
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
        transport: &Transport,
    ) -> Vec<StepResult> {
        let mut out = Vec::new();
        let mut expired = false;
        for (i, step) in scenario.cleanup.iter().enumerate() {
            let source = scenario.source_ref(step.pos);
            let t = Instant::now();
            let ran = if expired {
                None
            } else {
                tokio::select! {
                    biased;
                    ran = self.run_step(scenario, state, step, transport) => Some(ran),
                    _ = self.interrupt.grace_expired() => None,
                }
            };
            let Some((exchanges, findings, _)) = ran else {
                expired = true;
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
            out.push(step_result(
                i + 1,
                step.label(),
                step_kind(step),
                source,
                exchanges,
                findings,
                t.elapsed().as_millis() as u64,
            ));
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
            let mut findings = Vec::new();
            match (&exchange.response, &exchange.error) {
                (Some(r), _) if (200..300).contains(&r.status) || r.status == 404 => {}
                (Some(r), _) => findings.push(Finding::warning(
                    "cleanup.delete",
                    format!(
                        "could not delete {} (status {}); it is left on the server",
                        c.path, r.status
                    ),
                )),
                (None, Some(e)) => findings.push(Finding::warning(
                    "cleanup.delete",
                    format!("could not delete {}: {}", c.path, e.message),
                )),
                (None, None) => {}
            }
            out.push(step_result(
                out.len() + 1,
                format!("delete {}", c.path),
                "cleanup",
                scenario.source_ref(scenario.pos),
                vec![exchange],
                findings,
                t.elapsed().as_millis() as u64,
            ));
        }
        out
    }

    fn grace_expired_reason(&self) -> String {
        format!(
            "the grace period ({}) after the signal ran out before this cleanup step finished",
            humane(self.interrupt.grace())
        )
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
        let finding = Finding::warning(
            LEFT_BEHIND_RULE,
            format!(
                "left behind: {url} was not deleted; the grace period ({}) after the signal ran out",
                humane(self.interrupt.grace())
            ),
        )
        .impact(
            "The run created this resource and it is still on the server: delete it by hand \
             (or re-run with a longer --grace-period).",
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

/// The rule id of a resource that cleanup could not delete in time after a signal.
pub const LEFT_BEHIND_RULE: &str = "cleanup.left-behind";

/// The resources the results report as left behind (full URLs), for the final note on stderr.
pub fn left_behind(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| &r.cleanup)
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

fn downgrade(mut f: Finding) -> Finding {
    if f.severity == Severity::Error {
        f.severity = Severity::Warning;
    }
    f
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
    }
}

/// Renders a raw request step. Defaults: `Accept: application/scim+json`, a SCIM JSON
/// Content-Type for bodies, and idpsim's User-Agent — each overridden by the step's own headers.
fn build_request(
    state: &ScenarioState,
    step: &RequestStep,
) -> Result<OutgoingRequest, (Pos, String)> {
    let ctx = state.template_context();
    let path =
        template::render(&step.path, &ctx).map_err(|e| (step.path_pos, format!("path: {e}")))?;
    let mut req = OutgoingRequest::new(&step.method, path);
    req.with_auth = !step.no_auth;
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
    if !req.has_header("accept") {
        req.headers
            .insert(0, ("Accept".into(), "application/scim+json".into()));
    }
    if req.body.is_some() && !req.has_header("content-type") {
        req.headers.push((
            "Content-Type".into(),
            "application/scim+json; charset=utf-8".into(),
        ));
    }
    if !req.has_header("user-agent") {
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
