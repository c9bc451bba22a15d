//! How a command ends, and the only place that turns that into the process's exit code: a
//! command returns `Ok(Verdict)` or an `Error`, and [`exit_code`] maps either to the number.
//!
//! Exit codes are part of the interface (CI scripts branch on them):
//! 0 all passed, 1 compliance failures, 2 bad usage or invalid scenario (nothing sent),
//! 3 target unreachable or TLS failure, 130 interrupted by SIGINT (Ctrl-C), 143 terminated by
//! SIGTERM (128 + the signal's number, as shells report it).
//!
//! A leaf (it imports only `error` and `support`); `gate` decides a run's verdict.

use crate::error::{Error, Result};
use crate::support::signal::Signal;

/// The exit codes idpsim promises.
pub mod exit {
    pub const PASSED: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const UNREACHABLE: i32 = 3;
    /// Stopped by SIGINT (Ctrl-C): 128 + 2.
    pub const INTERRUPTED: i32 = Signal::Interrupt.exit_code();
    /// Stopped by SIGTERM (`kill`, a CI runner's cancel, `docker stop`): 128 + 15.
    pub const TERMINATED: i32 = Signal::Terminate.exit_code();

    use crate::support::signal::Signal;
}

/// How a command that ran to its end (or was stopped) came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing failed (or the command judges nothing: `validate`, `list`, `serve`, …).
    Passed,
    /// Compliance failures at or above `--fail-on`, drift found by `audit`, failed `load`
    /// operations or audit.
    Failed,
    /// A signal stopped the command: what ran is incomplete, whatever it showed, so the signal
    /// wins over what the findings would have said.
    Stopped(Signal),
}

impl Verdict {
    pub fn code(self) -> i32 {
        match self {
            Verdict::Passed => exit::PASSED,
            Verdict::Failed => exit::FAILED,
            Verdict::Stopped(signal) => signal.exit_code(),
        }
    }

    /// `Passed` when `ok`, else `Failed`.
    pub fn passed_if(ok: bool) -> Self {
        if ok {
            Verdict::Passed
        } else {
            Verdict::Failed
        }
    }
}

/// The process's exit code for a command's result.
pub fn exit_code(result: &Result<Verdict>) -> i32 {
    match result {
        Ok(verdict) => verdict.code(),
        Err(err) => err.exit_code(),
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::InvalidScenarios(_) | Error::Expression { .. } => exit::USAGE,
            Error::Unreachable { .. } => exit::UNREACHABLE,
            Error::Io { .. } | Error::Server(_) => exit::USAGE,
        }
    }
}
