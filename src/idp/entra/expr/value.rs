//! The value model (entra.md §6.3) and the conversion from a JSON source object.

use super::EvalError;
use serde_json::{Map, Value as Json};

/// A value as the Entra expression engine sees it.
///
/// * `Null` means "the attribute is absent" (entra.md §6.3). It is distinct from `Str("")`.
/// * Booleans are the strings `"True"` / `"False"` (.NET `Boolean.ToString()`, §5.2).
/// * Numbers and dates are strings too: Graph's parser keeps every constant as a string (§6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Str(String),
    Multi(Vec<String>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn bool(b: bool) -> Value {
        Value::Str(if b { "True" } else { "False" }.to_string())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Null, `""`, or an empty multi-valued attribute.
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            Value::Multi(v) => v.is_empty(),
        }
    }

    /// The value as one string, for functions that take a string argument.
    /// `Null` gives `None`. A multi-valued value with exactly one element is that element; with
    /// several elements it is a type error (documented choice, see the module docs).
    pub(crate) fn scalar(&self, what: &str) -> Result<Option<&str>, EvalError> {
        match self {
            Value::Null => Ok(None),
            Value::Str(s) => Ok(Some(s)),
            Value::Multi(v) => match v.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(one)),
                _ => Err(EvalError::new(format!(
                    "{what} expects a single value but got a multi-valued attribute with {} values",
                    v.len()
                ))),
            },
        }
    }

    /// The elements of the value: `Null` → none, `Str` → one, `Multi` → all.
    pub(crate) fn items(&self) -> Vec<&str> {
        match self {
            Value::Null => Vec::new(),
            Value::Str(s) => vec![s.as_str()],
            Value::Multi(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Multi(v) => write!(f, "{v:?}"),
        }
    }
}

/// JSON scalar → the string Entra would see: booleans `"True"`/`"False"`, numbers in decimal,
/// objects and nested arrays as compact JSON text. `null` gives `None`.
fn json_to_string(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(s.clone()),
        Json::Array(_) | Json::Object(_) => Some(v.to_string()),
    }
}

/// Converts one JSON source attribute. Arrays become `Multi` (null elements dropped); an empty
/// array is `Null`, because Entra treats an attribute without values as absent (§6.3).
pub fn from_json(v: &Json) -> Value {
    match v {
        Json::Array(items) => {
            let items: Vec<String> = items.iter().filter_map(json_to_string).collect();
            if items.is_empty() {
                Value::Null
            } else {
                Value::Multi(items)
            }
        }
        other => json_to_string(other).map_or(Value::Null, Value::Str),
    }
}

/// Looks an attribute up in the source object. An exact name match wins; otherwise the first
/// key that matches ignoring ASCII case (Entra's directory attribute names are case-insensitive:
/// the tutorial writes `isSoftDeleted`, the mappings `[IsSoftDeleted]`, entra.md §5.1).
pub fn lookup(source: &Map<String, Json>, name: &str) -> Value {
    if let Some(v) = source.get(name) {
        return from_json(v);
    }
    source
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or(Value::Null, |(_, v)| from_json(v))
}
