//! Running scenarios: steps in order within a scenario, scenarios concurrently (`-j`), cleanup
//! always (after a failure and after Ctrl-C too), and every exchange judged as it happens.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::{self, rules};
use crate::idp::context::{send_or_simulate, ActionCtx, ScenarioState};
use crate::outcome::{Finding, Severity};
use crate::outcome::{Outcome, Phase, ScenarioResult, StepRef, StepResult};
use crate::scenario::{
    template, CaptureFrom, Collection, Dep, RequestStep, Scenario, Step, StepKind,
};
use crate::support::diagnostic::Pos;
use crate::support::signal::Signal;
use crate::transport::exchange::{Exchange, TransportErrorKind};
use crate::transport::{OutgoingBody, OutgoingRequest, RawResponse, Transport};

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
}

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
        let mut ledger = Ledger::new(scenario.steps.len());

        if self.interrupt.is_set() {
            skip_reason = Some("interrupted before it started".to_string());
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
                // A step in flight when the signal comes is cancelled rather than awaited: its
                // request may be a slow one held for the whole --timeout, and the grace period
                // belongs to cleanup. The cost: a create the server received but never answered
                // leaves a resource idpsim cannot name, which the step's reason says.
                let ran = tokio::select! {
                    biased;
                    ran = self.run_step(scenario, &mut state, step) => Some(ran),
                    _ = self.interrupt.triggered() => None,
                };
                let Some((exchanges, findings)) = ran else {
                    interrupted = true;
                    ledger.push(Outcome::Skipped, None);
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
                if result.outcome == Outcome::Failed {
                    if let Some(why) = idp_stops(step, &result) {
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

        // `--write-state`: what the IdP believes, before cleanup deletes it.
        let believed = self
            .write_state
            .then(|| crate::idp::believed::believed(&state));
        // A scenario the signal stopped before it started created nothing, and its cleanup
        // steps would be new requests after the signal: it has nothing to clean up.
        let cleanup = if skip_reason.is_some() {
            Vec::new()
        } else {
            self.cleanup(scenario, &mut state, &mut ledger).await
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

    async fn run_step(
        &self,
        scenario: &Scenario,
        state: &mut ScenarioState,
        step: &Step,
    ) -> (Vec<Exchange>, Vec<Finding>) {
        match &step.kind {
            StepKind::Request(req) => self.request_step(scenario, state, req).await,
            StepKind::Action(action) => {
                let mut ctx = ActionCtx::new(
                    scenario,
                    state,
                    &self.transport,
                    self.simulator.as_ref(),
                    step.pos,
                );
                ctx.time_scale = self.time_scale;
                crate::idp::run_action(&mut ctx, action).await;
                (ctx.exchanges, ctx.findings)
            }
        }
    }

    async fn request_step(
        &self,
        scenario: &Scenario,
        state: &mut ScenarioState,
        step: &RequestStep,
    ) -> (Vec<Exchange>, Vec<Finding>) {
        let req = match build_request(state, step) {
            Ok(r) => r,
            Err((pos, msg)) => {
                let f = Finding::error("scenario.template", msg)
                    .source(scenario.source_ref(pos))
                    .impact("idpsim could not build this request, usually because an earlier capture is missing.");
                return (Vec::new(), vec![f]);
            }
        };
        let (exchange, raw) =
            send_or_simulate(&self.transport, self.simulator.as_ref(), &req).await;
        let mut findings = Vec::new();
        if self.simulator.is_none() {
            let intent = rules::Intent::infer(&req.method, &req.path);
            findings.extend(
                rules::check_exchange(&exchange, &intent)
                    .into_iter()
                    .map(|f| f.at_exchange(0)),
            );
            if let Some(resp) = &exchange.response {
                let ctx = state.template_context();
                let mut expected = check::expect::check(&step.expect, resp, scenario, &ctx);
                // The wrong status is the fact: the body and headers of an answer of another
                // kind (an error instead of the resource) differ from the expectation because
                // of it, and say nothing more.
                if expected.iter().any(|f| f.rule == "expect.status") {
                    expected.retain(|f| f.rule == "expect.status");
                }
                findings.extend(expected.into_iter().map(|f| f.at_exchange(0)));
            }
        }
        let wrong_status = findings.iter().any(|f| f.rule == "expect.status");
        state.track(&req.method, &req.path, &raw);
        if exchange.response.is_some() {
            for c in &step.capture {
                match capture(&c.from, &raw) {
                    Some(v) => {
                        state.values.insert(c.name.clone(), v);
                    }
                    // Nothing to capture from the wrong kind of answer; the steps that need it
                    // are "not run", naming this one.
                    None if wrong_status => {}
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
                        .at_exchange(0),
                    ),
                }
            }
        }
        (vec![exchange], findings)
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
                    ran = self.run_step(scenario, state, step) => Some(ran),
                    _ = self.interrupt.grace_expired() => None,
                }
            };
            let Some((exchanges, findings)) = ran else {
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
                    sent = self.transport.send(&req) => Some(sent),
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
        needs: None,
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

/// Where the IdP itself cannot go on after a failed step, in words: the server refused the
/// run's credentials (Okta's app and Entra's job stop provisioning with an authentication
/// error; Entra quarantines the job), or could not be reached at all. Any other failure is one
/// operation failing, and the IdP goes on with the next.
fn idp_stops(step: &Step, result: &StepResult) -> Option<String> {
    // A request step that sends its own Authorization header, or none, tests the server's
    // answer to bad credentials: its 401 is the answer under test, not a refusal of the run.
    let run_credentials = match &step.kind {
        StepKind::Request(r) => {
            !r.no_auth
                && !r
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        }
        StepKind::Action(_) => true,
    };
    for ex in &result.exchanges {
        if run_credentials && ex.response.as_ref().is_some_and(|r| r.status == 401) {
            return Some(
                "the server refused the run's credentials (401 Unauthorized), and the IdP \
                 stops provisioning there"
                    .into(),
            );
        }
        if let Some(e) = ex
            .error
            .as_ref()
            .filter(|e| e.kind == TransportErrorKind::Connect)
        {
            return Some(format!(
                "the server could not be reached ({}), and the IdP stops there",
                e.message
            ));
        }
    }
    None
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
