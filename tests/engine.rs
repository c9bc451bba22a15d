//! The engine end to end: the real `idpsim` binary against the built-in server and against
//! wiremock servers that play broken SCIM servers, over loopback. Exit codes, what a person
//! reads (snapshots), what files hold (JSON schema, JUnit XML), and that secrets never leak.

use std::path::{Path, PathBuf};

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::{run as idpsim, stable, stderr, stdout};

fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scenario");
    path
}

const LIST_USERS: &str = r#"
name: List users
steps:
  - name: list users
    request: { method: GET, path: "/Users?startIndex=1&count=2" }
    expect:
      status: 200
"#;

#[test]
fn shipped_scenarios_pass_against_the_builtin_server() {
    let out = idpsim(&["run"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("started the built-in reference SCIM server at http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("PASSED"), "{text}");
}

#[test]
fn a_wrong_expectation_fails_with_a_diff_at_the_scenario_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_scenario(
        dir.path(),
        "wrong.yaml",
        r#"name: Wrong expectation
steps:
  - name: create a user
    request:
      method: POST
      path: /Users
      body:
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"]
        userName: "wrong-{{ run }}@example.test"
    expect:
      status: 201
      body:
        active: false
        name: { givenName: Nobody }
"#,
    );
    let out = idpsim(&[
        "run",
        file.to_str().expect("utf-8 path"),
        "--color",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(
        "wrong_expectation",
        stable(&stdout(&out)).replace(&*dir.path().to_string_lossy(), "DIR")
    );
}

#[test]
fn malformed_scenarios_exit_2_with_line_and_column_and_send_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    let mut all = String::new();
    let mut files: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/malformed"))
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
    files.sort();
    assert!(files.len() >= 15, "the malformed corpus has shrunk");
    for f in &files {
        let rel = f
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("inside the repo")
            .to_string_lossy()
            .into_owned();
        let out = idpsim(&["run", &rel, "--target", &server.uri()]);
        assert_eq!(out.status.code(), Some(2), "{rel}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{rel}:")),
            "{rel} names no position:\n{err}"
        );
        assert!(err.contains("nothing was sent"), "{err}");
        all.push_str(&format!("=== {rel}\n{err}\n"));
    }
    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    assert!(
        received.is_empty(),
        "an invalid scenario sent {} request(s)",
        received.len()
    );
    insta::assert_snapshot!("malformed_corpus", all);
}

#[test]
fn an_unreachable_target_exits_3_naming_the_url_and_the_cause() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}/scim/v2");
    let out = idpsim(&["run", "scenarios/generic/discovery.yaml", "--target", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&url), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    let out = idpsim(&["run", "--timeout", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a duration"), "{}", stderr(&out));
    let out = idpsim(&["run", "--name", "no scenario has this name"]);
    assert_eq!(out.status.code(), Some(2));
    let out = idpsim(&["run", "does/not/exist.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does/not/exist.yaml"));
    let out = idpsim(&["run", "--target", "ftp://example.test"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A SCIM server that answers every request with `response`, then the JSON report's error rules.
fn rules_against(response: ResponseTemplate, extra: &[&str]) -> (i32, Vec<String>, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(path_regex(".*"))
            .respond_with(response)
            .mount(&server),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(dir.path(), "list.yaml", LIST_USERS);
    let report = dir.path().join("report.json");
    let mut args = vec![
        "run",
        scenario.to_str().expect("utf-8"),
        "--target",
        &*Box::leak(server.uri().into_boxed_str()),
        "--report-json",
        report.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let out = idpsim(&args);
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 101, "idpsim panicked:\n{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report is written"))
            .expect("the report is JSON");
    let mut rules: Vec<String> = json["scenarios"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    rules.sort();
    rules.dedup();
    (code, rules, stdout(&out))
}

#[test]
fn an_html_page_is_a_finding() {
    let (code, rules, _) = rules_against(
        ResponseTemplate::new(200).set_body_raw("<html><body>Welcome</body></html>", "text/html"),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(rules, vec!["rfc7644.list.json"]);
}

#[test]
fn garbage_and_empty_bodies_are_findings() {
    let (code, rules, _) = rules_against(
        ResponseTemplate::new(200)
            .set_body_raw(vec![0xff, 0x00, 0x13, 0x37], "application/scim+json"),
        &[],
    );
    assert_eq!((code, rules), (1, vec!["rfc7644.list.json".to_string()]));
    let (code, rules, _) = rules_against(ResponseTemplate::new(200), &[]);
    assert_eq!((code, rules), (1, vec!["rfc7644.list.json".to_string()]));
}

#[test]
fn a_gzip_body_is_decoded_and_judged() {
    use std::io::Write;
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": "1", "startIndex": 1, "itemsPerPage": 1, "Resources": [{"id": "1", "schemas": []}]
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes()).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    let response = ResponseTemplate::new(200)
        .insert_header("Content-Encoding", "gzip")
        .set_body_raw(bytes, "application/scim+json");
    let (code, rules, _) = rules_against(response, &[]);
    // Decoded, so the real problem is found: a string counter.
    assert_eq!(
        (code, rules),
        (1, vec!["rfc7644.list.integer-counters".to_string()])
    );
    // A body that claims gzip but is not is a finding too.
    let response = ResponseTemplate::new(200)
        .insert_header("Content-Encoding", "gzip")
        .set_body_raw("not gzip", "application/scim+json");
    let (code, rules, _) = rules_against(response, &[]);
    assert_eq!(code, 1);
    assert!(
        rules.contains(&"transport.content-encoding".to_string()),
        "{rules:?}"
    );
}

#[test]
fn a_huge_body_is_read_without_harm() {
    let mut resources = Vec::new();
    for i in 0..40_000 {
        resources.push(serde_json::json!({"id": i.to_string(), "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("user{i}@example.test"), "padding": "x".repeat(200)}));
    }
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 40_000, "startIndex": 1, "itemsPerPage": 40_000, "Resources": resources
    });
    let text = body.to_string();
    assert!(text.len() > 10 * 1024 * 1024);
    let (code, rules, out) = rules_against(
        ResponseTemplate::new(200).set_body_raw(text, "application/scim+json"),
        &[],
    );
    // 40,000 resources for count=2: the count rule fires, as a warning (both IdPs read every
    // resource returned); nothing crashes.
    assert_eq!((code, rules), (0, Vec::<String>::new()));
    assert!(out.contains("warning[rfc7644.list.count]"), "{out}");
}

#[test]
fn a_slow_server_times_out_as_a_finding() {
    let slow = ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5));
    let (code, rules, _) = rules_against(slow, &["--timeout", "300ms"]);
    assert_eq!((code, rules), (1, vec!["transport.timeout".to_string()]));
}

#[test]
fn a_reset_connection_is_a_finding() {
    // Accepts, reads a little, and closes without answering.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut s in listener.incoming().take(4).flatten() {
            use std::io::Read;
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            drop(s);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(dir.path(), "list.yaml", LIST_USERS);
    let out = idpsim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--target",
        &format!("http://{addr}"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("transport.reset"), "{}", stdout(&out));
}

#[test]
fn secrets_never_reach_output_or_reports() {
    let token = "tok-3a1f9c0d8e7b6a5f4e3d2c1b";
    let password = "pw-Zq8!xV2#";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            token: Some(token.into()),
            ..Default::default()
        }))
        .expect("server starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(
        dir.path(),
        "secret.yaml",
        &format!(
            r#"name: Passwords and tokens stay secret
steps:
  - request:
      method: POST
      path: /Users
      headers: {{ X-Echo: "{token}" }}
      body: {{ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "s-{{{{ run }}}}@example.test", password: "{password}" }}
    expect: {{ status: 201, body: {{ userName: nobody }} }}
"#
        ),
    );
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let out = idpsim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--target",
        &server.base_url(),
        "--token",
        token,
        "-v",
        "--report-json",
        json.to_str().expect("utf-8"),
        "--report-junit",
        junit.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the scenario fails on purpose so every detail is printed"
    );
    let everything = [
        stdout(&out),
        stderr(&out),
        std::fs::read_to_string(&json).expect("json"),
        std::fs::read_to_string(&junit).expect("junit"),
    ]
    .join("\n");
    assert!(
        everything.contains("[redacted]"),
        "redaction markers are shown"
    );
    assert!(!everything.contains(token), "the token leaked");
    assert!(!everything.contains(password), "the password leaked");
    let basic = idpsim(&[
        "run",
        scenario.to_str().expect("utf-8"),
        "--target",
        &server.base_url(),
        "--basic",
        "admin:hunter2-secret",
        "-v",
    ]);
    assert!(
        !stdout(&basic).contains("hunter2-secret")
            && !stdout(&basic).contains("YWRtaW46aHVudGVyMi1zZWNyZXQ=")
    );
    rt.block_on(server.shutdown());
}

#[test]
fn the_json_report_follows_its_schema_and_junit_is_valid_xml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    // A failing scenario and the shipped ones, so every part of the model is exercised.
    let failing = write_scenario(dir.path(), "fail.yaml", "name: fails\nsteps:\n  - request: { method: GET, path: /Users/missing }\n    expect: { status: 200 }\n");
    let out = idpsim(&[
        "run",
        "scenarios",
        failing.to_str().expect("utf-8"),
        "--report-json",
        json.to_str().expect("utf-8"),
        "--report-junit",
        junit.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../docs/report.schema.json")).expect("schema is JSON");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("report"))
            .expect("report is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let steps: usize = report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| {
            s["steps"].as_array().map_or(0, Vec::len) + s["cleanup"].as_array().map_or(0, Vec::len)
        })
        .sum();
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let problems = report["problems"].as_array().map_or(0, Vec::len);
    assert!(problems > 0, "the failing scenario is a problem");
    assert_eq!(
        cases,
        steps + problems,
        "one testcase per step, and one per distinct problem"
    );
    let suites = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    assert_eq!(
        suites,
        report["scenarios"].as_array().map_or(0, Vec::len) + 1,
        "one testsuite per scenario, after the distinct problems"
    );
    assert!(
        doc.descendants().any(|n| n.has_tag_name("failure")),
        "the failing step is a failure"
    );
}

#[test]
fn dry_run_prints_requests_and_sends_nothing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server),
    );
    let out = idpsim(&[
        "run",
        "scenarios/generic/users-lifecycle.yaml",
        "--dry-run",
        "--target",
        &server.uri(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("POST {}/Users", server.uri())),
        "{text}"
    );
    assert!(text.contains("DELETE"), "{text}");
    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    assert!(
        received.is_empty(),
        "a dry run sent {} request(s)",
        received.len()
    );
    let jsonl = idpsim(&[
        "run",
        "scenarios/generic/errors.yaml",
        "--dry-run",
        "--format",
        "jsonl",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(lines.len() >= 6, "{lines:?}");
    assert!(lines
        .iter()
        .all(|l| l["method"].is_string() && l["url"].is_string()));
}

#[test]
fn list_and_validate_describe_the_shipped_scenarios() {
    let out = idpsim(&["validate"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("all valid"));
    let out = idpsim(&["list", "--tag", "pagination"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("list_pagination", stdout(&out));
}

#[test]
fn the_shipped_scenarios_catch_generic_server_bugs() {
    // Each quirk reproduces a real server's bug; the generic suite alone must fail on these.
    use idpsim::server::{start, Quirk, ServerConfig};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // (quirk, the rule that names it, the exit code: 1 where the graver IdP fails on it, 0
    // where both IdPs carry on and the finding is a warning).
    let cases: &[(&str, &str, i32)] = &[
        (
            "case-sensitive-username-filter",
            "rfc7643.username.case-insensitive",
            1,
        ),
        ("create-returns-200", "rfc7644.create.status", 0),
        ("string-counters", "rfc7644.list.integer-counters", 1),
        ("omit-empty-resources", "rfc7644.list.resources-omitted", 0),
        ("html-404", "rfc7644.error.json", 0),
        ("no-duplicate-check", "rfc7644.create.uniqueness", 0),
        ("filter-miss-404", "rfc7644.filter.no-match-404", 1),
        ("items-per-page-is-count", "rfc7644.list.items-per-page", 0),
        ("json-content-type", "rfc7644.response.media-type", 0),
        ("error-status-integer", "rfc7644.error.status-string", 0),
        (
            "ignore-excluded-attributes",
            "rfc7644.query.excluded-attributes",
            1,
        ),
        (
            "ignore-filtered-member-remove",
            "rfc7644.patch.not-applied",
            1,
        ),
        ("ignore-pathless-patch", "rfc7644.patch.not-applied", 1),
        ("hide-inactive-users", "scim.inactive.filter-hides", 1),
    ];
    for (name, rule, exit) in cases {
        let quirk = Quirk::from_name(name).expect("a known quirk");
        let server = rt
            .block_on(start(ServerConfig {
                token: Some("t0ken-for-quirks".into()),
                quirks: vec![quirk],
                ..Default::default()
            }))
            .expect("server starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("r.json");
        let out = idpsim(&[
            "run",
            "scenarios/generic",
            "--target",
            &server.base_url(),
            "--token",
            "t0ken-for-quirks",
            "--report-json",
            report.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(*exit),
            "quirk {name}: exit code\n{}",
            stdout(&out)
        );
        let text = std::fs::read_to_string(&report).expect("report");
        assert!(
            text.contains(&format!("\"rule\": \"{rule}\"")),
            "quirk {name}: no {rule} finding"
        );
        rt.block_on(server.shutdown());
    }
}

#[test]
fn a_tls_failure_exits_3_naming_the_url_and_the_cause() {
    // https:// to a server that speaks plain HTTP: the handshake fails.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    let url = server.uri().replace("http://", "https://");
    let out = idpsim(&["run", "scenarios/generic/discovery.yaml", "--target", &url]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains(&url), "{err}");
    assert!(
        err.to_lowercase().contains("tls")
            || err.to_lowercase().contains("ssl")
            || err.contains("record"),
        "{err}"
    );
    let out = idpsim(&[
        "run",
        "scenarios/generic/discovery.yaml",
        "--target",
        &url,
        "--cacert",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn jsonl_output_is_one_scenario_result_per_line_and_nothing_else() {
    let out = idpsim(&["run", "scenarios/generic", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines
        .iter()
        .all(|l| l["outcome"] == "passed" && l["steps"].is_array()));
    assert!(
        stderr(&out).contains("started the built-in reference SCIM server"),
        "the notice goes to stderr"
    );
}

/// `idpsim list` shows shipped scenarios as `scenarios/…`; those names run from any directory.
#[test]
fn shipped_scenario_names_work_from_any_directory() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = common::idpsim()
        .args([
            "run",
            "scenarios/generic/discovery.yaml",
            "scenarios/generic/errors.yaml",
        ])
        .current_dir(elsewhere.path())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("2 scenario(s)"), "{}", stdout(&out));
}
