//! SCIM error values (RFC 7644 §3.12) and the final conversion of replies into HTTP responses,
//! where the response-shape quirks (content type, integer `status`, HTML 404) are applied in
//! one place.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use super::quirks::{Quirk, Quirks};
use crate::scim::schema::ERROR_URN;

/// A SCIM protocol error: HTTP status, optional `scimType` (RFC 7644 Table 9) and `detail`.
#[derive(Debug, Clone)]
pub(crate) struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    /// Set for "no such resource" so the `html-404` quirk can target exactly those.
    pub resource_missing: bool,
    /// The `WWW-Authenticate` challenge of a 401 (RFC 7235 §4.1).
    pub challenge: Option<String>,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            resource_missing: false,
            challenge: None,
        }
    }
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }
    pub fn resource_not_found(kind: &str, id: &str) -> Self {
        let mut e = Self::not_found(format!("{kind} {id} not found"));
        e.resource_missing = true;
        e
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, detail)
    }
}

/// A successful reply before quirk-dependent serialisation.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(header::HeaderName, String)>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: vec![],
        }
    }
    pub fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            body: None,
            headers: vec![],
        }
    }
    pub fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

fn content_type(quirks: &Quirks) -> &'static str {
    if quirks.has(Quirk::JsonContentType) {
        "application/json"
    } else {
        "application/scim+json"
    }
}

fn build(
    status: StatusCode,
    ctype: &str,
    body: Vec<u8>,
    headers: &[(header::HeaderName, String)],
) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    resp
}

/// Serialises a reply. Bodiless replies (204, 304) still carry the SCIM content type because
/// RFC 7644 §3.1 asks for it on responses and it costs nothing.
pub(crate) fn render_reply(reply: Reply, quirks: &Quirks) -> Response<Body> {
    let body = match &reply.body {
        Some(v) => serde_json::to_vec(v).unwrap_or_default(),
        None => Vec::new(),
    };
    build(reply.status, content_type(quirks), body, &reply.headers)
}

/// Serialises an error per RFC 7644 §3.12 (`status` is a string), unless a quirk says otherwise.
pub(crate) fn render_error(err: &ScimError, quirks: &Quirks) -> Response<Body> {
    if err.resource_missing && quirks.has(Quirk::Html404) {
        let html = format!(
            "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>{}</p></body></html>",
            html_escape(&err.detail)
        );
        return build(
            err.status,
            "text/html; charset=utf-8",
            html.into_bytes(),
            &[],
        );
    }
    let status = if quirks.has(Quirk::ErrorStatusInteger) {
        json!(err.status.as_u16())
    } else {
        json!(err.status.as_u16().to_string())
    };
    let mut body = json!({ "schemas": [ERROR_URN], "status": status });
    if let Some(obj) = body.as_object_mut() {
        if let Some(t) = err.scim_type {
            obj.insert("scimType".into(), json!(t));
        }
        obj.insert("detail".into(), json!(err.detail));
    }
    let mut headers = vec![];
    if let Some(challenge) = &err.challenge {
        // RFC 7235 §4.1, RFC 6750 §3: a 401 names the schemes that would be accepted.
        headers.push((header::WWW_AUTHENTICATE, challenge.clone()));
    }
    build(
        err.status,
        content_type(quirks),
        serde_json::to_vec(&body).unwrap_or_default(),
        &headers,
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
