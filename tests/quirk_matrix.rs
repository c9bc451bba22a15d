//! The verdict, end to end: the whole shipped suite against the built-in reference server,
//! clean and with each of its quirks (real servers' bugs), over loopback.
//!
//! - Clean, the suite reports nothing: no error, no warning.
//! - With one quirk, it reports exactly one distinct problem, and that problem names the quirk's
//!   fault (its rule id), at the severity the IdPs' consequence gives it.
//! - With two quirks, both problems are reported: one fault does not hide another.
//! - Every rule id any of these runs emits is in the rule catalogue.
//!
//! "Distinct problem" is the definition shared with the report's grouping: findings with the
//! same rule id are one problem, except `expect.*` findings of an expectation that names no
//! rule, which are keyed by (rule id, scenario file, the expectation's line). Info findings are
//! not problems.
//!
//! The two concurrency quirks (`lose-concurrent-writes`, `duplicate-on-race`) need parallel
//! writes at scale to show; they are found by `idpsim load`'s audit (tests/load.rs), not by the
//! functional scenarios, and are left out here.

use std::collections::BTreeMap;
use std::process::Command;

use idpsim::server::{start, Quirk, ServerConfig};
use serde_json::Value;

const TOKEN: &str = "verdict-test-token";

/// A problem as the report's reader sees it: its key, the graver severity among its findings,
/// and where it showed (for failure messages).
#[derive(Debug)]
struct Problem {
    severity: String,
    places: Vec<String>,
}

fn problems(report: &Value) -> BTreeMap<String, Problem> {
    let mut out: BTreeMap<String, Problem> = BTreeMap::new();
    for sc in report["scenarios"].as_array().into_iter().flatten() {
        let file = sc["file"].as_str().unwrap_or("?");
        let steps = sc["steps"].as_array().into_iter().flatten();
        let cleanup = sc["cleanup"].as_array().into_iter().flatten();
        for step in steps.chain(cleanup) {
            for f in step["findings"].as_array().into_iter().flatten() {
                let severity = f["severity"].as_str().unwrap_or("?").to_string();
                if severity == "info" {
                    continue;
                }
                let rule = f["rule"].as_str().unwrap_or("?");
                let key = if rule.starts_with("expect.") {
                    format!(
                        "{rule} @ {}:{}",
                        f["source"]["file"].as_str().unwrap_or(file),
                        f["source"]["line"]
                    )
                } else {
                    rule.to_string()
                };
                let p = out.entry(key).or_insert(Problem {
                    severity: severity.clone(),
                    places: Vec::new(),
                });
                if severity == "error" {
                    p.severity = severity;
                }
                p.places.push(format!(
                    "{file} step {}: {}",
                    step["index"],
                    f["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

/// Every rule id in a report (info included), for the catalogue check.
fn rule_ids(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for sc in report["scenarios"].as_array().into_iter().flatten() {
        let steps = sc["steps"].as_array().into_iter().flatten();
        let cleanup = sc["cleanup"].as_array().into_iter().flatten();
        for step in steps.chain(cleanup) {
            for f in step["findings"].as_array().into_iter().flatten() {
                if let Some(r) = f["rule"].as_str() {
                    out.push(r.to_string());
                }
            }
        }
    }
    out
}

/// The whole shipped suite against a built-in server with these quirks: the JSON report.
async fn run_suite(quirks: &[Quirk]) -> (i32, Value) {
    let srv = start(ServerConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..Default::default()
    })
    .await
    .expect("start the built-in server");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let base = srv.base_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_idpsim"))
            .args(["run", "--target", &base, "--no-config", "--color", "never"])
            .args(["--time-scale", "0.001"])
            .arg("--report-json")
            .arg(&report)
            .env("IDPSIM_TOKEN", TOKEN)
            .output()
            .map(|o| (o, std::fs::read_to_string(&report).unwrap_or_default()))
    })
    .await
    .expect("join")
    .expect("run idpsim");
    srv.shutdown().await;
    let (o, text) = out;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (o.status.code().unwrap_or(-1), json)
}

fn quirk(name: &str) -> Quirk {
    Quirk::from_name(name).unwrap_or_else(|| panic!("unknown quirk {name}"))
}

/// Each quirk's fault, as the rule that names it, and the severity the graver IdP gives it.
const MATRIX: &[(&str, &str, &str)] = &[
    (
        "case-sensitive-username-filter",
        "rfc7643.username.case-insensitive",
        "error",
    ),
    // userName unique ignoring case (RFC 7643 §4.1.1): Okta and Entra look the userName up
    // (case-insensitively) before they create, so only a create without the lookup shows it.
    (
        "case-sensitive-username-uniqueness",
        "rfc7644.create.uniqueness",
        "warning",
    ),
    ("create-returns-200", "rfc7644.create.status", "warning"),
    ("string-counters", "rfc7644.list.integer-counters", "error"),
    (
        "omit-empty-resources",
        "rfc7644.list.resources-omitted",
        "warning",
    ),
    ("html-404", "rfc7644.error.json", "warning"),
    (
        "ignore-pathless-patch",
        "rfc7644.patch.not-applied",
        "error",
    ),
    (
        "rename-wipes-members",
        "rfc7644.patch.replace-empties-members",
        "error",
    ),
    (
        "deactivate-deletes-user",
        "scim.deactivate.deletes",
        "error",
    ),
    ("no-duplicate-check", "rfc7644.create.uniqueness", "warning"),
    ("patch-noop-204", "rfc7644.patch.not-applied", "error"),
    (
        "reject-entra-member-remove",
        "entra.patch.remove-member-default-mode",
        "error",
    ),
    (
        "rfc-literal-member-remove",
        "entra.patch.remove-member-emptied-group",
        "error",
    ),
    (
        "reject-string-booleans",
        "entra.patch.string-boolean-rejected",
        "error",
    ),
    ("reject-scim-accept", "http.accept.rejected", "error"),
    ("hide-inactive-users", "scim.inactive.filter-hides", "error"),
    (
        "reject-readonly-on-put",
        "okta.put.readonly-rejected",
        "error",
    ),
    (
        "reject-id-in-patch-value",
        "okta.group.rename-rejected",
        "error",
    ),
    (
        "ignore-filtered-member-remove",
        "rfc7644.patch.not-applied",
        "error",
    ),
    ("filter-miss-404", "rfc7644.filter.no-match-404", "error"),
    (
        "items-per-page-is-count",
        "rfc7644.list.items-per-page",
        "warning",
    ),
    (
        "json-content-type",
        "rfc7644.response.media-type",
        "warning",
    ),
    (
        "error-status-integer",
        "rfc7644.error.status-string",
        "warning",
    ),
    (
        "ignore-excluded-attributes",
        "rfc7644.query.excluded-attributes",
        "error",
    ),
    ("require-accept-header", "http.accept.required", "error"),
    ("return-password", "rfc7643.password.returned", "error"),
    (
        "duplicate-members",
        "rfc7643.multi-valued.duplicate",
        "warning",
    ),
    // Okta entitlements (roles and entitlements discovery, grants, import).
    (
        "catalog-ignores-count",
        "scim.entitlements.page-size",
        "warning",
    ),
    (
        "catalog-list-wrong-schemas",
        "scim.entitlements.list-schema",
        "warning",
    ),
    (
        "resource-type-schema-missing",
        "scim.discovery.extension-schema-missing",
        "error",
    ),
    (
        "drop-assignments-on-put",
        "scim.assignment.not-applied",
        "error",
    ),
    (
        "list-omits-assignments",
        "scim.assignment.not-imported",
        "error",
    ),
    // Custom extension attributes (Entra and Okta).
    (
        "strip-custom-extension",
        "scim.custom-attribute.not-stored",
        "error",
    ),
    (
        "reject-unlisted-extension",
        "scim.custom-attribute.unlisted-rejected",
        "error",
    ),
    (
        "reject-custom-urn-patch",
        "scim.custom-attribute.patch-rejected",
        "error",
    ),
    (
        "custom-extension-not-advertised",
        "scim.custom-attribute.not-advertised",
        "error",
    ),
    // A server without the extension at all: one cause, one problem (not one per write and
    // one for /Schemas).
    (
        "no-custom-extension",
        "scim.custom-attribute.unsupported",
        "error",
    ),
    // Entra's app roles, as Microsoft documents them.
    ("strict-role-subattributes", "entra.roles.rejected", "error"),
    // Entra's Add on a filtered path for a value the user has none of.
    (
        "filtered-add-no-target",
        "rfc7644.patch.add-no-target",
        "error",
    ),
    // Entra's manager reference.
    (
        "reject-manager-filter-remove",
        "scim.manager.remove-rejected",
        "error",
    ),
    // The SCIM server's answers to credentials (the token endpoint's quirks are below).
    (
        "auth-no-www-authenticate",
        "rfc7235.www-authenticate",
        "warning",
    ),
    (
        "auth-403-invalid-token",
        "rfc6750.invalid-token-status",
        "error",
    ),
];

/// Found by `idpsim load` (tests/load.rs), not by the functional suite.
const BY_LOAD: &[&str] = &["lose-concurrent-writes", "duplicate-on-race"];

/// The token endpoint's quirks show only when the run gets its token from the server (OAuth
/// modes); tests/auth.rs runs each auth mode with each of them and asserts one problem each.
const BY_AUTH_MODES: &[&str] = &[
    "token-form-encoded",
    "token-no-expires-in",
    "refresh-revoked-without-replacement",
];

fn assert_catalogued(report: &Value, what: &str) {
    for id in rule_ids(report) {
        assert!(
            idpsim::check::catalogue::is_known(&id),
            "{what}: rule `{id}` is not in the catalogue (src/check/catalogue.rs)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_server_gives_no_problem() {
    let (code, report) = run_suite(&[]).await;
    let found = problems(&report);
    assert!(found.is_empty(), "clean server: {found:#?}");
    assert_eq!(code, 0);
    assert_catalogued(&report, "clean");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_quirk_gives_exactly_one_problem_that_names_it() {
    let listed: Vec<&str> = Quirk::all().iter().map(|q| q.name).collect();
    for name in &listed {
        assert!(
            MATRIX.iter().any(|(q, _, _)| q == name)
                || BY_LOAD.contains(name)
                || BY_AUTH_MODES.contains(name),
            "quirk {name} has no row in the verdict matrix"
        );
    }
    for (name, rule, severity) in MATRIX {
        let (code, report) = run_suite(&[quirk(name)]).await;
        let found = problems(&report);
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            vec![*rule],
            "quirk {name}: expected exactly one problem, {rule}; got {found:#?}"
        );
        assert_eq!(found[*rule].severity, *severity, "quirk {name}: {found:#?}");
        assert_eq!(
            code,
            i32::from(*severity == "error"),
            "quirk {name}: exit code"
        );
        assert_catalogued(&report, name);
    }
}

/// A sample of pairs on independent paths: both problems show, one does not hide the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_quirks_give_both_problems() {
    let pairs = [
        ("json-content-type", "ignore-filtered-member-remove"),
        ("no-duplicate-check", "ignore-excluded-attributes"),
        ("reject-string-booleans", "rename-wipes-members"),
        ("case-sensitive-username-filter", "reject-readonly-on-put"),
        // Servers that compare userName case-sensitively often do it in both places.
        (
            "case-sensitive-username-filter",
            "case-sensitive-username-uniqueness",
        ),
        ("filter-miss-404", "reject-id-in-patch-value"),
        ("error-status-integer", "deactivate-deletes-user"),
        ("items-per-page-is-count", "hide-inactive-users"),
        ("html-404", "reject-entra-member-remove"),
        ("string-counters", "hide-inactive-users"),
    ];
    let rule_of = |q: &str| {
        MATRIX
            .iter()
            .find(|(name, _, _)| *name == q)
            .map(|(_, r, _)| *r)
            .unwrap_or_else(|| panic!("no row for {q}"))
    };
    for (a, b) in pairs {
        let (_, report) = run_suite(&[quirk(a), quirk(b)]).await;
        let found = problems(&report);
        let mut want = vec![rule_of(a), rule_of(b)];
        want.sort();
        assert_eq!(
            found.keys().map(String::as_str).collect::<Vec<_>>(),
            want,
            "quirks {a} + {b}: {found:#?}"
        );
    }
}
