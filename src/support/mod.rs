//! The leaves every layer may use, and which use nothing of idpsim above them: secret redaction,
//! terminal styles, `file:line:col` diagnostics, signal handling, small text codecs,
//! pipe-safe output, reading the files a person hands idpsim (`input`) and the process's own
//! CPU time (`cpu`).

pub mod cpu;
pub mod diagnostic;
pub mod input;
pub mod out;
pub mod redact;
pub mod signal;
pub mod styles;
pub mod text;
