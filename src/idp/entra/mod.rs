//! Microsoft Entra ID's provisioning service (the `scim` job), in its two PATCH modes.
//!
//! * `config` — `settings:` and `mappings:` of a scenario (parsed and checked at load time).
//! * `expr` — the attribute-mapping expression language (done separately; not edited here).
//! * `wire` — what goes on the wire: query encoding, headers, create and PATCH bodies;
//!   `roles` — the app-role bodies of Microsoft's "Provisioning a role to a SCIM app".
//! * `sync` — the engine: scope, IsSoftDeleted, matching, create, FlowWhenChanged updates,
//!   references, deletes, retries.
//! * `judge` — Entra's reading of failures (provisioning-log codes, escrow, quarantine).
//!
//! **Mode precedence** (documented in `scenarios/entra/README.md`): a scenario's `profile:`
//! wins, because it pins the documented bodies it reproduces; without it the Tenant URL decides
//! (`?aadOptscim062020`, or the 2020 name `AzureAdScimPatch062020`), as in an Entra tenant;
//! otherwise `default`. The flag then travels on every request exactly when the mode is the
//! flag mode (a pinned `default` strips it from the URL, a pinned flag adds it).
//! Provisioning on demand always sends default-mode bodies: the flag does not apply to it
//! (COMPAT, entra.md §4.1).

pub mod config;
pub mod custom;
pub mod expr;
pub mod judge;
pub mod manager;
pub mod roles;
pub mod sync;
pub mod wire;

use serde_json::Value as Json;

use crate::idp::context::{ActionCtx, ScenarioState};
use crate::idp::directory::check_key;
use crate::outcome::Finding;
use crate::scenario::yaml::NodeKind;
use crate::scenario::{ActionStep, Dep, Dependencies, Node, Scenario, StepKind};
use crate::support::diagnostic::Pos;
use config::Mode;
use sync::{Engine, Kind, Trigger};

pub const PROFILES: &[&str] = &["default", "aadOptscim062020"];
pub const ACTIONS: &[&str] = &[
    "test_connection",
    "provision",
    "assign",
    "unassign",
    "update",
    "soft_delete",
    "restore",
    "disable",
    "enable",
    "hard_delete",
    "add_member",
    "remove_member",
    "provision_on_demand",
    "check_schema",
    "expect_server",
];

/// The effective mode: scenario `profile:` first, then the Tenant URL's query, else default.
pub fn resolve_mode(profile: Option<&str>, base_query: Option<&str>) -> Mode {
    match profile {
        Some("aadOptscim062020") => Mode::Flag,
        Some(_) => Mode::Default,
        None => {
            let flagged = base_query.unwrap_or("").split('&').any(wire::is_flag_token);
            if flagged {
                Mode::Flag
            } else {
                Mode::Default
            }
        }
    }
}

/// Which directory collections an action's keys may name.
fn key_kinds(action: &str) -> &'static [&'static str] {
    match action {
        "soft_delete" | "restore" | "disable" | "enable" => &["users"],
        _ => &["users", "groups"],
    }
}

/// Keys named by a scalar or a list argument.
fn arg_keys(node: &Node) -> Option<Vec<(String, Pos)>> {
    match &node.kind {
        NodeKind::Str(s) => Some(vec![(s.clone(), node.pos)]),
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| (s.to_string(), i.pos)))
            .collect(),
        _ => None,
    }
}

/// The option keys an Entra action reads: only `update` takes one (`set:`). The scenario JSON
/// Schema is generated from this, so it cannot drift from the loader.
pub fn action_options(name: &str) -> &'static [&'static str] {
    if name == "update" {
        &["set"]
    } else {
        &[]
    }
}

pub fn validate_action(action: &ActionStep) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    let name = action.name.as_str();
    let allowed_options = action_options(name);
    for (k, _) in &action.options {
        if !allowed_options.contains(&k.name.as_str()) {
            out.push((
                k.pos,
                format!(
                    "`{name}` takes no option `{}`{}",
                    k.name,
                    if name == "update" {
                        " (only `set:`)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    let args = &action.args;
    match name {
        "test_connection" => match &args.kind {
            NodeKind::Null => {}
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    if k.name != "groups" || !matches!(v.kind, NodeKind::Bool(_)) {
                        out.push((
                            k.pos,
                            "`test_connection` takes `{ groups: true }` or nothing".into(),
                        ));
                    }
                }
            }
            _ => out.push((
                args.pos,
                "`test_connection` takes `{ groups: true }` or nothing".into(),
            )),
        },
        "provision" if matches!(args.kind, NodeKind::Null) => {}
        "add_member" | "remove_member" => {
            let ok = args.get("group").and_then(Node::as_str).is_some()
                && (args.get("user").and_then(Node::as_str).is_some()
                    || args.get("users").and_then(arg_keys).is_some());
            if !ok {
                out.push((
                    args.pos,
                    format!("`{name}` takes `{{ group: eng, user: alice }}` or `{{ group: eng, users: [alice, bob] }}`"),
                ));
            }
            if let Some(entries) = args.as_map() {
                for (k, _) in entries {
                    if !["group", "user", "users"].contains(&k.name.as_str()) {
                        out.push((
                            k.pos,
                            format!("unknown key `{}` (expected group, user, users)", k.name),
                        ));
                    }
                }
            }
        }
        "update" => {
            if args.as_str().is_none() {
                out.push((args.pos, "`update` takes one directory key, e.g. `update: alice` with `set: { department: Sales }`".into()));
            }
            if let Some((_, set)) = action.options.iter().find(|(k, _)| k.name == "set") {
                if set.as_map().is_none() {
                    out.push((
                        set.pos,
                        "`set` maps source attributes to new values (null removes one)".into(),
                    ));
                }
            }
        }
        "provision_on_demand" => {
            if args.as_str().is_none() {
                out.push((
                    args.pos,
                    "`provision_on_demand` takes one directory key (a user or group)".into(),
                ));
            }
        }
        "expect_server" => {}
        "check_schema" => {
            if !matches!(args.kind, NodeKind::Null) {
                out.push((args.pos, "`check_schema` takes no argument".into()));
            }
        }
        _ => {
            if arg_keys(args).is_none() {
                out.push((
                    args.pos,
                    format!("`{name}` takes a directory key or a list of keys"),
                ));
            }
        }
    }
    out
}

/// What an Entra action needs and produces. Entra keeps an object it could not provision in
/// escrow and retries it on the next cycle, so actions that run a cycle over an object
/// (`update`, `restore`, `enable`, adding a member, provisioning on demand) need nothing: they
/// do what Entra does, the retry included. Actions that only make sense for a provisioned
/// object — disabling it (`soft_delete`, `disable`), deleting it (`unassign`, `hard_delete`),
/// removing a member, adding members to a group — need its server id; without it Entra sends
/// nothing, and the step would prove nothing.
pub fn dependencies(scenario: &Scenario, action: &ActionStep) -> Dependencies {
    use crate::idp::directory;
    let mut out = Dependencies::default();
    let args = &action.args;
    // Keys that are templates are resolved at run time; they cannot be followed here.
    let plain = |node: &Node| -> Vec<String> {
        arg_keys(node)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !k.contains("{{"))
            .collect()
    };
    let linked = |k: &str| directory::linked(scenario, k);
    match action.name.as_str() {
        "provision" | "assign" | "provision_on_demand" => {
            let keys = if matches!(args.kind, NodeKind::Null) {
                let mut all = scenario.directory_keys("users");
                all.extend(scenario.directory_keys("groups"));
                all
            } else {
                plain(args)
            };
            for k in keys {
                // Assigning a group brings its members into scope: they are provisioned too.
                for m in directory::members(scenario, &k) {
                    out.produces.push(linked(&m));
                }
                out.produces.push(linked(&k));
            }
        }
        // A cycle over an object Entra holds in escrow retries its create: it may link it.
        "update" | "restore" | "enable" => {
            out.produces.extend(plain(args).iter().map(|k| linked(k)));
        }
        "unassign" | "hard_delete" | "soft_delete" | "disable" => {
            out.needs.extend(plain(args).iter().map(|k| linked(k)));
        }
        "add_member" | "remove_member" => {
            if let Some(g) = args.get("group").and_then(Node::as_str) {
                out.needs.push(Dep::group(g));
            }
            for field in ["user", "users"] {
                let Some(node) = args.get(field) else {
                    continue;
                };
                let members = plain(node).into_iter().map(|k| linked(&k));
                if action.name == "remove_member" {
                    out.needs.extend(members);
                } else {
                    // Joining an assigned group brings a user into scope: Entra provisions it.
                    out.produces.extend(members);
                }
            }
        }
        _ => {}
    }
    out
}

pub fn validate_scenario(scenario: &Scenario) -> Vec<(Pos, String)> {
    let (_, mappings, mut out) = config::load(scenario);
    for list in [&mappings.user, &mappings.group] {
        if let Some(msg) = config::check_targets(list) {
            let pos = scenario
                .mappings
                .as_ref()
                .map(|m| m.pos)
                .unwrap_or(scenario.pos);
            out.push((pos, msg));
        }
    }
    // Directory keys named by actions (validate_action cannot see the directory).
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        let StepKind::Action(a) = &step.kind else {
            continue;
        };
        let mut keys: Vec<(String, Pos, &[&str])> = Vec::new();
        match a.name.as_str() {
            "test_connection" | "expect_server" | "check_schema" => {}
            "add_member" | "remove_member" => {
                if let Some(g) = a.args.get("group") {
                    if let Some(s) = g.as_str() {
                        keys.push((s.into(), g.pos, &["groups"]));
                    }
                }
                for field in ["user", "users"] {
                    if let Some(list) = a.args.get(field).and_then(arg_keys) {
                        keys.extend(
                            list.into_iter()
                                .map(|(k, p)| (k, p, &["users", "groups"][..])),
                        );
                    }
                }
            }
            name => {
                if let Some(list) = arg_keys(&a.args) {
                    keys.extend(list.into_iter().map(|(k, p)| (k, p, key_kinds(name))));
                }
            }
        }
        for (key, pos, kinds) in keys {
            if key.contains("{{") {
                continue;
            }
            let errs: Vec<(Pos, String)> = kinds
                .iter()
                .filter_map(|kind| check_key(scenario, kind, &key, pos))
                .collect();
            if errs.len() == kinds.len() {
                out.push((
                    pos,
                    format!(
                        "`{key}` is not in `directory.{}`",
                        kinds.join("` or `directory.")
                    ),
                ));
            }
        }
    }
    out
}

/// Entra's initial memory: nothing assigned or linked; soft-deleted where the directory says
/// `IsSoftDeleted: true`; every object gets an `objectId` (a GUID) if it has none, since the
/// gallery group mapping flows objectId → externalId (entra.md §3.17).
pub fn prepare(_scenario: &Scenario, state: &mut ScenarioState) -> Result<(), Box<Finding>> {
    let mut st = sync::State::default();
    for (key, attrs) in state.directory.users.iter_mut() {
        let soft = attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("IsSoftDeleted"))
            .is_some_and(|(_, v)| {
                v.as_bool() == Some(true)
                    || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
            });
        attrs
            .entry("objectId")
            .or_insert_with(|| Json::String(uuid::Uuid::new_v4().to_string()));
        st.users.insert(
            key.clone(),
            sync::Obj {
                soft_deleted: soft,
                ..Default::default()
            },
        );
    }
    for (key, group) in state.directory.groups.iter_mut() {
        group
            .attributes
            .entry("objectId")
            .or_insert_with(|| Json::String(uuid::Uuid::new_v4().to_string()));
        st.groups.insert(key.clone(), sync::Obj::default());
    }
    state.entra = st;
    Ok(())
}

fn kind_of(ctx: &ActionCtx<'_>, key: &str) -> Option<Kind> {
    if ctx.state.directory.user(key).is_some() {
        Some(Kind::User)
    } else if ctx.state.directory.group(key).is_some() {
        Some(Kind::Group)
    } else {
        None
    }
}

/// Renders the keys an action names (they may be templates).
fn keys(ctx: &mut ActionCtx<'_>, node: &Node) -> Option<Vec<(String, Kind)>> {
    let list = arg_keys(node)?;
    let mut out = Vec::new();
    for (raw, _) in list {
        let key = match ctx.render(&raw) {
            Ok(k) => k,
            Err(e) => {
                let f = ctx.rule("scenario.template", e);
                ctx.finding(f);
                return None;
            }
        };
        match kind_of(ctx, &key) {
            Some(kind) => out.push((key, kind)),
            None => {
                let f = ctx.rule(
                    "scenario.action",
                    format!("`{key}` is not in the directory"),
                );
                ctx.finding(f);
                return None;
            }
        }
    }
    Some(out)
}

pub async fn run_action(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    let (settings, mappings, _) = config::load(ctx.scenario);
    let url_mode = resolve_mode(
        ctx.scenario.profile.as_deref(),
        ctx.transport.base().query.as_deref(),
    );
    let mut engine = Engine::new(ctx, settings, mappings, url_mode);
    if action.name == "provision_on_demand" {
        engine.mode = Mode::Default;
    }
    let _ = run(&mut engine, action).await;
    engine.save();
}

async fn run(e: &mut Engine<'_, '_>, action: &ActionStep) -> sync::Flow {
    let args = &action.args;
    match action.name.as_str() {
        "test_connection" => {
            let groups = matches!(
                args.get("groups").map(|n| &n.kind),
                Some(NodeKind::Bool(true))
            );
            e.test_connection(groups).await
        }
        "check_schema" => e.check_schema().await,
        "provision" | "assign" => {
            let targets = if matches!(args.kind, NodeKind::Null) {
                let dir = &e.ctx.state.directory;
                dir.users
                    .iter()
                    .map(|(k, _)| (k.clone(), Kind::User))
                    .chain(dir.groups.iter().map(|(k, _)| (k.clone(), Kind::Group)))
                    .collect()
            } else {
                keys(e.ctx, args).ok_or(())?
            };
            assign(e, targets).await
        }
        "unassign" => {
            // Each object on its own: one that fails waits in escrow, the others go on.
            let mut flow = Ok(());
            for (key, kind) in keys(e.ctx, args).ok_or(())? {
                flow = flow.and(e.unassign(kind, &key).await);
            }
            flow
        }
        "soft_delete" | "restore" | "disable" | "enable" => {
            let mut flow = Ok(());
            for (key, _) in keys(e.ctx, args).ok_or(())? {
                match action.name.as_str() {
                    "soft_delete" => e.obj_mut(Kind::User, &key).soft_deleted = true,
                    "restore" => e.obj_mut(Kind::User, &key).soft_deleted = false,
                    other => {
                        if let Some(u) = e.ctx.state.directory.user_mut(&key) {
                            u.retain(|k, _| !k.eq_ignore_ascii_case("accountEnabled"));
                            u.insert("accountEnabled".into(), Json::Bool(other == "enable"));
                        }
                    }
                }
                flow = flow.and(e.sync(Kind::User, &key, Trigger::Cycle).await);
            }
            flow
        }
        "hard_delete" => {
            let mut flow = Ok(());
            for (key, kind) in keys(e.ctx, args).ok_or(())? {
                if e.delete(kind, &key).await.is_err() {
                    flow = Err(());
                    continue;
                }
                // Gone from Entra: drop it from its groups in the directory.
                for (_, g) in e.ctx.state.directory.groups.iter_mut() {
                    g.members.retain(|m| m != &key);
                }
            }
            flow
        }
        "update" => {
            let (key, kind) = keys(e.ctx, args).ok_or(())?.into_iter().next().ok_or(())?;
            if let Some((_, set)) = action.options.iter().find(|(k, _)| k.name == "set") {
                let changes = match e.ctx.render_value(&set.to_json()) {
                    Ok(Json::Object(m)) => m,
                    Ok(_) => Default::default(),
                    Err(err) => {
                        let f = e.ctx.rule("scenario.template", err);
                        e.ctx.finding(f);
                        return Err(());
                    }
                };
                let target = match kind {
                    Kind::User => e.ctx.state.directory.user_mut(&key),
                    Kind::Group => e
                        .ctx
                        .state
                        .directory
                        .group_mut(&key)
                        .map(|g| &mut g.attributes),
                };
                if let Some(attrs) = target {
                    for (k, v) in changes {
                        attrs.retain(|name, _| !name.eq_ignore_ascii_case(&k));
                        if !v.is_null() {
                            attrs.insert(k, v);
                        }
                    }
                }
            }
            e.sync(kind, &key, Trigger::Cycle).await?;
            if kind == Kind::User {
                e.sync_manager(&key).await?;
            } else {
                e.sync_members(&key, Trigger::Cycle).await?;
            }
            Ok(())
        }
        "add_member" | "remove_member" => {
            let group = e
                .ctx
                .render(args.get("group").and_then(Node::as_str).unwrap_or(""))
                .map_err(|_| ())?;
            let mut members = Vec::new();
            for field in ["user", "users"] {
                if let Some(node) = args.get(field) {
                    members.extend(keys(e.ctx, node).ok_or(())?);
                }
            }
            let adding = action.name == "add_member";
            if let Some(g) = e.ctx.state.directory.group_mut(&group) {
                for (m, _) in &members {
                    if adding && !g.members.contains(m) {
                        g.members.push(m.clone());
                    } else if !adding {
                        g.members.retain(|x| x != m);
                    }
                }
            }
            // Joining an assigned group brings a user into scope (§7.2): it is provisioned first.
            if adding && e.obj(Kind::Group, &group).assigned {
                let mut flow = Ok(());
                for (m, kind) in &members {
                    e.obj_mut(*kind, m).assigned = true;
                    e.obj_mut(*kind, m).managed = true;
                    flow = flow.and(e.sync(*kind, m, Trigger::Scope).await);
                }
                // Members that could not be provisioned have no id: the group gets the others.
                return flow.and(e.sync_members(&group, Trigger::Cycle).await);
            }
            e.sync_members(&group, Trigger::Cycle).await
        }
        "provision_on_demand" => {
            let (key, kind) = keys(e.ctx, args).ok_or(())?.into_iter().next().ok_or(())?;
            // POD acts only on objects in scope; it runs match → create/update regardless of
            // the anchor, which is what repairs an out-of-sync object (FAQ, §7.3).
            e.sync(kind, &key, Trigger::OnDemand).await?;
            match kind {
                Kind::User => e.sync_manager(&key).await,
                Kind::Group => e.sync_members(&key, Trigger::OnDemand).await,
            }
        }
        _ => Ok(()),
    }
}

/// Assignment and the cycle that follows: users (including members of assigned groups), their
/// manager references, then groups and their members (§7.1 initial cycle).
async fn assign(e: &mut Engine<'_, '_>, targets: Vec<(String, Kind)>) -> sync::Flow {
    let mut users: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for (key, kind) in &targets {
        match kind {
            Kind::User => users.push(key.clone()),
            Kind::Group => {
                groups.push(key.clone());
                if let Some(g) = e.ctx.state.directory.group(key) {
                    for m in g.members.clone() {
                        if e.ctx.state.directory.user(&m).is_some() && !users.contains(&m) {
                            users.push(m);
                        }
                    }
                }
            }
        }
    }
    // Directory order, as Entra reads the source.
    let order: Vec<String> = e
        .ctx
        .state
        .directory
        .users
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    users.sort_by_key(|u| order.iter().position(|k| k == u));
    for (list, kind) in [(&users, Kind::User), (&groups, Kind::Group)] {
        for key in list {
            let o = e.obj_mut(kind, key);
            let was_out = !o.assigned;
            o.assigned = true;
            if was_out && o.id.is_some() {
                o.managed = true;
            }
        }
    }
    // One object that fails does not stop the cycle: Entra escrows it (retries it on the next
    // cycle) and goes on with the others; references to it stay unset meanwhile.
    let mut flow = Ok(());
    for u in &users {
        flow = flow.and(e.sync(Kind::User, u, Trigger::Scope).await);
    }
    for u in &users {
        flow = flow.and(e.sync_manager(u).await);
    }
    for g in &groups {
        if e.sync(Kind::Group, g, Trigger::Scope).await.is_err() {
            flow = Err(());
            continue;
        }
        flow = flow.and(e.sync_members(g, Trigger::Scope).await);
    }
    flow
}
