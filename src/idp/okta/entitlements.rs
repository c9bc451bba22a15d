//! Okta Identity Governance over SCIM ("SCIM 2.0 with entitlements"): discovery, the
//! Entitlements Test, and grants written on the user.
//!
//! - `discover_entitlements` — what Okta does when provisioning is enabled on a Governance app
//!   (Okta guide "Build a SCIM 2.0 server with entitlements", "Endpoint call sequence"):
//!   `GET /ResourceTypes`; `GET /Schemas` when a ResourceType declares a schema Okta does not
//!   know (Okta knows core User, enterprise User, and its Role and Entitlement schemas); then
//!   every endpoint whose ResourceType has Okta's Role or Entitlement URN, all values, paged
//!   with `startIndex`/`count` (Okta's page size is not published: 100 as for user imports,
//!   `count:` changes it).
//! - `test_entitlements` — Okta's "SCIM 2.0 Entitlements Test" (Runscope collection
//!   `Okta-SCIM-20-Entitlements-Test.json`): `GET {endpoint}?count=1&startIndex=1` per
//!   endpoint, with its headers and its six assertions.
//! - `grant` / `revoke` — an admin's "Edit entitlements" on an app user: Okta reads the user and
//!   PUTs it back with `roles` (`{value, display}`) or `entitlements` (`{value, display, type}`)
//!   changed — the PUT is what Okta's own entitlements workshop shows on the wire
//!   (Okta blog, Take User Provisioning to the Next Level with Entitlements, https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop); the element shapes are the guide's
//!   "User with entitlements and roles".
//!
//! The discovered catalogue lives in the scenario state (`profile["okta_catalog"]`), so later
//! grants use what the server advertised.

use serde_json::{json, Map, Value};

use super::judge::{self, List};
use super::settings::Settings;
use super::wire;
use super::{opt, opt_bool, opt_keys};
use crate::check::show;
use crate::idp::context::ActionCtx;
use crate::outcome::DiffEntry;
use crate::scenario::yaml::NodeKind;
use crate::scenario::ActionStep;
use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, LIST_URN, USER_URN};
use crate::server::entitlements::{
    DRAFT_ENTITLEMENT_URN, DRAFT_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN,
};
use crate::transport::{OutgoingRequest, RawResponse};

const STATE_KEY: &str = "okta_catalog";
/// The scenario value discovery sets when it found entitlement types (`{{ okta_entitlements }}`
/// lists their names); grants need it.
pub const DISCOVERED: &str = "okta_entitlements";

/// Schemas Okta knows and never asks /Schemas for (Okta guide, "/Schemas").
fn known_to_okta(urn: &str) -> bool {
    [
        USER_URN,
        ENTERPRISE_URN,
        GROUP_URN,
        OKTA_ROLE_URN,
        OKTA_ENTITLEMENT_URN,
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(urn))
}

/// One discovered entitlement type.
#[derive(Clone, Debug)]
struct Type {
    name: String,
    endpoint: String,
    role: bool,
    /// (id, displayName)
    values: Vec<(String, String)>,
}

impl Type {
    fn attribute(&self) -> &'static str {
        if self.role {
            "roles"
        } else {
            "entitlements"
        }
    }
    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "endpoint": self.endpoint, "role": self.role,
            "values": self.values.iter().map(|(i, d)| json!([i, d])).collect::<Vec<_>>(),
        })
    }
    fn from_json(v: &Value) -> Option<Type> {
        Some(Type {
            name: v.get("name")?.as_str()?.to_string(),
            endpoint: v.get("endpoint")?.as_str()?.to_string(),
            role: v.get("role")?.as_bool()?,
            values: v
                .get("values")?
                .as_array()?
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_string(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect(),
        })
    }
    /// Whether an assignment element of the user belongs to this type.
    fn owns(&self, element: &Value) -> bool {
        let value = element.get("value").and_then(Value::as_str).unwrap_or("");
        if self.role {
            return self.values.iter().any(|(i, _)| i == value);
        }
        element
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(&self.name))
            || self.values.iter().any(|(i, _)| i == value)
    }
}

fn saved_types(ctx: &ActionCtx<'_>) -> Vec<Type> {
    ctx.state
        .profile
        .get(STATE_KEY)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Type::from_json).collect())
        .unwrap_or_default()
}

/// The ListResponse of an entitlement endpoint, as Okta's discovery and its test read it.
/// `None` (with a finding) when Okta cannot use it.
fn read_list(ctx: &mut ActionCtx<'_>, endpoint: &str, i: usize, raw: &RawResponse) -> Option<List> {
    if raw.status == 0 {
        return None;
    }
    if raw.status == 406 || raw.status == 415 {
        // The built-in `http.accept.*`/`http.content-type.*` rules named it.
        return None;
    }
    if raw.status == 404 || raw.status == 501 {
        // No discovery endpoint at all: the app declares no entitlement types, and Okta offers
        // entitlement management only for apps that do. Not a fault; nothing to test.
        not_applicable(
            ctx,
            format!("GET /ResourceTypes answered {}", raw.status),
            i,
        );
        return None;
    }
    let unusable = |ctx: &mut ActionCtx<'_>, what: String, diff: DiffEntry| {
        let f = ctx
            .rule("scim.entitlements.list", format!("{endpoint}: {what}"))
            .diff(diff);
        ctx.finding(f.at_exchange(i));
    };
    if raw.status != 200 {
        unusable(
            ctx,
            format!("the list answered {} instead of 200", raw.status),
            DiffEntry::new("status", "200", raw.status.to_string()),
        );
        return None;
    }
    let Some(body) = raw.body.as_ref().filter(|b| b.is_object()) else {
        unusable(
            ctx,
            "the answer is not a JSON object".into(),
            DiffEntry::new("body", "a ListResponse", "not a JSON object"),
        );
        return None;
    };
    let mut bad = Vec::new();
    let mut num = |name: &str| match body.get(name) {
        Some(v) if v.is_i64() || v.is_u64() => v.as_i64(),
        None if name == "itemsPerPage" => None,
        other => {
            bad.push(DiffEntry::new(
                format!("/{name}"),
                "a JSON integer",
                other.map(show).unwrap_or_else(|| "absent".into()),
            ));
            None
        }
    };
    let total = num("totalResults");
    num("startIndex");
    let items_per_page = num("itemsPerPage");
    if !bad.is_empty() {
        let mut f = ctx.rule(
            "rfc7644.list.integer-counters",
            format!("{endpoint}: the ListResponse counters are not JSON integers"),
        );
        for d in bad {
            f = f.diff(d);
        }
        ctx.finding(f.at_exchange(i));
        return None;
    }
    let resources = match body.get("Resources") {
        Some(Value::Array(a)) => a.clone(),
        None if total == Some(0) => Vec::new(),
        other => {
            unusable(
                ctx,
                "the ListResponse has no `Resources` array".into(),
                DiffEntry::new(
                    "/Resources",
                    "an array",
                    other.map(show).unwrap_or_else(|| "absent".into()),
                ),
            );
            return None;
        }
    };
    Some(List {
        total: total.unwrap_or(resources.len() as i64),
        items_per_page,
        resources,
    })
}

/// The Entitlements Test's `itemsPerPage == 1` assertion, and the page must not exceed `count`.
/// Only the test asks: Okta's runtime import reads whatever page it gets and advances by the
/// values it received, so a server that ignores `count` costs Okta nothing there.
fn page_size(ctx: &mut ActionCtx<'_>, endpoint: &str, list: &List, count: i64, i: usize) {
    let n = list.resources.len() as i64;
    let mut diffs = Vec::new();
    if n > count {
        diffs.push(DiffEntry::new(
            "/Resources",
            format!("at most {count} element(s)"),
            format!("{n} element(s)"),
        ));
    }
    if let Some(ipp) = list.items_per_page {
        if ipp != n {
            diffs.push(DiffEntry::new(
                "/itemsPerPage",
                n.to_string(),
                ipp.to_string(),
            ));
        }
    }
    if diffs.is_empty() {
        return;
    }
    let mut f = ctx.rule(
        "scim.entitlements.page-size",
        format!("{endpoint}?count={count}: the page does not honour `count` / itemsPerPage does not count the page"),
    );
    for d in diffs {
        f = f.diff(d);
    }
    ctx.finding(f.at_exchange(i));
}

/// Okta shows `displayName` and stores `id`: values without them cannot be granted.
fn value_fields(
    ctx: &mut ActionCtx<'_>,
    t: &str,
    resources: &[Value],
    i: usize,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, r) in resources.iter().enumerate() {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let name = r
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        match (id, name) {
            (Some(id), Some(name)) => out.push((id.to_string(), name.to_string())),
            _ => {
                let hint = if r.get("value").is_some() || r.get("display").is_some() {
                    " (it carries the draft's `value`/`display`; Okta reads `id`/`displayName`)"
                } else {
                    ""
                };
                bad.push(DiffEntry::new(
                    format!("/Resources/{n}"),
                    "non-empty `id` and `displayName`",
                    format!("{}{hint}", show(r)),
                ));
            }
        }
    }
    if !bad.is_empty() {
        let mut f = ctx.rule(
            "scim.entitlements.value-fields",
            format!("{} {t} value(s) lack `id` or `displayName`", bad.len()),
        );
        for d in bad {
            f = f.diff(d);
        }
        ctx.finding(f.at_exchange(i));
    }
    out
}

/// `GET /ResourceTypes` as Okta sends it; the list's resources, or None with a finding.
async fn resource_types(
    ctx: &mut ActionCtx<'_>,
    s: &Settings,
    okta_traffic: bool,
) -> Option<(usize, Vec<Value>)> {
    let req = if okta_traffic {
        wire::request("GET", "/ResourceTypes", None)
    } else {
        OutgoingRequest::new("GET", "/ResourceTypes").header("Accept", "application/scim+json")
    };
    let (i, raw) = wire::send(ctx, s, req).await;
    if raw.status == 0 {
        return None;
    }
    if raw.status == 406 || raw.status == 415 {
        // The built-in `http.accept.*`/`http.content-type.*` rules named it.
        return None;
    }
    let resources = raw
        .body
        .as_ref()
        .filter(|_| raw.status == 200)
        .and_then(|b| b.get("Resources"))
        .and_then(Value::as_array)
        .cloned();
    let Some(resources) = resources else {
        let f = ctx
            .rule(
                "scim.entitlements.resource-types",
                format!(
                    "GET /ResourceTypes answered {} without a ListResponse of resource types",
                    raw.status
                ),
            )
            .diff(DiffEntry::new(
                "status",
                "200 with Resources",
                raw.status.to_string(),
            ));
        ctx.finding(f.at_exchange(i));
        return None;
    };
    Some((i, resources))
}

/// `/Roles`: one or more path segments, no query, fragment, whitespace or control characters.
fn relative_endpoint(endpoint: &str) -> bool {
    endpoint.len() > 1
        && endpoint.starts_with('/')
        && !endpoint.starts_with("//")
        && !endpoint
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
}

/// The server offers no entitlements at all: the scenario does not apply (skipped, with an
/// info finding saying why), as Okta shows no Governance tab for such an app.
fn not_applicable(ctx: &mut ActionCtx<'_>, what: String, exchange: usize) {
    let why = format!(
        "{what}: the server offers no roles or entitlements, and Okta manages entitlements only for an app whose /ResourceTypes declares them — nothing here to test"
    );
    let f = ctx.rule("scim.entitlements.none", why.clone());
    ctx.finding(f.at_exchange(exchange));
    ctx.state.not_applicable = Some(why);
}

/// The resource types whose schema is Okta's Role or Entitlement URN.
fn okta_types(ctx: &mut ActionCtx<'_>, resources: &[Value], i: usize) -> Vec<Type> {
    let mut out = Vec::new();
    let mut draft = Vec::new();
    for r in resources {
        let schema = r.get("schema").and_then(Value::as_str).unwrap_or("");
        let name = r
            .get("name")
            .or_else(|| r.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let endpoint = r
            .get("endpoint")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let role = schema.eq_ignore_ascii_case(OKTA_ROLE_URN);
        if role || schema.eq_ignore_ascii_case(OKTA_ENTITLEMENT_URN) {
            if !relative_endpoint(&endpoint) {
                // RFC 7643 §6: `endpoint` is relative to the base URL (`/Roles`). Anything
                // else is not requested: an absolute URL would send the app's credentials
                // elsewhere, and whitespace or a query cannot be a path.
                let shown = r
                    .get("endpoint")
                    .map(show)
                    .unwrap_or_else(|| "absent".into());
                let f = ctx
                    .rule(
                        "scim.entitlements.resource-types",
                        format!("ResourceType `{name}` has no usable endpoint"),
                    )
                    .diff(DiffEntry::new(
                        "/Resources/*/endpoint",
                        "a path relative to the base URL, such as /Roles",
                        shown,
                    ));
                ctx.finding(f.at_exchange(i));
                continue;
            }
            out.push(Type {
                name,
                endpoint,
                role,
                values: Vec::new(),
            });
        } else if schema.eq_ignore_ascii_case(DRAFT_ROLE_URN)
            || schema.eq_ignore_ascii_case(DRAFT_ENTITLEMENT_URN)
        {
            draft.push(name);
        }
    }
    if out.is_empty() && draft.is_empty() {
        // Only User and Group (or other) types: an app without entitlements, not a faulty one.
        not_applicable(
            ctx,
            "no ResourceType declares a Role or Entitlement schema".into(),
            i,
        );
    } else if out.is_empty() {
        let note = if draft.is_empty() {
            String::new()
        } else {
            format!(
                " ({} use the IETF draft's URN urn:ietf:params:scim:schemas:core:2.0:Role/Entitlement, which Okta does not read)",
                draft.join(", ")
            )
        };
        let f = ctx
            .rule(
                "scim.entitlements.not-declared",
                format!("no ResourceType has Okta's Role or Entitlement schema{note}"),
            )
            .diff(DiffEntry::new(
                "/Resources/*/schema",
                format!("{OKTA_ROLE_URN} or {OKTA_ENTITLEMENT_URN}"),
                "absent",
            ));
        ctx.finding(f.at_exchange(i));
    }
    out
}

/// Every schema URN the resource types declare that Okta does not know.
fn unknown_schemas(resources: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in resources {
        let mut urns: Vec<&str> = r
            .get("schema")
            .and_then(Value::as_str)
            .into_iter()
            .collect();
        urns.extend(
            r.get("schemaExtensions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("schema").and_then(Value::as_str)),
        );
        for u in urns {
            if !known_to_okta(u) && !out.iter().any(|o| o.eq_ignore_ascii_case(u)) {
                out.push(u.to_string());
            }
        }
    }
    out
}

pub async fn discover(ctx: &mut ActionCtx<'_>, s: &Settings, action: Option<&ActionStep>) {
    let count = action
        .and_then(|a| opt(a, "count"))
        .and_then(|n| match n.kind {
            NodeKind::Int(i) => Some(i),
            _ => None,
        })
        .unwrap_or(100);
    let Some((i, resources)) = resource_types(ctx, s, true).await else {
        return;
    };
    let mut types = okta_types(ctx, &resources, i);
    if ctx.state.not_applicable.is_some() {
        // No entitlements: Okta's Governance discovery never runs for this app.
        return;
    }
    // The custom attributes the Okta mappings send, for the /Schemas check.
    let mapped: Vec<String> = super::users::extra_mappings(ctx.scenario)
        .into_iter()
        .map(|(scim, _)| wire::expand_urn(&scim))
        .filter(|p| crate::idp::custom::is_custom(p))
        .collect();
    let unknown = unknown_schemas(&resources);
    if !unknown.is_empty() || !mapped.is_empty() {
        let (si, raw) = wire::send(ctx, s, wire::request("GET", "/Schemas", None)).await;
        let body = raw
            .body
            .clone()
            .filter(|_| raw.status == 200)
            .unwrap_or(Value::Null);
        let served: Vec<String> = body
            .get("Resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
            .collect();
        let missing: Vec<&String> = unknown
            .iter()
            .filter(|u| !served.contains(&u.to_ascii_lowercase()))
            .collect();
        if !missing.is_empty() {
            let mut f = ctx.rule(
                "scim.discovery.extension-schema-missing",
                format!(
                    "/Schemas does not define {} schema(s) that /ResourceTypes declares",
                    missing.len()
                ),
            );
            for m in missing {
                f = f.diff(DiffEntry::new(
                    "/Schemas",
                    format!("a schema with id {m}"),
                    "absent",
                ));
            }
            ctx.finding(f.at_exchange(si));
        }
        if body.is_object() {
            let declared_missing = |t: &String| {
                let urn = t.rsplit_once(':').map(|(u, _)| u).unwrap_or("");
                unknown.iter().any(|u| u.eq_ignore_ascii_case(urn))
                    && !served.contains(&urn.to_ascii_lowercase())
            };
            let mapped: Vec<String> = mapped
                .into_iter()
                .filter(|t| !declared_missing(t))
                .collect();
            crate::idp::custom::check_advertised(ctx, &body, &mapped, si);
        }
    }
    let mut summary = Vec::new();
    for t in types.iter_mut() {
        import_type(ctx, s, t, count).await;
        summary.push(format!(
            "{} ({} values at {})",
            t.name,
            t.values.len(),
            t.endpoint
        ));
    }
    for want in action
        .map(|a| opt_keys(a, "expect_types"))
        .unwrap_or_default()
    {
        if !types.iter().any(|t| t.name.eq_ignore_ascii_case(&want)) {
            let f = ctx.rule(
                "scim.entitlements.not-declared",
                format!("no ResourceType named `{want}` has Okta's Role or Entitlement schema"),
            );
            ctx.finding(f.at_exchange(i));
        }
    }
    if !types.is_empty() {
        let f = ctx.rule(
            "okta.entitlements.summary",
            format!("Okta discovered {}", summary.join(", ")),
        );
        ctx.finding(f);
    }
    let saved: Vec<Value> = types.iter().map(Type::to_json).collect();
    ctx.state
        .profile
        .insert(STATE_KEY.into(), Value::Array(saved));
    if !types.is_empty() {
        let names: Vec<Value> = types.iter().map(|t| json!(t.name)).collect();
        ctx.state
            .values
            .insert(DISCOVERED.into(), Value::Array(names));
    }
}

/// All values of one type, page by page, until totalResults (or an empty page).
async fn import_type(ctx: &mut ActionCtx<'_>, s: &Settings, t: &mut Type, count: i64) {
    let mut start = 1i64;
    let mut seen: Vec<(String, String)> = Vec::new();
    let endpoint = t.endpoint.clone();
    for _ in 0..1000 {
        let path = format!("{endpoint}?startIndex={start}&count={count}");
        let (i, raw) = wire::send(ctx, s, wire::request("GET", path, None)).await;
        let Some(list) = read_list(ctx, &endpoint, i, &raw) else {
            return;
        };
        let page = value_fields(ctx, &t.name, &list.resources, i);
        let n = list.resources.len() as i64;
        let mut repeated = 0;
        for v in page {
            if seen.iter().any(|(id, _)| *id == v.0) {
                repeated += 1;
            } else {
                seen.push(v);
            }
        }
        if repeated > 0 {
            let f = ctx.rule(
                "scim.entitlements.paging",
                format!("{endpoint}: page startIndex={start} repeats {repeated} value(s) of earlier pages"),
            );
            ctx.finding(f.at_exchange(i));
            break;
        }
        start += n.max(1);
        if n == 0 || start > list.total {
            if (seen.len() as i64) < list.total && n == 0 {
                let f = ctx.rule(
                    "scim.entitlements.paging",
                    format!(
                        "{endpoint}: totalResults is {} but the pages end after {} value(s)",
                        list.total,
                        seen.len()
                    ),
                );
                ctx.finding(f.at_exchange(i));
            }
            break;
        }
    }
    t.values = seen;
}

/// Okta's Entitlements Test: one probe per endpoint.
pub async fn test(ctx: &mut ActionCtx<'_>, s: &Settings, action: &ActionStep) {
    let mut endpoints = opt_keys(action, "endpoints");
    if endpoints.is_empty() {
        // The test takes `EntitlementEndpoint` from the tester; idpsim reads it from
        // /ResourceTypes (its own read, not Okta traffic).
        let Some((i, resources)) = resource_types(ctx, s, false).await else {
            return;
        };
        endpoints = okta_types(ctx, &resources, i)
            .into_iter()
            .map(|t| t.endpoint)
            .collect();
    }
    for endpoint in endpoints {
        // The collection's headers, exactly (User-Agent "OKTA SCIM Integration").
        let req = OutgoingRequest::new("GET", format!("{endpoint}?count=1&startIndex=1"))
            .header("Accept-Charset", "utf-8")
            .header("Content-Type", "application/scim+json; charset=utf-8")
            .header("Accept", "application/scim+json")
            .header("User-Agent", "OKTA SCIM Integration");
        let (i, raw) = ctx.send(req).await;
        let Some(list) = read_list(ctx, &endpoint, i, &raw) else {
            continue;
        };
        if list.resources.is_empty() {
            let f = ctx
                .rule(
                    "scim.entitlements.empty",
                    format!("{endpoint} lists no values"),
                )
                .diff(DiffEntry::new("/Resources", "not empty", "[]"));
            ctx.finding(f.at_exchange(i));
        }
        let listed = raw
            .body
            .as_ref()
            .and_then(|b| b.get("schemas"))
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|u| u == LIST_URN));
        if !listed {
            let got = raw
                .body
                .as_ref()
                .and_then(|b| b.get("schemas"))
                .map(show)
                .unwrap_or_else(|| "absent".into());
            let f = ctx
                .rule(
                    "scim.entitlements.list-schema",
                    format!("{endpoint}: `schemas` does not contain the ListResponse URN"),
                )
                .diff(DiffEntry::new(
                    "/schemas",
                    format!("contains {LIST_URN}"),
                    got,
                ));
            ctx.finding(f.at_exchange(i));
        }
        page_size(ctx, &endpoint, &list, 1, i);
    }
}

/// What a grant or revoke names: `values: { Role: [role-admin], License: [license-pro] }`, or
/// nothing — then the first discovered value of every type (an admin's pick in "Customize
/// entitlements").
fn chosen(
    ctx: &mut ActionCtx<'_>,
    types: &[Type],
    action: &ActionStep,
) -> Option<Vec<(Type, String)>> {
    let mut out = Vec::new();
    match opt(action, "values").and_then(|n| n.as_map()) {
        None => {
            for t in types {
                if let Some((id, _)) = t.values.first() {
                    out.push((t.clone(), id.clone()));
                }
            }
        }
        Some(entries) => {
            for (k, v) in entries {
                let Some(t) = types.iter().find(|t| t.name.eq_ignore_ascii_case(&k.name)) else {
                    let f = ctx.rule(
                        "scenario.action",
                        format!(
                            "Okta discovered no entitlement type `{}` (discovered: {})",
                            k.name,
                            types
                                .iter()
                                .map(|t| t.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    ctx.finding(f);
                    return None;
                };
                let ids: Vec<String> = match &v.kind {
                    NodeKind::Seq(items) => items.iter().filter_map(|i| i.scalar_text()).collect(),
                    _ => v.scalar_text().into_iter().collect(),
                };
                for id in ids {
                    if !t.values.iter().any(|(i, _)| *i == id) {
                        let f = ctx.rule(
                            "scenario.action",
                            format!("`{id}` is not a discovered {} value", t.name),
                        );
                        ctx.finding(f);
                        return None;
                    }
                    out.push((t.clone(), id));
                }
            }
        }
    }
    Some(out)
}

fn element(t: &Type, id: &str) -> Value {
    let display = t
        .values
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, d)| d.clone())
        .unwrap_or_default();
    if t.role {
        json!({ "value": id, "display": display })
    } else {
        json!({ "value": id, "display": display, "type": t.name })
    }
}

fn assigned(resource: &Value, t: &Type) -> Vec<String> {
    resource
        .get(t.attribute())
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| t.owns(e))
        .filter_map(|e| e.get("value").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// An Okta import (`import: users`) after grants: each app user's `roles` / `entitlements` in the
/// list must hold what Okta granted. Okta reads existing assignments from the imported user
/// objects (Okta guide, "User operations": import is a SCIM user operation whose user object
/// carries the entitlements and roles; Okta's workshop: "The user scan synced the existing
/// users and the roles!"), so a list that leaves them out shows the user without that access.
pub fn check_imported(ctx: &mut ActionCtx<'_>, imported: &[Value]) {
    let types = saved_types(ctx);
    let believed: Vec<(String, Vec<(String, String)>)> = ctx
        .state
        .profile
        .get("okta_grants")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, pairs)| {
            let pairs = pairs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_string(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect();
            (key.clone(), pairs)
        })
        .collect();
    for (key, pairs) in believed {
        if pairs.is_empty() {
            continue;
        }
        let Some(id) = ctx
            .state
            .users
            .get(&key)
            .and_then(|u| u.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        // A user the import did not return is `okta.import.missing-user`'s to report.
        let Some((at, user)) = imported
            .iter()
            .enumerate()
            .find(|(_, u)| u.get("id").and_then(Value::as_str) == Some(id.as_str()))
        else {
            continue;
        };
        let mut f = ctx.rule(
            "scim.assignment.not-imported",
            format!("the import lists `{key}` without the access Okta granted"),
        );
        let mut any = false;
        for (type_name, vid) in &pairs {
            let Some(t) = types.iter().find(|t| &t.name == type_name) else {
                continue;
            };
            if !assigned(user, t).contains(vid) {
                any = true;
                f = f.diff(DiffEntry::new(
                    // The position among all imported users (pages concatenated).
                    format!("/Resources/{at}/{}", t.attribute()),
                    format!("contains {vid} ({type_name})"),
                    user.get(t.attribute())
                        .map(show)
                        .unwrap_or_else(|| "absent".into()),
                ));
            }
        }
        if any {
            ctx.finding(f);
        }
    }
}

/// `grant: alice` / `revoke: alice`: GET the user, PUT it back with the assignments changed.
pub async fn change(
    ctx: &mut ActionCtx<'_>,
    s: &Settings,
    key: &str,
    action: &ActionStep,
    grant: bool,
) {
    let types = saved_types(ctx);
    if types.is_empty() {
        let f = ctx.rule(
            "scenario.action",
            "no entitlements were discovered: run `discover_entitlements` (or `test_connector` with `settings: { governance: true }`) first",
        );
        ctx.finding(f);
        return;
    }
    let Some(id) = ctx
        .state
        .users
        .get(key)
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        let f = ctx.rule(
            "okta.user.unlinked",
            format!("`{key}` has no app user linked in Okta, so Okta writes no entitlements"),
        );
        ctx.finding(f);
        return;
    };
    let Some(picked) = chosen(ctx, &types, action) else {
        return;
    };
    let what = if grant { "grant" } else { "revocation" };
    let path = format!("/Users/{}", crate::support::text::path_segment(&id));
    let (i, raw) = wire::send(ctx, s, wire::request("GET", path.clone(), None)).await;
    if judge::write_failed(ctx, i, &raw, "okta.user.read-failed") {
        return;
    }
    let Some(current) = raw.body.clone().filter(|b| b.is_object()) else {
        return;
    };
    let mut body: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    for attr in ["roles", "entitlements"] {
        let mut items: Vec<Value> = body
            .get(attr)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mine: Vec<&(Type, String)> = picked
            .iter()
            .filter(|(t, _)| t.attribute() == attr)
            .collect();
        if mine.is_empty() {
            continue;
        }
        for (t, vid) in mine {
            let present = items
                .iter()
                .any(|e| t.owns(e) && e.get("value").and_then(Value::as_str) == Some(vid.as_str()));
            if grant && !present {
                items.push(element(t, vid));
            } else if !grant {
                items.retain(|e| {
                    !(t.owns(e) && e.get("value").and_then(Value::as_str) == Some(vid.as_str()))
                });
            }
        }
        body.insert(attr.into(), Value::Array(items));
    }
    let (i, raw) = wire::send(
        ctx,
        s,
        wire::request("PUT", path.clone(), Some(Value::Object(body))),
    )
    .await;
    if raw.status == 0 {
        return;
    }
    if !(200..300).contains(&raw.status) {
        if raw.status == 406 || raw.status == 415 {
            // The built-in `http.accept.*`/`http.content-type.*` rules named it.
            return;
        }
        let detail = raw.detail_suffix();
        let readonly = detail.to_ascii_lowercase().contains("readonly");
        if readonly && raw.status == 400 {
            // The server refuses the echo of its own GET (id, meta, groups): the same fault as
            // a profile push, under its rule.
            let f = ctx.rule(
                "okta.put.readonly-rejected",
                format!("the server rejected Okta's PUT of its own GET answer{detail}"),
            );
            ctx.finding(f.at_exchange(i));
            return;
        }
        let f = ctx
            .rule(
                "scim.assignment.rejected",
                format!(
                    "the server refused Okta's entitlement {what} (PUT answered {}{detail})",
                    raw.status
                ),
            )
            .diff(DiffEntry::new("status", "200", raw.status.to_string()));
        ctx.finding(f.at_exchange(i));
        return;
    }
    let record = |ctx: &mut ActionCtx<'_>, body: &Value, i: usize| {
        let mut f = ctx.rule(
            "scim.assignment.not-applied",
            format!("the server acknowledged Okta's entitlement {what} but does not hold it"),
        );
        let mut any = false;
        for (t, vid) in &picked {
            let held = assigned(body, t).contains(vid);
            if held != grant {
                any = true;
                f = f.diff(DiffEntry::new(
                    format!("/{}", t.attribute()),
                    if grant {
                        format!("contains {vid}")
                    } else {
                        format!("without {vid}")
                    },
                    if held {
                        format!("contains {vid}")
                    } else {
                        format!("without {vid}")
                    },
                ));
            }
        }
        if any {
            ctx.finding(f.at_exchange(i));
        }
        !any
    };
    let ok = match raw.body.as_ref().filter(|b| b.is_object()) {
        Some(b) => {
            let b = b.clone();
            record(ctx, &b, i)
        }
        None => true,
    };
    let mut applied = ok;
    if ok && opt_bool(action, "verify", false) {
        let (i, raw) = ctx
            .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
            .await;
        if let Some(b) = raw.body.clone().filter(|b| b.is_object()) {
            applied = record(ctx, &b, i);
        }
    }
    // What Okta now believes the app user holds, for a later import to compare against. A
    // change the server was seen not to apply is already a finding; it is not believed, so
    // the import does not report the same fault again.
    if !applied {
        return;
    }
    let grants = ctx
        .state
        .profile
        .entry("okta_grants")
        .or_insert_with(|| json!({}));
    if let Some(m) = grants.as_object_mut() {
        let mine = m.entry(key.to_string()).or_insert_with(|| json!([]));
        if let Some(a) = mine.as_array_mut() {
            for (t, vid) in &picked {
                let e = json!([t.name, vid]);
                if grant && !a.contains(&e) {
                    a.push(e);
                } else if !grant {
                    a.retain(|x| x != &e);
                }
            }
        }
    }
}
