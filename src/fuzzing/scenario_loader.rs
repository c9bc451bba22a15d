//! Scenario files are written by people: whatever the bytes, loading gives a `Scenario` or
//! diagnostics with positions — never a panic, overflow or hang — and a scenario that loads goes
//! through the whole pipeline up to its first request without one either: variables and the
//! directory rendered, the request built, sent (to a closed port, so it fails at once), the
//! answer judged, cleanup run, and every report rendered.
//!
//! Small inputs reach the loader's limits through a prefix (see [`amplify`]): a byte that UTF-8
//! never uses, a count, and a piece that is repeated or nested that many times.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::scenario::yaml::MAX_DEPTH;
use crate::support::input::MAX_FILE_BYTES;

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let (bytes, nesting) = amplify(data);
    // The same checks as a file read from disk: the size limit, then UTF-8 with a position.
    let text = match crate::support::input::text_from_bytes(bytes) {
        Ok(text) => text,
        Err(e) => {
            assert!(!e.message.is_empty(), "a refused input says why");
            return;
        }
    };
    match crate::scenario::parse::parse_scenario("<fuzz>", &text, &crate::idp::Catalogue) {
        Ok(scenario) => {
            assert!(
                nesting <= MAX_DEPTH,
                "a scenario nested {nesting} deep loaded past the depth limit"
            );
            pipeline(scenario);
        }
        Err(diagnostics) => {
            // A failed load always says why.
            assert!(
                !diagnostics.is_empty(),
                "an invalid scenario without a diagnostic"
            );
        }
    }
}

/// Turns a small input into a large one when it starts with one of these bytes (never found in
/// UTF-8), followed by a count (two bytes, big-endian) and a piece of text:
/// - `0xF8`: the piece repeated 16 × count times (up to just past the file size limit);
/// - `0xF9`: a request body of `count` nested block mappings, the piece inside the deepest;
/// - `0xFA`: a request body of `count` nested flow lists around the piece.
///
/// Returns the bytes and how deep the amplification alone nests them (0 when it does not).
pub fn amplify(data: &[u8]) -> (Vec<u8>, usize) {
    let (Some(&mode @ 0xF8..=0xFA), Some(hi), Some(lo)) = (data.first(), data.get(1), data.get(2))
    else {
        return (data.to_vec(), 0);
    };
    let count = usize::from(*hi) << 8 | usize::from(*lo);
    let piece = &data[3..];
    let cap = MAX_FILE_BYTES as usize + 1024;
    const HEAD: &[u8] = b"name: amplified\nsteps:\n  - request:\n      method: POST\n      path: /Users\n      body:\n";
    match mode {
        0xF8 => {
            let mut out = Vec::new();
            for _ in 0..count * 16 {
                if out.len() + piece.len() > cap || piece.is_empty() {
                    break;
                }
                out.extend_from_slice(piece);
            }
            (out, 0)
        }
        0xF9 => {
            let mut out = HEAD.to_vec();
            for i in 0..count {
                if out.len() > cap {
                    break;
                }
                out.extend(std::iter::repeat_n(b' ', 8 + 2 * i));
                out.extend_from_slice(b"a:\n");
            }
            out.extend(std::iter::repeat_n(b' ', 8 + 2 * count.min(4096)));
            out.extend_from_slice(piece);
            out.push(b'\n');
            // The root mapping, the steps, the step, the request and the body hold the nest.
            (out, count + 5)
        }
        _ => {
            let mut out = HEAD.to_vec();
            out.extend_from_slice(b"        ");
            out.extend(std::iter::repeat_n(b'[', count));
            out.extend_from_slice(piece);
            out.extend(std::iter::repeat_n(b']', count));
            out.push(b'\n');
            (out, count + 4)
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Credentials the pipeline runs with, fresh per process so no input can spell them: the URL's
/// password, its `?token=` and the bearer token.
fn secrets() -> &'static [String; 3] {
    static SECRETS: OnceLock<[String; 3]> = OnceLock::new();
    SECRETS.get_or_init(|| std::array::from_fn(|_| crate::scenario::template::random_hex(24)))
}

/// A loopback address nothing listens on, with credentials in it: the first request fails at
/// once, and so does any other, so the whole scenario runs in microseconds per request.
fn closed_port() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or(9, |a| a.port());
        let [password, token, _] = secrets();
        format!("http://fuzz:{password}@127.0.0.1:{port}/scim/v2?token={token}")
    })
}

/// Runs a loaded scenario as `idpsim run` would, then renders every report of its result.
fn pipeline(scenario: crate::scenario::Scenario) {
    use crate::transport::{Auth, Transport, TransportConfig};
    let Ok(transport) = Transport::new(TransportConfig {
        base_url: closed_port().to_string(),
        auth: Auth::Bearer(secrets()[2].clone()),
        headers: Vec::new(),
        timeout: Duration::from_secs(2),
        cacert: None,
        insecure: false,
    }) else {
        return;
    };
    let runner = crate::run::Runner {
        transport,
        simulator: None,
        vars: Vec::new(),
        interrupt: Arc::new(crate::run::Interrupt::new(Duration::from_millis(200))),
        time_scale: 0.0,
        write_state: false,
        auth: crate::run::RunAuth::default(),
        keep_bodies: true,
    };
    let sources = std::collections::HashMap::new();
    let result = runtime().block_on(runner.run_scenario(&scenario));
    let results = std::slice::from_ref(&result);
    let problems = crate::outcome::problems::group(results);
    let report = crate::outcome::RunReport {
        version: crate::outcome::REPORT_VERSION,
        tool: crate::outcome::Tool {
            name: "idpsim",
            version: env!("CARGO_PKG_VERSION"),
        },
        target: crate::outcome::Target {
            url: runner.transport.redactor().text(closed_port()),
            builtin: false,
            dry_run: false,
            insecure: false,
        },
        started_at: String::new(),
        duration_ms: 0,
        interrupted: false,
        signal: None,
        summary: crate::outcome::RunReport::summarize(results, &problems),
        problems,
        scenarios: vec![result.clone()],
    };
    let console = crate::report::console::Console {
        styles: crate::support::styles::Styles::plain(),
        verbose: true,
        sources: sources.clone(),
    };
    let gate =
        crate::gate::baseline::evaluate(&report, None, crate::outcome::Severity::Error, false);
    let mut out = console.scenario_line(&report.scenarios[0]);
    out.push_str(&console.finish(&report));
    out.push_str(&crate::report::json::render(&report));
    out.push_str(&crate::report::junit::render(&report));
    out.push_str(&crate::report::github::render(&report, &gate));
    out.push_str(&crate::report::markdown::render(&report, &gate, &sources));
    out.push_str(&crate::report::html::render(&report, &gate));
    // Whatever the scenario holds, the credentials it ran with appear nowhere.
    for (which, secret) in ["the URL's password", "the URL's token", "the bearer token"]
        .iter()
        .zip(secrets())
    {
        if let Some(at) = out.find(secret.as_str()) {
            let from = out[..at].char_indices().rev().nth(80).map_or(0, |(i, _)| i);
            panic!("{which} reached a report: …{}", &out[from..at]);
        }
    }
}
