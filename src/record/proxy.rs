//! The recording reverse proxy: `idpsim record --listen ADDR --upstream URL -o FILE`.
//!
//! Every request is forwarded unchanged (method, path, query, headers minus hop-by-hop ones,
//! body bytes) and the answer comes back unchanged (compressed bodies stay compressed). The
//! exchange is written to the scenario — and fsynced — *before* the answer is returned to the
//! client, so whatever the client has seen is on disk, whatever happens to the recorder next.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::extract::Request;
use axum::response::Response;
use http_body_util::{BodyExt, Full};

use super::{Body, Captured, Meta, Recorder};
use crate::error::{Error, Result};
use crate::support::out::say;
use crate::support::signal::Signal;
use crate::transport::{header_pairs, https_client, tls_config, BaseUrl, HttpsClient, BODY_LIMIT};
use crate::verdict::Verdict;

/// Request headers that belong to one connection, not to the exchange (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub upstream: String,
    pub output: PathBuf,
    pub name: Option<String>,
    pub timeout: Duration,
}

struct Shared {
    client: HttpsClient,
    upstream: BaseUrl,
    recorder: Mutex<Recorder>,
    timeout: Duration,
}

/// Runs the proxy until SIGINT/SIGTERM; the verdict says which signal stopped it.
pub async fn run(config: ProxyConfig) -> Result<Verdict> {
    let upstream = BaseUrl::parse(&config.upstream).map_err(|e| {
        Error::Usage(format!(
            "--upstream {}: {e}",
            crate::support::redact::url(&config.upstream)
        ))
    })?;
    let name = config.name.clone().unwrap_or_else(|| {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        format!("Recording of {} ({now})", upstream.display())
    });
    let mut recorder = Recorder::create(
        &config.output,
        Meta {
            name,
            source: format!("idpsim record --upstream {}", upstream.display()),
        },
    )
    .map_err(|e| Error::io(config.output.display(), e))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", config.listen)))?;
    // Bodies that name the upstream or the proxy itself (a member's `$ref`, Okta's PUT echoing
    // `meta.location`) are replayed against the replay's target, not these hosts.
    recorder.add_base(&format!("{}{}", upstream.origin, upstream.path));
    for host in [addr.to_string(), format!("localhost:{}", addr.port())] {
        recorder.add_base(&format!("http://{host}{}", upstream.path));
        recorder.add_base(&format!("http://{host}"));
    }
    // The transport's roots, so an upstream behind a private CA in the system store is reached
    // by `record` as by `run` (only Mozilla's bundled roots were used here before).
    let client = https_client(tls_config(false, None)?);
    let shared = Arc::new(Shared {
        client,
        upstream,
        recorder: Mutex::new(recorder),
        timeout: config.timeout,
    });
    let app = axum::Router::new().fallback({
        let shared = Arc::clone(&shared);
        move |req: Request| {
            let shared = Arc::clone(&shared);
            async move { forward(&shared, req).await }
        }
    });
    // Pipe-safe: a closed stdout (a parent that stopped reading) must not panic the recorder.
    say!(
        "idpsim record: listening on http://{addr} → {}; writing {} (Ctrl-C to stop)",
        shared.upstream.display(),
        config.output.display()
    );
    crate::support::out::flush();
    // The first SIGINT/SIGTERM stops accepting and lets the exchanges in flight finish (each is
    // bounded by --timeout and written before its answer goes out), so the file is complete;
    // a second signal quits at once, and the file is still valid: every exchange already
    // written was fsynced whole.
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<Signal>();
    crate::support::signal::on_first_signal(move |signal| {
        eprintln!(
            "\nidpsim record: {}: finishing the exchanges in flight, then closing the recording. Send it again to quit at once.",
            signal.describe()
        );
        let _ = stopped_tx.send(signal);
    })?;
    let stopped_by = Arc::new(std::sync::OnceLock::<Signal>::new());
    let server = axum::serve(listener, app).with_graceful_shutdown({
        let stopped_by = Arc::clone(&stopped_by);
        async move {
            if let Ok(signal) = stopped_rx.await {
                let _ = stopped_by.set(signal);
            }
        }
    });
    if let Err(e) = server.await {
        return Err(Error::Server(format!("record proxy: {e}")));
    }
    let mut rec = shared
        .recorder
        .lock()
        .map_err(|_| Error::Server("record proxy: the recorder failed".into()))?;
    rec.finish_file(&config.output)
        .map_err(|e| Error::io(config.output.display(), e))?;
    let idp = rec
        .recognition
        .as_ref()
        .map(|r| format!("; client recognised as {} ({})", r.idp.name(), r.evidence))
        .unwrap_or_default();
    say!(
        "idpsim record: {} exchange(s) written to {}{idp}",
        rec.exchanges,
        config.output.display()
    );
    Ok(stopped_by
        .get()
        .map_or(Verdict::Passed, |s| Verdict::Stopped(*s)))
}

/// Splits an incoming path into what goes upstream and what the scenario records (relative to
/// the SCIM base). A client configured with the proxy's root (`http://proxy/Users`) and one
/// configured with the upstream's base path (`http://proxy/scim/v2/Users`) both work.
fn paths(upstream: &BaseUrl, incoming: &str) -> (String, String) {
    let base = upstream.path.as_str();
    let (path, query) = match incoming.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (incoming, None),
    };
    let under_base = !base.is_empty() && (path == base || path.starts_with(&format!("{base}/")));
    let (wire_path, rel) = if under_base {
        (path.to_string(), path[base.len()..].to_string())
    } else {
        (format!("{base}{path}"), path.to_string())
    };
    let mut wire = wire_path;
    let mut rel = if rel.is_empty() { "/".to_string() } else { rel };
    if let Some(q) = query {
        wire.push('?');
        wire.push_str(q);
        // The replay target carries the base query itself (e.g. `?aadOptscim062020`).
        let kept: Vec<&str> = q
            .split('&')
            .filter(|p| Some(*p) != upstream.query.as_deref())
            .collect();
        if !kept.is_empty() {
            rel.push('?');
            rel.push_str(&kept.join("&"));
        }
    } else if let Some(q) = &upstream.query {
        wire.push('?');
        wire.push_str(q);
    }
    (wire, rel)
}

async fn forward(shared: &Shared, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let incoming = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (wire, rel) = paths(&shared.upstream, &incoming);
    let request_bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return bad_gateway(&format!("could not read the request body: {e}")),
    };
    let headers = header_pairs(&parts.headers);
    let mut builder = http::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{wire}", shared.upstream.origin));
    for (k, v) in parts.headers.iter() {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            builder = builder.header(k, v);
        }
    }
    let upstream_req = match builder.body(Full::new(request_bytes.clone())) {
        Ok(r) => r,
        Err(e) => return bad_gateway(&format!("could not build the upstream request: {e}")),
    };
    let answer = tokio::time::timeout(shared.timeout, async {
        let resp = shared
            .client
            .request(upstream_req)
            .await
            .map_err(|e| e.to_string())?;
        let (p, b) = resp.into_parts();
        // The transport's body cap, so a hostile upstream cannot make the recorder hold
        // gigabytes: the client gets a 502 that says why instead.
        let bytes = http_body_util::Limited::new(b, BODY_LIMIT)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!(
                        "its answer is larger than the {} MiB idpsim reads",
                        BODY_LIMIT >> 20
                    )
                } else {
                    format!("reading the upstream body: {e}")
                }
            })?
            .to_bytes();
        Ok::<_, String>((p, bytes))
    })
    .await;
    let (resp_parts, resp_bytes) = match answer {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return bad_gateway(&format!("upstream {}: {e}", shared.upstream.display())),
        Err(_) => {
            return bad_gateway(&format!(
                "upstream {}: no answer within {:?}",
                shared.upstream.display(),
                shared.timeout
            ))
        }
    };
    let response_headers = header_pairs(&resp_parts.headers);
    let captured = Captured {
        method: parts.method.as_str().to_string(),
        path: rel,
        request_headers: headers,
        request_body: Body::from_bytes(&request_bytes),
        status: resp_parts.status.as_u16(),
        response_body: decoded_body(&response_headers, &resp_bytes),
        response_headers,
    };
    // Durable before the client sees the answer: the guarantee a SIGKILL test relies on.
    let written = match shared.recorder.lock() {
        Ok(mut rec) => rec.add(&captured).map_err(|e| e.to_string()),
        Err(_) => Err("the recorder failed earlier".to_string()),
    };
    if let Err(e) = written {
        eprintln!("idpsim record: could not write the exchange: {e}");
    }
    let mut out = Response::builder().status(resp_parts.status);
    for (k, v) in resp_parts.headers.iter() {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            out = out.header(k, v);
        }
    }
    out.body(AxumBody::from(resp_bytes))
        .unwrap_or_else(|e| bad_gateway(&format!("could not build the answer: {e}")))
}

/// The body for the scenario: decompressed when the server compressed it on the wire.
fn decoded_body(headers: &[(String, String)], bytes: &[u8]) -> Option<Body> {
    use std::io::Read;
    let encoding = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.trim().to_ascii_lowercase());
    let mut out = Vec::new();
    let decoded = match encoding.as_deref() {
        Some("gzip" | "x-gzip") => flate2::read::GzDecoder::new(bytes)
            .take(BODY_LIMIT as u64)
            .read_to_end(&mut out)
            .is_ok(),
        Some("deflate") => flate2::read::ZlibDecoder::new(bytes)
            .take(BODY_LIMIT as u64)
            .read_to_end(&mut out)
            .is_ok(),
        _ => return Body::from_bytes(bytes),
    };
    if decoded {
        Body::from_bytes(&out)
    } else {
        Some(Body::Text(format!(
            "[{} bytes that do not decode]",
            bytes.len()
        )))
    }
}

fn bad_gateway(message: &str) -> Response {
    eprintln!("idpsim record: {message}");
    let body = serde_json::json!({
        "schemas": [crate::scim::schema::ERROR_URN],
        "status": "502",
        "detail": format!("idpsim record: {message}"),
    });
    Response::builder()
        .status(502)
        .header("content-type", "application/scim+json")
        .body(AxumBody::from(body.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_work_with_and_without_the_base_path() {
        let up = BaseUrl::parse("http://srv:1/scim/v2").expect("url");
        assert_eq!(
            paths(&up, "/Users?x=1"),
            ("/scim/v2/Users?x=1".into(), "/Users?x=1".into())
        );
        assert_eq!(
            paths(&up, "/scim/v2/Users/7"),
            ("/scim/v2/Users/7".into(), "/Users/7".into())
        );
        let flag = BaseUrl::parse("http://srv:1/scim?aadOptscim062020").expect("url");
        assert_eq!(
            paths(&flag, "/Users"),
            ("/scim/Users?aadOptscim062020".into(), "/Users".into())
        );
        assert_eq!(
            paths(&flag, "/scim/Users?filter=a&aadOptscim062020"),
            (
                "/scim/Users?filter=a&aadOptscim062020".into(),
                "/Users?filter=a".into()
            )
        );
    }
}
