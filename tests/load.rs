//! `idpsim load` end to end: the real binary against the built-in server (clean and with the
//! race quirks), against a throttling proxy, and the seed's reproducibility.

use idpsim::server::Quirk;
use serde_json::Value;

mod common;
use common::run_async as idpsim;

const TOKEN: &str = "load-test-token";

/// Runs `idpsim load` against `target`; returns exit code, report and stdout.
async fn load(target: &str, extra: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("load.json");
    let mut args: Vec<String> = [
        "load",
        "--target",
        target,
        "--token",
        TOKEN,
        "--report-json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(report.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = idpsim(args).await;
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).expect("report is JSON"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn count(report: &Value, ptr: &str) -> u64 {
    report
        .pointer(ptr)
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_and_okta_cycles_pass_the_audit_against_the_clean_server() {
    let srv = common::start_server(TOKEN, vec![]).await;
    // A seed per run: the same seed again would find every user and link instead of create.
    for (idp, profile, seed) in [
        ("entra", "default", "11"),
        ("entra", "aadOptscim062020", "12"),
        ("okta", "oin", "13"),
        ("okta", "aiw", "14"),
    ] {
        let (code, r, stdout) = load(
            &srv.base_url(),
            &[
                "--idp",
                idp,
                "--profile",
                profile,
                "--users",
                "300",
                "--groups",
                "4",
                "--members",
                "40",
                "-c",
                "8",
                "--seed",
                seed,
            ],
        )
        .await;
        assert_eq!(code, 0, "{idp}/{profile}: {stdout}");
        assert_eq!(r["audit"]["passed"], Value::Bool(true), "{idp}/{profile}");
        assert_eq!(count(&r, "/audit/users_ok"), 300, "{idp}/{profile}");
        assert_eq!(count(&r, "/audit/memberships_ok"), 160, "{idp}/{profile}");
        assert_eq!(r["profile"], Value::from(profile));
        for field in [
            "/requests_per_second",
            "/operations/user.create/p99_ms",
            "/status_codes/201",
            "/throttling/responses_429",
            "/directory/fingerprint",
            "/phases/0/started_unix_ms",
        ] {
            assert!(
                r.pointer(field).is_some(),
                "{idp}/{profile}: {field} missing: {r}"
            );
        }
        assert!(count(&r, "/operations/user.create/count") > 0);
        if cfg!(target_os = "linux") {
            // The client's own CPU per phase: it did work in the user phase.
            let cpu = r.pointer("/phases/0/client_cpu_ms").and_then(Value::as_f64);
            assert!(cpu.is_some_and(|ms| ms > 0.0), "{idp}/{profile}: {cpu:?}");
        }
        assert!(stdout.contains("audit: PASS"), "{stdout}");
    }
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_names_users_lost_by_concurrent_writes() {
    let srv = common::start_server(TOKEN, vec![Quirk::LoseConcurrentWrites]).await;
    let (code, r, stdout) = load(
        &srv.base_url(),
        &[
            "--idp",
            "entra",
            "--users",
            "200",
            "--groups",
            "2",
            "--members",
            "30",
            "-c",
            "16",
            "--seed",
            "5",
        ],
    )
    .await;
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(r["audit"]["passed"], Value::Bool(false));
    let lost = count(&r, "/audit/lost_users/count");
    assert!(lost > 0 && lost < u64::MAX, "{stdout}");
    let name = r["audit"]["lost_users"]["names"][0].as_str().unwrap_or("");
    assert!(
        name.ends_with("@contoso.test") && stdout.contains(name),
        "{stdout}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_names_users_duplicated_by_a_create_race() {
    let srv = common::start_server(TOKEN, vec![Quirk::DuplicateOnRace]).await;
    let (code, r, stdout) = load(
        &srv.base_url(),
        &[
            "--idp",
            "okta",
            "--users",
            "200",
            "--groups",
            "1",
            "--members",
            "10",
            "-c",
            "8",
            "--seed",
            "5",
            "--overlap",
            "100",
        ],
    )
    .await;
    assert_eq!(code, 1, "{stdout}");
    let dups = count(&r, "/audit/duplicated_users/count");
    assert!(dups > 0 && dups < u64::MAX, "{stdout}");
    let name = r["audit"]["duplicated_users"]["names"][0]
        .as_str()
        .unwrap_or("");
    assert!(name.contains("@contoso.test ×2"), "{name}");
    assert!(stdout.contains("duplicated users:"), "{stdout}");
    srv.shutdown().await;
}

/// A proxy in front of the built-in server that answers every 5th request 429 with
/// `Retry-After: 2` and passes the others through.
async fn throttling_proxy(upstream: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    type Throttled = std::sync::Mutex<std::collections::HashSet<String>>;
    let state = Arc::new((
        AtomicU64::new(0),
        reqwest::Client::new(),
        upstream,
        Throttled::default(),
    ));
    let app = axum::Router::new()
        .fallback(
            |State(s): State<Arc<(AtomicU64, reqwest::Client, String, Throttled)>>,
             req: Request| async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 22)
                    .await
                    .unwrap_or_default();
                // Every fifth request is throttled, but a given request at most once: after
                // Entra's job-wide pause all workers retry together, and a global "every fifth"
                // could otherwise hit the same request until its retries run out (a flake under
                // a loaded machine, not the policy under test).
                let fingerprint = format!(
                    "{} {} {}",
                    parts.method,
                    parts.uri,
                    String::from_utf8_lossy(&bytes)
                );
                if s.0.fetch_add(1, Ordering::SeqCst) % 5 == 4
                    && s.3
                        .lock()
                        .map(|mut seen| seen.insert(fingerprint))
                        .unwrap_or(false)
                {
                    return http::Response::builder()
                        .status(429)
                        .header("Retry-After", "2")
                        .body(Body::empty())
                        .expect("response");
                }
                let origin = s.2.split("/scim").next().unwrap_or_default().to_string();
                let url = format!(
                    "{origin}{}",
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/")
                );
                let mut rb = s.1.request(parts.method.clone(), url);
                for (k, v) in &parts.headers {
                    if k != "host" {
                        rb = rb.header(k, v);
                    }
                }
                match rb.body(bytes).send().await {
                    Ok(r) => {
                        let mut out = http::Response::builder().status(r.status().as_u16());
                        for (k, v) in r.headers() {
                            out = out.header(k, v);
                        }
                        let b = r.bytes().await.unwrap_or_default();
                        out.body(Body::from(b)).expect("response")
                    }
                    Err(_) => http::Response::builder()
                        .status(502)
                        .body(Body::empty())
                        .expect("response"),
                }
            },
        )
        .with_state(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/scim/v2"), task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_per_idp_and_the_audit_still_passes() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let (proxy, task) = throttling_proxy(srv.base_url()).await;
    for idp in ["entra", "okta"] {
        let (code, r, stdout) = load(
            &proxy,
            &[
                "--idp",
                idp,
                "--users",
                "60",
                "--groups",
                "2",
                "--members",
                "10",
                "-c",
                "4",
                "--seed",
                "3",
                "--time-scale",
                "0.001",
            ],
        )
        .await;
        assert_eq!(code, 0, "{idp}: {stdout}");
        let t = &r["throttling"];
        let n429 = count(&r, "/throttling/responses_429");
        assert!(n429 > 10 && n429 < u64::MAX, "{idp}: {t}");
        // Every 429 carried an integer Retry-After: every one was retried after it.
        assert_eq!(t["retries"], t["responses_429"], "{idp}: {t}");
        assert_eq!(t["retry_after_honoured"], t["responses_429"], "{idp}: {t}");
        assert_eq!(count(&r, "/throttling/gave_up"), 0);
        // 2 s asked each time, scaled by 0.001.
        // 2 s asked each time; Entra waits exactly that, Okta doubles it on a request's
        // further 429s (okta.md §1.5).
        let asked = count(&r, "/throttling/requested_wait_ms");
        if idp == "entra" {
            assert_eq!(asked, 2000 * n429, "{t}");
            assert_eq!(count(&r, "/throttling/longest_wait_ms"), 2000);
        } else {
            assert!(asked >= 2000 * n429 && asked < u64::MAX, "{t}");
        }
        assert_eq!(count(&r, "/status_codes/429"), n429);
        assert!(stdout.contains("after Retry-After"), "{stdout}");
    }
    task.abort();
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_directory_and_the_report_reads_well() {
    let srv = common::start_server(TOKEN, vec![]).await;
    let args = |seed: &'static str| {
        [
            "--idp",
            "entra",
            "--users",
            "40",
            "--groups",
            "2",
            "--members",
            "8",
            "-c",
            "2",
            "--seed",
            seed,
            "--overlap",
            "0",
        ]
    };
    let (_, a, stdout) = load(&srv.base_url(), &args("9")).await;
    let (_, b, _) = load(&srv.base_url(), &args("9")).await;
    let (_, c, _) = load(&srv.base_url(), &args("10")).await;
    assert_eq!(a["directory"]["fingerprint"], b["directory"]["fingerprint"]);
    assert_ne!(a["directory"]["fingerprint"], c["directory"]["fingerprint"]);
    let mut d = idpsim::load::generator::Directory::new(9, 40, 2, 8);
    d.overlap_per_mille = 0;
    assert_eq!(a["directory"]["fingerprint"], Value::from(d.fingerprint()));
    // The second run with seed 9 finds every user and links it instead of creating it.
    assert_eq!(b["operations"]["user.create"], Value::Null);
    assert_eq!(b["audit"]["passed"], Value::Bool(true));

    // The shared scrubber, plus the load table's own columns (counts, times, latencies).
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"(?m)^(\S.{0,22}?\s+)\d+(\s+)\d+\.\d+s\s+\d+\.\d+$",
        "${1}N${2}T s R",
    );
    settings.add_filter(
        r"(?m)^(\S+)(\s+)(\d+)(\s+)(\d+)(\s+[\d.]+){4}$",
        "$1$2$3$4$5 [latencies]",
    );
    let stdout = common::stable(&stdout);
    settings.bind(|| insta::assert_snapshot!("first_run_report", stdout));
    srv.shutdown().await;
}

/// `-H` is checked as `run` checks it, before anything starts or is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_header_flag_is_a_usage_error_before_anything_starts() {
    for (flag, says) in [
        ("bad name: x", "`bad name` is not a header name"),
        ("nocolon", "use 'Name: value'"),
    ] {
        let o = idpsim(
            ["load", "--idp", "okta", "--users", "1", "-H", flag]
                .map(String::from)
                .to_vec(),
        )
        .await;
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(says), "{flag}: {stderr}");
        assert!(
            o.stdout.is_empty(),
            "nothing started: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}
