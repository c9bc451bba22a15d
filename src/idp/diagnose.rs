//! Why an IdP's lookup missed a user the server holds. Both IdPs look users up by filter before
//! they create or reactivate; when the filter finds nothing although the user is there, the
//! consequence (a POST that conflicts, a duplicate) is the same, but the server's fault is not:
//! it matches `userName` case-sensitively, it hides inactive users from filters, or the
//! deactivation deleted the user. idpsim's own reads (neutral headers, not IdP traffic) tell
//! them apart, so each fault is reported under its own rule.

use serde_json::Value;

use crate::idp::context::ActionCtx;
use crate::transport::OutgoingRequest;

/// What a closer look found.
pub enum Miss {
    /// A built-in rule already reported the cause on idpsim's own read (the user is gone after
    /// this run deactivated it: `scim.deactivate.deletes`).
    Reported,
    /// The cause, as a rule id and a sentence for the finding's message.
    Cause(&'static str, String),
    /// The user is not on the server, or idpsim cannot tell why the filter missed it.
    Unknown,
}

/// At most this many pages of 100 are read looking for the user (a shared server may hold more).
const SCAN_PAGES: i64 = 10;

/// Looks for the user that `attr eq "value"` should have found: by the id the IdP linked, when
/// it has one, else by reading the user list.
pub async fn missed_user(
    ctx: &mut ActionCtx<'_>,
    attr: &str,
    value: &str,
    linked_id: Option<&str>,
) -> Miss {
    if let Some(id) = linked_id {
        let path = format!("/Users/{}", crate::support::text::path_segment(id));
        let (i, raw) = ctx
            .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
            .await;
        if ctx.judged(i, "scim.deactivate.deletes") {
            return Miss::Reported;
        }
        if let Some(user) = raw.body.filter(|b| b.is_object() && raw.status == 200) {
            return classify(&user, attr, value);
        }
        return Miss::Unknown;
    }
    let mut start = 1;
    for _ in 0..SCAN_PAGES {
        let path = format!("/Users?startIndex={start}&count=100");
        let (_, raw) = ctx
            .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
            .await;
        let Some(items) = raw
            .body
            .as_ref()
            .and_then(|b| b.get("Resources"))
            .and_then(Value::as_array)
            .cloned()
        else {
            return Miss::Unknown;
        };
        if let Some(user) = items.iter().find(|u| {
            attribute(u, attr)
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        }) {
            return classify(user, attr, value);
        }
        if items.is_empty() {
            break;
        }
        start += items.len() as i64;
    }
    Miss::Unknown
}

fn attribute(user: &Value, attr: &str) -> Option<String> {
    let obj = user.as_object()?;
    crate::scim::filter::get_ci(obj, attr)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The user is there: the filter missed it because of case, or because it is inactive.
fn classify(user: &Value, attr: &str, value: &str) -> Miss {
    let stored = attribute(user, attr).unwrap_or_default();
    if !stored.is_empty() && stored != value && stored.eq_ignore_ascii_case(value) {
        return Miss::Cause(
            "rfc7643.username.case-insensitive",
            format!(
                "the server holds {attr} \"{stored}\": `{attr} eq \"{value}\"` must match it regardless of case"
            ),
        );
    }
    let inactive = match user.get("active") {
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => crate::support::text::parse_bool(s) == Some(false),
        _ => false,
    };
    if inactive {
        return Miss::Cause(
            "scim.inactive.filter-hides",
            format!(
                "the server holds the user with active: false, but `{attr} eq \"{value}\"` does not return it"
            ),
        );
    }
    Miss::Unknown
}

/// A user this run deactivated that a list or filter does not show: gone (the deactivation
/// deleted it) or still there, hidden from lists and filters. idpsim's own read by id
/// (`resource`: `/Users/{id}`) tells which.
pub async fn gone_or_hidden(ctx: &mut ActionCtx<'_>, resource: &str) -> Option<&'static str> {
    let (_, raw) = ctx
        .send(OutgoingRequest::new("GET", resource).header("Accept", "application/scim+json"))
        .await;
    match raw.status {
        404 => Some("scim.deactivate.deletes"),
        200 => Some("scim.inactive.filter-hides"),
        _ => None,
    }
}
