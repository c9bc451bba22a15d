//! Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /Schemas, /ResourceTypes.
//! /Schemas and /ResourceTypes are ListResponses (RFC 7644 §4 "SHALL return … a
//! ListResponse"); the single-item forms are plain resources.

use serde_json::{json, Value};

use super::entitlements::{self, Catalog};
use super::handlers::MAX_COUNT;
use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use crate::scim::schema::{
    all_schemas, is_custom_extension, schema_by_urn, ResourceKind, ENTERPRISE_URN, LIST_URN,
    RESOURCE_TYPE_URN, SERVICE_PROVIDER_CONFIG_URN,
};

pub(crate) fn service_provider_config(base_url: &str, catalog: &Catalog) -> Value {
    let mut spc = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig")
        }
    });
    // draft-ietf-scim-roles-entitlements-01 §3.1: a server that implements /Roles or
    // /Entitlements MUST advertise them here; one that serves neither says nothing, so a
    // strict RFC 7643 client (which rejects the draft's unkeyed attribute) still reads it.
    if !catalog.types.is_empty() {
        spc["RolesAndEntitlements"] = entitlements::service_provider_config(catalog);
    }
    spc
}

fn list_of(items: Vec<Value>, quirks: &Quirks) -> Value {
    let n = items.len();
    let num = |n: usize| {
        if quirks.has(Quirk::StringCounters) {
            json!(n.to_string())
        } else {
            json!(n)
        }
    };
    json!({
        "schemas": [LIST_URN],
        "totalResults": num(n),
        "startIndex": num(1),
        "itemsPerPage": num(n),
        "Resources": items,
    })
}

/// `custom-extension-not-advertised` and `no-custom-extension` hide the custom User extension
/// from discovery.
fn advertised(urn: &str, quirks: &Quirks) -> bool {
    !((quirks.has(Quirk::CustomExtensionNotAdvertised) || quirks.has(Quirk::NoCustomExtension))
        && is_custom_extension(urn))
}

fn all_schema_json(base_url: &str, catalog: &Catalog, quirks: &Quirks) -> Vec<Value> {
    let mut out: Vec<Value> = all_schemas()
        .iter()
        .filter(|s| advertised(s.id, quirks))
        .map(|s| s.to_json(base_url))
        .collect();
    out.extend(entitlements::schemas_json(catalog, base_url, quirks));
    out
}

pub(crate) fn schemas(base_url: &str, catalog: &Catalog, quirks: &Quirks) -> Value {
    list_of(all_schema_json(base_url, catalog, quirks), quirks)
}

pub(crate) fn schema(
    base_url: &str,
    catalog: &Catalog,
    quirks: &Quirks,
    id: &str,
) -> Result<Value, ScimError> {
    if let Some(s) = schema_by_urn(id).filter(|s| advertised(s.id, quirks)) {
        return Ok(s.to_json(base_url));
    }
    all_schema_json(base_url, catalog, quirks)
        .into_iter()
        .find(|s| {
            s.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| ScimError::resource_not_found("Schema", id))
}

fn resource_type_json(kind: ResourceKind, base_url: &str, quirks: &Quirks) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .filter(|e| advertised(e.id, quirks))
        .map(|e| json!({"schema": e.id, "required": false}))
        .collect();
    let mut v = json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": match kind { ResourceKind::User => "User Account", ResourceKind::Group => "Group" },
        "schema": kind.core().id,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{}", kind.name())
        }
    });
    if !extensions.is_empty() {
        if let Some(o) = v.as_object_mut() {
            o.insert("schemaExtensions".into(), Value::Array(extensions));
        }
    }
    debug_assert!(ENTERPRISE_URN.starts_with("urn:"));
    v
}

fn all_resource_types(base_url: &str, catalog: &Catalog, quirks: &Quirks) -> Vec<Value> {
    let mut out: Vec<Value> = [ResourceKind::User, ResourceKind::Group]
        .iter()
        .map(|k| resource_type_json(*k, base_url, quirks))
        .collect();
    out.extend(catalog.types.iter().map(|t| t.resource_type_json(base_url)));
    out
}

pub(crate) fn resource_types(base_url: &str, catalog: &Catalog, quirks: &Quirks) -> Value {
    list_of(all_resource_types(base_url, catalog, quirks), quirks)
}

pub(crate) fn resource_type(
    base_url: &str,
    catalog: &Catalog,
    quirks: &Quirks,
    id: &str,
) -> Result<Value, ScimError> {
    all_resource_types(base_url, catalog, quirks)
        .into_iter()
        .find(|t| {
            t.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| ScimError::resource_not_found("ResourceType", id))
}
