//! "Will this tenant be quarantined, and when?" — what Entra does over its cycles with the
//! failures a log (or an idpsim run) shows: escrow and retries, the quarantine thresholds, and
//! the schedule in quarantine, as a timeline.
//!
//! The model is Microsoft's documented behaviour, nothing more:
//! - Cycles run about every 40 minutes; the interval cannot be changed (Tutorial: develop a SCIM
//!   endpoint, "…approximately every 40 minutes"; Known issues for provisioning).
//! - An initial cycle takes 0.01–0.08 minutes per assigned user, group and member ("Check the
//!   status of user provisioning").
//! - Failed objects are escrowed and retried on later cycles "with decreasing frequency" (How
//!   Application Provisioning works); server errors and timeouts are retried in 40 minutes, 429 at
//!   once (How to analyze the provisioning logs, "Error codes").
//! - Quarantine ("Application provisioning in quarantine status"): when most or all calls fail
//!   (invalid credentials: EncounteredQuarantineException), or by escrow: evaluation starts at
//!   5,000 failures; quarantine if more than 40% of events fail or there are more than 40,000
//!   failures (reference failures excluded), or more than 60,000 failures including reference
//!   failures. In quarantine, incremental cycles run once a day; retries at 6, 12 and 24 hours
//!   after the first failure, then every 24 hours; after 28 days the escrow is dropped and the
//!   job disabled. The first successful retry ends quarantine.
//!
//! What Microsoft does not document (the exact retry back-off outside quarantine, how many failed
//! cycles of bad credentials trigger quarantine) is said to be undocumented, not invented.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use super::codes::{self, Retry};
use crate::error::{Error, Result};

const CYCLE: i64 = 40 * 60;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

pub const SOURCES: &[(&str, &str)] = &[
    ("QUAR", "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status"),
    ("HOW", "https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works"),
    ("LOGS", "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes"),
    ("TUT", "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"),
    ("WHEN", "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-when-will-provisioning-finish-specific-user"),
];

/// One attempt to provision one object, as a log or a run shows it.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub time: Option<i64>,
    pub cycle: Option<String>,
    pub object: String,
    pub failed: bool,
    pub code: Option<String>,
    pub retry: Retry,
    pub credentials: bool,
    /// A reference (member, manager) update: counted apart for quarantine.
    pub reference: bool,
}

/// The attempts in an Entra log.
pub fn from_log(inputs: &[PathBuf], kind: super::LogKind) -> Result<Vec<Attempt>> {
    let read = super::entra::read(inputs, kind)?;
    let mut out = Vec::new();
    for e in &read.events {
        if e.status == "skipped" || e.action == "other" || e.action == "stageddelete" {
            continue;
        }
        let ex = e
            .failed()
            .then(|| codes::entra(e.error_code.as_deref().unwrap_or(""), e.reason.as_deref()));
        out.push(Attempt {
            time: e.time,
            cycle: e.cycle_id.clone(),
            object: e
                .source_name
                .clone()
                .or_else(|| e.source_id.clone())
                .unwrap_or_else(|| "?".into()),
            failed: e.failed(),
            code: e
                .failed()
                .then(|| e.error_code.clone().unwrap_or_else(|| "(no code)".into())),
            retry: ex.as_ref().map(|x| x.retried).unwrap_or(Retry::No),
            credentials: ex.as_ref().is_some_and(|x| x.credentials),
            reference: e.properties.iter().any(|p| {
                p.name.eq_ignore_ascii_case("members")
                    || p.name.to_ascii_lowercase().ends_with("manager")
            }) || e.steps.iter().any(|s| s.kind == "referenceresolution"),
        });
    }
    Ok(out)
}

/// The attempts in an idpsim JSON report: each IdP action step of an Entra scenario is one
/// object operation; a failed step is a failure, classified by its first error finding (a 401
/// or 403 answer makes it a credentials failure). A run has no clock of Entra's: all its steps
/// are one cycle.
pub fn from_report(path: &std::path::Path) -> Result<Vec<Attempt>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}:{}:{}: not a JSON report: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let scenarios = v
        .get("scenarios")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: not an idpsim JSON report (no `scenarios`)",
                path.display()
            ))
        })?;
    let mut out = Vec::new();
    for s in scenarios
        .iter()
        .filter(|s| s.get("idp").and_then(Value::as_str) == Some("entra"))
    {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
        for step in s
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if step.get("kind").and_then(Value::as_str) == Some("request") {
                continue;
            }
            let outcome = step.get("outcome").and_then(Value::as_str).unwrap_or("");
            if outcome == "skipped" {
                continue;
            }
            let failed = outcome == "failed";
            let rule = step
                .get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|f| f.get("severity").and_then(Value::as_str) == Some("error"))
                .and_then(|f| f.get("rule").and_then(Value::as_str))
                .map(str::to_string);
            let statuses: Vec<u64> = step
                .get("exchanges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.pointer("/response/status").and_then(Value::as_u64))
                .collect();
            let credentials = failed && statuses.iter().any(|s| *s == 401 || *s == 403);
            let retry = if !failed {
                Retry::No
            } else if statuses.contains(&429) {
                Retry::Throttled
            } else if statuses.iter().any(|s| *s >= 500) {
                Retry::NextCycle
            } else {
                Retry::Escrowed
            };
            let step_name = step.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(Attempt {
                time: None,
                cycle: Some("run".into()),
                object: format!("{name}: {step_name}"),
                failed,
                code: failed.then(|| rule.unwrap_or_else(|| "failed".into())),
                retry,
                credentials,
                reference: step_name.contains("member") || step_name.contains("manager"),
            });
        }
    }
    Ok(out)
}

struct Cycle {
    label: String,
    start: Option<i64>,
    attempts: Vec<Attempt>,
}

/// Groups attempts into cycles: by cycle id where the log has them, else in 40-minute windows.
fn cycles(attempts: &[Attempt]) -> Vec<Cycle> {
    let mut sorted = attempts.to_vec();
    sorted.sort_by_key(|a| a.time.unwrap_or(i64::MAX));
    let mut out: Vec<Cycle> = Vec::new();
    for a in sorted {
        let window = a.time.map(|t| {
            let first = out.first().and_then(|c| c.start).unwrap_or(t);
            (t - first) / CYCLE
        });
        let label = a
            .cycle
            .clone()
            .or_else(|| window.map(|w| format!("window {}", w + 1)))
            .unwrap_or_else(|| "undated".into());
        match out.iter_mut().find(|c| c.label == label) {
            Some(c) => c.attempts.push(a),
            None => out.push(Cycle {
                label,
                start: a.time,
                attempts: vec![a],
            }),
        }
    }
    out
}

fn at(t: Option<i64>, offset: i64) -> String {
    match t {
        Some(t) => super::format_time(t + offset),
        None if offset == 0 => "the next cycle".into(),
        None => format!("T+{}", human(offset)),
    }
}

fn human(secs: i64) -> String {
    if secs % DAY == 0 && secs >= DAY {
        format!("{} d", secs / DAY)
    } else if secs % HOUR == 0 && secs >= HOUR {
        format!("{} h", secs / HOUR)
    } else {
        format!("{} min", secs / 60)
    }
}

fn count(n: f64) -> String {
    let n = n.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The timeline as text. `objects`: the tenant's objects in scope (users + groups + members);
/// default the distinct objects of the input.
pub fn render(what: &str, attempts: &[Attempt], objects: Option<u64>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Entra timeline for {what}");
    let _ = writeln!(
        o,
        "Sources: {}",
        SOURCES
            .iter()
            .map(|(k, u)| format!("{k} {u}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if attempts.is_empty() {
        let _ = writeln!(o, "\nNo provisioning attempts (only skips): nothing is escrowed, nothing leads to quarantine.");
        return o;
    }
    let cycles = cycles(attempts);
    let _ = writeln!(o, "\nWhat the input shows");
    for (i, c) in cycles.iter().enumerate() {
        let failed: Vec<&Attempt> = c.attempts.iter().filter(|a| a.failed).collect();
        let mut codes: BTreeMap<String, usize> = BTreeMap::new();
        for a in &failed {
            *codes.entry(a.code.clone().unwrap_or_default()).or_default() += 1;
        }
        let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
        let _ = writeln!(
            o,
            "  cycle {} ({})  {}  {} attempt(s), {} failed ({}%){}",
            i + 1,
            super::clean_text(&c.label.chars().take(8).collect::<String>()),
            c.start
                .map(super::format_time)
                .unwrap_or_else(|| "undated".into()),
            c.attempts.len(),
            failed.len(),
            (failed.len() as f64 * 100.0 / c.attempts.len().max(1) as f64).round() as u64,
            if codes.is_empty() {
                String::new()
            } else {
                format!(": {}", codes.join(", "))
            }
        );
    }
    // Escrow at the end: objects whose last attempt failed.
    let mut last: Vec<(String, &Attempt)> = Vec::new();
    for c in &cycles {
        for a in &c.attempts {
            match last.iter_mut().find(|(k, _)| k == &a.object) {
                Some(e) => e.1 = a,
                None => last.push((a.object.clone(), a)),
            }
        }
    }
    let escrow: Vec<&Attempt> = last
        .iter()
        .filter(|(_, a)| a.failed)
        .map(|(_, a)| *a)
        .collect();
    let objects_seen = last.len() as u64;
    let _ = writeln!(
        o,
        "  in escrow at the end: {} of {} object(s){}",
        escrow.len(),
        objects_seen,
        if escrow.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                escrow
                    .iter()
                    .map(|a| format!(
                        "{} ({})",
                        super::clean_text(&a.object),
                        a.code.clone().unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let end = cycles.iter().rev().find_map(|c| c.start);
    let next = end.map(|t| t + CYCLE);
    let _ = writeln!(o, "\nWhat Entra does next");
    if escrow.is_empty() {
        let _ = writeln!(o, "  every object's last attempt succeeded: nothing is escrowed; cycles go on every 40 minutes (TUT)");
        return o;
    }
    for a in &escrow {
        let when = match a.retry {
            Retry::Throttled => "retried at once, honouring Retry-After (LOGS: TooManyRequests)".to_string(),
            Retry::NextCycle => format!("retried in the next cycle, {} (LOGS: \"retried in 40 minutes\")", at(next, 0)),
            Retry::Escrowed => format!("retried on later cycles from {} \"with decreasing frequency\" (HOW; the exact back-off is not documented) until it succeeds or the job is restarted", at(next, 0)),
            Retry::No => "not retried: a source-side problem".to_string(),
        };
        let _ = writeln!(o, "  {}: {when}", super::clean_text(&a.object));
    }
    // Credentials: the last cycle's calls all failed with an authorisation error.
    let last_cycle = cycles.last().map(|c| &c.attempts[..]).unwrap_or(&[]);
    let all_failed_credentials = !last_cycle.is_empty()
        && last_cycle.iter().all(|a| a.failed)
        && last_cycle.iter().any(|a| a.credentials);
    let mut quarantined_at: Option<Option<i64>> = None;
    if all_failed_credentials {
        let _ = writeln!(
            o,
            "  credentials: every call of the last cycle failed with an authorisation error; Entra quarantines a job whose calls all fail (QUAR, EncounteredQuarantineException) — expected when the next cycle ({}) fails the same way. QUAR gives no count of failed cycles for this trigger.",
            at(next, 0)
        );
        quarantined_at = Some(next);
    }
    // Escrow thresholds, scaled to the tenant.
    let failing = escrow.iter().filter(|a| !a.reference).count() as f64;
    let failing_ref = escrow.iter().filter(|a| a.reference).count() as f64;
    let seen = objects_seen.max(1) as f64;
    let rate = failing / seen;
    let rate_ref = failing_ref / seen;
    let n = objects.unwrap_or(objects_seen) as f64;
    let projected = rate * n;
    let projected_all = (rate + rate_ref) * n;
    let _ = writeln!(
        o,
        "\nEscrow thresholds (QUAR) for {} object(s) in scope{}",
        count(n),
        if objects.is_some() {
            ""
        } else {
            " (the input's; pass --objects N for the tenant's users + groups + members)"
        }
    );
    let _ = writeln!(
        o,
        "  failing in the input: {} of {} object(s) ({:.0}%), plus {} reference failure(s) (members, manager; counted apart)",
        failing as u64,
        objects_seen,
        rate * 100.0,
        failing_ref as u64
    );
    let _ = writeln!(
        o,
        "  at that rate: about {} failure(s) (non-reference), {} with references",
        count(projected),
        count(projected_all)
    );
    let by_escrow =
        (projected >= 5000.0 && (rate > 0.4 || projected > 40_000.0)) || projected_all > 60_000.0;
    if by_escrow {
        let (lo, hi) = (0.01 * n * 60.0, 0.08 * n * 60.0);
        let start = cycles.first().and_then(|c| c.start);
        let _ = writeln!(
            o,
            "  → quarantined by escrow: {} failures ≥ 5,000 with {} — at the end of an initial cycle over these objects, {}–{} after it starts (0.01–0.08 min per object, WHEN){}",
            count(projected),
            if projected_all > 60_000.0 { "more than 60,000 including references".to_string() } else if rate > 0.4 { format!("{:.0}% > 40% failing", rate * 100.0) } else { "more than 40,000".to_string() },
            human(lo as i64 / 60 * 60),
            human(hi as i64 / 60 * 60),
            start.map(|s| format!(" (from {}: {} to {})", super::format_time(s), super::format_time(s + lo as i64), super::format_time(s + hi as i64))).unwrap_or_default()
        );
        if quarantined_at.is_none() {
            quarantined_at = Some(start.map(|s| s + hi as i64));
        }
    } else {
        let _ = writeln!(o, "  → not quarantined by escrow: evaluation starts at 5,000 failures, then needs more than 40% failing or more than 40,000 (or 60,000 with references)");
        let min_n = [
            if rate > 0.4 {
                5000.0 / rate
            } else if rate > 0.0 {
                40_000.0 / rate
            } else {
                f64::INFINITY
            },
            if rate + rate_ref > 0.0 {
                60_000.0 / (rate + rate_ref)
            } else {
                f64::INFINITY
            },
        ]
        .into_iter()
        .fold(f64::INFINITY, f64::min);
        if min_n.is_finite() {
            let _ = writeln!(
                o,
                "    at this failure rate a tenant is quarantined from about {} object(s) in scope",
                count(min_n.ceil())
            );
        }
    }
    match quarantined_at {
        Some(q) => {
            let _ = writeln!(
                o,
                "\nIn quarantine (QUAR), from the quarantine's first failed cycle ({}):",
                at(q, 0)
            );
            let _ = writeln!(o, "  incremental cycles slow to once a day; retries at {} (+6 h), {} (+12 h), {} (+24 h), then every 24 h", at(q, 6 * HOUR), at(q, 12 * HOUR), at(q, DAY));
            let _ = writeln!(o, "  the first retry that succeeds ends quarantine (fix the cause, then restart the job or wait for the retry)");
            let _ = writeln!(
                o,
                "  {} (+28 days): the escrow is dropped and the job is disabled",
                at(q, 28 * DAY)
            );
        }
        None => {
            let _ = writeln!(o, "\nNo quarantine expected; the escrowed objects stay out of sync (and in the logs as failures every retry) until the server is fixed.");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(t: i64, obj: &str, failed: bool, credentials: bool) -> Attempt {
        Attempt {
            time: Some(t),
            cycle: None,
            object: obj.into(),
            failed,
            code: failed.then(|| "X".into()),
            retry: if failed { Retry::Escrowed } else { Retry::No },
            credentials,
            reference: false,
        }
    }

    #[test]
    fn escrow_thresholds_scale_with_the_tenant() {
        let a = vec![attempt(0, "a", true, false), attempt(10, "b", false, false)];
        let small = render("t", &a, None);
        assert!(small.contains("not quarantined by escrow"), "{small}");
        assert!(
            small.contains("quarantined from about 10,000 object(s)"),
            "{small}"
        );
        let big = render("t", &a, Some(20_000));
        assert!(
            big.contains("→ quarantined by escrow: 10,000 failures"),
            "{big}"
        );
        // 10% failing: only the absolute 40,000 counts.
        let mut few: Vec<Attempt> = (0..10)
            .map(|i| attempt(i, &format!("o{i}"), i == 0, false))
            .collect();
        assert!(render("t", &few, Some(100_000)).contains("not quarantined"));
        assert!(render("t", &few, Some(500_000)).contains("quarantined by escrow"));
        few.clear();
    }

    #[test]
    fn credential_failures_quarantine_from_the_next_cycle() {
        let a = vec![
            attempt(0, "a", false, false),
            attempt(CYCLE, "a", true, true),
        ];
        let t = render("t", &a, None);
        assert!(
            t.contains("credentials: every call of the last cycle failed"),
            "{t}"
        );
        assert!(t.contains("+28 days"), "{t}");
        assert!(
            t.contains(&super::super::format_time(2 * CYCLE + 28 * DAY)),
            "{t}"
        );
    }
}
