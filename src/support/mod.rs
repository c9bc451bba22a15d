//! The leaves every layer may use, and which use nothing of idpsim above them: secret redaction,
//! terminal styles, `file:line:col` diagnostics, signal handling, small text codecs and
//! pipe-safe output.

pub mod diagnostic;
pub mod out;
pub mod redact;
pub mod signal;
pub mod styles;
pub mod text;
