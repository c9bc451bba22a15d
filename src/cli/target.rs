//! The target flags every command that talks to a SCIM server takes (`run`, `load`, `audit`):
//! one flattened `TargetArgs`, and `connect()`, the one way from those flags to a `Transport`
//! (starting the built-in reference server when no `--target` is given).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::{Error, Result};
use crate::server;
use crate::transport::auth::{ClientAuth, CodeGrant, Grant, OAuthClient, Redirect};
use crate::transport::{warn_insecure, Auth, AuthMode, Lapse, Transport, TransportConfig};

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

    /// HTTP Basic credentials for the target (better from the environment: IDPSIM_BASIC).
    #[arg(
        long,
        env = "IDPSIM_BASIC",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    pub basic: Option<String>,

    /// How idpsim authenticates, as the IdP would: bearer, header (the Authorization value
    /// verbatim), basic, oauth-client-credentials, oauth-code (authorization code with refresh
    /// tokens) or none. Default: what the credentials given imply. Okta and Entra scenarios accept
    /// only the modes their IdP offers. Without --target, the built-in server is set up for it.
    #[arg(long = "auth", value_enum, value_name = "MODE")]
    pub auth: Option<AuthMode>,

    /// For --auth header: the whole Authorization value, as an Okta admin types it (`Bearer 123`,
    /// or a raw token). Better from the environment: IDPSIM_AUTH_HEADER.
    #[arg(
        long,
        env = "IDPSIM_AUTH_HEADER",
        hide_env_values = true,
        value_name = "VALUE"
    )]
    pub auth_header: Option<String>,

    /// Let the credential lapse after N requests, or after a duration such as 30s: from then on
    /// idpsim sends it as the server would see an expired token, to replay what the IdP does.
    #[arg(long, value_name = "N|DURATION")]
    pub auth_expire_after: Option<String>,

    /// OAuth 2.0: the token endpoint, e.g. https://auth.example.com/oauth2/token.
    #[arg(long, value_name = "URL")]
    pub oauth_token_url: Option<String>,

    /// OAuth 2.0: the client id (or IDPSIM_OAUTH_CLIENT_ID).
    #[arg(long, env = "IDPSIM_OAUTH_CLIENT_ID", value_name = "ID")]
    pub oauth_client_id: Option<String>,

    /// OAuth 2.0: the client secret. Give it in the environment, IDPSIM_OAUTH_CLIENT_SECRET.
    #[arg(
        long,
        env = "IDPSIM_OAUTH_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub oauth_client_secret: Option<String>,

    /// OAuth 2.0: the scope to ask for (space-separated).
    #[arg(long, value_name = "SCOPE")]
    pub oauth_scope: Option<String>,

    /// OAuth 2.0: the `resource` to ask a token for (RFC 8707).
    #[arg(long, value_name = "URI")]
    pub oauth_resource: Option<String>,

    /// OAuth 2.0: how the client authenticates to the token endpoint (RFC 6749 §2.3.1):
    /// client-secret-basic (default) or client-secret-post.
    #[arg(long, value_enum, value_name = "METHOD")]
    pub oauth_client_auth: Option<ClientAuth>,

    /// OAuth 2.0 code grant: the authorization endpoint. idpsim prints the URL to open and
    /// receives the code on http://127.0.0.1:PORT/callback (register that redirect URI).
    #[arg(long, value_name = "URL")]
    pub oauth_authorize_url: Option<String>,

    /// OAuth 2.0 code grant: the loopback port of the redirect URI (default: any free port).
    #[arg(long, value_name = "PORT")]
    pub oauth_redirect_port: Option<u16>,

    /// OAuth 2.0 code grant: a refresh token to start from instead of authorizing (or
    /// IDPSIM_OAUTH_REFRESH_TOKEN).
    #[arg(
        long,
        env = "IDPSIM_OAUTH_REFRESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub oauth_refresh_token: Option<String>,

    /// OAuth 2.0 code grant: read the refresh token from FILE when it exists, and write a
    /// rotated one there (only there; mode 0600), as the IdP keeps the newest.
    #[arg(long, value_name = "FILE")]
    pub oauth_refresh_token_file: Option<PathBuf>,

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
    /// The mode asked for or implied; `None` when no credentials were given (none is sent).
    pub mode: Option<AuthMode>,
    lapse: Lapse,
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
    /// The target URL as it may be shown: its credentials (user-info, `?token=`) masked.
    pub url: String,
    pub builtin: Option<server::RunningServer>,
    /// With the built-in server: credentials for every auth mode it was set up with.
    pub builtin_auth: Option<std::collections::HashMap<AuthMode, Auth>>,
}

/// The URL a dry run addresses its requests to when no `--target` was given.
const PLACEHOLDER_URL: &str = "http://127.0.0.1:8080/scim/v2";

impl TargetArgs {
    /// The mode asked for, or the one the credentials given imply.
    fn mode(&self) -> Result<Option<AuthMode>> {
        if let Some(m) = self.auth {
            return Ok(Some(m));
        }
        let oauth = self.oauth_token_url.is_some();
        let implied: Vec<AuthMode> = [
            (
                self.token.as_deref().is_some_and(|t| !t.is_empty()),
                AuthMode::Bearer,
            ),
            (self.basic.is_some(), AuthMode::Basic),
            (self.auth_header.is_some(), AuthMode::Header),
            (
                oauth
                    && (self.oauth_authorize_url.is_some()
                        || self.oauth_refresh_token.is_some()
                        || self.oauth_refresh_token_file.is_some()),
                AuthMode::OAuthCode,
            ),
        ]
        .into_iter()
        .filter_map(|(given, m)| given.then_some(m))
        .collect();
        match implied.as_slice() {
            [] if oauth => Ok(Some(AuthMode::OAuthClientCredentials)),
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(Error::Usage(format!(
                "credentials for more than one auth mode were given ({}); say which with --auth",
                many.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The credentials for `mode` from the flags and environment; a usage error names what is
    /// missing.
    fn credentials(&self, mode: AuthMode) -> Result<Auth> {
        let need = |what: &str| Error::Usage(format!("--auth {} needs {what}", mode.name()));
        Ok(match mode {
            AuthMode::None => Auth::None,
            AuthMode::Bearer => match self.token.as_deref().filter(|t| !t.is_empty()) {
                Some(t) => Auth::Bearer(t.to_string()),
                None => return Err(need("a token: IDPSIM_TOKEN (or --token)")),
            },
            AuthMode::Header => {
                match self.auth_header.as_deref().filter(|t| !t.trim().is_empty()) {
                    Some(v) => Auth::Header(v.trim().to_string()),
                    None => {
                        return Err(need(
                            "the header value: IDPSIM_AUTH_HEADER (or --auth-header)",
                        ))
                    }
                }
            }
            AuthMode::Basic => match &self.basic {
                Some(b) => Auth::basic(b)?,
                None => return Err(need("USER:PASSWORD: IDPSIM_BASIC (or --basic)")),
            },
            AuthMode::OAuthClientCredentials | AuthMode::OAuthCode => {
                let token_url = self
                    .oauth_token_url
                    .clone()
                    .ok_or_else(|| need("--oauth-token-url"))?;
                crate::transport::BaseUrl::parse(&token_url).map_err(|e| {
                    Error::Usage(format!(
                        "--oauth-token-url {}: {e}",
                        crate::support::redact::url(&token_url)
                    ))
                })?;
                let client_id = self.oauth_client_id.clone().ok_or_else(|| {
                    need("a client id: --oauth-client-id (or IDPSIM_OAUTH_CLIENT_ID)")
                })?;
                let client_secret = self
                    .oauth_client_secret
                    .clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| need("a client secret: IDPSIM_OAUTH_CLIENT_SECRET"))?;
                let grant = if mode == AuthMode::OAuthClientCredentials {
                    Grant::ClientCredentials
                } else {
                    let from_file = match &self.oauth_refresh_token_file {
                        Some(p) => crate::transport::auth::read_refresh_token_file(p)?,
                        None => None,
                    };
                    let refresh_token = self.oauth_refresh_token.clone().or(from_file);
                    if refresh_token.is_none() && self.oauth_authorize_url.is_none() {
                        return Err(need(
                            "--oauth-authorize-url (to authorize in a browser), or a refresh token: IDPSIM_OAUTH_REFRESH_TOKEN or --oauth-refresh-token-file",
                        ));
                    }
                    Grant::AuthorizationCode(CodeGrant {
                        authorize_url: self.oauth_authorize_url.clone(),
                        refresh_token,
                        refresh_token_file: self.oauth_refresh_token_file.clone(),
                        redirect: Redirect {
                            port: self.oauth_redirect_port.unwrap_or(0),
                            ..Redirect::default()
                        },
                    })
                };
                Auth::OAuth(Box::new(OAuthClient {
                    grant,
                    token_url,
                    client_id,
                    client_secret,
                    scope: self.oauth_scope.clone(),
                    resource: self.oauth_resource.clone(),
                    client_auth: self.oauth_client_auth.unwrap_or_default(),
                }))
            }
        })
    }

    pub fn parse(&self) -> Result<Target> {
        let mode = self.mode()?;
        // Against the built-in server idpsim sets the mode up itself; the flags' credentials are
        // for a target.
        let auth = match (mode, &self.url) {
            (Some(m), Some(_)) => self.credentials(m)?,
            _ => Auth::None,
        };
        let lapse = match self.auth_expire_after.as_deref() {
            Some(text) => {
                Lapse::parse(text).map_err(|e| Error::Usage(format!("--auth-expire-after: {e}")))?
            }
            None => Lapse::default(),
        };
        Ok(Target {
            url: self.url.clone(),
            auth,
            mode,
            lapse,
            credentials_given: self.token.is_some()
                || self.basic.is_some()
                || self.auth_header.is_some()
                || self.oauth_token_url.is_some(),
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
        let mut builtin_auth = None;
        let (url, auth) = match (self.url, without) {
            (Some(url), _) => (url, self.auth),
            (None, WithoutTarget::Placeholder) => (PLACEHOLDER_URL.to_string(), self.auth),
            (None, WithoutTarget::Required) => {
                return Err(Error::Usage("this command needs --target URL".into()))
            }
            (None, WithoutTarget::StartBuiltin { notice_on_stderr }) => {
                if self.credentials_given {
                    eprintln!("note: credentials are for --target; the built-in server gets fresh ones of its own");
                }
                let (srv, modes) = start_builtin_with_auth().await?;
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
                let auth = modes
                    .get(&self.mode.unwrap_or(AuthMode::Bearer))
                    .cloned()
                    .unwrap_or(Auth::None);
                builtin_auth = Some(modes);
                (url, auth)
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
        let transport = transport.with_lapse(self.lapse);
        if self.insecure {
            warn_insecure(&url);
        }
        Ok(Connection {
            url: transport.redactor().text(&url),
            transport,
            builtin,
            builtin_auth,
        })
    }
}

/// Starts a built-in reference server that takes every auth mode, each with fresh credentials,
/// and returns the credentials an IdP would hold for each.
pub async fn start_builtin_with_auth() -> Result<(
    server::RunningServer,
    std::collections::HashMap<AuthMode, Auth>,
)> {
    let token = crate::scenario::template::random_hex(32);
    let auth = server::ServerAuth::generated();
    let srv = server::start(server::ServerConfig {
        token: Some(token.clone()),
        auth: auth.clone(),
        ..server::ServerConfig::default()
    })
    .await
    .map_err(|e| Error::Server(e.to_string()))?;
    let modes = builtin_credentials(&srv, &auth, &token);
    Ok((srv, modes))
}

/// What an IdP would hold, mode by mode, for a built-in server set up with `auth` and `token`.
pub fn builtin_credentials(
    srv: &server::RunningServer,
    auth: &server::ServerAuth,
    token: &str,
) -> std::collections::HashMap<AuthMode, Auth> {
    let mut modes = std::collections::HashMap::new();
    modes.insert(AuthMode::None, Auth::None);
    modes.insert(AuthMode::Bearer, Auth::Bearer(token.to_string()));
    if let Some(h) = &auth.header {
        modes.insert(AuthMode::Header, Auth::Header(h.clone()));
    }
    if let Some((user, password)) = &auth.basic {
        modes.insert(
            AuthMode::Basic,
            Auth::Basic {
                user: user.clone(),
                password: password.clone(),
            },
        );
    }
    if let Some(c) = &auth.oauth {
        let client = |grant| {
            Auth::OAuth(Box::new(OAuthClient {
                grant,
                token_url: srv.token_url(),
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
                scope: Some("scim".into()),
                resource: None,
                client_auth: ClientAuth::Basic,
            }))
        };
        modes.insert(
            AuthMode::OAuthClientCredentials,
            client(Grant::ClientCredentials),
        );
        modes.insert(
            AuthMode::OAuthCode,
            client(Grant::AuthorizationCode(CodeGrant {
                authorize_url: Some(srv.authorize_url()),
                refresh_token: None,
                refresh_token_file: None,
                // The built-in server approves at once: idpsim follows its redirect as a browser
                // would, onto its own loopback listener.
                redirect: Redirect {
                    follow: true,
                    wait: std::time::Duration::from_secs(30),
                    ..Redirect::default()
                },
            })),
        );
    }
    modes
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
