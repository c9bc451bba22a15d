//! Authentication as each IdP does it: which modes it offers (and where its vendor says so),
//! what it does when the server answers 401, and how a refused credential reads in its terms.
//!
//! - Okta authenticates with OAuth 2.0 authorization code (refreshing when the authorization
//!   server issues refresh tokens), an HTTP header typed whole by the admin (with or without
//!   `Bearer`), or Basic; not with client credentials. On a 401 to an OAuth token it refreshes
//!   once and retries; then the task fails with an error on the app.
//! - Entra authenticates with a long-lived bearer Secret Token, or (gallery apps) OAuth 2.0
//!   client credentials or authorization code. It checks the token's validity before each
//!   request and renews it when expired; a 401 fails the cycle and, as most calls fail, the job
//!   goes to quarantine with the "invalid credentials" email.
//!
//! A refused credential is where the IdP cannot go on: the scenario stops there.

use crate::check::auth as rules;
use crate::outcome::{Finding, Severity};
use crate::scenario::Idp;
use crate::transport::auth::{AuthMode, AuthPolicy, Refusal, RefusalKind};

/// One mode an IdP offers, in its vendor's words.
pub struct Offered {
    pub mode: AuthMode,
    pub label: &'static str,
}

/// The modes an IdP offers for SCIM, and the vendor pages that say so.
pub struct Modes {
    pub offered: &'static [Offered],
    pub sources: &'static str,
}

pub const OKTA: Modes = Modes {
    offered: &[
        Offered {
            mode: AuthMode::OAuthCode,
            label: "OAuth 2.0 authorization code, with refresh tokens when your authorization server issues them (--auth oauth-code)",
        },
        Offered {
            mode: AuthMode::Header,
            label: "HTTP Header: the Authorization value as the admin types it (--auth header)",
        },
        Offered {
            mode: AuthMode::Bearer,
            label: "the header mode with `Bearer <token>` (--auth bearer)",
        },
        Offered {
            mode: AuthMode::Basic,
            label: "Basic, for custom app integrations (not in the OIN Wizard) (--auth basic)",
        },
    ],
    sources: "Okta, \"Build your SCIM API service\" › Authentication <https://developer.okta.com/docs/guides/scim-provisioning-integration-prepare/main/#authentication>; OIN Wizard authentication settings <https://developer.okta.com/docs/guides/submit-oin-app/scim/main/>; \"SCIM integration limitations\" <https://developer.okta.com/docs/guides/submit-app-prereq/main/#scim-integration-limitations>; Okta SCIM FAQ: \"Okta doesn't support the Client Credentials or Resource Owner Password Credentials Authorization grant flows for SCIM\" <https://github.com/okta/okta-developer-docs/blob/0bc6c4d896/packages/%40okta/vuepress-site/docs/concepts/scim/faqs/index.md>",
};

pub const ENTRA: Modes = Modes {
    offered: &[
        Offered {
            mode: AuthMode::Bearer,
            label: "a long-lived bearer token in the Secret Token field, gallery and non-gallery apps (--auth bearer)",
        },
        Offered {
            mode: AuthMode::OAuthClientCredentials,
            label: "OAuth 2.0 client credentials grant, gallery apps (--auth oauth-client-credentials)",
        },
        Offered {
            mode: AuthMode::OAuthCode,
            label: "OAuth 2.0 authorization code grant, gallery apps (--auth oauth-code)",
        },
    ],
    sources: "Microsoft Entra, \"Develop and plan provisioning for a SCIM endpoint\" › Authorization to provisioning connectors in the application gallery <https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#authorization-to-provisioning-connectors-in-the-application-gallery> (username and password: \"Not supported for new gallery or non-gallery apps\")",
};

pub fn modes(idp: Idp) -> Option<&'static Modes> {
    match idp {
        Idp::Okta => Some(&OKTA),
        Idp::Entra => Some(&ENTRA),
        Idp::Generic => None,
    }
}

fn idp_name(idp: Idp) -> &'static str {
    match idp {
        Idp::Okta => "Okta",
        Idp::Entra => "Entra",
        Idp::Generic => "the client",
    }
}

/// `Err(message)` when the IdP does not offer the mode: the message names the IdP's modes and
/// the vendor's pages.
pub fn check_mode(idp: Idp, mode: AuthMode) -> Result<(), String> {
    let Some(m) = modes(idp) else { return Ok(()) };
    if m.offered.iter().any(|o| o.mode == mode) {
        return Ok(());
    }
    let list: Vec<String> = m
        .offered
        .iter()
        .map(|o| format!("  - {}", o.label))
        .collect();
    Err(format!(
        "{} does not offer {} for SCIM provisioning. It authenticates with:\n{}\nSource: {}",
        idp_name(idp),
        mode.describe(),
        list.join("\n"),
        m.sources
    ))
}

/// What the IdP does when the server answers 401.
pub fn policy(idp: Idp) -> AuthPolicy {
    AuthPolicy {
        // Okta refreshes an OAuth token once on 401; a plain client renews too. Entra renews
        // only ahead of expiry, at the start of each request, and fails the cycle on a 401.
        renew_on_401: idp != Idp::Entra,
    }
}

/// Rules whose finding, on the answer that refused, already names the fault: the IdP's stop is
/// told there, so one fault reads as one problem.
const ADOPTING: &[&str] = &[
    rules::INVALID_TOKEN_STATUS,
    rules::TOKEN_JSON,
    rules::TOKEN_FIELDS,
    rules::TOKEN_ERROR,
    rules::REFRESH_REVOKED,
];

/// The IdP's stop, in its terms: into a finding of a rule that names the fault on the refusing
/// answer when there is one, else as an `auth.refused` finding. Returns the reason later steps
/// are not run.
pub fn stop(
    idp: Idp,
    mode: AuthMode,
    refusal: &Refusal,
    findings: &mut Vec<Finding>,
    offset: usize,
) -> String {
    let (message, expected) = describe(idp, mode, refusal);
    let consequence = rules::rule(rules::REFUSED)
        .map(|r| r.consequence(idp).impact)
        .unwrap_or_default();
    let impact = if expected {
        expected_impact(idp, mode)
    } else {
        consequence.to_string()
    };
    let at = refusal.exchange.map(|i| i + offset);
    let adopted = findings
        .iter_mut()
        .find(|f| at.is_some() && f.exchange == at && ADOPTING.contains(&f.rule.as_str()));
    match adopted {
        Some(f) => {
            if !expected {
                f.severity = f.severity.max(Severity::Error);
            }
            let told = f.impact.take().unwrap_or_default();
            f.impact = Some(
                format!("{told} {} stops here: {message}.", idp_name(idp))
                    .trim()
                    .to_string(),
            );
        }
        None => {
            let mut f = match rules::rule(rules::REFUSED) {
                Some(r) => r.finding(idp, message.clone()),
                None => Finding::error(rules::REFUSED, message.clone()),
            };
            if expected {
                f.severity = Severity::Info;
            }
            f.impact = Some(impact);
            if let Some(i) = at {
                f = f.at_exchange(i);
            }
            findings.push(f);
        }
    }
    format!("{} cannot go on: {message}", idp_name(idp))
}

/// What happened, and whether it is what a correct server causes (idpsim let the credential
/// lapse and the IdP has no way to renew it).
fn describe(idp: Idp, mode: AuthMode, refusal: &Refusal) -> (String, bool) {
    let who = idp_name(idp);
    match &refusal.kind {
        RefusalKind::Scim {
            status,
            after_refresh,
            renewable,
        } => {
            let what = if refusal.lapsed {
                "an expired credential"
            } else {
                "credentials idpsim holds as valid"
            };
            if *after_refresh {
                (
                    format!("the server answered {status} to a freshly renewed token as well"),
                    false,
                )
            } else if refusal.lapsed && !renewable {
                let why = if mode.is_oauth() {
                    format!("{who} does not renew on a 401")
                } else {
                    format!("{who} cannot renew {}", mode.describe())
                };
                (
                    format!("the server answered {status} to {what} and {why}"),
                    true,
                )
            } else {
                (format!("the server answered {status} to {what}"), false)
            }
        }
        RefusalKind::Token { call, why } => (format!("{} {why}", call.describe()), false),
        RefusalKind::NoGrant { why } => (why.clone(), false),
    }
}

/// What the IdP does when its credential expires and it has no way to renew it: the refusal is
/// the server being right.
fn expected_impact(idp: Idp, mode: AuthMode) -> String {
    match (idp, mode.is_oauth()) {
        (Idp::Entra, true) => "The server is right to refuse an expired token. Entra's cycle fails with Unauthorized and the job goes to quarantine (EncounteredQuarantineException) with one \"invalid credentials\" email; the first retry, 6 hours later, gets a new token and leaves quarantine.".into(),
        (Idp::Entra, false) => "The server is right to refuse an expired token. Entra's cycle fails with Unauthorized; the job goes to quarantine (EncounteredQuarantineException) and the admin gets the \"invalid credentials\" email. A Secret Token should be perpetual (\"The token should be perpetual, or else the provisioning job is quarantined when the token expires\").".into(),
        (Idp::Okta, _) => "The server is right to refuse an expired credential. Okta cannot renew a header or Basic credential: every task fails with \"Unauthorized. Errors reported by remote server: …\" until the admin enters a new one and clicks Re-authenticate API Credentials.".into(),
        (Idp::Generic, _) => "The server is right to refuse an expired credential; nothing more can be sent with it.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_idp_allows_only_its_modes_and_says_where_it_says_so() {
        assert!(check_mode(Idp::Okta, AuthMode::OAuthCode).is_ok());
        assert!(check_mode(Idp::Okta, AuthMode::Basic).is_ok());
        let no = check_mode(Idp::Okta, AuthMode::OAuthClientCredentials).unwrap_err();
        assert!(
            no.contains("Okta does not offer OAuth 2.0 client credentials"),
            "{no}"
        );
        assert!(
            no.contains("--auth oauth-code") && no.contains("https://developer.okta.com"),
            "{no}"
        );
        assert!(check_mode(Idp::Entra, AuthMode::OAuthClientCredentials).is_ok());
        for mode in [AuthMode::Basic, AuthMode::Header] {
            let no = check_mode(Idp::Entra, mode).unwrap_err();
            assert!(no.contains("learn.microsoft.com"), "{no}");
        }
        for m in AuthMode::ALL {
            assert!(check_mode(Idp::Generic, *m).is_ok());
        }
    }

    #[test]
    fn a_stop_is_told_once_adopting_the_rule_that_names_the_fault() {
        let refusal = Refusal {
            exchange: Some(0),
            kind: RefusalKind::Token {
                call: crate::transport::auth::TokenCall::ClientCredentials,
                why: "answered 200 without a JSON object".into(),
            },
            lapsed: false,
        };
        let mut findings = vec![Finding::error(rules::TOKEN_JSON, "form-encoded").at_exchange(2)];
        let reason = stop(
            Idp::Entra,
            AuthMode::OAuthClientCredentials,
            &refusal,
            &mut findings,
            2,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0]
            .impact
            .as_deref()
            .unwrap_or("")
            .contains("Entra stops here"));
        assert!(reason.starts_with("Entra cannot go on"), "{reason}");

        // A lapsed static credential the IdP cannot renew: refused as it should be (info).
        let lapsed = Refusal {
            exchange: Some(0),
            kind: RefusalKind::Scim {
                status: 401,
                after_refresh: false,
                renewable: false,
            },
            lapsed: true,
        };
        let mut findings = Vec::new();
        stop(Idp::Entra, AuthMode::Bearer, &lapsed, &mut findings, 0);
        assert_eq!(findings[0].rule, rules::REFUSED);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(findings[0]
            .impact
            .as_deref()
            .unwrap_or("")
            .contains("quarantine"));

        // Valid credentials refused: an error in the IdP's terms.
        let refused = Refusal {
            lapsed: false,
            ..lapsed
        };
        let mut findings = Vec::new();
        stop(Idp::Okta, AuthMode::Header, &refused, &mut findings, 0);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0]
            .impact
            .as_deref()
            .unwrap_or("")
            .contains("Re-authenticate"));
    }
}
