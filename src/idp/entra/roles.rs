//! App role provisioning as Microsoft documents it: Microsoft Learn, "Customize user
//! provisioning attribute-mappings" → "Provisioning a role to a SCIM app" ([`SOURCE`]). Pure
//! functions: which mappings use a role function, the role elements of the create body, the
//! PATCH operation of each function in each mode, and whether the server already holds what
//! Entra would send.
//!
//! What the page shows, function by function (create body / default-mode PATCH):
//! * `SingleAppRoleAssignment`, mapped to `roles[primary eq "True"].value` (or `.display`,
//!   `.type`): POST `"roles":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]`;
//!   PATCH `{"op":"Add","path":"roles","value":[{"value":"{\"id\":…,\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}`.
//! * `AppRoleAssignmentsComplex`, mapped to a multi-valued `roles`: POST elements
//!   `{"primary":false,"type":…,"displayName":…,"value":…}`; PATCH one `Add` on `roles` whose
//!   elements are `{"value":"<the assignment as JSON text>"}`. "PATCH add only and therefore
//!   does not remove any existing roles on the target."
//! * `AssertiveAppRoleAssignmentsComplex`: POST elements `{"primary":false,"type":…,"display":…,"value":…}`;
//!   PATCH `{"op":"replace","path":"roles","value":[<the same objects>]}` — lower-case
//!   `replace` as printed, which "removes roles in the target system if they have not been
//!   assigned to the user on Entra ID".
//!
//! Choices where the page is silent (each also in `scenarios/entra/README.md`):
//! 1. **The flag.** The page says the PATCH and POST formats differ and that the
//!    `aadOptscim062020` flag makes them the same, and that the flag fixes "the id attribute
//!    issue", but prints no flag-mode PATCH. In flag mode idpsim sends the POST's role objects
//!    (no `id`, no JSON text) in one lower-case `add` on the role attribute
//!    ([`FlagRolePatch::PostForm`], the default); `settings.flag_role_patch: string_encoded`
//!    sends the default-mode form instead, for a tenant where the flag leaves roles alone.
//!    The assertive PATCH is the same in both modes (already in the POST's format).
//! 2. **Several single-role targets** (`.value` and `.display`) make one element on create and
//!    one PATCH operation, not one per target. The element always has `primary`, `type` and
//!    `value` (the page's example); `display` when a `.display` target is mapped.
//! 3. **When a role PATCH is sent** (reading the user first, as Entra does): single — the
//!    assigned role's value is not among the server's roles; complex — an assigned role is
//!    missing (an `Add` cannot take one away, so extra roles on the server are no change);
//!    assertive — the server's role values differ from the assigned ones. A server that stored
//!    the default-mode JSON text as a role's `value` is read as holding the role it encodes.
//! 4. **No role at all**: the functions give null and Entra "doesn't support provisioning null
//!    values": nothing is sent (a user in scope of "Sync only assigned users" always has an
//!    assignment).

use serde_json::{json, Map, Value as Json};

use crate::idp::entra::config::Mode;
use crate::idp::entra::expr::roles::{AppRole, ROLE_TYPE};
use crate::idp::entra::expr::{AttributeMapping, Expr, ExprKind, Function, MappingSource, Value};
use crate::idp::entra::judge;
use crate::outcome::Finding;
use crate::transport::RawResponse;

/// The page the role bodies reproduce, for code comments, findings and scenario `source:`.
pub const SOURCE: &str = "Microsoft Learn, Customize user provisioning attribute-mappings → Provisioning a role to a SCIM app (https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes#provisioning-a-role-to-a-scim-app)";

/// Which role function a mapping uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleFn {
    Single,
    Complex,
    Assertive,
}

impl RoleFn {
    /// The role function a mapping's expression is (its outermost call), if any.
    pub fn of(m: &AttributeMapping) -> Option<RoleFn> {
        let MappingSource::Expression(e) = &m.source else {
            return None;
        };
        RoleFn::of_expr(e)
    }

    /// The role function an expression is (its outermost call), if any.
    pub fn of_expr(e: &Expr) -> Option<RoleFn> {
        match &e.kind {
            ExprKind::Call { function, .. } => match function {
                Function::SingleAppRoleAssignment => Some(RoleFn::Single),
                Function::AppRoleAssignmentsComplex => Some(RoleFn::Complex),
                Function::AssertiveAppRoleAssignmentsComplex => Some(RoleFn::Assertive),
                _ => None,
            },
            _ => None,
        }
    }
}

/// How the flag-mode PATCH carries roles (`settings.flag_role_patch`, choice 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FlagRolePatch {
    /// The POST's role objects in one lower-case `add` ("POST and PATCH … in the same format").
    #[default]
    PostForm,
    /// As without the flag: `Add` with the assignments as JSON text.
    StringEncoded,
}

impl RoleFn {
    pub fn name(self) -> &'static str {
        match self {
            RoleFn::Single => "SingleAppRoleAssignment",
            RoleFn::Complex => "AppRoleAssignmentsComplex",
            RoleFn::Assertive => "AssertiveAppRoleAssignmentsComplex",
        }
    }

    /// The form this function's requests carry, as the page prints it, in words.
    fn form(self, mode: Mode, flag: FlagRolePatch, patch: bool) -> &'static str {
        let string_encoded = mode == Mode::Default || flag == FlagRolePatch::StringEncoded;
        match (self, patch, string_encoded) {
            (RoleFn::Single, false, _) => "`roles: [{\"primary\": true, \"type\": \"WindowsAzureActiveDirectoryRole\", \"value\": …}]`",
            (RoleFn::Complex, false, _) => "role objects `{\"primary\": false, \"type\": \"WindowsAzureActiveDirectoryRole\", \"displayName\": …, \"value\": …}` (`displayName`, not `display`)",
            (RoleFn::Assertive, false, _) => "role objects `{\"primary\": false, \"type\": \"WindowsAzureActiveDirectoryRole\", \"display\": …, \"value\": …}`",
            (RoleFn::Assertive, true, _) => "one lower-case `replace` on `roles` with the role objects of the create",
            (_, true, true) => "one `Add` on `roles` whose elements are `{\"value\": \"<the assignment as JSON text>\"}`, the text an object with `id`, `value` and `displayName`",
            (_, true, false) => "one `add` on `roles` with the role objects of the create",
        }
    }
}

/// Whether a refusal blames the app roles a request carried: a 400 whose `detail` (or
/// `scimType`) names a role, after a request that carried role targets.
pub fn refusal_blames_roles(carried_roles: bool, resp: &RawResponse) -> bool {
    if !carried_roles || resp.status != 400 {
        return false;
    }
    let text = |k: &str| {
        resp.body
            .as_ref()
            .and_then(|b| b.get(k))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    text("detail").contains("role")
}

/// The server refused the app roles of a create (`patch: false`) or an update, in the form
/// Microsoft documents for these functions.
pub fn rejected(
    functions: &[RoleFn],
    mode: Mode,
    flag: FlagRolePatch,
    patch: bool,
    what: &str,
    resp: &RawResponse,
) -> Finding {
    let mut names: Vec<&str> = functions.iter().map(|f| f.name()).collect();
    names.dedup();
    let forms: Vec<&str> = functions
        .iter()
        .map(|f| f.form(mode, flag, patch))
        .collect();
    judge::failed_as(
        "entra.roles.rejected",
        &format!(
            "{what}, which carries app roles as Microsoft documents them for {} ({}),",
            names.join(", "),
            forms.join("; ")
        ),
        if patch { "200 or 204" } else { "201" },
        resp,
    )
}

/// The targets of a mapping list that a role function feeds.
#[derive(Clone, Debug, Default)]
pub struct RoleTargets(Vec<(String, RoleFn)>);

impl RoleTargets {
    pub fn of(mappings: &[AttributeMapping]) -> RoleTargets {
        RoleTargets(
            mappings
                .iter()
                .filter_map(|m| RoleFn::of(m).map(|f| (m.target.clone(), f)))
                .collect(),
        )
    }

    pub fn get(&self, target: &str) -> Option<RoleFn> {
        self.0.iter().find(|(t, _)| t == target).map(|(_, f)| *f)
    }
}

/// The multi-valued attribute a role target writes and the sub-attribute it names:
/// `roles[primary eq "True"].display` → (`roles`, `display`); `roles` → (`roles`, `value`).
pub fn attribute(target: &str) -> (&str, &str) {
    match target.split_once('[') {
        Some((attr, rest)) => {
            let sub = rest
                .split_once(']')
                .map(|(_, s)| s.trim_start_matches('.'))
                .filter(|s| !s.is_empty())
                .unwrap_or("value");
            (attr, sub)
        }
        None => (target, "value"),
    }
}

fn roles_of(v: &Value) -> Vec<AppRole> {
    match v {
        Value::Null => Vec::new(),
        Value::Str(s) => vec![AppRole::from_text(s)],
        Value::Multi(items) => items.iter().map(|s| AppRole::from_text(s)).collect(),
    }
}

/// One role object in the POST's form.
fn element(f: RoleFn, r: &AppRole, with_display: bool) -> Json {
    let mut m = Map::new();
    match f {
        RoleFn::Single => {
            m.insert("primary".into(), json!(true));
            m.insert("type".into(), json!(ROLE_TYPE));
            if with_display {
                m.insert("display".into(), json!(r.display_name));
            }
        }
        RoleFn::Complex => {
            m.insert("primary".into(), json!(false));
            m.insert("type".into(), json!(ROLE_TYPE));
            m.insert("displayName".into(), json!(r.display_name));
        }
        RoleFn::Assertive => {
            m.insert("primary".into(), json!(false));
            m.insert("type".into(), json!(ROLE_TYPE));
            m.insert("display".into(), json!(r.display_name));
        }
    }
    m.insert("value".into(), json!(r.value));
    Json::Object(m)
}

/// The role targets feeding one attribute, gathered: the function, its value, whether a
/// `.display` target is among them.
pub struct Group<'a> {
    pub attr: &'a str,
    pub f: RoleFn,
    pub value: &'a Value,
    pub with_display: bool,
}

/// Groups role targets by attribute, in first-occurrence order (choice 2).
pub fn group<'a>(items: impl IntoIterator<Item = (&'a str, RoleFn, &'a Value)>) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    for (target, f, value) in items {
        let (attr, sub) = attribute(target);
        let display = sub.eq_ignore_ascii_case("display");
        match out.iter_mut().find(|g| g.attr.eq_ignore_ascii_case(attr)) {
            Some(g) => g.with_display |= display,
            None => out.push(Group {
                attr,
                f,
                value,
                with_display: display,
            }),
        }
    }
    out
}

/// The role attribute's value in the create body: an array of role objects.
pub fn create_value(g: &Group<'_>) -> Json {
    Json::Array(
        roles_of(g.value)
            .iter()
            .map(|r| element(g.f, r, g.with_display))
            .collect(),
    )
}

/// The one PATCH operation of a role attribute (module docs; choice 1 for the flag).
pub fn patch_op(mode: Mode, flag: FlagRolePatch, g: &Group<'_>) -> Json {
    let roles = roles_of(g.value);
    let string_encoded = || -> Json {
        Json::Array(
            roles
                .iter()
                .map(|r| json!({"value": r.to_text()}))
                .collect(),
        )
    };
    match (g.f, mode, flag) {
        // Printed in lower case on the page, in the default mode too.
        (RoleFn::Assertive, _, _) => {
            json!({"op": "replace", "path": g.attr, "value": create_value(g)})
        }
        (_, Mode::Default, _) | (_, Mode::Flag, FlagRolePatch::StringEncoded) => {
            json!({"op": "Add", "path": g.attr, "value": string_encoded()})
        }
        (_, Mode::Flag, FlagRolePatch::PostForm) => {
            json!({"op": "add", "path": g.attr, "value": create_value(g)})
        }
    }
}

/// What one role target carries (for `idpsim expr --to`): the attribute's value on create, and
/// the PATCH operation in the default mode and with `aadOptscim062020` (choice 1's default).
pub fn forms(f: RoleFn, target: &str, value: &Value) -> [Json; 3] {
    let (attr, sub) = attribute(target);
    let g = Group {
        attr,
        f,
        value,
        with_display: sub.eq_ignore_ascii_case("display"),
    };
    [
        create_value(&g),
        patch_op(Mode::Default, FlagRolePatch::PostForm, &g),
        patch_op(Mode::Flag, FlagRolePatch::PostForm, &g),
    ]
}

/// The role values a server holds in a role attribute: each element's `value`, and for a
/// `value` that is the default-mode JSON text, the value it encodes (choice 3).
pub fn held_values(held: Option<&Json>) -> Vec<String> {
    let Some(Json::Array(items)) = held else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|e| match e {
            Json::Object(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str()),
            Json::String(s) => Some(s.as_str()),
            _ => None,
        })
        .map(|s| {
            if s.trim_start().starts_with('{') {
                AppRole::from_text(s).value
            } else {
                s.to_string()
            }
        })
        .collect()
}

/// Whether the server already holds what Entra would send for this role attribute (choice 3).
pub fn held_matches(f: RoleFn, held: Option<&Json>, value: &Value) -> bool {
    let have = held_values(held);
    let want: Vec<String> = roles_of(value).into_iter().map(|r| r.value).collect();
    match f {
        RoleFn::Single | RoleFn::Complex => want.iter().all(|w| have.contains(w)),
        RoleFn::Assertive => {
            want.iter().all(|w| have.contains(w)) && have.iter().all(|h| want.contains(h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, value: &str, name: &str) -> String {
        AppRole {
            id: id.into(),
            value: value.into(),
            display_name: name.into(),
        }
        .to_text()
    }

    #[test]
    fn a_refusal_that_names_roles_is_a_role_finding() {
        let answer = |status: u16, detail: &str| RawResponse {
            status,
            headers: Vec::new(),
            body: Some(json!({"status": status.to_string(), "detail": detail})),
        };
        let refused = answer(400, "Extra inputs are not permitted: roles[0].displayName");
        assert!(refusal_blames_roles(true, &refused));
        // Not when the request carried no roles, nor for another attribute or status.
        assert!(!refusal_blames_roles(false, &refused));
        assert!(!refusal_blames_roles(
            true,
            &answer(400, "userName is required")
        ));
        assert!(!refusal_blames_roles(true, &answer(409, "roles conflict")));
        let f = rejected(
            &[RoleFn::Complex],
            Mode::Default,
            FlagRolePatch::PostForm,
            false,
            "creating user `ada`",
            &refused,
        );
        assert_eq!(f.rule, "entra.roles.rejected");
        assert!(
            f.message.contains("AppRoleAssignmentsComplex"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("`displayName`, not `display`"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .ends_with("answered 400: Extra inputs are not permitted: roles[0].displayName"),
            "{}",
            f.message
        );
        assert!(f
            .reference
            .as_deref()
            .is_some_and(|r| r.contains("provisioning-a-role-to-a-scim-app")));
        let f = rejected(
            &[RoleFn::Single],
            Mode::Default,
            FlagRolePatch::PostForm,
            true,
            "the update",
            &refused,
        );
        assert!(f.message.contains("as JSON text"), "{}", f.message);
        let f = rejected(
            &[RoleFn::Single],
            Mode::Flag,
            FlagRolePatch::PostForm,
            true,
            "the update",
            &refused,
        );
        assert!(
            f.message.contains("with the role objects of the create"),
            "{}",
            f.message
        );
    }

    #[test]
    fn attribute_of_targets() {
        assert_eq!(
            attribute(r#"roles[primary eq "True"].value"#),
            ("roles", "value")
        );
        assert_eq!(
            attribute(r#"roles[primary eq "True"].display"#),
            ("roles", "display")
        );
        assert_eq!(attribute("roles"), ("roles", "value"));
    }

    #[test]
    fn held_values_decode_the_string_form() {
        let held = json!([
            {"value": "Admin", "display": "Admin"},
            {"value": role("1", "User", "User")},
            "Reader"
        ]);
        assert_eq!(held_values(Some(&held)), vec!["Admin", "User", "Reader"]);
        assert!(held_values(None).is_empty());
        let two = Value::Multi(vec![role("1", "Admin", "Admin"), role("2", "User", "User")]);
        let one = Value::Multi(vec![role("1", "Admin", "Admin")]);
        // Add-only: extra roles on the server are no change; a missing one is.
        assert!(held_matches(RoleFn::Complex, Some(&held), &two));
        assert!(!held_matches(
            RoleFn::Complex,
            Some(&json!([{"value": "User"}])),
            &two
        ));
        // Assertive: the server must hold exactly the assigned roles.
        assert!(!held_matches(RoleFn::Assertive, Some(&held), &one));
        assert!(held_matches(
            RoleFn::Assertive,
            Some(&json!([{"value": "Admin"}])),
            &one
        ));
    }
}
