//! Table-driven tests (placeholder)
