//! Root causes first: the run's findings grouped into distinct problems.
//!
//! A server with one fault answers many requests wrongly: a string `totalResults` shows on every
//! list in every scenario. Reported finding by finding, one fault reads like a hundred. A
//! *problem* is the unit a person fixes: every finding of one rule id is one problem — except
//! `expect.*` findings from an expectation that names no rule, which are keyed by the rule id,
//! the scenario file and the expectation's line (two different `expect: { status: 201 }` lines
//! are two different claims, not one root cause). Info findings are not problems.
//!
//! A problem carries the worst severity any of its findings had, the message of the first
//! finding at that severity, the consequence in the terms of each IdP it appeared with (what the
//! findings' `impact` says), the first exchange that shows it, and every scenario and step it
//! showed in. Problems are ordered by IdP impact: errors before warnings, then by how many
//! scenarios and steps they affect, then by where they first appeared.

use serde::Serialize;

use super::{DiffEntry, Finding, Phase, ScenarioResult, Severity, StepResult};
use crate::support::diagnostic::SourceRef;

/// One distinct problem and everywhere it showed.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// What groups the findings: the rule id, or `rule@file:line` for a rule-less expectation.
    pub key: String,
    pub rule: String,
    /// The worst severity of its findings.
    pub severity: Severity,
    /// The first finding's message at that severity.
    pub message: String,
    /// What each IdP under test does about it, in the order the IdPs first showed it.
    pub consequences: Vec<Consequence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The first place it showed, with the exchange (request and status) when one shows it.
    pub first: Place,
    /// Every step it showed in, in run order (the first one included).
    pub places: Vec<Place>,
    /// Query parameters idpsim's probes found the failure to depend on (`run::probe`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
    /// How many scenarios, steps and findings it covers.
    pub scenarios: usize,
    pub steps: usize,
    pub findings: usize,
}

/// The consequence of a problem for one IdP (or `generic`: the RFC's terms).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Consequence {
    pub idp: &'static str,
    pub impact: String,
}

/// One step a problem showed in.
#[derive(Clone, Debug, Serialize)]
pub struct Place {
    pub file: String,
    pub scenario: String,
    pub idp: &'static str,
    pub phase: Phase,
    pub step: usize,
    pub step_name: String,
    /// The scenario line behind the first finding here (the expectation, else the step).
    pub source: SourceRef,
    /// The worst severity it had here.
    pub severity: Severity,
    /// How many findings of this problem the step has (at most one per exchange).
    pub findings: usize,
    /// The first exchange here that shows it: its index in the step, request line and status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeRef>,
}

impl Place {
    /// `scenarios/okta/crud-test.yaml step 3`, for one-line listings.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.file, self.phase.name(), self.step)
    }
}

/// The exchange that shows a problem, short enough for a summary line.
#[derive(Clone, Debug, Serialize)]
pub struct ExchangeRef {
    pub index: usize,
    pub method: String,
    /// Path and query as sent (redacted, like every recorded exchange).
    pub target: String,
    /// The answer's status; absent when there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl ExchangeRef {
    /// `GET /scim/v2/Users?filter=… → 200`.
    pub fn line(&self) -> String {
        match self.status {
            Some(s) => format!("{} {} → {s}", self.method, self.target),
            None => format!("{} {} → no answer", self.method, self.target),
        }
    }
}

/// What groups a finding with others into one problem (see the module docs).
pub fn key(f: &Finding) -> String {
    match &f.source {
        Some(src) if f.rule.starts_with("expect.") => {
            format!("{}@{}:{}", f.rule, src.file, src.line)
        }
        _ => f.rule.clone(),
    }
}

/// Every finding of a problem, with its scenario and step, in run order.
pub fn findings_of<'a>(
    scenarios: &'a [ScenarioResult],
    key_of: &str,
) -> Vec<(&'a ScenarioResult, Phase, &'a StepResult, &'a Finding)> {
    let mut out = Vec::new();
    for sc in scenarios {
        let phases = sc
            .steps
            .iter()
            .map(|s| (Phase::Step, s))
            .chain(sc.cleanup.iter().map(|s| (Phase::Cleanup, s)));
        for (phase, step) in phases {
            for f in step.findings.iter().filter(|f| counts(f)) {
                if key(f) == key_of {
                    out.push((sc, phase, step, f));
                }
            }
        }
    }
    out
}

/// The 1-based number of the problem a finding belongs to, as reports list them.
pub fn number(problems: &[Problem], f: &Finding) -> Option<usize> {
    if !counts(f) {
        return None;
    }
    let k = key(f);
    problems.iter().position(|p| p.key == k).map(|i| i + 1)
}

/// Whether a finding counts as (part of) a problem: errors and warnings do, info does not.
pub fn counts(f: &Finding) -> bool {
    f.severity >= Severity::Warning
}

/// Groups the run's findings into problems, ordered by IdP impact.
pub fn group(scenarios: &[ScenarioResult]) -> Vec<Problem> {
    let mut problems: Vec<Problem> = Vec::new();
    for sc in scenarios {
        let phases = sc
            .steps
            .iter()
            .map(|s| (Phase::Step, s))
            .chain(sc.cleanup.iter().map(|s| (Phase::Cleanup, s)));
        for (phase, step) in phases {
            for f in step.findings.iter().filter(|f| counts(f)) {
                let k = key(f);
                let at = match problems.iter().position(|p| p.key == k) {
                    Some(i) => i,
                    None => {
                        let place = place(sc, phase, step, f);
                        problems.push(Problem {
                            key: k,
                            rule: f.rule.clone(),
                            severity: f.severity,
                            message: f.message.clone(),
                            consequences: Vec::new(),
                            reference: f.reference.clone(),
                            first: place,
                            places: Vec::new(),
                            triggers: Vec::new(),
                            scenarios: 0,
                            steps: 0,
                            findings: 0,
                        });
                        problems.len() - 1
                    }
                };
                add(&mut problems[at], sc, phase, step, f);
            }
        }
    }
    for p in &mut problems {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for place in &p.places {
            if !seen.contains(&(place.file.as_str(), place.scenario.as_str())) {
                seen.push((place.file.as_str(), place.scenario.as_str()));
            }
        }
        p.scenarios = seen.len();
        p.steps = p.places.len();
        p.findings = p.places.iter().map(|pl| pl.findings).sum();
    }
    // A stable sort keeps run order among equals.
    problems.sort_by_key(|p| {
        (
            std::cmp::Reverse(p.severity),
            std::cmp::Reverse(p.scenarios),
            std::cmp::Reverse(p.steps),
        )
    });
    problems
}

fn add(p: &mut Problem, sc: &ScenarioResult, phase: Phase, step: &StepResult, f: &Finding) {
    if f.severity > p.severity {
        // The headline speaks for the worst case.
        p.severity = f.severity;
        p.message = f.message.clone();
        if f.reference.is_some() {
            p.reference = f.reference.clone();
        }
    }
    if p.reference.is_none() {
        p.reference = f.reference.clone();
    }
    for t in &f.triggers {
        if !p.triggers.contains(&t.parameter) {
            p.triggers.push(t.parameter.clone());
        }
    }
    if let Some(impact) = &f.impact {
        if !p.consequences.iter().any(|c| c.idp == sc.idp) {
            p.consequences.push(Consequence {
                idp: sc.idp,
                impact: impact.clone(),
            });
        }
    }
    // The first place with an exchange is the one to show: a later one is more telling than a
    // first place that has none (a template error, a missing capture).
    if p.first.exchange.is_none() && f.exchange.is_some() {
        p.first = place(sc, phase, step, f);
    }
    let same = |pl: &Place| {
        pl.phase == phase && pl.step == step.index && pl.file == sc.file && pl.scenario == sc.name
    };
    match p.places.iter_mut().rev().find(|pl| same(pl)) {
        Some(pl) => {
            pl.findings += 1;
            pl.severity = pl.severity.max(f.severity);
            if pl.exchange.is_none() {
                pl.exchange = exchange_ref(step, f);
            }
        }
        None => p.places.push(place(sc, phase, step, f)),
    }
}

fn place(sc: &ScenarioResult, phase: Phase, step: &StepResult, f: &Finding) -> Place {
    Place {
        file: sc.file.clone(),
        scenario: sc.name.clone(),
        idp: sc.idp,
        phase,
        step: step.index,
        step_name: step.name.clone(),
        source: f.source.clone().unwrap_or_else(|| step.source.clone()),
        severity: f.severity,
        findings: 1,
        exchange: exchange_ref(step, f),
    }
}

fn exchange_ref(step: &StepResult, f: &Finding) -> Option<ExchangeRef> {
    let i = f.exchange?;
    let ex = step.exchanges.get(i)?;
    Some(ExchangeRef {
        index: i,
        method: ex.request.method.clone(),
        target: ex.request.target.clone(),
        status: ex.response.as_ref().map(|r| r.status),
    })
}

/// One fact, one finding, per exchange (run on each step's findings before it is judged):
///
/// * findings of one problem about one exchange become one: the worst severity, every diff, the
///   first message — three string counters in one answer are one fault in one answer;
/// * an expectation's diff that a rule already reports on the same exchange, at the same pointer,
///   about the same value in another type (`expected 0 — actual "0"` beside `totalResults must
///   be an integer`), is the rule's fact: it is dropped, and an expectation left with no diff
///   is dropped with it. A value that is wrong, not only mistyped, stays;
/// * an IdP profile's finding that reports exactly what an RFC rule reported on the same exchange
///   (every diff of it at the same pointer with the same actual value) is the same fact in the
///   IdP's terms: the RFC finding takes its consequence, its reference and, when graver, its
///   severity, as `idp::adopt` does when a profile asks for it.
pub fn one_per_exchange(findings: Vec<Finding>) -> Vec<Finding> {
    fold_explained_expectations(adopt_same_facts(merge_same_problem(findings)))
}

fn merge_same_problem(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut unshown: Vec<usize> = Vec::with_capacity(findings.len());
    for f in findings {
        let into = f.exchange.and_then(|ex| {
            let k = key(&f);
            out.iter()
                .position(|o| o.exchange == Some(ex) && key(o) == k)
        });
        match into {
            Some(i) => {
                let o = &mut out[i];
                o.severity = o.severity.max(f.severity);
                if o.impact.is_none() {
                    o.impact = f.impact;
                }
                if o.reference.is_none() {
                    o.reference = f.reference;
                }
                let before = o.diff.len();
                for d in f.diff {
                    if !o.diff.contains(&d) {
                        o.diff.push(d);
                    }
                }
                // A merged fact with no diff of its own would vanish: count it in the message.
                if f.message != o.message && o.diff.len() == before {
                    unshown[i] += 1;
                }
            }
            None => {
                out.push(f);
                unshown.push(0);
            }
        }
    }
    for (f, n) in out.iter_mut().zip(unshown) {
        if n > 0 {
            f.message = format!("{} (and {n} more like it in this answer)", f.message);
        }
    }
    out
}

fn adopt_same_facts(findings: Vec<Finding>) -> Vec<Finding> {
    let is_rfc = |f: &Finding| f.rule.starts_with("rfc");
    if !findings.iter().any(|f| is_rfc(f) && f.exchange.is_some()) {
        return findings;
    }
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut adopted: Vec<Finding> = Vec::new();
    for f in findings {
        let profile = !is_rfc(&f) && !f.rule.starts_with("expect.") && f.exchange.is_some();
        if profile && !f.diff.is_empty() {
            adopted.push(f);
        } else {
            out.push(f);
        }
    }
    for b in adopted {
        let same = out.iter_mut().find(|a| {
            is_rfc(a)
                && a.exchange == b.exchange
                && b.diff.iter().all(|d| {
                    a.diff
                        .iter()
                        .any(|e| e.pointer == d.pointer && e.actual == d.actual)
                })
        });
        match same {
            Some(a) => {
                a.severity = a.severity.max(b.severity);
                if b.impact.is_some() {
                    a.impact = b.impact;
                }
                a.reference = match (a.reference.take(), b.reference) {
                    (Some(r), Some(t)) if !r.contains(&t) => Some(format!("{r}; {t}")),
                    (r, t) => r.or(t),
                };
            }
            None => out.push(b),
        }
    }
    out
}

fn fold_explained_expectations(mut findings: Vec<Finding>) -> Vec<Finding> {
    // Every diff of a rule's finding, with the finding's position and exchange.
    let judged: Vec<(usize, usize, DiffEntry)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.rule.starts_with("expect."))
        .filter_map(|(i, f)| Some((i, f.exchange?, f)))
        .flat_map(|(i, ex, f)| f.diff.iter().map(move |d| (i, ex, d.clone())))
        .collect();
    if judged.is_empty() {
        return findings;
    }
    // The rule's finding takes the graver severity of the two: folding must not soften what
    // the scenario asserted (a scenario stricter than the IdP is fixed in the scenario).
    let mut raise: Vec<(usize, Severity)> = Vec::new();
    let mut emptied: Vec<usize> = Vec::new();
    for (at, f) in findings.iter_mut().enumerate() {
        let Some(ex) = f.exchange else { continue };
        if !f.rule.starts_with("expect.") || f.diff.is_empty() {
            continue;
        }
        let before = f.diff.len();
        let severity = f.severity;
        f.diff.retain(|d| {
            let by = judged
                .iter()
                .find(|(_, e, rule)| *e == ex && rule.pointer == d.pointer && restates(d, rule));
            if let Some((i, ..)) = by {
                raise.push((*i, severity));
            }
            by.is_none()
        });
        if f.diff.is_empty() {
            emptied.push(at);
        } else if f.diff.len() != before && f.rule == "expect.body" {
            f.message = match f.diff.len() {
                1 => "the body does not match the expectation".into(),
                n => format!("the body differs from the expectation in {n} places"),
            };
        }
    }
    for (i, severity) in raise {
        if let Some(f) = findings.get_mut(i) {
            f.severity = f.severity.max(severity);
        }
    }
    findings
        .into_iter()
        .enumerate()
        .filter(|(at, _)| !emptied.contains(at))
        .map(|(_, f)| f)
        .collect()
}

/// Whether an expectation's diff says only what the rule's diff at the same pointer says: the
/// same diff (`status: expected 201 — actual 200` twice), the same value in another type
/// (`expected 0 — actual "0"`), or a type the value lacks (`expected a integer — actual "0"
/// (string)`, from `!type integer`).
fn restates(expectation: &DiffEntry, rule: &DiffEntry) -> bool {
    let (expected, actual) = (expectation.expected.as_str(), expectation.actual.as_str());
    let same_diff = expected == rule.expected && actual == rule.actual;
    let same_value = actual == rule.actual && same_value_other_type(expected, actual);
    let type_claim = (expected.starts_with("a ") || expected.starts_with("an "))
        && actual.starts_with(rule.actual.as_str());
    same_diff || same_value || type_claim
}

/// `0` and `"0"`, `false` and `"False"`: the same value, only its JSON type differs.
fn same_value_other_type(expected: &str, actual: &str) -> bool {
    let unquote = |s: &str| {
        s.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .map(str::to_string)
    };
    match (unquote(expected), unquote(actual)) {
        (None, Some(a)) => a.eq_ignore_ascii_case(expected),
        (Some(e), None) => e.eq_ignore_ascii_case(actual),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rule: &str, ex: usize, msg: &str) -> Finding {
        Finding::error(rule, msg).at_exchange(ex)
    }

    #[test]
    fn one_problem_one_finding_per_exchange() {
        let merged = one_per_exchange(vec![
            at("r.counters", 0, "`totalResults` is a string").diff(DiffEntry::new(
                "/totalResults",
                "an integer",
                "\"1\"",
            )),
            at("r.counters", 0, "`itemsPerPage` is a string").diff(DiffEntry::new(
                "/itemsPerPage",
                "an integer",
                "\"1\"",
            )),
            at("r.counters", 1, "`totalResults` is a string"),
            at("r.other", 0, "another fault"),
        ]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[0].diff.len(), 2);
        assert_eq!(merged[0].message, "`totalResults` is a string");
        assert_eq!(merged[1].exchange, Some(1));
        let without_diffs = one_per_exchange(vec![at("r", 0, "one"), at("r", 0, "two")]);
        assert_eq!(
            without_diffs[0].message,
            "one (and 1 more like it in this answer)"
        );
    }

    #[test]
    fn an_expectation_a_rule_already_explains_is_folded_into_it() {
        let rule = at("rfc.counters", 0, "`totalResults` must be an integer").diff(DiffEntry::new(
            "/totalResults",
            "an integer",
            "\"3\"",
        ));
        let mistyped = at(
            "expect.body",
            0,
            "the body differs from the expectation in 2 places",
        )
        .diff(DiffEntry::new("/totalResults", "3", "\"3\""))
        .diff(DiffEntry::new("/itemsPerPage", "2", "5"));
        let merged = one_per_exchange(vec![rule.clone(), mistyped]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].diff.len(), 1, "the wrong value stays");
        assert_eq!(merged[1].message, "the body does not match the expectation");
        let only_mistyped =
            at("expect.body", 0, "x").diff(DiffEntry::new("/totalResults", "3", "\"3\""));
        let mut tolerated = rule.clone();
        tolerated.severity = Severity::Warning;
        let folded = one_per_exchange(vec![tolerated, only_mistyped]);
        assert_eq!(folded.len(), 1);
        assert_eq!(
            folded[0].severity,
            Severity::Error,
            "the graver severity stays"
        );
        let wrong = at("expect.body", 0, "x").diff(DiffEntry::new("/totalResults", "1", "\"3\""));
        assert_eq!(
            one_per_exchange(vec![rule.clone(), wrong]).len(),
            2,
            "1 is not \"3\""
        );
        let elsewhere =
            at("expect.body", 1, "x").diff(DiffEntry::new("/totalResults", "3", "\"3\""));
        assert_eq!(
            one_per_exchange(vec![rule, elsewhere]).len(),
            2,
            "another exchange"
        );
    }

    #[test]
    fn a_profile_finding_of_the_same_fact_lends_the_rfc_finding_its_consequence() {
        let rfc = Finding::warning(
            "rfc7644.list.integer-counters",
            "`totalResults` must be an integer",
        )
        .diff(DiffEntry::new("/totalResults", "an integer", "\"0\""))
        .diff(DiffEntry::new("/startIndex", "an integer", "\"1\""))
        .impact("RFC words")
        .at_exchange(0);
        let okta = at(
            "okta.lookup.integer-counters",
            0,
            "the counters are not integers",
        )
        .diff(DiffEntry::new("/totalResults", "integer", "\"0\""))
        .impact("Okta aborts the sync")
        .reference("Okta KB");
        let mut second_counter = rfc.clone();
        second_counter.diff.remove(0);
        let mut first_counter = rfc.clone();
        first_counter.diff.pop();
        // As the rules emit them: one finding per counter, merged first.
        let merged = one_per_exchange(vec![first_counter, second_counter, okta.clone()]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].rule, "rfc7644.list.integer-counters");
        assert_eq!(merged[0].severity, Severity::Error);
        assert_eq!(merged[0].impact.as_deref(), Some("Okta aborts the sync"));
        let other_value = at("okta.lookup.integer-counters", 0, "x").diff(DiffEntry::new(
            "/totalResults",
            "integer",
            "\"7\"",
        ));
        assert_eq!(one_per_exchange(vec![rfc.clone(), other_value]).len(), 2);
        let other_exchange = okta.at_exchange(1);
        assert_eq!(one_per_exchange(vec![rfc, other_exchange]).len(), 2);
    }

    #[test]
    fn rule_less_expectations_are_keyed_by_their_line() {
        let src = |line| SourceRef {
            file: "a.yaml".into(),
            line,
            column: 5,
        };
        let a = Finding::error("expect.status", "x").source(src(3));
        let b = Finding::error("expect.status", "x").source(src(9));
        let c = Finding::error("rfc7644.create.status", "x").source(src(3));
        let d = Finding::error("rfc7644.create.status", "x").source(src(9));
        assert_ne!(key(&a), key(&b));
        assert_eq!(key(&c), key(&d));
    }
}
