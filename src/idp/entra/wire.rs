//! What Entra puts on the wire, as pure functions: query encoding, headers, create bodies, and
//! the PATCH bodies of both modes (entra.md §1, §3, §4). No I/O here, so the recordings test and
//! unit tests check the exact shapes.

use serde_json::{json, Map, Value as Json};

use crate::idp::entra::config::{FlagPosition, Mode, FLAG_TOKENS};
use crate::idp::entra::expr::Value;
use crate::idp::entra::roles::{self, FlagRolePatch, RoleFn, RoleTargets};
use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, PATCH_URN, USER_URN};

/// The Microsoft schema URI Entra still puts on group creates (entra.md §3.9).
pub const ADSCIM_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const MANAGER_PATH: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
/// Entra's Content-Type on POST and PATCH (azure-docs#12728, entra.md §1.2).
pub const CONTENT_TYPE: &str = "application/scim+json; charset=utf-8";

/// `application/x-www-form-urlencoded` as Entra's client writes query values: `+` for space,
/// `%22` for quotes, every other byte outside `A-Za-z0-9-._*` percent-encoded (entra.md §1.3).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out
}

/// `filter=userName+eq+%22value%22`. A `"` or `\` in the value is escaped as RFC 7644 §3.4.2.2
/// requires; Entra itself fails such objects (KI "special characters", entra.md §7.1).
pub fn filter_param(attr: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "filter={}",
        form_encode(&format!("{attr} eq \"{escaped}\""))
    )
}

/// Entra's reference check (Microsoft's SCIM tutorial, "Example 4. Query the value of a
/// reference attribute to be updated"): `filter=ID+eq+%22<user>%22+and+<attr>+eq+%22<value>%22`,
/// `ID` in capitals as the tutorial's parsed attribute path names it.
pub fn reference_check_param(user_id: &str, attr: &str, value: &str) -> String {
    let q = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "filter={}",
        form_encode(&format!(
            "ID eq \"{}\" and {attr} eq \"{}\"",
            q(user_id),
            q(value)
        ))
    )
}

/// How request URLs carry the Tenant URL's query.
#[derive(Clone, Debug)]
pub struct UrlPlan {
    pub mode: Mode,
    pub position: FlagPosition,
    /// The Tenant URL's other query parameters (flag tokens removed), kept in order.
    pub other: Vec<String>,
}

impl UrlPlan {
    /// Splits the base URL's query into flag tokens and the rest.
    pub fn new(mode: Mode, position: FlagPosition, base_query: Option<&str>) -> UrlPlan {
        let other = base_query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !is_flag_token(p))
            .map(str::to_string)
            .collect();
        UrlPlan {
            mode,
            position,
            other,
        }
    }

    /// `path` plus the request's own parameters, with the flag (flag mode only) before or after
    /// them and the Tenant URL's other parameters last.
    pub fn url(&self, path: &str, params: &[String]) -> String {
        let mut all: Vec<String> = Vec::new();
        let flag = (self.mode == Mode::Flag).then(|| FLAG_TOKENS[0].to_string());
        if self.position == FlagPosition::BeforeFilter {
            all.extend(flag.clone());
        }
        all.extend(params.iter().cloned());
        if self.position == FlagPosition::AfterFilter {
            all.extend(flag);
        }
        all.extend(self.other.iter().cloned());
        if all.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", all.join("&"))
        }
    }
}

/// Whether a query parameter is one of Entra's PATCH-behaviour flags (case-insensitive).
pub fn is_flag_token(param: &str) -> bool {
    let name = param.split('=').next().unwrap_or("");
    FLAG_TOKENS.iter().any(|t| t.eq_ignore_ascii_case(name))
}

/// Headers Entra sends besides Authorization: nothing on GET and DELETE (no Accept, no
/// User-Agent: #94189, suna#7297), the scim+json Content-Type on POST and PATCH.
pub fn headers(method: &str) -> Vec<(&'static str, &'static str)> {
    match method {
        "POST" | "PATCH" | "PUT" => vec![("Content-Type", CONTENT_TYPE)],
        _ => Vec::new(),
    }
}

/// A multi-valued target addressed by a filter: `emails[type eq "work"].value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilteredPath {
    pub attr: String,
    pub key: String,
    pub key_value: String,
    pub sub: String,
}

impl FilteredPath {
    pub fn parse(target: &str) -> Option<FilteredPath> {
        let (attr, rest) = target.split_once('[')?;
        let (filter, sub) = rest.split_once(']')?;
        let sub = sub.strip_prefix('.')?;
        let mut parts = filter.splitn(3, ' ');
        let key = parts.next()?;
        let op = parts.next()?;
        let value = parts.next()?;
        if !op.eq_ignore_ascii_case("eq") {
            return None;
        }
        let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
        if attr.is_empty() || sub.is_empty() || key.is_empty() {
            return None;
        }
        Some(FilteredPath {
            attr: attr.to_string(),
            key: key.to_string(),
            key_value: value.to_string(),
            sub: sub.to_string(),
        })
    }
}

/// `urn:…:enterprise:2.0:User:department` → (`urn:…:enterprise:2.0:User`, `department`).
pub fn split_urn(target: &str) -> Option<(&str, &str)> {
    if !target.to_ascii_lowercase().starts_with("urn:") {
        return None;
    }
    let (schema, attr) = target.rsplit_once(':')?;
    (!attr.is_empty()).then_some((schema, attr))
}

/// Targets whose SCIM type is boolean (RFC 7643 §4.1: `active`, `…primary`). Entra's values for
/// them are the strings "True"/"False" (§5.2); they become JSON booleans on POST and in flag
/// mode, and stay strings in default-mode PATCH (§4.2).
pub fn is_boolean_target(target: &str) -> bool {
    let t = target.to_ascii_lowercase();
    t == "active" || t.ends_with(".primary") || t.ends_with(":active")
}

/// The JSON an evaluated value becomes for `target`.
pub fn to_json(target: &str, value: &Value, json_booleans: bool) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Str(s) if json_booleans && is_boolean_target(target) => {
            crate::support::text::parse_bool(s).map_or_else(|| Json::String(s.clone()), Json::Bool)
        }
        Value::Str(s) => Json::String(s.clone()),
        Value::Multi(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
    }
}

fn get_ci<'a>(obj: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Reads a target attribute from a resource the server returned (case-insensitive names, as
/// SCIM attribute names are). A complex value with `value` (manager) reads as that value.
pub fn get_target(resource: &Json, target: &str) -> Option<Json> {
    let obj = resource.as_object()?;
    let found = if let Some(fp) = FilteredPath::parse(target) {
        get_ci(obj, &fp.attr)?
            .as_array()?
            .iter()
            .find(|e| {
                e.as_object()
                    .and_then(|o| get_ci(o, &fp.key))
                    .and_then(Json::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(&fp.key_value))
            })
            .and_then(|e| e.as_object())
            .and_then(|o| get_ci(o, &fp.sub))?
            .clone()
    } else if let Some((schema, attr)) = split_urn(target) {
        let ext = get_ci(obj, schema)?.as_object()?;
        get_ci(ext, attr)?.clone()
    } else {
        let mut cur = resource;
        for part in target.split('.') {
            cur = get_ci(cur.as_object()?, part)?;
        }
        cur.clone()
    };
    let found = match found {
        Json::Object(o) => get_ci(&o, "value")?.clone(),
        other => other,
    };
    (!found.is_null()).then_some(found)
}

/// Whether what the server holds equals what Entra computed (Entra's own string forms:
/// booleans "True"/"False", numbers in decimal).
pub fn same_value(held: Option<&Json>, value: &Value) -> bool {
    let text = |j: &Json| -> Option<String> {
        match j {
            Json::String(s) => Some(s.clone()),
            Json::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match (held, value) {
        (None, Value::Null) => true,
        (None, _) | (Some(_), Value::Null) => false,
        (Some(Json::Array(a)), Value::Multi(items)) => {
            a.len() == items.len()
                && a.iter()
                    .zip(items)
                    .all(|(j, s)| text(j).as_deref() == Some(s))
        }
        (Some(j), Value::Str(s)) => match (text(j), crate::support::text::parse_bool(s)) {
            // Booleans compare by meaning: "False" and false are the same state.
            (Some(t), Some(b)) if crate::support::text::parse_bool(&t) == Some(b) => true,
            (Some(t), _) => &t == s,
            (None, _) => false,
        },
        _ => false,
    }
}

/// Writes a target into a create body: nested for `name.givenName`, into the extension object
/// for `urn:…:attr`, and as an element of the multi-valued attribute for `emails[type eq "work"].value`.
pub fn set_target(body: &mut Map<String, Json>, target: &str, value: Json) {
    if let Some(fp) = FilteredPath::parse(target) {
        let list = body
            .entry(fp.attr.clone())
            .or_insert_with(|| Json::Array(Vec::new()));
        if !list.is_array() {
            *list = Json::Array(Vec::new());
        }
        if let Json::Array(items) = list {
            let pos = items.iter().position(|e| {
                e.get(&fp.key).is_some_and(|v| match v {
                    Json::String(s) => *s == fp.key_value,
                    Json::Bool(b) => crate::support::text::parse_bool(&fp.key_value) == Some(*b),
                    _ => false,
                })
            });
            let idx = match pos {
                Some(i) => i,
                None => {
                    // `roles[primary eq "True"]`: the filter's `primary` is a boolean
                    // sub-attribute, written as JSON `true` on create like `active`.
                    let key_value = if is_boolean_target(&format!("{}.{}", fp.attr, fp.key)) {
                        crate::support::text::parse_bool(&fp.key_value)
                            .map_or_else(|| Json::String(fp.key_value.clone()), Json::Bool)
                    } else {
                        Json::String(fp.key_value.clone())
                    };
                    items.push(json!({ fp.key.clone(): key_value }));
                    items.len() - 1
                }
            };
            if let Some(Json::Object(e)) = items.get_mut(idx) {
                e.insert(fp.sub.clone(), value);
            }
        }
    } else if let Some((schema, attr)) = split_urn(target) {
        let ext = body
            .entry(schema.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(e) = ext {
            e.insert(attr.to_string(), value);
        }
    } else if let Some((head, rest)) = target.split_once('.') {
        let inner = body
            .entry(head.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if !inner.is_object() {
            *inner = Json::Object(Map::new());
        }
        if let Json::Object(m) = inner {
            set_target(m, rest, value);
        }
    } else {
        body.insert(target.to_string(), value);
    }
}

/// POST /Users body (§3.1): both schemas, the mapped attributes, `meta.resourceType`. Booleans
/// are JSON booleans on create even without the flag. Role targets become the role objects of
/// "Provisioning a role to a SCIM app" (`entra::roles`), one attribute each. The work email
/// carries `"primary": true`, as in the tutorial's Create User request (Microsoft Learn,
/// "Tutorial: Develop and plan provisioning for a SCIM endpoint" → Create User → Request),
/// unless a mapping sets its `primary`.
pub fn create_user_body(values: &[(String, Value)], role_targets: &RoleTargets) -> Json {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([USER_URN, ENTERPRISE_URN]));
    let role_values: Vec<(&str, RoleFn, &Value)> = values
        .iter()
        .filter_map(|(t, v)| role_targets.get(t).map(|f| (t.as_str(), f, v)))
        .collect();
    let groups = roles::group(role_values);
    let mut written: Vec<&str> = Vec::new();
    for (t, v) in values {
        if role_targets.get(t).is_some() {
            let (attr, _) = roles::attribute(t);
            if written.iter().any(|w| w.eq_ignore_ascii_case(attr)) {
                continue;
            }
            if let Some(g) = groups.iter().find(|g| g.attr.eq_ignore_ascii_case(attr)) {
                set_target(&mut body, g.attr, roles::create_value(g));
                written.push(g.attr);
            }
            continue;
        }
        set_target(&mut body, t, to_json(t, v, true));
    }
    mark_work_email_primary(&mut body);
    body.insert("meta".into(), json!({"resourceType": "User"}));
    Json::Object(body)
}

/// `"primary": true` first in the `emails` element of type `work`, where none is set.
fn mark_work_email_primary(body: &mut Map<String, Json>) {
    let Some(Json::Array(emails)) = body.get_mut("emails") else {
        return;
    };
    for e in emails.iter_mut() {
        let Json::Object(o) = e else { continue };
        let work = o
            .get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("work"));
        if work && !o.contains_key("primary") {
            let mut m = Map::new();
            m.insert("primary".into(), Json::Bool(true));
            m.extend(std::mem::take(o));
            *o = m;
        }
    }
}

/// POST /Groups body (§3.9): the Microsoft schema URI, no members (they follow by PATCH).
pub fn create_group_body(values: &[(String, Value)]) -> Json {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([GROUP_URN, ADSCIM_GROUP_SCHEMA]));
    for (t, v) in values {
        set_target(&mut body, t, to_json(t, v, true));
    }
    body.insert("meta".into(), json!({"resourceType": "Group"}));
    Json::Object(body)
}

/// One changed target attribute of an incremental update.
#[derive(Clone, Debug)]
pub struct Change {
    pub target: String,
    pub value: Value,
    /// Whether the server held a value: `Add` when it did not, `Replace` when it did (§4.5).
    pub had_value: bool,
    /// The role function feeding this target: its PATCH is the one `entra::roles` documents.
    pub role: Option<RoleFn>,
}

fn op_name(mode: Mode, had_value: bool) -> &'static str {
    match (mode, had_value) {
        (Mode::Default, false) => "Add",
        (Mode::Default, true) => "Replace",
        (Mode::Flag, false) => "add",
        (Mode::Flag, true) => "replace",
    }
}

/// An object of these members, in this order, the values moved in: `json!` would copy every
/// interpolated `Value` by serialising it again, and a member batch is most of its body.
fn object<const N: usize>(members: [(&str, Json); N]) -> Json {
    Json::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn patch(ops: Vec<Json>) -> Json {
    object([
        ("schemas", Json::Array(vec![Json::String(PATCH_URN.into())])),
        ("Operations", Json::Array(ops)),
    ])
}

/// The PATCH of changed attributes (§4.2, §4.5):
/// * default: one op per attribute, each with a path, `Add`/`Replace`, booleans as strings;
/// * flag: lowercase, JSON booleans; filtered multi-valued targets keep their own op with a path;
///   a single other attribute keeps its path (COMPAT-2020 department example); two or more are
///   merged into one path-less `replace` whose map has dotted and urn-qualified keys;
/// * role targets: one op per role attribute, as "Provisioning a role to a SCIM app" prints it
///   for each function (`entra::roles::patch_op`; `flag_roles` is the flag-mode choice), in the
///   place of the first of its targets (default) or with the filtered ops (flag).
pub fn update_body(mode: Mode, changes: &[Change], flag_roles: FlagRolePatch) -> Json {
    let groups = roles::group(
        changes
            .iter()
            .filter_map(|c| c.role.map(|f| (c.target.as_str(), f, &c.value))),
    );
    let mut role_ops_sent: Vec<&str> = Vec::new();
    let mut role_op = |c: &Change, ops: &mut Vec<Json>| {
        let (attr, _) = roles::attribute(&c.target);
        if role_ops_sent.iter().any(|a| a.eq_ignore_ascii_case(attr)) {
            return;
        }
        if let Some(g) = groups.iter().find(|g| g.attr.eq_ignore_ascii_case(attr)) {
            ops.push(roles::patch_op(mode, flag_roles, g));
            role_ops_sent.push(g.attr);
        }
    };
    let mut ops = Vec::new();
    match mode {
        Mode::Default => {
            for c in changes {
                if c.role.is_some() {
                    role_op(c, &mut ops);
                    continue;
                }
                ops.push(object([
                    ("op", op_name(mode, c.had_value).into()),
                    ("path", c.target.clone().into()),
                    ("value", to_json(&c.target, &c.value, false)),
                ]));
            }
        }
        Mode::Flag => {
            let (role_changes, rest): (Vec<&Change>, Vec<&Change>) =
                changes.iter().partition(|c| c.role.is_some());
            let (filtered, plain): (Vec<&Change>, Vec<&Change>) = rest
                .into_iter()
                .partition(|c| FilteredPath::parse(&c.target).is_some());
            for c in filtered {
                ops.push(object([
                    ("op", op_name(mode, c.had_value).into()),
                    ("path", c.target.clone().into()),
                    ("value", to_json(&c.target, &c.value, true)),
                ]));
            }
            for c in role_changes {
                role_op(c, &mut ops);
            }
            match plain.as_slice() {
                [] => {}
                [one] => ops.push(object([
                    ("op", op_name(mode, one.had_value).into()),
                    ("path", one.target.clone().into()),
                    ("value", to_json(&one.target, &one.value, true)),
                ])),
                many => {
                    let map: Map<String, Json> = many
                        .iter()
                        .map(|c| (c.target.clone(), to_json(&c.target, &c.value, true)))
                        .collect();
                    ops.push(object([
                        ("op", "replace".into()),
                        ("value", Json::Object(map)),
                    ]));
                }
            }
        }
    }
    patch(ops)
}

/// Manager reference PATCH after create (§4.4): a bare string on the enterprise URN path, `Add`
/// when unset and `Replace` when changed.
pub fn manager_body(mode: Mode, manager_id: &str, had_value: bool) -> Json {
    patch(vec![json!({
        "op": op_name(mode, had_value),
        "path": MANAGER_PATH,
        "value": manager_id,
    })])
}

fn member_values(ids: &[String], ref_null: bool) -> Json {
    Json::Array(
        ids.iter()
            .map(|id| {
                let id = Json::String(id.clone());
                if ref_null {
                    object([("$ref", Json::Null), ("value", id)])
                } else {
                    object([("value", id)])
                }
            })
            .collect(),
    )
}

/// Member adds (§3.13, §4.3): one `Add` op with the batch as a value array, in both modes.
pub fn add_members_body(mode: Mode, ids: &[String], ref_null: bool) -> Json {
    patch(vec![object([
        ("op", op_name(mode, false).into()),
        ("path", "members".into()),
        ("value", member_values(ids, ref_null)),
    ])])
}

/// `add_members_body` (and, in default mode, `remove_members_body`) as the text it serialises
/// to, written directly: `idpsim load` sends thousands of these, and a `Value` tree of one
/// object per member cost more to build and serialise than the rest of the request. Flag-mode
/// removals (one op per member) have no text form: `None`.
pub fn members_text(mode: Mode, remove: bool, ids: &[String], ref_null: bool) -> Option<String> {
    let op = match (remove, mode) {
        (false, _) => op_name(mode, false),
        (true, Mode::Default) => "Remove",
        (true, Mode::Flag) => return None,
    };
    let element = if ref_null {
        "{\"$ref\":null,\"value\":"
    } else {
        "{\"value\":"
    };
    let mut s = String::with_capacity(120 + ids.len() * (element.len() + 40));
    s.push_str("{\"schemas\":[\"");
    s.push_str(PATCH_URN);
    s.push_str("\"],\"Operations\":[{\"op\":\"");
    s.push_str(op);
    s.push_str("\",\"path\":\"members\",\"value\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(element);
        if id.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            // What needs escaping is escaped as serde_json escapes it.
            s.push_str(&serde_json::to_string(id).ok()?);
        } else {
            s.push('"');
            s.push_str(id);
            s.push('"');
        }
        s.push('}');
    }
    s.push_str("]}]}");
    Some(s)
}

/// Member removals: default mode `Remove` + path `members` + the value array (§3.14, non-RFC);
/// flag mode one `remove` per member with path `members[value eq "…"]` and no value (§4.2).
pub fn remove_members_body(mode: Mode, ids: &[String], ref_null: bool) -> Json {
    match mode {
        Mode::Default => patch(vec![object([
            ("op", "Remove".into()),
            ("path", "members".into()),
            ("value", member_values(ids, ref_null)),
        ])]),
        Mode::Flag => patch(
            ids.iter()
                .map(|id| {
                    let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
                    object([
                        ("op", "remove".into()),
                        ("path", format!("members[value eq \"{escaped}\"]").into()),
                    ])
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text form is byte for byte what the `Value` form serialises to, escapes included.
    #[test]
    fn member_text_is_the_serialised_body() {
        let id_sets: Vec<Vec<String>> = vec![
            vec![],
            vec!["6a1f0c2e-5b8d-4e0a-9c1b-2f3e4d5a6b7c".into()],
            vec![
                "a".into(),
                "b\"q".into(),
                "back\\slash".into(),
                "tab\tnl\n\u{1}".into(),
                "ünï".into(),
            ],
        ];
        for mode in [Mode::Default, Mode::Flag] {
            for ref_null in [false, true] {
                for ids in &id_sets {
                    let add = serde_json::to_string(&add_members_body(mode, ids, ref_null));
                    assert_eq!(members_text(mode, false, ids, ref_null), add.ok());
                    let remove = members_text(mode, true, ids, ref_null);
                    match mode {
                        Mode::Default => assert_eq!(
                            remove,
                            serde_json::to_string(&remove_members_body(mode, ids, ref_null)).ok()
                        ),
                        Mode::Flag => assert_eq!(remove, None),
                    }
                }
            }
        }
    }

    /// The member bodies are built without `json!`; on the wire they are what `json!` gives.
    #[test]
    fn member_bodies_serialise_as_the_json_literals() {
        let ids = vec!["u-1".to_string(), "u\"2".to_string()];
        let wire = |v: &Json| serde_json::to_string(v).expect("serialises");
        assert_eq!(
            wire(&add_members_body(Mode::Default, &ids, false)),
            wire(&json!({"schemas": [PATCH_URN], "Operations": [
                {"op": "Add", "path": "members", "value": [{"value": "u-1"}, {"value": "u\"2"}]}]}))
        );
        assert_eq!(
            wire(&add_members_body(Mode::Flag, &ids, true)),
            wire(&json!({"schemas": [PATCH_URN], "Operations": [
                {"op": "add", "path": "members",
                 "value": [{"$ref": null, "value": "u-1"}, {"$ref": null, "value": "u\"2"}]}]}))
        );
        assert_eq!(
            wire(&remove_members_body(Mode::Default, &ids, false)),
            wire(&json!({"schemas": [PATCH_URN], "Operations": [
                {"op": "Remove", "path": "members", "value": [{"value": "u-1"}, {"value": "u\"2"}]}]}))
        );
        assert_eq!(
            wire(&remove_members_body(Mode::Flag, &ids, false)),
            wire(&json!({"schemas": [PATCH_URN], "Operations": [
                {"op": "remove", "path": "members[value eq \"u-1\"]"},
                {"op": "remove", "path": "members[value eq \"u\\\"2\"]"}]}))
        );
        assert_eq!(form_encode("a b\"é/"), "a+b%22%C3%A9%2F");
    }

    #[test]
    fn filter_is_form_encoded_like_entra() {
        assert_eq!(
            filter_param("userName", "7d420df3-9995-4831-a406-ecf8166f5f6a"),
            "filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"
        );
        assert_eq!(
            filter_param("displayName", "a@b c"),
            "filter=displayName+eq+%22a%40b+c%22"
        );
    }

    #[test]
    fn reference_check_is_the_tutorials() {
        assert_eq!(
            reference_check_param("u1", "manager", "m\"1"),
            "filter=ID+eq+%22u1%22+and+manager+eq+%22m%5C%221%22"
        );
    }

    #[test]
    fn flag_goes_where_configured() {
        let after = UrlPlan::new(
            Mode::Flag,
            FlagPosition::AfterFilter,
            Some("aadOptscim062020&tenant=x"),
        );
        assert_eq!(
            after.url("/Users", &["filter=a".into()]),
            "/Users?filter=a&aadOptscim062020&tenant=x"
        );
        let before = UrlPlan::new(Mode::Flag, FlagPosition::BeforeFilter, None);
        assert_eq!(
            before.url("/Users", &["filter=a".into()]),
            "/Users?aadOptscim062020&filter=a"
        );
        let default = UrlPlan::new(
            Mode::Default,
            FlagPosition::AfterFilter,
            Some("aadOptscim062020"),
        );
        assert_eq!(default.url("/Users/1", &[]), "/Users/1");
    }

    #[test]
    fn flag_mode_merges_plain_targets_and_keeps_filtered_ones() {
        let c = |t: &str, v: &str| Change {
            target: t.into(),
            value: Value::str(v),
            had_value: true,
            role: None,
        };
        let body = update_body(
            Mode::Flag,
            &[
                c("displayName", "B"),
                c("emails[type eq \"work\"].value", "x@y"),
                c("name.givenName", "K"),
                c("active", "False"),
            ],
            FlagRolePatch::default(),
        );
        assert_eq!(
            body["Operations"],
            json!([
                {"op":"replace","path":"emails[type eq \"work\"].value","value":"x@y"},
                {"op":"replace","value":{"displayName":"B","name.givenName":"K","active":false}}
            ])
        );
        let body = update_body(
            Mode::Default,
            &[c("active", "False")],
            FlagRolePatch::default(),
        );
        assert_eq!(
            body["Operations"],
            json!([{"op":"Replace","path":"active","value":"False"}])
        );
    }

    #[test]
    fn reads_targets_from_resources() {
        let r = json!({"emails":[{"type":"work","value":"a@b"}],"name":{"givenName":"G"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},
            "active": false});
        assert_eq!(
            get_target(&r, "emails[type eq \"work\"].value"),
            Some(json!("a@b"))
        );
        assert_eq!(get_target(&r, "name.givenName"), Some(json!("G")));
        assert_eq!(get_target(&r, MANAGER_PATH), Some(json!("m1")));
        assert!(same_value(
            get_target(&r, "active").as_ref(),
            &Value::str("False")
        ));
        assert!(!same_value(
            get_target(&r, "active").as_ref(),
            &Value::str("True")
        ));
        assert_eq!(get_target(&r, "title"), None);
    }

    // ----- app roles and the work email, as Microsoft's pages print them ---------------

    use crate::idp::entra::expr::{evaluate_mappings, AttributeMapping, EvalContext, Operation};

    fn mapping(target: &str, source: &str) -> AttributeMapping {
        AttributeMapping {
            target: target.into(),
            source: AttributeMapping::parse_source(source).expect("a valid expression"),
            default_value: None,
            apply: crate::idp::entra::expr::ApplyOn::Always,
            matching_precedence: None,
        }
    }

    /// Evaluates `mappings` over a user with these app role assignments.
    fn values(mappings: &[AttributeMapping], roles: Json) -> Vec<(String, Value)> {
        let src = json!({"appRoleAssignments": roles, "mail": "alias@contoso.com"});
        let src = src.as_object().cloned().unwrap_or_default();
        evaluate_mappings(mappings, &src, Operation::Create, &EvalContext::default())
            .expect("the role functions evaluate")
    }

    fn changes(mappings: &[AttributeMapping], roles: Json) -> Vec<Change> {
        let targets = RoleTargets::of(mappings);
        values(mappings, roles)
            .into_iter()
            .map(|(target, value)| Change {
                role: targets.get(&target),
                target,
                value,
                had_value: true,
            })
            .collect()
    }

    /// Byte for byte, so key order and the JSON text inside `value` count.
    fn same_text(got: &Json, want: Json) {
        assert_eq!(got.to_string(), want.to_string());
    }

    const SINGLE: &str = "SingleAppRoleAssignment([appRoleAssignments])";
    const COMPLEX: &str = "AppRoleAssignmentsComplex([appRoleAssignments])";
    const ASSERTIVE: &str = "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])";

    fn role1234() -> Json {
        json!([{"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "25", "displayName": "Role1234"}])
    }

    fn admin_user() -> Json {
        json!([
            {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Admin"},
            {"id": "06b07648-ecfe-599f-9d2f-6325724a46ee", "value": "User", "displayName": "User"}
        ])
    }

    #[test]
    fn single_app_role_assignment_as_documented() {
        // Customize user provisioning attribute-mappings → Provisioning a role to a SCIM app →
        // SingleAppRoleAssignment, "Example request (POST)".
        let m = [mapping(r#"roles[primary eq "True"].value"#, SINGLE)];
        let body = create_user_body(&values(&m, json!(["Admin"])), &RoleTargets::of(&m));
        same_text(
            &body["roles"],
            json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]),
        );
        // "Example output (PATCH)", byte for byte: one `Add` on `roles`, the assignment as text.
        let doc = json!([{"op": "Add", "path": "roles", "value": [
            {"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}
        ]}]);
        let patch = update_body(
            Mode::Default,
            &changes(&m, role1234()),
            FlagRolePatch::PostForm,
        );
        same_text(&patch["Operations"], doc.clone());
        // The flag: "POST and PATCH are sent in the same format" (choice 1) …
        let flag = update_body(
            Mode::Flag,
            &changes(&m, role1234()),
            FlagRolePatch::PostForm,
        );
        same_text(
            &flag["Operations"],
            json!([{"op": "add", "path": "roles", "value": [
                {"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "25"}
            ]}]),
        );
        // … or, configured, as without it.
        let enc = update_body(
            Mode::Flag,
            &changes(&m, role1234()),
            FlagRolePatch::StringEncoded,
        );
        same_text(&enc["Operations"], doc);
        // `.value` and `.display` together: one element, one operation (choice 2).
        let both = [
            mapping(r#"roles[primary eq "True"].display"#, SINGLE),
            mapping(r#"roles[primary eq "True"].value"#, SINGLE),
        ];
        let body = create_user_body(&values(&both, role1234()), &RoleTargets::of(&both));
        same_text(
            &body["roles"],
            json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "display": "Role1234", "value": "25"}]),
        );
        let patch = update_body(
            Mode::Default,
            &changes(&both, role1234()),
            FlagRolePatch::PostForm,
        );
        assert_eq!(patch["Operations"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn app_role_assignments_complex_as_documented() {
        let m = [mapping("roles", COMPLEX)];
        // AppRoleAssignmentsComplex, "Example Request (POST)": objects with `displayName`.
        let body = create_user_body(&values(&m, json!(["Admin", "User"])), &RoleTargets::of(&m));
        same_text(
            &body["roles"],
            json!([
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User", "value": "User"}
            ]),
        );
        // "Example output (PATCH)", byte for byte: `Add` (never Replace: it keeps other roles).
        let patch = update_body(
            Mode::Default,
            &changes(&m, admin_user()),
            FlagRolePatch::PostForm,
        );
        same_text(
            &patch["Operations"],
            json!([{"op": "Add", "path": "roles", "value": [
                {"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"},
                {"value": "{\"id\":\"06b07648-ecfe-599f-9d2f-6325724a46ee\",\"value\":\"User\",\"displayName\":\"User\"}"}
            ]}]),
        );
        // The flag fixes "the id attribute issue": the POST's objects, no id (choice 1).
        let flag = update_body(
            Mode::Flag,
            &changes(&m, admin_user()),
            FlagRolePatch::PostForm,
        );
        same_text(
            &flag["Operations"],
            json!([{"op": "add", "path": "roles", "value": [
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
                {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User", "value": "User"}
            ]}]),
        );
    }

    #[test]
    fn assertive_app_role_assignments_complex_as_documented() {
        let m = [mapping("roles", ASSERTIVE)];
        let elements = json!([
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Test", "value": "Test"}
        ]);
        // AssertiveAppRoleAssignmentsComplex, "Example Request (POST)": objects with `display`.
        let body = create_user_body(&values(&m, json!(["User", "Test"])), &RoleTargets::of(&m));
        same_text(&body["roles"], elements.clone());
        // "Example output (PATCH)": lower-case `replace` with the same objects, in both modes.
        let doc = json!([{"op": "replace", "path": "roles", "value": elements}]);
        for mode in [Mode::Default, Mode::Flag] {
            let patch = update_body(
                mode,
                &changes(&m, json!(["User", "Test"])),
                FlagRolePatch::PostForm,
            );
            same_text(&patch["Operations"], doc.clone());
        }
    }

    #[test]
    fn role_ops_sit_beside_the_other_changes() {
        let m = [
            mapping("displayName", r#""Barbara""#),
            mapping("roles", COMPLEX),
            mapping("name.givenName", r#""Babs""#),
        ];
        let ops = update_body(
            Mode::Default,
            &changes(&m, json!(["Admin"])),
            FlagRolePatch::PostForm,
        );
        let paths: Vec<&str> = ops["Operations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["path"].as_str())
            .collect();
        assert_eq!(paths, ["displayName", "roles", "name.givenName"]);
        // Flag mode: the role op keeps its path; the other two merge into the path-less map.
        let ops = update_body(
            Mode::Flag,
            &changes(&m, json!(["Admin"])),
            FlagRolePatch::PostForm,
        );
        assert_eq!(ops["Operations"][0]["path"], "roles");
        assert_eq!(
            ops["Operations"][1],
            json!({"op": "replace", "value": {"displayName": "Barbara", "name.givenName": "Babs"}})
        );
    }

    #[test]
    fn work_email_is_primary_on_create() {
        // Tutorial: Develop and plan provisioning for a SCIM endpoint → Create User → Request:
        // `"emails": [{"primary": true, "type": "work", "value": …}]`.
        let m = [mapping(r#"emails[type eq "work"].value"#, "[mail]")];
        let body = create_user_body(&values(&m, json!([])), &RoleTargets::of(&m));
        same_text(
            &body["emails"],
            json!([{"primary": true, "type": "work", "value": "alias@contoso.com"}]),
        );
        // A mapping that sets `primary` itself wins, as a JSON boolean.
        let m = [
            mapping(r#"emails[type eq "work"].value"#, "[mail]"),
            mapping(r#"emails[type eq "work"].primary"#, r#""False""#),
        ];
        let body = create_user_body(&values(&m, json!([])), &RoleTargets::of(&m));
        same_text(
            &body["emails"],
            json!([{"type": "work", "value": "alias@contoso.com", "primary": false}]),
        );
        // Other email types are left alone.
        let m = [mapping(r#"emails[type eq "other"].value"#, "[mail]")];
        let body = create_user_body(&values(&m, json!([])), &RoleTargets::of(&m));
        same_text(
            &body["emails"],
            json!([{"type": "other", "value": "alias@contoso.com"}]),
        );
    }
}
