//! What a client believes it wrote, read from raw `request:` steps — the belief of a recording.
//!
//! A recording replays as raw requests under `idp: generic`, so no IdP profile keeps
//! bookkeeping, and `run --write-state` used to write empty users and groups. This follows each
//! successful write of a raw step — `POST`, `PUT`, `PATCH` and `DELETE` on `/Users` and
//! `/Groups` — into `state.profile["traffic"]`, keyed by the server's id: the attributes the
//! server answered with (or, for a `204`, the PATCH operations applied the way RFC 7644 §3.5.2
//! defines them, with Entra's and Okta's forms: capitalised ops, string booleans, path-less value
//! maps, `members[value eq "…"]` removals), and `exists: false` after a DELETE. Reads are not
//! beliefs and are ignored. Only generic scenarios' write-state uses it: in an IdP scenario a raw
//! step is someone acting behind the IdP's back, not the IdP.

use serde_json::{Map, Value};

use crate::idp::context::ScenarioState;
use crate::transport::{OutgoingBody, OutgoingRequest, RawResponse};

const KEY: &str = "traffic";

fn collection(path: &str) -> Option<(&'static str, Option<String>)> {
    let p = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let mut parts = p.trim_start_matches('/').split('/');
    let kind = match parts.next()? {
        "Users" => "users",
        "Groups" => "groups",
        _ => return None,
    };
    let id = parts.next().map(|s| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    });
    if parts.next().is_some() {
        return None;
    }
    Some((kind, id))
}

fn table<'a>(state: &'a mut ScenarioState, kind: &str) -> &'a mut Map<String, Value> {
    let root = state
        .profile
        .entry(KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    if !root.is_object() {
        *root = Value::Object(Map::new());
    }
    let Some(root) = root.as_object_mut() else {
        unreachable!("made an object above")
    };
    let t = root
        .entry(kind.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !t.is_object() {
        *t = Value::Object(Map::new());
    }
    match t.as_object_mut() {
        Some(m) => m,
        None => unreachable!("made an object above"),
    }
}

/// The attributes of a resource worth believing (everything but server metadata).
fn attributes(v: &Value) -> Map<String, Value> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "meta" | "schemas" | "password"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Follows one raw exchange.
pub fn observe(state: &mut ScenarioState, req: &OutgoingRequest, resp: &RawResponse) {
    if !(200..300).contains(&resp.status) {
        return;
    }
    let Some((kind, id)) = collection(&req.path) else {
        return;
    };
    let method = req.method.to_ascii_uppercase();
    let body = match &req.body {
        Some(OutgoingBody::Json(v)) => Some(v),
        _ => None,
    };
    let answered = resp.body.as_ref().filter(|b| b.get("id").is_some());
    match (method.as_str(), id) {
        ("POST", None) => {
            let Some(source) = answered.or(body) else {
                return;
            };
            let Some(id) = answered.and_then(|a| a.get("id")).and_then(Value::as_str) else {
                return;
            };
            let mut e = attributes(source);
            e.insert("id".into(), Value::String(id.to_string()));
            table(state, kind).insert(id.to_string(), Value::Object(e));
        }
        ("PUT", Some(id)) => {
            let Some(source) = answered.or(body) else {
                return;
            };
            let mut e = attributes(source);
            e.insert("id".into(), Value::String(id.clone()));
            table(state, kind).insert(id, Value::Object(e));
        }
        ("PATCH", Some(id)) => {
            let t = table(state, kind);
            let entry = t
                .entry(id.clone())
                .or_insert_with(|| serde_json::json!({ "id": id }));
            match (answered, body) {
                // The server said what the resource is now.
                (Some(a), _) => {
                    let mut e = attributes(a);
                    e.insert("id".into(), Value::String(id));
                    *entry = Value::Object(e);
                }
                (None, Some(b)) => {
                    if let Some(m) = entry.as_object_mut() {
                        apply_patch(m, b);
                    }
                }
                (None, None) => {}
            }
        }
        ("DELETE", Some(id)) => {
            let t = table(state, kind);
            let entry = t
                .entry(id.clone())
                .or_insert_with(|| serde_json::json!({ "id": id }));
            if let Some(m) = entry.as_object_mut() {
                m.insert("exists".into(), Value::Bool(false));
            }
        }
        _ => {}
    }
}

fn boolish(v: &Value) -> Value {
    match v.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => v.clone(),
    }
}

fn member_ids(v: &Value) -> Vec<String> {
    let items = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    items
        .iter()
        .filter_map(|m| match m {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("value").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

fn set_members(e: &mut Map<String, Value>, ids: Vec<String>) {
    e.insert(
        "members".into(),
        Value::Array(
            ids.into_iter()
                .map(|id| serde_json::json!({ "value": id }))
                .collect(),
        ),
    );
}

/// The id in Okta's `members[value eq "<id>"]` remove path (read by hand: a regex compiled per
/// PATCH was a third of a megabyte of a suite run's peak heap).
fn filtered_member(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix("members[value eq \"")?
        .strip_suffix("\"]")?;
    (!id.is_empty() && !id.contains('"')).then_some(id)
}

/// Applies PATCH operations to a believed entry (RFC 7644 §3.5.2, with the IdPs' forms).
fn apply_patch(e: &mut Map<String, Value>, body: &Value) {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let path = op.get("path").and_then(Value::as_str).map(str::trim);
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        let current = e.get("members").map(member_ids).unwrap_or_default();
        match (kind.as_str(), path) {
            ("add" | "replace", None) => {
                if let Some(m) = value.as_object() {
                    for (k, v) in m {
                        if k == "members" {
                            let mut ids = if kind == "add" {
                                current.clone()
                            } else {
                                Vec::new()
                            };
                            for id in member_ids(v) {
                                if !ids.contains(&id) {
                                    ids.push(id);
                                }
                            }
                            set_members(e, ids);
                        } else if k != "id" {
                            e.insert(
                                k.clone(),
                                if k == "active" { boolish(v) } else { v.clone() },
                            );
                        }
                    }
                }
            }
            ("add", Some("members")) => {
                let mut ids = current;
                for id in member_ids(&value) {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                set_members(e, ids);
            }
            ("replace", Some("members")) => set_members(e, member_ids(&value)),
            ("remove", Some("members")) => {
                // With a value list, Entra's default mode removes those members; without one,
                // RFC 7644 removes them all.
                let gone = member_ids(&value);
                let ids = if value.is_null() {
                    Vec::new()
                } else {
                    current.into_iter().filter(|m| !gone.contains(m)).collect()
                };
                set_members(e, ids);
            }
            ("remove", Some(p)) => {
                if let Some(gone) = filtered_member(p) {
                    set_members(e, current.into_iter().filter(|m| m != gone).collect());
                } else if !p.contains('[') {
                    e.remove(p);
                }
            }
            ("add" | "replace", Some(p)) if !p.contains('[') => {
                let value = if p == "active" {
                    boolish(&value)
                } else {
                    value
                };
                match p.split_once('.') {
                    Some((head, tail)) if !head.starts_with("urn:") => {
                        let obj = e
                            .entry(head.to_string())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Some(o) = obj.as_object_mut() {
                            o.insert(tail.to_string(), value);
                        }
                    }
                    _ => {
                        e.insert(p.to_string(), value);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The followed objects as state-file entries, keyed by the capture that holds their id
/// (`user_1`, as the recorder names them) or by their order; ids the IdP bookkeeping already
/// knows are left out.
pub fn believed(state: &ScenarioState) -> (Map<String, Value>, Map<String, Value>) {
    let Some(root) = state.profile.get(KEY) else {
        return (Map::new(), Map::new());
    };
    let key_of = |kind: &str, id: &str, n: usize| -> String {
        state
            .values
            .iter()
            .find(|(_, v)| v.as_str() == Some(id))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| format!("{}_{n}", kind.trim_end_matches('s')))
    };
    let known = |id: &str| {
        state
            .users
            .values()
            .chain(state.groups.values())
            .any(|e| e.get("id").and_then(Value::as_str) == Some(id))
    };
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut out = [Map::new(), Map::new()];
    for (slot, kind) in ["users", "groups"].into_iter().enumerate() {
        let Some(t) = root.get(kind).and_then(Value::as_object) else {
            continue;
        };
        for (n, (id, e)) in t.iter().enumerate() {
            if known(id) {
                continue;
            }
            let key = key_of(kind, id, n + 1);
            keys.push((id.clone(), key.clone()));
            let mut entry = e.as_object().cloned().unwrap_or_default();
            if entry.get("exists") == Some(&Value::Bool(false)) {
                // What was deleted is believed absent: name it so the audit can look for it.
                entry.retain(|k, _| {
                    matches!(k.as_str(), "id" | "userName" | "displayName" | "exists")
                });
            }
            out[slot].insert(key, Value::Object(entry));
        }
    }
    // Members by key where the member is followed too.
    for g in out[1].values_mut() {
        if let Some(ms) = g.get_mut("members") {
            let ids = member_ids(ms);
            *ms = Value::Array(
                ids.iter()
                    .map(|id| {
                        Value::String(
                            keys.iter()
                                .find(|(i, _)| i == id)
                                .map(|(_, k)| k.clone())
                                .unwrap_or_else(|| id.clone()),
                        )
                    })
                    .collect(),
            );
        }
    }
    let [users, groups] = out;
    (users, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_filtered_member_paths_name_their_id() {
        assert_eq!(filtered_member(r#"members[value eq "u-1"]"#), Some("u-1"));
        for other in [
            r#"members[value eq ""]"#,
            r#"members[value eq "a"b"]"#,
            r#"members[value eq "u-1"].display"#,
            r#"emails[value eq "u-1"]"#,
            "members",
        ] {
            assert_eq!(filtered_member(other), None, "{other}");
        }
    }

    #[test]
    fn patches_follow_both_idps_forms() {
        let mut e = Map::new();
        set_members(&mut e, vec!["a".into(), "b".into(), "c".into()]);
        apply_patch(
            &mut e,
            &serde_json::json!({"Operations": [
                {"op": "Remove", "path": "members", "value": [{"value": "a"}]},
                {"op": "remove", "path": "members[value eq \"b\"]"},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "replace", "value": {"displayName": "X", "id": "ignored"}},
                {"op": "add", "path": "name.givenName", "value": "Ann"}
            ]}),
        );
        assert_eq!(member_ids(&e["members"]), vec!["c".to_string()]);
        assert_eq!(e["active"], Value::Bool(false));
        assert_eq!(e["displayName"], "X");
        assert_eq!(e["name"]["givenName"], "Ann");
        assert!(e.get("id").is_none());
    }
}
