//! Custom extension attributes as Entra sends them. A mapping target
//! `urn:ietf:params:scim:schemas:extension:<Name>:2.0:User:<attr>` (Microsoft Learn, "Customize
//! user provisioning attribute-mappings": the only form Entra accepts for a custom SCIM
//! attribute) goes out
//!
//! - on create, nested in the extension's object, the extension not listed in `schemas`
//!   ("the custom extension schema header … isn't sent in requests from the Microsoft Entra
//!   SCIM client");
//! - on update, by its URN path in default mode (`{"op":"Replace","path":"urn:…:User:attr"}`),
//!   and in `aadOptscim062020` mode by path when it is the only change, else as a URN key of the
//!   path-less value map (`wire::update_body`).
//!
//! `check_schema` is Microsoft's Schema_Discoverability_Test (gallery onboarding Logic App):
//! every mapped custom attribute must be in `/Schemas`. The judging is shared with Okta
//! (`idp::custom`).

use serde_json::Value as Json;

use super::expr::Value;
use super::sync::{Engine, Flow};
use super::wire;
use crate::idp::custom;

impl Engine<'_, '_> {
    fn custom_targets(&self) -> Vec<String> {
        self.mappings
            .user
            .iter()
            .map(|m| m.target.clone())
            .filter(|t| custom::is_custom(t))
            .collect()
    }

    /// `GET /Schemas` as Entra sends it, then every mapped custom target must be advertised.
    pub async fn check_schema(&mut self) -> Flow {
        let (i, r) = self.send("GET", "/Schemas", &[], None).await;
        if r.status == 0 {
            return Err(());
        }
        if r.status == 406 {
            // Entra sends no Accept header; the fault is the content negotiation, not the schema,
            // and the built-in `http.accept.required` rule named it on this exchange.
            return Err(());
        }
        let body = r
            .body
            .clone()
            .filter(|_| r.status == 200)
            .unwrap_or(Json::Null);
        let targets = self.custom_targets();
        custom::check_advertised(self.ctx, &body, &targets, i);
        Ok(())
    }

    /// idpsim's read-back after a write that carried custom attributes (`before`: the user as
    /// Entra read it before an update; `None` for the create). When the other attributes of an
    /// update did not land either, the PATCH as a whole was not applied: that is the generic
    /// fault's to report (`expect_server`, the PATCH rules), not a custom one.
    ///
    /// A create is judged whatever else it lost: the user exists (the read found it), so the
    /// create was applied, and Entra — which reads nothing back after it — records every
    /// attribute it sent as provisioned. A server that also drops a core attribute it does not
    /// model (django-scim2 computes `displayName`) has lost the custom attributes at this step;
    /// waiting for the next update would report the loss only there, under whatever that
    /// update then met, or not at all.
    ///
    /// An update whose other attributes landed (or that had none) but that left the version
    /// where it was cannot be told, from its answer and read-back, from a PATCH the server
    /// ignored altogether (`patch-noop-204`, which the generic rules report at the final read):
    /// calling it `not-stored` now would make that one fault two problems. Its loss is kept
    /// (`custom::check_held_unsure`) and reported at this step once a later update that lands
    /// shows the server dropping the same attributes (SimpleIdServer#138 under a
    /// content-derived version: Entra reads nothing back after the PATCH; its read before the
    /// next update finds the stale value and re-sends it).
    pub async fn verify_custom(
        &mut self,
        id: &str,
        values: &[(String, Value)],
        before: Option<&Json>,
        create: bool,
        who: &str,
    ) {
        if self.ctx.dry_run() || !values.iter().any(|(t, _)| custom::is_custom(t)) {
            return;
        }
        let path = format!("/Users/{}", crate::support::text::path_segment(id));
        let (i, r) = self
            .ctx
            .send(
                crate::transport::OutgoingRequest::new("GET", path)
                    .header("Accept", "application/scim+json"),
            )
            .await;
        let Some(body) = r
            .body
            .filter(|b| b.is_object() && (200..300).contains(&r.status))
        else {
            return;
        };
        let others_landed = values
            .iter()
            .filter(|(t, _)| !custom::is_custom(t) && !wire::is_boolean_target(t))
            .all(|(t, v)| wire::same_value(wire::get_target(&body, t).as_ref(), v));
        // The version (or lastModified) did not move: the server wrote nothing at all.
        let stamp = |b: &Json| {
            b.get("meta")
                .and_then(|m| m.get("version").or_else(|| m.get("lastModified")))
                .cloned()
        };
        let untouched = before
            .and_then(stamp)
            .is_some_and(|v| Some(v) == stamp(&body));
        if !create && !others_landed {
            return;
        }
        let expected: Vec<(String, Json)> = values
            .iter()
            .filter(|(t, _)| custom::is_custom(t))
            .map(|(t, v)| (t.clone(), wire::to_json(t, v, true)))
            .collect();
        if !create && untouched {
            custom::check_held_unsure(self.ctx, &body, &expected, i, who);
            return;
        }
        custom::check_held(self.ctx, &body, &expected, i, who).await;
    }
}
