//! Entra's judgement of answers, in its own terms: the provisioning-log error codes (LOGS),
//! escrow and quarantine (QUAR), and the mode-specific explanations (entra.md §4, §7.4, §9).

use crate::idp::entra::config::Mode;
use crate::outcome::{DiffEntry, Finding};
use crate::transport::RawResponse;

/// Entra's reading of a failed status, for the impact sentence.
pub fn status_impact(status: u16) -> &'static str {
    match status {
        400 => "Entra logs SystemForCrossDomainIdentityManagementBadRequest, escrows the change and retries it on later cycles; if most operations fail the job goes to quarantine.",
        401 | 403 => "Entra logs Unauthorized/InsufficientRights and quarantines the job (\"Bad credentials\" email).",
        404 => "Entra logs InvalidAnchor: the linked object is gone from the app.",
        405 => "Entra logs MethodNotAllowed: authorization failed for this operation.",
        406 => "Entra sends no Accept header; a server that negotiates content fails every request and the job goes to quarantine.",
        409 => "Entra logs Conflict/EntryConflict and retries on later cycles; the object stays out of sync until the data is fixed or the conflicting account matches.",
        422 => "Entra logs UnprocessableEntity (an unexpected response) and retries later.",
        429 => "Entra logs TooManyRequests and retries; failures beyond the escrow thresholds quarantine the job.",
        500..=599 => "Entra logs InternalServerError and retries this object in 40 minutes; repeated failures escrow and quarantine the job.",
        0 => "Entra could not reach the endpoint and retries later; persistent failures quarantine the job.",
        _ => "Entra treats the answer as an unexpected response and retries the object on later cycles.",
    }
}

/// A failed operation: `what` says which Entra operation (e.g. "create user alice").
pub fn failed(rule: &str, what: &str, expected: &str, resp: &RawResponse) -> Finding {
    let detail = resp
        .body
        .as_ref()
        .and_then(|b| b.get("detail"))
        .and_then(|d| d.as_str())
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    Finding::error(rule, format!("{what} answered {}{detail}", resp.status))
        .diff(DiffEntry::new("status", expected, resp.status.to_string()))
        .impact(status_impact(resp.status))
}

/// Default-mode member removal rejected (the headline of issue 5, entra.md §3.14, §9 #5).
pub fn member_remove_rejected(mode: Mode, resp: &RawResponse) -> Finding {
    match mode {
        Mode::Default => failed(
            "entra.patch.remove-member-default-mode",
            "Entra's default-mode member removal (`Remove`, path `members`, a `value` array)",
            "204",
            resp,
        )
        .impact("Without ?aadOptscim062020 Entra sends this Remove form; servers that reject it keep stale members: the user stays in the group while Entra escrows the change and retries it every cycle. Accept the form (remove only the listed values) or add ?aadOptscim062020 to the Tenant URL so Entra sends `remove` with path members[value eq \"…\"].")
        .reference("Microsoft Learn: Tutorial, develop and plan provisioning for a SCIM endpoint (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups); Microsoft Learn: Known issues and resolutions with SCIM 2.0 protocol compliance (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility); RFC 7644 §3.5.2.2"),
        Mode::Flag => failed(
            "entra.patch.remove-member",
            "Entra's member removal (`remove` with path members[value eq \"…\"])",
            "204",
            resp,
        )
        .reference("Microsoft Learn: Known issues and resolutions with SCIM 2.0 protocol compliance (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility); RFC 7644 §3.5.2.2"),
    }
}

/// A PATCH carrying Entra's string booleans was rejected (entra.md §4.2, §9 #3).
pub fn string_boolean_rejected(resp: &RawResponse) -> Finding {
    failed(
        "entra.patch.string-boolean-rejected",
        "Entra's default-mode PATCH with a string boolean (\"True\"/\"False\")",
        "200 or 204",
        resp,
    )
    .impact("Without ?aadOptscim062020 Entra sends booleans as the strings \"True\"/\"False\" in PATCH. This server rejects them, so disables and restores never apply: the user stays active in the app, the errors escrow and the job ends in quarantine. Parse boolean strings case-insensitively, or add ?aadOptscim062020 to the Tenant URL.")
    .reference("Microsoft Learn: Known issues and resolutions with SCIM 2.0 protocol compliance (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility); AzureAD/SCIMReferenceCode#21")
}

/// Whether a response's media type is what Entra requires (entra.md §1.5).
pub fn media_type_finding(resp: &RawResponse) -> Option<Finding> {
    resp.body.as_ref()?;
    let ct = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (essence != "application/scim+json").then(|| {
        Finding::error(
            "entra.response.media-type",
            format!(
                "the answer's Content-Type is `{}`; Entra expects application/scim+json on every response",
                if ct.is_empty() { "absent" } else { ct }
            ),
        )
        .diff(DiffEntry::new(
            "header:Content-Type",
            "application/scim+json",
            if ct.is_empty() { "absent" } else { ct },
        ))
        .impact("Microsoft requires application/scim+json on all responses; its SCIM Validator aborts the whole run on application/json and gallery onboarding fails.")
        .reference("Microsoft Learn: Tutorial, develop and plan provisioning for a SCIM endpoint (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups); MicrosoftDocs/azure-docs#104859")
    })
}
