//! `idpsim import FILE.har|FILE.jsonl -o FILE.yaml`: existing captures into scenarios.
//!
//! HAR (HTTP Archive 1.2, as browsers and proxies such as mitmproxy or Charles export it) and
//! idpsim's JSON-lines exchange format (one exchange per line; docs/RECORD-AND-AUDIT.md):
//!
//! ```json
//! {"request":{"method":"POST","path":"/Users","headers":{"User-Agent":"Okta SCIM Client 1.0.0"},"body":{"userName":"a@b.test"}},"response":{"status":201,"body":{"id":"42","userName":"a@b.test"}}}
//! ```
//! Both go through the same `Recorder` as live recordings, so captures, redaction and IdP
//! recognition behave identically. A malformed file is an error naming the file and position.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{Body, Captured, Meta, Recorder};
use crate::error::{Error, Result};

/// Path segments that start the SCIM part of a URL; what precedes them is the base.
const SCIM_ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "ServiceProviderConfig",
    "ResourceTypes",
    "Schemas",
    "Bulk",
    "Me",
    ".search",
];

/// What an import produced.
pub struct Imported {
    pub exchanges: usize,
    pub skipped: Vec<String>,
    pub recognition: Option<super::Recognition>,
}

/// Reads `input` (HAR or JSONL, by extension, else by sniffing) and writes the scenario.
pub fn import(
    input: &Path,
    output: &Path,
    base: Option<&str>,
    name: Option<String>,
) -> Result<Imported> {
    let text =
        crate::support::input::read_bytes_up_to(input, crate::support::input::MAX_CAPTURE_BYTES)
            .and_then(crate::support::input::utf8)
            .map_err(|e| Error::io(input.display(), e))?;
    let ext = input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_har = match ext.as_str() {
        "har" => true,
        "jsonl" | "ndjson" => false,
        // Otherwise: a HAR is one JSON document with a `log`; anything else is read as JSONL.
        _ => serde_json::from_str::<Value>(&text).is_ok_and(|v| v.get("log").is_some()),
    };
    let base_path = base.map(base_path_of).transpose()?;
    let (captured, skipped, mut bases) = if is_har {
        parse_har(input, &text, base_path.as_deref())?
    } else {
        parse_jsonl(input, &text, base_path.as_deref())?
    };
    if let Some(b) = base.filter(|b| b.contains("://")) {
        bases.push(b.to_string());
    }
    let file_name = input
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rec = Recorder::create(
        output,
        Meta {
            name: name.unwrap_or_else(|| format!("Imported from {file_name}")),
            source: format!("idpsim import {file_name}"),
        },
    )
    .map_err(|e| Error::io(output.display(), e))?;
    for b in &bases {
        rec.add_base(b);
    }
    for c in &captured {
        rec.add(c).map_err(|e| Error::io(output.display(), e))?;
    }
    rec.finish_file(output)
        .map_err(|e| Error::io(output.display(), e))?;
    Ok(Imported {
        exchanges: captured.len(),
        skipped,
        recognition: rec.recognition.clone(),
    })
}

fn base_path_of(url: &str) -> Result<String> {
    if url.starts_with('/') {
        return Ok(url.trim_end_matches('/').to_string());
    }
    crate::transport::BaseUrl::parse(url)
        .map(|b| b.path)
        .map_err(|e| Error::Usage(format!("--base {url}: {e}")))
}

/// Splits a URL or path into the path relative to the SCIM base (with query). `None` when the
/// URL is not a SCIM endpoint (a browser HAR also holds pages, scripts and images).
fn relative(url: &str, base: Option<&str>) -> Option<String> {
    let path_and_query = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find('/') {
                Some(j) => rest[j..].to_string(),
                None => "/".to_string(),
            }
        }
        None => url.to_string(),
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path_and_query.clone(), None),
    };
    let rel = match base {
        Some(b) if path == b || path.starts_with(&format!("{b}/")) => path[b.len()..].to_string(),
        Some(_) => return None,
        None => {
            let segments: Vec<&str> = path.split('/').collect();
            let at = segments.iter().position(|s| SCIM_ENDPOINTS.contains(s))?;
            format!("/{}", segments[at..].join("/"))
        }
    };
    Some(match query {
        Some(q) if !q.is_empty() => format!("{rel}?{q}"),
        _ => rel,
    })
}

fn position_error(file: &Path, e: &serde_json::Error, line_offset: usize, what: &str) -> Error {
    Error::Usage(format!(
        "{}:{}:{}: not a valid {what}: {e}",
        file.display(),
        e.line() + line_offset,
        e.column()
    ))
}

// ----- HAR -----

#[derive(Deserialize)]
struct Har {
    log: HarLog,
}
#[derive(Deserialize)]
struct HarLog {
    entries: Vec<HarEntry>,
}
#[derive(Deserialize)]
struct HarEntry {
    request: HarRequest,
    response: HarResponse,
}
#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<HarHeader>,
    #[serde(default, rename = "postData")]
    post_data: Option<HarPostData>,
}
#[derive(Deserialize)]
struct HarHeader {
    name: String,
    value: String,
}
#[derive(Deserialize)]
struct HarPostData {
    #[serde(default)]
    text: Option<String>,
}
#[derive(Deserialize)]
struct HarResponse {
    status: i64,
    #[serde(default)]
    headers: Vec<HarHeader>,
    #[serde(default)]
    content: Option<HarContent>,
}
#[derive(Deserialize)]
struct HarContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

fn headers(h: Vec<HarHeader>) -> Vec<(String, String)> {
    h.into_iter()
        // HTTP/2 pseudo-headers (`:authority`) are not headers a replay can send.
        .filter(|x| !x.name.starts_with(':'))
        .map(|x| (x.name, x.value))
        .collect()
}

/// The SCIM base of an absolute URL whose path relative to the base is `rel`:
/// `https://up.test/scim/v2/Users/1?x` with `/Users/1?x` → `https://up.test/scim/v2`.
fn base_of(url: &str, rel: &str) -> Option<String> {
    if !url.contains("://") {
        return None;
    }
    let url = url.split('?').next().unwrap_or(url);
    let rel = rel.split('?').next().unwrap_or(rel);
    url.strip_suffix(rel)
        .map(|b| b.trim_end_matches('/').to_string())
}

/// Captured exchanges, what was skipped, and the SCIM base URLs the capture addressed.
type Parsed = (Vec<Captured>, Vec<String>, Vec<String>);

fn parse_har(file: &Path, text: &str, base: Option<&str>) -> Result<Parsed> {
    let har: Har =
        serde_json::from_str(text).map_err(|e| position_error(file, &e, 0, "HAR file"))?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut bases = Vec::new();
    for (i, entry) in har.log.entries.into_iter().enumerate() {
        let Some(path) = relative(&entry.request.url, base) else {
            skipped.push(format!(
                "entry {i}: {} {} is not a SCIM endpoint",
                entry.request.method, entry.request.url
            ));
            continue;
        };
        if entry.response.status <= 0 {
            skipped.push(format!(
                "entry {i}: {} {} has no response",
                entry.request.method, entry.request.url
            ));
            continue;
        }
        bases.extend(base_of(&entry.request.url, &path));
        let response_body = entry.response.content.and_then(|c| {
            let t = c.text?;
            if c.encoding.as_deref() == Some("base64") {
                super::decode_base64_bytes(&t).and_then(|b| Body::from_bytes(&b))
            } else {
                Body::from_bytes(t.as_bytes())
            }
        });
        out.push(Captured {
            method: entry.request.method.to_ascii_uppercase(),
            path,
            request_headers: headers(entry.request.headers),
            request_body: entry
                .request
                .post_data
                .and_then(|p| p.text)
                .and_then(|t| Body::from_bytes(t.as_bytes())),
            status: u16::try_from(entry.response.status).unwrap_or(0),
            response_headers: headers(entry.response.headers),
            response_body,
        });
    }
    Ok((out, skipped, bases))
}

// ----- JSON lines -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    request: LineRequest,
    response: LineResponse,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineRequest {
    method: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: Option<Headers>,
    #[serde(default)]
    body: Option<Value>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineResponse {
    status: u16,
    #[serde(default)]
    headers: Option<Headers>,
    #[serde(default)]
    body: Option<Value>,
}
/// `{"Name": "value"}` or `[["Name", "value"]]` (the latter keeps repeated headers).
#[derive(Deserialize)]
#[serde(untagged)]
enum Headers {
    Map(serde_json::Map<String, Value>),
    Pairs(Vec<(String, String)>),
}

impl Headers {
    fn into_pairs(self) -> Vec<(String, String)> {
        match self {
            Headers::Pairs(p) => p,
            Headers::Map(m) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
        }
    }
}

/// A JSON body as such; a string is raw text unless it holds a JSON object or array.
fn line_body(v: Option<Value>) -> Option<Body> {
    match v? {
        Value::Null => None,
        Value::String(s) => Body::from_bytes(s.as_bytes()).map(|b| match b {
            Body::Json(j) if j.is_object() || j.is_array() => Body::Json(j),
            _ => Body::Text(s),
        }),
        other => Some(Body::Json(other)),
    }
}

fn parse_jsonl(file: &Path, text: &str, base: Option<&str>) -> Result<Parsed> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut bases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        let parsed: Line = serde_json::from_str(line)
            .map_err(|e| position_error(file, &e, n, "JSON-lines exchange"))?;
        let target = match (&parsed.request.path, &parsed.request.url) {
            (Some(p), _) => relative(p, base).or_else(|| Some(p.clone())),
            (None, Some(u)) => relative(u, base),
            (None, None) => {
                return Err(Error::Usage(format!(
                    "{}:{}:1: the request needs `path` (relative to the SCIM base) or `url`",
                    file.display(),
                    n + 1
                )))
            }
        };
        let Some(path) = target else {
            skipped.push(format!("line {}: not a SCIM endpoint", n + 1));
            continue;
        };
        if let Some(u) = &parsed.request.url {
            bases.extend(base_of(u, &path));
        }
        out.push(Captured {
            method: parsed.request.method.to_ascii_uppercase(),
            path,
            request_headers: parsed
                .request
                .headers
                .map(Headers::into_pairs)
                .unwrap_or_default(),
            request_body: line_body(parsed.request.body),
            status: parsed.response.status,
            response_headers: parsed
                .response
                .headers
                .map(Headers::into_pairs)
                .unwrap_or_default(),
            response_body: line_body(parsed.response.body),
        });
    }
    Ok((out, skipped, bases))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_find_the_scim_base() {
        assert_eq!(
            relative("https://a.test/scim/v2/Users?x=1", None).as_deref(),
            Some("/Users?x=1")
        );
        assert_eq!(relative("https://a.test/app.js", None), None);
        assert_eq!(
            relative("https://a.test/api/scim/Groups/1", Some("/api/scim")).as_deref(),
            Some("/Groups/1")
        );
        assert_eq!(relative("/Users", None).as_deref(), Some("/Users"));
    }

    #[test]
    fn malformed_jsonl_names_line_and_column() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("x.jsonl");
        let err = parse_jsonl(&p, "{\"request\":{\"method\":\"GET\",\"path\":\"/Users\"},\"response\":{\"status\":200}}\n{\"request\": oops}\n", None)
            .expect_err("error");
        assert!(err.to_string().contains("x.jsonl:2:"), "{err}");
    }
}
