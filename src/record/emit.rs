//! A small block-style YAML writer for the files idpsim generates (recorded scenarios, state
//! files). Hand-written rather than a serializer because the output needs YAML tags
//! (`!type string`) and must stay readable and stable for snapshots.
//!
//! Strings are always double-quoted with JSON escapes, which YAML 1.2 reads identically, so a
//! value such as `"False"` or `"0012"` can never turn into a boolean or a number on the way back.

use serde_json::Value;

/// A YAML value as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
    /// Written double-quoted.
    Str(String),
    /// Written as is: numbers, booleans, null.
    Plain(String),
    /// A tagged scalar such as `!type string`.
    Tagged(&'static str, String),
}

impl Y {
    pub fn map() -> Self {
        Y::Map(Vec::new())
    }
    /// Appends a key to a map (no-op on other kinds).
    pub fn with(mut self, key: &str, value: Y) -> Self {
        if let Y::Map(entries) = &mut self {
            entries.push((key.to_string(), value));
        }
        self
    }
    pub fn is_empty_map(&self) -> bool {
        matches!(self, Y::Map(m) if m.is_empty())
    }
}

impl From<&Value> for Y {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => Y::Plain("null".into()),
            Value::Bool(b) => Y::Plain(b.to_string()),
            Value::Number(n) => Y::Plain(n.to_string()),
            Value::String(s) => Y::Str(s.clone()),
            Value::Array(items) => Y::Seq(items.iter().map(Y::from).collect()),
            Value::Object(m) => Y::Map(m.iter().map(|(k, v)| (k.clone(), Y::from(v))).collect()),
        }
    }
}

/// A double-quoted YAML scalar (JSON string syntax is valid YAML double-quoted syntax).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Keys stay plain when they cannot be misread; everything else is quoted.
fn key(k: &str) -> String {
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    ];
    let plain = !k.is_empty()
        && k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
        && !RESERVED.contains(&k.to_ascii_lowercase().as_str());
    if plain {
        k.to_string()
    } else {
        quote(k)
    }
}

fn inline(v: &Y) -> Option<String> {
    match v {
        Y::Str(s) => Some(quote(s)),
        Y::Plain(p) => Some(p.clone()),
        Y::Tagged(tag, arg) => Some(if arg.is_empty() {
            (*tag).to_string()
        } else {
            format!("{tag} {arg}")
        }),
        Y::Map(m) if m.is_empty() => Some("{}".into()),
        Y::Seq(s) if s.is_empty() => Some("[]".into()),
        _ => None,
    }
}

/// Writes `value` as the block body of a key at `indent` spaces (the text after `key:`).
fn write_value(out: &mut String, v: &Y, indent: usize) {
    if let Some(s) = inline(v) {
        out.push(' ');
        out.push_str(&s);
        out.push('\n');
        return;
    }
    out.push('\n');
    write_block(out, v, indent);
}

/// Writes a non-empty map or sequence as block lines at `indent` spaces.
pub fn write_block(out: &mut String, v: &Y, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Y::Map(entries) => {
            for (k, val) in entries {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push(':');
                write_value(out, val, indent + 2);
            }
        }
        Y::Seq(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Y::Map(entries) if !entries.is_empty() => {
                        // `- key: value` then the other keys aligned under the first.
                        let mut first = String::new();
                        write_block(&mut first, item, indent + 2);
                        out.push(' ');
                        out.push_str(first.trim_start());
                    }
                    Y::Seq(s) if !s.is_empty() => {
                        out.push('\n');
                        write_block(out, item, indent + 2);
                    }
                    other => {
                        write_value(out, other, indent + 2);
                    }
                }
            }
        }
        other => {
            if let Some(s) = inline(other) {
                out.push_str(&pad);
                out.push_str(&s);
                out.push('\n');
            }
        }
    }
}

/// A whole document (a top-level map).
pub fn document(v: &Y) -> String {
    let mut out = String::new();
    write_block(&mut out, v, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_the_scenario_yaml_reader() {
        let v = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "a@b.test", "active": "False", "n": 12, "yes": true,
            "name": {"givenName": "A", "x y": null},
            "members": [{"value": "1", "$ref": null}, [], {}],
            "empty": {}, "multi": "line\nbreak \"quoted\" {{ x }}"
        });
        let text = document(&Y::from(&v));
        let node = crate::scenario::yaml::parse_document(&text).expect("valid yaml");
        assert_eq!(node.to_json(), v, "{text}");
    }

    #[test]
    fn tags_are_written_bare() {
        let y = Y::map().with("id", Y::Tagged("!type", "string".into()));
        assert_eq!(document(&y), "id: !type string\n");
    }
}
