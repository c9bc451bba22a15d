//! Hostile servers: the real `idpsim` binary against a raw TCP server on loopback that answers
//! every request in one broken or malicious way (HTML, garbage, a gzip bomb, a 12 MB body, a
//! reset, a lying Content-Length, broken chunking, 100,000-deep JSON, …).
//!
//! wiremock cannot play most of these (it always speaks correct HTTP), so the server writes bytes
//! itself. For every case `idpsim run` must end with exit 1 and a finding that names what
//! happened, never panic, stay within a memory cap and finish before a hang guard kills it.
//! Nothing here asserts a duration.
//!
//! Exit 1, not 3, even for a reset or a timeout: the target accepted the connection, so it is
//! there, and how it behaved is a finding about it (as `tests/engine.rs` already holds for a
//! reset). Exit 3 stays for a target that cannot be reached at all (refused, DNS, TLS) and, in
//! `idpsim audit`, for a directory that cannot be read, since nothing can be compared then.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

/// Peak resident memory the child may reach. Generous: a debug build reading a 16 MiB body
/// (plus its decoded copy and reports) stays far below; an unbounded read of a bomb does not.
const RSS_CAP_KIB: i64 = 256 * 1024;
/// Kills a stuck child so the test fails instead of hanging CI; not a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// What the hostile server saw of a request: enough to answer differently per path.
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
}

type Answer = Arc<dyn Fn(&Request, &mut TcpStream) + Send + Sync>;

/// A server on 127.0.0.1 that reads each request and hands the raw socket to `answer`. One
/// thread per connection, each closed after its answer, so a slow or stuck answer holds nobody.
fn serve(answer: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let answer: Answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
                if let Some(request) = read_request(&mut stream) {
                    answer(&request, &mut stream);
                }
                // Dropping closes: a FIN normally, a reset after `reset()`.
                let _ = stream.flush();
            });
        }
    });
    addr
}

/// Reads one request head and its Content-Length body; `None` when the client went away.
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        have += n;
    }
    Some(Request { method, target })
}

/// Writes a whole response with a correct Content-Length.
fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Makes the coming close a TCP reset instead of a FIN: SO_LINGER with a zero timeout.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized `linger` value.
    let armed = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(armed, 0, "SO_LINGER could not be set: no reset to test");
}

const SCIM_JSON: (&str, &str) = ("Content-Type", "application/scim+json");

const CREATE_USER: &str = r#"
name: Create a user against a hostile server
steps:
  - name: create a user
    request:
      method: POST
      path: /Users
      body:
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"]
        userName: "hostile-{{ run }}@example.test"
    expect:
      status: 201
"#;

/// How a child run ended, and what it left behind.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Value>,
    peak_rss_kib: i64,
}

impl Outcome {
    /// Every finding's message (not its rule id: the words must say it), from the JSON report,
    /// lower-cased for searching.
    fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(report) = &self.report {
            collect_findings(report, &mut out);
        }
        out
    }

    /// Exit 1 (findings), no panic, memory under the cap, and a finding naming each of `needles`.
    fn assert_named(&self, case: &str, needles: &[&str]) {
        self.assert_sane(case, 1);
        let findings = self.findings();
        for needle in needles {
            let needle = needle.to_lowercase();
            assert!(
                findings.iter().any(|f| f.contains(&needle)),
                "{case}: no finding names `{needle}`; findings:\n{}\nstdout:\n{}",
                findings.join("\n"),
                cut(&self.stdout)
            );
        }
    }

    fn assert_sane(&self, case: &str, code: i32) {
        assert!(
            !self.stderr.contains("panicked"),
            "{case}: idpsim panicked:\n{}",
            cut(&self.stderr)
        );
        assert_eq!(
            self.code,
            code,
            "{case}: exit code\nstdout:\n{}\nstderr:\n{}",
            cut(&self.stdout),
            cut(&self.stderr)
        );
        assert!(
            self.peak_rss_kib < RSS_CAP_KIB,
            "{case}: peak RSS {} MiB is over the {} MiB cap",
            self.peak_rss_kib / 1024,
            RSS_CAP_KIB / 1024
        );
        eprintln!("{case}: peak RSS {} MiB", self.peak_rss_kib / 1024);
    }
}

/// The peak resident set of a running process, from `/proc/PID/status` (Linux, in KiB).
fn vm_hwm_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cut(text: &str) -> &str {
    let mut end = text.len().min(4000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn collect_findings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(_)), Some(Value::String(message))) =
                (map.get("rule"), map.get("message"))
            {
                out.push(message.to_lowercase());
            }
            map.values().for_each(|x| collect_findings(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| collect_findings(x, out)),
        _ => {}
    }
}

/// Runs the real binary with stdout and stderr in files (no pipe can fill up and stall it),
/// polls for its exit and peak RSS, and kills it if the hang guard runs out.
fn idpsim(dir: &Path, args: &[&str]) -> Outcome {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let mut child = common::idpsim()
        .args(args)
        .env_remove("IDPSIM_TOKEN")
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("the idpsim binary starts");
    let started = Instant::now();
    let mut peak_rss_kib = 0;
    let status = loop {
        // wait4's ru_maxrss cannot be used: on exec Linux folds in the high-water mark of the
        // memory the child shared with this test process while spawning. VmHWM of the child's
        // own address space, polled, is its true peak (a spike in its last few ms could be
        // missed, but an unbounded read takes far longer than a poll interval).
        peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        if let Some(status) = child.try_wait().expect("wait for idpsim") {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "idpsim {args:?} still ran after {HANG_GUARD:?} and was killed:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // A signal (a crash, an abort) has no exit code: -1 fails every exit-code assertion.
    let code = status.code().unwrap_or(-1);
    for other in ["report.xml", "report.md", "report.html"] {
        let written = dir.join(other);
        assert!(
            !args.contains(&other) || written.exists(),
            "idpsim {args:?} did not write {other}"
        );
    }
    let report = std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned(),
        report,
        peak_rss_kib,
    }
}

/// `idpsim run -v` of the one-step create scenario against `addr`, with a 2 s timeout and every
/// report format, so that the console and each reporter meet the hostile answer too.
fn run_create(addr: SocketAddr) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("create.yaml"), CREATE_USER).expect("write scenario");
    let target = format!("http://{addr}/scim/v2");
    idpsim(
        dir.path(),
        &[
            "run",
            "create.yaml",
            "--target",
            &target,
            "--token",
            "hostile-test-token",
            "--timeout",
            "2s",
            "-v",
            "--report-json",
            "report.json",
            "--report-junit",
            "report.xml",
            "--report-md",
            "report.md",
            "--report-html",
            "report.html",
        ],
    )
}

/// The same hostile answer to every request, preflight included.
fn always(status: &'static str, headers: &'static [(&str, &str)], body: Vec<u8>) -> SocketAddr {
    serve(move |_, s| respond(s, status, headers, &body))
}

#[test]
fn an_html_page() {
    let addr = always(
        "200 OK",
        &[("Content-Type", "text/html")],
        b"<!DOCTYPE html><html><body><h1>Welcome to the login page</h1></body></html>".to_vec(),
    );
    run_create(addr).assert_named("html", &["HTML page"]);
}

#[test]
fn garbage_bytes_as_the_body() {
    let addr = always(
        "201 Created",
        &[SCIM_JSON],
        vec![0xff, 0x00, 0x13, 0x37, 0x80, b'{', 0x00],
    );
    run_create(addr).assert_named("garbage body", &["not valid JSON"]);
}

#[test]
fn garbage_bytes_instead_of_http() {
    let addr = serve(|_, s| {
        let _ = s.write_all(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1 this is not HTTP\r\n\r\n");
    });
    run_create(addr).assert_named("garbage answer", &["not valid HTTP"]);
}

#[test]
fn an_empty_201() {
    let addr = always("201 Created", &[SCIM_JSON], Vec::new());
    run_create(addr).assert_named("empty 201", &["empty"]);
}

/// A valid gzip stream of `mib` MiB of zeros, built without compressing them all: 1 MiB of zeros
/// is deflated once with a full flush (which resets the compressor, so the block stands alone)
/// and the block repeated; the CRC of the whole is combined from the CRC of one MiB.
fn gzip_bomb(mib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 << 10);
    deflate
        .compress_vec(&zeros, &mut block, FlushCompress::Full)
        .expect("deflate");
    assert_eq!(deflate.total_in(), 1 << 20, "one MiB in one call");
    let mut tail = Vec::with_capacity(1024);
    deflate
        .compress_vec(&[], &mut tail, FlushCompress::Finish)
        .expect("deflate");
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&tail);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

#[test]
fn the_gzip_bomb_is_a_valid_gzip_stream() {
    // Checks the test's own bomb on a small scale, so the case below tests a real bomb.
    use std::io::Read;
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gzip_bomb(3)[..])
        .read_to_end(&mut inflated)
        .expect("a valid gzip stream");
    assert_eq!(inflated.len(), 3 << 20);
    assert!(inflated.iter().all(|b| *b == 0));
}

#[test]
fn a_gzip_bomb_is_cut_at_the_body_limit() {
    // 1 GiB of zeros as about 1 MiB of gzip: far past the 16 MiB limit once inflated, and past
    // the memory cap too, so the client must stop inflating at its limit.
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < 4 << 20, "the bomb itself stays small");
    let addr = serve(move |_, s| {
        respond(
            s,
            "201 Created",
            &[SCIM_JSON, ("Content-Encoding", "gzip")],
            &bomb,
        )
    });
    run_create(addr).assert_named("gzip bomb", &["gzip", "16 MiB"]);
}

#[test]
fn a_12_mb_body() {
    // The most expensive JSON per byte: millions of tiny values. Under the 16 MiB limit, so
    // it is read; the run must still stay within the memory cap.
    let mut body = Vec::with_capacity(12 << 20);
    body.push(b'[');
    while body.len() < 12 << 20 {
        body.extend_from_slice(b"0,");
    }
    body.extend_from_slice(b"0]");
    let addr = always("201 Created", &[SCIM_JSON], body);
    run_create(addr).assert_named("12 MB body", &["12.0 MiB", "too dense"]);
    // Objects cost the most per byte: 2 MB of `{"a":0}` took 587 MiB before the guard.
    let mut body = b"[".to_vec();
    for _ in 0..250_000 {
        body.extend_from_slice(br#"{"a":0},"#);
    }
    body.extend_from_slice(b"{}]");
    let addr = always("201 Created", &[SCIM_JSON], body);
    run_create(addr).assert_named("2 MB of small objects", &["too dense"]);
}

#[test]
fn a_response_slower_than_the_timeout() {
    let addr = serve(|_, s| {
        std::thread::sleep(Duration::from_secs(6));
        respond(s, "201 Created", &[SCIM_JSON], b"{}");
    });
    run_create(addr).assert_named("slow", &["timed out"]);
}

#[test]
fn a_reset_connection() {
    // Before any answer…
    let addr = serve(|_, s| reset(s));
    run_create(addr).assert_named("reset before answering", &["reset"]);
    // …and in the middle of the body.
    let addr = serve(|_, s| {
        let _ = s.write_all(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 500\r\n\r\n{\"id\":\"1\",",
        );
        let _ = s.flush();
        std::thread::sleep(Duration::from_millis(100));
        reset(s);
    });
    run_create(addr).assert_named("reset mid-body", &["reset"]);
}

#[test]
fn a_content_length_longer_than_the_body() {
    // Promises 400 bytes, sends 40 and keeps the connection open: the client waits for the rest
    // until its timeout, which must say how far the answer got.
    let addr = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 400\r\n\r\n{\"id\":\"1\",\"userName\":\"a\",\"schemas\":[]}");
        let _ = s.flush();
        std::thread::sleep(Duration::from_secs(6));
    });
    run_create(addr).assert_named("long Content-Length", &["Content-Length", "400"]);
}

#[test]
fn a_content_length_shorter_than_the_body() {
    let body =
        br#"{"id":"1","userName":"a","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}"#;
    let addr = serve(move |_, s| {
        let _ = s.write_all(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 20\r\n\r\n",
        );
        let _ = s.write_all(body);
    });
    run_create(addr).assert_named("short Content-Length", &["Content-Length"]);
}

#[test]
fn invalid_utf8_in_a_json_body() {
    let addr = always(
        "201 Created",
        &[SCIM_JSON],
        b"{\"id\":\"u-1\",\"userName\":\"caf\xe9 \xff\xfe\",\"schemas\":[]}".to_vec(),
    );
    run_create(addr).assert_named("invalid UTF-8", &["invalid UTF-8"]);
}

#[test]
fn json_nested_100000_deep() {
    for (case, open, close) in [
        ("deep arrays", "[".to_string(), "]"),
        ("deep objects", "{\"a\":".to_string(), "}"),
    ] {
        let mut body = open.repeat(100_000);
        body.push('1');
        body.push_str(&close.repeat(100_000));
        let addr = always("201 Created", &[SCIM_JSON], body.into_bytes());
        run_create(addr).assert_named(case, &["nested"]);
    }
    // Under the parser's limit the body is parsed, and every walker of JSON values meets it:
    // redaction, the rules, the verbose console's pretty-printing, every report format. (100
    // levels, not 127: the JSON report wraps the body in ten more, and this test reads it back
    // with serde_json's own limit of 128.)
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let body =
        format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"x":{deep}}}"#);
    let addr = always("201 Created", &[SCIM_JSON], body.into_bytes());
    run_create(addr).assert_named("deep but parseable", &["no `id`"]);
}

/// Every field of every document the wrong type or null: the resource, the preflight's
/// ServiceProviderConfig, a ListResponse's counters and Resources.
const WRONG_TYPES: &str = r#"{"id":123,"userName":null,"meta":"x","schemas":{},"emails":"a",
"active":"yes","groups":{"value":null},"name":[],"patch":"yes","filter":{"supported":"no","maxResults":"x"},
"bulk":null,"etag":7,"totalResults":"many","startIndex":null,"itemsPerPage":[],"Resources":{"id":null},
"status":200,"detail":{},"scimType":[],"members":"everyone","displayName":5,"externalId":true}"#;

#[test]
fn wrong_json_types_and_nulls_everywhere() {
    let addr = always("201 Created", &[SCIM_JSON], WRONG_TYPES.as_bytes().to_vec());
    run_create(addr).assert_named("wrong types", &["`id`", "123"]);
}

#[test]
fn wrong_json_types_against_every_shipped_scenario() {
    // The IdP profiles read more of each answer than the raw rules: run all of them (Okta and
    // Entra flows included) against a server whose every answer has the wrong types.
    let addr = serve(|r, s| {
        let status = match r.method.as_str() {
            "POST" => "201 Created",
            "DELETE" => "204 No Content",
            _ => "200 OK",
        };
        respond(s, status, &[SCIM_JSON], WRONG_TYPES.as_bytes());
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let target = format!("http://{addr}/scim/v2");
    let outcome = idpsim(
        dir.path(),
        &[
            "run",
            "--target",
            &target,
            "--token",
            "hostile-test-token",
            "--timeout",
            "2s",
            "--time-scale",
            "0",
            "-j",
            "2",
            "--report-json",
            "report.json",
        ],
    );
    outcome.assert_named("shipped scenarios, wrong types", &["`id`"]);
}

#[test]
fn a_2_mb_header() {
    let addr = serve(|_, s| {
        let big = "a".repeat(2 << 20);
        let _ = s.write_all(
            format!("HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nX-Padding: {big}\r\nContent-Length: 2\r\n\r\n{{}}").as_bytes(),
        );
    });
    run_create(addr).assert_named("2 MB header", &["headers", "too large"]);
    // Many small headers instead of one big one.
    let addr = serve(|_, s| {
        let many: String = (0..5_000).map(|i| format!("X-H{i}: v\r\n")).collect();
        let _ = s.write_all(
            format!("HTTP/1.1 201 Created\r\n{many}Content-Length: 2\r\n\r\n{{}}").as_bytes(),
        );
    });
    run_create(addr).assert_named("5,000 headers", &["too many"]);
}

#[test]
fn broken_chunked_encoding() {
    // A chunk size that is not hexadecimal…
    let addr = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\nzz\r\n:\"1\"}\r\n0\r\n\r\n");
    });
    run_create(addr).assert_named("bad chunk size", &["chunked"]);
    // …and a body that stops without the terminating zero-size chunk.
    let addr = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"id\":\"1\"\r\n");
    });
    run_create(addr).assert_named("no last chunk", &["chunked"]);
}

#[test]
fn a_redirect_loop() {
    // Every request is sent back to itself.
    let addr = serve(|r, s| {
        let location = r.target.clone();
        respond(
            s,
            "302 Found",
            &[("Location", Box::leak(location.into_boxed_str()))],
            b"",
        )
    });
    run_create(addr).assert_named("redirect loop", &["redirect", "/scim/v2/Users"]);
}

#[test]
fn unknown_status_codes() {
    for code in ["599", "799"] {
        let addr = serve(move |_, s| {
            respond(
                s,
                &format!("{code} Whatever"),
                &[SCIM_JSON],
                br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"599"}"#,
            )
        });
        run_create(addr).assert_named(code, &[&format!("status {code}")]);
    }
    // Four digits are not an HTTP status at all: the status line itself is rejected.
    let addr = serve(|_, s| respond(s, "1000 Whatever", &[SCIM_JSON], b"{}"));
    run_create(addr).assert_named("1000", &["status line is not valid HTTP"]);
}

#[test]
fn a_truncated_body() {
    let addr = serve(|_, s| {
        let _ = s.write_all(b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n{\"id\":\"1\",");
    });
    run_create(addr).assert_named("truncated", &["truncated", "10 of the 1000"]);
}

// ---- audit: paging through a hostile /Users ----

const STATE: &str = r#"
users:
  alice:
    userName: alice@example.test
"#;

fn run_audit(addr: SocketAddr) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("state.yaml"), STATE).expect("write state");
    let target = format!("http://{addr}/scim/v2");
    idpsim(
        dir.path(),
        &[
            "audit",
            "--target",
            &target,
            "--token",
            "hostile-test-token",
            "--timeout",
            "2s",
            "--expect",
            "state.yaml",
            "--report-json",
            "report.json",
        ],
    )
}

fn list_page(ids: impl Iterator<Item = String>, total: u64) -> Vec<u8> {
    let resources: Vec<Value> = ids
        .map(|id| serde_json::json!({"id": id, "userName": format!("{id}@example.test")}))
        .collect();
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total, "startIndex": 1, "itemsPerPage": resources.len(),
        "Resources": resources,
    })
    .to_string()
    .into_bytes()
}

#[test]
fn audit_stops_when_a_huge_list_repeats_one_page() {
    // totalResults says a billion; every page is the same, whatever startIndex asks.
    let page = list_page((0..100).map(|i| format!("u-{i}")), 1_000_000_000);
    let addr = serve(move |_, s| respond(s, "200 OK", &[SCIM_JSON], &page));
    let outcome = run_audit(addr);
    outcome.assert_sane("audit, repeated page", 1);
    assert!(
        outcome.stdout.contains("ignores startIndex"),
        "{}",
        cut(&outcome.stdout)
    );
}

#[test]
fn audit_stops_when_a_server_invents_resources_forever() {
    // Each page brings 5,000 resources never seen before (whatever count asked) and a total
    // that is never reached: only a cap ends this.
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let addr = serve(move |_, s| {
        let first = next.fetch_add(5_000, std::sync::atomic::Ordering::SeqCst);
        let page = list_page((first..first + 5_000).map(|i| format!("u-{i}")), u64::MAX);
        respond(s, "200 OK", &[SCIM_JSON], &page)
    });
    let outcome = run_audit(addr);
    outcome.assert_sane("audit, endless resources", 1);
    assert!(
        outcome.stdout.contains("stopped reading /Users"),
        "{}",
        cut(&outcome.stdout)
    );
}

#[test]
fn audit_against_hostile_answers_exits_3_naming_them() {
    for (case, status, body, needle) in [
        ("html", "200 OK", b"<html>login</html>".to_vec(), "not JSON"),
        ("500", "500 Oops", b"{}".to_vec(), "answered 500"),
        (
            "deep",
            "200 OK",
            "[".repeat(100_000).into_bytes(),
            "not JSON",
        ),
        ("wrong types", "200 OK", WRONG_TYPES.as_bytes().to_vec(), ""),
    ] {
        let addr = always(status, &[SCIM_JSON], body);
        let outcome = run_audit(addr);
        if needle.is_empty() {
            // Wrong types read as an empty directory: alice is missing, a drift (exit 1).
            outcome.assert_sane(case, 1);
            continue;
        }
        outcome.assert_sane(case, 3);
        assert!(
            outcome.stderr.contains(needle),
            "{case}: stderr does not name `{needle}`:\n{}",
            cut(&outcome.stderr)
        );
    }
}
