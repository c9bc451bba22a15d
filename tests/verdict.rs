//! The verdict a person can trust: findings grouped into distinct problems (root causes first),
//! scenarios that carry on after a failure like the IdP does ("not run: needs step N" for what
//! depends on a failed step), cleanup that verifies its deletes, and trigger probing. The real
//! `idpsim` binary against the built-in server (with quirks) and wiremock servers playing broken
//! servers, over loopback.

use std::path::{Path, PathBuf};
use std::process::Output;

use idpsim::server::{start, Quirk, RunningServer, ServerConfig};

mod common;
use common::{run as idpsim, stable, stdout};

const TOKEN: &str = "t0ken-for-the-verdict";

/// The block a person reads first: `N distinct problem(s):` and its lines, plus the verdict.
fn problems_block(text: &str) -> String {
    let mut out: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("distinct problem(s):"))
        .take_while(|l| !l.is_empty())
        .collect();
    out.extend(
        text.lines()
            .filter(|l| l.starts_with("FAILED:") || l.starts_with("PASSED:")),
    );
    out.join("\n")
}

fn report_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON report"))
        .expect("the report is JSON")
}

fn quirky_server(rt: &tokio::runtime::Runtime, quirks: &[&str]) -> RunningServer {
    rt.block_on(start(ServerConfig {
        token: Some(TOKEN.into()),
        quirks: quirks
            .iter()
            .map(|q| Quirk::from_name(q).expect("a known quirk"))
            .collect(),
        ..Default::default()
    }))
    .expect("the built-in server starts")
}

fn run_against(server: &RunningServer, paths: &[&str], report: &Path) -> Output {
    let url = server.base_url();
    let mut args = vec!["run"];
    args.extend_from_slice(paths);
    args.extend_from_slice(&[
        "--target",
        &url,
        "--token",
        TOKEN,
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    idpsim(&args)
}

#[allow(dead_code)]
fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// One fault, one line: the built-in server with `string-counters` answers every list with
/// string counters. That is one problem however many scenarios and lookups show it.
#[test]
fn string_counters_are_one_distinct_problem_at_the_top() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = quirky_server(&rt, &["string-counters"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = run_against(&server, &[], &report);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    insta::assert_snapshot!("string_counters_problems", stable(&problems_block(&text)));
    let json = report_json(&report);
    let problems = json["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["rule"], "rfc7644.list.integer-counters");
    assert_eq!(json["summary"]["problems"], 1);
    let steps = problems[0]["steps"].as_u64().expect("steps");
    assert!(steps > 10, "many places, one problem: {steps}");
    assert_eq!(
        problems[0]["places"].as_array().map(Vec::len),
        Some(steps as usize)
    );
    // Every finding of it is counted once per exchange.
    for sc in json["scenarios"].as_array().expect("scenarios") {
        for step in sc["steps"].as_array().expect("steps") {
            let mut seen = Vec::new();
            for f in step["findings"].as_array().expect("findings") {
                let key = (f["rule"].clone(), f["exchange"].clone());
                assert!(!seen.contains(&key), "twice on one exchange: {f}");
                seen.push(key);
            }
        }
    }
    rt.block_on(server.shutdown());
}

const TWO_FAULTS: &str = r#"name: Two independent faults
steps:
  - name: create a user
    request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "dup-{{ run }}@example.com" }
    expect: { status: 201 }
    capture: { user_id: /id }
  - name: find it by userName
    request: { method: GET, path: "/Users?filter=userName%20eq%20%22dup-{{ run }}%40example.com%22" }
    expect:
      status: 200
      body: { totalResults: 1, Resources: [{ userName: "dup-{{ run }}@example.com" }] }
  - name: the same userName again is a conflict
    request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "dup-{{ run }}@example.com" }
    expect: { status: 409 }
  - name: create a group
    request:
      method: POST
      path: /Groups
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "team {{ run }}" }
    expect: { status: 201 }
    capture: { group_id: /id }
  - name: read the group back
    request: { method: GET, path: "/Groups/{{ group_id }}" }
    expect: { status: 200 }
  - name: read the user back
    request: { method: GET, path: "/Users/{{ user_id }}" }
    expect: { status: 200 }
"#;

/// A server that ignores filters (every query returns the same other user), accepts duplicate
/// userNames and fails group creates: each fault is its own problem, and the step that needs
/// the group's id is not run rather than failed.
async fn broken_server() -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let scim = |status: u16, body: serde_json::Value| {
        ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
    };
    let someone = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-someone", "userName": "someone.else@example.com", "active": true,
        "meta": { "resourceType": "User" }
    });
    Mock::given(method("GET"))
        .and(path("/ServiceProviderConfig"))
        .respond_with(scim(404, serde_json::json!({})))
        .mount(&server)
        .await;
    let created = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u-new", "userName": "dup@example.com", "active": true,
        "meta": { "resourceType": "User" }
    });
    Mock::given(method("POST"))
        .and(path("/Users"))
        .respond_with(
            scim(201, created.clone())
                .insert_header("Location", format!("{}/Users/u-new", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Users/u-new"))
        .respond_with(scim(200, created))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Users"))
        .respond_with(scim(
            200,
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [someone]
            }),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/Groups"))
        .respond_with(scim(
            500,
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "500", "detail": "group store unavailable"
            }),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

#[test]
fn independent_faults_after_a_failure_are_all_reported() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(broken_server());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_scenario(dir.path(), "two-faults.yaml", TWO_FAULTS);
    let report = dir.path().join("r.json");
    let out = idpsim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stable(&stdout(&out)).replace(&*dir.path().to_string_lossy(), "DIR");
    insta::assert_snapshot!("two_independent_faults", text);
    let json = report_json(&report);
    let keys: Vec<&str> = json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["key"].as_str())
        .collect();
    // The ignored filter (step 2), the accepted duplicate (step 3), the failed group create
    // (step 4): three problems, none hidden behind the first.
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter().any(|k| k.starts_with("expect.body@")),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter()
            .filter(|k| k.starts_with("expect.status@"))
            .count(),
        2,
        "{keys:?}"
    );
    let steps = json["scenarios"][0]["steps"].as_array().expect("steps");
    let outcomes: Vec<&str> = steps.iter().filter_map(|s| s["outcome"].as_str()).collect();
    assert_eq!(
        outcomes,
        ["passed", "failed", "failed", "failed", "not-run", "passed"],
        "{steps:#?}"
    );
    assert_eq!(
        steps[4]["needs"],
        serde_json::json!({"phase": "step", "index": 4})
    );
    assert!(steps[4]["findings"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(json["summary"]["not_run"], 1);
    assert_eq!(
        json["summary"]["errors"], 3,
        "a step not run is not a failure"
    );

    // A baseline entry for the step that did not run is unverified, not fixed.
    let baseline = dir.path().join("baseline.toml");
    std::fs::write(
        &baseline,
        format!(
            "version = 1\n\n[[known]]\nfile = {:?}\nscenario = \"Two independent faults\"\nstep = 5\nrule = \"expect.status\"\n",
            json["scenarios"][0]["file"].as_str().expect("file")
        ),
    )
    .expect("write baseline");
    let out = idpsim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "--baseline",
        baseline.to_str().expect("utf-8"),
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("UNVERIFIED") && text.contains("the step did not run: needs step 4"),
        "{text}"
    );
}

/// Where the IdP itself cannot go on, neither does the scenario: once the server refuses the
/// run's credentials, the steps after are not run (they would all be 401s). A step that tests
/// the 401 on purpose (`auth: none`) is not a refusal.
#[test]
fn refused_credentials_stop_the_scenario_where_the_idp_stops() {
    use wiremock::matchers::{header_exists, method};
    use wiremock::{Mock, ResponseTemplate};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        let unauthorized = ResponseTemplate::new(401).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad token"}"#,
            "application/scim+json",
        );
        Mock::given(method("GET"))
            .and(header_exists("authorization"))
            .and(wiremock::matchers::path("/ServiceProviderConfig"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(unauthorized)
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_scenario(
        dir.path(),
        "refused.yaml",
        r#"name: Refused credentials
steps:
  - name: without credentials the server answers 401
    request: { method: GET, path: /Users, auth: none }
    expect: { status: 401 }
  - name: create a user
    request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "u-{{ run }}@example.com" }
    expect: { status: 201 }
  - name: list users
    request: { method: GET, path: /Users }
    expect: { status: 200 }
"#,
    );
    let report = dir.path().join("r.json");
    let out = idpsim(&[
        "run",
        file.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "--token",
        "wrong-token",
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json = report_json(&report);
    let steps = json["scenarios"][0]["steps"].as_array().expect("steps");
    let outcomes: Vec<&str> = steps.iter().filter_map(|s| s["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["passed", "failed", "not-run"], "{steps:#?}");
    assert_eq!(
        steps[2]["skip_reason"],
        "needs step 2: the server refused the run's credentials (401 Unauthorized), and the IdP stops provisioning there"
    );
    assert!(steps[2]["exchanges"].as_array().is_some_and(Vec::is_empty));
}
