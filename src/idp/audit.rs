//! The `audit` step: at the end of any scenario, read the whole server state (all of /Users and
//! /Groups, paginated) and compare it with everything the scenario's IdP believes — the objects
//! its profile provisioned (`ScenarioState.users/groups`) plus entries written inline. Where
//! `expect_server` checks one object, `audit` answers the support question "is anything the IdP
//! knows about out of sync?". It reuses the engine of `idpsim audit` (`crate::audit`).
//!
//! ```yaml
//! - audit:                        # whatever the IdP profile provisioned
//! - audit:                        # plus (or, in generic scenarios, only) inline beliefs
//!     users:
//!       ann: { id: "{{ ann }}", userName: "ann-{{ run }}@example.test", active: false }
//!     groups:
//!       team: { id: "{{ team }}", members: [ann] }
//!     on_drift: warning           # report drift as warnings and go on (e.g. to the repair step)
//! ```
//! Inline entries are also recorded as the IdP's belief (`users.ann`, `groups.team` in
//! templates, and in `--write-state`). The reads are idpsim's own verification traffic.

use serde_json::{Map, Value};

use crate::audit::read::{self, ReadError, Sender};
use crate::audit::{compare, Expected, Options};
use crate::idp::believed;
use crate::idp::context::ActionCtx;
use crate::outcome::{Finding, Severity};
use crate::scenario::yaml::NodeKind;
use crate::scenario::ActionStep;
use crate::support::diagnostic::{Pos, SourceRef};
use crate::transport::{OutgoingRequest, RawResponse};

pub const KEYS: &[&str] = &["users", "groups", "on_drift"];

pub fn validate(action: &ActionStep) -> Vec<(Pos, String)> {
    let args = &action.args;
    let mut out = Vec::new();
    match &args.kind {
        NodeKind::Null => return out,
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                if !KEYS.contains(&k.name.as_str()) {
                    out.push((
                        k.pos,
                        format!(
                            "unknown key `{}` in `audit` (expected {})",
                            k.name,
                            KEYS.join(", ")
                        ),
                    ));
                    continue;
                }
                if k.name == "on_drift" {
                    if !matches!(v.as_str(), Some("error" | "warning")) {
                        out.push((
                            v.pos,
                            "`on_drift` takes `error` (the default) or `warning`".into(),
                        ));
                    }
                    continue;
                }
                match &v.kind {
                    NodeKind::Map(items) => {
                        for (_, item) in items {
                            if !matches!(item.kind, NodeKind::Map(_)) {
                                out.push((item.pos, "an audit entry is a mapping of attributes (id, userName/displayName, active, members, …)".into()));
                            }
                        }
                    }
                    _ => out.push((
                        v.pos,
                        format!(
                            "`{}` maps keys (e.g. alice) to what the IdP believes",
                            k.name
                        ),
                    )),
                }
            }
        }
        _ => out.push((
            args.pos,
            "`audit` takes nothing, or `users:`, `groups:` and `on_drift:`".into(),
        )),
    }
    out
}

/// Inline entries become the IdP's belief about those objects (later steps read `users.ann`).
pub fn dependencies(action: &ActionStep) -> crate::scenario::Dependencies {
    use crate::scenario::Dep;
    let mut out = crate::scenario::Dependencies::default();
    for (kind, dep) in [
        ("users", Dep::user as fn(&str) -> Dep),
        ("groups", Dep::group),
    ] {
        if let Some(entries) = action.args.get(kind).and_then(|n| n.as_map()) {
            out.produces
                .extend(entries.iter().map(|(k, _)| dep(&k.name)));
        }
    }
    out
}

/// Merges inline entries into the IdP's bookkeeping (later steps and `--write-state` see them).
fn remember(table: &mut Map<String, Value>, inline: &Value) {
    for (k, v) in inline.as_object().into_iter().flatten() {
        let slot = table
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Some(dst), Some(src)) = (slot.as_object_mut(), v.as_object()) {
            for (a, b) in src {
                dst.insert(a.clone(), b.clone());
            }
        }
    }
}

pub async fn run(ctx: &mut ActionCtx<'_>, action: &ActionStep) {
    let here = ctx.here();
    let args = &action.args;
    let warn_only = args.get("on_drift").and_then(|n| n.as_str()) == Some("warning");
    for kind in ["users", "groups"] {
        if let Some(node) = args.get(kind) {
            match ctx.render_value(&node.to_json()) {
                Ok(v) => {
                    let table = if kind == "users" {
                        &mut ctx.state.users
                    } else {
                        &mut ctx.state.groups
                    };
                    remember(table, &v);
                }
                Err(e) => {
                    let f = Finding::judged(
                        "scenario.template",
                        ctx.scenario.idp,
                        format!("audit {kind}: {e}"),
                    )
                    .source(ctx.scenario.source_ref(node.pos));
                    ctx.finding(f);
                    return;
                }
            }
        }
    }
    let expected = match believed::expected_from(ctx.state) {
        Ok(e) => e,
        Err(errors) => {
            let f = ctx.rule(
                "scenario.audit",
                format!("the IdP's state cannot be audited: {}", errors.join("; ")),
            );
            ctx.finding(f);
            return;
        }
    };
    let expected = with_positions(expected, ctx, args);
    if expected.is_empty() {
        let f = ctx.rule(
            "scenario.audit",
            "the IdP knows no users or groups yet, so there is nothing to audit",
        );
        ctx.finding(f);
        return;
    }
    let reading = read::read_server(&mut StepSender(ctx), &expected).await;
    for note in reading.notes {
        let f = ctx.rule("audit.read", note).at_most(Severity::Warning);
        ctx.finding(f);
    }
    match reading.failure {
        None => {}
        Some(ReadError::Unreadable { exchange, cause }) => {
            let f = ctx.rule("audit.read", cause).at_exchange(exchange);
            ctx.finding(f);
            return;
        }
        // The step's sender reports no transport failure of its own: an exchange without an
        // answer is a page that could not be read, judged above like any other.
        Some(ReadError::NoAnswer(cause)) => {
            let f = ctx.rule("audit.read", cause);
            ctx.finding(f);
            return;
        }
    }
    let actual = reading.actual;
    let opts = Options {
        strict: false,
        idp: ctx.scenario.idp,
    };
    for mut f in compare(&expected, &actual, opts) {
        f = by_cause(ctx, f).await;
        if warn_only {
            f = f.at_most(Severity::Warning);
        }
        if f.source.is_none() {
            f = f.source(here.clone());
        }
        ctx.finding(f);
    }
}

/// Drift on a resource this run wrote to is the write not applied, and a missing user this run
/// deactivated is the deactivation that deleted it (or a list that hides inactive users: a read
/// by id tells which): the cause's rule, so one fault stays one problem however many steps see it.
async fn by_cause(ctx: &mut ActionCtx<'_>, f: Finding) -> Finding {
    let Some(pointer) = f.diff.first().map(|d| d.pointer.clone()) else {
        return f;
    };
    // `/Users/{id}` or `/Users/{id}/active`: the resource is the first two segments.
    let resource: String = pointer.split('/').take(3).collect::<Vec<_>>().join("/");
    let idp = ctx.scenario.idp;
    match f.rule.as_str() {
        "audit.user.missing" if ctx.state.history.was_deactivated(&resource) => {
            match crate::idp::diagnose::gone_or_hidden(ctx, &resource).await {
                Some(rule) => f.rebind(rule, idp),
                None => f,
            }
        }
        "audit.group.members" => {
            // Members that are missing because the user itself is missing or hidden.
            // Members missing because the user itself is not in the list ("not on the server").
            let missing: Vec<String> = f
                .diff
                .iter()
                .filter(|d| d.actual.contains("not on the server"))
                .filter_map(|d| member_id(ctx, &d.expected))
                .collect();
            let deactivated = !missing.is_empty()
                && missing
                    .iter()
                    .all(|id| ctx.state.history.was_deactivated(&format!("/Users/{id}")));
            if deactivated {
                if let Some(rule) =
                    crate::idp::diagnose::gone_or_hidden(ctx, &format!("/Users/{}", missing[0]))
                        .await
                {
                    return f.rebind(rule, idp);
                }
            }
            use crate::check::history::Members;
            let missing = f
                .diff
                .iter()
                .filter(|d| d.actual.starts_with("missing"))
                .count();
            let members = if missing > 0 && missing == f.diff.len() {
                Members::Emptied
            } else if missing > 0 {
                Members::Missing
            } else {
                Members::Kept
            };
            let rule = crate::check::history::drift_rule(
                &ctx.state.history,
                &resource,
                "audit.group.members",
                members,
            );
            if rule == f.rule {
                f
            } else {
                f.rebind(rule, idp)
            }
        }
        "audit.user.active" | "audit.user.attribute" | "audit.group.attribute" => {
            let rule = crate::check::history::drift_rule(
                &ctx.state.history,
                &resource,
                "",
                crate::check::history::Members::Kept,
            );
            if rule.is_empty() {
                f
            } else {
                f.rebind(rule, idp)
            }
        }
        _ => f,
    }
}

/// The id of the member a diff names: `contains bob (u-42)`, or `contains bob` (then the id the
/// IdP linked for `bob`).
fn member_id(ctx: &ActionCtx<'_>, expected: &str) -> Option<String> {
    let rest = expected.strip_prefix("contains ")?;
    if let Some((_, id)) = rest.rsplit_once(" (") {
        return id.strip_suffix(')').map(str::to_string);
    }
    ctx.state
        .users
        .get(rest.trim())
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Points each inline entry's findings at its line; profile entries point at the step.
fn with_positions(mut e: Expected, ctx: &ActionCtx<'_>, args: &crate::scenario::Node) -> Expected {
    let pos = |kind: &str, key: &str| -> Option<SourceRef> {
        args.get(kind)?
            .as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| ctx.scenario.source_ref(k.pos))
    };
    for u in &mut e.users {
        u.source = pos("users", &u.key);
    }
    for g in &mut e.groups {
        g.source = pos("groups", &g.key);
    }
    e
}

/// The step reads through its `ActionCtx`: every page is an exchange of the scenario, recorded
/// and judged by the built-in rules like any other.
struct StepSender<'c, 'a>(&'c mut ActionCtx<'a>);

impl Sender for StepSender<'_, '_> {
    async fn send(&mut self, req: OutgoingRequest) -> (usize, RawResponse, Option<String>) {
        let (index, raw) = self.0.send(req).await;
        (index, raw, None)
    }
}
