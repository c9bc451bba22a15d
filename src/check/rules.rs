//! Rules built into every exchange: what a careful reader of RFC 7643/7644 expects of an answer,
//! and what every IdP needs of it, whatever the scenario says. Each rule's id, severity per IdP,
//! consequence and sources are in `catalogue`; here is only when it fires and what it saw.
//!
//! The rules look at the request's *intent* (create, read, list, …), derived from the method and
//! path, so that a raw scenario step and an IdP action are judged the same way. Where an answer
//! has a root cause (credentials refused, a header refused, a filter that matches nothing
//! answered 404, a deactivated user gone), that one finding is the exchange's only one: the
//! body-shape rules would only repeat it.
//!
//! A finding's diff pointers say which part of the answer it judges; an expectation of the
//! scenario at the same pointer adds nothing and folds into it (see `run`).

use serde_json::Value;

use super::history::{resource_key, History};
use super::show;
use crate::outcome::{DiffEntry, Finding};
use crate::scenario::Idp;
use crate::scim::schema::{ERROR_URN as ERROR_SCHEMA, LIST_URN as LIST_RESPONSE};
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

/// What the rules need beyond the exchange: whose judgement it is, and what came before.
#[derive(Clone, Copy)]
pub struct Judging<'a> {
    pub idp: Idp,
    /// The request carried the run's own credentials (not a step's own `Authorization` header,
    /// not `auth: none`): a 401 or 403 then means the server refuses what it was configured with.
    pub run_credentials: bool,
    pub history: &'a History,
}

impl Judging<'static> {
    /// No history, the run's credentials: how a lone exchange is judged (tests, fuzzing).
    pub fn alone(idp: Idp) -> Self {
        static EMPTY: std::sync::OnceLock<History> = std::sync::OnceLock::new();
        Judging {
            idp,
            run_credentials: true,
            history: EMPTY.get_or_init(History::default),
        }
    }
}

/// The query parameters the rules read, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub filter: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl Query {
    pub fn parse(target: &str) -> Query {
        let Some((_, query)) = target.split_once('?') else {
            return Query::default();
        };
        let mut q = Query::default();
        for kv in query.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let decoded = percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            if k.eq_ignore_ascii_case("filter") {
                q.filter = Some(decoded);
            } else if k.eq_ignore_ascii_case("excludedAttributes") {
                q.excluded_attributes = Some(decoded);
            }
        }
        q
    }

    fn excludes(&self, attr: &str) -> bool {
        self.excluded_attributes
            .as_deref()
            .is_some_and(|list| list.split(',').any(|a| a.trim().eq_ignore_ascii_case(attr)))
    }
}

/// Runs every built-in rule on one exchange.
pub fn check_exchange(exchange: &Exchange, intent: &Intent, judging: &Judging<'_>) -> Vec<Finding> {
    let idp = judging.idp;
    let mut out = Vec::new();
    if let Some(err) = &exchange.error {
        let rule = match err.kind {
            TransportErrorKind::Timeout => "transport.timeout",
            TransportErrorKind::Connect => "transport.connect",
            TransportErrorKind::Reset => "transport.reset",
            TransportErrorKind::Decode => "transport.content-encoding",
            TransportErrorKind::Request => "transport.request",
            TransportErrorKind::Protocol => "transport.protocol",
            TransportErrorKind::Truncated => "transport.truncated",
        };
        out.push(Finding::judged(rule, idp, err.message.clone()));
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
        out.push(Finding::judged("transport.body-too-large", idp, message));
    }
    status_code(resp, idp, &mut out);
    let query = Query::parse(&exchange.request.target);
    if root_cause(exchange, resp, intent, &query, judging, &mut out) {
        return out;
    }
    media_type(resp, idp, &mut out);
    if resp.status >= 400 {
        error_body(resp, intent, idp, &mut out);
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
            Finding::judged(
                "http.redirect",
                idp,
                format!(
                    "answered {} ({whither}) instead of handling the request; idpsim does not follow redirects",
                    resp.status
                ),
            )
            .diff(DiffEntry::new("status", "2xx", resp.status.to_string())),
        );
        return out;
    }
    match intent {
        Intent::Create { resource } => create(resp, resource, idp, &mut out),
        Intent::Read { id, resource } => {
            resource_body(resp, "a read", idp, &mut out);
            if let Some(body_id) = resp
                .body
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
            {
                if body_id != id {
                    out.push(
                        Finding::judged(
                            "rfc7644.read.id-mismatch",
                            idp,
                            "the resource returned is not the one asked for",
                        )
                        .diff(DiffEntry::new(
                            "/id",
                            show(&Value::String(id.clone())),
                            show(&Value::String(body_id.into())),
                        )),
                    );
                }
            }
            if let Some(body) = resp.body.as_ref().filter(|b| b.is_object()) {
                excluded_members(resource, &query, body, "", idp, &mut out);
                returned(
                    resp,
                    resource,
                    &[(String::new(), body)],
                    Returned::One,
                    idp,
                    &mut out,
                );
            }
        }
        Intent::List {
            start_index,
            count,
            resource,
        } => list(
            resp,
            resource,
            &query,
            (*start_index, *count),
            judging,
            &mut out,
        ),
        Intent::Replace { resource, .. } => {
            if resp.status != 200 {
                out.push(
                    Finding::judged(
                        "rfc7644.replace.status",
                        idp,
                        format!(
                            "a successful PUT answers 200 with the resource; got {}",
                            resp.status
                        ),
                    )
                    .diff(DiffEntry::new(
                        "status",
                        "200",
                        resp.status.to_string(),
                    )),
                );
            }
            match &resp.body {
                Some(body) if body.is_object() => {
                    updated(resp, resource, body, "the PUT", idp, &mut out)
                }
                Some(other) => out.push(Finding::judged(
                    "rfc7644.replace.body",
                    idp,
                    format!("the PUT answered {} instead of the resource", show(other)),
                )),
                None if resp.status == 200 => out.push(Finding::judged(
                    "rfc7644.replace.body",
                    idp,
                    format!("the PUT answered without the resource: {}", not_json(resp)),
                )),
                None => {}
            }
        }
        Intent::Patch { resource, .. } => {
            if let Some(body) = resp.body.as_ref().filter(|b| b.is_object()) {
                updated(resp, resource, body, "the PATCH", idp, &mut out);
            }
            if resp.status == 200 && !resp.has_body() {
                out.push(Finding::judged(
                    "rfc7644.patch.empty-200",
                    idp,
                    "answered 200 with no body; a PATCH answers 200 with the resource or 204 No Content",
                ));
            } else if resp.status != 200 && resp.status != 204 {
                out.push(
                    Finding::judged(
                        "rfc7644.patch.status",
                        idp,
                        format!("a successful PATCH answers 200 or 204; got {}", resp.status),
                    )
                    .diff(DiffEntry::new(
                        "status",
                        "200 or 204",
                        resp.status.to_string(),
                    )),
                );
            }
        }
        Intent::Delete { .. } => {
            if resp.status != 204 {
                out.push(
                    Finding::judged(
                        "rfc7644.delete.status",
                        idp,
                        format!(
                            "a successful DELETE answers 204 No Content; got {}",
                            resp.status
                        ),
                    )
                    .diff(DiffEntry::new(
                        "status",
                        "204",
                        resp.status.to_string(),
                    )),
                );
            }
        }
        Intent::Discovery | Intent::Other => {}
    }
    out
}

/// Answers whose cause is plain from the request and the run so far. Returns true when one was
/// reported: it is then the exchange's only finding.
fn root_cause(
    exchange: &Exchange,
    resp: &RecordedResponse,
    intent: &Intent,
    query: &Query,
    judging: &Judging<'_>,
    out: &mut Vec<Finding>,
) -> bool {
    let idp = judging.idp;
    let status_diff = |expected: &str| DiffEntry::new("status", expected, resp.status.to_string());
    let header = |name: &str| {
        exchange
            .request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let finding = match resp.status {
        // A 401 to the run's credentials is the auth path's (`auth.refused`, with what the IdP
        // does next, check/auth.rs): nothing else about this answer matters.
        401 if judging.run_credentials => return true,
        403 if judging.run_credentials => Some(
            Finding::judged(
                "http.auth.rejected",
                idp,
                format!(
                    "answered {} to a request carrying the run's credentials: the server refuses them{}",
                    resp.status,
                    detail(resp)
                ),
            )
            .diff(status_diff("2xx")),
        ),
        406 => Some(match header("accept") {
            None => Finding::judged(
                "http.accept.required",
                idp,
                format!(
                    "answered 406 to a request without an Accept header (as Entra sends them){}",
                    detail(resp)
                ),
            ),
            Some(accept) => Finding::judged(
                "http.accept.rejected",
                idp,
                format!("answered 406 to `Accept: {accept}`{}", detail(resp)),
            ),
        }
        .diff(status_diff("2xx"))),
        415 => Some(
            Finding::judged(
                "http.content-type.rejected",
                idp,
                format!(
                    "answered 415 to `Content-Type: {}`{}",
                    header("content-type").unwrap_or("(none)"),
                    detail(resp)
                ),
            )
            .diff(status_diff("2xx")),
        ),
        404 => {
            let deactivated = resource_key(intent)
                .filter(|k| judging.history.was_deactivated(k))
                .map(|key| {
                    Finding::judged(
                        "scim.deactivate.deletes",
                        idp,
                        format!(
                            "{key} answered 404 after this run deactivated it (active: false) and never deleted it: the deactivation deleted the user"
                        ),
                    )
                    .diff(DiffEntry::new("status", "200 (the user, active: false)", "404"))
                });
            let no_match = match (intent, &query.filter) {
                (Intent::List { .. }, Some(filter)) => Some(
                    Finding::judged(
                        "rfc7644.filter.no-match-404",
                        idp,
                        format!(
                            "the query `filter={filter}` answered 404 instead of 200 with an empty ListResponse{}",
                            detail(resp)
                        ),
                    )
                    .diff(status_diff("200 with totalResults 0")),
                ),
                _ => None,
            };
            deactivated.or(no_match)
        }
        _ => None,
    };
    match finding {
        Some(f) => {
            out.push(f);
            true
        }
        None => false,
    }
}

/// `: detail` from a SCIM error body, for messages.
fn detail(resp: &RecordedResponse) -> String {
    resp.scim_detail()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

/// The IANA HTTP Status Code Registry's assigned codes (104 and 306 are unused or reserved).
const REGISTERED_STATUS: &[u16] = &[
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
    305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
    416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
    506, 507, 508, 510, 511,
];

/// A status outside HTTP's range, or one no registry knows, says nothing an IdP can act on.
fn status_code(resp: &RecordedResponse, idp: Idp, out: &mut Vec<Finding>) {
    let status = resp.status;
    if !(100..=599).contains(&status) {
        out.push(Finding::judged(
            "http.status.invalid",
            idp,
            format!("answered status {status}, outside HTTP's range of 100 to 599"),
        ));
    } else if !REGISTERED_STATUS.contains(&status) {
        out.push(Finding::judged(
            "http.status.unknown",
            idp,
            format!("answered status {status}, which is not a registered HTTP status code"),
        ));
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

/// The answer's Content-Type, for diffs.
fn content_type(resp: &RecordedResponse) -> &str {
    resp.content_type().unwrap_or("absent")
}

/// RFC 7644 §3.8: SCIM answers are `application/scim+json`. Judged on JSON answers only: an
/// answer that is not JSON at all is judged by the rule for what it should have been.
fn media_type(resp: &RecordedResponse, idp: Idp, out: &mut Vec<Finding>) {
    if resp.body.is_none() {
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
    let message = if ct.is_empty() {
        "the JSON answer has no Content-Type".to_string()
    } else {
        format!("the answer is `{ct}`, not `application/scim+json`")
    };
    out.push(
        Finding::judged("rfc7644.response.media-type", idp, message).diff(DiffEntry::new(
            "header:Content-Type",
            "application/scim+json",
            if ct.is_empty() { "absent" } else { ct },
        )),
    );
}

/// RFC 7644 §3.12: errors are JSON with the Error schema and `status` as a string.
fn error_body(resp: &RecordedResponse, intent: &Intent, idp: Idp, out: &mut Vec<Finding>) {
    let Some(body) = &resp.body else {
        let what = not_json(resp);
        out.push(
            Finding::judged(
                "rfc7644.error.json",
                idp,
                format!(
                    "the {} error answer is not a SCIM error object: {what}",
                    resp.status
                ),
            )
            .diff(DiffEntry::new("", "a SCIM Error object (JSON)", what))
            .diff(DiffEntry::new(
                "header:Content-Type",
                "application/scim+json",
                content_type(resp),
            )),
        );
        return;
    };
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(ERROR_SCHEMA)));
    if !schemas_ok {
        out.push(
            Finding::judged(
                "rfc7644.error.schema",
                idp,
                "the error object does not list the Error schema",
            )
            .diff(DiffEntry::new(
                "/schemas",
                format!("[\"{ERROR_SCHEMA}\"]"),
                body.get("schemas")
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
            )),
        );
    }
    match body.get("status") {
        Some(Value::String(s)) if s == &resp.status.to_string() => {}
        Some(Value::String(s)) => out.push(
            Finding::judged(
                "rfc7644.error.status-mismatch",
                idp,
                format!(
                    "the error says status {s} but the HTTP status is {}",
                    resp.status
                ),
            )
            .diff(DiffEntry::new(
                "/status",
                format!("\"{}\"", resp.status),
                format!("\"{s}\""),
            )),
        ),
        Some(Value::Number(n)) => out.push(
            Finding::judged(
                "rfc7644.error.status-string",
                idp,
                "the error's `status` is a JSON number; RFC 7644 makes it a string",
            )
            .diff(DiffEntry::new(
                "/status",
                format!("\"{}\"", resp.status),
                n.to_string(),
            )),
        ),
        other => out.push(
            Finding::judged(
                "rfc7644.error.status-missing",
                idp,
                "the error object has no `status`",
            )
            .diff(DiffEntry::new(
                "/status",
                format!("\"{}\"", resp.status),
                other.map(show).unwrap_or_else(|| "absent".into()),
            )),
        ),
    }
    scim_type(resp, body, intent, idp, out);
}

/// RFC 7644 Table 9's `scimType` keywords (§3.12), and the cursor-pagination draft's, which
/// extend that table.
const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
    "invalidCursor",
    "expiredCursor",
    "invalidCount",
];

/// RFC 7644 §3.3: a create that conflicts answers 409 with `scimType` "uniqueness"; §3.12: a
/// `scimType`, when given, is one of Table 9's keywords.
fn scim_type(
    resp: &RecordedResponse,
    body: &Value,
    intent: &Intent,
    idp: Idp,
    out: &mut Vec<Finding>,
) {
    let given = body.get("scimType");
    let shown = || given.map(show).unwrap_or_else(|| "absent".into());
    if resp.status == 409 && matches!(intent, Intent::Create { .. }) {
        if given.and_then(Value::as_str) != Some("uniqueness") {
            out.push(
                Finding::judged(
                    "rfc7644.error.scim-type",
                    idp,
                    format!(
                        "the create's 409 carries scimType {}; RFC 7644 §3.3 says a conflicting create answers 409 with scimType \"uniqueness\"",
                        shown()
                    ),
                )
                .diff(DiffEntry::new("/scimType", "\"uniqueness\"", shown())),
            );
        }
        return;
    }
    match given {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if SCIM_TYPES.contains(&t.as_str()) => {}
        Some(other) => out.push(
            Finding::judged(
                "rfc7644.error.scim-type",
                idp,
                format!(
                    "the error's scimType {} is not one of RFC 7644 §3.12's keywords (Table 9)",
                    show(other)
                ),
            )
            .diff(DiffEntry::new(
                "/scimType",
                "a keyword of RFC 7644 Table 9 (invalidFilter, uniqueness, invalidValue, …)",
                show(other),
            )),
        ),
    }
}

fn create(resp: &RecordedResponse, resource: &str, idp: Idp, out: &mut Vec<Finding>) {
    if resp.status != 201 {
        out.push(
            Finding::judged(
                "rfc7644.create.status",
                idp,
                format!("a create answers 201 Created; got {}", resp.status),
            )
            .diff(DiffEntry::new("status", "201", resp.status.to_string())),
        );
    }
    let Some(body) = resp.body.as_ref().filter(|b| b.is_object()) else {
        let what = match &resp.body {
            Some(other) => format!("it answered {}", show(other)),
            None => not_json(resp),
        };
        out.push(
            Finding::judged(
                "rfc7644.create.body",
                idp,
                format!("the create answer has no resource: {what}"),
            )
            .diff(DiffEntry::new("", "the created resource", what)),
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
            Finding::judged("rfc7644.create.id", idp, message).diff(DiffEntry::new(
                "/id",
                "a server-assigned id",
                body.get("id").map(show).unwrap_or_else(|| "absent".into()),
            )),
        );
    }
    if resp.header("location").is_none() {
        out.push(Finding::judged(
            "rfc7644.create.location",
            idp,
            "the create answer has no Location header",
        ));
    }
    returned(
        resp,
        resource,
        &[(String::new(), body)],
        Returned::Created,
        idp,
        out,
    );
}

/// A read's answer: a resource object with `id` and `schemas`.
fn resource_body(resp: &RecordedResponse, what: &str, idp: Idp, out: &mut Vec<Finding>) {
    match &resp.body {
        Some(body) if body.is_object() => {
            if body.get("id").and_then(Value::as_str).is_none() {
                out.push(
                    Finding::judged(
                        "rfc7643.resource.id",
                        idp,
                        format!("the resource returned by {what} has no `id`"),
                    )
                    .diff(DiffEntry::new("/id", "the resource's id", "absent")),
                );
            }
            if body.get("schemas").and_then(Value::as_array).is_none() {
                out.push(Finding::judged(
                    "rfc7643.resource.schemas",
                    idp,
                    format!("the resource returned by {what} has no `schemas`"),
                ));
            }
        }
        Some(other) => out.push(
            Finding::judged(
                "rfc7644.response.resource",
                idp,
                format!(
                    "{what} answered {} instead of a resource object",
                    show(other)
                ),
            )
            .diff(DiffEntry::new("", "a resource object", show(other))),
        ),
        None if resp.has_body() => out.push(
            Finding::judged(
                "rfc7644.response.json",
                idp,
                format!("{what} answered without a resource: {}", not_json(resp)),
            )
            .diff(DiffEntry::new("", "a resource object", not_json(resp))),
        ),
        None => out.push(
            Finding::judged(
                "rfc7644.response.empty",
                idp,
                format!("{what} answered with an empty body"),
            )
            .diff(DiffEntry::new("", "a resource object", "an empty body")),
        ),
    }
}

/// How an answer returned its resources: whether it describes a resource just created, and
/// which headers speak for the one resource.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Returned {
    /// A create's answer: `meta` due, the Location header names it, never modified yet.
    Created,
    /// A read, a PUT or a PATCH answer: ETag and Content-Location speak for it.
    One,
    /// Resources of a ListResponse: the headers speak for the list.
    Listed,
}

/// The resource of a PUT or PATCH answer: an `id`, and what every returned resource owes.
fn updated(
    resp: &RecordedResponse,
    resource: &str,
    body: &Value,
    what: &str,
    idp: Idp,
    out: &mut Vec<Finding>,
) {
    if body
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(
            Finding::judged(
                "rfc7643.resource.id",
                idp,
                format!("the resource returned by {what} has no `id` (RFC 7643 §3.1)"),
            )
            .diff(DiffEntry::new(
                "/id",
                "the resource's id",
                body.get("id").map(show).unwrap_or_else(|| "absent".into()),
            )),
        );
    }
    returned(
        resp,
        resource,
        &[(String::new(), body)],
        Returned::One,
        idp,
        out,
    );
}

/// What RFC 7643 asks of every resource an answer returns (`at` is its JSON pointer): no
/// `password` (§4.1.1, returned "never"), no value twice and one `primary` at most in a
/// multi-valued attribute (§2.4), and a `meta` that tells the truth (§3.1). One finding per
/// rule per exchange: the first resource that shows it.
fn returned(
    resp: &RecordedResponse,
    resource: &str,
    items: &[(String, &Value)],
    how: Returned,
    idp: Idp,
    out: &mut Vec<Finding>,
) {
    if let Some((at, key)) = items
        .iter()
        .find_map(|(at, r)| password_key(r).map(|k| (at, k)))
    {
        out.push(
            Finding::judged(
                "rfc7643.password.returned",
                idp,
                "the answer returns the user's `password`; RFC 7643 §4.1.1 makes it write-only (returned \"never\": neither the cleartext nor a hash may be returned)",
            )
            .diff(DiffEntry::new(
                format!("{at}/{}", super::pointer_token(&key)),
                "absent",
                "present (value not shown)",
            )),
        );
    }
    if let Some((at, attr, value)) = items
        .iter()
        .find_map(|(at, r)| duplicate_value(r).map(|(a, v)| (at, a, v)))
    {
        out.push(
            Finding::judged(
                "rfc7643.multi-valued.duplicate",
                idp,
                format!("`{attr}` lists {value} more than once (RFC 7643 §2.4)"),
            )
            .diff(DiffEntry::new(
                format!("{at}/{attr}"),
                "each value once",
                format!("{value} twice"),
            )),
        );
    }
    if let Some((at, attr, n)) = items
        .iter()
        .find_map(|(at, r)| many_primaries(r).map(|(a, n)| (at, a, n)))
    {
        out.push(
            Finding::judged(
                "rfc7643.multi-valued.primary",
                idp,
                format!(
                    "`{attr}` has {n} values with `primary: true`; RFC 7643 §2.4 allows at most one"
                ),
            )
            .diff(DiffEntry::new(
                format!("{at}/{attr}"),
                "at most one primary value",
                format!("{n} primary values"),
            )),
        );
    }
    let expected_type = match resource {
        "Users" => "User",
        "Groups" => "Group",
        _ => return,
    };
    for (at, r) in items {
        let meta = r.get("meta");
        let wrong_type = match meta.and_then(|m| m.get("resourceType")) {
            Some(Value::String(t)) => t != expected_type,
            // RFC 7643 §3.1 marks no part of `meta` required: a missing one is judged only on
            // a create's answer, as it always was (the created resource, described in full).
            None | Some(Value::Null) => how == Returned::Created,
            Some(_) => true,
        };
        if wrong_type {
            out.push(
                Finding::judged(
                    "rfc7643.meta.resource-type",
                    idp,
                    "the resource's `meta.resourceType` is missing or wrong (RFC 7643 §3.1)",
                )
                .diff(DiffEntry::new(
                    format!("{at}/meta/resourceType"),
                    format!("\"{expected_type}\""),
                    meta.and_then(|m| m.get("resourceType"))
                        .map(show)
                        .unwrap_or_else(|| "absent".into()),
                )),
            );
            break;
        }
    }
    if let Some(f) = items
        .iter()
        .find_map(|(at, r)| meta_dates(at, r.get("meta")?, how, idp))
    {
        out.push(f);
    }
    // The headers speak for one resource only.
    let [(at, one)] = items else {
        return;
    };
    let Some(meta) = one.get("meta") else {
        return;
    };
    if let Some(location) = meta.get("location").and_then(Value::as_str) {
        let header = match how {
            Returned::Created => resp.header("location").map(|h| ("Location", h)),
            _ => None,
        }
        .or_else(|| {
            resp.header("content-location")
                .map(|h| ("Content-Location", h))
        });
        if let Some((name, h)) = header {
            let h = h.trim();
            // A relative header names the same resource when the URI ends with it.
            let same = h == location || (h.starts_with('/') && location.ends_with(h));
            if !same {
                out.push(
                    Finding::judged(
                        "rfc7643.meta.location",
                        idp,
                        format!(
                            "`meta.location` is {location} but the {name} header says {h}; RFC 7643 §3.1 makes them the same URI"
                        ),
                    )
                    .diff(DiffEntry::new(
                        format!("{at}/meta/location"),
                        show(&Value::String(h.to_string())),
                        show(&Value::String(location.to_string())),
                    )),
                );
            }
        }
    }
    if let (Some(version), Some(etag)) = (
        meta.get("version").and_then(Value::as_str),
        resp.header("etag"),
    ) {
        if version != etag.trim() {
            out.push(
                Finding::judged(
                    "rfc7643.meta.version",
                    idp,
                    format!(
                        "`meta.version` is {version} but the ETag header is {etag}; RFC 7643 §3.1 makes them the same entity-tag"
                    ),
                )
                .diff(DiffEntry::new(
                    format!("{at}/meta/version"),
                    show(&Value::String(etag.trim().to_string())),
                    show(&Value::String(version.to_string())),
                )),
            );
        }
    }
}

/// The member holding a password: `password` (any case) at the top, or in the core User
/// schema's object.
fn password_key(r: &Value) -> Option<String> {
    let obj = r.as_object()?;
    let held = |o: &serde_json::Map<String, Value>| {
        o.iter()
            .find(|(k, v)| k.eq_ignore_ascii_case("password") && !v.is_null())
            .map(|(k, _)| k.clone())
    };
    held(obj).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(crate::scim::schema::USER_URN))
            .and_then(|(urn, v)| Some(format!("{urn}/{}", held(v.as_object()?)?)))
    })
}

/// The identity of a multi-valued attribute's element: its `value` (and `type`, except for a
/// group's members, where the value alone names the member), or the whole primitive.
fn element_key(attr: &str, v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            let value = o.get("value").filter(|v| !v.is_null())?;
            if attr.eq_ignore_ascii_case("members") {
                Some(show(value))
            } else {
                let kind = o.get("type").map(show).unwrap_or_default();
                Some(format!("{}{}", show(value), kind))
            }
        }
        Value::Null => None,
        other => Some(show(other)),
    }
}

/// The first multi-valued attribute of a resource that lists one value twice, with that value.
fn duplicate_value(r: &Value) -> Option<(String, String)> {
    for (attr, v) in r.as_object()? {
        let Value::Array(items) = v else { continue };
        let mut seen = std::collections::HashSet::new();
        for item in items {
            if let Some(key) = element_key(attr, item) {
                if !seen.insert(key) {
                    let value = item.get("value").unwrap_or(item);
                    return Some((attr.clone(), show(value)));
                }
            }
        }
    }
    None
}

/// The first multi-valued attribute with more than one `primary: true`, and how many it has.
fn many_primaries(r: &Value) -> Option<(String, usize)> {
    r.as_object()?.iter().find_map(|(attr, v)| {
        let n = v
            .as_array()?
            .iter()
            .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
            .count();
        (n > 1).then(|| (attr.clone(), n))
    })
}

/// `YYYY-MM-DDThh:mm:ss[.s+][Z|±hh:mm]`: the xsd:dateTime that RFC 7643 §2.3.5 names, with
/// ASCII digits. Read by hand: the regex it replaces was a third of a megabyte of a suite run's
/// heap (Unicode digit classes) for a check every answer with `meta` makes.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits_at = |at: usize| {
        b.get(at..)
            .map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let two = |at: usize, range: std::ops::RangeInclusive<u8>| {
        b.get(at..at + 2).is_some_and(|d| {
            d.iter().all(u8::is_ascii_digit)
                && range.contains(&((d[0] - b'0') * 10 + (d[1] - b'0')))
        })
    };
    let lit = |at: usize, c: u8| b.get(at) == Some(&c);
    let mut i = usize::from(lit(0, b'-'));
    let year = digits_at(i);
    if year < 4 {
        return false;
    }
    i += year;
    let date_and_time = lit(i, b'-')
        && two(i + 1, 1..=12)
        && lit(i + 3, b'-')
        && two(i + 4, 1..=31)
        && lit(i + 6, b'T')
        && two(i + 7, 0..=24)
        && lit(i + 9, b':')
        && two(i + 10, 0..=59)
        && lit(i + 12, b':')
        && two(i + 13, 0..=60);
    if !date_and_time {
        return false;
    }
    i += 15;
    if lit(i, b'.') {
        let fraction = digits_at(i + 1);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match b.get(i) {
        None => true,
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            two(i + 1, 0..=23) && lit(i + 3, b':') && two(i + 4, 0..=59) && i + 6 == b.len()
        }
        Some(_) => false,
    }
}

/// RFC 7643 §3.1: `created` and `lastModified` are DateTimes; `lastModified` is never before
/// `created`, and equals it while the resource was never modified (a create's answer). Times
/// are compared only in UTC (`Z`) with the same precision, where text order is time order.
fn meta_dates(at: &str, meta: &Value, how: Returned, idp: Idp) -> Option<Finding> {
    let field = |name: &str| meta.get(name).filter(|v| !v.is_null());
    for name in ["created", "lastModified"] {
        if let Some(v) = field(name) {
            if !v.as_str().is_some_and(is_date_time) {
                return Some(
                    Finding::judged(
                        "rfc7643.meta.dates",
                        idp,
                        format!(
                            "`meta.{name}` is {}, not a DateTime (RFC 7643 §2.3.5, §3.1)",
                            show(v)
                        ),
                    )
                    .diff(DiffEntry::new(
                        format!("{at}/meta/{name}"),
                        "an xsd:dateTime such as 2026-01-31T12:00:00Z",
                        show(v),
                    )),
                );
            }
        }
    }
    let created = field("created")?.as_str()?;
    let modified = field("lastModified")?.as_str()?;
    let comparable =
        created.ends_with('Z') && modified.ends_with('Z') && created.len() == modified.len();
    if !comparable {
        return None;
    }
    let message = if modified < created {
        format!("`meta.lastModified` ({modified}) is before `meta.created` ({created})")
    } else if how == Returned::Created && modified != created {
        format!(
            "the resource was just created, but `meta.lastModified` ({modified}) differs from `meta.created` ({created}); RFC 7643 §3.1 makes them equal until it is modified"
        )
    } else {
        return None;
    };
    Some(
        Finding::judged("rfc7643.meta.dates", idp, message).diff(DiffEntry::new(
            format!("{at}/meta/lastModified"),
            if how == Returned::Created {
                format!("\"{created}\"")
            } else {
                format!("{created} or later")
            },
            format!("\"{modified}\""),
        )),
    )
}

/// A lookup by userName (`userName eq "…"`, the query both IdPs match users with): where a
/// userName held twice is what the IdP sees. A list of everyone is not judged for it: on a
/// shared server it shows other runs' and other scenarios' users too.
fn filters_user_name(query: &Query) -> bool {
    use crate::scim::filter::{self, CompareOp, Filter};
    let Some(parsed) = query.filter.as_deref().and_then(|f| filter::parse(f).ok()) else {
        return false;
    };
    matches!(&parsed, Filter::Compare { path, op: CompareOp::Eq, .. }
        if path.urn.is_none() && path.sub.is_none() && path.attr.eq_ignore_ascii_case("userName"))
}

/// RFC 7643 §4.1.1 (userName is unique, `caseExact` false; §2.1): two users of one answer
/// whose userNames differ at most in case are one userName held twice. When this run's own
/// creates made both, the fault is the create the server should have refused, judged where it
/// was answered (`rfc7644.create.uniqueness`, or the lookup that missed and made the IdP
/// create again): one fault, one problem.
fn unique_user_names(items: &[(String, &Value)], judging: &Judging<'_>, out: &mut Vec<Finding>) {
    let idp = judging.idp;
    let ours = |id: &str| judging.history.created(&format!("/Users/{id}"));
    let mut seen: std::collections::HashMap<String, (&str, &str, &str)> =
        std::collections::HashMap::new();
    for (at, r) in items {
        let (Some(name), Some(id)) = (
            r.get("userName").and_then(Value::as_str),
            r.get("id").and_then(Value::as_str),
        ) else {
            continue;
        };
        match seen.get(&name.to_lowercase()) {
            Some((_, other_id, _)) if *other_id == id => {}
            Some((_, other_id, _)) if ours(other_id) && ours(id) => {}
            Some((other_at, other_id, other_name)) => {
                out.push(
                    Finding::judged(
                        "rfc7643.username.unique",
                        idp,
                        format!(
                            "two users hold one userName: {} (id {other_id}) and {} (id {id}); RFC 7643 §4.1.1 makes userName unique, regardless of case",
                            show(&Value::String(other_name.to_string())),
                            show(&Value::String(name.to_string())),
                        ),
                    )
                    .diff(DiffEntry::new(
                        format!("{at}/userName"),
                        format!("not the userName of {other_at}"),
                        show(&Value::String(name.to_string())),
                    )),
                );
                return;
            }
            None => {
                seen.insert(name.to_lowercase(), (at, id, name));
            }
        }
    }
}

/// `excludedAttributes=members` asked, members returned (RFC 7644 §3.4.2.5): `at` is the
/// pointer of the resource in the answer (`` for a read, `/Resources/0` in a list).
fn excluded_members(
    resource: &str,
    query: &Query,
    body: &Value,
    at: &str,
    idp: Idp,
    out: &mut Vec<Finding>,
) {
    if resource != "Groups" || !query.excludes("members") {
        return;
    }
    if body.get("members").is_some_and(|m| !m.is_null()) {
        out.push(
            Finding::judged(
                "rfc7644.query.excluded-attributes",
                idp,
                "the group came back with `members` although the request asked for excludedAttributes=members",
            )
            .diff(DiffEntry::new(format!("{at}/members"), "absent", "present")),
        );
    }
}

/// RFC 7644 §3.4.2 and §3.4.2.4: ListResponse shape, pagination counters, and that an `eq`
/// filter was applied.
fn list(
    resp: &RecordedResponse,
    resource: &str,
    query: &Query,
    (start_index, count): (Option<i64>, Option<i64>),
    judging: &Judging<'_>,
    out: &mut Vec<Finding>,
) {
    let idp = judging.idp;
    let Some(body) = resp.body.as_ref().filter(|b| b.is_object()) else {
        let what = match &resp.body {
            Some(other) => format!("it answered {}", show(other)),
            None => not_json(resp),
        };
        out.push(
            Finding::judged(
                "rfc7644.list.json",
                idp,
                format!("the query answer is not a JSON ListResponse: {what}"),
            )
            .diff(DiffEntry::new("", "a ListResponse object", what)),
        );
        return;
    };
    let has_schema = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(LIST_RESPONSE)));
    if !has_schema {
        out.push(
            Finding::judged(
                "rfc7644.list.schema",
                idp,
                "the query answer does not carry the ListResponse schema",
            )
            .diff(DiffEntry::new(
                "/schemas",
                format!("[\"{LIST_RESPONSE}\"]"),
                body.get("schemas")
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
            )),
        );
    }
    let counters = counters(body, idp, out);
    let (total, items_per_page) = (counters.total, counters.items_per_page);
    let resources = body.get("Resources");
    let len = match resources {
        Some(Value::Array(a)) => Some(a.len() as i64),
        Some(other) => {
            out.push(
                Finding::judged(
                    "rfc7644.list.resources-array",
                    idp,
                    if other.is_null() {
                        "`Resources` is null".to_string()
                    } else {
                        format!("`Resources` is {}, not an array", show(other))
                    },
                )
                .diff(DiffEntry::new("/Resources", "an array", show(other))),
            );
            None
        }
        // Nothing on this page: no match, `count=0`, or a page past the end.
        None if total == Some(0)
            || count == Some(0)
            || total.is_some_and(|t| start_index.unwrap_or(1) > t) =>
        {
            out.push(
                Finding::judged(
                    "rfc7644.list.resources-omitted",
                    idp,
                    "`Resources` is absent from an empty result",
                )
                .diff(DiffEntry::new("/Resources", "[]", "absent")),
            );
            Some(0)
        }
        None => {
            out.push(
                Finding::judged(
                    "rfc7644.list.resources-present",
                    idp,
                    "`Resources` is absent although totalResults is not zero",
                )
                .diff(DiffEntry::new(
                    "/Resources",
                    "the matching resources",
                    "absent",
                )),
            );
            Some(0)
        }
    };
    let items: &[Value] = resources
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let without_id: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.get("id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .map(|(i, _)| i)
        .collect();
    if !without_id.is_empty() {
        let mut f = Finding::judged(
            "rfc7644.list.resource-id",
            idp,
            format!(
                "{} of the {} resources returned have no `id`",
                without_id.len(),
                items.len()
            ),
        );
        for i in without_id.iter().take(3) {
            f = f.diff(DiffEntry::new(
                format!("/Resources/{i}/id"),
                "the resource's id",
                items[*i]
                    .get("id")
                    .map(show)
                    .unwrap_or_else(|| "absent".into()),
            ));
        }
        out.push(f);
    }
    if let Some(f) = filter_ignored(resource, query, items, total, idp) {
        out.push(f);
    }
    for (i, item) in items.iter().enumerate() {
        let before = out.len();
        excluded_members(resource, query, item, &format!("/Resources/{i}"), idp, out);
        if out.len() > before {
            break; // one finding per exchange: the first group that shows it
        }
    }
    let listed: Vec<(String, &Value)> = items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_object())
        .map(|(i, r)| (format!("/Resources/{i}"), r))
        .collect();
    returned(resp, resource, &listed, Returned::Listed, idp, out);
    if resource == "Users" && filters_user_name(query) {
        unique_user_names(&listed, judging, out);
    }
    if let (Some(len), Some(total)) = (len, total) {
        let missing: Vec<&str> = ["startIndex", "itemsPerPage"]
            .into_iter()
            .filter(|k| body.get(*k).is_none_or(Value::is_null))
            .collect();
        // Without a `Resources` array the page is judged by the Resources rules alone.
        let paged = resources.is_some_and(Value::is_array);
        if paged && len < total && !missing.is_empty() {
            let mut f = Finding::judged(
                "rfc7644.list.pagination-fields",
                idp,
                format!(
                    "the page holds {len} of {total} results but has no {}: RFC 7644 §3.4.2 requires both when results are partial",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            for k in missing {
                f = f.diff(DiffEntry::new(format!("/{k}"), "an integer", "absent"));
            }
            out.push(f);
        }
    }
    if let (Some(len), Some(total)) = (len, total) {
        if len > total {
            out.push(
                Finding::judged(
                    "rfc7644.list.total-results",
                    idp,
                    format!("totalResults is {total} but {len} resources were returned"),
                )
                .diff(DiffEntry::new(
                    "/totalResults",
                    format!("at least {len}"),
                    total.to_string(),
                )),
            );
        }
    }
    if let (Some(len), Some(count)) = (len, count) {
        if count >= 0 && len > count {
            out.push(
                Finding::judged(
                    "rfc7644.list.count",
                    idp,
                    format!("asked for at most {count} resources, got {len}"),
                )
                .diff(DiffEntry::new(
                    "/Resources",
                    format!("at most {count} element(s)"),
                    format!("{len} element(s)"),
                )),
            );
        }
    }
    if let (Some(len), Some(ipp)) = (len, items_per_page) {
        if len != ipp && resources.is_some() {
            out.push(
                Finding::judged(
                    "rfc7644.list.items-per-page",
                    idp,
                    format!("itemsPerPage is {ipp} but the page holds {len} resources"),
                )
                .diff(DiffEntry::new(
                    "/itemsPerPage",
                    len.to_string(),
                    ipp.to_string(),
                )),
            );
        }
    }
    if let (Some(asked), Some(Value::Number(got))) = (start_index, body.get("startIndex")) {
        let asked = asked.max(1);
        if got.as_i64() != Some(asked) {
            out.push(
                Finding::judged(
                    "rfc7644.list.start-index",
                    idp,
                    format!("asked for startIndex {asked}, the answer says {got}"),
                )
                .diff(DiffEntry::new(
                    "/startIndex",
                    asked.to_string(),
                    got.to_string(),
                )),
            );
        }
    }
}

/// A simple filter (`attr op "value"`, the form both IdPs send) whose results do not satisfy
/// it: the server ignored it. Resources that leave the attribute out (e.g. after `attributes=`)
/// are not judged.
fn filter_ignored(
    resource: &str,
    query: &Query,
    items: &[Value],
    total: Option<i64>,
    idp: Idp,
) -> Option<Finding> {
    use crate::scim::filter::{self, EvalOptions, Filter};
    use crate::scim::schema::ResourceKind;
    let text = query.filter.as_deref()?;
    let kind = match resource {
        "Users" => ResourceKind::User,
        "Groups" => ResourceKind::Group,
        _ => return None,
    };
    let parsed = filter::parse(text).ok()?;
    let Filter::Compare { path, .. } = &parsed else {
        return None;
    };
    if path.urn.is_some() || path.sub.is_some() {
        return None;
    }
    let wrong: Vec<(usize, &Value)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let got = filter::get_ci(r.as_object()?, &path.attr)?;
            (!parsed.matches(r, kind, EvalOptions::default())).then_some((i, got))
        })
        .collect();
    let (first, got) = wrong.first()?;
    let mut f = Finding::judged(
        "rfc7644.filter.ignored",
        idp,
        format!(
            "the query `filter={text}` returned {} resource(s) that do not match it, e.g. {} {}",
            wrong.len(),
            path.attr,
            show(got)
        ),
    )
    .diff(DiffEntry::new(
        "/Resources",
        format!("only resources matching `{text}`"),
        format!(
            "{} that do not match (first: /Resources/{first})",
            wrong.len()
        ),
    ));
    let matching = (items.len() - wrong.len()) as i64;
    if total.is_some_and(|t| t > matching) {
        f = f.diff(DiffEntry::new(
            "/totalResults",
            matching.to_string(),
            total.map(|t| t.to_string()).unwrap_or_default(),
        ));
    }
    Some(f)
}

/// The counters as read: `totalResults` (required) and `itemsPerPage`, when integers.
struct Counters {
    total: Option<i64>,
    items_per_page: Option<i64>,
}

/// One finding for every counter that is missing (`totalResults`) or not a JSON integer: three
/// string counters on one answer are one problem, listed once.
fn counters(body: &Value, idp: Idp, out: &mut Vec<Finding>) -> Counters {
    let mut diffs = Vec::new();
    let mut read = |name: &str, required: bool| -> Option<i64> {
        match body.get(name) {
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(other) => {
                diffs.push((name.to_string(), show(other)));
                other.as_str().and_then(|s| s.trim().parse().ok())
            }
            None if required => {
                diffs.push((name.to_string(), "absent".to_string()));
                None
            }
            None => None,
        }
    };
    let total = read("totalResults", true);
    read("startIndex", false);
    let items_per_page = read("itemsPerPage", false);
    if !diffs.is_empty() {
        let names: Vec<String> = diffs
            .iter()
            .map(|(n, v)| {
                if v == "absent" {
                    format!("`{n}` is missing")
                } else {
                    format!("`{n}` is {v}")
                }
            })
            .collect();
        let mut f = Finding::judged(
            "rfc7644.list.integer-counters",
            idp,
            format!(
                "the ListResponse counters must be JSON integers: {}",
                names.join(", ")
            ),
        );
        for (name, v) in diffs {
            f = f.diff(DiffEntry::new(format!("/{name}"), "an integer", v));
        }
        out.push(f);
    }
    Counters {
        total,
        items_per_page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_read_as_xsd_date_time() {
        for ok in [
            "2026-12-07T18:46:46Z",
            "2026-12-07T18:46:46.123456Z",
            "2026-12-07T18:46:46+01:00",
            "2026-12-07T18:46:46.5-23:59",
            "2026-02-31T24:00:60",
            "-0001-01-01T00:00:00Z",
            "12026-01-01T00:00:00Z",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-12-07",
            "2026-12-07 18:46:46Z",
            "2026-13-07T18:46:46Z",
            "2026-00-07T18:46:46Z",
            "2026-12-32T18:46:46Z",
            "2026-12-07T25:46:46Z",
            "2026-12-07T18:60:46Z",
            "2026-12-07T18:46:61Z",
            "2026-12-07T18:46:46.Z",
            "2026-12-07T18:46:46ZZ",
            "2026-12-07T18:46:46+24:00",
            "2026-12-07T18:46:46+01:60",
            "2026-12-07T18:46:46+0100",
            "2026-12-07T18:46:46 ",
            "026-12-07T18:46:46Z",
            "2026-1-07T18:46:46Z",
            "\u{0662}\u{0660}\u{0662}\u{0666}-12-07T18:46:46Z",
            "1764960000",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

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

    use crate::outcome::Severity;
    use crate::transport::exchange::fixture;
    use serde_json::json;

    /// One exchange: `GET /Users?…` etc. answered `status` with `body` (JSON, or text).
    fn exchange(method: &str, target: &str, status: u16, body: Option<Value>) -> Exchange {
        exchange_with(
            method,
            target,
            &[],
            status,
            &[("Content-Type", "application/scim+json")],
            body,
            None,
        )
    }

    fn exchange_with(
        method: &str,
        target: &str,
        request_headers: &[(&str, &str)],
        status: u16,
        headers: &[(&str, &str)],
        body: Option<Value>,
        text: Option<&str>,
    ) -> Exchange {
        fixture::exchange(
            fixture::request(
                method,
                &format!("http://scim.example.com{target}"),
                request_headers,
            ),
            fixture::response(status, headers, body, text),
        )
    }

    fn rules_for(ex: &Exchange, idp: Idp) -> Vec<(String, Severity)> {
        let intent = Intent::infer(&ex.request.method, &ex.request.target);
        check_exchange(ex, &intent, &Judging::alone(idp))
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    fn ids(ex: &Exchange) -> Vec<String> {
        rules_for(ex, Idp::Okta)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn list_body(total: Value, items: Vec<Value>, ipp: Value) -> Value {
        json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": 1,
            "itemsPerPage": ipp,
            "Resources": items,
        })
    }

    #[test]
    fn string_counters_are_one_finding_naming_all_three() {
        let good = exchange(
            "GET",
            "/Users?startIndex=1&count=2",
            200,
            Some(list_body(json!(0), vec![], json!(0))),
        );
        assert!(ids(&good).is_empty(), "{:?}", ids(&good));
        let bad = exchange(
            "GET",
            "/Users?startIndex=1&count=2",
            200,
            Some(
                json!({"schemas": [LIST_RESPONSE], "totalResults": "0", "startIndex": "1", "itemsPerPage": "0", "Resources": []}),
            ),
        );
        let intent = Intent::infer("GET", "/Users?startIndex=1&count=2");
        let found = check_exchange(&bad, &intent, &Judging::alone(Idp::Entra));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "rfc7644.list.integer-counters");
        assert_eq!(found[0].diff.len(), 3);
        // Severity is the IdP's: Okta aborts, Entra carries on.
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(!found[0].impact.as_deref().unwrap_or("").contains("Okta"));
        assert_eq!(rules_for(&bad, Idp::Okta)[0].1, Severity::Error);
    }

    #[test]
    fn items_per_page_is_an_rfc_warning_only() {
        let page = |ipp| json!({"schemas": [LIST_RESPONSE], "totalResults": 2, "startIndex": 101, "itemsPerPage": ipp, "Resources": []});
        let good = exchange("GET", "/Users?startIndex=101&count=100", 200, Some(page(0)));
        assert!(ids(&good).is_empty(), "{:?}", ids(&good));
        let bad = exchange(
            "GET",
            "/Users?startIndex=101&count=100",
            200,
            Some(page(100)),
        );
        assert_eq!(
            rules_for(&bad, Idp::Okta),
            vec![("rfc7644.list.items-per-page".to_string(), Severity::Warning)]
        );
    }

    #[test]
    fn resources_absent_from_an_empty_result_is_a_warning_and_null_an_error() {
        let ok = exchange(
            "GET",
            "/Users?filter=userName%20eq%20%22x%22",
            200,
            Some(list_body(json!(0), vec![], json!(0))),
        );
        assert!(ids(&ok).is_empty());
        let omitted = exchange(
            "GET",
            "/Users?filter=userName%20eq%20%22x%22",
            200,
            Some(json!({"schemas": [LIST_RESPONSE], "totalResults": 0})),
        );
        assert_eq!(
            rules_for(&omitted, Idp::Entra),
            vec![("rfc7644.list.resources-omitted".into(), Severity::Warning)]
        );
        let null = exchange(
            "GET",
            "/Users?filter=userName%20eq%20%22x%22",
            200,
            Some(json!({"schemas": [LIST_RESPONSE], "totalResults": 0, "Resources": null})),
        );
        assert_eq!(
            rules_for(&null, Idp::Entra),
            vec![("rfc7644.list.resources-array".into(), Severity::Error)]
        );
        let missing = exchange(
            "GET",
            "/Users",
            200,
            Some(json!({"schemas": [LIST_RESPONSE], "totalResults": 3})),
        );
        assert_eq!(ids(&missing), vec!["rfc7644.list.resources-present"]);
    }

    #[test]
    fn an_ignored_filter_is_named() {
        let q = "/Users?filter=userName%20eq%20%22ann%40example.com%22";
        let matching = exchange(
            "GET",
            q,
            200,
            Some(list_body(
                json!(1),
                vec![json!({"id": "1", "userName": "Ann@Example.com"})],
                json!(1),
            )),
        );
        assert!(
            ids(&matching).is_empty(),
            "userName matches regardless of case: {:?}",
            ids(&matching)
        );
        let ignored = exchange(
            "GET",
            q,
            200,
            Some(list_body(
                json!(2),
                vec![
                    json!({"id": "1", "userName": "ann@example.com"}),
                    json!({"id": "2", "userName": "bob@example.com"}),
                ],
                json!(2),
            )),
        );
        assert_eq!(ids(&ignored), vec!["rfc7644.filter.ignored"]);
        // A resource that leaves the attribute out (attributes=id) is not judged.
        let sparse = exchange(
            "GET",
            q,
            200,
            Some(list_body(json!(1), vec![json!({"id": "1"})], json!(1))),
        );
        assert!(ids(&sparse).is_empty());
    }

    #[test]
    fn a_filter_miss_answered_404_is_one_finding_at_each_idps_severity() {
        let q = "/Users?filter=userName%20eq%20%22nobody%22";
        let ok = exchange("GET", q, 200, Some(list_body(json!(0), vec![], json!(0))));
        assert!(ids(&ok).is_empty());
        // An HTML 404: the body's shape would only repeat the cause.
        let bad = exchange_with(
            "GET",
            q,
            &[("Accept", "application/scim+json")],
            404,
            &[("Content-Type", "text/html")],
            None,
            Some("<html>nope</html>"),
        );
        assert_eq!(
            rules_for(&bad, Idp::Okta),
            vec![("rfc7644.filter.no-match-404".into(), Severity::Warning)]
        );
        assert_eq!(
            rules_for(&bad, Idp::Entra),
            vec![("rfc7644.filter.no-match-404".into(), Severity::Error)]
        );
        // An unknown id is a 404 the RFC wants: only the error body is judged.
        let unknown = exchange(
            "GET",
            "/Users/nope",
            404,
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "404", "detail": "no"})),
        );
        assert!(ids(&unknown).is_empty());
    }

    #[test]
    fn refused_headers_and_credentials_are_named_once() {
        let scim = &[("Accept", "application/scim+json")][..];
        let refused = exchange_with(
            "GET",
            "/Users",
            scim,
            406,
            &[("Content-Type", "text/html")],
            None,
            Some("<h1>406</h1>"),
        );
        assert_eq!(ids(&refused), vec!["http.accept.rejected"]);
        assert_eq!(
            rules_for(&refused, Idp::Entra)[0].1,
            Severity::Warning,
            "Entra sends no Accept"
        );
        let none = exchange_with("GET", "/Users", &[], 406, &[], None, None);
        assert_eq!(
            rules_for(&none, Idp::Entra),
            vec![("http.accept.required".into(), Severity::Error)]
        );
        let unsupported = exchange_with(
            "POST",
            "/Users",
            &[("Content-Type", "application/scim+json; charset=utf-8")],
            415,
            &[],
            None,
            None,
        );
        assert_eq!(ids(&unsupported), vec!["http.content-type.rejected"]);
        let auth = exchange(
            "GET",
            "/Users",
            401,
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "401"})),
        );
        // A 401 to the run's credentials is the auth path's `auth.refused` (check/auth.rs):
        // the built-in rules say nothing more about that answer.
        assert!(ids(&auth).is_empty(), "{:?}", ids(&auth));
        let forbidden = exchange(
            "GET",
            "/Users",
            403,
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "403"})),
        );
        assert_eq!(ids(&forbidden), vec!["http.auth.rejected"]);
        // A 401 the step asked for (its own Authorization, or none) is not the run's credentials.
        let intent = Intent::infer("GET", "/Users");
        let own = Judging {
            run_credentials: false,
            ..Judging::alone(Idp::Okta)
        };
        assert!(check_exchange(&auth, &intent, &own).is_empty());
    }

    #[test]
    fn a_404_after_this_run_deactivated_the_user_is_the_deactivation() {
        let mut history = History::default();
        let gone = exchange(
            "GET",
            "/Users/u1",
            404,
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "404"})),
        );
        let intent = Intent::infer("GET", "/Users/u1");
        let judging = |h: &History| {
            check_exchange(
                &gone,
                &intent,
                &Judging {
                    idp: Idp::Okta,
                    run_credentials: true,
                    history: h,
                },
            )
        };
        assert!(judging(&history).is_empty(), "a plain 404 is not a fault");
        history.observe(
            "PATCH",
            "/Users/u1",
            Some(&json!({"Operations": [{"op": "replace", "value": {"active": false}}]})),
            204,
            None,
        );
        let found = judging(&history);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "scim.deactivate.deletes");
    }

    #[test]
    fn excluded_members_are_judged_on_reads_and_lists() {
        let read_ok = exchange(
            "GET",
            "/Groups/g1?excludedAttributes=members",
            200,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "G"}),
            ),
        );
        assert!(ids(&read_ok).is_empty());
        let read_bad = exchange(
            "GET",
            "/Groups/g1?excludedAttributes=members",
            200,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "G", "members": [{"value": "u1"}]}),
            ),
        );
        assert_eq!(
            rules_for(&read_bad, Idp::Entra),
            vec![("rfc7644.query.excluded-attributes".into(), Severity::Error)]
        );
        let list_bad = exchange(
            "GET",
            "/Groups?excludedAttributes=members&filter=displayName+eq+%22G%22",
            200,
            Some(list_body(
                json!(1),
                vec![json!({"id": "g1", "displayName": "G", "members": []})],
                json!(1),
            )),
        );
        assert_eq!(ids(&list_bad), vec!["rfc7644.query.excluded-attributes"]);
    }

    #[test]
    fn a_create_answered_200_is_a_warning_and_without_a_body_an_error() {
        let created = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "a", "meta": {"resourceType": "User"}});
        let ok = exchange_with(
            "POST",
            "/Users",
            &[],
            201,
            &[
                ("Content-Type", "application/scim+json"),
                ("Location", "/Users/1"),
            ],
            Some(created.clone()),
            None,
        );
        assert!(ids(&ok).is_empty());
        let two_hundred = exchange_with(
            "POST",
            "/Users",
            &[],
            200,
            &[
                ("Content-Type", "application/scim+json"),
                ("Location", "/Users/1"),
            ],
            Some(created),
            None,
        );
        assert_eq!(
            rules_for(&two_hundred, Idp::Okta),
            vec![("rfc7644.create.status".into(), Severity::Warning)]
        );
        let empty = exchange_with(
            "POST",
            "/Users",
            &[],
            201,
            &[("Location", "/Users/1")],
            None,
            None,
        );
        assert_eq!(
            rules_for(&empty, Idp::Okta),
            vec![("rfc7644.create.body".into(), Severity::Error)]
        );
    }

    #[test]
    fn a_numeric_error_status_is_an_rfc_warning_and_html_errors_judge_the_body_once() {
        let numeric = exchange(
            "GET",
            "/Users/x",
            404,
            Some(json!({"schemas": [ERROR_SCHEMA], "status": 404})),
        );
        assert_eq!(
            rules_for(&numeric, Idp::Okta),
            vec![("rfc7644.error.status-string".into(), Severity::Warning)]
        );
        let html = exchange_with(
            "GET",
            "/Users/x",
            &[],
            404,
            &[("Content-Type", "text/html")],
            None,
            Some("<html></html>"),
        );
        assert_eq!(
            rules_for(&html, Idp::Entra),
            vec![("rfc7644.error.json".into(), Severity::Warning)],
            "no separate media-type finding for a body that is not JSON"
        );
        let json_type = exchange_with(
            "GET",
            "/Users/x",
            &[],
            404,
            &[("Content-Type", "application/json")],
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "404"})),
            None,
        );
        assert_eq!(
            rules_for(&json_type, Idp::Entra),
            vec![("rfc7644.response.media-type".into(), Severity::Warning)]
        );
    }

    /// Each rule of an answer's resources (RFC 7643 §2.4, §3.1, §4.1.1; RFC 7644 §3.3, §3.4.2,
    /// §3.12): one answer that keeps it, one that breaks it, judged for Okta and for Entra.
    #[test]
    fn every_returned_resource_rule_has_a_passing_and_a_failing_answer() {
        const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
        const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
        let user = |extra: Value| {
            let mut u = json!({"schemas": [USER], "id": "u1", "userName": "ann@example.com",
                "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z",
                         "lastModified": "2026-01-01T00:00:00Z", "location": "https://scim.example.com/Users/u1",
                         "version": "W/\"1\""}});
            if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    u.insert(k.clone(), v.clone());
                }
            }
            u
        };
        let group = |members: Value| {
            json!({"schemas": [GROUP], "id": "g1", "displayName": "G", "members": members,
                   "meta": {"resourceType": "Group"}})
        };
        let scim = ("Content-Type", "application/scim+json");
        let read = |body: Value| exchange("GET", "/Users/u1", 200, Some(body));
        let read_with = |headers: &[(&str, &str)], body: Value| {
            let mut h = vec![scim];
            h.extend_from_slice(headers);
            exchange_with("GET", "/Users/u1", &[], 200, &h, Some(body), None)
        };
        let created = |location: &str, body: Value| {
            exchange_with(
                "POST",
                "/Users",
                &[],
                201,
                &[scim, ("Location", location)],
                Some(body),
                None,
            )
        };
        let page = |total: i64, items: Vec<Value>, counters: bool| {
            let mut b =
                json!({"schemas": [LIST_RESPONSE], "totalResults": total, "Resources": items});
            if counters {
                b["startIndex"] = json!(1);
                b["itemsPerPage"] = json!(b["Resources"].as_array().map_or(0, Vec::len));
            }
            exchange("GET", "/Users?startIndex=1&count=10", 200, Some(b))
        };
        let lookup = |items: Vec<Value>| {
            let n = items.len();
            exchange(
                "GET",
                "/Users?filter=userName%20eq%20%22ann%40example.com%22",
                200,
                Some(list_body(json!(n), items, json!(n))),
            )
        };
        let error = |method: &str, target: &str, status: u16, scim_type: Option<&str>| {
            let mut b =
                json!({"schemas": [ERROR_SCHEMA], "status": status.to_string(), "detail": "no"});
            if let Some(t) = scim_type {
                b["scimType"] = json!(t);
            }
            exchange(method, target, status, Some(b))
        };
        let w = Severity::Warning;
        let e = Severity::Error;
        // (case, answer, the rule it breaks or None, Okta's severity, Entra's severity)
        let cases: Vec<(&str, Exchange, Option<&str>, Severity, Severity)> = vec![
            ("a user without password", read(user(json!({}))), None, w, w),
            (
                "a user with password",
                read(user(json!({"password": "[redacted]"}))),
                Some("rfc7643.password.returned"),
                e,
                w,
            ),
            (
                "password in the core schema's object",
                read(user(json!({USER: {"password": "x"}}))),
                Some("rfc7643.password.returned"),
                e,
                w,
            ),
            (
                "password in a listed user",
                page(1, vec![user(json!({"Password": "x"}))], true),
                Some("rfc7643.password.returned"),
                e,
                w,
            ),
            (
                "members once each",
                exchange(
                    "GET",
                    "/Groups/g1",
                    200,
                    Some(group(json!([{"value": "u1"}, {"value": "u2"}]))),
                ),
                None,
                w,
                w,
            ),
            (
                "a member listed twice",
                exchange(
                    "GET",
                    "/Groups/g1",
                    200,
                    Some(group(
                        json!([{"value": "u1"}, {"value": "u1", "display": "Ann"}]),
                    )),
                ),
                Some("rfc7643.multi-valued.duplicate"),
                w,
                w,
            ),
            (
                "one address in two roles is two values",
                read(user(
                    json!({"emails": [{"value": "a@x", "type": "work"}, {"value": "a@x", "type": "home"}]}),
                )),
                None,
                w,
                w,
            ),
            (
                "one email twice",
                read(user(
                    json!({"emails": [{"value": "a@x", "type": "work"}, {"value": "a@x", "type": "work"}]}),
                )),
                Some("rfc7643.multi-valued.duplicate"),
                w,
                w,
            ),
            (
                "one primary email",
                read(user(
                    json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}]}),
                )),
                None,
                w,
                w,
            ),
            (
                "two primary emails",
                read(user(
                    json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
                )),
                Some("rfc7643.multi-valued.primary"),
                w,
                w,
            ),
            (
                "created is not a DateTime",
                read(user(
                    json!({"meta": {"resourceType": "User", "created": "04-12-2018 00:00:00"}}),
                )),
                Some("rfc7643.meta.dates"),
                w,
                w,
            ),
            (
                "modified before created",
                read(user(
                    json!({"meta": {"resourceType": "User", "created": "2026-02-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z"}}),
                )),
                Some("rfc7643.meta.dates"),
                w,
                w,
            ),
            (
                "modified after created",
                read(user(
                    json!({"meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-02-01T00:00:00.5Z"}}),
                )),
                None,
                w,
                w,
            ),
            (
                "a create whose lastModified is created",
                created("https://scim.example.com/Users/u1", user(json!({}))),
                None,
                w,
                w,
            ),
            (
                "a create already modified",
                created(
                    "https://scim.example.com/Users/u1",
                    user(
                        json!({"meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:09Z", "location": "https://scim.example.com/Users/u1"}}),
                    ),
                ),
                Some("rfc7643.meta.dates"),
                w,
                w,
            ),
            (
                "a relative Location naming the same URI",
                created("/Users/u1", user(json!({}))),
                None,
                w,
                w,
            ),
            (
                "a Location that is not meta.location",
                created("https://scim.example.com/Users/u2", user(json!({}))),
                Some("rfc7643.meta.location"),
                w,
                w,
            ),
            (
                "a Content-Location that is meta.location",
                read_with(
                    &[("Content-Location", "https://scim.example.com/Users/u1")],
                    user(json!({})),
                ),
                None,
                w,
                w,
            ),
            (
                "a Content-Location that is not",
                read_with(
                    &[("Content-Location", "https://scim.example.com/Users/other")],
                    user(json!({})),
                ),
                Some("rfc7643.meta.location"),
                w,
                w,
            ),
            (
                "an ETag that is meta.version",
                read_with(&[("ETag", "W/\"1\"")], user(json!({}))),
                None,
                w,
                w,
            ),
            (
                "an ETag that is not",
                read_with(&[("ETag", "W/\"2\"")], user(json!({}))),
                Some("rfc7643.meta.version"),
                w,
                w,
            ),
            (
                "a read with the wrong resourceType",
                read(user(json!({"meta": {"resourceType": "Users"}}))),
                Some("rfc7643.meta.resource-type"),
                w,
                w,
            ),
            (
                "a PUT answer with its id",
                exchange("PUT", "/Users/u1", 200, Some(user(json!({})))),
                None,
                w,
                w,
            ),
            (
                "a PUT answer without id",
                exchange(
                    "PUT",
                    "/Users/u1",
                    200,
                    Some(json!({"schemas": [USER], "userName": "ann"})),
                ),
                Some("rfc7643.resource.id"),
                w,
                w,
            ),
            (
                "a PATCH answer without id",
                exchange(
                    "PATCH",
                    "/Users/u1",
                    200,
                    Some(json!({"schemas": [USER], "userName": "ann"})),
                ),
                Some("rfc7643.resource.id"),
                w,
                w,
            ),
            (
                "a partial page with its counters",
                page(2, vec![user(json!({}))], true),
                None,
                w,
                w,
            ),
            (
                "a partial page without startIndex and itemsPerPage",
                page(2, vec![user(json!({}))], false),
                Some("rfc7644.list.pagination-fields"),
                w,
                w,
            ),
            (
                "a whole result without them",
                page(1, vec![user(json!({}))], false),
                None,
                w,
                w,
            ),
            (
                "a lookup finds one user",
                lookup(vec![user(json!({}))]),
                None,
                w,
                w,
            ),
            (
                "a lookup finds one userName in two cases",
                lookup(vec![
                    user(json!({})),
                    user(json!({"id": "u2", "userName": "Ann@Example.com"})),
                ]),
                Some("rfc7643.username.unique"),
                e,
                e,
            ),
            (
                "a list of everyone is not judged for it (a shared server)",
                page(
                    2,
                    vec![
                        user(json!({})),
                        user(json!({"id": "u2", "userName": "Ann@Example.com"})),
                    ],
                    true,
                ),
                None,
                w,
                w,
            ),
            (
                "a conflicting create says uniqueness",
                error("POST", "/Users", 409, Some("uniqueness")),
                None,
                w,
                w,
            ),
            (
                "a conflicting create without scimType",
                error("POST", "/Users", 409, None),
                Some("rfc7644.error.scim-type"),
                w,
                w,
            ),
            (
                "a 400 with a keyword of Table 9",
                error("GET", "/Users?filter=x", 400, Some("invalidFilter")),
                None,
                w,
                w,
            ),
            (
                "a 400 without scimType (it is optional)",
                error("GET", "/Users?filter=x", 400, None),
                None,
                w,
                w,
            ),
            (
                "a 400 with an unknown scimType",
                error("GET", "/Users?filter=x", 400, Some("badRequest")),
                Some("rfc7644.error.scim-type"),
                w,
                w,
            ),
        ];
        for (case, ex, rule, okta, entra) in cases {
            for (idp, severity) in [(Idp::Okta, okta), (Idp::Entra, entra)] {
                let found = rules_for(&ex, idp);
                match rule {
                    None => assert!(found.is_empty(), "{case}: {found:?}"),
                    Some(rule) => assert_eq!(
                        found,
                        vec![(rule.to_string(), severity)],
                        "{case} ({idp:?})"
                    ),
                }
            }
        }
    }

    /// Two users of one userName that this run's own creates made are the create the server
    /// should have refused (judged there), not a second problem.
    #[test]
    fn a_user_name_held_twice_by_this_runs_creates_is_the_creates_fault() {
        let listed = exchange(
            "GET",
            "/Users?filter=userName%20eq%20%22ann%22",
            200,
            Some(list_body(
                json!(2),
                vec![
                    json!({"id": "u1", "userName": "ann"}),
                    json!({"id": "u2", "userName": "Ann"}),
                ],
                json!(2),
            )),
        );
        let intent = Intent::infer("GET", "/Users?filter=userName%20eq%20%22ann%22");
        let mut history = History::default();
        let judged = |h: &History| {
            check_exchange(
                &listed,
                &intent,
                &Judging {
                    idp: Idp::Entra,
                    run_credentials: true,
                    history: h,
                },
            )
            .into_iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>()
        };
        assert_eq!(judged(&history), vec!["rfc7643.username.unique"]);
        history.observe("POST", "/Users", None, 201, Some(&json!({"id": "u1"})));
        assert_eq!(
            judged(&history),
            vec!["rfc7643.username.unique"],
            "one is not ours"
        );
        history.observe("POST", "/Users", None, 201, Some(&json!({"id": "u2"})));
        assert!(judged(&history).is_empty());
    }

    /// The password's value never reaches a finding, whoever reads it.
    #[test]
    fn a_returned_password_is_named_not_shown() {
        let ex = exchange(
            "GET",
            "/Users/u1",
            200,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1",
                        "userName": "a", "password": "hunter2-secret"}),
            ),
        );
        let found = check_exchange(
            &ex,
            &Intent::infer("GET", "/Users/u1"),
            &Judging::alone(Idp::Okta),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let text = format!("{:?}", found[0]);
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(found[0].diff[0].pointer, "/password");
    }

    #[test]
    fn unknown_status_codes_are_findings() {
        let finding = |status| {
            let mut out = Vec::new();
            status_code(
                &fixture::response(status, &[], None, None),
                Idp::Generic,
                &mut out,
            );
            out.first()
                .map(|f| (f.rule.clone(), f.severity, f.message.clone()))
        };
        assert_eq!(finding(201), None);
        assert_eq!(finding(429), None);
        assert!(
            matches!(finding(599), Some((r, Severity::Warning, m)) if r == "http.status.unknown" && m.contains("status 599"))
        );
        assert!(
            matches!(finding(799), Some((r, Severity::Error, m)) if r == "http.status.invalid" && m.contains("status 799"))
        );
    }
}
