//! No secret anywhere: one marker is the bearer token, the Basic password, the users' passwords
//! (a raw scenario and Okta's password sync), and the URL-borne credentials; then every command
//! that prints or writes runs against real servers on loopback — including servers that echo the
//! Authorization header and the request body back — and the marker must appear in no stdout, no
//! stderr and no file any command wrote.
//!
//! Also here: `--insecure` says loudly that TLS verification is off, and the report records it.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

mod common;
use common::idpsim as bin;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A server that quotes back everything it was sent — request line, every header (so the
/// Authorization header) and the body (so the password) — as a 401 text page for reads and a
/// SCIM error `detail` for writes: the hostile echo a redactor must still catch.
struct Echo;

impl Respond for Echo {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let headers: Vec<String> = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let echo = format!(
            "rejected {} {} with headers [{}] and body [{}]",
            req.method,
            req.url,
            headers.join("; "),
            String::from_utf8_lossy(&req.body)
        );
        if req.method.as_str() == "GET" {
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Bearer")
                .set_body_raw(echo, "text/plain")
        } else {
            ResponseTemplate::new(400).set_body_raw(
                json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "400",
                    "detail": echo,
                    "echo": { "headers": headers, "body": String::from_utf8_lossy(&req.body) }
                })
                .to_string(),
                "application/scim+json",
            )
        }
    }
}

/// Everything one sweep saw: outputs by label, and the folder every command writes into.
struct Sweep {
    marker: String,
    /// `admin:MARKER` in base64, as it goes on the wire in Basic auth.
    basic_b64: String,
    out: tempfile::TempDir,
    seen: Vec<(String, String)>,
}

impl Sweep {
    fn path(&self, name: &str) -> PathBuf {
        self.out.path().join(name)
    }
    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().expect("utf-8").to_string()
    }
    /// Runs idpsim with `args`, keeps its stdout and stderr, and returns the output.
    fn run(&mut self, label: &str, args: &[&str]) -> Output {
        let o = bin()
            .args(args)
            .current_dir(self.out.path())
            .output()
            .expect("idpsim runs");
        self.keep(label, &o);
        o
    }
    fn keep(&mut self, label: &str, o: &Output) {
        self.seen.push((
            format!("{label}: stdout"),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ));
        self.seen.push((
            format!("{label}: stderr"),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ));
    }
    /// Every place the marker (or its Basic-auth encoding) shows up: outputs and written files.
    fn leaks(&self) -> Vec<String> {
        let mut all = self.seen.clone();
        for file in walk(self.out.path()) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            all.push((
                format!("file {}", file.display()),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        let mut leaks = Vec::new();
        for (label, content) in all {
            for needle in [&self.marker, &self.basic_b64] {
                if let Some(at) = content.find(needle.as_str()) {
                    let from = content[..at]
                        .char_indices()
                        .rev()
                        .nth(120)
                        .map_or(0, |(i, _)| i);
                    let to = (at + needle.len() + 60).min(content.len());
                    let to = (to..=content.len())
                        .find(|i| content.is_char_boundary(*i))
                        .unwrap_or(content.len());
                    leaks.push(format!("{label}: …{}…", &content[from..to]));
                }
            }
        }
        leaks
    }
}

/// Every file under `dir` (inputs this test wrote are kept outside it).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A raw scenario that sends the marker as a password (create, PATCH) and fails on purpose at
/// the end, on a one-line step that holds the password, so every detail (request, answer, diff,
/// the quoted scenario line) is printed and reported.
fn generic_scenario(marker: &str) -> String {
    format!(
        r#"name: A password in a raw request
steps:
  - name: create with a password
    request:
      method: POST
      path: /Users
      body: {{ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "pw-{{{{ run }}}}@example.test", password: "{marker}" }}
    expect: {{ status: 201 }}
    capture: {{ uid: /id }}
  - name: change the password
    request:
      method: PATCH
      path: "/Users/{{{{ uid }}}}"
      body: {{ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{{ op: replace, path: password, value: "{marker}" }}] }}
  - {{ name: flow style, request: {{ method: POST, path: /Users, body: {{ userName: "flow-{{{{ run }}}}@example.test", password: "{marker}" }} }}, expect: {{ status: 299, body: {{ userName: nobody }} }} }}
"#
    )
}

/// Okta's password sync with the marker as the password.
fn okta_scenario(marker: &str) -> String {
    format!(
        r#"name: Okta password sync with a known password
idp: okta
profile: oin
directory:
  users:
    alice: {{ login: "alice-{{{{ run }}}}@example.test", firstName: Alice, lastName: Smith, email: "alice-{{{{ run }}}}@example.test" }}
steps:
  - assign: alice
    expect: created
  - sync_password: alice
    password: "{marker}"
  - expect_server: {{ user: alice, name: {{ givenName: Nobody }} }}
"#
    )
}

/// A HAR capture authenticated with `token`, holding the marker as passwords (create, PATCH)
/// and in a server's error detail that quotes the password back.
fn har(token: &str, marker: &str) -> String {
    let entry = |method: &str, url: &str, body: Option<Value>, status: u16, answer: Value| {
        json!({
            "startedDateTime": "2024-05-01T10:00:00.000Z",
            "time": 3,
            "request": {
                "method": method, "url": url, "httpVersion": "HTTP/1.1",
                "headers": [
                    {"name": "Authorization", "value": format!("Bearer {token}")},
                    {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"},
                    {"name": "Content-Type", "value": "application/scim+json"}
                ],
                "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1,
                "postData": body.map(|b| json!({"mimeType": "application/scim+json", "text": b.to_string()}))
            },
            "response": {
                "status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Content-Type", "value": "application/scim+json"}],
                "cookies": [],
                "content": {"size": 0, "mimeType": "application/scim+json", "text": answer.to_string()},
                "redirectURL": "", "headersSize": -1, "bodySize": -1
            },
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 1}
        })
    };
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "har@example.test", "password": marker, "active": true});
    let created = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "h-1", "userName": "har@example.test", "active": true, "meta": {"resourceType": "User"}});
    let rejected = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "detail": format!("bad password {marker} for Bearer {token}")});
    json!({"log": {"version": "1.2", "creator": {"name": "fixture", "version": "1"}, "entries": [
        entry("POST", "https://app.example.test/scim/v2/Users", Some(user.clone()), 201, created),
        entry("PATCH", "https://app.example.test/scim/v2/Users/h-1", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"password": marker}}]})), 400, rejected.clone()),
        entry("PATCH", "https://app.example.test/scim/v2/Users/h-1", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "password", "value": marker}]})), 400, rejected),
    ]}})
    .to_string()
}

fn kill(child: &std::process::Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) with the pid of a child this test spawned and has not reaped yet.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits (with a hang guard) for a long-running command's banner line in its stdout file.
fn banner(file: &Path, marker: &str) -> String {
    let started = Instant::now();
    loop {
        let out = std::fs::read_to_string(file).unwrap_or_default();
        if let Some(rest) = out.split(marker).nth(1) {
            if let Some(word) = rest.split_whitespace().next() {
                return word.to_string();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no banner: {out}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut std::process::Child) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s.code();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the child did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_marker_appears_in_no_output_of_any_command() {
    let marker = format!("S3CR3T-MARKER-{}", uuid::Uuid::new_v4().simple());
    let basic_b64 = idpsim::support::text::base64(format!("admin:{marker}").as_bytes());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The reference server requires the marker as its bearer token.
    let reference = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            port: 0,
            token: Some(marker.clone()),
            ..Default::default()
        }))
        .expect("reference server");
    let echo = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Echo)
            .mount(&server)
            .await;
        server
    });
    let inputs = tempfile::tempdir().expect("tempdir");
    let generic = inputs.path().join("generic-password.yaml");
    std::fs::write(&generic, generic_scenario(&marker)).expect("write");
    let okta = inputs.path().join("okta-password.yaml");
    std::fs::write(&okta, okta_scenario(&marker)).expect("write");
    let (generic, okta) = (
        generic.to_str().expect("utf-8").to_string(),
        okta.to_str().expect("utf-8").to_string(),
    );
    let mut sweep = Sweep {
        marker: marker.clone(),
        basic_b64,
        out: tempfile::tempdir().expect("tempdir"),
        seen: Vec::new(),
    };
    let base = reference.base_url();
    let basic = format!("admin:{marker}");

    // run -v with every report, against the server that takes the marker as its token.
    let (json, junit, md, html, state) = (
        sweep.arg("run.json"),
        sweep.arg("run.xml"),
        sweep.arg("run.md"),
        sweep.arg("run.html"),
        sweep.arg("state.yaml"),
    );
    let o = sweep.run(
        "run -v with every report",
        &[
            "run",
            &generic,
            &okta,
            "--target",
            &base,
            "--token",
            &marker,
            "-v",
            "--report-json",
            &json,
            "--report-junit",
            &junit,
            "--report-md",
            &md,
            "--report-html",
            &html,
            "--write-state",
            &state,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "fails on purpose: {}", text(&o));
    let report = std::fs::read_to_string(sweep.path("run.json")).expect("the JSON report");
    assert!(
        report.contains("[redacted]"),
        "the password was sent and shown as redacted"
    );
    // The same with a token that is not the marker (the built-in server's own): now only the
    // password handling stands between the marker and the output.
    let o = sweep.run(
        "run -v, built-in server",
        &[
            "run",
            &generic,
            &okta,
            "-v",
            "--report-json",
            &sweep.arg("own.json"),
            "--report-junit",
            &sweep.arg("own.xml"),
            "--report-md",
            &sweep.arg("own.md"),
            "--report-html",
            &sweep.arg("own.html"),
            "--write-state",
            &sweep.arg("own-state.yaml"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "fails on purpose: {}", text(&o));
    for format in ["human", "jsonl"] {
        let o = sweep.run(
            &format!("run --dry-run --format {format}, no token"),
            &["run", &generic, &okta, "--dry-run", "--format", format],
        );
        assert!(o.status.code().is_some(), "{}", text(&o));
    }
    for format in ["github", "jsonl"] {
        let o = sweep.run(
            &format!("run --format {format}"),
            &[
                "run", &generic, &okta, "--target", &base, "--token", &marker, "--format", format,
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    }
    for format in ["human", "jsonl"] {
        let o = sweep.run(
            &format!("run --dry-run --format {format}"),
            &[
                "run",
                &generic,
                &okta,
                "--target",
                &base,
                "--token",
                &marker,
                "--dry-run",
                "--format",
                format,
            ],
        );
        assert!(o.status.code().is_some(), "{}", text(&o));
        assert!(!o.stdout.is_empty(), "the dry run prints the requests");
    }

    // The hostile echo: Basic credentials, a bearer token and URL-borne secrets quoted back.
    let echo_url = format!("{}/scim/v2", echo.uri());
    let o = sweep.run(
        "run -v --basic against the echo",
        &[
            "run",
            &generic,
            "--target",
            &echo_url,
            "--basic",
            &basic,
            "-v",
            "--report-json",
            &sweep.arg("echo-basic.json"),
            "--report-html",
            &sweep.arg("echo-basic.html"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = sweep.run(
        "run -v --token against the echo",
        &[
            "run",
            &generic,
            &okta,
            "--target",
            &echo_url,
            "--token",
            &marker,
            "-v",
            "--report-json",
            &sweep.arg("echo-token.json"),
            "--report-md",
            &sweep.arg("echo-token.md"),
            "--report-junit",
            &sweep.arg("echo-token.xml"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // An echo with a token that is not the marker: only the password handling masks the echo
    // of the request body.
    let o = sweep.run(
        "run -v, other token, against the echo",
        &[
            "run",
            &generic,
            &okta,
            "--target",
            &echo_url,
            "--token",
            "other-token-0123456789",
            "-v",
            "--report-json",
            &sweep.arg("echo-pw.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let url_borne = echo_url.replace("http://", &format!("http://idpsim:{marker}@"))
        + &format!("?api_token={marker}");
    let o = sweep.run(
        "run -v with secrets in the URL",
        &[
            "run",
            &generic,
            "--target",
            &url_borne,
            "-v",
            "--report-json",
            &sweep.arg("echo-url.json"),
        ],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));
    // Unreachable: the error names the URL, without its secrets.
    let dead = format!("http://idpsim:{marker}@127.0.0.1:9/scim/v2?token={marker}");
    let o = sweep.run(
        "run against an unreachable target",
        &["run", &generic, "--target", &dead, "--token", &marker, "-v"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // audit: a state file that holds the marker, against the reference server and the echo.
    // One user the server holds (so the password is compared) and one it does not.
    let created = rt.block_on(
        reqwest::Client::new()
            .post(format!("{base}/Users"))
            .bearer_auth(&marker)
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "audit-present@example.test", "password": marker}).to_string())
            .send(),
    );
    assert!(created.is_ok_and(|r| r.status().as_u16() == 201));
    let state_in = inputs.path().join("believed.yaml");
    std::fs::write(
        &state_in,
        format!(
            "users:\n  alice: {{ userName: audit-nobody@example.test, password: \"{marker}\" }}\n  \
             present:\n    userName: audit-present@example.test\n    password: {marker}\n"
        ),
    )
    .expect("write");
    let state_in = state_in.to_str().expect("utf-8").to_string();
    let o = sweep.run(
        "audit",
        &[
            "audit",
            "--target",
            &base,
            "--token",
            &marker,
            "--expect",
            &state_in,
            "--report-json",
            &sweep.arg("audit.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "drift on purpose: {}", text(&o));
    let o = sweep.run(
        "audit against the echo",
        &[
            "audit",
            "--target",
            &echo_url,
            "--basic",
            &basic,
            "--expect",
            &state_in,
            "--report-json",
            &sweep.arg("audit-echo.json"),
        ],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));

    // load, with its report.
    let o = sweep.run(
        "load",
        &[
            "load",
            "--idp",
            "okta",
            "--users",
            "20",
            "--groups",
            "2",
            "--members",
            "5",
            "--target",
            &base,
            "--token",
            &marker,
            "--report-json",
            &sweep.arg("load.json"),
        ],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));
    let o = sweep.run(
        "load against the echo",
        &[
            "load",
            "--idp",
            "entra",
            "--users",
            "3",
            "--groups",
            "1",
            "--members",
            "2",
            "--target",
            &echo_url,
            "--token",
            &marker,
            "--report-json",
            &sweep.arg("load-echo.json"),
        ],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));

    // import: a HAR with the marker in Authorization, in password bodies and in an error detail.
    for (name, token) in [
        ("marker", marker.as_str()),
        ("other", "har-token-0123456789"),
    ] {
        let har_file = inputs.path().join(format!("capture-{name}.har"));
        std::fs::write(&har_file, har(token, &marker)).expect("write");
        let o = sweep.run(
            &format!("import, {name} token"),
            &[
                "import",
                har_file.to_str().expect("utf-8"),
                "-o",
                &sweep.arg(&format!("imported-{name}.yaml")),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }

    // record: the proxy between a client that sends the marker everywhere and the server.
    let record_out = sweep.path("recording.yaml");
    let (rec_stdout, rec_stderr) = (sweep.path("record.stdout"), sweep.path("record.stderr"));
    let mut recorder = bin()
        .args([
            "record",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &base,
            "-o",
        ])
        .arg(&record_out)
        .stdout(std::fs::File::create(&rec_stdout).expect("file"))
        .stderr(std::fs::File::create(&rec_stderr).expect("file"))
        .spawn()
        .expect("record starts");
    let proxy = format!("{}/scim/v2", banner(&rec_stdout, "listening on "));
    let client = reqwest::Client::new();
    rt.block_on(async {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rec-secret@example.test", "password": marker});
        for (verb, url, body) in [
            ("POST", format!("{proxy}/Users"), Some(user)),
            ("GET", format!("{proxy}/Users?filter=userName%20eq%20%22rec-secret%40example.test%22"), None),
        ] {
            let mut req = client
                .request(verb.parse().expect("method"), url)
                .bearer_auth(&marker)
                .header("Content-Type", "application/scim+json");
            if let Some(b) = body {
                req = req.body(b.to_string());
            }
            let status = req.send().await.expect("the proxy answers").status();
            assert!(status.is_success(), "{verb}: {status}");
        }
        // A wrong token: the server's 401 goes through the proxy into the recording too.
        let _ = client
            .get(format!("{proxy}/Users"))
            .basic_auth("admin", Some(&marker))
            .send()
            .await;
    });
    kill(&recorder, libc::SIGINT);
    assert_eq!(wait_exit(&mut recorder), Some(130));

    // serve: the token in its banner? Serve with the marker, then a request with a wrong token.
    let (serve_stdout, serve_stderr) = (sweep.path("serve.stdout"), sweep.path("serve.stderr"));
    let mut serve = bin()
        .args(["serve", "--port", "0", "--token", &marker, "--data"])
        .arg(sweep.path("serve-store.json"))
        .stdout(std::fs::File::create(&serve_stdout).expect("file"))
        .stderr(std::fs::File::create(&serve_stderr).expect("file"))
        .spawn()
        .expect("serve starts");
    let served = banner(&serve_stdout, "serving SCIM 2.0 at ");
    rt.block_on(async {
        let _ = client
            .post(format!("{served}/Users"))
            .bearer_auth(&marker)
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "serve@example.test", "password": marker}).to_string())
            .send()
            .await;
        let _ = client
            .get(format!("{served}/Users"))
            .bearer_auth(format!("wrong-{marker}"))
            .send()
            .await;
    });
    kill(&serve, libc::SIGTERM);
    assert_eq!(wait_exit(&mut serve), Some(0));

    // The sweep saw what it meant to: the echoes came back (masked), every file was written.
    let read = |name: &str| std::fs::read_to_string(sweep.path(name)).unwrap_or_default();
    for name in [
        "echo-token.json",
        "echo-basic.json",
        "echo-url.json",
        "echo-pw.json",
    ] {
        let report = read(name);
        assert!(
            report.contains("rejected") && report.contains("[redacted]"),
            "{name} holds the echo, masked: {report}"
        );
    }
    assert!(read("echo-token.json").contains("Bearer [redacted]"));
    assert!(
        read("run.md").contains("password: \"[redacted]\""),
        "{}",
        read("run.md")
    );
    assert!(read("recording.yaml").contains("rec-secret@example.test"));
    assert!(read("imported-marker.yaml").contains("har@example.test"));
    assert!(read("imported-other.yaml").contains("[redacted]"));
    assert!(read("serve-store.json").contains("serve@example.test"));
    for name in [
        "run.xml",
        "run.html",
        "state.yaml",
        "audit.json",
        "load.json",
        "load-echo.json",
    ] {
        assert!(!read(name).is_empty(), "{name} was written");
    }

    let leaks = sweep.leaks();
    assert!(
        leaks.is_empty(),
        "the marker leaked in {} place(s):\n{}",
        leaks.len(),
        leaks.join("\n\n")
    );
    rt.block_on(reference.shutdown());
}

#[test]
fn insecure_warns_loudly_on_every_run_and_the_report_records_it() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(MockServer::start());
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("list.yaml");
    std::fs::write(
        &scenario,
        "name: list\nsteps:\n  - request: { method: GET, path: /Users }\n",
    )
    .expect("write");
    let report = dir.path().join("r.json");
    let run = |extra: &[&str]| {
        bin()
            .arg("run")
            .arg(&scenario)
            .args(["--target", &server.uri(), "--report-json"])
            .arg(&report)
            .args(extra)
            .output()
            .expect("idpsim runs")
    };
    let o = run(&["--insecure"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("warning: --insecure: TLS certificate verification is OFF"),
        "{stderr}"
    );
    assert!(stderr.contains("read the token"), "{stderr}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(json["target"]["insecure"], true);
    let schema: Value =
        serde_json::from_str(include_str!("../docs/report.schema.json")).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(
        validator.is_valid(&json),
        "the report with insecure follows the schema"
    );

    // Verification stays on by default: no warning, and the report says nothing of it.
    let o = run(&[]);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("--insecure"),
        "{}",
        text(&o)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert!(
        json["target"].get("insecure").is_none(),
        "{}",
        json["target"]
    );

    // audit and load warn the same way.
    let state = dir.path().join("state.yaml");
    std::fs::write(&state, "users: {}\n").expect("write");
    let o = bin()
        .args(["audit", "--insecure", "--target", &server.uri(), "--expect"])
        .arg(&state)
        .output()
        .expect("audit runs");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("TLS certificate verification is OFF"),
        "{}",
        text(&o)
    );
    let o = bin()
        .args([
            "load",
            "--idp",
            "okta",
            "--users",
            "1",
            "--groups",
            "0",
            "--insecure",
            "--target",
            &server.uri(),
        ])
        .output()
        .expect("load runs");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("TLS certificate verification is OFF"),
        "{}",
        text(&o)
    );
}

/// A TLS server on loopback with the self-signed certificate in `fixtures/tls` (made for these
/// tests with `openssl req -x509`, valid for 100 years, for 127.0.0.1): it answers every request
/// with an empty SCIM list. Returns its `https://` base URL.
fn self_signed_server(rt: &tokio::runtime::Runtime) -> String {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(root.join("self-signed.cert.pem"))
        .expect("cert file")
        .collect::<Result<Vec<_>, _>>()
        .expect("cert PEM");
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(root.join("self-signed.key.pem"))
        .expect("key PEM");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate ends here: that is the point.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{}/scim/v2", addr.port())
}

#[test]
fn tls_verification_is_on_by_default_and_insecure_turns_it_off_loudly() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let target = self_signed_server(&rt);
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("list.yaml");
    std::fs::write(
        &scenario,
        "name: list\nsteps:\n  - request: { method: GET, path: /Users }\n    expect: { status: 200 }\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        bin()
            .arg("run")
            .arg(&scenario)
            .args([
                "--no-config",
                "--target",
                &target,
                "--token",
                "tls-test-token",
            ])
            .args(extra)
            .output()
            .expect("idpsim runs")
    };
    // Default: the self-signed certificate is refused before anything is sent (exit 3).
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(
        err.contains("tls") && err.contains("certificate"),
        "the error says the certificate was refused: {err}"
    );
    assert!(!err.contains("--insecure: tls certificate verification is off"));
    // Its own certificate (CA:TRUE) trusted with --cacert: refused as a CA posing as the
    // server, said in words rather than rustls' `Other(OtherError(CaUsedAsEndEntity))`.
    let own = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/tls/self-signed.cert.pem"
    );
    let o = run(&["--cacert", own]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("presents a CA certificate (basicConstraints CA:TRUE) as its own certificate"),
        "a clear reason: {err}"
    );
    assert!(
        !err.contains("OtherError("),
        "no Rust value as the reason: {err}"
    );
    // --insecure does not make an unreadable or certificate-less --cacert acceptable.
    let not_pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "not a certificate\n").expect("write");
    for cacert in [dir.path().join("missing.pem"), not_pem] {
        let o = run(&["--insecure", "--cacert", cacert.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--cacert"),
            "{}",
            text(&o)
        );
    }
    // --insecure: the same server is reachable, the run passes, and the warning is there.
    let o = run(&["--insecure"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("warning: --insecure: TLS certificate verification is OFF"),
        "{}",
        text(&o)
    );
}

/// A token endpoint that issues tokens holding the marker, and that quotes back the whole
/// request (client secret, refresh token, code) when it refuses a refresh.
struct TokenEcho {
    marker: String,
}

impl Respond for TokenEcho {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        if body.contains("grant_type=refresh_token") {
            return ResponseTemplate::new(400).set_body_raw(
                json!({"error": "invalid_grant", "error_description": format!("rejected {body}")})
                    .to_string(),
                "application/json",
            );
        }
        if req.url.query().is_some_and(|q| q.contains("form=1")) {
            // A token endpoint that answers form-encoded (the token-form-encoded quirk).
            return ResponseTemplate::new(200).set_body_raw(
                format!(
                    "access_token={m}-form-at&token_type=bearer&refresh_token={m}-form-rt",
                    m = self.marker
                ),
                "application/x-www-form-urlencoded",
            );
        }
        ResponseTemplate::new(200)
            .insert_header("Cache-Control", "no-store")
            .set_body_raw(
                json!({
                    "access_token": format!("{}-access", self.marker),
                    "refresh_token": format!("{}-refresh", self.marker),
                    "id_token": format!("{}.id.token", self.marker),
                    "token_type": "Bearer",
                    "expires_in": 3600
                })
                .to_string(),
                "application/json",
            )
    }
}

/// Every Authorization value, OAuth token member and form-encoded secret in `content` that is
/// not masked: for credentials the test cannot know (the built-in server's own tokens and codes).
fn unmasked(content: &str) -> Vec<String> {
    let patterns = [
        r"(?i)authorization:\s*(?:bearer|basic)\s+([^\s\[][^\s]*)",
        r#""(?:access_token|refresh_token|client_secret)"\s*:\s*"([^"\[][^"]*)""#,
        r"\b(?:code|access_token|refresh_token|client_secret)=([^&\s\[][^&\s]*)",
    ];
    let mut out = Vec::new();
    for p in patterns {
        let re = regex::Regex::new(p).expect("regex");
        for c in re.captures_iter(content) {
            out.push(c[0].to_string());
        }
    }
    out
}

#[test]
fn oauth_secrets_tokens_and_codes_appear_in_no_output() {
    let marker = format!("OAUTH-MARKER-{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client_id = "idpsim-test-client";
    let client_secret = format!("{marker}-client/secret+x");
    // The reference server knows the marker as its client secret, header value and password.
    let reference = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            port: 0,
            token: Some(format!("{marker}-bearer")),
            auth: idpsim::server::ServerAuth {
                header: Some(format!("SSWS {marker}-header")),
                basic: Some(("admin".into(), format!("{marker}-basic"))),
                oauth: Some(idpsim::server::OAuthClientReg {
                    client_id: client_id.into(),
                    client_secret: client_secret.clone(),
                    token_lifetime: Duration::from_secs(3600),
                }),
            },
            ..Default::default()
        }))
        .expect("reference server");
    let (echo, tokens) = rt.block_on(async {
        let echo = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Echo)
            .mount(&echo)
            .await;
        let tokens = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(TokenEcho {
                marker: marker.clone(),
            })
            .mount(&tokens)
            .await;
        (echo, tokens)
    });
    let mut sweep = Sweep {
        marker: marker.clone(),
        basic_b64: idpsim::support::text::base64(
            format!(
                "{}:{}",
                idpsim::support::text::form_encode(client_id),
                idpsim::support::text::form_encode(&client_secret)
            )
            .as_bytes(),
        ),
        out: tempfile::tempdir().expect("tempdir"),
        seen: Vec::new(),
    };
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let entra_cc = format!("{scenarios}/entra/auth-client-credentials.yaml");
    let okta_code = format!("{scenarios}/okta/auth-oauth-code.yaml");
    let okta_header = format!("{scenarios}/okta/auth-header.yaml");
    let okta_basic = format!("{scenarios}/okta/auth-basic.yaml");
    let reports = |sweep: &Sweep, name: &str| -> Vec<String> {
        [
            "--report-json",
            &sweep.arg(&format!("{name}.json")),
            "--report-junit",
            &sweep.arg(&format!("{name}.xml")),
            "--report-md",
            &sweep.arg(&format!("{name}.md")),
            "--report-html",
            &sweep.arg(&format!("{name}.html")),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let base = reference.base_url();
    let token_url = format!("{}/oauth2/token", base.trim_end_matches("/scim/v2"));
    let secret_env = |cmd: &mut Command| {
        cmd.env("IDPSIM_OAUTH_CLIENT_SECRET", &client_secret);
    };
    let run_with =
        |sweep: &mut Sweep, label: &str, args: Vec<String>, env: &dyn Fn(&mut Command)| {
            let mut cmd = bin();
            env(&mut cmd);
            let o = cmd
                .args(&args)
                .current_dir(sweep.out.path())
                .output()
                .expect("idpsim runs");
            sweep.keep(label, &o);
            o
        };

    // Every mode against the reference server, verbose, with every report; each lapses and
    // renews (or stops), so tokens, refreshes and codes all go through the output.
    for (label, mode, file, extra) in [
        (
            "client credentials, secret in the body",
            "oauth-client-credentials",
            &entra_cc,
            vec!["--oauth-client-auth", "client-secret-post"],
        ),
        (
            "client credentials, HTTP Basic",
            "oauth-client-credentials",
            &entra_cc,
            vec![],
        ),
    ] {
        let mut args: Vec<String> = [
            "run",
            file,
            "-v",
            "--target",
            &base,
            "--auth",
            mode,
            "--oauth-token-url",
            &token_url,
            "--oauth-client-id",
            client_id,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(reports(&sweep, &label.replace([' ', ','], "-")));
        let o = run_with(&mut sweep, label, args, &secret_env);
        assert_eq!(o.status.code(), Some(0), "{label}: {}", text(&o));
    }
    // The client secret as a flag, and named in idpsim.toml by the variable that holds it.
    let flag_args: Vec<String> = [
        "run",
        &entra_cc,
        "-v",
        "--target",
        &base,
        "--auth",
        "oauth-client-credentials",
        "--oauth-token-url",
        &token_url,
        "--oauth-client-id",
        client_id,
        "--oauth-client-secret",
        &client_secret,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(reports(&sweep, "secret-flag"))
    .collect();
    let o = run_with(&mut sweep, "client secret as a flag", flag_args, &|_| {});
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let config_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        config_dir.path().join("idpsim.toml"),
        format!(
            "[target]\nurl = \"{base}\"\n[target.oauth]\ntoken_url = \"{token_url}\"\nclient_id = \"{client_id}\"\nclient_secret_env = \"IDPSIM_TEST_CLIENT_SECRET\"\n"
        ),
    )
    .expect("write");
    let mut cmd = bin();
    let o = cmd
        .args(["run", &entra_cc, "-v", "--auth", "oauth-client-credentials"])
        .args(reports(&sweep, "secret-config"))
        .env("IDPSIM_TEST_CLIENT_SECRET", &client_secret)
        .current_dir(config_dir.path())
        .output()
        .expect("idpsim runs");
    sweep.keep("client secret named in idpsim.toml", &o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let header = format!("SSWS {marker}-header");
    let basic = format!("admin:{marker}-basic");
    for (label, file, env_name, value) in [
        ("header", &okta_header, "IDPSIM_AUTH_HEADER", &header),
        ("basic", &okta_basic, "IDPSIM_BASIC", &basic),
    ] {
        let mut args: Vec<String> = ["run", file, "-v", "--target", &base, "--auth", label]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(reports(&sweep, label));
        let o = run_with(&mut sweep, label, args, &|c: &mut Command| {
            c.env(env_name, value);
        });
        assert_eq!(o.status.code(), Some(0), "{label}: {}", text(&o));
    }
    // The code grant against the built-in server: its code, tokens and refreshes are its own.
    let mut args: Vec<String> = ["run", &okta_code, &entra_cc, "-v", "--format", "jsonl"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(reports(&sweep, "builtin-code"));
    let o = run_with(
        &mut sweep,
        "code grant, built-in server",
        args,
        &|_: &mut Command| {},
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The hostile pair: tokens holding the marker, a SCIM server that quotes the Authorization
    // header back, and a token endpoint that quotes the refresh request (refresh token, client
    // secret) in its error.
    let echo_url = format!("{}/scim/v2", echo.uri());
    let echo_tokens = format!("{}/token", tokens.uri());
    let mut args: Vec<String> = [
        "run",
        &entra_cc,
        "-v",
        "--target",
        &echo_url,
        "--auth",
        "oauth-client-credentials",
        "--oauth-token-url",
        &echo_tokens,
        "--oauth-client-id",
        client_id,
        "--oauth-client-auth",
        "client-secret-post",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(reports(&sweep, "echo-cc"));
    let o = run_with(
        &mut sweep,
        "client credentials against the echoes",
        args,
        &secret_env,
    );
    assert!(o.status.code().is_some(), "{}", text(&o));
    let rt_file = sweep.path("refresh-token");
    let mut args: Vec<String> = [
        "run",
        &okta_code,
        "-v",
        "--target",
        &echo_url,
        "--oauth-token-url",
        &echo_tokens,
        "--oauth-client-id",
        client_id,
        "--oauth-client-auth",
        "client-secret-post",
        "--auth",
        "oauth-code",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(reports(&sweep, "echo-code"));
    let refresh = format!("{marker}-given-refresh");
    let o = run_with(
        &mut sweep,
        "refresh token against the echoes",
        args,
        &|c: &mut Command| {
            c.env("IDPSIM_OAUTH_CLIENT_SECRET", &client_secret)
                .env("IDPSIM_OAUTH_REFRESH_TOKEN", &refresh);
        },
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the refresh is refused: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("auth.refused") || text(&o).contains("rfc6749"),
        "{}",
        text(&o)
    );
    // A form-encoded token answer: unreadable for the IdP, and still masked.
    let mut args: Vec<String> = [
        "run",
        &entra_cc,
        "-v",
        "--target",
        &echo_url,
        "--auth",
        "oauth-client-credentials",
        "--oauth-token-url",
        &format!("{echo_tokens}?form=1"),
        "--oauth-client-id",
        client_id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(reports(&sweep, "echo-form"));
    let o = run_with(&mut sweep, "form-encoded token answer", args, &secret_env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rfc6749.token.json"), "{}", text(&o));
    assert!(
        !rt_file.exists(),
        "no refresh token file was asked for, none is written"
    );

    let leaks = sweep.leaks();
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    let mut masked_not = Vec::new();
    for (label, content) in &sweep.seen {
        for m in unmasked(content) {
            masked_not.push(format!("{label}: {m}"));
        }
    }
    for file in walk(sweep.out.path()) {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        for m in unmasked(&content) {
            masked_not.push(format!("{}: {m}", file.display()));
        }
    }
    assert!(
        masked_not.is_empty(),
        "unmasked credentials:\n{}",
        masked_not.join("\n")
    );
    rt.block_on(reference.shutdown());
}

/// `idpsim import` of IdP logs: one marker as a token quoted in an Entra error reason, as the
/// value of a secret-like modified property, as a password in an Okta profile push, and as the
/// SSWS token in Okta's `debugContext`; it must reach neither the scenario, the state file,
/// stdout nor stderr (docs/IDP-LOGS.md, "Secrets").
#[test]
fn the_marker_in_idp_logs_reaches_nothing_the_import_writes() {
    let marker = "LogSecretMarker7f3e9a1c";
    let dir = tempfile::tempdir().expect("tmp");
    let entra = json!({"value": [{
        "activityDateTime": "2026-12-01T10:00:00Z", "changeId": "c1", "cycleId": "y1",
        "provisioningAction": "create",
        "provisioningStatusInfo": {"status": "failure", "errorInformation": {
            "errorCode": "SystemForCrossDomainIdentityManagementUnauthorized",
            "reason": format!("401 for Authorization: Bearer {marker} (token={marker})")}},
        "sourceIdentity": {"id": "s1", "displayName": "Sam Secret", "identityType": "User"},
        "targetIdentity": {"id": "", "identityType": "User"},
        "modifiedProperties": [
            {"displayName": "userName", "oldValue": null, "newValue": "sam@contoso.test"},
            {"displayName": "password", "oldValue": null, "newValue": marker},
            {"displayName": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:apiToken", "oldValue": null, "newValue": marker}
        ],
        "provisioningSteps": [{"name": "EntryExportAdd", "provisioningStepType": "export", "status": "failure",
            "description": format!("Bearer {marker}")}]
    }]});
    let okta = json!([
        {"eventType": "application.provision.user.push", "published": "2026-12-01T10:00:00Z",
         "outcome": {"result": "FAILURE", "reason": format!("rejected SSWS {marker}")},
         "debugContext": {"debugData": {"authorization": format!("SSWS {marker}"), "requestUri": format!("/api/v1/x?token={marker}")}},
         "target": [{"id": "00u1", "type": "AppUser", "alternateId": "sam@example.test", "displayName": "Sam Secret"}]},
        {"eventType": "application.provision.user.push_profile", "published": "2026-12-01T10:05:00Z",
         "outcome": {"result": "SUCCESS"},
         "target": [{"id": "00u1", "type": "AppUser", "alternateId": "sam@example.test", "displayName": "Sam Secret",
                     "changeDetails": {"from": {}, "to": {"password": marker, "title": "Analyst"}}}]}
    ]);
    for (name, doc) in [("entra.json", entra), ("okta.json", okta)] {
        let input = dir.path().join(name);
        std::fs::write(&input, doc.to_string()).expect("write");
        let out = dir.path().join(format!("{name}.yaml"));
        let o = bin()
            .arg("import")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let state = dir.path().join(format!("{name}.state.yaml"));
        for (what, t) in [
            ("output", text(&o)),
            ("scenario", std::fs::read_to_string(&out).expect("scenario")),
            ("state", std::fs::read_to_string(&state).expect("state")),
        ] {
            assert!(
                !t.contains(marker),
                "{name}: the {what} leaks the marker:\n{t}"
            );
        }
    }
}

/// A scenario whose raw (unparsed) body carries the marker as a password, in JSON text.
fn raw_body_scenario(marker: &str) -> String {
    format!(
        "name: A password in a raw body\nsteps:\n  - name: raw create\n    request:\n      method: POST\n      path: /Users\n      headers: {{ Content-Type: application/scim+json }}\n      raw_body: '{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"raw-{{{{ run }}}}@example.test\",\"password\":\"{marker}\"}}'\n    expect: {{ status: 299 }}\n"
    )
}

/// A HAR whose request URLs carry the marker as `?token=` and `?access_token=` (and a userinfo
/// password): the recorded paths and the comments an import writes must not.
fn har_with_url_secrets(marker: &str) -> String {
    let entry = |url: String| {
        json!({
            "startedDateTime": "2024-05-01T10:00:00.000Z", "time": 3,
            "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1",
                "headers": [{"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"}],
                "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1},
            "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Content-Type", "value": "application/scim+json"}], "cookies": [],
                "content": {"size": 0, "mimeType": "application/scim+json",
                    "text": json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}).to_string()},
                "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 1}
        })
    };
    json!({"log": {"version": "1.2", "creator": {"name": "fixture", "version": "1"}, "entries": [
        entry(format!("https://okta:{marker}@app.example.test/scim/v2/Users?filter=userName%20eq%20%22a%22&token={marker}")),
        entry(format!("https://app.example.test/scim/v2/Groups?access_token={marker}&count=1")),
    ]}})
    .to_string()
}

/// Every way a credential can be given — flag, environment, `-H` header (Authorization,
/// X-Api-Key, Cookie), URL user-info, query parameters, the config file, a raw body — through
/// every command that can show it, including their error paths (an unreachable target, a URL
/// that does not parse, a config file that is refused): the marker is in no byte written.
#[test]
fn every_way_a_credential_is_given_reaches_no_byte_written() {
    let marker = format!("GIVEN-MARKER-{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let reference = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            port: 0,
            token: Some(marker.clone()),
            ..Default::default()
        }))
        .expect("reference server");
    let echo = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Echo)
            .mount(&server)
            .await;
        server
    });
    let inputs = tempfile::tempdir().expect("tempdir");
    let raw = inputs.path().join("raw-password.yaml");
    std::fs::write(&raw, raw_body_scenario(&marker)).expect("write");
    let state = inputs.path().join("believed.yaml");
    std::fs::write(
        &state,
        "users:\n  a: { userName: given-nobody@example.test }\n",
    )
    .expect("write");
    // No marker in this one: what masks a credential is then the way it was given, not a
    // password learned from a body.
    let plain = inputs.path().join("plain.yaml");
    std::fs::write(
        &plain,
        "name: No secret in the scenario\nsteps:\n  - request: { method: POST, path: /Users, body: { userName: \"plain-{{ run }}@example.test\" } }\n    expect: { status: 299 }\n  - request: { method: GET, path: /Users }\n",
    )
    .expect("write");
    let (raw, plain, state) = (
        raw.to_str().expect("utf-8").to_string(),
        plain.to_str().expect("utf-8").to_string(),
        state.to_str().expect("utf-8").to_string(),
    );
    let mut sweep = Sweep {
        marker: marker.clone(),
        basic_b64: idpsim::support::text::base64(format!("admin:{marker}").as_bytes()),
        out: tempfile::tempdir().expect("tempdir"),
        seen: Vec::new(),
    };
    let base = reference.base_url();
    let with_url_secrets = |url: &str| {
        url.replacen("://", &format!("://idpsim:{marker}@"), 1)
            + &format!(
                "?token={marker}&access_token={marker}&api_key={marker}&client_secret={marker}&sig={marker}&code={marker}&password={marker}"
            )
    };
    let base_secret = with_url_secrets(&base);
    let echo_url = format!("{}/scim/v2", echo.uri());
    let echo_secret = with_url_secrets(&echo_url);
    let dead = with_url_secrets("http://127.0.0.1:9/scim/v2");
    let garbled = format!("http://idpsim:{marker}@127.0.0.1:9/sc im?token={marker}");
    let schemeless = format!("idpsim:{marker}@127.0.0.1:9/scim/v2");

    // load, with its report, against a target whose URL holds the credentials.
    let o = sweep.run(
        "load, secrets in the URL",
        &[
            "load",
            "--idp",
            "okta",
            "--users",
            "3",
            "--groups",
            "1",
            "--members",
            "2",
            "--target",
            &base_secret,
            "--token",
            &marker,
            "--report-json",
            &sweep.arg("load.json"),
        ],
    );
    assert!(o.status.code().is_some(), "{}", text(&o));
    // audit, run and load that cannot reach the target, or cannot parse it.
    for (label, target) in [
        ("unreachable", &dead),
        ("unparsable", &garbled),
        ("without a scheme", &schemeless),
    ] {
        for cmd in [
            vec!["audit", "--expect", &state, "--target", target],
            vec!["run", &plain, "--target", target],
            vec!["load", "--idp", "entra", "--users", "1", "--target", target],
        ] {
            let o = sweep.run(&format!("{} {label}", cmd[0]), &cmd);
            assert!(
                matches!(o.status.code(), Some(2 | 3)),
                "{} {label}: {}",
                cmd[0],
                text(&o)
            );
        }
    }
    // The dry run of a raw body that holds a password, readable and as JSON lines.
    for format in ["human", "jsonl"] {
        let o = sweep.run(
            &format!("run --dry-run raw body, {format}"),
            &["run", &raw, "--dry-run", "--format", format],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("raw-"),
            "{}",
            text(&o)
        );
    }
    // The same raw body, really sent to the echo.
    let o = sweep.run(
        "run raw body against the echo",
        &[
            "run",
            &raw,
            "--target",
            &echo_url,
            "--token",
            "other-token-0123456789",
            "-v",
            "--report-json",
            &sweep.arg("raw.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Credentials given as headers, to a server that echoes every header back.
    for (label, header) in [
        ("Authorization", format!("Authorization: Bearer {marker}")),
        ("X-Api-Key", format!("X-Api-Key: {marker}")),
        ("Cookie", format!("Cookie: theme=dark; session={marker}")),
        (
            "Proxy-Authorization",
            format!("Proxy-Authorization: Basic {marker}"),
        ),
        ("Api-Key", format!("Api-Key: {marker}")),
        ("X-Auth-Token", format!("X-Auth-Token: {marker}")),
    ] {
        let o = sweep.run(
            &format!("run -H {label} against the echo"),
            &[
                "run",
                &plain,
                "--target",
                &echo_url,
                "-H",
                &header,
                "-v",
                "--report-json",
                &sweep.arg(&format!("header-{label}.json")),
                "--report-md",
                &sweep.arg(&format!("header-{label}.md")),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{label}: {}", text(&o));
        let o = sweep.run(
            &format!("run --dry-run -H {label}"),
            &[
                "run",
                &plain,
                "--target",
                &echo_url,
                "-H",
                &header,
                "--dry-run",
                "--format",
                "jsonl",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{label}: {}", text(&o));
    }
    // The token from the environment, and every URL-borne secret, against the echo.
    let mut cmd = bin();
    let o = cmd
        .args([
            "run",
            &plain,
            "--target",
            &echo_secret,
            "-v",
            "--format",
            "github",
        ])
        .env("IDPSIM_TOKEN", &marker)
        .current_dir(sweep.out.path())
        .output()
        .expect("idpsim runs");
    sweep.keep(
        "run, token from IDPSIM_TOKEN, URL secrets, github format",
        &o,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The other credentials the environment gives, against the echo.
    for (var, value, mode) in [
        ("IDPSIM_BASIC", format!("admin:{marker}"), "basic"),
        ("IDPSIM_AUTH_HEADER", format!("SSWS {marker}"), "header"),
    ] {
        let o = bin()
            .args(["run", &plain, "--target", &echo_url, "--auth", mode, "-v"])
            .args(["--report-json", &sweep.arg(&format!("env-{mode}.json"))])
            .env(var, &value)
            .current_dir(sweep.out.path())
            .output()
            .expect("idpsim runs");
        sweep.keep(&format!("run, credential from {var}"), &o);
        assert_eq!(o.status.code(), Some(1), "{var}: {}", text(&o));
    }

    // idpsim.toml that names the token itself (refused, with the line quoted), and one with a
    // syntax error on the token's line.
    for (label, config) in [
        (
            "token in the file",
            format!("[target]\nurl = \"{base}\"\ntoken = \"{marker}\"\n"),
        ),
        (
            "syntax error",
            format!("[target]\nurl = \"{base}\"\ntoken = \"{marker}\" oops\n"),
        ),
        (
            "secret in a URL",
            format!("[target]\nurl = \"{}\"\ntoken_env = 7\n", base_secret),
        ),
        (
            "client secret",
            format!("[target]\nurl = \"{base}\"\n[target.oauth]\nclient_secret = '{marker}'\n"),
        ),
        (
            "the token pasted where its variable's name goes",
            format!("[target]\nurl = \"{base}\"\ntoken_env = \"{marker}\"\n"),
        ),
        (
            "the token in a multi-line string",
            format!("[target]\nurl = \"{base}\"\ntoken = \"\"\"{marker}\n{marker}\"\"\"\n"),
        ),
        (
            "the client secret pasted where its variable's name goes",
            format!("[target]\nurl = \"{base}\"\n[target.oauth]\ntoken_url = \"{base}/t\"\nclient_id = \"c\"\nclient_secret_env = '{marker}'\n"),
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("idpsim.toml"), config).expect("write");
        let o = bin()
            .args(["run", &plain])
            .current_dir(dir.path())
            .output()
            .expect("idpsim runs");
        sweep.keep(&format!("idpsim.toml, {label}"), &o);
        assert_eq!(o.status.code(), Some(2), "{label}: {}", text(&o));
    }

    // record: an upstream whose URL holds credentials, and a client that puts its token in the
    // query (`?access_token=`) and in headers.
    let record_out = sweep.path("recording.yaml");
    let (rec_stdout, rec_stderr) = (sweep.path("record.stdout"), sweep.path("record.stderr"));
    let mut recorder = bin()
        .args([
            "record",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &base_secret,
            "-o",
        ])
        .arg(&record_out)
        .stdout(std::fs::File::create(&rec_stdout).expect("file"))
        .stderr(std::fs::File::create(&rec_stderr).expect("file"))
        .spawn()
        .expect("record starts");
    let proxy = format!("{}/scim/v2", banner(&rec_stdout, "listening on "));
    rt.block_on(async {
        let client = reqwest::Client::new();
        for url in [
            format!("{proxy}/Users?access_token={marker}"),
            format!("{proxy}/Groups?count=1&token={marker}"),
        ] {
            let _ = client
                .get(url)
                .header("X-Api-Key", &marker)
                .header("Cookie", format!("session={marker}"))
                .bearer_auth(&marker)
                .send()
                .await;
        }
    });
    kill(&recorder, libc::SIGINT);
    assert_eq!(wait_exit(&mut recorder), Some(130));
    assert!(
        std::fs::read_to_string(&record_out).is_ok_and(|r| r.contains("/Groups")),
        "the recording holds the requests"
    );

    // import: a HAR whose URLs hold the marker in user-info and query parameters.
    let har_file = inputs.path().join("url-secrets.har");
    std::fs::write(&har_file, har_with_url_secrets(&marker)).expect("write");
    let o = sweep.run(
        "import, secrets in the URLs",
        &[
            "import",
            har_file.to_str().expect("utf-8"),
            "-o",
            &sweep.arg("imported.yaml"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        std::fs::read_to_string(sweep.path("imported.yaml")).is_ok_and(|r| r.contains("/Groups"))
    );

    for label in [
        "Authorization",
        "X-Api-Key",
        "Cookie",
        "Proxy-Authorization",
        "Api-Key",
        "X-Auth-Token",
    ] {
        let report = std::fs::read_to_string(sweep.path(&format!("header-{label}.json")))
            .unwrap_or_default();
        assert!(
            report.contains("rejected"),
            "{label}: the echo came back: {report}"
        );
    }
    let leaks = sweep.leaks();
    assert!(
        leaks.is_empty(),
        "the marker leaked in {} place(s):\n{}",
        leaks.len(),
        leaks.join("\n\n")
    );
    rt.block_on(reference.shutdown());
}
