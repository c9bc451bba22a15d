//! Interrupted runs, end to end: the real `idpsim` binary receives a real SIGINT or SIGTERM
//! (`kill(2)`) while it talks to a wiremock server over loopback. What must hold: no new
//! requests, cleanup of what the run created (within `--grace-period`), the reports of what ran,
//! an exit code that names the signal (130 SIGINT, 143 SIGTERM), and a second signal quitting at
//! once. The phase of the run is read from the requests the server received, not from sleeps;
//! the only clock is a generous hang guard that kills a stuck child and fails the test.

#![cfg(unix)]

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

mod common;

/// Far beyond anything a healthy run needs; only a hang reaches it.
const HANG_GUARD: Duration = Duration::from_secs(90);

/// A SCIM user answer for `id`.
fn user(id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "userName": "x",
        "meta": {"resourceType": "User", "location": format!("/Users/{id}")}
    })
}

/// A scenario that creates a user, then reads it slowly (the read is where the signal lands),
/// then would read it again.
const CREATE_THEN_WAIT: &str = "name: create then wait\nsteps:\n  - request: { method: POST, path: /Users, body: { userName: x } }\n  - name: slow read\n    request: { method: GET, path: /Users/u-1 }\n  - name: never sent\n    request: { method: GET, path: /Users/u-1 }\n";

/// A wiremock server: creates at once, reads after `read_delay`, deletes after `delete_delay`.
fn slow_server(
    rt: &tokio::runtime::Runtime,
    read_delay: Duration,
    delete_delay: Duration,
) -> MockServer {
    rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/Users"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_raw(user("u-1").to_string(), "application/scim+json")
                    .insert_header("Location", "/Users/u-1"),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/Users/u-1"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(user("u-1").to_string(), "application/scim+json")
                    .set_delay(read_delay),
            )
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204).set_delay(delete_delay))
            .mount(&server)
            .await;
        server
    })
}

struct Run {
    child: Child,
    dir: tempfile::TempDir,
}

impl Run {
    fn report_path(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout")).unwrap_or_default()
    }
    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.report_path()).unwrap_or_else(|e| {
            panic!(
                "the JSON report is written ({e})\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        });
        serde_json::from_str(&text).expect("the report is JSON")
    }
}

/// Starts `idpsim` with stdout and stderr going to files in a fresh temp dir.
fn spawn(args: &[&str], dir: tempfile::TempDir) -> Run {
    let child = common::idpsim()
        .args(args)
        .env_remove("IDPSIM_TOKEN")
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(File::create(dir.path().join("stdout")).expect("stdout file"))
        .stderr(File::create(dir.path().join("stderr")).expect("stderr file"))
        .spawn()
        .expect("idpsim starts");
    Run { child, dir }
}

/// Starts `idpsim run` of `scenario` against `target` with a JSON report, plus `extra` flags.
fn spawn_run(scenario: &str, target: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, scenario).expect("write scenario");
    let report = dir.path().join("report.json");
    let mut args = vec![
        "run",
        file.to_str().expect("utf-8"),
        "--target",
        target,
        "--report-json",
        report.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    spawn(&args, dir)
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) with the pid of a child this test spawned and has not reaped yet.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
}

/// Waits for the child to exit by itself; kills it and fails the test if it hangs.
fn wait(run: &mut Run) -> i32 {
    let started = Instant::now();
    loop {
        match run.child.try_wait().expect("try_wait") {
            Some(status) => {
                return status.code().unwrap_or_else(|| {
                    panic!(
                        "idpsim died from a signal instead of exiting: {status:?}\n{}",
                        run.stderr()
                    )
                })
            }
            None if started.elapsed() > HANG_GUARD => {
                let _ = run.child.kill();
                let _ = run.child.wait();
                panic!(
                    "idpsim did not exit within the hang guard\nstdout:\n{}\nstderr:\n{}",
                    run.stdout(),
                    run.stderr()
                );
            }
            None => std::thread::sleep(Duration::from_millis(25)),
        }
    }
}

/// Polls what the server received until `done` holds (the run reached the phase a test needs).
fn wait_for_requests(
    rt: &tokio::runtime::Runtime,
    server: &MockServer,
    run: &mut Run,
    what: &str,
    done: impl Fn(&[Request]) -> bool,
) {
    let started = Instant::now();
    loop {
        let received = rt.block_on(server.received_requests()).unwrap_or_default();
        if done(&received) {
            return;
        }
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            panic!(
                "idpsim exited ({status:?}) before {what}\nstdout:\n{}\nstderr:\n{}",
                run.stdout(),
                run.stderr()
            );
        }
        if started.elapsed() > HANG_GUARD {
            let _ = run.child.kill();
            panic!("the server never saw {what}: {received:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(received: &[Request], verb: &str, url_path: &str) -> usize {
    received
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == url_path)
        .count()
}

/// The whole interrupted run for one signal: returns the report and stderr.
fn interrupted_run(sig: libc::c_int, expected_code: i32, name: &str) -> (Value, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The read takes far longer than any test: only the signal ends it.
    let server = slow_server(&rt, Duration::from_secs(600), Duration::ZERO);
    let mut run = spawn_run(CREATE_THEN_WAIT, &server.uri(), &[]);
    wait_for_requests(&rt, &server, &mut run, "the slow read", |r| {
        count(r, "GET", "/Users/u-1") == 1
    });
    signal(&run.child, sig);
    let code = wait(&mut run);
    assert_eq!(code, expected_code, "stderr:\n{}", run.stderr());

    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    assert_eq!(
        count(&received, "DELETE", "/Users/u-1"),
        1,
        "cleanup deleted the user the run created: {received:?}"
    );
    assert_eq!(
        count(&received, "GET", "/Users/u-1"),
        1,
        "no request was sent after the signal"
    );
    let report = run.report();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["signal"], name);
    let steps = report["scenarios"][0]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0]["outcome"], "passed", "the create ran: {steps:?}");
    assert_eq!(
        steps[0]["exchanges"][0]["response"]["status"], 201,
        "the report holds what ran"
    );
    assert_eq!(steps[1]["outcome"], "skipped");
    assert!(
        steps[1]["skip_reason"]
            .as_str()
            .is_some_and(|r| r.contains("in flight")),
        "the step in flight says what happened: {}",
        steps[1]
    );
    assert_eq!(steps[2]["outcome"], "skipped");
    let cleanup = report["scenarios"][0]["cleanup"]
        .as_array()
        .expect("cleanup");
    assert!(
        cleanup
            .iter()
            .any(|c| c["name"] == "delete /Users/u-1" && c["outcome"] == "passed"),
        "the deletion is in the report: {cleanup:?}"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("again to quit at once"),
        "the first signal says how to quit at once: {stderr}"
    );
    (report, stderr)
}

#[test]
fn sigint_stops_cleans_up_writes_the_report_and_exits_130() {
    let (_, stderr) = interrupted_run(libc::SIGINT, 130, "SIGINT");
    assert!(stderr.contains("SIGINT"), "{stderr}");
}

#[test]
fn sigterm_is_handled_like_sigint_and_exits_143() {
    let (_, stderr) = interrupted_run(libc::SIGTERM, 143, "SIGTERM");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
}

#[test]
fn scenarios_waiting_to_start_send_nothing_after_the_signal_not_even_their_cleanup() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = slow_server(&rt, Duration::from_secs(600), Duration::ZERO);
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/Users/w-1"))
            .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(600)))
            .mount(&server),
    );
    // Two scenarios, one at a time; each waits on a slow read, so the second never starts
    // before the signal. Which one goes first is up to the scheduler: the test reads it off
    // the server.
    let waiting = "name: waiting\nsteps:\n  - request: { method: GET, path: /Users/w-1 }\ncleanup:\n  - request: { method: DELETE, path: /Users/w-cleanup }\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, second) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
    std::fs::write(&first, CREATE_THEN_WAIT).expect("write");
    std::fs::write(&second, waiting).expect("write");
    let report = dir.path().join("report.json");
    let (first, second, report_arg) = (
        first.to_str().expect("utf-8").to_string(),
        second.to_str().expect("utf-8").to_string(),
        report.to_str().expect("utf-8").to_string(),
    );
    let mut run = spawn(
        &[
            "run",
            &first,
            &second,
            "-j",
            "1",
            "--target",
            &server.uri(),
            "--report-json",
            &report_arg,
        ],
        dir,
    );
    wait_for_requests(&rt, &server, &mut run, "a slow read", |r| {
        count(r, "GET", "/Users/u-1") + count(r, "GET", "/Users/w-1") == 1
    });
    signal(&run.child, libc::SIGINT);
    assert_eq!(wait(&mut run), 130, "stderr:\n{}", run.stderr());
    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    let sent: Vec<String> = received
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .filter(|r| !r.ends_with("/ServiceProviderConfig"))
        .collect();
    let create_started = count(&received, "GET", "/Users/u-1") == 1;
    let (expected, not_started): (&[&str], usize) = if create_started {
        // The create scenario ran and cleaned up; the waiting one sent nothing at all.
        (&["POST /Users", "GET /Users/u-1", "DELETE /Users/u-1"], 1)
    } else {
        // The waiting scenario ran its cleanup step; the create scenario sent nothing at all.
        (&["GET /Users/w-1", "DELETE /Users/w-cleanup"], 0)
    };
    assert_eq!(sent, expected, "nothing else was sent after the signal");
    let report = run.report();
    let skipped = &report["scenarios"][not_started];
    assert_eq!(skipped["outcome"], "skipped", "{skipped}");
    assert_eq!(skipped["skip_reason"], "interrupted before it started");
    assert_eq!(skipped["cleanup"], json!([]), "{skipped}");
}

/// Starts a run whose cleanup DELETE hangs, signals once, and waits until the DELETE is out.
fn run_stuck_in_cleanup(
    rt: &tokio::runtime::Runtime,
    server: &MockServer,
    first: libc::c_int,
    extra: &[&str],
) -> Run {
    let mut run = spawn_run(CREATE_THEN_WAIT, &server.uri(), extra);
    wait_for_requests(rt, server, &mut run, "the slow read", |r| {
        count(r, "GET", "/Users/u-1") == 1
    });
    signal(&run.child, first);
    wait_for_requests(rt, server, &mut run, "the cleanup DELETE", |r| {
        count(r, "DELETE", "/Users/u-1") == 1
    });
    run
}

#[test]
fn a_second_signal_during_a_stuck_cleanup_quits_at_once_with_its_own_code() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // Cleanup would wait ten minutes for the DELETE, and the grace period would allow it.
    let server = slow_server(&rt, Duration::from_secs(600), Duration::from_secs(600));
    let grace = ["--grace-period", "15m"];

    let mut run = run_stuck_in_cleanup(&rt, &server, libc::SIGINT, &grace);
    signal(&run.child, libc::SIGINT);
    assert_eq!(wait(&mut run), 130, "stderr:\n{}", run.stderr());
    assert!(
        run.stderr().contains("quitting at once"),
        "{}",
        run.stderr()
    );

    // The code is the second signal's: a SIGTERM after a Ctrl-C is a termination.
    let server = slow_server(&rt, Duration::from_secs(600), Duration::from_secs(600));
    let mut run = run_stuck_in_cleanup(&rt, &server, libc::SIGINT, &grace);
    signal(&run.child, libc::SIGTERM);
    assert_eq!(wait(&mut run), 143, "stderr:\n{}", run.stderr());
}

#[test]
fn when_the_grace_period_runs_out_the_report_names_what_was_left_behind() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = slow_server(&rt, Duration::from_secs(600), Duration::from_secs(600));
    let junit = tempfile::NamedTempFile::new().expect("tempfile");
    let junit_arg = junit.path().to_str().expect("utf-8").to_string();
    let mut run = run_stuck_in_cleanup(
        &rt,
        &server,
        libc::SIGINT,
        &["--grace-period", "1s", "--report-junit", &junit_arg],
    );
    // No second signal: the grace period alone ends the stuck cleanup.
    assert_eq!(wait(&mut run), 130, "stderr:\n{}", run.stderr());
    let url = format!("{}/Users/u-1", server.uri());
    let report = run.report();
    assert_eq!(report["interrupted"], true);
    // An interrupted report with a left-behind resource still follows the published schema.
    let schema: Value =
        serde_json::from_str(include_str!("../docs/report.schema.json")).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let cleanup = report["scenarios"][0]["cleanup"]
        .as_array()
        .expect("cleanup");
    let left: Vec<&Value> = cleanup
        .iter()
        .filter(|c| {
            c["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f["rule"] == "cleanup.left-behind")
        })
        .collect();
    assert_eq!(left.len(), 1, "{cleanup:?}");
    assert_eq!(left[0]["skip_reason"], format!("left behind: {url}"));
    let message = left[0]["findings"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&url) && message.contains("grace period"),
        "{message}"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("left behind") && stderr.contains(&url),
        "stderr lists what to delete by hand: {stderr}"
    );
    let stdout = run.stdout();
    assert!(
        stdout.contains("INTERRUPTED") && stdout.contains("cleanup.left-behind"),
        "the console summary says the run was interrupted: {stdout}"
    );
    let junit = std::fs::read_to_string(junit.path()).expect("the JUnit report is written");
    assert!(
        junit.contains("interrupted") && junit.contains(&format!("left behind: {url}")),
        "{junit}"
    );
}

#[test]
fn a_signal_during_the_preflight_exits_with_the_signal_code_and_sends_nothing_more() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ServiceProviderConfig"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
            .mount(&server)
            .await;
        server
    });
    let mut run = spawn_run(CREATE_THEN_WAIT, &server.uri(), &[]);
    wait_for_requests(&rt, &server, &mut run, "the preflight", |r| {
        count(r, "GET", "/ServiceProviderConfig") == 1
    });
    signal(&run.child, libc::SIGTERM);
    assert_eq!(wait(&mut run), 143, "stderr:\n{}", run.stderr());
    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    assert_eq!(
        received.len(),
        1,
        "nothing after the preflight: {received:?}"
    );
}

#[test]
fn record_closes_a_valid_recording_on_sigterm_and_exits_143() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            port: 0,
            ..Default::default()
        }))
        .expect("upstream starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("recording.yaml");
    let banner_dir = tempfile::tempdir().expect("tempdir");
    let mut run = spawn(
        &[
            "record",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream.base_url(),
            "-o",
            out.to_str().expect("utf-8"),
        ],
        banner_dir,
    );
    // The banner names the proxy's address once it listens.
    let started = Instant::now();
    let proxy = loop {
        let stdout = run.stdout();
        if let Some(addr) = stdout
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
        {
            break format!("{addr}/scim/v2");
        }
        assert!(started.elapsed() < HANG_GUARD, "no banner: {stdout}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let client = reqwest::Client::new();
    let status = rt
        .block_on(
            client
                .post(format!("{proxy}/Users"))
                .header("Content-Type", "application/scim+json")
                .body(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rec@example.test"})
                        .to_string(),
                )
                .send(),
        )
        .expect("the proxy answers")
        .status();
    assert_eq!(status.as_u16(), 201);
    signal(&run.child, libc::SIGTERM);
    assert_eq!(wait(&mut run), 143, "stderr:\n{}", run.stderr());
    let recording = std::fs::read_to_string(&out).expect("the recording exists");
    assert!(recording.contains("rec@example.test"), "{recording}");
    let validate = common::idpsim()
        .arg("validate")
        .arg(&out)
        .output()
        .expect("validate runs");
    assert!(
        validate.status.success(),
        "the recording is a valid scenario: {}\n{recording}",
        String::from_utf8_lossy(&validate.stderr)
    );
    assert!(
        run.stdout().contains("1 exchange(s) written"),
        "{}",
        run.stdout()
    );
    rt.block_on(upstream.shutdown());
}

#[test]
fn load_stops_issuing_work_on_sigterm_writes_its_report_and_exits_143() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let token = "load-interrupt-token";
    let target = rt
        .block_on(idpsim::server::start(idpsim::server::ServerConfig {
            port: 0,
            token: Some(token.into()),
            ..Default::default()
        }))
        .expect("target starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("load.json");
    let base = target.base_url();
    // Paced so the cycle is nowhere near its end when the signal comes.
    let mut run = spawn(
        &[
            "load",
            "--idp",
            "okta",
            "--users",
            "100000",
            "--rate",
            "200",
            "--target",
            &base,
            "--token",
            token,
            "--report-json",
            report.to_str().expect("utf-8"),
        ],
        dir,
    );
    let client = reqwest::Client::new();
    let users_on_server = || -> u64 {
        rt.block_on(async {
            let answer = client
                .get(format!("{base}/Users?count=0"))
                .bearer_auth(token)
                .send()
                .await
                .ok()?;
            let body = answer.bytes().await.ok()?;
            serde_json::from_slice::<Value>(&body).ok()?["totalResults"].as_u64()
        })
        .unwrap_or(0)
    };
    let started = Instant::now();
    while users_on_server() < 5 {
        assert!(
            run.child.try_wait().expect("try_wait").is_none(),
            "load exited early: {}",
            run.stderr()
        );
        assert!(started.elapsed() < HANG_GUARD, "load never created a user");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&run.child, libc::SIGTERM);
    assert_eq!(wait(&mut run), 143, "stderr:\n{}", run.stderr());
    let created = users_on_server();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(run.dir.path().join("load.json")).expect("the report is written"),
    )
    .expect("json");
    assert_eq!(json["interrupted"], true);
    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 0, "the report counts what ran: {json}");
    assert!(
        created < 100_000,
        "work stopped well before the end ({created} users created)"
    );
    // Nothing is sent after the exit: the count on the server stays put.
    assert_eq!(users_on_server(), created);
    assert!(run.stderr().contains("SIGTERM"), "{}", run.stderr());
    rt.block_on(target.shutdown());
}

#[test]
fn serve_shuts_down_cleanly_on_sigterm_with_its_data_file_complete() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("store.json");
    let data_arg = data.to_str().expect("utf-8").to_string();
    let mut run = spawn(&["serve", "--port", "0", "--data", &data_arg], dir);
    let started = Instant::now();
    let base = loop {
        let stdout = run.stdout();
        if let Some(url) = stdout
            .split("serving SCIM 2.0 at ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
        {
            break url.to_string();
        }
        assert!(started.elapsed() < HANG_GUARD, "no banner: {stdout}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let client = reqwest::Client::new();
    let status = rt
        .block_on(
            client
                .post(format!("{base}/Users"))
                .header("Content-Type", "application/scim+json")
                .body(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "kept@example.test"})
                        .to_string(),
                )
                .send(),
        )
        .expect("serve answers")
        .status();
    assert_eq!(status.as_u16(), 201);
    signal(&run.child, libc::SIGTERM);
    assert_eq!(
        wait(&mut run),
        0,
        "a requested shutdown is a clean end: {}",
        run.stderr()
    );
    assert!(run.stderr().contains("SIGTERM"), "{}", run.stderr());
    let stored = std::fs::read_to_string(&data).expect("the data file exists");
    assert!(stored.contains("kept@example.test"), "{stored}");
}

#[test]
fn a_bad_grace_period_is_a_usage_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, CREATE_THEN_WAIT).expect("write");
    let run = |cwd: &std::path::Path, extra: &[&str]| {
        common::idpsim()
            .arg("run")
            .arg(&scenario)
            // Nothing listens on port 9: had anything been sent, the exit would be 3.
            .args(["--target", "http://127.0.0.1:9/scim/v2"])
            .args(extra)
            .current_dir(cwd)
            .output()
            .expect("idpsim runs")
    };
    let o = run(dir.path(), &["--no-config", "--grace-period", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`soon` is not a duration"));

    std::fs::write(
        dir.path().join("idpsim.toml"),
        "[run]\ngrace_period = \"-3s\"\n",
    )
    .expect("write");
    let o = run(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("run.grace_period"), "{err}");
}

/// A scenario whose first request is a create (the one in flight when the signal lands).
const CREATE_FIRST: &str = "name: create in flight\nsteps:\n  - name: create\n    request: { method: POST, path: /Users, body: { schemas: [\"urn:ietf:params:scim:schemas:core:2.0:User\"], userName: in-flight@example.test } }\n  - name: never sent\n    request: { method: GET, path: /Users/u-1 }\n";

/// A server that creates `u-1` after `create_delay` and deletes at once.
fn slow_create_server(rt: &tokio::runtime::Runtime, create_delay: Duration) -> MockServer {
    rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/Users"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_raw(user("u-1").to_string(), "application/scim+json")
                    .insert_header("Location", "/Users/u-1")
                    .set_delay(create_delay),
            )
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        server
    })
}

#[test]
fn a_create_in_flight_at_the_signal_is_reported_as_sent_and_its_user_cleaned_up() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The answer comes well within half the grace period: the run waits for it.
    let server = slow_create_server(&rt, Duration::from_millis(1500));
    let mut run = spawn_run(CREATE_FIRST, &server.uri(), &["--grace-period", "60s"]);
    wait_for_requests(&rt, &server, &mut run, "the create", |r| {
        count(r, "POST", "/Users") == 1
    });
    signal(&run.child, libc::SIGINT);
    assert_eq!(wait(&mut run), 130, "stderr:\n{}", run.stderr());
    let received = rt.block_on(server.received_requests()).unwrap_or_default();
    assert_eq!(
        count(&received, "DELETE", "/Users/u-1"),
        1,
        "cleanup deleted the user the create in flight made: {received:?}"
    );
    assert_eq!(
        count(&received, "GET", "/Users/u-1"),
        0,
        "nothing new was sent"
    );
    let report = run.report();
    let steps = report["scenarios"][0]["steps"].as_array().expect("steps");
    assert_ne!(
        steps[0]["outcome"], "skipped",
        "the create was sent: {}",
        steps[0]
    );
    assert_eq!(steps[0]["exchanges"][0]["request"]["method"], "POST");
    assert_eq!(
        steps[0]["exchanges"][0]["response"]["status"], 201,
        "{}",
        steps[0]
    );
    assert_eq!(steps[1]["outcome"], "skipped");
}

#[test]
fn a_create_never_answered_before_the_grace_period_is_listed_as_left_behind() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = slow_create_server(&rt, Duration::from_secs(600));
    let mut run = spawn_run(CREATE_FIRST, &server.uri(), &["--grace-period", "1s"]);
    wait_for_requests(&rt, &server, &mut run, "the create", |r| {
        count(r, "POST", "/Users") == 1
    });
    signal(&run.child, libc::SIGINT);
    assert_eq!(wait(&mut run), 130, "stderr:\n{}", run.stderr());
    let report = run.report();
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["outcome"], "failed", "sent, fate unknown: {step}");
    assert_eq!(step["exchanges"][0]["request"]["method"], "POST", "{step}");
    let reason = step["skip_reason"].as_str().unwrap_or("");
    assert!(
        reason.starts_with("left behind: POST ") && reason.contains("in-flight@example.test"),
        "{reason}"
    );
    assert!(
        step["findings"][0]["rule"] == "cleanup.left-behind",
        "{step}"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("left behind") && stderr.contains("in-flight@example.test"),
        "stderr lists what may need deleting by hand: {stderr}"
    );
    assert!(
        run.stdout().contains("in-flight@example.test"),
        "the console summary lists it too: {}",
        run.stdout()
    );
}
