//! Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /Schemas, /ResourceTypes.
//! /Schemas and /ResourceTypes are ListResponses (RFC 7644 §4 "SHALL return … a
//! ListResponse"); the single-item forms are plain resources.

use serde_json::{json, Value};

use super::handlers::MAX_COUNT;
use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use crate::scim::schema::{
    all_schemas, schema_by_urn, ResourceKind, ENTERPRISE_URN, LIST_URN, RESOURCE_TYPE_URN,
    SERVICE_PROVIDER_CONFIG_URN,
};

pub(crate) fn service_provider_config(base_url: &str) -> Value {
    json!({
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
    })
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

pub(crate) fn schemas(base_url: &str, quirks: &Quirks) -> Value {
    list_of(
        all_schemas().iter().map(|s| s.to_json(base_url)).collect(),
        quirks,
    )
}

pub(crate) fn schema(base_url: &str, id: &str) -> Result<Value, ScimError> {
    schema_by_urn(id)
        .map(|s| s.to_json(base_url))
        .ok_or_else(|| ScimError::resource_not_found("Schema", id))
}

fn resource_type_json(kind: ResourceKind, base_url: &str) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
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

pub(crate) fn resource_types(base_url: &str, quirks: &Quirks) -> Value {
    list_of(
        [ResourceKind::User, ResourceKind::Group]
            .iter()
            .map(|k| resource_type_json(*k, base_url))
            .collect(),
        quirks,
    )
}

pub(crate) fn resource_type(base_url: &str, id: &str) -> Result<Value, ScimError> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(id))
        .map(|k| resource_type_json(k, base_url))
        .ok_or_else(|| ScimError::resource_not_found("ResourceType", id))
}
