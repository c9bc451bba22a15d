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
    "apikey",
    "api_key",
];

#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: Vec<String>) -> Self {
        // Very short "secrets" would shred ordinary text; tokens and passwords are longer.
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets }
    }

    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
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
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let secret =
                            SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_null();
                        (
                            k.clone(),
                            if secret {
                                Value::String(REDACTED.into())
                            } else {
                                self.json(v)
                            },
                        )
                    })
                    .collect(),
            ),
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
}
