//! Streaming measurements: per-operation latency histograms (HdrHistogram, microseconds) and
//! counters. Nothing here grows with the number of requests, only with the number of distinct
//! operations and status codes, which is what keeps a 100,000-user run's memory flat.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

/// What a request was for; the report's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    UserLookup,
    UserCreate,
    GroupLookup,
    GroupCreate,
    GroupRename,
    GroupMembers,
    UserRead,
    UserUpdate,
    UserDeactivate,
    GroupRead,
    AuditUser,
    AuditGroup,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::UserLookup => "user.lookup",
            Op::UserCreate => "user.create",
            Op::GroupLookup => "group.lookup",
            Op::GroupCreate => "group.create",
            Op::GroupRename => "group.rename",
            Op::GroupMembers => "group.members",
            Op::UserRead => "user.read",
            Op::UserUpdate => "user.update",
            Op::UserDeactivate => "user.deactivate",
            Op::GroupRead => "group.read",
            Op::AuditUser => "audit.user",
            Op::AuditGroup => "audit.group",
        }
    }
}

/// 1 µs to 1 hour at 2 significant digits: ~1% precision for p50/p99, a few KiB per histogram.
fn histogram() -> Histogram<u64> {
    // Constant, valid bounds (low ≥ 1, high ≥ 2·low, 2 digits ≤ 5): this cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("constant histogram bounds are valid")
}

#[derive(Clone, Debug)]
pub struct OpStats {
    pub latency: Histogram<u64>,
    /// Answers that were not what the IdP needed (after retries), and transport failures.
    pub errors: u64,
}

/// Latency percentiles of one operation, in milliseconds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OpSummary {
    pub count: u64,
    pub errors: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// How the run met 429s.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Throttling {
    /// The IdP's policy in words.
    pub policy: String,
    pub responses_429: u64,
    /// 429s followed by a retry.
    pub retries: u64,
    /// 429s whose Retry-After was an integer number of seconds and was waited for.
    pub retry_after_honoured: u64,
    /// 429s without a usable Retry-After (the IdP's own back-off applied).
    pub without_retry_after: u64,
    /// Requests abandoned after the IdP's last attempt.
    pub gave_up: u64,
    /// What the IdP would wait in total (unscaled), and what this run waited (scaled).
    pub requested_wait_ms: u64,
    pub waited_ms: u64,
    /// The longest single wait the IdP asked for (unscaled).
    pub longest_wait_ms: u64,
}

#[derive(Default)]
struct Inner {
    ops: BTreeMap<Op, OpStats>,
    status: BTreeMap<u16, u64>,
    throttling: Throttling,
}

/// Shared by every worker. The mutex is held for a histogram increment only.
pub struct Metrics {
    inner: Mutex<Inner>,
    /// The live view for the progress bar (all operations together).
    live: Mutex<Histogram<u64>>,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub transport_errors: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            inner: Mutex::new(Inner::default()),
            live: Mutex::new(histogram()),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            transport_errors: AtomicU64::new(0),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A worker that panicked while holding the lock left counters, not broken invariants.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    /// One answered (or failed: status 0) request.
    pub fn record(&self, op: Op, status: u16, elapsed: Duration) {
        let us = (elapsed.as_micros() as u64).clamp(1, 3_600_000_000);
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status == 0 {
            self.transport_errors.fetch_add(1, Ordering::Relaxed);
        }
        {
            let mut inner = lock(&self.inner);
            let stats = inner.ops.entry(op).or_insert_with(|| OpStats {
                latency: histogram(),
                errors: 0,
            });
            let _ = stats.latency.record(us);
            *inner.status.entry(status).or_insert(0) += 1;
        }
        let _ = lock(&self.live).record(us);
    }

    /// An operation that failed for the IdP (after its retries).
    pub fn error(&self, op: Op) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut inner = lock(&self.inner);
        inner
            .ops
            .entry(op)
            .or_insert_with(|| OpStats {
                latency: histogram(),
                errors: 0,
            })
            .errors += 1;
    }

    pub fn throttled(&self, f: impl FnOnce(&mut Throttling)) {
        f(&mut lock(&self.inner).throttling);
    }

    /// p50 and p99 of everything so far, in milliseconds (for the progress bar).
    pub fn live_percentiles(&self) -> (f64, f64) {
        let h = lock(&self.live);
        if h.is_empty() {
            return (0.0, 0.0);
        }
        (
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
        )
    }

    pub fn summary(
        &self,
    ) -> (
        BTreeMap<&'static str, OpSummary>,
        BTreeMap<u16, u64>,
        Throttling,
    ) {
        let inner = lock(&self.inner);
        let ops = inner
            .ops
            .iter()
            .map(|(op, s)| {
                let h = &s.latency;
                let ms = |v: u64| (v as f64 / 1000.0 * 1000.0).round() / 1000.0;
                (
                    op.name(),
                    OpSummary {
                        count: h.len(),
                        errors: s.errors,
                        mean_ms: ((h.mean() / 1000.0) * 1000.0).round() / 1000.0,
                        p50_ms: ms(h.value_at_quantile(0.5)),
                        p90_ms: ms(h.value_at_quantile(0.9)),
                        p99_ms: ms(h.value_at_quantile(0.99)),
                        max_ms: ms(h.max()),
                    },
                )
            })
            .collect();
        (ops, inner.status.clone(), inner.throttling.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_counts() {
        let m = Metrics::default();
        for ms in 1..=100u64 {
            m.record(Op::UserLookup, 200, Duration::from_millis(ms));
        }
        m.record(Op::UserCreate, 409, Duration::from_millis(5));
        m.error(Op::UserCreate);
        let (ops, status, _) = m.summary();
        let l = &ops["user.lookup"];
        assert_eq!(l.count, 100);
        assert!((l.p50_ms - 50.0).abs() < 1.0, "{}", l.p50_ms);
        assert!((l.p99_ms - 99.0).abs() < 1.5, "{}", l.p99_ms);
        assert_eq!(ops["user.create"].errors, 1);
        assert_eq!(status[&200], 100);
        assert_eq!(status[&409], 1);
    }
}
