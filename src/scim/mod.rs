//! SCIM protocol pieces shared by the server and the engine (placeholder, being written).
