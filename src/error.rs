//! One error type for the whole program; each variant maps to one exit code.
//!
//! Exit codes are part of the interface (CI scripts branch on them):
//! 0 all passed, 1 compliance failures, 2 bad usage or invalid scenario (nothing sent),
//! 3 target unreachable or TLS failure, 130 interrupted by SIGINT (Ctrl-C), 143 terminated by
//! SIGTERM (128 + the signal's number, as shells report it).

use crate::support::diagnostic::Diagnostic;

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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line or configuration mistake.
    #[error("{0}")]
    Usage(String),
    /// One or more scenario files are invalid; nothing was sent.
    #[error("{} invalid scenario file(s)", .0.len())]
    InvalidScenarios(Vec<Diagnostic>),
    /// The target could not be reached (connection refused, DNS, TLS).
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// A file could not be read or written.
    #[error("{path}: {cause}")]
    Io { path: String, cause: String },
    /// The built-in server could not start.
    #[error("built-in server: {0}")]
    Server(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::InvalidScenarios(_) => exit::USAGE,
            Error::Unreachable { .. } => exit::UNREACHABLE,
            Error::Io { .. } | Error::Server(_) => exit::USAGE,
        }
    }

    pub fn io(path: impl std::fmt::Display, err: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.to_string(),
            cause: err.to_string(),
        }
    }
}

impl From<crate::support::out::WriteError> for Error {
    fn from(e: crate::support::out::WriteError) -> Self {
        Error::io(e.path.display(), e.cause)
    }
}

impl From<crate::support::signal::ListenError> for Error {
    fn from(e: crate::support::signal::ListenError) -> Self {
        Error::Usage(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
