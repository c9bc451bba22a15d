//! Capability gating: what the server says it supports in `/ServiceProviderConfig` (RFC 7643 §5)
//! decides which scenarios are worth running.
//!
//! A scenario needs a capability when it says so (`requires: [patch, filter]`) or carries a tag
//! of the same name (`tags: [patch]`). When the server's document says `"supported": false` for
//! it, the scenario is skipped with a reason, in the console and every report — except for Okta,
//! which never reads that document (Okta's SCIM FAQ lists `/ServiceProviderConfig` among the
//! endpoints it does not use, https://developer.okta.com/docs/concepts/scim/faqs/; declaring
//! `patch.supported: true` changes nothing). Okta sends its
//! PATCH and filter requests anyway, so its scenarios run, and a warning
//! (`okta.capability.ignored`) says that the server's claim will not protect it.
//!
//! The document is the one the transport's preflight already fetched; nothing is fetched twice.
//! No document, a non-2xx answer or a capability left out means "unknown": nothing is skipped.

use serde_json::Value;

use crate::outcome::{Finding, Outcome, ScenarioResult, StepResult};
use crate::scenario::{Idp, Scenario};
use crate::scim::capabilities::{canonical, CAPABILITIES};
use crate::transport::exchange::Exchange;

/// What a scenario needs: its `requires` list plus tags that name a capability.
pub fn needs(s: &Scenario) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for name in s.requires.iter().chain(&s.tags) {
        if let Some(c) = canonical(name) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The capabilities the server says it does not support, from the preflight exchange.
pub fn unsupported(spc: Option<&Exchange>) -> Vec<&'static str> {
    let Some(body) = spc
        .and_then(|e| e.response.as_ref())
        .filter(|r| (200..300).contains(&r.status))
        .and_then(|r| r.body.as_ref())
    else {
        return Vec::new();
    };
    CAPABILITIES
        .iter()
        .copied()
        .filter(|c| body.get(*c).and_then(|v| v.get("supported")) == Some(&Value::Bool(false)))
        .collect()
}

/// The verdict for one scenario.
#[derive(Debug)]
pub enum Decision {
    Run,
    /// Skip it; the reason is shown to people.
    Skip(String),
    /// Run it, and report what the IdP does with the server's claim.
    RunAndWarn(Finding),
}

pub fn decide(s: &Scenario, unsupported: &[&'static str]) -> Decision {
    let missing: Vec<&str> = needs(s)
        .into_iter()
        .filter(|c| unsupported.contains(c))
        .collect();
    if missing.is_empty() {
        return Decision::Run;
    }
    let list = missing.join(", ");
    if s.idp == Idp::Okta {
        let what = if missing.contains(&"patch") {
            "Okta OIN apps send PATCH anyway".to_string()
        } else {
            format!("Okta sends the {list} requests anyway")
        };
        let finding = Finding::judged(
            "okta.capability.ignored",
            Idp::Okta,
            format!("The server says {list} is unsupported (/ServiceProviderConfig), but Okta does not read that document: {what}."),
        );
        return Decision::RunAndWarn(finding);
    }
    Decision::Skip(format!(
        "the server's /ServiceProviderConfig says {list}: supported=false, and this scenario needs it"
    ))
}

/// The result of a scenario that was skipped before it started.
pub fn skipped(s: &Scenario, reason: String) -> ScenarioResult {
    ScenarioResult {
        name: s.name.clone(),
        file: s.file.clone(),
        line: s.pos.line,
        idp: s.idp.name(),
        profile: s.profile.clone(),
        tags: s.tags.clone(),
        description: s.description.clone(),
        source: s.source.clone(),
        run_id: String::new(),
        outcome: Outcome::Skipped,
        duration_ms: 0,
        steps: Vec::new(),
        cleanup: Vec::new(),
        skip_reason: Some(reason),
        believed: None,
    }
}

/// Puts the warning in front of the scenario's steps as step 0, "read /ServiceProviderConfig",
/// with the preflight exchange it is about, and lets it count in the scenario's outcome.
pub fn attach(result: &mut ScenarioResult, finding: Finding, spc: Option<&Exchange>) {
    let source = crate::support::diagnostic::SourceRef {
        file: result.file.clone(),
        line: result.line,
        column: 1,
    };
    let exchanges: Vec<Exchange> = spc.cloned().into_iter().collect();
    let finding = if exchanges.is_empty() {
        finding
    } else {
        finding.at_exchange(0)
    };
    let outcome = Outcome::from_findings([&finding]);
    result.steps.insert(
        0,
        StepResult {
            index: 0,
            name: "read /ServiceProviderConfig".into(),
            kind: "preflight",
            source,
            outcome,
            duration_ms: 0,
            exchanges,
            findings: vec![finding],
            skip_reason: None,
            needs: None,
            probes: Vec::new(),
        },
    );
    if result.outcome != Outcome::Skipped {
        result.outcome = result.outcome.max(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(canonical("PATCH"), Some("patch"));
        assert_eq!(canonical("change-password"), Some("changePassword"));
        assert_eq!(canonical("users"), None);
    }
}
