//! The verdict a person can trust: findings grouped into distinct problems (root causes first),
//! scenarios that carry on after a failure like the IdP does ("not run: needs step N" for what
//! depends on a failed step), cleanup that verifies its deletes, and trigger probing. The real
//! `idpsim` binary against the built-in server (with quirks) and wiremock servers playing broken
//! servers, over loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use idpsim::server::{start, Quirk, RunningServer, ServerConfig};

const TOKEN: &str = "t0ken-for-the-verdict";

fn idpsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idpsim"))
        .args(args)
        .env_remove("IDPSIM_TOKEN")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the idpsim binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Replaces what changes from run to run (ports, ids, run suffixes) for snapshots.
fn stable(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"[0-9a-f]{32}", "ID"),
        (r"[0-9a-f]{8}", "RUNID"),
        (r"/tmp/[^\s:]+", "TMPFILE"),
    ];
    let mut out = text.to_string();
    for (pattern, replacement) in rules {
        out = regex::Regex::new(pattern)
            .expect("valid regex")
            .replace_all(&out, *replacement)
            .into_owned();
    }
    out
}

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
