//! Judging answers as Okta does. The built-in `rfc7644.*` rules already grade generic shape;
//! these add what Okta itself does with the answer, in the words an Okta admin sees.

use serde_json::Value;

use crate::idp::context::ActionCtx;
use crate::outcome::DiffEntry;
use crate::transport::RawResponse;

/// A ListResponse as Okta reads it.
pub struct List {
    pub total: i64,
    pub items_per_page: Option<i64>,
    pub resources: Vec<Value>,
}

/// Okta tolerates lower-case keys in list answers (a 2019 note of Okta's SCIM reference).
fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get(name)
        .or_else(|| body.get(name.to_ascii_lowercase()))
}

/// The rule for a failed query, by what Okta was doing.
fn failed_rule(what: &str) -> &'static str {
    match what {
        "lookup" => "okta.lookup.failed",
        "group-lookup" => "okta.group-lookup.failed",
        "import" => "okta.import.failed",
        _ => "okta.connector.failed",
    }
}

/// Reads a list answer; `None` when Okta could not use it. What is wrong with the answer was
/// judged by the built-in rules on the exchange, with Okta's consequence (the catalogue's):
/// Okta stops where one of them is an error for Okta, and adds a finding of its own only for a
/// failed status no rule explains.
pub fn list(ctx: &mut ActionCtx<'_>, what: &str, index: usize, raw: &RawResponse) -> Option<List> {
    if raw.status == 0 {
        return None;
    }
    if raw.status == 404 && ctx.judged(index, "rfc7644.filter.no-match-404") {
        // Okta's runtime reads a 404 Error to a filter as "not found" (its SCIM reference
        // accepts it); the rule reports the Spec-test failure.
        return Some(List {
            total: 0,
            items_per_page: None,
            resources: Vec::new(),
        });
    }
    if ctx.root_caused(index) || ctx.failed_at(index) {
        return None;
    }
    if !(200..300).contains(&raw.status) {
        let f = ctx
            .rule(
                failed_rule(what),
                format!(
                    "the query answered {}{} instead of 200 with a ListResponse",
                    raw.status,
                    detail(raw)
                ),
            )
            .diff(DiffEntry::new("status", "200", raw.status.to_string()))
            .at_exchange(index);
        ctx.finding(f);
        return None;
    }
    let body = raw.body.as_ref().filter(|b| b.is_object())?;
    let int = |name: &str| field(body, name).and_then(Value::as_i64);
    let resources = match field(body, "Resources") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    Some(List {
        total: int("totalResults").unwrap_or(resources.len() as i64),
        items_per_page: int("itemsPerPage"),
        resources,
    })
}

/// `: detail` of a SCIM error body, for messages.
pub fn detail(raw: &RawResponse) -> String {
    raw.detail_suffix()
}

/// A non-2xx answer to a write, in Okta's terms: `rule` says which write failed. Returns true
/// when it failed. A failure a built-in rule explains (credentials, headers, …) is that rule's
/// finding, with Okta's consequence; Okta adds nothing.
pub fn write_failed(ctx: &mut ActionCtx<'_>, index: usize, raw: &RawResponse, rule: &str) -> bool {
    if raw.status == 0 {
        return true;
    }
    if (200..300).contains(&raw.status) {
        return false;
    }
    if ctx.root_caused(index) {
        return true;
    }
    let f = ctx
        .rule(
            rule,
            format!("the server answered {}{}", raw.status, detail(raw)),
        )
        .diff(DiffEntry::new("status", "2xx", raw.status.to_string()))
        .at_exchange(index);
    ctx.finding(f);
    true
}

/// The value at a dotted path (`name.givenName`) or `urn:…:attr` path of a SCIM resource.
pub fn get_path<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some((schema, attr)) = super::wire::split_extension(path) {
        return body.get(schema).and_then(|e| e.get(attr));
    }
    path.split('.').try_fold(body, |cur, p| cur.get(p))
}

/// Booleans as the server may encode them ("False" strings are judged elsewhere).
pub fn truthy(v: Option<&Value>) -> Option<bool> {
    match v {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
