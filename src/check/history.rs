//! What a scenario's earlier exchanges did to each resource, so a later answer can be judged by
//! its cause: a 404 for a user the run deactivated (and never deleted) is the deactivation
//! having deleted it, not a new fault; a server state that differs from what the IdP wrote is a
//! write the server acknowledged and did not apply.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::rules::Intent;

#[derive(Clone, Debug, Default)]
pub struct History {
    /// Resources (`/Users/{id}`) a write set to `active: false`, acknowledged, not deleted since.
    deactivated: HashSet<String>,
    /// Resources the run deleted (acknowledged, or already gone).
    deleted: HashSet<String>,
    /// Resources the run wrote to and the server acknowledged: the method of the last write.
    acknowledged: HashMap<String, String>,
    /// Groups whose last acknowledged PATCH carried a path-less `replace` without `members`
    /// (Okta's rename, Entra's flag-mode update).
    pathless_replace: HashSet<String>,
    /// Groups whose last acknowledged PATCH was Entra's default-mode member removal: `Remove`,
    /// path `members`, a `value` array of the members to remove.
    remove_with_value: HashSet<String>,
    /// The members each group was last seen to hold (a read of `/Groups/{id}`).
    seen_members: HashMap<String, Vec<String>>,
    /// Resources whose last PATCH or PUT failed, with the rule that reported it: what a later
    /// check finds wrong with them is that failure again, not a fault of its own.
    failed: HashMap<String, &'static str>,
    /// Resources (`/Users/{id}`) this run's creates made (acknowledged with the new id), with
    /// the top-level attribute names the create sent (lower-cased).
    created: HashMap<String, Vec<String>>,
}

/// `/Users/{id}` for a request addressed to one resource.
pub fn resource_key(intent: &Intent) -> Option<String> {
    match intent {
        Intent::Read { resource, id }
        | Intent::Replace { resource, id }
        | Intent::Patch { resource, id }
        | Intent::Delete { resource, id } => Some(format!("/{resource}/{id}")),
        _ => None,
    }
}

impl History {
    /// Records one exchange: `body` is the request body, `status` and `answer` the response's
    /// (status 0: none).
    pub fn observe(
        &mut self,
        method: &str,
        rel_path: &str,
        body: Option<&Value>,
        status: u16,
        answer: Option<&Value>,
    ) {
        let intent = Intent::infer(method, rel_path);
        if let Intent::Create { resource } = &intent {
            let id = answer.and_then(|a| a.get("id")).and_then(Value::as_str);
            if let (true, Some(id)) = ((200..300).contains(&status), id) {
                let sent = body
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
                    .unwrap_or_default();
                self.created.insert(format!("/{resource}/{id}"), sent);
            }
            return;
        }
        let Some(key) = resource_key(&intent) else {
            return;
        };
        let ok = (200..300).contains(&status);
        match intent {
            Intent::Read { ref resource, .. } if ok && resource == "Groups" => {
                if let Some(a) = answer.filter(|a| a.get("members").is_some()) {
                    self.seen_members
                        .insert(key, crate::scim::member_values(a.get("members")));
                }
            }
            Intent::Delete { .. } if ok || status == 404 => {
                self.deleted.insert(key.clone());
                self.deactivated.remove(&key);
                self.acknowledged.remove(&key);
            }
            Intent::Patch { .. } | Intent::Replace { .. } if ok => {
                // A write that succeeded supersedes an earlier failure.
                self.failed.remove(&key);
                match body.and_then(|b| sets_active(method, b)) {
                    Some(false) => {
                        self.deactivated.insert(key.clone());
                    }
                    Some(true) => {
                        self.deactivated.remove(&key);
                    }
                    None => {}
                }
                let pathless = method.eq_ignore_ascii_case("PATCH")
                    && body.is_some_and(replaces_without_members);
                if pathless {
                    self.pathless_replace.insert(key.clone());
                } else {
                    self.pathless_replace.remove(&key);
                }
                let remove = method.eq_ignore_ascii_case("PATCH")
                    && body.is_some_and(removes_listed_members);
                if remove {
                    self.remove_with_value.insert(key.clone());
                } else {
                    self.remove_with_value.remove(&key);
                }
                self.acknowledged.insert(key, method.to_string());
            }
            _ => {}
        }
    }

    /// Notes that a write to resource `key` failed, reported under `rule` (a catalogued id).
    pub fn note_failure(&mut self, key: String, rule: &str) {
        if let Some(r) = super::catalogue::rule(rule) {
            self.failed.insert(key, r.id);
        }
    }

    /// The rule that reported the failure of the last write to this resource, if it failed and
    /// no write has succeeded since.
    pub fn failure(&self, key: &str) -> Option<&'static str> {
        self.failed.get(key).copied()
    }

    /// The members this group was last seen to hold, if a read showed them.
    pub fn seen_members(&self, key: &str) -> Option<&[String]> {
        self.seen_members.get(key).map(Vec::as_slice)
    }

    /// The run set this resource inactive (acknowledged) and did not delete it.
    pub fn was_deactivated(&self, key: &str) -> bool {
        self.deactivated.contains(key) && !self.deleted.contains(key)
    }

    /// This run's own create made this resource (`/Users/{id}`).
    pub fn created(&self, key: &str) -> bool {
        self.created.contains_key(key)
    }

    /// This run's create of this resource sent the top-level attribute `name` (any case).
    pub fn create_sent(&self, key: &str, name: &str) -> bool {
        self.created
            .get(key)
            .is_some_and(|sent| sent.iter().any(|k| k.eq_ignore_ascii_case(name)))
    }

    pub fn was_deleted(&self, key: &str) -> bool {
        self.deleted.contains(key)
    }

    /// The method (`PATCH`, `PUT`) of the last write to this resource the server acknowledged.
    pub fn last_write(&self, key: &str) -> Option<&str> {
        self.acknowledged.get(key).map(String::as_str)
    }
}

/// How a group's members differ from what the IdP wrote, for `drift_rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    /// Not about members, or none are missing.
    Kept,
    /// Some members the IdP wrote are missing.
    Missing,
    /// Every member the IdP wrote is missing.
    Emptied,
}

/// The rule for a difference between what the IdP wrote and what the server holds on resource
/// `key`: a write the server acknowledged and did not apply, when the run made one (the cause);
/// members gone after a PATCH that did not ask for it — a path-less replace that did not name
/// them, or a `Remove` of listed members — that PATCH misread; else `drift` (someone changed the
/// app, or the IdP never wrote it).
pub fn drift_rule(
    history: &History,
    key: &str,
    drift: &'static str,
    members: Members,
) -> &'static str {
    if let Some(rule) = history.failure(key) {
        // The last write failed: the state it would have made is missing because of that.
        return rule;
    }
    match history.last_write(key) {
        Some("PATCH") if members == Members::Emptied && history.pathless_replace.contains(key) => {
            "rfc7644.patch.replace-empties-members"
        }
        Some("PATCH")
            if members != Members::Kept
                && history.remove_with_value.contains(key)
                && history.seen_members.get(key).is_some_and(|m| m.len() > 1) =>
        {
            // Seen with several members before the removal of some: the remove took the rest.
            "entra.patch.remove-member-emptied-group"
        }
        Some("PATCH") => "rfc7644.patch.not-applied",
        Some("PUT") => "rfc7644.replace.not-applied",
        _ => drift,
    }
}

/// Entra's default-mode member removal: `Remove` with path `members` and a `value` array.
fn removes_listed_members(body: &Value) -> bool {
    patch_ops(body).iter().any(|op| {
        op_is(op, "remove")
            && op
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case("members"))
            && op.get("value").is_some_and(Value::is_array)
    })
}

/// A PATCH body's operations (`Operations`, or Entra's lower-case spelling); none otherwise.
fn patch_ops(body: &Value) -> &[Value] {
    body.get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whether a PATCH operation's `op` is `name`, in any case (Entra capitalises it).
fn op_is(op: &Value, name: &str) -> bool {
    op.get("op")
        .and_then(Value::as_str)
        .is_some_and(|o| o.eq_ignore_ascii_case(name))
}

/// A PATCH with a path-less `replace` whose value does not name `members`.
fn replaces_without_members(body: &Value) -> bool {
    patch_ops(body).iter().any(|op| {
        op_is(op, "replace")
            && op.get("path").is_none()
            && op
                .get("value")
                .and_then(Value::as_object)
                .is_some_and(|v| crate::scim::filter::get_ci(v, "members").is_none())
    })
}

/// What a PATCH or PUT body does to `active`: `Some(false)` when it deactivates. PATCH reads
/// every form IdPs send — `path: active` (Entra, with `"False"` strings in default mode) and the
/// path-less `{"value": {"active": false}}` (Okta).
pub fn sets_active(method: &str, body: &Value) -> Option<bool> {
    let flag = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => crate::support::text::parse_bool(s),
        _ => None,
    };
    if method.eq_ignore_ascii_case("PUT") {
        return crate::scim::filter::get_ci(body.as_object()?, "active").and_then(flag);
    }
    let mut out = None;
    for op in patch_ops(body) {
        if op_is(op, "remove") {
            continue;
        }
        match op.get("path").and_then(Value::as_str) {
            Some(p) if p.eq_ignore_ascii_case("active") => {
                if let Some(v) = op.get("value").and_then(flag) {
                    out = Some(v);
                }
            }
            Some(_) => {}
            None => {
                if let Some(v) = op
                    .get("value")
                    .and_then(Value::as_object)
                    .and_then(|m| crate::scim::filter::get_ci(m, "active"))
                    .and_then(flag)
                {
                    out = Some(v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_deactivation_form() {
        let okta = json!({"Operations":[{"op":"replace","value":{"active":false}}]});
        let entra = json!({"Operations":[{"op":"Replace","path":"active","value":"False"}]});
        let flag = json!({"Operations":[{"op":"replace","path":"active","value":false}]});
        let rename = json!({"Operations":[{"op":"replace","path":"displayName","value":"x"}]});
        assert_eq!(sets_active("PATCH", &okta), Some(false));
        assert_eq!(sets_active("PATCH", &entra), Some(false));
        assert_eq!(sets_active("PATCH", &flag), Some(false));
        assert_eq!(sets_active("PATCH", &rename), None);
        assert_eq!(
            sets_active("PUT", &json!({"userName":"a","active":true})),
            Some(true)
        );
    }

    #[test]
    fn remembers_a_deactivation_until_a_delete() {
        let mut h = History::default();
        let off = json!({"Operations":[{"op":"replace","value":{"active":false}}]});
        h.observe("PATCH", "/Users/u1", Some(&off), 400, None);
        assert!(
            !h.was_deactivated("/Users/u1"),
            "a rejected PATCH deactivates nothing"
        );
        h.observe("PATCH", "/Users/u1", Some(&off), 204, None);
        assert!(h.was_deactivated("/Users/u1"));
        assert_eq!(h.last_write("/Users/u1"), Some("PATCH"));
        h.observe("DELETE", "/Users/u1", None, 204, None);
        assert!(!h.was_deactivated("/Users/u1"));
        assert!(h.was_deleted("/Users/u1"));
    }
}
