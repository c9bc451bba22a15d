//! Okta System Log: reading (the `/api/v1/logs` JSON, the admin console's CSV export) and
//! reconstruction into an `idp: okta` scenario.
//!
//! Fields used (Okta System Log API, "LogEvent object"; event types from Okta's Event Types
//! catalogue): `uuid`, `published`, `eventType`, `displayMessage`, `outcome.result`
//! (`SUCCESS`, `FAILURE`, `SKIPPED`, …), `outcome.reason`, and `target[]` `{id, type,
//! alternateId, displayName, changeDetails.to}` — `User`/`AppUser` targets are the user (the
//! `alternateId` is the login), `UserGroup`/`AppGroup` targets the group, `AppInstance` the app.
//! Nothing else is read: `actor`, `client`, `request`, `debugContext` (which may hold request
//! URIs and tokens) never reach the scenario.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{bad, bad_at, codes, csv, json, literal, Built, Failure, LogKind, Origin};
use crate::error::{Error, Result};
use crate::record::emit::Y;

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub id: Option<String>,
    /// Lower case.
    pub kind: String,
    pub alternate_id: Option<String>,
    pub display_name: Option<String>,
    /// `changeDetails.to`, when the event type carries it.
    pub change_to: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub origin: Origin,
    pub time: Option<i64>,
    pub time_text: String,
    pub uuid: Option<String>,
    pub event_type: String,
    /// Upper case: SUCCESS, FAILURE, SKIPPED, … (empty when not logged).
    pub result: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub targets: Vec<Target>,
}

impl Event {
    fn target(&self, kinds: &[&str]) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| kinds.contains(&t.kind.as_str()))
    }
    fn user(&self) -> Option<&Target> {
        self.target(&["user", "appuser"])
    }
    fn group(&self) -> Option<&Target> {
        self.target(&["usergroup", "appgroup", "group"])
    }
    pub fn failed(&self) -> bool {
        self.result == "FAILURE"
    }
    pub fn headline(&self) -> String {
        let who: Vec<String> = self
            .targets
            .iter()
            .filter(|t| t.kind != "appinstance")
            .map(|t| {
                format!(
                    "{} '{}'",
                    t.kind,
                    super::clean_text(
                        if matches!(t.kind.as_str(), "user" | "appuser") {
                            t.alternate_id.as_deref().or(t.display_name.as_deref())
                        } else {
                            t.display_name.as_deref().or(t.alternate_id.as_deref())
                        }
                        .unwrap_or("?")
                    )
                )
            })
            .collect();
        let result = if self.result.is_empty() {
            String::new()
        } else {
            format!(" → {}", self.result)
        };
        format!(
            "{}: {} {}{result} ({})",
            self.time_text,
            self.event_type,
            who.join(", "),
            self.origin
        )
    }
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn target_from_json(t: &Value) -> Target {
    Target {
        id: text(get(t, "id")),
        kind: text(get(t, "type"))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        alternate_id: text(get(t, "alternateId")),
        display_name: text(get(t, "displayName")),
        change_to: get(t, "changeDetails")
            .and_then(|c| get(c, "to"))
            .and_then(Value::as_object)
            .cloned(),
    }
}

fn event_from_json(v: &Value, origin: Origin) -> Result<Event> {
    if !v.is_object() {
        return Err(bad(&origin, "a LogEvent must be a JSON object"));
    }
    let event_type = text(get(v, "eventType")).ok_or_else(|| {
        bad(
            &origin,
            "no `eventType`: is this an Okta System Log export?",
        )
    })?;
    let outcome = get(v, "outcome");
    let targets = match get(v, "target") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(target_from_json).collect(),
        Some(_) => return Err(bad(&origin, "`target` must be a list of targets")),
    };
    let time_text = text(get(v, "published")).unwrap_or_default();
    Ok(Event {
        time: super::parse_time(&time_text),
        time_text,
        uuid: text(get(v, "uuid")),
        event_type,
        result: outcome
            .and_then(|o| text(get(o, "result")))
            .unwrap_or_default()
            .to_ascii_uppercase(),
        reason: outcome.and_then(|o| text(get(o, "reason"))),
        message: text(get(v, "displayMessage")),
        targets,
        origin,
    })
}

pub fn read(inputs: &[PathBuf], kind: LogKind) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    for p in inputs {
        let mut events = match kind {
            LogKind::OktaCsv => read_csv(p)?,
            _ => read_json(p)?,
        };
        out.append(&mut events);
    }
    Ok(out)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))
}

pub fn read_json(path: &Path) -> Result<Vec<Event>> {
    let file = path.display().to_string();
    let raw = read_text(path)?;
    let text = raw.trim_start_matches('\u{feff}');
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let hint = if e.is_eof() {
            " (the file ends early: is the export truncated?)"
        } else {
            ""
        };
        bad_at(
            &file,
            e.line(),
            e.column(),
            format!("not valid JSON: {e}{hint}"),
        )
    })?;
    let start = json::start(text);
    let (records, offsets) = match &doc {
        Value::Array(items) => (items.clone(), json::array_elements(text, start)),
        Value::Object(_) => (vec![doc.clone()], vec![start]),
        _ => {
            return Err(bad_at(
                &file,
                1,
                1,
                "expected the JSON array of LogEvent objects that /api/v1/logs returns",
            ))
        }
    };
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (line, col) = json::line_col(text, offsets.get(i).copied().unwrap_or(start));
            event_from_json(
                r,
                Origin {
                    file: file.clone(),
                    line,
                    col,
                    record: i + 1,
                },
            )
        })
        .collect()
}

/// The admin console's CSV export: a column per LogEvent property, named by its path
/// (`eventType`, `outcome.result`, `target`…). Okta does not publish the column list, so names
/// are matched loosely (`csv::norm`): `target` may be one JSON column, or per-target columns
/// such as `target.0.type`, `target[1].alternateId` or `Target 1 Display Name`.
fn read_csv(path: &Path) -> Result<Vec<Event>> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    let t = csv::parse(&text)
        .map_err(|(l, c, m)| bad_at(&file, l, c, format!("not valid CSV: {m}")))?;
    let c_type = t.column(&["eventtype"]).ok_or_else(|| {
        bad_at(
            &file,
            1,
            1,
            format!("no eventType column (found: {})", t.header.join(", ")),
        )
    })?;
    let col = |names: &[&str]| t.column(names);
    let (c_time, c_uuid, c_result, c_reason, c_message, c_target) = (
        col(&["published", "date", "time"]),
        col(&["uuid"]),
        col(&["outcomeresult", "result"]),
        col(&["outcomereason", "reason"]),
        col(&["displaymessage"]),
        col(&["target", "targets"]),
    );
    // Per-target columns: target<N><field>.
    let re = regex::Regex::new(r"^targets?(\d+)(id|type|alternateid|displayname)$").ok();
    let mut per_target: Vec<(usize, String, usize)> = Vec::new();
    for (i, h) in t.header.iter().enumerate() {
        let n = csv::norm(h);
        if let Some(c) = re.as_ref().and_then(|re| re.captures(&n)) {
            let idx: usize = c[1].parse().unwrap_or(0);
            per_target.push((idx, c[2].to_string(), i));
        }
    }
    let field = |r: &csv::Record, c: Option<usize>| {
        c.and_then(|c| r.fields.get(c))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let mut out = Vec::new();
    for (i, r) in t.records.iter().enumerate() {
        let origin = Origin {
            file: file.clone(),
            line: r.line,
            col: 1,
            record: i + 1,
        };
        let event_type =
            field(r, Some(c_type)).ok_or_else(|| bad(&origin, "the eventType field is empty"))?;
        let mut targets = Vec::new();
        if let Some(raw) = field(r, c_target) {
            let v: Value = serde_json::from_str(&raw).map_err(|e| {
                bad(
                    &origin,
                    format!("the target column is not the JSON list of targets: {e}"),
                )
            })?;
            match v {
                Value::Array(items) => targets.extend(items.iter().map(target_from_json)),
                Value::Object(_) => targets.push(target_from_json(&v)),
                _ => {
                    return Err(bad(
                        &origin,
                        "the target column must hold a JSON list of targets",
                    ))
                }
            }
        }
        let mut indices: Vec<usize> = per_target.iter().map(|(n, _, _)| *n).collect();
        indices.sort_unstable();
        indices.dedup();
        for n in indices {
            let get_f = |f: &str| {
                per_target
                    .iter()
                    .find(|(i, name, _)| *i == n && name == f)
                    .and_then(|(_, _, c)| field(r, Some(*c)))
            };
            let kind = get_f("type");
            if kind.is_none() && get_f("alternateid").is_none() && get_f("displayname").is_none() {
                continue;
            }
            targets.push(Target {
                id: get_f("id"),
                kind: kind.unwrap_or_default().to_ascii_lowercase(),
                alternate_id: get_f("alternateid"),
                display_name: get_f("displayname"),
                change_to: None,
            });
        }
        let time_text = field(r, c_time).unwrap_or_default();
        out.push(Event {
            time: super::parse_time(&time_text),
            time_text,
            uuid: field(r, c_uuid),
            event_type,
            result: field(r, c_result).unwrap_or_default().to_ascii_uppercase(),
            reason: field(r, c_reason),
            message: field(r, c_message),
            targets,
            origin,
        });
    }
    Ok(out)
}

// ----- reconstruction -----

#[derive(Clone, Debug)]
struct User {
    key: String,
    login: String,
    display: Option<String>,
    provisioned: bool,
    active: bool,
    assigned: bool,
    /// The last step replaying this user (failures without a step of their own attach here).
    last_step: Option<usize>,
}

#[derive(Clone, Debug)]
struct Group {
    key: String,
    name: String,
    /// Okta's own group membership, as the log shows it changing.
    members: Vec<String>,
    initial_members: Vec<String>,
    /// What the app was last sent (members pushed), for the state.
    pushed_members: Vec<String>,
    pushed: bool,
    deleted: bool,
    /// A membership step was sent since the last Push now.
    synced: bool,
    last_step: Option<usize>,
}

const SOURCE: &str = "Okta System Log API, LogEvent object (https://developer.okta.com/docs/reference/api/system-log/); Okta Event Types catalogue (https://developer.okta.com/docs/reference/api/event-types/); docs/IDP-LOGS.md";

fn split_name(display: Option<&str>, login: &str) -> (String, String) {
    let d = display.unwrap_or("").trim();
    match d.split_once(char::is_whitespace) {
        Some((f, l)) => (f.trim().to_string(), l.trim().to_string()),
        None if !d.is_empty() => (d.to_string(), d.to_string()),
        None => {
            let local = login.split('@').next().unwrap_or(login).to_string();
            (local.clone(), local)
        }
    }
}

pub fn build(events: &[Event]) -> Built {
    let mut b = Built {
        idp: Some(crate::scenario::Idp::Okta),
        profile: Some("oin".into()),
        source: SOURCE.into(),
        ..Default::default()
    };
    b.gap("the Okta personality: the System Log does not say whether the app came from an OIN SCIM template (oin: PATCH) or the App Integration Wizard (aiw: GET then PUT); `profile: oin` is assumed — change it to aiw for an AIW app");
    b.gap("the requests' bytes: the System Log records events, not HTTP; the Okta profile regenerates them (scenarios/okta/README.md). Steps carry `verify: true`: idpsim reads each change back with its own GET (not Okta traffic) so a change acknowledged but not made is named at its step");
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by_key(|e| e.time.unwrap_or(i64::MAX));
    b.events = ordered.len();
    let mut users: Vec<User> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut taken: Vec<String> = Vec::new();

    for e in ordered {
        let mut comments = vec![e.headline()];
        let ty = e.event_type.as_str();
        let failure = e.failed().then(|| {
            let ex = codes::okta(ty, e.reason.as_deref());
            comments.push(format!(
                "  logged failure{}",
                e.reason
                    .as_deref()
                    .map(|r| format!(": {}", super::clean_text(r)))
                    .unwrap_or_default()
            ));
            comments.extend(ex.comment());
            ex
        });
        if e.result == "SKIPPED" {
            comments.push("  nothing sent: Okta skipped it".into());
            b.note(comments);
            continue;
        }
        let user_idx = e.user().and_then(|t| {
            let login = t.alternate_id.clone().or_else(|| t.display_name.clone())?;
            Some(
                match users
                    .iter()
                    .position(|u| u.login.eq_ignore_ascii_case(&login))
                {
                    Some(i) => i,
                    None => {
                        let key = super::key_from(&login, "user", &taken);
                        taken.push(key.clone());
                        users.push(User {
                            key,
                            login,
                            display: t.display_name.clone(),
                            provisioned: false,
                            active: true,
                            assigned: false,
                            last_step: None,
                        });
                        users.len() - 1
                    }
                },
            )
        });
        let group_idx = e.group().and_then(|t| {
            let name = t.display_name.clone().or_else(|| t.alternate_id.clone())?;
            Some(
                match groups
                    .iter()
                    .position(|g| g.name.eq_ignore_ascii_case(&name))
                {
                    Some(i) => i,
                    None => {
                        let key = super::key_from(&name, "group", &taken);
                        taken.push(key.clone());
                        groups.push(Group {
                            key,
                            name,
                            members: Vec::new(),
                            initial_members: Vec::new(),
                            pushed_members: Vec::new(),
                            pushed: false,
                            deleted: false,
                            synced: true,
                            last_step: None,
                        });
                        groups.len() - 1
                    }
                },
            )
        });
        let mut step: Option<usize> = None;
        let needs_user = ty.starts_with("application.provision.user.")
            || ty.starts_with("application.user_membership.");
        if needs_user && user_idx.is_none() {
            comments.push(
                "  not replayed: the event has no User target (its login names the user)".into(),
            );
            b.gap(format!("{}: {ty} names no user target", e.origin));
            b.note(comments);
            continue;
        }
        let needs_group = ty.starts_with("application.provision.group_push.")
            || ty.starts_with("group.user_membership.")
            || ty.starts_with("application.provision.group.");
        if needs_group && group_idx.is_none() && !ty.contains("mapping") {
            comments.push("  not replayed: the event has no group target".into());
            b.gap(format!("{}: {ty} names no group target", e.origin));
            b.note(comments);
            continue;
        }
        let ensure_user =
            |b: &mut Built, users: &mut Vec<User>, comments: &mut Vec<String>, i: usize| {
                if !users[i].provisioned {
                    let key = users[i].key.clone();
                    comments.push(format!(
                        "  {key} was in the app before the log begins: assigned first"
                    ));
                    let n = b.step(
                        std::mem::take(comments),
                        Y::map().with("assign", Y::Str(key)),
                    );
                    users[i].provisioned = true;
                    users[i].last_step = Some(n);
                }
            };
        match ty {
            "application.user_membership.add" => {
                if let Some(i) = user_idx {
                    users[i].assigned = true;
                }
                comments.push("  Okta-side assignment: the provisioning events that follow carry the requests".into());
                b.note(comments);
            }
            "application.user_membership.remove" => {
                if let Some(i) = user_idx {
                    users[i].assigned = false;
                }
                comments.push("  Okta-side unassignment: Okta deactivates the app user (never deletes it); the deactivate event carries the request".into());
                b.note(comments);
            }
            "application.provision.user.push" | "application.provision.user.sync" => {
                let i = user_idx.unwrap_or_default();
                if ty.ends_with(".sync") && users[i].provisioned {
                    comments
                        .push("  a sync of a user already replayed: nothing more to send".into());
                    b.note(comments);
                } else {
                    if ty.ends_with(".sync") {
                        comments
                            .push("  Okta's sync: lookup by userName, then link or create".into());
                    }
                    let key = users[i].key.clone();
                    let n = b.step(
                        std::mem::take(&mut comments),
                        Y::map().with("assign", Y::Str(key)),
                    );
                    users[i].provisioned = true;
                    users[i].active = true;
                    users[i].last_step = Some(n);
                    step = Some(n);
                }
            }
            "application.provision.user.push_profile" => {
                let i = user_idx.unwrap_or_default();
                ensure_user(&mut b, &mut users, &mut comments, i);
                let mut body = Y::map().with("push_profile", Y::Str(users[i].key.clone()));
                let set: Vec<(String, Y)> = e
                    .user()
                    .and_then(|t| t.change_to.clone())
                    .unwrap_or_default()
                    .iter()
                    .filter(|(k, _)| !super::secret_name(k))
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), literal(s))))
                    .collect();
                if set.is_empty() {
                    b.gap(format!("{}: which profile attributes changed is not in the event (no changeDetails): the replay pushes the profile as the log knows it", e.origin));
                } else {
                    body = body.with("set", Y::Map(set));
                }
                let n = b.step(
                    std::mem::take(&mut comments),
                    body.with("verify", Y::Plain("true".into())),
                );
                users[i].last_step = Some(n);
                step = Some(n);
            }
            "application.provision.user.deactivate" | "application.provision.user.reactivate" => {
                let i = user_idx.unwrap_or_default();
                ensure_user(&mut b, &mut users, &mut comments, i);
                let action = if ty.ends_with("deactivate") {
                    "deactivate"
                } else {
                    "reactivate"
                };
                let n = b.step(
                    std::mem::take(&mut comments),
                    Y::map()
                        .with(action, Y::Str(users[i].key.clone()))
                        .with("verify", Y::Plain("true".into())),
                );
                users[i].active = action == "reactivate";
                users[i].last_step = Some(n);
                step = Some(n);
            }
            t if t.starts_with("application.provision.user.push_password")
                || t == "application.provision.user.push_okta_password"
                || t == "application.provision.user.password" =>
            {
                comments.push("  not replayed: the log carries no password (and must not); replay a password push with `sync_password:` by hand".into());
                b.gap(format!(
                    "{}: a password push is not replayed (no password in the log)",
                    e.origin
                ));
                b.note(comments);
            }
            "application.provision.user.delete" => {
                comments.push("  not replayed: the Okta profile has no user delete (granular deprovisioning, 2026.07) yet".into());
                b.gap(format!(
                    "{}: application.provision.user.delete is not replayed",
                    e.origin
                ));
                b.note(comments);
            }
            "group.user_membership.add" | "group.user_membership.remove" => {
                let (Some(g), Some(u)) = (group_idx, user_idx) else {
                    comments.push(
                        "  not replayed: a membership event needs a user and a group target".into(),
                    );
                    b.gap(format!(
                        "{}: {ty} without both a user and a group target",
                        e.origin
                    ));
                    b.note(comments);
                    continue;
                };
                let ukey = users[u].key.clone();
                let add = ty.ends_with(".add");
                if add {
                    if !groups[g].members.contains(&ukey) {
                        groups[g].members.push(ukey.clone());
                    }
                } else {
                    groups[g].members.retain(|m| m != &ukey);
                }
                if groups[g].pushed && !groups[g].deleted {
                    let action = if add { "add_members" } else { "remove_members" };
                    let body = Y::map()
                        .with(action, Y::Str(groups[g].key.clone()))
                        .with("users", Y::Seq(vec![Y::Str(ukey.clone())]))
                        .with("verify", Y::Plain("true".into()));
                    let n = b.step(std::mem::take(&mut comments), body);
                    groups[g].synced = true;
                    groups[g].last_step = Some(n);
                    groups[g].pushed_members = groups[g].members.clone();
                    step = Some(n);
                } else {
                    if add && !groups[g].initial_members.contains(&ukey) {
                        groups[g].initial_members.push(ukey);
                    } else if !add {
                        groups[g].initial_members.retain(|m| m != &ukey);
                    }
                    comments.push("  Okta-side membership before the group is pushed: part of the group the push sends".into());
                    b.note(comments);
                }
            }
            "application.provision.group_push.pushed" | "application.provision.group.add" => {
                let g = group_idx.unwrap_or_default();
                if groups[g].pushed && !groups[g].deleted {
                    comments.push("  the group is already pushed: nothing more to send".into());
                    b.note(comments);
                } else {
                    let n = b.step(
                        std::mem::take(&mut comments),
                        Y::map()
                            .with("push_group", Y::Str(groups[g].key.clone()))
                            .with("verify", Y::Plain("true".into())),
                    );
                    groups[g].pushed = true;
                    groups[g].deleted = false;
                    groups[g].synced = true;
                    groups[g].last_step = Some(n);
                    groups[g].pushed_members = groups[g].members.clone();
                    step = Some(n);
                }
            }
            "application.provision.group_push.push_memberships" => {
                let g = group_idx.unwrap_or_default();
                if !groups[g].pushed {
                    comments.push("  membership push before any group push in the log: pushing the group first".into());
                    let n = b.step(
                        std::mem::take(&mut comments),
                        Y::map().with("push_group", Y::Str(groups[g].key.clone())),
                    );
                    groups[g].pushed = true;
                    groups[g].last_step = Some(n);
                    groups[g].pushed_members = groups[g].members.clone();
                    step = Some(n);
                } else if groups[g].synced && !e.failed() {
                    comments.push(
                        "  the membership change before it already sent this: nothing more".into(),
                    );
                    groups[g].synced = false;
                    b.note(comments);
                } else {
                    comments.push("  Push now: Okta sends its whole member list".into());
                    let members: Vec<Y> = groups[g]
                        .members
                        .iter()
                        .map(|m| Y::Str(m.clone()))
                        .collect();
                    let n = b.step(
                        std::mem::take(&mut comments),
                        Y::map()
                            .with("push_now", Y::Str(groups[g].key.clone()))
                            .with("members", Y::Seq(members))
                            .with("verify", Y::Plain("true".into())),
                    );
                    groups[g].last_step = Some(n);
                    groups[g].pushed_members = groups[g].members.clone();
                    step = Some(n);
                }
            }
            "application.provision.group_push.updated"
            | "application.provision.group_push.mapping.app.group.renamed"
            | "application.provision.group.update" => {
                let g = group_idx.unwrap_or_default();
                let to = e
                    .group()
                    .and_then(|t| t.change_to.as_ref())
                    .and_then(|c| c.get("displayName").or_else(|| c.get("name")))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match to {
                    Some(to) if groups[g].pushed => {
                        let n = b.step(
                            std::mem::take(&mut comments),
                            Y::map()
                                .with("rename_group", Y::Str(groups[g].key.clone()))
                                .with("to", literal(&to)),
                        );
                        groups[g].name = to;
                        groups[g].last_step = Some(n);
                        step = Some(n);
                    }
                    _ => {
                        comments.push("  not replayed: the event does not say what changed (no changeDetails.to.displayName)".into());
                        b.gap(format!("{}: {ty} without the new name", e.origin));
                        b.note(comments);
                    }
                }
            }
            "application.provision.group_push.delete_appgroup"
            | "application.provision.group_push.removed"
            | "application.provision.group.remove" => {
                let g = group_idx.unwrap_or_default();
                let delete = !ty.ends_with(".removed");
                if !delete {
                    comments.push("  unlinked: \"removed from the app\"; a deleted app group is logged as delete_appgroup, so the group is left in the app".into());
                }
                let n = b.step(
                    std::mem::take(&mut comments),
                    Y::map()
                        .with("unlink_group", Y::Str(groups[g].key.clone()))
                        .with("delete", Y::Plain(delete.to_string())),
                );
                groups[g].deleted = delete;
                groups[g].pushed = false;
                groups[g].last_step = Some(n);
                step = Some(n);
                if !delete {
                    groups[g].pushed = false;
                }
            }
            t if t.starts_with(
                "application.provision.group_push.mapping.update.or.delete.failed",
            ) || t.starts_with("application.provision.group_membership.") =>
            {
                comments
                    .push("  a failure of the group push before it (no request of its own)".into());
                step = group_idx.and_then(|g| groups[g].last_step);
                b.note(comments);
            }
            other => {
                comments.push(format!(
                    "  not a provisioning request: `{other}` is not replayed"
                ));
                b.note(comments);
            }
        }
        if let Some(explanation) = failure {
            let step = step
                .or_else(|| user_idx.and_then(|u| users[u].last_step))
                .or_else(|| group_idx.and_then(|g| groups[g].last_step));
            b.failures.push(Failure {
                origin: e.origin.clone(),
                step,
                what: e.headline(),
                explanation,
            });
        }
    }
    // Directory and state.
    for u in users.iter().filter(|u| u.provisioned) {
        let (first, last) = split_name(u.display.as_deref(), &u.login);
        let mut dir = vec![
            ("login".to_string(), literal(&u.login)),
            ("firstName".to_string(), literal(&first)),
            ("lastName".to_string(), literal(&last)),
        ];
        if u.login.contains('@') {
            dir.push(("email".into(), literal(&u.login)));
        }
        b.users.push((u.key.clone(), Y::Map(dir)));
        let mut state = Map::new();
        state.insert("userName".into(), Value::String(u.login.clone()));
        state.insert("active".into(), Value::Bool(u.active));
        b.state_users.push((u.key.clone(), Value::Object(state)));
    }
    if users
        .iter()
        .any(|u| u.provisioned && u.display.as_deref().is_some_and(|d| d.contains(' ')))
    {
        b.gap("first and last names: the log has the user's display name only; it is split at its first space into firstName and lastName");
    }
    for g in groups.iter().filter(|g| g.pushed || g.deleted) {
        let members: Vec<Y> = g
            .initial_members
            .iter()
            .filter(|m| users.iter().any(|u| &u.key == *m && u.provisioned))
            .map(|m| Y::Str(m.clone()))
            .collect();
        b.groups.push((
            g.key.clone(),
            Y::map()
                .with("displayName", literal(&g.name))
                .with("members", Y::Seq(members)),
        ));
        let mut state = Map::new();
        state.insert("displayName".into(), Value::String(g.name.clone()));
        if g.deleted {
            state.insert("exists".into(), Value::Bool(false));
        } else {
            let pushed: Vec<Value> = g
                .pushed_members
                .iter()
                .filter(|m| users.iter().any(|u| &u.key == *m && u.provisioned))
                .map(|m| Value::String(m.clone()))
                .collect();
            state.insert("members".into(), Value::Array(pushed));
        }
        b.state_groups.push((g.key.clone(), Value::Object(state)));
    }
    // Users only named by the log (an assignment without a push) are not in the app.
    for u in users.iter().filter(|u| !u.provisioned) {
        b.gap(format!(
            "{}: Okta-side events only (never pushed to the app), so not in the scenario",
            u.login
        ));
    }
    let span: Vec<&str> = events
        .iter()
        .filter(|e| e.time.is_some())
        .map(|e| e.time_text.as_str())
        .collect();
    let mut sorted = span.clone();
    sorted.sort();
    b.description = format!(
        "Okta System Log: {} event(s) for {} user(s) and {} group(s){}.",
        b.events,
        b.users.len(),
        b.groups.len(),
        match (sorted.first(), sorted.last()) {
            (Some(a), Some(z)) => format!(", {a} to {z}"),
            _ => String::new(),
        }
    );
    b
}
