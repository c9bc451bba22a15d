//! IdP profiles: turn scenario actions (`assign: alice`) into the exact requests Okta or Entra
//! send, and judge the answers as that IdP does. The engine calls only the functions here; each
//! profile lives in its own module (`crate::idp::okta`, `crate::idp::entra`) behind the same five entry
//! points. `directory` (the source users and groups) and `state` (the `expect_server` check of
//! what the server holds) are shared by both.

pub mod audit;
pub mod auth;
pub mod believed;
pub mod context;
pub mod custom;
pub mod diagnose;
pub mod directory;
pub mod entra;
pub mod okta;
pub mod state;
pub mod traffic;

use crate::idp::context::{ActionCtx, ScenarioState};
use crate::outcome::Finding;
use crate::scenario::{ActionStep, Dependencies, Idp, Scenario};
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
    fn action_options(&self, idp: Idp, action: &str) -> Option<&'static [&'static str]> {
        action_options(idp, action)
    }
    fn settings_keys(&self, idp: Idp) -> Option<&'static [&'static str]> {
        match idp {
            Idp::Okta => Some(crate::idp::okta::settings::KEYS),
            // Entra's settings and the generic profile's are not checked key by key.
            Idp::Generic | Idp::Entra => None,
        }
    }
    fn dependencies(&self, scenario: &Scenario, action: &ActionStep) -> Dependencies {
        dependencies(scenario, action)
    }
}

/// What an action needs from earlier steps and produces for later ones, as its IdP works: an
/// action that addresses an object by its server id needs the step that linked it; an action
/// the IdP would carry out anyway (Entra retries an object it could not provision on the next
/// cycle) needs nothing.
pub fn dependencies(scenario: &Scenario, action: &ActionStep) -> Dependencies {
    match action.name.as_str() {
        "expect_server" => state::dependencies(scenario, action),
        "audit" => audit::dependencies(action),
        _ => match scenario.idp {
            Idp::Generic => Dependencies::default(),
            Idp::Okta => crate::idp::okta::dependencies(action),
            Idp::Entra => crate::idp::entra::dependencies(scenario, action),
        },
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

/// The option keys an action step may carry beside its argument, as `validate_action` checks
/// them; `None` when its options are not checked (the shared `expect_server` and `audit`).
pub fn action_options(idp: Idp, action: &str) -> Option<&'static [&'static str]> {
    if COMMON_ACTIONS.contains(&action) {
        return None;
    }
    match idp {
        Idp::Generic => None,
        Idp::Okta => crate::idp::okta::action_options(action),
        Idp::Entra => Some(crate::idp::entra::action_options(action)),
    }
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
            let f = ctx.rule(
                "scenario.action",
                format!("generic scenarios have no action `{}`", action.name),
            );
            ctx.finding(f);
        }
        Idp::Okta => crate::idp::okta::run_action(ctx, action).await,
        Idp::Entra => crate::idp::entra::run_action(ctx, action).await,
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse::parse_scenario;
    use crate::scenario::{Dep, Need, Scenario};

    fn parse(text: &str) -> Result<Scenario, Vec<String>> {
        parse_scenario("t.yaml", text, &super::Catalogue)
            .map_err(|ds| ds.into_iter().map(|d| d.message).collect())
    }

    const OKTA: &str = r#"name: deps
idp: okta
directory:
  users:
    alice: { login: "alice-{{ run }}@example.com", firstName: A, lastName: L, email: "alice-{{ run }}@example.com" }
    bob: { login: "bob-{{ run }}@example.com", firstName: B, lastName: L, email: "bob-{{ run }}@example.com" }
  groups:
    eng: { displayName: "Eng {{ run }}", members: [alice] }
steps:
  - assign: alice
  - deactivate: alice
  - request: { method: GET, path: "/Users/{{ users.alice.id }}" }
    capture: { seen: /id }
  - push_group: eng
  - add_members: eng
    users: [alice, bob]
  - request: { method: GET, path: "/Users/{{ seen }}" }
  - name: counts on alice being there
    needs: alice
    request: { method: GET, path: "/Users?count=1" }
cleanup:
  - request: { method: DELETE, path: "/Users/{{ seen }}" }
"#;

    fn need(dep: Dep, from: usize) -> Need {
        Need { dep, from }
    }

    #[test]
    fn what_each_step_needs_and_produces_is_worked_out_at_load_time() {
        let s = parse(OKTA).expect("valid");
        let steps: Vec<_> = s.steps.iter().chain(&s.cleanup).collect();
        assert_eq!(steps[0].needs, []);
        assert_eq!(steps[0].produces, [Dep::user("alice")]);
        // `deactivate: alice` needs the id `assign: alice` linked.
        assert_eq!(steps[1].needs, [need(Dep::user("alice"), 0)]);
        // A read-back of alice needs her id and checks what the deactivation did.
        assert_eq!(steps[2].needs, [need(Dep::user("alice"), 0)]);
        assert_eq!(steps[2].verifies, [need(Dep::user("alice"), 1)]);
        assert_eq!(steps[2].produces, [Dep::Value("seen".into())]);
        // bob was never assigned: no step can fail to produce him, so he is not a need.
        assert_eq!(
            steps[4].needs,
            [need(Dep::group("eng"), 3), need(Dep::user("alice"), 0)]
        );
        assert_eq!(steps[5].needs, [need(Dep::Value("seen".into()), 2)]);
        assert_eq!(steps[6].needs, [need(Dep::user("alice"), 0)]);
        assert_eq!(steps[7].needs, [need(Dep::Value("seen".into()), 2)]);
    }

    #[test]
    fn a_declared_need_nothing_produces_is_a_load_time_error() {
        let text = OKTA.replace("needs: alice", "needs: nobody");
        let errors = parse(&text).expect_err("invalid");
        assert!(
            errors.iter().any(|e| e.contains("`needs: nobody`")),
            "{errors:?}"
        );
        let text = OKTA.replace("needs: alice", "needs: bob");
        let errors = parse(&text).expect_err("invalid");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("no earlier step provisions the server id of user `bob`")),
            "{errors:?}"
        );
    }

    #[test]
    fn entra_retries_what_it_could_not_provision_so_a_cycle_needs_nothing() {
        let text = r#"name: entra deps
idp: entra
directory:
  users:
    alice: { userPrincipalName: "alice-{{ run }}@example.com", mail: "alice-{{ run }}@example.com", displayName: A }
  groups:
    eng: { displayName: "Eng {{ run }}", members: [alice] }
steps:
  - assign: eng
  - update: alice
    set: { displayName: Alicia }
  - soft_delete: alice
  - expect_server: { user: alice, active: false }
  - remove_member: { group: eng, user: alice }
"#;
        let s = parse(text).expect("valid");
        // Assigning a group provisions its members too.
        assert_eq!(s.steps[0].produces, [Dep::user("alice"), Dep::group("eng")]);
        assert_eq!(s.steps[1].needs, []);
        assert_eq!(s.steps[2].needs, [need(Dep::user("alice"), 1)]);
        assert_eq!(s.steps[3].verifies, [need(Dep::user("alice"), 2)]);
        assert_eq!(
            s.steps[4].needs,
            [need(Dep::group("eng"), 0), need(Dep::user("alice"), 1)]
        );
    }
}
