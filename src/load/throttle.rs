//! 429 handling as each IdP does it, and the client-side pacing of `--rate`.
//!
//! * Okta ("Understanding SCIM", rate limits, developer.okta.com/docs/concepts/scim): the task pauses; the first retry waits `Retry-After` seconds when it
//!   is an integer, otherwise 5 minutes; each further 429 doubles the wait; after 10 attempts
//!   the task fails for good. Other tasks carry on.
//! * Entra (the provisioning logs' error table, Microsoft Learn): `TooManyRequests` is retried automatically after the
//!   `Retry-After` period, during which Entra "suspend[s] all provisioning activities … for that
//!   particular client": the pause is job-wide, so every worker waits. Without a usable
//!   Retry-After the same back-off as the scenario engine applies (`entra::sync`: 2^n seconds);
//!   the number of retries is Entra's setting (`retry_429`, default 4).
//!
//! Every wait is multiplied by `--time-scale`, so a test checks the policy in milliseconds.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::scenario::Idp;

/// Okta's documented cap on attempts ("Understanding SCIM", rate limits, developer.okta.com/docs/concepts/scim).
pub const OKTA_MAX_ATTEMPTS: u32 = 10;
/// Okta's wait when Retry-After is absent or not an integer ("Understanding SCIM", rate limits, developer.okta.com/docs/concepts/scim).
pub const OKTA_DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);
/// Longest Retry-After honoured as given; longer values are capped so a run always ends.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug)]
pub enum Policy {
    Okta,
    Entra { retries: u32 },
}

impl Policy {
    pub fn for_idp(idp: Idp) -> Policy {
        match idp {
            Idp::Okta => Policy::Okta,
            _ => Policy::Entra {
                retries: crate::idp::entra::config::Settings::default().retry_429,
            },
        }
    }

    pub fn describe(self) -> String {
        match self {
            Policy::Okta => format!(
                "Okta (Understanding SCIM, rate limits: https://developer.okta.com/docs/concepts/scim/): wait Retry-After if an integer, else 5 min, doubling on each further 429; {OKTA_MAX_ATTEMPTS} attempts at most"
            ),
            Policy::Entra { retries } => format!(
                "Entra (TooManyRequests is retried: https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs): the whole job pauses for Retry-After, then retries; {retries} retries at most"
            ),
        }
    }

    /// Whether the pause stops every worker (Entra) or only the throttled task (Okta).
    pub fn job_wide(self) -> bool {
        matches!(self, Policy::Entra { .. })
    }

    /// The wait before the retry that follows the `n`-th 429 of one request (n ≥ 1), or `None`
    /// when the IdP gives up. `retry_after` is the header's raw value.
    pub fn wait(self, n: u32, retry_after: Option<&str>) -> Option<(Duration, bool)> {
        let given = retry_after.and_then(parse_retry_after);
        match self {
            Policy::Okta => {
                // n 429s so far means n attempts made; the 10th attempt is the last.
                if n >= OKTA_MAX_ATTEMPTS {
                    return None;
                }
                let first = given.unwrap_or(OKTA_DEFAULT_WAIT);
                let factor = 1u32 << (n - 1).min(16);
                Some((first.saturating_mul(factor), given.is_some()))
            }
            Policy::Entra { retries } => {
                if n > retries {
                    return None;
                }
                match given {
                    Some(d) => Some((d, true)),
                    None => Some((Duration::from_secs(1 << n.min(8)), false)),
                }
            }
        }
    }
}

/// The integer-seconds form of Retry-After (RFC 9110 §10.2.3); an HTTP-date or anything else
/// is "not an integer" for Okta and falls back to the IdP's back-off.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: u64 = v.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// `--time-scale` applied to a wait.
pub fn scaled(d: Duration, scale: f64) -> Duration {
    Duration::from_secs_f64((d.as_secs_f64() * scale).clamp(0.0, 86_400.0))
}

/// The job-wide pause of Entra: a deadline every request waits for before it goes out.
#[derive(Default)]
pub struct Pause(Mutex<Option<Instant>>);

impl Pause {
    pub fn extend_to(&self, until: Instant) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none_or(|t| t < until) {
            *g = Some(until);
        }
    }
    pub async fn wait(&self) {
        let until = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = until {
            if t > Instant::now() {
                tokio::time::sleep_until(t.into()).await;
            }
        }
    }
}

/// `--rate R`: at most R requests per second across all workers, evenly spaced.
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn new(rate: f64) -> Pacer {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rate.max(0.001)),
            next: Mutex::new(Instant::now()),
        }
    }
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        if slot > Instant::now() {
            tokio::time::sleep_until(slot.into()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_honours_integer_retry_after_then_doubles_and_stops_at_ten() {
        let p = Policy::Okta;
        assert_eq!(p.wait(1, Some("7")), Some((Duration::from_secs(7), true)));
        assert_eq!(p.wait(2, Some("7")), Some((Duration::from_secs(14), true)));
        assert_eq!(p.wait(1, None), Some((OKTA_DEFAULT_WAIT, false)));
        assert_eq!(
            p.wait(1, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some((OKTA_DEFAULT_WAIT, false))
        );
        assert_eq!(p.wait(3, Some("1.5")), Some((OKTA_DEFAULT_WAIT * 4, false)));
        assert!(p.wait(9, Some("1")).is_some());
        assert_eq!(p.wait(10, Some("1")), None);
    }

    #[test]
    fn entra_honours_retry_after_a_bounded_number_of_times() {
        let p = Policy::Entra { retries: 4 };
        assert_eq!(p.wait(1, Some("2")), Some((Duration::from_secs(2), true)));
        assert_eq!(p.wait(2, None), Some((Duration::from_secs(4), false)));
        assert_eq!(p.wait(5, Some("2")), None);
        assert!(p.job_wide() && !Policy::Okta.job_wide());
    }
}
