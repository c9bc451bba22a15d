//! Okta's SCIM 2.0 provisioning client (stub: the profile is being written).

use crate::check::Finding;
use crate::diagnostic::Pos;
use crate::run::context::{ActionCtx, ScenarioState};
use crate::scenario::{ActionStep, Scenario};

pub const PROFILES: &[&str] = &["oin", "aiw"];
pub const ACTIONS: &[&str] = &["expect_server"];

pub fn validate_action(_action: &ActionStep) -> Vec<(Pos, String)> {
    Vec::new()
}
pub fn validate_scenario(_scenario: &Scenario) -> Vec<(Pos, String)> {
    Vec::new()
}
pub fn prepare(_scenario: &Scenario, _state: &mut ScenarioState) -> Result<(), Box<Finding>> {
    Ok(())
}
pub async fn run_action(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    let f = Finding::error(
        "scenario.action",
        format!("the Okta profile has no action `{}` yet", action.name),
    )
    .source(ctx.here());
    ctx.finding(f);
}
