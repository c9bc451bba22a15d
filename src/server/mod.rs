//! Built-in reference SCIM server (placeholder, being written).
