//! SCIM 2.0 protocol pieces shared by the reference server and the scenario engine:
//! core schema definitions ([`schema`]), attribute and PATCH paths ([`path`]) and the filter
//! language ([`filter`]). Nothing here does I/O.

pub mod filter;
pub mod path;
pub mod schema;

pub use filter::{EvalOptions, Filter, FilterError};
pub use path::{AttrPath, PatchPath};
pub use schema::ResourceKind;
