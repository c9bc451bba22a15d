//! Reading what the server holds: every page of `/Users` and `/Groups` ([`Pager`]), then the
//! groups whose members the list left out. One loop for `idpsim audit` and the `audit` scenario
//! step; they differ only in how a request is sent (see [`Sender`]).

use serde_json::Value;

use super::{groups_needing_detail, Actual, Expected, Pager};
use crate::transport::{OutgoingRequest, RawResponse, Transport};

/// How the read loop sends a request: the command through its transport, the scenario step
/// through its `ActionCtx` (so each exchange is recorded and judged with the scenario's).
pub(crate) trait Sender {
    /// Sends one request: the index of its exchange (for findings), the answer, and — when no
    /// answer came at all — why (a transport failure).
    async fn send(&mut self, req: OutgoingRequest) -> (usize, RawResponse, Option<String>);
}

/// A command's sender: the transport itself.
pub(crate) struct Direct<'a> {
    pub transport: &'a Transport,
    sent: usize,
}

impl<'a> Direct<'a> {
    pub fn new(transport: &'a Transport) -> Self {
        Direct { transport, sent: 0 }
    }
}

impl Sender for Direct<'_> {
    async fn send(&mut self, req: OutgoingRequest) -> (usize, RawResponse, Option<String>) {
        let (exchange, raw) = self.transport.send(&req).await;
        let index = self.sent;
        self.sent += 1;
        let failed = exchange
            .error
            .filter(|_| exchange.response.is_none())
            .map(|e| e.message);
        (index, raw, failed)
    }
}

/// Why the server could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// No answer at all (the transport failed).
    NoAnswer(String),
    /// An answer that is not a page idpsim can read; `exchange` is its index.
    Unreadable { exchange: usize, cause: String },
}

/// What one read found.
#[derive(Debug, Default)]
pub struct Reading {
    pub actual: Actual,
    pub requests: usize,
    /// Something odd about the server's paging, per collection, for the report.
    pub notes: Vec<String>,
    /// Set when the read stopped early; `actual` then holds what was read before.
    pub failure: Option<ReadError>,
}

/// Reads everything under /Users and /Groups, then the full group of every expected group
/// whose listed copy has no `members`.
pub(crate) async fn read_server(sender: &mut impl Sender, expected: &Expected) -> Reading {
    let mut reading = Reading::default();
    for collection in ["Users", "Groups"] {
        let mut pager = Pager::new(collection);
        while let Some(req) = pager.next_request() {
            let (exchange, raw, no_answer) = sender.send(req).await;
            reading.requests += 1;
            if let Some(cause) = no_answer {
                reading.failure = Some(ReadError::NoAnswer(cause));
                return reading;
            }
            if let Err(cause) = pager.feed(&raw) {
                reading.failure = Some(ReadError::Unreadable { exchange, cause });
                return reading;
            }
        }
        reading.notes.extend(pager.note.take());
        if collection == "Users" {
            reading.actual.users = pager.items;
        } else {
            reading.actual.groups = pager.items;
        }
    }
    for id in groups_needing_detail(expected, &reading.actual) {
        // The id is the server's, so it is escaped as a path segment: an id with `/` or `?`
        // must still name this one group.
        let req = OutgoingRequest::new(
            "GET",
            format!("/Groups/{}", crate::support::text::path_segment(&id)),
        )
        .header("Accept", "application/scim+json");
        let (_, raw, _) = sender.send(req).await;
        reading.requests += 1;
        if let (200, Some(body)) = (raw.status, raw.body) {
            if let Some(g) = reading
                .actual
                .groups
                .iter_mut()
                .find(|g| g.get("id").and_then(Value::as_str) == Some(id.as_str()))
            {
                *g = body;
            }
        }
    }
    reading
}
