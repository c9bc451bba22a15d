//! Entra's judgement of answers, in its own terms: the provisioning-log error codes, escrow and
//! quarantine (Microsoft Learn: "How to analyze the provisioning logs", "Application
//! provisioning in quarantine status"), and the mode-specific explanations (aadOptscim062020).

use crate::idp::entra::config::Mode;
use crate::outcome::{DiffEntry, Finding};
use crate::scenario::Idp;
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

/// A failed operation: `what` says which Entra operation (e.g. "create user alice"). The
/// consequence is Entra's reading of the status (its provisioning-log error code).
pub fn failed(rule: &str, what: &str, expected: &str, resp: &RawResponse) -> Finding {
    failed_as(rule, what, expected, resp).impact(status_impact(resp.status))
}

/// A failed operation whose consequence is the rule's own (the catalogue's sentence says more
/// than the status would: a reference failure, the aadOptscim062020 flag, …).
pub fn failed_as(rule: &str, what: &str, expected: &str, resp: &RawResponse) -> Finding {
    let detail = resp.detail_suffix();
    Finding::judged(
        rule,
        Idp::Entra,
        format!("{what} answered {}{detail}", resp.status),
    )
    .diff(DiffEntry::new("status", expected, resp.status.to_string()))
}

/// Member removal rejected: default mode's `Remove` + `value` form (the form the tutorial
/// documents and strictly-RFC servers reject), or flag mode's filtered path.
pub fn member_remove_rejected(mode: Mode, resp: &RawResponse) -> Finding {
    match mode {
        Mode::Default => failed_as(
            "entra.patch.remove-member-default-mode",
            "Entra's default-mode member removal (`Remove`, path `members`, a `value` array)",
            "204",
            resp,
        ),
        Mode::Flag => failed_as(
            "entra.patch.remove-member",
            "Entra's member removal (`remove` with path members[value eq \"…\"])",
            "204",
            resp,
        ),
    }
}

/// A PATCH carrying Entra's string booleans was rejected (COMPAT: default mode sends
/// "True"/"False").
pub fn string_boolean_rejected(resp: &RawResponse) -> Finding {
    failed_as(
        "entra.patch.string-boolean-rejected",
        "Entra's default-mode PATCH with a string boolean (\"True\"/\"False\")",
        "200 or 204",
        resp,
    )
}
