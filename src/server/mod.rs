//! Built-in reference SCIM 2.0 server (RFC 7643/7644) with opt-in quirks.
//!
//! Design and invariants:
//! - One in-process axum server per [`start`]; all requests go to one hand-routed handler
//!   (`handlers`), so every answer — even 404/405/413 — is a SCIM JSON body with
//!   `Content-Type: application/scim+json`.
//! - The store (`store`) is a single async mutex over Users and Groups. Uniqueness checks and
//!   inserts, and modifications and their persistence, happen under that one lock, so parallel
//!   writes lose nothing and never create duplicates. Only the `lose-concurrent-writes` and
//!   `duplicate-on-race` quirks step outside it, on purpose.
//! - With `data`, every acknowledged write is on disk before the response is sent (temp file,
//!   fsync, rename: `persist`).
//! - Parsing never panics on client input: bodies are capped at 4 MiB (413), invalid JSON
//!   (including JSON nested deeper than serde_json's 128 levels) is a 400 `invalidSyntax`,
//!   invalid filters (and filters of more than 1000 `and`/`or`) a 400 `invalidFilter`.
//! - One client cannot hold the server (`listen`): connections are bounded, a request head must
//!   arrive within the header timeout and its body within the body timeout (408).
//! - PATCH on Users answers 200 with the resource; PATCH on Groups answers 204 (what Entra
//!   prefers) unless `attributes`/`excludedAttributes` ask for a representation.
//! - Quirks (`quirks`) are independent flags; with none the server aims to be RFC-clean.

pub mod access_log;
pub mod auth;
mod discovery;
pub mod entitlements;
mod extensions;
mod handlers;
mod listen;
mod manager;
mod member;
mod member_patch;
mod patch;
mod persist;
mod quirks;
mod resource;
mod response;
mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth::{OAuthClientReg, ServerAuth};
pub use listen::Limits;
pub use quirks::{Quirk, QuirkInfo};

/// Configuration for [`start`]. `Debug` redacts the token so configs can be logged safely.
#[derive(Clone)]
pub struct ServerConfig {
    /// Address to bind; default 127.0.0.1.
    pub bind: IpAddr,
    /// Port; 0 picks an ephemeral port.
    pub port: u16,
    /// Required bearer token; `None` disables auth (unless `auth` configures other credentials).
    pub token: Option<String>,
    /// Other credentials it accepts: the header mode's value, HTTP Basic, an OAuth 2.0 client
    /// (which turns on the token and authorization endpoints).
    pub auth: ServerAuth,
    /// URL path prefix, default "/scim/v2"; "" or "/" serves at the root.
    pub base: String,
    /// Active quirks (empty = clean server).
    pub quirks: Vec<Quirk>,
    /// Persistence file; `None` keeps everything in memory.
    pub data: Option<PathBuf>,
    /// Connection and request-time bounds.
    pub limits: Limits,
    /// Log each request (`idpsim serve`); `None` logs nothing (the embedded server of `run`).
    pub log: Option<access_log::RequestLog>,
    /// Roles and entitlements served at their own endpoints (default: the built-in set).
    pub catalog: entitlements::Catalog,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("auth", &self.auth)
            .field("base", &self.base)
            .field("quirks", &self.quirks)
            .field("data", &self.data)
            .field("limits", &self.limits)
            .field("log", &self.log)
            .field("catalog_types", &self.catalog.types.len())
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            token: None,
            auth: ServerAuth::default(),
            base: "/scim/v2".to_string(),
            quirks: Vec::new(),
            data: None,
            limits: Limits::default(),
            log: None,
            catalog: entitlements::Catalog::builtin(),
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read data file {}: {source}", path.display())]
    DataRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data file {} is corrupt: {reason}", path.display())]
    DataCorrupt { path: PathBuf, reason: String },
    #[error("invalid base path '{0}': it must be a URL path such as /scim/v2")]
    InvalidBase(String),
}

/// A server running on a background task.
pub struct RunningServer {
    addr: SocketAddr,
    base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl RunningServer {
    /// The bound socket address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// e.g. "http://127.0.0.1:41234/scim/v2" (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The OAuth 2.0 token endpoint, e.g. "http://127.0.0.1:41234/oauth2/token".
    pub fn token_url(&self) -> String {
        format!("{}{}", self.origin(), auth::TOKEN_PATH)
    }

    /// The OAuth 2.0 authorization endpoint.
    pub fn authorize_url(&self) -> String {
        format!("{}{}", self.origin(), auth::AUTHORIZE_PATH)
    }

    fn origin(&self) -> String {
        match self.addr.ip() {
            IpAddr::V6(ip) => format!("http://[{ip}]:{}", self.addr.port()),
            IpAddr::V4(ip) => format!("http://{ip}:{}", self.addr.port()),
        }
    }

    /// Stops accepting, lets in-flight requests finish, and returns when the server is down.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Runs until `stop` resolves (then shuts down gracefully) or the server task ends.
    pub async fn wait_until(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::select! {
            _ = &mut self.task => {}
            _ = stop => self.shutdown().await,
        }
    }
}

/// Normalises the base path: leading '/', no trailing '/', "" for root.
fn normalize_base(base: &str) -> Result<String, ServerError> {
    let trimmed = base.trim().trim_end_matches('/');
    if trimmed.contains(['?', '#', ' ']) {
        return Err(ServerError::InvalidBase(base.to_string()));
    }
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    Ok(if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    })
}

/// Binds, spawns the server and returns at once.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let base_path = normalize_base(&config.base)?;
    let data = match &config.data {
        Some(path) => persist::load(path)?,
        None => store::Data::default(),
    };
    let want = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(want)
        .await
        .map_err(|source| ServerError::Bind { addr: want, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr: want, source })?;
    let host = match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let base_url = format!("http://{host}:{}{base_path}", addr.port());
    let app = Arc::new(handlers::App {
        store: store::Store::new(data, config.data.clone()),
        quirks: quirks::Quirks::new(&config.quirks),
        catalog: config.catalog.clone(),
        token: config.token.clone(),
        auth: config.auth.clone(),
        tokens: Default::default(),
        base_path,
        base_url: base_url.clone(),
        body_timeout: config.limits.body_timeout,
    });
    let mut router = axum::Router::new()
        .fallback(handlers::handle)
        .with_state(app);
    if let Some(log) = config.log.clone() {
        router = router.layer(axum::middleware::from_fn_with_state(
            access_log::Ctx::new(log, config.token.clone()),
            access_log::log,
        ));
    }
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(listen::serve(listener, router, config.limits, rx));
    Ok(RunningServer {
        addr,
        base_url,
        shutdown: Some(tx),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_is_normalized() {
        assert_eq!(normalize_base("/scim/v2").ok(), Some("/scim/v2".into()));
        assert_eq!(normalize_base("scim/v2/").ok(), Some("/scim/v2".into()));
        assert_eq!(normalize_base("/").ok(), Some(String::new()));
        assert_eq!(normalize_base("").ok(), Some(String::new()));
        assert!(normalize_base("/a?b").is_err());
    }

    #[test]
    fn debug_redacts_token() {
        let c = ServerConfig {
            token: Some("hunter2".into()),
            ..ServerConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
