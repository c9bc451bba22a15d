//! The engine: C workers pull work items (a user, a group, a member batch) from a shared
//! counter, send as the IdP does (pacing, Entra's job-wide pause, each IdP's 429 policy), and
//! keep per user only the id the server assigned. Phases run one after another: initial users,
//! initial groups, initial memberships, incremental users, incremental memberships, audit.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::load::generator::Directory;
use crate::load::metrics::{Metrics, Op};
use crate::load::throttle::{scaled, Pacer, Pause, Policy};
use crate::load::wire::{self, OktaProfile, Wire, OKTA_MEMBER_BATCH};
use crate::transport::{OutgoingRequest, Transport};

/// Server-assigned ids by directory index, in one string arena: ~8 bytes per entry plus the
/// id's own bytes, no per-user allocation.
#[derive(Default)]
pub struct IdTable(Mutex<(String, Vec<(u32, u16)>)>);

impl IdTable {
    pub fn with_len(n: usize) -> IdTable {
        IdTable(Mutex::new((String::new(), vec![(0, 0); n])))
    }
    pub fn set(&self, i: u32, id: &str) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (arena, spans) = &mut *g;
        let Some(slot) = spans.get_mut(i as usize) else {
            return;
        };
        // An id longer than 64 KiB or past a 4 GiB arena is not kept (the audit reports the user
        // as unlinked); real ids are tens of bytes.
        let (Ok(start), Ok(len)) = (u32::try_from(arena.len()), u16::try_from(id.len())) else {
            return;
        };
        arena.push_str(id);
        *slot = (start, len);
    }
    pub fn get(&self, i: u32) -> Option<String> {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (arena, spans) = &*g;
        let &(start, len) = spans.get(i as usize)?;
        (len > 0).then(|| {
            arena
                .get(start as usize..start as usize + len as usize)
                .map(str::to_string)
        })?
    }
}

/// At most this many failure messages are kept (the count is exact).
pub const KEEP: usize = 50;

#[derive(Default, Debug, Clone, serde::Serialize)]
pub struct Failures {
    pub count: u64,
    /// 409s on create resolved by a second lookup (the losing side of an assignment race).
    pub conflicts_resolved: u64,
    pub examples: Vec<String>,
}

/// The members of an answer the cycle and the audit read: ids, a list's resources, and what
/// the audit compares. Parsing into this skips everything else without building it (a created
/// user's full representation cost the client more than anything else per request).
#[derive(serde::Deserialize)]
struct Lean {
    id: Option<Json>,
    active: Option<Json>,
    #[serde(rename = "displayName")]
    display_name: Option<Json>,
    #[serde(rename = "Resources")]
    resources: Option<Vec<Lean>>,
    members: Option<Vec<LeanMember>>,
}

#[derive(serde::Deserialize)]
struct LeanMember {
    value: Option<Json>,
}

impl Lean {
    /// The same members as a JSON object, so that readers see what a full parse would give
    /// them for these keys.
    fn into_json(self) -> Json {
        let mut o = serde_json::Map::new();
        let mut put = |k: &str, v: Option<Json>| {
            if let Some(v) = v {
                o.insert(k.to_string(), v);
            }
        };
        put("id", self.id);
        put("active", self.active);
        put("displayName", self.display_name);
        put(
            "Resources",
            self.resources
                .map(|rs| Json::Array(rs.into_iter().map(Lean::into_json).collect())),
        );
        put(
            "members",
            self.members.map(|ms| {
                Json::Array(
                    ms.into_iter()
                        .map(|m| {
                            let mut o = serde_json::Map::new();
                            if let Some(v) = m.value {
                                o.insert("value".into(), v);
                            }
                            Json::Object(o)
                        })
                        .collect(),
                )
            }),
        );
        Json::Object(o)
    }
}

/// How much of an answer's body the caller reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The members `Lean` names.
    Lean,
    /// All of it (Okta's profile push PUTs the server's own answer back).
    Full,
}

fn body_of(bytes: Option<&[u8]>, read: Read) -> Option<Json> {
    let bytes = bytes?;
    if read == Read::Lean {
        if let Some(lean) = crate::transport::parse_body::<Lean>(bytes) {
            return Some(lean.into_json());
        }
        // A body of another shape (a member of an unexpected type, a duplicate key) is read
        // whole, so that the cycle judges it exactly as before.
    }
    crate::transport::parse_body::<Json>(bytes)
}

/// An answer reduced to what the cycle needs.
pub struct Answer {
    pub status: u16,
    pub body: Option<Json>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn id(&self) -> Option<String> {
        self.body.as_ref()?.get("id")?.as_str().map(str::to_string)
    }
    /// The resources of a ListResponse (an absent `Resources` is an empty list).
    pub fn resources(&self) -> &[Json] {
        self.body
            .as_ref()
            .and_then(|b| b.get("Resources"))
            .and_then(Json::as_array)
            .map_or(&[], Vec::as_slice)
    }
}

pub struct Ctx {
    pub transport: Transport,
    pub dir: Directory,
    pub wire: Wire,
    pub metrics: Metrics,
    pub policy: Policy,
    pub pause: Pause,
    pub pacer: Option<Pacer>,
    pub time_scale: f64,
    pub users: IdTable,
    pub groups: IdTable,
    pub failures: Mutex<Failures>,
    pub stop: AtomicBool,
    /// Items done in the current phase (progress bar).
    pub done: AtomicU64,
}

impl Ctx {
    pub fn fail(&self, op: Op, msg: String) {
        self.metrics.error(op);
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.count += 1;
        if f.examples.len() < KEEP {
            f.examples.push(msg);
        }
    }

    /// Sends one request the IdP's way; 429s are retried per the policy, everything else is
    /// returned (status 0: no answer).
    pub async fn send(&self, op: Op, req: &OutgoingRequest) -> Answer {
        self.send_reading(op, req, Read::Lean).await
    }

    /// `send`, with the whole body parsed.
    pub async fn send_full(&self, op: Op, req: &OutgoingRequest) -> Answer {
        self.send_reading(op, req, Read::Full).await
    }

    async fn send_reading(&self, op: Op, req: &OutgoingRequest, read: Read) -> Answer {
        let mut n = 0u32;
        loop {
            if let Some(p) = &self.pacer {
                p.wait().await;
            }
            self.pause.wait().await;
            let t = Instant::now();
            let raw = self.transport.send_raw(req).await;
            self.metrics.record(op, raw.status, t.elapsed());
            if raw.status != 429 {
                return Answer {
                    status: raw.status,
                    body: body_of(raw.body.as_deref(), read),
                };
            }
            n += 1;
            let ra = raw
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                .map(|(_, v)| v.as_str());
            let Some((wait, honoured)) = self.policy.wait(n, ra) else {
                self.metrics.throttled(|t| {
                    t.responses_429 += 1;
                    t.gave_up += 1;
                });
                return Answer {
                    status: 429,
                    body: body_of(raw.body.as_deref(), read),
                };
            };
            let real = scaled(wait, self.time_scale);
            let started = Instant::now();
            if self.policy.job_wide() {
                self.pause.extend_to(started + real);
                self.pause.wait().await;
            } else {
                tokio::time::sleep(real).await;
            }
            let waited = started.elapsed();
            self.metrics.throttled(|t| {
                t.responses_429 += 1;
                t.retries += 1;
                if honoured {
                    t.retry_after_honoured += 1;
                } else {
                    t.without_retry_after += 1;
                }
                t.requested_wait_ms += wait.as_millis() as u64;
                t.waited_ms += waited.as_millis() as u64;
                t.longest_wait_ms = t.longest_wait_ms.max(wait.as_millis() as u64);
            });
        }
    }
}

/// Runs `item(i)` for i in 0..n on `concurrency` workers; stops early on Ctrl-C.
pub async fn phase<F, Fut>(ctx: &Arc<Ctx>, n: usize, concurrency: usize, item: F)
where
    F: Fn(Arc<Ctx>, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    ctx.done.store(0, Ordering::Relaxed);
    let next = Arc::new(AtomicU64::new(0));
    let item = Arc::new(item);
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (ctx, next, item) = (Arc::clone(ctx), Arc::clone(&next), Arc::clone(&item));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n || ctx.stop.load(Ordering::Relaxed) {
                    break;
                }
                item(Arc::clone(&ctx), i).await;
                ctx.done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

// ----- initial cycle -----------------------------------------------------------------------

/// The users' work list: every user once, and the overlapping ones twice in a row, so their two
/// tasks start together (the lookup/create race).
pub fn user_items(dir: &Directory) -> Vec<u32> {
    let mut v = Vec::with_capacity(dir.users as usize + dir.users as usize / 40);
    for i in 0..dir.users {
        v.push(i);
        if dir.is_overlapping(i) {
            v.push(i);
        }
    }
    v
}

fn take_id(ctx: &Ctx, op: Op, a: &Answer, what: &str) -> Option<String> {
    match a.id() {
        Some(id) => Some(id),
        None => {
            ctx.fail(
                op,
                format!("{what}: {} without an id", status_text(a.status)),
            );
            None
        }
    }
}

pub fn status_text(s: u16) -> String {
    if s == 0 {
        "no answer (transport error)".into()
    } else {
        format!("HTTP {s}")
    }
}

/// Lookup, then create or link (Entra §7.1 matching; Okta §2.2 decision tree).
pub async fn provision_user(ctx: Arc<Ctx>, i: u32) {
    let u = ctx.dir.user(i);
    let a = ctx
        .send(Op::UserLookup, &ctx.wire.lookup_user(&u.user_name))
        .await;
    if !a.ok() {
        return ctx.fail(
            Op::UserLookup,
            format!("lookup of {}: {}", u.user_name, status_text(a.status)),
        );
    }
    let found = a.resources();
    if let Some(first) = found.first() {
        if found.len() > 1 {
            // Entra: DuplicateTargetEntries; Okta links the first.
            ctx.fail(
                Op::UserLookup,
                format!("lookup of {} matched {} users", u.user_name, found.len()),
            );
        }
        if let Some(id) = first.get("id").and_then(Json::as_str) {
            ctx.users.set(i, id);
        }
        return;
    }
    let req = match &ctx.wire {
        Wire::Entra(e) => match e.create_user(&u) {
            Ok(r) => r,
            Err(m) => return ctx.fail(Op::UserCreate, format!("mappings of {}: {m}", u.user_name)),
        },
        Wire::Okta(_) => wire::okta_create_user(&u),
    };
    let a = ctx.send(Op::UserCreate, &req).await;
    if a.ok() {
        if let Some(id) = take_id(
            &ctx,
            Op::UserCreate,
            &a,
            &format!("create of {}", u.user_name),
        ) {
            ctx.users.set(i, &id);
        }
        return;
    }
    if a.status == 409 {
        // The other task of an overlapping assignment won: look again and link.
        let again = ctx
            .send(Op::UserLookup, &ctx.wire.lookup_user(&u.user_name))
            .await;
        if let Some(id) = again
            .resources()
            .first()
            .and_then(|r| r.get("id"))
            .and_then(Json::as_str)
        {
            ctx.users.set(i, id);
            ctx.failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .conflicts_resolved += 1;
            return;
        }
    }
    ctx.fail(
        Op::UserCreate,
        format!("create of {}: {}", u.user_name, status_text(a.status)),
    );
}

pub async fn provision_group(ctx: Arc<Ctx>, g: u32) {
    let gr = ctx.dir.group(g);
    let a = ctx
        .send(Op::GroupLookup, &ctx.wire.lookup_group(&gr.display_name))
        .await;
    if !a.ok() {
        return ctx.fail(
            Op::GroupLookup,
            format!(
                "lookup of group {}: {}",
                gr.display_name,
                status_text(a.status)
            ),
        );
    }
    if let Some(id) = a
        .resources()
        .first()
        .and_then(|r| r.get("id"))
        .and_then(Json::as_str)
    {
        ctx.groups.set(g, id);
        return;
    }
    let req = match &ctx.wire {
        Wire::Entra(e) => match e.create_group(&gr) {
            Ok(r) => r,
            Err(m) => {
                return ctx.fail(
                    Op::GroupCreate,
                    format!("mappings of {}: {m}", gr.display_name),
                )
            }
        },
        Wire::Okta(_) => wire::okta_create_group(&gr),
    };
    let a = ctx.send(Op::GroupCreate, &req).await;
    if !a.ok() {
        return ctx.fail(
            Op::GroupCreate,
            format!(
                "create of group {}: {}",
                gr.display_name,
                status_text(a.status)
            ),
        );
    }
    let Some(id) = take_id(
        &ctx,
        Op::GroupCreate,
        &a,
        &format!("create of group {}", gr.display_name),
    ) else {
        return;
    };
    ctx.groups.set(g, &id);
    if let Wire::Okta(OktaProfile::Oin) = ctx.wire {
        // "immediately after each create" (Okta and SCIM Version 2.0, SCIM Group operations: the PATCH after a create).
        rename(&ctx, &id, g).await;
    }
}

async fn rename(ctx: &Ctx, gid: &str, g: u32) {
    let gr = ctx.dir.group(g);
    let a = ctx
        .send(Op::GroupRename, &wire::okta_rename_group(gid, &gr))
        .await;
    if !a.ok() {
        ctx.fail(
            Op::GroupRename,
            format!(
                "rename PATCH of {}: {}",
                gr.display_name,
                status_text(a.status)
            ),
        );
    }
}

/// Members per PATCH: Entra's setting (the default-mode PATCH rules on Entra's SCIM compliance known-issues page), Okta's batch, or the whole group for
/// Okta AIW (one PUT per group).
pub fn batch_size(ctx: &Ctx) -> usize {
    match &ctx.wire {
        Wire::Entra(e) => e.settings.member_batch_size.max(1),
        Wire::Okta(OktaProfile::Oin) => OKTA_MEMBER_BATCH,
        Wire::Okta(OktaProfile::Aiw) => usize::MAX,
    }
}

pub fn batches_per_group(ctx: &Ctx) -> usize {
    (ctx.dir.members as usize).div_ceil(batch_size(ctx)).max(1)
}

/// Ids of the given users with their userNames; users the cycle could not provision are left
/// out (their failure is already counted; the audit names the missing memberships). Entra's
/// member values carry the id alone, so for Entra the names are left empty, never made.
fn member_ids(ctx: &Ctx, users: impl Iterator<Item = u32>) -> Vec<(String, String)> {
    let names = !matches!(ctx.wire, Wire::Entra(_));
    users
        .filter_map(|i| {
            let id = ctx.users.get(i)?;
            let name = if names {
                ctx.dir.user_name(i)
            } else {
                String::new()
            };
            Some((id, name))
        })
        .collect()
}

/// One member batch of one group (batches of one group are independent work items, so they
/// may travel at once, as a parallel provisioning engine sends them).
pub async fn push_members(ctx: Arc<Ctx>, item: usize) {
    let per = batches_per_group(&ctx);
    let (g, b) = ((item / per) as u32, item % per);
    let Some(gid) = ctx.groups.get(g) else { return };
    let size = batch_size(&ctx);
    let users = ctx
        .dir
        .initial_members(g)
        .skip(b.saturating_mul(size))
        .take(size);
    let members = member_ids(&ctx, users);
    if members.is_empty() {
        return;
    }
    let name = ctx.dir.group(g).display_name;
    match &ctx.wire {
        Wire::Entra(e) => {
            let ids: Vec<String> = members.into_iter().map(|(id, _)| id).collect();
            let a = ctx.send(Op::GroupMembers, &e.add_members(&gid, &ids)).await;
            if !a.ok() {
                ctx.fail(
                    Op::GroupMembers,
                    format!(
                        "adding {} members to {name}: {}",
                        ids.len(),
                        status_text(a.status)
                    ),
                );
            }
        }
        Wire::Okta(OktaProfile::Oin) => {
            let a = ctx
                .send(
                    Op::GroupMembers,
                    &wire::okta_members_delta(&gid, &[], &members),
                )
                .await;
            if !a.ok() {
                ctx.fail(
                    Op::GroupMembers,
                    format!(
                        "adding {} members to {name}: {}",
                        members.len(),
                        status_text(a.status)
                    ),
                );
            }
            rename(&ctx, &gid, g).await;
        }
        Wire::Okta(OktaProfile::Aiw) => {
            aiw_put_group(&ctx, g, &gid, &members).await;
        }
    }
}

/// AIW: GET the group, then PUT it with the complete member list (Okta and SCIM Version 2.0: AIW apps PUT the group).
async fn aiw_put_group(ctx: &Ctx, g: u32, gid: &str, members: &[(String, String)]) {
    let gr = ctx.dir.group(g);
    let a = ctx.send(Op::GroupRead, &ctx.wire.read("Groups", gid)).await;
    if !a.ok() {
        return ctx.fail(
            Op::GroupRead,
            format!("read of {}: {}", gr.display_name, status_text(a.status)),
        );
    }
    let a = ctx
        .send(Op::GroupMembers, &wire::okta_put_group(gid, &gr, members))
        .await;
    if !a.ok() {
        ctx.fail(
            Op::GroupMembers,
            format!("PUT of {}: {}", gr.display_name, status_text(a.status)),
        );
    }
}

// ----- incremental cycle -------------------------------------------------------------------

/// Users that change in the incremental cycle.
pub fn changed_users(dir: &Directory) -> Vec<u32> {
    (0..dir.users)
        .filter(|&i| dir.is_updated(i) || dir.is_disabled(i))
        .collect()
}

pub async fn update_user(ctx: Arc<Ctx>, i: u32) {
    let u = ctx.dir.user(i);
    let Some(id) = ctx.users.get(i) else { return };
    let display = ctx.dir.final_display_name(&u);
    let disabled = ctx.dir.is_disabled(i);
    match &ctx.wire {
        Wire::Entra(e) => {
            // Entra reads the object before it diffs and PATCHes ("How Application Provisioning works", Microsoft Learn).
            let a = ctx.send(Op::UserRead, &ctx.wire.read("Users", &id)).await;
            if !a.ok() {
                return ctx.fail(
                    Op::UserRead,
                    format!("read of {}: {}", u.user_name, status_text(a.status)),
                );
            }
            let req = match e.update_user(&id, &u, &display, disabled) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(m) => {
                    return ctx.fail(Op::UserUpdate, format!("mappings of {}: {m}", u.user_name))
                }
            };
            let op = if disabled {
                Op::UserDeactivate
            } else {
                Op::UserUpdate
            };
            let a = ctx.send(op, &req).await;
            if !a.ok() {
                ctx.fail(
                    op,
                    format!("update of {}: {}", u.user_name, status_text(a.status)),
                );
            }
        }
        Wire::Okta(profile) => {
            let updated = ctx.dir.is_updated(i);
            // Profile push is GET then PUT for both personalities (Okta and SCIM Version 2.0, "Update a specific User (PUT)"); AIW also
            // deactivates by GET+PUT, OIN by PATCH (§2.5).
            if updated || *profile == OktaProfile::Aiw {
                let a = ctx
                    .send_full(Op::UserRead, &ctx.wire.read("Users", &id))
                    .await;
                let Some(current) = a.body.filter(|_| (200..300).contains(&a.status)) else {
                    return ctx.fail(
                        Op::UserRead,
                        format!("read of {}: {}", u.user_name, status_text(a.status)),
                    );
                };
                let active = !(disabled && *profile == OktaProfile::Aiw);
                let op = if active {
                    Op::UserUpdate
                } else {
                    Op::UserDeactivate
                };
                let a = ctx
                    .send(op, &wire::okta_put_user(&id, current, &display, active))
                    .await;
                if !a.ok() {
                    return ctx.fail(
                        op,
                        format!("PUT of {}: {}", u.user_name, status_text(a.status)),
                    );
                }
            }
            if disabled && *profile == OktaProfile::Oin {
                let a = ctx
                    .send(Op::UserDeactivate, &wire::okta_deactivate(&id))
                    .await;
                if !a.ok() {
                    ctx.fail(
                        Op::UserDeactivate,
                        format!("deactivation of {}: {}", u.user_name, status_text(a.status)),
                    );
                }
            }
        }
    }
}

/// The membership delta of one group: the leaving members out, the joining ones in.
pub async fn change_members(ctx: Arc<Ctx>, g: u32) {
    let Some(gid) = ctx.groups.get(g) else { return };
    let name = ctx.dir.group(g).display_name;
    let leaving = member_ids(&ctx, ctx.dir.leaving(g));
    let joining = member_ids(&ctx, ctx.dir.joining(g));
    match &ctx.wire {
        Wire::Entra(e) => {
            let size = batch_size(&ctx);
            let ids =
                |v: &[(String, String)]| v.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
            for chunk in ids(&leaving).chunks(size) {
                let a = ctx
                    .send(Op::GroupMembers, &e.remove_members(&gid, chunk))
                    .await;
                if !a.ok() {
                    ctx.fail(
                        Op::GroupMembers,
                        format!("removing members from {name}: {}", status_text(a.status)),
                    );
                }
            }
            for chunk in ids(&joining).chunks(size) {
                let a = ctx
                    .send(Op::GroupMembers, &e.add_members(&gid, chunk))
                    .await;
                if !a.ok() {
                    ctx.fail(
                        Op::GroupMembers,
                        format!("adding members to {name}: {}", status_text(a.status)),
                    );
                }
            }
        }
        Wire::Okta(OktaProfile::Oin) => {
            let remove: Vec<String> = leaving.into_iter().map(|(id, _)| id).collect();
            let a = ctx
                .send(
                    Op::GroupMembers,
                    &wire::okta_members_delta(&gid, &remove, &joining),
                )
                .await;
            if !a.ok() {
                ctx.fail(
                    Op::GroupMembers,
                    format!("membership delta of {name}: {}", status_text(a.status)),
                );
            }
            rename(&ctx, &gid, g).await;
        }
        Wire::Okta(OktaProfile::Aiw) => {
            let all = member_ids(&ctx, ctx.dir.final_members(g));
            aiw_put_group(&ctx, g, &gid, &all).await;
        }
    }
}

/// How long a phase took and what it sent.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PhaseStats {
    pub name: &'static str,
    pub items: u64,
    pub requests: u64,
    pub duration_ms: u64,
    pub requests_per_second: f64,
    /// When the phase began, in milliseconds since the Unix epoch, so that a benchmark can set
    /// the server's CPU time over the same span.
    pub started_unix_ms: u64,
    /// CPU time the client (this process, every thread) used during the phase; absent where
    /// the OS does not tell (see `support::cpu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cpu_ms: Option<f64>,
}

pub fn rate(requests: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s <= 0.0 {
        0.0
    } else {
        (requests as f64 / s * 10.0).round() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_table_keeps_ids_compactly() {
        let t = IdTable::with_len(3);
        t.set(1, "abc");
        t.set(2, "de");
        t.set(1, "xyz");
        t.set(7, "out of range");
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(1).as_deref(), Some("xyz"));
        assert_eq!(t.get(2).as_deref(), Some("de"));
        assert_eq!(t.get(9), None);
    }
}
