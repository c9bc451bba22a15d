//! One request and its answer, as recorded for checks and reports. Recorded values are already
//! redacted: tokens, Authorization headers and passwords never reach a report.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why there is no (complete) response: timeout, connection refused, reset, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TransportError>,
    /// Set by `--dry-run`: nothing was sent, the response is what a fresh server would say.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    /// Path and query relative to the target's host, exactly as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, when it is JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// The body as text (lossy UTF-8) when it is not JSON; cut at `TEXT_LIMIT` for reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub size: usize,
    pub elapsed_ms: u64,
    /// The body went past the size limit and was cut.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// `gzip` or `deflate` when the body was compressed on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Why a body that is there is not JSON, in plain words ("it is not valid UTF-8 …",
    /// "it is nested deeper than 128 levels …"), so findings can say what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_error: Option<String>,
}

impl RecordedResponse {
    /// The SCIM error's `detail`, if any.
    pub fn scim_detail(&self) -> Option<&str> {
        super::scim_detail(self.body.as_ref())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
    /// Whether the response carried any body bytes.
    pub fn has_body(&self) -> bool {
        self.size > 0
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, TLS handshake).
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke mid-exchange.
    Reset,
    /// The body could not be decoded (bad gzip, …).
    Decode,
    /// The answer is not valid HTTP: a garbled status line, headers too large, broken chunking.
    Protocol,
    /// The connection closed before the body its headers announced was complete.
    Truncated,
    /// The request could not be built (bad URL after templating, …).
    Request,
}

/// How much body text a report keeps.
pub const TEXT_LIMIT: usize = 64 * 1024;

/// Recorded exchanges for unit tests of what judges them (`check::rules`, `check::auth`, the
/// table tests in `check/tests.rs`, `transport::auth`): one way to build what the transport
/// would have recorded, so a new field of the record is added in one place.
#[cfg(test)]
pub mod fixture {
    use super::{Exchange, RecordedRequest, RecordedResponse};
    use serde_json::Value;

    fn pairs(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// `method url` with these headers and no body; the target is the URL's path and query.
    pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> RecordedRequest {
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let target = url[after_scheme..]
            .find('/')
            .map_or("/", |i| &url[after_scheme + i..]);
        RecordedRequest {
            method: method.into(),
            url: url.into(),
            target: target.into(),
            headers: pairs(headers),
            body: None,
            raw_body: None,
        }
    }

    /// A complete answer with these headers and a JSON `body` or a `text` body (its size is the
    /// body's length), received at once.
    pub fn response(
        status: u16,
        headers: &[(&str, &str)],
        body: Option<Value>,
        text: Option<&str>,
    ) -> RecordedResponse {
        let size = body
            .as_ref()
            .map(|b| b.to_string().len())
            .or(text.map(str::len))
            .unwrap_or(0);
        RecordedResponse {
            status,
            headers: pairs(headers),
            body,
            text: text.map(str::to_string),
            size,
            elapsed_ms: 0,
            truncated: false,
            content_encoding: None,
            json_error: None,
        }
    }

    /// The request, answered.
    pub fn exchange(request: RecordedRequest, response: RecordedResponse) -> Exchange {
        Exchange {
            request,
            response: Some(response),
            error: None,
            simulated: false,
        }
    }

    #[test]
    fn the_target_is_the_path_and_query() {
        let r = request("GET", "http://127.0.0.1:9/scim/v2/Users?count=1", &[]);
        assert_eq!(r.target, "/scim/v2/Users?count=1");
        assert_eq!(request("GET", "http://x", &[]).target, "/");
    }
}
