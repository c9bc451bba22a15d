//! One error type for the whole program: what stopped a command before it could come to a
//! verdict. `verdict` maps each variant to its exit code.
//!
//! It sits with the leaves (it imports only `support`), so every layer can return its `Error`.

use crate::support::diagnostic::Diagnostic;

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
    /// An Entra attribute-mapping expression that does not parse, reads attributes it was not
    /// given, or fails to evaluate (`idpsim expr`): each diagnostic points into `text`.
    #[error("{}", .diagnostics.first().map_or("invalid expression", |d| d.message.as_str()))]
    Expression {
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// The built-in server could not start.
    #[error("built-in server: {0}")]
    Server(String),
}

impl Error {
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
