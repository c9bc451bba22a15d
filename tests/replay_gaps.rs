//! The record/replay gaps of issue 19, each with a test that fails without its fix:
//! - a recorded request with another credential, or none, replays as such (Okta's SPEC test
//!   sends a wrong token and expects 401), and no credential is kept;
//! - recorded hosts in request bodies (`$ref`, an echoed `meta.location`) are rewritten to the
//!   replay's target;
//! - `run --write-state` on a recording writes the users and groups it created and changed;
//! - `idpsim serve` logs each request, as text or JSON lines, bodies with `-v`, no secret.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use idpsim::server::{self, ServerConfig};
use serde_json::{json, Value};

const TOKEN: &str = "gaps-test-token-4b3a29187f6e5d4c";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idpsim"));
    c.env("NO_COLOR", "1")
        .env_remove("IDPSIM_TOKEN")
        .env_remove("IDPSIM_SERVE_TOKEN");
    c
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn output(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("idpsim runs"))
        .await
        .expect("join")
}

async fn start() -> server::RunningServer {
    server::start(ServerConfig {
        port: 0,
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts")
}

fn line(request: Value, status: u16, body: Value) -> String {
    json!({"request": request, "response": {"status": status, "body": body}}).to_string()
}

fn import(dir: &Path, name: &str, lines: &[String]) -> (PathBuf, String) {
    let input = dir.join(format!("{name}.jsonl"));
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let out = dir.join(format!("{name}.yaml"));
    let o = bin()
        .arg("import")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("import");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let written = std::fs::read_to_string(&out).expect("scenario");
    (out, written)
}

/// Okta's SPEC test #11 sends `Authorization: non-token` and expects 401; a client may also
/// send no credential at all. Recorded, both must replay as refused, not with the valid token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_another_credential_or_none_replays_as_such() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = "Bearer okta-recorded-token-77aa66bb55cc";
    let ua = "Okta SCIM Client 1.0.0";
    let lines = vec![
        line(
            json!({"method": "GET", "path": "/Users?startIndex=1&count=1", "headers": {"Authorization": good, "User-Agent": ua}}),
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}),
        ),
        line(
            json!({"method": "GET", "path": "/Users?startIndex=1&count=1", "headers": {"Authorization": "non-token", "User-Agent": ua}}),
            401,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "unauthorized"}),
        ),
        line(
            json!({"method": "GET", "path": "/Users?startIndex=1&count=1", "headers": {"User-Agent": ua}}),
            401,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "unauthorized"}),
        ),
    ];
    let (scenario, written) = import(dir.path(), "spec", &lines);
    assert!(
        written.contains("auth: invalid") && written.contains("auth: none"),
        "{written}"
    );
    assert!(
        !written.contains("non-token") && !written.contains("okta-recorded-token"),
        "no credential is kept:\n{written}"
    );
    let srv = start().await;
    let mut cmd = bin();
    cmd.args(["run", "--token", TOKEN, "--target", &srv.base_url()])
        .arg(&scenario);
    let o = output(cmd).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "the refused requests are refused again:\n{}",
        text(&o)
    );
    srv.shutdown().await;
}

/// A client addressing the recorded server sends its URLs in bodies (`members[].$ref`, Okta's
/// PUT echoing `meta.location`): the replay must send the target's, not the recorded host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_hosts_in_bodies_point_at_the_replay_target() {
    let dir = tempfile::tempdir().expect("tmp");
    let up = "https://old-staging.example.test/scim/v2";
    let lines = vec![
        line(
            json!({"method": "POST", "url": format!("{up}/Users"), "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ref.user@example.test"}}),
            201,
            json!({"id": "u-0123456789", "userName": "ref.user@example.test", "meta": {"location": format!("{up}/Users/u-0123456789")}}),
        ),
        line(
            json!({"method": "POST", "url": format!("{up}/Groups"), "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ref Team",
             "members": [{"value": "u-0123456789", "$ref": format!("{up}/Users/u-0123456789")}]}}),
            201,
            json!({"id": "g-9876543210", "displayName": "Ref Team"}),
        ),
        line(
            json!({"method": "PUT", "url": format!("{up}/Users/u-0123456789"), "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-0123456789", "userName": "ref.user@example.test", "displayName": "Ref User",
             "meta": {"resourceType": "User", "location": format!("{up}/Users/u-0123456789")}}}),
            200,
            json!({"id": "u-0123456789", "userName": "ref.user@example.test", "displayName": "Ref User"}),
        ),
    ];
    let (scenario, written) = import(dir.path(), "refs", &lines);
    assert!(
        !written.contains("old-staging.example.test/scim"),
        "the recorded host is gone:\n{written}"
    );
    assert!(
        written.contains("{{ base_href }}/Users/{{ user_1 }}"),
        "{written}"
    );
    let srv = start().await;
    let state = dir.path().join("refs.state.yaml");
    let mut cmd = bin();
    cmd.args([
        "run",
        "--no-cleanup",
        "--token",
        TOKEN,
        "--target",
        &srv.base_url(),
        "--write-state",
    ])
    .arg(&state)
    .arg(&scenario);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The group's member reference names the replay's server.
    let client = reqwest::Client::new();
    let sent = client
        .get(format!("{}/Groups", srv.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(sent.contains("Ref Team"), "{sent}");
    assert!(!sent.contains("old-staging"), "{sent}");
    srv.shutdown().await;
}

/// `run --write-state` on a recording used to write `users: {}` and `groups: {}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_state_on_a_recording_holds_what_it_created_and_changed() {
    let dir = tempfile::tempdir().expect("tmp");
    let user = |name: &str| {
        json!({"method": "POST", "path": "/Users", "headers": {"Content-Type": "application/scim+json"},
        "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true}})
    };
    let lines = vec![
        line(
            user("ws.ann@example.test"),
            201,
            json!({"id": "aaaaaaaa-1111", "userName": "ws.ann@example.test", "active": true}),
        ),
        line(
            user("ws.bob@example.test"),
            201,
            json!({"id": "bbbbbbbb-2222", "userName": "ws.bob@example.test", "active": true}),
        ),
        line(
            json!({"method": "POST", "path": "/Groups", "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "WS Team",
             "members": [{"value": "aaaaaaaa-1111"}, {"value": "bbbbbbbb-2222"}]}}),
            201,
            json!({"id": "gggggggg-3333", "displayName": "WS Team"}),
        ),
        // Entra's default-mode disable (answered with the user) and member removal (204: the
        // belief follows the operation itself).
        line(
            json!({"method": "PATCH", "path": "/Users/bbbbbbbb-2222", "body": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}}),
            200,
            json!({"id": "bbbbbbbb-2222", "userName": "ws.bob@example.test", "active": false}),
        ),
        line(
            json!({"method": "PATCH", "path": "/Groups/gggggggg-3333", "body": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "aaaaaaaa-1111"}]}]}}),
            204,
            Value::Null,
        ),
    ];
    let (scenario, _) = import(dir.path(), "ws", &lines);
    let srv = start().await;
    let state = dir.path().join("believed.yaml");
    let mut cmd = bin();
    cmd.args([
        "run",
        "--no-cleanup",
        "--token",
        TOKEN,
        "--target",
        &srv.base_url(),
        "--write-state",
    ])
    .arg(&state)
    .arg(&scenario);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let written = std::fs::read_to_string(&state).expect("state");
    for want in [
        "ws.ann@example.test",
        "ws.bob@example.test",
        "WS Team",
        "active: false",
        "user_2",
    ] {
        assert!(written.contains(want), "missing {want}:\n{written}");
    }
    let mut cmd = bin();
    cmd.args([
        "audit",
        "--token",
        TOKEN,
        "--target",
        &srv.base_url(),
        "--expect",
    ])
    .arg(&state);
    let o = output(cmd).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "the recording's belief audits clean:\n{}\n{written}",
        text(&o)
    );
    srv.shutdown().await;
}

/// Spawns `idpsim serve` with `args`; returns the child and the base URL from its banner
/// (on stdout for text, stderr for JSON).
fn spawn_serve(args: &[&str], banner_on_stderr: bool) -> (std::process::Child, String) {
    let mut child = bin()
        .args(["serve", "--port", "0", "--token", TOKEN])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let url = {
        let mut first = String::new();
        if banner_on_stderr {
            BufReader::new(child.stderr.as_mut().expect("stderr"))
                .read_line(&mut first)
                .expect("banner");
        } else {
            BufReader::new(child.stdout.as_mut().expect("stdout"))
                .read_line(&mut first)
                .expect("banner");
        }
        first
            .split("at ")
            .nth(1)
            .expect("url in banner")
            .trim()
            .to_string()
    };
    (child, url)
}

fn stop(mut child: std::process::Child) -> String {
    // SIGTERM: the server shuts down cleanly and its log is flushed.
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_each_request_as_text_and_json_lines_without_secrets() {
    let client = reqwest::Client::new();
    let secret = "pw-Serve-Log-Secret-0042";
    let create = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "log.user@example.test", "password": secret});

    let (child, url) = spawn_serve(&[], false);
    let r = client
        .post(format!("{url}/Users"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(create.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let r = client
        .get(format!("{url}/Users?token={secret}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
    let log = stop(child);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" /scim/v2/")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains(" POST /scim/v2/Users 201 ") && lines[0].ends_with("ms"),
        "{log}"
    );
    assert!(
        lines[1].contains(" GET /scim/v2/Users?token=[redacted] 401 "),
        "{log}"
    );
    assert!(!log.contains(secret) && !log.contains(TOKEN), "{log}");

    let (child, url) = spawn_serve(&["--log", "json", "-v"], true);
    let r = client
        .post(format!("{url}/Users"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(create.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let log = stop(child);
    assert!(!log.contains(secret) && !log.contains(TOKEN), "{log}");
    let entries: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert_eq!(entries.len(), 1, "stdout is the JSON lines alone: {log}");
    let e = &entries[0];
    assert_eq!(
        (
            e["method"].as_str(),
            e["path"].as_str(),
            e["status"].as_u64()
        ),
        (Some("POST"), Some("/scim/v2/Users"), Some(201)),
        "{e}"
    );
    assert!(e["duration_ms"].is_number(), "{e}");
    assert_eq!(
        e["request_body"]["userName"], "log.user@example.test",
        "{e}"
    );
    assert_eq!(e["request_body"]["password"], "[redacted]", "{e}");
    assert_eq!(
        e["response_body"]["userName"], "log.user@example.test",
        "{e}"
    );

    let (child, url) = spawn_serve(&["--log", "off"], false);
    let _ = client
        .get(format!("{url}/Users"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get");
    let log = stop(child);
    assert!(!log.contains("/scim/v2/Users "), "{log}");
}
