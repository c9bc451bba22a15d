//! Roles and entitlements: the catalogue the reference server advertises and serves, as Okta
//! Identity Governance reads it ("Build a SCIM 2.0 server with entitlements",
//! https://developer.okta.com/docs/guides/scim-with-entitlements/main/) and as the IETF draft
//! describes it (draft-ietf-scim-roles-entitlements).
//!
//! - Each entitlement type is a ResourceType whose `schema` is Okta's Role or Entitlement URN
//!   (`urn:okta:scim:schemas:core:1.0:Role` / `…:Entitlement`), with its own endpoint
//!   (`/Roles`, `/Licenses`, …) that lists the values as a ListResponse. Where Okta's guide and
//!   the draft differ, the server follows Okta: the draft's URNs are
//!   `urn:ietf:params:scim:schemas:core:2.0:Role`/`…:Entitlement` and its values carry
//!   `value`/`display`; Okta reads `id`/`displayName`. Every value carries both, so a client of
//!   either finds what it reads.
//! - The catalogue is read-only, as in both documents: POST, PUT, PATCH and DELETE on a type's
//!   endpoint answer 405. Assignments live on the User (`roles`, `entitlements`), written by the
//!   IdP's PUT; a type marked `assignable: false` is managed in the app (a license bought
//!   there), and a write that changes its assignments is refused with 400 `mutability`.
//! - The set is configurable (`idpsim serve --catalog FILE`, the JSON form of [`Catalog`]);
//!   without one the server serves [`Catalog::builtin`].

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use crate::scim::schema::LIST_URN;

/// Okta's schema URN for role resource types (Okta guide, "Roles schema").
pub const OKTA_ROLE_URN: &str = "urn:okta:scim:schemas:core:1.0:Role";
/// Okta's schema URN for entitlement resource types (Okta guide, "Entitlements schema").
pub const OKTA_ENTITLEMENT_URN: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
/// The draft's URNs, for the notes in findings (draft-ietf-scim-roles-entitlements §"Schema samples").
pub const DRAFT_ROLE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Role";
pub const DRAFT_ENTITLEMENT_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Entitlement";
/// The extension the built-in `Profile` type declares, after the example in Okta's guide
/// ("Custom entitlement with extensions").
pub const PROFILE_EXTENSION_URN: &str = "urn:idpsim:scim:schemas:extension:reference:1.0:Profile";

/// The page size the `catalog-ignores-count` quirk reports, as the Okta workshop's `/Roles`
/// handler does with its `recordLimit` default.
const WORKSHOP_RECORD_LIMIT: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    /// Assigned in the User's `roles`.
    Role,
    /// Assigned in the User's `entitlements`, with `type` = the resource type's name.
    Entitlement,
}

impl TypeKind {
    pub fn urn(self) -> &'static str {
        match self {
            TypeKind::Role => OKTA_ROLE_URN,
            TypeKind::Entitlement => OKTA_ENTITLEMENT_URN,
        }
    }
    /// The User attribute that holds assignments of this kind.
    pub fn user_attribute(self) -> &'static str {
        match self {
            TypeKind::Role => "roles",
            TypeKind::Entitlement => "entitlements",
        }
    }
}

/// A schema extension a type declares (`schemaExtensions` in its ResourceType), with string
/// attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeExtension {
    pub schema: String,
    pub attributes: Vec<String>,
}

/// One value of a type: a role, a license, a permission set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogValue {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Values of the type's extension attributes.
    #[serde(default)]
    pub extension: Map<String, Value>,
}

/// One entitlement type (a ResourceType).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntitlementType {
    /// ResourceType id and name; for entitlements also the `type` of each assignment.
    pub name: String,
    /// `/Roles`, `/Licenses`, … relative to the base URL.
    pub endpoint: String,
    #[serde(default)]
    pub description: String,
    pub kind: TypeKind,
    /// Whether the IdP may change assignments of this type on a User.
    #[serde(default = "yes")]
    pub assignable: bool,
    #[serde(default)]
    pub extension: Option<TypeExtension>,
    pub values: Vec<CatalogValue>,
}

fn yes() -> bool {
    true
}

/// The entitlement types a server serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub types: Vec<EntitlementType>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}

fn value(id: &str, name: &str, description: &str) -> CatalogValue {
    CatalogValue {
        id: id.into(),
        display_name: name.into(),
        description: Some(description.into()),
        extension: Map::new(),
    }
}

impl Catalog {
    /// What the reference server serves without `--catalog`: a role type and two entitlement
    /// types (one declaring an extension, as in Okta's guide), three values each, so a
    /// `count=1` probe and a paged import have pages. All assignable: Okta grants the first
    /// value of every type it discovered in the shipped scenarios. A type the app manages
    /// itself (`"assignable": false`) is a `--catalog` matter.
    pub fn builtin() -> Catalog {
        let mut profile_std = value(
            "profile-standard",
            "Standard profile",
            "Default access for staff",
        );
        profile_std
            .extension
            .insert("customProfileProperty".into(), json!("standard"));
        let mut profile_restricted = value(
            "profile-restricted",
            "Restricted profile",
            "Read-only access for contractors",
        );
        profile_restricted
            .extension
            .insert("customProfileProperty".into(), json!("restricted"));
        let mut profile_audit = value(
            "profile-audit",
            "Audit profile",
            "Read access to the audit trail",
        );
        profile_audit
            .extension
            .insert("customProfileProperty".into(), json!("audit"));
        Catalog {
            types: vec![
                EntitlementType {
                    name: "Role".into(),
                    endpoint: "/Roles".into(),
                    description: "Roles a user can hold in the app".into(),
                    kind: TypeKind::Role,
                    assignable: true,
                    extension: None,
                    values: vec![
                        value("role-admin", "Administrator", "Full control of the app"),
                        value("role-editor", "Editor", "Creates and edits content"),
                        value("role-viewer", "Viewer", "Reads content"),
                    ],
                },
                EntitlementType {
                    name: "License".into(),
                    endpoint: "/Licenses".into(),
                    description: "Licenses a user can be granted".into(),
                    kind: TypeKind::Entitlement,
                    assignable: true,
                    extension: None,
                    values: vec![
                        value("license-basic", "Basic", "Basic plan seat"),
                        value("license-pro", "Professional", "Professional plan seat"),
                        value("license-enterprise", "Enterprise", "Enterprise plan seat"),
                    ],
                },
                EntitlementType {
                    name: "Profile".into(),
                    endpoint: "/Profiles".into(),
                    description: "Access profiles, with a custom property".into(),
                    kind: TypeKind::Entitlement,
                    assignable: true,
                    extension: Some(TypeExtension {
                        schema: PROFILE_EXTENSION_URN.into(),
                        attributes: vec!["customProfileProperty".into()],
                    }),
                    values: vec![profile_std, profile_restricted, profile_audit],
                },
            ],
        }
    }

    /// Reads and checks a `--catalog` file (JSON).
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let c: Catalog = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for t in &c.types {
            if !t.endpoint.starts_with('/') || t.endpoint[1..].contains('/') {
                return Err(format!(
                    "type `{}`: endpoint must be one path segment such as /Roles, got `{}`",
                    t.name, t.endpoint
                ));
            }
            let reserved = [
                "/Users",
                "/Groups",
                "/Schemas",
                "/ResourceTypes",
                "/ServiceProviderConfig",
                "/.search",
                "/Bulk",
                "/Me",
            ];
            if reserved.iter().any(|r| r.eq_ignore_ascii_case(&t.endpoint)) {
                return Err(format!(
                    "type `{}`: endpoint {} is reserved",
                    t.name, t.endpoint
                ));
            }
            if t.name.trim().is_empty() || t.values.iter().any(|v| v.id.trim().is_empty()) {
                return Err(format!(
                    "type `{}`: names and value ids must not be empty",
                    t.name
                ));
            }
        }
        Ok(c)
    }

    /// The type served at `/{segment}`.
    pub fn by_segment(&self, segment: &str) -> Option<&EntitlementType> {
        self.types
            .iter()
            .find(|t| t.endpoint.trim_start_matches('/') == segment)
    }
}

impl EntitlementType {
    fn value_json(&self, v: &CatalogValue, base_url: &str) -> Value {
        let mut schemas = vec![json!(self.kind.urn())];
        if let Some(ext) = &self.extension {
            schemas.push(json!(ext.schema));
        }
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert("id".into(), json!(v.id));
        out.insert("displayName".into(), json!(v.display_name));
        if let Some(d) = &v.description {
            out.insert("description".into(), json!(d));
        }
        if self.kind == TypeKind::Entitlement {
            // Okta: `type` "corresponds with the ResourceType name field".
            out.insert("type".into(), json!(self.name));
        }
        // The draft's names for the same facts.
        out.insert("value".into(), json!(v.id));
        out.insert("display".into(), json!(v.display_name));
        out.insert("supported".into(), json!(true));
        if let Some(ext) = &self.extension {
            out.insert(ext.schema.clone(), Value::Object(v.extension.clone()));
        }
        out.insert(
            "meta".into(),
            json!({
                "resourceType": self.name,
                "location": format!("{base_url}{}/{}", self.endpoint, v.id),
            }),
        );
        Value::Object(out)
    }

    /// `GET {endpoint}?startIndex=…&count=…`.
    pub(crate) fn list(
        &self,
        start_index: usize,
        count: Option<usize>,
        has_filter: bool,
        base_url: &str,
        quirks: &Quirks,
    ) -> Result<Value, ScimError> {
        if has_filter {
            return Err(ScimError::bad(
                "invalidFilter",
                format!(
                    "{} cannot be filtered; list it with startIndex and count",
                    self.endpoint
                ),
            ));
        }
        let all: Vec<Value> = self
            .values
            .iter()
            .map(|v| self.value_json(v, base_url))
            .collect();
        let total = all.len();
        let (page, items_per_page): (Vec<Value>, usize) = if quirks.has(Quirk::CatalogIgnoresCount)
        {
            // Okta's entitlements workshop: `count` is not read (the handler reads
            // `recordLimit`), every value from startIndex comes back, and itemsPerPage is the
            // limit, not the page.
            let page: Vec<Value> = all.into_iter().skip(start_index.max(1) - 1).collect();
            (page, WORKSHOP_RECORD_LIMIT)
        } else {
            let page: Vec<Value> = all
                .into_iter()
                .skip(start_index.max(1) - 1)
                .take(count.unwrap_or(super::handlers::DEFAULT_COUNT))
                .collect();
            let n = page.len();
            (page, n)
        };
        let schemas = if quirks.has(Quirk::CatalogListWrongSchemas) {
            // The workshop's /Characteristics answer lists the resource schemas, not ListResponse.
            let mut s = vec![json!(self.kind.urn())];
            if let Some(ext) = &self.extension {
                s.push(json!(ext.schema));
            }
            s
        } else {
            vec![json!(LIST_URN)]
        };
        Ok(json!({
            "schemas": schemas,
            "totalResults": total,
            "startIndex": start_index.max(1),
            "itemsPerPage": items_per_page,
            "Resources": page,
        }))
    }

    pub(crate) fn get(&self, id: &str, base_url: &str) -> Result<Value, ScimError> {
        self.values
            .iter()
            .find(|v| v.id == id)
            .map(|v| self.value_json(v, base_url))
            .ok_or_else(|| ScimError::resource_not_found(&self.name, id))
    }

    /// The ResourceType representation (RFC 7643 §6, with Okta's schema URN).
    pub(crate) fn resource_type_json(&self, base_url: &str) -> Value {
        let mut v = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.kind.urn(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", self.name),
            }
        });
        if let (Some(ext), Some(o)) = (&self.extension, v.as_object_mut()) {
            o.insert(
                "schemaExtensions".into(),
                json!([{ "schema": ext.schema, "required": true }]),
            );
        }
        v
    }

    /// Whether an assignment element (`{value, display, type}`) belongs to this type.
    fn owns(&self, element: &Value) -> bool {
        let value = element.get("value").and_then(Value::as_str);
        let ty = element.get("type").and_then(Value::as_str);
        match self.kind {
            TypeKind::Role => value.is_some_and(|v| self.values.iter().any(|c| c.id == v)),
            TypeKind::Entitlement => {
                ty.is_some_and(|t| t.eq_ignore_ascii_case(&self.name))
                    || value.is_some_and(|v| self.values.iter().any(|c| c.id == v))
            }
        }
    }

    fn assigned<'a>(&self, attrs: Option<&'a Map<String, Value>>) -> Vec<&'a str> {
        let mut out: Vec<&str> = attrs
            .and_then(|a| a.get(self.kind.user_attribute()))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter(|e| self.owns(e))
                    .filter_map(|e| e.get("value").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Schema representations for `/Schemas`: Okta's Role and Entitlement schemas (Okta knows them
/// and does not need them, but RFC 7643 §7 clients do) and each declared extension.
pub(crate) fn schemas_json(catalog: &Catalog, base_url: &str, quirks: &Quirks) -> Vec<Value> {
    let attr = |name: &str, required: bool, description: &str| {
        json!({
            "name": name, "type": "string", "multiValued": false, "description": description,
            "required": required, "caseExact": false, "mutability": "readOnly",
            "returned": "default", "uniqueness": "none"
        })
    };
    let schema = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description, "attributes": attributes,
            "meta": { "resourceType": "Schema", "location": format!("{base_url}/Schemas/{id}") }
        })
    };
    let mut out = Vec::new();
    if catalog.types.iter().any(|t| t.kind == TypeKind::Role) {
        out.push(schema(
            OKTA_ROLE_URN,
            "Role",
            "Okta Identity Governance role",
            vec![
                attr("id", true, "The ID of the role"),
                attr("displayName", true, "The name shown for the role"),
                attr("description", false, "What the role grants"),
            ],
        ));
    }
    if catalog
        .types
        .iter()
        .any(|t| t.kind == TypeKind::Entitlement)
    {
        out.push(schema(
            OKTA_ENTITLEMENT_URN,
            "Entitlement",
            "Okta Identity Governance entitlement",
            vec![
                attr("id", true, "The ID of the entitlement"),
                attr("displayName", true, "The name shown for the entitlement"),
                attr("type", true, "The resource type's name"),
                attr("description", false, "What the entitlement grants"),
            ],
        ));
    }
    if quirks.has(Quirk::ResourceTypeSchemaMissing) {
        return out;
    }
    for t in &catalog.types {
        if let Some(ext) = &t.extension {
            let attributes = ext
                .attributes
                .iter()
                .map(|a| {
                    let mut v = attr(a, false, "Extension attribute");
                    v["mutability"] = json!("readWrite");
                    v
                })
                .collect();
            out.push(schema(
                &ext.schema,
                &t.name,
                &format!("{} extension", t.name),
                attributes,
            ));
        }
    }
    out
}

/// A write that changes assignments of a type the app manages itself is refused; the others
/// pass. `before` is the stored user (None on create).
pub(crate) fn check_assignable(
    catalog: &Catalog,
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
) -> Result<(), ScimError> {
    for t in catalog.types.iter().filter(|t| !t.assignable) {
        if t.assigned(before) != t.assigned(Some(after)) {
            return Err(ScimError::bad(
                "mutability",
                format!(
                    "{} assignments ({}) are managed in the app and cannot be changed over SCIM",
                    t.name,
                    t.kind.user_attribute()
                ),
            ));
        }
    }
    Ok(())
}

/// `drop-assignments-on-put`: the stored `roles` and `entitlements` survive a PUT whatever it
/// carries (a PUT handler that maps only the attributes it knows).
pub(crate) fn keep_stored_assignments(before: &Map<String, Value>, after: &mut Map<String, Value>) {
    for attr in ["roles", "entitlements"] {
        match before.get(attr) {
            Some(v) => {
                after.insert(attr.into(), v.clone());
            }
            None => {
                after.remove(attr);
            }
        }
    }
}

/// The draft's ServiceProviderConfig extension (draft-ietf-scim-roles-entitlements,
/// "ServiceProviderConfig Extension").
pub(crate) fn service_provider_config(catalog: &Catalog) -> Value {
    let has = |k: TypeKind| catalog.types.iter().any(|t| t.kind == k);
    json!({
        "roles": { "supported": has(TypeKind::Role), "multipleRolesSupported": true,
                   "primarySupported": false, "typeSupported": false },
        "entitlements": { "supported": has(TypeKind::Entitlement), "multipleEntitlementsSupported": true,
                          "primarySupported": false, "typeSupported": true,
                          "types": catalog.types.iter().filter(|t| t.kind == TypeKind::Entitlement).map(|t| t.name.clone()).collect::<Vec<_>>() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_reads_back_from_its_json() {
        let c = Catalog::builtin();
        let text = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(Catalog::from_json(&text), Ok(c));
    }

    #[test]
    fn a_catalogue_cannot_take_a_reserved_endpoint() {
        let bad = r#"{"types":[{"name":"U","endpoint":"/Users","kind":"role","values":[]}]}"#;
        assert!(Catalog::from_json(bad).is_err());
        let bad = r#"{"types":[{"name":"U","endpoint":"/a/b","kind":"role","values":[]}]}"#;
        assert!(Catalog::from_json(bad).is_err());
    }

    #[test]
    fn only_unassignable_types_are_guarded() {
        let mut c = Catalog::builtin();
        c.types.push(EntitlementType {
            name: "Seat".into(),
            endpoint: "/Seats".into(),
            description: String::new(),
            kind: TypeKind::Entitlement,
            assignable: false,
            extension: None,
            values: vec![value("seat-standard", "Standard seat", "Bought in the app")],
        });
        let before: Map<String, Value> = serde_json::from_value(
            json!({"entitlements": [{"value": "seat-standard", "type": "Seat"}]}),
        )
        .unwrap_or_default();
        let mut after = before.clone();
        after.insert(
            "roles".into(),
            json!([{"value": "role-admin", "display": "Administrator"}]),
        );
        assert!(check_assignable(&c, Some(&before), &after).is_ok());
        after.insert("entitlements".into(), json!([]));
        assert!(check_assignable(&c, Some(&before), &after).is_err());
    }
}
