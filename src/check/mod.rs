//! Judging answers: the scenario's own expectations (`expect`) and the rules built into every
//! exchange (`rules`). Both produce `Finding`s; nothing here does I/O.

pub mod auth;
pub mod expect;
pub mod rules;

/// Short JSON text for diffs (long values are cut).
pub fn show(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Escapes a key for a JSON pointer (RFC 6901 §3).
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
