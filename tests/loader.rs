//! Hostile scenario files: the real `idpsim` binary given what a careless or malicious person can
//! hand it — nesting thousands deep, 200,000 keys, a FIFO or a device named `*.yaml`, symlink
//! loops, files past the size limit, bytes that are not UTF-8, templates that would only fail
//! half-way through a run, control characters in names.
//!
//! The contract for each: exit 2, the file (and line:column where the input has a position),
//! the limit named, nothing sent to the target (a loopback listener counts connections), and no
//! hang (a guard kills the child after a minute; that is not a timing assertion).

#![cfg(unix)]

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HANG_GUARD: Duration = Duration::from_secs(90);

/// A target that accepts connections and counts them (answers nothing): every load error must
/// leave it at zero.
struct Target {
    url: String,
    connections: Arc<AtomicUsize>,
}

fn target() -> Target {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Target {
        url: format!("http://{addr}/scim/v2"),
        connections,
    }
}

struct Ran {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Ran {
    fn text(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.stdout), self.stderr)
    }
}

/// Runs idpsim in `dir` with a hang guard; stdout and stderr are read while it runs.
fn idpsim(dir: &Path, args: &[&str]) -> Ran {
    let mut child = common::idpsim()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("idpsim starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status.code();
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("idpsim {args:?} hung (killed after {HANG_GUARD:?})");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned(),
    }
}

/// `run FILE --target T` and `validate FILE`: both exit 2 naming `expected`, and nothing reaches
/// the target.
fn refused(dir: &Path, file: &str, expected: &[&str]) -> String {
    let t = target();
    let run = idpsim(
        dir,
        &["run", file, "--target", &t.url, "--token", "t0ken-xyz"],
    );
    let validate = idpsim(dir, &["validate", file]);
    for (what, r) in [("run", &run), ("validate", &validate)] {
        assert_eq!(r.code, Some(2), "{what} {file}: {}", r.text());
        for e in expected {
            assert!(
                r.stderr.contains(e),
                "{what} {file}: wanted `{e}` in:\n{}",
                r.stderr
            );
        }
    }
    assert_eq!(
        t.connections.load(Ordering::SeqCst),
        0,
        "{file}: nothing may be sent"
    );
    run.stderr
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A block mapping `depth` levels deep as a request body: valid YAML that once passed
/// `validate` and overflowed the stack in `run`.
fn deep_block(depth: usize) -> String {
    let mut s = String::from(
        "name: deep\nsteps:\n  - request:\n      method: POST\n      path: /Users\n      body:\n",
    );
    for i in 0..depth {
        s.push_str(&" ".repeat(8 + 2 * i));
        s.push_str("a:\n");
    }
    s.push_str(&" ".repeat(8 + 2 * depth));
    s.push_str("b: 1\n");
    s
}

#[test]
fn nesting_past_the_depth_limit_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "deep.yaml", deep_block(1000));
    let err = refused(
        dir.path(),
        "deep.yaml",
        &["nest more than 64 levels deep", "deep.yaml:67:"],
    );
    assert!(!err.contains("overflow"), "{err}");
    // Flow style and lists, in variables, expectations and the directory alike.
    let flow = format!(
        "name: flow\nsteps:\n  - request: {{ method: POST, path: /Users, body: {}1{} }}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    write(dir.path(), "flow.yaml", flow);
    refused(
        dir.path(),
        "flow.yaml",
        &["nest more than 64 levels deep", "flow.yaml:3:"],
    );
    let mut vars = String::from("name: vars\nsteps: []\nvariables:\n  v:\n");
    for i in 0..100 {
        vars.push_str(&format!("{}- \n", " ".repeat(4 + 2 * i)));
    }
    write(dir.path(), "vars.yaml", vars);
    refused(
        dir.path(),
        "vars.yaml",
        &["nest more than 64 levels deep", "vars.yaml:"],
    );
    // At the limit itself, the scenario loads and runs.
    let t = target();
    write(dir.path(), "ok.yaml", deep_block(58));
    let r = idpsim(dir.path(), &["validate", "ok.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.text());
    let r = idpsim(dir.path(), &["run", "ok.yaml", "--dry-run"]);
    assert_eq!(r.code, Some(0), "{}", r.text());
    drop(t);
}

#[test]
fn two_hundred_thousand_keys_load_and_a_duplicate_among_them_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(
        "name: keys\nsteps:\n  - request: { method: GET, path: /Users }\nvariables:\n",
    );
    for i in 0..200_000 {
        text.push_str(&format!("  k{i}: v{i}\n"));
    }
    write(dir.path(), "keys.yaml", &text);
    let r = idpsim(dir.path(), &["validate", "keys.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.text());
    let r = idpsim(dir.path(), &["run", "keys.yaml", "--dry-run"]);
    assert_eq!(r.code, Some(0), "{}", r.text());
    // The same with the last key repeating the first: found, at the repeat's line.
    text.push_str("  k0: again\n");
    write(dir.path(), "dup.yaml", &text);
    refused(
        dir.path(),
        "dup.yaml",
        &["duplicate key `k0`", "dup.yaml:200005:3"],
    );
}

#[test]
fn more_nodes_than_the_limit_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 600,000 list items in 1.8 MB: under the size limit, over the node limit.
    let text = format!(
        "name: many\nsteps: []\nvariables:\n  v: [{}0]\n",
        "0,".repeat(600_000)
    );
    write(dir.path(), "many.yaml", text);
    refused(
        dir.path(),
        "many.yaml",
        &["more than 500000 YAML nodes", "many.yaml:4:"],
    );
}

#[test]
fn files_past_the_size_limit_are_refused_before_they_are_parsed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("name: big\nsteps: []\n");
    text.push_str(&"# padding\n".repeat(900_000));
    write(dir.path(), "big.yaml", text);
    refused(
        dir.path(),
        "big.yaml",
        &["big.yaml", "larger than 8388608 bytes (8 MiB)"],
    );
}

#[test]
fn only_regular_files_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("pipe.yaml"));
    refused(
        dir.path(),
        "pipe.yaml",
        &["pipe.yaml", "a FIFO (named pipe), not a regular file"],
    );
    // Found in a folder, too.
    std::fs::create_dir(dir.path().join("folder")).expect("mkdir");
    write(dir.path(), "folder/a.yaml", "name: a\nsteps: []\n");
    mkfifo(&dir.path().join("folder/b.yaml"));
    refused(
        dir.path(),
        "folder",
        &["folder/b.yaml", "a FIFO (named pipe)"],
    );
    refused(
        dir.path(),
        "/dev/zero",
        &["/dev/zero", "a character device, not a regular file"],
    );
    // /proc/self/fd holds links to pipes, devices and itself: no hang, no scenario.
    if Path::new("/proc/self/fd").exists() {
        let r = idpsim(dir.path(), &["validate", "/proc/self/fd"]);
        assert_eq!(r.code, Some(2), "{}", r.text());
        let r = idpsim(dir.path(), &["validate", "/proc/self/fd/0"]);
        assert_eq!(r.code, Some(2), "{}", r.text());
    }
}

#[test]
fn symlinks_are_followed_once_and_loops_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("scenarios");
    write(&root, "a.yaml", "name: only once\nsteps: []\n");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    std::os::unix::fs::symlink("../a.yaml", root.join("sub/link-to-a.yaml")).expect("symlink");
    std::os::unix::fs::symlink("a.yaml", root.join("b.yaml")).expect("symlink");
    // An outside folder reached through a link is walked like any other.
    write(
        dir.path(),
        "outside/c.yaml",
        "name: from outside\nsteps: []\n",
    );
    std::os::unix::fs::symlink("../outside", root.join("out")).expect("symlink");
    let r = idpsim(
        dir.path(),
        &["list", "scenarios", "scenarios/a.yaml", "outside"],
    );
    assert_eq!(r.code, Some(0), "{}", r.text());
    let listed = String::from_utf8_lossy(&r.stdout).into_owned();
    assert_eq!(listed.matches("only once").count(), 1, "{listed}");
    assert_eq!(listed.matches("from outside").count(), 1, "{listed}");
    // A link back up the tree is a loop: refused, naming the link and where it leads.
    std::os::unix::fs::symlink("..", root.join("sub/up")).expect("symlink");
    refused(
        dir.path(),
        "scenarios",
        &[
            "scenarios/sub/up",
            "a symbolic link back to scenarios",
            "loop",
        ],
    );
    // And a loop of file links.
    let loops = dir.path().join("loops");
    std::fs::create_dir(&loops).expect("mkdir");
    std::os::unix::fs::symlink("y.yaml", loops.join("x.yaml")).expect("symlink");
    std::os::unix::fs::symlink("x.yaml", loops.join("y.yaml")).expect("symlink");
    refused(
        dir.path(),
        "loops",
        &["loops/x.yaml", "a loop of symbolic links"],
    );
    refused(
        dir.path(),
        "loops/y.yaml",
        &["loops/y.yaml", "a loop of symbolic links"],
    );
}

#[test]
fn bytes_that_are_not_utf8_are_refused_with_their_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "latin1.yaml",
        b"name: caf\xe9\nsteps:\n  - request: { method: GET, path: /Users }\n".as_slice(),
    );
    refused(
        dir.path(),
        "latin1.yaml",
        &["latin1.yaml:1:10", "not UTF-8", "0xe9"],
    );
}

/// What used to fail only after requests were sent now stops the load: each of these names
/// its line, and the target sees nothing.
#[test]
fn errors_that_would_surface_mid_run_are_found_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "budget.yaml",
            "name: budget\nsteps:\n  - request: { method: GET, path: /Users }\n  - request:\n      method: POST\n      path: /Users\n      body: { userName: \"{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}\" }\n",
            &["budget.yaml:7:", "more than 100000 steps to render"],
        ),
        (
            "budget-var.yaml",
            "name: budget var\nvariables:\n  v: \"{% for i in range(400) %}{% for j in range(400) %}x{% endfor %}{% endfor %}\"\nsteps:\n  - request: { method: GET, path: /Users }\n",
            &["budget-var.yaml:3:", "more than 100000 steps"],
        ),
        (
            "body-key.yaml",
            "name: key\nsteps:\n  - request: { method: GET, path: /Users }\n  - request:\n      method: POST\n      path: /Users\n      body: { \"{{ not_defined }}\": 1 }\n",
            &["body-key.yaml:7:", "undefined variable `not_defined`"],
        ),
        (
            "expect-key.yaml",
            "name: key\nsteps:\n  - request: { method: GET, path: /Users }\n    expect: { body: { \"{{ nope }}\": 1 } }\n",
            &["expect-key.yaml:4:", "undefined variable `nope`"],
        ),
        (
            "crlf.yaml",
            "name: crlf\nsteps:\n  - request: { method: GET, path: /Users }\n  - request: { method: GET, path: \"/Users\\r\\nX-Injected: 1\" }\n",
            &["crlf.yaml:4:", "`path` contains a line break"],
        ),
        (
            "space.yaml",
            "name: space\nsteps:\n  - request: { method: GET, path: '/Users?filter=userName eq \"x\"' }\n",
            &["space.yaml:3:", "`path` contains a space", "%20"],
        ),
        (
            "status.yaml",
            "name: status\nsteps:\n  - request: { method: GET, path: /Users }\n    expect: { status: [200, ok] }\n",
            &["status.yaml:4:29", "`status` takes HTTP status codes"],
        ),
        (
            "status-wrap.yaml",
            "name: status\nsteps:\n  - request: { method: GET, path: /Users }\n    expect: { status: [65737] }\n",
            &["status-wrap.yaml:4:24", "65737 is not an HTTP status code"],
        ),
        (
            "filter.yaml",
            "name: filter\nsteps:\n  - request: { method: GET, path: \"/Users/{{ run | shout }}\" }\n",
            &["filter.yaml:3:", "filter shout is unknown"],
        ),
        (
            "header.yaml",
            "name: header\nsteps:\n  - request: { method: GET, path: /Users, headers: { X-A: \"a\\u0000b\" } }\n",
            &["header.yaml:3:", "control character U+0000"],
        ),
    ];
    for (file, text, expected) in cases {
        write(dir.path(), file, text);
        refused(dir.path(), file, expected);
    }
    // Legitimate templates with loops and built-in functions still load.
    write(
        dir.path(),
        "fine.yaml",
        "name: fine\nvariables:\n  n: \"{% for i in range(3) %}{{ i }}{% endfor %}-{{ random_hex(4) }}\"\nsteps:\n  - request: { method: GET, path: \"/Users?filter=userName%20eq%20%22{{ n | urlencode }}%22\" }\n",
    );
    let r = idpsim(dir.path(), &["validate", "fine.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.text());
}

#[test]
fn control_characters_in_names_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "evil.yaml",
        "name: \"title\\u001b]0;owned\\u0007 \\u202eeman\\u009b31m\"\ndescription: \"line\\u001b[2J\"\ntags: [\"t\\u001b[8m\"]\nsteps:\n  - name: \"step\\r\\u001b[1A\\u0008\"\n    request: { method: GET, path: /Users }\n    expect: { status: 299 }\n",
    );
    let reports = ["r.json", "r.xml", "r.md", "r.html"];
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "run",
            vec![
                "run",
                "evil.yaml",
                "-v",
                "--report-junit",
                "r.xml",
                "--report-md",
                "r.md",
                "--report-html",
                "r.html",
                "--report-json",
                "r.json",
            ],
        ),
        ("github", vec!["run", "evil.yaml", "--format", "github"]),
        ("dry-run", vec!["run", "evil.yaml", "--dry-run"]),
        ("list", vec!["list", "evil.yaml"]),
    ];
    for (label, args) in runs {
        let r = idpsim(dir.path(), &args);
        assert!(r.code.is_some(), "{label}: {}", r.text());
        for (stream, bytes) in [
            ("stdout", r.stdout.as_slice()),
            ("stderr", r.stderr.as_bytes()),
        ] {
            let text = String::from_utf8_lossy(bytes);
            let raw: Vec<char> = text
                .chars()
                .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
                .collect();
            assert!(raw.is_empty(), "{label} {stream} holds {raw:?}:\n{text}");
        }
        let shown = String::from_utf8_lossy(&r.stdout).into_owned();
        assert!(
            shown.contains("\\u{1b}"),
            "{label}: the name is shown, escaped:\n{shown}"
        );
    }
    // Reports a person opens or a CI prints: no raw control character either (JSON escapes
    // C0 by its own rules and has no reason to escape more: it is data, not a display).
    for name in reports {
        let text = std::fs::read_to_string(dir.path().join(name)).expect(name);
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t'))
            .filter(|c| !name.ends_with(".json") || (*c as u32) < 0x20)
            .collect();
        assert!(raw.is_empty(), "{name} holds {raw:?}");
    }
}
