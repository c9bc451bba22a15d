//! Printing to a closed pipe is not a crash (`idpsim audit … | head -1`): every command that
//! writes to stdout ends with its own exit code when the reader has gone, never with a panic.
//!
//! The reader is closed before idpsim writes anything, which is what `| head -1` does to every
//! write after head's first line — but without the race, so the test fails every time a write
//! panics.

mod common;

use std::process::{Command, Stdio};

const TOKEN: &str = "pipes-test-token-2b7d";

/// Runs the command with its stdout's reader already gone; returns the exit code and stderr.
fn with_closed_stdout(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("idpsim starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("idpsim ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_survives_a_closed_stdout() {
    let srv = common::start_server(TOKEN, Vec::new()).await;
    let url = srv.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    // A user the server does not hold: the audit finds drift (exit 1) and prints it.
    let state = dir.path().join("state.yaml");
    std::fs::write(
        &state,
        "users:\n  ghost: { userName: ghost@example.test, active: true }\n",
    )
    .expect("write state");
    let state = state.to_string_lossy().into_owned();
    let imported = dir.path().join("imported.yaml");
    let imported = imported.to_string_lossy().into_owned();

    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "audit", "--target", &url, "--token", TOKEN, "--expect", &state,
            ],
            1,
        ),
        (vec!["list"], 0),
        (vec!["validate"], 0),
        (vec!["run", "scenarios/generic/discovery.yaml"], 0),
        (
            vec![
                "run",
                "scenarios/generic/discovery.yaml",
                "--format",
                "jsonl",
            ],
            0,
        ),
        (
            vec!["run", "scenarios/generic/discovery.yaml", "--dry-run"],
            0,
        ),
        (
            vec![
                "load",
                "--idp",
                "okta",
                "--users",
                "3",
                "--groups",
                "1",
                "--members",
                "2",
            ],
            0,
        ),
        (
            vec![
                "import",
                "fixtures/captures/okta-provisioning.har",
                "-o",
                &imported,
            ],
            0,
        ),
        (vec!["serve", "--list-quirks"], 0),
        (vec!["expr", "Left(\"John Doe\", 3)"], 0),
        (vec!["expr", "Split(\"a,b\", \",\")", "--json"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
    ];
    for (args, expected) in cases {
        let mut cmd = common::idpsim();
        cmd.args(&args);
        let (code, stderr) = tokio::task::spawn_blocking(move || with_closed_stdout(cmd))
            .await
            .expect("join");
        assert!(
            !stderr.contains("panicked"),
            "idpsim {args:?} panicked on a closed stdout:\n{stderr}"
        );
        assert_eq!(code, Some(expected), "idpsim {args:?}:\n{stderr}");
    }
    srv.shutdown().await;
}

/// The shell pipe itself, as a person types it: `idpsim audit … | head -1` prints the first
/// line and idpsim's own exit code (1: drift) comes through `pipefail`.
#[tokio::test(flavor = "multi_thread")]
async fn audit_into_head_prints_one_line_and_keeps_its_exit_code() {
    let srv = common::start_server(TOKEN, Vec::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.yaml");
    let users: String = (0..2000)
        .map(|i| format!("  ghost{i}: {{ userName: ghost{i}@example.test }}\n"))
        .collect();
    std::fs::write(&state, format!("users:\n{users}")).expect("write state");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"set -o pipefail; "$0" audit --target "$1" --expect "$2" | head -1"#)
        .arg(env!("CARGO_BIN_EXE_idpsim"))
        .arg(srv.base_url())
        .arg(&state)
        .env("IDPSIM_TOKEN", TOKEN)
        .env("NO_COLOR", "1");
    let out = common::output(cmd).await;
    let stdout = common::stdout(&out);
    let stderr = common::stderr(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("audit of "), "{stdout}");
    assert_eq!(common::code(&out), 1, "{stderr}");
    srv.shutdown().await;
}
