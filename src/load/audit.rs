//! The audit after both cycles: every user and every membership on the server exactly once,
//! in the state the IdP last wrote. Users are looked up with the IdP's own lookup request (a
//! duplicate shows up as two resources for one userName, a lost write as none); groups are read
//! by id and their member lists compared with the directory's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use crate::load::cycle::{status_text, Ctx};
use crate::load::metrics::Op;

/// Names kept per finding kind (counts are exact).
pub const KEEP: usize = 1000;

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Named {
    pub count: u64,
    pub names: Vec<String>,
}

impl Named {
    fn push(&mut self, name: String) {
        self.count += 1;
        if self.names.len() < KEEP {
            self.names.push(name);
        }
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct AuditResult {
    pub passed: bool,
    pub users_expected: u64,
    pub users_ok: u64,
    /// Acknowledged (or attempted) users the server does not have.
    pub lost_users: Named,
    /// userNames the server holds more than once ("name ×copies").
    pub duplicated_users: Named,
    /// One user, but not the id the IdP linked (e.g. the winner of a create race was replaced).
    pub relinked_users: Named,
    /// The server's user differs from what the IdP last wrote (active, displayName).
    pub stale_users: Named,
    pub groups_expected: u64,
    pub lost_groups: Named,
    pub duplicated_groups: Named,
    pub memberships_expected: u64,
    pub memberships_ok: u64,
    /// "group ← userName" pairs missing.
    pub lost_memberships: Named,
    /// "group ← userName ×copies".
    pub duplicated_memberships: Named,
    /// Members the directory does not have in that group.
    pub unexpected_memberships: Named,
    /// Audit requests that got no usable answer.
    pub unanswered: Named,
}

impl AuditResult {
    pub fn finish(&mut self) {
        self.passed = [
            &self.lost_users,
            &self.duplicated_users,
            &self.relinked_users,
            &self.stale_users,
            &self.lost_groups,
            &self.duplicated_groups,
            &self.lost_memberships,
            &self.duplicated_memberships,
            &self.unexpected_memberships,
            &self.unanswered,
        ]
        .iter()
        .all(|n| n.count == 0);
    }
}

pub type Shared = Arc<Mutex<AuditResult>>;

fn with(r: &Shared, f: impl FnOnce(&mut AuditResult)) {
    f(&mut r.lock().unwrap_or_else(|e| e.into_inner()));
}

fn str_of<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

/// Booleans as JSON booleans or as Entra's "True"/"False" strings.
fn bool_of(v: &Json) -> Option<bool> {
    match v.get("active")? {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

pub async fn user(ctx: Arc<Ctx>, res: Shared, i: u32) {
    let u = ctx.dir.user(i);
    let a = ctx
        .send(Op::AuditUser, &ctx.wire.lookup_user(&u.user_name))
        .await;
    if !a.ok() {
        return with(&res, |r| {
            r.unanswered
                .push(format!("{}: {}", u.user_name, status_text(a.status)))
        });
    }
    let found = a.resources();
    let linked = ctx.users.get(i);
    with(&res, |r| match found {
        [] => r.lost_users.push(u.user_name.clone()),
        [one] => {
            if linked.is_some() && str_of(one, "id") != linked.as_deref() {
                r.relinked_users.push(u.user_name.clone());
                return;
            }
            let want_active = !ctx.dir.is_disabled(i);
            let want_name = ctx.dir.final_display_name(&u);
            let mut stale = Vec::new();
            if bool_of(one) != Some(want_active) {
                stale.push(format!("active {:?}, expected {want_active}", bool_of(one)));
            }
            if str_of(one, "displayName") != Some(want_name.as_str()) {
                stale.push(format!(
                    "displayName {:?}, expected {want_name:?}",
                    str_of(one, "displayName")
                ));
            }
            if stale.is_empty() {
                r.users_ok += 1;
            } else {
                r.stale_users
                    .push(format!("{} ({})", u.user_name, stale.join("; ")));
            }
        }
        many => r
            .duplicated_users
            .push(format!("{} ×{}", u.user_name, many.len())),
    });
}

pub async fn group(ctx: Arc<Ctx>, res: Shared, g: u32) {
    let gr = ctx.dir.group(g);
    let a = ctx
        .send(Op::AuditGroup, &ctx.wire.lookup_group(&gr.display_name))
        .await;
    if !a.ok() {
        return with(&res, |r| {
            r.unanswered
                .push(format!("{}: {}", gr.display_name, status_text(a.status)))
        });
    }
    let copies = a.resources().len();
    if copies > 1 {
        with(&res, |r| {
            r.duplicated_groups
                .push(format!("{} ×{copies}", gr.display_name))
        });
    }
    let Some(gid) = ctx.groups.get(g) else {
        return with(&res, |r| {
            r.lost_groups
                .push(format!("{} (never created)", gr.display_name))
        });
    };
    let a = ctx
        .send(Op::AuditGroup, &ctx.wire.read("Groups", &gid))
        .await;
    if a.status == 404 {
        return with(&res, |r| r.lost_groups.push(gr.display_name.clone()));
    }
    let Some(body) = a.body.filter(|_| (200..300).contains(&a.status)) else {
        return with(&res, |r| {
            r.unanswered
                .push(format!("{}: {}", gr.display_name, status_text(a.status)))
        });
    };
    // Member id → how often the server lists it.
    let mut held: HashMap<String, u32> = HashMap::new();
    for m in body
        .get("members")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(v) = str_of(m, "value") {
            *held.entry(v.to_string()).or_insert(0) += 1;
        }
    }
    with(&res, |r| {
        for i in ctx.dir.final_members(g) {
            // The userName is made only for a membership to report.
            match ctx.users.get(i).and_then(|id| held.remove(&id)) {
                None => r.lost_memberships.push(format!(
                    "{} ← {}",
                    gr.display_name,
                    ctx.dir.user_name(i)
                )),
                Some(1) => r.memberships_ok += 1,
                Some(n) => r.duplicated_memberships.push(format!(
                    "{} ← {} ×{n}",
                    gr.display_name,
                    ctx.dir.user_name(i)
                )),
            }
        }
        for (id, _) in held {
            r.unexpected_memberships
                .push(format!("{} ← id {id}", gr.display_name));
        }
    });
}
