//! The capabilities a service provider advertises in `/ServiceProviderConfig` (RFC 7643 §5), by
//! the names scenarios use in `requires:`. The scenario grammar checks names against this table
//! and the gate reads the server's document with it.

/// The capabilities `/ServiceProviderConfig` advertises, by the names scenarios use.
pub const CAPABILITIES: &[&str] = &["patch", "filter", "etag", "sort", "bulk", "changePassword"];

/// The canonical name of a capability (`change-password` and case variants accepted).
pub fn canonical(name: &str) -> Option<&'static str> {
    let folded: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    CAPABILITIES
        .iter()
        .copied()
        .find(|c| c.to_lowercase() == folded)
}
