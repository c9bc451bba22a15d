//! Manager removal, as Entra sends it when a user's manager is cleared in the source. Two forms
//! occur and a server must take both; `settings: { manager_removal: … }` picks one:
//!
//! - `empty_string` (default): `{"op":"Replace","path":"urn:…:enterprise:2.0:User:manager","value":""}`
//!   — Microsoft's own onboarding tests (AzureAD/SCIMReferenceCode, Logic App
//!   `SCIMTests_Workflow.json`, `SCIM_Update_Manager_Test`, 2026), the newest Microsoft artefact;
//! - `filter`: `{"op":"Remove","path":"manager[value eq \"<manager id>\"]"}` — reported from
//!   production traffic (thomaspoignant/scim-patch#453, 2023).
//!
//! Op names follow the mode (`Replace`/`Remove` by default, lowercase with `aadOptscim062020`).
//! Add and change stay in `sync` (`wire::manager_body`: `Add`, then `Replace`, bare id string).

use serde_json::{json, Value as Json};

use super::config::{ManagerRemoval, Mode};
use super::sync::{Engine, Flow, Kind};
use super::wire::MANAGER_PATH;
use crate::outcome::DiffEntry;
use crate::scim::schema::PATCH_URN as PATCH_OP;
use crate::transport::OutgoingRequest;

/// The PATCH that clears a manager.
pub fn removal_body(mode: Mode, form: ManagerRemoval, manager_id: &str) -> Json {
    let op = match (form, mode) {
        (ManagerRemoval::EmptyString, Mode::Default) => {
            json!({"op": "Replace", "path": MANAGER_PATH, "value": ""})
        }
        (ManagerRemoval::EmptyString, Mode::Flag) => {
            json!({"op": "replace", "path": MANAGER_PATH, "value": ""})
        }
        (ManagerRemoval::Filter, _) => {
            let escaped = manager_id.replace('\\', "\\\\").replace('"', "\\\"");
            json!({
                "op": if mode == Mode::Default { "Remove" } else { "remove" },
                "path": format!("manager[value eq \"{escaped}\"]"),
            })
        }
    };
    json!({"schemas": [PATCH_OP], "Operations": [op]})
}

/// Whether a user representation still names a manager (Microsoft's test accepts `null` or
/// `""` for a removed one, under the enterprise URN or at the top level).
fn has_manager(user: &Json) -> bool {
    let under = |v: Option<&Json>| match v {
        None | Some(Json::Null) => false,
        Some(Json::String(s)) => !s.is_empty(),
        Some(Json::Object(o)) => o
            .get("value")
            .is_some_and(|v| !(v.is_null() || v.as_str() == Some(""))),
        Some(_) => true,
    };
    under(
        user.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .and_then(|e| e.get("manager")),
    ) || under(user.get("manager"))
}

impl Engine<'_, '_> {
    /// Clears the manager Entra last wrote for `key`, then reads the user back (idpsim's own
    /// read, neutral headers) to see that it is gone.
    pub async fn remove_manager(&mut self, key: &str, user_id: &str, manager_id: &str) -> Flow {
        let form = self.settings.manager_removal;
        let body = removal_body(self.mode, form, manager_id);
        let path = format!("/Users/{user_id}");
        let (i, r) = self.send("PATCH", &path, &[], Some(body)).await;
        if r.status == 0 {
            return Err(());
        }
        if !(200..300).contains(&r.status) {
            let shape = match form {
                ManagerRemoval::EmptyString => {
                    "`replace` of urn:…:enterprise:2.0:User:manager with \"\""
                }
                ManagerRemoval::Filter => "`remove` with path `manager[value eq \"…\"]`",
            };
            let detail = r.detail_suffix();
            let f = self
                .ctx
                .rule(
                    "scim.manager.remove-rejected",
                    format!("the server refused Entra's manager removal for `{key}` ({shape}; {}{detail})", r.status),
                )
                .diff(DiffEntry::new("status", "200 or 204", r.status.to_string()))
                .at_exchange(i);
            self.ctx.finding(f);
            return Err(());
        }
        self.obj_mut(Kind::User, key).manager = None;
        if self.ctx.dry_run() {
            return Ok(());
        }
        let (i, r) = self
            .ctx
            .send(OutgoingRequest::new("GET", path).header("Accept", "application/scim+json"))
            .await;
        if let Some(body) = r.body.filter(|b| b.is_object() && r.status == 200) {
            if has_manager(&body) {
                let f = self
                    .ctx
                    .rule(
                        "scim.manager.not-removed",
                        format!("the server acknowledged Entra's manager removal for `{key}` but still holds a manager"),
                    )
                    .diff(DiffEntry::new("/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager", "absent, null or \"\"", "a manager"))
                .at_exchange(i);
                self.ctx.finding(f);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_in_both_modes() {
        let b = removal_body(Mode::Default, ManagerRemoval::EmptyString, "m1");
        assert_eq!(
            b["Operations"],
            json!([{"op":"Replace","path":MANAGER_PATH,"value":""}])
        );
        let b = removal_body(Mode::Flag, ManagerRemoval::Filter, "m1");
        assert_eq!(
            b["Operations"],
            json!([{"op":"remove","path":"manager[value eq \"m1\"]"}])
        );
    }

    #[test]
    fn a_removed_manager_may_read_back_null_or_empty() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(!has_manager(&json!({})));
        assert!(!has_manager(
            &json!({ ext: { "manager": { "value": "" } } })
        ));
        assert!(!has_manager(&json!({ ext: { "manager": null } })));
        assert!(has_manager(
            &json!({ ext: { "manager": { "value": "m1" } } })
        ));
    }
}
