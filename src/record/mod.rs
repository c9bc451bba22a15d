//! Record, import and replay: turning real SCIM traffic into a replayable scenario.
//!
//! Every source of traffic — the recording proxy (`proxy`), HAR files and JSON-lines captures
//! (`import`) — produces [`Captured`] exchanges and feeds them, in order, to one [`Recorder`],
//! which writes the scenario as it goes:
//!
//! - The file is valid YAML after every exchange: the header (name, source, tags) is written
//!   with the first exchange and `steps:` is its last key, so each exchange appends one complete
//!   list item, then the file is flushed and fsynced. A SIGKILL loses nothing already forwarded.
//! - Steps are raw `request:` steps under `idp: generic`: a recording replays exactly what the
//!   client sent. The IdP recognised from the traffic (Okta, Entra) goes into `tags:` and
//!   `description:`, not into `idp:`, because an `idp: okta` scenario would be judged as if idpsim
//!   had generated the traffic.
//! - Ids the server assigned (a POST answer's `id`) become captures (`user_1: /id`) and every later
//!   occurrence becomes `{{ user_1 }}`, so the replay works on a fresh server.
//! - Expectations keep the status and a body subset without volatile fields (meta timestamps,
//!   versions, `$ref`/`location` URLs, assigned ids).
//! - Secrets never reach the file: Authorization-like headers are dropped, the credentials seen
//!   in them are redacted wherever they appear, and `password`-like members are redacted.

pub mod emit;
pub mod import;
pub mod proxy;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::support::redact::{Redactor, REDACTED};
use emit::Y;

/// A request/response body as captured.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json(Value),
    Text(String),
}

impl Body {
    /// JSON when the bytes are JSON, else (lossy) text; `None` when empty.
    pub fn from_bytes(bytes: &[u8]) -> Option<Body> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Some(Body::Json(v)),
            Err(_) => Some(Body::Text(String::from_utf8_lossy(bytes).into_owned())),
        }
    }
    fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            Body::Text(_) => None,
        }
    }
}

/// One exchange as a client sent it and the server answered, before any rewriting.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// Path and query relative to the SCIM base URL (`/Users?filter=…`).
    pub path: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Body>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<Body>,
}

impl Captured {
    fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The IdP a recording's traffic comes from, with the evidence for the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Recognition {
    pub idp: crate::scenario::Idp,
    pub evidence: String,
    /// 0: nothing telling; 1: a missing User-Agent alone; 2: a fingerprint (Okta's
    /// User-Agent, Entra's op casing, flag, GUID filter or group schema).
    pub strength: u8,
}

/// Recognises the IdP from one exchange: Okta by its User-Agent; Entra by the absence of a
/// User-Agent together with its fingerprints (capitalised PATCH ops, `aadOptscim062020`, the
/// Test Connection GUID filter, the ADSCIM group schema), or by the missing User-Agent alone.
pub fn recognise(ex: &Captured) -> Recognition {
    use crate::scenario::Idp;
    let ua = ex.request_header("user-agent");
    // idpsim's own User-Agent marks a replay: judge it by the bodies alone.
    let replayed = ua.is_some_and(|u| u.starts_with("idpsim/"));
    if let Some(ua) = ua.filter(|_| !replayed) {
        if ua.to_ascii_lowercase().contains("okta") {
            return Recognition {
                idp: Idp::Okta,
                evidence: format!("User-Agent `{ua}` (Okta and SCIM Version 2.0: https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20)"),
                strength: 2,
            };
        }
        return Recognition {
            idp: Idp::Generic,
            evidence: format!("User-Agent `{ua}` is neither Okta's nor absent as Entra's"),
            strength: 0,
        };
    }
    let mut signs = Vec::new();
    if ex.path.contains("aadOptscim062020") {
        signs.push("`aadOptscim062020` in the query (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility)");
    }
    if let Some(body) = ex.request_body.as_ref().and_then(Body::json) {
        let capitalised = body
            .get("Operations")
            .and_then(Value::as_array)
            .is_some_and(|ops| {
                ops.iter().any(|o| {
                    o.get("op")
                        .and_then(Value::as_str)
                        .is_some_and(|op| op.starts_with(|c: char| c.is_ascii_uppercase()))
                })
            });
        if capitalised {
            signs.push("capitalised PATCH ops (https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility)");
        }
        if body
            .to_string()
            .contains("schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM")
        {
            signs.push("the ADSCIM group schema (Create Group, https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups)");
        }
    }
    if is_guid_filter(&ex.path) {
        signs.push("the Test Connection filter on a random GUID (https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups)");
    }
    let who = if replayed {
        "idpsim's User-Agent (a replay)"
    } else {
        "no User-Agent header"
    };
    match (signs.is_empty(), replayed) {
        (true, true) => Recognition {
            idp: Idp::Generic,
            evidence: format!("{who} and no IdP fingerprint"),
            strength: 0,
        },
        (true, false) => Recognition {
            idp: Idp::Entra,
            evidence: format!(
                "{who} (Entra sends none: https://github.com/kortix-ai/suna/pull/7297)"
            ),
            strength: 1,
        },
        (false, _) => Recognition {
            idp: Idp::Entra,
            evidence: format!("{who} and {}", signs.join(", ")),
            strength: 2,
        },
    }
}

fn is_guid_filter(path: &str) -> bool {
    let Some((_, query)) = path.split_once('?') else {
        return false;
    };
    let decoded = percent_encoding::percent_decode_str(&query.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned();
    let Some(rest) = decoded.split("eq \"").nth(1) else {
        return false;
    };
    let value: String = rest.chars().take_while(|c| *c != '"').collect();
    value.len() == 36
        && value.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// What the header of a recorded scenario says.
#[derive(Clone, Debug)]
pub struct Meta {
    pub name: String,
    /// Where the traffic came from (`idpsim record --upstream …`, a HAR file, …).
    pub source: String,
}

/// Headers a replay must not carry over: hop-by-hop, framing, and credentials.
const DROPPED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
];

/// Members of an answer that differ from server to server or from run to run.
const VOLATILE_KEYS: &[&str] = &[
    "created",
    "lastModified",
    "version",
    "location",
    "$ref",
    "password",
];

/// Writes a scenario exchange by exchange; see the module docs for the guarantees.
pub struct Recorder {
    out: Box<dyn Write + Send>,
    /// fsync after each exchange (a real file) — skipped for in-memory writers.
    file: Option<std::fs::File>,
    meta: Meta,
    header_written: bool,
    /// Server-assigned ids and the capture names standing for them, longest id first.
    ids: Vec<(String, String)>,
    counters: std::collections::HashMap<String, usize>,
    /// Credentials seen in Authorization headers, redacted wherever they appear.
    secrets: Vec<String>,
    pub recognition: Option<Recognition>,
    /// The verdict the header was written with.
    first_recognition: Option<Recognition>,
    pub exchanges: usize,
    /// The credential the recorded client authenticates with: the first one the server did not
    /// refuse. Kept in memory only, to tell a request made with another credential (or none),
    /// which is replayed as such (`auth: invalid` / `auth: none`); never written.
    credential: Option<String>,
    /// URLs the recording knows as the SCIM base (the upstream, the proxy's own address), longest
    /// first: in request bodies and headers they become `{{ base_href }}`, so a replay does not
    /// send a member's `$ref` or an echoed `meta.location` pointing at the recorded host.
    bases: Vec<String>,
}

/// How a recorded request authenticated, compared with the recording's credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialUse {
    /// The recording's credential: the replay sends the run's.
    Usual,
    /// No credential at all: the replay sends none (`auth: none`).
    Missing,
    /// Another credential, refused by the server: the replay sends an invalid one (`auth: invalid`).
    Other,
}

/// The credential a request carries (the value of its first credential header).
fn credential_of(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "authorization" | "x-api-key" | "api-key" | "x-auth-token"
            )
        })
        .map(|(_, v)| v.trim().to_string())
}

impl Recorder {
    /// Creates (truncates) `path`; nothing is written until the first exchange.
    pub fn create(path: &Path, meta: Meta) -> std::io::Result<Recorder> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::File::create(path)?;
        let sync = file.try_clone()?;
        Ok(Recorder::with_writer(Box::new(file), Some(sync), meta))
    }

    pub fn with_writer(
        out: Box<dyn Write + Send>,
        file: Option<std::fs::File>,
        meta: Meta,
    ) -> Recorder {
        Recorder {
            out,
            file,
            meta,
            header_written: false,
            ids: Vec::new(),
            counters: Default::default(),
            secrets: Vec::new(),
            recognition: None,
            first_recognition: None,
            exchanges: 0,
            credential: None,
            bases: Vec::new(),
        }
    }

    /// Adds a URL the recording knows as the SCIM base (see `bases`).
    pub fn add_base(&mut self, url: &str) {
        let url = url.split('?').next().unwrap_or(url).trim_end_matches('/');
        if url.contains("://") && !self.bases.iter().any(|b| b == url) {
            self.bases.push(url.to_string());
            self.bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
        }
    }

    /// Classifies the request's credential. A request without one that the server refused is
    /// replayed without; a different credential the server refused is replayed with an invalid
    /// one. A different credential the
    /// server accepted (a rotated token) is replayed with the run's, like the usual one.
    fn credential_use(&mut self, ex: &Captured) -> CredentialUse {
        let refused = matches!(ex.status, 401 | 403);
        match (credential_of(&ex.request_headers), &self.credential) {
            // Accepted without a credential: the run's is accepted as well (and captures often
            // strip Authorization), so only a refused request replays without one.
            (None, _) if refused => CredentialUse::Missing,
            (None, _) => CredentialUse::Usual,
            (Some(c), Some(usual)) if c == *usual => CredentialUse::Usual,
            (Some(_), _) if refused => CredentialUse::Other,
            (Some(c), None) => {
                self.credential = Some(c);
                CredentialUse::Usual
            }
            (Some(_), Some(_)) => CredentialUse::Usual,
        }
    }

    /// Appends one exchange as a step and makes it durable before returning.
    pub fn add(&mut self, ex: &Captured) -> std::io::Result<()> {
        self.learn_secrets(&ex.request_headers);
        let mut text = String::new();
        if !self.header_written {
            let rec = recognise(ex);
            text.push_str(&self.header(&rec));
            self.first_recognition = Some(rec.clone());
            self.recognition = Some(rec);
            self.header_written = true;
        } else if let Some(prev) = &self.recognition {
            // A later exchange can be more telling (a first request without any fingerprint);
            // the header is already on disk, so the better verdict is noted as a comment now
            // and put into the header by `finish` on a clean stop.
            let rec = recognise(ex);
            if rec.strength > prev.strength && rec.idp != prev.idp {
                text.push_str(&format!(
                    "  # idp: {} recognised from exchange {}: {}\n",
                    rec.idp.name(),
                    self.exchanges + 1,
                    rec.evidence
                ));
                self.recognition = Some(rec);
            }
        }
        self.exchanges += 1;
        let credential = self.credential_use(ex);
        text.push_str(&format!(
            "  # exchange {}: {} {} → {}{}\n",
            self.exchanges,
            ex.method,
            self.redactor().text(&ex.path),
            ex.status,
            match credential {
                CredentialUse::Usual => "",
                CredentialUse::Missing => " (sent without a credential: replayed without one)",
                CredentialUse::Other => " (sent with another credential, refused: replayed with an invalid one; none is kept)",
            }
        ));
        let mut step = self.step(ex);
        if let Y::Map(entries) = &mut step {
            if let Some((_, Y::Map(request))) = entries.iter_mut().find(|(k, _)| k == "request") {
                match credential {
                    CredentialUse::Usual => {}
                    CredentialUse::Missing => {
                        request.push(("auth".into(), Y::Plain("none".into())))
                    }
                    CredentialUse::Other => {
                        request.push(("auth".into(), Y::Plain("invalid".into())))
                    }
                }
            }
        }
        let mut list = String::new();
        emit::write_block(&mut list, &Y::Seq(vec![step]), 2);
        text.push_str(&list);
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        if let Some(f) = &self.file {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Ends the recording; an empty one still becomes a valid scenario (with no steps). When a
    /// later exchange recognised the IdP better than the first, `path`'s header is rewritten
    /// (write to a temporary file, then rename, so the file is never half-written).
    pub fn finish_file(&mut self, path: &Path) -> std::io::Result<()> {
        self.finish()?;
        let (Some(first), Some(best)) = (&self.first_recognition, &self.recognition) else {
            return Ok(());
        };
        if first == best {
            return Ok(());
        }
        let text = std::fs::read_to_string(path)?;
        let old = self.header(first);
        let new = self.header(best);
        if !text.starts_with(&old) {
            return Ok(());
        }
        let tmp = path.with_extension("yaml.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(new.as_bytes())?;
            f.write_all(&text.as_bytes()[old.len()..])?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// Ends the recording; an empty one still becomes a valid scenario (with no steps).
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.header_written {
            let rec = Recognition {
                idp: crate::scenario::Idp::Generic,
                evidence: "no traffic was recorded".into(),
                strength: 0,
            };
            let mut text = self.header(&rec);
            text = text.trim_end().to_string();
            text.push_str(" []\n");
            self.out.write_all(text.as_bytes())?;
            self.header_written = true;
        }
        self.out.flush()?;
        if let Some(f) = &self.file {
            f.sync_all()?;
        }
        Ok(())
    }

    fn header(&self, rec: &Recognition) -> String {
        let mut tags = vec![Y::Str("recorded".into())];
        if rec.idp != crate::scenario::Idp::Generic {
            tags.push(Y::Str(rec.idp.name().into()));
        }
        let description = format!(
            "Recorded traffic, replayed as raw requests. Client recognised as {}: {}.",
            rec.idp.name(),
            rec.evidence
        );
        let head = Y::map()
            .with("version", Y::Plain("1".into()))
            .with("name", Y::Str(self.meta.name.clone()))
            .with("description", Y::Str(description))
            .with("idp", Y::Plain("generic".into()))
            .with("tags", Y::Seq(tags))
            .with("source", Y::Str(self.redactor().text(&self.meta.source)));
        format!(
            "# Written by idpsim {} as the traffic happened: every exchange is a complete step.\n\
             # Replay: idpsim run THIS_FILE --target URL   (secrets are redacted; ids are captured)\n{}steps:\n",
            env!("CARGO_PKG_VERSION"),
            emit::document(&head)
        )
    }

    fn learn_secrets(&mut self, headers: &[(String, String)]) {
        for (k, v) in headers {
            let lower = k.to_ascii_lowercase();
            if !DROPPED_HEADERS[..6].contains(&lower.as_str()) {
                continue;
            }
            let credential = v
                .split_once(' ')
                .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest.trim()))
                .unwrap_or_else(|| (String::new(), v.trim()));
            let mut found = vec![credential.1.to_string(), v.trim().to_string()];
            if credential.0 == "basic" {
                if let Some(decoded) = decode_base64(credential.1) {
                    if let Some((_, password)) = decoded.split_once(':') {
                        found.push(password.to_string());
                    }
                    found.push(decoded);
                }
            }
            for s in found {
                if s.len() >= 4 && !self.secrets.contains(&s) {
                    self.secrets.push(s);
                }
            }
        }
    }

    fn redactor(&self) -> Redactor {
        Redactor::new(self.secrets.clone())
    }

    /// Replaces known server-assigned ids in a string by their capture templates.
    /// Recorded base URLs → `{{ base_href }}` (in text already escaped for templates).
    fn rebase(&self, s: &str) -> String {
        let mut out = s.to_string();
        for base in &self.bases {
            if out.contains(base.as_str()) {
                out = out.replace(base.as_str(), "{{ base_href }}");
            }
        }
        out
    }

    fn templatize(&self, s: &str) -> String {
        let mut out = self.rebase(&escape_template(s));
        for (id, name) in &self.ids {
            let t = format!("{{{{ {name} }}}}");
            if out == *id {
                return t;
            }
            // Short ids ("1", "42") would match inside unrelated text; only whole path
            // segments are replaced for them.
            if id.len() >= 8 {
                out = out.replace(id.as_str(), &t);
            } else {
                out = out
                    .split('/')
                    .map(|seg| {
                        if seg == id {
                            t.clone()
                        } else {
                            seg.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
            }
        }
        out
    }

    fn templatize_json(&self, v: &Value) -> Y {
        match v {
            Value::String(s) => Y::Str(self.templatize(s)),
            Value::Array(items) => Y::Seq(items.iter().map(|i| self.templatize_json(i)).collect()),
            Value::Object(m) => Y::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.templatize_json(v)))
                    .collect(),
            ),
            other => Y::from(other),
        }
    }

    fn step(&mut self, ex: &Captured) -> Y {
        let redactor = self.redactor();
        let mut request = Y::map()
            .with("method", Y::Plain(ex.method.to_ascii_uppercase()))
            .with("path", Y::Str(self.templatize(&redactor.text(&ex.path))));
        let headers: Vec<(String, Y)> = redactor
            .headers(&ex.request_headers)
            .into_iter()
            .filter(|(k, _)| !DROPPED_HEADERS.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k, Y::Str(self.rebase(&escape_template(&v)))))
            .collect();
        if !headers.is_empty() {
            request = request.with("headers", Y::Map(headers));
        }
        match &ex.request_body {
            Some(Body::Json(v)) => {
                request = request.with("body", self.templatize_json(&redactor.json(v)));
            }
            Some(Body::Text(t)) => {
                request = request.with("raw_body", Y::Str(self.templatize(&redactor.text(t))));
            }
            None => {}
        }
        let mut step = Y::map().with("request", request);

        // A create's answer names the new id: expect "some string" now, capture it, and write
        // every later occurrence as the capture.
        let created_id = (ex.method.eq_ignore_ascii_case("POST")
            && (200..300).contains(&ex.status))
        .then(|| {
            ex.response_body
                .as_ref()
                .and_then(Body::json)
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .flatten()
        .filter(|id| !id.is_empty() && !self.ids.iter().any(|(k, _)| k == id));

        let mut expect = Y::map().with("status", Y::Plain(ex.status.to_string()));
        if let Some(Body::Json(body)) = &ex.response_body {
            let filtered = filter_list(&ex.path, &redactor.json(body));
            if let Some(y) = self.expectation(&filtered, created_id.as_deref()) {
                if !y.is_empty_map() {
                    expect = expect.with("body", y);
                }
            }
        }
        step = step.with("expect", expect);

        if let Some(id) = created_id {
            let resource = collection_of(&ex.path);
            let n = self.counters.entry(resource.clone()).or_insert(0);
            *n += 1;
            let name = format!("{resource}_{n}");
            step = step.with("capture", Y::map().with(&name, Y::Str("/id".into())));
            self.ids.push((id, name));
            self.ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        }
        step
    }

    /// The body subset a replay should expect; `None` drops the member.
    fn expectation(&self, v: &Value, created: Option<&str>) -> Option<Y> {
        match v {
            Value::Object(m) => {
                let mut out = Vec::new();
                for (k, val) in m {
                    if VOLATILE_KEYS.contains(&k.as_str()) {
                        continue;
                    }
                    if val.as_str() == Some(REDACTED) {
                        continue;
                    }
                    if k == "meta" {
                        // Only the resource type is stable across servers and runs.
                        if let Some(rt) = val.get("resourceType") {
                            out.push((
                                "meta".to_string(),
                                Y::map().with("resourceType", Y::from(rt)),
                            ));
                        }
                        continue;
                    }
                    if k == "detail" && m.contains_key("status") {
                        // Error messages are the server's prose, not its contract.
                        continue;
                    }
                    if k == "id" {
                        if let Some(s) = val.as_str() {
                            let known = self.ids.iter().any(|(id, _)| id == s);
                            if Some(s) == created || !known {
                                out.push((k.clone(), Y::Tagged("!type", "string".into())));
                            } else {
                                out.push((k.clone(), Y::Str(self.templatize(s))));
                            }
                            continue;
                        }
                    }
                    if let Some(y) = self.expectation(val, created) {
                        out.push((k.clone(), y));
                    }
                }
                Some(Y::Map(out))
            }
            Value::Array(items) => Some(Y::Seq(
                items
                    .iter()
                    .filter_map(|i| self.expectation(i, created))
                    .collect(),
            )),
            Value::String(s) => {
                // An id this recording never saw assigned (an object that existed before) cannot
                // be predicted on a fresh server.
                if created == Some(s.as_str()) {
                    Some(Y::Tagged("!type", "string".into()))
                } else {
                    Some(Y::Str(self.templatize(s)))
                }
            }
            other => Some(Y::from(other)),
        }
    }
}

/// List answers: keep what a fresh server reproduces. A filtered query keeps its count and the
/// identifying members of each match; an unfiltered listing depends on everything else on the
/// server, so only its schema is expected.
fn filter_list(path: &str, body: &Value) -> Value {
    let is_list = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|x| x.as_str().is_some_and(|x| x.ends_with(":ListResponse")))
        });
    if !is_list {
        return body.clone();
    }
    let mut out = Map::new();
    if let Some(s) = body.get("schemas") {
        out.insert("schemas".into(), s.clone());
    }
    if path.contains("filter=") {
        if let Some(t) = body.get("totalResults") {
            out.insert("totalResults".into(), t.clone());
        }
        if let Some(items) = body.get("Resources").and_then(Value::as_array) {
            let keep = ["id", "userName", "displayName", "active"];
            let slim: Vec<Value> = items
                .iter()
                .map(|r| {
                    let m: Map<String, Value> = r
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .filter(|(k, _)| keep.contains(&k.as_str()))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    Value::Object(m)
                })
                .collect();
            out.insert("Resources".into(), Value::Array(slim));
        }
    }
    Value::Object(out)
}

/// `user`, `group`, or the collection's name in lower case, for capture names.
fn collection_of(path: &str) -> String {
    let first = path
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match first.as_str() {
        "users" => "user".into(),
        "groups" => "group".into(),
        "" => "resource".into(),
        other => other
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .trim_end_matches('s')
            .to_string(),
    }
}

/// Literal `{{`, `{%` and `{#` in recorded data would be read as templates on replay.
pub fn escape_template(s: &str) -> String {
    if !s.contains("{{") && !s.contains("{%") && !s.contains("{#") {
        return s.to_string();
    }
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '{' && matches!(chars.peek(), Some('{' | '%' | '#')) {
            let next = chars.next().unwrap_or('{');
            out.push_str(&format!("{{{{ '{{{next}' }}}}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Standard base64 (with or without padding); `None` if it is not base64 or not UTF-8.
pub fn decode_base64(s: &str) -> Option<String> {
    String::from_utf8(decode_base64_bytes(s)?).ok()
}

pub fn decode_base64_bytes(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b'\n' | b'\r' | b' ' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The default output name for an import: `capture.har` → `capture.yaml`.
pub fn default_output(input: &Path) -> PathBuf {
    input.with_extension("yaml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ex(
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
        resp: Option<Value>,
    ) -> Captured {
        Captured {
            method: method.into(),
            path: path.into(),
            request_headers: vec![
                ("User-Agent".into(), "Okta SCIM Client 1.0.0".into()),
                ("Authorization".into(), "Bearer tok-123456".into()),
            ],
            request_body: body.map(Body::Json),
            status,
            response_headers: vec![],
            response_body: resp.map(Body::Json),
        }
    }

    #[test]
    fn ids_become_captures_and_templates() {
        let mut buf = Vec::new();
        {
            let shared = SharedBuf(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
            let mut r = Recorder::with_writer(
                Box::new(shared.clone()),
                None,
                Meta {
                    name: "t".into(),
                    source: "test".into(),
                },
            );
            r.add(&ex("POST", "/Users", Some(json!({"userName": "a", "password": "pw-secret"})), 201,
                Some(json!({"id": "abcdef123456", "userName": "a", "meta": {"resourceType": "User", "created": "x"}})))).expect("add");
            r.add(&ex(
                "GET",
                "/Users/abcdef123456",
                None,
                200,
                Some(json!({"id": "abcdef123456", "userName": "a"})),
            ))
            .expect("add");
            buf.extend_from_slice(&shared.0.lock().expect("lock"));
        }
        let text = String::from_utf8(buf).expect("utf8");
        assert!(text.contains("user_1: \"/id\""), "{text}");
        assert!(text.contains("path: \"/Users/{{ user_1 }}\""), "{text}");
        assert!(
            !text.contains("pw-secret") && !text.contains("tok-123456"),
            "{text}"
        );
        assert!(
            text.contains("- okta") || text.contains("\"okta\""),
            "{text}"
        );
        crate::scenario::parse::parse_scenario("t.yaml", &text, &crate::idp::Catalogue)
            .expect("valid scenario");
    }

    #[test]
    fn recognises_entra_fingerprints() {
        let mut e = ex(
            "PATCH",
            "/Users/1",
            Some(json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
            204,
            None,
        );
        e.request_headers.clear();
        let r = recognise(&e);
        assert_eq!(r.idp, crate::scenario::Idp::Entra);
        assert!(r.evidence.contains("capitalised"));
        assert!(is_guid_filter(
            "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"
        ));
        assert!(!is_guid_filter("/Users?filter=userName+eq+%22bob%22"));
    }

    #[test]
    fn template_syntax_in_data_is_escaped() {
        let s = escape_template("a {{ b }} {% c");
        let out = crate::scenario::template::render(&s, &json!({})).expect("renders");
        assert_eq!(out, "a {{ b }} {% c");
    }

    #[derive(Clone)]
    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
