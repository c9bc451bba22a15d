//! What a logged error code means for the replay: the findings idpsim reports for the same
//! server behaviour, and the reference-server quirks (`idpsim serve --list-quirks`) that
//! reproduce it. The import prints this next to the step that replays the failed action, so the
//! engineer knows which step's findings to read, and which `--quirk` shows the same failure on
//! the built-in server.
//!
//! Entra codes: Microsoft Learn, "How to analyze the provisioning logs", section "Error codes"
//! (https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes).
//! The codes carry the connector's name as a prefix (`SystemForCrossDomainIdentityManagement…`
//! for SCIM apps, `ContosoEntryConflict` in Graph's own example), so they are matched by suffix.
//! Quarantine reasons: "Application provisioning in quarantine status"
//! (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status).
//! Okta FAILURE outcomes carry free text (`outcome.reason`), matched by the phrases below.

/// Why a logged failure happened, in replay terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The code or phrase that matched.
    pub code: String,
    /// What the IdP's documentation says it means.
    pub meaning: String,
    /// Finding rule ids the replay reports for this behaviour.
    pub rules: Vec<&'static str>,
    /// Reference-server quirks that reproduce it.
    pub quirks: Vec<&'static str>,
    /// Whether the IdP retries it on its own (for the timeline).
    pub retried: Retry,
    /// Whether it counts towards quarantine as a credentials failure.
    pub credentials: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Retried at once (429 with Retry-After).
    Throttled,
    /// Retried in the next cycle, 40 minutes later (LOGS: "automatically retried in 40 minutes").
    NextCycle,
    /// Escrowed: retried on later cycles "with decreasing frequency" (How provisioning works).
    Escrowed,
    /// Not a failure of the target (skips, source-side problems).
    No,
}

struct Entry {
    suffix: &'static str,
    meaning: &'static str,
    rules: &'static [&'static str],
    quirks: &'static [&'static str],
    retried: Retry,
    credentials: bool,
}

const ENTRA: &[Entry] = &[
    Entry {
        suffix: "ServiceIncompatible",
        meaning: "Entra could not parse the app's answer (LOGS: \"unable to parse the response from the third party application\")",
        rules: &["rfc7644.response.media-type", "rfc7644.error.status-string", "rfc7644.list.resources-present", "rfc7644.list.integer-counters"],
        quirks: &["html-404", "json-content-type", "string-counters", "omit-empty-resources", "error-status-integer"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "MultipleEntriesInResponse",
        meaning: "a GET for one user or group returned several, e.g. a group read with excludedAttributes=members answered with its members (LOGS)",
        rules: &["rfc7644.query.excluded-attributes"],
        quirks: &["ignore-excluded-attributes"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "DuplicateTargetEntries",
        meaning: "more than one object in the app matched the matching attribute (LOGS)",
        rules: &["entra.lookup.duplicate"],
        quirks: &["no-duplicate-check", "duplicate-on-race", "case-sensitive-username-filter"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "DuplicateSourceEntries",
        meaning: "more than one source object has the matching attribute's value: a directory problem, not the app's (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::No,
        credentials: false,
    },
    Entry {
        suffix: "EntryConflict",
        meaning: "the app answered 409: an object with the same unique value exists but was not matched (LOGS \"Conflict, EntryConflict\")",
        rules: &["entra.create.conflict", "entra.lookup.failed"],
        quirks: &["hide-inactive-users", "case-sensitive-username-filter", "filter-miss-404"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "Conflict",
        meaning: "the app answered 409: an object with the same unique value exists but was not matched (LOGS \"Conflict, EntryConflict\")",
        rules: &["entra.create.conflict", "entra.lookup.failed"],
        quirks: &["hide-inactive-users", "case-sensitive-username-filter", "filter-miss-404"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "InvalidAnchor",
        meaning: "the object Entra created or matched earlier is gone from the app (LOGS): a GET by its id answered 404",
        rules: &["entra.update.invalid-anchor", "entra.update.read-failed"],
        quirks: &["deactivate-deletes-user", "hide-inactive-users", "html-404"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "BadRequest",
        meaning: "the app answered 400 to Entra's request; for SCIM apps usually a PATCH form the server does not accept (string booleans, the default-mode member removal, an unsupported path)",
        rules: &["entra.patch.rejected", "entra.patch.string-boolean-rejected", "entra.patch.remove-member-default-mode", "entra.patch.manager-rejected", "entra.create.failed"],
        quirks: &["reject-string-booleans", "reject-entra-member-remove", "reject-id-in-patch-value"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "NotFound",
        meaning: "the app answered 404 where Entra expects 200 (a filter with no match must be an empty ListResponse: Test Connection and matching fail, and quarantine follows)",
        rules: &["rfc7644.filter.no-match-404", "entra.test-connection.failed", "entra.update.invalid-anchor"],
        quirks: &["filter-miss-404", "html-404"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "Unauthorized",
        meaning: "Entra authenticated but was not authorised (LOGS \"InsufficientRights, MethodNotAllowed, NotPermitted, Unauthorized\"); for a SCIM app usually the secret token: expired or rotated",
        rules: &["entra.test-connection.failed"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: true,
    },
    Entry {
        suffix: "InsufficientRights",
        meaning: "Entra authenticated but was not authorised to make the change (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: true,
    },
    Entry {
        suffix: "MethodNotAllowed",
        meaning: "the app refused the HTTP method (LOGS groups it with the authorisation failures); PATCH not supported?",
        rules: &["entra.patch.rejected"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: true,
    },
    Entry {
        suffix: "NotPermitted",
        meaning: "Entra authenticated but was not authorised to make the change (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: true,
    },
    Entry {
        suffix: "TooManyRequests",
        meaning: "the app throttled Entra (429); retried automatically (LOGS)",
        rules: &["entra.throttle.retried", "entra.throttle.exhausted"],
        quirks: &[],
        retried: Retry::Throttled,
        credentials: false,
    },
    Entry {
        suffix: "InternalServerError",
        meaning: "the app answered 5xx; retried in 40 minutes (LOGS)",
        rules: &["entra.retry.server-error"],
        quirks: &["lose-concurrent-writes"],
        retried: Retry::NextCycle,
        credentials: false,
    },
    Entry {
        suffix: "WebExceptionProtocolError",
        meaning: "an HTTP protocol error reaching the app; retried in 40 minutes (LOGS)",
        rules: &["entra.retry.server-error"],
        quirks: &[],
        retried: Retry::NextCycle,
        credentials: false,
    },
    Entry {
        suffix: "Timeout",
        meaning: "the app took too long to answer; retried in 40 minutes (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::NextCycle,
        credentials: false,
    },
    Entry {
        suffix: "InternalError",
        meaning: "an error inside Entra's provisioning service; retried in 40 minutes (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::NextCycle,
        credentials: false,
    },
    Entry {
        suffix: "UnprocessableEntity",
        meaning: "the app returned an unexpected response (LOGS)",
        rules: &["entra.patch.rejected", "entra.create.failed"],
        quirks: &["reject-readonly-on-put"],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "NotImplemented",
        meaning: "the app returned an unexpected response (LOGS): an endpoint or PATCH op it does not implement",
        rules: &["entra.patch.rejected"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "SchemaAttributeNotFound",
        meaning: "a mapped attribute does not exist in the app's schema (LOGS): fix the attribute mapping",
        rules: &["entra.patch.rejected"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "MandatoryFieldsMissing",
        meaning: "required values are missing in the source (LOGS)",
        rules: &["entra.create.failed"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "MissingValues",
        meaning: "required values are missing in the source (LOGS)",
        rules: &["entra.create.failed"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "LicenseLimitExceeded",
        meaning: "the app has no licence left for this user (LOGS)",
        rules: &["entra.create.failed"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "InvalidDomain",
        meaning: "an attribute value has a domain the app does not accept (LOGS)",
        rules: &["entra.create.failed", "entra.patch.rejected"],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "SchemaPropertyCanOnlyAcceptValue",
        meaning: "a single-valued target property got several source values (LOGS)",
        rules: &[],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "ImportSkipped",
        meaning: "the source object has no value for the matching attribute, so it was neither scoped nor matched (LOGS)",
        rules: &["entra.match.no-value"],
        quirks: &[],
        retried: Retry::No,
        credentials: false,
    },
    Entry {
        suffix: "EntrySynchronizationSkipped",
        meaning: "out of scope, or nothing to change (LOGS); expected in numbers when scope is \"all users and groups\"",
        rules: &["entra.cycle.skipped"],
        quirks: &[],
        retried: Retry::No,
        credentials: false,
    },
    Entry {
        suffix: "EncounteredQuarantineException",
        meaning: "the job is in quarantine: most or all calls fail, typically invalid credentials (QUAR)",
        rules: &["entra.test-connection.failed"],
        quirks: &["filter-miss-404"],
        retried: Retry::Escrowed,
        credentials: true,
    },
    Entry {
        suffix: "EncounteredEscrowProportionThreshold",
        meaning: "the job is in quarantine: the share of escrowed failures crossed the threshold (QUAR)",
        rules: &[],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
    Entry {
        suffix: "QuarantineOnDemand",
        meaning: "the job was quarantined on request (QUAR)",
        rules: &[],
        quirks: &[],
        retried: Retry::Escrowed,
        credentials: false,
    },
];

/// Explains an Entra error code; an unknown code falls back to the HTTP status quoted in the
/// reason ("…returned an error response with the HTTP status code 409…", as in Graph's example).
pub fn entra(code: &str, reason: Option<&str>) -> Explanation {
    let lower = code.to_ascii_lowercase();
    let hit = ENTRA
        .iter()
        .filter(|e| lower.ends_with(&e.suffix.to_ascii_lowercase()))
        .max_by_key(|e| e.suffix.len());
    if let Some(e) = hit {
        return Explanation {
            code: code.to_string(),
            meaning: e.meaning.to_string(),
            rules: e.rules.to_vec(),
            quirks: e.quirks.to_vec(),
            retried: e.retried,
            credentials: e.credentials,
        };
    }
    let status = reason.and_then(http_status);
    let by_status = match status {
        Some(401 | 403) => Some("Unauthorized"),
        Some(400) => Some("BadRequest"),
        Some(404) => Some("NotFound"),
        Some(409) => Some("EntryConflict"),
        Some(429) => Some("TooManyRequests"),
        Some(500..=599) => Some("InternalServerError"),
        _ => None,
    };
    match by_status {
        Some(s) => {
            let mut e = entra(s, None);
            e.code = code.to_string();
            e.meaning = format!(
                "not in Microsoft's error table; the reason quotes HTTP {}: {}",
                status.unwrap_or_default(),
                e.meaning
            );
            e
        }
        None => Explanation {
            code: code.to_string(),
            meaning:
                "not in Microsoft's error table (howto-analyze-provisioning-logs); read the reason"
                    .into(),
            rules: Vec::new(),
            quirks: Vec::new(),
            retried: Retry::Escrowed,
            credentials: false,
        },
    }
}

/// The HTTP status a reason text quotes ("HTTP status code 409", "HTTP/404", "(400)").
pub fn http_status(reason: &str) -> Option<u16> {
    let re = regex::Regex::new(r"(?i)(?:status code|HTTP/|HTTP |status[: ]+|\()\s*([1-5]\d\d)\b")
        .ok()?;
    re.captures(reason)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

/// Phrases of Okta's FAILURE reasons and what they point at. Okta documents the event types
/// (Event Types catalogue) but not its reason texts; these are the messages quoted in Okta's
/// SCIM guides and community answers that okta.md cites, matched case-insensitively.
/// (phrase, meaning, rules, quirks, a credentials failure).
type OktaPhrase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

const OKTA: &[OktaPhrase] = &[
    ("returned empty user", "Okta's create got an answer without the user (\"Create new user returned empty user\")", &["rfc7644.create.body", "rfc7644.create.id"], &["create-returns-200"], false),
    ("already exists", "the app refused a create with 409: Okta's lookup did not find the existing user (case-sensitive or inactive-hiding filter)", &["okta.assign.conflict", "okta.assign.lookup-missed"], &["case-sensitive-username-filter", "hide-inactive-users"], false),
    ("409", "the app answered 409 (conflict): Okta's lookup missed an existing object", &["okta.assign.conflict", "okta.group.conflict"], &["case-sensitive-username-filter", "hide-inactive-users"], false),
    ("conflict", "the app answered 409 (conflict): Okta's lookup missed an existing object", &["okta.assign.conflict", "okta.group.conflict"], &["case-sensitive-username-filter", "hide-inactive-users"], false),
    ("401", "the app refused Okta's credential (401): the API token in the app's Provisioning settings", &["http.accept.rejected", "http.content-type.rejected"], &[], true),
    ("unauthorized", "the app refused Okta's credential: the API token in the app's Provisioning settings", &["http.accept.rejected", "http.content-type.rejected"], &[], true),
    ("403", "the app refused the request (403)", &["http.accept.rejected", "http.content-type.rejected"], &[], true),
    ("404", "the app answered 404: a lookup that should be an empty list, or an object gone from the app", &["rfc7644.filter.no-match-404", "okta.user.unlinked", "okta.user.gone"], &["filter-miss-404", "deactivate-deletes-user", "html-404"], false),
    ("not found", "the object is gone from the app, or a lookup answered 404", &["rfc7644.filter.no-match-404", "okta.user.unlinked", "okta.group.unlinked"], &["filter-miss-404", "deactivate-deletes-user"], false),
    ("no user returned", "the app no longer holds the user Okta linked", &["okta.user.gone", "okta.user.unlinked"], &["deactivate-deletes-user"], false),
    ("linked group is missing", "the pushed group is gone from the app", &["okta.group.unlinked", "okta.group.read-failed"], &[], false),
    ("startindex", "the list answer's counters are not JSON integers", &["rfc7644.list.integer-counters"], &["string-counters"], false),
    ("totalresults", "the list answer's counters are not JSON integers", &["rfc7644.list.integer-counters"], &["string-counters"], false),
    ("resources", "the list answer has no `Resources`", &["rfc7644.list.resources-present"], &["omit-empty-resources"], false),
    ("json", "the app's answer is not the JSON Okta expects", &["rfc7644.list.json", "rfc7644.list.json"], &["html-404", "json-content-type"], false),
    ("parse", "the app's answer is not the JSON Okta expects", &["rfc7644.list.json"], &["html-404", "json-content-type"], false),
    ("400", "the app refused Okta's request (400): often the PATCH form (`op: replace` with a value map) or read-only attributes echoed in PUT", &["okta.patch.unsupported", "okta.put.readonly-rejected", "okta.group.rename-rejected"], &["reject-readonly-on-put", "reject-id-in-patch-value", "reject-scim-accept"], false),
    ("bad request", "the app refused Okta's request (400)", &["okta.patch.unsupported", "okta.put.readonly-rejected"], &["reject-readonly-on-put", "reject-id-in-patch-value"], false),
    ("429", "the app throttled Okta (429); Okta retries honouring Retry-After", &["okta.rate-limit.retry-after", "okta.rate-limit.exhausted"], &[], false),
    ("rate limit", "the app throttled Okta; Okta retries honouring Retry-After", &["okta.rate-limit.retry-after", "okta.rate-limit.exhausted"], &[], false),
    ("500", "the app failed with a server error", &[], &[], false),
    ("timed out", "the app did not answer within Okta's 60 s", &[], &[], false),
];

/// Explains an Okta FAILURE outcome from its reason (and the event type when there is none).
pub fn okta(event_type: &str, reason: Option<&str>) -> Explanation {
    let text = reason.unwrap_or("").to_ascii_lowercase();
    for (phrase, meaning, rules, quirks, credentials) in OKTA {
        if text.contains(phrase) {
            return Explanation {
                code: format!("FAILURE \"{phrase}\""),
                meaning: (*meaning).to_string(),
                rules: rules.to_vec(),
                quirks: quirks.to_vec(),
                retried: Retry::No,
                credentials: *credentials,
            };
        }
    }
    // `application.provision.user.sync FAILURE` with nothing else is what Okta logged when a
    // server's lookup answer had string counters (okta.md §2.1, KB-Q-STR).
    let (meaning, rules, quirks): (&str, Vec<&str>, Vec<&str>) = if event_type.ends_with(".sync") {
        ("Okta's lookup before the create failed; an unreadable list answer (string counters, no Resources) is the documented cause", vec!["rfc7644.list.integer-counters", "rfc7644.list.resources-present"], vec!["string-counters", "omit-empty-resources"])
    } else {
        (
            "the reason names no cause idpsim knows; read the replay step's findings",
            Vec::new(),
            Vec::new(),
        )
    };
    Explanation {
        code: "FAILURE".into(),
        meaning: meaning.into(),
        rules,
        quirks,
        retried: Retry::No,
        credentials: false,
    }
}

impl Explanation {
    /// Comment lines for the scenario, above the step that replays the failed action.
    pub fn comment(&self) -> Vec<String> {
        let mut out = vec![format!("  means: {}", self.meaning)];
        if !self.rules.is_empty() {
            out.push(format!(
                "  the replay reports it as: {}",
                self.rules.join(", ")
            ));
        }
        if !self.quirks.is_empty() {
            let flags: Vec<String> = self.quirks.iter().map(|q| format!("--quirk {q}")).collect();
            out.push(format!(
                "  the built-in server reproduces it with: idpsim serve {}",
                flags.join(" | ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_by_suffix_and_status() {
        let e = entra("SystemForCrossDomainIdentityManagementBadRequest", None);
        assert!(e.quirks.contains(&"reject-string-booleans"));
        assert_eq!(
            entra("ContosoEntryConflict", None).rules[0],
            "entra.create.conflict"
        );
        let m = entra(
            "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
            None,
        );
        assert_eq!(m.quirks, vec!["ignore-excluded-attributes"]);
        assert!(entra("SystemForCrossDomainIdentityManagementUnauthorized", None).credentials);
        let s = entra(
            "SomethingNew",
            Some("returned an error response with the HTTP status code 409."),
        );
        assert!(s.rules.contains(&"entra.create.conflict"), "{s:?}");
        assert_eq!(http_status("An HTTP/404 Not Found response"), Some(404));
    }

    #[test]
    fn every_named_rule_and_quirk_exists() {
        let quirks: Vec<&str> = crate::server::Quirk::all().iter().map(|q| q.name).collect();
        let all_quirks = ENTRA
            .iter()
            .flat_map(|e| e.quirks.iter())
            .chain(OKTA.iter().flat_map(|o| o.3.iter()));
        for q in all_quirks {
            assert!(quirks.contains(q), "unknown quirk {q}");
        }
    }
}
