//! A YAML tree where every node knows its line and column.
//!
//! serde-based YAML crates lose positions once a value is deserialized, but idpsim points at the
//! scenario line of every failed expectation, so scenarios are read into this tree (from saphyr's
//! marked nodes) and converted to the model by hand in `parse.rs`.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use crate::support::diagnostic::Pos;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
    /// A YAML tag such as `!regex`, used for body matchers.
    pub tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own positions, for "unknown key" errors.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

impl Node {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
    /// The node as plain JSON (tags dropped), for values that are not templated.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
    /// A scalar rendered as text (numbers and booleans too), for keys like headers.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Parses one YAML document. An empty file is an error: a scenario needs content.
pub fn parse_document(text: &str) -> Result<Node, YamlError> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| {
        let m = e.marker();
        YamlError {
            pos: Pos::new(m.line(), m.col() + 1),
            message: e.info().to_string(),
        }
    })?;
    let mut docs = docs.into_iter();
    let Some(first) = docs.next() else {
        return Err(YamlError {
            pos: Pos::new(1, 1),
            message: "the file is empty".into(),
        });
    };
    if let Some(second) = docs.next() {
        let p = second.span.start;
        return Err(YamlError {
            pos: Pos::new(p.line(), p.col() + 1),
            message: "a scenario file holds one YAML document; found a second one".into(),
        });
    }
    convert(first, None)
}

fn convert(node: MarkedYamlOwned, tag: Option<String>) -> Result<Node, YamlError> {
    let pos = Pos::new(node.span.start.line(), node.span.start.col() + 1);
    let kind = match node.data {
        YamlDataOwned::Value(scalar) => scalar_kind(scalar),
        YamlDataOwned::Representation(text, _, _) => {
            scalar_kind(ScalarOwned::parse_from_cow(text.into()))
        }
        YamlDataOwned::Sequence(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|n| convert(n, None))
                .collect::<Result<_, _>>()?,
        ),
        YamlDataOwned::Mapping(map) => {
            let mut entries: Vec<(Key, Node)> = Vec::with_capacity(map.len());
            for (k, v) in map {
                let kpos = Pos::new(k.span.start.line(), k.span.start.col() + 1);
                let name = match &k.data {
                    YamlDataOwned::Value(s) => scalar_text(s),
                    YamlDataOwned::Representation(t, _, _) => t.clone(),
                    _ => {
                        return Err(YamlError {
                            pos: kpos,
                            message: "mapping keys must be plain strings".into(),
                        })
                    }
                };
                if entries.iter().any(|(existing, _)| existing.name == name) {
                    return Err(YamlError {
                        pos: kpos,
                        message: format!("duplicate key `{name}`"),
                    });
                }
                entries.push((Key { name, pos: kpos }, convert(v, None)?));
            }
            NodeKind::Map(entries)
        }
        YamlDataOwned::Tagged(t, inner) => {
            let tag_text = format!("{}{}", t.handle, t.suffix);
            let mut inner = convert(*inner, Some(tag_text))?;
            inner.pos = pos;
            return Ok(inner);
        }
        YamlDataOwned::Alias(_) => {
            return Err(YamlError {
                pos,
                message: "YAML aliases are not supported in scenarios".into(),
            })
        }
        YamlDataOwned::BadValue => {
            return Err(YamlError {
                pos,
                message: "invalid YAML value".into(),
            })
        }
    };
    Ok(Node { pos, kind, tag })
}

fn scalar_kind(s: ScalarOwned) -> NodeKind {
    match s {
        ScalarOwned::Null => NodeKind::Null,
        ScalarOwned::Boolean(b) => NodeKind::Bool(b),
        ScalarOwned::Integer(i) => NodeKind::Int(i),
        ScalarOwned::FloatingPoint(f) => NodeKind::Float(f.into_inner()),
        ScalarOwned::String(s) => NodeKind::Str(s),
    }
}

fn scalar_text(s: &ScalarOwned) -> String {
    match s {
        ScalarOwned::Null => "null".into(),
        ScalarOwned::Boolean(b) => b.to_string(),
        ScalarOwned::Integer(i) => i.to_string(),
        ScalarOwned::FloatingPoint(f) => f.to_string(),
        ScalarOwned::String(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let n = parse_document("a: 1\nb:\n  c: \"x\"\n").expect("valid yaml");
        let b = n.get("b").expect("b");
        let c = b.get("c").expect("c");
        assert_eq!(c.pos, Pos::new(3, 6));
        let (key, _) = &b.as_map().expect("map")[0];
        assert_eq!(key.pos, Pos::new(3, 3));
    }

    #[test]
    fn tags_are_kept() {
        let n = parse_document("id: !regex '^[0-9]+$'\n").expect("valid yaml");
        let id = n.get("id").expect("id");
        assert_eq!(id.tag.as_deref(), Some("!regex"));
        assert_eq!(id.as_str(), Some("^[0-9]+$"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_document("a: [1, 2\nb: 3\n").expect_err("invalid");
        assert!(err.pos.line >= 1, "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse_document("a: 1\na: 2\n").expect_err("duplicate");
        assert_eq!(err.pos, Pos::new(2, 1));
    }
}
