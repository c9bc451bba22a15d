//! Judging answers: the scenario's own expectations (`expect`) and the rules built into every
//! exchange (`rules`). Both produce `Finding`s, whose severity, consequence and citations come
//! from the rule catalogue (`catalogue`, citing `sources`) for the IdP under test; `history`
//! is what earlier exchanges of a scenario did. Nothing here does I/O.

pub mod catalogue;
pub mod expect;
pub mod history;
pub mod rules;
pub mod sources;

use serde::Serialize;

use crate::diagnostic::SourceRef;
use crate::scenario::Idp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    /// The IdP fails or drifts out of sync.
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `rfc7644.list.resources-present`, `okta.lookup.integer-counters`.
    pub rule: String,
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What the IdP does with this answer, in its own terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// The sources behind the rule and its consequence, from the catalogue:
    /// `RFC 7644 §3.4.2 <https://…>; Okta: … <https://…>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffEntry>,
    /// The scenario line that set the expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    /// Index of the exchange (within the step) the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<usize>,
}

impl Finding {
    /// A finding of catalogued rule `rule`, judged for the IdP under test: its severity, what
    /// that IdP does with such an answer and the sources come from `catalogue`.
    pub fn new(rule: impl Into<String>, idp: Idp, message: impl Into<String>) -> Self {
        let rule = rule.into();
        let judged = catalogue::judge(&rule, idp);
        Finding {
            rule,
            severity: judged.severity,
            message: message.into(),
            impact: (!judged.impact.is_empty()).then_some(judged.impact),
            reference: (!judged.reference.is_empty()).then_some(judged.reference),
            diff: Vec::new(),
            source: None,
            exchange: None,
        }
    }
    /// The same observation under another catalogued rule (an expectation that names its rule,
    /// a cause found by a closer look): severity, consequence and sources follow the new rule.
    pub fn rebind(self, rule: &str, idp: Idp) -> Self {
        let judged = Finding::new(rule, idp, String::new());
        Finding {
            rule: judged.rule,
            severity: judged.severity,
            impact: judged.impact,
            reference: judged.reference,
            ..self
        }
    }
    /// A more specific sentence in the IdP's own terms than the catalogue's (IdP profiles only:
    /// the built-in rules speak through the catalogue, for every IdP).
    pub fn impact(mut self, text: impl Into<String>) -> Self {
        self.impact = Some(text.into());
        self
    }
    /// Lowers the severity where a policy says so (cleanup problems, `on_drift: warning`).
    pub fn at_most(mut self, severity: Severity) -> Self {
        self.severity = self.severity.min(severity);
        self
    }
    pub fn diff(mut self, entry: DiffEntry) -> Self {
        self.diff.push(entry);
        self
    }
    pub fn source(mut self, source: SourceRef) -> Self {
        self.source = Some(source);
        self
    }
    pub fn at_exchange(mut self, index: usize) -> Self {
        self.exchange = Some(index);
        self
    }
}

/// One difference between what was expected and what came back, located by a JSON pointer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DiffEntry {
    /// RFC 6901 pointer into the response (`/Resources/0/id`), `status`, or `header:Name`.
    pub pointer: String,
    pub expected: String,
    pub actual: String,
}

impl DiffEntry {
    pub fn new(
        pointer: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        let pointer = pointer.into();
        // A diff at `…/password` would print the password a scenario or a state file expects
        // (and a server that returns one): both sides are masked, unless a side is absent.
        let secret = pointer
            .rsplit('/')
            .next()
            .is_some_and(crate::run::redact::is_secret_key);
        let shown = |side: String| {
            if secret && side != "absent" {
                crate::run::redact::REDACTED.to_string()
            } else {
                side
            }
        };
        DiffEntry {
            pointer,
            expected: shown(expected.into()),
            actual: shown(actual.into()),
        }
    }
}

/// Short JSON text for diffs (long values are cut).
pub fn show(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Escapes a key for a JSON pointer (RFC 6901 §3).
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer of a SCIM attribute path in a resource: `name.givenName` is
/// `/name/givenName`; an extension attribute `urn:…:enterprise:2.0:User:department` lives in
/// the member named by its schema URN, `/urn:…:enterprise:2.0:User/department` — the URN's own
/// dots (`2.0`) are not path separators.
pub fn attribute_pointer(path: &str) -> String {
    let (urn, attr) = match path.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("urn:") => match path.rsplit_once(':') {
            Some((urn, attr)) => (Some(urn), attr),
            None => (None, path),
        },
        _ => (None, path),
    };
    let mut out = String::new();
    if let Some(urn) = urn {
        out.push('/');
        out.push_str(&pointer_token(urn));
    }
    for part in attr.split('.').filter(|p| !p.is_empty()) {
        out.push('/');
        out.push_str(&pointer_token(part));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_pointers_keep_urns_whole() {
        assert_eq!(attribute_pointer("name.givenName"), "/name/givenName");
        assert_eq!(attribute_pointer("active"), "/active");
        assert_eq!(
            attribute_pointer("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department"
        );
        assert_eq!(
            attribute_pointer("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value"
        );
        assert_eq!(attribute_pointer("a/b~c"), "/a~1b~0c");
        // The pointer finds the value in a resource as serde_json reads RFC 6901.
        let user = serde_json::json!({
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        });
        let ptr = attribute_pointer("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
        assert_eq!(user.pointer(&ptr), Some(&serde_json::json!("R&D")));
    }

    #[test]
    fn findings_take_their_judgement_from_the_catalogue() {
        let okta = Finding::new("rfc7644.list.integer-counters", Idp::Okta, "x");
        let entra = Finding::new("rfc7644.list.integer-counters", Idp::Entra, "x");
        assert_eq!(okta.severity, Severity::Error);
        assert_eq!(entra.severity, Severity::Warning);
        assert!(entra.impact.as_deref().is_some_and(|i| !i.contains("Okta")));
        let bound = Finding::new("expect.status", Idp::Okta, "expected 409, got 201")
            .rebind("rfc7644.create.uniqueness", Idp::Okta);
        assert_eq!(bound.rule, "rfc7644.create.uniqueness");
        assert_eq!(bound.severity, Severity::Warning);
        assert_eq!(bound.message, "expected 409, got 201");
    }
}
