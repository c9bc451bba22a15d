//! The manager reference as Entra removes it. Entra clears a manager either with
//! `{"op":"remove","path":"manager[value eq \"…\"]"}` — a value filter on a single-valued complex
//! attribute, reported from the field (thomaspoignant/scim-patch#453) — or with
//! `{"op":"replace","path":"urn:…:enterprise:2.0:User:manager","value":""}` (Microsoft's
//! onboarding tests, AzureAD/SCIMReferenceCode `SCIMTests_Workflow.json`,
//! `SCIM_Update_Manager_Test`). The server accepts both; `reject-manager-filter-remove` refuses
//! the first, as servers that allow value filters only on multi-valued attributes do
//! (RFC 7644 §3.5.2.2 speaks of filters on multi-valued attributes).

use serde_json::Value;

use super::quirks::{Quirk, Quirks};
use super::response::ScimError;
use crate::scim::filter::get_ci;

fn is_manager_filter(path: &str) -> bool {
    let p = path.trim().to_ascii_lowercase();
    let attr = p.rsplit_once(":user:").map(|(_, a)| a).unwrap_or(&p);
    attr.starts_with("manager[")
}

pub(crate) fn check_patch(quirks: &Quirks, body: &Value) -> Result<(), ScimError> {
    if !quirks.has(Quirk::RejectManagerFilterRemove) {
        return Ok(());
    }
    let ops = body
        .as_object()
        .and_then(|o| get_ci(o, "Operations"))
        .and_then(Value::as_array);
    for op in ops.into_iter().flatten() {
        let path = op
            .as_object()
            .and_then(|o| get_ci(o, "path"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if is_manager_filter(path) {
            return Err(ScimError::bad(
                "invalidFilter",
                format!("'{path}': value filters are only allowed on multi-valued attributes"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filter_form_is_recognised_with_or_without_the_urn() {
        assert!(super::is_manager_filter("manager[value eq \"m1\"]"));
        assert!(super::is_manager_filter(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"m1\"]"
        ));
        assert!(!super::is_manager_filter(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        ));
    }
}
