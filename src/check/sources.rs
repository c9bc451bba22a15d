//! The public documents the rule catalogue cites: RFC sections, the vendors' own pages (with the
//! section a reader should open) and public bug reports. Every citation a user reads comes from
//! here, so a test can check that each one is something a user can open.

/// One citable document: what to open, and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// What a reader looks for: `RFC 7644 §3.4.2`, `Okta: SCIM 2.0 protocol reference — Retrieve Users`.
    /// Never `; `, which separates the citations of a reference (`outcome::Citation`).
    pub label: &'static str,
    pub url: &'static str,
}

macro_rules! rfc7644 {
    ($name:ident, $sec:literal) => {
        pub const $name: Source = Source {
            label: concat!("RFC 7644 §", $sec),
            url: concat!("https://www.rfc-editor.org/rfc/rfc7644#section-", $sec),
        };
    };
}
macro_rules! rfc7643 {
    ($name:ident, $sec:literal) => {
        pub const $name: Source = Source {
            label: concat!("RFC 7643 §", $sec),
            url: concat!("https://www.rfc-editor.org/rfc/rfc7643#section-", $sec),
        };
    };
}
macro_rules! src {
    ($name:ident, $label:literal, $url:literal) => {
        pub const $name: Source = Source {
            label: $label,
            url: $url,
        };
    };
}

// ---- RFCs ------------------------------------------------------------------------------------
rfc7644!(RFC7644_3_2, "3.2");
rfc7644!(RFC7644_3_3, "3.3");
rfc7644!(RFC7644_3_4_1, "3.4.1");
rfc7644!(RFC7644_3_4_2, "3.4.2");
rfc7644!(RFC7644_3_4_2_2, "3.4.2.2");
rfc7644!(RFC7644_3_4_2_4, "3.4.2.4");
rfc7644!(RFC7644_3_4_2_5, "3.4.2.5");
rfc7644!(RFC7644_3_5_1, "3.5.1");
rfc7644!(RFC7644_3_5_2, "3.5.2");
rfc7644!(RFC7644_3_5_2_1, "3.5.2.1");
rfc7644!(RFC7644_3_5_2_2, "3.5.2.2");
rfc7644!(RFC7644_3_6, "3.6");
rfc7644!(RFC7644_3_8, "3.8");
rfc7644!(RFC7644_3_12, "3.12");
rfc7644!(RFC7644_3_14, "3.14");
rfc7644!(RFC7644_2, "2");
rfc7644!(RFC7644_4, "4");
rfc7643!(RFC7643_2_1, "2.1");
rfc7643!(RFC7643_2_4, "2.4");
rfc7643!(RFC7643_2_5, "2.5");
rfc7643!(RFC7643_3, "3");
rfc7643!(RFC7643_3_1, "3.1");
rfc7643!(RFC7643_3_3, "3.3");
rfc7643!(RFC7643_4_1_1, "4.1.1");
rfc7643!(RFC7643_4_1_2, "4.1.2");
rfc7643!(RFC7643_5, "5");
rfc7643!(RFC7643_6, "6");
rfc7643!(RFC7643_7, "7");
src!(
    RFC9110_15,
    "RFC 9110 §15 (status codes)",
    "https://www.rfc-editor.org/rfc/rfc9110#section-15"
);
src!(
    RFC9110_15_4,
    "RFC 9110 §15.4 (redirection)",
    "https://www.rfc-editor.org/rfc/rfc9110#section-15.4"
);
src!(
    RFC9110_12_5_1,
    "RFC 9110 §12.5.1 (Accept) and §15.5.7 (406)",
    "https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1"
);
src!(
    RFC9110_15_5_16,
    "RFC 9110 §15.5.16 (415 Unsupported Media Type)",
    "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.16"
);
src!(
    RFC9112_6,
    "RFC 9112 §6 (message body length)",
    "https://www.rfc-editor.org/rfc/rfc9112#section-6"
);

// ---- Okta ------------------------------------------------------------------------------------
src!(
    OKTA_LOOKUP,
    "Okta: SCIM 2.0 protocol reference — Determine if the User already exists",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_CREATE,
    "Okta: SCIM 2.0 protocol reference — Create the User",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_RETRIEVE_USERS,
    "Okta: SCIM 2.0 protocol reference — Retrieve Users (integers, pagination)",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_RETRIEVE_USER,
    "Okta: SCIM 2.0 protocol reference — Retrieve a specific User",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_PUT,
    "Okta: SCIM 2.0 protocol reference — Update a specific User (PUT)",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_PUT_CAPTURE,
    "oktadeveloper/okta-blog-archive#1956 (Okta's captured PUT: the GET answer echoed, `password` and `meta` included)",
    "https://github.com/oktadeveloper/okta-blog-archive/pull/1956"
);
src!(
    OKTA_PATCH,
    "Okta: SCIM 2.0 protocol reference — Update a specific User (PATCH)",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_DELETE_USERS,
    "Okta: SCIM 2.0 protocol reference — Delete Users",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_CREATE_GROUPS,
    "Okta: SCIM 2.0 protocol reference — Create Groups",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_RETRIEVE_GROUPS,
    "Okta: SCIM 2.0 protocol reference — Retrieve Groups",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_GROUP_NAME,
    "Okta: SCIM 2.0 protocol reference — Update a specific Group name",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_GROUP_MEMBERS,
    "Okta: SCIM 2.0 protocol reference — Update specific Group membership",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_DELETE_GROUP,
    "Okta: SCIM 2.0 protocol reference — Delete a specific Group",
    "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
);
src!(
    OKTA_FAQ_REQUIREMENTS,
    "Okta: SCIM integration concepts and requirements — SCIM implementation requirements",
    "https://developer.okta.com/docs/concepts/scim/faqs/"
);
src!(
    OKTA_FAQ_MATCHING,
    "Okta: SCIM integration concepts and requirements — User search and matching",
    "https://developer.okta.com/docs/concepts/scim/faqs/"
);
src!(
    OKTA_FAQ_PATCH_PUT,
    "Okta: SCIM integration concepts and requirements — PATCH versus PUT",
    "https://developer.okta.com/docs/concepts/scim/faqs/"
);
src!(
    OKTA_FAQ_UNSUPPORTED,
    "Okta: SCIM integration concepts and requirements — Unsupported SCIM features",
    "https://developer.okta.com/docs/concepts/scim/faqs/"
);
src!(
    OKTA_FAQ_ERRORS,
    "Okta: SCIM integration concepts and requirements — Data validation and error reporting",
    "https://developer.okta.com/docs/concepts/scim/faqs/"
);
src!(
    OKTA_429,
    "Okta: Understanding SCIM — Handle SCIM server rate limiting (HTTP 429)",
    "https://developer.okta.com/docs/concepts/scim/"
);
src!(
    OKTA_DEPROVISION,
    "Okta: Understanding SCIM — Delete (Deprovision)",
    "https://developer.okta.com/docs/concepts/scim/"
);
src!(
    OKTA_SPEC_TEST,
    "Okta SCIM 2.0 Spec test (the Runscope suite Okta requires before OIN submission)",
    "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json"
);
src!(
    OKTA_CRUD_TEST,
    "Okta SCIM 2.0 CRUD test",
    "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-CRUD-Test.json"
);
src!(
    OKTA_TEST_GUIDE,
    "Okta: Test your SCIM API — Run Okta SPEC tests against your SCIM server",
    "https://developer.okta.com/docs/guides/scim-provisioning-integration-prepare/main/"
);
src!(
    OKTA_KB_HEADERS,
    "Okta support: SCIM provisioning returns \"Sync user in external application\" failure",
    "https://support.okta.com/help/s/article/scim-provisioning-returning-sync-user-in-external-application-failure"
);
src!(
    OKTA_KB_STRING_COUNTERS,
    "Okta community: SCIM provisioning error with a string startIndex",
    "https://support.okta.com/help/s/question/0D54z0000A4i091CQA/scim-provisioning-error-with-okta-scim-api?language=en_US"
);
src!(
    OKTA_DEVFORUM_27262,
    "Okta developer forum: SCIM provisioning fails due to incorrect search filter (lookup misses, POST gets 409)",
    "https://devforum.okta.com/t/scim-provisioning-fails-due-to-incorrect-search-filter/27262"
);
src!(
    OKTA_GROUP_PUSH_HELP,
    "Okta Help: Troubleshooting Group Push",
    "https://help.okta.com/en-us/Content/Topics/users-groups-profiles/usgp-group-push-troubleshoot.htm"
);
src!(
    OKTA_FIRST_LAST_OPTIONAL,
    "Okta Help: Make first and last name optional in user profiles",
    "https://help.okta.com/oie/en-us/Content/Topics/users-groups-profiles/usgp-first-last-optional.htm"
);
src!(
    OKTA_BLOG_FLASK,
    "Okta developer blog: Okta, SCIM and Flask (captured Group Push traffic)",
    "https://developer.okta.com/blog/2021/07/14/flask-scim-server"
);
src!(
    OKTA_PATCH_501,
    "oktadeveloper/okta-blog-archive#1956 (Okta does not fall back to PUT when PATCH answers 501)",
    "https://github.com/oktadeveloper/okta-blog-archive/pull/1956"
);

// ---- Microsoft Entra ID ----------------------------------------------------------------------
src!(
    ENTRA_TUT_IMPLEMENTATION,
    "Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint — Understand the Microsoft Entra SCIM implementation",
    "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
);
src!(
    ENTRA_TUT_REFERENCE_CHECK,
    "Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint — Handling provisioning and deprovisioning of users → Example 4. Query the value of a reference attribute to be updated",
    "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
);
src!(
    ENTRA_TUT_PROVISION_NULLS,
    "Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint — Handling provisioning and deprovisioning of users → Example 2. Provision a user",
    "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
);
src!(
    ENTRA_KNOWN_ISSUES_NULLS,
    "Microsoft Learn: Known issues for provisioning — null attributes are skipped",
    "https://learn.microsoft.com/entra/identity/app-provisioning/known-issues"
);
src!(
    ENTRA_TUT_USERS,
    "Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint — User Operations",
    "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
);
src!(
    ENTRA_TUT_GROUPS,
    "Microsoft Learn: Tutorial — Develop and plan provisioning for a SCIM endpoint — Group Operations",
    "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
);
src!(
    ENTRA_COMPAT,
    "Microsoft Learn: Known issues and resolutions with SCIM 2.0 protocol compliance (aadOptscim062020)",
    "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility"
);
src!(
    ENTRA_LOGS,
    "Microsoft Learn: How to analyze the provisioning logs — Error codes",
    "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs"
);
src!(
    ENTRA_QUARANTINE,
    "Microsoft Learn: Application provisioning in quarantine status",
    "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status"
);
src!(
    ENTRA_HOW,
    "Microsoft Learn: How Application Provisioning works in Microsoft Entra ID — Deprovisioning and Known limitations",
    "https://learn.microsoft.com/entra/identity/app-provisioning/how-provisioning-works"
);
src!(
    ENTRA_POD,
    "Microsoft Learn: On-demand provisioning in Microsoft Entra ID",
    "https://learn.microsoft.com/entra/identity/app-provisioning/provision-on-demand"
);
src!(
    ENTRA_CUSTOMIZE,
    "Microsoft Learn: Customize user provisioning attribute-mappings",
    "https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes"
);
src!(
    ENTRA_ROLES,
    "Microsoft Learn: Customize user provisioning attribute-mappings — Provisioning a role to a SCIM app",
    "https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes#provisioning-a-role-to-a-scim-app"
);
src!(
    ENTRA_FUNCTIONS,
    "Microsoft Learn: Reference for writing expressions for attribute mappings",
    "https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data"
);
src!(
    ENTRA_DISCOVERY,
    "Microsoft Learn: Account discovery (pages through all target users)",
    "https://learn.microsoft.com/entra/identity/app-provisioning/how-to-account-discovery"
);
src!(
    ENTRA_VALIDATOR_JSON,
    "MicrosoftDocs/azure-docs#104859 (the SCIM Validator aborts on application/json)",
    "https://github.com/MicrosoftDocs/azure-docs/issues/104859"
);
src!(
    ENTRA_NO_ACCEPT,
    "MicrosoftDocs/azure-docs#94189 (Entra's Test Connection sends no Accept header)",
    "https://github.com/MicrosoftDocs/azure-docs/issues/94189"
);
src!(
    ENTRA_STRING_BOOLEAN,
    "AzureAD/SCIMReferenceCode#21 (Entra sends booleans as strings)",
    "https://github.com/AzureAD/SCIMReferenceCode/issues/21"
);
src!(
    ENTRA_REMOVE_ALL,
    "MicrosoftDocs/azure-docs#30826 (a single-member Remove empties the group on RFC-literal servers)",
    "https://github.com/MicrosoftDocs/azure-docs/issues/30826"
);
src!(
    ENTRA_MANAGER_STRING,
    "Captain-P-Goldfish/SCIM-SDK#541 (Entra writes manager as a bare string)",
    "https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/541"
);
src!(
    ENTRA_404_QUARANTINE,
    "grokability/snipe-it#11913 (\"An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK\")",
    "https://github.com/grokability/snipe-it/issues/11913"
);
src!(
    ENTRA_NULL_RESOURCES,
    "elimity-com/scim#127 (\"Resources\": null quarantines Azure provisioning)",
    "https://github.com/elimity-com/scim/issues/127"
);
src!(
    ENTRA_VALIDATOR_CASE,
    "jelhub/scimgateway#89 (the SCIM Validator matches userName in another case)",
    "https://github.com/jelhub/scimgateway/issues/89"
);

// ---- Public bug reports behind IdP-breaking server faults -----------------------------------
src!(
    BUG_NON_JSON_ERRORS,
    "Metatavu/keycloak-scim-server#100 (Okta shows a JSON parse error for a plain-text error body)",
    "https://github.com/Metatavu/keycloak-scim-server/issues/100"
);
src!(
    BUG_RENAME_ID_REJECTED,
    "Metatavu/keycloak-scim-server#113 (a 400 on Okta's rename PATCH stops membership pushes)",
    "https://github.com/Metatavu/keycloak-scim-server/pull/113"
);
src!(
    BUG_INACTIVE_HIDDEN,
    "Metatavu/keycloak-scim-server#74 (inactive users hidden from filters: not found, then 409)",
    "https://github.com/Metatavu/keycloak-scim-server/issues/74"
);
src!(
    BUG_SILENT_NOOP,
    "Metatavu/keycloak-scim-server#112 (a silent no-op update: \"Okta sees success and stops retrying\")",
    "https://github.com/Metatavu/keycloak-scim-server/pull/112"
);
src!(
    BUG_ITEMS_PER_PAGE,
    "ory/polis#4054 (itemsPerPage must be the page length, and Okta's OIN review pages past the end)",
    "https://github.com/ory/polis/pull/4054"
);
src!(
    BUG_FILTERED_REMOVE,
    "goauthentik/authentik#25686 (filtered member removal acknowledged but ignored)",
    "https://github.com/goauthentik/authentik/issues/25686"
);
src!(
    BUG_RENAME_WIPES,
    "langwatch/langwatch#7131 (a path-less replace without members empties the group)",
    "https://github.com/langwatch/langwatch/issues/7131"
);
src!(
    BUG_PATHLESS,
    "pond/scimitar#29 (path-less PATCH operations not supported)",
    "https://github.com/pond/scimitar/pull/29"
);
src!(
    BUG_USERNAME_CASE,
    "zulip/zulip#21758 (userName lookups must ignore case)",
    "https://github.com/zulip/zulip/issues/21758"
);
src!(
    BUG_USERNAME_PRESERVE,
    "PostHog/posthog#42253 (\"SCIM expects userName to preserve case\")",
    "https://github.com/PostHog/posthog/pull/42253"
);
src!(
    BUG_EMPTY_RESOURCES,
    "elimity-com/scim#78 (Okta's tests fail when Resources is null rather than [])",
    "https://github.com/elimity-com/scim/pull/78"
);
src!(
    BUG_FILTERED_ADD,
    "thomaspoignant/scim-patch#176 (an add on a filtered path that matches no element is refused)",
    "https://github.com/thomaspoignant/scim-patch/issues/176"
);
src!(
    BUG_FILTERED_ADD_ENTRA,
    "Captain-P-Goldfish/scim-for-keycloak#73 (noTarget for Entra's emails[type eq \"work\"].value)",
    "https://github.com/Captain-P-Goldfish/scim-for-keycloak/issues/73"
);
src!(
    BUG_DUPLICATE_CREATE,
    "grokability/snipe-it#13854 (re-creating a user answers 201 instead of 409)",
    "https://github.com/grokability/snipe-it/issues/13854"
);
src!(
    BUG_DUPLICATE_CASE,
    "langfuse/langfuse#13528 (a userName that differs only in case slipped past the create's duplicate check)",
    "https://github.com/langfuse/langfuse/pull/13528"
);
src!(
    BUG_NO_USER_AGENT,
    "kortix-ai/suna#7297 (Entra omits User-Agent, and a server answered HTML 403)",
    "https://github.com/kortix-ai/suna/pull/7297"
);
src!(
    BUG_DEACTIVATE_404,
    "Okta developer forum: deactivating users vs removing them (a deactivated user must stay readable)",
    "https://devforum.okta.com/t/deactivating-users-vs-removing-them-from-the-organization/24187"
);

// ---- idpsim's own documents (they ship in the repository) -----------------------------------
src!(
    IDPSIM_SCENARIOS,
    "idpsim: scenarios/README.md (the scenario format)",
    "scenarios/README.md"
);
src!(
    IDPSIM_CLEANUP,
    "idpsim: scenarios/README.md — What a run does (cleanup)",
    "scenarios/README.md"
);
src!(
    IDPSIM_AUDIT,
    "idpsim: docs/ARCHITECTURE.md — audit",
    "docs/ARCHITECTURE.md"
);

// Entitlements, custom extension attributes, the manager (issue 17).
src!(
    OKTA_ENT_GUIDE,
    "Okta: Build a SCIM 2.0 server with entitlements — Endpoint call sequence",
    "https://developer.okta.com/docs/guides/scim-with-entitlements/main/"
);
src!(
    OKTA_ENT_SCHEMAS,
    "Okta: Build a SCIM 2.0 server with entitlements — Entitlements schema, Roles schema",
    "https://developer.okta.com/docs/guides/scim-with-entitlements/main/"
);
src!(
    OKTA_ENT_DISCOVERY,
    "Okta: Build a SCIM 2.0 server with entitlements — User schema discovery and Profile Editor",
    "https://developer.okta.com/docs/guides/scim-with-entitlements/main/"
);
src!(
    OKTA_ENT_TEST,
    "Okta SCIM 2.0 Entitlements Test (Runscope, required for an OIN submission with Entitlement Management)",
    "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-Entitlements-Test.json"
);
src!(
    OKTA_ENT_WORKSHOP,
    "Okta blog: Take User Provisioning to the Next Level with Entitlements — Syncing user entitlements (a grant is a PUT of the user)",
    "https://developer.okta.com/blog/2026/01/21/user-entitlements-workshop"
);
src!(
    OKTA_KB_CUSTOM_NAMESPACE,
    "Okta KB: Custom SCIM attribute is not available to map and is not sent to SCIM",
    "https://support.okta.com/help/s/article/custom-scim-attribute-is-not-available-to-map-and-is-not-sent-to-scim"
);
src!(
    ENTRA_LA_TESTS,
    "AzureAD/SCIMReferenceCode: gallery onboarding validation (Schema_Discoverability_Test, SCIM_Update_Manager_Test)",
    "https://github.com/AzureAD/SCIMReferenceCode/blob/master/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md"
);
src!(
    ENTRA_CUSTOM_NO_SCHEMA,
    "MicrosoftDocs/azure-docs#65648 (Entra does not list a custom extension in `schemas`)",
    "https://github.com/MicrosoftDocs/azure-docs/issues/65648"
);
src!(
    SCIM_SDK_539,
    "Captain-P-Goldfish/SCIM-SDK#539 (attributes a server does not define: skipped on POST and PUT, 400 invalidPath on PATCH, for an Entra mapping that sent them)",
    "https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/539"
);
src!(
    OKTA_ENT_USER,
    "Okta: Build a SCIM 2.0 server with entitlements — User with entitlements and roles (the extension's URN in `schemas`, its attributes in its object)",
    "https://developer.okta.com/docs/guides/scim-with-entitlements/main/"
);
src!(
    BUG_EXTENSION_PATCH_IGNORED,
    "simpleidserver/SimpleIdServer#138 (PATCH did not take a schema extension's attributes into account)",
    "https://github.com/simpleidserver/SimpleIdServer/issues/138"
);
src!(
    BUG_EXTENSION_URN_PATH,
    "wso2/product-is#6015 (a PATCH by an extension attribute's URN path answered 400 noTarget)",
    "https://github.com/wso2/product-is/issues/6015"
);
src!(
    BUG_EXTENSION_PATHLESS_URN,
    "elimity-com/scim#204 (an extension's URN key in a path-less PATCH value failed validation)",
    "https://github.com/elimity-com/scim/issues/204"
);
src!(
    SCIM_PATCH_453,
    "thomaspoignant/scim-patch#453 (Entra removes a manager as remove manager[value eq …])",
    "https://github.com/thomaspoignant/scim-patch/issues/453"
);
src!(
    DRAFT_ROLES_ENTITLEMENTS,
    "draft-ietf-scim-roles-entitlements-01 §3 (Role and Entitlement resources)",
    "https://datatracker.ietf.org/doc/html/draft-ietf-scim-roles-entitlements-01#section-3"
);
