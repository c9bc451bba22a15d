//! Audit: what the IdP believes (an expected directory) against what the server holds.
//!
//! The expected state comes from a state file (`idpsim audit --expect STATE.yaml`), from
//! `idpsim run --write-state`, or — for the `audit` scenario step — from the IdP profile's
//! bookkeeping plus inline entries. The actual state is read through `/Users` and `/Groups` with
//! full pagination ([`Pager`]). [`compare`] reports every drift as a `Finding` with a stable rule
//! id, so the same engine serves the command line and the scenario step.
//!
//! State file (YAML; docs/RECORD-AND-AUDIT.md):
//! ```yaml
//! users:
//!   alice: { userName: alice@example.com, active: true, name: { givenName: Alice } }
//!   bob:   { id: 2819c223, active: false }
//!   carol: { userName: carol@example.com, exists: false }   # the IdP removed her
//! groups:
//!   eng:   { displayName: Engineering, members: [alice, bob] }
//! ```
//! Users match by `id` when given, else by `userName` (case-insensitive, RFC 7643 §4.1.1);
//! groups by `id`, else `displayName`. Attributes other than the matching ones compare as a
//! subset: only what the state names is checked, because a server adds its own attributes.

pub mod read;
pub mod state_file;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::check::show;
use crate::outcome::{DiffEntry, Finding};
use crate::scenario::Idp;
use crate::support::diagnostic::SourceRef;
use crate::transport::{OutgoingRequest, RawResponse};

/// One user as the IdP believes it.
#[derive(Clone, Debug, Default)]
pub struct ExpectedUser {
    pub key: String,
    pub id: Option<String>,
    pub user_name: Option<String>,
    pub active: Option<bool>,
    /// `false`: the IdP removed it, so the server should not hold it.
    pub exists: bool,
    /// Other attributes, compared as a subset.
    pub attributes: Map<String, Value>,
    pub source: Option<SourceRef>,
}

#[derive(Clone, Debug, Default)]
pub struct ExpectedGroup {
    pub key: String,
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub exists: bool,
    /// Member keys (users or groups of this state) or raw server ids; `None`: not checked.
    pub members: Option<Vec<String>>,
    pub attributes: Map<String, Value>,
    pub source: Option<SourceRef>,
}

#[derive(Clone, Debug, Default)]
pub struct Expected {
    pub users: Vec<ExpectedUser>,
    pub groups: Vec<ExpectedGroup>,
}

impl Expected {
    /// Builds the expectation from a JSON tree of the state-file shape. `source` gives the
    /// position of an entry (`("users", "alice")`) for findings and errors.
    pub fn from_json(
        v: &Value,
        source: &dyn Fn(&str, &str) -> Option<SourceRef>,
    ) -> Result<Expected, Vec<String>> {
        let mut errors = Vec::new();
        let mut out = Expected::default();
        let Some(root) = v.as_object() else {
            return Err(vec![
                "the state must be a mapping with `users:` and/or `groups:`".into(),
            ]);
        };
        for k in root.keys() {
            if k != "users" && k != "groups" {
                errors.push(format!("unknown key `{k}` (expected users, groups)"));
            }
        }
        let entries = |kind: &str, errors: &mut Vec<String>| -> Vec<(String, Map<String, Value>)> {
            match root.get(kind) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(m)) => m
                    .iter()
                    .filter_map(|(k, v)| match v {
                        Value::Object(attrs) => Some((k.clone(), attrs.clone())),
                        Value::Null => Some((k.clone(), Map::new())),
                        _ => {
                            errors.push(format!(
                                "{kind}.{k}: an entry must be a mapping of attributes"
                            ));
                            None
                        }
                    })
                    .collect(),
                Some(_) => {
                    errors.push(format!("`{kind}` must map keys (e.g. alice) to attributes"));
                    Vec::new()
                }
            }
        };
        for (key, mut attrs) in entries("users", &mut errors) {
            let mut u = ExpectedUser {
                key: key.clone(),
                exists: true,
                source: source("users", &key),
                ..Default::default()
            };
            u.id = take_string(&mut attrs, "id", &key, &mut errors);
            u.user_name = take_string(&mut attrs, "userName", &key, &mut errors);
            u.active = match attrs.remove("active") {
                None | Some(Value::Null) => None,
                Some(v) => match as_bool(&v) {
                    Some(b) => Some(b),
                    None => {
                        errors.push(format!(
                            "users.{key}.active: expected true or false, found {v}"
                        ));
                        None
                    }
                },
            };
            u.exists = match attrs.remove("exists") {
                None => true,
                Some(Value::Bool(b)) => b,
                Some(v) => {
                    errors.push(format!(
                        "users.{key}.exists: expected true or false, found {v}"
                    ));
                    true
                }
            };
            if u.id.is_none() && u.user_name.is_none() {
                errors.push(format!(
                    "users.{key}: needs `id` or `userName` to find it on the server"
                ));
            }
            u.attributes = attrs;
            out.users.push(u);
        }
        for (key, mut attrs) in entries("groups", &mut errors) {
            let mut g = ExpectedGroup {
                key: key.clone(),
                exists: true,
                source: source("groups", &key),
                ..Default::default()
            };
            g.id = take_string(&mut attrs, "id", &key, &mut errors);
            g.display_name = take_string(&mut attrs, "displayName", &key, &mut errors);
            g.exists = match attrs.remove("exists") {
                None => true,
                Some(Value::Bool(b)) => b,
                Some(v) => {
                    errors.push(format!(
                        "groups.{key}.exists: expected true or false, found {v}"
                    ));
                    true
                }
            };
            g.members = match attrs.remove("members") {
                None => None,
                Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .filter_map(|m| match m {
                            Value::String(s) => Some(s.clone()),
                            Value::Object(o) => o.get("value").and_then(Value::as_str).map(str::to_string),
                            _ => {
                                errors.push(format!("groups.{key}.members: a member is a user key or an id, found {m}"));
                                None
                            }
                        })
                        .collect(),
                ),
                Some(v) => {
                    errors.push(format!("groups.{key}.members: expected a list of user keys, found {v}"));
                    None
                }
            };
            if g.id.is_none() && g.display_name.is_none() {
                errors.push(format!(
                    "groups.{key}: needs `id` or `displayName` to find it on the server"
                ));
            }
            g.attributes = attrs;
            out.groups.push(g);
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Reads a state file; problems come back as `file:line:col: message` lines.
    pub fn load(path: &std::path::Path) -> crate::error::Result<Expected> {
        use crate::error::Error;
        let display = path.display().to_string();
        let text = crate::support::input::read_text(path).map_err(|e| Error::io(&display, e))?;
        let node = crate::scenario::yaml::parse_document(&text).map_err(|e| {
            Error::Usage(format!(
                "{display}:{}:{}: {}",
                e.pos.line, e.pos.col, e.message
            ))
        })?;
        let pos_of = |kind: &str, key: &str| {
            node.get(kind)
                .and_then(|m| m.as_map())
                .and_then(|m| m.iter().find(|(k, _)| k.name == key))
                .map(|(k, _)| SourceRef {
                    file: display.clone(),
                    line: k.pos.line,
                    column: k.pos.col,
                })
        };
        Expected::from_json(&node.to_json(), &pos_of).map_err(|errors| {
            let at = |e: &str| {
                // Point at the entry the message names (`users.alice…`) when there is one.
                let mut parts = e.splitn(3, ['.', ':']);
                let kind = parts.next().unwrap_or("");
                let key = parts.next().unwrap_or("");
                pos_of(kind, key)
                    .map(|s| format!("{display}:{}:{}", s.line, s.column))
                    .unwrap_or_else(|| format!("{display}:{}:{}", node.pos.line, node.pos.col))
            };
            Error::Usage(
                errors
                    .iter()
                    .map(|e| format!("{}: {e}", at(e)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

fn take_string(
    attrs: &mut Map<String, Value>,
    name: &str,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    match attrs.remove(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(v) => {
            errors.push(format!("{key}.{name}: expected a string, found {v}"));
            None
        }
    }
}

/// `true`/`false`, also as the strings Entra sends in default mode (`"False"`).
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Reads a whole collection page by page. Callers drive it (so the same code serves the CLI's
/// transport and a scenario step's recorded exchanges):
/// `while let Some(req) = pager.next_request() { let raw = send(req).await; pager.feed(&raw)?; }`
pub struct Pager {
    pub collection: &'static str,
    start: u64,
    count: u64,
    seen: HashSet<String>,
    pub items: Vec<Value>,
    done: bool,
    pub pages: usize,
    /// Something odd about the server's paging, for the report.
    pub note: Option<String>,
}

/// More pages than any real directory needs at 100 per page; a guard against endless paging.
const MAX_PAGES: usize = 10_000;
/// Every resource read is held for the comparison; a server that keeps inventing new ones
/// (pages larger than asked, a total never reached) would otherwise exhaust memory long before
/// `MAX_PAGES`. An audit compares what an IdP provisioned, far fewer than this.
pub const MAX_ITEMS: usize = 100_000;

impl Pager {
    pub fn new(collection: &'static str) -> Self {
        Pager {
            collection,
            start: 1,
            count: 100,
            seen: HashSet::new(),
            items: Vec::new(),
            done: false,
            pages: 0,
            note: None,
        }
    }

    pub fn next_request(&self) -> Option<OutgoingRequest> {
        (!self.done).then(|| {
            OutgoingRequest::new(
                "GET",
                format!(
                    "/{}?startIndex={}&count={}",
                    self.collection, self.start, self.count
                ),
            )
            .header("Accept", "application/scim+json")
        })
    }

    pub fn feed(&mut self, raw: &RawResponse) -> Result<(), String> {
        self.pages += 1;
        if raw.status != 200 {
            self.done = true;
            return Err(if raw.status == 0 {
                format!("could not read /{}: no answer", self.collection)
            } else {
                format!(
                    "could not read /{}: the server answered {}",
                    self.collection, raw.status
                )
            });
        }
        let Some(body) = &raw.body else {
            self.done = true;
            return Err(format!(
                "could not read /{}: the answer is not JSON",
                self.collection
            ));
        };
        let resources = body
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = body.get("totalResults").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_str().and_then(|s| s.trim().parse().ok()))
        });
        let mut fresh = 0;
        for r in resources.iter() {
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if !id.is_empty() && !self.seen.insert(id) {
                continue;
            }
            fresh += 1;
            self.items.push(r.clone());
        }
        if resources.is_empty() {
            self.done = true;
        } else if fresh == 0 {
            // The same page again: the server ignores startIndex. What was read is all there is.
            self.done = true;
            self.note = Some(format!(
                "/{} repeated a page at startIndex={}: the server ignores startIndex, so only the first page could be read",
                self.collection, self.start
            ));
        } else {
            self.start += resources.len() as u64;
            if total.is_some_and(|t| self.start > t)
                || total.is_none() && (resources.len() as u64) < self.count
            {
                self.done = true;
            }
        }
        if self.items.len() >= MAX_ITEMS && !self.done {
            self.done = true;
            self.note = Some(format!(
                "stopped reading /{} after {} resources (the limit, to bound memory): the server keeps returning new ones{}",
                self.collection,
                self.items.len(),
                total.map(|t| format!(" and says there are {t}")).unwrap_or_default()
            ));
        }
        if self.pages >= MAX_PAGES && !self.done {
            self.done = true;
            self.note = Some(format!(
                "stopped reading /{} after {MAX_PAGES} pages",
                self.collection
            ));
        }
        Ok(())
    }
}

/// What the server holds.
#[derive(Clone, Debug, Default)]
pub struct Actual {
    pub users: Vec<Value>,
    pub groups: Vec<Value>,
}

fn id_of(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

fn str_ci(v: &Value, name: &str) -> Option<String> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

fn find_user<'a>(u: &ExpectedUser, actual: &'a [Value]) -> Option<&'a Value> {
    match &u.id {
        Some(id) => actual.iter().find(|a| id_of(a) == Some(id)),
        None => {
            let want = u.user_name.as_deref()?.to_lowercase();
            actual
                .iter()
                .find(|a| str_ci(a, "userName").is_some_and(|n| n.to_lowercase() == want))
        }
    }
}

fn find_group<'a>(g: &ExpectedGroup, actual: &'a [Value]) -> Option<&'a Value> {
    match &g.id {
        Some(id) => actual.iter().find(|a| id_of(a) == Some(id)),
        None => {
            let want = g.display_name.as_deref()?.to_lowercase();
            actual
                .iter()
                .find(|a| str_ci(a, "displayName").is_some_and(|n| n.to_lowercase() == want))
        }
    }
}

/// Ids of expected groups found on the server whose listing left out `members` (many servers
/// do, for size); the caller reads them one by one before comparing.
pub fn groups_needing_detail(expected: &Expected, actual: &Actual) -> Vec<String> {
    expected
        .groups
        .iter()
        .filter(|g| g.exists && g.members.is_some())
        .filter_map(|g| find_group(g, &actual.groups))
        .filter(|a| a.get("members").is_none())
        .filter_map(|a| id_of(a).map(str::to_string))
        .collect()
}

/// Options of a comparison.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Report users and groups on the server that the state does not know (`--strict`).
    pub strict: bool,
    /// Whose belief this is, for the impact sentences.
    pub idp: Idp,
}

/// Every drift between what the IdP believes and what the server holds.
pub fn compare(expected: &Expected, actual: &Actual, opts: Options) -> Vec<Finding> {
    let mut out = Vec::new();
    let with_source = |f: Finding, s: &Option<SourceRef>| match s {
        Some(s) => f.source(s.clone()),
        None => f,
    };
    // key → server id, to resolve group members.
    let mut user_ids: HashMap<&str, String> = HashMap::new();
    let mut matched_users: HashSet<String> = HashSet::new();
    for u in &expected.users {
        let label = match &u.user_name {
            Some(n) => format!("user `{}` ({n})", u.key),
            None => format!("user `{}`", u.key),
        };
        let found = find_user(u, &actual.users);
        if let Some(a) = found {
            if let Some(id) = id_of(a) {
                user_ids.insert(&u.key, id.to_string());
                matched_users.insert(id.to_string());
            }
        }
        let pointer_of = |a: &Value| format!("/Users/{}", id_of(a).unwrap_or("?"));
        match (u.exists, found) {
            (false, None) => {}
            (false, Some(a)) => out.push(with_source(
                Finding::judged(
                    "audit.user.extra",
                    opts.idp,
                    format!("{label} is still on the server, but the IdP removed it"),
                )
                .diff(DiffEntry::new(
                    pointer_of(a),
                    "absent",
                    format!("present{}", active_note(a)),
                )),
                &u.source,
            )),
            (true, None) => out.push(with_source(
                Finding::judged(
                    "audit.user.missing",
                    opts.idp,
                    format!("{label} is not on the server"),
                )
                .diff(DiffEntry::new(
                    match &u.id {
                        Some(id) => format!("/Users/{id}"),
                        None => "/Users".into(),
                    },
                    "present",
                    "absent",
                )),
                &u.source,
            )),
            (true, Some(a)) => {
                let p = pointer_of(a);
                if let Some(want) = u.active {
                    // A server that leaves `active` out treats the account as usable.
                    let have = a.get("active").and_then(as_bool).unwrap_or(true);
                    if have != want {
                        out.push(with_source(
                            Finding::judged(
                                "audit.user.active",
                                opts.idp,
                                format!(
                                    "{label} is {} on the server; the IdP believes it is {}",
                                    if have { "active" } else { "inactive" },
                                    if want { "active" } else { "inactive" }
                                ),
                            )
                            .diff(DiffEntry::new(
                                format!("{p}/active"),
                                want.to_string(),
                                a.get("active").map(show).unwrap_or_else(|| "absent".into()),
                            )),
                            &u.source,
                        ));
                    }
                }
                let mut diffs = Vec::new();
                if let (Some(want), Some(_)) = (&u.user_name, &u.id) {
                    let have = str_ci(a, "userName").unwrap_or_default();
                    if have.to_lowercase() != want.to_lowercase() {
                        diffs.push(DiffEntry::new(
                            format!("{p}/userName"),
                            show(&Value::String(want.clone())),
                            show(&Value::String(have)),
                        ));
                    }
                }
                subset(&Value::Object(u.attributes.clone()), a, &p, &mut diffs);
                if !diffs.is_empty() {
                    let names: Vec<String> = diffs
                        .iter()
                        .map(|d| {
                            d.pointer
                                .trim_start_matches(&p)
                                .trim_start_matches('/')
                                .split('/')
                                .next()
                                .unwrap_or("")
                                .to_string()
                        })
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let mut f = Finding::judged(
                        "audit.user.attribute",
                        opts.idp,
                        format!("{label} differs on the server in {}", names.join(", ")),
                    );
                    for d in diffs {
                        f = f.diff(d);
                    }
                    out.push(with_source(f, &u.source));
                }
            }
        }
    }

    let mut group_ids: HashMap<&str, String> = HashMap::new();
    let mut matched_groups: HashSet<String> = HashSet::new();
    for g in &expected.groups {
        if let Some(a) = find_group(g, &actual.groups) {
            if let Some(id) = id_of(a) {
                group_ids.insert(&g.key, id.to_string());
                matched_groups.insert(id.to_string());
            }
        }
    }
    let name_of_id = |id: &str| -> String {
        if let Some((k, _)) = user_ids.iter().find(|(_, v)| v.as_str() == id) {
            return format!("{k} ({id})");
        }
        if let Some((k, _)) = group_ids.iter().find(|(_, v)| v.as_str() == id) {
            return format!("group {k} ({id})");
        }
        actual
            .users
            .iter()
            .find(|u| id_of(u) == Some(id))
            .and_then(|u| str_ci(u, "userName"))
            .map(|n| format!("{n} ({id})"))
            .unwrap_or_else(|| id.to_string())
    };
    for g in &expected.groups {
        let label = match &g.display_name {
            Some(n) => format!("group `{}` ({n})", g.key),
            None => format!("group `{}`", g.key),
        };
        let found = find_group(g, &actual.groups);
        let a = match (g.exists, found) {
            (false, None) => continue,
            (false, Some(a)) => {
                out.push(with_source(
                    Finding::judged(
                        "audit.group.extra",
                        opts.idp,
                        format!("{label} is still on the server, but the IdP removed it"),
                    )
                    .diff(DiffEntry::new(
                        format!("/Groups/{}", id_of(a).unwrap_or("?")),
                        "absent",
                        "present",
                    )),
                    &g.source,
                ));
                continue;
            }
            (true, None) => {
                out.push(with_source(
                    Finding::judged(
                        "audit.group.missing",
                        opts.idp,
                        format!("{label} is not on the server"),
                    )
                    .diff(DiffEntry::new(
                        match &g.id {
                            Some(id) => format!("/Groups/{id}"),
                            None => "/Groups".into(),
                        },
                        "present",
                        "absent",
                    )),
                    &g.source,
                ));
                continue;
            }
            (true, Some(a)) => a,
        };
        let p = format!("/Groups/{}", id_of(a).unwrap_or("?"));
        let mut diffs = Vec::new();
        if let (Some(want), Some(_)) = (&g.display_name, &g.id) {
            let have = str_ci(a, "displayName").unwrap_or_default();
            if &have != want {
                diffs.push(DiffEntry::new(
                    format!("{p}/displayName"),
                    show(&Value::String(want.clone())),
                    show(&Value::String(have)),
                ));
            }
        }
        subset(&Value::Object(g.attributes.clone()), a, &p, &mut diffs);
        if !diffs.is_empty() {
            let mut f = Finding::judged(
                "audit.group.attribute",
                opts.idp,
                format!("{label} differs on the server"),
            );
            for d in diffs {
                f = f.diff(d);
            }
            out.push(with_source(f, &g.source));
        }
        let Some(want_members) = &g.members else {
            continue;
        };
        let want: Vec<(String, Option<String>)> = want_members
            .iter()
            .map(|m| {
                let id = if expected.users.iter().any(|u| &u.key == m) {
                    user_ids.get(m.as_str()).cloned()
                } else if expected.groups.iter().any(|x| &x.key == m) {
                    group_ids.get(m.as_str()).cloned()
                } else {
                    Some(m.clone())
                };
                (m.clone(), id)
            })
            .collect();
        let have: Vec<String> = crate::scim::member_values(a.get("members"));
        let mut f = Finding::judged(
            "audit.group.members",
            opts.idp,
            format!("{label}: the members on the server differ from the IdP's"),
        );
        let mut drift = false;
        for (key, id) in &want {
            match id {
                Some(id) if have.contains(id) => {}
                Some(id) => {
                    drift = true;
                    f = f.diff(DiffEntry::new(
                        format!("{p}/members"),
                        format!("contains {key} ({id})"),
                        "missing",
                    ));
                }
                None => {
                    drift = true;
                    f = f.diff(DiffEntry::new(
                        format!("{p}/members"),
                        format!("contains {key}"),
                        "missing (not on the server)",
                    ));
                }
            }
        }
        for id in &have {
            if !want.iter().any(|(_, w)| w.as_deref() == Some(id.as_str())) {
                drift = true;
                f = f.diff(DiffEntry::new(
                    format!("{p}/members"),
                    "no other members",
                    format!("also {}", name_of_id(id)),
                ));
            }
        }
        if drift {
            out.push(with_source(f, &g.source));
        }
    }

    if opts.strict {
        for a in &actual.users {
            let id = id_of(a).unwrap_or_default();
            if !matched_users.contains(id) {
                let name = str_ci(a, "userName").unwrap_or_default();
                out.push(
                    Finding::judged(
                        "audit.user.extra",
                        opts.idp,
                        format!("user {name} ({id}) is on the server but not in the IdP's state"),
                    )
                    .diff(DiffEntry::new(
                        format!("/Users/{id}"),
                        "absent",
                        format!("present{}", active_note(a)),
                    )),
                );
            }
        }
        for a in &actual.groups {
            let id = id_of(a).unwrap_or_default();
            if !matched_groups.contains(id) {
                let name = str_ci(a, "displayName").unwrap_or_default();
                out.push(
                    Finding::judged(
                        "audit.group.extra",
                        opts.idp,
                        format!("group {name} ({id}) is on the server but not in the IdP's state"),
                    )
                    .diff(DiffEntry::new(
                        format!("/Groups/{id}"),
                        "absent",
                        "present",
                    )),
                );
            }
        }
    }
    out
}

fn active_note(a: &Value) -> &'static str {
    match a.get("active").and_then(as_bool) {
        Some(false) => " (inactive)",
        Some(true) => " (active)",
        None => "",
    }
}

/// `expected` is a subset of `actual`: objects by key (names case-insensitive, as SCIM's are),
/// arrays element-wise in any order, scalars equal (numbers by value, booleans also as
/// "True"/"False").
fn subset(expected: &Value, actual: &Value, pointer: &str, diffs: &mut Vec<DiffEntry>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{pointer}/{}", crate::check::pointer_token(k));
                match a.iter().find(|(ak, _)| ak.eq_ignore_ascii_case(k)) {
                    Some((_, av)) => subset(ev, av, &p, diffs),
                    None if ev.is_null() => {}
                    None => diffs.push(DiffEntry::new(p, show(ev), "absent")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for item in e {
                let found = a.iter().any(|x| {
                    let mut d = Vec::new();
                    subset(item, x, pointer, &mut d);
                    d.is_empty()
                });
                if !found {
                    diffs.push(DiffEntry::new(
                        pointer,
                        format!("contains {}", show(item)),
                        show(actual),
                    ));
                }
            }
        }
        (e, a) => {
            // Numbers as `expect:` compares them (1 == 1.0, integers exactly), so the audit and a
            // scenario's expectations never disagree about the same value.
            let equal = crate::check::expect::json_equal(e, a)
                || matches!((as_bool(e), as_bool(a)), (Some(x), Some(y)) if x == y);
            if !equal {
                diffs.push(DiffEntry::new(pointer, show(e), show(a)));
            }
        }
    }
}

/// The result of `idpsim audit`, serialized as the `--report-json` document.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    pub version: &'static str,
    pub target: String,
    /// The state file the server was compared with.
    pub expect: String,
    pub strict: bool,
    pub summary: AuditSummary,
    /// Oddities met while reading (a server that ignores startIndex, …).
    pub notes: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AuditSummary {
    pub expected_users: usize,
    pub expected_groups: usize,
    pub server_users: usize,
    pub server_groups: usize,
    pub requests: usize,
    pub drift: bool,
    /// Findings per rule id.
    pub by_rule: BTreeMap<String, usize>,
}

impl AuditReport {
    pub fn new(
        target: String,
        expect: String,
        strict: bool,
        expected: &Expected,
        actual: &Actual,
        (requests, notes): (usize, Vec<String>),
        findings: Vec<Finding>,
    ) -> Self {
        let mut by_rule = BTreeMap::new();
        for f in &findings {
            *by_rule.entry(f.rule.clone()).or_insert(0) += 1;
        }
        AuditReport {
            version: "1",
            target,
            expect,
            strict,
            summary: AuditSummary {
                expected_users: expected.users.len(),
                expected_groups: expected.groups.len(),
                server_users: actual.users.len(),
                server_groups: actual.groups.len(),
                requests,
                drift: !findings.is_empty(),
                by_rule,
            },
            notes,
            findings,
        }
    }

    /// What a person reads: one block per drift, then a verdict line.
    pub fn render(&self, console: &crate::report::console::Console) -> String {
        let s = &self.summary;
        let styles = &console.styles;
        let mut out = format!(
            "audit of {} against {}: read {} user(s) and {} group(s) in {} request(s)\n",
            self.target, self.expect, s.server_users, s.server_groups, s.requests
        );
        for n in &self.notes {
            let _ = writeln!(out, "{} {n}", styles.warn.paint("note:"));
        }
        for f in &self.findings {
            out.push('\n');
            out.push_str(&console.finding(f));
        }
        out.push('\n');
        if s.drift {
            let rules: Vec<String> = s.by_rule.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let _ = writeln!(
                out,
                "{}: {} finding(s) ({}) for {} user(s) and {} group(s) the IdP knows",
                styles.fail.paint("DRIFT"),
                self.findings.len(),
                rules.join(", "),
                s.expected_users,
                s.expected_groups
            );
        } else {
            let _ = writeln!(
                out,
                "{}: the server holds what the IdP believes for {} user(s) and {} group(s){}",
                styles.pass.paint("CLEAN"),
                s.expected_users,
                s.expected_groups,
                if self.strict {
                    ", and nothing else"
                } else {
                    ""
                }
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_source(_: &str, _: &str) -> Option<SourceRef> {
        None
    }

    #[test]
    fn numbers_compare_by_value_as_expectations_do() {
        let mut diffs = Vec::new();
        subset(
            &json!({"n": 1, "big": 9007199254740993u64}),
            &json!({"N": 1.0, "big": 9007199254740993u64}),
            "",
            &mut diffs,
        );
        assert!(diffs.is_empty(), "{diffs:?}");
        subset(
            &json!({"big": 9007199254740993u64}),
            &json!({"big": 9007199254740992u64}),
            "",
            &mut diffs,
        );
        assert_eq!(diffs.len(), 1, "integers compare exactly");
    }

    #[test]
    fn pager_stops_on_repeated_pages_and_totals() {
        let mut p = Pager::new("Users");
        let page = |ids: &[&str], total: u64| RawResponse {
            status: 200,
            headers: vec![],
            body: Some(
                json!({"totalResults": total, "Resources": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()}),
            ),
        };
        p.feed(&page(&["a", "b"], 5)).expect("page");
        assert!(p.next_request().is_some());
        p.feed(&page(&["a", "b"], 5)).expect("page");
        assert!(p.next_request().is_none());
        assert!(p
            .note
            .as_deref()
            .is_some_and(|n| n.contains("ignores startIndex")));
        assert_eq!(p.items.len(), 2);

        let mut q = Pager::new("Groups");
        q.feed(&page(&["a"], 2)).expect("page");
        q.feed(&page(&["b"], 2)).expect("page");
        assert!(q.next_request().is_none() && q.note.is_none());
        let mut r = Pager::new("Users");
        assert!(r
            .feed(&RawResponse {
                status: 401,
                ..Default::default()
            })
            .is_err());
    }

    #[test]
    fn compare_finds_each_kind_of_drift() {
        let expected = Expected::from_json(
            &json!({
                "users": {
                    "alice": {"userName": "Alice@x.test", "active": false, "name": {"givenName": "Alice"}, "emails": [{"value": "alice@x.test"}]},
                    "bob": {"userName": "bob@x.test"},
                    "gone": {"userName": "gone@x.test", "exists": false}
                },
                "groups": {"eng": {"displayName": "Eng", "members": ["alice", "bob"]}}
            }),
            &no_source,
        )
        .expect("valid");
        let actual = Actual {
            users: vec![
                json!({"id": "1", "userName": "alice@x.test", "active": true, "name": {"givenName": "Al"}, "emails": [{"value": "alice@x.test", "type": "work"}]}),
                json!({"id": "3", "userName": "gone@x.test", "active": true}),
                json!({"id": "4", "userName": "stranger@x.test"}),
            ],
            groups: vec![
                json!({"id": "g", "displayName": "eng", "members": [{"value": "1"}, {"value": "4"}]}),
            ],
        };
        let rules: Vec<String> = compare(
            &expected,
            &actual,
            Options {
                strict: true,
                idp: Idp::Okta,
            },
        )
        .into_iter()
        .map(|f| f.rule)
        .collect();
        assert_eq!(
            rules,
            [
                "audit.user.active",
                "audit.user.attribute",
                "audit.user.missing",
                "audit.user.extra",
                "audit.group.members",
                "audit.user.extra"
            ]
        );
        let clean = Actual {
            users: vec![
                json!({"id": "1", "userName": "alice@x.test", "active": "False", "name": {"givenName": "Alice"}, "emails": [{"value": "alice@x.test"}]}),
                json!({"id": "2", "userName": "BOB@x.test"}),
            ],
            groups: vec![
                json!({"id": "g", "displayName": "Eng", "members": [{"value": "2"}, {"value": "1"}]}),
            ],
        };
        assert!(compare(
            &expected,
            &clean,
            Options {
                strict: false,
                idp: Idp::Generic
            }
        )
        .is_empty());
    }

    #[test]
    fn state_errors_name_the_entry() {
        let e = Expected::from_json(
            &json!({"users": {"a": {"active": "maybe"}}, "x": 1}),
            &no_source,
        )
        .expect_err("errors");
        assert!(e.iter().any(|m| m.contains("users.a.active")), "{e:?}");
        assert!(
            e.iter().any(|m| m.contains("needs `id` or `userName`")),
            "{e:?}"
        );
        assert!(e.iter().any(|m| m.contains("unknown key `x`")), "{e:?}");
    }
}
