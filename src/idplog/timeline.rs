//! The Entra timeline (see `render`).
