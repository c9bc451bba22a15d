//! Built-in reference SCIM server (stub with the agreed API; the real one is being merged).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

pub struct ServerConfig {
    pub bind: IpAddr,
    pub port: u16,
    pub token: Option<String>,
    pub base: String,
    pub quirks: Vec<Quirk>,
    pub data: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            token: None,
            base: "/scim/v2".into(),
            quirks: Vec::new(),
            data: None,
        }
    }
}

pub struct RunningServer {
    addr: SocketAddr,
    base: String,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.base)
    }
    pub async fn shutdown(self) {}
    pub async fn wait(self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("not built yet")]
    NotBuilt,
}

pub async fn start(_config: ServerConfig) -> Result<RunningServer, ServerError> {
    Err(ServerError::NotBuilt)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quirk {}

pub struct QuirkInfo {
    pub quirk: Quirk,
    pub name: &'static str,
    pub summary: &'static str,
    pub source: &'static str,
    pub breaks: &'static str,
}

impl Quirk {
    pub fn all() -> &'static [QuirkInfo] {
        &[]
    }
    pub fn from_name(_s: &str) -> Option<Quirk> {
        None
    }
    pub fn name(self) -> &'static str {
        match self {}
    }
}
