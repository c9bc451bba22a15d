//! The requests of the load cycles, per IdP.
//!
//! Both IdPs' requests come from the profiles' own builders (`idp::entra::wire` with
//! `idp::entra::expr`'s default mappings, `idp::okta::wire` under Okta's default settings), so
//! load traffic is byte-for-byte scenario traffic; this file only feeds them the synthetic
//! directory.

use serde_json::{json, Map, Value as Json};

use crate::idp::entra::config::{FlagPosition, Mappings, Mode, Settings};
use crate::idp::entra::expr::{evaluate_mappings, EvalContext, Operation, Value};
use crate::idp::entra::roles::RoleTargets;
use crate::idp::entra::wire as ew;
use crate::idp::okta::settings::{Personality, Settings as OktaSettings};
use crate::idp::okta::wire as okta;
use crate::load::generator::{Group, User};
use crate::transport::OutgoingRequest;

/// The Okta personality (Okta and SCIM Version 2.0 and Okta's SCIM FAQ): `oin` PATCHes active and memberships, `aiw` PUTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OktaProfile {
    Oin,
    Aiw,
}

pub enum Wire {
    Entra(Box<EntraWire>),
    Okta(OktaProfile),
}

impl Wire {
    pub fn profile_name(&self) -> &'static str {
        match self {
            Wire::Entra(e) => e.mode.name(),
            Wire::Okta(OktaProfile::Oin) => "oin",
            Wire::Okta(OktaProfile::Aiw) => "aiw",
        }
    }

    /// The lookup by userName the IdP sends before a create (and the audit reuses).
    pub fn lookup_user(&self, user_name: &str) -> OutgoingRequest {
        match self {
            Wire::Entra(e) => e.get("/Users", &[ew::filter_param("userName", user_name)]),
            Wire::Okta(_) => okta_lookup("Users", "userName", user_name),
        }
    }

    pub fn lookup_group(&self, display_name: &str) -> OutgoingRequest {
        match self {
            // Entra never wants members back on its group reads (Entra's SCIM tutorial, "Get Group").
            Wire::Entra(e) => e.get(
                "/Groups",
                &[
                    "excludedAttributes=members".to_string(),
                    ew::filter_param("displayName", display_name),
                ],
            ),
            Wire::Okta(_) => okta_lookup("Groups", "displayName", display_name),
        }
    }

    /// GET of one resource by id.
    pub fn read(&self, collection: &str, id: &str) -> OutgoingRequest {
        let path = format!("/{collection}/{}", enc_id(id));
        match self {
            Wire::Entra(e) => e.get(&path, &[]),
            Wire::Okta(_) => crate::idp::okta::wire::request("GET", path, None),
        }
    }
}

pub use crate::support::text::path_segment as enc_id;

// ----- Entra ------------------------------------------------------------------------------

pub struct EntraWire {
    pub mode: Mode,
    pub url: ew::UrlPlan,
    pub settings: Settings,
    pub mappings: Mappings,
    eval: EvalContext,
}

impl EntraWire {
    /// `profile` pins the mode as a scenario's `profile:` does; otherwise the Tenant URL decides.
    pub fn new(profile: Option<&str>, base_query: Option<&str>) -> EntraWire {
        let mode = crate::idp::entra::resolve_mode(profile, base_query);
        EntraWire {
            mode,
            url: ew::UrlPlan::new(mode, FlagPosition::AfterFilter, base_query),
            settings: Settings::default(),
            mappings: Mappings::parse(None, None).0,
            eval: EvalContext::default(),
        }
    }

    fn req(
        &self,
        method: &str,
        path: &str,
        params: &[String],
        body: Option<Json>,
    ) -> OutgoingRequest {
        let mut req = OutgoingRequest::new(method, self.url.url(path, params)).without_base_query();
        for (k, v) in ew::headers(method) {
            req = req.header(k, v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req
    }

    fn get(&self, path: &str, params: &[String]) -> OutgoingRequest {
        self.req("GET", path, params, None)
    }

    /// The source object Entra evaluates the mappings over ("Customize user provisioning attribute-mappings" and the expression reference, Microsoft Learn).
    fn user_source(u: &User, display_name: &str, soft_deleted: bool) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("mail".into(), json!(u.user_name));
        m.insert("userPrincipalName".into(), json!(u.user_name));
        m.insert("displayName".into(), json!(display_name));
        m.insert("givenName".into(), json!(u.given_name));
        m.insert("surname".into(), json!(u.family_name));
        m.insert("department".into(), json!(u.department));
        m.insert(
            "IsSoftDeleted".into(),
            json!(if soft_deleted { "True" } else { "False" }),
        );
        m
    }

    fn user_values(
        &self,
        src: &Map<String, Json>,
        op: Operation,
    ) -> Result<Vec<(String, Value)>, String> {
        evaluate_mappings(&self.mappings.user, src, op, &self.eval).map_err(|e| e.message)
    }

    pub fn create_user(&self, u: &User) -> Result<OutgoingRequest, String> {
        let src = Self::user_source(u, &u.display_name, false);
        let values = self.user_values(&src, Operation::Create)?;
        Ok(self.req(
            "POST",
            "/Users",
            &[],
            Some(ew::create_user_body(
                &values,
                &RoleTargets::of(&self.mappings.user),
            )),
        ))
    }

    /// The PATCH of what changed between the initial and the final source (FlowWhenChanged),
    /// or `None` when the mappings yield the same target values.
    pub fn update_user(
        &self,
        id: &str,
        u: &User,
        final_display: &str,
        disabled: bool,
    ) -> Result<Option<OutgoingRequest>, String> {
        let before = self.user_values(
            &Self::user_source(u, &u.display_name, false),
            Operation::Update,
        )?;
        let after = self.user_values(
            &Self::user_source(u, final_display, disabled),
            Operation::Update,
        )?;
        let role_targets = RoleTargets::of(&self.mappings.user);
        let changes: Vec<ew::Change> = after
            .into_iter()
            .filter(|(t, v)| !before.iter().any(|(bt, bv)| bt == t && bv == v))
            .map(|(target, value)| ew::Change {
                had_value: before.iter().any(|(bt, _)| *bt == target),
                role: role_targets.get(&target),
                target,
                value,
            })
            .collect();
        if changes.is_empty() {
            return Ok(None);
        }
        let body = ew::update_body(self.mode, &changes, self.settings.flag_role_patch);
        Ok(Some(self.req(
            "PATCH",
            &format!("/Users/{}", enc_id(id)),
            &[],
            Some(body),
        )))
    }

    pub fn create_group(&self, g: &Group) -> Result<OutgoingRequest, String> {
        let mut src = Map::new();
        src.insert("displayName".into(), json!(g.display_name));
        src.insert("objectId".into(), json!(g.object_id));
        // `members` is a reference mapping: it flows by PATCH after the create (§3.13).
        let mappings: Vec<_> = self
            .mappings
            .group
            .iter()
            .filter(|m| !m.target.eq_ignore_ascii_case("members"))
            .cloned()
            .collect();
        let values = evaluate_mappings(&mappings, &src, Operation::Create, &self.eval)
            .map_err(|e| e.message)?;
        Ok(self.req("POST", "/Groups", &[], Some(ew::create_group_body(&values))))
    }

    pub fn add_members(&self, gid: &str, ids: &[String]) -> OutgoingRequest {
        self.members(gid, false, ids)
    }

    pub fn remove_members(&self, gid: &str, ids: &[String]) -> OutgoingRequest {
        self.members(gid, true, ids)
    }

    /// A member batch's PATCH, its body written as text where it has a text form (the bytes
    /// the `Value` form serialises to; see `members_text`).
    fn members(&self, gid: &str, remove: bool, ids: &[String]) -> OutgoingRequest {
        let path = format!("/Groups/{}", enc_id(gid));
        let ref_null = self.settings.member_ref_null;
        match ew::members_text(self.mode, remove, ids, ref_null) {
            Some(text) => self.req("PATCH", &path, &[], None).json_text(text),
            None => {
                let body = ew::remove_members_body(self.mode, ids, ref_null);
                self.req("PATCH", &path, &[], Some(body))
            }
        }
    }
}

// ----- Okta: requests, headers and filters from crate::idp::okta::wire; bodies from the synthetic directory

/// Members per PATCH in Okta's group push: undocumented (Okta and SCIM Version 2.0, SCIM Group operations show one `add` op with
/// all values); 100 keeps bodies moderate and matches Okta's page size.
pub const OKTA_MEMBER_BATCH: usize = 100;

/// Okta's requests are built by the Okta profile's own wire module, so the load sends exactly
/// what the scenarios send (the headers of Okta's raw captures in oktadeveloper/okta-blog-archive#1956, the `%20` filters of Okta and SCIM Version 2.0).
fn okta_body(method: &str, path: String, body: Json) -> OutgoingRequest {
    crate::idp::okta::wire::request(method, path, Some(body))
}

/// `filter=userName%20eq%20%22…%22&startIndex=1&count=100` (Okta and SCIM Version 2.0, "Determine if the User already exists").
fn okta_lookup(collection: &str, attr: &str, value: &str) -> OutgoingRequest {
    let path = crate::idp::okta::wire::filter_query(
        collection,
        attr,
        value,
        crate::idp::okta::settings::QueryEncoding::Percent,
    );
    crate::idp::okta::wire::request("GET", path, None)
}

/// POST /Users: the body the Okta profile builds for a scenario's user (Okta and SCIM Version 2.0, "Create the User"), from the
/// synthetic user's Okta profile under Okta's default settings.
pub fn okta_create_user(u: &User) -> OutgoingRequest {
    let mut profile = Map::new();
    profile.insert("login".into(), json!(u.user_name));
    profile.insert("firstName".into(), json!(u.given_name));
    profile.insert("lastName".into(), json!(u.family_name));
    profile.insert("email".into(), json!(u.user_name));
    profile.insert("displayName".into(), json!(u.display_name));
    let settings = OktaSettings::defaults(Personality::Oin);
    okta_body(
        "POST",
        "/Users".into(),
        okta::create_user_body(&settings, &[], &profile, &u.okta_id, &u.password),
    )
}

/// Profile push (Okta and SCIM Version 2.0, "Update a specific User (PUT)"): the server's own GET answer, changed, PUT back whole.
pub fn okta_put_user(id: &str, current: Json, display_name: &str, active: bool) -> OutgoingRequest {
    let changes = [
        ("displayName".to_string(), json!(display_name)),
        ("active".to_string(), json!(active)),
    ];
    okta_body(
        "PUT",
        format!("/Users/{}", enc_id(id)),
        okta::echo_put_body(&current, &changes),
    )
}

/// OIN deactivation (Okta and SCIM Version 2.0, "Update a specific User (PATCH)"): path-less replace with `{"active": false}`.
pub fn okta_deactivate(id: &str) -> OutgoingRequest {
    okta_body(
        "PATCH",
        format!("/Users/{}", enc_id(id)),
        okta::patch(vec![okta::replace_value(json!({"active": false}))]),
    )
}

/// Group push create (Okta and SCIM Version 2.0, SCIM Group operations: create): displayName and `members: []`; members follow by PATCH.
pub fn okta_create_group(g: &Group) -> OutgoingRequest {
    okta_body(
        "POST",
        "/Groups".into(),
        okta::group_body(None, &g.display_name, &[]),
    )
}

/// The rename/metadata PATCH Okta sends after each create and with every membership change
/// (Okta and SCIM Version 2.0, SCIM Group operations: rename and membership PATCHes), carrying the readOnly `id` inside `value`.
pub fn okta_rename_group(id: &str, g: &Group) -> OutgoingRequest {
    okta_body(
        "PATCH",
        format!("/Groups/{}", enc_id(id)),
        okta::patch(vec![okta::replace_value(
            json!({"id": id, "displayName": g.display_name}),
        )]),
    )
}

/// Membership delta (Okta and SCIM Version 2.0, SCIM Group operations: membership PATCH): one `remove` per leaving member by filter path, then one
/// `add` with the joining members as `{value, display}`.
pub fn okta_members_delta(
    gid: &str,
    remove: &[String],
    add: &[(String, String)],
) -> OutgoingRequest {
    let mut ops: Vec<Json> = remove.iter().map(|id| okta::remove_member(id)).collect();
    if !add.is_empty() {
        ops.push(okta::add_members(okta_members(add)));
    }
    okta_body(
        "PATCH",
        format!("/Groups/{}", enc_id(gid)),
        okta::patch(ops),
    )
}

/// AIW membership update (Okta and SCIM Version 2.0: AIW apps PUT the group): the whole group PUT with its complete member list.
pub fn okta_put_group(gid: &str, g: &Group, members: &[(String, String)]) -> OutgoingRequest {
    okta_body(
        "PUT",
        format!("/Groups/{}", enc_id(gid)),
        okta::group_body(Some(gid), &g.display_name, &okta_members(members)),
    )
}

fn okta_members(members: &[(String, String)]) -> Vec<Json> {
    members
        .iter()
        .map(|(id, name)| okta::member(id, name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::generator::Directory;

    #[test]
    fn okta_lookup_is_percent_encoded_in_okta_order() {
        let r = Wire::Okta(OktaProfile::Oin).lookup_user("test.user@okta.local");
        assert_eq!(
            r.path,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"
        );
        assert!(r
            .headers
            .iter()
            .any(|(k, v)| k == "User-Agent" && v == crate::idp::okta::wire::USER_AGENT));
    }

    #[test]
    fn entra_create_and_disable_use_the_scenario_builders() {
        let d = Directory::new(1, 5, 1, 2);
        let u = d.user(0);
        let e = EntraWire::new(None, None);
        let Ok(create) = e.create_user(&u) else {
            panic!("create")
        };
        assert_eq!(create.path, "/Users");
        let Some(crate::transport::OutgoingBody::Json(body)) = &create.body else {
            panic!("body")
        };
        assert_eq!(body["userName"], json!(u.user_name));
        assert_eq!(body["active"], json!(true));
        let Ok(Some(patch)) = e.update_user("id1", &u, &u.display_name, true) else {
            panic!("patch")
        };
        let Some(crate::transport::OutgoingBody::Json(body)) = &patch.body else {
            panic!("body")
        };
        assert_eq!(
            body["Operations"],
            json!([{"op": "Replace", "path": "active", "value": "False"}])
        );
        assert!(matches!(
            e.update_user("id1", &u, &u.display_name, false),
            Ok(None)
        ));
    }

    /// Entra's member PATCHes, written as text, are the profile's bodies (both modes, both
    /// directions), with the profile's headers.
    #[test]
    fn entra_member_batches_are_the_profile_bodies() {
        let ids = vec!["u-1".to_string(), "u-2".to_string()];
        for base_query in [None, Some("aadOptscim062020")] {
            let e = EntraWire::new(None, base_query);
            for remove in [false, true] {
                let req = if remove {
                    e.remove_members("g 1", &ids)
                } else {
                    e.add_members("g 1", &ids)
                };
                let sent: Json = match &req.body {
                    Some(crate::transport::OutgoingBody::Raw(t)) => {
                        serde_json::from_str(t).expect("JSON")
                    }
                    Some(crate::transport::OutgoingBody::Json(b)) => b.clone(),
                    None => panic!("no body"),
                };
                let want = if remove {
                    ew::remove_members_body(e.mode, &ids, false)
                } else {
                    ew::add_members_body(e.mode, &ids, false)
                };
                assert_eq!(sent, want, "{base_query:?} remove={remove}");
                assert_eq!(req.method, "PATCH");
                assert!(req.path.starts_with("/Groups/g%201"), "{}", req.path);
                assert!(req.has_header("content-type"), "{:?}", req.headers);
            }
        }
    }

    fn json_body(r: &OutgoingRequest) -> &Json {
        match &r.body {
            Some(crate::transport::OutgoingBody::Json(b)) => b,
            other => panic!("expected a JSON body, got {other:?}"),
        }
    }

    /// The Okta bodies come from the profile's builders and keep the exact shape (and key
    /// order) of Okta's captures that load sent before they were shared.
    #[test]
    fn okta_bodies_match_the_captured_shapes() {
        let d = Directory::new(7, 3, 1, 2);
        let u = d.user(1);
        let g = d.group(0);
        let cases: Vec<(OutgoingRequest, Json)> = vec![
            (
                okta_create_user(&u),
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": u.user_name,
                    "name": {"givenName": u.given_name, "familyName": u.family_name},
                    "emails": [{"primary": true, "value": u.user_name, "type": "work"}],
                    "displayName": u.display_name,
                    "locale": "en-US",
                    "externalId": u.okta_id,
                    "groups": [],
                    "password": u.password,
                    "active": true
                }),
            ),
            (
                okta_put_user(
                    "id1",
                    json!({"id": "id1", "displayName": "old", "active": true, "meta": {}}),
                    "new",
                    false,
                ),
                json!({"id": "id1", "displayName": "new", "active": false, "meta": {}}),
            ),
            (
                okta_deactivate("id1"),
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]}),
            ),
            (
                okta_create_group(&g),
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": g.display_name, "members": []}),
            ),
            (
                okta_rename_group("g1", &g),
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"id": "g1", "displayName": g.display_name}}]}),
            ),
            (
                okta_members_delta("g1", &["u\"q".to_string()], &[("u2".into(), "Two".into())]),
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                    {"op": "remove", "path": r#"members[value eq "u\"q"]"#},
                    {"op": "add", "path": "members", "value": [{"value": "u2", "display": "Two"}]}
                ]}),
            ),
            (
                okta_put_group("g1", &g, &[("u2".into(), "Two".into())]),
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": g.display_name, "members": [{"value": "u2", "display": "Two"}]}),
            ),
        ];
        for (req, want) in cases {
            let got = json_body(&req);
            assert_eq!(got, &want, "{} {}", req.method, req.path);
            // Key order is part of the shape (Okta's captures; preserve_order).
            assert_eq!(
                got.to_string(),
                want.to_string(),
                "{} {}",
                req.method,
                req.path
            );
        }
    }
}
