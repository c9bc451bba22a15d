//! Opt-in non-compliance modes ("quirks") that reproduce real SCIM servers' bugs, so the
//! scenario engine can prove it notices them. Without quirks the server is clean; quirks are
//! independent flags and compose freely.

use std::collections::HashSet;

macro_rules! quirks {
    ($( $variant:ident => $name:literal, summary: $summary:literal, source: $source:literal, breaks: $breaks:literal; )*) => {
        /// A named non-compliance mode; see [`Quirk::all`] for what each one does.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Quirk { $( $variant, )* }

        static ALL: &[QuirkInfo] = &[
            $( QuirkInfo { quirk: Quirk::$variant, name: $name, summary: $summary, source: $source, breaks: $breaks }, )*
        ];
    };
}

/// Documentation of one quirk.
#[derive(Clone, Copy, Debug)]
pub struct QuirkInfo {
    pub quirk: Quirk,
    /// kebab-case CLI name.
    pub name: &'static str,
    /// What the server does differently.
    pub summary: &'static str,
    /// The real bug or report it reproduces, with URL.
    pub source: &'static str,
    /// What breaks for Okta / Entra.
    pub breaks: &'static str,
}

quirks! {
    CaseSensitiveUsernameFilter => "case-sensitive-username-filter",
        summary: "Filters compare strings case-sensitively, so `userName eq` misses a user whose stored userName differs only in case.",
        source: "zulip/zulip#21758 https://github.com/zulip/zulip/issues/21758; Okta SCIM 2.0 SPEC test, step 9 \"Username Case Sensitivity Check\" https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json",
        breaks: "Okta's lookup misses the existing user, POSTs and gets 409 (devforum 27262); Entra creates duplicates or fails matching.";
    CaseSensitiveUsernameUniqueness => "case-sensitive-username-uniqueness",
        summary: "The userName uniqueness check compares case-sensitively: a create or rename whose userName differs from a stored one only in case is accepted as another user (filters still ignore case).",
        source: "RFC 7643 §4.1.1 (userName caseExact=false, uniqueness=server); langfuse/langfuse#13528 https://github.com/langfuse/langfuse/pull/13528 (a case-variant userName slipped past the SCIM create's duplicate check); gravitee-io/issues#2445 https://github.com/gravitee-io/issues/issues/2445 (\"userA\" and \"usera\" as two users)",
        breaks: "One person gets two app accounts; the IdPs' `userName eq` lookups then find both (Entra logs DuplicateTargetEntries, Okta links one and the other keeps its access).";
    CreateReturns200 => "create-returns-200",
        summary: "POST answers 200 OK instead of 201 Created.",
        source: "RFC 7644 §3.3; Okta SPEC test expects 201 https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json",
        breaks: "Okta's SPEC/CRUD tests fail the create step; strict clients treat the create as not performed.";
    StringCounters => "string-counters",
        summary: "ListResponse totalResults/startIndex/itemsPerPage are JSON strings (\"1\") instead of integers.",
        source: "Okta community question \"SCIM provisioning error with Okta SCIM API\" https://support.okta.com/help/s/question/0D54z0000A4i091CQA/scim-provisioning-error-with-okta-scim-api?language=en_US",
        breaks: "Okta aborts the push after the lookup with only `application.provision.user.sync FAILURE`; imports fail.";
    OmitEmptyResources => "omit-empty-resources",
        summary: "A ListResponse with no matches has no `Resources` key.",
        source: "elimity-com/scim#78 https://github.com/elimity-com/scim/pull/78",
        breaks: "Okta's tests fail on a missing/null Resources; lookups of absent users error instead of creating.";
    Html404 => "html-404",
        summary: "Unknown resource ids answer 404 with an HTML page (text/html) instead of a SCIM error.",
        source: "Metatavu/keycloak-scim-server#100 https://github.com/Metatavu/keycloak-scim-server/issues/100 (non-JSON error bodies)",
        breaks: "Okta shows a JSON parse error instead of the server's message; Entra cannot classify the failure.";
    IgnorePathlessPatch => "ignore-pathless-patch",
        summary: "PATCH operations without `path` are skipped, but 200 is still returned.",
        source: "pond/scimitar#29 https://github.com/pond/scimitar/pull/29; getsentry/sentry#27199 https://github.com/getsentry/sentry/pull/27199",
        breaks: "Okta's deactivate (`{op:replace,value:{active:false}}`) and group rename silently do nothing; Entra flag-mode updates are lost.";
    RenameWipesMembers => "rename-wipes-members",
        summary: "A path-less replace on a Group whose value has no `members` empties the group's members.",
        source: "langwatch/langwatch#7131 https://github.com/langwatch/langwatch/issues/7131",
        breaks: "Okta sends the rename PATCH with every membership change, so pushed groups are emptied repeatedly.";
    DeactivateDeletesUser => "deactivate-deletes-user",
        summary: "Setting active=false hard-deletes the user; the next GET is 404.",
        source: "Okta and SCIM Version 2.0, \"Update a specific User (PATCH)\": deactivation is a PATCH of active:false, never a DELETE https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20; Okta CRUD test (reads the user after deactivating) https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-CRUD-Test.json",
        breaks: "Okta reactivation and profile pushes 404 and stop; Entra restore fails and re-creates the user.";
    NoDuplicateCheck => "no-duplicate-check",
        summary: "Duplicate userName (Users) or displayName (Groups) is accepted with 201.",
        source: "grokability/snipe-it#13854 https://github.com/grokability/snipe-it/issues/13854",
        breaks: "Okta SPEC test #8 expects 409; Entra later hits DuplicateTargetEntries on matching.";
    PatchNoop204 => "patch-noop-204",
        summary: "PATCH answers 204 No Content and changes nothing.",
        source: "Metatavu/keycloak-scim-server#112 https://github.com/Metatavu/keycloak-scim-server/pull/112 (silent no-op update: \"Okta sees success and stops retrying\")",
        breaks: "Okta and Entra record success; deactivations and membership changes never happen.";
    RejectEntraMemberRemove => "reject-entra-member-remove",
        summary: "`Remove` with path `members` plus a `value` array is rejected with 400 invalidValue, as strictly-RFC servers (e.g. scim2-server) do.",
        source: "Microsoft Entra SCIM tutorial, \"Update Group [Remove Members]\" https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups; \"Known issues and resolutions with SCIM 2.0 protocol compliance\" (aadOptscim062020) https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility",
        breaks: "Entra default-mode member removal fails; the user stays in the group and the error escrows.";
    RfcLiteralMemberRemove => "rfc-literal-member-remove",
        summary: "`Remove` with path `members` ignores `value` and removes every member (RFC 7644 §3.5.2.2 read literally).",
        source: "MicrosoftDocs/azure-docs#30826 https://github.com/MicrosoftDocs/azure-docs/issues/30826",
        breaks: "Entra's single-member removal (default mode) empties the whole group.";
    RejectStringBooleans => "reject-string-booleans",
        summary: "\"True\"/\"False\" strings for boolean attributes are rejected with 400 invalidValue.",
        source: "scimmyjs/scimmy#51 https://github.com/scimmyjs/scimmy/issues/51",
        breaks: "Entra's default-mode disable `{op:Replace,path:active,value:\"False\"}` fails; the user stays active, then quarantine.";
    RejectScimAccept => "reject-scim-accept",
        summary: "Requests with `Accept: application/scim+json` are answered 406 Not Acceptable.",
        source: "Okta KB https://support.okta.com/help/s/article/scim-provisioning-returning-sync-user-in-external-application-failure",
        breaks: "Every Okta request fails with a silent \"Sync user in external application FAILURE\".";
    HideInactiveUsers => "hide-inactive-users",
        summary: "List and filter results omit active=false users (GET by id still works).",
        source: "Metatavu/keycloak-scim-server#74 https://github.com/Metatavu/keycloak-scim-server/issues/74; Okta devforum https://devforum.okta.com/t/scim-provisioning-fails-due-to-incorrect-search-filter/27262",
        breaks: "Okta reassign: lookup finds nothing, POST gets 409; Entra reports InvalidAnchor or POSTs a duplicate.";
    RejectReadonlyOnPut => "reject-readonly-on-put",
        summary: "PUT bodies carrying readOnly `id`, `meta` or `groups` are rejected with 400 mutability.",
        source: "Okta and SCIM Version 2.0, \"Update a specific User (PUT)\": the PUT body is the GET response echoed https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20; raw captures in oktadeveloper/okta-blog-archive#1956 https://github.com/oktadeveloper/okta-blog-archive/pull/1956",
        breaks: "Every Okta profile push (GET then full PUT) fails.";
    RejectIdInPatchValue => "reject-id-in-patch-value",
        summary: "A path-less replace whose value contains `id` is rejected with 400 mutability.",
        source: "Metatavu/keycloak-scim-server#113 https://github.com/Metatavu/keycloak-scim-server/pull/113",
        breaks: "Okta's group rename/metadata PATCH fails; Okta marks the push Error and stops membership pushes.";
    IgnoreFilteredMemberRemove => "ignore-filtered-member-remove",
        summary: "`remove members[value eq \"x\"]` is answered with success but removes nothing.",
        source: "goauthentik/authentik#25686 https://github.com/goauthentik/authentik/issues/25686",
        breaks: "Okta and Entra (flag mode) membership removals are lost while adds work.";
    FilterMiss404 => "filter-miss-404",
        summary: "A filtered list that matches nothing answers 404 instead of an empty ListResponse.",
        source: "grokability/snipe-it#11913; Entra quarantine doc https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status",
        breaks: "Entra quarantines the job (\"HTTP/404 Not Found … rather than the expected HTTP/200\"); Okta SPEC #3/#5 fail.";
    ItemsPerPageIsCount => "items-per-page-is-count",
        summary: "itemsPerPage echoes the requested `count`, not the number of resources on the page.",
        source: "ory/polis#4054 https://github.com/ory/polis/pull/4054",
        breaks: "Okta OIN review (GET startIndex=101&count=100 on a small set) fails; importers miscount pages.";
    JsonContentType => "json-content-type",
        summary: "Responses carry `Content-Type: application/json` instead of `application/scim+json`.",
        source: "MicrosoftDocs/azure-docs#104859 https://github.com/MicrosoftDocs/azure-docs/issues/104859",
        breaks: "Microsoft's SCIM Validator aborts the whole suite; strict clients reject the media type.";
    ErrorStatusInteger => "error-status-integer",
        summary: "Error bodies carry `status` as a JSON number instead of the string RFC 7644 §3.12 requires.",
        source: "RFC 7644 §3.12 (status is a string); Okta and SCIM Version 2.0, \"Create the User\": its 409 example answers `\"status\": 409` https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20",
        breaks: "Strict SCIM clients/validators that type `status` as a string fail to parse the error.";
    IgnoreExcludedAttributes => "ignore-excluded-attributes",
        summary: "`excludedAttributes` is ignored (e.g. `excludedAttributes=members` still returns members).",
        source: "Microsoft Entra SCIM tutorial, \"Get Group\" (excludedAttributes=members) https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups; provisioning logs error SystemForCrossDomainIdentityManagementMultipleEntriesInResponse https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs",
        breaks: "Entra logs SystemForCrossDomainIdentityManagementMultipleEntriesInResponse; huge group payloads.";
    RequireAcceptHeader => "require-accept-header",
        summary: "Requests without an Accept header are answered 406 (like a Rails app defaulting to HTML).",
        source: "MicrosoftDocs/azure-docs#94189 https://github.com/MicrosoftDocs/azure-docs/issues/94189",
        breaks: "Entra's Test Connection (no Accept header) fails.";
    CatalogIgnoresCount => "catalog-ignores-count",
        summary: "Entitlement endpoints (/Roles, /Licenses, …) ignore `count`: every value comes back and itemsPerPage says 100.",
        source: "Okta's own entitlements workshop server (reads `recordLimit`, sets itemsPerPage to it): https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop",
        breaks: "Okta's SCIM 2.0 Entitlements Test fails its `count=1&startIndex=1` probe (itemsPerPage must be 1), which blocks the OIN submission.";
    CatalogListWrongSchemas => "catalog-list-wrong-schemas",
        summary: "Entitlement endpoints answer a list whose `schemas` names the entitlement schemas instead of the ListResponse URN.",
        source: "Okta's entitlements workshop `/Characteristics` handler: https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop",
        breaks: "Okta's SCIM 2.0 Entitlements Test fails (`schemas` must contain urn:ietf:params:scim:api:messages:2.0:ListResponse); Okta's runtime discovery tolerates it.";
    ResourceTypeSchemaMissing => "resource-type-schema-missing",
        summary: "/ResourceTypes declares an entitlement type with a schema extension that /Schemas does not serve.",
        source: "Okta guide \"Build a SCIM 2.0 server with entitlements\" (/Schemas must define every extension unknown to Okta) https://developer.okta.com/docs/guides/scim-with-entitlements/main/; RFC 7643 §6 (schemaExtensions name schemas the server defines)",
        breaks: "Okta's user schema discovery cannot read the extension's attributes: the custom entitlement properties never reach Okta.";
    DropAssignmentsOnPut => "drop-assignments-on-put",
        summary: "PUT /Users/{id} keeps the stored `roles` and `entitlements` whatever the body says, and answers 200.",
        source: "Okta's entitlements workshop PUT handler before roles were added (`const { name, emails } = updatedUserRequest`): https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop; Okta writes grants with a PUT of the user (same post)",
        breaks: "Okta grants and revokes entitlements with a PUT: the server acknowledges and keeps the old access, so Okta Identity Governance shows grants the app never applied.";
    ListOmitsAssignments => "list-omits-assignments",
        summary: "User lists (GET /Users, filtered or paged) leave out `roles` and `entitlements`; GET /Users/{id} still returns them.",
        source: "wso2/product-is#13851 https://github.com/wso2/product-is/issues/13851 (a list leaves out attributes the single GET returns); wso2/product-is#11379 https://github.com/wso2/product-is/issues/11379 (roles dropped from user responses for performance); Okta reads assignments from imported users: https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop (Syncing user entitlements)",
        breaks: "Okta's import shows every app user without the roles and entitlements the app holds: access reviews and certifications miss them.";
    StripCustomExtension => "strip-custom-extension",
        summary: "Attributes of custom extension schemas are accepted and silently dropped (create, PUT and PATCH answer 2xx).",
        source: "simpleidserver/SimpleIdServer#138 https://github.com/simpleidserver/SimpleIdServer/issues/138; pond/scimitar#155 https://github.com/pond/scimitar/issues/155",
        breaks: "Entra and Okta record the attribute as provisioned; the app never holds it and Entra re-sends it on every change.";
    RejectUnlistedExtension => "reject-unlisted-extension",
        summary: "A POST/PUT body with an extension attribute whose schema URN is not in `schemas` is refused with 400.",
        source: "MicrosoftDocs/azure-docs#65648 https://github.com/MicrosoftDocs/azure-docs/issues/65648 (Entra sends custom extension attributes without listing the namespace); RFC 7643 §3",
        breaks: "Entra never lists a custom extension in `schemas`: every create of a user with a custom attribute fails.";
    RejectCustomUrnPatch => "reject-custom-urn-patch",
        summary: "PATCH operations that address a custom extension attribute by URN (path or path-less value key) are refused with 400 invalidPath.",
        source: "wso2/product-is#6015 https://github.com/wso2/product-is/issues/6015; SAP-archive/scimono#44 https://github.com/SAP-archive/scimono/issues/44; elimity-com/scim#204 https://github.com/elimity-com/scim/issues/204",
        breaks: "Entra's updates of custom attributes fail in both PATCH modes; the attribute stays stale and the errors escrow.";
    CustomExtensionNotAdvertised => "custom-extension-not-advertised",
        summary: "The custom extension is stored and returned but absent from /Schemas and from the User ResourceType's schemaExtensions.",
        source: "AzureAD/SCIMReferenceCode Logic App Schema_Discoverability_Test https://github.com/AzureAD/SCIMReferenceCode/blob/master/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md; Okta guide https://developer.okta.com/docs/guides/scim-with-entitlements/main/ (user schema discovery reads /Schemas)",
        breaks: "Microsoft's gallery onboarding test fails on every mapped custom attribute; Okta's user schema discovery never adds the attribute to the app profile.";
    NoCustomExtension => "no-custom-extension",
        summary: "The server has no custom extension schema: attributes of one are skipped on create and PUT (2xx), a PATCH that names one by its URN path is refused with 400 invalidPath (a path-less value's URN keys are skipped too), and /Schemas and /ResourceTypes do not list it.",
        source: "Captain-P-Goldfish/SCIM-SDK#539 https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/539 (attributes the server does not define: skipped on POST and PUT, 400 invalidPath on PATCH, reported for an Entra mapping that sent them)",
        breaks: "Entra and Okta send the attributes anyway: acknowledged creates lose them and Entra re-sends them with every change; Entra's updates by URN path fail every cycle and escrow.";
    FilteredAddNoTarget => "filtered-add-no-target",
        summary: "An `add` on a filtered path (`emails[type eq \"work\"].value`) whose filter matches no element is refused with 400 noTarget instead of creating the element.",
        source: "thomaspoignant/scim-patch#176 https://github.com/thomaspoignant/scim-patch/issues/176; Captain-P-Goldfish/scim-for-keycloak#73 https://github.com/Captain-P-Goldfish/scim-for-keycloak/issues/73",
        breaks: "Entra's Add of a work email (or any filtered value) for a user who has none fails every cycle; the app never gets it.";
    RejectManagerFilterRemove => "reject-manager-filter-remove",
        summary: "`remove` with path `manager[value eq \"…\"]` is refused with 400 invalidFilter (value filters only on multi-valued attributes).",
        source: "thomaspoignant/scim-patch#453 https://github.com/thomaspoignant/scim-patch/issues/453",
        breaks: "Entra's manager removal in that form fails: the app keeps the old manager and the error escrows.";
    ReturnPassword => "return-password",
        summary: "User answers (reads, lists, creates, updates) carry the stored `password`, whose `returned` is \"never\".",
        source: "pond/scimitar#56 https://github.com/pond/scimitar/issues/56 (a stored password came back in every response); RFC 7643 §4.1.1",
        breaks: "Okta's profile push echoes the GET answer, password included, in its PUT; the secret is readable by every API client.";
    DuplicateMembers => "duplicate-members",
        summary: "A PATCH `add` of a member the group already holds stores it again: the group lists that member twice.",
        source: "AzureAD/SCIMReferenceCode#10 https://github.com/AzureAD/SCIMReferenceCode/issues/10 (\"Adding a member allows the adding of the same user id more than once\"); RFC 7644 §3.5.2.1",
        breaks: "Groups list members twice; a removal that takes out one copy can leave the user in the group.";
    StrictRoleSubattributes => "strict-role-subattributes",
        summary: "A `roles` element with a member other than value, display, type and primary (Entra's `displayName`) is refused with 400 invalidSyntax; Entra's string-encoded role is stored as the text it is.",
        source: "MicrosoftDocs/azure-docs#50772 https://github.com/MicrosoftDocs/azure-docs/issues/50772 (AppRoleAssignmentsComplex sends `displayName`, RFC 7643 §4.1.2 defines value, display, type, primary); python-scim/scim2-server https://github.com/python-scim/scim2-server ('Extra inputs are not permitted: roles[0].displayName')",
        breaks: "Entra's creates and flag-mode role PATCHes with AppRoleAssignmentsComplex fail: no user is provisioned with its roles and the errors escrow.";
    LoseConcurrentWrites => "lose-concurrent-writes",
        summary: "Writes do read-modify-write outside the lock with a short delay, so concurrent acknowledged writes are silently lost.",
        source: "Synthetic lost-update race (unlocked read-modify-write, https://en.wikipedia.org/wiki/Write%E2%80%93write_conflict); proves a load-test audit catches lost writes",
        breaks: "Parallel Okta/Entra creates or membership changes are acknowledged but missing on the next GET. Found by `idpsim load`'s audit (concurrency), not by the functional scenarios.";
    DuplicateOnRace => "duplicate-on-race",
        summary: "The uniqueness check and the insert are not atomic (a short sleep between them), so parallel creates of one userName can all succeed.",
        source: "Synthetic race; Entra DuplicateTargetEntries https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs",
        breaks: "Duplicate users; Entra matching later fails with DuplicateTargetEntries, Okta links the wrong account. Found by `idpsim load`'s audit (racing creates), not by the functional scenarios.";
    AuthNoWwwAuthenticate => "auth-no-www-authenticate",
        summary: "A 401 carries no WWW-Authenticate challenge.",
        source: "RFC 7235 §3.1, §4.1; RFC 6750 §3; LionC/express-basic-auth#51 https://github.com/LionC/express-basic-auth/issues/51; funcool/buddy-auth#83 https://github.com/funcool/buddy-auth/issues/83",
        breaks: "Neither Okta nor Entra reads the challenge, so both carry on; generic OAuth clients cannot tell an expired token (error=\"invalid_token\") from a missing one.";
    Auth403InvalidToken => "auth-403-invalid-token",
        summary: "An expired, revoked or unknown access token is answered 403 Forbidden instead of 401.",
        source: "RFC 6750 §3.1 (invalid_token: 401); bratkartoffel/security-jwt#450 https://github.com/bratkartoffel/security-jwt/issues/450; hzlmn/aiohttp-jwt#128 https://github.com/hzlmn/aiohttp-jwt/issues/128",
        breaks: "Okta refreshes an OAuth token on 401 only: on 403 it does not, and the task fails until the admin re-authenticates; Entra logs InsufficientRights and quarantines the job either way.";
    TokenFormEncoded => "token-form-encoded",
        summary: "The token endpoint answers application/x-www-form-urlencoded (access_token=…&token_type=bearer) even when asked for JSON.",
        source: "RFC 6749 §5.1 (application/json); GitHub's token endpoint answers form-encoded by default: googleworkspace/apps-script-oauth2#6 https://github.com/googleworkspace/apps-script-oauth2/issues/6",
        breaks: "The IdP cannot read the token: Okta's \"Authenticate\" fails and Entra cannot authorize, so no request is ever sent.";
    TokenNoExpiresIn => "token-no-expires-in",
        summary: "Token answers carry no expires_in.",
        source: "RFC 6749 §5.1 (expires_in RECOMMENDED); wso2/product-apim#11366 https://github.com/wso2/product-apim/issues/11366; Microsoft's gallery validation checks token validity of 60–360 minutes (AzureAD/SCIMReferenceCode Microsoft.SCIM.LogicAppValidationTemplate)",
        breaks: "The IdP cannot renew before expiry and meets the lapse as a 401 mid-cycle; Microsoft's gallery credential test cannot check the token's validity.";
    RefreshRevokedWithoutReplacement => "refresh-revoked-without-replacement",
        summary: "A refresh invalidates the refresh token used but the answer carries no new one.",
        source: "RFC 6749 §6; bshaffer/oauth2-server-php#575 https://github.com/bshaffer/oauth2-server-php/issues/575",
        breaks: "The first refresh works; at the next expiry Okta's refresh fails with invalid_grant and the app shows an error until the admin re-authenticates (Okta KB \"Use OAuth2 with Refresh Token - SCIM Integration\").";
}

impl Quirk {
    /// Every quirk with its documentation, in a stable order.
    pub fn all() -> &'static [QuirkInfo] {
        ALL
    }

    /// Looks a quirk up by its kebab-case name (case-insensitive; `_` accepted for `-`).
    pub fn from_name(s: &str) -> Option<Quirk> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        ALL.iter().find(|q| q.name == norm).map(|q| q.quirk)
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn info(self) -> &'static QuirkInfo {
        // Every variant is in ALL by construction of the macro; fall back to the first entry
        // rather than panic if that ever stops holding.
        ALL.iter().find(|q| q.quirk == self).unwrap_or(&ALL[0])
    }
}

impl std::fmt::Display for Quirk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The active quirk set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Quirks(HashSet<Quirk>);

impl Quirks {
    pub(crate) fn new(list: &[Quirk]) -> Quirks {
        Quirks(list.iter().copied().collect())
    }
    pub(crate) fn has(&self, q: Quirk) -> bool {
        self.0.contains(&q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_documented() {
        assert!(Quirk::all().len() >= 14);
        for info in Quirk::all() {
            assert_eq!(Quirk::from_name(info.name), Some(info.quirk));
            assert_eq!(info.quirk.name(), info.name);
            assert!(
                info.source.contains("http") || info.source.contains("RFC"),
                "{}",
                info.name
            );
            assert!(!info.breaks.is_empty());
        }
        assert_eq!(Quirk::from_name("HTML_404"), Some(Quirk::Html404));
        assert_eq!(Quirk::from_name("nope"), None);
    }
}
