//! idpsim plays the identity provider for SCIM 2.0.
//!
//! Data flows one way: `scenario` (read YAML into a validated model) → `run` (send requests,
//! drive IdP actions through `idp`) → `check` (judge every exchange) → `report` (console, JSON,
//! JUnit). `server` is the built-in reference SCIM server; `okta` and `entra` are the IdP
//! profiles. `app` glues the commands of `cli` to these modules; `error` maps failures to exit
//! codes. See docs/ARCHITECTURE.md.

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
