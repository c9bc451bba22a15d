//! What the IdP believes, taken from a run: the IdP profiles keep what they provisioned in
//! `ScenarioState.users/groups` (each entry has at least the server `id`). This module turns
//! that bookkeeping into an audit expectation (the `audit` step) and, for
//! `idpsim run --write-state FILE`, into the state-file shape — captured by the runner just
//! before cleanup deletes what the scenario created, and carried in its `ScenarioResult`.

use serde_json::{Map, Value};

use crate::audit::{Expected, ExpectedGroup, ExpectedUser};
use crate::idp::context::ScenarioState;
use crate::scim::schema::ENTERPRISE_URN;

/// SCIM attributes a profile's bookkeeping may hold that are worth auditing; anything else in
/// an entry (IdP-side names such as Okta's `login`, private markers) is not server state.
const USER_ATTRIBUTES: &[&str] = &[
    "userName",
    "active",
    "displayName",
    "name",
    "emails",
    "externalId",
    "title",
    "nickName",
    "preferredLanguage",
    "locale",
    "timezone",
    "phoneNumbers",
    "addresses",
    "userType",
    "profileUrl",
    ENTERPRISE_URN,
];
const GROUP_ATTRIBUTES: &[&str] = &["displayName", "externalId", "members"];

/// Whether an entry says the IdP removed the object (`exists: false` or `deleted: true`).
fn removed(entry: &Map<String, Value>) -> bool {
    entry.get("exists") == Some(&Value::Bool(false))
        || entry.get("deleted") == Some(&Value::Bool(true))
}

/// One bookkeeping entry as a state-file entry (only auditable attributes, plus `id`).
fn entry(
    v: &Value,
    keep: &[&str],
    members_of: Option<&dyn Fn(&Value) -> Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(m) = v.as_object() else { return out };
    if let Some(id) = m.get("id").filter(|i| i.is_string()) {
        out.insert("id".into(), id.clone());
    }
    for k in keep {
        if let Some(val) = m.get(*k) {
            let val = match (*k, members_of) {
                ("members", Some(f)) => f(val),
                _ => val.clone(),
            };
            out.insert((*k).to_string(), val);
        }
    }
    if removed(m) {
        out.insert("exists".into(), Value::Bool(false));
    }
    out
}

/// The state (in the state-file shape) an IdP believes after a run.
pub fn believed(state: &ScenarioState) -> Value {
    let users = &state.users;
    let groups = &state.groups;
    // Members may be kept as directory keys or as server ids (or `{value: id}` objects); the
    // state file names them by key when the key is known.
    let members_of = |v: &Value| -> Value {
        let items = v.as_array().cloned().unwrap_or_default();
        Value::Array(
            items
                .iter()
                .filter_map(|m| {
                    let s = match m {
                        Value::String(s) => s.clone(),
                        Value::Object(o) => o.get("value")?.as_str()?.to_string(),
                        _ => return None,
                    };
                    if users.contains_key(&s) || groups.contains_key(&s) {
                        return Some(Value::String(s));
                    }
                    let by_id = users
                        .iter()
                        .chain(groups.iter())
                        .find(|(_, e)| e.get("id").and_then(Value::as_str) == Some(s.as_str()))
                        .map(|(k, _)| k.clone());
                    Some(Value::String(by_id.unwrap_or(s)))
                })
                .collect(),
        )
    };
    let mut out = Map::new();
    let u: Map<String, Value> = users
        .iter()
        .map(|(k, v)| {
            let mut e = entry(v, USER_ATTRIBUTES, None);
            entra_overlay(state, "users", k, &mut e);
            (k.clone(), Value::Object(e))
        })
        .collect();
    let g: Map<String, Value> = groups
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Value::Object(entry(v, GROUP_ATTRIBUTES, Some(&members_of))),
            )
        })
        .collect();
    if !u.is_empty() {
        out.insert("users".into(), Value::Object(u));
    }
    if !g.is_empty() {
        out.insert("groups".into(), Value::Object(g));
    }
    Value::Object(out)
}

/// What `run --write-state` writes for a scenario: the profiles' belief, and for a generic
/// scenario (a recording, raw requests) also what its raw writes created and changed
/// (`traffic`), which is the recorded client's belief.
pub fn for_state_file(scenario: &crate::scenario::Scenario, state: &ScenarioState) -> Value {
    let mut v = believed(state);
    if scenario.idp != crate::scenario::Idp::Generic {
        return v;
    }
    let (users, groups) = super::traffic::believed(state);
    if let Some(root) = v.as_object_mut() {
        for (kind, extra) in [("users", users), ("groups", groups)] {
            if extra.is_empty() {
                continue;
            }
            let t = root
                .entry(kind)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(t) = t.as_object_mut() {
                for (k, e) in extra {
                    let mut e = e;
                    if kind == "users" {
                        e = Value::Object(entry(&e, USER_ATTRIBUTES, None));
                    } else {
                        let members = e.get("members").cloned();
                        let mut g = entry(&e, GROUP_ATTRIBUTES, None);
                        if let Some(m) = members {
                            g.insert("members".into(), m);
                        }
                        e = Value::Object(g);
                    }
                    t.entry(k).or_insert(e);
                }
            }
        }
    }
    v
}

/// The Entra profile keeps its fuller bookkeeping in `state.entra` (sync.rs `Obj`): `last`
/// holds the values it last flowed (`active`). Deletes need no overlay: both profiles mark what
/// they DELETEd `exists: false` in `state.users/groups` themselves.
fn entra_overlay(state: &ScenarioState, kind: &str, key: &str, e: &mut Map<String, Value>) {
    if e.get("exists") == Some(&Value::Bool(false)) {
        return;
    }
    let table = match kind {
        "users" => &state.entra.users,
        _ => &state.entra.groups,
    };
    if let Some(active) = table.get(key).and_then(|obj| obj.last.get("active")) {
        e.entry("active").or_insert_with(|| active.clone());
    }
}

/// The expectation for the `audit` step: the profile's bookkeeping, entries without an id (never
/// linked) left to the IdP's own findings.
pub fn expected_from(state: &ScenarioState) -> Result<Expected, Vec<String>> {
    Expected::from_json(&believed(state), &|_, _| None).map(|mut e| {
        e.users
            .retain(|u: &ExpectedUser| u.id.is_some() || u.user_name.is_some());
        e.groups
            .retain(|g: &ExpectedGroup| g.id.is_some() || g.display_name.is_some());
        e
    })
}
