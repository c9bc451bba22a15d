//! Microsoft Entra ID provisioning profile.
pub mod expr;
