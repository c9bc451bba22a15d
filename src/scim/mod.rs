//! SCIM 2.0 protocol pieces shared by the reference server and the scenario engine:
//! core schema definitions ([`schema`]), attribute and PATCH paths ([`path`]) and the filter
//! language ([`filter`]). Nothing here does I/O.

pub mod capabilities;
pub mod filter;
pub mod path;
pub mod schema;

pub use filter::{EvalOptions, Filter, FilterError};

/// The `value` of each entry of a Group's `members` (RFC 7643 §4.2): the member ids. Entries
/// without a string `value` are skipped; a missing or non-array `members` means none.
pub fn member_values(members: Option<&serde_json::Value>) -> Vec<String> {
    members
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(serde_json::Value::as_str))
        .map(str::to_string)
        .collect()
}
pub use path::{AttrPath, PatchPath};
pub use schema::ResourceKind;
