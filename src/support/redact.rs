//! Keeps secrets out of everything idpsim writes: Authorization-like headers, the run's tokens
//! and passwords wherever they appear, and `password`-like JSON members.

pub const REDACTED: &str = "[redacted]";

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];
const SECRET_KEYS: &[&str] = &[
    "password",
    "token",
    "secret",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "apikey",
    "api_key",
];

/// Whether a JSON member with this name holds a secret (any case): `password`, `token`, ….
pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str())
}

/// Whether a SCIM attribute path ends in a secret attribute: `password`,
/// `urn:…:User:password`, `credentials.token`.
fn path_names_secret(path: &str) -> bool {
    path.rsplit([':', '.', '/'])
        .next()
        .is_some_and(|last| is_secret_key(last.trim()))
}

/// A line quoted from a file a person wrote (a scenario, a state file) for a diagnostic or a
/// report: the values of secret-named keys are masked, so pointing at line 12 does not print the
/// password written on it. Keys as in [`SECRET_KEYS`], in YAML, JSON or TOML (`password: x`,
/// `"token": "x"`, `client_secret = "x"`), quoted or plain, block or flow style.
pub fn source_line(line: &str) -> String {
    static PATTERN: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)(["']?\b(?:password|passwd|token|secret|client_secret|access_token|refresh_token|id_token|api_?key)(_env)?["']?\s*[:=]\s*)("""[^\n]*|'''[^\n]*|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}\]#][^,}\]#]*)"#,
        )
        .ok()
    });
    match pattern {
        Some(re) => re
            .replace_all(line, |c: &regex::Captures| {
                // `token_env = "SCIM_TOKEN"` names a variable and stays; a value that is no
                // variable's name there is likely the token itself.
                let value = c[3].trim().trim_matches(['"', '\'']);
                if c.get(2).is_some() && is_variable_name(value) {
                    c[0].to_string()
                } else {
                    format!("{}\"{REDACTED}\"", &c[1])
                }
            })
            .into_owned(),
        // The pattern is a constant that compiles; should it not, hide the whole line rather
        // than risk showing a secret.
        None => REDACTED.to_string(),
    }
}

/// Whether `s` reads as an environment variable's name as people write them (`SCIM_TOKEN`):
/// capitals, digits and `_`, not starting with a digit. A token rarely does.
pub fn is_variable_name(s: &str) -> bool {
    s.len() <= 128
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// How many secrets learned from bodies are kept: enough for every request in flight to have its
/// answer redacted (an echo comes back within the same exchange), few enough that `text` stays
/// cheap when `load` sends a fresh password with each of a million users.
const LEARNED_LIMIT: usize = 64;

/// Whether a query or form parameter with this name carries a credential: `token`,
/// `access_token`, `api_key`, `client_secret`, `password`, `sig`, `code` (an authorization
/// code), …, in any case. `error_code` or `filter` do not.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    // What a credential is, not the credential: `token_type=bearer`, `token_url=…`.
    let about = [
        "_type",
        "_hint",
        "_in",
        "_at",
        "_uri",
        "_url",
        "_endpoint",
        "_method",
    ]
    .iter()
    .any(|s| name.ends_with(s));
    !about
        && [
            "token", "secret", "password", "passwd", "pwd", "apikey", "api_key", "api-key",
        ]
        .iter()
        .any(|w| name.contains(w))
        || matches!(
            name.as_str(),
            "key" | "code" | "sig" | "signature" | "auth" | "authorization" | "session"
        )
}

/// Credentials that text can carry in a URL or a form, whoever wrote it: the user-info of a URL
/// (`https://user:pw@host`, `https://token@host`) and the values of parameters named like
/// credentials ([`is_secret_param`]: `?token=…`, `&access_token=…`, `code=…`), form-encoded
/// bodies and authorization redirects included. A value's trailing `:`, `,`, `.`, `;` or `)`
/// is the sentence's, not the value's (`cannot reach https://h/?token=x: refused`).
fn credential_patterns() -> Option<&'static (regex::Regex, regex::Regex)> {
    static PATTERNS: std::sync::OnceLock<Option<(regex::Regex, regex::Regex)>> =
        std::sync::OnceLock::new();
    PATTERNS
        .get_or_init(|| {
            let userinfo =
                regex::Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s\x22'<>]+)@").ok()?;
            let param = regex::Regex::new(
                r"(?i)(^|[?&;\s\x22'(,])([a-z0-9_.\-\[\]]+)=([^&\s\x22'#<>]*[^&\s\x22'#<>:,.;)])",
            )
            .ok()?;
            Some((userinfo, param))
        })
        .as_ref()
}

/// [`credential_patterns`] masked in `s`: `https://user:[redacted]@host/…?token=[redacted]`.
/// Every URL idpsim prints (targets, upstreams, recorded paths, errors) goes through it, with
/// or without a [`Redactor`] at hand.
pub fn scrub(s: &str) -> String {
    if !s.contains('=') && !s.contains('@') {
        return s.to_string();
    }
    let Some((userinfo, param)) = credential_patterns() else {
        // The patterns are constants that compile; should they not, show nothing rather than
        // risk showing a credential.
        return REDACTED.to_string();
    };
    let out = userinfo.replace_all(s, |c: &regex::Captures| match c[2].split_once(':') {
        Some((user, _)) => format!("{}{user}:{REDACTED}@", &c[1]),
        None => format!("{}{REDACTED}@", &c[1]),
    });
    param
        .replace_all(&out, |c: &regex::Captures| {
            if is_secret_param(&c[2]) && c[3] != *REDACTED {
                format!("{}{}={REDACTED}", &c[1], &c[2])
            } else {
                c[0].to_string()
            }
        })
        .into_owned()
}

/// A URL as it may be shown: [`scrub`]bed, and a user-info masked even when the scheme is
/// missing (`user:pw@host/scim`, which does not parse as a URL and is quoted in the error).
pub fn url(u: &str) -> String {
    let shown = scrub(u);
    if shown.contains("://") {
        return shown;
    }
    let authority_end = shown.find(['/', '?', '#']).unwrap_or(shown.len());
    match shown[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &shown[..at];
            let masked = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:{REDACTED}"),
                None => REDACTED.to_string(),
            };
            format!("{masked}{}", &shown[at..])
        }
        None => shown,
    }
}

/// The values a header named like a credential carries (`Authorization: Bearer x` → `x` and
/// the whole value; `Cookie: a=1; s=x` → each cookie's value): given with `-H`, they are
/// secrets of the run like `--token`.
pub fn header_secrets(name: &str, value: &str) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    if !SECRET_HEADERS.contains(&lower.as_str()) {
        return Vec::new();
    }
    let mut out = vec![value.trim().to_string()];
    if let Some((_, credential)) = value.trim().split_once(' ') {
        out.push(credential.trim().to_string());
    }
    if lower.contains("cookie") {
        for pair in value.split(';') {
            if let Some((_, v)) = pair.split_once('=') {
                out.push(v.trim().to_string());
            }
        }
    }
    out
}

#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// Secrets learned while running that must never be forgotten (OAuth access and refresh
    /// tokens, authorization codes), unlike `learned`, which keeps only the latest few.
    issued: std::sync::RwLock<Vec<String>>,
    /// Values of secret members seen in bodies (a user's password), most recent last: a server
    /// that quotes the request back ("invalid password 'hunter2'") is masked too.
    learned: std::sync::RwLock<std::collections::VecDeque<String>>,
}

impl Redactor {
    pub fn new(secrets: Vec<String>) -> Self {
        // Very short "secrets" would shred ordinary text; tokens and passwords are longer.
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor {
            secrets,
            issued: Default::default(),
            learned: Default::default(),
        }
    }

    /// Adds a secret obtained while running (an access token, a refresh token, an authorization
    /// code), with its form-encoded spelling when that differs: everything recorded from now on
    /// masks it.
    pub fn add_secret(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        let mut issued = self.issued.write().unwrap_or_else(|e| e.into_inner());
        for spelling in [
            secret.to_string(),
            crate::support::text::form_encode(secret),
            crate::support::text::percent_encode(secret),
        ] {
            if !issued.contains(&spelling) && !self.secrets.contains(&spelling) {
                issued.push(spelling);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        issued.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        {
            let issued = self.issued.read().unwrap_or_else(|e| e.into_inner());
            for secret in issued.iter() {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), REDACTED);
                }
            }
        }
        out = scrub(&out);
        let learned = self.learned.read().unwrap_or_else(|e| e.into_inner());
        for secret in learned.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// A body sent as text (`raw_body:`): when it parses as JSON, the values of its secret
    /// members are learned first, so the text shows them masked as a JSON body would.
    pub fn raw(&self, s: &str) -> String {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
            let _ = self.json(&v);
        }
        self.text(s)
    }

    /// Remembers the strings in a secret member's value, so later text that quotes them is masked.
    fn learn(&self, v: &serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.len() >= 4 && !self.secrets.contains(s) => {
                let mut learned = self.learned.write().unwrap_or_else(|e| e.into_inner());
                if !learned.contains(s) {
                    if learned.len() >= LEARNED_LIMIT {
                        learned.pop_front();
                    }
                    learned.push_back(s.clone());
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| self.learn(i)),
            serde_json::Value::Object(map) => map.values().for_each(|i| self.learn(i)),
            _ => {}
        }
    }

    pub fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                if SECRET_HEADERS.contains(&lower.as_str()) {
                    // Keep the scheme: "Bearer [redacted]" still tells how the request authenticated.
                    let scheme = v
                        .split_once(' ')
                        .map(|(s, _)| s)
                        .filter(|s| s.len() < 16 && !s.contains('='));
                    let shown = match scheme {
                        Some(s) if lower.ends_with("authorization") => format!("{s} {REDACTED}"),
                        _ => REDACTED.to_string(),
                    };
                    (k.clone(), shown)
                } else {
                    (k.clone(), self.text(v))
                }
            })
            .collect()
    }

    pub fn json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.json(i)).collect()),
            Value::Object(map) => {
                // A PATCH operation that sets a secret by path carries it in `value`:
                // `{"op": "replace", "path": "password", "value": "…"}`.
                let secret_value = map
                    .get("path")
                    .and_then(Value::as_str)
                    .is_some_and(path_names_secret);
                Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let secret = (is_secret_key(k) || (secret_value && k == "value"))
                                && !v.is_null();
                            (
                                k.clone(),
                                if secret {
                                    self.learn(v);
                                    Value::String(REDACTED.into())
                                } else {
                                    self.json(v)
                                },
                            )
                        })
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_headers_tokens_and_passwords() {
        let r = Redactor::new(vec!["s3cr3t-token".into()]);
        let h = r.headers(&[
            ("Authorization".into(), "Bearer s3cr3t-token".into()),
            ("X-Trace".into(), "s3cr3t-token".into()),
        ]);
        assert_eq!(h[0].1, "Bearer [redacted]");
        assert_eq!(h[1].1, "[redacted]");
        let body = r.json(&json!({"userName": "a", "password": "4a9XuKkx", "nested": {"Token": "x"}, "note": "has s3cr3t-token"}));
        assert_eq!(
            body,
            json!({"userName": "a", "password": "[redacted]", "nested": {"Token": "[redacted]"}, "note": "has [redacted]"})
        );
    }

    #[test]
    fn patch_values_set_by_a_secret_path_and_their_echoes_are_redacted() {
        let r = Redactor::new(vec!["the-token".into()]);
        let patch = r.json(&json!({"Operations": [
            {"op": "replace", "path": "password", "value": "pw-echoed-1"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "pw-2"},
            {"op": "replace", "path": "displayName", "value": "Visible"}
        ]}));
        assert_eq!(patch["Operations"][0]["value"], REDACTED);
        assert_eq!(patch["Operations"][1]["value"], REDACTED);
        assert_eq!(patch["Operations"][2]["value"], "Visible");
        // A server that quotes the request back has the learned password masked.
        assert_eq!(
            r.text("bad password pw-echoed-1 (pw-2)"),
            "bad password [redacted] ([redacted])"
        );
        let body = r.json(&json!({"detail": "password pw-echoed-1 too weak"}));
        assert_eq!(body["detail"], "password [redacted] too weak");
    }

    #[test]
    fn secrets_issued_while_running_and_form_encoded_ones_are_redacted() {
        let r = Redactor::new(vec![]);
        r.add_secret("at/with+plus");
        assert_eq!(r.text("Bearer at/with+plus"), "Bearer [redacted]");
        assert_eq!(r.text("token=at%2Fwith%2Bplus"), "token=[redacted]");
        assert_eq!(
            r.text("access_token=gho_16C7e42F292c&scope=repo&token_type=bearer"),
            "access_token=[redacted]&scope=repo&token_type=bearer"
        );
        assert_eq!(
            r.text("http://127.0.0.1:9/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"),
            "http://127.0.0.1:9/cb?code=[redacted]&state=xyz"
        );
        assert_eq!(
            r.text("grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA"),
            "grant_type=refresh_token&refresh_token=[redacted]"
        );
        // Not a secret: an error code, a SCIM filter.
        assert_eq!(r.text("error_code=42"), "error_code=42");
        let body =
            r.json(&json!({"access_token": "x1y2z3", "id_token": "e.y.j", "expires_in": 3600}));
        assert_eq!(
            body,
            json!({"access_token": "[redacted]", "id_token": "[redacted]", "expires_in": 3600})
        );
    }

    #[test]
    fn quoted_source_lines_hide_secret_values() {
        for (line, shown) in [
            (
                r#"  body: { userName: a, password: "pw 1", active: true }"#,
                r#"  body: { userName: a, password: "[redacted]", active: true }"#,
            ),
            ("    password: hunter2", r#"    password: "[redacted]""#),
            (
                r#"{"token": "abc\"d", "x": 1}"#,
                r#"{"token": "[redacted]", "x": 1}"#,
            ),
            ("  Api_Key: 'k' # note", r#"  Api_Key: "[redacted]" # note"#),
            ("  userName: tokenless", "  userName: tokenless"),
            (
                r#"client_secret = "oops""#,
                r#"client_secret = "[redacted]""#,
            ),
            (r#"token = """abc"#, r#"token = "[redacted]""#),
            (r#"token_env = "SCIM_TOKEN""#, r#"token_env = "SCIM_TOKEN""#),
            (r#"token_env = "00aB-cd12""#, r#"token_env = "[redacted]""#),
        ] {
            assert_eq!(source_line(line), shown, "{line}");
        }
    }

    #[test]
    fn credentials_in_urls_and_forms_are_scrubbed_wherever_they_appear() {
        for (given, shown) in [
            (
                "http://u:pw@h:1/scim?token=t1&count=2",
                "http://u:[redacted]@h:1/scim?token=[redacted]&count=2",
            ),
            ("https://ghp_abc@h/x", "https://[redacted]@h/x"),
            (
                "http://[::1:9/s?token=t",
                "http://[::1:9/s?token=[redacted]",
            ),
            (
                "cannot reach https://a:b@h/?access_token=z: refused",
                "cannot reach https://a:[redacted]@h/?access_token=[redacted]: refused",
            ),
            (
                "/Users?filter=userName%20eq%20%22a%40b%22&api_key=k&sig=s",
                "/Users?filter=userName%20eq%20%22a%40b%22&api_key=[redacted]&sig=[redacted]",
            ),
            (
                "Client_Secret=cs&grant_type=x",
                "Client_Secret=[redacted]&grant_type=x",
            ),
            // Not credentials: an address, a code that is an error code, a token's type.
            ("mail alice@example.test", "mail alice@example.test"),
            (
                "error_code=42&token_type=bearer",
                "error_code=42&token_type=bearer",
            ),
            (
                "/Users?startIndex=1&count=10",
                "/Users?startIndex=1&count=10",
            ),
        ] {
            assert_eq!(scrub(given), shown, "{given}");
        }
    }

    #[test]
    fn a_url_without_its_scheme_still_hides_its_user_info() {
        assert_eq!(url("u:pw@h:9/scim"), "u:[redacted]@h:9/scim");
        assert_eq!(url("tok@h/scim?x=1"), "[redacted]@h/scim?x=1");
        assert_eq!(url("h/scim/a@b"), "h/scim/a@b");
    }

    #[test]
    fn headers_given_on_the_command_line_yield_their_secrets() {
        assert_eq!(
            header_secrets("authorization", "Bearer abc123"),
            ["Bearer abc123", "abc123"]
        );
        assert_eq!(header_secrets("X-Api-Key", "k1"), ["k1"]);
        assert!(header_secrets("Cookie", "a=1; s=zz9").contains(&"zz9".to_string()));
        assert!(header_secrets("X-Trace", "abc").is_empty());
    }
}
