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
async fn broken_server(read_returns_someone_else: bool) -> wiremock::MockServer {
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
    let read = if read_returns_someone_else {
        someone.clone()
    } else {
        created
    };
    // Read once by the one scenario, then gone once cleanup deleted it; the server that
    // returns someone else keeps doing so (and so never seems to delete).
    let read = Mock::given(method("GET"))
        .and(path("/Users/u-new"))
        .respond_with(scim(200, read));
    let read = if read_returns_someone_else {
        read
    } else {
        read.up_to_n_times(1)
    };
    read.mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/Users/u-new"))
        .respond_with(scim(404, serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"})))
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
    let server = rt.block_on(broken_server(false));
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
    // The ignored filter is the built-in rule's finding (the expectation's mismatch at the
    // same pointer folds into it).
    assert!(keys.contains(&"rfc7644.filter.ignored"), "{keys:?}");
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
        let unauthorized = ResponseTemplate::new(401)
            .insert_header("WWW-Authenticate", "Bearer realm=\"test\"")
            .set_body_raw(
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
        "needs step 2: the client cannot go on: the server answered 401 to credentials idpsim holds as valid"
    );
    assert!(steps[2]["exchanges"].as_array().is_some_and(Vec::is_empty));
}

/// Every report carries the same grouping: JUnit's `distinct problems` suite, the Markdown and
/// HTML problems tables first, and one GitHub annotation per problem listing its other places.
#[test]
fn every_report_format_opens_with_the_distinct_problems() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // Reading the created user back returns another one: a built-in rule's finding in both
    // scenarios, so one problem with two places.
    let server = rt.block_on(broken_server(true));
    let dir = tempfile::tempdir().expect("tempdir");
    let first = write_scenario(dir.path(), "a.yaml", TWO_FAULTS);
    let second = write_scenario(
        dir.path(),
        "b.yaml",
        &TWO_FAULTS.replace("Two independent faults", "The same faults again"),
    );
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let out = idpsim(&[
        "run",
        first.to_str().expect("utf-8"),
        second.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "--report-junit",
        &path("r.xml"),
        "--report-md",
        &path("r.md"),
        "--report-html",
        &path("r.html"),
        "--format",
        "github",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let clean = |t: &str| stable(&t.replace(&*dir.path().to_string_lossy(), "DIR"));

    let annotations: String = stdout(&out)
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("problems_github", clean(&annotations));

    let xml = std::fs::read_to_string(path("r.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("distinct problems"))
        .expect("a distinct problems testsuite");
    // Two scenarios' expectations (their own lines: two problems each), the shared ignored
    // filter and read-back fault, and the resource the server never deletes (a warning: not a
    // failure).
    assert_eq!(suite.attribute("tests"), Some("7"));
    assert_eq!(suite.attribute("failures"), Some("6"));
    let not_run = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .filter_map(|n| n.attribute("message"))
        .collect::<Vec<_>>();
    assert_eq!(
        not_run,
        [
            "not run: needs step 4: `group_id`, which it did not produce",
            "not run: needs step 4: `group_id`, which it did not produce"
        ]
    );
    // The XML writer escapes a reference once: a JUnit reader gets its `<url>` back, not
    // `&lt;url&gt;` (an escape of an escape).
    let text: String = suite.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("see RFC 7644 §"), "{text}");
    assert!(
        text.contains(" <https://www.rfc-editor.org/rfc/rfc7644#section-"),
        "{text}"
    );
    assert!(!text.contains("&lt;") && !text.contains("&amp;"), "{text}");
    let problems_xml = &xml[suite.range()];
    insta::assert_snapshot!("problems_junit", clean(problems_xml));

    let md = std::fs::read_to_string(path("r.md")).expect("markdown");
    let table: String = md
        .lines()
        .skip_while(|l| !l.starts_with("### "))
        .take_while(|l| !l.starts_with("| Outcome"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("problems_markdown", clean(&table));
    assert!(md.contains("Not run: needs step 4"), "{md}");

    let html = std::fs::read_to_string(path("r.html")).expect("html");
    let start = html
        .find("<section class=\"problems\">")
        .expect("a problems section");
    let end = html[start..].find("</section>").expect("its end") + start;
    assert!(
        start < html.find("<main>").expect("the scenarios"),
        "problems come first"
    );
    insta::assert_snapshot!("problems_html", clean(&html[start..end]));
}

/// Cleanup verifies its deletes: a server that answers DELETE with 204 but only deactivates
/// keeps the resource, and the report lists it as left behind with what the server did. For
/// Okta, which never deletes users, that is a note; for a generic (RFC) scenario, a warning.
/// Neither fails the run: the scenarios' own steps passed.
#[test]
fn a_delete_that_only_deactivates_is_reported_as_left_behind() {
    use wiremock::matchers::{method, path, query_param_contains};
    use wiremock::{Mock, ResponseTemplate};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        let scim = |status: u16, body: serde_json::Value| {
            ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
        };
        let user = |active: bool| {
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u-soft", "userName": "soft.delete@example.com", "active": active,
                "name": { "givenName": "Soft", "familyName": "Delete" },
                "emails": [{ "value": "soft.delete@example.com", "primary": true }],
                "meta": { "resourceType": "User" }
            })
        };
        Mock::given(method("GET"))
            .and(path("/Users"))
            .and(query_param_contains("filter", "userName"))
            .respond_with(scim(
                200,
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
                }),
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/Users"))
            .respond_with(
                scim(201, user(true))
                    .insert_header("Location", format!("{}/Users/u-soft", server.uri())),
            )
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        // The DELETE "succeeded"; the user is still there, deactivated.
        Mock::given(method("GET"))
            .and(path("/Users/u-soft"))
            .respond_with(scim(200, user(false)))
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let generic = write_scenario(
        dir.path(),
        "generic.yaml",
        r#"name: Create a user (RFC)
steps:
  - request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: soft.delete@example.com }
    expect: { status: 201 }
"#,
    );
    let okta = write_scenario(
        dir.path(),
        "okta.yaml",
        r#"name: Okta assigns a user
idp: okta
profile: oin
directory:
  users:
    soft: { login: soft.delete@example.com, firstName: Soft, lastName: Delete, email: soft.delete@example.com }
steps:
  - assign: soft
"#,
    );
    let report = dir.path().join("r.json");
    let out = idpsim(&[
        "run",
        generic.to_str().expect("utf-8"),
        okta.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "-j",
        "1",
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    let text = stable(&stdout(&out).replace(&*dir.path().to_string_lossy(), "DIR"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "cleanup never fails a run:\n{text}"
    );
    let summary: String = text
        .lines()
        .skip_while(|l| !l.contains("distinct problem(s):") || l.starts_with("PASSED"))
        .take_while(|l| !l.is_empty())
        .chain(text.lines().skip_while(|l| !l.starts_with("PASSED")))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("soft_delete_left_behind", summary);

    let json = report_json(&report);
    let cleanup = |i: usize| json["scenarios"][i]["cleanup"][0].clone();
    for (i, severity) in [(0, "warning"), (1, "info")] {
        let step = cleanup(i);
        assert_eq!(
            step["skip_reason"],
            format!("left behind: {}/Users/u-soft", server.uri()),
            "{step:#}"
        );
        let finding = &step["findings"][0];
        assert_eq!(finding["rule"], "cleanup.not-deleted");
        assert_eq!(finding["severity"], severity, "{finding:#}");
        assert_eq!(
            finding["message"],
            "left behind: DELETE /Users/u-soft answered 204, but GET still returns it with active=false: the server only deactivated it"
        );
        // The DELETE and idpsim's read-back.
        let methods: Vec<&str> = step["exchanges"]
            .as_array()
            .expect("exchanges")
            .iter()
            .filter_map(|e| e["request"]["method"].as_str())
            .collect();
        assert_eq!(methods, ["DELETE", "GET"]);
    }
    assert_eq!(json["scenarios"][0]["outcome"], "warned");
    assert_eq!(json["scenarios"][1]["outcome"], "passed");
    // Okta's note is not a problem; the RFC's 404-after-DELETE is one.
    let problems = json["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0]["rule"], "cleanup.not-deleted");
}

/// A DELETE the server acknowledges, then a read-back that gets no usable answer (503): the
/// run cannot tell whether the user is gone. That is idpsim's cleanup left unverified, not a
/// fault an IdP meets (no IdP reads a resource back after deleting it), so it is a note with
/// the catalogue's sentence and citation (`cleanup.unverified`), not a problem, and the run
/// passes.
#[test]
fn a_delete_whose_read_back_fails_is_an_unverified_cleanup_note() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        let user = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u-gone", "userName": "read.back@example.com", "active": true,
            "meta": { "resourceType": "User" }
        });
        Mock::given(method("POST"))
            .and(path("/Users"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_raw(user.to_string(), "application/scim+json")
                    .insert_header("Location", format!("{}/Users/u-gone", server.uri())),
            )
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/Users/u-gone"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(
        dir.path(),
        "generic.yaml",
        r#"name: Create a user (RFC)
steps:
  - request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: read.back@example.com }
    expect: { status: 201 }
"#,
    );
    let report = dir.path().join("r.json");
    let out = idpsim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json = report_json(&report);
    let step = &json["scenarios"][0]["cleanup"][0];
    let finding = &step["findings"][0];
    assert_eq!(finding["rule"], "cleanup.unverified", "{step:#}");
    assert_eq!(finding["severity"], "info", "{finding:#}");
    assert_eq!(
        finding["message"],
        "could not read /Users/u-gone back after its DELETE (GET answered 503): whether it is gone is unknown"
    );
    let impact = finding["impact"].as_str().unwrap_or("");
    assert!(
        impact.contains("no IdP sends") && impact.contains("delete it by hand"),
        "{finding:#}"
    );
    let reference = finding["reference"].as_str().unwrap_or("");
    assert!(
        reference.contains("RFC 7644 §3.6") && reference.contains("scenarios/README.md"),
        "{finding:#}"
    );
    assert_eq!(json["scenarios"][0]["outcome"], "passed");
    let problems = json["problems"].as_array().expect("problems");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A failed list query that depends on one parameter names it: the server answers 500 only
/// when `count` is present, and 400 only with Entra's `?aadOptscim062020`. idpsim re-sends the
/// query once without each parameter, after the step, and keeps those probes apart from the
/// IdP's exchanges.
#[test]
fn a_failure_that_depends_on_one_parameter_names_it() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, Request, ResponseTemplate};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        let scim = |status: u16, body: serde_json::Value| {
            ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
        };
        let error = |status: &str, detail: &str| {
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status, "detail": detail
            })
        };
        let has = |param: &'static str| {
            move |r: &Request| {
                r.url
                    .query()
                    .is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some(param)))
            }
        };
        Mock::given(method("GET"))
            .and(path("/Users"))
            .and(has("count"))
            .respond_with(scim(500, error("500", "NullPointerException")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/Users"))
            .and(has("aadOptscim062020"))
            .respond_with(scim(400, error("400", "unknown parameter")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/Users"))
            .respond_with(scim(
                200,
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
                }),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/ServiceProviderConfig"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let generic = write_scenario(
        dir.path(),
        "paged.yaml",
        r#"name: A filtered page
steps:
  - name: filter with a page size
    request: { method: GET, path: "/Users?filter=userName%20eq%20%22nobody%40example.com%22&count=10" }
    expect: { status: 200 }
"#,
    );
    let entra = write_scenario(
        dir.path(),
        "entra.yaml",
        r#"name: Entra tests the connection
idp: entra
profile: aadOptscim062020
steps:
  - test_connection:
"#,
    );
    let report = dir.path().join("r.json");
    let out = idpsim(&[
        "run",
        generic.to_str().expect("utf-8"),
        entra.to_str().expect("utf-8"),
        "--target",
        &server.uri(),
        "-j",
        "1",
        "--report-json",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stable(&stdout(&out).replace(&*dir.path().to_string_lossy(), "DIR"));
    insta::assert_snapshot!("trigger_probes", problems_block(&text));

    let json = report_json(&report);
    let step = |i: usize| json["scenarios"][i]["steps"][0].clone();
    let trigger_of = |s: &serde_json::Value| {
        s["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .flat_map(|f| f["triggers"].as_array().cloned().unwrap_or_default())
            .map(|t| t["parameter"].as_str().unwrap_or_default().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let paged = step(0);
    assert_eq!(trigger_of(&paged), ["count".to_string()].into());
    let entra_step = step(1);
    assert_eq!(
        trigger_of(&entra_step),
        ["aadOptscim062020".to_string()].into()
    );
    for s in [&paged, &entra_step] {
        // The IdP's exchanges are what they were; the probes sit apart, all GETs.
        assert_eq!(s["exchanges"].as_array().map(Vec::len), Some(1), "{s:#}");
        let probes = s["probes"].as_array().expect("probes");
        assert!(!probes.is_empty());
        assert!(probes.iter().all(|p| p["request"]["method"] == "GET"));
    }
    assert!(
        paged["findings"][0]["message"].as_str().is_some_and(
            |m| m.contains("it fails only with `count`: without it the same query answers 200")
        ),
        "{paged:#}"
    );
}
