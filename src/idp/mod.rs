//! IdP profiles: turn scenario actions (`assign: alice`) into the exact requests Okta or Entra
//! send, and judge the answers as that IdP does. The engine calls only the functions here; each
//! profile lives in its own module (`crate::idp::okta`, `crate::idp::entra`) behind the same five entry
//! points. `directory` (the source users and groups) and `state` (the `expect_server` check of
//! what the server holds) are shared by both.

pub mod audit;
pub mod auth;
pub mod believed;
pub mod context;
pub mod directory;
pub mod entra;
pub mod okta;
pub mod state;

use crate::idp::context::{ActionCtx, ScenarioState};
use crate::outcome::{Finding, Severity};
use crate::scenario::{ActionStep, Idp, Scenario};
use crate::support::diagnostic::Pos;

/// The IdP profiles as the scenario grammar sees them: `scenario::parse` checks profiles,
/// actions and their arguments through this, at load time.
pub struct Catalogue;

impl crate::scenario::Profiles for Catalogue {
    fn profiles(&self, idp: Idp) -> &'static [&'static str] {
        profiles(idp)
    }
    fn actions(&self, idp: Idp) -> &'static [&'static str] {
        actions(idp)
    }
    fn validate_action(&self, idp: Idp, action: &ActionStep) -> Vec<(Pos, String)> {
        validate_action(idp, action)
    }
    fn validate_scenario(&self, scenario: &Scenario) -> Vec<(Pos, String)> {
        validate_scenario(scenario)
    }
}

/// Actions every IdP understands.
pub const COMMON_ACTIONS: &[&str] = &["expect_server", "audit", "expire_token"];

/// Profiles (personalities or modes) each IdP accepts.
pub fn profiles(idp: Idp) -> &'static [&'static str] {
    match idp {
        Idp::Generic => &[],
        Idp::Okta => crate::idp::okta::PROFILES,
        Idp::Entra => crate::idp::entra::PROFILES,
    }
}

/// The action names a scenario of this IdP may use as steps.
pub fn actions(idp: Idp) -> &'static [&'static str] {
    match idp {
        Idp::Generic => &["audit", "expire_token"],
        Idp::Okta => with_common(crate::idp::okta::ACTIONS, &OKTA_ACTIONS),
        Idp::Entra => with_common(crate::idp::entra::ACTIONS, &ENTRA_ACTIONS),
    }
}

static OKTA_ACTIONS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
static ENTRA_ACTIONS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// A profile's actions plus the common ones (built once; the lists are static).
fn with_common(
    own: &'static [&'static str],
    cell: &'static std::sync::OnceLock<Vec<&'static str>>,
) -> &'static [&'static str] {
    cell.get_or_init(|| {
        let mut all = own.to_vec();
        all.extend(COMMON_ACTIONS.iter().filter(|a| !own.contains(a)));
        all
    })
}

/// Checks an action's arguments at load time (nothing is sent for an invalid scenario).
pub fn validate_action(idp: Idp, action: &ActionStep) -> Vec<(Pos, String)> {
    if action.name == "expect_server" {
        return state::validate(action);
    }
    if action.name == "audit" {
        return audit::validate(action);
    }
    if action.name == "expire_token" {
        let empty = matches!(&action.args.kind, crate::scenario::yaml::NodeKind::Null)
            || action.args.as_map().is_some_and(|m| m.is_empty());
        return if empty {
            Vec::new()
        } else {
            vec![(
                action.args.pos,
                "`expire_token` takes no arguments: `- expire_token: {}`".into(),
            )]
        };
    }
    match idp {
        Idp::Generic => Vec::new(),
        Idp::Okta => crate::idp::okta::validate_action(action),
        Idp::Entra => crate::idp::entra::validate_action(action),
    }
}

/// Checks the IdP-specific parts of a scenario (directory, mappings, settings).
pub fn validate_scenario(scenario: &Scenario) -> Vec<(Pos, String)> {
    let mut out = directory::validate(scenario);
    if let Some(a) = &scenario.auth {
        if let Err(why) = auth::check_mode(scenario.idp, a.mode) {
            out.push((a.pos, why));
        }
    }
    out.extend(match scenario.idp {
        Idp::Generic => Vec::new(),
        Idp::Okta => crate::idp::okta::validate_scenario(scenario),
        Idp::Entra => crate::idp::entra::validate_scenario(scenario),
    });
    out
}

/// Sets up IdP state (directory objects, generated ids) before the first step.
pub fn prepare(scenario: &Scenario, state: &mut ScenarioState) -> Result<(), Box<Finding>> {
    state.directory = directory::Directory::render(scenario, state)?;
    match scenario.idp {
        Idp::Generic => Ok(()),
        Idp::Okta => crate::idp::okta::prepare(scenario, state),
        Idp::Entra => crate::idp::entra::prepare(scenario, state),
    }
}

pub async fn run_action(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    if action.name == "expect_server" {
        let idp = ctx.scenario.idp;
        return state::run(ctx, action, idp).await;
    }
    if action.name == "audit" {
        return audit::run(ctx, action).await;
    }
    if action.name == "expire_token" {
        // The credential lapses now, as when its hour is up: the IdP does not know until the
        // server says so.
        ctx.transport.session().expire_now().await;
        return;
    }
    match ctx.scenario.idp {
        Idp::Generic => {
            let f = Finding::error(
                "scenario.action",
                format!("generic scenarios have no action `{}`", action.name),
            )
            .source(ctx.here());
            ctx.finding(f);
        }
        Idp::Okta => crate::idp::okta::run_action(ctx, action).await,
        Idp::Entra => crate::idp::entra::run_action(ctx, action).await,
    }
}

/// One problem, one finding: when a built-in rule (`rfc7644.*`) already judged this exchange,
/// the profile adds its IdP's sentence to that finding — its impact, its reference, and its
/// severity when graver — instead of reporting the same fact a second time. Returns false when
/// the built-in rule did not fire (e.g. under `--dry-run`); the profile then reports the fact
/// under its own rule.
pub fn adopt(
    ctx: &mut ActionCtx<'_>,
    exchange: usize,
    rule: &str,
    severity: Severity,
    impact: &str,
    reference: &str,
) -> bool {
    let Some(f) = ctx
        .findings
        .iter_mut()
        .find(|f| f.rule == rule && f.exchange == Some(exchange))
    else {
        return false;
    };
    f.severity = f.severity.max(severity);
    f.impact = Some(impact.to_string());
    f.reference = Some(match f.reference.take() {
        Some(r) if !r.contains(reference) => format!("{r}; {reference}"),
        Some(r) => r,
        None => reference.to_string(),
    });
    true
}
