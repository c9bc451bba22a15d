//! Turning client JSON into stored attributes (`ingest`, `normalize`) and stored resources into
//! SCIM representations (`render`, `project`).
//!
//! Ingest is lenient in the ways Okta and Entra need (issue 3 §3): readOnly attributes (`id`,
//! `meta`, `groups`) and unknown schema URIs are ignored, nulls mean "unassigned"
//! (RFC 7643 §2.5), `"True"`/`"False"` strings become booleans where the schema says boolean,
//! and Entra's bare-string `manager` becomes `{"value": …}`. Entra's app roles are read as Entra
//! means them (`entra_role`). Attributes outside the known schemas are dropped.

use serde_json::{json, Map, Value};

use super::member::Member;
use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use super::store::{Index, Resource};
use crate::scim::filter::get_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrDef, AttrType, Mutability, ResourceKind, Returned};

/// A role element as Entra sends it (Microsoft Learn, "Customize user provisioning
/// attribute-mappings" → "Provisioning a role to a SCIM app"): the default-mode PATCH carries
/// the assignment as JSON text in `value` (`{"value":"{\"id\":…,\"value\":\"Admin\",\"displayName\":\"Admin\"}"}`),
/// which is stored as the role it names (`value`, `display`); `AppRoleAssignmentsComplex`'s
/// `displayName` is the role's `display`. Any other element is left as it is.
fn entra_role(mut obj: Map<String, Value>) -> Map<String, Value> {
    if obj.len() == 1 {
        if let Some(Value::String(text)) = get_ci(&obj, "value") {
            if let Ok(Value::Object(inner)) = serde_json::from_str::<Value>(text) {
                if let Some(Value::String(v)) = get_ci(&inner, "value") {
                    let mut role = Map::new();
                    role.insert("value".into(), Value::String(v.clone()));
                    if let Some(Value::String(d)) = get_ci(&inner, "displayName") {
                        role.insert("display".into(), Value::String(d.clone()));
                    }
                    return role;
                }
            }
        }
    }
    if get_ci(&obj, "display").is_some() {
        return obj;
    }
    std::mem::take(&mut obj)
        .into_iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case("displayName") {
                ("display".to_string(), v)
            } else {
                (k, v)
            }
        })
        .collect()
}

/// Normalises one value against its definition. `Ok(None)` means "unassigned".
pub(crate) fn normalize(
    def: &'static AttrDef,
    v: &Value,
    quirks: &Quirks,
) -> Result<Option<Value>, ScimError> {
    if v.is_null() {
        return Ok(None);
    }
    if def.multi_valued {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            // A single object where an array is expected: accept it as a one-element array.
            other => vec![other],
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(n) = normalize_single(def, item, quirks)? {
                out.push(n);
            }
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    normalize_single(def, v, quirks)
}

pub(crate) fn normalize_single(
    def: &'static AttrDef,
    v: &Value,
    quirks: &Quirks,
) -> Result<Option<Value>, ScimError> {
    if v.is_null() {
        return Ok(None);
    }
    if def.ty == AttrType::Complex {
        // Read in place (a member batch is thousands of these): only a bare value is wrapped.
        let wrapped;
        let obj = match v {
            Value::Object(o) => o,
            // Entra sends the manager as a bare id string (MicrosoftDocs/azure-docs#11784); a plain string for a
            // multi-valued complex element (`emails: ["a@b"]`) is read the same way.
            Value::String(s) if s.is_empty() => return Ok(None),
            Value::String(_) | Value::Number(_) => {
                let mut m = Map::new();
                m.insert("value".into(), v.clone());
                wrapped = m;
                &wrapped
            }
            _ => {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("attribute '{}' must be a complex object", def.name),
                ))
            }
        };
        // Only Entra's role form is rewritten, on a copy.
        let rewritten;
        let obj = match (def.name == "roles", quirks.has(Quirk::StrictRoleSubattributes)) {
            (true, false) => {
                rewritten = entra_role(obj.clone());
                &rewritten
            }
            (true, true) => match obj
                .keys()
                .find(|k| !["value", "display", "type", "primary"].iter().any(|s| k.eq_ignore_ascii_case(s)))
            {
                Some(k) => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        format!("roles: unknown sub-attribute '{k}' (RFC 7643 §4.1.2: value, display, type, primary)"),
                    ))
                }
                None => obj,
            },
            (false, _) => obj,
        };
        let mut out = Map::new();
        for (k, sv) in obj {
            let Some(sdef) = def.sub(k) else { continue };
            if sv.is_null() && def.name == "members" && sdef.name == "display" {
                // Remember that the client asked for a display (Okta's `"display": null`), so
                // the member is rendered with one (see `render_member`).
                out.insert("display".into(), Value::Null);
                continue;
            }
            if let Some(n) = normalize_single(sdef, sv, quirks)? {
                out.insert(sdef.name.to_string(), n);
            }
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Object(out))
        });
    }
    match (def.ty, v) {
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(v.clone())),
        (AttrType::Boolean, Value::String(s)) => {
            let Some(b) = crate::support::text::parse_bool(s) else {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("attribute '{}' must be a boolean, got \"{s}\"", def.name),
                ));
            };
            if quirks.has(Quirk::RejectStringBooleans) {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!(
                        "attribute '{}' must be a JSON boolean, got the string \"{s}\"",
                        def.name
                    ),
                ));
            }
            Ok(Some(Value::Bool(b)))
        }
        (AttrType::Boolean, _) => Err(ScimError::bad(
            "invalidValue",
            format!("attribute '{}' must be a boolean", def.name),
        )),
        (AttrType::Integer | AttrType::Decimal, Value::Number(_)) => Ok(Some(v.clone())),
        (_, Value::Object(_) | Value::Array(_)) => Err(ScimError::bad(
            "invalidValue",
            format!(
                "attribute '{}' must be a single {} value",
                def.name,
                def.ty.as_str()
            ),
        )),
        // Strings, references, binaries, dateTimes: stored exactly as sent (Entra: "store
        // values exactly as sent", Entra's SCIM tutorial, what Entra requires of responses).
        _ => Ok(Some(v.clone())),
    }
}

/// Builds the stored attribute map from a POST/PUT body.
pub(crate) fn ingest(
    kind: ResourceKind,
    body: &Map<String, Value>,
    quirks: &Quirks,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (k, v) in body {
        if k.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = kind.extension(k) {
            // Nested extension object: {"urn:…:User": {"department": "Sales"}}.
            let Value::Object(inner) = v else { continue };
            let mut ext_obj = Map::new();
            for (ik, iv) in inner {
                let Some(def) = ext.attr(ik) else { continue };
                if def.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(n) = normalize(def, iv, quirks)? {
                    ext_obj.insert(def.name.to_string(), n);
                }
            }
            if !ext_obj.is_empty() {
                merge_ext(&mut out, ext.id, ext_obj);
            }
            continue;
        }
        let Ok(path) = AttrPath::parse(k) else {
            continue;
        };
        let Some(def) = path.attr_def(kind) else {
            continue;
        };
        // readOnly attributes sent by the client (id, meta, groups — Okta echoes its GET
        // back in PUT) are ignored, per RFC 7643 §7 "SHALL be ignored".
        if def.mutability == Mutability::ReadOnly {
            continue;
        }
        let value = match &path.sub {
            // A urn- or dot-qualified key in a body ("urn:…:User:department", "name.givenName").
            Some(sub) => match def.sub(sub) {
                Some(sdef) => normalize_single(sdef, v, quirks)?.map(|n| json!({ sdef.name: n })),
                None => continue,
            },
            None => normalize(def, v, quirks)?,
        };
        let Some(value) = value else { continue };
        match path.urn.as_deref().and_then(|u| kind.extension(u)) {
            Some(ext) => {
                let mut m = Map::new();
                m.insert(def.name.to_string(), value);
                merge_ext(&mut out, ext.id, m);
            }
            None => match (out.get_mut(def.name), value) {
                (Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
                (_, value) => {
                    out.insert(def.name.to_string(), value);
                }
            },
        }
    }
    Ok(out)
}

fn merge_ext(out: &mut Map<String, Value>, urn: &str, add: Map<String, Value>) {
    match out.get_mut(urn) {
        Some(Value::Object(existing)) => existing.extend(add),
        _ => {
            out.insert(urn.to_string(), Value::Object(add));
        }
    }
}

/// Validates the attributes every stored resource must have (RFC 7643 `required`).
pub(crate) fn check_required(
    kind: ResourceKind,
    attrs: &Map<String, Value>,
) -> Result<(), ScimError> {
    for def in kind.core().attributes.iter().filter(|d| d.required) {
        match attrs.get(def.name) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("attribute '{}' is required", def.name),
                ))
            }
        }
    }
    Ok(())
}

/// Context needed to render resources.
pub(crate) struct RenderCtx<'a> {
    pub base_url: &'a str,
    pub index: &'a Index,
    /// The `return-password` quirk: the write-only password is rendered too.
    pub return_password: bool,
}

/// The full SCIM representation of a stored resource (before `attributes` projection).
pub(crate) fn render(r: &Resource, ctx: &RenderCtx<'_>) -> Value {
    let mut out = Map::new();
    let mut schemas = vec![json!(r.kind.core().id)];
    for ext in r.kind.extensions() {
        if r.attrs.contains_key(ext.id) {
            schemas.push(json!(ext.id));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(r.id));
    if let Some(x) = r.attrs.get("externalId") {
        out.insert("externalId".into(), x.clone());
    }
    for (k, v) in &r.attrs {
        if k == "externalId" || (k == "password" && !ctx.return_password) {
            continue;
        }
        if r.kind == ResourceKind::Group && k == "members" {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    match r.kind {
        ResourceKind::Group => {
            let members: Vec<Value> = r.members.iter().map(|m| render_member(m, ctx)).collect();
            out.insert("members".into(), Value::Array(members));
        }
        ResourceKind::User => {
            if let Some(groups) = ctx.index.memberships.get(&r.id) {
                let groups: Vec<Value> = groups
                    .iter()
                    .map(|(gid, name)| {
                        json!({
                            "value": gid,
                            "$ref": format!("{}/Groups/{gid}", ctx.base_url),
                            "display": name,
                            "type": "direct",
                        })
                    })
                    .collect();
                out.insert("groups".into(), Value::Array(groups));
            }
        }
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": r.kind.name(),
            "created": r.created,
            "lastModified": r.last_modified,
            "location": format!("{}/{}/{}", ctx.base_url, r.kind.endpoint(), r.id),
            "version": r.etag(),
        }),
    );
    Value::Object(out)
}

/// Members are stored as the client sent them (value plus optional display/type); display,
/// type and `$ref` are filled from the current store so they follow renames.
fn render_member(m: &Member, ctx: &RenderCtx<'_>) -> Value {
    let mut out = Map::new();
    let id = m.id().unwrap_or("");
    out.insert("value".into(), m.get("value").unwrap_or(Value::Null));
    let known = ctx
        .index
        .user_names
        .get(id)
        .map(|n| (n, "User", "Users"))
        .or_else(|| {
            ctx.index
                .group_names
                .get(id)
                .map(|n| (n, "Group", "Groups"))
        });
    match known {
        Some((name, ty, endpoint)) => {
            // `display` only when the client sent one (Okta does, even as null): it is not in
            // the RFC Group schema, and echo-checking clients (scim2-tester) compare members
            // field by field. When present it is the member's *current* name.
            if m.has_display() {
                out.insert("display".into(), json!(name));
            }
            out.insert("type".into(), json!(ty));
            out.insert(
                "$ref".into(),
                json!(format!("{}/{endpoint}/{id}", ctx.base_url)),
            );
        }
        None => {
            for k in ["display", "type", "$ref"] {
                if let Some(v) = m.get(k) {
                    out.insert(k.into(), v);
                }
            }
        }
    }
    Value::Object(out)
}

/// A requested attribute in `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5).
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    /// Top-level key in the representation (core name or extension URN).
    key: String,
    /// Attribute within an extension object, for urn-qualified paths.
    ext_attr: Option<String>,
    sub: Option<String>,
}

/// Parses a comma-separated attribute list; unparseable names are ignored rather than
/// rejected, as RFC 7644 gives no error for them.
pub(crate) fn parse_wanted(kind: ResourceKind, list: &str) -> Vec<Wanted> {
    let mut out = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(ext) = kind.extension(raw) {
            out.push(Wanted {
                key: ext.id.to_string(),
                ext_attr: None,
                sub: None,
            });
            continue;
        }
        let Ok(p) = AttrPath::parse(raw) else {
            continue;
        };
        match p.urn.as_deref() {
            Some(u) if !p.is_core(kind) => out.push(Wanted {
                key: kind
                    .extension(u)
                    .map(|e| e.id.to_string())
                    .unwrap_or_else(|| u.to_string()),
                ext_attr: Some(p.attr),
                sub: p.sub,
            }),
            _ => out.push(Wanted {
                key: p.attr,
                ext_attr: None,
                sub: p.sub,
            }),
        }
    }
    out
}

fn filter_subs(v: &Value, subs: &[&str], keep: bool) -> Value {
    let one = |o: &Map<String, Value>| -> Value {
        Value::Object(
            o.iter()
                .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)) == keep)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    };
    match v {
        Value::Object(o) => one(o),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Object(o) => one(o),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Applies `attributes` (include) or `excludedAttributes` (exclude) to a rendered resource.
/// `id` and `schemas` are returned "always" (RFC 7643 §7) and survive both.
pub(crate) fn project(
    v: Value,
    kind: ResourceKind,
    include: &[Wanted],
    exclude: &[Wanted],
) -> Value {
    let Value::Object(obj) = v else { return v };
    let always = |k: &str| {
        k == "id"
            || k == "schemas"
            || kind
                .attr(None, k)
                .map(|d| d.returned == Returned::Always)
                .unwrap_or(false)
    };
    let mut out = Map::new();
    for (k, val) in obj {
        if always(&k) {
            out.insert(k, val);
            continue;
        }
        let matching = |list: &[Wanted]| -> Vec<Wanted> {
            list.iter()
                .filter(|w| w.key.eq_ignore_ascii_case(&k))
                .cloned()
                .collect()
        };
        if !include.is_empty() {
            let m = matching(include);
            if m.is_empty() {
                continue;
            }
            let whole = m.iter().any(|w| w.ext_attr.is_none() && w.sub.is_none());
            let val = if whole {
                val
            } else if kind.extension(&k).is_some() {
                // Keep only the requested extension attributes (and their requested subs).
                let Value::Object(ext) = val else { continue };
                let mut kept = Map::new();
                for (ek, ev) in ext {
                    let ws: Vec<&Wanted> = m
                        .iter()
                        .filter(|w| {
                            w.ext_attr
                                .as_deref()
                                .map(|a| a.eq_ignore_ascii_case(&ek))
                                .unwrap_or(false)
                        })
                        .collect();
                    if ws.is_empty() {
                        continue;
                    }
                    if ws.iter().any(|w| w.sub.is_none()) {
                        kept.insert(ek, ev);
                    } else {
                        let subs: Vec<&str> = ws.iter().filter_map(|w| w.sub.as_deref()).collect();
                        kept.insert(ek, filter_subs(&ev, &subs, true));
                    }
                }
                Value::Object(kept)
            } else {
                let subs: Vec<&str> = m.iter().filter_map(|w| w.sub.as_deref()).collect();
                filter_subs(&val, &subs, true)
            };
            out.insert(k, val);
        } else {
            let m = matching(exclude);
            if m.iter().any(|w| w.ext_attr.is_none() && w.sub.is_none()) {
                continue;
            }
            let val = if m.is_empty() {
                val
            } else if kind.extension(&k).is_some() {
                let Value::Object(mut ext) = val else {
                    continue;
                };
                for w in &m {
                    let Some(a) = &w.ext_attr else { continue };
                    let key = ext.keys().find(|ek| ek.eq_ignore_ascii_case(a)).cloned();
                    if let Some(key) = key {
                        match &w.sub {
                            None => {
                                ext.remove(&key);
                            }
                            Some(s) => {
                                if let Some(ev) = ext.get(&key) {
                                    let filtered = filter_subs(ev, &[s.as_str()], false);
                                    ext.insert(key, filtered);
                                }
                            }
                        }
                    }
                }
                Value::Object(ext)
            } else {
                let subs: Vec<&str> = m.iter().filter_map(|w| w.sub.as_deref()).collect();
                filter_subs(&val, &subs, false)
            };
            out.insert(k, val);
        }
    }
    Value::Object(out)
}

/// A value for `sortBy` (RFC 7644 §3.4.2.3): the attribute, or for multi-valued attributes the
/// primary (else first) element's value.
pub(crate) fn sort_key(v: &Value, kind: ResourceKind, path: &AttrPath) -> Option<Value> {
    let obj = v.as_object()?;
    let container = if path.is_core(kind) {
        obj
    } else {
        get_ci(obj, path.urn.as_deref()?)?.as_object()?
    };
    let top = get_ci(container, &path.attr)?;
    let top = match top {
        Value::Array(items) => items
            .iter()
            .find(|i| i.get("primary") == Some(&Value::Bool(true)))
            .or_else(|| items.first())?,
        other => other,
    };
    let sub = path
        .sub
        .as_deref()
        .or_else(|| top.is_object().then_some("value"));
    match sub {
        Some(s) => top.as_object().and_then(|o| get_ci(o, s)).cloned(),
        None => Some(top.clone()),
    }
}

/// Finds the stored-attribute-level definition for a user-visible key, for callers that need
/// `caseExact` when sorting.
pub(crate) fn case_exact(kind: ResourceKind, path: &AttrPath) -> bool {
    path.leaf_def(kind)
        .or_else(|| path.attr_def(kind).and_then(|d| d.sub("value")))
        .map(|d| d.case_exact)
        .unwrap_or(false)
}
