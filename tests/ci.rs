//! The CI gate end to end: the real `idpsim` binary against the built-in reference server
//! (started through the library, with quirks that reproduce real servers' bugs) and wiremock,
//! over loopback. Baselines, reports (Markdown and GitHub annotations as snapshots; HTML in
//! headless Chromium), capability gating, idpsim.toml, the documented CI snippets, completions
//! and the man page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use idpsim::server::{start, Quirk, RunningServer, ServerConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::{code, stable, stderr as err, stdout as out};

const TOKEN: &str = "tok-Zq81xQ-never-printed";
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

async fn server(quirks: &[Quirk]) -> RunningServer {
    start(ServerConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..ServerConfig::default()
    })
    .await
    .expect("the reference server starts")
}

/// Runs the binary (blocking work off the runtime that serves the reference server).
async fn idpsim(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = common::idpsim();
    cmd.args(args).current_dir(cwd).envs(env.iter().copied());
    common::output(cmd).await
}

fn target_args(srv: &RunningServer) -> Vec<String> {
    vec![
        "run".into(),
        "--target".into(),
        srv.base_url(),
        "--token".into(),
        TOKEN.into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const LIFECYCLE: &str = "User lifecycle by the RFC";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_accepts_known_failures_fails_on_new_ones_and_strict_fails_on_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("baseline.toml");
    let base_s = base.to_str().expect("utf-8 path");
    let known = server(&[Quirk::DeactivateDeletesUser]).await;
    let mut args = target_args(&known);
    args.extend(["--name".into(), LIFECYCLE.into()]);

    // Record today's failures: the run itself still fails.
    let mut rec = strs(&args);
    rec.extend(["--write-baseline", base_s]);
    let o = idpsim(&rec, dir.path(), &[]).await;
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));
    let text = std::fs::read_to_string(&base).expect("baseline written");
    // The scenario's `status: 200` on the read after the deactivation restates the rule on the
    // same answer: one finding.
    assert!(
        text.contains("rule = \"scim.deactivate.deletes\""),
        "{text}"
    );
    assert!(!text.contains("rule = \"expect.status\""), "{text}");
    assert!(!text.contains(TOKEN));

    // A person adds a reason; the gate now passes on the same failures.
    let with_reason = text.replacen(
        "rule = \"scim.deactivate.deletes\"\n",
        "rule = \"scim.deactivate.deletes\"\nreason = \"our server deletes a deactivated user (ticket SCIM-42)\"\n",
        1,
    );
    std::fs::write(&base, &with_reason).expect("edit baseline");
    let mut gated = strs(&args);
    gated.extend(["--baseline", base_s]);
    let o = idpsim(&gated, dir.path(), &[]).await;
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("0 new failure(s), 2 known failure(s), 0 fixed"),
        "{}",
        out(&o)
    );

    // A new failure (string counters break the lookup by filter) fails it.
    let worse = server(&[Quirk::StringCounters]).await;
    let mut args2 = target_args(&worse);
    args2.extend([
        "--name".into(),
        LIFECYCLE.into(),
        "--baseline".into(),
        base_s.into(),
    ]);
    let o = idpsim(&strs(&args2), dir.path(), &[]).await;
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));
    let text = out(&o);
    assert!(
        text.contains("NEW       scenarios/generic/users-lifecycle.yaml"),
        "{text}"
    );
    // It keeps deactivated users: the known failures are reported fixed, with their reason.
    assert!(
        text.contains("FIXED") && text.contains("ticket SCIM-42"),
        "{text}"
    );

    // A clean server: fixed entries pass a normal gate and fail a strict one.
    let clean = server(&[]).await;
    let mut args3 = target_args(&clean);
    args3.extend([
        "--name".into(),
        LIFECYCLE.into(),
        "--baseline".into(),
        base_s.into(),
    ]);
    let o = idpsim(&strs(&args3), dir.path(), &[]).await;
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("2 fixed"), "{}", out(&o));
    args3.push("--baseline-strict".into());
    let o = idpsim(&strs(&args3), dir.path(), &[]).await;
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));

    // Rewriting the baseline keeps the reason a person wrote.
    let mut rewrite = strs(&args);
    rewrite.extend(["--baseline", base_s, "--write-baseline", base_s]);
    let o = idpsim(&rewrite, dir.path(), &[]).await;
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    let text = std::fs::read_to_string(&base).expect("baseline rewritten");
    assert!(
        text.contains("reason = \"our server deletes a deactivated user (ticket SCIM-42)\""),
        "{text}"
    );

    for s in [known, worse, clean] {
        s.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_baseline_stops_the_run_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("b.toml");
    std::fs::write(
        &base,
        "version = 1\n\n[[known]]\nfile = \"x.yaml\"\nscenario = \"x\"\nrule = \"r\"\nreasn = \"typo\"\n",
    )
    .expect("write");
    let o = idpsim(
        &[
            "run",
            "--baseline",
            base.to_str().expect("utf-8"),
            "--dry-run",
        ],
        dir.path(),
        &[],
    )
    .await;
    assert_eq!(code(&o), 2, "{}", err(&o));
    insta::assert_snapshot!("baseline_unknown_key", stable(&err(&o)));
    let o = idpsim(&["run", "--baseline", "missing.toml"], dir.path(), &[]).await;
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("missing.toml: no such baseline file"),
        "{}",
        err(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_and_github_reports_read_well_and_hold_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = server(&[Quirk::DeactivateDeletesUser]).await;
    let md = dir.path().join("r/summary.md");
    let html = dir.path().join("r/report.html");
    let mut args = target_args(&srv);
    args.extend([
        "--name".into(),
        LIFECYCLE.into(),
        "--format".into(),
        "github".into(),
        "--report-md".into(),
        md.display().to_string(),
        "--report-html".into(),
        html.display().to_string(),
        "-v".into(),
    ]);
    let o = idpsim(&strs(&args), dir.path(), &[]).await;
    assert_eq!(code(&o), 1, "{}", err(&o));
    let stdout = out(&o);
    let annotations: String = stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("github_annotations", stable(&annotations));
    let md_text = std::fs::read_to_string(&md).expect("markdown written");
    // References are Markdown links, not HTML-escaped angle brackets around a URL.
    assert!(
        md_text.contains("  - Reference: [RFC 7643 §4.1.1](https://www.rfc-editor.org/rfc/rfc7643#section-4.1.1)"),
        "{md_text}"
    );
    assert!(!md_text.contains("&lt;http"), "{md_text}");
    insta::assert_snapshot!("markdown_report", stable(&md_text));
    let html_text = std::fs::read_to_string(&html).expect("html written");
    for (what, text) in [
        ("stdout", &stdout),
        ("stderr", &err(&o)),
        ("markdown", &md_text),
        ("html", &html_text),
    ] {
        assert!(!text.contains(TOKEN), "the token leaked into {what}");
    }
    assert!(
        md_text.contains("Bearer [redacted]"),
        "exchanges are in the summary"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_renders_in_headless_chromium_with_the_failing_diff() {
    let Some(chromium) = which("chromium") else {
        // Under CI (.ci/run installs it) a missing browser must fail, or the check never runs.
        assert!(
            std::env::var_os("CI").is_none(),
            "`chromium` is not installed under CI; .ci/run installs Debian's chromium"
        );
        eprintln!("SKIPPED html_report_renders_in_headless_chromium: `chromium` is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = server(&[Quirk::DeactivateDeletesUser]).await;
    let html = dir.path().join("report.html");
    let mut args = target_args(&srv);
    args.extend(["--report-html".into(), html.display().to_string()]);
    let o = idpsim(&strs(&args), dir.path(), &[]).await;
    assert_eq!(code(&o), 1, "{}", err(&o));
    srv.shutdown().await;
    let text = std::fs::read_to_string(&html).expect("html written");
    for external in ["src=\"http", "@import", "url("] {
        assert!(!text.contains(external), "the report loads {external}");
    }
    // The cited pages are links, which load nothing; no other element names an http URL.
    for (at, _) in text.match_indices("href=\"http") {
        let tag = &text[text[..at].rfind('<').unwrap_or(0)..at];
        assert!(tag.starts_with("<a "), "the report loads {tag}…");
    }
    assert!(
        text.contains("see <a href=\"https://www.rfc-editor.org/rfc/rfc7643#section-4.1.1\" rel=\"noreferrer\">RFC 7643 §4.1.1</a>; "),
        "the references are links, escaped once"
    );

    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}", html.display());
    let profile_arg = format!("--user-data-dir={}", profile.path().display());
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        &profile_arg,
        "--dump-dom",
        &url,
    ]);
    let o = tokio::task::spawn_blocking(move || cmd.output().expect("chromium runs"))
        .await
        .expect("blocking task");
    let dom = out(&o);
    assert!(o.status.success(), "chromium failed: {}", err(&o));
    // The script ran to its end (a JS error would stop it before the marker).
    assert!(
        dom.contains("data-ready=\"yes\""),
        "the page script did not finish:\n{dom}"
    );
    assert!(dom.contains("6 of 6 scenario(s) shown") || dom.contains(" scenario(s) shown"));
    // The failing step's finding is there in the rendered DOM: the rule (the scenario's own
    // status expectation folds into it, so the problem is told once), its message and its diff.
    assert!(
        dom.contains("<span class=\"rule\">scim.deactivate.deletes</span>: /Users/"),
        "{dom}"
    );
    assert!(
        dom.contains(
            "<td class=\"exp\">200 (the user, active: false)</td><td class=\"act\">404</td>"
        ),
        "diff table missing"
    );
    assert!(!dom.contains(TOKEN));
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

const SPC_NO_PATCH: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
 "patch":{"supported":false},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},
 "filter":{"supported":true,"maxResults":100},"changePassword":{"supported":false},
 "sort":{"supported":false},"etag":{"supported":false},
 "authenticationSchemes":[{"type":"oauthbearertoken","name":"OAuth Bearer Token","description":"Bearer"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capability_gating_skips_what_the_server_cannot_do_except_for_okta() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/scim+json")
                .set_body_string(SPC_NO_PATCH),
        )
        .mount(&mock)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let step = "steps:\n  - name: read the config\n    request: { method: GET, path: /ServiceProviderConfig }\n    expect: { status: 200 }\n";
    std::fs::write(
        dir.path().join("a-generic.yaml"),
        format!("name: Generic PATCH\nrequires: [patch]\n{step}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("b-okta.yaml"),
        format!("name: Okta PATCH\nidp: okta\nprofile: oin\ntags: [patch]\n{step}"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("c-plain.yaml"),
        format!("name: Needs nothing\n{step}"),
    )
    .expect("write");
    let target = format!("{}/scim/v2", mock.uri());
    let o = idpsim(
        &[
            "run",
            ".",
            "--target",
            &target,
            "--report-json",
            "r.json",
            "--format",
            "github",
        ],
        dir.path(),
        &[],
    )
    .await;
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("r.json")).expect("json report"),
    )
    .expect("valid json");
    let by_name = |n: &str| {
        report["scenarios"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == n))
            .cloned()
            .unwrap_or_default()
    };
    let generic = by_name("Generic PATCH");
    assert_eq!(generic["outcome"], "skipped");
    assert!(generic["skip_reason"]
        .as_str()
        .unwrap_or("")
        .contains("patch: supported=false"));
    let okta = by_name("Okta PATCH");
    assert_eq!(okta["outcome"], "warned", "{okta:#}");
    assert_eq!(
        okta["steps"][0]["findings"][0]["rule"],
        "okta.capability.ignored"
    );
    // A scenario that needs nothing runs as usual (the mock's document may earn RFC warnings).
    let plain = by_name("Needs nothing");
    assert_ne!(plain["outcome"], "skipped");
    assert_ne!(plain["steps"][0]["kind"], "preflight", "{plain:#}");
    let stdout = out(&o);
    assert!(
        stdout.contains("SKIP") && stdout.contains("supported=false"),
        "{stdout}"
    );
    assert!(stdout.contains("::warning file=./b-okta.yaml"), "{stdout}");
    assert!(
        stdout.contains("::notice file=./a-generic.yaml"),
        "{stdout}"
    );
    // The preflight's document is the one read: no second fetch.
    let spc_requests = mock
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/ServiceProviderConfig"))
        .count();
    assert_eq!(
        spc_requests,
        1 + 2,
        "preflight + the two scenarios that ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requires_names_known_capabilities() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("s.yaml"),
        "name: x\nrequires: [patch, pach]\nsteps:\n  - request: { method: GET, path: /Users }\n",
    )
    .expect("write");
    let o = idpsim(&["validate", "s.yaml"], dir.path(), &[]).await;
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("unknown capability `pach`"), "{}", err(&o));
    assert!(err(&o).contains("s.yaml:2:19"), "{}", err(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_drives_the_run_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = server(&[Quirk::DeactivateDeletesUser]).await;
    std::fs::write(
        dir.path().join("idpsim.toml"),
        format!(
            "[target]\nurl = \"{}\"\ntoken_env = \"MY_SCIM_TOKEN\"\n[select]\nnames = [\"{LIFECYCLE}\"]\n[reports]\nmarkdown = \"out/s.md\"\n",
            srv.base_url()
        ),
    )
    .expect("write config");
    let env = [("MY_SCIM_TOKEN", TOKEN)];
    let o = idpsim(&["run"], dir.path(), &env).await;
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("FAIL scenarios/generic/users-lifecycle.yaml"),
        "{}",
        out(&o)
    );
    assert!(
        !out(&o).contains("discovery"),
        "the config's selection applies"
    );
    assert!(
        dir.path().join("out/s.md").is_file(),
        "report path is relative to the file"
    );
    // A flag wins over the file: another selection passes.
    let o = idpsim(
        &["run", "--name", "Service provider discovery*"],
        dir.path(),
        &env,
    )
    .await;
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    // The variable the file names must be set.
    let o = idpsim(&["run"], dir.path(), &[]).await;
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("config_token_env_unset", stable(&err(&o)));
    // --no-config ignores it (the built-in server then answers).
    let o = idpsim(
        &[
            "run",
            "--no-config",
            "--name",
            "Service provider discovery*",
        ],
        dir.path(),
        &[],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", err(&o));
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_point_at_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "unknown_key",
            "[target]\nurl = \"http://127.0.0.1:1/scim/v2\"\ntoken_envv = \"X\"\n",
        ),
        ("token_in_file", "[target]\ntoken = \"abc\"\n"),
        ("bad_fail_on", "[run]\nfail_on = \"fatal\"\n"),
        ("unknown_section", "[report]\njunit = \"x.xml\"\n"),
    ];
    for (name, text) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).expect("write");
        let o = idpsim(
            &["run", "--config", &format!("{name}.toml")],
            dir.path(),
            &[],
        )
        .await;
        assert_eq!(code(&o), 2, "{name}: {}", err(&o));
        insta::assert_snapshot!(format!("config_error_{name}"), stable(&err(&o)));
    }
}

/// The command a CI snippet runs in the step/script that runs idpsim.
fn snippet_commands(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("snippet exists");
    let doc = idpsim::scenario::yaml::parse_document(&text).expect("the snippet is valid YAML");
    let json = doc.to_json();
    let mut lines = Vec::new();
    collect_idpsim_lines(&json, &mut lines);
    lines
}

fn collect_idpsim_lines(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            for l in s.lines() {
                let l = l.trim();
                if l.starts_with("idpsim run") {
                    out.push(l.to_string());
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_idpsim_lines(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_idpsim_lines(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_ci_snippets_work_as_written() {
    let gh = snippet_commands("docs/ci/github-actions.yml");
    let gl = snippet_commands("docs/ci/gitlab-ci.yml");
    assert_eq!(gh, vec!["idpsim run --format github".to_string()]);
    assert_eq!(gl, vec!["idpsim run".to_string()]);
    for file in [
        "docs/ci/github-actions.yml",
        "docs/ci/gitlab-ci.yml",
        "docs/CI.md",
    ] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("doc exists");
        assert!(
            text.contains("idpsim serve --port 18080 --token \"$SCIM_TOKEN\""),
            "{file} starts the stand-in server the example config points at"
        );
    }
    let config = std::fs::read_to_string(Path::new(ROOT).join("docs/ci/idpsim.toml"))
        .expect("example config");
    idpsim::config::parse("docs/ci/idpsim.toml", &config).expect("the example config parses");
    assert!(config.contains("url = \"http://127.0.0.1:18080/scim/v2\""));

    // The repository as the docs describe it: idpsim.toml and the baseline at its root.
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("idpsim.toml"), &config).expect("copy config");
    std::fs::copy(
        Path::new(ROOT).join("docs/ci/idpsim-baseline.toml"),
        repo.path().join("idpsim-baseline.toml"),
    )
    .expect("copy baseline");
    // `idpsim serve --port 18080 --token "$SCIM_TOKEN"`, as the snippets start it.
    let srv = start(ServerConfig {
        port: 18080,
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    })
    .await
    .expect("port 18080 (used by the documented example) is free");
    for command in gh.iter().chain(&gl) {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let o = idpsim(&words, repo.path(), &[("SCIM_TOKEN", TOKEN)]).await;
        assert_eq!(code(&o), 0, "`{command}`: {}{}", out(&o), err(&o));
        assert!(out(&o).contains("baseline "), "the baseline is in use");
        for report in ["junit.xml", "report.json", "summary.md", "report.html"] {
            assert!(
                repo.path().join("idpsim-report").join(report).is_file(),
                "{report}"
            );
        }
    }
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_man_page_are_generated_from_the_cli() {
    let dir = Path::new(ROOT);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = idpsim(&["completions", shell], dir, &[]).await;
        assert_eq!(code(&o), 0, "{shell}: {}", err(&o));
        let text = out(&o);
        for sub in ["run", "validate", "list", "serve", "completions", "man"] {
            assert!(text.contains(sub), "{shell} completions lack `{sub}`");
        }
        assert!(
            text.contains("baseline-strict"),
            "{shell} completions lack run's flags"
        );
    }
    let o = idpsim(&["man"], dir, &[]).await;
    assert_eq!(code(&o), 0, "{}", err(&o));
    let man = out(&o);
    assert!(
        man.starts_with(".ie") || man.contains(".TH idpsim"),
        "roff: {}",
        &man[..man.len().min(200)]
    );
    for needle in [
        ".SH \"IDPSIM RUN\"",
        "\\-\\-write\\-baseline",
        "validate",
        "serve",
        "completions",
    ] {
        assert!(man.contains(needle), "the man page lacks {needle}");
    }
    let o = idpsim(&["completions", "tcsh"], dir, &[]).await;
    assert_eq!(code(&o), 2, "an unknown shell is a usage error");
}
