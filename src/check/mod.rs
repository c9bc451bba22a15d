//! Judging answers: the scenario's own expectations (`expect`) and the rules built into every
//! exchange (`rules`). Both produce `Finding`s, whose severity, consequence and citations come
//! from the rule catalogue (`catalogue`, citing `sources`) for the IdP under test; `history`
//! is what earlier exchanges of a scenario did. Nothing here does I/O.

pub mod auth;
pub mod catalogue;
pub mod expect;
pub mod history;
pub mod rules;
pub mod sources;

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

/// The JSON pointer of a SCIM attribute path in a resource: `name.givenName` is
/// `/name/givenName`; an extension attribute `urn:…:enterprise:2.0:User:department` lives in
/// the member named by its schema URN, `/urn:…:enterprise:2.0:User/department` — the URN's own
/// dots (`2.0`) are not path separators.
pub fn attribute_pointer(path: &str) -> String {
    let (urn, attr) = match path.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("urn:") => match path.rsplit_once(':') {
            Some((urn, attr)) => (Some(urn), attr),
            None => (None, path),
        },
        _ => (None, path),
    };
    let mut out = String::new();
    if let Some(urn) = urn {
        out.push('/');
        out.push_str(&pointer_token(urn));
    }
    for part in attr.split('.').filter(|p| !p.is_empty()) {
        out.push('/');
        out.push_str(&pointer_token(part));
    }
    out
}

#[cfg(test)]
mod tests;
