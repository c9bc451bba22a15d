//! Rules for the answers that authentication depends on: the SCIM server's answer to a request
//! without valid credentials (RFC 7235, RFC 6750 §3) and the token endpoint's answers (RFC 6749
//! §5.1, §5.2, §6). Each rule has a stable id and a severity per IdP, from what that IdP does
//! with such an answer; they are kept in one table ([`RULES`]) shaped like the rule catalogue's.
//!
//! The SCIM error body of a 401/403 is judged by the built-in `rfc7644.error.*` rules, as every
//! error answer is; these rules add what only authentication asks for.

use serde_json::Value;

use crate::outcome::{Citation, DiffEntry, Finding, Severity};
use crate::scenario::Idp;
use crate::transport::auth::{CredentialSent, TokenCall};
use crate::transport::exchange::{Exchange, RecordedResponse};

/// A public document a rule cites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    pub label: &'static str,
    pub url: &'static str,
}

/// What one IdP does with an answer that breaks the rule.
#[derive(Clone, Copy, Debug)]
pub struct Consequence {
    pub severity: Severity,
    pub impact: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub struct AuthRule {
    pub id: &'static str,
    pub title: &'static str,
    pub sources: &'static [Source],
    pub okta: Consequence,
    pub entra: Consequence,
    /// For raw scenarios (no IdP).
    pub generic: Consequence,
}

impl AuthRule {
    pub fn consequence(&self, idp: Idp) -> Consequence {
        match idp {
            Idp::Okta => self.okta,
            Idp::Entra => self.entra,
            Idp::Generic => self.generic,
        }
    }

    /// `label <url>; label <url>`
    pub fn reference(&self) -> String {
        self.sources
            .iter()
            .map(|s| {
                Citation {
                    label: s.label,
                    url: Some(s.url),
                }
                .to_string()
            })
            .collect::<Vec<_>>()
            .join(Citation::SEPARATOR)
    }

    /// A finding of this rule, judged for `idp`.
    pub fn finding(&self, idp: Idp, message: impl Into<String>) -> Finding {
        let c = self.consequence(idp);
        Finding::new(self.id, c.severity, message)
            .impact(c.impact)
            .reference(self.reference())
    }
}

const RFC7235_3_1: Source = Source {
    label: "RFC 7235 §3.1",
    url: "https://www.rfc-editor.org/rfc/rfc7235#section-3.1",
};
const RFC6750_3: Source = Source {
    label: "RFC 6750 §3",
    url: "https://www.rfc-editor.org/rfc/rfc6750#section-3",
};
const RFC6750_3_1: Source = Source {
    label: "RFC 6750 §3.1",
    url: "https://www.rfc-editor.org/rfc/rfc6750#section-3.1",
};
const RFC6749_5_1: Source = Source {
    label: "RFC 6749 §5.1",
    url: "https://www.rfc-editor.org/rfc/rfc6749#section-5.1",
};
const RFC6749_5_2: Source = Source {
    label: "RFC 6749 §5.2",
    url: "https://www.rfc-editor.org/rfc/rfc6749#section-5.2",
};
const RFC6749_6: Source = Source {
    label: "RFC 6749 §6",
    url: "https://www.rfc-editor.org/rfc/rfc6749#section-6",
};
const OKTA_KB_REFRESH: Source = Source {
    label: "Okta KB: Use OAuth2 with Refresh Token - SCIM Integration",
    url: "https://support.okta.com/help/s/article/scim-integration-use-oauth2-with-refresh-token",
};
const OKTA_KB_UNAUTHORIZED: Source = Source {
    label: "Okta KB: Provisioning Error \"Unauthorized. Errors reported by remote server: Token is invalid or expired\"",
    url: "https://support.okta.com/help/s/article/provisioning-error-unauthorized-errors-reported-by-remote-server-token-is-invalid-or-expired",
};
const ENTRA_QUARANTINE: Source = Source {
    label: "Microsoft Entra: Application provisioning in quarantine status",
    url: "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status",
};
const ENTRA_OAUTH: Source = Source {
    label: "Microsoft Entra: Develop and plan provisioning for a SCIM endpoint — Authorization to provisioning connectors in the application gallery",
    url: "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#authorization-to-provisioning-connectors-in-the-application-gallery",
};

const fn c(severity: Severity, impact: &'static str) -> Consequence {
    Consequence { severity, impact }
}

const OKTA_CANNOT_AUTHORIZE: &str = "Okta cannot get a token: \"Authenticate\" fails on the Provisioning tab and no provisioning task runs until it does.";
const ENTRA_CANNOT_AUTHORIZE: &str = "Entra cannot get a token: the job fails to authorize, goes to quarantine (EncounteredQuarantineException, invalid credentials) and the admin gets the quarantine email.";

const OKTA_CANNOT_RENEW: &str = "Okta cannot renew a header or Basic credential: the task fails either way, and the admin reads \"Forbidden\" where \"Unauthorized\" would say what to fix.";

pub const WWW_AUTHENTICATE: &str = "rfc7235.www-authenticate";
pub const INVALID_TOKEN_STATUS: &str = "rfc6750.invalid-token-status";
pub const TOKEN_JSON: &str = "rfc6749.token.json";
pub const TOKEN_FIELDS: &str = "rfc6749.token.fields";
pub const TOKEN_EXPIRES_IN: &str = "rfc6749.token.expires-in";
pub const TOKEN_NO_STORE: &str = "rfc6749.token.no-store";
pub const TOKEN_ERROR: &str = "rfc6749.token.error";
pub const REFRESH_REVOKED: &str = "rfc6749.refresh.revoked-without-replacement";
pub const REFUSED: &str = "auth.refused";

/// Every auth rule, by id.
pub static RULES: &[AuthRule] = &[
    AuthRule {
        id: WWW_AUTHENTICATE,
        title: "A 401 carries a WWW-Authenticate challenge",
        sources: &[RFC7235_3_1, RFC6750_3],
        okta: c(Severity::Warning, "Okta does not read the challenge; it goes by the status alone."),
        entra: c(Severity::Warning, "Entra does not read the challenge; it goes by the status alone."),
        generic: c(Severity::Warning, "An OAuth client cannot tell an expired token (error=\"invalid_token\") from a missing one, nor which scheme to use."),
    },
    AuthRule {
        id: INVALID_TOKEN_STATUS,
        title: "An expired, revoked or unknown token is answered 401, not 403",
        sources: &[RFC6750_3_1, RFC7235_3_1],
        okta: c(Severity::Error, "Okta renews an OAuth token when the server says 401; a 403 reads as \"forbidden\", so no refresh happens and the task fails with an error on the app until the admin re-authenticates."),
        entra: c(Severity::Warning, "Entra logs InsufficientRights instead of Unauthorized; the job goes to quarantine either way."),
        generic: c(Severity::Error, "A client renews its token on 401 (RFC 6750 §3.1: \"The client MAY request a new access token and retry\"); on 403 it gives up instead."),
    },
    AuthRule {
        id: TOKEN_JSON,
        title: "A token answer is a JSON object with Content-Type application/json",
        sources: &[RFC6749_5_1],
        okta: c(Severity::Error, OKTA_CANNOT_AUTHORIZE),
        entra: c(Severity::Error, ENTRA_CANNOT_AUTHORIZE),
        generic: c(Severity::Error, "An OAuth client cannot read the token and sends nothing."),
    },
    AuthRule {
        id: TOKEN_FIELDS,
        title: "A token answer carries access_token and token_type Bearer",
        sources: &[RFC6749_5_1],
        okta: c(Severity::Error, OKTA_CANNOT_AUTHORIZE),
        entra: c(Severity::Error, ENTRA_CANNOT_AUTHORIZE),
        generic: c(Severity::Error, "An OAuth client has no usable token."),
    },
    AuthRule {
        id: TOKEN_EXPIRES_IN,
        title: "A token answer says when the token expires (expires_in)",
        sources: &[RFC6749_5_1, ENTRA_OAUTH],
        okta: c(Severity::Warning, "Okta cannot know when the token lapses and meets the expiry as a 401, then refreshes."),
        entra: c(Severity::Warning, "Entra checks the token's validity before each request; without expires_in it cannot renew in time and meets the expiry as a 401 mid-cycle, and Microsoft's gallery credential test cannot check the token's validity (60–360 minutes)."),
        generic: c(Severity::Warning, "A client cannot renew before expiry and meets the lapse as a failed request."),
    },
    AuthRule {
        id: TOKEN_NO_STORE,
        title: "A token answer is sent with Cache-Control: no-store",
        sources: &[RFC6749_5_1],
        okta: c(Severity::Warning, "Okta is not affected; a cache between them could keep the token."),
        entra: c(Severity::Warning, "Entra is not affected; a cache between them could keep the token."),
        generic: c(Severity::Warning, "An intermediary may cache the answer and with it the token."),
    },
    AuthRule {
        id: TOKEN_ERROR,
        title: "A token error is 400 (401 for invalid_client) with a registered error code in JSON",
        sources: &[RFC6749_5_2],
        okta: c(Severity::Warning, "Okta fails the authorization either way, but cannot tell the admin why."),
        entra: c(Severity::Warning, "Entra fails the authorization either way, but its provisioning log cannot say why."),
        generic: c(Severity::Warning, "A client cannot tell a bad grant (re-authorize) from a bad client (fix the secret) or a passing failure (retry)."),
    },
    AuthRule {
        id: REFRESH_REVOKED,
        title: "A refresh that invalidates the refresh token returns a new one",
        sources: &[RFC6749_6, OKTA_KB_REFRESH],
        okta: c(Severity::Error, "The first refresh works, the next one fails with invalid_grant: Okta's connection dies at the second expiry and the app shows an error until the admin authorizes again (\"If the refresh token expires, a new bearer token must be supplied\")."),
        entra: c(Severity::Error, "Entra's next renewal fails and the job goes to quarantine until the admin authorizes again."),
        generic: c(Severity::Error, "The client cannot renew its token a second time."),
    },
    AuthRule {
        id: REFUSED,
        title: "The IdP stops: the server refused its credentials",
        sources: &[OKTA_KB_UNAUTHORIZED, ENTRA_QUARANTINE],
        okta: c(Severity::Error, "Okta fails the task with \"Unauthorized. Errors reported by remote server: …\" and keeps failing every task until the admin re-enters the credentials (Provisioning › Integration › Re-authenticate API Credentials)."),
        entra: c(Severity::Error, "The provisioning cycle fails with Unauthorized; the job goes to quarantine (EncounteredQuarantineException, \"invalid credentials\"), the admin gets one email from azure-noreply@microsoft.com, retries come after 6, 12 and 24 hours and the job is disabled after four weeks."),
        generic: c(Severity::Error, "Nothing after this request can succeed with these credentials."),
    },
];

/// A rule by id.
pub fn rule(id: &str) -> Option<&'static AuthRule> {
    RULES.iter().find(|r| r.id == id)
}

fn by_id(id: &str) -> &'static AuthRule {
    // Every id used below is in RULES (a unit test says so); fall back to the refusal rule.
    rule(id).unwrap_or(&RULES[RULES.len() - 1])
}

/// Judges a SCIM answer to a request whose credential was missing or lapsed: 401 with a
/// challenge, not 403. `renews` says whether the IdP would have renewed on a 401.
pub fn check_scim_answer(
    exchange: &Exchange,
    credential: CredentialSent,
    idp: Idp,
    renews: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(resp) = &exchange.response else {
        return out;
    };
    if resp.status == 401
        && resp
            .header("www-authenticate")
            .is_none_or(|v| v.trim().is_empty())
    {
        out.push(
            by_id(WWW_AUTHENTICATE)
                .finding(idp, "the 401 carries no WWW-Authenticate challenge")
                .diff(DiffEntry::new(
                    "header:WWW-Authenticate",
                    "Bearer realm=\"…\"",
                    "absent",
                )),
        );
    }
    if resp.status == 403 && credential == CredentialSent::Lapsed {
        let mut f = by_id(INVALID_TOKEN_STATUS)
            .finding(
                idp,
                "an expired access token was answered 403 Forbidden; RFC 6750 says 401 (error=\"invalid_token\")",
            )
            .diff(DiffEntry::new("status", "401", "403"));
        if idp == Idp::Okta && !renews {
            // Okta's header and Basic modes cannot renew: 401 or 403, the task fails the same.
            f.severity = Severity::Warning;
            f.impact = Some(OKTA_CANNOT_RENEW.into());
        }
        out.push(f);
    }
    if resp.status == 403 && credential == CredentialSent::Foreign {
        // The step's own credential (Okta's Spec test #11 sends `Authorization: non-token`):
        // nothing renews it, so the refusal's status only tells the admin what to fix.
        let mut f = by_id(INVALID_TOKEN_STATUS)
            .finding(
                idp,
                "a credential the server refused was answered 403 Forbidden; RFC 6750 §3.1 says 401 (error=\"invalid_token\")",
            )
            .diff(DiffEntry::new("status", "401", "403"));
        if idp == Idp::Okta {
            f.severity = Severity::Warning;
            f.impact = Some(OKTA_CANNOT_RENEW.into());
        }
        out.push(f);
    }
    out
}

/// Judges one token-endpoint answer (RFC 6749 §5.1, §5.2, §6).
pub fn check_token_answer(exchange: &Exchange, call: TokenCall, idp: Idp) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(resp) = &exchange.response else {
        return out;
    };
    let essence = resp
        .content_type()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let body = resp.body.as_ref().filter(|b| b.is_object());
    if resp.status == 200 {
        if essence != "application/json" || body.is_none() {
            let what = if body.is_none() {
                match essence.as_str() {
                    "application/x-www-form-urlencoded" => "a form-encoded body".to_string(),
                    "" if !resp.has_body() => "no body".to_string(),
                    "" => "a body without a Content-Type".to_string(),
                    other => format!("a {other} body"),
                }
            } else {
                format!(
                    "JSON labelled {}",
                    if essence.is_empty() {
                        "with no Content-Type"
                    } else {
                        &essence
                    }
                )
            };
            out.push(
                by_id(TOKEN_JSON)
                    .finding(
                        idp,
                        format!(
                            "{} was answered with {what}, not a JSON object",
                            call.describe()
                        ),
                    )
                    .diff(DiffEntry::new(
                        "header:Content-Type",
                        "application/json",
                        resp.content_type().unwrap_or("absent"),
                    )),
            );
            if body.is_none() {
                return out;
            }
        }
        let Some(body) = body else { return out };
        if body.get("error").is_some() {
            out.push(
                by_id(TOKEN_ERROR)
                    .finding(
                        idp,
                        format!(
                            "{} answered 200 with an error object; errors are 400 (RFC 6749 §5.2)",
                            call.describe()
                        ),
                    )
                    .diff(DiffEntry::new("status", "400", "200")),
            );
            return out;
        }
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let token_type = body.get("token_type").and_then(Value::as_str);
        if access.is_none() {
            out.push(
                by_id(TOKEN_FIELDS)
                    .finding(
                        idp,
                        format!("{} answered without an access_token", call.describe()),
                    )
                    .diff(DiffEntry::new("/access_token", "a string", "absent")),
            );
        } else if !token_type.is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
            out.push(
                by_id(TOKEN_FIELDS)
                    .finding(
                        idp,
                        "the token answer does not say token_type Bearer (RFC 6750 §4)",
                    )
                    .diff(DiffEntry::new(
                        "/token_type",
                        "\"Bearer\"",
                        token_type
                            .map(|t| format!("\"{t}\""))
                            .unwrap_or_else(|| "absent".into()),
                    )),
            );
        }
        let expires_in = body.get("expires_in");
        if expires_in.and_then(Value::as_u64).is_none_or(|n| n == 0) {
            out.push(
                by_id(TOKEN_EXPIRES_IN)
                    .finding(idp, "the token answer does not say when the token expires")
                    .diff(DiffEntry::new(
                        "/expires_in",
                        "seconds, e.g. 3600",
                        expires_in
                            .map(crate::check::show)
                            .unwrap_or_else(|| "absent".into()),
                    )),
            );
        }
        if !resp
            .header("cache-control")
            .is_some_and(|v| v.to_ascii_lowercase().contains("no-store"))
        {
            out.push(
                by_id(TOKEN_NO_STORE)
                    .finding(
                        idp,
                        "the token answer may be cached: no Cache-Control: no-store",
                    )
                    .diff(DiffEntry::new(
                        "header:Cache-Control",
                        "no-store",
                        resp.header("cache-control").unwrap_or("absent"),
                    )),
            );
        }
        return out;
    }
    // An error answer (§5.2).
    let code = body.and_then(|b| b.get("error")).and_then(Value::as_str);
    if let (TokenCall::Refresh { kept: true }, Some("invalid_grant")) = (call, code) {
        out.push(by_id(REFRESH_REVOKED).finding(
            idp,
            "the refresh token was refused (invalid_grant) although the last refresh answer gave no new one to replace it: the server revoked it without a replacement",
        ));
    }
    const REGISTERED: &[&str] = &[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        // RFC 8707 §2
        "invalid_target",
    ];
    let problem = match code {
        None => Some(format!(
            "{} failed with {} and no JSON error object",
            call.describe(),
            resp.status
        )),
        Some(c) if !REGISTERED.contains(&c) => Some(format!(
            "{} failed with error {c}, which RFC 6749 §5.2 does not define",
            call.describe()
        )),
        Some("invalid_client") if resp.status != 400 && resp.status != 401 => Some(format!(
            "invalid_client was answered {}; RFC 6749 §5.2 says 400 or 401",
            resp.status
        )),
        Some(c) if c != "invalid_client" && resp.status != 400 && resp.status < 500 => {
            Some(format!(
                "error {c} was answered {}; RFC 6749 §5.2 says 400",
                resp.status
            ))
        }
        _ => None,
    };
    if let Some(message) = problem {
        out.push(
            by_id(TOKEN_ERROR)
                .finding(idp, message)
                .diff(DiffEntry::new(
                    "status",
                    "400 with {\"error\": …}",
                    status_and_kind(resp),
                )),
        );
    }
    out
}

fn status_and_kind(resp: &RecordedResponse) -> String {
    match resp.content_type() {
        Some(ct) => format!("{} {ct}", resp.status),
        None => resp.status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::exchange::fixture;
    use serde_json::json;

    fn answer(
        status: u16,
        headers: &[(&str, &str)],
        body: Option<Value>,
        text: Option<&str>,
    ) -> Exchange {
        fixture::exchange(
            fixture::request("POST", "http://127.0.0.1/x", &[]),
            fixture::response(status, headers, body, text),
        )
    }

    fn rules_of(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    const CC: TokenCall = TokenCall::ClientCredentials;

    fn good_token() -> Exchange {
        answer(
            200,
            &[
                ("Content-Type", "application/json; charset=utf-8"),
                ("Cache-Control", "no-store"),
            ],
            Some(json!({"access_token": "a", "token_type": "Bearer", "expires_in": 3600})),
            None,
        )
    }

    #[test]
    fn every_rule_is_in_the_table_once_and_cites_a_source() {
        for id in [
            WWW_AUTHENTICATE,
            INVALID_TOKEN_STATUS,
            TOKEN_JSON,
            TOKEN_FIELDS,
            TOKEN_EXPIRES_IN,
            TOKEN_NO_STORE,
            TOKEN_ERROR,
            REFRESH_REVOKED,
            REFUSED,
        ] {
            assert_eq!(RULES.iter().filter(|r| r.id == id).count(), 1, "{id}");
        }
        for r in RULES {
            assert!(
                !r.sources.is_empty() && r.sources.iter().all(|s| s.url.starts_with("https://")),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn a_401_names_its_challenge() {
        let pass = answer(
            401,
            &[(
                "WWW-Authenticate",
                "Bearer realm=\"x\", error=\"invalid_token\"",
            )],
            Some(json!({})),
            None,
        );
        assert!(check_scim_answer(&pass, CredentialSent::Lapsed, Idp::Okta, true).is_empty());
        let fail = answer(401, &[], Some(json!({})), None);
        let f = check_scim_answer(&fail, CredentialSent::None, Idp::Entra, false);
        assert_eq!(rules_of(&f), vec![WWW_AUTHENTICATE]);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn an_expired_token_is_401_not_403() {
        let pass = answer(401, &[("WWW-Authenticate", "Bearer")], None, None);
        assert!(check_scim_answer(&pass, CredentialSent::Lapsed, Idp::Okta, true).is_empty());
        let fail = answer(403, &[], None, None);
        let okta = check_scim_answer(&fail, CredentialSent::Lapsed, Idp::Okta, true);
        assert_eq!(rules_of(&okta), vec![INVALID_TOKEN_STATUS]);
        assert_eq!(okta[0].severity, Severity::Error);
        // Okta's header mode cannot renew anyway; Entra quarantines on both.
        assert_eq!(
            check_scim_answer(&fail, CredentialSent::Lapsed, Idp::Okta, false)[0].severity,
            Severity::Warning
        );
        assert_eq!(
            check_scim_answer(&fail, CredentialSent::Lapsed, Idp::Entra, false)[0].severity,
            Severity::Warning
        );
        // A 403 to valid credentials is an authorization answer, not this rule's business.
        assert!(check_scim_answer(&fail, CredentialSent::Valid, Idp::Okta, true).is_empty());
    }

    #[test]
    fn a_steps_own_refused_credential_is_401_not_403() {
        // Okta's Spec test #11 sends `Authorization: non-token` and expects 401.
        let pass = answer(401, &[("WWW-Authenticate", "Bearer")], None, None);
        assert!(check_scim_answer(&pass, CredentialSent::Foreign, Idp::Okta, false).is_empty());
        let fail = answer(403, &[], None, None);
        let okta = check_scim_answer(&fail, CredentialSent::Foreign, Idp::Okta, false);
        assert_eq!(rules_of(&okta), vec![INVALID_TOKEN_STATUS]);
        // Nothing renews a step's own credential: for Okta only the admin's message suffers.
        assert_eq!(okta[0].severity, Severity::Warning);
        assert_eq!(okta[0].diff[0].pointer, "status");
        let ok = answer(200, &[], None, None);
        assert!(check_scim_answer(&ok, CredentialSent::Foreign, Idp::Okta, false).is_empty());
    }

    #[test]
    fn a_token_answer_is_json_with_the_fields_and_no_store() {
        assert!(check_token_answer(&good_token(), CC, Idp::Entra).is_empty());
        let form = answer(
            200,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cache-Control", "no-store"),
            ],
            None,
            Some("access_token=x&token_type=bearer"),
        );
        let f = check_token_answer(&form, CC, Idp::Entra);
        assert_eq!(rules_of(&f), vec![TOKEN_JSON]);
        assert!(f[0].message.contains("form-encoded"), "{}", f[0].message);
        let labelled = answer(
            200,
            &[
                ("Content-Type", "text/plain"),
                ("Cache-Control", "no-store"),
            ],
            Some(json!({"access_token": "a", "token_type": "Bearer", "expires_in": 60})),
            None,
        );
        assert_eq!(
            rules_of(&check_token_answer(&labelled, CC, Idp::Okta)),
            vec![TOKEN_JSON]
        );
        let bare = answer(
            200,
            &[("Content-Type", "application/json")],
            Some(json!({"access_token": "a", "token_type": "mac"})),
            None,
        );
        assert_eq!(
            rules_of(&check_token_answer(&bare, CC, Idp::Generic)),
            vec![TOKEN_FIELDS, TOKEN_EXPIRES_IN, TOKEN_NO_STORE]
        );
        let none = answer(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
            ],
            Some(json!({"token_type": "Bearer", "expires_in": 1})),
            None,
        );
        assert_eq!(
            rules_of(&check_token_answer(&none, CC, Idp::Generic)),
            vec![TOKEN_FIELDS]
        );
    }

    #[test]
    fn token_errors_follow_rfc_6749_5_2() {
        let pass = answer(
            400,
            &[("Content-Type", "application/json")],
            Some(json!({"error": "invalid_grant"})),
            None,
        );
        assert!(
            check_token_answer(&pass, TokenCall::Refresh { kept: false }, Idp::Okta).is_empty()
        );
        let bad_client = answer(
            401,
            &[("Content-Type", "application/json")],
            Some(json!({"error": "invalid_client"})),
            None,
        );
        assert!(check_token_answer(&bad_client, CC, Idp::Entra).is_empty());
        for fail in [
            answer(
                500,
                &[("Content-Type", "text/html")],
                None,
                Some("<h1>oops</h1>"),
            ),
            answer(
                400,
                &[("Content-Type", "application/json")],
                Some(json!({"error": "token_expired"})),
                None,
            ),
            answer(
                403,
                &[("Content-Type", "application/json")],
                Some(json!({"error": "invalid_grant"})),
                None,
            ),
            answer(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Cache-Control", "no-store"),
                ],
                Some(json!({"error": "invalid_grant"})),
                None,
            ),
        ] {
            assert_eq!(
                rules_of(&check_token_answer(&fail, CC, Idp::Okta)),
                vec![TOKEN_ERROR],
                "{:?}",
                fail.response.as_ref().map(|r| r.status)
            );
        }
    }

    #[test]
    fn a_revoked_refresh_token_without_replacement_is_named() {
        let refused = answer(
            400,
            &[("Content-Type", "application/json")],
            Some(json!({"error": "invalid_grant"})),
            None,
        );
        // Refused after a refresh that gave no new token: the server's fault.
        let f = check_token_answer(&refused, TokenCall::Refresh { kept: true }, Idp::Okta);
        assert_eq!(rules_of(&f), vec![REFRESH_REVOKED]);
        assert_eq!(f[0].severity, Severity::Error);
        // Refused after a refresh that did rotate: not this rule.
        assert!(
            check_token_answer(&refused, TokenCall::Refresh { kept: false }, Idp::Okta).is_empty()
        );
        // A kept token that still works is fine.
        assert!(
            check_token_answer(&good_token(), TokenCall::Refresh { kept: true }, Idp::Okta)
                .is_empty()
        );
    }
}
