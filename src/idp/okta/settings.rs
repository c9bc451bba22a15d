//! Scenario `settings:` for the Okta profile: the knobs where Okta's traffic differs between
//! orgs, app templates or eras (okta.md §8 lists the contradictions these settle).
//!
//! ```yaml
//! settings:
//!   query_encoding: percent        # `%20` (docs 2021+, default) or `plus` (2018 capture: `+`)
//!   unique_identifier: login       # Okta attribute that becomes `userName` (e.g. email)
//!   lookup_attribute: userName     # SCIM attribute of the lookup filter (okta.md §8 #2)
//!   locale: en-US                  # `en-US` (current docs) or `en_US` (2018 captures)
//!   readd_members_after_create: true   # OIN: PATCH-add the POSTed members again (BLOG-FLASK)
//!   metadata_patch_after_create: false # OIN: path-less {id,displayName} replace after create
//!   rename_with_membership: true   # OIN: the rename PATCH follows every membership change
//!   group_lookup: filter           # `filter` (displayName eq) or `cache` (GET /Groups list)
//!   enterprise_extension: false    # list the enterprise URN in `schemas` even with no values
//!   retry_max_attempts: 10         # 429 policy (okta.md §1.5)
//!   retry_default_seconds: 300
//!   governance: false              # Okta Identity Governance: test_connector also discovers
//!                                  # roles and entitlements (scim-with-entitlements guide)
//! ```

use crate::scenario::yaml::NodeKind;
use crate::scenario::{Node, Scenario};
use crate::support::diagnostic::Pos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// Apps built from Okta's SCIM templates (OIN): PATCH for active, password and groups.
    Oin,
    /// App Integration Wizard apps: GET then PUT for every update.
    Aiw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryEncoding {
    Percent,
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupLookup {
    Filter,
    Cache,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub personality: Personality,
    pub query_encoding: QueryEncoding,
    pub unique_identifier: String,
    pub lookup_attribute: String,
    pub locale: String,
    pub readd_members_after_create: bool,
    pub metadata_patch_after_create: bool,
    pub rename_with_membership: bool,
    pub group_lookup: GroupLookup,
    pub enterprise_extension: bool,
    pub retry_max_attempts: u32,
    pub retry_default_seconds: u64,
    /// Entitlement management (Okta Identity Governance) is on for the app.
    pub governance: bool,
}

/// The settings an Okta scenario may set (the scenario JSON Schema lists these too).
pub const KEYS: &[&str] = &[
    "query_encoding",
    "unique_identifier",
    "lookup_attribute",
    "locale",
    "readd_members_after_create",
    "metadata_patch_after_create",
    "rename_with_membership",
    "group_lookup",
    "enterprise_extension",
    "retry_max_attempts",
    "retry_default_seconds",
    "governance",
];

impl Settings {
    /// Reads the settings; `validate` has already rejected malformed values, so defaults here
    /// only fill what is absent.
    pub fn of(scenario: &Scenario) -> Settings {
        let personality = match scenario.profile.as_deref() {
            Some("aiw") => Personality::Aiw,
            _ => Personality::Oin,
        };
        Settings::from_node(personality, scenario.settings.as_ref())
    }

    /// What a scenario without `settings:` gets: Okta's defaults for the personality.
    /// `idpsim load` plays these.
    pub fn defaults(personality: Personality) -> Settings {
        Settings::from_node(personality, None)
    }

    fn from_node(personality: Personality, node: Option<&Node>) -> Settings {
        let get = |k: &str| node.and_then(|n| n.get(k));
        let text = |k: &str, d: &str| {
            get(k)
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| d.to_string())
        };
        let flag = |k: &str, d: bool| match get(k).map(|n| &n.kind) {
            Some(NodeKind::Bool(b)) => *b,
            _ => d,
        };
        let int = |k: &str, d: i64| match get(k).map(|n| &n.kind) {
            Some(NodeKind::Int(i)) if *i > 0 => *i,
            _ => d,
        };
        Settings {
            personality,
            query_encoding: match text("query_encoding", "percent").as_str() {
                "plus" | "+" | "form" => QueryEncoding::Plus,
                _ => QueryEncoding::Percent,
            },
            unique_identifier: text("unique_identifier", "login"),
            lookup_attribute: text("lookup_attribute", "userName"),
            locale: text("locale", "en-US"),
            readd_members_after_create: flag("readd_members_after_create", true),
            metadata_patch_after_create: flag("metadata_patch_after_create", false),
            rename_with_membership: flag("rename_with_membership", true),
            // The AIW capture decided Create vs Link from the cached app-group list; the OIN
            // docs show the displayName filter (okta.md §2.10.1, §8 #6).
            group_lookup: match get("group_lookup").and_then(Node::as_str) {
                Some("cache") => GroupLookup::Cache,
                Some("filter") => GroupLookup::Filter,
                _ if personality == Personality::Aiw => GroupLookup::Cache,
                _ => GroupLookup::Filter,
            },
            enterprise_extension: flag("enterprise_extension", false),
            retry_max_attempts: int("retry_max_attempts", 10).min(50) as u32,
            retry_default_seconds: int("retry_default_seconds", 300).min(86_400) as u64,
            governance: flag("governance", false),
        }
    }

    pub fn oin(&self) -> bool {
        self.personality == Personality::Oin
    }
}

pub fn validate(scenario: &Scenario) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    let Some(node) = &scenario.settings else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        out.push((node.pos, "`settings` must be a mapping".into()));
        return out;
    };
    for (k, v) in entries {
        let name = k.name.as_str();
        if !KEYS.contains(&name) {
            out.push((
                k.pos,
                format!(
                    "unknown Okta setting `{name}` (expected one of: {})",
                    KEYS.join(", ")
                ),
            ));
            continue;
        }
        let bad = match name {
            "query_encoding" => !matches!(v.as_str(), Some("percent" | "plus")),
            "group_lookup" => !matches!(v.as_str(), Some("filter" | "cache")),
            "locale" => !matches!(v.as_str(), Some(s) if !s.is_empty()),
            "unique_identifier" | "lookup_attribute" => {
                !matches!(v.as_str(), Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == ':'))
            }
            "retry_max_attempts" | "retry_default_seconds" => {
                !matches!(v.kind, NodeKind::Int(i) if i > 0)
            }
            _ => !matches!(v.kind, NodeKind::Bool(_)),
        };
        if bad {
            let want = match name {
                "query_encoding" => "`percent` or `plus`",
                "group_lookup" => "`filter` or `cache`",
                "locale" => "a locale such as en-US or en_US",
                "unique_identifier" | "lookup_attribute" => "an attribute name",
                "retry_max_attempts" | "retry_default_seconds" => "a positive integer",
                _ => "true or false",
            };
            out.push((v.pos, format!("`{name}` takes {want}")));
        }
    }
    out
}
