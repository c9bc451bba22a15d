//! The HTTP transport: sends exactly the headers it is given (no `Accept: */*` or `User-Agent`
//! added behind the caller's back — Entra sends neither, and fidelity is the point), reads at most
//! `BODY_LIMIT` bytes, decodes gzip/deflate itself, and records a redacted `Exchange`.
//!
//! hyper is used directly rather than reqwest because reqwest always adds a default `Accept`.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub mod auth;
pub mod exchange;
pub mod inflight;

pub use auth::{Auth, AuthMode, AuthPolicy, AuthSession, Lapse, Leg, Refusal, Sent};

use crate::error::Error;
use crate::support::redact::Redactor;
use crate::transport::exchange::*;

/// Responses larger than this are cut (a finding says so); decompressed bodies too.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// The target base URL, e.g. `https://api.example.com/scim/v2?aadOptscim062020`.
    pub base_url: String,
    pub auth: Auth,
    /// Extra headers on every request (`--header`).
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub cacert: Option<std::path::PathBuf>,
    pub insecure: bool,
}

/// A request as an IdP profile or a scenario step wants it sent.
#[derive(Clone, Debug)]
pub struct OutgoingRequest {
    pub method: String,
    /// Relative to the base URL: `/Users?filter=…`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<OutgoingBody>,
    /// Whether to add the run's credentials.
    pub with_auth: bool,
    /// Whether the base URL's query (e.g. `aadOptscim062020`) is appended. An IdP profile that
    /// places such flags itself (Entra: before or after `filter=`) turns this off.
    pub base_query: bool,
    /// An absolute URL that replaces the base URL and `path` (the OAuth token and authorization
    /// endpoints live outside the SCIM base).
    pub url: Option<String>,
}

#[derive(Clone, Debug)]
pub enum OutgoingBody {
    Json(serde_json::Value),
    Raw(String),
}

impl OutgoingRequest {
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        OutgoingRequest {
            method: method.to_string(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            with_auth: true,
            base_query: true,
            url: None,
        }
    }
    /// A request to an absolute URL, without the run's credentials.
    pub fn to_url(method: &str, url: &str) -> Self {
        OutgoingRequest {
            with_auth: false,
            url: Some(url.to_string()),
            ..OutgoingRequest::new(method, url)
        }
    }
    /// Sends the path exactly as given, without the base URL's query.
    pub fn without_base_query(mut self) -> Self {
        self.base_query = false;
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(OutgoingBody::Json(body));
        self
    }
    /// A JSON body already written as text (sent as is; the caller guarantees it is JSON).
    pub fn json_text(mut self, body: String) -> Self {
        self.body = Some(OutgoingBody::Raw(body));
        self
    }
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// The raw answer, unredacted, for IdP logic that must echo the server's own data (Okta's PUT).
#[derive(Clone, Debug, Default)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
}

/// The `detail` of a SCIM error body (RFC 7644 §3.12), when it has one as a string.
pub fn scim_detail(body: Option<&serde_json::Value>) -> Option<&str> {
    // An empty `detail` (django-scim2 answers `"detail": ""` with its 501s) says nothing: a
    // message quoting it would end in a dangling "answered 501: ".
    Some(body?.get("detail")?.as_str()?.trim()).filter(|d| !d.is_empty())
}

impl RawResponse {
    /// The SCIM error's `detail`, if any.
    pub fn scim_detail(&self) -> Option<&str> {
        scim_detail(self.body.as_ref())
    }

    /// `: detail` for a message that quotes the server's reason, or nothing.
    pub fn detail_suffix(&self) -> String {
        self.scim_detail()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    }
}

/// An answer as `Transport::send_raw` returns it: nothing parsed, nothing recorded.
#[derive(Clone, Debug, Default)]
pub struct RawAnswer {
    /// 0 when there was no (complete) answer.
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The decoded body; `None` when it was cut at the size limit or did not decode.
    pub body: Option<Vec<u8>>,
}

/// A JSON body parsed into `T`, under the same guards as every recorded body (nesting depth,
/// parse cost): `None` when it is empty, not JSON, too costly, or not of `T`'s shape.
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    if bytes.is_empty() {
        return None;
    }
    let (cost, too_deep) = parse_cost(bytes);
    if too_deep || cost > MAX_JSON_COST {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// The HTTP/1.1 client over rustls (or plain HTTP) that the transport and the record proxy use.
pub type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// The client for `tls` (see `tls_config`): HTTP/1.1 only, idle connections kept 30 s.
pub fn https_client(tls: rustls::ClientConfig) -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

#[derive(Clone)]
pub struct Transport {
    client: HttpsClient,
    base: BaseUrl,
    config: Arc<TransportConfig>,
    redactor: Arc<Redactor>,
    /// The credentials and what they were issued; scenarios that play their own app instance
    /// get their own (`with_session`).
    session: Arc<AuthSession>,
}

/// The target URL split so that request paths can be appended and the base query carried along.
#[derive(Clone, Debug)]
pub struct BaseUrl {
    /// `scheme://host:port`
    pub origin: String,
    /// `/scim/v2` (no trailing slash)
    pub path: String,
    /// `aadOptscim062020` (without `?`), carried onto every request.
    pub query: Option<String>,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        let scheme = uri
            .scheme_str()
            .ok_or("the URL needs a scheme (http:// or https://)")?;
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "unsupported scheme `{scheme}`; use http:// or https://"
            ));
        }
        let authority = uri.authority().ok_or("the URL needs a host")?;
        let path = uri.path().trim_end_matches('/').to_string();
        Ok(BaseUrl {
            origin: format!("{scheme}://{authority}"),
            path,
            query: uri.query().filter(|q| !q.is_empty()).map(str::to_string),
        })
    }

    /// Joins a request path, with the base query unless the request opted out.
    pub fn join_request(&self, req: &OutgoingRequest) -> String {
        self.join_with(&req.path, req.base_query)
    }

    /// Joins a relative request path; the base query goes after the request's own parameters.
    pub fn join(&self, rel: &str) -> String {
        self.join_with(rel, true)
    }

    fn join_with(&self, rel: &str, with_query: bool) -> String {
        let query = self.query.as_deref().filter(|_| with_query);
        let mut target = String::with_capacity(
            self.path.len() + rel.len() + 1 + query.map_or(0, |q| q.len() + 1),
        );
        target.push_str(&self.path);
        if !(rel.starts_with('/') || rel.is_empty()) {
            target.push('/');
        }
        target.push_str(rel);
        if let Some(q) = query {
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(q);
        }
        target
    }

    /// The whole URL, credentials and all: for templates (`{{ base_url }}`), never for display.
    pub fn full(&self) -> String {
        match &self.query {
            Some(q) => format!("{}{}?{}", self.origin, self.path, q),
            None => format!("{}{}", self.origin, self.path),
        }
    }

    /// The URL as it may be shown (banners, reports, errors): its user-info password and
    /// credential-named query parameters masked.
    pub fn display(&self) -> String {
        crate::support::redact::url(&self.full())
    }
}

impl Transport {
    pub fn new(config: TransportConfig) -> Result<Self, Error> {
        let base = BaseUrl::parse(&config.base_url).map_err(|e| {
            Error::Usage(format!(
                "--target {}: {e}",
                crate::support::redact::url(&config.base_url)
            ))
        })?;
        // A plain-http target (the embedded server is one) never does a TLS handshake: loading
        // and parsing the system's CA bundle for it would only cost time and memory.
        let tls = if plain_http_only(&base, &config) {
            plain_http_tls_config()?
        } else {
            tls_config(config.insecure, config.cacert.as_deref())?
        };
        let client = https_client(tls);
        let mut secrets = config.auth.secrets();
        secrets.extend(url_secrets(&config.base_url));
        for (name, value) in &config.headers {
            secrets.extend(crate::support::redact::header_secrets(name, value));
        }
        if let Auth::OAuth(c) = &config.auth {
            secrets.extend(url_secrets(&c.token_url));
        }
        Ok(Transport {
            client,
            base,
            redactor: Arc::new(Redactor::new(secrets)),
            session: Arc::new(AuthSession::new(config.auth.clone(), Lapse::default())),
            config: Arc::new(config),
        })
    }

    /// The same target with its credential lapsing as `lapse` says (`--auth-expire-after`).
    pub fn with_lapse(mut self, lapse: Lapse) -> Self {
        self.session = Arc::new(self.session.sibling(lapse));
        self
    }

    /// The same target and connection pool, as another app instance: its own token (and lapse),
    /// the same client and refresh token.
    pub fn sibling(&self, lapse: Lapse) -> Self {
        Transport {
            session: Arc::new(self.session.sibling(lapse)),
            ..self.clone()
        }
    }

    /// The same target with other credentials (a scenario that plays its own auth mode against
    /// the built-in server); their secrets are redacted like the run's.
    pub fn with_auth(&self, auth: Auth, lapse: Lapse) -> Self {
        for secret in auth.secrets() {
            self.redactor.add_secret(&secret);
        }
        Transport {
            session: Arc::new(AuthSession::new(auth, lapse)),
            ..self.clone()
        }
    }

    /// This transport as idpsim's own cleanup uses it: the current credential, not lapsed.
    pub async fn unlapsed(&self) -> Self {
        Transport {
            session: Arc::new(self.session.unlapsed().await),
            ..self.clone()
        }
    }

    pub fn session(&self) -> &AuthSession {
        &self.session
    }

    pub fn base(&self) -> &BaseUrl {
        &self.base
    }
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// The headers that will go on the wire, in order: the request's, then `--header`s (not on
    /// requests to another URL: the token endpoint), then the credential.
    fn headers_with(
        &self,
        req: &OutgoingRequest,
        authorization: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut headers = req.headers.clone();
        if req.url.is_none() {
            for (k, v) in &self.config.headers {
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
                headers.push((k.clone(), v.clone()));
            }
        }
        if let Some(value) = authorization {
            if req.with_auth
                && !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            {
                headers.push(("Authorization".into(), value.to_string()));
            }
        }
        headers
    }

    /// The headers as they would go on the wire now (the current credential, or a placeholder
    /// for a token not issued yet).
    pub fn wire_headers(&self, req: &OutgoingRequest) -> Vec<(String, String)> {
        let current = self.session.current_header();
        self.headers_with(req, current.as_deref())
    }

    /// Where a request goes: `scheme://host:port` and the target (path and query).
    fn locate(&self, req: &OutgoingRequest) -> (String, String) {
        if let Some(url) = &req.url {
            if let Ok(b) = BaseUrl::parse(url) {
                let mut target = if b.path.is_empty() {
                    "/".to_string()
                } else {
                    b.path
                };
                if let Some(q) = b.query {
                    target.push('?');
                    target.push_str(&q);
                }
                return (b.origin, target);
            }
        }
        (self.base.origin.clone(), self.base.join_request(req))
    }

    /// Records the request as it would go out, without sending it.
    pub fn record_request(&self, req: &OutgoingRequest) -> RecordedRequest {
        self.record_with(req, &self.wire_headers(req))
    }

    fn record_with(&self, req: &OutgoingRequest, headers: &[(String, String)]) -> RecordedRequest {
        let (origin, target) = self.locate(req);
        let (body, raw_body) = match &req.body {
            Some(OutgoingBody::Json(v)) => (Some(self.redactor.json(v)), None),
            Some(OutgoingBody::Raw(s)) => (None, Some(self.redactor.raw(s))),
            None => (None, None),
        };
        RecordedRequest {
            method: req.method.clone(),
            url: self.redactor.text(&format!("{origin}{target}")),
            target: self.redactor.text(&target),
            headers: self.redactor.headers(headers),
            body,
            raw_body,
        }
    }

    /// Sends one request with the run's credential (getting a token first when needed), as a
    /// client that does not renew on a 401. Never fails: transport problems are recorded in the
    /// exchange, and a request that could not be authenticated is not sent (its exchange says
    /// why). Token requests it took are not returned; the run engine uses `send_as`.
    pub async fn send(&self, req: &OutgoingRequest) -> (Exchange, RawResponse) {
        let sent = self.send_as(req, AuthPolicy::default()).await;
        self.answer_of(req, sent)
    }

    /// The exchange a caller of `send` wants from a [`Sent`]: its answer, or the request marked
    /// as not sent, with the reason.
    fn answer_of(&self, req: &OutgoingRequest, sent: Sent) -> (Exchange, RawResponse) {
        let Sent {
            mut exchanges,
            raw,
            answer,
            refused,
        } = sent;
        if let Some(i) = answer {
            let (exchange, _) = exchanges.swap_remove(i);
            return (exchange, raw);
        }
        let why = match refused.map(|r| r.kind) {
            Some(auth::RefusalKind::Token { call, why }) => {
                format!("not sent: {} {why}", call.describe())
            }
            Some(auth::RefusalKind::NoGrant { why }) => format!("not sent: {why}"),
            _ => "not sent: no credential".to_string(),
        };
        let exchange = Exchange {
            request: self.record_request(req),
            response: None,
            error: Some(TransportError {
                kind: TransportErrorKind::Request,
                message: self.redactor.text(&why),
            }),
            simulated: false,
        };
        (exchange, RawResponse::default())
    }

    /// Sends one request with this Authorization value (or none), exactly once.
    pub(crate) async fn send_with(
        &self,
        req: &OutgoingRequest,
        authorization: Option<String>,
    ) -> (Exchange, RawResponse) {
        let headers = self.headers_with(req, authorization.as_deref());
        let recorded = self.record_with(req, &headers);
        // Inside a step the runner watches: registered while on the wire, refused after a signal.
        let ticket = match inflight::current() {
            Some(flight) => match flight.register(&recorded) {
                Some(ticket) => Some(ticket),
                None => {
                    let exchange = Exchange {
                        request: recorded,
                        response: None,
                        error: Some(TransportError {
                            kind: TransportErrorKind::Request,
                            message: "not sent: the run was interrupted".into(),
                        }),
                        simulated: false,
                    };
                    return (exchange, RawResponse::default());
                }
            },
            None => None,
        };
        let started = Instant::now();
        let progress = Progress::default();
        let result = tokio::time::timeout(
            self.config.timeout,
            self.send_inner(req, &headers, &progress),
        )
        .await;
        if let Some(ticket) = ticket {
            ticket.answered();
        }
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let fail = |kind, message: String| Exchange {
            request: recorded.clone(),
            response: None,
            error: Some(TransportError {
                kind,
                message: self.redactor.text(&message),
            }),
            simulated: false,
        };
        match result {
            Err(_) => (
                fail(
                    TransportErrorKind::Timeout,
                    progress.timeout_message(self.config.timeout),
                ),
                RawResponse::default(),
            ),
            Ok(Err((kind, message))) => (fail(kind, message), RawResponse::default()),
            Ok(Ok(wire)) => {
                let (response, raw, decode_error) = self.build_response(wire, elapsed_ms);
                let error = decode_error.map(|m| TransportError {
                    kind: TransportErrorKind::Decode,
                    message: m,
                });
                (
                    Exchange {
                        request: recorded,
                        response: Some(response),
                        error,
                        simulated: false,
                    },
                    raw,
                )
            }
        }
    }

    /// Sends one request and returns only the answer's status, headers and (decoded) body
    /// bytes — status 0: no answer — recording nothing. For `idpsim load`, which keeps of each
    /// answer a few members of its body and shows none of it: with no exchange recorded there
    /// is nothing to redact, so none of the recording's copies and scans are made. The same
    /// guards apply (timeout, body limit, decoding); `parse_body` applies the JSON ones.
    pub async fn send_raw(&self, req: &OutgoingRequest) -> RawAnswer {
        let Ok(authorization) = self.raw_credential(req).await else {
            return RawAnswer::default();
        };
        let headers = self.headers_with(req, authorization.as_deref());
        let progress = Progress::default();
        let Ok(Ok(wire)) = tokio::time::timeout(
            self.config.timeout,
            self.send_inner(req, &headers, &progress),
        )
        .await
        else {
            return RawAnswer::default();
        };
        let decoded = decode(wire.bytes, wire.truncated, &wire.headers);
        RawAnswer {
            status: wire.status,
            headers: wire.headers,
            // A cut or undecodable body is not parsed, as on the recorded path.
            body: (!decoded.truncated && decoded.decode_error.is_none()).then_some(decoded.bytes),
        }
    }

    async fn send_inner(
        &self,
        req: &OutgoingRequest,
        headers: &[(String, String)],
        progress: &Progress,
    ) -> Result<WireResponse, (TransportErrorKind, String)> {
        let (origin, target) = self.locate(req);
        let url = format!("{origin}{target}");
        let method = http::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| (TransportErrorKind::Request, format!("invalid method: {e}")))?;
        let mut builder = http::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        let body = match &req.body {
            Some(OutgoingBody::Json(v)) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            Some(OutgoingBody::Raw(s)) => Bytes::from(s.clone()),
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(body)).map_err(|e| {
            (
                TransportErrorKind::Request,
                format!("cannot build the request for {url}: {e}"),
            )
        })?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| head_error(&e))?;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        progress.head_received(status, &headers);
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| progress.body_error(&e, bytes.len()))?;
            if let Some(data) = frame.data_ref() {
                let room = BODY_LIMIT.saturating_sub(bytes.len());
                if data.len() > room {
                    bytes.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                bytes.extend_from_slice(data);
                progress.body_bytes.store(bytes.len(), Ordering::Relaxed);
            }
        }
        Ok(WireResponse {
            status,
            headers,
            bytes,
            truncated,
        })
    }

    fn build_response(
        &self,
        wire: WireResponse,
        elapsed_ms: u64,
    ) -> (RecordedResponse, RawResponse, Option<String>) {
        let size = wire.bytes.len();
        let Decoded {
            bytes,
            truncated,
            encoding,
            decode_error,
        } = decode(wire.bytes, wire.truncated, &wire.headers);
        let (json, json_error) = if bytes.is_empty() || truncated {
            (None, None)
        } else {
            match parse_json(&bytes) {
                Ok(v) => (Some(v), None),
                Err(why) => (None, Some(why_not_json(&why, &bytes, &wire.headers))),
            }
        };
        let text = if json.is_some() || bytes.is_empty() {
            None
        } else {
            let mut t = String::from_utf8_lossy(&bytes[..bytes.len().min(TEXT_LIMIT)]).into_owned();
            if bytes.len() > TEXT_LIMIT {
                t.push_str("\n[… cut by idpsim]");
            }
            Some(self.redactor.text(&t))
        };
        // Redacted first, then the parsed body moves into the raw answer: two copies at most,
        // not three, of what may be a large document.
        let redacted_body = json.as_ref().map(|v| self.redactor.json(v));
        let raw = RawResponse {
            status: wire.status,
            headers: wire.headers.clone(),
            body: json,
        };
        let response = RecordedResponse {
            status: wire.status,
            headers: self.redactor.headers(&wire.headers),
            body: redacted_body,
            text,
            size,
            elapsed_ms,
            truncated,
            content_encoding: encoding,
            json_error,
        };
        (response, raw, decode_error)
    }

    /// Connects once to learn whether the target is there at all (exit 3 if not).
    /// Returns the (redacted) exchange, so capability gating reads the same document.
    pub async fn preflight(&self) -> Result<Exchange, Error> {
        let req = OutgoingRequest::new("GET", "/ServiceProviderConfig")
            .header("Accept", "application/scim+json");
        // No token is fetched for this: the run's first scenario does that, so the token
        // exchange is judged and reported with it.
        let (exchange, _) = self.send_with(&req, self.session.issued_header()).await;
        match &exchange.error {
            // Only a failed connection (refused, DNS, TLS) means unreachable; a slow server is
            // reachable, and its timeouts become findings on the steps that meet them.
            Some(TransportError {
                kind: TransportErrorKind::Connect,
                message,
            }) => Err(Error::Unreachable {
                url: self.base.display(),
                cause: message.clone(),
            }),
            _ => Ok(exchange),
        }
    }
}

/// A body as received, decompressed when its Content-Encoding says so.
struct Decoded {
    bytes: Vec<u8>,
    truncated: bool,
    /// `gzip` or `deflate` when the body was compressed on the wire.
    encoding: Option<String>,
    decode_error: Option<String>,
}

fn decode(raw: Vec<u8>, truncated: bool, headers: &[(String, String)]) -> Decoded {
    let encoding = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .filter(|v| v != "identity");
    let mut truncated = truncated;
    let mut decode_error = None;
    let bytes = match encoding.as_deref() {
        Some(enc @ ("gzip" | "x-gzip" | "deflate")) => match decompress(enc, &raw) {
            Ok((b, cut)) => {
                truncated |= cut;
                b
            }
            Err(e) => {
                decode_error = Some(format!(
                    "the body says Content-Encoding: {enc} but does not decode: {e}"
                ));
                raw
            }
        },
        _ => raw,
    };
    Decoded {
        bytes,
        truncated,
        encoding,
        decode_error,
    }
}

struct WireResponse {
    status: u16,
    headers: Vec<(String, String)>,
    bytes: Vec<u8>,
    truncated: bool,
}

/// How far an answer got, shared with `send` so that a timeout can say where it struck.
#[derive(Default)]
struct Progress {
    /// 0 until the status line and headers are in.
    status: AtomicU16,
    body_bytes: AtomicUsize,
    /// The announced Content-Length; `u64::MAX` when there is none.
    content_length: AtomicU64,
    chunked: AtomicBool,
}

impl Progress {
    fn head_received(&self, status: u16, headers: &[(String, String)]) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_ascii_lowercase())
        };
        let length = header("content-length").and_then(|v| v.parse().ok());
        self.content_length
            .store(length.unwrap_or(u64::MAX), Ordering::Relaxed);
        self.chunked.store(
            header("transfer-encoding").is_some_and(|v| v.contains("chunked")),
            Ordering::Relaxed,
        );
        self.status.store(status, Ordering::Relaxed);
    }

    /// "201 and 40 of the 400 bytes its Content-Length announced", or `None` before the head.
    fn so_far(&self, body_bytes: usize) -> Option<String> {
        let status = self.status.load(Ordering::Relaxed);
        if status == 0 {
            return None;
        }
        let length = self.content_length.load(Ordering::Relaxed);
        Some(if self.chunked.load(Ordering::Relaxed) {
            format!("status {status} and {body_bytes} bytes of a chunked body")
        } else if length != u64::MAX {
            format!("status {status} and {body_bytes} of the {length} bytes its Content-Length announced")
        } else {
            format!("status {status} and {body_bytes} bytes of the body")
        })
    }

    fn timeout_message(&self, timeout: Duration) -> String {
        match self.so_far(self.body_bytes.load(Ordering::Relaxed)) {
            None => format!("timed out: no answer within {timeout:?}"),
            Some(got) => {
                format!("timed out: the server sent {got}, then nothing more within {timeout:?}")
            }
        }
    }

    /// Names what broke while the body was being read: a cut, broken chunking, a reset.
    fn body_error(&self, e: &hyper::Error, read: usize) -> (TransportErrorKind, String) {
        let chain = error_chain(e);
        let got = self.so_far(read).unwrap_or_default();
        let chunked = self.chunked.load(Ordering::Relaxed);
        if has_io_kind(e, std::io::ErrorKind::ConnectionReset) {
            (
                TransportErrorKind::Reset,
                format!("the connection was reset by the server after {got} ({chain})"),
            )
        } else if chunked && !e.is_incomplete_message() && !is_unexpected_eof(e) {
            (
                TransportErrorKind::Protocol,
                format!("the chunked body is broken after {read} bytes: {chain}"),
            )
        } else if e.is_incomplete_message() || is_unexpected_eof(e) {
            let what = if chunked {
                "before the last chunk of its chunked body"
            } else {
                "before the body was complete"
            };
            (
                TransportErrorKind::Truncated,
                format!("the body is truncated: the connection closed {what}; idpsim got {got} ({chain})"),
            )
        } else {
            (
                TransportErrorKind::Reset,
                format!("the connection broke while reading the body, after {got}: {chain}"),
            )
        }
    }
}

/// Names what went wrong before a status line and headers were read.
fn head_error(e: &hyper_util::client::legacy::Error) -> (TransportErrorKind, String) {
    let chain = error_chain(e);
    if e.is_connect() {
        return (TransportErrorKind::Connect, chain);
    }
    let hyper_error = find_source::<hyper::Error>(e);
    let is = |check: fn(&hyper::Error) -> bool| hyper_error.is_some_and(check);
    if is(hyper::Error::is_parse_too_large) {
        (
            TransportErrorKind::Protocol,
            format!("the response headers are too large or too many: an HTTP client reads at most a few hundred KiB of status line and headers, and about a hundred headers ({chain})"),
        )
    } else if is(hyper::Error::is_parse_status) {
        (
            TransportErrorKind::Protocol,
            format!("the status line is not valid HTTP: {chain}"),
        )
    } else if is(hyper::Error::is_parse) {
        (
            TransportErrorKind::Protocol,
            format!("the answer is not valid HTTP: {chain}"),
        )
    } else if has_io_kind(e, std::io::ErrorKind::ConnectionReset) {
        (
            TransportErrorKind::Reset,
            format!("the connection was reset by the server before it answered ({chain})"),
        )
    } else if is(hyper::Error::is_incomplete_message) {
        (
            TransportErrorKind::Reset,
            format!("the server closed the connection without a complete answer ({chain})"),
        )
    } else {
        (TransportErrorKind::Reset, chain)
    }
}

/// The first error of type `T` in the source chain.
fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        cur = err.source();
    }
    None
}

fn has_io_kind(e: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    find_source::<std::io::Error>(e).is_some_and(|io| io.kind() == kind)
}

fn is_unexpected_eof(e: &(dyn std::error::Error + 'static)) -> bool {
    has_io_kind(e, std::io::ErrorKind::UnexpectedEof)
}

/// Bodies whose parse would cost more than this many units (see `parse_cost`) are not parsed:
/// parsed JSON costs far more than its text, and two copies are held (raw and redacted), so 12 MB
/// of `[0,0,0,…]` took 1.7 GiB and 2 MB of `[{"a":0},…]` 587 MiB. A real page of 100 users costs
/// a few thousand; a 10 MB page of 40,000 users about 840,000.
pub const MAX_JSON_COST: usize = 1_000_000;

pub(crate) enum NotJson {
    TooCostly(usize),
    Syntax(serde_json::Error),
}

/// What parsing `bytes` would cost, in units of about one small value, and whether it nests
/// deeper than serde_json's recursion limit. Outside strings, every value but the first follows
/// a `,` or opens a container, each object member (`:`) is an entry in a map, and each object is
/// a map of its own, the dearest.
fn parse_cost(bytes: &[u8]) -> (usize, bool) {
    let (mut cost, mut depth, mut too_deep) = (1usize, 0usize, false);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            // A string is skipped to its closing quote (past escaped characters) in one scan:
            // it is most of a body's bytes, and its content costs nothing.
            b'"' => loop {
                let rest = bytes.get(i..).unwrap_or_default();
                match rest.iter().position(|&c| c == b'"' || c == b'\\') {
                    None => {
                        i = bytes.len();
                        break;
                    }
                    Some(p) => {
                        let quote = rest[p] == b'"';
                        // A backslash escapes the byte after it.
                        i += p + if quote { 1 } else { 2 };
                        if quote {
                            break;
                        }
                    }
                }
            },
            b'{' | b'[' => {
                cost += if b == b'{' { 8 } else { 1 };
                depth += 1;
                too_deep |= depth > 128;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b':' => cost += 2,
            b',' => cost += 1,
            _ => {}
        }
    }
    (cost, too_deep)
}

/// Header names and values as recorded: values that are not UTF-8 are read lossily, never
/// dropped, so a report shows what the peer sent.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, NotJson> {
    let (cost, too_deep) = parse_cost(bytes);
    // Too deep fails in serde_json at level 128, cheaply and with the words that say why.
    if cost > MAX_JSON_COST && !too_deep {
        return Err(NotJson::TooCostly(cost));
    }
    serde_json::from_slice(bytes).map_err(NotJson::Syntax)
}

/// Why a body is not JSON, as a clause a finding can quote ("the body is …").
pub(crate) fn why_not_json(why: &NotJson, bytes: &[u8], headers: &[(String, String)]) -> String {
    let e = match why {
        NotJson::TooCostly(cost) => {
            return format!(
                "the body is {:.1} MiB of JSON too dense to parse safely (about {cost} values and members, over idpsim's guard of {MAX_JSON_COST}): parsed, it would take hundreds of MiB",
                bytes.len() as f64 / (1024.0 * 1024.0)
            )
        }
        NotJson::Syntax(e) => e,
    };
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &bytes[i..])
        .unwrap_or_default();
    if start.starts_with(b"<") {
        return "the body is an HTML page (or XML), not JSON".into();
    }
    if let Err(utf8) = std::str::from_utf8(bytes) {
        return format!(
            "the body is not valid JSON: invalid UTF-8 at byte {} ({e})",
            utf8.valid_up_to()
        );
    }
    if e.to_string().contains("recursion limit") {
        return format!("the body is JSON nested deeper than the 128 levels parsers accept ({e})");
    }
    if e.classify() == serde_json::error::Category::Eof {
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| format!(", all that its Content-Length: {} announced", v.trim()))
            .unwrap_or_default();
        return format!(
            "the body stops in the middle of a JSON value after {} bytes{length} ({e})",
            bytes.len()
        );
    }
    format!("the body is not JSON ({e})")
}

fn decompress(encoding: &str, data: &[u8]) -> std::io::Result<(Vec<u8>, bool)> {
    use std::io::Read;
    let reader: Box<dyn Read> = if encoding == "deflate" {
        // Servers send both zlib-wrapped and raw deflate under this name; try zlib first.
        if data.first() == Some(&0x78) {
            Box::new(flate2::read::ZlibDecoder::new(data))
        } else {
            Box::new(flate2::read::DeflateDecoder::new(data))
        }
    } else {
        Box::new(flate2::read::GzDecoder::new(data))
    };
    let mut out = Vec::new();
    let n = reader.take(BODY_LIMIT as u64 + 1).read_to_end(&mut out)?;
    let cut = n > BODY_LIMIT;
    out.truncate(BODY_LIMIT);
    Ok((out, cut))
}

/// The whole cause chain, so "connection refused" or the TLS reason reaches the person; a TLS
/// failure says so first, since rustls' own words ("corrupt message of type …") do not.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut tls = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        tls |= is_tls_error(s);
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    let chain = parts.join(": ");
    match find_rustls(e).and_then(tls_explanation) {
        // rustls' own words are then a Rust value, which says nothing more.
        Some(why) => format!("TLS handshake failed: {why}"),
        None if tls => format!("TLS handshake failed: {chain}"),
        None => chain,
    }
}

/// The rustls error in this error's chain, including inside (nested) `io::Error`s.
fn find_rustls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        if let Some(found) = s.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(found) = find_rustls(inner) {
                return Some(found);
            }
        }
        cur = s.source();
    }
    None
}

/// What a certificate refusal means and what to do, where rustls' words are a Rust value
/// (`Other(OtherError(CaUsedAsEndEntity))`).
fn tls_explanation(e: &rustls::Error) -> Option<&'static str> {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return None;
    };
    // webpki's reason comes wrapped in `Other`; its name is the only stable handle on it.
    if format!("{cert:?}").contains("CaUsedAsEndEntity") {
        return Some(
            "the server presents a CA certificate (basicConstraints CA:TRUE) as its own certificate, which certificate verification refuses even when that CA is trusted with --cacert; give the server a certificate without CA:TRUE (for example one signed by that CA, and pass the CA with --cacert), or use --insecure for a test server",
        );
    }
    None
}

/// Whether a rustls error hides in this error, including inside (nested) `io::Error`s, whose
/// `source()` skips their inner error.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    match e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => is_tls_error(inner),
        None => false,
    }
}

/// The TLS client settings every outgoing connection uses: the system's roots (Mozilla's
/// bundled ones when there are none) plus `--cacert`, or no verification with `--insecure`.
pub(crate) fn tls_config(
    insecure: bool,
    cacert: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS setup: {e}")))?;
    if insecure {
        // A --cacert that cannot be read is a mistake whether or not it is used: the same
        // command without --insecure would fail on it.
        if cacert.is_some() {
            root_store(cacert)?;
        }
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth());
    }
    let (roots, _) = root_store(cacert)?;
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Whether every URL this transport may call is plain http: the target and, for OAuth, the
/// token and authorization endpoints (requested through the same client). `--cacert` is
/// checked whatever the scheme, so a bad file is an error either way.
fn plain_http_only(base: &BaseUrl, config: &TransportConfig) -> bool {
    let http = |url: &str| url.trim_start().to_ascii_lowercase().starts_with("http://");
    let oauth_http = match &config.auth {
        Auth::OAuth(c) => {
            http(&c.token_url)
                && match &c.grant {
                    auth::Grant::AuthorizationCode(g) => {
                        g.authorize_url.as_deref().is_none_or(http)
                    }
                    auth::Grant::ClientCredentials => true,
                }
        }
        _ => true,
    };
    base.origin.starts_with("http://") && config.cacert.is_none() && oauth_http
}

/// The TLS settings of a client that only speaks plain HTTP: no roots, so any handshake fails.
fn plain_http_tls_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS setup: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// Secrets a target URL can carry: the userinfo password (`https://user:pw@host`) and the values
/// of query parameters named like credentials (`?token=…`, `?api_key=…`). They are redacted
/// like the token, wherever the URL is shown.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if let Some((_, password)) = userinfo.split_once(':') {
            out.push(password.to_string());
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                let k = k.to_ascii_lowercase();
                let secret = [
                    "token", "key", "secret", "password", "passwd", "pwd", "sig", "auth", "code",
                ]
                .iter()
                .any(|w| k.contains(w));
                if secret && !v.is_empty() {
                    out.push(v.to_string());
                }
            }
        }
    }
    out
}

/// Where the trusted roots came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// The system's CA bundle (SSL_CERT_FILE / SSL_CERT_DIR or the platform's default paths).
    System,
    /// Mozilla's roots compiled into idpsim: the system has no usable bundle.
    Bundled,
}

/// The system's CA bundle when there is one; Mozilla's bundled roots when there is none (minimal
/// containers and CI images often ship without a bundle); plus `--cacert`.
pub fn root_store(
    cacert: Option<&std::path::Path>,
) -> Result<(rustls::RootCertStore, RootSource), Error> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    let source = if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        RootSource::Bundled
    } else {
        RootSource::System
    };
    if let Some(path) = cacert {
        use rustls_pki_types::pem::PemObject;
        let bad =
            |e: &dyn std::fmt::Display| Error::Usage(format!("--cacert {}: {e}", path.display()));
        let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(&e))?;
        if certs.is_empty() {
            return Err(bad(&"no PEM certificate in this file"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(&e))?;
        }
    }
    Ok((roots, source))
}

/// `--insecure`: accept any certificate (signatures are still checked for the handshake).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// An error about the target, with the URL's and the auth's secrets masked (`cannot reach
/// https://user:[redacted]@host/…`): the error goes to stderr, which CI logs keep.
pub fn without_secrets(err: Error, transport: &Transport) -> Error {
    match err {
        Error::Unreachable { url, cause } => Error::Unreachable {
            url: transport.redactor().text(&url),
            cause: transport.redactor().text(&cause),
        },
        other => other,
    }
}

/// `--insecure` is printed on every run, on stderr (stdout may be a report a machine reads): a
/// setting copied from a test job into production should not go unnoticed.
pub fn warn_insecure(target: &str) {
    let shown = crate::support::redact::url(target);
    eprintln!(
        "warning: --insecure: TLS certificate verification is OFF for {shown}; anyone on the network path can impersonate the server and read the token"
    );
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_scim_errors_detail_is_read_only_when_it_is_a_string() {
        let raw = |body: Option<serde_json::Value>| RawResponse {
            status: 400,
            headers: Vec::new(),
            body,
        };
        let with = raw(Some(
            serde_json::json!({"status": "400", "detail": "bad filter"}),
        ));
        assert_eq!(with.scim_detail(), Some("bad filter"));
        assert_eq!(with.detail_suffix(), ": bad filter");
        for body in [
            None,
            Some(serde_json::json!({"status": "400"})),
            Some(serde_json::json!({"detail": 7})),
            Some(serde_json::json!("detail")),
            Some(serde_json::json!({"status": 501, "detail": ""})),
            Some(serde_json::json!({"detail": "  "})),
        ] {
            let r = raw(body);
            assert_eq!(r.scim_detail(), None);
            assert_eq!(r.detail_suffix(), "");
        }
    }
    use super::*;

    #[test]
    fn without_a_system_bundle_the_bundled_roots_are_used() {
        // rustls-native-certs reads these; pointing them at nothing is a machine without a bundle.
        let empty = std::env::temp_dir().join(format!("idpsim-no-ca-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&empty);
        std::env::set_var("SSL_CERT_FILE", empty.join("none.pem"));
        std::env::set_var("SSL_CERT_DIR", &empty);
        let result = root_store(None);
        std::env::remove_var("SSL_CERT_FILE");
        std::env::remove_var("SSL_CERT_DIR");
        let (roots, source) = result.expect("roots");
        assert_eq!(source, RootSource::Bundled);
        assert!(
            roots.len() > 100,
            "Mozilla's roots are bundled ({} found)",
            roots.len()
        );
    }

    #[test]
    fn cacert_problems_are_usage_errors() {
        let missing = root_store(Some(std::path::Path::new("/nonexistent/ca.pem")));
        assert!(matches!(missing, Err(Error::Usage(m)) if m.contains("/nonexistent/ca.pem")));
        let dir = std::env::temp_dir().join(format!("idpsim-ca-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").expect("write");
        let err = root_store(Some(&not_pem));
        assert!(matches!(err, Err(Error::Usage(m)) if m.contains("no PEM certificate")));
    }

    #[test]
    fn credentials_from_the_flags() {
        assert!(matches!(Auth::from_flags(Some("t0k"), None), Ok(Auth::Bearer(t)) if t == "t0k"));
        assert!(matches!(Auth::from_flags(Some(""), None), Ok(Auth::None)));
        assert!(
            matches!(Auth::from_flags(None, Some("u:p:q")), Ok(Auth::Basic { user, password }) if user == "u" && password == "p:q")
        );
        assert!(matches!(
            Auth::from_flags(None, Some("nocolon")),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn secrets_in_the_target_url_are_found() {
        assert_eq!(
            url_secrets(
                "https://admin:s3cret-pw@app.test/scim/v2?aadOptscim062020&api_key=k-123&x=1"
            ),
            vec!["s3cret-pw".to_string(), "k-123".to_string()]
        );
        assert!(url_secrets("https://app.test/scim/v2?aadOptscim062020").is_empty());
    }

    #[test]
    fn parse_cost_matches_a_byte_by_byte_scan() {
        fn reference(bytes: &[u8]) -> (usize, bool) {
            let (mut cost, mut depth, mut too_deep) = (1usize, 0usize, false);
            let (mut in_string, mut escaped) = (false, false);
            for b in bytes {
                if in_string {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => {
                        cost += if *b == b'{' { 8 } else { 1 };
                        depth += 1;
                        too_deep |= depth > 128;
                    }
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    b':' => cost += 2,
                    b',' => cost += 1,
                    _ => {}
                }
            }
            (cost, too_deep)
        }
        for text in [
            r#"{"a":"b\"c","d":[1,2,{"e":"\\"}],"f":"x"}"#,
            r#"{"a":"unterminated"#,
            r#"["ends with a backslash\"#,
            r#""\"#,
            r#"{"k":"v"},{"#,
            "",
            "\"",
        ] {
            assert_eq!(
                parse_cost(text.as_bytes()),
                reference(text.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn parse_cost_skips_strings_and_flags_depth() {
        // Structural bytes inside strings cost nothing; the object, its member and the array do.
        assert_eq!(parse_cost(br#"{"a{":"[,:\"{"}"#), (1 + 8 + 2, false));
        assert_eq!(parse_cost(b"[0,0,0]"), (1 + 1 + 2, false));
        assert!(parse_cost("[".repeat(129).as_bytes()).1);
        assert!(!parse_cost("[".repeat(128).as_bytes()).1);
    }

    #[test]
    fn why_a_body_is_not_json_is_named() {
        let why = |bytes: &[u8]| match parse_json(bytes) {
            Ok(_) => String::from("parsed"),
            Err(e) => why_not_json(&e, bytes, &[("Content-Length".into(), "9".into())]),
        };
        assert!(why(b"  <html>").contains("HTML page"));
        assert!(why(b"{\"a\":\"\xff\"}").contains("invalid UTF-8 at byte 6"));
        assert!(why("[".repeat(200).as_bytes()).contains("nested deeper than the 128 levels"));
        assert!(why(br#"{"id":"1""#).contains("Content-Length: 9"));
        let dense = format!("[{}0]", "0,".repeat(MAX_JSON_COST));
        assert!(why(dense.as_bytes()).contains("too dense"));
        assert_eq!(why(br#"{"id":"1"}"#), "parsed");
    }

    #[test]
    fn base_url_carries_its_query() {
        let b = BaseUrl::parse("https://api.test/scim/v2/?aadOptscim062020").expect("url");
        assert_eq!(b.join("/Users"), "/scim/v2/Users?aadOptscim062020");
        assert_eq!(
            b.join("/Users?filter=x"),
            "/scim/v2/Users?filter=x&aadOptscim062020"
        );
        let plain = BaseUrl::parse("http://127.0.0.1:8080").expect("url");
        assert_eq!(plain.join("/Users"), "/Users");
        assert!(BaseUrl::parse("ftp://x").is_err());
        assert!(BaseUrl::parse("not a url").is_err());
    }
}
