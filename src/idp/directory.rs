//! The source directory of a scenario: the users and groups as the IdP holds them, with the
//! IdP's own attribute names (Okta: login, firstName, …; Entra: mail, userPrincipalName,
//! IsSoftDeleted, …). Values are templates, rendered once per run so names are unique per run.
//!
//! ```yaml
//! directory:
//!   users:
//!     alice: { login: "alice-{{ run }}@example.com", firstName: Alice, lastName: Smith }
//!   groups:
//!     eng: { displayName: "Engineering {{ run }}", members: [alice] }
//! ```

use serde_json::{Map, Value};

use crate::idp::context::ScenarioState;
use crate::outcome::Finding;
use crate::scenario::yaml::NodeKind;
use crate::scenario::{template, Scenario};
use crate::support::diagnostic::Pos;

#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Users by scenario key (`alice`), in declaration order.
    pub users: Vec<(String, Map<String, Value>)>,
    pub groups: Vec<(String, Group)>,
}

#[derive(Clone, Debug, Default)]
pub struct Group {
    pub attributes: Map<String, Value>,
    /// Keys of member users (or nested groups) in the directory.
    pub members: Vec<String>,
}

impl Directory {
    pub fn user(&self, key: &str) -> Option<&Map<String, Value>> {
        self.users.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn user_mut(&mut self, key: &str) -> Option<&mut Map<String, Value>> {
        self.users
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
    pub fn group(&self, key: &str) -> Option<&Group> {
        self.groups.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn group_mut(&mut self, key: &str) -> Option<&mut Group> {
        self.groups
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Renders the scenario's `directory:` with the run's values.
    pub fn render(scenario: &Scenario, state: &ScenarioState) -> Result<Directory, Box<Finding>> {
        let mut dir = Directory::default();
        let Some(node) = &scenario.directory else {
            return Ok(dir);
        };
        let ctx = state.template_context();
        let render = |v: &crate::scenario::Node| {
            template::render_value(&v.to_json(), &ctx).map_err(|e| {
                Box::new(
                    Finding::judged("scenario.template", scenario.idp, format!("directory: {e}"))
                        .source(scenario.source_ref(v.pos)),
                )
            })
        };
        if let Some(users) = node.get("users").and_then(|u| u.as_map()) {
            for (k, v) in users {
                let attrs = match render(v)? {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                dir.users.push((k.name.clone(), attrs));
            }
        }
        if let Some(groups) = node.get("groups").and_then(|g| g.as_map()) {
            for (k, v) in groups {
                let mut attrs = match render(v)? {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                let members = match attrs.remove("members") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                dir.groups.push((
                    k.name.clone(),
                    Group {
                        attributes: attrs,
                        members,
                    },
                ));
            }
        }
        Ok(dir)
    }
}

/// Checks the shape of `directory:` and that group members name directory entries.
pub fn validate(scenario: &Scenario) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    let Some(node) = &scenario.directory else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        out.push((
            node.pos,
            "`directory` must be a mapping with `users` and/or `groups`".into(),
        ));
        return out;
    };
    for (k, v) in entries {
        if k.name != "users" && k.name != "groups" {
            out.push((
                k.pos,
                format!(
                    "unknown key `{}` in `directory` (expected users, groups)",
                    k.name
                ),
            ));
            continue;
        }
        let Some(items) = v.as_map() else {
            out.push((
                v.pos,
                format!(
                    "`directory.{}` must map keys (e.g. alice) to attributes",
                    k.name
                ),
            ));
            continue;
        };
        for (_, item) in items {
            if !matches!(item.kind, NodeKind::Map(_)) {
                out.push((
                    item.pos,
                    "a directory entry must be a mapping of attributes".into(),
                ));
            }
        }
    }
    let user_keys: Vec<&str> = node
        .get("users")
        .and_then(|u| u.as_map())
        .map(|m| m.iter().map(|(k, _)| k.name.as_str()).collect())
        .unwrap_or_default();
    let group_keys: Vec<&str> = node
        .get("groups")
        .and_then(|g| g.as_map())
        .map(|m| m.iter().map(|(k, _)| k.name.as_str()).collect())
        .unwrap_or_default();
    if let Some(groups) = node.get("groups").and_then(|g| g.as_map()) {
        for (_, g) in groups {
            if let Some(members) = g.get("members") {
                match &members.kind {
                    NodeKind::Seq(items) => {
                        for m in items {
                            match m.as_str() {
                                Some(name)
                                    if user_keys.contains(&name) || group_keys.contains(&name) => {}
                                Some(name) => out.push((
                                    m.pos,
                                    format!(
                                        "member `{name}` is not a user or group of the directory"
                                    ),
                                )),
                                None => out.push((
                                    m.pos,
                                    "a member is a directory key such as `alice`".into(),
                                )),
                            }
                        }
                    }
                    _ => out.push((
                        members.pos,
                        "`members` must be a list of directory keys".into(),
                    )),
                }
            }
        }
    }
    out
}

/// The member keys a directory group declares.
pub fn members(scenario: &Scenario, group: &str) -> Vec<String> {
    scenario
        .directory
        .as_ref()
        .and_then(|d| d.get("groups"))
        .and_then(|g| g.get(group))
        .and_then(|g| g.get("members"))
        .map(|m| match &m.kind {
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default()
}

/// A directory key as the dependency on its server id: a group when `directory.groups` has
/// it, else a user.
pub fn linked(scenario: &Scenario, key: &str) -> crate::scenario::Dep {
    if scenario.directory_keys("groups").iter().any(|k| k == key) {
        crate::scenario::Dep::group(key)
    } else {
        crate::scenario::Dep::user(key)
    }
}

/// Checks that an action argument names a directory user (or group).
pub fn check_key(scenario: &Scenario, kind: &str, key: &str, pos: Pos) -> Option<(Pos, String)> {
    let found = scenario
        .directory
        .as_ref()
        .and_then(|d| d.get(kind))
        .and_then(|m| m.as_map())
        .is_some_and(|m| m.iter().any(|(k, _)| k.name == key));
    (!found).then(|| (pos, format!("`{key}` is not in `directory.{kind}`")))
}
