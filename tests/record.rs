//! Record, replay and audit over real sockets: the built-in server through the library, the
//! `idpsim` binary as a child process (the recorder, `run`, `audit`, `import`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use idpsim::server::Quirk;
use serde_json::{json, Value};

mod common;
use common::{idpsim as bin, root};

const TOKEN: &str = "rec-test-token-5f1e2d3c4b5a69788796";

/// Runs the binary off the async runtime's threads (the server under test lives on them).
async fn output(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("idpsim runs"))
        .await
        .expect("join")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `idpsim record` on a free port; returns the child and the proxy's base URL.
fn spawn_recorder(upstream: &str, out: &Path) -> (Child, String) {
    let mut child = bin()
        .args([
            "record",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream,
            "-o",
        ])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("recorder starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("banner");
    let addr = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("address in the banner")
        .to_string();
    (child, format!("{addr}/scim/v2"))
}

fn interrupt(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let done = child.wait().expect("recorder exits");
    assert_eq!(
        done.code(),
        Some(130),
        "SIGINT ends the recorder with 130: {done:?}"
    );
}

fn validate(path: &Path) {
    let o = bin().arg("validate").arg(path).output().expect("validate");
    assert!(
        o.status.success(),
        "{}\n{}",
        text(&o),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("json")
}

/// (step name, rule) of every finding in a run report.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for sc in report["scenarios"].as_array().into_iter().flatten() {
        for st in sc["steps"].as_array().into_iter().flatten() {
            for f in st["findings"].as_array().into_iter().flatten() {
                out.push((
                    st["name"].as_str().unwrap_or("").to_string(),
                    f["rule"].as_str().unwrap_or("").to_string(),
                    f["severity"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out
}

/// The shipped Okta- and Entra-style scenarios, recorded through the proxy and replayed on a
/// fresh built-in server, pass; the recordings name the IdP and hold no token or password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_okta_and_entra_traffic_replays_on_a_fresh_server() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let dir = tempfile::tempdir().expect("tmp");
    for (scenario, idp) in [
        (
            "scenarios/support/okta-group-out-of-sync-push-now.yaml",
            "okta",
        ),
        (
            "scenarios/support/okta-user-removed-account-remains.yaml",
            "okta",
        ),
        (
            "scenarios/support/entra-out-of-sync-provision-on-demand.yaml",
            "entra",
        ),
    ] {
        let out = dir.path().join(format!("{idp}-{}.yaml", scenario.len()));
        let (mut child, proxy) = spawn_recorder(&srv.base_url(), &out);
        let mut cmd = bin();
        cmd.arg("run")
            .arg(root().join(scenario))
            .args(["--target", &proxy, "--token", TOKEN]);
        let o = output(cmd).await;
        assert!(o.status.success(), "through the proxy: {}", text(&o));
        interrupt(&mut child);
        validate(&out);
        let recording = std::fs::read_to_string(&out).expect("recording");
        assert!(
            recording.contains(&format!("- \"{idp}\"")),
            "{idp} not recognised:\n{recording}"
        );
        for secret in [TOKEN, "gl^m&qWZ", "wA&&cprB", "4a9XuKkx"] {
            assert!(
                !recording.contains(secret),
                "`{secret}` leaked into the recording"
            );
        }
        assert!(recording.contains("capture:") && recording.contains("{{ user_1 }}"));
        // Replayed without --target: a fresh built-in server.
        let mut cmd = bin();
        cmd.arg("run").arg(&out);
        let o = output(cmd).await;
        assert!(
            o.status.success(),
            "replay of {scenario}: {}\n{recording}",
            text(&o)
        );
    }
    srv.shutdown().await;
}

/// SIGKILL mid-run: every exchange the client already got an answer for is in the file, and
/// the file is a valid scenario.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_recorder_leaves_every_forwarded_exchange() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("killed.yaml");
    let (mut child, proxy) = spawn_recorder(&srv.base_url(), &out);
    let client = reqwest::Client::new();
    let sent = 7;
    for i in 0..sent {
        let r = client
            .post(format!("{proxy}/Users"))
            .bearer_auth(TOKEN)
            .header("User-Agent", "Okta SCIM Client 1.0.0")
            .header("Content-Type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("k{i}@example.test"), "password": "Pa55-word-kill"}).to_string())
            .send()
            .await
            .expect("through the proxy");
        assert_eq!(r.status().as_u16(), 201);
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    validate(&out);
    let recording = std::fs::read_to_string(&out).expect("recording");
    assert_eq!(recording.matches("\n  - request:").count(), sent);
    assert_eq!(recording.matches("# exchange ").count(), sent);
    assert!(!recording.contains(TOKEN) && !recording.contains("Pa55-word-kill"));
    insta::assert_snapshot!("killed_recording", common::stable(&recording));
    srv.shutdown().await;
}

/// The proxy forwards bodies and statuses unchanged (gzip included) and passes errors through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_forwards_unchanged() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("fwd.yaml");
    let (mut child, proxy) = spawn_recorder(&srv.base_url(), &out);
    let client = reqwest::Client::new();
    let direct = client
        .get(format!("{}/ServiceProviderConfig", srv.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("direct");
    let direct_body = direct.text().await.expect("body");
    let via = client
        .get(format!("{proxy}/ServiceProviderConfig"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("via");
    assert_eq!(via.status().as_u16(), 200);
    assert_eq!(via.text().await.expect("body"), direct_body);
    let unauth = client
        .get(format!("{proxy}/Users"))
        .send()
        .await
        .expect("via");
    assert_eq!(unauth.status().as_u16(), 401);
    interrupt(&mut child);
    validate(&out);
    srv.shutdown().await;
}

/// An upstream answer over the transport's 16 MiB cap is not held in memory: the client gets a
/// 502 that says why, and the recorder carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_upstream_answer_is_a_502_not_a_memory_blowup() {
    use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/scim+json")
                .set_body_bytes(vec![b' '; 17 * 1024 * 1024]),
        )
        .mount(&upstream)
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("big.yaml");
    let (mut child, proxy) = spawn_recorder(&format!("{}/scim/v2", upstream.uri()), &out);
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{proxy}/Users"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("via");
    assert_eq!(r.status().as_u16(), 502);
    let detail = r.text().await.expect("body");
    assert!(
        detail.contains("larger than the 16 MiB idpsim reads"),
        "{detail}"
    );
    // Still serving.
    let again = client
        .get(format!("{proxy}/Users"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("via");
    assert_eq!(again.status().as_u16(), 502);
    interrupt(&mut child);
    validate(&out);
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

async fn audit(base: &str, state: &Path, extra: &[&str]) -> (i32, String, Value) {
    let json = state.with_extension("report.json");
    let mut cmd = bin();
    cmd.args(["audit", "--target", base, "--token", TOKEN, "--expect"])
        .arg(state)
        .arg("--report-json")
        .arg(&json)
        .args(extra);
    let o = output(cmd).await;
    let rep = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (o.status.code().unwrap_or(-1), text(&o), rep)
}

fn rules(rep: &Value) -> Vec<String> {
    let mut r: Vec<String> = rep["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    r.sort();
    r
}

/// A clean directory audits clean; drift made behind the IdP's back is found, each kind with
/// its rule; 130 users prove full pagination; the report is what a person reads (snapshot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reports_clean_then_every_drift_made_behind_the_idps_back() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let base = srv.base_url();
    let c = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let c = c.clone();
        let url = format!("{base}{path}");
        async move {
            let t = c
                .post(url)
                .bearer_auth(TOKEN)
                .header("Content-Type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .expect("post")
                .text()
                .await
                .expect("body");
            let r: Value = serde_json::from_str(&t).expect("json");
            r["id"].as_str().expect("id").to_string()
        }
    };
    for i in 0..130 {
        post(
            "/Users",
            json!({"userName": format!("filler{i:03}@example.test")}),
        )
        .await;
    }
    let alice = post(
        "/Users",
        json!({"userName": "alice@example.test", "name": {"givenName": "Alice"}, "active": true}),
    )
    .await;
    let bob = post(
        "/Users",
        json!({"userName": "bob@example.test", "name": {"givenName": "Bob"}}),
    )
    .await;
    let carol = post("/Users", json!({"userName": "carol@example.test"})).await;
    let eng = post(
        "/Groups",
        json!({"displayName": "Engineering", "members": [{"value": alice}, {"value": bob}]}),
    )
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.yaml");
    write(&state, "users:\n  alice: { userName: ALICE@example.test, active: true, name: { givenName: Alice } }\n  bob: { userName: bob@example.test, name: { givenName: Bob } }\n  carol: { userName: carol@example.test }\n  dave: { userName: dave@example.test, exists: false }\n  last: { userName: filler129@example.test }\ngroups:\n  eng: { displayName: Engineering, members: [alice, bob] }\n");
    let (code, out, rep) = audit(&base, &state, &[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("CLEAN"), "{out}");
    assert_eq!(rep["summary"]["server_users"], 133);

    // Behind the IdP's back: deactivate alice, rename bob, delete carol, drop bob from eng,
    // create dave.
    let patch = |path: String, ops: Value| {
        let c = c.clone();
        let url = format!("{base}{path}");
        async move {
            let r = c.patch(url).bearer_auth(TOKEN).header("Content-Type", "application/scim+json").body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}).to_string()).send().await.expect("patch");
            assert!(r.status().is_success());
        }
    };
    patch(
        format!("/Users/{alice}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    patch(
        format!("/Users/{bob}"),
        json!([{"op": "replace", "path": "name.givenName", "value": "Robert"}]),
    )
    .await;
    patch(
        format!("/Groups/{eng}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
    )
    .await;
    c.delete(format!("{base}/Users/{carol}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("delete");
    post("/Users", json!({"userName": "dave@example.test"})).await;

    let (code, out, rep) = audit(&base, &state, &["--idp", "okta"]).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        rules(&rep),
        [
            "audit.group.members",
            "audit.user.active",
            "audit.user.attribute",
            "audit.user.extra",
            "audit.user.missing"
        ]
    );
    insta::assert_snapshot!("audit_drift_console", common::stable(&out));

    // --strict also reports what the IdP does not know: the 129 fillers it does not name, on
    // top of dave.
    let (code, _, rep) = audit(&base, &state, &["--strict"]).await;
    assert_eq!(code, 1);
    assert_eq!(
        rules(&rep)
            .iter()
            .filter(|r| *r == "audit.user.extra")
            .count(),
        130
    );
    srv.shutdown().await;
}

/// Bad state files are exit 2 with the file and position, nothing panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_state_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("bad.yaml");
    write(&state, "users:\n  alice: { active: maybe }\n");
    let (code, out, _) = audit("http://127.0.0.1:9/scim/v2", &state, &[]).await;
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("bad.yaml:2:3") && out.contains("users.alice.active"),
        "{out}"
    );
}

/// Each seeded drift (a server quirk) is found by the shipped support scenarios' audit step,
/// and the repair leaves the final audit clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_step_finds_drift_seeded_with_quirks() {
    // (scenario, quirk, the rule the audit's drift is reported under — the fault that caused it,
    // when the run saw the write fail — and whether the scenario's repair fixes it).
    let cases = [
        (
            "okta-group-out-of-sync-push-now",
            Quirk::RenameWipesMembers,
            "rfc7644.patch.replace-empties-members",
            true,
        ),
        (
            "okta-group-out-of-sync-push-now",
            Quirk::IgnoreFilteredMemberRemove,
            "rfc7644.patch.not-applied",
            true,
        ),
        (
            "okta-user-removed-account-remains",
            Quirk::PatchNoop204,
            "rfc7644.patch.not-applied",
            true,
        ),
        // Not the FAQ's fault but a worse one: the deactivation deleted the account, which
        // breaks Okta's reactivation (an error), and the app admin's DELETE finds nothing.
        (
            "okta-user-removed-account-remains",
            Quirk::DeactivateDeletesUser,
            "scim.deactivate.deletes",
            false,
        ),
        // Provisioning on demand sends the same default-mode removal, which this server again
        // reads as "remove every member": the repair cannot fix it, and the final check fails.
        (
            "entra-out-of-sync-provision-on-demand",
            Quirk::RfcLiteralMemberRemove,
            "entra.patch.remove-member-emptied-group",
            false,
        ),
    ];
    let dir = tempfile::tempdir().expect("tmp");
    for (i, (scenario, quirk, rule, repaired)) in cases.into_iter().enumerate() {
        let srv = common::start_server(TOKEN, vec![quirk]).await;
        let json = dir.path().join(format!("r{i}.json"));
        let mut cmd = bin();
        cmd.arg("run")
            .arg(root().join(format!("scenarios/support/{scenario}.yaml")))
            .args([
                "--target",
                &srv.base_url(),
                "--token",
                TOKEN,
                "--report-json",
            ])
            .arg(&json);
        let o = output(cmd).await;
        let f = findings(&report(&json));
        // The drift is reported as a warning by the audit step (the run goes on to the repair).
        assert!(
            f.iter().any(|(_, r, sev)| r == rule && sev == "warning"),
            "{scenario} with {quirk:?}: no {rule}: {f:?}\n{}",
            text(&o)
        );
        // One fault, one problem: every finding names it.
        assert!(
            f.iter()
                .filter(|(_, _, sev)| sev != "info")
                .all(|(_, r, _)| r == rule),
            "{scenario} with {quirk:?}: {f:?}"
        );
        // The repair step fixes it: nothing fails (the drift stays a warning).
        assert_eq!(
            o.status.success(),
            repaired,
            "{scenario} with {quirk:?}: {}",
            text(&o)
        );
        srv.shutdown().await;
    }
}

/// `--write-state` + `--no-cleanup` hands the IdP's belief to `idpsim audit`: clean right after
/// the run, drift once the nested member is removed behind its back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_state_feeds_audit() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("believed.yaml");
    let mut cmd = bin();
    cmd.arg("run")
        .arg(root().join("scenarios/support/nested-group-without-nesting.yaml"))
        .args([
            "--target",
            &srv.base_url(),
            "--token",
            TOKEN,
            "--no-cleanup",
            "--write-state",
        ])
        .arg(&state);
    let o = output(cmd).await;
    assert!(o.status.success(), "{}", text(&o));
    let written = std::fs::read_to_string(&state).expect("state");
    assert!(
        written.contains("parent:") && written.contains("- \"child\""),
        "{written}"
    );
    let (code, out, _) = audit(&srv.base_url(), &state, &[]).await;
    assert_eq!(code, 0, "{out}\n{written}");

    let node: Value = serde_json::to_value(
        idpsim::scenario::yaml::parse_document(&written)
            .expect("yaml")
            .to_json(),
    )
    .expect("json");
    let parent = node["groups"]["parent"]["id"].as_str().expect("parent id");
    let child = node["groups"]["child"]["id"].as_str().expect("child id");
    let r = reqwest::Client::new()
        .patch(format!("{}/Groups/{parent}", srv.base_url()))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": format!("members[value eq \"{child}\"]")}]}).to_string())
        .send()
        .await
        .expect("patch");
    assert!(r.status().is_success());
    let (code, out, rep) = audit(&srv.base_url(), &state, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(rules(&rep), ["audit.group.members"]);
    assert!(out.contains("contains child"), "{out}");
    srv.shutdown().await;
}

/// What an IdP deleted is written as expected-absent, not as present: Okta's `unlink_group …
/// delete: true` (lifecycle-oin) and Entra's `hard_delete` (lifecycle-default) leave a state
/// file whose audit is clean; the deleted objects carry `exists: false`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_state_marks_what_the_idp_deleted_as_absent() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let dir = tempfile::tempdir().expect("tmp");
    for scenario in [
        "scenarios/okta/lifecycle-oin.yaml",
        "scenarios/entra/lifecycle-default.yaml",
    ] {
        let state = dir.path().join("believed.yaml");
        let mut cmd = bin();
        cmd.arg("run")
            .arg(root().join(scenario))
            .args([
                "--target",
                &srv.base_url(),
                "--token",
                TOKEN,
                "--time-scale",
                "0.001",
                "--no-cleanup",
                "--write-state",
            ])
            .arg(&state);
        let o = output(cmd).await;
        assert!(o.status.success(), "{scenario}: {}", text(&o));
        let written = std::fs::read_to_string(&state).expect("state");
        assert!(written.contains("exists: false"), "{scenario}:\n{written}");
        let (code, out, rep) = audit(&srv.base_url(), &state, &[]).await;
        assert_eq!(code, 0, "{scenario}: {:?}\n{out}\n{written}", rules(&rep));
    }
    srv.shutdown().await;
}

/// HAR and JSON-lines captures import into scenarios that replay on a fresh server; the
/// imported YAML is what a person reads (snapshot); secrets from the capture are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_import_and_replay() {
    let dir = tempfile::tempdir().expect("tmp");
    for (fixture, secrets) in [
        (
            "okta-provisioning.har",
            ["har-secret-token-0123456789", "Xy7&kq!2"],
        ),
        (
            "entra-provisioning.jsonl",
            ["jsonl-secret-token-abcdef", "jsonl-secret-token-abcdef"],
        ),
    ] {
        let out = dir.path().join(format!("{fixture}.yaml"));
        let mut cmd = bin();
        cmd.arg("import")
            .arg(root().join("fixtures/captures").join(fixture))
            .arg("-o")
            .arg(&out);
        let o = output(cmd).await;
        assert!(o.status.success(), "{}", text(&o));
        let yaml = std::fs::read_to_string(&out).expect("yaml");
        for s in secrets {
            assert!(!yaml.contains(s), "{s} leaked");
        }
        insta::assert_snapshot!(format!("import_{}", fixture.replace('.', "_")), yaml);
        let mut cmd = bin();
        cmd.arg("run").arg(&out);
        let o = output(cmd).await;
        assert!(o.status.success(), "replay of {fixture}: {}", text(&o));
    }
    let mut cmd = bin();
    cmd.arg("import")
        .arg(root().join("fixtures/captures/malformed.har"))
        .arg("-o")
        .arg(dir.path().join("m.yaml"));
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("malformed.har:4:101"), "{}", text(&o));
}
