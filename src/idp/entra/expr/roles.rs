//! One app role assignment as Entra's role functions see it (`SingleAppRoleAssignment`,
//! `AppRoleAssignmentsComplex`, `AssertiveAppRoleAssignmentsComplex`).
//!
//! Microsoft Learn, "Customize user provisioning attribute-mappings" → "Provisioning a role to
//! a SCIM app" shows the assignment inside the default-mode PATCH as JSON text with `id` (the
//! app role's id), `value` and `displayName`, in that order:
//! `"{\"id\":\"06b07648-…\",\"value\":\"25\",\"displayName\":\"Role1234\"}"`. That text is what
//! the functions evaluate to; `entra::roles` turns it into each documented body.

use serde_json::{Map, Value as Json};

/// The `type` Entra gives every role it provisions (the same page, every example).
pub const ROLE_TYPE: &str = "WindowsAzureActiveDirectoryRole";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRole {
    /// The app role's id (a GUID in Entra).
    pub id: String,
    /// The app role's `value` (what the app sees as the role).
    pub value: String,
    pub display_name: String,
}

impl AppRole {
    /// One element of the source attribute `[appRoleAssignments]`: a role value string, or a
    /// JSON object text with `value` and/or `displayName` and optionally `id` (choice 12). A
    /// missing value is the display name and vice versa; a missing id is a stable GUID derived
    /// from the value, so the same directory sends the same text on every run.
    pub fn from_source(r: &str) -> AppRole {
        if let Ok(Json::Object(o)) = serde_json::from_str::<Json>(r) {
            let get = |k: &str| o.get(k).and_then(Json::as_str).map(str::to_string);
            let value = get("value")
                .or_else(|| get("displayName"))
                .unwrap_or_default();
            let display_name = get("displayName").unwrap_or_else(|| value.clone());
            let id = get("id").unwrap_or_else(|| stable_id(&value));
            return AppRole {
                id,
                value,
                display_name,
            };
        }
        AppRole {
            id: stable_id(r),
            value: r.to_string(),
            display_name: r.to_string(),
        }
    }

    /// The JSON text of the page's default-mode PATCH: `{"id":…,"value":…,"displayName":…}`.
    pub fn to_text(&self) -> String {
        let mut m = Map::new();
        m.insert("id".into(), Json::String(self.id.clone()));
        m.insert("value".into(), Json::String(self.value.clone()));
        m.insert(
            "displayName".into(),
            Json::String(self.display_name.clone()),
        );
        Json::Object(m).to_string()
    }

    /// Reads back what [`AppRole::to_text`] wrote (or any text [`AppRole::from_source`] takes).
    pub fn from_text(t: &str) -> AppRole {
        AppRole::from_source(t)
    }
}

/// A GUID-shaped id from FNV-1a over the role value (two 64-bit halves), so it never changes
/// between runs, builds or toolchains.
fn stable_id(value: &str) -> String {
    fn fnv(seed: u64, bytes: &[u8]) -> u64 {
        let mut h = seed;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
    let a = fnv(0xcbf2_9ce4_8422_2325, value.as_bytes());
    let b = fnv(a ^ 0x9e37_79b9_7f4a_7c15, value.as_bytes());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_and_objects() {
        let r = AppRole::from_source(
            r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#,
        );
        assert_eq!(
            r.to_text(),
            r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#
        );
        let admin = AppRole::from_source("Admin");
        assert_eq!(
            (admin.value.as_str(), admin.display_name.as_str()),
            ("Admin", "Admin")
        );
        // Stable: the same value gives the same id, another value another id.
        assert_eq!(admin.id, AppRole::from_source("Admin").id);
        assert_ne!(admin.id, AppRole::from_source("User").id);
        assert_eq!(admin.id.len(), 36);
        let only_name = AppRole::from_source(r#"{"displayName":"Reader"}"#);
        assert_eq!(only_name.value, "Reader");
        assert_eq!(AppRole::from_text(&admin.to_text()), admin);
    }
}
