//! IdP profiles: turn scenario actions (`assign: alice`) into the exact requests Okta or Entra
//! send, and judge the answers as that IdP does. The engine calls only the functions here.

use crate::check::Finding;
use crate::diagnostic::Pos;
use crate::run::context::{ActionCtx, ScenarioState};
use crate::scenario::{ActionStep, Idp, Scenario};

/// Profiles (personalities or modes) each IdP accepts.
pub fn profiles(idp: Idp) -> &'static [&'static str] {
    match idp {
        Idp::Generic => &[],
        Idp::Okta => &["oin", "aiw"],
        Idp::Entra => &["default", "aadOptscim062020"],
    }
}

/// The action names a scenario of this IdP may use as steps.
pub fn actions(idp: Idp) -> &'static [&'static str] {
    match idp {
        Idp::Generic => &[],
        Idp::Okta => &[],
        Idp::Entra => &[],
    }
}

/// Checks an action's arguments at load time (nothing is sent for an invalid scenario).
pub fn validate_action(_idp: Idp, _action: &ActionStep) -> Vec<(Pos, String)> {
    Vec::new()
}

/// Checks the IdP-specific parts of a scenario (directory, mappings, settings).
pub fn validate_scenario(_scenario: &Scenario) -> Vec<(Pos, String)> {
    Vec::new()
}

/// Sets up IdP state (directory objects, generated ids) before the first step.
pub fn prepare(_scenario: &Scenario, _state: &mut ScenarioState) -> Result<(), Box<Finding>> {
    Ok(())
}

pub async fn run_action(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    ctx.finding(
        Finding::error(
            "scenario.action",
            format!("no IdP profile handles `{}`", action.name),
        )
        .source(ctx.here()),
    );
}
