//! idpsim plays the identity provider for SCIM 2.0.
//!
//! Data flows one way: `scenario` (parse YAML into a validated model) → `run` (steps in order,
//! IdP actions through `idp`, whose profiles build the requests) → `transport` (send) → `check`
//! (judge every exchange) → `outcome` (what the run produced) → `gate` (the verdict) and
//! `report` (console, JSON, JUnit, Markdown, HTML). `commands` holds one file per subcommand,
//! `cli` their flags, and `verdict` alone turns a command's end into an exit code. `server` is
//! the built-in reference SCIM server. Imports point the same way (tests/architecture.rs); see
//! docs/ARCHITECTURE.md.

pub mod audit;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod idp;
pub mod idplog;
pub mod load;
pub mod outcome;
pub mod record;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scim;
pub mod server;
pub mod support;
pub mod transport;
pub mod verdict;
