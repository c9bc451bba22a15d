//! The coverage matrix (`docs/coverage.toml` → `docs/COVERAGE.md`): every request form the
//! vendors document for each IdP personality, with its public source, mapped to the shipped
//! scenario step that sends it — or listed as not sent, with the reason.
//!
//! The test runs every mapped scenario against the built-in server and matches each form
//! against what the mapped step really sent (method, path shape, query, filter, body shape,
//! absent headers). It fails when a form has no step and no reason, when a mapped step no
//! longer sends its form, and when `docs/COVERAGE.md` is not what the table renders
//! (`IDPSIM_UPDATE_COVERAGE=1 cargo test --test coverage` rewrites it).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    form: Vec<Form>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    id: String,
    idp: String,
    personalities: Vec<String>,
    what: String,
    /// The vendor page and section, as users read it.
    source: String,
    url: String,
    request: Request,
    #[serde(default)]
    sent_by: Vec<SentBy>,
    /// Why a documented form is deliberately not sent.
    not_covered: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    /// `/Users/{id}`: `{id}` is one path segment.
    path: String,
    /// A regular expression found in the raw query string.
    query: Option<String>,
    /// A regular expression the decoded `filter` parameter matches (anchor it yourself).
    filter: Option<String>,
    /// The body's shape (see `shape_matches`).
    body: Option<toml::Value>,
    #[serde(default)]
    headers_absent: Vec<String>,
    /// Headers that must be there, each value matching a regular expression.
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentBy {
    scenario: String,
    step: usize,
    personality: String,
}

fn personalities_of(idp: &str) -> &'static [&'static str] {
    match idp {
        "okta" => &["oin", "aiw"],
        "entra" => &["default", "aadOptscim062020"],
        _ => &[],
    }
}

fn load() -> Table {
    let text = std::fs::read_to_string(common::root().join("docs/coverage.toml"))
        .expect("docs/coverage.toml is readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("docs/coverage.toml: {e}"))
}

/// What the table must say of itself, without running anything.
fn table_problems(t: &Table) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for f in &t.form {
        let at = &f.id;
        if !ids.insert(f.id.clone()) {
            out.push(format!("{at}: the id is listed twice"));
        }
        let allowed = personalities_of(&f.idp);
        if allowed.is_empty() {
            out.push(format!("{at}: idp `{}` is neither okta nor entra", f.idp));
        }
        if f.personalities.is_empty() {
            out.push(format!("{at}: no personality"));
        }
        for p in &f.personalities {
            if !allowed.contains(&p.as_str()) {
                out.push(format!("{at}: personality `{p}` is not one of {allowed:?}"));
            }
        }
        if !f.url.starts_with("https://") || f.url.contains("shared/reference") {
            out.push(format!("{at}: the source url is not a public https page"));
        }
        for (text, section_signs) in [(&f.source, true), (&f.what, false)] {
            // Users read this page: our research notes (and their § numbers) are not shipped.
            if text.contains("reference/")
                || text.contains(".md")
                || (section_signs && text.contains('§'))
            {
                out.push(format!("{at}: cites the unshipped research notes: {text}"));
            }
        }
        match (f.sent_by.is_empty(), &f.not_covered) {
            (true, None) => out.push(format!(
                "{at}: a documented form with no step that sends it and no reason"
            )),
            (false, Some(_)) => out.push(format!("{at}: both sent and not covered")),
            (true, Some(r)) if r.trim().is_empty() => {
                out.push(format!("{at}: not covered without a reason"))
            }
            _ => {}
        }
        for s in &f.sent_by {
            if !f.personalities.contains(&s.personality) {
                out.push(format!(
                    "{at}: sent_by {} names personality `{}`, which the form does not list",
                    s.scenario, s.personality
                ));
            }
        }
        for p in &f.personalities {
            if !f.sent_by.is_empty() && !f.sent_by.iter().any(|s| &s.personality == p) {
                out.push(format!(
                    "{at}: no step sends it for personality `{p}` (map one, or split the form)"
                ));
            }
        }
        if let Err(e) = Regex::new(&path_regex(&f.request.path)) {
            out.push(format!("{at}: path: {e}"));
        }
        for r in [&f.request.query, &f.request.filter].into_iter().flatten() {
            if let Err(e) = Regex::new(r) {
                out.push(format!("{at}: {e}"));
            }
        }
    }
    out
}

fn path_regex(shape: &str) -> String {
    format!("^{}$", regex::escape(shape).replace(r"\{id\}", "[^/?]+"))
}

/// `application/x-www-form-urlencoded` decoding of one query value.
fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case(name).then(|| form_decode(v))
    })
}

/// The body shape language:
/// * an object matches an object holding at least its members, each matching; a member whose
///   shape is `"<absent>"` must be missing;
/// * an array matches an array of the same length, element by element; a last element `"..."`
///   lets the actual array go on; a first element `"<contains>"` asks only that each of the
///   others matches some element;
/// * `"<any>"` anything present (null too), `"<null>"` an explicit JSON null, `"<string>"`,
///   `"<bool>"`, `"<number>"`, `"<array>"`, `"<object>"` a value of that type, `"re:…"` a
///   string matching the expression; any other value itself.
fn shape_matches(shape: &Json, actual: Option<&Json>) -> Result<(), String> {
    if shape.as_str() == Some("<absent>") {
        return match actual {
            None => Ok(()),
            Some(a) => Err(format!("expected absent, got {a}")),
        };
    }
    let Some(actual) = actual else {
        return Err(format!("expected {shape}, got nothing"));
    };
    match shape {
        Json::String(s) if s.starts_with('<') && s.ends_with('>') => {
            let ok = match s.as_str() {
                "<any>" => true,
                "<null>" => actual.is_null(),
                "<string>" => actual.is_string(),
                "<bool>" => actual.is_boolean(),
                "<number>" => actual.is_number(),
                "<array>" => actual.is_array(),
                "<object>" => actual.is_object(),
                other => return Err(format!("unknown shape marker {other}")),
            };
            ok.then_some(())
                .ok_or_else(|| format!("expected {s}, got {actual}"))
        }
        Json::String(s) if s.starts_with("re:") => {
            let re = Regex::new(&s[3..]).map_err(|e| e.to_string())?;
            match actual.as_str() {
                Some(a) if re.is_match(a) => Ok(()),
                _ => Err(format!(
                    "expected a string matching {}, got {actual}",
                    &s[3..]
                )),
            }
        }
        Json::Object(members) => {
            let Some(obj) = actual.as_object() else {
                return Err(format!("expected an object, got {actual}"));
            };
            for (k, v) in members {
                shape_matches(v, obj.get(k)).map_err(|e| format!("/{k}: {e}"))?;
            }
            Ok(())
        }
        Json::Array(items) if items.first().and_then(Json::as_str) == Some("<contains>") => {
            let Some(arr) = actual.as_array() else {
                return Err(format!("expected an array, got {actual}"));
            };
            for s in &items[1..] {
                if !arr.iter().any(|a| shape_matches(s, Some(a)).is_ok()) {
                    return Err(format!("no element matches {s}"));
                }
            }
            Ok(())
        }
        Json::Array(items) => {
            let Some(arr) = actual.as_array() else {
                return Err(format!("expected an array, got {actual}"));
            };
            let open = items.last().and_then(Json::as_str) == Some("...");
            let items = if open {
                &items[..items.len() - 1]
            } else {
                &items[..]
            };
            if arr.len() < items.len() || (!open && arr.len() != items.len()) {
                return Err(format!(
                    "expected {}{} element(s), got {}",
                    if open { "at least " } else { "" },
                    items.len(),
                    arr.len()
                ));
            }
            for (i, s) in items.iter().enumerate() {
                shape_matches(s, arr.get(i)).map_err(|e| format!("/{i}: {e}"))?;
            }
            Ok(())
        }
        Json::Number(n) => match actual.as_f64() {
            Some(a) if Some(a) == n.as_f64() => Ok(()),
            _ => Err(format!("expected {shape}, got {actual}")),
        },
        _ if shape == actual => Ok(()),
        _ => Err(format!("expected {shape}, got {actual}")),
    }
}

/// Why one recorded exchange is not the form (None: it is).
fn mismatch(req: &Request, base_path: &str, exchange: &Json) -> Option<String> {
    let r = &exchange["request"];
    let method = r["method"].as_str().unwrap_or("");
    if !method.eq_ignore_ascii_case(&req.method) {
        return Some(format!("method {method}"));
    }
    let target = r["target"].as_str().unwrap_or("");
    let rel = target.strip_prefix(base_path).unwrap_or(target);
    let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
    let path_re = Regex::new(&path_regex(&req.path)).ok()?;
    if !path_re.is_match(path) {
        return Some(format!("{method} {path}"));
    }
    if let Some(q) = &req.query {
        if !Regex::new(q).ok()?.is_match(query) {
            return Some(format!(
                "{method} {path}: query `{query}` does not match `{q}`"
            ));
        }
    }
    if let Some(f) = &req.filter {
        let got = query_param(query, "filter");
        let ok = got
            .as_deref()
            .is_some_and(|g| Regex::new(f).is_ok_and(|re| re.is_match(g)));
        if !ok {
            return Some(format!(
                "{method} {path}: filter {got:?} does not match `{f}`"
            ));
        }
    }
    for h in &req.headers_absent {
        let present = r["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|pair| pair[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(h)));
        if present {
            return Some(format!("{method} {path}: carries {h}"));
        }
    }
    for (h, re) in &req.headers {
        let ok = r["headers"].as_array().into_iter().flatten().any(|pair| {
            pair[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(h))
                && pair[1]
                    .as_str()
                    .is_some_and(|v| Regex::new(re).is_ok_and(|re| re.is_match(v)))
        });
        if !ok {
            return Some(format!("{method} {path}: no {h} matching `{re}`"));
        }
    }
    if let Some(shape) = &req.body {
        let shape = serde_json::to_value(shape).ok()?;
        if let Err(e) = shape_matches(&shape, r.get("body")) {
            return Some(format!("{method} {path}: body {e}"));
        }
    }
    None
}

struct Ran {
    report: Json,
    base_path: String,
}

fn run_scenarios(files: &BTreeSet<String>) -> Ran {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let json = dir.path().join("report.json");
    let mut args: Vec<String> = files.iter().cloned().collect();
    args.push("--report-json".into());
    args.push(json.display().to_string());
    let out = common::idpsim()
        .arg("run")
        .args(&args)
        .output()
        .expect("idpsim runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the mapped scenarios pass on the built-in server:\n{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report is written"))
            .expect("the report is JSON");
    let url = report["target"]["url"].as_str().unwrap_or("").to_string();
    let base_path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_default();
    Ran { report, base_path }
}

/// The scenario's personality as the run resolved it (an Entra scenario without `profile:`
/// runs in default mode against the built-in server, whose URL carries no flag).
fn personality(scenario: &Json) -> String {
    match (scenario["idp"].as_str(), scenario["profile"].as_str()) {
        (_, Some(p)) => p.to_string(),
        (Some("entra"), None) => "default".into(),
        (Some("okta"), None) => "oin".into(),
        _ => String::new(),
    }
}

fn traffic_problems(t: &Table, ran: &Ran) -> (Vec<String>, BTreeMap<(String, usize), usize>) {
    let mut out = Vec::new();
    let mut lines = BTreeMap::new();
    let scenarios: Vec<&Json> = ran.report["scenarios"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for f in &t.form {
        for s in &f.sent_by {
            let at = format!("{} ({} step {})", f.id, s.scenario, s.step);
            let Some(sc) = scenarios.iter().find(|x| x["file"] == s.scenario.as_str()) else {
                out.push(format!("{at}: the scenario did not run"));
                continue;
            };
            if sc["idp"].as_str() != Some(f.idp.as_str()) {
                out.push(format!("{at}: the scenario is not an {} scenario", f.idp));
            }
            let p = personality(sc);
            if p != s.personality {
                out.push(format!(
                    "{at}: the scenario runs as `{p}`, not `{}`",
                    s.personality
                ));
            }
            let Some(step) = sc["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|st| st["index"].as_u64() == Some(s.step as u64))
            else {
                out.push(format!("{at}: no such step"));
                continue;
            };
            if let Some(line) = step["source"]["line"].as_u64() {
                lines.insert((s.scenario.clone(), s.step), line as usize);
            }
            let exchanges: Vec<&Json> = step["exchanges"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let whys: Vec<String> = exchanges
                .iter()
                .filter_map(|e| mismatch(&f.request, &ran.base_path, e))
                .collect();
            if whys.len() == exchanges.len() {
                out.push(format!(
                    "{at}: the step no longer sends `{}`; it sent: {}",
                    f.what,
                    if whys.is_empty() {
                        "nothing".to_string()
                    } else {
                        whys.join(" | ")
                    }
                ));
            }
        }
    }
    (out, lines)
}

fn idp_title(idp: &str) -> &'static str {
    match idp {
        "okta" => "Okta",
        _ => "Microsoft Entra ID",
    }
}

fn render(t: &Table, lines: &BTreeMap<(String, usize), usize>) -> String {
    let mut s = String::new();
    s.push_str("# Coverage: the request forms the IdPs document\n\n");
    s.push_str(
        "Generated from `docs/coverage.toml` by `tests/coverage.rs` — do not edit by hand \
         (`IDPSIM_UPDATE_COVERAGE=1 cargo test --test coverage` rewrites it).\n\n",
    );
    s.push_str(
        "Each row is one request form a vendor documents for an IdP personality (Okta's OIN \
         template apps and App Integration Wizard apps; Entra's default `scim` job and \
         `?aadOptscim062020`), with the vendor page and section, and the shipped scenario step \
         that sends it. `cargo test` runs every mapped step against the built-in server and \
         checks the recorded request (method, path shape, query, filter, body shape), so a row \
         cannot claim a step that no longer sends its form. A form idpsim deliberately does not \
         send is listed with the reason.\n\n",
    );
    for idp in ["okta", "entra"] {
        let forms: Vec<&Form> = t.form.iter().filter(|f| f.idp == idp).collect();
        let sent = forms.iter().filter(|f| !f.sent_by.is_empty()).count();
        s.push_str(&format!(
            "## {}\n\n{sent} of {} documented forms are sent.\n\n",
            idp_title(idp),
            forms.len()
        ));
        s.push_str("| request form | personalities | source | sent by |\n|---|---|---|---|\n");
        for f in forms {
            let sent_by = if let Some(why) = &f.not_covered {
                format!("**not sent**: {why}")
            } else {
                f.sent_by
                    .iter()
                    .map(|b| {
                        let line = lines
                            .get(&(b.scenario.clone(), b.step))
                            .map(|l| format!(", line {l}"))
                            .unwrap_or_default();
                        format!(
                            "[`{}`](../{}) step {}{line} ({})",
                            b.scenario.trim_start_matches("scenarios/"),
                            b.scenario,
                            b.step,
                            b.personality
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let mut what = format!("{} — `{} {}", f.what, f.request.method, f.request.path);
            if let Some(q) = &f.request.filter {
                let shown = q
                    .trim_start_matches("(?i)")
                    .trim_start_matches('^')
                    .trim_end_matches('$')
                    .replace(r#""[^"]+""#, "\"…\"")
                    .replace(r#""[^a-z"]+""#, "\"…\"")
                    .replace(
                        r#""[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}""#,
                        "\"<random GUID>\"",
                    );
                what.push_str(&format!("?filter={shown}"));
            }
            what.push('`');
            s.push_str(&format!(
                "| {} | {} | [{}]({}) | {} |\n",
                what.replace('|', "\\|"),
                f.personalities.join(", "),
                f.source.replace('|', "\\|"),
                f.url,
                sent_by.replace('|', "\\|")
            ));
        }
        s.push('\n');
    }
    s
}

#[test]
fn every_documented_form_is_sent_by_its_step() {
    let t = load();
    let problems = table_problems(&t);
    assert!(
        problems.is_empty(),
        "docs/coverage.toml:\n{}",
        problems.join("\n")
    );
    let files: BTreeSet<String> = t
        .form
        .iter()
        .flat_map(|f| f.sent_by.iter().map(|s| s.scenario.clone()))
        .collect();
    let ran = run_scenarios(&files);
    let (problems, lines) = traffic_problems(&t, &ran);
    assert!(
        problems.is_empty(),
        "mapped steps that do not send their form:\n{}",
        problems.join("\n")
    );
    let md = render(&t, &lines);
    let path = common::root().join("docs/COVERAGE.md");
    if std::env::var_os("IDPSIM_UPDATE_COVERAGE").is_some() {
        std::fs::write(&path, &md).expect("docs/COVERAGE.md is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == md,
        "docs/COVERAGE.md is not what docs/coverage.toml renders; run \
         IDPSIM_UPDATE_COVERAGE=1 cargo test --test coverage"
    );
}

/// The matcher itself: a test that could not fail would prove nothing.
#[test]
fn the_shape_matcher_rejects_what_differs() {
    use serde_json::json;
    let ok = |s: Json, a: Json| shape_matches(&s, Some(&a)).is_ok();
    assert!(ok(json!({"op": "Add"}), json!({"op": "Add", "path": "x"})));
    assert!(!ok(json!({"op": "Add"}), json!({"op": "add"})));
    assert!(ok(json!({"a": "<null>"}), json!({"a": null})));
    assert!(!ok(json!({"a": "<null>"}), json!({})));
    assert!(ok(json!({"a": "<absent>"}), json!({})));
    assert!(!ok(json!({"a": "<absent>"}), json!({"a": 1})));
    assert!(ok(json!([1, "..."]), json!([1, 2])));
    assert!(!ok(json!([1]), json!([1, 2])));
    assert!(ok(json!({"v": "re:^00u"}), json!({"v": "00uabc"})));
    assert!(ok(json!(["<contains>", 2]), json!([1, 2, 3])));
    assert!(!ok(json!(["<contains>", 4]), json!([1, 2, 3])));
    assert!(!ok(json!({"v": "<bool>"}), json!({"v": "False"})));
    let req = Request {
        method: "GET".into(),
        path: "/Users".into(),
        query: None,
        filter: Some(r#"^userName eq "[^"]+"$"#.into()),
        body: None,
        headers_absent: vec!["Accept".into()],
        headers: BTreeMap::new(),
    };
    let ex = |target: &str, headers: Json| json!({"request": {"method": "GET", "target": target, "headers": headers}});
    let good = ex("/scim/v2/Users?filter=userName+eq+%22a%40b%22", json!([]));
    assert_eq!(mismatch(&req, "/scim/v2", &good), None);
    let accept = ex(
        "/scim/v2/Users?filter=userName+eq+%22a%40b%22",
        json!([["Accept", "application/scim+json"]]),
    );
    assert!(mismatch(&req, "/scim/v2", &accept).is_some());
    let other = ex("/scim/v2/Users?filter=externalId+eq+%22x%22", json!([]));
    assert!(mismatch(&req, "/scim/v2", &other).is_some());
}
