//! The CPU time this process has used, for `idpsim load`'s per-phase client cost: on a machine
//! where the client and the server under test share the cores, the client's CPU per request is
//! what it takes from the server (wrk and oha report none).

use std::time::Duration;

/// CPU time used so far by all threads of this process, those that have ended included
/// (`CLOCK_PROCESS_CPUTIME_ID`, nanoseconds as the scheduler counts them). Summing the live
/// threads' `/proc/self/task/*/schedstat` instead lost the time of every thread that ended, so
/// the total could go down between two readings. `None` off Unix.
#[cfg(unix)]
pub fn process_cpu() -> Option<Duration> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let secs = u64::try_from(t.tv_sec).ok()?;
    let nanos = u32::try_from(t.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

#[cfg(not(unix))]
pub fn process_cpu() -> Option<Duration> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let Some(before) = process_cpu() else {
            // Not Linux, or /proc is not mounted: nothing to measure.
            return;
        };
        let mut x: u64 = 1;
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = process_cpu().expect("still readable");
        assert!(after > before, "{before:?} → {after:?}");
    }

    /// A thread that has ended still counts: the total never goes down.
    #[test]
    fn an_ended_thread_s_time_still_counts() {
        let Some(before) = process_cpu() else { return };
        let spent = std::thread::spawn(|| {
            let mut x: u64 = 1;
            let t = std::time::Instant::now();
            while t.elapsed() < Duration::from_millis(30) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            std::hint::black_box(x);
            thread_cpu()
        })
        .join()
        .expect("the thread ran");
        let after = process_cpu().expect("still readable");
        // At least the ended thread's own time was added, whatever other tests' threads did.
        assert!(
            after >= before + spent,
            "{before:?} + {spent:?} > {after:?}"
        );
    }

    fn thread_cpu() -> Duration {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    }
}
