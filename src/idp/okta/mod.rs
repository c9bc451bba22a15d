//! Okta's SCIM 2.0 provisioning client, in its two personalities (okta.md §1.4):
//! `oin` — apps built from Okta's SCIM templates: PATCH for activate/deactivate, password and
//! groups; `aiw` — App Integration Wizard apps: GET then PUT for every update, group
//! membership as a PUT of the full member list.
//!
//! Seams: `settings` (scenario `settings:`, the choices where okta.md §8 leaves a gap),
//! `wire` (headers, query encoding, bodies, the 429 policy — pure, so recordings can be
//! compared), `judge` (answers graded as Okta grades them), `users` and `groups` (the actions).
//! The scenario-facing documentation with examples is `scenarios/okta/README.md`.

pub mod entitlements;
mod groups;
mod judge;
pub mod settings;
mod users;
pub mod wire;

use serde_json::{json, Value};

use crate::idp::context::{ActionCtx, ScenarioState};
use crate::idp::directory::check_key;
use crate::outcome::Finding;
use crate::scenario::yaml::NodeKind;
use crate::scenario::{ActionStep, Dep, Dependencies, Node, Scenario, StepKind};
use crate::support::diagnostic::Pos;
use settings::Settings;

pub const PROFILES: &[&str] = &["oin", "aiw"];
pub const ACTIONS: &[&str] = &[
    "expect_server",
    "test_connector",
    "import",
    "assign",
    "push_profile",
    "deactivate",
    "unassign",
    "reactivate",
    "sync_password",
    "push_group",
    "rename_group",
    "add_members",
    "remove_members",
    "change_members",
    "push_now",
    "unlink_group",
    "discover_entitlements",
    "test_entitlements",
    "grant",
    "revoke",
];

/// The option keys an Okta action reads (`None` for the shared actions, checked elsewhere);
/// the scenario JSON Schema is generated from this, so it cannot drift from the loader.
pub fn action_options(name: &str) -> Option<&'static [&'static str]> {
    spec(name).map(|(_, options)| options)
}

/// What each action takes: the kind of argument and the option keys it reads.
fn spec(name: &str) -> Option<(Arg, &'static [&'static str])> {
    Some(match name {
        "test_connector" => (Arg::None, &[]),
        "import" => (Arg::Import, &["count", "past_end", "expect_users"]),
        "assign" => (Arg::User, &["expect", "lookup", "verify"]),
        "push_profile" => (Arg::User, &["set", "verify"]),
        "deactivate" | "unassign" | "reactivate" => (Arg::User, &["verify"]),
        "sync_password" => (Arg::User, &["password", "verify"]),
        "push_group" => (Arg::Group, &["expect", "verify"]),
        "rename_group" => (Arg::Group, &["to", "verify"]),
        "add_members" | "remove_members" => (Arg::Group, &["users", "verify"]),
        "change_members" => (Arg::Group, &["add", "remove", "verify"]),
        "push_now" => (Arg::Group, &["members", "verify"]),
        "unlink_group" => (Arg::Group, &["delete"]),
        "discover_entitlements" => (Arg::None, &["count", "expect_types"]),
        "test_entitlements" => (Arg::None, &["endpoints"]),
        "grant" | "revoke" => (Arg::User, &["values", "verify"]),
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    User,
    Group,
    Import,
}

pub(crate) fn opt<'a>(action: &'a ActionStep, key: &str) -> Option<&'a Node> {
    action
        .options
        .iter()
        .find(|(k, _)| k.name == key)
        .map(|(_, v)| v)
}

pub(crate) fn opt_bool(action: &ActionStep, key: &str, default: bool) -> bool {
    match opt(action, key).map(|n| &n.kind) {
        Some(NodeKind::Bool(b)) => *b,
        _ => default,
    }
}

pub(crate) fn opt_keys(action: &ActionStep, key: &str) -> Vec<String> {
    match opt(action, key).map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(NodeKind::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

pub fn validate_action(action: &ActionStep) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    let Some((arg, allowed)) = spec(&action.name) else {
        return out;
    };
    match arg {
        Arg::None => {
            if !matches!(action.args.kind, NodeKind::Null) {
                out.push((
                    action.args.pos,
                    format!("`{}` takes no argument", action.name),
                ));
            }
        }
        Arg::User | Arg::Group => {
            if action.args.as_str().is_none() {
                let what = if arg == Arg::User { "user" } else { "group" };
                out.push((
                    action.args.pos,
                    format!(
                        "`{}` takes a directory {what} key, e.g. `{}: alice`",
                        action.name, action.name
                    ),
                ));
            }
        }
        Arg::Import => {
            if !matches!(action.args.kind, NodeKind::Null)
                && !matches!(action.args.as_str(), Some("users" | "groups" | "all"))
            {
                out.push((
                    action.args.pos,
                    "`import` takes users, groups or all (default all)".into(),
                ));
            }
        }
    }
    for (k, v) in &action.options {
        if !allowed.contains(&k.name.as_str()) {
            out.push((
                k.pos,
                format!(
                    "`{}` has no option `{}`{}",
                    action.name,
                    k.name,
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!(" (options: {})", allowed.join(", "))
                    }
                ),
            ));
            continue;
        }
        let ok = match (action.name.as_str(), k.name.as_str()) {
            ("assign", "expect") => matches!(
                v.as_str(),
                Some("created" | "linked" | "exists" | "conflict")
            ),
            ("push_group", "expect") => matches!(v.as_str(), Some("created" | "linked")),
            (_, "lookup" | "verify" | "past_end" | "delete") => matches!(v.kind, NodeKind::Bool(_)),
            (_, "count") => matches!(v.kind, NodeKind::Int(i) if (1..=1000).contains(&i)),
            (_, "set" | "values") => v.as_map().is_some(),
            (_, "expect_types" | "endpoints") => match &v.kind {
                NodeKind::Seq(items) => items.iter().all(|i| i.as_str().is_some()),
                NodeKind::Str(_) => true,
                _ => false,
            },
            (_, "to" | "password") => v.as_str().is_some_and(|s| !s.is_empty()),
            (_, "users" | "add" | "remove" | "members" | "expect_users") => match &v.kind {
                NodeKind::Seq(items) => items.iter().all(|i| i.as_str().is_some()),
                NodeKind::Str(_) => true,
                _ => false,
            },
            _ => true,
        };
        if !ok {
            let want = match k.name.as_str() {
                "expect" if action.name == "assign" => "created, linked, exists or conflict",
                "expect" => "created or linked",
                "count" => "an integer from 1 to 1000",
                "set" => "a mapping of Okta attributes to new values",
                "values" => "a mapping of entitlement type names to value ids, e.g. `{ Role: [role-admin] }`",
                "expect_types" => "a list of entitlement type names, e.g. [Role, License]",
                "endpoints" => "a list of endpoints, e.g. [/Roles, /Licenses]",
                "to" | "password" => "a non-empty string",
                "users" | "add" | "remove" | "members" | "expect_users" => {
                    "a list of directory keys"
                }
                _ => "true or false",
            };
            out.push((v.pos, format!("`{}` takes {want}", k.name)));
        }
    }
    if action.name == "rename_group" && opt(action, "to").is_none() {
        out.push((
            action.name_pos,
            "`rename_group` needs `to:` (the new name)".into(),
        ));
    }
    out
}

/// What an Okta action needs and produces. Okta updates only app users and app groups it has
/// created or linked: every user action but `assign` needs the id `assign` linked (reactivation
/// too: its lookup must find the user `assign` created), and every group action but
/// `push_group` needs the pushed group; the users a membership change names must be linked as
/// well. `push_group` pushes whichever members are linked, so it needs none of them.
pub fn dependencies(action: &ActionStep) -> Dependencies {
    let mut out = Dependencies::default();
    let Some((arg, _)) = spec(&action.name) else {
        return out;
    };
    let key = action.args.as_str().unwrap_or_default();
    match (arg, action.name.as_str()) {
        (Arg::User, "assign") => {
            // Expecting the app to hold the user already (`exists`, `linked`, `conflict`)
            // counts on the step that put it there.
            if matches!(
                opt(action, "expect").and_then(Node::as_str),
                Some("exists" | "linked" | "conflict")
            ) {
                out.needs.push(Dep::user(key));
            }
            out.produces.push(Dep::user(key));
        }
        (Arg::User, "reactivate") => {
            out.needs.push(Dep::user(key));
            out.produces.push(Dep::user(key));
        }
        (Arg::User, "grant" | "revoke") => {
            out.needs.push(Dep::user(key));
            out.needs
                .push(Dep::Value(entitlements::DISCOVERED.to_string()));
        }
        (Arg::User, _) => out.needs.push(Dep::user(key)),
        (Arg::Group, "push_group") => out.produces.push(Dep::group(key)),
        (Arg::Group, _) => out.needs.push(Dep::group(key)),
        // Discovery (also run by the connector test of a Governance app) yields the catalogue
        // grants choose from.
        (Arg::None, "discover_entitlements" | "test_connector") => out
            .produces
            .push(Dep::Value(entitlements::DISCOVERED.to_string())),
        (Arg::None | Arg::Import, _) => {}
    }
    for option in ["users", "add", "remove", "expect_users"] {
        out.needs
            .extend(opt_keys(action, option).iter().map(|u| Dep::user(u)));
    }
    out
}

pub fn validate_scenario(scenario: &Scenario) -> Vec<(Pos, String)> {
    let mut out = settings::validate(scenario);
    out.extend(users::validate_mappings(scenario));
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        let StepKind::Action(action) = &step.kind else {
            continue;
        };
        let Some((arg, _)) = spec(&action.name) else {
            continue;
        };
        let Some(key) = action.args.as_str() else {
            continue;
        };
        match arg {
            Arg::User => out.extend(check_key(scenario, "users", key, action.args.pos)),
            Arg::Group => out.extend(check_key(scenario, "groups", key, action.args.pos)),
            _ => {}
        }
        for name in ["users", "add", "remove", "members", "expect_users"] {
            if let Some(node) = opt(action, name) {
                let items: Vec<&Node> = match &node.kind {
                    NodeKind::Seq(items) => items.iter().collect(),
                    _ => vec![node],
                };
                for item in items {
                    if let Some(k) = item.as_str() {
                        out.extend(check_key(scenario, "users", k, item.pos));
                    }
                }
            }
        }
    }
    out
}

/// Gives every directory user its Okta user id (`00u…`), which Okta sends as `externalId`.
pub fn prepare(scenario: &Scenario, state: &mut ScenarioState) -> Result<(), Box<Finding>> {
    let settings = Settings::of(scenario);
    for (key, attrs) in &state.directory.users {
        let user_name = attrs
            .get(&settings.unique_identifier)
            .cloned()
            .unwrap_or(Value::Null);
        state.users.insert(
            key.clone(),
            json!({ "externalId": crate::scenario::template::okta_user_id(), "userName": user_name }),
        );
    }
    for (key, group) in &state.directory.groups {
        let name = group
            .attributes
            .get("displayName")
            .cloned()
            .unwrap_or(Value::Null);
        state
            .groups
            .insert(key.clone(), json!({ "displayName": name }));
    }
    Ok(())
}

pub async fn run_action(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    let settings = Settings::of(ctx.scenario);
    let key = action.args.as_str().unwrap_or_default().to_string();
    match action.name.as_str() {
        "test_connector" => {
            users::test_connector(ctx, &settings).await;
            // Enabling provisioning on a Governance app starts the discovery sequence.
            if settings.governance && !ctx.failed() {
                entitlements::discover(ctx, &settings, None).await;
            }
        }
        "discover_entitlements" => entitlements::discover(ctx, &settings, Some(action)).await,
        "test_entitlements" => entitlements::test(ctx, &settings, action).await,
        "grant" => entitlements::change(ctx, &settings, &key, action, true).await,
        "revoke" => entitlements::change(ctx, &settings, &key, action, false).await,
        "import" => users::import(ctx, &settings, action).await,
        "assign" => users::assign(ctx, &settings, &key, action).await,
        "push_profile" => users::push_profile(ctx, &settings, &key, action).await,
        "deactivate" | "unassign" => users::set_active(ctx, &settings, &key, false, action).await,
        "reactivate" => users::reactivate(ctx, &settings, &key, action).await,
        "sync_password" => users::sync_password(ctx, &settings, &key, action).await,
        "push_group" => groups::push_group(ctx, &settings, &key, action).await,
        "rename_group" => groups::rename(ctx, &settings, &key, action).await,
        "add_members" => {
            let users = opt_keys(action, "users");
            groups::change_members(ctx, &settings, &key, &users, &[], action).await
        }
        "remove_members" => {
            let users = opt_keys(action, "users");
            groups::change_members(ctx, &settings, &key, &[], &users, action).await
        }
        "change_members" => {
            let (add, remove) = (opt_keys(action, "add"), opt_keys(action, "remove"));
            groups::change_members(ctx, &settings, &key, &add, &remove, action).await
        }
        "push_now" => groups::push_now(ctx, &settings, &key, action).await,
        "unlink_group" => groups::unlink(ctx, &settings, &key, action).await,
        other => {
            let f = ctx.rule(
                "scenario.action",
                format!("the Okta profile has no action `{other}`"),
            );
            ctx.finding(f);
        }
    }
}

#[cfg(test)]
mod tests;
