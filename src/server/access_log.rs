//! `idpsim serve`'s request log: one line per request — method, path, status, time — as text or
//! JSON lines, with the request and response bodies under `-v`. A developer pointing their own
//! client (or a real IdP connector) at the server sees what arrived.
//!
//! Secrets never reach the log: no header is printed (so no Authorization), values of
//! secret-named query parameters (`?token=…`) and the server's own token are masked wherever they
//! appear, and password-like members of bodies are `"[redacted]"`. The request body is copied as
//! the handler reads it (a tee), so the handler's size limit and body deadline apply unchanged.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::support::redact::Redactor;

/// How requests are logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct RequestLog {
    pub format: Format,
    /// Also log the request and response bodies.
    pub bodies: bool,
}

/// What is shown of a body at most; the rest is cut with a note.
const BODY_SHOWN: usize = 64 * 1024;

pub(crate) struct Ctx {
    pub log: RequestLog,
    pub token: Option<String>,
    /// One request's lines stay together when requests finish at once.
    out: Mutex<()>,
}

impl Ctx {
    pub fn new(log: RequestLog, token: Option<String>) -> Arc<Ctx> {
        Arc::new(Ctx {
            log,
            token,
            out: Mutex::new(()),
        })
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A body as logged: JSON (secrets redacted) or text; `None` when empty.
fn shown(bytes: &[u8], redactor: &Redactor) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Some(redactor.json(&v));
    }
    let cut = bytes.len() > BODY_SHOWN;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_SHOWN)]).into_owned();
    let mut text = redactor.text(&text);
    if cut {
        text.push_str(&format!("… [{} bytes in all]", bytes.len()));
    }
    Some(Value::String(text))
}

pub(crate) async fn log(State(ctx): State<Arc<Ctx>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut secrets = crate::transport::url_secrets(&format!("http://server{path}"));
    secrets.extend(ctx.token.clone());
    let redactor = Redactor::new(secrets);
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let req = if ctx.log.bodies {
        let (parts, body) = req.into_parts();
        let copy = Arc::clone(&seen);
        let tee = body.map_frame(move |frame| {
            if let Some(data) = frame.data_ref() {
                if let Ok(mut buf) = copy.lock() {
                    let room = (BODY_SHOWN + 1).saturating_sub(buf.len());
                    buf.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            frame
        });
        Request::from_parts(parts, Body::new(tee))
    } else {
        req
    };
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let (response, response_body) = if ctx.log.bodies {
        let (parts, body) = response.into_parts();
        // Answers are built whole in memory by the handlers, so collecting them costs nothing new.
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let shown_body = shown(&bytes, &redactor);
        (Response::from_parts(parts, Body::from(bytes)), shown_body)
    } else {
        (response, None)
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let request_body = if ctx.log.bodies {
        seen.lock().ok().and_then(|b| shown(&b, &redactor))
    } else {
        None
    };
    let shown_path = redactor.text(&path);
    let text = match ctx.log.format {
        Format::Json => {
            let mut line = json!({
                "time": now(),
                "method": method,
                "path": shown_path,
                "status": status,
                "duration_ms": (ms * 1000.0).round() / 1000.0,
            });
            if let Some(map) = line.as_object_mut() {
                if let Some(b) = request_body {
                    map.insert("request_body".into(), b);
                }
                if let Some(b) = response_body {
                    map.insert("response_body".into(), b);
                }
            }
            format!("{line}\n")
        }
        Format::Text => {
            let mut t = format!("{} {method} {shown_path} {status} {ms:.1}ms\n", now());
            for (arrow, body) in [(">", request_body), ("<", response_body)] {
                let Some(b) = body else { continue };
                let pretty = match &b {
                    Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                for l in pretty.lines() {
                    t.push_str(&format!("  {arrow} {l}\n"));
                }
            }
            t
        }
    };
    let _guard = ctx.out.lock();
    // A closed stdout (a parent that stopped reading) must not take the server down.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    response
}
