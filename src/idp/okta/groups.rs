//! Push Groups (okta.md §2.10): lookup (filter or cached list), create or link, rename,
//! membership changes (OIN: PATCH delta plus the rename sent with every change; AIW: GET →
//! PUT of the full list), Push now, and unlink with or without delete.

use serde_json::{json, Value};

use super::judge::{self};
use super::settings::{GroupLookup, Settings};
use super::users::cache_groups;
use super::wire::{self, page_query};
use super::{opt, opt_bool, opt_keys};
use crate::idp::context::ActionCtx;
use crate::outcome::DiffEntry;
use crate::scenario::ActionStep;
use crate::transport::OutgoingRequest;

fn group_id(ctx: &ActionCtx<'_>, key: &str) -> Option<String> {
    ctx.state
        .groups
        .get(key)
        .filter(|g| g.get("exists") != Some(&Value::Bool(false)))
        .and_then(|g| g.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn group_name(ctx: &ActionCtx<'_>, key: &str) -> String {
    ctx.state
        .directory
        .group(key)
        .and_then(|g| g.attributes.get("displayName"))
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_string()
}

fn set_group_state(ctx: &mut ActionCtx<'_>, key: &str, field: &str, value: Value) {
    let entry = ctx
        .state
        .groups
        .entry(key.to_string())
        .or_insert_with(|| json!({}));
    if let Some(m) = entry.as_object_mut() {
        if field == "id" {
            // Linked (again): whatever an earlier unlink deleted, this group now exists.
            m.remove("exists");
        }
        m.insert(field.to_string(), value);
    }
}

/// The member objects Okta pushes: directory members that are assigned to the app (linked)
/// and active — "only members assigned to the app appear", "inactive Okta users are never
/// pushed" (okta.md §2.10, HELP-GP). `display` is the userName.
fn pushed_members(ctx: &ActionCtx<'_>, key: &str) -> Vec<(String, Value)> {
    let members = ctx
        .state
        .directory
        .group(key)
        .map(|g| g.members.clone())
        .unwrap_or_default();
    members
        .into_iter()
        .filter_map(|m| {
            let u = ctx.state.users.get(&m)?;
            let id = u.get("id")?.as_str()?;
            if judge::truthy(u.get("active")) == Some(false) {
                return None;
            }
            let display = u.get("userName").and_then(Value::as_str).unwrap_or("");
            Some((m.clone(), wire::member(id, display)))
        })
        .collect()
}

fn member_of(ctx: &ActionCtx<'_>, user_key: &str) -> Option<Value> {
    let u = ctx.state.users.get(user_key)?;
    let id = u.get("id")?.as_str()?;
    let display = u.get("userName").and_then(Value::as_str).unwrap_or("");
    Some(wire::member(id, display))
}

fn unlinked(ctx: &mut ActionCtx<'_>, key: &str) {
    let f = ctx.rule(
        "okta.group.unlinked",
        format!("group `{key}` is not pushed (no app group linked), so Okta sends nothing"),
    );
    ctx.finding(f);
}

async fn find_group(ctx: &mut ActionCtx<'_>, s: &Settings, name: &str) -> Option<Option<String>> {
    let resources = match s.group_lookup {
        GroupLookup::Filter => {
            let path = wire::filter_query("Groups", "displayName", name, s.query_encoding);
            let (i, raw) = wire::send(ctx, s, wire::request("GET", path, None)).await;
            judge::list(ctx, "group-lookup", i, &raw)?.resources
        }
        GroupLookup::Cache => {
            if !ctx.state.profile.contains_key("app_groups") {
                // Okta's cache is filled by the connector test / import; fetch it as they do.
                let (i, raw) = wire::send(
                    ctx,
                    s,
                    wire::request("GET", page_query("Groups", 1, 100), None),
                )
                .await;
                let list = judge::list(ctx, "group-lookup", i, &raw)?;
                cache_groups(ctx, &list.resources);
            }
            ctx.state
                .profile
                .get("app_groups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        }
    };
    Some(
        resources
            .iter()
            .find(|g| g.get("displayName").and_then(Value::as_str) == Some(name))
            .and_then(|g| g.get("id").and_then(Value::as_str))
            .map(str::to_string),
    )
}

pub async fn push_group(ctx: &mut ActionCtx<'_>, s: &Settings, key: &str, action: &ActionStep) {
    let name = group_name(ctx, key);
    if group_id(ctx, key).is_some() {
        return push_now(ctx, s, key, action).await;
    }
    let expect = opt(action, "expect")
        .and_then(|n| n.as_str())
        .unwrap_or("any")
        .to_string();
    let Some(found) = find_group(ctx, s, &name).await else {
        return;
    };
    if let Some(id) = found {
        set_group_state(ctx, key, "id", json!(id));
        if expect == "created" {
            let f = ctx.rule(
                "okta.group.linked-existing",
                format!("an app group named \"{name}\" already exists"),
            );
            ctx.finding(f);
            return;
        }
        // Linking makes Okta the master of the group: a full membership push follows (C9315).
        return push_now(ctx, s, key, action).await;
    }
    if expect == "linked" {
        let f = ctx.rule(
            "okta.group.link-missed",
            format!(
                "Okta's group lookup for \"{name}\" found nothing although the app holds the group"
            ),
        );
        ctx.finding(f);
        return;
    }
    let members: Vec<Value> = pushed_members(ctx, key)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    let (i, raw) = wire::send(
        ctx,
        s,
        wire::request(
            "POST",
            "/Groups",
            Some(wire::group_body(None, &name, &members)),
        ),
    )
    .await;
    if raw.status == 409 {
        let mut f = ctx
            .rule(
                "okta.group.conflict",
                format!("the create answered 409: an app group named \"{name}\" exists"),
            )
            .at_exchange(i);
        // The lookup found nothing, yet the server holds the name: when a second filter still
        // misses it, the filter is the fault (a server that cannot filter groups).
        if let crate::idp::diagnose::Miss::Cause(rule, why) =
            crate::idp::diagnose::missed_group(ctx, "displayName", &name).await
        {
            let idp = ctx.scenario.idp;
            f = crate::outcome::Finding {
                message: format!("{}: {why}", f.message),
                ..f
            }
            .rebind(rule, idp);
        }
        ctx.finding(f);
        return;
    }
    if judge::write_failed(ctx, i, &raw, "okta.group.create-failed") {
        return;
    }
    let Some(id) = raw
        .body
        .as_ref()
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
    else {
        // rfc7644.create.{body,id} judge this, with Okta's consequence; Okta stops here.
        return;
    };
    set_group_state(ctx, key, "id", json!(id));
    set_group_state(ctx, key, "pushed_name", json!(name));
    if s.oin() {
        // BLOG-FLASK: Okta PATCH-adds the members it just POSTed (§2.10.3, §8 #7).
        if s.readd_members_after_create && !members.is_empty() {
            let body = wire::patch(vec![wire::add_members(members)]);
            let (i, raw) = wire::send(
                ctx,
                s,
                wire::request("PATCH", format!("/Groups/{id}"), Some(body)),
            )
            .await;
            if judge::write_failed(ctx, i, &raw, "okta.group.membership-failed") {
                return;
            }
        }
        if s.metadata_patch_after_create {
            rename_patch(ctx, s, &id, &name).await;
        }
    } else {
        // AIW: POST → GET → PUT with identical content (KR-CAPTURE).
        put_members(ctx, s, &id, &name, &members).await;
    }
    if opt_bool(action, "verify", false) && !ctx.failed() {
        verify(ctx, s, key, &id, &name, &[]).await;
    }
}

/// The path-less `{id, displayName}` replace (okta.md §2.10.4, Appendix A.11).
async fn rename_patch(ctx: &mut ActionCtx<'_>, s: &Settings, id: &str, name: &str) -> bool {
    let ok = rename_request(ctx, s, id, name).await;
    if ok {
        note_pushed_name(ctx, id, name);
    }
    ok
}

/// The name the app group was last acknowledged to have: what idpsim's read-back expects (a
/// rename the server refused is that refusal's problem, not a later step's).
fn note_pushed_name(ctx: &mut ActionCtx<'_>, id: &str, name: &str) {
    let key = ctx
        .state
        .groups
        .iter()
        .find(|(_, g)| g.get("id").and_then(Value::as_str) == Some(id))
        .map(|(k, _)| k.clone());
    if let Some(key) = key {
        set_group_state(ctx, &key, "pushed_name", json!(name));
    }
}

async fn rename_request(ctx: &mut ActionCtx<'_>, s: &Settings, id: &str, name: &str) -> bool {
    let body = wire::patch(vec![wire::replace_value(
        json!({ "id": id, "displayName": name }),
    )]);
    let (i, raw) = wire::send(
        ctx,
        s,
        wire::request("PATCH", format!("/Groups/{id}"), Some(body)),
    )
    .await;
    if raw.status == 0 || (200..300).contains(&raw.status) {
        return raw.status != 0;
    }
    if ctx.root_caused(i) {
        return false;
    }
    // Every refusal is one problem, whatever the status: a 400, a 501 Not Implemented (the
    // form is not supported, RFC 7644 §3.12) or a 500 all leave Okta's push in Error, and a
    // raw step that replays this PATCH names the same rule.
    let f = ctx
        .rule(
            "okta.group.rename-rejected",
            format!(
                "the server answered {} to Okta's group rename PATCH (path-less replace with `id` and `displayName`){}",
                raw.status,
                judge::detail(&raw)
            ),
        )
        .diff(DiffEntry::new("status", "200 or 204", raw.status.to_string()))
        .at_exchange(i);
    ctx.finding(f);
    false
}

/// AIW: GET /Groups/{id} then PUT the full group (okta.md §2.10.6, Appendix A.10).
async fn put_members(
    ctx: &mut ActionCtx<'_>,
    s: &Settings,
    id: &str,
    name: &str,
    members: &[Value],
) -> bool {
    let path = format!("/Groups/{id}");
    let (i, raw) = wire::send(ctx, s, wire::request("GET", path.clone(), None)).await;
    if judge::write_failed(ctx, i, &raw, "okta.group.read-failed") {
        return false;
    }
    let (i, raw) = wire::send(
        ctx,
        s,
        wire::request("PUT", path, Some(wire::group_body(Some(id), name, members))),
    )
    .await;
    if raw.status == 400 {
        // AIW's group PUT carries the group's `id` (and Okta's PUTs echo what the server
        // returned): the same refusal of read-only attributes as the user PUT.
        let f = ctx
            .rule(
                "okta.put.readonly-rejected",
                format!(
                    "the server rejected Okta's group PUT (the full group, `id` included){}",
                    judge::detail(&raw)
                ),
            )
            .diff(DiffEntry::new("status", "200", "400"))
            .at_exchange(i);
        ctx.finding(f);
        return false;
    }
    let ok = !judge::write_failed(ctx, i, &raw, "okta.group.put-failed");
    if ok {
        note_pushed_name(ctx, id, name);
    }
    ok
}

pub async fn rename(ctx: &mut ActionCtx<'_>, s: &Settings, key: &str, action: &ActionStep) {
    let Some(id) = group_id(ctx, key) else {
        return unlinked(ctx, key);
    };
    let to = opt(action, "to")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string();
    let to = ctx.render(&to).unwrap_or(to);
    if let Some(g) = ctx.state.directory.group_mut(key) {
        g.attributes.insert("displayName".into(), json!(to));
    }
    set_group_state(ctx, key, "displayName", json!(to));
    let ok = if s.oin() {
        rename_patch(ctx, s, &id, &to).await
    } else {
        let members: Vec<Value> = pushed_members(ctx, key)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        put_members(ctx, s, &id, &to, &members).await
    };
    if ok && opt_bool(action, "verify", false) {
        verify(ctx, s, key, &id, &to, &[]).await;
    }
}

pub async fn change_members(
    ctx: &mut ActionCtx<'_>,
    s: &Settings,
    key: &str,
    add: &[String],
    remove: &[String],
    action: &ActionStep,
) {
    let Some(id) = group_id(ctx, key) else {
        return unlinked(ctx, key);
    };
    if let Some(g) = ctx.state.directory.group_mut(key) {
        g.members.retain(|m| !remove.contains(m));
        for a in add {
            if !g.members.contains(a) {
                g.members.push(a.clone());
            }
        }
    }
    let name = group_name(ctx, key);
    if s.oin() {
        // okta.md §2.10.5 / A.12: one remove op per user, then one add with all values.
        let mut ops: Vec<Value> = remove
            .iter()
            .filter_map(|k| {
                ctx.state
                    .users
                    .get(k)
                    .and_then(|u| u.get("id"))
                    .and_then(Value::as_str)
                    .map(wire::remove_member)
            })
            .collect();
        let added: Vec<Value> = add.iter().filter_map(|k| member_of(ctx, k)).collect();
        if !added.is_empty() {
            ops.push(wire::add_members(added));
        }
        if !ops.is_empty() {
            let (i, raw) = wire::send(
                ctx,
                s,
                wire::request("PATCH", format!("/Groups/{id}"), Some(wire::patch(ops))),
            )
            .await;
            if judge::write_failed(ctx, i, &raw, "okta.group.membership-failed") {
                return;
            }
        }
        // "The group name update operation is triggered each time there's a group membership
        // update operation" (O-SCIM20, okta.md §2.10.4).
        if s.rename_with_membership && !rename_patch(ctx, s, &id, &name).await {
            return;
        }
    } else {
        let members: Vec<Value> = pushed_members(ctx, key)
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        if !put_members(ctx, s, &id, &name, &members).await {
            return;
        }
    }
    if opt_bool(action, "verify", false) {
        verify(ctx, s, key, &id, &name, remove).await;
    }
}

pub async fn push_now(ctx: &mut ActionCtx<'_>, s: &Settings, key: &str, action: &ActionStep) {
    let Some(id) = group_id(ctx, key) else {
        return unlinked(ctx, key);
    };
    let listed = opt_keys(action, "members");
    if opt(action, "members").is_some() {
        if let Some(g) = ctx.state.directory.group_mut(key) {
            g.members = listed;
        }
    }
    let name = group_name(ctx, key);
    let members: Vec<Value> = pushed_members(ctx, key)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    let ok = if s.oin() {
        // okta.md §2.10.6 / A.13: a full overwrite; must work for an empty group (C9316).
        let body = wire::patch(vec![
            json!({ "op": "replace", "path": "members", "value": members }),
        ]);
        let (i, raw) = wire::send(
            ctx,
            s,
            wire::request("PATCH", format!("/Groups/{id}"), Some(body)),
        )
        .await;
        !judge::write_failed(ctx, i, &raw, "okta.group.push-now-failed")
    } else {
        put_members(ctx, s, &id, &name, &members).await
    };
    if ok && opt_bool(action, "verify", false) {
        verify(ctx, s, key, &id, &name, &[]).await;
    }
}

pub async fn unlink(ctx: &mut ActionCtx<'_>, s: &Settings, key: &str, action: &ActionStep) {
    let Some(id) = group_id(ctx, key) else {
        return unlinked(ctx, key);
    };
    if let Some(g) = ctx.state.groups.get_mut(key).and_then(Value::as_object_mut) {
        g.remove("id");
    }
    if !opt_bool(action, "delete", true) {
        // "Leave the group in the target app": Okta forgets the link and sends nothing.
        ctx.state.profile.remove("app_groups");
        return;
    }
    let (i, raw) = wire::send(
        ctx,
        s,
        wire::request("DELETE", format!("/Groups/{id}"), None),
    )
    .await;
    // Deleted (404: already gone, Okta's goal is met): Okta now believes the group is absent.
    // The entry keeps the id with `exists: false`, which `--write-state`, the `audit` step and
    // `expect_server` read as "must be gone"; `group_id` treats it as unlinked.
    let gone = raw.status == 404 || (200..300).contains(&raw.status);
    if gone {
        if let Some(g) = ctx.state.groups.get_mut(key).and_then(Value::as_object_mut) {
            g.insert("id".into(), json!(id));
            g.insert("exists".into(), json!(false));
        }
        return;
    }
    judge::write_failed(ctx, i, &raw, "okta.group.delete-failed");
}

/// idpsim's read-back after a group change (not Okta traffic): name and members must match
/// what Okta believes; each way they differ is named after the server bug that causes it.
async fn verify(
    ctx: &mut ActionCtx<'_>,
    s: &Settings,
    key: &str,
    id: &str,
    name: &str,
    removed: &[String],
) {
    let (i, raw) = ctx
        .send(
            OutgoingRequest::new("GET", format!("/Groups/{id}"))
                .header("Accept", "application/scim+json"),
        )
        .await;
    let Some(body) = raw.body.filter(|b| b.is_object()) else {
        return;
    };
    let have: Vec<String> = crate::scim::member_values(body.get("members"));
    let want = pushed_members(ctx, key);
    let pushed = ctx
        .state
        .groups
        .get(key)
        .and_then(|g| g.get("pushed_name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let name = pushed.as_deref().unwrap_or(name);
    // Every way the group differs from what Okta wrote is one finding: a write the server
    // acknowledged and did not apply (OIN: PATCH; AIW: PUT) — or, when the members are all
    // gone, the rename PATCH Okta sends with every change read as "members = []".
    let mut diffs = Vec::new();
    let mut forms = Vec::new();
    if body.get("displayName").and_then(Value::as_str) != Some(name) {
        forms.push("the rename");
        diffs.push(DiffEntry::new(
            "/displayName",
            name,
            body.get("displayName")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "absent".into()),
        ));
    }
    let still: Vec<&String> = removed
        .iter()
        .filter_map(|k| {
            ctx.state
                .users
                .get(k)
                .and_then(|u| u.get("id"))
                .and_then(Value::as_str)
                .map(|id| (k, id))
        })
        .filter(|(_, id)| have.iter().any(|h| h == id))
        .map(|(k, _)| k)
        .collect();
    if !still.is_empty() {
        forms.push("`remove members[value eq \"…\"]`");
        for k in still {
            diffs.push(DiffEntry::new(
                "/members",
                format!("without {k}"),
                format!("still contains {k}"),
            ));
        }
    }
    let missing: Vec<&(String, Value)> = want
        .iter()
        .filter(|(_, m)| {
            !have
                .iter()
                .any(|h| Some(h.as_str()) == m.get("value").and_then(Value::as_str))
        })
        .collect();
    let wiped = !missing.is_empty() && have.is_empty() && s.oin();
    if !missing.is_empty() {
        forms.push("the members Okta pushed");
        for (k, _) in missing {
            diffs.push(DiffEntry::new(
                "/members",
                format!("contains {k}"),
                "missing",
            ));
        }
    }
    if diffs.is_empty() {
        return;
    }
    let (rule, message) = if wiped {
        (
            "rfc7644.patch.replace-empties-members",
            "the app group lost every member Okta pushed".to_string(),
        )
    } else if s.oin() {
        (
            "rfc7644.patch.not-applied",
            format!(
                "the server acknowledged Okta's PATCH but the group does not reflect {}",
                forms.join(", ")
            ),
        )
    } else {
        (
            "rfc7644.replace.not-applied",
            format!(
                "the server acknowledged Okta's PUT but the group does not reflect {}",
                forms.join(", ")
            ),
        )
    };
    let mut f = ctx.rule(rule, message).at_exchange(i);
    for d in diffs {
        f = f.diff(d);
    }
    ctx.finding(f);
}
