//! Judging answers as Okta does. The built-in `rfc7644.*` rules already grade generic shape;
//! these add what Okta itself does with the answer, in the words an Okta admin sees.

use serde_json::Value;

use crate::check::show;
use crate::idp::context::ActionCtx;
use crate::outcome::{DiffEntry, Finding};
use crate::transport::RawResponse;

/// A ListResponse as Okta reads it.
pub struct List {
    pub total: i64,
    pub items_per_page: Option<i64>,
    pub resources: Vec<Value>,
}

/// Okta tolerates lower-case keys in list answers (2019 note, okta.md §2.9).
fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get(name)
        .or_else(|| body.get(name.to_ascii_lowercase()))
}

/// What Okta does when the answer to each kind of query is unusable.
fn list_impact(what: &str) -> &'static str {
    match what {
        "lookup" => "Okta aborts the assignment after the lookup; the System Log shows only `application.provision.user.sync FAILURE` and nothing is created.",
        "group-lookup" => "Okta marks the group push Error and pushes no membership.",
        "import" => "Okta's import fails: \"Import failed\" and no users are scanned.",
        _ => "Okta's \"Test Connector Configuration\" fails and provisioning cannot be enabled.",
    }
}

/// Reads a list answer; `None` (with findings) when Okta could not use it.
pub fn list(ctx: &mut ActionCtx<'_>, what: &str, index: usize, raw: &RawResponse) -> Option<List> {
    if raw.status == 0 {
        return None;
    }
    let rule = |r: &str| format!("okta.{what}.{r}");
    if raw.status == 406 || raw.status == 415 {
        accept_rejected(ctx, index, raw.status);
        return None;
    }
    if raw.status != 200 {
        let f = Finding::error(
            rule("status"),
            format!(
                "the query answered {} instead of 200 with a ListResponse",
                raw.status
            ),
        )
        .diff(DiffEntry::new("status", "200", raw.status.to_string()))
        .impact(list_impact(what))
        .reference("Okta: SCIM 2.0 protocol reference (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20); Okta SCIM 2.0 SPEC test (https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json)")
        .source(ctx.here())
        .at_exchange(index);
        ctx.finding(f);
        return None;
    }
    let Some(body) = raw.body.as_ref().filter(|b| b.is_object()) else {
        let f = Finding::error(rule("not-json"), "the query answer is not a JSON object")
            .impact(list_impact(what))
            .reference("Okta: Understanding SCIM (https://developer.okta.com/docs/concepts/scim/)")
            .source(ctx.here())
            .at_exchange(index);
        ctx.finding(f);
        return None;
    };
    let mut bad = Vec::new();
    let mut total = None;
    let mut items_per_page = None;
    for name in ["totalResults", "startIndex", "itemsPerPage"] {
        match field(body, name) {
            Some(v) if v.is_i64() || v.is_u64() => {
                let n = v.as_i64().unwrap_or(i64::MAX);
                if name == "totalResults" {
                    total = Some(n);
                } else if name == "itemsPerPage" {
                    items_per_page = Some(n);
                }
            }
            None if name != "totalResults" => {}
            other => bad.push(DiffEntry::new(
                format!("/{name}"),
                "a JSON integer",
                other.map(show).unwrap_or_else(|| "absent".into()),
            )),
        }
    }
    if !bad.is_empty() {
        let mut f = Finding::error(
            rule("integer-counters"),
            "the ListResponse counters are not JSON integers",
        )
        .impact(match what {
            "lookup" => "A string startIndex makes Okta abort the sync silently: the System Log shows only `application.provision.user.sync FAILURE` (KB-Q-STR).",
            _ => list_impact(what),
        })
        .reference("Okta: SCIM 2.0 protocol reference (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20); Okta community: string startIndex (https://support.okta.com/help/s/question/0D54z0000A4i091CQA/scim-provisioning-error-with-okta-scim-api?language=en_US)")
        .source(ctx.here())
        .at_exchange(index);
        for d in bad {
            f = f.diff(d);
        }
        ctx.finding(f);
        return None;
    }
    let resources = match field(body, "Resources") {
        Some(Value::Array(a)) => a.clone(),
        None if total == Some(0) => Vec::new(),
        other => {
            let f = Finding::error(
                rule("resources"),
                "the ListResponse has no `Resources` array",
            )
            .diff(DiffEntry::new(
                "/Resources",
                "an array (`[]` when nothing matches)",
                other.map(show).unwrap_or_else(|| "absent".into()),
            ))
            .impact(list_impact(what))
            .reference("Okta: SCIM 2.0 protocol reference (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20); elimity-com/scim#78; elimity-com/scim#78)")
            .source(ctx.here())
            .at_exchange(index);
            ctx.finding(f);
            return None;
        }
    };
    if let Some(ipp) = items_per_page {
        if ipp != resources.len() as i64 {
            let f = Finding::error(
                rule("items-per-page"),
                format!("itemsPerPage is {ipp} but the page holds {} resources", resources.len()),
            )
            .diff(DiffEntry::new("/itemsPerPage", resources.len().to_string(), ipp.to_string()))
            .impact("Okta's OIN review (GET startIndex=101&count=100 on a small data set) rejects the integration; Okta's pager miscounts pages.")
            .reference("Okta: SCIM 2.0 protocol reference (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20); ory/polis#4054")
            .source(ctx.here())
            .at_exchange(index);
            ctx.finding(f);
        }
    }
    Some(List {
        total: total.unwrap_or(resources.len() as i64),
        items_per_page,
        resources,
    })
}

/// 406/415: the server refuses Okta's `Accept: application/scim+json` / content type.
pub fn accept_rejected(ctx: &mut ActionCtx<'_>, index: usize, status: u16) {
    let f = Finding::error(
        "okta.headers.rejected",
        format!("the server answered {status} to Okta's headers (Accept: application/scim+json, Content-Type: application/scim+json; charset=utf-8)"),
    )
    .impact("Every Okta request fails silently: the admin sees only \"Sync user in external application — FAILURE\".")
    .reference("Okta KB: SCIM provisioning returning Sync user in external application failure (https://support.okta.com/help/s/article/scim-provisioning-returning-sync-user-in-external-application-failure); Okta: SCIM 2.0 protocol reference (https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20)")
    .source(ctx.here())
    .at_exchange(index);
    ctx.finding(f);
}

/// A non-2xx answer to a write, in Okta's terms. Returns true when it failed.
pub fn write_failed(
    ctx: &mut ActionCtx<'_>,
    index: usize,
    raw: &RawResponse,
    rule: &str,
    impact: &str,
    reference: &str,
) -> bool {
    if raw.status == 0 {
        return true;
    }
    if (200..300).contains(&raw.status) {
        return false;
    }
    if raw.status == 406 || raw.status == 415 {
        accept_rejected(ctx, index, raw.status);
        return true;
    }
    let detail = raw
        .body
        .as_ref()
        .and_then(|b| b.get("detail"))
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    let f = Finding::error(rule, format!("the server answered {}{detail}", raw.status))
        .diff(DiffEntry::new("status", "2xx", raw.status.to_string()))
        .impact(impact)
        .reference(reference)
        .source(ctx.here())
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
