//! The in-memory store: Users and Groups in creation order behind one async mutex.
//!
//! One lock makes "check uniqueness, then insert" and "modify, then persist" atomic, which is
//! what issue 3 §4 demands (N parallel creates of one userName → exactly one 201). The
//! `lose-concurrent-writes` and `duplicate-on-race` quirks deliberately step outside it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, MutexGuard};

use super::member::{self, Member};
use super::persist;
use super::response::ScimError;
use crate::scim::filter::get_ci;
use crate::scim::schema::ResourceKind;

/// One stored resource. `attrs` holds everything the client may write (core attributes under
/// their canonical names, extensions as objects keyed by URN, the write-only password) except
/// a group's member list, which is `members`, compact (see `member`); `id`, `meta` and the
/// computed `groups` are kept apart or derived at render time. The data file has the members
/// inside `attrs`, as it always had.
#[derive(Clone, Debug, Deserialize)]
#[serde(from = "Stored")]
pub(crate) struct Resource {
    pub id: String,
    pub kind: ResourceKind,
    pub attrs: Map<String, Value>,
    /// A group's members (empty for a user, and for a group without any).
    pub members: Vec<Member>,
    pub created: String,
    pub last_modified: String,
    pub version: u64,
}

/// A resource as the data file holds it: the members inside `attrs`.
#[derive(Deserialize)]
struct Stored {
    id: String,
    kind: ResourceKind,
    attrs: Map<String, Value>,
    created: String,
    last_modified: String,
    version: u64,
}

impl From<Stored> for Resource {
    fn from(s: Stored) -> Resource {
        Resource::new(s.id, s.kind, s.attrs, s.created, s.last_modified, s.version)
    }
}

#[derive(Serialize)]
struct StoredRef<'a> {
    id: &'a str,
    kind: ResourceKind,
    attrs: AttrsWithMembers<'a>,
    created: &'a str,
    last_modified: &'a str,
    version: u64,
}

struct AttrsWithMembers<'a>(&'a Map<String, Value>, &'a [Member]);

impl Serialize for AttrsWithMembers<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (attrs, members) = (self.0, self.1);
        let mut map = s.serialize_map(None)?;
        for (k, v) in attrs {
            if k != "members" || members.is_empty() {
                map.serialize_entry(k, v)?;
            }
        }
        if let Some(list) = member::join(members) {
            map.serialize_entry("members", &list)?;
        }
        map.end()
    }
}

impl Serialize for Resource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredRef {
            id: &self.id,
            kind: self.kind,
            attrs: AttrsWithMembers(&self.attrs, &self.members),
            created: &self.created,
            last_modified: &self.last_modified,
            version: self.version,
        }
        .serialize(s)
    }
}

impl Resource {
    /// A resource from its attributes as written (a group's `members` among them).
    pub fn new(
        id: String,
        kind: ResourceKind,
        mut attrs: Map<String, Value>,
        created: String,
        last_modified: String,
        version: u64,
    ) -> Resource {
        let members = match kind {
            ResourceKind::Group => member::split(&mut attrs),
            ResourceKind::User => Vec::new(),
        };
        Resource {
            id,
            kind,
            attrs,
            members,
            created,
            last_modified,
            version,
        }
    }

    /// A resource created now, at its first version.
    pub fn created_now(id: String, kind: ResourceKind, attrs: Map<String, Value>) -> Resource {
        let t = now();
        Resource::new(id, kind, attrs, t.clone(), t, 1)
    }

    /// The attributes with a group's members among them, as a PATCH or a check reads them.
    pub fn attrs_with_members(&self) -> Map<String, Value> {
        let mut attrs = self.attrs.clone();
        if let Some(list) = member::join(&self.members) {
            attrs.insert("members".into(), list);
        }
        attrs
    }

    /// Replaces the attributes with these, a group's `members` among them.
    pub fn set_attrs(&mut self, mut attrs: Map<String, Value>) {
        if self.kind == ResourceKind::Group {
            self.members = member::split(&mut attrs);
        }
        self.attrs = attrs;
    }

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
    /// Derived lookup tables; rebuilt on load, kept up to date by `insert`, `rekey`, `remove`.
    #[serde(skip)]
    keys: Keys,
}

/// What makes the IdPs' one-by-one traffic O(1) per request instead of a scan of every user:
/// an IdP cycle is a lookup and a create per user, so scans made it quadratic.
/// The lookup tables' maps: foldhash, randomly seeded per process, hashes an id in a fraction of
/// SipHash's time (a membership PATCH hashes each member id five or six times) while a client
/// still cannot predict collisions.
type FastMap<K, V> = foldhash::HashMap<K, V>;
type FastSet<T> = foldhash::HashSet<T>;

#[derive(Clone, Debug, Default)]
struct Keys {
    /// Folded unique value (userName, group displayName) → ids (several under the
    /// `no-duplicate-check` quirk), per resource kind.
    unique: [FastMap<String, Vec<String>>; 2],
    /// id → the folded unique value it is filed under.
    key_of: [FastMap<String, String>; 2],
    /// id → position in the table.
    pos: [FastMap<String, usize>; 2],
    /// member id → ids of the groups listing it, and group id → its member ids (to unfile,
    /// and to tell in O(1) whether a group lists an id, so a membership PATCH costs by the
    /// change rather than by the group's size).
    /// A group's id is one shared `Arc<str>` in both, and a member's id is the one its
    /// `Member` holds (a membership would otherwise hold copies of both).
    member_of: FastMap<Arc<str>, Vec<Arc<str>>>,
    members_in: FastMap<Arc<str>, FastSet<Arc<str>>>,
}

/// One step of a membership PATCH applied in place by `Data::edit_members`, with the semantics
/// `patch::apply` gives the same operation (the handler only builds these when it does).
#[derive(Debug, PartialEq)]
pub(crate) enum MemberEdit {
    /// `add` on `members`: normalised elements, each with a string `value`.
    Add(Vec<Member>),
    /// `remove` of the members with these ids (`members[value eq "…"]`, or Entra's `remove`
    /// with a `value` list).
    Remove(HashSet<String>),
}

fn member_ids(r: &Resource) -> Vec<Arc<str>> {
    r.members
        .iter()
        .filter_map(|m| m.shared_id().cloned())
        .collect()
}

fn slot(kind: ResourceKind) -> usize {
    match kind {
        ResourceKind::User => 0,
        ResourceKind::Group => 1,
    }
}

fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

impl Data {
    pub fn table(&self, kind: ResourceKind) -> &Vec<Resource> {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }
    /// The whole table, for bulk changes; callers must `reindex` afterwards.
    pub fn table_mut(&mut self, kind: ResourceKind) -> &mut Vec<Resource> {
        match kind {
            ResourceKind::User => &mut self.users,
            ResourceKind::Group => &mut self.groups,
        }
    }
    pub fn get(&self, kind: ResourceKind, id: &str) -> Option<&Resource> {
        let at = *self.keys.pos[slot(kind)].get(id)?;
        self.table(kind).get(at).filter(|r| r.id == id)
    }
    /// Mutable access to one resource; callers that may change its unique attribute must
    /// `rekey` it afterwards.
    pub fn get_mut(&mut self, kind: ResourceKind, id: &str) -> Option<&mut Resource> {
        let at = *self.keys.pos[slot(kind)].get(id)?;
        self.table_mut(kind).get_mut(at).filter(|r| r.id == id)
    }

    /// Appends a resource and files it in the lookup tables.
    pub fn insert(&mut self, res: Resource) {
        let k = slot(res.kind);
        self.keys.pos[k].insert(res.id.clone(), self.table(res.kind).len());
        self.file_key(
            res.kind,
            &res.id,
            res.str_attr(Self::unique_attr(res.kind)).map(fold),
        );
        if res.kind == ResourceKind::Group {
            self.file_members(&res.id, member_ids(&res));
        }
        self.table_mut(res.kind).push(res);
    }

    fn file_members(&mut self, group: &str, members: Vec<Arc<str>>) {
        let members: FastSet<Arc<str>> = members.into_iter().collect();
        let gid: Arc<str> = group.into();
        for m in &members {
            self.keys
                .member_of
                .entry(m.clone())
                .or_default()
                .push(gid.clone());
        }
        self.keys.members_in.insert(gid, members);
    }

    /// Applies membership edits to a group in place, updating the member index by the ids that
    /// changed: no copy of the group, no scan of its members for an add (a remove is one pass
    /// over them). Returns false, changing nothing, when there is no such group. The caller
    /// bumps the version.
    pub fn edit_members(&mut self, group: &str, edits: Vec<MemberEdit>) -> bool {
        let Some(at) = self.keys.pos[slot(ResourceKind::Group)].get(group).copied() else {
            return false;
        };
        let Some(g) = self.groups.get_mut(at).filter(|g| g.id == group) else {
            return false;
        };
        // A `members` that is not a list stays in the attributes: the general path's.
        if g.attrs.contains_key("members") {
            return false;
        }
        let gid: Arc<str> = match self.keys.members_in.get_key_value(group) {
            Some((gid, _)) => gid.clone(),
            None => {
                let gid: Arc<str> = group.into();
                self.keys.members_in.insert(gid.clone(), FastSet::default());
                gid
            }
        };
        let Some(listed) = self.keys.members_in.get_mut(group) else {
            return false;
        };
        let items = &mut g.members;
        // Ids whose membership changed, filed in `member_of` below. Adds are the members just
        // pushed, read back from `items` by position; a remove's ids are the index's.
        let mut added: Vec<usize> = Vec::new();
        let mut removed: Vec<Arc<str>> = Vec::new();
        for edit in edits {
            match edit {
                // As `patch::apply`: a member already listed, or sent twice, is added once.
                MemberEdit::Add(new) => {
                    for n in new {
                        let Some(v) = n.shared_id() else { continue };
                        if listed.contains(&**v) {
                            continue;
                        }
                        listed.insert(v.clone());
                        added.push(items.len());
                        items.push(n);
                    }
                }
                MemberEdit::Remove(ids) => {
                    if ids.iter().any(|id| listed.contains(id.as_str())) {
                        // A remove shifts positions: the adds before it are filed now.
                        file_added(&mut self.keys.member_of, &gid, items, &mut added);
                        items.retain(|m| !m.id().is_some_and(|v| ids.contains(v)));
                        for id in ids {
                            if let Some(shared) = listed.take(id.as_str()) {
                                removed.push(shared);
                            }
                        }
                    }
                }
            }
        }
        file_added(&mut self.keys.member_of, &gid, items, &mut added);
        for id in removed {
            // Re-added after its removal in the same PATCH: still a member, still filed.
            if listed.contains(&*id) {
                continue;
            }
            if let Some(groups) = self.keys.member_of.get_mut(&*id) {
                groups.retain(|x| &**x != group);
                if groups.is_empty() {
                    self.keys.member_of.remove(&*id);
                }
            }
        }
        true
    }

    /// Re-files a resource whose unique attribute may have changed but whose members did not.
    pub fn rekey_unique(&mut self, kind: ResourceKind, id: &str) {
        let key = self
            .get(kind, id)
            .and_then(|r| r.str_attr(Self::unique_attr(kind)))
            .map(fold);
        self.unfile_key(kind, id);
        self.file_key(kind, id, key);
    }

    fn unfile_members(&mut self, group: &str) {
        for m in self.keys.members_in.remove(group).unwrap_or_default() {
            if let Some(gs) = self.keys.member_of.get_mut(&*m) {
                gs.retain(|g| &**g != group);
                if gs.is_empty() {
                    self.keys.member_of.remove(&*m);
                }
            }
        }
    }

    /// Re-files a resource whose unique attribute may have changed (PUT, PATCH).
    pub fn rekey(&mut self, kind: ResourceKind, id: &str) {
        let key = self
            .get(kind, id)
            .and_then(|r| r.str_attr(Self::unique_attr(kind)))
            .map(fold);
        self.unfile_key(kind, id);
        self.file_key(kind, id, key);
        if kind == ResourceKind::Group {
            let members = self.get(kind, id).map(member_ids).unwrap_or_default();
            self.unfile_members(id);
            self.file_members(id, members);
        }
    }

    fn file_key(&mut self, kind: ResourceKind, id: &str, key: Option<String>) {
        if let Some(key) = key {
            let k = slot(kind);
            self.keys.unique[k]
                .entry(key.clone())
                .or_default()
                .push(id.to_string());
            self.keys.key_of[k].insert(id.to_string(), key);
        }
    }

    fn unfile_key(&mut self, kind: ResourceKind, id: &str) {
        let k = slot(kind);
        if let Some(old) = self.keys.key_of[k].remove(id) {
            if let Some(ids) = self.keys.unique[k].get_mut(&old) {
                ids.retain(|x| x != id);
                if ids.is_empty() {
                    self.keys.unique[k].remove(&old);
                }
            }
        }
    }

    /// Rebuilds the lookup tables from the tables (after a load or a bulk change).
    pub fn reindex(&mut self) {
        self.keys = Keys::default();
        for kind in [ResourceKind::User, ResourceKind::Group] {
            let entries: Vec<(usize, String, Option<String>)> = self
                .table(kind)
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        i,
                        r.id.clone(),
                        r.str_attr(Self::unique_attr(kind)).map(fold),
                    )
                })
                .collect();
            for (i, id, key) in entries {
                self.keys.pos[slot(kind)].insert(id.clone(), i);
                self.file_key(kind, &id, key);
            }
        }
        let groups: Vec<(String, Vec<Arc<str>>)> = self
            .groups
            .iter()
            .map(|g| (g.id.clone(), member_ids(g)))
            .collect();
        for (gid, members) in groups {
            self.file_members(&gid, members);
        }
    }

    /// Resources whose unique attribute equals `value` ignoring case (userName for Users,
    /// displayName for Groups).
    pub fn by_unique(&self, kind: ResourceKind, value: &str) -> Vec<&Resource> {
        self.keys.unique[slot(kind)]
            .get(&fold(value))
            .map(|ids| ids.iter().filter_map(|id| self.get(kind, id)).collect())
            .unwrap_or_default()
    }

    /// The attribute whose value must be unique per resource type, compared
    /// case-insensitively: userName (RFC 7643 §4.1.1 caseExact=false, uniqueness=server) and,
    /// by Entra's requirement (Entra's SCIM tutorial, what Entra requires of responses), Group displayName.
    pub fn unique_attr(kind: ResourceKind) -> &'static str {
        match kind {
            ResourceKind::User => "userName",
            ResourceKind::Group => "displayName",
        }
    }

    /// Is `value` already used by a resource other than `except_id`? `Compare::IgnoringCase`
    /// is the correct reading; `Compare::Exactly` is the `case-sensitive-username-uniqueness`
    /// quirk's, under which a value that differs only in case is free.
    pub fn is_taken(
        &self,
        kind: ResourceKind,
        value: &str,
        except_id: Option<&str>,
        compare: Compare,
    ) -> bool {
        let attr = Self::unique_attr(kind);
        self.by_unique(kind, value).into_iter().any(|r| {
            Some(r.id.as_str()) != except_id
                && r.str_attr(attr).is_some_and(|v| match compare {
                    Compare::IgnoringCase => eq_folded(v, value),
                    Compare::Exactly => v == value,
                })
        })
    }

    /// Removes a resource; deleting a user or group also drops it from every group's members.
    pub fn remove(&mut self, kind: ResourceKind, id: &str) -> bool {
        let table = self.table_mut(kind);
        let before = table.len();
        table.retain(|r| r.id != id);
        let removed = table.len() != before;
        if removed {
            // Positions after the removed one shift; deletes are rare next to lookups.
            self.unfile_key(kind, id);
            if kind == ResourceKind::Group {
                self.unfile_members(id);
            }
            // The removed resource leaves every group that listed it (done below on the data).
            for g in self.keys.member_of.remove(id).unwrap_or_default() {
                if let Some(ms) = self.keys.members_in.get_mut(&*g) {
                    ms.remove(id);
                }
            }
            let k = slot(kind);
            self.keys.pos[k] = self
                .table(kind)
                .iter()
                .enumerate()
                .map(|(i, r)| (r.id.clone(), i))
                .collect();
            let now = now();
            for g in &mut self.groups {
                let n = g.members.len();
                g.members.retain(|m| m.id() != Some(id));
                if g.members.len() != n {
                    g.version += 1;
                    g.last_modified = now.clone();
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
        let mut memberships: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut user_names = HashMap::new();
        let mut group_names = HashMap::new();
        for r in resources {
            match r.kind {
                ResourceKind::User => {
                    let mut groups: Vec<(usize, String, String)> = self
                        .keys
                        .member_of
                        .get(r.id.as_str())
                        .into_iter()
                        .flatten()
                        .filter_map(|gid| {
                            let at = *self.keys.pos[slot(ResourceKind::Group)].get(&**gid)?;
                            let g = self.groups.get(at).filter(|g| *g.id == **gid)?;
                            Some((
                                at,
                                gid.to_string(),
                                g.str_attr("displayName").unwrap_or("").to_string(),
                            ))
                        })
                        .collect();
                    // Groups in creation order, as a scan of the table would give them.
                    groups.sort_by_key(|(at, _, _)| *at);
                    groups.dedup_by(|a, b| a.1 == b.1);
                    if !groups.is_empty() {
                        memberships.insert(
                            r.id.clone(),
                            groups.into_iter().map(|(_, g, n)| (g, n)).collect(),
                        );
                    }
                }
                ResourceKind::Group => {
                    for m in self
                        .keys
                        .members_in
                        .get(r.id.as_str())
                        .into_iter()
                        .flatten()
                    {
                        if let Some(u) = self.get(ResourceKind::User, m) {
                            user_names.insert(
                                m.to_string(),
                                u.str_attr("userName").unwrap_or("").to_string(),
                            );
                        } else if let Some(g) = self.get(ResourceKind::Group, m) {
                            group_names.insert(
                                m.to_string(),
                                g.str_attr("displayName").unwrap_or("").to_string(),
                            );
                        }
                    }
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

/// How the uniqueness check compares a unique attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Ignoring case, as `caseExact` false asks (RFC 7643 §4.1.1, §2.1).
    IgnoringCase,
    /// Character for character.
    Exactly,
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
    pub fn new(mut data: Data, file: Option<PathBuf>) -> Store {
        data.reindex();
        Store {
            data: Mutex::new(data),
            file,
        }
    }

    /// Whether writes go to a `--data` file (each then serialises the whole store anyway).
    pub fn persistent(&self) -> bool {
        self.file.is_some()
    }

    pub async fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().await
    }

    /// What to put back should the write that follows fail to persist: a copy of the state
    /// when there is a data file (the write costs a serialisation of the whole store anyway),
    /// nothing without one (memory cannot fail to take a write).
    pub fn before_write(&self, data: &Data) -> Option<Data> {
        self.file.as_ref().map(|_| data.clone())
    }

    /// Persists the locked state before the write is acknowledged. Called with the guard
    /// held, so files are written in the same order as the changes they record. When the file
    /// cannot be written, the state is put back as it was (`before`, from [`Self::before_write`]):
    /// the client is told the write failed, so no trace of it may remain — no user that a retry
    /// would meet as a conflict, none that a later write would persist. The answer does not
    /// name the file (a client has no business knowing the server's paths); stderr does.
    pub async fn persist(&self, data: &mut Data, before: Option<Data>) -> Result<(), ScimError> {
        let Some(path) = self.file.clone() else {
            return Ok(());
        };
        let written = match persist::serialize(data) {
            Ok(bytes) => {
                let shown = path.display().to_string();
                match tokio::task::spawn_blocking(move || persist::write_atomic(&path, &bytes))
                    .await
                {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("cannot write the data file {shown}: {e}")),
                    Err(e) => Err(format!("the persistence task failed: {e}")),
                }
            }
            Err(e) => Err(format!("cannot serialise the store: {e}")),
        };
        let Err(why) = written else {
            return Ok(());
        };
        if let Some(before) = before {
            *data = before;
        }
        eprintln!("idpsim serve: {why}; the write was refused and undone");
        Err(ScimError::internal(
            "the server could not store this change; it was not made",
        ))
    }
}

/// Files the members added at the given positions of a group's list under that group in
/// `member_of` (a member listed twice is filed once), and clears the positions.
fn file_added(
    member_of: &mut FastMap<Arc<str>, Vec<Arc<str>>>,
    group: &Arc<str>,
    items: &[Member],
    added: &mut Vec<usize>,
) {
    for &at in added.iter() {
        let Some(id) = items.get(at).and_then(Member::shared_id) else {
            continue;
        };
        match member_of.get_mut(&**id) {
            Some(groups) if groups.iter().any(|x| x == group) => {}
            Some(groups) => groups.push(group.clone()),
            None => {
                member_of.insert(id.clone(), vec![group.clone()]);
            }
        }
    }
    added.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, name: &str) -> Resource {
        let mut attrs = Map::new();
        attrs.insert("userName".into(), Value::String(name.into()));
        Resource::created_now(id.to_string(), ResourceKind::User, attrs)
    }

    #[test]
    fn the_lookup_tables_follow_inserts_renames_and_deletes() {
        let mut d = Data::default();
        d.insert(user("a", "Ann@X.test"));
        d.insert(user("b", "bob@x.test"));
        d.insert(user("c", "cy@x.test"));
        assert!(d.is_taken(
            ResourceKind::User,
            "ann@x.TEST",
            None,
            Compare::IgnoringCase
        ));
        assert!(!d.is_taken(
            ResourceKind::User,
            "ann@x.test",
            Some("a"),
            Compare::IgnoringCase
        ));
        // Rename b: the old name is free, the new one taken.
        if let Some(r) = d.get_mut(ResourceKind::User, "b") {
            r.attrs
                .insert("userName".into(), Value::String("Robert@x.test".into()));
        }
        d.rekey(ResourceKind::User, "b");
        assert!(!d.is_taken(
            ResourceKind::User,
            "bob@x.test",
            None,
            Compare::IgnoringCase
        ));
        assert_eq!(d.by_unique(ResourceKind::User, "robert@X.test").len(), 1);
        // Deleting a shifts positions; get still finds the others.
        assert!(d.remove(ResourceKind::User, "a"));
        assert!(d.get(ResourceKind::User, "a").is_none());
        assert_eq!(
            d.get(ResourceKind::User, "c").map(|r| r.id.as_str()),
            Some("c")
        );
        assert!(!d.is_taken(
            ResourceKind::User,
            "ann@x.test",
            None,
            Compare::IgnoringCase
        ));
        // A reloaded store (tables only) is indexed again.
        let mut reloaded = Data {
            users: d.users.clone(),
            groups: Vec::new(),
            keys: Keys::default(),
        };
        reloaded.reindex();
        assert_eq!(
            reloaded.get(ResourceKind::User, "b").map(|r| r.id.as_str()),
            Some("b")
        );
        assert!(reloaded.is_taken(
            ResourceKind::User,
            "ROBERT@x.test",
            None,
            Compare::IgnoringCase
        ));
    }
}

#[cfg(test)]
mod membership_tests {
    use super::*;

    fn res(kind: ResourceKind, id: &str, name: &str, members: &[&str]) -> Resource {
        let mut attrs = Map::new();
        let key = if kind == ResourceKind::User {
            "userName"
        } else {
            "displayName"
        };
        attrs.insert(key.into(), Value::String(name.into()));
        if kind == ResourceKind::Group {
            let ms: Vec<Value> = members
                .iter()
                .map(|m| serde_json::json!({ "value": m }))
                .collect();
            attrs.insert("members".into(), Value::Array(ms));
        }
        Resource::created_now(id.to_string(), kind, attrs)
    }

    #[test]
    fn the_membership_index_follows_member_changes_and_deletes() {
        let mut d = Data::default();
        d.insert(res(ResourceKind::User, "u1", "ann", &[]));
        d.insert(res(ResourceKind::User, "u2", "bob", &[]));
        d.insert(res(ResourceKind::Group, "g1", "Eng", &["u1", "u2"]));
        d.insert(res(ResourceKind::Group, "g2", "Ops", &["u1"]));
        let u1 = d.get(ResourceKind::User, "u1").cloned().expect("u1");
        let groups = |d: &Data, u: &Resource| {
            d.index_for(&[u])
                .memberships
                .get(&u.id)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            groups(&d, &u1),
            vec![
                ("g1".to_string(), "Eng".to_string()),
                ("g2".to_string(), "Ops".to_string())
            ]
        );
        // g1 drops ann (a PATCH): her groups follow after rekey.
        if let Some(g) = d.get_mut(ResourceKind::Group, "g1") {
            let mut attrs = g.attrs_with_members();
            attrs.insert("members".into(), serde_json::json!([{ "value": "u2" }]));
            g.set_attrs(attrs);
        }
        d.rekey(ResourceKind::Group, "g1");
        assert_eq!(groups(&d, &u1), vec![("g2".to_string(), "Ops".to_string())]);
        // Deleting g2 leaves ann in no group; a group's render names its members.
        d.remove(ResourceKind::Group, "g2");
        assert!(groups(&d, &u1).is_empty());
        let g1 = d.get(ResourceKind::Group, "g1").cloned().expect("g1");
        assert_eq!(
            d.index_for(&[&g1]).user_names.get("u2").map(String::as_str),
            Some("bob")
        );
        // Deleting bob takes him out of g1's index too.
        d.remove(ResourceKind::User, "u2");
        let g1 = d.get(ResourceKind::Group, "g1").cloned().expect("g1");
        assert!(d.index_for(&[&g1]).user_names.is_empty());
    }
}

#[cfg(test)]
mod member_edit_tests {
    use super::*;
    use crate::server::patch;
    use crate::server::quirks::Quirks;
    use serde_json::json;

    fn group(members: Option<Value>) -> Data {
        let mut d = Data::default();
        for (id, name) in [("u1", "ann"), ("u2", "bob"), ("u3", "cy"), ("u4", "di")] {
            let mut attrs = Map::new();
            attrs.insert("userName".into(), json!(name));
            d.insert(Resource::created_now(
                id.to_string(),
                ResourceKind::User,
                attrs,
            ));
        }
        let mut attrs = Map::new();
        attrs.insert("displayName".into(), json!("Eng"));
        if let Some(m) = members {
            attrs.insert("members".into(), m);
        }
        d.insert(Resource::created_now(
            "g".to_string(),
            ResourceKind::Group,
            attrs,
        ));
        d
    }

    fn groups_of(d: &Data, user: &str) -> Vec<String> {
        let u = d.get(ResourceKind::User, user).cloned().expect("user");
        d.index_for(&[&u])
            .memberships
            .get(user)
            .map(|gs| gs.iter().map(|(g, _)| g.clone()).collect())
            .unwrap_or_default()
    }

    /// The in-place edit gives what `patch::apply` gives on a copy, member list and index alike.
    #[test]
    fn in_place_member_edits_match_the_general_patch() {
        let two = json!([{ "value": "u1" }, { "value": "u2", "display": "bob" }]);
        let add = |ids: &[&str]| {
            json!({ "op": "add", "path": "members",
                    "value": ids.iter().map(|i| json!({ "value": i })).collect::<Vec<_>>() })
        };
        let okta_remove =
            |id: &str| json!({ "op": "remove", "path": format!("members[value eq \"{id}\"]") });
        let entra_remove = |ids: &[&str]| {
            json!({ "op": "Remove", "path": "members",
                    "value": ids.iter().map(|i| json!({ "value": i })).collect::<Vec<_>>() })
        };
        let cases: Vec<(Option<Value>, Vec<Value>)> = vec![
            (Some(two.clone()), vec![add(&["u3", "u1", "u3"])]),
            (None, vec![add(&["u3", "u3"])]),
            (Some(json!([])), vec![add(&["u1", "u1"])]),
            (Some(two.clone()), vec![entra_remove(&["u2", "u4"])]),
            (
                Some(two.clone()),
                vec![okta_remove("u1"), okta_remove("u9"), add(&["u4", "u1"])],
            ),
            (
                Some(two.clone()),
                vec![entra_remove(&["u1", "u2"]), add(&["u2", "u2"])],
            ),
            (Some(two.clone()), vec![add(&["u3"]), okta_remove("u3")]),
            (None, vec![okta_remove("u1")]),
            (
                None,
                vec![add(&["u3", "u4"]), okta_remove("u3"), add(&["u1", "u4"])],
            ),
            (
                Some(two.clone()),
                vec![
                    add(&["u3"]),
                    entra_remove(&["u1", "u2", "u3"]),
                    add(&["u2"]),
                ],
            ),
        ];
        let quirks = Quirks::default();
        for (i, (members, ops)) in cases.into_iter().enumerate() {
            let body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops });
            let mut general = group(members.clone());
            let mut attrs = general
                .get(ResourceKind::Group, "g")
                .expect("g")
                .attrs_with_members();
            patch::apply(ResourceKind::Group, "g", &mut attrs, &body, &quirks).expect("applies");
            if let Some(g) = general.get_mut(ResourceKind::Group, "g") {
                g.set_attrs(attrs);
            }
            general.rekey(ResourceKind::Group, "g");

            let mut fast = group(members);
            let edits = patch::member_edits(&body, &quirks).expect("a membership PATCH");
            assert!(fast.edit_members("g", edits), "case {i}");
            let stored = |d: &Data| {
                d.get(ResourceKind::Group, "g")
                    .expect("g")
                    .attrs_with_members()
                    .get("members")
                    .cloned()
            };
            assert_eq!(stored(&fast), stored(&general), "case {i}: member lists");
            for u in ["u1", "u2", "u3", "u4"] {
                assert_eq!(
                    groups_of(&fast, u),
                    groups_of(&general, u),
                    "case {i}: groups of {u}"
                );
            }
            assert_eq!(
                fast.keys.members_in.get("g").cloned().unwrap_or_default(),
                general
                    .keys
                    .members_in
                    .get("g")
                    .cloned()
                    .unwrap_or_default(),
                "case {i}: index"
            );
        }
    }

    /// A member sent twice in one add is listed once, whether the list was absent, empty or not.
    #[test]
    fn an_add_lists_a_member_once() {
        let quirks = Quirks::default();
        let body = json!({ "Operations": [{ "op": "add", "path": "members",
            "value": [{ "value": "u3" }, { "value": "u3" }, { "value": "u1" }] }] });
        for members in [None, Some(json!([])), Some(json!([{ "value": "u1" }]))] {
            let mut general = group(members.clone());
            let mut attrs = general
                .get(ResourceKind::Group, "g")
                .expect("g")
                .attrs_with_members();
            patch::apply(ResourceKind::Group, "g", &mut attrs, &body, &quirks).expect("applies");
            let ids = crate::scim::member_values(attrs.get("members"));
            assert_eq!(ids.iter().filter(|i| *i == "u3").count(), 1, "{members:?}");
            assert_eq!(ids.iter().filter(|i| *i == "u1").count(), 1, "{members:?}");
            if let Some(g) = general.get_mut(ResourceKind::Group, "g") {
                g.set_attrs(attrs);
            }
            let mut fast = group(members.clone());
            let edits = patch::member_edits(&body, &quirks).expect("a membership PATCH");
            assert!(fast.edit_members("g", edits));
            assert_eq!(
                fast.get(ResourceKind::Group, "g")
                    .map(|g| g.members.clone()),
                general
                    .get(ResourceKind::Group, "g")
                    .map(|g| g.members.clone()),
                "{members:?}"
            );
        }
    }

    #[test]
    fn other_patches_take_the_general_path() {
        let quirks = Quirks::default();
        for ops in [
            json!([{ "op": "replace", "value": { "id": "g", "displayName": "Ops" } }]),
            json!([{ "op": "replace", "path": "members", "value": [{ "value": "u1" }] }]),
            json!([{ "op": "remove", "path": "members" }]),
            json!([{ "op": "remove", "path": "members[display eq \"ann\"]" }]),
        ] {
            let body = json!({ "Operations": ops });
            assert!(patch::member_edits(&body, &quirks).is_none(), "{ops}");
        }
        assert!(!patch::touches_members(
            &json!({ "Operations": [{ "op": "replace", "value": { "id": "g", "displayName": "Ops" } }] })
        ));
        assert!(patch::touches_members(
            &json!({ "Operations": [{ "op": "replace", "value": { "members": [] } }] })
        ));
        assert!(patch::touches_members(&json!({ "Operations": "nope" })));
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};

    type Flat = (
        BTreeMap<String, BTreeSet<String>>,
        BTreeMap<String, BTreeSet<String>>,
    );

    /// The member index as plain sets, to compare with the one a rebuild gives.
    fn flat(d: &Data) -> Flat {
        let of = d
            .keys
            .member_of
            .iter()
            .map(|(m, gs)| (m.to_string(), gs.iter().map(|g| g.to_string()).collect()))
            .collect();
        let inside = d
            .keys
            .members_in
            .iter()
            .map(|(g, ms)| (g.to_string(), ms.iter().map(|m| m.to_string()).collect()))
            .collect();
        (of, inside)
    }

    /// Every way a membership changes — in-place edits, a general rewrite, a delete of a member
    /// or of a group, groups in groups, a member listed twice, a member without a string id —
    /// leaves `member_of` and `members_in` as a rebuild from the groups' members would make them.
    #[test]
    fn the_member_index_never_drifts_from_the_members() {
        let ids = ["u1", "u2", "u3", "g1", "g2", "ghost"];
        // A small deterministic generator: the sequence is the same on every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: usize| -> usize {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut d = Data::default();
        let mut created = 0;
        for step in 0..3000 {
            // Keep the store populated: what was deleted is created again.
            for id in ["u1", "u2", "u3"] {
                if d.get(ResourceKind::User, id).is_none() {
                    let mut attrs = Map::new();
                    attrs.insert("userName".into(), json!(id));
                    d.insert(Resource::created_now(id.into(), ResourceKind::User, attrs));
                }
            }
            for id in ["g1", "g2"] {
                if d.get(ResourceKind::Group, id).is_none() {
                    created += 1;
                    let mut attrs = Map::new();
                    attrs.insert("displayName".into(), json!(format!("{id}-{created}")));
                    let m = ids[next(ids.len())];
                    attrs.insert("members".into(), json!([{ "value": m }, { "value": m }]));
                    d.insert(Resource::created_now(id.into(), ResourceKind::Group, attrs));
                }
            }
            let g = ["g1", "g2"][next(2)];
            let pick = |next: &mut dyn FnMut(usize) -> usize| ids[next(ids.len())].to_string();
            match next(5) {
                0 | 1 => {
                    let mut edits = Vec::new();
                    for _ in 0..=next(3) {
                        if next(2) == 0 {
                            let n = 1 + next(3);
                            let add = (0..n)
                                .map(|_| Member::from_parts(&pick(&mut next), None, None, None))
                                .collect();
                            edits.push(MemberEdit::Add(add));
                        } else {
                            let n = next(3);
                            edits.push(MemberEdit::Remove(
                                (0..n).map(|_| pick(&mut next)).collect(),
                            ));
                        }
                    }
                    assert!(d.edit_members(g, edits), "step {step}");
                }
                2 => {
                    // A general PATCH: the list rewritten, possibly with odd members.
                    let n = next(4);
                    let list: Vec<Value> = (0..n)
                        .map(|_| match next(4) {
                            0 => json!({ "value": 7 }),
                            1 => json!({ "value": pick(&mut next), "display": 3 }),
                            _ => json!({ "value": pick(&mut next) }),
                        })
                        .collect();
                    if let Some(r) = d.get_mut(ResourceKind::Group, g) {
                        let mut attrs = r.attrs_with_members();
                        attrs.insert("members".into(), Value::Array(list));
                        r.set_attrs(attrs);
                    }
                    d.rekey(ResourceKind::Group, g);
                }
                3 => {
                    let id = pick(&mut next);
                    let kind = if id.starts_with('g') {
                        ResourceKind::Group
                    } else {
                        ResourceKind::User
                    };
                    d.remove(kind, &id);
                }
                _ => {
                    // A rename: the members stay, the unique key moves.
                    if let Some(r) = d.get_mut(ResourceKind::Group, g) {
                        r.attrs
                            .insert("displayName".into(), json!(format!("renamed-{step}")));
                    }
                    d.rekey_unique(ResourceKind::Group, g);
                }
            }
            let mut rebuilt = d.clone();
            rebuilt.reindex();
            assert_eq!(flat(&d), flat(&rebuilt), "step {step}");
            // And the index agrees with the lists themselves.
            for grp in &d.groups {
                let listed: BTreeSet<String> = grp
                    .members
                    .iter()
                    .filter_map(|m| m.id())
                    .map(str::to_string)
                    .collect();
                assert_eq!(
                    flat(&d).1.get(&grp.id).cloned().unwrap_or_default(),
                    listed,
                    "step {step}: {}",
                    grp.id
                );
            }
        }
    }
}
