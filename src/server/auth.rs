//! Who may call the reference server, and the OAuth 2.0 authorization server it also plays.
//!
//! - Resource requests carry one of the configured credentials: the static bearer token, the
//!   exact `Authorization` value of the header mode, HTTP Basic, or an access token this server
//!   issued and that has not expired. Without one the answer is 401 with a `WWW-Authenticate`
//!   challenge (RFC 7235 §3.1), `error="invalid_token"` when a token was presented (RFC 6750
//!   §3.1), and a SCIM error body (RFC 7644 §3.12).
//! - `POST /oauth2/token` issues tokens for the client credentials grant (RFC 6749 §4.4), the
//!   authorization code grant (§4.1.3) and refresh tokens (§6). A refresh rotates the refresh
//!   token and invalidates the old one at once (RFC 9700 §4.14.2). Clients authenticate with
//!   HTTP Basic or in the body (§2.3.1), never both. Answers are JSON with `Cache-Control:
//!   no-store` (§5.1); errors are 400 (401 for a bad client) with a registered code (§5.2).
//! - `GET /oauth2/authorize` approves at once (there is no person to ask) and redirects to the
//!   client's loopback redirect URI with a single-use code (RFC 8252 §7.3).
//!
//! The auth quirks (`auth-*`, `token-*`, `refresh-*`) bend exactly one of these answers each.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value};

use super::handlers::App;
use super::quirks::Quirk;
use super::response::ScimError;
use crate::support::text::{base64_decode, form_body, form_decode, form_pairs, random_hex};

/// Where the token endpoint lives, from the server's root (outside the SCIM base).
pub const TOKEN_PATH: &str = "/oauth2/token";
/// Where the authorization endpoint lives.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
/// An access token's lifetime unless configured: an hour, as tokens Entra accepts for gallery
/// apps last 60–360 minutes.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How long an authorization code is good for (RFC 6749 §4.1.2 recommends at most 10 minutes).
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The credentials the server accepts besides the static bearer token. `Debug` shows no secret.
#[derive(Clone, Default)]
pub struct ServerAuth {
    /// The exact `Authorization` value of the header mode (the admin types the whole value).
    pub header: Option<String>,
    /// HTTP Basic user and password.
    pub basic: Option<(String, String)>,
    /// The OAuth 2.0 client the token endpoint knows.
    pub oauth: Option<OAuthClientReg>,
}

impl std::fmt::Debug for ServerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerAuth")
            .field("header", &self.header.as_ref().map(|_| "<redacted>"))
            .field("basic", &self.basic.as_ref().map(|(u, _)| u))
            .field("oauth", &self.oauth.as_ref().map(|c| &c.client_id))
            .finish()
    }
}

#[derive(Clone)]
pub struct OAuthClientReg {
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of the access tokens issued.
    pub token_lifetime: Duration,
}

impl ServerAuth {
    /// Every credential freshly generated: what `idpsim run` gives the built-in server, so each
    /// auth mode can be played against it.
    pub fn generated() -> ServerAuth {
        ServerAuth {
            header: Some(format!("idpsim-header-{}", random_hex(32))),
            basic: Some(("idpsim".into(), random_hex(24))),
            oauth: Some(OAuthClientReg {
                client_id: format!("idpsim-client-{}", random_hex(8)),
                client_secret: random_hex(40),
                token_lifetime: DEFAULT_TOKEN_LIFETIME,
            }),
        }
    }
}

/// Issued tokens and codes, behind one lock (they are tiny and short-lived).
#[derive(Default)]
pub(crate) struct Tokens(Mutex<Tables>);

#[derive(Default)]
struct Tables {
    /// Access token → when it expires.
    access: HashMap<String, Instant>,
    /// Live refresh tokens.
    refresh: std::collections::HashSet<String>,
    /// Authorization code → the redirect URI it was issued for and its expiry.
    codes: HashMap<String, (String, Instant)>,
}

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a request's credentials are worth.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Granted,
    /// No Authorization header at all.
    Missing,
    /// Credentials that this server did not issue, or that expired.
    Invalid,
}

/// Constant-time equality so response timing does not reveal how much of a guessed token was
/// right. Length is not hidden (it is not secret in practice).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the server asks for credentials at all.
pub(crate) fn required(app: &App) -> bool {
    app.token.is_some()
        || app.auth.header.is_some()
        || app.auth.basic.is_some()
        || app.auth.oauth.is_some()
}

pub(crate) fn check(app: &App, headers: &HeaderMap) -> Access {
    if !required(app) {
        return Access::Granted;
    }
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Access::Missing;
    };
    let value = value.trim();
    if let Some(exact) = &app.auth.header {
        if ct_eq(value.as_bytes(), exact.as_bytes()) {
            return Access::Granted;
        }
    }
    // RFC 7235 §2.1: the scheme name is case-insensitive.
    let Some((scheme, cred)) = value.split_once(' ') else {
        return Access::Invalid;
    };
    let cred = cred.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if let Some(token) = &app.token {
            if ct_eq(cred.as_bytes(), token.as_bytes()) {
                return Access::Granted;
            }
        }
        let mut tables = app.tokens.lock();
        match tables.access.get(cred).copied() {
            Some(expires) if Instant::now() < expires => return Access::Granted,
            Some(_) => {
                tables.access.remove(cred);
            }
            None => {}
        }
    } else if scheme.eq_ignore_ascii_case("basic") {
        if let Some((user, password)) = &app.auth.basic {
            let given = base64_decode(cred).and_then(|b| String::from_utf8(b).ok());
            if let Some((u, p)) = given.as_deref().and_then(|g| g.split_once(':')) {
                if ct_eq(u.as_bytes(), user.as_bytes()) & ct_eq(p.as_bytes(), password.as_bytes()) {
                    return Access::Granted;
                }
            }
        }
    }
    Access::Invalid
}

/// The answer to a request without valid credentials: 401 with a challenge per scheme the
/// server takes (RFC 7235 §4.1), or what the quirks make of it.
pub(crate) fn refuse(app: &App, access: &Access) -> ScimError {
    let mut challenges = Vec::new();
    let mut bearer = "Bearer realm=\"idpsim\"".to_string();
    if *access == Access::Invalid {
        // RFC 6750 §3.1: no error code when the request carried no credentials.
        bearer.push_str(
            ", error=\"invalid_token\", error_description=\"the access token is expired, revoked or not one this server issued\"",
        );
    }
    challenges.push(bearer);
    if app.auth.basic.is_some() {
        challenges.push("Basic realm=\"idpsim\", charset=\"UTF-8\"".to_string());
    }
    let detail = match access {
        Access::Missing => "this endpoint requires credentials (an Authorization header)",
        _ => "the credentials are invalid or expired",
    };
    if *access == Access::Invalid && app.quirks.has(Quirk::Auth403InvalidToken) {
        return ScimError::new(StatusCode::FORBIDDEN, None, detail);
    }
    let mut e = ScimError::new(StatusCode::UNAUTHORIZED, None, detail);
    if !app.quirks.has(Quirk::AuthNoWwwAuthenticate) {
        e.challenge = Some(challenges.join(", "));
    }
    e
}

/// Whether this request is for one of the OAuth endpoints.
pub(crate) fn is_oauth_path(app: &App, path: &str) -> bool {
    app.auth.oauth.is_some() && (path == TOKEN_PATH || path == AUTHORIZE_PATH)
}

/// The OAuth endpoints: token and authorization.
pub(crate) async fn handle(app: &App, req: axum::extract::Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let Some(client) = app.auth.oauth.clone() else {
        return oauth_error(
            app,
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no such endpoint",
            None,
        );
    };
    match (parts.method.clone(), parts.uri.path()) {
        (Method::GET, AUTHORIZE_PATH) => authorize(app, &client, parts.uri.query().unwrap_or("")),
        (Method::POST, TOKEN_PATH) => {
            let bytes = match super::handlers::read_body(body, app.body_timeout).await {
                Ok(b) => b,
                Err(e) => return oauth_error(app, e.status, "invalid_request", &e.detail, None),
            };
            token(app, &client, &parts.headers, &bytes)
        }
        (m, _) => {
            let mut resp = oauth_error(
                app,
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                &format!("{m} is not allowed here"),
                None,
            );
            let allow = if parts.uri.path() == TOKEN_PATH {
                "POST"
            } else {
                "GET"
            };
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            resp
        }
    }
}

/// RFC 6749 §4.1.1–§4.1.2: approve at once and redirect with a code. A bad client or redirect URI
/// is not redirected to (§4.1.2.1): the answer is a 400 page.
fn authorize(app: &App, client: &OAuthClientReg, query: &str) -> Response<Body> {
    let params = form_pairs(query);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let plain = |status: StatusCode, text: &str| {
        let mut resp = Response::new(Body::from(text.to_string()));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    };
    if get("client_id") != Some(client.client_id.as_str()) {
        return plain(StatusCode::BAD_REQUEST, "unknown client_id");
    }
    let Some(redirect) = get("redirect_uri").filter(|r| is_loopback_redirect(r)) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "redirect_uri must be a loopback http URI (RFC 8252 §7.3)",
        );
    };
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut back: Vec<(&str, &str)> = Vec::new();
    let code = random_hex(40);
    if get("response_type") != Some("code") {
        back.push(("error", "unsupported_response_type"));
    } else {
        app.tokens.lock().codes.insert(
            code.clone(),
            (redirect.to_string(), Instant::now() + CODE_LIFETIME),
        );
        back.push(("code", &code));
    }
    if let Some(state) = get("state") {
        back.push(("state", state));
    }
    let location = format!("{redirect}{sep}{}", form_body(&back));
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `http://127.0.0.1:PORT/…`, `http://[::1]:PORT/…` or `http://localhost:PORT/…`.
fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// How the client authenticated to the token endpoint.
enum ClientAuthn {
    Ok,
    /// Wrong or missing credentials; `basic` when it tried HTTP Basic (§5.2: then 401).
    Failed {
        basic: bool,
    },
    /// More than one method (§2.3).
    Both,
}

fn authenticate_client(
    client: &OAuthClientReg,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> ClientAuthn {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
        .map(|(_, c)| c.trim().to_string());
    let in_body = get("client_secret");
    match (basic, in_body) {
        (Some(_), Some(_)) => ClientAuthn::Both,
        (Some(cred), None) => {
            // §2.3.1: id and secret are form-encoded inside the Basic credentials.
            let decoded = base64_decode(&cred).and_then(|b| String::from_utf8(b).ok());
            let ok = decoded
                .as_deref()
                .and_then(|d| d.split_once(':'))
                .is_some_and(|(id, secret)| {
                    ct_eq(form_decode(id).as_bytes(), client.client_id.as_bytes())
                        & ct_eq(
                            form_decode(secret).as_bytes(),
                            client.client_secret.as_bytes(),
                        )
                });
            if ok {
                ClientAuthn::Ok
            } else {
                ClientAuthn::Failed { basic: true }
            }
        }
        (None, Some(secret)) => {
            let ok = ct_eq(
                get("client_id").unwrap_or("").as_bytes(),
                client.client_id.as_bytes(),
            ) & ct_eq(secret.as_bytes(), client.client_secret.as_bytes());
            if ok {
                ClientAuthn::Ok
            } else {
                ClientAuthn::Failed { basic: false }
            }
        }
        (None, None) => ClientAuthn::Failed { basic: false },
    }
}

/// The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4.2, §6).
fn token(app: &App, client: &OAuthClientReg, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return oauth_error(
            app,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded (RFC 6749 §4.4.2)",
            None,
        );
    }
    let params = form_pairs(&String::from_utf8_lossy(body));
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match authenticate_client(client, headers, &params) {
        ClientAuthn::Ok => {}
        ClientAuthn::Both => {
            return oauth_error(
                app,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the client authenticated in more than one way (RFC 6749 §2.3)",
                None,
            )
        }
        ClientAuthn::Failed { basic } => {
            return oauth_error(
                app,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
                basic.then_some("Basic realm=\"idpsim\""),
            )
        }
    }
    let mut tables = app.tokens.lock();
    let refresh = match get("grant_type") {
        Some("client_credentials") => None,
        Some("authorization_code") => {
            let code = get("code").unwrap_or("");
            let Some((redirect, expires)) = tables.codes.remove(code) else {
                return oauth_error(
                    app,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown or used authorization code",
                    None,
                );
            };
            if Instant::now() >= expires {
                return oauth_error(
                    app,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the authorization code expired",
                    None,
                );
            }
            if get("redirect_uri") != Some(redirect.as_str()) {
                return oauth_error(
                    app,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri differs from the authorization request's (RFC 6749 §4.1.3)",
                    None,
                );
            }
            Some(random_hex(48))
        }
        Some("refresh_token") => {
            let old = get("refresh_token").unwrap_or("");
            if !tables.refresh.remove(old) {
                return oauth_error(
                    app,
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the refresh token is invalid, expired or already used",
                    None,
                );
            }
            // Rotation (RFC 9700 §4.14.2): the old one is gone; the new one is in the answer —
            // unless the quirk forgets to send it.
            (!app.quirks.has(Quirk::RefreshRevokedWithoutReplacement)).then(|| random_hex(48))
        }
        Some(other) => {
            return oauth_error(
                app,
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other} is not supported"),
                None,
            )
        }
        None => {
            return oauth_error(
                app,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
                None,
            )
        }
    };
    let access = random_hex(48);
    tables
        .access
        .insert(access.clone(), Instant::now() + client.token_lifetime);
    if let Some(r) = &refresh {
        tables.refresh.insert(r.clone());
    }
    // Expired access tokens are dropped now and then, so the table stays small.
    if tables.access.len() > 10_000 {
        let now = Instant::now();
        tables.access.retain(|_, e| *e > now);
    }
    drop(tables);
    let mut answer = vec![
        ("access_token", Value::String(access)),
        ("token_type", json!("Bearer")),
    ];
    if !app.quirks.has(Quirk::TokenNoExpiresIn) {
        answer.push(("expires_in", json!(client.token_lifetime.as_secs())));
    }
    if let Some(r) = refresh {
        answer.push(("refresh_token", Value::String(r)));
    }
    if let Some(scope) = get("scope") {
        answer.push(("scope", json!(scope)));
    }
    if app.quirks.has(Quirk::TokenFormEncoded) {
        let pairs: Vec<(&str, String)> = answer
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return oauth_body(
            StatusCode::OK,
            "application/x-www-form-urlencoded",
            form_body(&borrowed).into_bytes(),
            None,
        );
    }
    let body: serde_json::Map<String, Value> = answer
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    oauth_body(
        StatusCode::OK,
        "application/json; charset=utf-8",
        serde_json::to_vec(&Value::Object(body)).unwrap_or_default(),
        None,
    )
}

/// RFC 6749 §5.2: `{"error": code, "error_description": …}`, not cached.
fn oauth_error(
    app: &App,
    status: StatusCode,
    code: &str,
    description: &str,
    challenge: Option<&str>,
) -> Response<Body> {
    let _ = app;
    let body = json!({"error": code, "error_description": description});
    oauth_body(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(&body).unwrap_or_default(),
        challenge,
    )
}

fn oauth_body(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    challenge: Option<&str>,
) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // §5.1: token answers must not be cached.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(c) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert(header::WWW_AUTHENTICATE, c);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_redirects_are_accepted() {
        assert!(is_loopback_redirect("http://127.0.0.1:8765/callback"));
        assert!(is_loopback_redirect("http://localhost/cb?x=1"));
        assert!(is_loopback_redirect("http://[::1]:9/cb"));
        assert!(!is_loopback_redirect("https://127.0.0.1/cb"));
        assert!(!is_loopback_redirect("http://127.0.0.1.evil.example/cb"));
        assert!(!is_loopback_redirect("http://evil.example/cb#127.0.0.1"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let auth = ServerAuth::generated();
        let shown = format!("{auth:?}");
        let secret = auth.oauth.map(|c| c.client_secret).unwrap_or_default();
        assert!(!shown.contains(&secret));
        assert!(!shown.contains(auth.header.as_deref().unwrap_or("-")));
    }
}
