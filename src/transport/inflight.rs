//! What a step has on the wire when a signal comes.
//!
//! The runner runs each step inside [`InFlight::scoped`]; every request sent through
//! `Transport::send_with` within it is registered before it goes out and struck off when its
//! answer (or error) is in. When a signal comes mid-step, the runner stops new requests
//! ([`InFlight::stop_new`]), waits a while for a write already sent (its answer names what
//! cleanup must delete), and reports whatever is still unanswered as sent — never as skipped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::exchange::RecordedRequest;

tokio::task_local! {
    static IN_FLIGHT: Arc<InFlight>;
}

/// The requests of one step that have gone out and are not answered yet.
#[derive(Debug, Default)]
pub struct InFlight {
    stopped: AtomicBool,
    next: AtomicU64,
    pending: Mutex<Vec<(u64, RecordedRequest)>>,
}

impl InFlight {
    /// Runs `f` with this registry as the one its requests report to.
    pub fn scoped<F: std::future::Future>(
        self: &Arc<Self>,
        f: F,
    ) -> tokio::task::futures::TaskLocalFuture<Arc<InFlight>, F> {
        IN_FLIGHT.scope(Arc::clone(self), f)
    }

    /// From now on the step's requests are not sent (a signal came).
    pub fn stop_new(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Requests sent and not answered, in the order they went out.
    pub fn unanswered(&self) -> Vec<RecordedRequest> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Whether an unanswered request may have changed the server (anything but GET and HEAD).
    pub fn write_unanswered(&self) -> bool {
        self.unanswered()
            .iter()
            .any(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
    }
}

/// The registry of the step this task runs, if it runs one.
pub(crate) fn current() -> Option<Arc<InFlight>> {
    IN_FLIGHT.try_with(Arc::clone).ok()
}

/// A request on the wire; strike it off with [`Ticket::answered`] once its answer is in.
/// Dropped without that (the step was cancelled mid-request), the request stays unanswered.
pub(crate) struct Ticket {
    flight: Arc<InFlight>,
    id: u64,
}

impl Ticket {
    pub(crate) fn answered(self) {
        let mut pending = self
            .flight
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.retain(|(id, _)| *id != self.id);
    }
}

impl InFlight {
    /// Registers a request about to go out, or `None` when new requests are stopped.
    pub(crate) fn register(self: &Arc<Self>, request: &RecordedRequest) -> Option<Ticket> {
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push((id, request.clone()));
        Some(Ticket {
            flight: Arc::clone(self),
            id,
        })
    }
}
