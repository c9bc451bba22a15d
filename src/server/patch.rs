//! PATCH (RFC 7644 §3.5.2) applied to a resource's stored attributes.
//!
//! Beyond the RFC this accepts what Okta and Entra actually send (issue 3 §3): op names in
//! any case; path-less `add`/`replace` maps with dotted keys (`name.givenName`), urn-qualified
//! keys and nested extension objects; `id` equal to the resource's own id inside a path-less
//! value (ignored); `remove` on `members` with a `value` array removes only the listed members
//! (Entra default mode — a deliberate leniency; the RFC-literal reading is a quirk); and
//! `add`/`replace` on a filtered path with no matching element creates the element from the
//! filter's `eq` terms (Entra's `emails[type eq "work"].value` on a user without a work email).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::member::Member;
use super::quirks::{Quirk, Quirks};
use super::resource::{normalize, normalize_single};
use super::response::ScimError;
use super::store::MemberEdit;
use crate::scim::filter::{get_ci, CompareOp, EvalOptions, Filter};
use crate::scim::path::{AttrPath, PatchPath};
use crate::scim::schema::{AttrDef, AttrType, Mutability, ResourceKind, SchemaDef};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Most operations one PATCH may carry. Entra sends group members in batches of a few, Okta
/// one change per operation; a thousand leaves room for any IdP while bounding what one request
/// can make the server do (RFC 7644 §3.12 lets a server refuse what it will not process).
pub(crate) const MAX_OPERATIONS: usize = 1000;

/// Most values (array elements of the operations' `value`s, counted together) one PATCH may
/// carry: one `add` of 40,000 members is as much work as 40,000 operations.
pub(crate) const MAX_VALUES: usize = 10_000;

/// Refuses, before any work, a PATCH with more operations or values than [`MAX_OPERATIONS`]
/// and [`MAX_VALUES`].
pub(crate) fn check_size(body: &Value) -> Result<(), ScimError> {
    let Some(Value::Array(ops)) = body.as_object().and_then(|o| get_ci(o, "Operations")) else {
        return Ok(());
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            "invalidValue",
            format!(
                "this PATCH has {} operations; the server applies at most {MAX_OPERATIONS} per request: send the rest in further requests",
                ops.len()
            ),
        ));
    }
    let values: usize = ops
        .iter()
        .filter_map(|op| op.as_object().and_then(|o| get_ci(o, "value")))
        .map(|v| match v {
            Value::Array(items) => items.len(),
            Value::Object(members) => members
                .values()
                .map(|m| m.as_array().map_or(1, Vec::len))
                .sum(),
            _ => 1,
        })
        .sum();
    if values > MAX_VALUES {
        return Err(ScimError::bad(
            "invalidValue",
            format!(
                "this PATCH carries {values} values; the server applies at most {MAX_VALUES} per request: send the rest in further requests"
            ),
        ));
    }
    Ok(())
}

/// Applies a PatchOp request body to `attrs` (the resource's stored attributes).
pub(crate) fn apply(
    kind: ResourceKind,
    id: &str,
    attrs: &mut Map<String, Value>,
    body: &Value,
    quirks: &Quirks,
) -> Result<(), ScimError> {
    let Some(obj) = body.as_object() else {
        return Err(ScimError::bad(
            "invalidSyntax",
            "PATCH body must be a JSON object",
        ));
    };
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) => ops,
        Some(_) => {
            return Err(ScimError::bad(
                "invalidSyntax",
                "'Operations' must be an array",
            ))
        }
        None => {
            return Err(ScimError::bad(
                "invalidSyntax",
                "PATCH body has no 'Operations'",
            ))
        }
    };
    let p = Patcher { kind, id, quirks };
    for (i, op) in ops.iter().enumerate() {
        p.one(attrs, op).map_err(|mut e| {
            e.detail = format!("Operations[{i}]: {}", e.detail);
            e
        })?;
    }
    Ok(())
}

/// The PatchOp's operations, or `None` when the body is not a PatchOp (`apply` says why).
fn operations(body: &Value) -> Option<&Vec<Value>> {
    match get_ci(body.as_object()?, "Operations")? {
        Value::Array(ops) => Some(ops),
        _ => None,
    }
}

/// Whether any operation may read or write a group's `members` (conservatively: a path or a
/// path-less key that mentions them, or a body `apply` would reject). When none does, the
/// handler patches a copy of the group without its member list.
pub(crate) fn touches_members(body: &Value) -> bool {
    let Some(ops) = operations(body) else {
        return true;
    };
    ops.iter().any(|op| {
        let Some(o) = op.as_object() else {
            return true;
        };
        let mentions = |s: &str| s.to_ascii_lowercase().contains("members");
        match get_ci(o, "path").and_then(Value::as_str) {
            Some(p) if !p.trim().is_empty() => mentions(p),
            _ => match get_ci(o, "value") {
                Some(Value::Object(m)) => m.iter().any(|(k, v)| {
                    mentions(k)
                        || (k.starts_with("urn:")
                            && v.is_object()
                            && v.to_string().to_ascii_lowercase().contains("members"))
                }),
                _ => false,
            },
        }
    })
}

/// Whether membership PATCHes may be applied in place: not under the quirks that change what
/// their operations do.
pub(crate) fn edits_in_place(quirks: &Quirks) -> bool {
    ![
        Quirk::RejectEntraMemberRemove,
        Quirk::RfcLiteralMemberRemove,
        Quirk::IgnoreFilteredMemberRemove,
        Quirk::DuplicateMembers,
    ]
    .iter()
    .any(|q| quirks.has(*q))
}

/// A group PATCH whose every operation adds members (`add` on `members`) or removes them by id
/// (`members[value eq "…"]`, or Entra's `remove` on `members` with a `value` list), as Okta's
/// and Entra's membership pushes are, turned into edits that `Data::edit_members` applies in
/// place with exactly `apply`'s result. `None` for anything else, and under the quirks that
/// change these operations: the handler then takes the general path.
pub(crate) fn member_edits(body: &Value, quirks: &Quirks) -> Option<Vec<MemberEdit>> {
    if !edits_in_place(quirks) {
        return None;
    }
    let def = ResourceKind::Group.attr(None, "members")?;
    let ops = operations(body)?;
    let mut edits = Vec::with_capacity(ops.len());
    for op in ops {
        let o = op.as_object()?;
        let name = get_ci(o, "op")?.as_str()?.to_ascii_lowercase();
        let path = get_ci(o, "path")?.as_str()?.trim();
        let value = get_ci(o, "value");
        match name.as_str() {
            "add" if path.eq_ignore_ascii_case("members") => {
                // The IdPs send members already in the normalised form (Entra `{"value": id}`,
                // Okta with a `display`): read those as they are; any other element is
                // normalised first, exactly as `apply` would.
                let value = value?;
                let sent = match value {
                    Value::Array(items) => items.as_slice(),
                    one => std::slice::from_ref(one),
                };
                let mut items = Vec::with_capacity(sent.len());
                for item in sent {
                    match Member::plain(item) {
                        Some(m) => items.push(m),
                        None => {
                            if let Some(n) = normalize_single(def, item, quirks).ok()? {
                                items.push(Member::from_value(n));
                            }
                        }
                    }
                }
                // An add of nothing, or of a member without a string id: the general path's.
                if items.is_empty() || items.iter().any(|m| m.id().is_none()) {
                    return None;
                }
                edits.push(MemberEdit::Add(items));
            }
            "remove" if path.eq_ignore_ascii_case("members") => {
                // Entra's default mode: the listed members only (entra.md §3.14).
                let ids = value?
                    .as_array()?
                    .iter()
                    .map(|m| m.get("value")?.as_str().map(str::to_string))
                    .collect::<Option<HashSet<String>>>()?;
                edits.push(MemberEdit::Remove(ids));
            }
            "remove" => edits.push(MemberEdit::Remove(HashSet::from([removed_member(path)?]))),
            _ => return None,
        }
    }
    Some(edits)
}

/// The id in Okta's `members[value eq "…"]` remove path.
pub(crate) fn removed_member(path: &str) -> Option<String> {
    let pp = PatchPath::parse(path).ok()?;
    let is_members = pp.attr.urn.is_none()
        && pp.attr.sub.is_none()
        && pp.attr.attr.eq_ignore_ascii_case("members");
    if !is_members || pp.filter_sub.is_some() {
        return None;
    }
    // `value` is caseExact (RFC 7643 §4.2), so `eq` is string equality.
    let Some(Filter::Compare {
        path: fp,
        op: CompareOp::Eq,
        value: Value::String(id),
    }) = pp.filter
    else {
        return None;
    };
    if fp.urn.is_some() || fp.sub.is_some() || !fp.attr.eq_ignore_ascii_case("value") {
        return None;
    }
    Some(id)
}

struct Patcher<'a> {
    kind: ResourceKind,
    id: &'a str,
    quirks: &'a Quirks,
}

/// Where a path lands: the map holding the attribute (core attrs or an extension object) and
/// the attribute's definition.
enum Target {
    Attr {
        ext: Option<&'static SchemaDef>,
        def: &'static AttrDef,
    },
    /// The whole extension object (`path: "urn:…:enterprise:2.0:User"`).
    Extension(&'static SchemaDef),
}

impl Patcher<'_> {
    fn one(&self, attrs: &mut Map<String, Value>, op: &Value) -> Result<(), ScimError> {
        let Some(o) = op.as_object() else {
            return Err(ScimError::bad(
                "invalidSyntax",
                "operation must be an object",
            ));
        };
        let op_name = get_ci(o, "op").and_then(Value::as_str).unwrap_or("");
        // RFC 7644 §3.5.2 names ops in lowercase; Entra sends "Add"/"Replace"/"Remove".
        let kind = match op_name.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown op '{op_name}' (expected add, replace or remove)"),
                ))
            }
        };
        let value = get_ci(o, "value");
        match get_ci(o, "path")
            .and_then(Value::as_str)
            .filter(|p| !p.trim().is_empty())
        {
            None => self.pathless(attrs, kind, value),
            Some(path) => self.with_path(attrs, kind, path, value),
        }
    }

    /// RFC 7644 §3.5.2.1/§3.5.2.3 without `path`: `value` is a map of attribute → value.
    fn pathless(
        &self,
        attrs: &mut Map<String, Value>,
        op: Op,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if op == Op::Remove {
            // RFC 7644 §3.5.2.2: remove without path → 400 noTarget.
            return Err(ScimError::bad("noTarget", "remove requires a 'path'"));
        }
        if self.quirks.has(Quirk::IgnorePathlessPatch) {
            return Ok(());
        }
        let Some(Value::Object(map)) = value else {
            return Err(ScimError::bad(
                "invalidValue",
                "an operation without 'path' needs an object 'value'",
            ));
        };
        if self.quirks.has(Quirk::RejectIdInPatchValue) && get_ci(map, "id").is_some() {
            return Err(ScimError::bad("mutability", "attribute 'id' is readOnly"));
        }
        if self.kind == ResourceKind::Group
            && op == Op::Replace
            && self.quirks.has(Quirk::RenameWipesMembers)
            && get_ci(map, "members").is_none()
        {
            attrs.remove("members");
        }
        for (k, v) in map {
            if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
                continue;
            }
            if k.eq_ignore_ascii_case("id") {
                // Okta's group rename carries the group's own id (Okta and SCIM Version 2.0, SCIM Group operations: the rename PATCH): ignore it;
                // a different id is an attempt to change a readOnly attribute.
                if v.as_str() == Some(self.id) {
                    continue;
                }
                return Err(ScimError::bad(
                    "mutability",
                    "attribute 'id' is readOnly and cannot be changed",
                ));
            }
            if let Some(ext) = self.kind.extension(k) {
                // Nested form {"urn:…:User": {"department": "Sales"}} (fleetdm PR #42678).
                let Value::Object(inner) = v else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!("'{k}' must be an object"),
                    ));
                };
                for (ik, iv) in inner {
                    if ik.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let Ok(p) = AttrPath::parse(ik) else {
                        return Err(ScimError::bad(
                            "invalidPath",
                            format!("invalid attribute name '{ik}'"),
                        ));
                    };
                    let path = AttrPath {
                        urn: Some(ext.id.to_string()),
                        ..p
                    };
                    self.at_path(attrs, op, &path, Some(iv), true)?;
                }
                continue;
            }
            let path =
                AttrPath::parse(k).map_err(|e| ScimError::bad("invalidPath", e.to_string()))?;
            self.at_path(attrs, op, &path, Some(v), true)?;
        }
        Ok(())
    }

    fn with_path(
        &self,
        attrs: &mut Map<String, Value>,
        op: Op,
        path: &str,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if op != Op::Remove && value.is_none() {
            return Err(ScimError::bad(
                "invalidValue",
                format!("'{path}': add/replace needs a 'value'"),
            ));
        }
        if let Some(ext) = self.kind.extension(path.trim()) {
            return self.whole_extension(attrs, op, ext, value);
        }
        let pp = PatchPath::parse(path)
            .map_err(|e| ScimError::bad("invalidPath", format!("'{path}': {e}")))?;
        match &pp.filter {
            None => self.at_path(attrs, op, &pp.attr, value, false),
            Some(f) => self.filtered(attrs, op, &pp.attr, f, pp.filter_sub.as_deref(), value),
        }
    }

    fn resolve(&self, path: &AttrPath) -> Result<Target, ScimError> {
        let ext = match path.urn.as_deref() {
            None => None,
            Some(_) if path.is_core(self.kind) => None,
            Some(u) => match self.kind.extension(u) {
                Some(e) => Some(e),
                None => {
                    // `urn:…:enterprise:2.0:User` itself parses as urn `…:2.0` + attr `User`.
                    let full = format!("{u}:{}", path.attr);
                    if let Some(e) = self.kind.extension(&full) {
                        return Ok(Target::Extension(e));
                    }
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("unknown schema '{u}'"),
                    ));
                }
            },
        };
        let def = match ext {
            Some(e) => e.attr(&path.attr),
            None => self.kind.attr(None, &path.attr),
        };
        // An unqualified name that only an extension defines: Entra removes the manager with
        // `manager[value eq "…"]` (thomaspoignant/scim-patch#453), no URN.
        let (ext, def) = match (ext, def, path.urn.as_deref()) {
            (None, None, None) => match self
                .kind
                .extensions()
                .iter()
                .find_map(|e| e.attr(&path.attr).map(|d| (*e, d)))
            {
                Some((e, d)) => (Some(e), Some(d)),
                None => (None, None),
            },
            (ext, def, _) => (ext, def),
        };
        match def {
            Some(def) => Ok(Target::Attr { ext, def }),
            None => Err(ScimError::bad(
                "invalidPath",
                format!("unknown attribute '{path}'"),
            )),
        }
    }

    fn whole_extension(
        &self,
        attrs: &mut Map<String, Value>,
        op: Op,
        ext: &'static SchemaDef,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        match op {
            Op::Remove => {
                attrs.remove(ext.id);
                Ok(())
            }
            _ => {
                let Some(Value::Object(map)) = value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!("'{}' needs an object value", ext.id),
                    ));
                };
                for (k, v) in map {
                    if k.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let p = AttrPath::parse(k)
                        .map_err(|e| ScimError::bad("invalidPath", e.to_string()))?;
                    let path = AttrPath {
                        urn: Some(ext.id.to_string()),
                        ..p
                    };
                    self.at_path(attrs, op, &path, Some(v), true)?;
                }
                Ok(())
            }
        }
    }

    /// The container map for an attribute: `attrs` itself or the extension object (created
    /// on demand for add/replace).
    fn container<'m>(
        attrs: &'m mut Map<String, Value>,
        ext: Option<&'static SchemaDef>,
        create: bool,
    ) -> Option<&'m mut Map<String, Value>> {
        match ext {
            None => Some(attrs),
            Some(e) => {
                if create && !matches!(attrs.get(e.id), Some(Value::Object(_))) {
                    attrs.insert(e.id.to_string(), Value::Object(Map::new()));
                }
                attrs.get_mut(e.id).and_then(Value::as_object_mut)
            }
        }
    }

    fn cleanup_ext(attrs: &mut Map<String, Value>, ext: Option<&'static SchemaDef>) {
        if let Some(e) = ext {
            if matches!(attrs.get(e.id), Some(Value::Object(o)) if o.is_empty()) {
                attrs.remove(e.id);
            }
        }
    }

    /// add/replace/remove on an unfiltered path (`userName`, `name.givenName`,
    /// `urn:…:User:manager`, `members`). `pathless` is true for keys of a path-less value map,
    /// where readOnly attributes are ignored instead of rejected (Okta echoes them).
    fn at_path(
        &self,
        attrs: &mut Map<String, Value>,
        op: Op,
        path: &AttrPath,
        value: Option<&Value>,
        pathless: bool,
    ) -> Result<(), ScimError> {
        let (ext, def) = match self.resolve(path)? {
            Target::Extension(e) => return self.whole_extension(attrs, op, e, value),
            Target::Attr { ext, def } => (ext, def),
        };
        if def.mutability == Mutability::ReadOnly {
            if pathless {
                return Ok(());
            }
            return Err(ScimError::bad(
                "mutability",
                format!("attribute '{}' is readOnly", def.name),
            ));
        }
        if let Some(sub) = &path.sub {
            let Some(sdef) = def.sub(sub) else {
                return Err(ScimError::bad(
                    "invalidPath",
                    format!("unknown sub-attribute '{path}'"),
                ));
            };
            if sdef.mutability == Mutability::ReadOnly && !pathless {
                return Err(ScimError::bad(
                    "mutability",
                    format!("attribute '{path}' is readOnly"),
                ));
            }
            let new = match op {
                Op::Remove => None,
                _ => normalize(sdef, value.unwrap_or(&Value::Null), self.quirks)?,
            };
            let Some(c) = Self::container(attrs, ext, op != Op::Remove) else {
                return Ok(());
            };
            set_sub(c, def, sdef, new);
            Self::cleanup_ext(attrs, ext);
            return Ok(());
        }
        let Some(c) = Self::container(attrs, ext, op != Op::Remove) else {
            return Ok(());
        };
        match op {
            Op::Remove => {
                let listed = value.and_then(Value::as_array);
                match listed {
                    Some(list) if def.multi_valued && def.ty == AttrType::Complex => {
                        if self.is_members(def) && self.quirks.has(Quirk::RejectEntraMemberRemove) {
                            return Err(ScimError::bad(
                                "invalidValue",
                                "remove on 'members' must not carry a value; use members[value eq \"…\"]",
                            ));
                        }
                        if self.is_members(def) && self.quirks.has(Quirk::RfcLiteralMemberRemove) {
                            c.remove(def.name);
                        } else {
                            // Entra default mode: remove only the listed elements (Entra's SCIM tutorial, "Update Group [Remove Members]").
                            remove_listed(c, def, list);
                        }
                    }
                    _ => {
                        c.remove(def.name);
                    }
                }
            }
            Op::Replace => {
                let new = normalize(def, value.unwrap_or(&Value::Null), self.quirks)?;
                match (new, c.get_mut(def.name)) {
                    (None, _) => {
                        c.remove(def.name);
                    }
                    // RFC 7644 §3.5.2.3: replacing a (single-valued) complex attribute merges
                    // the given sub-attributes; multi-valued attributes are replaced whole.
                    (Some(Value::Object(new)), Some(Value::Object(old))) if !def.multi_valued => {
                        old.extend(new)
                    }
                    (Some(new), _) => {
                        c.insert(def.name.to_string(), new);
                    }
                }
            }
            Op::Add => {
                let Some(new) = normalize(def, value.unwrap_or(&Value::Null), self.quirks)? else {
                    return Ok(());
                };
                // A role is its `value`: Entra's Add re-sends the roles the user already
                // holds ("Provisioning a role to a SCIM app", AppRoleAssignmentsComplex), in
                // another form than the create's, and they are no change.
                let by_value = self.is_members(def) || (ext.is_none() && def.name == "roles");
                let duplicates = self.is_members(def) && self.quirks.has(Quirk::DuplicateMembers);
                match (new, c.get_mut(def.name)) {
                    (Value::Array(items), Some(Value::Array(old))) => {
                        if duplicates {
                            old.extend(items);
                        } else {
                            add_elements(old, items, by_value);
                        }
                    }
                    // An add to an absent list is an add to an empty one: an element sent
                    // twice is added once, as it would be to a list that had others.
                    (Value::Array(items), None) if !duplicates => {
                        let mut list = Vec::with_capacity(items.len());
                        add_elements(&mut list, items, by_value);
                        c.insert(def.name.to_string(), Value::Array(list));
                    }
                    (Value::Object(new), Some(Value::Object(old))) if !def.multi_valued => {
                        old.extend(new)
                    }
                    (new, _) => {
                        c.insert(def.name.to_string(), new);
                    }
                }
            }
        }
        Self::cleanup_ext(attrs, ext);
        Ok(())
    }

    fn is_members(&self, def: &AttrDef) -> bool {
        self.kind == ResourceKind::Group && def.name == "members"
    }

    /// Operations on `attr[filter]` and `attr[filter].sub`.
    fn filtered(
        &self,
        attrs: &mut Map<String, Value>,
        op: Op,
        path: &AttrPath,
        filter: &Filter,
        sub: Option<&str>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let (ext, def) = match self.resolve(path)? {
            Target::Attr { ext, def } => (ext, def),
            Target::Extension(_) => {
                return Err(ScimError::bad(
                    "invalidPath",
                    "a value filter needs an attribute",
                ))
            }
        };
        if def.ty != AttrType::Complex {
            return Err(ScimError::bad(
                "invalidPath",
                format!("'{}' is not a complex attribute", def.name),
            ));
        }
        if def.mutability == Mutability::ReadOnly {
            return Err(ScimError::bad(
                "mutability",
                format!("attribute '{}' is readOnly", def.name),
            ));
        }
        let sdef = match sub {
            Some(s) => match def.sub(s) {
                Some(d) => Some(d),
                None => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        format!("unknown sub-attribute '{}.{s}'", def.name),
                    ))
                }
            },
            None => None,
        };
        let opts = EvalOptions::default();
        let Some(c) = Self::container(attrs, ext, op != Op::Remove) else {
            return Ok(());
        };

        if !def.multi_valued {
            // Single-valued complex with a filter, e.g. Entra's `manager[value eq "id"]`.
            let matched = c
                .get(def.name)
                .map(|v| filter.matches_element(v, Some(def), opts))
                .unwrap_or(false);
            if matched {
                match (op, sdef) {
                    (Op::Remove, None) => {
                        c.remove(def.name);
                    }
                    (Op::Remove, Some(sd)) => set_sub(c, def, sd, None),
                    (_, Some(sd)) => {
                        let n = normalize(sd, value.unwrap_or(&Value::Null), self.quirks)?;
                        set_sub(c, def, sd, n);
                    }
                    (_, None) => {
                        if let Some(n) = normalize(def, value.unwrap_or(&Value::Null), self.quirks)?
                        {
                            c.insert(def.name.to_string(), n);
                        }
                    }
                }
            }
            Self::cleanup_ext(attrs, ext);
            return Ok(());
        }

        if op == Op::Remove
            && self.is_members(def)
            && self.quirks.has(Quirk::IgnoreFilteredMemberRemove)
        {
            return Ok(());
        }
        let mut items = match c.remove(def.name) {
            Some(Value::Array(a)) => a,
            Some(other) => vec![other],
            None => vec![],
        };
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, el)| filter.matches_element(el, Some(def), opts))
            .map(|(i, _)| i)
            .collect();
        let result = (|| -> Result<(), ScimError> {
            match (op, sdef) {
                (Op::Remove, None) => {
                    // Removing a member that is not there is a no-op, not an error: Okta
                    // re-sends removals for members it believes present.
                    let mut i = 0;
                    items.retain(|_| {
                        let keep = !hits.contains(&i);
                        i += 1;
                        keep
                    });
                }
                (Op::Remove, Some(sd)) => {
                    for &i in &hits {
                        if let Some(Value::Object(o)) = items.get_mut(i) {
                            o.retain(|k, _| !k.eq_ignore_ascii_case(sd.name));
                        }
                    }
                }
                (_, Some(sd)) => {
                    let n = normalize(sd, value.unwrap_or(&Value::Null), self.quirks)?;
                    if hits.is_empty()
                        && op == Op::Add
                        && self.quirks.has(Quirk::FilteredAddNoTarget)
                    {
                        return Err(ScimError::bad(
                            "noTarget",
                            format!("no element of '{}' matches the path filter", def.name),
                        ));
                    }
                    if hits.is_empty() {
                        // Create the element the filter describes (Entra adds
                        // `emails[type eq "work"].value` to users without a work email).
                        let mut el = template(filter, def)?;
                        if let Some(n) = &n {
                            el.insert(sd.name.to_string(), n.clone());
                        }
                        items.push(Value::Object(el));
                    } else {
                        for &i in &hits {
                            if let Some(Value::Object(o)) = items.get_mut(i) {
                                o.retain(|k, _| !k.eq_ignore_ascii_case(sd.name));
                                if let Some(n) = &n {
                                    o.insert(sd.name.to_string(), n.clone());
                                }
                            }
                        }
                    }
                    if sd.name == "primary" && n == Some(Value::Bool(true)) {
                        demote_primaries(&mut items, &hits);
                    }
                }
                (_, None) => {
                    let Some(Value::Array(mut new)) =
                        normalize(def, value.unwrap_or(&Value::Null), self.quirks)?
                    else {
                        return Err(ScimError::bad(
                            "invalidValue",
                            "a filtered add/replace needs an object value",
                        ));
                    };
                    let Some(Value::Object(new)) = new.pop() else {
                        return Err(ScimError::bad(
                            "invalidValue",
                            "a filtered add/replace needs an object value",
                        ));
                    };
                    if hits.is_empty() {
                        let mut el = template(filter, def)?;
                        el.extend(new);
                        items.push(Value::Object(el));
                    } else {
                        for &i in &hits {
                            if let Some(Value::Object(o)) = items.get_mut(i) {
                                if op == Op::Replace {
                                    // §3.5.2.3: the matched value is replaced, but keep the
                                    // filter's identifying fields when the value omits them.
                                    let mut el = template(filter, def).unwrap_or_default();
                                    el.extend(new.clone());
                                    *o = el;
                                } else {
                                    o.extend(new.clone());
                                }
                            }
                        }
                    }
                }
            }
            Ok(())
        })();
        if !items.is_empty() {
            c.insert(def.name.to_string(), Value::Array(items));
        }
        Self::cleanup_ext(attrs, ext);
        result
    }
}

fn set_sub(c: &mut Map<String, Value>, def: &AttrDef, sdef: &AttrDef, new: Option<Value>) {
    if def.multi_valued {
        // `emails.value` without a filter addresses every element.
        if let Some(Value::Array(items)) = c.get_mut(def.name) {
            for it in items.iter_mut() {
                if let Value::Object(o) = it {
                    o.remove(sdef.name);
                    if let Some(n) = &new {
                        o.insert(sdef.name.to_string(), n.clone());
                    }
                }
            }
        }
        return;
    }
    match (c.get_mut(def.name), new) {
        (Some(Value::Object(o)), None) => {
            o.remove(sdef.name);
            if o.is_empty() {
                c.remove(def.name);
            }
        }
        (Some(Value::Object(o)), Some(n)) => {
            o.insert(sdef.name.to_string(), n);
        }
        (_, Some(n)) => {
            let mut o = Map::new();
            o.insert(sdef.name.to_string(), n);
            c.insert(def.name.to_string(), Value::Object(o));
        }
        (_, None) => {}
    }
}

fn identity(v: &Value) -> Option<&Value> {
    v.get("value")
}

/// Appends elements, skipping ones already present (same `value` for members, equal objects
/// otherwise), per RFC 7644 §3.5.2.1 ("no change if the value already exists").
fn add_elements(old: &mut Vec<Value>, new: Vec<Value>, by_value: bool) {
    let new_primary = new
        .iter()
        .any(|v| v.get("primary") == Some(&Value::Bool(true)));
    if new_primary {
        for o in old.iter_mut() {
            if let Value::Object(m) = o {
                m.remove("primary");
            }
        }
    }
    for n in new {
        let dup = old.iter().any(|o| {
            if by_value {
                identity(o).is_some() && identity(o) == identity(&n)
            } else {
                *o == n
            }
        });
        if !dup {
            old.push(n);
        }
    }
}

fn remove_listed(c: &mut Map<String, Value>, def: &AttrDef, list: &[Value]) {
    let Some(Value::Array(items)) = c.get_mut(def.name) else {
        return;
    };
    items.retain(|it| {
        !list.iter().any(|l| match (identity(l), identity(it)) {
            (Some(a), Some(b)) => a == b,
            _ => l == it,
        })
    });
    if items.is_empty() {
        c.remove(def.name);
    }
}

/// RFC 7643 §2.4: at most one element may be primary.
fn demote_primaries(items: &mut [Value], keep: &[usize]) {
    for (i, it) in items.iter_mut().enumerate() {
        if !keep.contains(&i) {
            if let Value::Object(o) = it {
                o.remove("primary");
            }
        }
    }
}

/// The element a filter of `eq` terms joined by `and` describes, e.g.
/// `type eq "work"` → `{"type": "work"}`. Anything else cannot be turned into a value.
fn template(filter: &Filter, def: &AttrDef) -> Result<Map<String, Value>, ScimError> {
    fn walk(f: &Filter, def: &AttrDef, out: &mut Map<String, Value>) -> bool {
        match f {
            Filter::And(a, b) => walk(a, def, out) && walk(b, def, out),
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.urn.is_none() && path.sub.is_none() => {
                let name = def
                    .sub(&path.attr)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|| path.attr.clone());
                out.insert(name, value.clone());
                true
            }
            _ => false,
        }
    }
    let mut out = Map::new();
    if walk(filter, def, &mut out) {
        Ok(out)
    } else {
        Err(ScimError::bad(
            "noTarget",
            format!("no element of '{}' matches the filter", def.name),
        ))
    }
}
