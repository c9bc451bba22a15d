//! The Entra profile over real sockets: the shipped Entra scenarios against the built-in server
//! (clean in both modes, and with each quirk Entra must catch), broken servers via wiremock
//! (429, 5xx), load-time expression errors, and the expansions against the recordings in
//! `fixtures/recordings/entra/`.

use std::path::{Path, PathBuf};

use idpsim::server::Quirk;
use serde_json::Value;

mod common;
use common::{root, run_async as idpsim};

const TOKEN: &str = "entra-test-token";

/// Runs the shipped Entra scenarios against `target`; returns the exit code and the report.
async fn run_entra(target: &str, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let mut args: Vec<String> = vec![
        "run".into(),
        "scenarios/entra".into(),
        "--target".into(),
        target.into(),
        "--token".into(),
        TOKEN.into(),
        "--time-scale".into(),
        "0".into(),
        "--report-json".into(),
        report.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = idpsim(args).await;
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).expect("report is JSON"),
    )
}

fn findings(report: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for s in report["scenarios"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            out.extend(st["findings"].as_array().into_iter().flatten().cloned());
        }
    }
    out
}

fn error_rules(report: &Value) -> Vec<String> {
    findings(report)
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_scenarios_pass_in_both_modes_against_the_clean_server() {
    let srv = common::start_server(TOKEN, vec![]).await;
    for target in [
        srv.base_url(),
        format!("{}?aadOptscim062020", srv.base_url()),
    ] {
        let (code, report) = run_entra(&target, &[]).await;
        assert_eq!(code, 0, "{target}: {:?}", error_rules(&report));
        assert!(report["scenarios"].as_array().is_some_and(|a| a.len() >= 8));
    }
    srv.shutdown().await;
}

/// Each quirk a real server has must fail a shipped Entra scenario with a finding that names
/// the problem in Entra's terms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_entra_quirk_is_caught() {
    // (quirk, the rule that names it, its severity for Entra: an error where Entra fails or
    // drifts, a warning where it carries on).
    let cases = [
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
        ("hide-inactive-users", "scim.inactive.filter-hides", "error"),
        ("filter-miss-404", "rfc7644.filter.no-match-404", "error"),
        (
            "json-content-type",
            "rfc7644.response.media-type",
            "warning",
        ),
        (
            "ignore-excluded-attributes",
            "rfc7644.query.excluded-attributes",
            "error",
        ),
        ("require-accept-header", "http.accept.required", "error"),
        ("patch-noop-204", "rfc7644.patch.not-applied", "error"),
        (
            "ignore-filtered-member-remove",
            "rfc7644.patch.not-applied",
            "error",
        ),
        ("strict-role-subattributes", "entra.roles.rejected", "error"),
    ];
    for (quirk, rule, severity) in cases {
        let q = Quirk::from_name(quirk).expect("known quirk");
        let srv = common::start_server(TOKEN, vec![q]).await;
        let (code, report) = run_entra(&srv.base_url(), &[]).await;
        srv.shutdown().await;
        let rules = common::judged_findings(&report);
        assert_eq!(
            code,
            i32::from(severity == "error"),
            "{quirk}: exit code, findings {rules:?}"
        );
        // One quirk, one problem: every finding names it, at Entra's severity.
        assert!(
            !rules.is_empty() && rules.iter().all(|r| *r == format!("{rule}:{severity}")),
            "{quirk}: expected only {rule} ({severity}), got {rules:?}"
        );
        // One problem, one finding: the profile's mirror of a built-in rule stays silent when
        // the built-in rule already judged the exchange (it carries Entra's impact instead).
        assert!(
            !rules.iter().any(|r| r == "entra.response.media-type"),
            "{quirk}: duplicate media-type finding in {rules:?}"
        );
    }
}

/// The headline case: default-mode member removal against a strictly-RFC server, explained
/// with the flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_member_removal_finding_explains_the_flag() {
    let srv = common::start_server(TOKEN, vec![Quirk::RejectEntraMemberRemove]).await;
    let (code, report) = run_entra(&srv.base_url(), &["--profile", "default"]).await;
    srv.shutdown().await;
    assert_eq!(code, 1);
    let f = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "entra.patch.remove-member-default-mode")
        .expect("the finding");
    let shown = serde_json::json!({
        "rule": f["rule"], "severity": f["severity"], "message": f["message"],
        "impact": f["impact"], "reference": f["reference"], "diff": f["diff"],
    });
    insta::assert_snapshot!(serde_json::to_string_pretty(&shown).expect("json"));
    // The flag-mode lifecycle passes on the same server: the flag is the fix.
    let srv = common::start_server(TOKEN, vec![Quirk::RejectEntraMemberRemove]).await;
    let (code, report) = run_entra(&srv.base_url(), &["--profile", "aadOptscim062020"]).await;
    srv.shutdown().await;
    assert_eq!(code, 0, "{:?}", error_rules(&report));
}

async fn wiremock_run(mock: &wiremock::MockServer) -> (i32, Value) {
    wiremock_run_file(mock, "scenarios/entra/test-connection.yaml").await
}

async fn wiremock_run_file(mock: &wiremock::MockServer, scenario: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = idpsim(vec![
        "run".into(),
        scenario.into(),
        "--target".into(),
        format!("{}/scim/v2", mock.uri()),
        "--token".into(),
        TOKEN.into(),
        "--time-scale".into(),
        "0".into(),
        "--report-json".into(),
        report.display().to_string(),
    ])
    .await;
    let text = std::fs::read_to_string(&report).expect("report");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).expect("json"),
    )
}

fn empty_list() -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_raw(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#,
        "application/scim+json",
    )
}

/// entra.md §7.5: a 429 with Retry-After is waited out and retried; the probe then passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_probe_is_retried_after_retry_after() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .set_body_raw(
                    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"slow down"}"#,
                    "application/scim+json",
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .respond_with(empty_list())
        .with_priority(5)
        .mount(&mock)
        .await;
    let (code, report) = wiremock_run(&mock).await;
    assert_eq!(code, 0, "{:?}", error_rules(&report));
    let retried: Vec<Value> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "entra.throttle.retried")
        .collect();
    assert_eq!(retried.len(), 1);
    assert!(retried[0]["message"].as_str().unwrap_or("").contains("7s"));
    let requests: Vec<wiremock::Request> = mock
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().contains("/Users") || r.url.path().contains("/Groups"))
        .collect();
    assert_eq!(requests.len(), 3, "429, retry, group probe");
    // Test Connection sends no Accept and no User-Agent (entra.md §2).
    for r in &requests {
        assert!(r.headers.get("accept").is_none());
        assert!(r.headers.get("user-agent").is_none());
    }
}

/// entra.md §7.4: with `retry_5xx: 1` a 5xx is retried once (Entra: in 40 minutes, scaled),
/// then fails; by default it is reported without the 40-minute wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_reported() {
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let mock = MockServer::start().await;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&mock)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("retry.yaml");
    let shipped =
        std::fs::read_to_string("scenarios/entra/test-connection.yaml").expect("shipped scenario");
    std::fs::write(
        &scenario,
        format!("{shipped}\nsettings: {{ retry_5xx: 1 }}\n"),
    )
    .expect("write");
    let (code, report) = wiremock_run_file(&mock, &scenario.display().to_string()).await;
    assert_eq!(code, 1);
    let rules = error_rules(&report);
    assert!(
        rules.contains(&"entra.test-connection.failed".to_string()),
        "{rules:?}"
    );
    let paths: Vec<String> = mock
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_string())
        // idpsim's own preflight (ServiceProviderConfig) is not Entra traffic.
        .filter(|p| p.contains("/Users") || p.contains("/Groups"))
        .collect();
    assert_eq!(
        paths,
        ["/scim/v2/Users", "/scim/v2/Users"],
        "the request and one retry"
    );
}

/// A malformed expression is a load-time error (exit 2, nothing sent) pointing at the column
/// inside the YAML string.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_expression_is_exit_2_with_the_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "name: bad\nidp: entra\nmappings:\n  user:\n    userName: \"[mail]\"\n    active: 'Switch([IsSoftDeleted], , \"False\", \"True\", \"True\")'\n    displayName: Join(\", \", [givenName)\n    title: { source: \"Coalesce([a], Foo(1))\" }\ndirectory:\n  users:\n    alice: { mail: a }\nsteps:\n  - assign: alice\n",
    )
    .expect("write");
    let out = idpsim(vec!["run".into(), file.display().to_string()]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let shown = stderr.replace(&dir.path().display().to_string(), "[dir]");
    assert!(shown.contains("[dir]/bad.yaml:6:14"), "{shown}");
    assert!(shown.contains("[dir]/bad.yaml:7:39"), "{shown}");
    assert!(shown.contains("[dir]/bad.yaml:8:37"), "{shown}");
    insta::assert_snapshot!(shown);
}

// ----- recordings -----------------------------------------------------------------------

fn matches_text(pattern: &str, actual: &str) -> bool {
    let re = format!(
        "^{}$",
        regex::escape(pattern)
            .replace(r"\{any\}", ".*")
            .replace(r"\{id\}", "[^/]+")
    );
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(actual))
}

/// Structural comparison: same keys (minus ignored pointers), same array lengths, same JSON
/// types; strings compared only where they carry the protocol (op, path, schemas,
/// resourceType, type, and "True"/"False"), so generated ids and values don't matter.
fn same_shape(want: &Value, got: &Value, ptr: &str, ignore: &[String]) -> Result<(), String> {
    if ignore.iter().any(|i| i == ptr) {
        return Ok(());
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys = |m: &serde_json::Map<String, Value>| -> Vec<String> {
                let mut k: Vec<String> = m
                    .keys()
                    .filter(|k| !ignore.contains(&format!("{ptr}/{k}")))
                    .cloned()
                    .collect();
                k.sort();
                k
            };
            if keys(w) != keys(g) {
                return Err(format!("{ptr}: keys {:?} vs {:?}", keys(w), keys(g)));
            }
            for (k, v) in w {
                if let Some(gv) = g.get(k) {
                    same_shape(v, gv, &format!("{ptr}/{k}"), ignore)?;
                }
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w
            .iter()
            .zip(g)
            .enumerate()
            .try_for_each(|(i, (a, b))| same_shape(a, b, &format!("{ptr}/{i}"), ignore)),
        (Value::String(w), Value::String(g)) => {
            let last = ptr.rsplit('/').next().unwrap_or("");
            let protocol = matches!(last, "op" | "path" | "resourceType" | "type")
                || ptr.contains("/schemas/")
                || w == "True"
                || w == "False";
            if !protocol || matches_text(w, g) {
                Ok(())
            } else {
                Err(format!("{ptr}: {w:?} vs {g:?}"))
            }
        }
        (w, g) if w == g => Ok(()),
        (w, g) => Err(format!("{ptr}: {w} vs {g}")),
    }
}

fn request_matches(fixture: &Value, line: &Value) -> Result<(), String> {
    let req = &fixture["request"];
    if req["method"] != line["method"] {
        return Err("method".into());
    }
    let url = line["url"].as_str().unwrap_or("");
    let rel = url.split_once("/scim/v2").map(|(_, r)| r).unwrap_or(url);
    let (path, query) = match rel.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rel, None),
    };
    if !matches_text(req["path"].as_str().unwrap_or(""), path) {
        return Err(format!("path {path}"));
    }
    match (req["query"].as_str(), query) {
        (None, None) => {}
        (Some(w), Some(g)) if matches_text(w, g) => {}
        (w, g) => return Err(format!("query {w:?} vs {g:?}")),
    }
    let mut names: Vec<String> = line["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h[0].as_str().map(str::to_ascii_lowercase))
        .filter(|h| h != "authorization")
        .collect();
    names.sort();
    let mut want: Vec<String> = req["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    want.sort();
    if names != want {
        return Err(format!("headers {names:?} vs {want:?}"));
    }
    let ignore: Vec<String> = req["ignore"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    same_shape(&req["body"], &line["body"], "", &ignore)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expansions_match_the_recordings() {
    let dir = root().join("fixtures/recordings/entra");
    let mut fixtures: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p: PathBuf| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read"))
                .expect("fixture JSON");
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                v,
            )
        })
        .collect();
    fixtures.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(fixtures.len() >= 15);
    for mode in ["default", "aadOptscim062020"] {
        let scenario: &Path = &dir.join(format!("replay-{mode}.yaml"));
        let out = idpsim(vec![
            "run".into(),
            scenario.display().to_string(),
            "--dry-run".into(),
            "--format".into(),
            "jsonl".into(),
        ])
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(!lines.is_empty());
        for (name, fx) in fixtures.iter().filter(|(_, f)| f["mode"] == mode) {
            assert!(
                fx["source"].as_str().is_some_and(|s| !s.is_empty()),
                "{name} cites no source"
            );
            let errs: Vec<String> = lines
                .iter()
                .map(|l| request_matches(fx, l))
                .filter_map(Result::err)
                .collect();
            assert!(
                errs.len() < lines.len(),
                "{name}: no expansion matches; closest mismatches: {:?}",
                errs.iter()
                    .filter(|e| e.starts_with('/')
                        || e.starts_with("query")
                        || e.starts_with("headers")
                        || e.starts_with(':'))
                    .take(6)
                    .collect::<Vec<_>>()
            );
        }
    }
}

// ----- app roles ------------------------------------------------------------------------

/// Every request body of a report, in order: (method, path after the base URL, body).
fn requests(report: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for s in report["scenarios"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            for ex in st["exchanges"].as_array().into_iter().flatten() {
                let r = &ex["request"];
                let url = r["url"].as_str().unwrap_or("");
                let path = url.split_once("/scim/v2").map_or(url, |(_, p)| p);
                out.push((
                    r["method"].as_str().unwrap_or("").to_string(),
                    path.split('?').next().unwrap_or("").to_string(),
                    r["body"].clone(),
                ));
            }
        }
    }
    out
}

/// The shipped app-role scenarios against the built-in server: the create and the role PATCH
/// on the wire are the ones Microsoft Learn prints ("Customize user provisioning
/// attribute-mappings" → "Provisioning a role to a SCIM app"), byte for byte where the page
/// fixes them, and the server ends holding the roles the scenario expects (its
/// `expect_server` steps pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_roles_go_on_the_wire_as_documented_and_land_on_the_built_in_server() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let role = |v: &str, key: &str, primary: bool| {
        let mut m = serde_json::Map::new();
        m.insert("primary".into(), Value::Bool(primary));
        m.insert("type".into(), "WindowsAzureActiveDirectoryRole".into());
        if !key.is_empty() {
            m.insert(key.into(), v.into());
        }
        m.insert("value".into(), v.into());
        Value::Object(m)
    };
    let text = |id: &str, v: &str| serde_json::json!({"value": format!(r#"{{"id":"{id}","value":"{v}","displayName":"{v}"}}"#)});
    // (scenario, the create's roles, the role operation of the first PATCH)
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "app-role-single-default",
            serde_json::json!([role("Admin", "", true)]),
            serde_json::json!({"op": "Add", "path": "roles",
                "value": [text("9c3d2e61-4e2b-4f7a-9d1c-1b2f3a4c5d6e", "Writer")]}),
        ),
        (
            "app-role-single-flag",
            serde_json::json!([role("Admin", "", true)]),
            serde_json::json!({"op": "add", "path": "roles", "value": [role("Writer", "", true)]}),
        ),
        (
            "app-roles-complex-default",
            serde_json::json!([
                role("Admin", "displayName", false),
                role("User", "displayName", false)
            ]),
            Value::Null, // the JSON text carries derived ids: checked by shape below
        ),
        (
            "app-roles-complex-flag",
            serde_json::json!([
                role("Admin", "displayName", false),
                role("User", "displayName", false)
            ]),
            serde_json::json!({"op": "add", "path": "roles", "value": [
                role("Admin", "displayName", false), role("User", "displayName", false),
                role("Auditor", "displayName", false)]}),
        ),
        (
            "app-roles-assertive-default",
            serde_json::json!([
                role("User", "display", false),
                role("Test", "display", false)
            ]),
            serde_json::json!({"op": "replace", "path": "roles", "value": [role("User", "display", false)]}),
        ),
        (
            "app-roles-assertive-flag",
            serde_json::json!([
                role("User", "display", false),
                role("Test", "display", false)
            ]),
            serde_json::json!({"op": "replace", "path": "roles", "value": [role("User", "display", false)]}),
        ),
    ];
    for (name, create_roles, first_patch) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("report.json");
        let out = idpsim(vec![
            "run".into(),
            format!("scenarios/entra/{name}.yaml"),
            "--target".into(),
            srv.base_url(),
            "--token".into(),
            TOKEN.into(),
            "--report-json".into(),
            report.display().to_string(),
        ])
        .await;
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("a report"))
                .expect("report is JSON");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {:?}",
            error_rules(&report)
        );
        let reqs = requests(&report);
        let create = reqs
            .iter()
            .find(|(m, p, _)| m == "POST" && p == "/Users")
            .map(|(_, _, b)| b.clone())
            .expect("a create");
        assert_eq!(
            create["roles"].to_string(),
            create_roles.to_string(),
            "{name}: create"
        );
        let patches: Vec<&Value> = reqs
            .iter()
            .filter(|(m, _, _)| m == "PATCH")
            .map(|(_, _, b)| b)
            .collect();
        assert!(!patches.is_empty(), "{name}: no PATCH");
        let ops = patches[0]["Operations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(ops.len(), 1, "{name}: one role operation: {ops:?}");
        if first_patch.is_null() {
            // Add on roles, each element `{"value": "<the assignment as JSON text>"}`.
            assert_eq!(ops[0]["op"], "Add", "{name}");
            assert_eq!(ops[0]["path"], "roles", "{name}");
            let values: Vec<String> = ops[0]["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_object())
                .filter(|e| e.len() == 1)
                .filter_map(|e| e["value"].as_str())
                .filter_map(|t| serde_json::from_str::<Value>(t).ok())
                .filter(|o| {
                    o.as_object().is_some_and(|o| {
                        o.keys().map(String::as_str).collect::<Vec<_>>()
                            == ["id", "value", "displayName"]
                    })
                })
                .filter_map(|o| o["value"].as_str().map(str::to_string))
                .collect();
            assert_eq!(values, ["Admin", "User", "Auditor"], "{name}: {ops:?}");
        } else {
            assert_eq!(ops[0].to_string(), first_patch.to_string(), "{name}: PATCH");
        }
        // AppRoleAssignmentsComplex only adds: unassigning a role sends nothing.
        if name.starts_with("app-roles-complex") {
            assert_eq!(patches.len(), 1, "{name}: a second PATCH was sent");
        }
    }
    srv.shutdown().await;
}
