//! Entra attribute-mapping expression language (placeholder, being written).
