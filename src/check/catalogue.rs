//! The rule catalogue: every rule id idpsim emits, what it checks, the public source behind it,
//! and — for each IdP under test — the severity and the one sentence saying what that IdP does
//! with such an answer. A finding takes its severity, its consequence and its citations from
//! here, given the IdP of the scenario that produced it, so an Entra scenario never carries
//! Okta's consequence and no rule has two severities for one IdP.
//!
//! Severity is the IdP's consequence: *error* where the IdP under test fails the operation,
//! stops, loses or duplicates data, or drifts out of sync; *warning* where it carries on (an
//! RFC deviation it tolerates, or a failure of a vendor's test suite only); *info* for what the
//! IdP does that is worth knowing but is no fault of the server.
//!
//! Rule ids name the server's fault, not the step that saw it: the same fault seen by an Okta
//! action, an Entra action and a raw step carries one id, so findings group into one problem.
//! `docs/RULES.md` is generated from this table (a test keeps it in step).

use super::sources::*;
use crate::outcome::{Citation, Finding, Severity};
use crate::scenario::Idp;

/// What one IdP (or, for `generic` scenarios, any IdP) does with an answer that breaks a rule.
#[derive(Clone, Copy, Debug)]
pub struct Consequence {
    pub severity: Severity,
    /// One sentence in the IdP's terms.
    pub impact: &'static str,
    /// Where that behaviour is documented.
    pub sources: &'static [Source],
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable id, as users put it in baselines.
    pub id: &'static str,
    /// What the rule requires, in a few words.
    pub title: &'static str,
    /// The specification or report the requirement comes from.
    pub sources: &'static [Source],
    pub okta: Option<Consequence>,
    pub entra: Option<Consequence>,
    /// For `generic` scenarios (raw requests, no IdP); derived from Okta and Entra when absent.
    pub generic: Option<Consequence>,
    /// The same consequence whoever the IdP is (idpsim's own checks, transport failures).
    pub any: Option<Consequence>,
}

/// A rule judged for one IdP: what a finding carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub severity: Severity,
    pub impact: String,
    /// `label <url>` entries, the rule's sources first, then the consequence's.
    pub reference: String,
}

const BLANK: Rule = Rule {
    id: "",
    title: "",
    sources: &[],
    okta: None,
    entra: None,
    generic: None,
    any: None,
};

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;
const I: Severity = Severity::Info;

const fn c(severity: Severity, impact: &'static str, sources: &'static [Source]) -> Consequence {
    Consequence {
        severity,
        impact,
        sources,
    }
}

impl Rule {
    /// The consequence for this IdP, if the catalogue states one.
    pub fn consequence(&self, idp: Idp) -> Option<Consequence> {
        if let Some(any) = self.any {
            return Some(any);
        }
        match idp {
            Idp::Okta => self.okta,
            Idp::Entra => self.entra,
            Idp::Generic => self.generic.or_else(|| self.derived_generic()),
        }
    }

    /// For a raw scenario with no IdP: the graver of the two IdPs' severities; the impact names
    /// both when they differ.
    fn derived_generic(&self) -> Option<Consequence> {
        match (self.okta, self.entra) {
            (Some(o), Some(e)) if o.impact == e.impact => Some(Consequence {
                severity: o.severity.max(e.severity),
                ..o
            }),
            (Some(o), Some(e)) => Some(Consequence {
                severity: o.severity.max(e.severity),
                impact: "",
                sources: &[],
            }),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        }
    }

    /// Severity, consequence and citations for a finding of this rule in a scenario of `idp`.
    pub fn judge(&self, idp: Idp) -> Judgement {
        let Some(cons) = self.consequence(idp) else {
            // Tests keep this unreachable for the rules each IdP emits; a rule without a
            // consequence for this IdP is still reported, at the graver of what the table says.
            let severity = [self.okta, self.entra, self.generic]
                .iter()
                .flatten()
                .map(|c| c.severity)
                .max()
                .unwrap_or(Severity::Error);
            return Judgement {
                severity,
                impact: String::new(),
                reference: cite(self.sources.iter()),
            };
        };
        let (impact, extra): (String, Vec<&Source>) =
            if cons.impact.is_empty() && idp == Idp::Generic {
                // Derived for a raw scenario: both IdPs, each in its own words.
                let (o, e) = (self.okta.unwrap_or(cons), self.entra.unwrap_or(cons));
                (
                    format!("Okta: {} Entra: {}", o.impact, e.impact),
                    o.sources.iter().chain(e.sources).collect(),
                )
            } else {
                (cons.impact.to_string(), cons.sources.iter().collect())
            };
        Judgement {
            severity: cons.severity,
            impact,
            reference: cite(self.sources.iter().chain(extra)),
        }
    }
}

/// `label <url>; label <url>`, without repeats.
fn cite<'a>(sources: impl Iterator<Item = &'a Source>) -> String {
    let mut seen: Vec<&Source> = Vec::new();
    for s in sources {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen.iter()
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

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Whether idpsim knows this rule id: this table, or the authentication rules, which keep a
/// table of the same shape beside the code that judges token and 401 answers (`check::auth`).
pub fn is_known(id: &str) -> bool {
    rule(id).is_some() || super::auth::rule(id).is_some()
}

/// The judgement of rule `id` for `idp`; an id the catalogue does not know is a bug in idpsim
/// (a test greps the sources and runs the suite to keep every emitted id here).
pub fn judge(id: &str, idp: Idp) -> Judgement {
    match rule(id) {
        Some(r) => r.judge(idp),
        None => {
            debug_assert!(
                false,
                "rule `{id}` is not in the catalogue (src/check/catalogue.rs)"
            );
            Judgement {
                severity: Severity::Error,
                impact: String::new(),
                reference: String::new(),
            }
        }
    }
}

/// `docs/RULES.md`, generated from the table.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n\
         Generated from `src/check/catalogue.rs` — do not edit by hand (`IDPSIM_BLESS=1 cargo test --lib catalogue` rewrites it).\n\n\
         Every finding idpsim reports carries one of these rule ids. Its severity and the sentence on what the IdP does \
         depend on the IdP of the scenario under test: **okta**, **entra**, or **generic** (raw requests judged for any \
         IdP: the graver of the two). *error*: that IdP fails the operation, stops, loses or duplicates data, or drifts \
         out of sync; *warning*: a deviation it tolerates (or only a vendor's test suite fails); *info*: worth knowing, \
         no fault of the server.\n\n\
         A scenario expectation can name one of these rules (`rule:`, see `scenarios/README.md`); its mismatches are then \
         reported under that rule.\n",
    );
    let mut section = "";
    for r in RULES {
        let family = family(r.id);
        if family != section {
            section = family;
            out.push_str(&format!("\n## {}\n", family_title(family)));
        }
        out.push_str(&format!("\n### `{}`\n\n{}\n\n", r.id, r.title));
        if !r.sources.is_empty() {
            out.push_str(&format!("Source: {}\n\n", markdown_sources(r.sources)));
        }
        if let Some(any) = r.any {
            out.push_str(&format!(
                "- any IdP — **{}**: {}{}\n",
                any.severity.name(),
                any.impact,
                markdown_tail(any.sources)
            ));
            continue;
        }
        for (idp, label) in [
            (Idp::Okta, "okta"),
            (Idp::Entra, "entra"),
            (Idp::Generic, "generic"),
        ] {
            let explicit = match idp {
                Idp::Okta => r.okta,
                Idp::Entra => r.entra,
                Idp::Generic => r.generic,
            };
            if explicit.is_none() && idp != Idp::Generic {
                continue;
            }
            let Some(cons) = r.consequence(idp) else {
                continue;
            };
            if idp == Idp::Generic && r.generic.is_none() {
                if r.okta.is_some() && r.entra.is_some() {
                    out.push_str(&format!(
                        "- generic — **{}** (the graver of the two)\n",
                        cons.severity.name()
                    ));
                }
                continue;
            }
            out.push_str(&format!(
                "- {label} — **{}**: {}{}\n",
                cons.severity.name(),
                cons.impact,
                markdown_tail(cons.sources)
            ));
        }
    }
    out
}

fn markdown_sources(sources: &[Source]) -> String {
    sources
        .iter()
        .map(|s| {
            if s.url.starts_with("http") {
                format!("[{}]({})", s.label, s.url)
            } else {
                format!("[{}](../{})", s.label, s.url)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn markdown_tail(sources: &[Source]) -> String {
    if sources.is_empty() {
        String::new()
    } else {
        format!(" ({})", markdown_sources(sources))
    }
}

fn family(id: &str) -> &str {
    let first = id.split('.').next().unwrap_or(id);
    match first {
        "rfc7643" | "rfc7644" => "rfc",
        other => other,
    }
}

fn family_title(family: &str) -> &'static str {
    match family {
        "transport" => "Transport (no usable HTTP answer)",
        "http" => "HTTP",
        "rfc" => "RFC 7643 / RFC 7644",
        "scim" => "What every IdP needs that the RFCs leave open",
        "okta" => "Okta",
        "entra" => "Microsoft Entra ID",
        "state" => "Server state (`expect_server`)",
        "audit" => "Audit (`audit` step and command)",
        "expect" => "Scenario expectations without a rule",
        "scenario" => "Scenario problems (idpsim could not run the step)",
        "cleanup" => "Cleanup",
        _ => "Other",
    }
}

/// Findings are built from the catalogue: the judges say which rule and what they saw; the
/// catalogue says how grave it is for the IdP under test and what that IdP does.
impl Finding {
    /// A finding of catalogued rule `rule`, judged for the IdP under test: its severity, what
    /// that IdP does with such an answer and the sources come from the catalogue.
    pub fn judged(rule: impl Into<String>, idp: Idp, message: impl Into<String>) -> Self {
        let rule = rule.into();
        let j = judge(&rule, idp);
        let mut f = Finding::new(rule, j.severity, message);
        f.impact = (!j.impact.is_empty()).then_some(j.impact);
        f.reference = (!j.reference.is_empty()).then_some(j.reference);
        f
    }

    /// The same observation under another catalogued rule (an expectation that names its rule,
    /// a cause found by a closer look): severity, consequence and sources follow the new rule.
    pub fn rebind(self, rule: &str, idp: Idp) -> Self {
        let j = Finding::judged(rule, idp, String::new());
        Finding {
            rule: j.rule,
            severity: j.severity,
            impact: j.impact,
            reference: j.reference,
            ..self
        }
    }

    /// Lowers the severity where a policy says so (cleanup problems, `on_drift: warning`).
    pub fn at_most(mut self, severity: Severity) -> Self {
        self.severity = self.severity.min(severity);
        self
    }
}

// ------------------------------------------------------------------------------------------
// The table. Grouped by family; within a family, by what an exchange is (transport, status,
// body, lists, filters, writes).
// ------------------------------------------------------------------------------------------

const NOT_SERVERS_FAULT: &[Source] = &[IDPSIM_SCENARIOS];

pub static RULES: &[Rule] = &[
    // ---- transport ------------------------------------------------------------------------
    Rule {
        id: "transport.timeout",
        title: "The server answers within the IdP's timeout",
        okta: Some(c(E, "Okta closes the socket after 60 seconds and the provisioning task fails; an admin retries it from Tasks.", &[OKTA_FAQ_REQUIREMENTS])),
        entra: Some(c(E, "Entra logs Timeout and retries the object in 40 minutes; persistent failures escrow and quarantine the job.", &[ENTRA_LOGS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "transport.connect",
        title: "The endpoint accepts connections",
        okta: Some(c(E, "Okta cannot reach the app: every provisioning task fails until the endpoint is back.", &[OKTA_FAQ_REQUIREMENTS])),
        entra: Some(c(E, "Entra cannot reach the app; when most calls fail the job goes to quarantine.", &[ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "transport.reset",
        title: "The connection stays open until the answer is complete",
        okta: Some(c(E, "Okta sees a failed request and the provisioning task fails.", &[])),
        entra: Some(c(E, "Entra logs the failure and retries the object on a later cycle.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "transport.content-encoding",
        title: "A compressed body can be decompressed",
        okta: Some(c(E, "Okta asks for gzip,deflate and cannot read a body that does not decode: the request fails.", &[])),
        entra: Some(c(E, "Entra cannot read the answer and logs SystemForCrossDomainIdentityManagementServiceIncompatible.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "transport.request",
        title: "idpsim could build and send the request",
        any: Some(c(E, "No IdP consequence: idpsim could not send this request (usually a URL that is not valid after templating).", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "transport.protocol",
        title: "The answer is valid HTTP",
        sources: &[RFC9112_6],
        okta: Some(c(E, "Okta's HTTP client rejects an answer that is not valid HTTP: the request fails.", &[])),
        entra: Some(c(E, "Entra's HTTP client rejects the answer; the object is retried on a later cycle.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "transport.truncated",
        title: "The body is as long as the headers announce",
        sources: &[RFC9112_6],
        okta: Some(c(E, "Okta cannot read an incomplete answer: the request fails.", &[])),
        entra: Some(c(E, "Entra cannot read an incomplete answer; the object is retried on a later cycle.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "transport.body-too-large",
        title: "The body stays under 16 MiB (after decompression)",
        okta: Some(c(E, "An answer this large outlasts Okta's 60-second timeout or exhausts the client: the request fails.", &[OKTA_FAQ_REQUIREMENTS])),
        entra: Some(c(E, "An answer this large times out or exhausts Entra's client; the object is retried and may escrow.", &[ENTRA_LOGS])),
        ..BLANK
    },
    // ---- HTTP -----------------------------------------------------------------------------
    Rule {
        id: "http.redirect",
        title: "A SCIM request is answered, not redirected",
        sources: &[RFC7644_3_2, RFC9110_15_4],
        okta: Some(c(E, "Okta does not document following redirects: the request does not reach the SCIM handler and the task fails (a redirected POST may also be re-sent as a GET).", &[])),
        entra: Some(c(E, "Entra does not document following redirects: the request does not reach the SCIM handler and the object is retried on later cycles.", &[])),
        ..BLANK
    },
    Rule {
        id: "http.status.invalid",
        title: "The status code is within HTTP's range (100–599)",
        sources: &[RFC9110_15],
        okta: Some(c(E, "Okta's HTTP client rejects the answer: the request fails.", &[])),
        entra: Some(c(E, "Entra's HTTP client rejects the answer; the object is retried on later cycles.", &[])),
        ..BLANK
    },
    Rule {
        id: "http.status.unknown",
        title: "The status code is a registered one",
        sources: &[RFC9110_15],
        okta: Some(c(W, "Okta can only go by the class (the first digit) of an unregistered code.", &[])),
        entra: Some(c(W, "Entra can only go by the class (the first digit) of an unregistered code.", &[])),
        ..BLANK
    },
    Rule {
        id: "http.auth.rejected",
        title: "The server accepts the credentials it was configured with",
        sources: &[RFC7644_2],
        okta: Some(c(E, "Every Okta request fails: \"Test Connector Configuration\" reports the credentials as invalid and no user or group is provisioned.", &[OKTA_TEST_GUIDE])),
        entra: Some(c(E, "Entra logs Unauthorized, Test Connection reports invalid credentials and the job goes to quarantine (\"Bad credentials\" email).", &[ENTRA_LOGS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "http.accept.rejected",
        title: "A request with `Accept: application/scim+json` is answered (not 406)",
        sources: &[RFC7644_3_8, RFC9110_12_5_1],
        okta: Some(c(E, "Okta sends `Accept: application/scim+json` on every request: every request fails silently and the admin sees only \"Sync user in external application — FAILURE\".", &[OKTA_KB_HEADERS])),
        entra: Some(c(W, "Entra itself sends no Accept header, so its own requests are not affected; this was a replayed request that carried one.", &[ENTRA_NO_ACCEPT])),
        ..BLANK
    },
    Rule {
        id: "http.accept.required",
        title: "A request without an Accept header is answered (not 406)",
        sources: &[RFC9110_12_5_1],
        okta: Some(c(W, "Okta always sends `Accept: application/scim+json`, so its requests are not affected.", &[OKTA_KB_HEADERS])),
        entra: Some(c(E, "Entra sends no Accept header: Test Connection fails (\"You appear to have entered invalid credentials\") and so does every provisioning request.", &[ENTRA_NO_ACCEPT])),
        ..BLANK
    },
    Rule {
        id: "http.content-type.rejected",
        title: "A body sent as `application/scim+json` is accepted (not 415)",
        sources: &[RFC7644_3_8, RFC9110_15_5_16],
        okta: Some(c(E, "Okta sends `Content-Type: application/scim+json; charset=utf-8` on every write: every create and update fails.", &[OKTA_KB_HEADERS])),
        entra: Some(c(E, "Entra sends `application/scim+json; charset=utf-8` on every write: every create and update fails and escrows.", &[ENTRA_LOGS])),
        ..BLANK
    },
    // ---- RFC 7643 / 7644: every answer ----------------------------------------------------
    Rule {
        id: "rfc7644.response.media-type",
        title: "A JSON answer is `application/scim+json`",
        sources: &[RFC7644_3_8],
        okta: Some(c(W, "Okta reads the JSON whatever the media type (its own documentation's answers are `text/json`).", &[OKTA_LOOKUP])),
        entra: Some(c(W, "Entra's provisioning reads the JSON, but Microsoft requires application/scim+json on every response and its SCIM Validator aborts the whole run on application/json.", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_VALIDATOR_JSON])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.json",
        title: "An error answer is a SCIM Error object (JSON)",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "The request fails either way; Okta parses error bodies as JSON and shows the admin a parser error instead of the server's reason.", &[BUG_NON_JSON_ERRORS, OKTA_FAQ_ERRORS])),
        entra: Some(c(W, "The request fails either way; Entra cannot parse the reason and may log SystemForCrossDomainIdentityManagementServiceIncompatible instead of the error the status means.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.schema",
        title: "An error object lists the Error schema",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "Okta's runtime goes by the status; Okta's Spec test (#4, #11, #12) asserts the Error schema and fails.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra goes by the status; neither its documented behaviour nor its error codes depend on the schema URI.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.status-mismatch",
        title: "An error object's `status` equals the HTTP status",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "Okta goes by the HTTP status; its Spec test (#11, #12) compares `status` and fails.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra goes by the HTTP status.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.status-string",
        title: "An error object's `status` is a string",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "An RFC rule Okta does not depend on: Okta reads a number or a string (its own documentation's errors use a number).", &[OKTA_CREATE])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: Entra goes by the HTTP status.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.status-missing",
        title: "An error object carries `status`",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "Okta goes by the HTTP status; its Spec test (#11, #12) asserts `status` and fails.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra goes by the HTTP status, though Microsoft's tutorial says an error needs only `status`.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    // ---- resources --------------------------------------------------------------------------
    Rule {
        id: "rfc7644.create.status",
        title: "A successful create answers 201 Created",
        sources: &[RFC7644_3_3],
        okta: Some(c(W, "Okta reads the created user from the answer; its Spec test step 6 expects 201 and fails, which blocks OIN submission.", &[OKTA_CREATE, OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra reads the created object from the answer (Microsoft's onboarding tests accept 200 or 201).", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.body",
        title: "A create answers with the created resource",
        sources: &[RFC7644_3_3],
        okta: Some(c(E, "Okta fails the assignment: \"Error while creating user …: Create new user returned empty user.\"", &[OKTA_CREATE])),
        entra: Some(c(E, "Entra cannot read the new object's id, cannot link it and logs SystemForCrossDomainIdentityManagementServiceIncompatible; the next cycle's create conflicts.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.id",
        title: "A created resource carries a server-assigned, non-empty string `id`",
        sources: &[RFC7643_3_1, RFC7644_3_3],
        okta: Some(c(E, "Okta cannot link the app user or group: every later update, deactivation and group push of it fails.", &[OKTA_CREATE])),
        entra: Some(c(E, "Entra cannot store the anchor: every later update fails and the next cycle tries to create the object again.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.location",
        title: "A create answer carries a Location header",
        sources: &[RFC7644_3_3],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it reads the id from the body.", &[OKTA_CREATE])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: it reads the id from the body.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.uniqueness",
        title: "Creating a duplicate userName (or group displayName), compared ignoring case, answers 409 Conflict",
        sources: &[RFC7644_3_3, RFC7643_4_1_1, BUG_DUPLICATE_CREATE, BUG_DUPLICATE_CASE],
        okta: Some(c(W, "Okta looks users up before creating them (`userName eq`, which ignores case), so it does not create the duplicate itself; any lookup that misses leaves a second account for the same person. Okta's Spec test step 8 (\"Expect failure when recreating user\") re-POSTs the user it just created, in the same case, and requires 409.", &[OKTA_CREATE, OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra matches before it creates, so it does not create the duplicate itself; Microsoft's SCIM Validator expects 409, and duplicates created otherwise make Entra log DuplicateTargetEntries.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.meta.resource-type",
        title: "A resource's `meta.resourceType` names its type",
        sources: &[RFC7643_3_1],
        okta: Some(c(W, "An RFC rule Okta does not depend on.", &[])),
        entra: Some(c(W, "An RFC rule Entra does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.resource.id",
        title: "A returned resource carries its `id`",
        sources: &[RFC7643_3_1],
        okta: Some(c(W, "Okta addresses the resource by the id it stored; its Spec test (#2) asserts `id` and fails.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra addresses the resource by its stored anchor, though Microsoft requires `id` on every returned resource.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.resource.schemas",
        title: "A returned resource lists its `schemas`",
        sources: &[RFC7643_3],
        okta: Some(c(W, "An RFC rule Okta does not depend on (but Okta's PUT echoes the GET answer, so the missing `schemas` travel back).", &[OKTA_PUT])),
        entra: Some(c(W, "An RFC rule Entra does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.password.returned",
        title: "No answer carries `password` (its `returned` is \"never\")",
        sources: &[RFC7643_4_1_1, RFC7643_7],
        okta: Some(c(E, "Okta's profile push is the GET answer echoed as a PUT: the returned `password` goes back in every push, so a server that stores what it is sent sets the user's password to the value it returned (a hash becomes the password).", &[OKTA_PUT, OKTA_PUT_CAPTURE])),
        entra: Some(c(W, "Entra does not read `password` back and carries on; the secret is exposed to every client that can read users.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.multi-valued.duplicate",
        title: "A multi-valued attribute lists each value once (no member twice in a group)",
        sources: &[RFC7643_2_4, RFC7644_3_5_2_1],
        okta: Some(c(W, "Okta carries on: Group Push writes memberships and does not read the member list back; but a member stored twice may survive a removal that takes out one copy.", &[OKTA_GROUP_MEMBERS])),
        entra: Some(c(W, "Entra carries on: it reads groups with excludedAttributes=members and never reads the member list back; but a member stored twice may survive a removal that takes out one copy.", &[ENTRA_TUT_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.multi-valued.primary",
        title: "`primary: true` appears at most once in a multi-valued attribute",
        sources: &[RFC7643_2_4],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it sends one primary email and does not read `primary` back.", &[OKTA_CREATE])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: its mappings select values by `type` (emails[type eq \"work\"]), not by `primary`.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.meta.dates",
        title: "`meta.created` and `meta.lastModified` are DateTimes, and a resource is not modified before it was created",
        sources: &[RFC7643_3_1],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it does not read `meta` (its PUT only echoes it back).", &[OKTA_FAQ_UNSUPPORTED, OKTA_PUT])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: it compares attribute values, not `meta`.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.meta.location",
        title: "`meta.location` is the resource's URI: the Location of a 201, the Content-Location when sent",
        sources: &[RFC7643_3_1, RFC7644_3_3],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it addresses resources by the `id` in the body.", &[OKTA_CREATE])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: it addresses resources by the `id` it stored as the anchor.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.meta.version",
        title: "`meta.version` equals the ETag header when both are sent",
        sources: &[RFC7643_3_1, RFC7644_3_14],
        okta: Some(c(W, "An RFC rule Okta does not depend on: its documented requests carry no If-Match or If-None-Match.", &[OKTA_PUT, OKTA_PATCH])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: its documented requests carry no If-Match or If-None-Match.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.response.resource",
        title: "A read answers with a resource object",
        sources: &[RFC7644_3_4_1],
        okta: Some(c(E, "Okta cannot read the user: the profile push (GET, then PUT of the answer) fails.", &[OKTA_RETRIEVE_USER, OKTA_PUT])),
        entra: Some(c(E, "Entra cannot compare the object with its source and logs SystemForCrossDomainIdentityManagementServiceIncompatible; the update fails.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.response.json",
        title: "A read answers with JSON",
        sources: &[RFC7644_3_8],
        okta: Some(c(E, "Okta cannot parse the user: the profile push fails.", &[OKTA_RETRIEVE_USER])),
        entra: Some(c(E, "Entra cannot parse the answer and logs SystemForCrossDomainIdentityManagementServiceIncompatible; the update fails.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.response.empty",
        title: "A read answers with a body",
        sources: &[RFC7644_3_4_1],
        okta: Some(c(E, "Okta has no user to modify: the profile push fails.", &[OKTA_RETRIEVE_USER])),
        entra: Some(c(E, "Entra has nothing to compare with its source; the update fails.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.read.id-mismatch",
        title: "A read returns the resource asked for",
        sources: &[RFC7644_3_4_1],
        okta: Some(c(E, "Okta updates the wrong account with this user's profile.", &[OKTA_RETRIEVE_USER])),
        entra: Some(c(E, "Entra diffs against another object and sends wrong updates.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.replace.status",
        title: "A successful PUT answers 200 with the resource",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(W, "Okta treats any 2xx as success.", &[OKTA_PUT])),
        entra: Some(c(W, "Entra does not send PUT; an RFC rule it does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.replace.body",
        title: "A successful PUT answers with the resource",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(W, "Okta treats the update as done; nothing it does next reads this body.", &[OKTA_PUT])),
        entra: Some(c(W, "Entra does not send PUT; an RFC rule it does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.patch.status",
        title: "A successful PATCH answers 200 or 204",
        sources: &[RFC7644_3_5_2],
        okta: Some(c(W, "Okta treats any 2xx as success.", &[OKTA_PATCH])),
        entra: Some(c(W, "Entra treats any 2xx as success.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.patch.empty-200",
        title: "A PATCH that answers 200 returns the resource (or answers 204)",
        sources: &[RFC7644_3_5_2],
        okta: Some(c(W, "Okta accepts 200 with the resource or 204 with no body; it does not read this one.", &[OKTA_PATCH])),
        entra: Some(c(W, "Entra does not read PATCH answers.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.delete.status",
        title: "A successful DELETE answers 204 No Content",
        sources: &[RFC7644_3_6],
        okta: Some(c(W, "Okta treats any 2xx as success (it deletes only groups).", &[OKTA_DELETE_GROUP])),
        entra: Some(c(W, "Entra treats any 2xx as success.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    // ---- lists and filters --------------------------------------------------------------------
    Rule {
        id: "rfc7644.list.json",
        title: "A query answers with a JSON ListResponse",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(E, "Okta cannot read the result: the lookup, import or connector test that sent the query fails.", &[OKTA_LOOKUP, OKTA_RETRIEVE_USERS])),
        entra: Some(c(E, "Entra cannot parse the result (SystemForCrossDomainIdentityManagementServiceIncompatible): matching fails and the object is not provisioned.", &[ENTRA_LOGS, ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.schema",
        title: "A ListResponse lists the ListResponse schema",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(W, "Okta reads `totalResults` and `Resources`; its Spec test (#1, #3, #5) asserts the schema and fails.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra reads `totalResults` and `Resources`, though Microsoft says a query always answers a ListResponse.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.integer-counters",
        title: "`totalResults` is present, and the counters are JSON integers",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(E, "Okta requires integer counters: it aborts the lookup, import or connector test that read this list (its entitlement discovery cannot page through a type's values, and its Entitlements Test fails) — after a user lookup the System Log shows only `application.provision.user.sync FAILURE` and nothing is created.", &[OKTA_RETRIEVE_USERS, OKTA_KB_STRING_COUNTERS, OKTA_ENT_TEST])),
        entra: Some(c(W, "Entra reads `Resources` to match objects; its documentation does not say it depends on the counters' JSON type.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.resources-array",
        title: "`Resources` is an array (`[]` when nothing matches, not null)",
        sources: &[RFC7644_3_4_2, BUG_EMPTY_RESOURCES],
        okta: Some(c(E, "Okta cannot iterate the result: the lookup, import or connector test that read it fails (Okta's own tests fail on a null `Resources`).", &[OKTA_LOOKUP])),
        entra: Some(c(E, "Entra cannot iterate the result; a null `Resources` is known to quarantine the job.", &[ENTRA_NULL_RESOURCES])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.resources-present",
        title: "`Resources` is present when `totalResults` is not zero",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(E, "Okta finds nothing: it creates a duplicate or the assignment fails, and imports see no users.", &[OKTA_LOOKUP])),
        entra: Some(c(E, "Entra finds nothing to match: it creates the object again and the create conflicts.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.resources-omitted",
        title: "An empty result carries `\"Resources\": []`",
        sources: &[RFC7644_3_4_2, BUG_EMPTY_RESOURCES],
        okta: Some(c(W, "RFC 7644 allows omitting `Resources` when nothing matched and Okta's runtime treats it as no match, but Okta's documented answer is `\"Resources\": []` and clients that expect the array fail.", &[OKTA_LOOKUP])),
        entra: Some(c(W, "RFC 7644 allows omitting `Resources` when nothing matched; Microsoft's documented answer is `\"Resources\": []` (a null `Resources` is known to quarantine Entra).", &[ENTRA_TUT_USERS, ENTRA_NULL_RESOURCES])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.resource-id",
        title: "Every resource in a ListResponse carries its `id`",
        sources: &[RFC7643_3_1, RFC7644_3_4_2],
        okta: Some(c(E, "Okta cannot store the app user's id from the lookup: the link fails and every later update of the user fails.", &[OKTA_LOOKUP])),
        entra: Some(c(E, "Entra cannot take the anchor from the match: the object is never linked.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.pagination-fields",
        title: "A partial page carries `startIndex` and `itemsPerPage`",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(W, "Okta pages by its own `startIndex` and `count` and reads `totalResults` and `Resources`; it carries on.", &[OKTA_RETRIEVE_USERS])),
        entra: Some(c(W, "Entra's provisioning cycles do not page; an RFC rule it does not depend on.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.total-results",
        title: "`totalResults` is at least the number of resources returned",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(W, "Okta reads the resources returned; an undercounted total only ends its import paging early.", &[OKTA_RETRIEVE_USERS])),
        entra: Some(c(W, "Entra reads the resources returned.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.count",
        title: "A query returns at most `count` resources",
        sources: &[RFC7644_3_4_2_4],
        okta: Some(c(W, "Okta reads every resource returned; pages larger than asked only cost time.", &[OKTA_RETRIEVE_USERS])),
        entra: Some(c(W, "Entra's cycles do not page; Microsoft's onboarding pagination test pages by `count`.", &[ENTRA_DISCOVERY])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.items-per-page",
        title: "`itemsPerPage` is the number of resources on this page",
        sources: &[RFC7644_3_4_2_4, BUG_ITEMS_PER_PAGE],
        okta: Some(c(W, "Okta's lookups and imports read `totalResults` and `Resources` and carry on; Okta's OIN review (a page past the end of a small data set) rejected a server that echoed `count` here.", &[OKTA_RETRIEVE_USERS, BUG_ITEMS_PER_PAGE])),
        entra: Some(c(W, "Entra reads `Resources`; an RFC rule its documented behaviour does not depend on.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.start-index",
        title: "A page reports the `startIndex` it was asked for",
        sources: &[RFC7644_3_4_2_4],
        okta: Some(c(W, "Okta computes the next page from its own `startIndex`, not from the answer's.", &[OKTA_RETRIEVE_USERS])),
        entra: Some(c(W, "Entra's cycles do not page; Microsoft's onboarding pagination test checks the echoed `startIndex`.", &[ENTRA_DISCOVERY])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.list.start-index-ignored",
        title: "A page past the end is empty: `startIndex` is honoured",
        sources: &[RFC7644_3_4_2_4],
        okta: Some(c(E, "Okta pages imports with `startIndex` (+100 per page): a server that ignores it returns the first page again, so Okta imports duplicates and never sees the users beyond the first page.", &[OKTA_RETRIEVE_USERS, BUG_ITEMS_PER_PAGE])),
        entra: Some(c(W, "Entra's provisioning cycles do not page the app; its Account Discovery does and reports wrong results.", &[ENTRA_DISCOVERY])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.filter.no-match-404",
        title: "A filter that matches nothing answers 200 with an empty ListResponse, not 404",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(W, "Okta's runtime accepts a 404 Error here as \"not found\" and creates the user; its Spec test (#3, #5) expects 200 with totalResults 0 and fails.", &[OKTA_LOOKUP, OKTA_SPEC_TEST])),
        entra: Some(c(E, "Entra expects 200 and an empty ListResponse: a 404 here sends the job to quarantine (\"An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response\").", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_QUARANTINE, ENTRA_404_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.filter.ignored",
        title: "An `eq` filter returns only resources that match it",
        sources: &[RFC7644_3_4_2_2],
        okta: Some(c(E, "Okta links the first result of its `userName eq` lookup: the Okta user is tied to someone else's app account.", &[OKTA_LOOKUP, OKTA_FAQ_MATCHING])),
        entra: Some(c(E, "Entra matches the wrong account (or Test Connection, which filters for a random GUID, fails); changes flow to someone else's account.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.filter.attribute-case",
        title: "Attribute names in a filter match whatever their case",
        sources: &[RFC7644_3_4_2_2],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it names `userName` and `displayName` as its reference prints them.", &[OKTA_LOOKUP])),
        entra: Some(c(W, "Entra names `ID` in capitals in its manager check (the tutorial's reference check): a server that refuses it fails that check, and what Entra does then is not documented.", &[ENTRA_TUT_REFERENCE_CHECK])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.patch.add-no-target",
        title: "An `add` on a filtered path whose filter matches no element creates that element",
        sources: &[RFC7644_3_5_2_1, BUG_FILTERED_ADD, BUG_FILTERED_ADD_ENTRA],
        okta: Some(c(W, "An RFC rule Okta does not depend on: its PATCHes carry no filtered `add`.", &[OKTA_PATCH])),
        entra: Some(c(E, "Entra sends `Add` on `emails[type eq \"work\"].value` (and other filtered paths) for a value the user does not have yet: refused, the change escrows and is retried every cycle, and the app never gets the value.", &[ENTRA_COMPAT, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.null-unassigned",
        title: "A create with explicit `null` attributes is accepted (null means unassigned)",
        sources: &[RFC7643_2_5],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it leaves attributes without a value out of its creates.", &[OKTA_CREATE])),
        entra: Some(c(W, "Microsoft's tutorial prints Entra's create with `null` for unmapped attributes: a server that refuses it fails that create, though the current engine skips null attributes.", &[ENTRA_TUT_PROVISION_NULLS, ENTRA_KNOWN_ISSUES_NULLS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.query.excluded-attributes",
        title: "`excludedAttributes=members` leaves members out",
        sources: &[RFC7644_3_4_2_5],
        okta: Some(c(W, "Okta never sends excludedAttributes; an RFC rule it does not depend on.", &[])),
        entra: Some(c(E, "Entra reads groups with excludedAttributes=members: it logs SystemForCrossDomainIdentityManagementMultipleEntriesInResponse and fails the group (and large groups make every read huge).", &[ENTRA_TUT_GROUPS, ENTRA_LOGS])),
        ..BLANK
    },
    // ---- what the shipped scenarios' expectations check --------------------------------------
    Rule {
        id: "rfc7644.discovery.service-provider-config",
        title: "`/ServiceProviderConfig` answers the ServiceProviderConfig resource",
        sources: &[RFC7644_4, RFC7643_5],
        okta: Some(c(W, "An RFC rule Okta does not depend on: Okta never reads /ServiceProviderConfig.", &[OKTA_FAQ_UNSUPPORTED])),
        entra: Some(c(W, "An RFC rule Entra's provisioning does not depend on: it decides nothing from this document.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.discovery.schemas",
        title: "`/Schemas` answers a ListResponse of the schemas",
        sources: &[RFC7644_4, RFC7643_7],
        okta: Some(c(W, "Okta reads /Schemas only for SCIM 2.0 with entitlements.", &[OKTA_FAQ_UNSUPPORTED])),
        entra: Some(c(W, "Entra reads /Schemas only for some gallery apps (not custom apps) when an admin opens the provisioning configuration; Microsoft's gallery onboarding checks it.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.discovery.resource-types",
        title: "`/ResourceTypes` answers a ListResponse naming the User type",
        sources: &[RFC7644_4, RFC7643_6],
        okta: Some(c(W, "Okta reads /ResourceTypes only for SCIM 2.0 with entitlements.", &[OKTA_FAQ_UNSUPPORTED])),
        entra: Some(c(W, "An RFC rule Entra's provisioning does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.scim-type",
        title: "An error names its `scimType` where RFC 7644 defines one (uniqueness, invalidFilter, …)",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "An RFC rule Okta does not depend on: it goes by the status and shows `detail`.", &[OKTA_FAQ_ERRORS])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: it goes by the status.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.error.detail",
        title: "An error carries a `detail` message",
        sources: &[RFC7644_3_12],
        okta: Some(c(W, "Okta shows `detail` to admins in Tasks and Alerts; its Spec test (#4, #11, #12) asserts it.", &[OKTA_FAQ_ERRORS, OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra goes by the status; Microsoft's tutorial says the detail isn't required.", &[ENTRA_TUT_USERS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.read.not-found",
        title: "A read of an unknown or deleted id answers 404",
        sources: &[RFC7644_3_4_1, RFC7644_3_12],
        okta: Some(c(W, "Okta's Spec test (#4, #12) expects 404; Okta treats any failed read of a linked user as an error either way.", &[OKTA_SPEC_TEST, OKTA_RETRIEVE_USER])),
        entra: Some(c(W, "Entra expects 404 for an object that is gone (InvalidAnchor); another answer is retried as an error instead.", &[ENTRA_TUT_USERS, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.filter.invalid",
        title: "A malformed filter answers 400 invalidFilter",
        sources: &[RFC7644_3_4_2_2, RFC7644_3_12],
        okta: Some(c(W, "An RFC rule Okta does not depend on: Okta only sends well-formed `eq` filters.", &[OKTA_FAQ_MATCHING])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: Entra only sends well-formed `eq`/`and` filters.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.filter.missed",
        title: "An `eq` filter finds the resource the server holds",
        sources: &[RFC7644_3_4_2_2],
        okta: Some(c(E, "Okta's lookup misses the user or group: it POSTs it again, the create answers 409 and the assignment or push fails (or a duplicate appears).", &[OKTA_LOOKUP, OKTA_FAQ_MATCHING])),
        entra: Some(c(E, "Entra's matching misses the object: it creates it again, the create conflicts and the object is never linked.", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.auth.required",
        title: "A request without valid credentials answers 401",
        sources: &[RFC7644_2],
        okta: Some(c(W, "Okta always sends its credentials, so provisioning is not affected; but the server serves anyone its users, and Okta's Spec test (#11) expects 401.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Entra always sends its credentials, so provisioning is not affected; but the server serves anyone its users.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.members-not-stored",
        title: "A group created with `members` holds them",
        sources: &[RFC7644_3_3],
        okta: Some(c(W, "An RFC rule Okta does not depend on: Okta's group push PATCH-adds the members right after the create, even when the 201 showed none (its captured Group Push), and an App Integration Wizard app PUTs them.", &[OKTA_CREATE_GROUPS, OKTA_BLOG_FLASK])),
        entra: Some(c(W, "An RFC rule Entra does not depend on: Entra creates a group without members and adds them by PATCH.", &[ENTRA_TUT_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.create.not-stored",
        title: "A created resource holds what the create sent",
        sources: &[RFC7644_3_3],
        okta: Some(c(E, "Okta believes the app holds what it sent: the attributes stay missing in the app until they change in Okta (its CRUD test step 4 and Spec test #6/#7 check them).", &[OKTA_CREATE, OKTA_CRUD_TEST, OKTA_SPEC_TEST])),
        entra: Some(c(E, "Entra believes the app holds what it sent and does not resend it until the source changes (FlowWhenChanged).", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.patch.rejected",
        title: "A PATCH in a form RFC 7644 defines (and the IdPs send) is accepted",
        sources: &[RFC7644_3_5_2],
        okta: Some(c(E, "Okta sends these forms for deactivation, group membership and renames: the change fails and the app drifts out of sync.", &[OKTA_PATCH, OKTA_GROUP_MEMBERS])),
        entra: Some(c(E, "Entra sends these forms for updates and memberships: the change escrows and is retried every cycle; the app stays out of sync.", &[ENTRA_TUT_USERS, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.replace.rejected",
        title: "A PUT of a complete resource is accepted",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(E, "Okta sends every profile update as a PUT (and every update of AIW apps): they all fail.", &[OKTA_PUT, OKTA_FAQ_PATCH_PUT])),
        entra: Some(c(W, "Entra does not send PUT; an RFC rule it does not depend on.", &[])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.delete.rejected",
        title: "A DELETE of an existing resource succeeds",
        sources: &[RFC7644_3_6],
        okta: Some(c(W, "Okta never deletes users; it deletes a group only when an admin unlinks it with \"Delete the group in the target app\".", &[OKTA_DELETE_USERS, OKTA_DELETE_GROUP])),
        entra: Some(c(E, "Entra deletes hard-deleted users and unassigned groups: the account or group stays in the app and the delete is retried.", &[ENTRA_HOW, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "okta.spec-test.groups-endpoint",
        title: "`GET /Groups` answers 200 (Okta's Spec test #10, optional)",
        okta: Some(c(W, "Optional in Okta's Spec test: without /Groups, Group Push cannot be used with this app.", &[OKTA_SPEC_TEST, OKTA_RETRIEVE_GROUPS])),
        ..BLANK
    },
    // ---- writes that do not take effect -----------------------------------------------------
    Rule {
        id: "rfc7644.patch.not-applied",
        title: "A PATCH the server acknowledged (2xx) is applied",
        sources: &[RFC7644_3_5_2, BUG_SILENT_NOOP, BUG_PATHLESS, BUG_FILTERED_REMOVE],
        okta: Some(c(E, "Okta records the change as done and does not resend it: the app stays out of sync — a deactivated user keeps access, a removed member keeps the group, a renamed group keeps its old name.", &[OKTA_PATCH, OKTA_GROUP_MEMBERS, BUG_SILENT_NOOP])),
        entra: Some(c(E, "Entra records the change as flowed and does not resend it until the source changes again (FlowWhenChanged): the app stays out of sync.", &[ENTRA_HOW, ENTRA_CUSTOMIZE])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.patch.replace-empties-members",
        title: "A path-less `replace` that does not name `members` keeps the members",
        sources: &[RFC7644_3_5_2, BUG_RENAME_WIPES],
        okta: Some(c(E, "The app group loses its members: Okta sends its rename PATCH (a path-less replace of `id` and `displayName`) with every membership change, a server that reads it as \"members = []\" empties the group every time, and Okta does not notice.", &[OKTA_GROUP_NAME, BUG_RENAME_WIPES])),
        entra: Some(c(E, "The app group loses its members: with ?aadOptscim062020 Entra sends attribute updates as a path-less replace, and it does not re-read groups, so the members stay lost until a restart.", &[ENTRA_COMPAT, ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "rfc7644.replace.not-applied",
        title: "A PUT the server acknowledged (2xx) is applied",
        sources: &[RFC7644_3_5_1, BUG_SILENT_NOOP],
        okta: Some(c(E, "Okta records the push as done and does not resend these attributes: the app user or group stays out of sync.", &[OKTA_PUT, BUG_SILENT_NOOP])),
        entra: Some(c(E, "Entra does not send PUT; the app stays out of sync with what was sent.", &[])),
        ..BLANK
    },
    // ---- userName and inactive users ------------------------------------------------------------
    Rule {
        id: "rfc7643.username.case-insensitive",
        title: "A `userName eq` filter matches regardless of case",
        sources: &[RFC7643_4_1_1, RFC7643_2_1, BUG_USERNAME_CASE],
        okta: Some(c(E, "Okta's lookup misses the existing user: it POSTs and gets 409 (the assignment fails) or a second account appears; Okta's Spec test #9 checks it.", &[OKTA_LOOKUP, OKTA_DEVFORUM_27262, OKTA_SPEC_TEST])),
        entra: Some(c(E, "Entra's matching misses an account stored in another case: it creates it again, the create conflicts and the user is never linked; Microsoft's SCIM Validator checks it.", &[ENTRA_LOGS, ENTRA_VALIDATOR_CASE])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.username.unique",
        title: "`userName` is unique regardless of case: no answer lists two users with one userName",
        sources: &[RFC7643_4_1_1, RFC7643_2_1],
        okta: Some(c(E, "One person has two app accounts: Okta's `userName eq` lookup finds both and links one, so the other keeps its access and never gets Okta's updates or deactivation.", &[OKTA_LOOKUP, OKTA_FAQ_MATCHING])),
        entra: Some(c(E, "Entra's matching query finds more than one account: it logs DuplicateTargetEntries and does not provision the user.", &[ENTRA_LOGS, ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "rfc7643.username.case-preserved",
        title: "`userName` is stored exactly as sent (case preserved)",
        sources: &[RFC7643_4_1_1, BUG_USERNAME_PRESERVE],
        okta: Some(c(W, "Okta's lookups ignore case and keep working; its Spec test step 6 (userName equals the input exactly) fails, which blocks OIN submission.", &[OKTA_SPEC_TEST])),
        entra: Some(c(W, "Microsoft asks that values be stored exactly as sent; a reformatted value differs from the source on every read.", &[ENTRA_TUT_IMPLEMENTATION])),
        ..BLANK
    },
    Rule {
        id: "scim.inactive.filter-hides",
        title: "Filters still find users with `active: false`",
        sources: &[RFC7643_4_1_1, BUG_INACTIVE_HIDDEN],
        okta: Some(c(E, "On reactivation Okta looks the user up first: a hidden inactive user makes Okta POST it again, the server answers 409 and the reactivation fails (or a second account appears).", &[OKTA_LOOKUP, OKTA_DEVFORUM_27262])),
        entra: Some(c(E, "Microsoft requires soft-deleted users to stay findable by filter: Entra's restore or re-match finds nothing, POSTs, and the 409 leaves the user unlinked (EntryConflict every cycle).", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "scim.deactivate.deletes",
        title: "A user set to `active: false` stays on the server",
        sources: &[RFC7643_4_1_1, BUG_DEACTIVATE_404],
        okta: Some(c(E, "Okta deactivates, never deletes: the next reactivation or profile push gets 404 and stops, and Okta's CRUD test (#8, #13: the deactivated user must still be readable) fails.", &[OKTA_DELETE_USERS, OKTA_DEPROVISION, OKTA_CRUD_TEST])),
        entra: Some(c(E, "Entra soft-deletes with active=false and expects the user to stay readable: a restore finds nothing (InvalidAnchor, or a new POST that conflicts) and the user's data is gone.", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_HOW])),
        ..BLANK
    },
    // ---- Okta ---------------------------------------------------------------------------
    Rule {
        id: "okta.capability.ignored",
        title: "Okta provisions whatever /ServiceProviderConfig says",
        okta: Some(c(W, "Okta never reads /ServiceProviderConfig: it sends PATCH and filters anyway, and requests the server cannot serve fail the assignment or push.", &[OKTA_FAQ_UNSUPPORTED, OKTA_FAQ_PATCH_PUT])),
        ..BLANK
    },
    Rule {
        id: "okta.connector.failed",
        title: "Okta's connector test (`GET /Users?startIndex=1&count=2`, `GET /Groups?startIndex=1&count=100`) answers 200",
        okta: Some(c(E, "\"Test Connector Configuration\" fails and provisioning cannot be enabled.", &[OKTA_TEST_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "okta.lookup.failed",
        title: "Okta's user lookup (`userName eq`) answers 200",
        okta: Some(c(E, "Okta aborts the assignment after the lookup: the System Log shows `application.provision.user.sync FAILURE` and nothing is created.", &[OKTA_LOOKUP, OKTA_FAQ_MATCHING])),
        ..BLANK
    },
    Rule {
        id: "okta.import.failed",
        title: "Okta's import query (`startIndex`, `count=100`) answers 200",
        okta: Some(c(E, "Okta's import fails: no users or groups are scanned.", &[OKTA_RETRIEVE_USERS])),
        ..BLANK
    },
    Rule {
        id: "okta.group-lookup.failed",
        title: "Okta's group lookup (`displayName eq`, or the cached group list) answers 200",
        okta: Some(c(E, "Okta marks the group push Error and pushes no membership.", &[OKTA_RETRIEVE_GROUPS, OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.assign.failed",
        title: "Okta's create of an assigned user succeeds",
        okta: Some(c(E, "Okta fails the assignment (\"Automatic provisioning of user … failed: Error while creating user …\"); the task waits in Dashboard → Tasks.", &[OKTA_CREATE, OKTA_FAQ_ERRORS])),
        ..BLANK
    },
    Rule {
        id: "okta.assign.conflict",
        title: "Okta's lookup finds the users the app holds (no 409 after a lookup that found nothing)",
        okta: Some(c(E, "Okta's lookup found nothing, so it POSTed: the 409 fails the assignment and stops the job (\"User already exists\") and the Okta user stays unlinked.", &[OKTA_CREATE, OKTA_DEVFORUM_27262])),
        ..BLANK
    },
    Rule {
        id: "okta.assign.linked-existing",
        title: "A user the scenario expects Okta to create is not found by the lookup",
        okta: Some(c(E, "Okta links the existing account instead of creating one; nothing is created.", &[OKTA_LOOKUP])),
        ..BLANK
    },
    Rule {
        id: "okta.assign.lookup-missed",
        title: "Okta's lookup finds a user the app holds",
        okta: Some(c(E, "Okta POSTs a new user: the server answers 409 and the assignment fails, or a duplicate account appears.", &[OKTA_LOOKUP, OKTA_DEVFORUM_27262])),
        ..BLANK
    },
    Rule {
        id: "okta.user.unlinked",
        title: "Okta sends updates only for app users it created or linked",
        okta: Some(c(I, "Not sent: the user was never linked (an earlier step failed or did not assign it), and Okta updates, and grants entitlements to, only the app users it created or linked.", &[OKTA_LOOKUP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.unlinked",
        title: "Okta sends group changes only for groups it pushed or linked",
        okta: Some(c(I, "Not sent: the group was never pushed (an earlier step failed or did not push it), so Okta has nothing to update.", &[OKTA_CREATE_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "okta.import.family-name",
        title: "Imported users carry `name.familyName`",
        okta: Some(c(W, "Okta skips this user on import unless First and Last name are made optional in the Okta user profile.", &[OKTA_FIRST_LAST_OPTIONAL])),
        ..BLANK
    },
    Rule {
        id: "okta.import.summary",
        title: "What Okta's import saw",
        okta: Some(c(I, "Okta counts active:false users as removed and never imports them.", &[OKTA_DEPROVISION])),
        ..BLANK
    },
    Rule {
        id: "okta.import.missing-user",
        title: "Okta's import returns every user the app holds",
        okta: Some(c(E, "Okta's import does not see this app user: it cannot match it to an Okta user, and profile-sourced attributes stop flowing.", &[OKTA_RETRIEVE_USERS])),
        ..BLANK
    },
    Rule {
        id: "okta.user.gone",
        title: "A user Okta linked is still readable (`GET /Users/{id}`)",
        okta: Some(c(E, "Okta stops: the task shows \"profile updates have errors\"; it neither searches nor re-creates the user, and Retry repeats the GET.", &[OKTA_RETRIEVE_USER, OKTA_PUT])),
        ..BLANK
    },
    Rule {
        id: "okta.user.read-failed",
        title: "Okta's read before an update answers 200 with the user",
        okta: Some(c(E, "Okta has nothing to modify and send back: the update fails.", &[OKTA_PUT])),
        ..BLANK
    },
    Rule {
        id: "okta.put.readonly-rejected",
        title: "A PUT that carries read-only attributes (the server's own GET answer: id, meta, groups, …) is accepted",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(E, "Every Okta PUT fails, entitlement grants included: Okta echoes the server's representation (id, meta, groups, …) in its user PUTs and sends the group's id in AIW group PUTs, so a server that rejects read-only attributes on PUT never accepts an Okta update.", &[OKTA_PUT, OKTA_GROUP_MEMBERS])),
        ..BLANK
    },
    Rule {
        id: "okta.profile.failed",
        title: "Okta's profile push (PUT) succeeds",
        okta: Some(c(E, "Okta marks the profile push failed; the app keeps the old attribute values until the next change of the attribute.", &[OKTA_PUT])),
        ..BLANK
    },
    Rule {
        id: "okta.deactivate.failed",
        title: "Okta's deactivation succeeds",
        okta: Some(c(E, "Okta shows the deactivation task as failed; the app account stays active and the person keeps access.", &[OKTA_PATCH, OKTA_DELETE_USERS])),
        ..BLANK
    },
    Rule {
        id: "okta.reactivate.failed",
        title: "Okta's reactivation succeeds",
        okta: Some(c(E, "Okta shows the reactivation task as failed; the app account stays inactive.", &[OKTA_PATCH])),
        ..BLANK
    },
    Rule {
        id: "okta.patch.unsupported",
        title: "Okta's PATCH is not answered 501",
        okta: Some(c(E, "Okta does not fall back to PUT: the attempt fails and a Deprovision task waits for an admin.", &[OKTA_PATCH_501, OKTA_FAQ_PATCH_PUT])),
        ..BLANK
    },
    Rule {
        id: "okta.reactivate.lookup-missed",
        title: "Okta's lookup before a reactivation finds the deactivated user",
        okta: Some(c(E, "Okta treats the user as new and POSTs it: the server answers 409 and the reactivation fails, or a second account appears.", &[OKTA_LOOKUP, OKTA_DEVFORUM_27262])),
        ..BLANK
    },
    Rule {
        id: "okta.password.failed",
        title: "Okta's password push succeeds",
        okta: Some(c(E, "Okta shows the password push as failed; the app keeps the old password.", &[OKTA_PATCH])),
        ..BLANK
    },
    Rule {
        id: "okta.rate-limit.exhausted",
        title: "Throttling (429) ends within Okta's 10 attempts",
        okta: Some(c(E, "Okta gives up after 10 attempts and fails the task permanently; an admin has to retry it from the Tasks page.", &[OKTA_429])),
        ..BLANK
    },
    Rule {
        id: "okta.rate-limit.retry-after",
        title: "A 429 carries `Retry-After` in seconds",
        okta: Some(c(W, "Okta waits 5 minutes instead, and doubles the wait with every further 429.", &[OKTA_429])),
        ..BLANK
    },
    Rule {
        id: "okta.group.linked-existing",
        title: "A group the scenario expects Okta to create does not exist yet",
        okta: Some(c(E, "Okta links the existing app group instead of creating one, then overwrites its membership.", &[OKTA_RETRIEVE_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "okta.group.link-missed",
        title: "Okta's group lookup finds a group the app holds",
        okta: Some(c(E, "Okta creates a second group, or the create answers 409 and the push fails.", &[OKTA_RETRIEVE_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "okta.group.conflict",
        title: "Okta's group create does not conflict",
        okta: Some(c(E, "Okta marks the push Error; the recovery is to unlink with \"Leave the group in the target app\", import groups, then link.", &[OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.create-failed",
        title: "Okta's group create succeeds",
        okta: Some(c(E, "Okta marks the group push Error in Push Groups and pushes no membership for this group.", &[OKTA_CREATE_GROUPS, OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.membership-failed",
        title: "Okta's membership PATCH succeeds",
        okta: Some(c(E, "Okta marks the group push Error and stops pushing membership changes for this group; the app's group drifts until an admin retries (Push now).", &[OKTA_GROUP_MEMBERS, OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.rename-rejected",
        title: "Okta's rename PATCH (path-less replace of `id` and `displayName`) is accepted",
        okta: Some(c(E, "Okta marks the push Error and stops pushing memberships for this group; because Okta sends this rename with every membership change, no membership update gets through.", &[OKTA_GROUP_NAME, OKTA_GROUP_PUSH_HELP, BUG_RENAME_ID_REJECTED])),
        ..BLANK
    },
    Rule {
        id: "okta.group.read-failed",
        title: "Okta's read of a pushed group (before its PUT) answers 200",
        okta: Some(c(E, "Okta marks the group push Error; the app's group drifts until an admin retries.", &[OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.put-failed",
        title: "Okta's group PUT (the full member list) succeeds",
        okta: Some(c(E, "Okta marks the group push Error and stops pushing membership changes for this group.", &[OKTA_GROUP_MEMBERS, OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.push-now-failed",
        title: "Okta's Push now (PATCH replace of `members`) succeeds",
        okta: Some(c(E, "Push now fails: the app's group keeps its drifted membership.", &[OKTA_GROUP_MEMBERS, OKTA_GROUP_PUSH_HELP])),
        ..BLANK
    },
    Rule {
        id: "okta.group.delete-failed",
        title: "Okta's group DELETE (unlink with delete) succeeds",
        okta: Some(c(E, "Okta shows the unlink as failed; the group stays in the app with its members' access.", &[OKTA_DELETE_GROUP])),
        ..BLANK
    },
    // ---- Microsoft Entra ID ---------------------------------------------------------------
    Rule {
        id: "entra.test-connection.failed",
        title: "Entra's Test Connection (a filter for a random GUID, no Accept, no User-Agent) answers 200",
        entra: Some(c(E, "Test Connection fails (\"You appear to have entered invalid credentials\"): provisioning cannot be started.", &[ENTRA_TUT_IMPLEMENTATION, ENTRA_NO_ACCEPT, BUG_NO_USER_AGENT])),
        ..BLANK
    },
    Rule {
        id: "entra.lookup.failed",
        title: "Entra's matching query answers 200",
        entra: Some(c(E, "Entra cannot match the object: it is not provisioned and the failure is retried on later cycles (and escrows).", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "entra.lookup.duplicate",
        title: "At most one resource matches Entra's matching attribute",
        entra: Some(c(E, "Entra logs DuplicateTargetEntries and cannot link the object; it stays unprovisioned until the duplicates are removed.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "entra.match.no-value",
        title: "Every object has a value for a matching attribute",
        entra: Some(c(E, "Entra logs ImportSkipped: the object is never provisioned (a scenario's data problem, not the server's).", &[ENTRA_LOGS, ENTRA_CUSTOMIZE])),
        ..BLANK
    },
    Rule {
        id: "entra.mapping.evaluation",
        title: "The attribute mappings evaluate",
        entra: Some(c(E, "Entra cannot compute the target values: the object is skipped with an error in the provisioning logs (a scenario's mapping problem, not the server's).", &[ENTRA_FUNCTIONS])),
        ..BLANK
    },
    Rule {
        id: "entra.create.conflict",
        title: "Entra's matching finds what the server holds (no 409 after a match that found nothing)",
        entra: Some(c(E, "Entra's match found nothing, yet the create conflicts: Entra logs Conflict/EntryConflict, retries every cycle and never links the account.", &[ENTRA_LOGS, BUG_INACTIVE_HIDDEN])),
        ..BLANK
    },
    Rule {
        id: "entra.create.failed",
        title: "Entra's create succeeds",
        entra: Some(c(E, "Entra logs the failure and retries the create on later cycles; the object is missing from the app meanwhile.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "entra.update.invalid-anchor",
        title: "An object Entra linked is still readable",
        entra: Some(c(E, "Entra logs InvalidAnchor: the account it linked is gone from the app; provisioning on demand (or a restart) re-matches and re-creates it.", &[ENTRA_LOGS, ENTRA_POD])),
        ..BLANK
    },
    Rule {
        id: "entra.update.read-failed",
        title: "Entra's read of a linked object answers 200",
        entra: Some(c(E, "Entra cannot compare the object with its source; the update is retried on later cycles.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.rejected",
        title: "Entra's incremental PATCH is accepted",
        entra: Some(c(E, "Entra escrows the change and retries it every cycle; the app keeps the old values and, when most operations fail, the job goes to quarantine.", &[ENTRA_LOGS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.string-boolean-rejected",
        title: "A default-mode PATCH with a string boolean (\"True\"/\"False\") is accepted",
        sources: &[ENTRA_COMPAT],
        entra: Some(c(E, "Without ?aadOptscim062020 Entra sends booleans as the strings \"True\"/\"False\" in PATCH: disables and restores never apply, the user stays active in the app, the errors escrow and the job ends in quarantine. Parse boolean strings case-insensitively, or add ?aadOptscim062020 to the Tenant URL.", &[ENTRA_COMPAT, ENTRA_STRING_BOOLEAN])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.manager-rejected",
        title: "Entra's manager PATCH (a bare id string on the enterprise manager path) is accepted",
        entra: Some(c(E, "A reference failure: Entra retries it every cycle and the manager never converges in the app.", &[ENTRA_MANAGER_STRING, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.manager.check-failed",
        title: "Entra's manager check (`ID eq … and manager eq …`) answers a ListResponse",
        sources: &[ENTRA_TUT_REFERENCE_CHECK],
        entra: Some(c(I, "Entra reads the manager before it writes one; what it does when that query fails is not documented: idpsim writes the manager anyway.", &[ENTRA_TUT_REFERENCE_CHECK])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.add-members",
        title: "Entra's member-add PATCH is accepted",
        entra: Some(c(E, "A reference failure: the users stay out of the group in the app; Entra retries on later cycles.", &[ENTRA_TUT_GROUPS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.remove-member",
        title: "Entra's member removal (`remove`, path `members[value eq \"…\"]`) is accepted",
        sources: &[RFC7644_3_5_2_2],
        entra: Some(c(E, "A reference failure: the user stays in the group in the app while Entra escrows the change and retries it every cycle.", &[ENTRA_COMPAT, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.remove-member-default-mode",
        title: "Entra's default-mode member removal (`Remove`, path `members`, a `value` array) is accepted",
        sources: &[ENTRA_COMPAT],
        entra: Some(c(E, "Without ?aadOptscim062020 Entra sends this Remove form: a server that rejects it keeps stale members while Entra escrows the change and retries it every cycle. Accept the form (remove only the listed values) or add ?aadOptscim062020 to the Tenant URL.", &[ENTRA_COMPAT, ENTRA_TUT_GROUPS])),
        ..BLANK
    },
    Rule {
        id: "entra.patch.remove-member-emptied-group",
        title: "Entra's default-mode member removal removes only the listed members",
        sources: &[ENTRA_COMPAT, RFC7644_3_5_2_2],
        entra: Some(c(E, "Entra believes the other members are still in the group and never re-adds them (it does not re-read groups): they lose the group's access until a restart or provisioning on demand. Remove only the listed values, or add ?aadOptscim062020 to the Tenant URL.", &[ENTRA_REMOVE_ALL, ENTRA_COMPAT])),
        ..BLANK
    },
    Rule {
        id: "entra.delete.failed",
        title: "Entra's DELETE succeeds",
        entra: Some(c(E, "Entra logs the failure and retries; the account stays in the app meanwhile.", &[ENTRA_LOGS, ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "entra.throttle.exhausted",
        title: "Throttling (429) ends within Entra's retries",
        entra: Some(c(E, "Entra logs TooManyRequests; failures beyond the escrow thresholds quarantine the job.", &[ENTRA_LOGS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.throttle.retried",
        title: "Entra waits and retries a 429",
        entra: Some(c(I, "Entra logs TooManyRequests, waits for the Retry-After period and retries only the failed request.", &[ENTRA_LOGS])),
        ..BLANK
    },
    Rule {
        id: "entra.retry.server-error",
        title: "Entra retries a 5xx on the next cycle",
        entra: Some(c(I, "Entra logs InternalServerError and retries the object in 40 minutes; repeated failures escrow and quarantine the job.", &[ENTRA_LOGS, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "entra.cycle.skipped",
        title: "Entra skips an object it does not provision",
        entra: Some(c(I, "Entra logs EntrySynchronizationSkipped; nothing is sent.", &[ENTRA_LOGS, ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "entra.cycle.relinked",
        title: "Entra re-links an object its match found under another id",
        entra: Some(c(I, "Entra takes the matched object's id as its new anchor.", &[ENTRA_POD])),
        ..BLANK
    },
    Rule {
        id: "entra.delete.not-sent",
        title: "Entra sends no DELETE for a user that left scope earlier",
        entra: Some(c(I, "A known limitation: the account stays in the app, inactive, as an orphan.", &[ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "entra.reference.unresolved",
        title: "Entra writes a manager only once the manager is provisioned",
        entra: Some(c(I, "Entra leaves the reference unset until a restart.", &[ENTRA_HOW])),
        ..BLANK
    },
    Rule {
        id: "entra.pod.member-limit",
        title: "Provisioning on demand adds at most 5 members",
        entra: Some(c(I, "The remaining members wait for the next cycle.", &[ENTRA_POD])),
        ..BLANK
    },
    // ---- state (`expect_server`) ----------------------------------------------------------
    Rule {
        id: "state.unlinked",
        title: "`expect_server` names an object the IdP linked",
        any: Some(c(I, "Not checked: the IdP never linked this object (an earlier step failed or did not provision it).", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "state.missing",
        title: "An object the IdP believes exists is on the server",
        okta: Some(c(E, "Okta believes the account exists: its next profile push fails with \"Not Found\" and the user drifts out of sync.", &[OKTA_RETRIEVE_USER])),
        entra: Some(c(E, "Entra believes the account exists (its anchor): the next cycle fails with InvalidAnchor.", &[ENTRA_LOGS])),
        generic: Some(c(E, "The IdP believes the object exists on the server.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "state.unexpected",
        title: "An object the IdP believes deleted is gone from the server",
        okta: Some(c(E, "Okta no longer manages this account: it stays in the app until someone deletes it there.", &[OKTA_DELETE_GROUP])),
        entra: Some(c(E, "Entra no longer manages this account: it stays in the app as an orphan.", &[ENTRA_HOW])),
        generic: Some(c(E, "The IdP no longer manages this object: it stays in the app as an orphan.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "state.attribute",
        title: "The server holds the attribute values the IdP believes it holds",
        okta: Some(c(E, "Okta believes the app holds this value: the app user is out of sync until the next push of this attribute.", &[OKTA_PUT])),
        entra: Some(c(E, "Entra believes the app holds this value and will not resend it until the source attribute changes (FlowWhenChanged).", &[ENTRA_HOW])),
        generic: Some(c(E, "The server's state differs from what the IdP believes.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "state.members",
        title: "The server holds the group members the IdP believes it holds",
        okta: Some(c(E, "The Okta group and the app's group are out of sync; in Okta, Push Groups → Push now repairs it.", &[OKTA_GROUP_PUSH_HELP])),
        entra: Some(c(E, "Entra believes these are the members; it does not re-read the group, so the drift persists until a restart or provisioning on demand.", &[ENTRA_HOW, ENTRA_POD])),
        generic: Some(c(E, "The server's members differ from what the IdP believes.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    // ---- audit ------------------------------------------------------------------------------
    Rule {
        id: "audit.read",
        title: "The audit can read the server's users and groups",
        any: Some(c(E, "The audit could not read what the server holds, so drift cannot be ruled out.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.user.missing",
        title: "A user the IdP believes exists is on the server",
        okta: Some(c(E, "Okta believes the account exists; its next profile push fails with \"Not Found\" and the user stays out of sync until it is unassigned and reassigned.", &[OKTA_RETRIEVE_USER])),
        entra: Some(c(E, "Entra believes the account exists (its anchor); the next cycle fails with InvalidAnchor.", &[ENTRA_LOGS])),
        generic: Some(c(E, "The IdP believes this user exists on the server.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.user.extra",
        title: "The server holds no user the IdP does not manage (`--strict`)",
        okta: Some(c(E, "Okta no longer manages this account (deleting a deactivated Okta user sends nothing); it stays in the app until someone deletes it there.", &[OKTA_DEPROVISION])),
        entra: Some(c(E, "Entra no longer manages this account; it remains in the app as an orphan.", &[ENTRA_HOW])),
        generic: Some(c(E, "The server holds a user the IdP does not manage.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.user.active",
        title: "A user's `active` on the server is what the IdP believes",
        okta: Some(c(E, "Okta believes the app account is in this state; it will not resend it until the assignment changes.", &[OKTA_PATCH])),
        entra: Some(c(E, "Entra will not resend this value until the source changes (FlowWhenChanged); provision on demand to repair it.", &[ENTRA_HOW, ENTRA_POD])),
        generic: Some(c(E, "The server's `active` differs from what the IdP believes.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.user.attribute",
        title: "A user's attributes on the server are what the IdP believes",
        okta: Some(c(E, "Okta believes the app holds this value; it stays out of sync until the next push of this attribute.", &[OKTA_PUT])),
        entra: Some(c(E, "Entra will not resend this value until the source changes (FlowWhenChanged); provision on demand to repair it.", &[ENTRA_HOW, ENTRA_POD])),
        generic: Some(c(E, "The server's state differs from what the IdP believes.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.group.missing",
        title: "A group the IdP believes exists is on the server",
        okta: Some(c(E, "Okta believes the group is pushed; membership pushes fail until the group is unlinked and pushed again.", &[OKTA_GROUP_PUSH_HELP])),
        entra: Some(c(E, "Entra believes the group exists (its anchor); membership updates fail until the group is provisioned again.", &[ENTRA_LOGS])),
        generic: Some(c(E, "The IdP believes this group exists on the server.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.group.extra",
        title: "The server holds no group the IdP does not manage (`--strict`)",
        okta: Some(c(E, "Okta no longer manages this group; it stays in the app until someone deletes it there.", &[OKTA_DELETE_GROUP])),
        entra: Some(c(E, "Entra no longer manages this group; it remains in the app as an orphan.", &[ENTRA_HOW])),
        generic: Some(c(E, "The server holds a group the IdP does not manage.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.group.attribute",
        title: "A group's attributes on the server are what the IdP believes",
        okta: Some(c(E, "Okta believes the app holds this value; it stays out of sync until the next push.", &[OKTA_GROUP_NAME])),
        entra: Some(c(E, "Entra will not resend this value until the source changes (FlowWhenChanged); provision on demand to repair it.", &[ENTRA_HOW, ENTRA_POD])),
        generic: Some(c(E, "The server's state differs from what the IdP believes.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    Rule {
        id: "audit.group.members",
        title: "A group's members on the server are what the IdP believes",
        okta: Some(c(E, "The Okta group and the app's group are out of sync; Push Groups → Push now overwrites the membership from Okta.", &[OKTA_GROUP_PUSH_HELP])),
        entra: Some(c(E, "Entra believes these are the members and does not re-read the group; the drift persists until provisioning on demand or a restart.", &[ENTRA_HOW, ENTRA_POD])),
        generic: Some(c(E, "The server's members differ from what the IdP believes.", &[IDPSIM_AUDIT])),
        ..BLANK
    },
    // ---- scenario expectations without a rule -------------------------------------------------
    Rule {
        id: "expect.status",
        title: "The status is what the scenario's `expect:` says",
        any: Some(c(E, "The scenario's own expectation (it names no rule, so idpsim cannot say what the IdP does with this answer).", &[IDPSIM_SCENARIOS])),
        ..BLANK
    },
    Rule {
        id: "expect.header",
        title: "A header is what the scenario's `expect:` says",
        any: Some(c(E, "The scenario's own expectation (it names no rule, so idpsim cannot say what the IdP does with this answer).", &[IDPSIM_SCENARIOS])),
        ..BLANK
    },
    Rule {
        id: "expect.body",
        title: "The body matches the scenario's `expect:`",
        any: Some(c(E, "The scenario's own expectation (it names no rule, so idpsim cannot say what the IdP does with this answer).", &[IDPSIM_SCENARIOS])),
        ..BLANK
    },
    // ---- scenario problems --------------------------------------------------------------------
    Rule {
        id: "scenario.template",
        title: "The step's templates render",
        any: Some(c(E, "idpsim could not build this step, usually because an earlier capture is missing: no IdP consequence of its own.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "scenario.capture",
        title: "A `capture:` finds its value in the answer",
        any: Some(c(E, "Later steps that use the value cannot run: no IdP consequence of its own.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "scenario.action",
        title: "An IdP action names something the IdP knows",
        any: Some(c(E, "idpsim could not run the action: a problem of the scenario, not of the server.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    Rule {
        id: "scenario.audit",
        title: "An `audit` step has something to audit",
        any: Some(c(E, "A problem of the scenario, not of the server: add `users:`/`groups:` to the audit step, or audit after the IdP has provisioned something.", NOT_SERVERS_FAULT)),
        ..BLANK
    },
    // ---- cleanup --------------------------------------------------------------------------
    Rule {
        id: "cleanup.delete",
        title: "idpsim can delete what the run created",
        any: Some(c(W, "What the run created is left on the server; it does not change what the scenario proved.", &[IDPSIM_CLEANUP])),
        ..BLANK
    },
    Rule {
        id: "cleanup.not-deleted",
        title: "A resource whose DELETE was acknowledged is gone (a read answers 404)",
        sources: &[RFC7644_3_6],
        // The finding's own severity and sentence depend on the resource too (Okta never
        // deletes users, so for Okta users it is info: `run::Runner`'s delete check); these are
        // the group/any-resource ones.
        okta: Some(c(W, "Okta deletes an app group when it is unlinked with delete and takes it as gone; the server keeps it, so a later push of the same name links the old group, members and all.", &[IDPSIM_CLEANUP])),
        entra: Some(c(W, "Entra's hard delete (and unassignment set to delete) sends this DELETE and takes the object as gone; the server keeps it, so the account stays in the app and Entra's next match by the same attribute finds it again.", &[IDPSIM_CLEANUP])),
        generic: Some(c(W, "RFC 7644 §3.6: a service provider may keep a deleted resource but must answer 404 for it from then on; an IdP that deleted it finds it again.", &[IDPSIM_CLEANUP])),
        ..BLANK
    },
    Rule {
        id: "cleanup.unverified",
        title: "idpsim can read a deleted resource back, to tell that it is gone",
        sources: &[RFC7644_3_6],
        // idpsim's own check, not IdP traffic: the server acknowledged the DELETE and no IdP
        // sends this read, so what it costs is the run's certainty about its cleanup.
        any: Some(c(I, "The server acknowledged the DELETE; idpsim's own read-back (which no IdP sends) got no usable answer, so whether the run's test resource is gone is unknown. Look it up and delete it by hand if it is still there.", &[IDPSIM_CLEANUP])),
        ..BLANK
    },
    Rule {
        id: "cleanup.left-behind",
        title: "Cleanup finishes within the grace period after a signal",
        any: Some(c(W, "The run leaves this on the server: a resource it created and could not delete in time, or what a write the signal cut off may have created or changed. Look for it and delete it by hand (or re-run with a longer --grace-period).", &[IDPSIM_CLEANUP])),
        ..BLANK
    },

    Rule {
        id: "scim.entitlements.resource-types",
        title: "`/ResourceTypes` answers a ListResponse of resource types, each with an `endpoint` relative to the base URL (Okta's entitlement discovery starts there)",
        sources: &[RFC7644_4, RFC7643_6],
        okta: Some(c(E, "Okta's entitlement discovery starts at /ResourceTypes and calls the endpoint each Role or Entitlement type declares: without a ListResponse it discovers no roles or entitlements and the app's Governance tab stays empty; a type without a usable endpoint is not imported and stays off the tab.", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.none",
        title: "An app without roles or entitlements: the entitlement scenarios do not apply",
        sources: &[OKTA_ENT_GUIDE],
        okta: Some(c(I, "Okta offers entitlement management only for an app whose /ResourceTypes declares Role or Entitlement types; for this one it shows no Governance tab and sends none of this traffic, so the scenario is skipped.", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.not-declared",
        title: "A ResourceType with Okta's Role or Entitlement schema URN declares each entitlement type",
        sources: &[OKTA_ENT_GUIDE, DRAFT_ROLES_ENTITLEMENTS],
        okta: Some(c(E, "Okta reads values only from resource types whose `schema` is urn:okta:scim:schemas:core:1.0:Role or …:Entitlement (the draft's URNs are not read): any other type is not discovered, does not appear on the app's Governance tab and cannot be granted; with none, the tab lists no entitlements.", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.discovery.extension-schema-missing",
        title: "/Schemas defines every schema extension /ResourceTypes declares that Okta does not know",
        sources: &[RFC7643_6, RFC7643_7],
        okta: Some(c(E, "Okta asks /Schemas only for the extensions it does not know and builds the app profile from the answer: the attributes of these extensions never reach Okta (custom entitlement properties, custom user attributes).", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.list",
        title: "Each entitlement endpoint answers 200 with a ListResponse of its values",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(E, "Okta's entitlement discovery cannot read this type: its values never appear on the app's Governance tab and cannot be granted, and Okta's Entitlements Test fails.", &[OKTA_ENT_GUIDE, OKTA_ENT_TEST])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.value-fields",
        title: "Every role or entitlement value carries `id` and `displayName`",
        sources: &[OKTA_ENT_SCHEMAS],
        okta: Some(c(E, "Okta stores `id` and shows `displayName` (not the IETF draft's `value` and `display`): values without them are not imported and cannot be granted.", &[OKTA_ENT_SCHEMAS, DRAFT_ROLES_ENTITLEMENTS])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.paging",
        title: "Entitlement values page by startIndex without repeats and up to totalResults",
        sources: &[RFC7644_3_4_2_4],
        okta: Some(c(E, "Okta pages through the values with startIndex and stops at an empty page: a server that ignores startIndex makes Okta read the same values again and miss the rest, and the values past an early empty page never appear on the Governance tab.", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.page-size",
        title: "`count=1&startIndex=1` answers one value with itemsPerPage 1 (Okta's Entitlements Test)",
        sources: &[RFC7644_3_4_2_4, OKTA_ENT_TEST],
        okta: Some(c(W, "Okta's Entitlements Test fails its `itemsPerPage` equals 1 assertion, which an OIN submission with Entitlement Management needs; Okta's runtime import still reads the values.", &[OKTA_ENT_TEST])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.list-schema",
        title: "An entitlement list's `schemas` contains the ListResponse URN (Okta's Entitlements Test)",
        sources: &[RFC7644_3_4_2, OKTA_ENT_TEST],
        okta: Some(c(W, "Okta's Entitlements Test fails its assertion that `schemas` has the value urn:ietf:params:scim:api:messages:2.0:ListResponse, which an OIN submission with Entitlement Management needs; Okta's runtime import reads the values anyway.", &[OKTA_ENT_TEST])),
        ..BLANK
    },
    Rule {
        id: "scim.entitlements.empty",
        title: "An entitlement endpoint lists at least one value (Okta's Entitlements Test)",
        sources: &[OKTA_ENT_TEST],
        okta: Some(c(W, "Okta's Entitlements Test fails its assertion that `Resources` is not empty, which an OIN submission with Entitlement Management needs; Okta discovers the type with nothing to grant.", &[OKTA_ENT_TEST])),
        ..BLANK
    },
    Rule {
        id: "scim.assignment.rejected",
        title: "The PUT that grants or revokes a role or entitlement is accepted",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(E, "Okta Identity Governance marks the entitlement change failed and the app user keeps its previous access; the error shows on the app's provisioning tasks.", &[OKTA_ENT_WORKSHOP])),
        ..BLANK
    },
    Rule {
        id: "scim.assignment.not-applied",
        title: "An acknowledged grant or revocation is what the server then holds",
        sources: &[RFC7644_3_5_1],
        okta: Some(c(E, "Okta shows the grant as applied while the app keeps the previous access: access reviews and revocations are wrong from here on.", &[OKTA_ENT_WORKSHOP])),
        ..BLANK
    },
    Rule {
        id: "okta.entitlements.summary",
        title: "What Okta's entitlement discovery found",
        okta: Some(c(I, "The types and values Okta would show on the app's Governance tab.", &[OKTA_ENT_GUIDE])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.not-stored",
        title: "Custom extension attributes the IdP sends are stored and returned",
        sources: &[RFC7643_3_3, BUG_EXTENSION_PATCH_IGNORED],
        okta: Some(c(E, "Okta records the push as successful and will not resend the attribute until it changes in Okta: the app never holds it and the app user stays out of sync.", &[OKTA_ENT_USER, OKTA_KB_CUSTOM_NAMESPACE])),
        entra: Some(c(E, "Entra records the attribute as provisioned; the app never holds it. Entra re-sends it with every later change of the user and the app stays out of sync (FlowWhenChanged compares with what Entra flowed, not with the app). An update of such an attribute that the server refuses instead (it does not define the attribute) fails and is retried every cycle until persistent failures quarantine the job.", &[ENTRA_CUSTOMIZE, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.unsupported",
        title: "The server supports the custom extension whose attributes the IdP sends",
        sources: &[RFC7643_3, RFC7643_3_3, SCIM_SDK_539],
        okta: Some(c(E, "Okta sends the custom namespace's attributes whatever the server supports: a create or profile push the server acknowledges loses them (Okta records the push as successful and will not resend them until they change), one it refuses fails the assignment or the push (the task waits in Dashboard → Tasks). The app never holds them: add the extension to the server, or remove the attributes from the app's profile in Okta.", &[OKTA_KB_CUSTOM_NAMESPACE, OKTA_FAQ_ERRORS])),
        entra: Some(c(E, "Entra never reads /Schemas for a custom app and sends the mapped attributes anyway: a create or update the server acknowledges loses them (Entra records them as provisioned and re-sends them with every later change of the user), an update it refuses fails and is retried every cycle until persistent failures quarantine the job. The app never holds them: add the extension to the server, or remove the mappings.", &[ENTRA_CUSTOMIZE, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.not-advertised",
        title: "/Schemas advertises every custom extension attribute the IdP is mapped to send",
        sources: &[RFC7643_7],
        okta: Some(c(E, "With user schema discovery (Okta Identity Governance) Okta builds the app user profile from /Schemas: an attribute it does not list is never mapped or sent.", &[OKTA_ENT_DISCOVERY])),
        entra: Some(c(W, "Microsoft's gallery onboarding validation (Schema_Discoverability_Test) fails for every mapped attribute /Schemas does not list; Entra's provisioning itself still sends it.", &[ENTRA_LA_TESTS])),
        ..BLANK
    },
    Rule {
        id: "entra.roles.rejected",
        title: "App roles are accepted in the form Microsoft documents for the role functions",
        sources: &[RFC7643_4_1_2, ENTRA_ROLES],
        entra: Some(c(E, "Entra sends this form for every user the role mapping covers: each one fails, is retried every cycle and escrows (persistent failures quarantine the job), and no user gets the role in the app. Accept the roles as the page prints them: `display` or `displayName` beside `value`, `type` and `primary`, and in default mode an element whose `value` is the assignment as JSON text (use its `value`).", &[ENTRA_ROLES, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.unlisted-rejected",
        title: "A body with custom extension attributes whose URN is not in `schemas` is accepted",
        sources: &[RFC7643_3],
        entra: Some(c(E, "Entra never lists a custom extension in `schemas` (Microsoft Learn: the custom extension schema header isn't sent): every create of a user with a custom attribute fails, is retried every cycle, and persistent failures escrow and quarantine the job.", &[ENTRA_CUSTOMIZE, ENTRA_CUSTOM_NO_SCHEMA, ENTRA_QUARANTINE])),
        okta: Some(c(E, "Okta fails the assignment or the profile push (\"Automatic provisioning of user … failed: Error while creating user …\"); the task waits in Dashboard → Tasks and the app user is not created or updated.", &[OKTA_CREATE, OKTA_FAQ_ERRORS, OKTA_ENT_USER, OKTA_KB_CUSTOM_NAMESPACE])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.patch-rejected",
        title: "A PATCH that addresses a custom extension attribute by its URN is accepted",
        sources: &[RFC7644_3_5_2, BUG_EXTENSION_URN_PATH, BUG_EXTENSION_PATHLESS_URN],
        entra: Some(c(E, "Entra addresses custom attributes by URN path (default mode) or as URN keys of a path-less value map (aadOptscim062020): every update of them fails and is retried every cycle; the app keeps the stale value.", &[ENTRA_CUSTOMIZE, ENTRA_COMPAT])),
        ..BLANK
    },
    Rule {
        id: "scim.custom-attribute.rejected",
        title: "A write carrying custom extension attributes is accepted",
        sources: &[RFC7643_3_3],
        okta: Some(c(E, "Okta fails the assignment or the profile push (\"Automatic provisioning of user … failed: Error while creating user …\"); the task waits in Dashboard → Tasks and the app user is not created or updated.", &[OKTA_CREATE, OKTA_FAQ_ERRORS, OKTA_ENT_USER, OKTA_KB_CUSTOM_NAMESPACE])),
        entra: Some(c(E, "Entra fails the object and retries it every cycle; persistent failures escrow and quarantine the job.", &[ENTRA_CUSTOMIZE, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "scim.manager.remove-rejected",
        title: "Entra's manager removal (replace with \"\" or remove manager[value eq …]) is accepted",
        sources: &[RFC7644_3_5_2_2],
        entra: Some(c(E, "The app keeps the old manager; Entra logs the failure, retries the removal every cycle and the error escrows. Entra sends the removal in both forms (a `remove` with a value filter, and a `replace` with an empty string): accept both.", &[ENTRA_LA_TESTS, SCIM_PATCH_453, ENTRA_QUARANTINE])),
        ..BLANK
    },
    Rule {
        id: "scim.manager.not-removed",
        title: "An acknowledged manager removal leaves no manager",
        sources: &[RFC7644_3_5_2_2],
        entra: Some(c(E, "Entra believes the manager is cleared and does not send the removal again: the app keeps a manager the directory no longer has until the manager changes again (Microsoft's SCIM_Update_Manager_Test reads it back and expects null or empty).", &[ENTRA_LA_TESTS])),
        ..BLANK
    },
    Rule {
        id: "scim.assignment.not-imported",
        title: "An import lists each user with the roles and entitlements Okta granted",
        sources: &[RFC7644_3_4_2],
        okta: Some(c(E, "Okta reads a user's roles and entitlements from the imported user: after the import the app user shows without that access in Okta (View entitlements, the Governance tab), so access reviews and certifications miss what the app grants.", &[OKTA_ENT_GUIDE, OKTA_ENT_WORKSHOP])),
        ..BLANK
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.split('.').count() >= 2
                    && r.id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
                "malformed rule id {}",
                r.id
            );
            assert!(!r.title.is_empty(), "{} has no title", r.id);
        }
    }

    /// Shared-fault rules that only some IdP profiles' actions emit: Okta's entitlement
    /// discovery and grants, Entra's manager removal and URN-path PATCH, custom attributes
    /// (both IdPs' actions, never a raw step).
    const ONE_PROFILE: &[(&str, &[Idp])] = &[
        ("scim.entitlements.", &[Idp::Okta]),
        ("scim.assignment.", &[Idp::Okta]),
        ("scim.discovery.extension-schema-missing", &[Idp::Okta]),
        ("scim.manager.", &[Idp::Entra]),
        ("scim.custom-attribute.patch-rejected", &[Idp::Entra]),
        ("scim.custom-attribute.", &[Idp::Okta, Idp::Entra]),
    ];

    /// Every rule says what each IdP that can emit it does: IdP rules for their IdP, shared
    /// rules (RFC, HTTP, transport, state, audit) for both IdPs and for raw scenarios.
    #[test]
    fn every_rule_has_the_consequences_its_emitters_need() {
        for r in RULES {
            let prefix = r.id.split('.').next().unwrap_or("");
            let needs: &[Idp] = match prefix {
                "okta" => &[Idp::Okta],
                "entra" => &[Idp::Entra],
                _ => match ONE_PROFILE.iter().find(|(p, _)| r.id.starts_with(p)) {
                    Some((_, idps)) => idps,
                    None => &[Idp::Okta, Idp::Entra, Idp::Generic],
                },
            };
            for idp in needs {
                let cons = r.consequence(*idp);
                assert!(cons.is_some(), "{} has no consequence for {idp:?}", r.id);
                assert!(
                    !r.judge(*idp).impact.is_empty(),
                    "{} has an empty consequence for {idp:?}",
                    r.id
                );
            }
            if prefix == "okta" {
                assert!(
                    r.entra.is_none() && r.generic.is_none(),
                    "{} is Okta's",
                    r.id
                );
            }
            if prefix == "entra" {
                assert!(
                    r.okta.is_none() && r.generic.is_none(),
                    "{} is Entra's",
                    r.id
                );
            }
        }
    }

    /// A consequence speaks for its own IdP: Okta's never mentions Entra and the reverse
    /// (the bug this catalogue fixes: an Entra scenario's finding said "Okta aborts …").
    #[test]
    fn consequences_speak_for_their_own_idp() {
        for r in RULES {
            if let Some(o) = r.okta {
                assert!(
                    !o.impact.contains("Entra"),
                    "{}: Okta's consequence names Entra",
                    r.id
                );
            }
            if let Some(e) = r.entra {
                assert!(
                    !e.impact.contains("Okta"),
                    "{}: Entra's consequence names Okta",
                    r.id
                );
            }
        }
    }

    /// Citations a user can follow: an RFC section or a public URL, never the research notes
    /// that do not ship (`okta.md`, `entra.md`), and documents of our own only if they exist.
    #[test]
    fn every_citation_can_be_opened() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let all = RULES.iter().flat_map(|r| {
            r.sources.iter().chain(
                [r.okta, r.entra, r.generic, r.any]
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c.sources.iter()),
            )
        });
        for s in all {
            assert!(
                !s.label.contains("okta.md") && !s.label.contains("entra.md"),
                "{s:?}"
            );
            if s.url.starts_with("https://") {
                continue;
            }
            assert!(
                root.join(s.url).exists(),
                "{s:?} is neither a URL nor a file in the repo"
            );
        }
        for r in RULES {
            for text in [r.okta, r.entra, r.generic, r.any].into_iter().flatten() {
                assert!(
                    !text.impact.contains("okta.md") && !text.impact.contains("entra.md"),
                    "{}",
                    r.id
                );
            }
        }
    }

    /// Every string literal in the sources that looks like a rule id is a catalogued rule —
    /// rule ids are passed as literals (`Finding::judged("rfc7644.create.id", …)`,
    /// `ctx.rule("okta.assign.failed", …)`), never built with `format!` — and every catalogued
    /// rule is emitted somewhere (by the sources, or named by a shipped scenario's `rule:`).
    #[test]
    fn every_rule_id_in_the_sources_is_catalogued_and_every_rule_is_used() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let literal = regex::Regex::new(
            r#""((?:rfc764[34]|rfc7643|okta|entra|transport|http|expect|scenario|audit|cleanup|state|scim)\.[a-z0-9.-]*[a-z0-9])""#,
        )
        .expect("regex");
        // Literals of that shape that are not rule ids: load's operation names, and the names
        // of the research notes that do not ship (checked for absence above).
        const NOT_RULES: &[&str] = &["audit.user", "audit.group", "okta.md", "entra.md"];
        let mut files = Vec::new();
        let mut stack = vec![root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut used = std::collections::HashSet::new();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("read source");
            // Unit tests may name made-up or retired ids as data; what ships is above them.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            let here = file.ends_with("check/catalogue.rs");
            for cap in literal.captures_iter(text) {
                let id = &cap[1];
                if NOT_RULES.contains(&id) {
                    continue;
                }
                assert!(
                    rule(id).is_some(),
                    "{}: `{id}` is not in the catalogue",
                    file.display()
                );
                if !here {
                    used.insert(id.to_string());
                }
            }
        }
        let rule_key = regex::Regex::new(r"rule: *(\{[^}]*\}|[a-z0-9.-]+)").expect("regex");
        let id = regex::Regex::new(r"[a-z0-9-]+(\.[a-z0-9-]+)+").expect("regex");
        let mut stack = vec![root.join("scenarios")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read scenarios").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).expect("read scenario");
                    for cap in rule_key.captures_iter(&text) {
                        for m in id.find_iter(&cap[1]) {
                            used.insert(m.as_str().to_string());
                        }
                    }
                }
            }
        }
        for r in RULES {
            assert!(
                used.contains(r.id),
                "{} is catalogued but nothing emits it",
                r.id
            );
        }
    }

    #[test]
    fn judgement_depends_on_the_idp_under_test() {
        let okta = judge("rfc7644.list.integer-counters", Idp::Okta);
        let entra = judge("rfc7644.list.integer-counters", Idp::Entra);
        let generic = judge("rfc7644.list.integer-counters", Idp::Generic);
        assert_eq!(okta.severity, Severity::Error);
        assert!(okta.impact.starts_with("Okta requires integer counters"));
        assert_eq!(entra.severity, Severity::Warning);
        assert!(entra.impact.starts_with("Entra"));
        assert_eq!(generic.severity, Severity::Error);
        assert!(generic.impact.starts_with("Okta: ") && generic.impact.contains(" Entra: "));
        assert!(okta
            .reference
            .contains("RFC 7644 §3.4.2 <https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2>"));
    }

    /// A finding's severity, consequence and citations come from this table (`Finding::judged`,
    /// `ActionCtx::rule`): only the files below write their own, each for a reason the table
    /// cannot hold. A new inline consequence belongs in the rule's entry instead.
    #[test]
    fn consequences_are_written_here_not_beside_the_finding() {
        const OWN: &[(&str, &str)] = &[
            ("outcome/finding.rs", "the builders themselves"),
            ("check/catalogue.rs", "`Finding::judged`, built from the table"),
            ("check/auth.rs", "the auth rules' table, shaped like this one"),
            ("idp/auth.rs", "a refused credential: the rule's consequence and where the IdP stops"),
            ("idp/entra/judge.rs", "Entra's reading of a failed status (its provisioning-log code)"),
            ("idp/entra/sync.rs", "the same reading for a retried 5xx"),
            ("run/mod.rs", "a user the server keeps after DELETE, which Okta never sends (info, its own sentence)"),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let inline = regex::Regex::new(
            r"\.impact\(|\.reference\(|\.(impact|reference) = Some\(|Finding::(error|warning|new)\(",
        )
            .expect("regex");
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let name = path
                    .strip_prefix(&root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if !name.ends_with(".rs")
                    || name.ends_with("tests.rs")
                    || OWN.iter().any(|(f, _)| *f == name)
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read source");
                let text = text.split("#[cfg(test)]").next().unwrap_or("");
                if let Some(m) = inline.find(text) {
                    let line = text[..m.start()].lines().count();
                    panic!("src/{name}:{line}: `{}` — take the consequence from the catalogue (ctx.rule / Finding::judged)", m.as_str());
                }
            }
        }
        // And the list does not outlive its reasons: each file still writes one.
        for (name, why) in OWN {
            let text = std::fs::read_to_string(root.join(name)).expect("read listed source");
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            assert!(
                inline.is_match(text),
                "src/{name} is listed ({why}) but writes no consequence of its own: drop it from the list"
            );
        }
    }

    /// Reports that show links read a reference back into its citations: every source of every
    /// judgement must come back whole, label and URL, with nothing left over as text.
    #[test]
    fn every_reference_reads_back_as_its_sources() {
        for r in RULES {
            for idp in [Idp::Okta, Idp::Entra, Idp::Generic] {
                let j = r.judge(idp);
                let back = Citation::parse(&j.reference);
                assert!(
                    back.iter().all(|c| c.url.is_some()),
                    "{} ({idp:?}): {:?} does not read back as label <url> parts",
                    r.id,
                    j.reference
                );
                let joined: Vec<String> = back.iter().map(|c| c.to_string()).collect();
                assert_eq!(joined.join(Citation::SEPARATOR), j.reference, "{}", r.id);
            }
        }
        for r in super::super::auth::RULES {
            let reference = r.reference();
            let back = Citation::parse(&reference);
            assert_eq!(back.len(), r.sources.len(), "{}", r.id);
            for (c, s) in back.iter().zip(r.sources) {
                assert_eq!((c.label, c.url), (s.label, Some(s.url)), "{}", r.id);
            }
        }
    }

    /// `docs/RULES.md` is what the table generates; `IDPSIM_BLESS=1` rewrites it.
    #[test]
    fn rules_md_is_generated_from_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/RULES.md");
        let want = markdown();
        if std::env::var_os("IDPSIM_BLESS").is_some() {
            std::fs::write(&path, &want).expect("write docs/RULES.md");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/RULES.md differs from what src/check/catalogue.rs generates; run `IDPSIM_BLESS=1 cargo test --lib catalogue`"
        );
    }
}
