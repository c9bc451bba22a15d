//! idpsim: plays the identity provider for SCIM 2.0.
//!
//! The data flow is one direction: `scenario` (parse YAML into a model) → `run` (send requests,
//! drive IdP actions) → `check` (judge every exchange) → `report` (console, JSON, JUnit).
//! `server` is the built-in reference SCIM server; `okta` and `entra` are the IdP profiles.

pub mod entra;
pub mod scim;
pub mod server;
