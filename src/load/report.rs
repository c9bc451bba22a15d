//! The load run's report: a versioned JSON document (`--report-json`) and its human layout.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::load::audit::{AuditResult, Named};
use crate::load::cycle::{Failures, PhaseStats};
use crate::load::metrics::{OpSummary, Throttling};
use crate::support::styles::Styles;

pub const LOAD_REPORT_VERSION: u32 = 1;

#[derive(Clone, Debug, serde::Serialize)]
pub struct DirectoryInfo {
    pub seed: u64,
    pub users: u32,
    pub groups: u32,
    pub members_per_group: u32,
    pub memberships: u64,
    pub overlapping_users: u64,
    pub fingerprint: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub version: u32,
    pub idp: &'static str,
    pub profile: &'static str,
    pub target: String,
    pub builtin: bool,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub time_scale: f64,
    pub directory: DirectoryInfo,
    pub interrupted: bool,
    pub duration_ms: u64,
    pub requests: u64,
    pub requests_per_second: f64,
    pub phases: Vec<PhaseStats>,
    pub operations: BTreeMap<&'static str, OpSummary>,
    pub status_codes: BTreeMap<String, u64>,
    pub transport_errors: u64,
    pub throttling: Throttling,
    pub failures: Failures,
    pub audit: AuditResult,
}

impl LoadReport {
    pub fn passed(&self) -> bool {
        self.audit.passed && self.failures.count == 0 && !self.interrupted
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn human(&self, s: &Styles) -> String {
        let mut o = String::new();
        let d = &self.directory;
        let _ = writeln!(
            o,
            "\n{} {} ({}): {} users, {} groups × {} members, concurrency {}{}",
            s.bold.paint("idpsim load"),
            self.idp,
            self.profile,
            d.users,
            d.groups,
            d.members_per_group,
            self.concurrency,
            self.rate
                .map(|r| format!(", rate {r}/s"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            o,
            "seed {} · directory fingerprint {}",
            d.seed, d.fingerprint
        );
        let _ = writeln!(
            o,
            "\n{:<22} {:>8} {:>9} {:>10}",
            "phase", "requests", "time", "req/s"
        );
        for p in &self.phases {
            let _ = writeln!(
                o,
                "{:<22} {:>8} {:>8.2}s {:>10.1}",
                p.name,
                p.requests,
                p.duration_ms as f64 / 1000.0,
                p.requests_per_second
            );
        }
        let _ = writeln!(
            o,
            "{:<22} {:>8} {:>8.2}s {:>10.1}",
            "total",
            self.requests,
            self.duration_ms as f64 / 1000.0,
            self.requests_per_second
        );
        let _ = writeln!(
            o,
            "\n{:<16} {:>7} {:>6} {:>9} {:>9} {:>9} {:>9}",
            "operation", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for (name, op) in &self.operations {
            let _ = writeln!(
                o,
                "{:<16} {:>7} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                name, op.count, op.errors, op.p50_ms, op.p90_ms, op.p99_ms, op.max_ms
            );
        }
        let codes: Vec<String> = self
            .status_codes
            .iter()
            .map(|(c, n)| format!("{c} ×{n}"))
            .collect();
        let _ = writeln!(o, "\nstatus codes: {}", codes.join(", "));
        if self.transport_errors > 0 {
            let _ = writeln!(o, "transport errors: {}", self.transport_errors);
        }
        let t = &self.throttling;
        if t.responses_429 == 0 {
            let _ = writeln!(o, "throttling: no 429");
        } else {
            let _ = writeln!(
                o,
                "throttling: {} × 429; {} retried ({} after Retry-After, {} with the IdP's back-off), {} gave up; the IdP would wait {:.1}s in total (longest {:.1}s), this run waited {:.2}s (time scale {})",
                t.responses_429,
                t.retries,
                t.retry_after_honoured,
                t.without_retry_after,
                t.gave_up,
                t.requested_wait_ms as f64 / 1000.0,
                t.longest_wait_ms as f64 / 1000.0,
                t.waited_ms as f64 / 1000.0,
                self.time_scale
            );
        }
        let _ = writeln!(o, "  policy: {}", t.policy);
        let f = &self.failures;
        if f.conflicts_resolved > 0 {
            let _ = writeln!(
                o,
                "assignment races: {} create(s) answered 409 and were linked by a second lookup",
                f.conflicts_resolved
            );
        }
        if f.count > 0 {
            let _ = writeln!(
                o,
                "{}: {} operation(s) failed for the IdP",
                s.error.paint("failures"),
                f.count
            );
            for e in f.examples.iter().take(10) {
                let _ = writeln!(o, "  - {e}");
            }
            if f.count > 10 {
                let _ = writeln!(
                    o,
                    "  … {} more (all counted in --report-json)",
                    f.count - 10
                );
            }
        }
        let a = &self.audit;
        if a.passed {
            let _ = writeln!(
                o,
                "\naudit: {} — {} users and {} memberships on the server exactly once, as last written",
                s.pass.paint("PASS"),
                a.users_ok,
                a.memberships_ok
            );
        } else {
            let _ = writeln!(
                o,
                "\naudit: {} — {}/{} users and {}/{} memberships as expected",
                s.error.paint("FAIL"),
                a.users_ok,
                a.users_expected,
                a.memberships_ok,
                a.memberships_expected
            );
            let rows: [(&str, &Named); 10] = [
                ("lost users", &a.lost_users),
                ("duplicated users", &a.duplicated_users),
                ("relinked users", &a.relinked_users),
                ("stale users", &a.stale_users),
                ("lost groups", &a.lost_groups),
                ("duplicated groups", &a.duplicated_groups),
                ("lost memberships", &a.lost_memberships),
                ("duplicated memberships", &a.duplicated_memberships),
                ("unexpected memberships", &a.unexpected_memberships),
                ("unanswered audit requests", &a.unanswered),
            ];
            for (label, n) in rows.iter().filter(|(_, n)| n.count > 0) {
                let shown: Vec<&str> = n.names.iter().take(5).map(String::as_str).collect();
                let more = if n.count > shown.len() as u64 {
                    format!(" … +{} more", n.count - shown.len() as u64)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "  {label}: {} — {}{more}", n.count, shown.join(", "));
            }
        }
        if self.interrupted {
            let _ = writeln!(
                o,
                "interrupted: the run stopped early; the audit covers what was planned"
            );
        }
        o
    }
}
