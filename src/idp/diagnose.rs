//! Why an IdP's lookup missed a user or group the server holds. Both IdPs look users up by
//! filter before they create or reactivate; when the filter finds nothing although the user is
//! there, the consequence (a POST that conflicts, a duplicate) is the same, but the server's
//! fault is not: it matches `userName` case-sensitively, it hides inactive users from filters,
//! or the deactivation deleted the user. Entra matches groups by `displayName` the same way; a
//! server that cannot filter groups at all misses every one. idpsim's own reads (neutral
//! headers, not IdP traffic) tell them apart, so each fault is reported under its own rule.

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

/// Looks for the group that `attr eq "value"` should have found (Entra matches groups by
/// `displayName`): in the group list, then, when it is there, by sending the same filter again.
/// A group the list holds and a second filter still misses is the filter's fault; a group the
/// second filter finds was created between the IdP's lookup and its create (a race), and a
/// group the list does not hold is not the server's to explain.
pub async fn missed_group(ctx: &mut ActionCtx<'_>, attr: &str, value: &str) -> Miss {
    let mut start = 1;
    let mut found = None;
    for _ in 0..SCAN_PAGES {
        let path = format!("/Groups?startIndex={start}&count=100");
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
        found = items.into_iter().find(|g| {
            attribute(g, attr)
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(value))
        });
        if found.is_some() {
            break;
        }
        let Some(n) = raw
            .body
            .as_ref()
            .and_then(|b| b.get("Resources"))
            .and_then(Value::as_array)
            .map(Vec::len)
            .filter(|n| *n > 0)
        else {
            break;
        };
        start += n as i64;
    }
    let Some(group) = found else {
        return Miss::Unknown;
    };
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    let path = format!(
        "/Groups?filter={}",
        crate::support::text::percent_encode(&format!("{attr} eq \"{escaped}\""))
    );
    let (_, raw) = ctx
        .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
        .await;
    let hits = raw
        .body
        .as_ref()
        .filter(|_| raw.status == 200)
        .and_then(|b| b.get("Resources"))
        .and_then(Value::as_array)
        .map(Vec::len);
    if hits != Some(0) {
        // Found now (a race), or the filter failed outright (another rule's problem).
        return Miss::Unknown;
    }
    let stored = attribute(&group, attr).unwrap_or_default();
    let id = group.get("id").and_then(Value::as_str).unwrap_or("?");
    Miss::Cause(
        "rfc7644.filter.missed",
        format!(
            "the server holds group {attr} \"{stored}\" (id {id}), but `{attr} eq \"{value}\"` does not return it"
        ),
    )
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
