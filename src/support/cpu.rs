//! The CPU time this process has used, for `idpsim load`'s per-phase client cost: on a machine
//! where the client and the server under test share the cores, the client's CPU per request is
//! what it takes from the server (wrk and oha report none).

use std::time::Duration;

/// CPU time used so far by all threads of this process, in nanoseconds of run time as the
/// scheduler counts it (Linux: the first field of every `/proc/self/task/*/schedstat`). `None`
/// where that is not available; a thread that ends between listing and reading is skipped.
pub fn process_cpu() -> Option<Duration> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut ns: u64 = 0;
    let mut any = false;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        if let Some(n) = stat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
        {
            ns = ns.saturating_add(n);
            any = true;
        }
    }
    any.then(|| Duration::from_nanos(ns))
}

#[cfg(test)]
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
}
