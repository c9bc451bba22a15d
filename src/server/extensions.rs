//! Custom extension attributes (`urn:ietf:params:scim:schemas:extension:<Name>:2.0:User:<attr>`):
//! the quirks that reproduce how real servers break them. Without a quirk the server stores,
//! returns and advertises its custom extension like the enterprise one (`scim::schema`).
//!
//! - `strip-custom-extension`: the attributes are accepted and thrown away (SimpleIdServer#138:
//!   PATCH ignores extension attributes; pond/scimitar#155: extension attributes never come back).
//! - `reject-unlisted-extension`: a body whose extension URN is not in `schemas` is refused, the
//!   strict reading of RFC 7643 §3 — Entra never lists a custom extension in `schemas`
//!   (MicrosoftDocs/azure-docs#65648; Microsoft Learn, "Customize user provisioning
//!   attribute-mappings": "the custom extension schema header … isn't sent").
//! - `reject-custom-urn-patch`: a PATCH that addresses a custom attribute by its URN path, or as a
//!   URN key in a path-less value map, is refused (wso2/product-is#6015, SAP-archive/scimono#44,
//!   elimity-com/scim#204).
//! - `no-custom-extension`: the server has no custom extension at all, as a server built without
//!   one answers (Captain-P-Goldfish/SCIM-SDK#539): its attributes are skipped on POST and PUT
//!   (and as URN keys of a path-less PATCH value), a PATCH whose `path` names one is refused with
//!   400 invalidPath, and discovery does not list it (`server::discovery`).

use serde_json::{Map, Value};

use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use crate::scim::filter::get_ci;
use crate::scim::schema::is_custom_extension;

/// The schema URN of a key (`urn:…:User` itself, or `urn:…:User:attr`), if it is a URN.
fn urn_of(key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    if !lower.starts_with("urn:") {
        return None;
    }
    // `urn:…:2.0:User` ends in the resource name; `urn:…:2.0:User:attr` has one more segment.
    let parts: Vec<&str> = key.split(':').collect();
    let resource_at = parts
        .iter()
        .rposition(|p| p.eq_ignore_ascii_case("User") || p.eq_ignore_ascii_case("Group"))?;
    Some(parts[..=resource_at].join(":"))
}

/// Drops every custom extension from stored attributes (`strip-custom-extension`, and
/// `no-custom-extension`, where the server has none to store them in).
pub(crate) fn strip(quirks: &Quirks, attrs: &mut Map<String, Value>) {
    if quirks.has(Quirk::StripCustomExtension) || quirks.has(Quirk::NoCustomExtension) {
        attrs.retain(|k, _| !is_custom_extension(k));
    }
}

/// `reject-unlisted-extension`: every extension a POST/PUT body uses must be in its `schemas`.
pub(crate) fn check_listed(quirks: &Quirks, body: &Map<String, Value>) -> Result<(), ScimError> {
    if !quirks.has(Quirk::RejectUnlistedExtension) {
        return Ok(());
    }
    let listed: Vec<String> = get_ci(body, "schemas")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    for key in body.keys() {
        let Some(urn) = urn_of(key) else { continue };
        if urn.to_ascii_lowercase().contains(":extension:")
            && !listed.contains(&urn.to_ascii_lowercase())
        {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!(
                    "attribute '{key}' belongs to schema '{urn}', which is not listed in 'schemas'"
                ),
            ));
        }
    }
    Ok(())
}

/// `reject-custom-urn-patch`: PATCH operations may not name custom attributes by URN.
/// `no-custom-extension`: a `path` that names one does not resolve (its path-less value keys are
/// skipped like a body's, by `strip`).
pub(crate) fn check_patch(quirks: &Quirks, body: &Value) -> Result<(), ScimError> {
    let unknown = quirks.has(Quirk::NoCustomExtension);
    if !quirks.has(Quirk::RejectCustomUrnPatch) && !unknown {
        return Ok(());
    }
    let ops = body
        .as_object()
        .and_then(|o| get_ci(o, "Operations"))
        .and_then(Value::as_array);
    for op in ops.into_iter().flatten() {
        let Some(o) = op.as_object() else { continue };
        let path = get_ci(o, "path").and_then(Value::as_str).unwrap_or("");
        let keys: Vec<&str> = if path.is_empty() {
            if unknown && !quirks.has(Quirk::RejectCustomUrnPatch) {
                continue;
            }
            get_ci(o, "value")
                .and_then(Value::as_object)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default()
        } else {
            vec![path]
        };
        if let Some(k) = keys
            .iter()
            .find(|k| urn_of(k).is_some_and(|u| is_custom_extension(&u)))
        {
            let detail = if quirks.has(Quirk::RejectCustomUrnPatch) {
                format!("no such attribute: '{k}'")
            } else {
                format!("the attribute with the name '{k}' is unknown to resource type 'User'")
            };
            return Err(ScimError::bad("invalidPath", detail));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_are_cut_at_the_resource_name() {
        assert_eq!(
            urn_of("urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag")
                .as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User")
        );
        assert_eq!(
            urn_of("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(urn_of("userName"), None);
    }
}
