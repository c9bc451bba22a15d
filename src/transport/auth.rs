//! How idpsim authenticates to the SCIM server, mode by mode, as the IdPs do: a static bearer
//! token, the `Authorization` value verbatim (Okta's "HTTP Header"), HTTP Basic, OAuth 2.0 client
//! credentials (RFC 6749 §4.4) and OAuth 2.0 authorization code with refresh tokens (§4.1, §6).
//!
//! An [`AuthSession`] holds what one IdP app instance holds: its credentials, the access token
//! it was issued and, for the code grant, the refresh token (shared by the sessions of one run,
//! so a rotated token is used by all of them and written only where the user said). Token
//! requests go through the same transport as SCIM requests, so they are recorded, redacted and
//! judged like any other exchange.
//!
//! A session can be told to let its credential lapse ([`Lapse`]): after N requests or T seconds
//! it sends the credential as the server would see an expired one — a value the server never
//! issued (the token with `-expired` appended). idpsim cannot make a real server expire its token
//! early; what the server then answers, and what the IdP does next, is what is under test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::exchange::Exchange;
use super::{OutgoingBody, OutgoingRequest, RawResponse, Transport};
use crate::error::Error;
use crate::support::text::{base64, form_body, form_encode};

/// What a lapsed credential looks like on the wire: the real one with this appended, so the
/// server sees a value it never issued, as it would an expired or revoked token.
pub const LAPSED_SUFFIX: &str = "-expired";

/// How idpsim authenticates, by name (`--auth`, `idpsim.toml`, a scenario's `auth.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// No Authorization header.
    None,
    /// `Authorization: Bearer <token>`: Entra's Secret Token, Okta's header mode with the prefix.
    Bearer,
    /// The whole Authorization value as the admin typed it, with or without `Bearer` (Okta's
    /// "HTTP Header").
    Header,
    /// HTTP Basic (RFC 7617).
    Basic,
    /// OAuth 2.0 client credentials grant (RFC 6749 §4.4).
    #[value(name = "oauth-client-credentials")]
    #[serde(rename = "oauth-client-credentials")]
    OAuthClientCredentials,
    /// OAuth 2.0 authorization code grant with refresh tokens (RFC 6749 §4.1, §6).
    #[value(name = "oauth-code")]
    #[serde(rename = "oauth-code")]
    OAuthCode,
}

impl AuthMode {
    pub const ALL: &'static [AuthMode] = &[
        AuthMode::None,
        AuthMode::Bearer,
        AuthMode::Header,
        AuthMode::Basic,
        AuthMode::OAuthClientCredentials,
        AuthMode::OAuthCode,
    ];

    /// The name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Bearer => "bearer",
            AuthMode::Header => "header",
            AuthMode::Basic => "basic",
            AuthMode::OAuthClientCredentials => "oauth-client-credentials",
            AuthMode::OAuthCode => "oauth-code",
        }
    }

    pub fn from_name(name: &str) -> Option<AuthMode> {
        let norm = name.trim().to_ascii_lowercase().replace('_', "-");
        AuthMode::ALL.iter().copied().find(|m| m.name() == norm)
    }

    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            AuthMode::None => "no authentication",
            AuthMode::Bearer => "a static bearer token",
            AuthMode::Header => "an Authorization header value given verbatim",
            AuthMode::Basic => "HTTP Basic",
            AuthMode::OAuthClientCredentials => "OAuth 2.0 client credentials",
            AuthMode::OAuthCode => "OAuth 2.0 authorization code with refresh tokens",
        }
    }

    pub fn is_oauth(self) -> bool {
        matches!(self, AuthMode::OAuthClientCredentials | AuthMode::OAuthCode)
    }
}

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientAuth {
    /// HTTP Basic with the form-encoded client id and secret, which every authorization server
    /// must support.
    #[default]
    #[value(name = "client-secret-basic")]
    Basic,
    /// `client_id` and `client_secret` in the request body.
    #[value(name = "client-secret-post")]
    Post,
}

impl ClientAuth {
    pub fn name(self) -> &'static str {
        match self {
            ClientAuth::Basic => "client-secret-basic",
            ClientAuth::Post => "client-secret-post",
        }
    }
}

/// The credentials of one IdP app instance. `Debug` shows no secret.
#[derive(Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// The Authorization header's whole value.
    Header(String),
    Basic {
        user: String,
        password: String,
    },
    OAuth(Box<OAuthClient>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Auth::{}", self.mode().name())
    }
}

/// An OAuth 2.0 client registration as the IdP holds it.
#[derive(Clone)]
pub struct OAuthClient {
    pub grant: Grant,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// `scope`, as given (space-separated).
    pub scope: Option<String>,
    /// `resource` (RFC 8707), for authorization servers that issue tokens per resource.
    pub resource: Option<String>,
    pub client_auth: ClientAuth,
}

#[derive(Clone)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode(CodeGrant),
}

/// How the code grant gets its first tokens, and where a rotated refresh token goes.
#[derive(Clone)]
pub struct CodeGrant {
    /// The authorization endpoint; without it, a refresh token must be given.
    pub authorize_url: Option<String>,
    /// A refresh token given directly (from the environment or the file below).
    pub refresh_token: Option<String>,
    /// Where a rotated refresh token is written, and only there (RFC 6749 §6: the client must
    /// replace the old one).
    pub refresh_token_file: Option<PathBuf>,
    pub redirect: Redirect,
}

/// The loopback redirect that receives the authorization code (RFC 8252 §7.3).
#[derive(Clone, Debug)]
pub struct Redirect {
    /// 0 picks a free port (fine when the authorization server accepts any loopback port).
    pub port: u16,
    /// The redirect URI's path, e.g. `/callback`.
    pub path: String,
    /// idpsim requests the authorization URL itself and follows the redirect, as a browser would:
    /// for the built-in server, which approves at once. Otherwise the URL is printed for a person
    /// to open.
    pub follow: bool,
    /// How long to wait for the redirect.
    pub wait: Duration,
}

impl Default for Redirect {
    fn default() -> Self {
        Redirect {
            port: 0,
            path: "/callback".into(),
            follow: false,
            wait: Duration::from_secs(300),
        }
    }
}

impl Auth {
    /// The credentials of `--token` (bearer; an empty token means none) or `--basic USER:PASSWORD`.
    pub fn from_flags(token: Option<&str>, basic: Option<&str>) -> Result<Auth, Error> {
        match (token, basic) {
            (Some(t), _) if !t.is_empty() => Ok(Auth::Bearer(t.to_string())),
            (_, Some(b)) => Auth::basic(b),
            _ => Ok(Auth::None),
        }
    }

    /// `USER:PASSWORD` as HTTP Basic credentials.
    pub fn basic(user_password: &str) -> Result<Auth, Error> {
        let (user, password) = user_password
            .split_once(':')
            .ok_or_else(|| Error::Usage("Basic credentials take USER:PASSWORD".into()))?;
        Ok(Auth::Basic {
            user: user.into(),
            password: password.into(),
        })
    }

    pub fn mode(&self) -> AuthMode {
        match self {
            Auth::None => AuthMode::None,
            Auth::Bearer(_) => AuthMode::Bearer,
            Auth::Header(_) => AuthMode::Header,
            Auth::Basic { .. } => AuthMode::Basic,
            Auth::OAuth(c) => match c.grant {
                Grant::ClientCredentials => AuthMode::OAuthClientCredentials,
                Grant::AuthorizationCode(_) => AuthMode::OAuthCode,
            },
        }
    }

    /// Every secret these credentials hold, in the spellings that can reach the wire.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            Auth::None => Vec::new(),
            Auth::Bearer(t) => vec![t.clone()],
            Auth::Header(v) => {
                // The value, and the token after a scheme when there is one ("Bearer x", "SSWS x").
                let mut out = vec![v.clone()];
                if let Some((_, token)) = v.trim().split_once(' ') {
                    out.push(token.trim().to_string());
                }
                out
            }
            Auth::Basic { user, password } => vec![
                password.clone(),
                base64(format!("{user}:{password}").as_bytes()),
                base64(format!("{user}:{password}{LAPSED_SUFFIX}").as_bytes()),
            ],
            Auth::OAuth(c) => {
                let mut out = vec![
                    c.client_secret.clone(),
                    form_encode(&c.client_secret),
                    base64(
                        format!(
                            "{}:{}",
                            form_encode(&c.client_id),
                            form_encode(&c.client_secret)
                        )
                        .as_bytes(),
                    ),
                ];
                if let Grant::AuthorizationCode(g) = &c.grant {
                    out.extend(g.refresh_token.iter().cloned());
                }
                out
            }
        }
    }

    /// The Authorization value for a static credential, lapsed or not.
    fn static_header(&self, lapsed: bool) -> Option<String> {
        let tail = if lapsed { LAPSED_SUFFIX } else { "" };
        match self {
            Auth::Bearer(t) => Some(format!("Bearer {t}{tail}")),
            Auth::Header(v) => Some(format!("{v}{tail}")),
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64(format!("{user}:{password}{tail}").as_bytes())
            )),
            Auth::None | Auth::OAuth(_) => None,
        }
    }
}

/// When idpsim lets the credential lapse: after this many requests with it, or this long after
/// it was issued (the first that comes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lapse {
    pub after_requests: Option<u64>,
    pub after: Option<Duration>,
}

impl Lapse {
    /// `3` (requests) or a duration such as `30s`, `500ms`, `2m`.
    pub fn parse(text: &str) -> Result<Lapse, String> {
        let text = text.trim();
        if let Ok(n) = text.parse::<u64>() {
            if n == 0 {
                return Err("expire_after takes at least 1 request".into());
            }
            return Ok(Lapse {
                after_requests: Some(n),
                after: None,
            });
        }
        let d = crate::support::text::parse_duration(text).map_err(|e| {
            format!("expire_after takes a number of requests (3) or a duration (30s): {e}")
        })?;
        Ok(Lapse {
            after_requests: None,
            after: Some(d),
        })
    }

    pub fn is_set(&self) -> bool {
        self.after_requests.is_some() || self.after.is_some()
    }

    fn reached(&self, uses: u64, since: Instant) -> bool {
        self.after_requests.is_some_and(|n| uses >= n)
            || self.after.is_some_and(|d| since.elapsed() >= d)
    }
}

/// What a request carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSent {
    /// No Authorization header (the request or the run has none).
    None,
    /// The credential as issued.
    Valid,
    /// The credential after idpsim let it lapse: a correct server refuses it with 401.
    Lapsed,
    /// One the request carries itself, not the run's (a step testing a bad token, `auth:
    /// invalid`): never counted or renewed; a server that refuses it owes a 401 too.
    Foreign,
}

/// What a token-endpoint request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenCall {
    ClientCredentials,
    AuthorizationCode,
    Refresh {
        /// The refresh token used is one that an earlier refresh answer did not replace.
        kept: bool,
    },
}

impl TokenCall {
    pub fn describe(self) -> &'static str {
        match self {
            TokenCall::ClientCredentials => "the client-credentials token request",
            TokenCall::AuthorizationCode => "the authorization-code exchange",
            TokenCall::Refresh { .. } => "the refresh-token request",
        }
    }
}

/// What one exchange of a [`Sent`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// A SCIM request (the one asked for, or its retry after a refresh).
    Scim { credential: CredentialSent },
    /// A request to the token endpoint.
    Token(TokenCall),
    /// The request to the authorization endpoint (followed by idpsim, as a browser would).
    Authorize,
}

/// Why the IdP cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    /// The SCIM server answered 401, or 403 to a lapsed credential.
    Scim {
        status: u16,
        /// The refusal came after a refresh (the server refused a fresh token too).
        after_refresh: bool,
        /// The IdP could have renewed the credential (a refresh it did not do: 403 is not 401).
        renewable: bool,
    },
    /// The token endpoint issued no token (or none the IdP could read).
    Token { call: TokenCall, why: String },
    /// The code grant has no refresh token to renew with, or no way to get a code.
    NoGrant { why: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Index in [`Sent::exchanges`] of the answer that refused (none when nothing was sent).
    pub exchange: Option<usize>,
    pub kind: RefusalKind,
    /// idpsim had let the credential lapse: a refusal is what a correct server does.
    pub lapsed: bool,
}

/// What the IdP does when the SCIM server says 401.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthPolicy {
    /// Renew the credential once (refresh, or a new client-credentials token) and resend.
    pub renew_on_401: bool,
}

/// One request as the IdP sends it, with the token requests it took.
#[derive(Debug)]
pub struct Sent {
    /// In order: token requests, the request, a refresh, the retry.
    pub exchanges: Vec<(Exchange, Leg)>,
    /// The answer the caller acts on (the last SCIM answer; status 0 when none was sent).
    pub raw: RawResponse,
    /// Index in `exchanges` of that answer.
    pub answer: Option<usize>,
    pub refused: Option<Refusal>,
}

struct Access {
    token: String,
    obtained: Instant,
    /// From `expires_in`, when the server said.
    lifetime: Option<Duration>,
}

struct TokenState {
    access: Option<Access>,
    /// Bumped with every new credential, so concurrent refreshers refresh once.
    generation: u64,
    /// Requests sent with the current credential, and since when it is held.
    uses: u64,
    since: Instant,
    /// Lapsed by [`Lapse`] or by `expire_now`.
    lapsed: bool,
}

impl TokenState {
    /// No token yet, nothing sent.
    fn fresh() -> TokenState {
        TokenState {
            access: None,
            generation: 0,
            uses: 0,
            since: Instant::now(),
            lapsed: false,
        }
    }
}

/// The refresh token of a code grant, shared by the sessions of a run.
#[derive(Default)]
pub struct RefreshStore {
    token: Option<String>,
    /// The last refresh answer carried no new refresh token, so the old one was kept.
    kept: bool,
    file: Option<PathBuf>,
    /// The first refresh token came from the user, who may reuse it: a rotation is worth a note.
    given: bool,
}

/// The credentials of one IdP app instance and what they were issued.
pub struct AuthSession {
    auth: Arc<Auth>,
    refresh: Arc<tokio::sync::Mutex<RefreshStore>>,
    state: tokio::sync::Mutex<TokenState>,
    lapse: Lapse,
}

/// Well before the server's own deadline: the IdP renews a token about to expire rather than
/// send one that lapses in flight.
const EXPIRY_SKEW: Duration = Duration::from_secs(30);

impl AuthSession {
    pub fn new(auth: Auth, lapse: Lapse) -> AuthSession {
        let mut store = RefreshStore::default();
        if let Auth::OAuth(c) = &auth {
            if let Grant::AuthorizationCode(g) = &c.grant {
                store.token = g.refresh_token.clone();
                store.file = g.refresh_token_file.clone();
                store.given = store.token.is_some();
            }
        }
        AuthSession {
            auth: Arc::new(auth),
            refresh: Arc::new(tokio::sync::Mutex::new(store)),
            state: tokio::sync::Mutex::new(TokenState::fresh()),
            lapse,
        }
    }

    /// Another app instance of the same client: its own token and lapse, the same refresh token.
    pub fn sibling(&self, lapse: Lapse) -> AuthSession {
        AuthSession {
            auth: Arc::clone(&self.auth),
            refresh: Arc::clone(&self.refresh),
            state: tokio::sync::Mutex::new(TokenState::fresh()),
            lapse,
        }
    }

    /// The same app instance as it really stands at the server: its current token, not lapsed
    /// and never lapsing. idpsim's own cleanup uses it, so a lapse the scenario played does not
    /// leave its resources behind (the server never expired that token; idpsim pretended).
    pub async fn unlapsed(&self) -> AuthSession {
        let state = self.state.lock().await;
        AuthSession {
            auth: Arc::clone(&self.auth),
            refresh: Arc::clone(&self.refresh),
            state: tokio::sync::Mutex::new(TokenState {
                access: state.access.as_ref().map(|a| Access {
                    token: a.token.clone(),
                    obtained: a.obtained,
                    lifetime: a.lifetime,
                }),
                generation: state.generation,
                uses: 0,
                since: Instant::now(),
                lapsed: false,
            }),
            lapse: Lapse::default(),
        }
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn mode(&self) -> AuthMode {
        self.auth.mode()
    }

    /// The credential lapses now (a scenario's `expire_token` step).
    pub async fn expire_now(&self) {
        self.state.lock().await.lapsed = true;
    }

    /// The Authorization value a dry run shows: the current one, or a placeholder for a token
    /// not yet issued. Never blocks.
    pub(crate) fn current_header(&self) -> Option<String> {
        if let Some(h) = self.auth.static_header(false) {
            return Some(h);
        }
        match &*self.auth {
            Auth::OAuth(_) => Some(match self.state.try_lock() {
                Ok(s) => match &s.access {
                    Some(a) => format!("Bearer {}", a.token),
                    None => "Bearer (access token)".to_string(),
                },
                Err(_) => "Bearer (access token)".to_string(),
            }),
            _ => None,
        }
    }

    /// The Authorization value as issued so far, without counting a use or fetching a token:
    /// `None` for an OAuth client that has no token yet.
    pub(crate) fn issued_header(&self) -> Option<String> {
        if let Some(h) = self.auth.static_header(false) {
            return Some(h);
        }
        let state = self.state.try_lock().ok()?;
        state.access.as_ref().map(|a| format!("Bearer {}", a.token))
    }

    /// Whether a 401 can be answered by getting a new credential.
    pub fn renewable(&self) -> bool {
        matches!(&*self.auth, Auth::OAuth(_))
    }
}

/// The credential for one request.
struct Credential {
    header: Option<String>,
    sent: CredentialSent,
    generation: u64,
}

/// A token answer as the IdP reads it.
struct Issued {
    access: String,
    lifetime: Option<Duration>,
    refresh: Option<String>,
}

impl Transport {
    /// Sends one request as an IdP does: with its credential, getting a token first when it has
    /// none or it expired, and — when `policy` says — renewing once and resending after a 401.
    /// Never fails: what went wrong is in the exchanges and in `refused`.
    pub async fn send_as(&self, req: &OutgoingRequest, policy: AuthPolicy) -> Sent {
        let mut legs: Vec<(Exchange, Leg)> = Vec::new();
        // A request that carries its own Authorization (a step testing a bad token) is sent as
        // it is: the session's credential is not used, counted or renewed.
        if !req.with_auth || req.has_header("authorization") {
            let (exchange, raw) = self.send_with(req, None).await;
            let credential = if req.has_header("authorization") {
                CredentialSent::Foreign
            } else {
                CredentialSent::None
            };
            legs.push((exchange, Leg::Scim { credential }));
            return Sent {
                exchanges: legs,
                raw,
                answer: Some(0),
                refused: None,
            };
        }
        let session = Arc::clone(&self.session);
        let cred = match self.credential(&session, &mut legs).await {
            Ok(c) => c,
            Err(refusal) => {
                return Sent {
                    exchanges: legs,
                    raw: RawResponse::default(),
                    answer: None,
                    refused: Some(refusal),
                }
            }
        };
        let (exchange, raw) = self.send_with(req, cred.header.clone()).await;
        legs.push((
            exchange,
            Leg::Scim {
                credential: cred.sent,
            },
        ));
        let first = legs.len() - 1;
        let lapsed = cred.sent == CredentialSent::Lapsed;
        let refused_status = raw.status == 401 || (raw.status == 403 && lapsed);
        if !refused_status || cred.sent == CredentialSent::None {
            return Sent {
                exchanges: legs,
                raw,
                answer: Some(first),
                refused: None,
            };
        }
        let renewable = session.renewable();
        if !(policy.renew_on_401 && renewable && raw.status == 401) {
            let status = raw.status;
            return Sent {
                exchanges: legs,
                raw,
                answer: Some(first),
                refused: Some(Refusal {
                    exchange: Some(first),
                    kind: RefusalKind::Scim {
                        status,
                        after_refresh: false,
                        renewable: renewable && policy.renew_on_401,
                    },
                    lapsed,
                }),
            };
        }
        // Renew once and resend (Okta: "refresh once, then the app shows an error").
        let renewed = match self.renew(&session, cred.generation, &mut legs).await {
            Ok(c) => c,
            Err(refusal) => {
                return Sent {
                    exchanges: legs,
                    raw,
                    answer: Some(first),
                    refused: Some(Refusal { lapsed, ..refusal }),
                }
            }
        };
        let (exchange, raw) = self.send_with(req, renewed.header.clone()).await;
        legs.push((
            exchange,
            Leg::Scim {
                credential: renewed.sent,
            },
        ));
        let retry = legs.len() - 1;
        let refused = (raw.status == 401
            || (raw.status == 403 && renewed.sent == CredentialSent::Lapsed))
            .then(|| Refusal {
                exchange: Some(retry),
                kind: RefusalKind::Scim {
                    status: raw.status,
                    after_refresh: true,
                    renewable: true,
                },
                lapsed: renewed.sent == CredentialSent::Lapsed,
            });
        Sent {
            exchanges: legs,
            raw,
            answer: Some(retry),
            refused,
        }
    }

    /// The Authorization value for a request sent without recording (`send_raw`), taken as
    /// `send_as` takes it — a token fetched first when there is none, the use counted, a lapse
    /// played — or none when the request carries its own or none at all. `Err` when no
    /// credential could be had (the token endpoint refused): the request is not sent.
    pub(crate) async fn raw_credential(&self, req: &OutgoingRequest) -> Result<Option<String>, ()> {
        if !req.with_auth || req.has_header("authorization") {
            return Ok(None);
        }
        let mut legs = Vec::new();
        match self.credential(&self.session, &mut legs).await {
            Ok(c) => Ok(c.header),
            Err(_) => Err(()),
        }
    }

    /// The credential for the next request: counting the use, letting it lapse when told, and
    /// getting a token first when there is none or the server's `expires_in` has run out.
    async fn credential(
        &self,
        session: &AuthSession,
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<Credential, Refusal> {
        let mut state = session.state.lock().await;
        if matches!(&*session.auth, Auth::None) {
            return Ok(Credential {
                header: None,
                sent: CredentialSent::None,
                generation: state.generation,
            });
        }
        if let Auth::OAuth(client) = &*session.auth {
            let expired = state.access.as_ref().is_none_or(|a| {
                a.lifetime
                    .is_some_and(|l| a.obtained.elapsed() + EXPIRY_SKEW.min(l / 2) >= l)
            });
            // A lapsed token stays lapsed until a 401 makes the IdP renew it: the IdP does not
            // know it lapsed (the server expired it early).
            if expired && !state.lapsed {
                let issued = self.obtain(session, client, legs).await?;
                self.install(&mut state, issued);
            }
        }
        if !state.lapsed && session.lapse.reached(state.uses, state.since) {
            state.lapsed = true;
        }
        state.uses += 1;
        let lapsed = state.lapsed;
        let header = match &*session.auth {
            Auth::OAuth(_) => state.access.as_ref().map(|a| {
                if lapsed {
                    format!("Bearer {}{LAPSED_SUFFIX}", a.token)
                } else {
                    format!("Bearer {}", a.token)
                }
            }),
            other => other.static_header(lapsed),
        };
        Ok(Credential {
            header,
            sent: if lapsed {
                CredentialSent::Lapsed
            } else {
                CredentialSent::Valid
            },
            generation: state.generation,
        })
    }

    /// A new credential after a 401, unless another request already renewed the one it used.
    async fn renew(
        &self,
        session: &AuthSession,
        used: u64,
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<Credential, Refusal> {
        let mut state = session.state.lock().await;
        if state.generation == used {
            let Auth::OAuth(client) = &*session.auth else {
                return Err(Refusal {
                    exchange: None,
                    kind: RefusalKind::NoGrant {
                        why: "a static credential cannot be renewed".into(),
                    },
                    lapsed: false,
                });
            };
            let issued = match &client.grant {
                Grant::ClientCredentials => {
                    self.token_request(client, TokenCall::ClientCredentials, &[], legs)
                        .await?
                }
                Grant::AuthorizationCode(_) => self.refresh(session, client, legs).await?,
            };
            self.install(&mut state, issued);
        }
        state.uses += 1;
        let header = state.access.as_ref().map(|a| format!("Bearer {}", a.token));
        Ok(Credential {
            header,
            sent: CredentialSent::Valid,
            generation: state.generation,
        })
    }

    fn install(&self, state: &mut TokenState, issued: Issued) {
        state.access = Some(Access {
            token: issued.access,
            obtained: Instant::now(),
            lifetime: issued.lifetime,
        });
        state.generation += 1;
        state.uses = 0;
        state.since = Instant::now();
        state.lapsed = false;
    }

    /// The first token (or a new one when the old expired): client credentials, a refresh, or
    /// the authorization-code dance when there is no refresh token yet.
    async fn obtain(
        &self,
        session: &AuthSession,
        client: &OAuthClient,
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<Issued, Refusal> {
        match &client.grant {
            Grant::ClientCredentials => {
                self.token_request(client, TokenCall::ClientCredentials, &[], legs)
                    .await
            }
            Grant::AuthorizationCode(grant) => {
                if session.refresh.lock().await.token.is_some() {
                    return self.refresh(session, client, legs).await;
                }
                let (code, redirect_uri) = self.authorize(client, grant, legs).await?;
                self.redactor.add_secret(&code);
                let issued = self
                    .token_request(
                        client,
                        TokenCall::AuthorizationCode,
                        &[
                            ("code", code.as_str()),
                            ("redirect_uri", redirect_uri.as_str()),
                        ],
                        legs,
                    )
                    .await?;
                let mut store = session.refresh.lock().await;
                self.keep_refresh_token(&mut store, &issued, false);
                Ok(issued)
            }
        }
    }

    /// A refresh (RFC 6749 §6), one at a time per run: a rotating server invalidates the token
    /// used, so two sessions must not refresh with the same one.
    async fn refresh(
        &self,
        session: &AuthSession,
        client: &OAuthClient,
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<Issued, Refusal> {
        let mut store = session.refresh.lock().await;
        let Some(token) = store.token.clone() else {
            return Err(Refusal {
                exchange: None,
                kind: RefusalKind::NoGrant {
                    why: "the authorization server issued no refresh token, so the access token cannot be renewed".into(),
                },
                lapsed: false,
            });
        };
        let issued = self
            .token_request(
                client,
                TokenCall::Refresh { kept: store.kept },
                &[("refresh_token", token.as_str())],
                legs,
            )
            .await?;
        self.keep_refresh_token(&mut store, &issued, true);
        Ok(issued)
    }

    /// Keeps the refresh token of a token answer: a new one replaces the old (and is written
    /// where the user said); without one, a refresh keeps the old (RFC 6749 §6).
    fn keep_refresh_token(&self, store: &mut RefreshStore, issued: &Issued, refreshing: bool) {
        match &issued.refresh {
            Some(new) => {
                let rotated = store.token.as_deref() != Some(new.as_str());
                store.token = Some(new.clone());
                store.kept = false;
                if rotated {
                    if let Some(path) = store.file.clone() {
                        if let Err(e) = persist_refresh_token(&path, new) {
                            eprintln!(
                                "warning: could not write the rotated refresh token to {}: {e}",
                                path.display()
                            );
                        }
                    } else if refreshing && store.given {
                        warn_rotation_once();
                    }
                }
            }
            None if refreshing => store.kept = true,
            None => {}
        }
    }

    /// One request to the token endpoint (RFC 6749 §4.1.3, §4.4.2, §6), recorded as a leg.
    async fn token_request(
        &self,
        client: &OAuthClient,
        call: TokenCall,
        extra: &[(&str, &str)],
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<Issued, Refusal> {
        let grant_type = match call {
            TokenCall::ClientCredentials => "client_credentials",
            TokenCall::AuthorizationCode => "authorization_code",
            TokenCall::Refresh { .. } => "refresh_token",
        };
        let mut pairs: Vec<(&str, &str)> = vec![("grant_type", grant_type)];
        pairs.extend_from_slice(extra);
        if call != TokenCall::AuthorizationCode {
            if let Some(scope) = client.scope.as_deref() {
                pairs.push(("scope", scope));
            }
        }
        if let Some(resource) = client.resource.as_deref() {
            pairs.push(("resource", resource));
        }
        let mut req = OutgoingRequest::to_url("POST", &client.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        match client.client_auth {
            ClientAuth::Post => {
                pairs.push(("client_id", client.client_id.as_str()));
                pairs.push(("client_secret", client.client_secret.as_str()));
            }
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: the id and secret are form-encoded before the Basic encoding.
                let basic = base64(
                    format!(
                        "{}:{}",
                        form_encode(&client.client_id),
                        form_encode(&client.client_secret)
                    )
                    .as_bytes(),
                );
                req = req.header("Authorization", &format!("Basic {basic}"));
                if call == TokenCall::AuthorizationCode {
                    pairs.push(("client_id", client.client_id.as_str()));
                }
            }
        }
        req.body = Some(OutgoingBody::Raw(form_body(&pairs)));
        req.with_auth = false;
        let (exchange, raw) = self.send_with(&req, None).await;
        legs.push((exchange, Leg::Token(call)));
        let index = legs.len() - 1;
        let refuse = |why: String| Refusal {
            exchange: Some(index),
            kind: RefusalKind::Token { call, why },
            lapsed: false,
        };
        let issued = read_token(&raw, &legs[index].0).map_err(refuse)?;
        self.redactor.add_secret(&issued.access);
        if let Some(r) = &issued.refresh {
            self.redactor.add_secret(r);
        }
        Ok(issued)
    }

    /// The authorization request (RFC 6749 §4.1.1) and the code it brings back on the loopback
    /// redirect (RFC 8252 §7.3).
    async fn authorize(
        &self,
        client: &OAuthClient,
        grant: &CodeGrant,
        legs: &mut Vec<(Exchange, Leg)>,
    ) -> Result<(String, String), Refusal> {
        let no_grant = |why: String| Refusal {
            exchange: None,
            kind: RefusalKind::NoGrant { why },
            lapsed: false,
        };
        let Some(authorize_url) = grant.authorize_url.as_deref() else {
            return Err(no_grant(
                "there is no refresh token and no authorization URL to get a code from".into(),
            ));
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", grant.redirect.port))
            .await
            .map_err(|e| {
                no_grant(format!(
                    "cannot listen for the redirect on 127.0.0.1:{}: {e}",
                    grant.redirect.port
                ))
            })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(grant.redirect.port);
        let redirect_uri = format!("http://127.0.0.1:{port}{}", grant.redirect.path);
        let state = crate::support::text::random_hex(32);
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("state", state.as_str()),
        ];
        if let Some(scope) = client.scope.as_deref() {
            query.push(("scope", scope));
        }
        let sep = if authorize_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{authorize_url}{sep}{}", form_body(&query));
        let wait = grant.redirect.wait;
        let received = tokio::spawn(receive_redirect(
            listener,
            grant.redirect.path.clone(),
            wait,
        ));
        if grant.redirect.follow {
            // As a browser: request the authorization URL, then follow its redirect (which
            // lands on the listener above).
            let (exchange, raw) = self
                .send_with(&OutgoingRequest::to_url("GET", &url), None)
                .await;
            legs.push((exchange, Leg::Authorize));
            let location = raw
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.clone());
            match location {
                Some(loc) if (300..400).contains(&raw.status) && loc.starts_with(&redirect_uri) => {
                    let (exchange, _) = self
                        .send_with(&OutgoingRequest::to_url("GET", &loc), None)
                        .await;
                    legs.push((exchange, Leg::Authorize));
                }
                _ => {
                    received.abort();
                    return Err(Refusal {
                        exchange: Some(legs.len() - 1),
                        kind: RefusalKind::NoGrant {
                            why: format!(
                                "the authorization endpoint answered {} without redirecting to {redirect_uri}",
                                raw.status
                            ),
                        },
                        lapsed: false,
                    });
                }
            }
        } else {
            eprintln!(
                "idpsim: to authorize idpsim as the IdP, open this URL in a browser (waiting {}s for the redirect to {redirect_uri}):\n  {url}",
                wait.as_secs()
            );
        }
        let params = received
            .await
            .map_err(|e| no_grant(format!("the redirect listener failed: {e}")))?
            .map_err(no_grant)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if let Some(code) = get("code") {
            self.redactor.add_secret(&code);
        }
        if get("state").as_deref() != Some(state.as_str()) {
            return Err(no_grant(
                "the redirect's state is not the one sent (RFC 6749 §10.12)".into(),
            ));
        }
        if let Some(error) = get("error") {
            return Err(no_grant(format!(
                "the authorization server answered error={error}"
            )));
        }
        match get("code") {
            Some(code) => Ok((code, redirect_uri)),
            None => Err(no_grant("the redirect carries no code".into())),
        }
    }
}

/// Reads a token answer as an IdP does (RFC 6749 §5.1): a JSON object with `access_token`.
fn read_token(raw: &RawResponse, exchange: &Exchange) -> Result<Issued, String> {
    if let Some(e) = &exchange.error {
        if exchange.response.is_none() {
            return Err(format!("no answer: {}", e.message));
        }
    }
    let body = raw.body.as_ref().filter(|b| b.is_object());
    if raw.status != 200 {
        let error = body
            .and_then(|b| b.get("error"))
            .and_then(Value::as_str)
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        return Err(format!("answered {}{error}", raw.status));
    }
    let Some(body) = body else {
        return Err("answered 200 without a JSON object".into());
    };
    if let Some(error) = body.get("error").and_then(Value::as_str) {
        return Err(format!("answered 200 with error {error}"));
    }
    let Some(access) = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err("answered without an access_token".into());
    };
    let lifetime = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        // Lenient as clients are: "3600".
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s > 0.0)
    .map(|s| Duration::from_secs_f64(s.min(10.0 * 365.0 * 86400.0)));
    Ok(Issued {
        access: access.to_string(),
        lifetime,
        refresh: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    })
}

/// Waits for one request on the redirect path and returns its query parameters; answers the
/// browser with a short page. Other requests (a favicon) get a 404 and the wait goes on.
async fn receive_redirect(
    listener: tokio::net::TcpListener,
    path: String,
    wait: Duration,
) -> Result<Vec<(String, String)>, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (mut socket, _) = tokio::time::timeout_at(deadline, listener.accept())
            .await
            .map_err(|_| format!("no redirect arrived within {}s", wait.as_secs()))?
            .map_err(|e| format!("the redirect listener failed: {e}"))?;
        let mut buf = vec![0u8; 16 * 1024];
        let mut read = 0;
        // The request line is all that is needed; read until the end of the head or the cap.
        while read < buf.len() {
            let n =
                match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf[read..]))
                    .await
                {
                    Ok(Ok(n)) => n,
                    _ => break,
                };
            if n == 0 {
                break;
            }
            read += n;
            if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..read]);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("");
        let (p, query) = target.split_once('?').unwrap_or((target, ""));
        if p != path {
            let _ = socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let page = "<!doctype html><title>idpsim</title><p>idpsim received the authorization response. You can close this tab.</p>";
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
        return Ok(crate::support::text::form_pairs(query));
    }
}

/// Writes the rotated refresh token where the user said, readable by the user alone, replacing
/// the file whole (a crash leaves the old token or the new one, never half of one).
fn persist_refresh_token(path: &std::path::Path, token: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "refresh-token".into()),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Reads a refresh token file (its first line), or `None` when the file is not there.
pub fn read_refresh_token_file(path: &std::path::Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .next()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path.display(), e)),
    }
}

/// Said once per run: the server rotated the refresh token and idpsim was not told where to keep
/// it, so the one given will not work next time (RFC 6749 §6).
fn warn_rotation_once() {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        eprintln!("note: the authorization server rotated the refresh token; the one idpsim was given may no longer work. Pass --oauth-refresh-token-file FILE to keep the new one.");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_by_name() {
        for m in AuthMode::ALL {
            assert_eq!(AuthMode::from_name(m.name()), Some(*m));
        }
        assert_eq!(AuthMode::from_name("OAuth_Code"), Some(AuthMode::OAuthCode));
        assert_eq!(AuthMode::from_name("kerberos"), None);
    }

    #[test]
    fn lapse_takes_requests_or_a_duration() {
        assert_eq!(
            Lapse::parse("3"),
            Ok(Lapse {
                after_requests: Some(3),
                after: None
            })
        );
        assert_eq!(
            Lapse::parse("30s"),
            Ok(Lapse {
                after_requests: None,
                after: Some(Duration::from_secs(30))
            })
        );
        assert!(Lapse::parse("0").is_err());
        assert!(Lapse::parse("soon").is_err());
    }

    #[test]
    fn static_credentials_and_their_lapsed_form() {
        let bearer = Auth::Bearer("t0k3n".into());
        assert_eq!(bearer.static_header(false).as_deref(), Some("Bearer t0k3n"));
        assert_eq!(
            bearer.static_header(true).as_deref(),
            Some("Bearer t0k3n-expired")
        );
        let header = Auth::Header("SSWS raw-value".into());
        assert_eq!(
            header.static_header(false).as_deref(),
            Some("SSWS raw-value")
        );
        assert!(header.secrets().contains(&"raw-value".to_string()));
        let basic = Auth::Basic {
            user: "u".into(),
            password: "p".into(),
        };
        assert_eq!(basic.static_header(false).as_deref(), Some("Basic dTpw"));
    }

    #[test]
    fn token_answers_are_read_as_rfc_6749_says() {
        let ok = |body: Value| RawResponse {
            status: 200,
            headers: vec![],
            body: Some(body),
        };
        let ex = |raw: &RawResponse| {
            use crate::transport::exchange::fixture;
            fixture::exchange(
                fixture::request("POST", "http://x/token", &[]),
                fixture::response(raw.status, &[], raw.body.clone(), None),
            )
        };
        let raw = ok(
            serde_json::json!({"access_token": "a", "token_type": "Bearer", "expires_in": "3600", "refresh_token": "r"}),
        );
        let issued = read_token(&raw, &ex(&raw)).expect("a token");
        assert_eq!(issued.access, "a");
        assert_eq!(issued.lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(issued.refresh.as_deref(), Some("r"));
        let raw = ok(serde_json::json!({"error": "invalid_grant"}));
        assert_eq!(
            read_token(&raw, &ex(&raw)).err().as_deref(),
            Some("answered 200 with error invalid_grant")
        );
        let raw = RawResponse {
            status: 400,
            headers: vec![],
            body: Some(serde_json::json!({"error": "invalid_client"})),
        };
        assert_eq!(
            read_token(&raw, &ex(&raw)).err().as_deref(),
            Some("answered 400 invalid_client")
        );
        let raw = RawResponse {
            status: 200,
            headers: vec![],
            body: None,
        };
        assert!(read_token(&raw, &ex(&raw)).is_err());
    }

    #[test]
    fn a_rotated_refresh_token_is_written_for_the_user_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rt");
        persist_refresh_token(&path, "new-refresh").expect("written");
        assert_eq!(
            read_refresh_token_file(&path).ok().flatten().as_deref(),
            Some("new-refresh")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            read_refresh_token_file(&dir.path().join("absent")).ok(),
            Some(None)
        );
    }
}
