//! The Entra provisioning engine, one object at a time (entra.md §7): scope and IsSoftDeleted,
//! matching before create, create, incremental PATCH of what changed (FlowWhenChanged), reference
//! attributes (manager, members) after the objects exist, deletes, retries and throttling.
//!
//! Entra's own memory — the anchor (server id) per object, what it last flowed, which members it
//! added — lives in `ScenarioState::entra` as [`State`], so later steps see it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::idp::context::ActionCtx;
use crate::idp::entra::config::{is_reference, Mappings, Mode, Settings, UnassignAction};
use crate::idp::entra::expr::{
    evaluate_mappings, matching_order, AttributeMapping, EvalContext, Operation, Value,
};
use crate::idp::entra::judge;
use crate::idp::entra::roles::{self, RoleTargets};
use crate::idp::entra::wire::{self, Change, UrlPlan};
use crate::outcome::{DiffEntry, Finding};
use crate::scenario::Idp;
use crate::transport::{OutgoingRequest, RawResponse};

/// What Entra remembers about one source object.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Obj {
    /// Assigned to the app (in scope).
    pub assigned: bool,
    /// In the Entra recycle bin.
    pub soft_deleted: bool,
    pub hard_deleted: bool,
    /// The anchor: the server's id once matched or created.
    pub id: Option<String>,
    /// Entra still flows changes; false once the object left scope and was deprovisioned
    /// (a later delete then sends nothing, entra.md §5.3, §9 #16).
    pub managed: bool,
    /// What the mappings evaluated to when Entra last flowed the object.
    pub last: BTreeMap<String, Json>,
    /// Member ids Entra added to this group.
    pub members: Vec<String>,
    /// The manager id Entra last wrote.
    pub manager: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub users: BTreeMap<String, Obj>,
    pub groups: BTreeMap<String, Obj>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn collection(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }
}

/// Why an object is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A scheduled cycle: linked objects are processed only if a mapped value changed.
    Cycle,
    /// Assignment (or restore, re-enable): process even if nothing changed since last time.
    Scope,
    /// Provisioning on demand: always match by filter, ignore the flag, ≤ 5 members (§7.3, POD).
    OnDemand,
}

/// The step's `Ok(true)`: keep going; `Ok(false)` never used; `Err(())`: Entra stops here
/// (an error finding was recorded).
pub type Flow = Result<(), ()>;

pub struct Engine<'c, 'a> {
    pub ctx: &'c mut ActionCtx<'a>,
    pub settings: Settings,
    pub mappings: Mappings,
    /// The body mode (default for provisioning on demand, which ignores the flag).
    pub mode: Mode,
    pub url: UrlPlan,
    pub st: State,
}

impl<'c, 'a> Engine<'c, 'a> {
    pub fn new(
        ctx: &'c mut ActionCtx<'a>,
        settings: Settings,
        mappings: Mappings,
        mode: Mode,
    ) -> Self {
        let st = std::mem::take(&mut ctx.state.entra);
        let url = UrlPlan::new(
            mode,
            settings.flag_position,
            ctx.transport.base().query.as_deref(),
        );
        Engine {
            ctx,
            settings,
            mappings,
            mode,
            url,
            st,
        }
    }

    /// Hands what Entra remembers back to the scenario's state for the next action.
    pub fn save(&mut self) {
        self.ctx.state.entra = std::mem::take(&mut self.st);
    }

    fn info(&mut self, rule: &str, message: String) {
        let f = self.ctx.rule(rule, message);
        self.ctx.finding(f);
    }

    fn error(&mut self, f: Finding, exchange: Option<usize>) {
        let mut f = f.source(self.ctx.here());
        if let Some(i) = exchange {
            f = f.at_exchange(i);
        }
        self.ctx.finding(f);
    }

    pub fn obj(&self, kind: Kind, key: &str) -> Obj {
        let table = match kind {
            Kind::User => &self.st.users,
            Kind::Group => &self.st.groups,
        };
        table.get(key).cloned().unwrap_or_default()
    }

    pub fn obj_mut(&mut self, kind: Kind, key: &str) -> &mut Obj {
        let table = match kind {
            Kind::User => &mut self.st.users,
            Kind::Group => &mut self.st.groups,
        };
        table.entry(key.to_string()).or_default()
    }

    // ----- transport -------------------------------------------------------------------

    /// Sends as Entra does (its headers, its query), retrying 429 after Retry-After and 5xx
    /// after Entra's 40 minutes, both scaled by `--time-scale` (entra.md §7.4, §7.5).
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        params: &[String],
        body: Option<Json>,
    ) -> (usize, RawResponse) {
        let mut req = OutgoingRequest::new(method, self.url.url(path, params)).without_base_query();
        for (k, v) in wire::headers(method) {
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let (mut n429, mut n5xx) = (0u32, 0u32);
        loop {
            let (i, r) = self.ctx.send(req.clone()).await;
            if r.status == 429 && n429 < self.settings.retry_429 {
                n429 += 1;
                let wait = retry_after(&r).unwrap_or(Duration::from_secs(1 << n429.min(8)));
                let f = Finding::judged(
                    "entra.throttle.retried",
                    Idp::Entra,
                    format!("429 Too Many Requests: Entra waits {}s (Retry-After) and retries (attempt {n429})", wait.as_secs()),
                )
                .at_exchange(i);
                self.error(f, None);
                self.ctx.wait(wait).await;
                continue;
            }
            if r.status >= 500 && n5xx < self.settings.retry_5xx {
                n5xx += 1;
                let f = Finding::judged(
                    "entra.retry.server-error",
                    Idp::Entra,
                    format!(
                        "{}: Entra retries this object in {} seconds (next cycle)",
                        r.status, self.settings.retry_5xx_delay_secs
                    ),
                )
                .impact(judge::status_impact(r.status))
                .at_exchange(i);
                self.error(f, None);
                self.ctx
                    .wait(Duration::from_secs(self.settings.retry_5xx_delay_secs))
                    .await;
                continue;
            }
            if r.status == 429 {
                let f = judge::failed(
                    "entra.throttle.exhausted",
                    "the server throttled Entra on every retry; it",
                    "2xx",
                    &r,
                );
                self.error(f, Some(i));
            }
            return (i, r);
        }
    }

    // ----- source objects and mappings -------------------------------------------------

    /// The source object Entra evaluates mappings over: the directory attributes plus the
    /// computed IsSoftDeleted (unassigned, soft-deleted or accountEnabled false, §5.1).
    pub fn source(&self, kind: Kind, key: &str) -> Map<String, Json> {
        let obj = self.obj(kind, key);
        let mut src = match kind {
            Kind::User => self
                .ctx
                .state
                .directory
                .user(key)
                .cloned()
                .unwrap_or_default(),
            Kind::Group => self
                .ctx
                .state
                .directory
                .group(key)
                .map(|g| g.attributes.clone())
                .unwrap_or_default(),
        };
        let enabled = src
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("accountEnabled"))
            .map(|(_, v)| !is_false(v))
            .unwrap_or(true);
        let soft = !obj.assigned || obj.soft_deleted || !enabled;
        src.retain(|k, _| !k.eq_ignore_ascii_case("IsSoftDeleted"));
        src.insert(
            "IsSoftDeleted".into(),
            json!(if soft { "True" } else { "False" }),
        );
        src
    }

    fn mappings_of(&self, kind: Kind) -> Vec<AttributeMapping> {
        match kind {
            Kind::User => self.mappings.user.clone(),
            Kind::Group => self.mappings.group.clone(),
        }
    }

    /// Evaluates the non-reference mappings; an evaluation error is Entra failing the object.
    fn evaluate(
        &mut self,
        kind: Kind,
        key: &str,
        op: Operation,
    ) -> Result<Vec<(String, Value)>, ()> {
        let list: Vec<AttributeMapping> = self
            .mappings_of(kind)
            .into_iter()
            .filter(|m| !is_reference(&m.target))
            .collect();
        let src = self.source(kind, key);
        match evaluate_mappings(&list, &src, op, &EvalContext::default()) {
            Ok(v) => Ok(v),
            Err(e) => {
                let f = Finding::judged(
                    "entra.mapping.evaluation",
                    Idp::Entra,
                    format!(
                        "evaluating the mappings of {} `{key}` failed: {}",
                        kind.noun(),
                        e.message
                    ),
                );
                self.error(f, None);
                Err(())
            }
        }
    }

    fn is_soft_deleted(&self, kind: Kind, key: &str) -> bool {
        self.source(kind, key).get("IsSoftDeleted") == Some(&json!("True"))
    }

    fn link(&mut self, kind: Kind, key: &str, id: &str) {
        let o = self.obj_mut(kind, key);
        o.id = Some(id.to_string());
        o.managed = true;
        let table = match kind {
            Kind::User => &mut self.ctx.state.users,
            Kind::Group => &mut self.ctx.state.groups,
        };
        table.insert(key.to_string(), json!({"id": id}));
    }

    // ----- actions ---------------------------------------------------------------------

    /// Test Connection (§2): a filter on the matching attribute with a random GUID, no Accept,
    /// no User-Agent; 200 with an empty ListResponse is the only good answer.
    pub async fn test_connection(&mut self, groups: bool) -> Flow {
        let attr = first_matching(&self.mappings.user).unwrap_or_else(|| "userName".into());
        let guid = uuid::Uuid::new_v4().to_string();
        self.probe(Kind::User, &attr, &guid).await?;
        if groups {
            // The group probe's request line is undocumented (§2, §10.2): the lookup shape.
            let attr = first_matching(&self.mappings.group).unwrap_or_else(|| "displayName".into());
            self.probe(Kind::Group, &attr, &guid).await?;
        }
        Ok(())
    }

    async fn probe(&mut self, kind: Kind, attr: &str, guid: &str) -> Flow {
        let mut params = Vec::new();
        if kind == Kind::Group {
            params.push("excludedAttributes=members".to_string());
        }
        params.push(wire::filter_param(attr, guid));
        let path = format!("/{}", kind.collection());
        let (i, r) = self.send("GET", &path, &params, None).await;
        if r.status == 0 || self.ctx.root_caused(i) || self.ctx.failed_at(i) {
            // No answer, or a built-in rule named why (a 404 for the miss, no Accept refused,
            // credentials refused, …) with Entra's consequence.
            return Err(());
        }
        if (200..300).contains(&r.status) {
            let total = r
                .body
                .as_ref()
                .and_then(|b| b.get("totalResults"))
                .and_then(Json::as_i64);
            let n = resources(&r).map(|a| a.len()).unwrap_or(0);
            if (total.unwrap_or(0) != 0 || n != 0) && !self.ctx.judged(i, "rfc7644.filter.ignored")
            {
                let f = Finding::judged(
                    "rfc7644.filter.ignored",
                    Idp::Entra,
                    format!("a filter for a random GUID ({attr} eq \"{guid}\") matched something"),
                )
                .diff(DiffEntry::new(
                    "/totalResults",
                    "0",
                    total
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "absent".into()),
                ));
                self.error(f, Some(i));
                return Err(());
            }
            return if self.ctx.judged(i, "rfc7644.filter.ignored") {
                Err(())
            } else {
                Ok(())
            };
        }
        let f = judge::failed(
            "entra.test-connection.failed",
            &format!(
                "Test Connection (GET /{}?filter={attr} eq \"<random GUID>\", no Accept, no User-Agent)",
                kind.collection()
            ),
            "200",
            &r,
        );
        self.error(f, Some(i));
        Err(())
    }

    /// Finds the target object by the matching attributes, in precedence order (§7.1).
    /// `Ok(None)`: no match, create. Errors are recorded.
    async fn find(
        &mut self,
        kind: Kind,
        key: &str,
        vals: &[(String, Value)],
    ) -> Result<Option<String>, ()> {
        let mut any_value = false;
        let matching: Vec<String> = matching_order(match kind {
            Kind::User => &self.mappings.user,
            Kind::Group => &self.mappings.group,
        })
        .into_iter()
        .map(|m| m.target.clone())
        .collect();
        for attr in matching {
            let Some(value) = vals
                .iter()
                .find(|(t, _)| *t == attr)
                .and_then(|(_, v)| scalar(v))
            else {
                continue;
            };
            any_value = true;
            let mut params = Vec::new();
            if kind == Kind::Group {
                params.push("excludedAttributes=members".to_string());
            }
            params.push(wire::filter_param(&attr, &value));
            let (i, r) = self
                .send("GET", &format!("/{}", kind.collection()), &params, None)
                .await;
            if r.status == 0 || self.ctx.root_caused(i) || self.ctx.failed_at(i) {
                // No answer, or a built-in rule said why (404 for a miss, members despite
                // excludedAttributes, a filter ignored, …) with Entra's consequence.
                return Err(());
            }
            if !(200..300).contains(&r.status) {
                let f = judge::failed(
                    "entra.lookup.failed",
                    &format!(
                        "the matching query for {} `{key}` ({attr} eq \"{value}\")",
                        kind.noun()
                    ),
                    "200",
                    &r,
                );
                self.error(f, Some(i));
                return Err(());
            }
            let Some(list) = resources(&r) else {
                // The built-in rules already describe the malformed ListResponse.
                return Err(());
            };
            match list.as_slice() {
                [] => continue,
                [one] => {
                    let Some(id) = one.get("id").and_then(Json::as_str) else {
                        return Err(());
                    };
                    return Ok(Some(id.to_string()));
                }
                many => {
                    let f = Finding::judged(
                        "entra.lookup.duplicate",
                        Idp::Entra,
                        format!("{} resources match {attr} eq \"{value}\"", many.len()),
                    )
                    .diff(DiffEntry::new(
                        "/totalResults",
                        "0 or 1",
                        many.len().to_string(),
                    ));
                    self.error(f, Some(i));
                    return Err(());
                }
            }
        }
        if !any_value {
            let f = Finding::judged(
                "entra.match.no-value",
                Idp::Entra,
                format!(
                    "{} `{key}` has no value for any matching attribute",
                    kind.noun()
                ),
            );
            self.error(f, None);
            return Err(());
        }
        Ok(None)
    }

    /// One object through Entra's cycle: match or use the anchor, create or update.
    pub async fn sync(&mut self, kind: Kind, key: &str, trigger: Trigger) -> Flow {
        let obj = self.obj(kind, key);
        if obj.hard_deleted {
            return Ok(());
        }
        if obj.id.is_none() || trigger == Trigger::OnDemand {
            if !obj.assigned {
                if obj.id.is_none() {
                    self.info("entra.cycle.skipped", format!("{} `{key}` is not assigned to the app: EntrySynchronizationSkipped (out of scope)", kind.noun()));
                    return Ok(());
                }
            } else if obj.id.is_none() && kind == Kind::User && self.is_soft_deleted(kind, key) {
                self.info("entra.cycle.skipped", format!("user `{key}` is disabled or soft-deleted: Entra does not provision a user that was never active"));
                return Ok(());
            }
            let vals = self.evaluate(kind, key, Operation::Create)?;
            match self.find(kind, key, &vals).await? {
                None => return self.create(kind, key, vals).await,
                Some(id) => {
                    let relinked = obj.id.as_deref().is_some_and(|old| old != id);
                    if relinked {
                        self.info("entra.cycle.relinked", format!("{} `{key}` matched a different server id ({id}); Entra re-links it", kind.noun()));
                    }
                    self.link(kind, key, &id);
                }
            }
        } else if !obj.managed {
            self.info("entra.cycle.skipped", format!("{} `{key}` left scope and was already deprovisioned: Entra sends nothing for it", kind.noun()));
            return Ok(());
        }
        self.update(kind, key, trigger).await?;
        let obj = self.obj(kind, key);
        if !obj.assigned && kind == Kind::User {
            // Out of scope and now disabled: Entra stops managing it.
            self.obj_mut(kind, key).managed = false;
        }
        Ok(())
    }

    async fn create(&mut self, kind: Kind, key: &str, vals: Vec<(String, Value)>) -> Flow {
        let body = match kind {
            Kind::User => wire::create_user_body(&vals, &RoleTargets::of(&self.mappings.user)),
            Kind::Group => wire::create_group_body(&vals),
        };
        let sent = body.clone();
        let (i, r) = self
            .send("POST", &format!("/{}", kind.collection()), &[], Some(body))
            .await;
        if r.status == 0 || self.ctx.root_caused(i) {
            return Err(());
        }
        if crate::idp::custom::refusal_blames_custom(&sent, &r) {
            crate::idp::custom::rejected(self.ctx, &sent, &r, i, "Entra's create").await;
            return Err(());
        }
        let role_fns = match kind {
            Kind::User => {
                let targets = RoleTargets::of(&self.mappings.user);
                vals.iter().filter_map(|(t, _)| targets.get(t)).collect()
            }
            Kind::Group => Vec::new(),
        };
        if roles::refusal_blames_roles(!role_fns.is_empty(), &r) {
            let what = format!("creating user `{key}`");
            let f = roles::rejected(
                &role_fns,
                self.mode,
                self.settings.flag_role_patch,
                false,
                &what,
                &r,
            );
            self.error(f, Some(i));
            return Err(());
        }
        if r.status == 409 {
            let mut f = judge::failed(
                "entra.create.conflict",
                &format!(
                    "creating {} `{key}` after the matching query found nothing",
                    kind.noun()
                ),
                "201",
                &r,
            );
            if kind == Kind::User {
                // Why did the match miss what the server holds? (case, an inactive user hidden
                // from filters, a deactivation that deleted the user)
                let matching = first_matching(&self.mappings.user);
                let value = matching
                    .as_ref()
                    .and_then(|a| vals.iter().find(|(t, _)| t == a))
                    .and_then(|(_, v)| scalar(v));
                if let (Some(attr), Some(value)) = (matching, value) {
                    let linked = self.obj(kind, key).id;
                    match crate::idp::diagnose::missed_user(
                        self.ctx,
                        &attr,
                        &value,
                        linked.as_deref(),
                    )
                    .await
                    {
                        crate::idp::diagnose::Miss::Reported => return Err(()),
                        crate::idp::diagnose::Miss::Cause(rule, why) => {
                            f = Finding {
                                message: format!("{}: {why}", f.message),
                                ..f
                            }
                            .rebind(rule, Idp::Entra);
                        }
                        crate::idp::diagnose::Miss::Unknown => {}
                    }
                }
            } else {
                // A group the server holds under the name Entra matched on: the filter missed
                // it (a server that cannot filter groups), and the 409 is only its consequence.
                let attr =
                    first_matching(&self.mappings.group).unwrap_or_else(|| "displayName".into());
                let value = vals
                    .iter()
                    .find(|(t, _)| *t == attr)
                    .and_then(|(_, v)| scalar(v));
                if let Some(value) = value {
                    if let crate::idp::diagnose::Miss::Cause(rule, why) =
                        crate::idp::diagnose::missed_group(self.ctx, &attr, &value).await
                    {
                        f = Finding {
                            message: format!("{}: {why}", f.message),
                            ..f
                        }
                        .rebind(rule, Idp::Entra);
                    }
                }
            }
            self.error(f, Some(i));
            return Err(());
        }
        if self.ctx.root_caused(i) {
            return Err(());
        }
        if !(200..300).contains(&r.status) {
            let f = judge::failed(
                "entra.create.failed",
                &format!("creating {} `{key}`", kind.noun()),
                "201",
                &r,
            );
            self.error(f, Some(i));
            return Err(());
        }
        let Some(id) = r
            .body
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Json::as_str)
        else {
            // rfc7644.create.id already explains it.
            return Err(());
        };
        let id = id.to_string();
        self.link(kind, key, &id);
        let o = self.obj_mut(kind, key);
        o.last = stored(&vals);
        o.members.clear();
        o.manager = None;
        if kind == Kind::User {
            self.verify_custom(&id, &vals, None, true, "Entra's create")
                .await;
        }
        Ok(())
    }

    /// Incremental update of a linked object: GET it (groups without members), diff, PATCH
    /// only what differs (FlowWhenChanged, §6.5, §7.1).
    async fn update(&mut self, kind: Kind, key: &str, trigger: Trigger) -> Flow {
        let obj = self.obj(kind, key);
        let Some(id) = obj.id.clone() else {
            return Ok(());
        };
        let vals = self.evaluate(kind, key, Operation::Update)?;
        let now = stored(&vals);
        let changed_since_last = vals
            .iter()
            .any(|(t, v)| obj.last.get(t) != Some(&stored_value(v)));
        if trigger == Trigger::Cycle && !changed_since_last {
            return Ok(());
        }
        let path = format!("/{}/{id}", kind.collection());
        let held = if self.settings.read_before_update {
            let params: Vec<String> = match kind {
                Kind::Group => vec!["excludedAttributes=members".into()],
                Kind::User => Vec::new(),
            };
            let (i, r) = self.send("GET", &path, &params, None).await;
            if r.status == 0 || self.ctx.root_caused(i) {
                return Err(());
            }
            match r.status {
                404 => {
                    let f = judge::failed_as(
                        "entra.update.invalid-anchor",
                        &format!("reading linked {} `{key}` ({path})", kind.noun()),
                        "200",
                        &r,
                    );
                    self.error(f, Some(i));
                    return Err(());
                }
                s if !(200..300).contains(&s) => {
                    let f = judge::failed(
                        "entra.update.read-failed",
                        &format!("reading linked {} `{key}`", kind.noun()),
                        "200",
                        &r,
                    );
                    self.error(f, Some(i));
                    return Err(());
                }
                _ => {}
            }
            if self.ctx.failed_at(i) {
                // e.g. members despite excludedAttributes: the built-in rule reported it.
                return Err(());
            }
            r.body
        } else {
            None
        };
        let role_targets = match kind {
            Kind::User => RoleTargets::of(&self.mappings.user),
            Kind::Group => RoleTargets::default(),
        };
        let changes: Vec<Change> = vals
            .iter()
            .filter_map(|(t, v)| {
                let role = role_targets.get(t);
                let (same, had) = match (&held, role) {
                    // App roles: compared by role value as `entra::roles` (choice 3) says.
                    (Some(body), Some(f)) => {
                        let cur = wire::get_target(body, roles::attribute(t).0);
                        (roles::held_matches(f, cur.as_ref(), v), cur.is_some())
                    }
                    (Some(body), None) => {
                        let cur = wire::get_target(body, t);
                        (wire::same_value(cur.as_ref(), v), cur.is_some())
                    }
                    (None, _) => (
                        obj.last.get(t) == Some(&stored_value(v)),
                        obj.last.contains_key(t),
                    ),
                };
                (!same).then(|| Change {
                    target: t.clone(),
                    value: v.clone(),
                    had_value: had,
                    role,
                })
            })
            .collect();
        if !changes.is_empty() {
            let body = wire::update_body(self.mode, &changes, self.settings.flag_role_patch);
            let sent = body.clone();
            let (i, r) = self.send("PATCH", &path, &[], Some(body)).await;
            if r.status == 0 || self.ctx.root_caused(i) {
                return Err(());
            }
            if crate::idp::custom::refusal_blames_custom(&sent, &r) {
                crate::idp::custom::rejected(self.ctx, &sent, &r, i, "Entra's update").await;
                return Err(());
            }
            let role_fns: Vec<roles::RoleFn> = changes.iter().filter_map(|c| c.role).collect();
            if roles::refusal_blames_roles(!role_fns.is_empty(), &r) {
                let what = format!("the update of user `{key}`");
                let f = roles::rejected(
                    &role_fns,
                    self.mode,
                    self.settings.flag_role_patch,
                    true,
                    &what,
                    &r,
                );
                self.error(f, Some(i));
                return Err(());
            }
            if !(200..300).contains(&r.status) {
                let has_string_bool = self.mode == Mode::Default
                    && changes.iter().any(|c| wire::is_boolean_target(&c.target));
                let filtered_add = changes
                    .iter()
                    .any(|c| !c.had_value && wire::FilteredPath::parse(&c.target).is_some());
                let no_target = r
                    .body
                    .as_ref()
                    .and_then(|b| b.get("scimType"))
                    .and_then(Json::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("noTarget"));
                let f = if r.status == 400 && filtered_add && no_target {
                    judge::failed(
                        "rfc7644.patch.add-no-target",
                        &format!(
                            "the update of {} `{key}` (an Add on a filtered path for a value it has none of)",
                            kind.noun()
                        ),
                        "200 or 204",
                        &r,
                    )
                } else if r.status == 400 && has_string_bool {
                    judge::string_boolean_rejected(&r)
                } else {
                    judge::failed(
                        "entra.patch.rejected",
                        &format!("the update of {} `{key}`", kind.noun()),
                        "200 or 204",
                        &r,
                    )
                };
                self.error(f, Some(i));
                return Err(());
            }
            if kind == Kind::User {
                let flowed: Vec<(String, Value)> = changes
                    .iter()
                    .map(|c| (c.target.clone(), c.value.clone()))
                    .collect();
                self.verify_custom(&id, &flowed, held.as_ref(), false, "Entra's update")
                    .await;
            }
        }
        self.obj_mut(kind, key).last = now;
        Ok(())
    }

    /// The manager reference, written by its own PATCH once both users are linked (§4.4).
    pub async fn sync_manager(&mut self, key: &str) -> Flow {
        let Some(mapping) = self
            .mappings
            .user
            .iter()
            .find(|m| is_reference(&m.target) && m.target.to_ascii_lowercase().ends_with("manager"))
            .cloned()
        else {
            return Ok(());
        };
        let obj = self.obj(Kind::User, key);
        let (Some(id), true, false) = (obj.id.clone(), obj.managed, obj.hard_deleted) else {
            return Ok(());
        };
        let src = self.source(Kind::User, key);
        let Ok(vals) = evaluate_mappings(
            std::slice::from_ref(&mapping),
            &src,
            Operation::Update,
            &EvalContext::default(),
        ) else {
            return Ok(());
        };
        let Some(reference) = vals
            .first()
            .and_then(|(_, v)| scalar(v))
            .filter(|r| !r.is_empty())
        else {
            // The source has no manager any more: clear the one Entra wrote (entra::manager).
            if let Some(old) = obj.manager.clone() {
                return self.remove_manager(key, &id, &old).await;
            }
            return Ok(());
        };
        let Some(manager_key) = self.resolve_user(&reference) else {
            return Ok(());
        };
        let m = self.obj(Kind::User, &manager_key);
        let Some(manager_id) = m.id.clone().filter(|_| !m.hard_deleted) else {
            self.info("entra.reference.unresolved", format!("the manager of `{key}` (`{manager_key}`) is not provisioned: Entra leaves the reference unset until a restart"));
            return Ok(());
        };
        if obj.manager.as_deref() == Some(manager_id.as_str()) {
            return Ok(());
        }
        if self.manager_already_set(key, &id, &manager_id).await? {
            self.obj_mut(Kind::User, key).manager = Some(manager_id);
            return Ok(());
        }
        let body = wire::manager_body(self.mode, &manager_id, obj.manager.is_some());
        let (i, r) = self
            .send("PATCH", &format!("/Users/{id}"), &[], Some(body))
            .await;
        if r.status == 0 || self.ctx.root_caused(i) {
            return Err(());
        }
        if !(200..300).contains(&r.status) {
            let f = judge::failed_as("entra.patch.manager-rejected", &format!("the manager reference of `{key}` (a bare id string on the enterprise manager path)"), "200 or 204", &r);
            self.error(f, Some(i));
            return Err(());
        }
        self.obj_mut(Kind::User, key).manager = Some(manager_id);
        Ok(())
    }

    /// Entra's reference check before it writes a manager (Microsoft's SCIM tutorial, "Example 4.
    /// Query the value of a reference attribute to be updated": filter `ID eq … and manager eq
    /// …`, requested attribute `ID`; "only the manager attribute is checked first"). `Ok(true)`:
    /// the server says the user already has this manager, so Entra sends no PATCH.
    async fn manager_already_set(
        &mut self,
        key: &str,
        user_id: &str,
        manager_id: &str,
    ) -> Result<bool, ()> {
        let params = vec![
            wire::reference_check_param(user_id, "manager", manager_id),
            "attributes=ID".to_string(),
        ];
        let (i, r) = self.send("GET", "/Users", &params, None).await;
        if r.status == 0 || self.ctx.root_caused(i) {
            return Err(());
        }
        if !(200..300).contains(&r.status) {
            // What Entra does then is not documented: idpsim writes the manager anyway, as if
            // the check had found nothing.
            let f = self
                .ctx
                .rule(
                    "entra.manager.check-failed",
                    format!(
                        "the server answered {} to Entra's manager check for `{key}` (ID eq \"…\" and manager eq \"…\"); idpsim writes the manager anyway",
                        r.status
                    ),
                )
                .at_exchange(i);
            self.ctx.finding(f);
            return Ok(false);
        }
        if self.ctx.failed_at(i) {
            return Err(());
        }
        let Some(list) = resources(&r) else {
            return Err(());
        };
        match list.as_slice() {
            [] => Ok(false),
            [one] if one.get("id").and_then(Json::as_str) == Some(user_id) => Ok(true),
            other => {
                if !self.ctx.judged(i, "rfc7644.filter.ignored") {
                    let f = Finding::judged(
                        "rfc7644.filter.ignored",
                        Idp::Entra,
                        format!("Entra's manager check for `{key}` (ID eq \"{user_id}\" and manager eq \"{manager_id}\") matched {} other resource(s)", other.len()),
                    )
                    .diff(DiffEntry::new("/Resources", format!("[] or the user {user_id}"), format!("{} resource(s)", other.len())));
                    self.error(f, Some(i));
                }
                Err(())
            }
        }
    }

    /// A reference value names a directory user by key, or by objectId / userPrincipalName / mail.
    fn resolve_user(&self, reference: &str) -> Option<String> {
        let dir = &self.ctx.state.directory;
        if dir.user(reference).is_some() {
            return Some(reference.to_string());
        }
        dir.users
            .iter()
            .find(|(_, attrs)| {
                ["objectId", "userPrincipalName", "mail"]
                    .iter()
                    .any(|a| attrs.get(*a).and_then(Json::as_str) == Some(reference))
            })
            .map(|(k, _)| k.clone())
    }

    /// Brings the group's members on the server in line with the directory: adds, then
    /// removals, in batches (§4.5 item 3); on demand at most 5 members (POD).
    pub async fn sync_members(&mut self, key: &str, trigger: Trigger) -> Flow {
        let obj = self.obj(Kind::Group, key);
        let (Some(gid), true) = (obj.id.clone(), obj.managed) else {
            return Ok(());
        };
        let member_keys = self
            .ctx
            .state
            .directory
            .group(key)
            .map(|g| g.members.clone())
            .unwrap_or_default();
        let mut desired = Vec::new();
        for m in &member_keys {
            let o = if self.ctx.state.directory.user(m).is_some() {
                self.obj(Kind::User, m)
            } else {
                // Nested groups are added as a member id, never expanded (§7.2).
                self.obj(Kind::Group, m)
            };
            if let (Some(id), false) = (o.id, o.hard_deleted) {
                desired.push(id);
            }
        }
        let mut adds: Vec<String> = desired
            .iter()
            .filter(|id| !obj.members.contains(id))
            .cloned()
            .collect();
        let removes: Vec<String> = obj
            .members
            .iter()
            .filter(|id| !desired.contains(id))
            .cloned()
            .collect();
        if trigger == Trigger::OnDemand && adds.len() > 5 {
            self.info("entra.pod.member-limit", format!("provisioning on demand adds at most 5 members; {} more wait for the next cycle", adds.len() - 5));
            adds.truncate(5);
        }
        let path = format!("/Groups/{gid}");
        let batch = self.settings.member_batch_size.max(1);
        for chunk in adds.chunks(batch) {
            let body = wire::add_members_body(self.mode, chunk, self.settings.member_ref_null);
            let (i, r) = self.send("PATCH", &path, &[], Some(body)).await;
            if r.status == 0 || self.ctx.root_caused(i) {
                return Err(());
            }
            if !(200..300).contains(&r.status) {
                let f = judge::failed_as(
                    "entra.patch.add-members",
                    &format!("adding members to group `{key}`"),
                    "204",
                    &r,
                );
                self.error(f, Some(i));
                return Err(());
            }
            self.obj_mut(Kind::Group, key)
                .members
                .extend(chunk.iter().cloned());
        }
        for chunk in removes.chunks(batch) {
            let body = wire::remove_members_body(self.mode, chunk, self.settings.member_ref_null);
            let (i, r) = self.send("PATCH", &path, &[], Some(body)).await;
            if r.status == 0 || self.ctx.root_caused(i) {
                return Err(());
            }
            if !(200..300).contains(&r.status) {
                let f = judge::member_remove_rejected(self.mode, &r);
                self.error(f, Some(i));
                return Err(());
            }
            self.obj_mut(Kind::Group, key)
                .members
                .retain(|m| !chunk.contains(m));
        }
        if !removes.is_empty() && self.mode == Mode::Default && !self.ctx.dry_run() {
            self.check_remove_kept_others(key, &gid, &removes, &adds)
                .await;
        }
        Ok(())
    }

    /// idpsim's read-back after a default-mode member removal (not Entra traffic: neutral
    /// headers). Entra's `{"op":"Remove","path":"members","value":[…]}` read literally (RFC 7644
    /// §3.5.2.2: no filter, so "remove every member") empties the group; Entra never notices.
    async fn check_remove_kept_others(
        &mut self,
        key: &str,
        gid: &str,
        removed: &[String],
        added: &[String],
    ) {
        let believed = self.obj(Kind::Group, key).members;
        if believed.is_empty() {
            return;
        }
        // What an earlier read showed the group holding (before this read-back).
        let seen = self
            .ctx
            .state
            .history
            .seen_members(&format!("/Groups/{gid}"))
            .map(<[String]>::to_vec);
        let (i, r) = self
            .ctx
            .send(
                OutgoingRequest::new("GET", format!("/Groups/{gid}"))
                    .header("Accept", "application/scim+json"),
            )
            .await;
        let Some(body) = r
            .body
            .filter(|b| b.is_object() && (200..300).contains(&r.status))
        else {
            return;
        };
        let have = crate::scim::member_values(body.get("members"));
        let vanished: Vec<&String> = believed.iter().filter(|id| !have.contains(id)).collect();
        if vanished.is_empty() {
            return;
        }
        // Missing members the server was never seen to hold were never added: those writes
        // were not applied, the remove did not take them.
        let never_held = |id: &String| seen.as_ref().is_some_and(|s| !s.contains(id));
        let only_new = vanished
            .iter()
            .all(|id| added.contains(id) || never_held(id));
        if removed.iter().any(|id| have.contains(id)) || only_new {
            // The removal itself did not happen, or only members added in this same sync are
            // missing: Entra's writes were not applied; the remove did not take everyone.
            let mut f = Finding::judged(
                "rfc7644.patch.not-applied",
                Idp::Entra,
                format!("the server acknowledged Entra's member changes to group `{key}` but does not hold them"),
            );
            for id in removed.iter().filter(|id| have.contains(id)) {
                f = f.diff(DiffEntry::new(
                    "/members",
                    format!("without {id}"),
                    format!("still contains {id}"),
                ));
            }
            for id in &vanished {
                f = f.diff(DiffEntry::new(
                    "/members",
                    format!("contains {id}"),
                    "missing",
                ));
            }
            self.error(f, Some(i));
            return;
        }
        let mut f = Finding::judged(
            "entra.patch.remove-member-emptied-group",
            Idp::Entra,
            format!(
                "removing {} member(s) from group `{key}` also removed {} other member(s): the server read Entra's {{\"op\":\"Remove\",\"path\":\"members\",\"value\":[…]}} as \"remove every member\" (RFC 7644 §3.5.2.2 read literally) — seen by idpsim's own read-back, not Entra traffic",
                removed.len(),
                vanished.len()
            ),
        );
        for id in vanished {
            f = f.diff(DiffEntry::new(
                "/members",
                format!("contains {id}"),
                "absent",
            ));
        }
        self.error(f, Some(i));
    }

    /// DELETE of a linked object (hard delete, group unassignment, or `unassign: delete`).
    pub async fn delete(&mut self, kind: Kind, key: &str) -> Flow {
        let obj = self.obj(kind, key);
        let Some(id) = obj.id.clone() else {
            self.info(
                "entra.cycle.skipped",
                format!(
                    "{} `{key}` was never provisioned: nothing to delete",
                    kind.noun()
                ),
            );
            return Ok(());
        };
        if !obj.managed || obj.hard_deleted {
            self.info("entra.delete.not-sent", format!("{} `{key}` left scope earlier: Entra sends no DELETE, so the account stays in the app as an orphan", kind.noun()));
            return Ok(());
        }
        if !self.settings.delete_enabled {
            self.info(
                "entra.delete.not-sent",
                format!(
                    "Target Object Actions has Delete turned off: nothing is sent for {} `{key}`",
                    kind.noun()
                ),
            );
            return Ok(());
        }
        let (i, r) = self
            .send("DELETE", &format!("/{}/{id}", kind.collection()), &[], None)
            .await;
        if r.status == 0 || self.ctx.root_caused(i) {
            return Err(());
        }
        if !(200..300).contains(&r.status) && r.status != 404 {
            let f = judge::failed_as(
                "entra.delete.failed",
                &format!("deleting {} `{key}`", kind.noun()),
                "204",
                &r,
            );
            self.error(f, Some(i));
            return Err(());
        }
        let o = self.obj_mut(kind, key);
        o.managed = false;
        o.hard_deleted = true;
        // Entra now believes the object is gone: the shared bookkeeping says so, for
        // `expect_server`, the `audit` step and `--write-state` (as Okta's unlink does).
        let table = match kind {
            Kind::User => &mut self.ctx.state.users,
            Kind::Group => &mut self.ctx.state.groups,
        };
        table.insert(key.to_string(), json!({"id": id, "exists": false}));
        // The server drops the memberships of a deleted user; Entra forgets them too.
        if kind == Kind::User {
            for g in self.st.groups.values_mut() {
                g.members.retain(|m| m != &id);
            }
        }
        Ok(())
    }

    /// Unassignment (§5.3): users are disabled through the IsSoftDeleted mapping (or deleted,
    /// per `settings.unassign`); groups are deleted.
    pub async fn unassign(&mut self, kind: Kind, key: &str) -> Flow {
        self.obj_mut(kind, key).assigned = false;
        if self.settings.skip_out_of_scope_deletions {
            self.info(
                "entra.cycle.skipped",
                format!(
                    "SkipOutOfScopeDeletions is on: nothing is sent for {} `{key}`",
                    kind.noun()
                ),
            );
            self.obj_mut(kind, key).managed = false;
            return Ok(());
        }
        match (kind, self.settings.unassign) {
            (Kind::Group, _) | (Kind::User, UnassignAction::Delete) => {
                self.delete(kind, key).await?;
                self.obj_mut(kind, key).hard_deleted = false;
                let o = self.obj_mut(kind, key);
                o.id = None;
                o.members.clear();
                Ok(())
            }
            (Kind::User, UnassignAction::Disable) => self.sync(kind, key, Trigger::Scope).await,
        }
    }
}

fn first_matching(list: &[AttributeMapping]) -> Option<String> {
    matching_order(list).first().map(|m| m.target.clone())
}

fn is_false(v: &Json) -> bool {
    match v {
        Json::Bool(b) => !b,
        Json::String(s) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Multi(items) => items.first().cloned(),
        Value::Null => None,
    }
}

fn stored_value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Str(s) => Json::String(s.clone()),
        Value::Multi(items) => json!(items),
    }
}

fn stored(vals: &[(String, Value)]) -> BTreeMap<String, Json> {
    vals.iter()
        .map(|(t, v)| (t.clone(), stored_value(v)))
        .collect()
}

fn resources(r: &RawResponse) -> Option<Vec<Json>> {
    let body = r.body.as_ref()?;
    match body.get("Resources") {
        Some(Json::Array(a)) => Some(a.clone()),
        None => Some(Vec::new()),
        Some(_) => None,
    }
}

/// Seconds form of Retry-After (the HTTP-date form falls back to Entra's back-off), capped.
fn retry_after(r: &RawResponse) -> Option<Duration> {
    let v = r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?
        .1
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_secs(v.min(300)))
}

#[cfg(test)]
mod tests;
