//! Per-scenario state while it runs (variables, captures, the ids the server assigned, what was
//! created) and `ActionCtx`, the API through which IdP profiles send requests and report findings.

use serde_json::{json, Map, Value};

use crate::check::history::History;
use crate::check::rules::{self, Intent, Judging};
use crate::outcome::Finding;
use crate::scenario::{template, Scenario};
use crate::support::diagnostic::Pos;
use crate::transport::exchange::Exchange;
use crate::transport::{OutgoingRequest, RawResponse, Transport};

/// A resource the scenario created, deleted at the end unless the scenario deleted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// `/Users/{id}` relative to the base URL.
    pub path: String,
}

pub struct ScenarioState {
    pub run_id: String,
    /// Variables and captures, by name.
    pub values: Map<String, Value>,
    /// IdP-side bookkeeping exposed to templates as `users.<key>` and `groups.<key>`.
    pub users: Map<String, Value>,
    pub groups: Map<String, Value>,
    pub created: Vec<Created>,
    pub base_url: String,
    /// Private bookkeeping of the IdP profile (e.g. Okta's cached app groups).
    pub profile: Map<String, Value>,
    /// What Entra remembers about each source object between actions, typed (the Entra
    /// engine takes it at the start of an action and puts it back at the end).
    pub entra: crate::idp::entra::sync::State,
    /// The scenario's source directory, rendered (templates resolved) at the start of the run.
    pub directory: crate::idp::directory::Directory,
    /// What the run's exchanges did to each resource, for judging later answers by their cause.
    pub history: History,
    /// What the run learned about the server's custom extensions (`idp::custom`).
    pub extensions: crate::idp::custom::Extensions,
    /// Set by an action that finds the server does not offer what the scenario tests (no
    /// entitlement types at all): the IdP would not use the feature, so the rest of the
    /// scenario is skipped with this reason instead of failing.
    pub not_applicable: Option<String>,
}

impl ScenarioState {
    pub fn new(run_id: String, base_url: String) -> Self {
        ScenarioState {
            run_id,
            values: Map::new(),
            users: Map::new(),
            groups: Map::new(),
            created: Vec::new(),
            base_url,
            profile: Map::new(),
            entra: Default::default(),
            directory: Default::default(),
            history: History::default(),
            extensions: Default::default(),
            not_applicable: None,
        }
    }

    /// The object templates are rendered against.
    pub fn template_context(&self) -> Value {
        let mut ctx = self.values.clone();
        ctx.insert("run".into(), json!(self.run_id));
        ctx.insert("users".into(), Value::Object(self.users.clone()));
        ctx.insert("groups".into(), Value::Object(self.groups.clone()));
        ctx.insert("base_url".into(), json!(self.base_url));
        // The base without its query (`?aadOptscim062020`), to build resource URLs from.
        let href = self.base_url.split('?').next().unwrap_or(&self.base_url);
        ctx.insert("base_href".into(), json!(href.trim_end_matches('/')));
        Value::Object(ctx)
    }

    pub fn render(&self, src: &str) -> Result<String, String> {
        template::render(src, &self.template_context())
    }

    /// Judges one exchange by the built-in rules, as the IdP of this scenario: `req` is what was
    /// sent (whose credentials, and what it did to the resource before, matter).
    pub fn judge(
        &self,
        idp: crate::scenario::Idp,
        req: &OutgoingRequest,
        exchange: &Exchange,
    ) -> Vec<Finding> {
        let intent = Intent::infer(&req.method, &req.path);
        let judging = Judging {
            idp,
            run_credentials: req.with_auth && !req.has_header("authorization"),
            history: &self.history,
        };
        rules::check_exchange(exchange, &intent, &judging)
    }

    /// Notes a successful create so the resource is deleted at the end, forgets deleted ones,
    /// and records what the exchange did to the resource (`history`).
    pub fn track(&mut self, req: &OutgoingRequest, response: &RawResponse) {
        let body = match &req.body {
            Some(crate::transport::OutgoingBody::Json(v)) => Some(v),
            _ => None,
        };
        self.history.observe(
            &req.method,
            &req.path,
            body,
            response.status,
            response.body.as_ref(),
        );
        self.track_created(&req.method, &req.path, response);
    }

    /// After a step: notes the writes whose exchange an error finding failed, so that later
    /// checks of those resources report that failure, not a new problem.
    pub fn note_failures(&mut self, exchanges: &[Exchange], findings: &[Finding]) {
        for f in findings {
            let (Some(i), true) = (f.exchange, f.severity == crate::outcome::Severity::Error)
            else {
                continue;
            };
            let Some(ex) = exchanges.get(i) else { continue };
            if !matches!(ex.request.method.as_str(), "PATCH" | "PUT") {
                continue;
            }
            let intent = Intent::infer(&ex.request.method, &ex.request.target);
            if let Some(key) = crate::check::history::resource_key(&intent) {
                self.history.note_failure(key, &f.rule);
            }
        }
    }

    fn track_created(&mut self, method: &str, rel_path: &str, response: &RawResponse) {
        let path = rel_path
            .split('?')
            .next()
            .unwrap_or(rel_path)
            .trim_end_matches('/');
        match (method, Intent::infer(method, rel_path)) {
            ("POST", Intent::Create { resource }) if (200..300).contains(&response.status) => {
                if let Some(id) = response
                    .body
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .and_then(Value::as_str)
                {
                    let created = Created {
                        path: format!("/{resource}/{}", crate::support::text::path_segment(id)),
                    };
                    if !self.created.contains(&created) {
                        self.created.push(created);
                    }
                }
            }
            ("DELETE", Intent::Delete { .. })
                if (200..300).contains(&response.status) || response.status == 404 =>
            {
                let suffix: String = path
                    .rsplit('/')
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("/");
                self.created.retain(|c| !c.path.ends_with(&suffix));
            }
            _ => {}
        }
    }
}

/// What an IdP action gets to work with. Every exchange it sends is recorded in the step and
/// judged by the built-in rules; the action adds its own findings in the IdP's terms.
pub struct ActionCtx<'a> {
    pub scenario: &'a Scenario,
    pub state: &'a mut ScenarioState,
    pub transport: &'a Transport,
    /// In a dry run, answers come from this scratch server instead of the target.
    pub simulator: Option<&'a Transport>,
    /// Where the step is in the scenario file, for findings.
    pub step_pos: Pos,
    pub exchanges: Vec<Exchange>,
    pub findings: Vec<Finding>,
    /// The requests behind `exchanges`, as built (unredacted), for idpsim's trigger probes.
    pub sent: Vec<OutgoingRequest>,
    /// `--time-scale`: multiplies every IdP wait (Retry-After, back-off) so tests stay fast.
    pub time_scale: f64,
    /// Set when the server refused the IdP's credentials: why the IdP cannot go on, and how
    /// many findings there were then (what the profile adds later is a consequence, not news).
    pub stopped: Option<(String, usize)>,
}

impl<'a> ActionCtx<'a> {
    pub fn new(
        scenario: &'a Scenario,
        state: &'a mut ScenarioState,
        transport: &'a Transport,
        simulator: Option<&'a Transport>,
        step_pos: Pos,
    ) -> Self {
        ActionCtx {
            scenario,
            state,
            transport,
            simulator,
            step_pos,
            exchanges: Vec::new(),
            findings: Vec::new(),
            sent: Vec::new(),
            time_scale: 1.0,
            stopped: None,
        }
    }

    /// Waits as the IdP would (Retry-After, back-off), scaled by `--time-scale`; a dry run does not wait.
    pub async fn wait(&self, idp_delay: std::time::Duration) {
        if self.dry_run() {
            return;
        }
        let scaled = idp_delay.mul_f64(self.time_scale.clamp(0.0, 1000.0));
        tokio::time::sleep(scaled).await;
    }

    pub fn dry_run(&self) -> bool {
        self.simulator.is_some()
    }

    /// Sends a request (or, in a dry run, records it and simulates a fresh server's answer),
    /// runs the built-in rules on it, and returns the unredacted answer and the exchange index.
    ///
    /// The IdP authenticates as it does (getting or renewing a token on the way; those token
    /// exchanges are recorded and judged too). Once the server has refused its credentials the
    /// IdP sends nothing more: later sends answer status 0 without a request.
    pub async fn send(&mut self, req: OutgoingRequest) -> (usize, RawResponse) {
        if self.stopped.is_some() {
            return (
                self.exchanges.len().saturating_sub(1),
                RawResponse::default(),
            );
        }
        let sent = send_judged(
            self.transport,
            self.simulator,
            self.scenario.idp,
            &self.state.history,
            &req,
            self.exchanges.len(),
        )
        .await;
        self.state.track(&req, &sent.raw);
        let index = sent
            .answer
            .unwrap_or(self.exchanges.len() + sent.exchanges.len().saturating_sub(1));
        self.exchanges.extend(sent.exchanges);
        self.sent.extend(sent.requests);
        self.findings.extend(sent.findings);
        if let Some(reason) = sent.stopped {
            self.stopped = Some((reason, self.findings.len()));
        }
        (index, sent.raw)
    }

    /// What the step sent and found, without what the profile concluded after the IdP had
    /// stopped; and why it stopped.
    #[allow(clippy::type_complexity)]
    pub fn into_results(
        mut self,
    ) -> (
        Vec<Exchange>,
        Vec<Finding>,
        Vec<OutgoingRequest>,
        Option<String>,
    ) {
        let stopped = self.stopped.take().map(|(reason, kept)| {
            self.findings.truncate(kept);
            reason
        });
        (self.exchanges, self.findings, self.sent, stopped)
    }

    pub fn finding(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// A finding pointing at this step's line in the scenario.
    pub fn here(&self) -> crate::support::diagnostic::SourceRef {
        self.scenario.source_ref(self.step_pos)
    }

    pub fn render(&self, src: &str) -> Result<String, String> {
        self.state.render(src)
    }

    pub fn render_value(&self, v: &Value) -> Result<Value, String> {
        template::render_value(v, &self.state.template_context())
    }

    /// Whether a built-in rule already judged exchange `index` under `rule`: the profile then
    /// adds nothing of its own about the same fact (one problem, one finding).
    pub fn judged(&self, index: usize, rule: &str) -> bool {
        self.findings
            .iter()
            .any(|f| f.exchange == Some(index) && f.rule == rule)
    }

    /// Whether a built-in rule named the cause of exchange `index` failing — no usable answer,
    /// credentials or headers refused, a filter miss answered 404, a deactivated user gone: the
    /// profile's own reading of that answer would only repeat it.
    pub fn root_caused(&self, index: usize) -> bool {
        self.findings.iter().any(|f| {
            f.exchange == Some(index)
                && (f.rule.starts_with("transport.")
                    || f.rule.starts_with("http.")
                    || f.rule.starts_with("scim.")
                    || f.rule == "rfc7644.filter.no-match-404")
        })
    }

    /// Whether a finding on exchange `index` is an error for this IdP: the IdP cannot use the
    /// answer, and what the built-in rule says is the problem.
    pub fn failed_at(&self, index: usize) -> bool {
        self.findings
            .iter()
            .any(|f| f.exchange == Some(index) && f.severity == crate::outcome::Severity::Error)
    }

    /// A finding of `rule` for this scenario's IdP, at this step's line.
    pub fn rule(&self, rule: &str, message: impl Into<String>) -> Finding {
        Finding::judged(rule, self.scenario.idp, message).source(self.here())
    }

    /// Whether any exchange or finding so far failed the step.
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::outcome::Severity::Error)
    }
}

/// One request as the IdP sends it, judged: its exchanges (token requests, the request, a
/// renewal and the retry), the findings on them (indexed from `offset`), the answer to act on
/// and, when the server refused the IdP's credentials, why it cannot go on.
pub struct Judged {
    pub exchanges: Vec<Exchange>,
    /// The request behind each exchange, as built (token requests as recorded): trigger
    /// probing re-sends the SCIM ones.
    pub requests: Vec<OutgoingRequest>,
    pub findings: Vec<Finding>,
    /// Index (from `offset`) of the answer; `None` when no request could be sent.
    pub answer: Option<usize>,
    pub raw: RawResponse,
    pub stopped: Option<String>,
}

/// Sends as `idp` does and judges every exchange: SCIM answers by the built-in rules and the
/// auth rules, token answers by RFC 6749's. A dry run simulates the answer and judges nothing.
pub async fn send_judged(
    transport: &Transport,
    simulator: Option<&Transport>,
    idp: crate::scenario::Idp,
    history: &crate::check::history::History,
    req: &OutgoingRequest,
    offset: usize,
) -> Judged {
    use crate::transport::auth::Leg;
    if simulator.is_some() {
        let (exchange, raw) = send_or_simulate(transport, simulator, req).await;
        return Judged {
            exchanges: vec![exchange],
            requests: vec![req.clone()],
            findings: Vec::new(),
            answer: Some(offset),
            raw,
            stopped: None,
        };
    }
    let policy = crate::idp::auth::policy(idp);
    let renews = policy.renew_on_401 && transport.session().renewable();
    let sent = transport.send_as(req, policy).await;
    let crate::transport::Sent {
        exchanges: legs,
        raw,
        answer,
        refused,
    } = sent;
    let mut findings = Vec::new();
    let mut exchanges = Vec::with_capacity(legs.len());
    let mut requests = Vec::with_capacity(legs.len());
    for (i, (exchange, leg)) in legs.into_iter().enumerate() {
        requests.push(match leg {
            Leg::Scim { .. } => req.clone(),
            // Not a SCIM request: described by what was recorded, never re-sent.
            Leg::Token(_) | Leg::Authorize => {
                OutgoingRequest::to_url(&exchange.request.method, &exchange.request.url)
            }
        });
        let at = offset + i;
        let judged = match leg {
            Leg::Scim { credential } => {
                let judging = rules::Judging {
                    idp,
                    run_credentials: req.with_auth && !req.has_header("authorization"),
                    history,
                };
                let mut out = rules::check_exchange(
                    &exchange,
                    &Intent::infer(&req.method, &req.path),
                    &judging,
                );
                out.extend(crate::check::auth::check_scim_answer(
                    &exchange, credential, idp, renews,
                ));
                out
            }
            Leg::Token(call) => {
                // Transport failures only: a token answer is not SCIM.
                let mut out = if exchange.response.is_none() {
                    rules::check_exchange(&exchange, &Intent::Other, &rules::Judging::alone(idp))
                } else {
                    Vec::new()
                };
                out.extend(crate::check::auth::check_token_answer(&exchange, call, idp));
                out
            }
            Leg::Authorize => Vec::new(),
        };
        findings.extend(judged.into_iter().map(|f| f.at_exchange(at)));
        exchanges.push(exchange);
    }
    let stopped = refused.map(|r| {
        crate::idp::auth::stop(idp, transport.session().mode(), &r, &mut findings, offset)
    });
    Judged {
        exchanges,
        requests,
        findings,
        answer: answer.map(|a| a + offset),
        raw,
        stopped,
    }
}

/// Sends to the target, or in a dry run records the request as addressed to the target while the
/// answer comes from a scratch reference server, so conditional flows (lookup, then create) unfold
/// as they would against a fresh, compliant server.
pub async fn send_or_simulate(
    transport: &Transport,
    simulator: Option<&Transport>,
    req: &OutgoingRequest,
) -> (Exchange, RawResponse) {
    match simulator {
        None => transport.send(req).await,
        Some(sim) => {
            let (mut exchange, raw) = sim.send(req).await;
            exchange.request = transport.record_request(req);
            exchange.simulated = true;
            (exchange, raw)
        }
    }
}
