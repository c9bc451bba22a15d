//! What every integration test shares: one way to start the `idpsim` binary and one snapshot
//! scrubber. Include it with `mod common;`.
//!
//! The binary always starts the same way, so a developer's environment cannot change a test:
//! no token from the environment (`IDPSIM_TOKEN`, `IDPSIM_SERVE_TOKEN`, `SCIM_TOKEN` removed),
//! colour off (`NO_COLOR=1`), stdin closed, in the repository root. A test that needs something
//! else says so on the returned `Command` (`.env(…)`, `.current_dir(…)`).

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

/// The repository root (where `scenarios/` is).
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `idpsim` binary, ready to run as described in the module docs.
pub fn idpsim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idpsim"));
    cmd.env_remove("IDPSIM_TOKEN")
        .env_remove("IDPSIM_SERVE_TOKEN")
        .env_remove("SCIM_TOKEN")
        .env_remove("IDPSIM_BASIC")
        .env_remove("IDPSIM_AUTH_HEADER")
        .env_remove("IDPSIM_OAUTH_CLIENT_ID")
        .env_remove("IDPSIM_OAUTH_CLIENT_SECRET")
        .env_remove("IDPSIM_OAUTH_REFRESH_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .current_dir(root());
    cmd
}

/// The built-in reference server on a free loopback port, requiring `token`, with `quirks`.
pub async fn start_server(
    token: &str,
    quirks: Vec<idpsim::server::Quirk>,
) -> idpsim::server::RunningServer {
    idpsim::server::start(idpsim::server::ServerConfig {
        port: 0,
        token: Some(token.into()),
        quirks,
        ..idpsim::server::ServerConfig::default()
    })
    .await
    .expect("the reference server starts")
}

/// Runs `idpsim ARGS` to its end.
pub fn run(args: &[&str]) -> Output {
    idpsim()
        .args(args)
        .output()
        .expect("the idpsim binary runs")
}

/// Runs a prepared command to its end on a blocking thread, so the test's own servers (on the
/// async runtime) keep answering meanwhile.
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the idpsim binary runs"))
        .await
        .expect("the blocking task finishes")
}

/// Runs `idpsim ARGS` to its end from an async test (see [`output`]).
pub async fn run_async<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    let mut cmd = idpsim();
    cmd.args(args);
    output(cmd).await
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code (-1 when a signal ended the process).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Replaces what changes from run to run for snapshots: loopback ports, UUIDs, 32-hex tokens
/// and ids, 8-hex run suffixes, RFC 3339 times, `date:` lines, temp paths and idpsim's version.
pub fn stable(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"\b[0-9a-f]{32}\b", "ID"),
        (r"\b[0-9a-f]{8}\b", "RUNID"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIMESTAMP"),
        (r"(?m)^date: .*$", "date: DATE"),
        (r"/tmp/[^\s:`]+", "TMPFILE"),
        (r"idpsim[ /]\d+\.\d+\.\d+", "idpsim VERSION"),
    ];
    let mut s = text.to_string();
    for (pattern, replacement) in rules {
        s = regex::Regex::new(pattern)
            .expect("valid regex")
            .replace_all(&s, *replacement)
            .into_owned();
    }
    s
}

/// Every problem-bearing finding of a JSON report's steps as `rule:severity` (info left out), in
/// report order: what "one quirk, one problem at the IdP's severity" assertions compare.
pub fn judged_findings(report: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for sc in report["scenarios"].as_array().into_iter().flatten() {
        for st in sc["steps"].as_array().into_iter().flatten() {
            for f in st["findings"].as_array().into_iter().flatten() {
                if f["severity"] != "info" {
                    out.push(format!(
                        "{}:{}",
                        f["rule"].as_str().unwrap_or("?"),
                        f["severity"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    out
}
