//! The target flags every command that talks to a SCIM server takes (`run`, `load`, `audit`):
//! one flattened `TargetArgs`, and `connect()`, the one way from those flags to a `Transport`
//! (starting the built-in reference server when no `--target` is given).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::{Error, Result};
use crate::server;
use crate::transport::{warn_insecure, Auth, Transport, TransportConfig};

/// The default `--timeout`, as Okta's.
pub const DEFAULT_TIMEOUT: &str = "60s";

#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// Base URL of the SCIM endpoint, e.g. https://app.example.com/scim/v2. A query such as
    /// `?aadOptscim062020` is carried onto every request, as Entra does.
    /// Without it, idpsim starts its built-in reference server on a loopback port.
    #[arg(id = "target", long = "target", short = 't', value_name = "URL")]
    pub url: Option<String>,

    /// Bearer token for the target.
    #[arg(
        long,
        env = "IDPSIM_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// HTTP Basic credentials for the target.
    #[arg(long, value_name = "USER:PASSWORD", conflicts_with = "token")]
    pub basic: Option<String>,

    /// An extra header on every request (repeatable), e.g. 'X-Tenant: acme'.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Per-request timeout, e.g. 60s or 500ms (default 60s, as Okta's).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Trust this PEM CA certificate (or bundle) for the target.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Do not verify the target's TLS certificate (a loud warning is printed on every run:
    /// anyone on the network path could read the token).
    #[arg(long)]
    pub insecure: bool,
}

/// The target flags, parsed and checked: everything wrong with them is found before a server
/// starts or a request is sent.
#[derive(Debug)]
pub struct Target {
    pub url: Option<String>,
    auth: Auth,
    /// Whether the user gave credentials (`--token`, `IDPSIM_TOKEN`, `--basic`).
    credentials_given: bool,
    headers: Vec<(String, String)>,
    pub timeout: Duration,
    cacert: Option<PathBuf>,
    pub insecure: bool,
}

/// What to do when no `--target` was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithoutTarget {
    /// Start the built-in reference server on loopback and say so, on stderr when stdout must
    /// stay machine-readable (`--format jsonl`), else on stdout.
    StartBuiltin { notice_on_stderr: bool },
    /// `--dry-run`: nothing is sent, so requests are addressed to a placeholder URL.
    Placeholder,
    /// The command needs a target (`audit`).
    Required,
}

/// Where requests go: the transport, the URL it was built for, and the built-in server when
/// idpsim started one (shut it down when done).
pub struct Connection {
    pub transport: Transport,
    pub url: String,
    pub builtin: Option<server::RunningServer>,
}

/// The URL a dry run addresses its requests to when no `--target` was given.
const PLACEHOLDER_URL: &str = "http://127.0.0.1:8080/scim/v2";

impl TargetArgs {
    pub fn parse(&self) -> Result<Target> {
        Ok(Target {
            url: self.url.clone(),
            auth: Auth::from_flags(self.token.as_deref(), self.basic.as_deref())?,
            credentials_given: self.token.is_some() || self.basic.is_some(),
            headers: super::values::parse_headers(&self.headers)?,
            timeout: super::values::parse_duration(
                self.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT),
            )?,
            cacert: self.cacert.clone(),
            insecure: self.insecure,
        })
    }
}

impl Target {
    /// Builds the transport (starting the built-in server if `without` says so), and warns on
    /// stderr when `--insecure` turned certificate checks off.
    pub async fn connect(self, without: WithoutTarget) -> Result<Connection> {
        let mut builtin = None;
        let (url, auth) = match (self.url, without) {
            (Some(url), _) => (url, self.auth),
            (None, WithoutTarget::Placeholder) => (PLACEHOLDER_URL.to_string(), self.auth),
            (None, WithoutTarget::Required) => {
                return Err(Error::Usage("this command needs --target URL".into()))
            }
            (None, WithoutTarget::StartBuiltin { notice_on_stderr }) => {
                if self.credentials_given {
                    eprintln!("note: --token/--basic are for --target; the built-in server gets a fresh token of its own");
                }
                let (srv, token) = start_builtin().await?;
                let url = srv.base_url();
                let notice = format!(
                    "idpsim {}: no --target given; started the built-in reference SCIM server at {url}",
                    env!("CARGO_PKG_VERSION")
                );
                if notice_on_stderr {
                    eprintln!("{notice}");
                } else {
                    crate::support::out::say!("{notice}");
                }
                builtin = Some(srv);
                (url, Auth::Bearer(token))
            }
        };
        let transport = Transport::new(TransportConfig {
            base_url: url.clone(),
            auth,
            headers: self.headers,
            timeout: self.timeout,
            cacert: self.cacert,
            insecure: self.insecure,
        })?;
        if self.insecure {
            warn_insecure(&url);
        }
        Ok(Connection {
            transport,
            url,
            builtin,
        })
    }
}

/// Starts a built-in reference server on a loopback port with a fresh random token.
pub async fn start_builtin() -> Result<(server::RunningServer, String)> {
    let token = crate::scenario::template::random_hex(32);
    let srv = server::start(server::ServerConfig {
        token: Some(token.clone()),
        ..server::ServerConfig::default()
    })
    .await
    .map_err(|e| Error::Server(e.to_string()))?;
    Ok((srv, token))
}
