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
