//! `expect_server`: after IdP actions, checks what a correct server now holds — the question a
//! support engineer asks about an "out of sync" report. It reads the resource by the id the IdP
//! linked and compares attributes and group membership.
//!
//! ```yaml
//! - expect_server: { user: alice, active: false }
//! - expect_server: { user: alice, name: { givenName: Alicia } }
//! - expect_server: { group: eng, members: [alice, bob] }
//! - expect_server: { user: bob, exists: false }
//! ```
//! These reads are idpsim's own verification traffic (neutral headers), not IdP traffic.

use std::collections::HashSet;

use serde_json::Value;

use crate::check::expect::match_pattern;
use crate::check::history::Members;
use crate::check::pointer_token;
use crate::idp::context::ActionCtx;
use crate::outcome::DiffEntry;
use crate::scenario::{parse, ActionStep, Dep, Dependencies, Idp, Node};
use crate::support::diagnostic::Pos;
use crate::transport::OutgoingRequest;

pub fn validate(action: &ActionStep) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    let Some(entries) = action.args.as_map() else {
        return vec![(
            action.args.pos,
            "`expect_server` takes `user: KEY` or `group: KEY` and the expected attributes".into(),
        )];
    };
    let user = entries.iter().any(|(k, _)| k.name == "user");
    let group = entries.iter().any(|(k, _)| k.name == "group");
    if user == group {
        out.push((
            action.args.pos,
            "`expect_server` needs exactly one of `user:` or `group:`".into(),
        ));
    }
    if let Some(exists) = action.args.get("exists") {
        if !matches!(exists.kind, crate::scenario::yaml::NodeKind::Bool(_)) {
            out.push((exists.pos, "`exists` takes true or false".into()));
        }
    }
    if let Some(members) = action.args.get("members") {
        if !matches!(members.kind, crate::scenario::yaml::NodeKind::Seq(_)) {
            out.push((
                members.pos,
                "`members` takes a list of directory keys".into(),
            ));
        }
    }
    out
}

/// The rule for a difference between what the IdP believes and what the server holds in the
/// attributes `names`: a write to this resource the server acknowledged and did not apply, when
/// the run made one (the cause); the create, when this run's create made the resource, sent
/// every one of them and nothing wrote it since (a server that drops what it was sent: app
/// roles, `title`); else plain drift (someone changed the app, or the IdP never wrote it).
fn drift_rule(
    ctx: &ActionCtx<'_>,
    path: &str,
    names: &[&str],
    drift: &'static str,
) -> &'static str {
    let history = &ctx.state.history;
    let rule = crate::check::history::drift_rule(history, path, drift, Members::Kept);
    let create_dropped = !names.is_empty()
        && history.last_write(path).is_none()
        && names.iter().all(|n| history.create_sent(path, n));
    if rule == drift && create_dropped {
        return "rfc7644.create.not-stored";
    }
    rule
}

/// Reading an object back needs its server id, and so do the members it lists; `exists: false`
/// needs nothing (an object never linked is not on the server either). Either way it verifies
/// the object: after a failed step on it, there is nothing sound to check.
pub fn dependencies(scenario: &crate::scenario::Scenario, action: &ActionStep) -> Dependencies {
    let mut out = Dependencies::default();
    let args = &action.args;
    let absent = matches!(
        args.get("exists").map(|n| &n.kind),
        Some(crate::scenario::yaml::NodeKind::Bool(false))
    );
    let object = match (
        args.get("user").and_then(Node::as_str),
        args.get("group").and_then(Node::as_str),
    ) {
        (Some(user), _) => Some(Dep::user(user)),
        (None, Some(group)) => Some(Dep::group(group)),
        (None, None) => None,
    };
    // Whatever it expects, it checks what the latest step on the object did.
    out.verifies.extend(object.clone());
    if absent {
        return out;
    }
    out.needs.extend(object);
    if let Some(crate::scenario::yaml::NodeKind::Seq(items)) = args.get("members").map(|m| &m.kind)
    {
        for m in items.iter().filter_map(Node::as_str) {
            out.needs.push(crate::idp::directory::linked(scenario, m));
        }
    }
    out
}

pub async fn run(ctx: &mut ActionCtx<'_>, action: &ActionStep, _idp: Idp) {
    let args = &action.args;
    let (kind, collection) = if args.get("user").is_some() {
        ("user", "Users")
    } else {
        ("group", "Groups")
    };
    let Some(key) = args.get(kind).and_then(Node::as_str) else {
        return;
    };
    let table = if kind == "user" {
        &ctx.state.users
    } else {
        &ctx.state.groups
    };
    let id = table
        .get(key)
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let want_exists = !matches!(
        args.get("exists").map(|n| &n.kind),
        Some(crate::scenario::yaml::NodeKind::Bool(false))
    );
    let Some(id) = id else {
        if want_exists {
            let f = ctx.rule(
                "state.unlinked",
                format!("the IdP never linked {kind} `{key}` to a server id, so its state cannot be read"),
            );
            ctx.finding(f);
        }
        return;
    };
    let path = format!("/{collection}/{}", crate::support::text::path_segment(&id));
    let req = OutgoingRequest::new("GET", path.clone()).header("Accept", "application/scim+json");
    let (index, raw) = ctx.send(req).await;
    if raw.status == 404 || (raw.status == 0 && !want_exists) {
        // A user the run deactivated and the server deleted: the built-in rule named it.
        if want_exists && !ctx.root_caused(index) {
            // Gone after a write to it failed: that failure's consequence.
            let rule = ctx.state.history.failure(&path).unwrap_or("state.missing");
            let f = ctx
                .rule(
                    rule,
                    format!("{kind} `{key}` is gone from the server (GET answered 404)"),
                )
                .diff(DiffEntry::new(
                    format!("/{collection}/{id}"),
                    "present",
                    "absent",
                ))
                .at_exchange(index);
            ctx.finding(f);
        }
        return;
    }
    if !want_exists {
        if (200..300).contains(&raw.status) {
            let f = ctx
                .rule(
                    "state.unexpected",
                    format!("{kind} `{key}` still exists on the server"),
                )
                .diff(DiffEntry::new(
                    format!("/{collection}/{id}"),
                    "absent",
                    "present",
                ))
                .at_exchange(index);
            ctx.finding(f);
        }
        return;
    }
    if ctx.root_caused(index) || ctx.failed_at(index) {
        // The read itself failed (credentials, headers, a body that is not a resource): a
        // built-in rule said so; there is no state to compare.
        return;
    }
    let Some(body) = raw.body.clone() else { return };
    let known: HashSet<String> = ctx
        .state
        .template_context()
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let Some(entries) = args.as_map() else { return };
    // Every attribute that differs is one finding: one read, one problem.
    let mut diffs = Vec::new();
    let mut names = Vec::new();
    let mut first_pos = None;
    for (k, v) in entries {
        if matches!(k.name.as_str(), "user" | "group" | "exists") {
            continue;
        }
        if k.name == "members" && kind == "group" {
            check_members(ctx, v, &body, &path, index);
            continue;
        }
        let Ok(pattern) = parse::parse_pattern(&ctx.scenario.file, v, &known) else {
            continue;
        };
        let mut found = Vec::new();
        let tctx = ctx.state.template_context();
        // `active: false` also accepts the string "False": judge state, not encoding.
        let actual = body.get(&k.name).map(normalize_bool);
        match_pattern(
            &pattern,
            actual.as_ref(),
            &format!("/{}", pointer_token(&k.name)),
            &tctx,
            &mut found,
        );
        if !found.is_empty() {
            names.push(k.name.as_str());
            first_pos.get_or_insert(v.pos);
            diffs.extend(found.into_iter().map(|(d, _)| d));
        }
    }
    if diffs.is_empty() {
        return;
    }
    let rule = drift_rule(ctx, &path, &names, "state.attribute");
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let message = if rule == "rfc7644.create.not-stored" {
        format!(
            "the server acknowledged the create of {kind} `{key}` but holds a different {}",
            names.join(", ")
        )
    } else {
        format!(
            "the server holds a different {} for {kind} `{key}`",
            names.join(", ")
        )
    };
    let mut f = ctx.rule(rule, message).at_exchange(index);
    if let Some(pos) = first_pos {
        f = f.source(ctx.scenario.source_ref(pos));
    }
    for d in diffs {
        f = f.diff(d);
    }
    ctx.finding(f);
}
fn normalize_bool(v: &Value) -> Value {
    match v.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => v.clone(),
    }
}

fn check_members(ctx: &mut ActionCtx<'_>, expected: &Node, body: &Value, path: &str, index: usize) {
    let Some(items) = expected.to_json().as_array().cloned() else {
        return;
    };
    let mut want: Vec<(String, String)> = Vec::new();
    for item in items {
        let Some(key) = item.as_str() else { continue };
        let id = ctx
            .state
            .users
            .get(key)
            .or_else(|| ctx.state.groups.get(key))
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("(not linked)")
            .to_string();
        want.push((key.to_string(), id));
    }
    let have: Vec<String> = crate::scim::member_values(body.get("members"));
    let missing: Vec<&(String, String)> =
        want.iter().filter(|(_, id)| !have.contains(id)).collect();
    let extra: Vec<&String> = have
        .iter()
        .filter(|id| !want.iter().any(|(_, w)| w == *id))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return;
    }
    let name_of = |id: &str| -> String {
        ctx.state
            .users
            .iter()
            .chain(ctx.state.groups.iter())
            .find(|(_, v)| v.get("id").and_then(Value::as_str) == Some(id))
            .map(|(k, _)| format!("{k} ({id})"))
            .unwrap_or_else(|| id.to_string())
    };
    let members = if !want.is_empty() && missing.len() == want.len() {
        Members::Emptied
    } else if !missing.is_empty() {
        Members::Missing
    } else {
        Members::Kept
    };
    let rule =
        crate::check::history::drift_rule(&ctx.state.history, path, "state.members", members);
    let mut f = ctx
        .rule(
            rule,
            "the group's members on the server differ from the IdP's",
        )
        .source(ctx.scenario.source_ref(expected.pos))
        .at_exchange(index);
    for (key, id) in &missing {
        f = f.diff(DiffEntry::new(
            "/members",
            format!("contains {key} ({id})"),
            "missing",
        ));
    }
    for id in extra {
        f = f.diff(DiffEntry::new(
            "/members",
            "no other members",
            format!("also {}", name_of(id)),
        ));
    }
    ctx.finding(f);
}
