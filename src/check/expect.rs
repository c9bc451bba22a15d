//! Matches a response against a step's `expect:` block and explains every mismatch with a JSON
//! pointer and the scenario position of the expectation that failed.
//!
//! An expectation is the scenario's own check; where a built-in rule already judged the same
//! part of the same answer, the expectation's mismatch folds into that rule's finding (one
//! problem, one finding), and where the expectation names its rule (`rule:`), the mismatch is
//! reported under that rule, with its severity and the IdP's consequence (`fold`).

use serde_json::Value;

use super::{pointer_token, show};
use crate::outcome::{DiffEntry, Finding, Severity};
use crate::scenario::template;
use crate::scenario::{Expect, Idp, JsonType, Pattern, PatternKind, Scenario};
use crate::transport::exchange::RecordedResponse;

/// Checks status, headers and body. `ctx` is the template context (captures so far).
pub fn check(
    expect: &Expect,
    response: &RecordedResponse,
    scenario: &Scenario,
    ctx: &Value,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(status) = &expect.status {
        if !status.codes.contains(&response.status) {
            let expected = status
                .codes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            findings.push(
                Finding::judged(
                    "expect.status",
                    scenario.idp,
                    format!("expected status {expected}, got {}", response.status),
                )
                .diff(DiffEntry::new(
                    "status",
                    expected,
                    response.status.to_string(),
                ))
                .source(scenario.source_ref(status.pos)),
            );
        }
    }
    for h in &expect.headers {
        let actual = response
            .header(&h.name)
            .map(|v| Value::String(v.to_string()));
        let mut diffs = Vec::new();
        match_pattern(
            &h.pattern,
            actual.as_ref(),
            &format!("header:{}", h.name),
            ctx,
            &mut diffs,
        );
        if let Some(first) = diffs.first() {
            findings.push(
                Finding::judged(
                    "expect.header",
                    scenario.idp,
                    format!("header `{}` does not match", h.name),
                )
                .diff(first.0.clone())
                .source(scenario.source_ref(first.1)),
            );
        }
    }
    if let Some(pattern) = &expect.body {
        let mut diffs = Vec::new();
        match &response.body {
            Some(body) => match_pattern(pattern, Some(body), "", ctx, &mut diffs),
            None => {
                let actual = match (&response.text, response.has_body()) {
                    (_, false) => "an empty body".to_string(),
                    (Some(t), _) => format!(
                        "a non-JSON body: {}",
                        t.chars().take(80).collect::<String>()
                    ),
                    (None, _) => "a body that is not JSON".to_string(),
                };
                diffs.push((DiffEntry::new("", "a JSON body", actual), pattern.pos));
            }
        }
        if !diffs.is_empty() {
            let first_pos = diffs[0].1;
            let mut f = Finding::judged(
                "expect.body",
                scenario.idp,
                if diffs.len() == 1 {
                    "the body does not match the expectation".to_string()
                } else {
                    format!(
                        "the body differs from the expectation in {} places",
                        diffs.len()
                    )
                },
            )
            .source(scenario.source_ref(first_pos));
            for (d, _) in diffs {
                f = f.diff(d);
            }
            findings.push(f);
        }
    }
    findings
}

type Diffs = Vec<(DiffEntry, crate::support::diagnostic::Pos)>;

/// Adds the expectation's mismatches (`expected`) to the exchange's findings (`findings`, the
/// built-in rules' so far) so that one problem stays one finding:
///
/// - a mismatch at a pointer a rule's finding on this exchange already covers (the same
///   pointer, or a part of what it judged — a rule about the whole body covers every member)
///   is dropped: the rule has said it, with the IdP's consequence;
/// - what is left, when the expectation names its rule (`rule:`), joins that rule's finding on
///   this exchange, or becomes one — with that rule's severity and consequence;
/// - otherwise it stays an `expect.*` finding: the scenario's own expectation.
pub fn fold(
    findings: &mut Vec<Finding>,
    expected: Vec<Finding>,
    expect: &Expect,
    response: &RecordedResponse,
    idp: Idp,
    exchange: usize,
) {
    let failed = response.status >= 300;
    // When the status is not the expected one, the body and headers the expectation describes
    // belong to another answer: the status mismatch is the problem, the rest its consequence.
    let status_wrong = expected.iter().any(|e| e.rule == "expect.status");
    for mut e in expected {
        if status_wrong && e.rule != "expect.status" {
            continue;
        }
        let covering: Vec<String> = findings
            .iter()
            .filter(|f| f.exchange == Some(exchange) && f.severity >= Severity::Warning)
            .flat_map(|f| f.diff.iter().map(|d| d.pointer.clone()))
            .collect();
        e.diff
            .retain(|d| !covering.iter().any(|c| covers(c, &d.pointer, failed)));
        if e.diff.is_empty() {
            continue;
        }
        let bound = match e.rule.as_str() {
            "expect.status" => expect.rules.status.as_deref(),
            "expect.header" => expect.rules.headers.as_deref(),
            _ => expect.rules.body.as_deref(),
        };
        let Some(rule) = bound else {
            findings.push(e.at_exchange(exchange));
            continue;
        };
        if let Some(existing) = findings
            .iter_mut()
            .find(|f| f.exchange == Some(exchange) && f.rule == rule)
        {
            existing.diff.append(&mut e.diff);
            if existing.source.is_none() {
                existing.source = e.source;
            }
            continue;
        }
        findings.push(e.rebind(rule, idp).at_exchange(exchange));
    }
}

/// Whether a rule's diff at pointer `rule` already judges the expectation's pointer `exp`:
/// the same place, or inside it (`` and `/` are the whole body; headers by name in any case).
/// A rule that judged a failed status judges the whole answer (`failed`): the body and headers
/// of an error answer are not the resource the expectation describes.
fn covers(rule: &str, exp: &str, failed: bool) -> bool {
    let norm = |p: &str| {
        if p == "/" {
            String::new()
        } else {
            p.to_string()
        }
    };
    let (rule, exp) = (norm(rule), norm(exp));
    if rule == "status" && failed {
        return true;
    }
    if rule.starts_with("header:") || exp.starts_with("header:") {
        return rule.eq_ignore_ascii_case(&exp);
    }
    if exp == "status" {
        return rule == "status";
    }
    rule.is_empty() || rule == exp || exp.starts_with(&format!("{rule}/"))
}

/// Matches `actual` (None = absent) against the pattern; pushes differences.
pub fn match_pattern(p: &Pattern, actual: Option<&Value>, ptr: &str, ctx: &Value, out: &mut Diffs) {
    let mut push = |expected: String, actual: String| {
        out.push((DiffEntry::new(display_ptr(ptr), expected, actual), p.pos))
    };
    match &p.kind {
        PatternKind::Absent => {
            if let Some(v) = actual.filter(|v| !v.is_null()) {
                push("absent".into(), show(v));
            }
        }
        _ if actual.is_none() => {
            let expected = describe(p, ctx);
            push(expected, "absent".into());
        }
        PatternKind::Any => {}
        PatternKind::Type(t) => {
            let Some(v) = actual else { return };
            let got = JsonType::of(v);
            let ok = got == *t || (*t == JsonType::Number && got == JsonType::Integer);
            if !ok {
                push(
                    format!("a {}", t.name()),
                    format!("{} ({})", show(v), got.name()),
                );
            }
        }
        PatternKind::Regex(re) => {
            let Some(v) = actual else { return };
            let rendered = template::render(re, ctx).unwrap_or_else(|_| re.clone());
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match regex::Regex::new(&rendered) {
                Ok(r) if r.is_match(&text) => {}
                Ok(_) => push(format!("matching /{rendered}/"), show(v)),
                Err(e) => push(format!("a valid regex ({e})"), show(v)),
            }
        }
        PatternKind::CaseInsensitive(s) => {
            let Some(v) = actual else { return };
            let rendered = template::render(s, ctx).unwrap_or_else(|_| s.clone());
            match v {
                Value::String(a) if a.to_lowercase() == rendered.to_lowercase() => {}
                _ => push(
                    format!("{} (ignoring case)", show(&Value::String(rendered))),
                    show(v),
                ),
            }
        }
        PatternKind::Literal(expected) => {
            let Some(v) = actual else { return };
            let expected =
                template::render_value(expected, ctx).unwrap_or_else(|_| expected.clone());
            if !json_equal(&expected, v) {
                push(show(&expected), show(v));
            }
        }
        PatternKind::Object { fields, exact } => {
            let Some(v) = actual else { return };
            let Some(map) = v.as_object() else {
                push("an object".into(), show(v));
                return;
            };
            for (key, sub) in fields {
                let key = template::render(key, ctx).unwrap_or_else(|_| key.clone());
                match_pattern(
                    sub,
                    map.get(&key),
                    &format!("{ptr}/{}", pointer_token(&key)),
                    ctx,
                    out,
                );
            }
            if *exact {
                for key in map.keys() {
                    if !fields.iter().any(|(k, _)| k == key) {
                        out.push((
                            DiffEntry::new(
                                format!("{ptr}/{}", pointer_token(key)),
                                "absent (exact match)",
                                show(&map[key]),
                            ),
                            p.pos,
                        ));
                    }
                }
            }
        }
        PatternKind::Array { items } => {
            let Some(v) = actual else { return };
            let Some(arr) = v.as_array() else {
                push(format!("an array of {}", items.len()), show(v));
                return;
            };
            if arr.len() != items.len() {
                push(
                    format!("{} element(s)", items.len()),
                    format!("{} element(s): {}", arr.len(), show(v)),
                );
                return;
            }
            for (i, (sub, actual)) in items.iter().zip(arr).enumerate() {
                match_pattern(sub, Some(actual), &format!("{ptr}/{i}"), ctx, out);
            }
        }
        PatternKind::First(inner) => {
            let Some(v) = actual else { return };
            let Some(arr) = v.as_array() else {
                push("an array".into(), show(v));
                return;
            };
            match arr.first() {
                Some(el) => match_pattern(inner, Some(el), &format!("{ptr}/0"), ctx, out),
                None => push(
                    format!("a first element matching {}", describe(inner, ctx)),
                    "[]".into(),
                ),
            }
        }
        PatternKind::Contains(inner) => {
            let Some(v) = actual else { return };
            let Some(arr) = v.as_array() else {
                push("an array".into(), show(v));
                return;
            };
            let found = arr.iter().any(|el| {
                let mut scratch = Vec::new();
                match_pattern(inner, Some(el), ptr, ctx, &mut scratch);
                scratch.is_empty()
            });
            if !found {
                push(
                    format!("an element matching {}", describe(inner, ctx)),
                    show(v),
                );
            }
        }
    }
}

fn display_ptr(ptr: &str) -> String {
    if ptr.is_empty() {
        "/".to_string()
    } else {
        ptr.to_string()
    }
}

/// Numbers compare by value (201 == 201.0); everything else structurally. Object key order
/// does not matter, array order does. Public so the property tests can check it is symmetric and
/// never fooled by a real difference.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// 201 == 201.0, but integers compare exactly: through f64, an id of 2^53 + 1 would equal 2^53
/// and an off-by-one above that would pass unnoticed.
fn numbers_equal(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    let integer = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    // A float equals an integer only if it is integral and converts to exactly that integer.
    // `as` saturates only beyond ±2^127, far outside i64/u64, so no huge float matches by accident.
    let float_is = |f: f64, i: i128| f.fract() == 0.0 && f as i128 == i;
    match (integer(x), integer(y)) {
        (Some(a), Some(b)) => a == b,
        (Some(i), None) => y.as_f64().is_some_and(|f| float_is(f, i)),
        (None, Some(i)) => x.as_f64().is_some_and(|f| float_is(f, i)),
        (None, None) => x.as_f64() == y.as_f64(),
    }
}

/// A pattern in words, for "expected …" texts.
pub fn describe(p: &Pattern, ctx: &Value) -> String {
    match &p.kind {
        PatternKind::Literal(v) => {
            show(&template::render_value(v, ctx).unwrap_or_else(|_| v.clone()))
        }
        PatternKind::Object { .. } => "an object".into(),
        PatternKind::Array { items } => format!("an array of {}", items.len()),
        PatternKind::Type(t) => format!("a {}", t.name()),
        PatternKind::Regex(r) => format!("a value matching /{r}/"),
        PatternKind::Any => "present".into(),
        PatternKind::Absent => "absent".into(),
        PatternKind::Contains(inner) => format!("an array containing {}", describe(inner, ctx)),
        PatternKind::First(inner) => {
            format!("an array whose first element is {}", describe(inner, ctx))
        }
        PatternKind::CaseInsensitive(s) => format!("\"{s}\" (ignoring case)"),
    }
}
