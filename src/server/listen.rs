//! The accept loop: how many connections the reference server holds, and how long a client may
//! take to send a request.
//!
//! `axum::serve` accepts without limit and sets no timer, so a client that opens connections
//! and never finishes a request head holds them forever. Here every connection needs a permit
//! (at most [`Limits::max_connections`] at once; further clients wait in the kernel's backlog),
//! and hyper's header-read timeout, which needs a timer to take effect, closes connections whose
//! request head does not arrive in time. The body's deadline is enforced where the body is read
//! (`handlers`), so a slow body gets a SCIM 408 rather than a dropped connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify, Semaphore};

/// Bounds on what one client can hold of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more wait until one closes.
    pub max_connections: usize,
    /// Time a client has to send a request head (also the idle time allowed between requests
    /// on a kept-alive connection).
    pub header_timeout: Duration,
    /// Time a client has to send a request body once its head has arrived.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// How long shutdown waits for in-flight requests before dropping their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the accept loop asks of open connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    /// Keep serving.
    Serve,
    /// A client is waiting for a connection: idle kept-alive connections should close.
    MakeRoom,
    /// The server is stopping: close after the current request.
    Stop,
}

/// A connection's requests, seen from its service.
#[derive(Default)]
struct Activity {
    served: AtomicUsize,
    in_flight: AtomicUsize,
    /// Told when a request has been answered, so a connection can make room right then.
    answered: Notify,
}

impl Activity {
    /// Between two requests of a kept-alive connection: nothing in flight, at least one served.
    /// A new connection whose first request has not arrived yet is not idle in this sense; the
    /// header timeout bounds it.
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && self.served.load(Ordering::SeqCst) > 0
    }
}

/// Whether a connection should close now, given what the accept loop asks.
fn should_close(ask: Ask, activity: &Activity) -> bool {
    match ask {
        Ask::Serve => false,
        Ask::MakeRoom => activity.is_idle(),
        Ask::Stop => true,
    }
}

/// Serves `router` on `listener` until `stop` fires, then lets in-flight requests finish.
///
/// At capacity, connections that sit idle between requests would hold their permits until the
/// idle timeout while new clients wait: a pooling client that opens more connections than the
/// server serves then deadlocks with itself. So when a client has to wait, idle kept-alive
/// connections are closed, as nginx reuses idle keep-alive connections when it runs out. A
/// pooled client that sends on such a connection at the moment it closes sees that request fail
/// unread: the usual keep-alive race, here only at capacity.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    // Bounded so that shutdown can ask for every permit at once (`acquire_many` takes a u32).
    let max = limits.max_connections.clamp(1, 1 << 20);
    let permits = Arc::new(Semaphore::new(max));
    let (ask, _) = watch::channel(Ask::Serve);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    loop {
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // `send_replace` wakes every connection even when the value is unchanged.
                ask.send_replace(Ask::MakeRoom);
                let permit = tokio::select! {
                    permit = Arc::clone(&permits).acquire_owned() => match permit {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    _ = &mut stop => break,
                };
                ask.send_replace(Ask::Serve);
                permit
            }
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("idpsim reference server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok((stream, unanswered, spare)) = with_answer_handle(stream) else {
            continue;
        };
        let head_limit = limits.header_timeout;
        let activity = Arc::new(Activity::default());
        let service = {
            let inner = TowerToHyperService::new(router.clone());
            let activity = Arc::clone(&activity);
            hyper::service::service_fn(move |req: Request<Incoming>| {
                activity.in_flight.fetch_add(1, Ordering::SeqCst);
                let answer = hyper::service::Service::call(&inner, req);
                let activity = Arc::clone(&activity);
                async move {
                    let answer = answer.await;
                    activity.served.fetch_add(1, Ordering::SeqCst);
                    activity.in_flight.fetch_sub(1, Ordering::SeqCst);
                    activity.answered.notify_one();
                    answer
                }
            })
        };
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut asked = ask.subscribe();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            // A client that hangs up or times out is its own business, not an error: the
            // connection's result is dropped either way.
            let finished = loop {
                let close = tokio::select! {
                    served = conn.as_mut() => {
                        let timed_out = served.as_ref().is_err_and(|e| e.is_timeout());
                        if timed_out && unanswered.load(Ordering::SeqCst) > 0 {
                            answer_head_timeout(spare, head_limit);
                        }
                        break true;
                    }
                    changed = asked.changed() => {
                        changed.is_err() || should_close(*asked.borrow_and_update(), &activity)
                    }
                    _ = activity.answered.notified() => should_close(*asked.borrow(), &activity),
                };
                if close {
                    conn.as_mut().graceful_shutdown();
                    break false;
                }
            };
            if !finished {
                // Asked once; from here the connection only finishes what it started.
                let _ = conn.await;
            }
            drop(permit);
        });
    }
    drop(listener);
    ask.send_replace(Ask::Stop);
    // Every connection returns its permit when it ends: holding them all means all are done.
    let all = u32::try_from(max).unwrap_or(1 << 20);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all)).await;
}

/// The connection's socket, counting what arrived since the last answer went out: when hyper
/// gives up waiting for a request head, a count above zero means a client sent part of one
/// (a 408 is owed), zero that a kept-alive connection merely sat idle (closed in silence: a
/// 408 there would be read as the answer to the client's next request).
struct Counted {
    stream: tokio::net::TcpStream,
    unanswered: Arc<AtomicUsize>,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.stream).poll_read(cx, buf);
        let got = buf.filled().len() - before;
        if got > 0 {
            self.unanswered.fetch_add(got, Ordering::SeqCst);
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.unanswered.store(0, Ordering::SeqCst);
        }
        polled
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Splits an accepted connection into what hyper serves and a second handle on the same
/// socket, kept to answer 408 once hyper has given up on a half-sent head (it closes such a
/// connection without a word).
fn with_answer_handle(
    stream: tokio::net::TcpStream,
) -> std::io::Result<(Counted, Arc<AtomicUsize>, std::net::TcpStream)> {
    let std = stream.into_std()?;
    let spare = std.try_clone()?;
    let unanswered = Arc::new(AtomicUsize::new(0));
    Ok((
        Counted {
            stream: tokio::net::TcpStream::from_std(std)?,
            unanswered: Arc::clone(&unanswered),
        },
        unanswered,
        spare,
    ))
}

/// The 408 for a request head that did not arrive in time, as a SCIM error, then the
/// connection's end. The socket is non-blocking; the answer is small enough for any send
/// buffer, and a client that has gone is nobody's loss.
fn answer_head_timeout(mut spare: std::net::TcpStream, limit: Duration) {
    use std::io::Write as _;
    let body = format!(
        "{{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"408\",\"detail\":\"the request head did not arrive within {} s\"}}",
        limit.as_secs_f64()
    );
    let answer = format!(
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = spare.write_all(answer.as_bytes());
    let _ = spare.shutdown(std::net::Shutdown::Both);
}
