//! Rules built into every exchange: what a careful reader of RFC 7643/7644 expects of an answer,
//! whatever the scenario says. Each rule has a stable id and cites its section.
//!
//! The rules look at the request's *intent* (create, read, list, …), derived from the method and
//! path, so that a raw scenario step and an IdP action are judged the same way.

use serde_json::Value;

use super::show;
use crate::outcome::{DiffEntry, Finding, Severity};
use crate::scim::schema::{ERROR_URN, LIST_URN};
use crate::transport::exchange::{Exchange, RecordedResponse, TransportErrorKind};

/// What a request means, for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    Create {
        resource: String,
    },
    Read {
        resource: String,
        id: String,
    },
    List {
        resource: String,
        start_index: Option<i64>,
        count: Option<i64>,
    },
    Replace {
        resource: String,
        id: String,
    },
    Patch {
        resource: String,
        id: String,
    },
    Delete {
        resource: String,
        id: String,
    },
    /// `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`
    Discovery,
    Other,
}

const RESOURCE_TYPES: &[&str] = &["Users", "Groups"];

impl Intent {
    /// Classifies by method and the path below the base URL (`/Users/42?x=y`).
    pub fn infer(method: &str, rel_path: &str) -> Intent {
        let (path, query) = rel_path.split_once('?').unwrap_or((rel_path, ""));
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // The resource type is the last known collection name in the path (the base may have segments).
        let Some(idx) = segs
            .iter()
            .rposition(|s| RESOURCE_TYPES.contains(s) || is_discovery(s))
        else {
            return Intent::Other;
        };
        if is_discovery(segs[idx]) {
            return Intent::Discovery;
        }
        let resource = segs[idx].to_string();
        let id = segs.get(idx + 1).map(|s| s.to_string());
        if segs.len() > idx + 2 {
            return Intent::Other;
        }
        match (method, id) {
            ("POST", None) => Intent::Create { resource },
            ("POST", Some(id)) if id == ".search" => Intent::List {
                resource,
                start_index: None,
                count: None,
            },
            ("GET", None) => Intent::List {
                resource,
                start_index: query_param(query, "startIndex").and_then(|v| v.parse().ok()),
                count: query_param(query, "count").and_then(|v| v.parse().ok()),
            },
            ("GET", Some(id)) => Intent::Read { resource, id },
            ("PUT", Some(id)) => Intent::Replace { resource, id },
            ("PATCH", Some(id)) => Intent::Patch { resource, id },
            ("DELETE", Some(id)) => Intent::Delete { resource, id },
            _ => Intent::Other,
        }
    }
}

fn is_discovery(s: &str) -> bool {
    matches!(
        s,
        "ServiceProviderConfig" | "ServiceProviderConfigs" | "Schemas" | "ResourceTypes"
    )
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Runs every built-in rule on one exchange.
pub fn check_exchange(exchange: &Exchange, intent: &Intent) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(err) = &exchange.error {
        let (rule, impact) = match err.kind {
            TransportErrorKind::Timeout => (
                "transport.timeout",
                "Okta gives up after 60 seconds and marks the task failed; Entra logs a Timeout and retries in 40 minutes.",
            ),
            TransportErrorKind::Connect => ("transport.connect", "The IdP cannot reach the endpoint; Entra quarantines the job."),
            TransportErrorKind::Reset => ("transport.reset", "The IdP sees a failed request and retries later."),
            TransportErrorKind::Decode => (
                "transport.content-encoding",
                "The IdP cannot read the answer; Entra reports SystemForCrossDomainIdentityManagementServiceIncompatible.",
            ),
            TransportErrorKind::Request => ("transport.request", "idpsim could not build this request."),
            TransportErrorKind::Protocol => (
                "transport.protocol",
                "The IdP's HTTP client rejects an answer that is not valid HTTP; the request fails and is retried later.",
            ),
            TransportErrorKind::Truncated => (
                "transport.truncated",
                "The IdP cannot read an incomplete answer; the request fails and is retried later.",
            ),
        };
        out.push(Finding::error(rule, err.message.clone()).impact(impact));
        if exchange.response.is_none() {
            return out;
        }
    }
    let Some(resp) = &exchange.response else {
        return out;
    };
    if resp.truncated {
        let limit = crate::transport::BODY_LIMIT >> 20;
        // Cut after inflating, unless the compressed bytes alone already reached the limit.
        let inflated = resp
            .content_encoding
            .as_ref()
            .filter(|_| resp.size < crate::transport::BODY_LIMIT);
        let message = match inflated {
            Some(enc) => format!(
                "the {enc} body inflates to more than {limit} MiB ({} bytes on the wire) and was cut there: a decompression bomb or a runaway answer",
                resp.size
            ),
            None => format!("the response body exceeds {limit} MiB and was cut"),
        };
        out.push(
            Finding::error("transport.body-too-large", message)
                .impact("IdPs read whole bodies; an answer this large times out or exhausts them."),
        );
    }
    status_code(resp, &mut out);
    media_type(resp, &mut out);
    if resp.status >= 400 {
        error_body(resp, &mut out);
        return out;
    }
    if resp.status >= 300 {
        let target = resp.header("location").map(str::trim).unwrap_or("");
        let whither = if target.is_empty() {
            "a redirect without a Location".to_string()
        } else if !exchange.request.target.is_empty() && target.ends_with(&exchange.request.target)
        {
            format!("a redirect to {target}, the very URL asked: a redirect loop")
        } else {
            format!("a redirect to {target}")
        };
        out.push(
            Finding::error(
                "http.redirect",
                format!(
                    "answered {} ({whither}) instead of handling the request; idpsim does not follow redirects",
                    resp.status
                ),
            )
            .impact("IdP provisioning clients do not follow redirects; the operation fails.")
            .reference("RFC 7644 §3.2"),
        );
        return out;
    }
    match intent {
        Intent::Create { resource } => create(resp, resource, &mut out),
        Intent::Read { id, .. } => {
            resource_body(resp, "a read", &mut out);
            if let Some(body_id) = resp
                .body
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
            {
                if body_id != id {
                    out.push(
                        Finding::error(
                            "rfc7644.read.id-mismatch",
                            "the resource returned is not the one asked for",
                        )
                        .diff(DiffEntry::new(
                            "/id",
                            show(&Value::String(id.clone())),
                            show(&Value::String(body_id.into())),
                        ))
                        .reference("RFC 7644 §3.4.1")
                        .impact("The IdP links the wrong record or rejects the answer."),
                    );
                }
            }
        }
        Intent::List {
            start_index, count, ..
        } => list(resp, *start_index, *count, &mut out),
        Intent::Replace { .. } => {
            if resp.status != 200 {
                out.push(
                    Finding::warning(
                        "rfc7644.replace.status",
                        format!(
                            "a successful PUT answers 200 with the resource; got {}",
                            resp.status
                        ),
                    )
                    .reference("RFC 7644 §3.5.1"),
                );
            }
            resource_body(resp, "a PUT", &mut out);
        }
        Intent::Patch { .. } => {
            if resp.status == 200 && !resp.has_body() {
                out.push(
                    Finding::warning("rfc7644.patch.empty-200", "answered 200 with no body; a PATCH answers 200 with the resource or 204 No Content")
                        .reference("RFC 7644 §3.5.2"),
                );
            } else if resp.status != 200 && resp.status != 204 {
                out.push(
                    Finding::warning(
                        "rfc7644.patch.status",
                        format!("a successful PATCH answers 200 or 204; got {}", resp.status),
                    )
                    .reference("RFC 7644 §3.5.2"),
                );
            }
        }
        Intent::Delete { .. } => {
            if resp.status != 204 {
                out.push(
                    Finding::warning(
                        "rfc7644.delete.status",
                        format!(
                            "a successful DELETE answers 204 No Content; got {}",
                            resp.status
                        ),
                    )
                    .reference("RFC 7644 §3.6"),
                );
            }
        }
        Intent::Discovery | Intent::Other => {}
    }
    out
}

/// The IANA HTTP Status Code Registry's assigned codes (104 and 306 are unused or reserved).
const REGISTERED_STATUS: &[u16] = &[
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
    305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
    416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
    506, 507, 508, 510, 511,
];

/// A status outside HTTP's range, or one no registry knows, says nothing an IdP can act on.
fn status_code(resp: &RecordedResponse, out: &mut Vec<Finding>) {
    let status = resp.status;
    if !(100..=599).contains(&status) {
        out.push(
            Finding::error(
                "http.status.unknown",
                format!("answered status {status}, outside HTTP's range of 100 to 599"),
            )
            .reference("RFC 9110 §15")
            .impact("The IdP's HTTP client treats the answer as a failure or rejects it outright."),
        );
    } else if !REGISTERED_STATUS.contains(&status) {
        out.push(
            Finding::warning(
                "http.status.unknown",
                format!("answered status {status}, which is not a registered HTTP status code"),
            )
            .reference("RFC 9110 §15")
            .impact(
                "The IdP can only go by the class (the first digit) and cannot tell what happened.",
            ),
        );
    }
}

/// Why an answer carries no JSON, as a clause for findings: the body is empty, an HTML page, not
/// valid UTF-8, nested too deeply, cut short, …
fn not_json(resp: &RecordedResponse) -> String {
    if !resp.has_body() {
        return format!("the body is empty ({} with no body)", resp.status);
    }
    if let Some(why) = &resp.json_error {
        return why.clone();
    }
    match &resp.text {
        Some(t) if t.trim_start().starts_with('<') => "the body is an HTML page".into(),
        _ => "the body is not JSON".into(),
    }
}

/// RFC 7644 §3.8: SCIM answers are `application/scim+json`.
fn media_type(resp: &RecordedResponse, out: &mut Vec<Finding>) {
    if !resp.has_body() {
        return;
    }
    let ct = resp.content_type().unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/scim+json" {
        return;
    }
    let f = if essence == "application/json" {
        Finding::warning("rfc7644.response.media-type", "the answer is `application/json`, not `application/scim+json`")
            .impact("Okta accepts it; Entra's SCIM Validator aborts, and Entra expects application/scim+json on every response.")
    } else if ct.is_empty() {
        Finding::warning(
            "rfc7644.response.media-type",
            "the answer has a body but no Content-Type",
        )
    } else {
        Finding::warning(
            "rfc7644.response.media-type",
            format!("the answer is `{ct}`, not `application/scim+json`"),
        )
    };
    out.push(f.reference("RFC 7644 §3.8").diff(DiffEntry::new(
        "header:Content-Type",
        "application/scim+json",
        if ct.is_empty() { "absent" } else { ct },
    )));
}

/// RFC 7644 §3.12: errors are JSON with the Error schema and `status` as a string.
fn error_body(resp: &RecordedResponse, out: &mut Vec<Finding>) {
    let Some(body) = &resp.body else {
        let what = not_json(resp);
        out.push(
            Finding::error("rfc7644.error.json", format!("the {} error answer is not a SCIM error object: {what}", resp.status))
                .reference("RFC 7644 §3.12")
                .impact("Okta parses errors as JSON and shows the admin a parser error instead of the reason; Entra logs SystemForCrossDomainIdentityManagementServiceIncompatible."),
        );
        return;
    };
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(ERROR_URN)));
    if !schemas_ok {
        out.push(
            Finding::warning(
                "rfc7644.error.schema",
                "the error object does not list the Error schema",
            )
            .diff(DiffEntry::new(
                "/schemas",
                format!("[\"{ERROR_URN}\"]"),
                body.get("schemas")
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
            ))
            .reference("RFC 7644 §3.12"),
        );
    }
    match body.get("status") {
        Some(Value::String(s)) if s == &resp.status.to_string() => {}
        Some(Value::String(s)) => out.push(
            Finding::warning(
                "rfc7644.error.status-mismatch",
                format!(
                    "the error says status {s} but the HTTP status is {}",
                    resp.status
                ),
            )
            .reference("RFC 7644 §3.12"),
        ),
        Some(Value::Number(n)) => out.push(
            Finding::warning(
                "rfc7644.error.status-string",
                "the error's `status` is a JSON number; RFC 7644 makes it a string",
            )
            .diff(DiffEntry::new(
                "/status",
                format!("\"{}\"", resp.status),
                n.to_string(),
            ))
            .reference("RFC 7644 §3.12")
            .impact("Okta and Entra read either form."),
        ),
        other => out.push(
            Finding::warning(
                "rfc7644.error.status-missing",
                "the error object has no `status`",
            )
            .diff(DiffEntry::new(
                "/status",
                format!("\"{}\"", resp.status),
                other.map(show).unwrap_or_else(|| "absent".into()),
            ))
            .reference("RFC 7644 §3.12"),
        ),
    }
}

fn create(resp: &RecordedResponse, resource: &str, out: &mut Vec<Finding>) {
    if resp.status != 201 {
        out.push(
            Finding::error(
                "rfc7644.create.status",
                format!("a create answers 201 Created; got {}", resp.status),
            )
            .diff(DiffEntry::new("status", "201", resp.status.to_string()))
            .reference("RFC 7644 §3.3"),
        );
    }
    let Some(body) = &resp.body else {
        out.push(
            Finding::error(
                "rfc7644.create.body",
                format!("the create answer has no resource: {}", not_json(resp)),
            )
            .reference("RFC 7644 §3.3")
            .impact("Okta fails the assignment: \"Create new user returned empty user\"."),
        );
        return;
    };
    if body
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let message = match body.get("id") {
            None | Some(Value::Null) => "the created resource has no `id`".to_string(),
            Some(Value::String(_)) => "the created resource's `id` is empty".to_string(),
            Some(other) => format!(
                "the created resource's `id` is {}, not a string",
                show(other)
            ),
        };
        out.push(
            Finding::error("rfc7644.create.id", message)
                .diff(DiffEntry::new("/id", "a server-assigned id", body.get("id").map(show).unwrap_or_else(|| "absent".into())))
                .reference("RFC 7643 §3.1, RFC 7644 §3.3")
                .impact("The IdP cannot link the account: every later update, deactivation and group push fails."),
        );
    }
    if resp.header("location").is_none() {
        out.push(
            Finding::warning(
                "rfc7644.create.location",
                "the create answer has no Location header",
            )
            .reference("RFC 7644 §3.3")
            .impact("Okta and Entra read the id from the body and do not need it."),
        );
    }
    meta(body, resource, out);
}

fn resource_body(resp: &RecordedResponse, what: &str, out: &mut Vec<Finding>) {
    match &resp.body {
        Some(body) if body.is_object() => {
            if body.get("id").and_then(Value::as_str).is_none() {
                out.push(
                    Finding::error("rfc7643.resource.id", format!("the resource returned by {what} has no `id`"))
                        .reference("RFC 7643 §3.1"),
                );
            }
            if body.get("schemas").and_then(Value::as_array).is_none() {
                out.push(
                    Finding::warning("rfc7643.resource.schemas", format!("the resource returned by {what} has no `schemas`"))
                        .reference("RFC 7643 §3"),
                );
            }
        }
        Some(other) => out.push(
            Finding::error("rfc7644.response.resource", format!("{what} answered {} instead of a resource object", show(other)))
                .reference("RFC 7644 §3.4.1"),
        ),
        None if resp.has_body() => out.push(
            Finding::error("rfc7644.response.json", format!("{what} answered without a resource: {}", not_json(resp)))
                .reference("RFC 7644 §3.8")
                .impact("The IdP cannot parse the answer; Entra logs SystemForCrossDomainIdentityManagementServiceIncompatible."),
        ),
        None => out.push(
            Finding::error("rfc7644.response.empty", format!("{what} answered with an empty body"))
                .reference("RFC 7644 §3.4.1"),
        ),
    }
}

fn meta(body: &Value, resource: &str, out: &mut Vec<Finding>) {
    let expected_type = match resource {
        "Users" => "User",
        "Groups" => "Group",
        _ => return,
    };
    match body.get("meta").and_then(|m| m.get("resourceType")) {
        Some(Value::String(t)) if t == expected_type => {}
        other => out.push(
            Finding::warning(
                "rfc7643.meta.resource-type",
                "the resource's `meta.resourceType` is missing or wrong",
            )
            .diff(DiffEntry::new(
                "/meta/resourceType",
                format!("\"{expected_type}\""),
                other.map(show).unwrap_or_else(|| "absent".into()),
            ))
            .reference("RFC 7643 §3.1"),
        ),
    }
}

/// RFC 7644 §3.4.2 and §3.4.2.4: ListResponse shape and pagination counters.
fn list(
    resp: &RecordedResponse,
    start_index: Option<i64>,
    count: Option<i64>,
    out: &mut Vec<Finding>,
) {
    let Some(body) = &resp.body else {
        out.push(
            Finding::error("rfc7644.list.json", format!("the query answer is not a JSON ListResponse: {}", not_json(resp)))
                .reference("RFC 7644 §3.4.2")
                .impact("The IdP cannot read the result: Okta's import and lookups fail; Entra quarantines the job."),
        );
        return;
    };
    let has_schema = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(LIST_URN)));
    if !has_schema {
        out.push(
            Finding::error(
                "rfc7644.list.schema",
                "the query answer does not carry the ListResponse schema",
            )
            .diff(DiffEntry::new(
                "/schemas",
                format!("[\"{LIST_URN}\"]"),
                body.get("schemas")
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
            ))
            .reference("RFC 7644 §3.4.2"),
        );
    }
    let total = counter(body, "totalResults", true, out);
    counter(body, "startIndex", false, out);
    let items_per_page = counter(body, "itemsPerPage", false, out);
    let resources = body.get("Resources");
    let len = match resources {
        Some(Value::Array(a)) => Some(a.len() as i64),
        Some(other) => {
            out.push(
                Finding::error(
                    "rfc7644.list.resources-array",
                    "`Resources` is not an array",
                )
                .diff(DiffEntry::new("/Resources", "an array", show(other)))
                .reference("RFC 7644 §3.4.2")
                .impact("Okta and Entra cannot iterate the result; the lookup or import fails."),
            );
            None
        }
        None => {
            let empty = total == Some(0) || count == Some(0);
            let mut f = Finding::new(
                "rfc7644.list.resources-present",
                if empty {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                if empty {
                    "`Resources` is absent from an empty result"
                } else {
                    "`Resources` is absent although totalResults is not zero"
                },
            )
            .diff(DiffEntry::new("/Resources", "[]", "absent"))
            .reference("RFC 7644 §3.4.2");
            f = f.impact(if empty {
                "RFC 7644 allows it when nothing matched, but Okta's and Entra's documented answer is `\"Resources\": []`; strict clients fail the lookup."
            } else {
                "The IdP finds nothing: Okta creates a duplicate or fails the assignment; Entra cannot match the user."
            });
            out.push(f);
            Some(0)
        }
    };
    if let (Some(len), Some(total)) = (len, total) {
        if len > total {
            out.push(
                Finding::error(
                    "rfc7644.list.total-results",
                    format!("totalResults is {total} but {len} resources were returned"),
                )
                .diff(DiffEntry::new(
                    "/totalResults",
                    format!("at least {len}"),
                    total.to_string(),
                ))
                .reference("RFC 7644 §3.4.2"),
            );
        }
    }
    if let (Some(len), Some(count)) = (len, count) {
        if count >= 0 && len > count {
            out.push(
                Finding::error(
                    "rfc7644.list.count",
                    format!("asked for at most {count} resources, got {len}"),
                )
                .diff(DiffEntry::new(
                    "/Resources",
                    format!("at most {count} element(s)"),
                    format!("{len} element(s)"),
                ))
                .reference("RFC 7644 §3.4.2.4"),
            );
        }
    }
    if let (Some(len), Some(ipp)) = (len, items_per_page) {
        if len != ipp && resources.is_some() {
            out.push(
                Finding::warning(
                    "rfc7644.list.items-per-page",
                    format!("itemsPerPage is {ipp} but the page holds {len} resources"),
                )
                .diff(DiffEntry::new(
                    "/itemsPerPage",
                    len.to_string(),
                    ipp.to_string(),
                ))
                .reference("RFC 7644 §3.4.2.4")
                .impact("Okta's OIN review rejects it; paginating clients can stop early or loop."),
            );
        }
    }
    if let (Some(asked), Some(Value::Number(got))) = (start_index, body.get("startIndex")) {
        let asked = asked.max(1);
        if got.as_i64() != Some(asked) {
            out.push(
                Finding::warning(
                    "rfc7644.list.start-index",
                    format!("asked for startIndex {asked}, the answer says {got}"),
                )
                .diff(DiffEntry::new(
                    "/startIndex",
                    asked.to_string(),
                    got.to_string(),
                ))
                .reference("RFC 7644 §3.4.2.4"),
            );
        }
    }
}

/// Reads an integer counter; flags strings, floats and (for required ones) absence.
fn counter(body: &Value, name: &str, required: bool, out: &mut Vec<Finding>) -> Option<i64> {
    match body.get(name) {
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            out.push(
                Finding::error(
                    "rfc7644.list.integer-counters",
                    format!("`{name}` must be an integer, found {}", show(other)),
                )
                .diff(DiffEntry::new(
                    format!("/{name}"),
                    "an integer",
                    show(other),
                ))
                .reference("RFC 7644 §3.4.2")
                .impact("Okta aborts the import or sync silently when a counter is a string."),
            );
            other.as_str().and_then(|s| s.parse().ok())
        }
        None if required => {
            out.push(
                Finding::error(
                    "rfc7644.list.integer-counters",
                    format!("`{name}` is missing"),
                )
                .diff(DiffEntry::new(format!("/{name}"), "an integer", "absent"))
                .reference("RFC 7644 §3.4.2"),
            );
            None
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_intents() {
        assert_eq!(
            Intent::infer("POST", "/Users"),
            Intent::Create {
                resource: "Users".into()
            }
        );
        assert_eq!(
            Intent::infer("GET", "/scim/v2/Users/42"),
            Intent::Read {
                resource: "Users".into(),
                id: "42".into()
            }
        );
        assert_eq!(
            Intent::infer("GET", "/Users?startIndex=1&count=2"),
            Intent::List {
                resource: "Users".into(),
                start_index: Some(1),
                count: Some(2)
            }
        );
        assert_eq!(
            Intent::infer("PATCH", "/Groups/g1"),
            Intent::Patch {
                resource: "Groups".into(),
                id: "g1".into()
            }
        );
        assert_eq!(
            Intent::infer("GET", "/ServiceProviderConfig"),
            Intent::Discovery
        );
        assert_eq!(Intent::infer("GET", "/Me"), Intent::Other);
    }

    #[test]
    fn unknown_status_codes_are_findings() {
        let finding = |status| {
            let mut out = Vec::new();
            status_code(
                &RecordedResponse {
                    status,
                    headers: Vec::new(),
                    body: None,
                    text: None,
                    size: 0,
                    elapsed_ms: 0,
                    truncated: false,
                    content_encoding: None,
                    json_error: None,
                },
                &mut out,
            );
            out.first().map(|f| (f.severity, f.message.clone()))
        };
        assert_eq!(finding(201), None);
        assert_eq!(finding(429), None);
        assert!(matches!(finding(599), Some((Severity::Warning, m)) if m.contains("status 599")));
        assert!(matches!(finding(799), Some((Severity::Error, m)) if m.contains("status 799")));
    }
}
