//! The in-memory store: Users and Groups in creation order behind one async mutex.
//!
//! One lock makes "check uniqueness, then insert" and "modify, then persist" atomic, which is
//! what issue 3 §4 demands (N parallel creates of one userName → exactly one 201). The
//! `lose-concurrent-writes` and `duplicate-on-race` quirks deliberately step outside it.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, MutexGuard};

use super::persist;
use super::response::ScimError;
use crate::scim::filter::get_ci;
use crate::scim::schema::ResourceKind;

/// One stored resource. `attrs` holds everything the client may write (core attributes under
/// their canonical names, extensions as objects keyed by URN, the write-only password);
/// `id`, `meta` and the computed `groups` are kept apart or derived at render time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Resource {
    pub id: String,
    pub kind: ResourceKind,
    pub attrs: Map<String, Value>,
    pub created: String,
    pub last_modified: String,
    pub version: u64,
}

impl Resource {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
    pub fn str_attr(&self, name: &str) -> Option<&str> {
        get_ci(&self.attrs, name).and_then(Value::as_str)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Data {
    pub users: Vec<Resource>,
    pub groups: Vec<Resource>,
}

impl Data {
    pub fn table(&self, kind: ResourceKind) -> &Vec<Resource> {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }
    pub fn table_mut(&mut self, kind: ResourceKind) -> &mut Vec<Resource> {
        match kind {
            ResourceKind::User => &mut self.users,
            ResourceKind::Group => &mut self.groups,
        }
    }
    pub fn get(&self, kind: ResourceKind, id: &str) -> Option<&Resource> {
        self.table(kind).iter().find(|r| r.id == id)
    }
    pub fn get_mut(&mut self, kind: ResourceKind, id: &str) -> Option<&mut Resource> {
        self.table_mut(kind).iter_mut().find(|r| r.id == id)
    }

    /// The attribute whose value must be unique per resource type, compared
    /// case-insensitively: userName (RFC 7643 §4.1.1 caseExact=false, uniqueness=server) and,
    /// by Entra's requirement (entra.md §1.5), Group displayName.
    pub fn unique_attr(kind: ResourceKind) -> &'static str {
        match kind {
            ResourceKind::User => "userName",
            ResourceKind::Group => "displayName",
        }
    }

    /// Is `value` already used by a resource other than `except_id`?
    pub fn is_taken(&self, kind: ResourceKind, value: &str, except_id: Option<&str>) -> bool {
        let attr = Self::unique_attr(kind);
        self.table(kind).iter().any(|r| {
            Some(r.id.as_str()) != except_id
                && r.str_attr(attr).is_some_and(|v| eq_folded(v, value))
        })
    }

    /// Removes a resource; deleting a user or group also drops it from every group's members.
    pub fn remove(&mut self, kind: ResourceKind, id: &str) -> bool {
        let table = self.table_mut(kind);
        let before = table.len();
        table.retain(|r| r.id != id);
        let removed = table.len() != before;
        if removed {
            let now = now();
            for g in &mut self.groups {
                if let Some(Value::Array(members)) = g.attrs.get_mut("members") {
                    let n = members.len();
                    members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                    if members.len() != n {
                        g.version += 1;
                        g.last_modified = now.clone();
                    }
                }
            }
        }
        removed
    }

    /// Lookup tables for rendering every resource (a full listing).
    pub fn index(&self) -> Index {
        let all: Vec<&Resource> = self.users.iter().chain(&self.groups).collect();
        self.index_for(&all)
    }

    /// Lookup tables for rendering just these resources: the groups of these users, and the
    /// names of these groups' members. Building it for one resource costs a scan of the groups
    /// and of the member ids, not a copy of every user — the IdPs' one-by-one lookups and
    /// creates would otherwise make an initial cycle quadratic in the number of users.
    pub fn index_for(&self, resources: &[&Resource]) -> Index {
        use std::collections::HashSet;
        let users: HashSet<&str> = resources
            .iter()
            .filter(|r| r.kind == ResourceKind::User)
            .map(|r| r.id.as_str())
            .collect();
        let mut members_wanted: HashSet<&str> = HashSet::new();
        for r in resources.iter().filter(|r| r.kind == ResourceKind::Group) {
            if let Some(Value::Array(members)) = r.attrs.get("members") {
                members_wanted.extend(
                    members
                        .iter()
                        .filter_map(|m| m.get("value").and_then(Value::as_str)),
                );
            }
        }
        let mut memberships: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut group_names = HashMap::new();
        for g in &self.groups {
            let wanted_name = members_wanted.contains(g.id.as_str());
            let name = g.str_attr("displayName").unwrap_or("");
            if wanted_name {
                group_names.insert(g.id.clone(), name.to_string());
            }
            if users.is_empty() {
                continue;
            }
            if let Some(Value::Array(members)) = g.attrs.get("members") {
                for m in members {
                    if let Some(v) = m
                        .get("value")
                        .and_then(Value::as_str)
                        .filter(|v| users.contains(v))
                    {
                        memberships
                            .entry(v.to_string())
                            .or_default()
                            .push((g.id.clone(), name.to_string()));
                    }
                }
            }
        }
        let mut user_names = HashMap::new();
        if !members_wanted.is_empty() {
            for u in &self.users {
                if members_wanted.contains(u.id.as_str()) {
                    user_names.insert(
                        u.id.clone(),
                        u.str_attr("userName").unwrap_or("").to_string(),
                    );
                }
            }
        }
        Index {
            user_names,
            group_names,
            memberships,
        }
    }
}

/// Case-insensitive equality without allocating (the uniqueness check runs on every create).
pub(crate) fn eq_folded(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // The common case, and the length check inside rejects most candidates at once.
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// id → userName / displayName, and member id → groups containing it.
pub(crate) struct Index {
    pub user_names: HashMap<String, String>,
    pub group_names: HashMap<String, String>,
    pub memberships: HashMap<String, Vec<(String, String)>>,
}

/// Current time as RFC 3339 with millisecond precision, the form SCIM examples use.
pub(crate) fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub(crate) struct Store {
    data: Mutex<Data>,
    file: Option<PathBuf>,
}

impl Store {
    pub fn new(data: Data, file: Option<PathBuf>) -> Store {
        Store {
            data: Mutex::new(data),
            file,
        }
    }

    pub async fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().await
    }

    /// Persists the locked state before the write is acknowledged. Called with the guard
    /// held, so files are written in the same order as the changes they record.
    pub async fn persist(&self, data: &Data) -> Result<(), ScimError> {
        let Some(path) = self.file.clone() else {
            return Ok(());
        };
        let bytes = persist::serialize(data)
            .map_err(|e| ScimError::internal(format!("cannot serialise store: {e}")))?;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || persist::write_atomic(&path, &bytes))
            .await
            .map_err(|e| ScimError::internal(format!("persistence task failed: {e}")))?
            .map_err(|e| ScimError::internal(format!("cannot write data file {shown}: {e}")))
    }
}
