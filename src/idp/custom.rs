//! Custom extension attributes (`urn:ietf:params:scim:schemas:extension:<Name>:2.0:User:<attr>`),
//! judged the same way whichever IdP sent them: the server must store them, return them, and —
//! for the IdPs that read it — advertise them in `/Schemas`. Servers strip them, fail to
//! advertise them, or reject them (see the quirks in `server::extensions`).
//!
//! Both profiles call in here, so one fault carries one rule id whoever saw it:
//! `scim.custom-attribute.not-stored`, `scim.custom-attribute.not-advertised`,
//! `scim.custom-attribute.unlisted-rejected` (POST/PUT refused: extension not in `schemas`),
//! `scim.custom-attribute.patch-rejected` (PATCH by URN refused), and
//! `scim.custom-attribute.rejected` (any other refusal of a body with custom attributes), and
//! `scim.custom-attribute.unsupported` (the server does not support the extension at all).
//!
//! A server that does not support an extension at all — it skips its attributes, or refuses
//! them, and `/Schemas` does not define it (Captain-P-Goldfish/SCIM-SDK#539) — shows that one
//! cause on every write and on `/Schemas`: it is one problem, `scim.custom-attribute.unsupported`,
//! about what the IdP sees (its writes lose the values or fail). Neither IdP reads `/Schemas`
//! for a custom app, so `/Schemas` is only how idpsim tells that cause from a server that does
//! support the extension and loses or refuses part of it (which keeps the precise rules above):
//! the extension is unsupported when `/Schemas` is published, does not define it, and no read
//! in the scenario showed any of its attributes held. A `/Schemas` finding about it in the same
//! scenario is folded into that problem (`fold`), as a supporting sign.
//!
//! A server with no usable `/Schemas` (none, or an answer that is not a list) cannot tell
//! idpsim either way. Then the writes decide: an acknowledged write whose read-back holds none
//! of the extension's attributes, with no read in the scenario ever showing one held, is the
//! same one cause — the server does not keep that extension — and the later refusals of writes
//! carrying it are that problem too, not a `not-stored` beside a `patch-rejected` for one
//! fault. A write that keeps any of its attributes still makes the rest `not-stored`; a refusal
//! before any such loss keeps its precise rule (nothing yet says the extension is the cause).
//!
//! The same holds for one attribute of an extension the server does keep: an attribute an
//! acknowledged write left absent, that no read showed held, is one the server does not define;
//! a later PATCH refused for it (every custom attribute it addresses is such an attribute, or
//! the server's `detail` names one) is that `not-stored` problem again, not a `patch-rejected`.
//! A refusal of an attribute the server did store stays `patch-rejected`.
//!
//! An acknowledged update of only custom attributes that left the version where it was and
//! does not hold them cannot be told, from that write alone, from a PATCH the server ignored
//! altogether (the generic rules' fault). It is judged when the scenario ends (`fold`): if a
//! later write whose other attributes landed showed the server dropping the same attributes,
//! the `not-stored` finding is added at the step where the value was lost; else nothing.

use serde_json::Value;

use crate::check::show;
use crate::idp::context::ActionCtx;
use crate::outcome::{DiffEntry, Finding, Outcome, StepResult};
use crate::transport::{OutgoingRequest, RawResponse};

/// `urn:…:2.0:User:attr` → (`urn:…:2.0:User`, `attr`) for extensions other than the RFC's
/// enterprise one.
pub fn split_custom(path: &str) -> Option<(&str, &str)> {
    let (schema, attr) = path.rsplit_once(':')?;
    (crate::scim::schema::is_custom_extension(schema)
        && schema.to_ascii_lowercase().ends_with(":user")
        && !attr.is_empty())
    .then_some((schema, attr))
}

pub fn is_custom(path: &str) -> bool {
    split_custom(path).is_some()
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The value a resource holds for a custom path, nested (`{"urn:…:User": {"attr": …}}`) or, as
/// some servers answer, flat under the full path.
pub fn held<'a>(resource: &'a Value, path: &str) -> Option<&'a Value> {
    let (schema, attr) = split_custom(path)?;
    get_ci(resource, schema)
        .and_then(|ext| get_ci(ext, attr))
        .or_else(|| get_ci(resource, path))
        .filter(|v| !v.is_null())
}

/// Values compare by their text: Entra sends strings, a server may answer a number.
fn same(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text(a) == text(b)
}

const UNSUPPORTED: &str = "scim.custom-attribute.unsupported";

/// What a scenario learned about the server's custom extensions (lower-cased URNs), to name a
/// fault by its cause (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Extensions {
    /// The schema ids `/Schemas` defines: `None` until an answer was seen; `Some(None)` when
    /// the server gave no usable list (then nothing is concluded from it).
    defined: Option<Option<Vec<String>>>,
    /// Extensions a read showed holding attributes: the server supports them.
    held: Vec<String>,
    /// Extensions reported as unsupported in this scenario.
    unsupported: Vec<String>,
    /// Custom attributes (`urn:…:user:attr`) a read showed held: the server keeps them.
    held_attrs: Vec<String>,
    /// Custom attributes reported `not-stored` because an acknowledged write left them absent.
    absent: Vec<String>,
    /// Every custom attribute a `not-stored` finding named, in report order (append-only).
    reported: Vec<String>,
    /// Losses that could not be told from a PATCH ignored altogether when they showed
    /// (`check_held_unsure`): how many entries `reported` had then, and the finding to add at
    /// that step if a later write shows the server drops those attributes (`fold`).
    unsure: Vec<(usize, Finding)>,
}

impl Extensions {
    /// Notes a `/Schemas` answer's body (`Null` when there was no usable answer).
    pub fn note_schemas(&mut self, list: &Value) {
        self.defined = Some(schema_ids(list));
    }

    fn note_held(&mut self, urn: &str) {
        let u = urn.to_ascii_lowercase();
        if !self.held.contains(&u) {
            self.held.push(u);
        }
    }

    /// Whether `/Schemas` gave a usable list of schemas.
    fn published(&self) -> bool {
        matches!(self.defined, Some(Some(_)))
    }

    fn is_unsupported(&self, urn: &str) -> bool {
        self.unsupported.contains(&urn.to_ascii_lowercase())
    }

    fn note(list: &mut Vec<String>, path: &str) {
        let p = path.to_ascii_lowercase();
        if !list.contains(&p) {
            list.push(p);
        }
    }

    /// Whether this scenario found attribute `path` absent after an acknowledged write, and no
    /// read ever showed it held: the server does not keep it.
    fn not_kept(&self, path: &str) -> bool {
        let p = path.to_ascii_lowercase();
        self.absent.contains(&p) && !self.held_attrs.contains(&p)
    }
}

/// The schema ids of a `/Schemas` ListResponse, lower-cased; `None` without a `Resources` list.
fn schema_ids(list: &Value) -> Option<Vec<String>> {
    let resources = list.get("Resources")?.as_array()?;
    Some(
        resources
            .iter()
            .filter_map(|s| s.get("id").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
            .collect(),
    )
}

/// Whether the server does not support extension `urn`. No read in this scenario showed any of
/// its attributes held, and `/Schemas` (the IdP's read, else idpsim's own, once per scenario) is
/// published and does not define it — or, when `/Schemas` gave no usable list, the write being
/// judged was acknowledged and lost all of them (`all_lost`), or an earlier one of this scenario
/// already showed the extension unsupported.
async fn unsupported(ctx: &mut ActionCtx<'_>, urn: &str, all_lost: bool) -> bool {
    let u = urn.to_ascii_lowercase();
    if ctx.state.extensions.held.contains(&u) {
        return false;
    }
    if ctx.state.extensions.unsupported.contains(&u) {
        return true;
    }
    if ctx.state.extensions.defined.is_none() && !ctx.dry_run() {
        // idpsim's own read (neutral headers, not IdP traffic), only once a write has gone wrong.
        let (_, raw) = ctx
            .send(OutgoingRequest::new("GET", "/Schemas").header("Accept", "application/scim+json"))
            .await;
        let body = raw
            .body
            .filter(|_| raw.status == 200)
            .unwrap_or(Value::Null);
        ctx.state.extensions.note_schemas(&body);
    }
    match &ctx.state.extensions.defined {
        Some(Some(ids)) => !ids.contains(&u),
        // No usable /Schemas: discovery cannot tell, the writes do.
        Some(None) => all_lost,
        None => false,
    }
}

/// The custom extensions (URNs as sent) a request body carries attributes of: extension
/// objects, `urn:…:User:attr` keys, PATCH paths and path-less values.
fn extensions_in(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |urn: &str| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(urn)) {
            out.push(urn.to_string());
        }
    };
    let Some(o) = body.as_object() else {
        return out;
    };
    for k in o.keys() {
        if let Some((urn, _)) = split_custom(k) {
            add(urn);
        } else if crate::scim::schema::is_custom_extension(k) {
            add(k);
        }
    }
    for op in get_ci(body, "Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some((urn, _)) = get_ci(op, "path")
            .and_then(Value::as_str)
            .and_then(split_custom)
        {
            add(urn);
        }
        if let Some(v) = get_ci(op, "value") {
            for urn in extensions_in(v) {
                add(&urn);
            }
        }
    }
    out
}

/// What `/Schemas` says of this id: no schema with it (the supporting sign of an unsupported
/// extension), or nothing, when it gave no usable list.
fn schemas_diff(ext: &Extensions, urn: &str) -> DiffEntry {
    let actual = if ext.published() {
        "absent"
    } else {
        "no usable /Schemas answer"
    };
    DiffEntry::new("/Schemas", format!("a schema with id {urn}"), actual)
}

/// Reports that the server does not support the extensions `urns`.
fn report_unsupported(ctx: &mut ActionCtx<'_>, urns: &[&str], mut f: Finding) {
    for urn in urns {
        let u = urn.to_ascii_lowercase();
        if !ctx.state.extensions.unsupported.contains(&u) {
            ctx.state.extensions.unsupported.push(u);
        }
        f = f.diff(schemas_diff(&ctx.state.extensions, urn));
    }
    ctx.finding(f);
}

/// After a scenario: a `/Schemas` finding about mapped attributes of an extension the scenario
/// found unsupported is that problem's supporting sign, not a problem of its own. It keeps its
/// step, exchange and severity and takes the unsupported rule; its consequence is the writes'
/// (it carries none of its own, so the problem's consequence is what the IdP's writes met).
pub fn fold(ext: &Extensions, steps: &mut [StepResult]) {
    confirm_unsure(ext, steps);
    if ext.unsupported.is_empty() {
        return;
    }
    let of_unsupported = |d: &DiffEntry| {
        d.expected
            .strip_prefix(ADVERTISED_PREFIX)
            .and_then(split_custom)
            .is_some_and(|(urn, _)| ext.is_unsupported(urn))
    };
    for step in steps.iter_mut() {
        let mut out = Vec::with_capacity(step.findings.len());
        for f in std::mem::take(&mut step.findings) {
            if f.rule != "scim.custom-attribute.not-advertised"
                || !f.diff.iter().any(of_unsupported)
            {
                out.push(f);
                continue;
            }
            let (folded, kept): (Vec<DiffEntry>, Vec<DiffEntry>) =
                f.diff.iter().cloned().partition(of_unsupported);
            let mut urns: Vec<String> = Vec::new();
            for d in &folded {
                if let Some((urn, _)) = d
                    .expected
                    .strip_prefix(ADVERTISED_PREFIX)
                    .and_then(split_custom)
                {
                    if !urns.iter().any(|u| u.eq_ignore_ascii_case(urn)) {
                        urns.push(urn.to_string());
                    }
                }
            }
            let message = if ext.published() {
                format!(
                    "/Schemas does not define the custom extension {} either: the server does not support it, as this scenario's writes show",
                    urns.join(", ")
                )
            } else {
                format!(
                    "/Schemas gave no usable list (nothing there defines the custom extension {}): the server does not support it, as this scenario's writes show",
                    urns.join(", ")
                )
            };
            let sign = Finding {
                rule: UNSUPPORTED.to_string(),
                message,
                impact: None,
                diff: folded,
                ..f.clone()
            };
            if !kept.is_empty() {
                out.push(Finding { diff: kept, ..f });
            }
            out.push(sign);
        }
        step.findings = out;
    }
}

/// After a scenario: an unsure loss (`check_held_unsure`) is reported at its own step once a
/// later write of the scenario showed the server dropping one of the same attributes while the
/// rest of that write landed — then the earlier write lost them too, and the server was not
/// ignoring PATCHes altogether. The finding joins the `not-stored` problem there, and the step
/// fails as it would have had that been known then. Unconfirmed, it is dropped: a PATCH the
/// server did not apply at all is the generic rules' fault.
fn confirm_unsure(ext: &Extensions, steps: &mut [StepResult]) {
    for (from, f) in &ext.unsure {
        let later = ext.reported.get(*from..).unwrap_or(&[]);
        let confirmed = f.diff.iter().any(|d| {
            let p = d.pointer.trim_start_matches('/').to_ascii_lowercase();
            later.contains(&p)
        });
        if !confirmed {
            continue;
        }
        let Some(step) = steps
            .iter_mut()
            .find(|s| f.source.as_ref() == Some(&s.source))
        else {
            continue;
        };
        step.findings.push(f.clone());
        step.outcome = match (step.outcome, Outcome::from_findings([f])) {
            (Outcome::Passed | Outcome::Warned, Outcome::Failed) => Outcome::Failed,
            (Outcome::Passed, Outcome::Warned) => Outcome::Warned,
            (kept, _) => kept,
        };
    }
}

/// Reports the custom attributes `resource` does not hold as sent — an extension none of whose
/// attributes it holds and that the server does not support as `unsupported`, the rest as
/// `not-stored`. Returns whether all are held.
pub async fn check_held(
    ctx: &mut ActionCtx<'_>,
    resource: &Value,
    expected: &[(String, Value)],
    exchange: usize,
    who: &str,
) -> bool {
    let custom: Vec<&(String, Value)> = expected.iter().filter(|(p, _)| is_custom(p)).collect();
    let mut urns: Vec<&str> = Vec::new();
    for (path, _) in &custom {
        if let Some((urn, _)) = split_custom(path) {
            if !urns.iter().any(|u| u.eq_ignore_ascii_case(urn)) {
                urns.push(urn);
            }
        }
    }
    for (path, _) in &custom {
        if held(resource, path).is_some() {
            Extensions::note(&mut ctx.state.extensions.held_attrs, path);
        }
    }
    let mut all_held = true;
    let mut lost: Vec<&str> = Vec::new();
    for urn in urns {
        let mine = || {
            custom.iter().filter(move |(p, _)| {
                split_custom(p).is_some_and(|(u, _)| u.eq_ignore_ascii_case(urn))
            })
        };
        let holds_any = mine().any(|(p, _)| held(resource, p).is_some())
            || get_ci(resource, urn)
                .and_then(Value::as_object)
                .is_some_and(|o| o.values().any(|v| !v.is_null()));
        if holds_any {
            ctx.state.extensions.note_held(urn);
        }
        if mine().all(|(p, want)| held(resource, p).is_some_and(|g| same(g, want))) {
            continue;
        }
        all_held = false;
        if !holds_any && unsupported(ctx, urn, true).await {
            let unknown = if ctx.state.extensions.published() {
                ""
            } else {
                " (and /Schemas gives no usable list that could define it)"
            };
            let mut f = ctx
                .rule(
                    UNSUPPORTED,
                    format!("the server does not support the custom extension {urn}: it acknowledged {who} and holds none of the attributes sent in it{unknown}"),
                )
                .at_exchange(exchange);
            for (path, want) in mine() {
                f = f.diff(DiffEntry::new(format!("/{path}"), show(want), "absent"));
            }
            report_unsupported(ctx, &[urn], f);
            lost.push(urn);
        }
    }
    if all_held {
        return true;
    }
    let remaining: Vec<(String, Value)> = custom
        .iter()
        .filter(|(p, _)| {
            !split_custom(p).is_some_and(|(u, _)| lost.iter().any(|l| l.eq_ignore_ascii_case(u)))
        })
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    report_not_stored(ctx, resource, &remaining, exchange, who);
    false
}

/// `scim.custom-attribute.not-stored` for the custom attributes `resource` does not hold as sent.
fn report_not_stored(
    ctx: &mut ActionCtx<'_>,
    resource: &Value,
    expected: &[(String, Value)],
    exchange: usize,
    who: &str,
) {
    let message =
        format!("the server acknowledged {who} but does not hold its custom extension attributes");
    let Some(f) = not_stored(ctx, resource, expected, exchange, message) else {
        return;
    };
    for (path, _) in expected.iter().filter(|(p, _)| is_custom(p)) {
        let lower = format!("/{}", path.to_ascii_lowercase());
        if !f
            .diff
            .iter()
            .any(|d| d.pointer.to_ascii_lowercase() == lower)
        {
            continue;
        }
        ctx.state
            .extensions
            .reported
            .push(path.to_ascii_lowercase());
        if held(resource, path).is_none() {
            Extensions::note(&mut ctx.state.extensions.absent, path);
        }
    }
    ctx.finding(f);
}

/// The `not-stored` finding for the custom attributes `resource` does not hold as sent, if any.
fn not_stored(
    ctx: &ActionCtx<'_>,
    resource: &Value,
    expected: &[(String, Value)],
    exchange: usize,
    message: String,
) -> Option<Finding> {
    let mut f = ctx
        .rule("scim.custom-attribute.not-stored", message)
        .at_exchange(exchange);
    let mut missing = false;
    for (path, want) in expected.iter().filter(|(p, _)| is_custom(p)) {
        let got = held(resource, path);
        if !got.is_some_and(|g| same(g, want)) {
            missing = true;
            f = f.diff(DiffEntry::new(
                format!("/{path}"),
                show(want),
                got.map(show).unwrap_or_else(|| "absent".into()),
            ));
        }
    }
    missing.then_some(f)
}

/// An update that carried only custom attributes, was acknowledged and left the resource's
/// version where it was, and whose read-back does not hold them: from this write alone it
/// cannot be told from a PATCH the server ignored altogether (`patch-noop-204`, the generic
/// rules' fault at the final read), so nothing is reported now. The `not-stored` finding is
/// kept, and `fold` adds it at this step if a later write shows the server dropping the same
/// attributes while the rest of that write landed. Attributes of an extension already found
/// unsupported are that problem's, not this one's.
pub fn check_held_unsure(
    ctx: &mut ActionCtx<'_>,
    resource: &Value,
    expected: &[(String, Value)],
    exchange: usize,
    who: &str,
) {
    let mine: Vec<(String, Value)> = expected
        .iter()
        .filter(|(p, _)| {
            split_custom(p).is_some_and(|(u, _)| !ctx.state.extensions.is_unsupported(u))
        })
        .cloned()
        .collect();
    let message = format!(
        "the server acknowledged {who} but does not hold its custom extension attributes (it answered as if nothing changed; a later update that did land shows the server drops them)"
    );
    if let Some(f) = not_stored(ctx, resource, &mine, exchange, message) {
        let from = ctx.state.extensions.reported.len();
        ctx.state.extensions.unsure.push((from, f));
    }
}

/// idpsim's own read-back of a user after a write (neutral headers, not IdP traffic), checking
/// the custom attributes the IdP sent.
pub async fn verify(
    ctx: &mut ActionCtx<'_>,
    user_id: &str,
    expected: &[(String, Value)],
    who: &str,
) {
    if ctx.dry_run() || !expected.iter().any(|(p, _)| is_custom(p)) {
        return;
    }
    let path = format!("/Users/{}", crate::support::text::path_segment(user_id));
    let (i, raw) = ctx
        .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
        .await;
    if let Some(body) = raw
        .body
        .as_ref()
        .filter(|b| b.is_object() && (200..300).contains(&raw.status))
    {
        let body = body.clone();
        check_held(ctx, &body, expected, i, who).await;
    }
}

/// Which refusal it is: a PATCH addressing custom attributes by URN, a POST/PUT whose custom
/// extension is not listed in `schemas` (Entra never lists it), or another refusal of a body
/// with custom attributes.
fn rejection_rule(sent: &Value) -> &'static str {
    let Some(o) = sent.as_object() else {
        return "scim.custom-attribute.rejected";
    };
    if o.contains_key("Operations") {
        return "scim.custom-attribute.patch-rejected";
    }
    let listed: Vec<String> = o
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let unlisted = o.keys().any(|k| {
        let urn = split_custom(k).map(|(u, _)| u).unwrap_or(k);
        crate::scim::schema::is_custom_extension(urn) && !listed.contains(&urn.to_ascii_lowercase())
    });
    if unlisted {
        "scim.custom-attribute.unlisted-rejected"
    } else {
        "scim.custom-attribute.rejected"
    }
}

/// A write refused while the body carried custom attributes: the finding names that, with the
/// server's own words, instead of a generic failure — and, when the server does not support
/// the extensions the body carries at all, that cause.
pub async fn rejected(
    ctx: &mut ActionCtx<'_>,
    sent: &Value,
    raw: &RawResponse,
    exchange: usize,
    what: &str,
) {
    let detail = raw.detail_suffix();
    let urns = extensions_in(sent);
    let mut none_supported = !urns.is_empty();
    for urn in &urns {
        if !unsupported(ctx, urn, false).await {
            none_supported = false;
            break;
        }
    }
    if none_supported {
        let f = ctx
            .rule(
                UNSUPPORTED,
                format!(
                    "the server does not support the custom extension {}: it refused {what}, which carries its attributes ({}{detail})",
                    urns.join(", "),
                    raw.status
                ),
            )
            .diff(DiffEntry::new("status", "2xx", raw.status.to_string()))
            .at_exchange(exchange);
        let urns: Vec<&str> = urns.iter().map(String::as_str).collect();
        report_unsupported(ctx, &urns, f);
        return;
    }
    let rule = rejection_rule(sent);
    if rule == "scim.custom-attribute.patch-rejected" {
        let kept_out = refused_unkept(&ctx.state.extensions, sent, raw);
        if !kept_out.is_empty() {
            // One missing attribute, one problem: the refusal of a PATCH of an attribute that an
            // earlier acknowledged write of this scenario left absent (and no read showed held)
            // is that same fault — the server does not define the attribute — seen through a
            // PATCH ("unknown attribute"), so it joins the `not-stored` problem as more evidence
            // instead of a `patch-rejected` beside it. `not-stored` is the truer name: the server
            // addresses its other custom attributes by URN path, so `patch-rejected` (a server
            // that cannot resolve URN paths, wso2/product-is#6015) would send its developer to
            // the wrong fix; the fault first showed, and is first fixed, as the attribute the
            // server does not keep.
            let f = ctx
                .rule(
                    "scim.custom-attribute.not-stored",
                    format!(
                        "the server refused {what} of {}, which it did not store when written before either: it does not keep {} ({}{detail})",
                        kept_out.join(", "),
                        if kept_out.len() == 1 { "that attribute" } else { "those attributes" },
                        raw.status
                    ),
                )
                .diff(DiffEntry::new("status", "2xx", raw.status.to_string()))
                .at_exchange(exchange);
            ctx.finding(f);
            return;
        }
    }
    let f = ctx
        .rule(
            rule,
            format!(
                "the server refused {what}, which carries custom extension attributes ({}{detail})",
                raw.status
            ),
        )
        .diff(DiffEntry::new("status", "2xx", raw.status.to_string()))
        .at_exchange(exchange);
    ctx.finding(f);
}

/// The custom attributes (`urn:…:User:attr`, as sent) a PATCH addresses: operation paths,
/// URN keys of path-less values and the attributes of extension objects in them.
fn custom_paths_in(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |p: String| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&p)) {
            out.push(p);
        }
    };
    for op in get_ci(body, "Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = get_ci(op, "path").and_then(Value::as_str) {
            if is_custom(p) {
                add(p.to_string());
            }
        }
        for (k, v) in get_ci(op, "value")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if is_custom(k) {
                add(k.clone());
            } else if crate::scim::schema::is_custom_extension(k) {
                for a in v.as_object().into_iter().flatten().map(|(a, _)| a) {
                    if is_custom(&format!("{k}:{a}")) {
                        add(format!("{k}:{a}"));
                    }
                }
            }
        }
    }
    out
}

/// The attributes a refused PATCH addresses that this scenario found the server does not keep
/// (`Extensions::not_kept`), when they explain the refusal: every custom attribute the PATCH
/// addresses is one of them, or the server's `detail` names one. Empty otherwise — a refusal
/// of an attribute the server did store stays its own problem.
fn refused_unkept(ext: &Extensions, sent: &Value, raw: &RawResponse) -> Vec<String> {
    let paths = custom_paths_in(sent);
    let unkept: Vec<String> = paths.iter().filter(|p| ext.not_kept(p)).cloned().collect();
    if unkept.is_empty() {
        return unkept;
    }
    if unkept.len() == paths.len() {
        return unkept;
    }
    let detail = raw.scim_detail().unwrap_or("").to_ascii_lowercase();
    let named: Vec<String> = unkept
        .into_iter()
        .filter(|p| {
            let lower = p.to_ascii_lowercase();
            let attr = lower.rsplit(':').next().unwrap_or("");
            detail.contains(&lower)
                || detail.contains(&format!("'{attr}'"))
                || detail.contains(&format!("\"{attr}\""))
        })
        .collect();
    named
}

/// Whether a refusal is about the custom attributes the request carried: a 400 whose `detail`
/// names a URN, a schema, an extension or a path (a 400 about something else keeps its own rule).
pub fn refusal_blames_custom(body_sent: &Value, raw: &RawResponse) -> bool {
    if raw.status != 400 || !body_has_custom(body_sent) {
        return false;
    }
    let detail = raw.scim_detail().unwrap_or("").to_ascii_lowercase();
    ["urn:", "schema", "extension", "path", "attribute"]
        .iter()
        .any(|w| detail.contains(w))
}

/// Whether a request body names a custom attribute (nested object, URN path or URN key).
pub fn body_has_custom(body: &Value) -> bool {
    let Some(o) = body.as_object() else {
        return false;
    };
    if o.keys()
        .any(|k| crate::scim::schema::is_custom_extension(k) || is_custom(k))
    {
        return true;
    }
    o.get("Operations")
        .and_then(Value::as_array)
        .is_some_and(|ops| {
            ops.iter().any(|op| {
                op.get("path")
                    .and_then(Value::as_str)
                    .is_some_and(is_custom)
                    || op.get("value").is_some_and(body_has_custom)
            })
        })
}

/// `<schema id>:<attr>` for every attribute `/Schemas` advertises (Microsoft's
/// Schema_Discoverability_Test flattens it this way), lower-cased.
pub fn advertised(schemas_list: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let resources = schemas_list
        .get("Resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in &resources {
        let Some(id) = s.get("id").and_then(Value::as_str) else {
            continue;
        };
        for a in s
            .get("attributes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = a.get("name").and_then(Value::as_str) {
                out.push(format!("{id}:{name}").to_ascii_lowercase());
            }
        }
    }
    out
}

/// Reports the custom targets a `/Schemas` answer does not advertise.
pub fn check_advertised(
    ctx: &mut ActionCtx<'_>,
    schemas_list: &Value,
    targets: &[String],
    exchange: usize,
) {
    ctx.state.extensions.note_schemas(schemas_list);
    let have = advertised(schemas_list);
    let missing: Vec<&String> = targets
        .iter()
        .filter(|t| is_custom(t) && !have.contains(&t.to_ascii_lowercase()))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut f = ctx
        .rule(
            "scim.custom-attribute.not-advertised",
            format!(
                "/Schemas does not advertise {} mapped custom attribute(s)",
                missing.len()
            ),
        )
        .at_exchange(exchange);
    for t in missing {
        f = f.diff(DiffEntry::new(
            "/Schemas",
            format!("{ADVERTISED_PREFIX}{t}"),
            "absent",
        ));
    }
    ctx.finding(f);
}

/// How a `not-advertised` diff names the attribute (`fold` reads it back).
const ADVERTISED_PREFIX: &str = "defines ";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag";

    #[test]
    fn custom_paths_exclude_the_enterprise_extension() {
        assert!(is_custom(P));
        assert!(!is_custom(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
        ));
        assert!(!is_custom("name.givenName"));
    }

    #[test]
    fn held_reads_nested_and_flat_forms() {
        let nested = json!({"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {"Tag": "x"}});
        assert_eq!(held(&nested, P), Some(&json!("x")));
        let flat = json!({ P: "y" });
        assert_eq!(held(&flat, P), Some(&json!("y")));
        assert_eq!(held(&json!({}), P), None);
    }

    #[test]
    fn the_extensions_a_body_carries_are_found_in_every_form() {
        let ext = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
        let nested = json!({"userName": "a", ext: {"tag": "x"}});
        assert_eq!(extensions_in(&nested), vec![ext.to_string()]);
        let by_path = json!({"Operations": [{"op": "Replace", "path": P, "value": "x"}]});
        assert_eq!(extensions_in(&by_path), vec![ext.to_string()]);
        let pathless =
            json!({"Operations": [{"op": "replace", "value": {"displayName": "d", P: "x"}}]});
        assert_eq!(extensions_in(&pathless), vec![ext.to_string()]);
        let enterprise = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"}});
        assert!(extensions_in(&enterprise).is_empty());
    }

    /// The `/Schemas` finding about an unsupported extension takes its rule and keeps its
    /// severity; what it says about another extension stays a finding of its own.
    #[test]
    fn a_schemas_finding_about_an_unsupported_extension_is_folded_into_it() {
        use crate::outcome::{Outcome, Severity};
        let other = "urn:ietf:params:scim:schemas:extension:Other:2.0:User:x";
        let f = Finding::warning("scim.custom-attribute.not-advertised", "/Schemas …")
            .impact("gallery test fails")
            .diff(DiffEntry::new(
                "/Schemas",
                format!("{ADVERTISED_PREFIX}{P}"),
                "absent",
            ))
            .diff(DiffEntry::new(
                "/Schemas",
                format!("{ADVERTISED_PREFIX}{other}"),
                "absent",
            ));
        let mut steps = vec![StepResult {
            index: 1,
            name: "schemas".into(),
            kind: "check_schema",
            source: crate::support::diagnostic::SourceRef {
                file: "s.yaml".into(),
                line: 1,
                column: 1,
            },
            outcome: Outcome::Warned,
            duration_ms: 0,
            exchanges: Vec::new(),
            findings: vec![f],
            skip_reason: None,
            needs: None,
            probes: Vec::new(),
        }];
        let none = Extensions::default();
        fold(&none, &mut steps);
        assert_eq!(steps[0].findings.len(), 1, "nothing unsupported: unchanged");
        let ext = Extensions {
            defined: Some(Some(Vec::new())),
            unsupported: vec![split_custom(P)
                .map(|(u, _)| u.to_ascii_lowercase())
                .unwrap_or_default()],
            ..Default::default()
        };
        fold(&ext, &mut steps);
        let rules: Vec<(&str, Severity, usize)> = steps[0]
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity, f.diff.len()))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("scim.custom-attribute.not-advertised", Severity::Warning, 1),
                (UNSUPPORTED, Severity::Warning, 1),
            ]
        );
        assert!(steps[0].findings[1].impact.is_none());
        assert!(
            steps[0].findings[1]
                .message
                .starts_with("/Schemas does not define the custom extension"),
            "{}",
            steps[0].findings[1].message
        );
    }

    /// When `/Schemas` gave no usable list, the folded sign says so, and the unsupported
    /// finding's `/Schemas` entry does not claim the list lacks the schema.
    #[test]
    fn without_a_usable_schemas_list_the_sign_does_not_claim_a_missing_schema() {
        let urn = split_custom(P).map(|(u, _)| u).unwrap_or_default();
        let mut ext = Extensions {
            unsupported: vec![urn.to_ascii_lowercase()],
            ..Default::default()
        };
        ext.note_schemas(&Value::Null);
        assert!(!ext.published());
        assert_eq!(schemas_diff(&ext, urn).actual, "no usable /Schemas answer");
        let f = Finding::warning("scim.custom-attribute.not-advertised", "/Schemas …").diff(
            DiffEntry::new("/Schemas", format!("{ADVERTISED_PREFIX}{P}"), "absent"),
        );
        let mut steps = vec![StepResult {
            index: 1,
            name: "schemas".into(),
            kind: "check_schema",
            source: crate::support::diagnostic::SourceRef {
                file: "s.yaml".into(),
                line: 1,
                column: 1,
            },
            outcome: crate::outcome::Outcome::Warned,
            duration_ms: 0,
            exchanges: Vec::new(),
            findings: vec![f],
            skip_reason: None,
            needs: None,
            probes: Vec::new(),
        }];
        fold(&ext, &mut steps);
        let rules: Vec<&str> = steps[0].findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, vec![UNSUPPORTED]);
        assert!(
            steps[0].findings[0]
                .message
                .starts_with("/Schemas gave no usable list"),
            "{}",
            steps[0].findings[0].message
        );
        ext.note_schemas(&serde_json::json!({"Resources": []}));
        assert_eq!(schemas_diff(&ext, urn).actual, "absent");
    }

    #[test]
    fn advertised_attributes_are_flattened_like_microsofts_test() {
        let list = json!({"Resources": [{"id": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User",
            "attributes": [{"name": "tag"}]}]});
        assert_eq!(advertised(&list), vec![P.to_ascii_lowercase()]);
    }
}
