//! Third-party SCIM software, in CI: `scim2 test` (scim2-cli) against `idpsim serve`, and the
//! whole shipped suite against scim2-server compared with `ci/scim2-server.expected.json`.
//!
//! `.ci/run` installs both into a local venv and exports `IDPSIM_SCIM2_CLI` and
//! `IDPSIM_SCIM2_SERVER`. Without them (a developer's plain `cargo test`) these tests say they
//! were skipped; under CI (`CI` set) a missing tool is a failure, so CI can never skip them.
//!
//! To accept a deliberate change of outcome: `IDPSIM_UPDATE_INTEROP=1 cargo test --test interop`
//! rewrites the expectation file (keeping the reasons already written) — then write a reason,
//! checked against the RFC and the IdP references, for every new failure.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(path) if Path::new(&path).exists() => Some(path),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set or missing under CI; .ci/run installs it")
        }
        _ => {
            eprintln!(
                "skipped: {var} is not set (run .ci/run, or see the README's interop section)"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on port {port} after 30 s");
}

#[test]
fn scim2_cli_test_passes_against_idpsim_serve() {
    let Some(scim2) = tool("IDPSIM_SCIM2_CLI") else {
        return;
    };
    let port = free_port();
    let token = "interop-token-7c1e";
    // scim2-tester runs create/replace/delete on every resource type it discovers and needs
    // one resource type per schema; the roles/entitlements catalogue is read-only (Okta only
    // reads it) and serves two types on Okta's one Entitlement schema. The catalogue has its
    // own tests (tests/entitlements.rs); here the core server meets an independent tester.
    let dir = tempfile::tempdir().expect("tempdir");
    let no_catalogue = dir.path().join("catalogue.json");
    std::fs::write(&no_catalogue, r#"{"types":[]}"#).expect("write the empty catalogue");
    let server = common::idpsim()
        .args(["serve", "--port", &port.to_string(), "--token", token])
        .args(["--catalog", no_catalogue.to_str().expect("utf-8")])
        .stdout(Stdio::null())
        .spawn()
        .expect("idpsim serve starts");
    let _server = Killed(server);
    wait_for_port(port);
    let out = Command::new(scim2)
        .args(["--url", &format!("http://127.0.0.1:{port}/scim/v2"), "test"])
        .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
        .output()
        .expect("scim2 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let failures: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("CRITICAL"))
        .collect();
    let successes = text.lines().filter(|l| l.contains("SUCCESS")).count();
    eprintln!(
        "scim2 test: {successes} checks succeeded, {} failed",
        failures.len()
    );
    assert!(
        out.status.success() && failures.is_empty(),
        "scim2 test failed:\n{}\n{}",
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        successes > 50,
        "scim2 test ran only {successes} checks:\n{text}"
    );
}

/// One scenario's outcome against scim2-server.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Expected {
    outcome: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rules: Vec<String>,
    /// Why it fails, checked against the RFC and the IdP references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Expectation {
    server: String,
    scenarios: BTreeMap<String, Expected>,
}

#[test]
fn the_shipped_suite_against_scim2_server_matches_its_expectation() {
    let Some(server_bin) = tool("IDPSIM_SCIM2_SERVER") else {
        return;
    };
    let port = free_port();
    let token = "interop-token-5b9d";
    let _server = Killed(
        Command::new(server_bin)
            .args(["--port", &port.to_string(), "--bearer-token", token])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scim2-server starts"),
    );
    wait_for_port(port);
    let dir = tempfile::tempdir().expect("tempdir");
    let report_path = dir.path().join("interop.json");
    let out = common::idpsim()
        .args([
            "run",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            token,
            "-j",
            "2",
            "--time-scale",
            "0.001",
        ])
        .args(["--report-json", report_path.to_str().expect("utf-8")])
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("idpsim runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "idpsim against scim2-server: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report"))
            .expect("report is JSON");
    let mut actual = BTreeMap::new();
    for s in report["scenarios"].as_array().expect("scenarios") {
        let mut rules: Vec<String> = s["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|st| st["findings"].as_array().cloned().unwrap_or_default())
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect();
        rules.sort();
        rules.dedup();
        let key = format!(
            "{} :: {}",
            s["file"].as_str().unwrap_or(""),
            s["name"].as_str().unwrap_or("")
        );
        actual.insert(
            key,
            Expected {
                outcome: s["outcome"].as_str().unwrap_or("").to_string(),
                rules,
                reason: None,
            },
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/scim2-server.expected.json");
    let expected: Option<Expectation> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if std::env::var_os("IDPSIM_UPDATE_INTEROP").is_some() {
        let mut scenarios = actual.clone();
        for (k, v) in scenarios.iter_mut() {
            v.reason = expected
                .as_ref()
                .and_then(|e| e.scenarios.get(k))
                .and_then(|e| e.reason.clone());
            if v.outcome == "failed" && v.reason.is_none() {
                v.reason = Some("TODO: explain, citing the RFC and the IdP reference".into());
            }
        }
        let file = Expectation {
            server: "scim2-server 0.8.3".into(),
            scenarios,
        };
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&file).expect("serialize") + "\n",
        )
        .expect("write expectation");
        eprintln!("rewrote {}", path.display());
        return;
    }
    let expected = expected.expect("ci/scim2-server.expected.json exists and parses");
    let mut changes = Vec::new();
    for (k, want) in &expected.scenarios {
        match actual.get(k) {
            None => changes.push(format!("gone: {k}")),
            Some(got) if got.outcome != want.outcome || got.rules != want.rules => {
                changes.push(format!(
                    "changed: {k}\n    expected {} {:?}\n    actual   {} {:?}",
                    want.outcome, want.rules, got.outcome, got.rules
                ))
            }
            _ => {}
        }
        assert!(
            want.outcome != "failed"
                || want
                    .reason
                    .as_deref()
                    .is_some_and(|r| !r.starts_with("TODO")),
            "{k}: a failure needs a reason"
        );
    }
    for (k, got) in &actual {
        if !expected.scenarios.contains_key(k) {
            changes.push(format!("new: {k}: {} {:?}", got.outcome, got.rules));
        }
    }
    assert!(changes.is_empty(), "the suite's outcome against scim2-server changed:\n{}\n(accept with IDPSIM_UPDATE_INTEROP=1 and write the reasons)", changes.join("\n"));
    let failed = actual.values().filter(|v| v.outcome == "failed").count();
    eprintln!(
        "interop with scim2-server: {} scenarios as expected ({failed} expected failures)",
        actual.len()
    );
}
