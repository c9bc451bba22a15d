//! A YAML tree where every node knows its line and column.
//!
//! serde-based YAML crates lose positions once a value is deserialized, but idpsim points at the
//! scenario line of every failed expectation, so scenarios are read into this tree (from saphyr's
//! parser's events, with limits checked as it is read) and converted to the model by hand in
//! `parse.rs`.

use std::collections::HashSet;

use saphyr::{ScalarOwned, ScalarStyle, Tag};
use saphyr_parser::{Event, Span};

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

/// How deeply mappings and lists may nest in one file: 64 levels. A scenario needs about ten
/// (its steps, a request, a SCIM body with an extension); every walk over the tree (to JSON,
/// templates, matchers, reports) recurses, and thousands of levels overflowed the stack.
pub const MAX_DEPTH: usize = 64;

/// How many YAML nodes (every key, value and list item) one file may hold: 500,000. The shipped
/// scenarios hold a few hundred each, a long recording tens of thousands; the limit keeps the
/// tree of one 8 MiB file within a few hundred MiB.
pub const MAX_NODES: usize = 500_000;

/// Parses one YAML document. An empty file is an error: a scenario needs content.
///
/// The tree is built from saphyr's parser events rather than its own loader, so that every limit
/// is checked as the text is read, before anything deep or large exists: nesting past
/// [`MAX_DEPTH`], more than [`MAX_NODES`] nodes, and duplicate keys (found with a hash set per
/// mapping, so 200,000 keys cost 200,000 lookups, not 20 billion comparisons).
pub fn parse_document(text: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::default();
    for event in saphyr_parser::Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            YamlError {
                pos: Pos::new(m.line(), m.col() + 1),
                message: e.info().to_string(),
            }
        })?;
        builder.event(event, span)?;
    }
    builder.root.ok_or_else(|| YamlError {
        pos: Pos::new(1, 1),
        message: "the file is empty".into(),
    })
}

/// A mapping or list being read: its own position and tag, what it holds so far.
enum Open {
    Seq {
        pos: Pos,
        tag: Option<String>,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        tag: Option<String>,
        entries: Vec<(Key, Node)>,
        names: HashSet<String>,
        /// The key read, waiting for its value.
        key: Option<Key>,
    },
}

#[derive(Default)]
struct Builder {
    /// The open mappings and lists, outermost first; its length is the current depth.
    stack: Vec<Open>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let pos = Pos::new(span.start.line(), span.start.col() + 1);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        pos,
                        message: "a scenario file holds one YAML document; found a second one"
                            .into(),
                    });
                }
                Ok(())
            }
            Event::Alias(_) => Err(YamlError {
                pos,
                message: "YAML aliases are not supported in scenarios".into(),
            }),
            Event::Scalar(value, style, _anchor, tag) => {
                let (kind, tag) = scalar(value, style, tag.as_deref(), pos)?;
                self.insert(Node { pos, kind, tag })
            }
            Event::SequenceStart(_anchor, tag) => {
                self.open(pos)?;
                self.stack.push(Open::Seq {
                    pos,
                    tag: tag.as_deref().and_then(own_tag),
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(_anchor, tag) => {
                self.open(pos)?;
                self.stack.push(Open::Map {
                    pos,
                    tag: tag.as_deref().and_then(own_tag),
                    entries: Vec::new(),
                    names: HashSet::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq { pos, tag, items }) => Node {
                        pos,
                        kind: NodeKind::Seq(items),
                        tag,
                    },
                    Some(Open::Map {
                        pos, tag, entries, ..
                    }) => Node {
                        pos,
                        kind: NodeKind::Map(entries),
                        tag,
                    },
                    // The parser balances its events; an end without a start is not YAML.
                    None => {
                        return Err(YamlError {
                            pos,
                            message: "invalid YAML: a mapping or list ends that never started"
                                .into(),
                        })
                    }
                };
                self.insert(node)
            }
        }
    }

    /// A mapping or list starts at `pos`: it may not be a key, nor nest too deep.
    fn open(&mut self, pos: Pos) -> Result<(), YamlError> {
        if let Some(Open::Map { key: None, .. }) = self.stack.last() {
            return Err(YamlError {
                pos,
                message: "mapping keys must be plain strings".into(),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos,
                message: format!(
                    "mappings and lists nest more than {MAX_DEPTH} levels deep here, idpsim's \
                     limit for a scenario file"
                ),
            });
        }
        self.count(pos)
    }

    fn count(&mut self, pos: Pos) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!(
                    "the file holds more than {MAX_NODES} YAML nodes (keys, values and list \
                     items), idpsim's limit for a scenario file"
                ),
            });
        }
        Ok(())
    }

    fn insert(&mut self, node: Node) -> Result<(), YamlError> {
        // Containers were counted when they opened; scalars (keys too) are counted here.
        if !matches!(node.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
            self.count(node.pos)?;
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Open::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Open::Map {
                entries,
                names,
                key,
                ..
            }) => match key.take() {
                Some(k) => {
                    entries.push((k, node));
                    Ok(())
                }
                None => {
                    let name = match (&node.kind, &node.tag) {
                        (NodeKind::Seq(_) | NodeKind::Map(_), _) | (_, Some(_)) => None,
                        (kind, None) => key_text(kind),
                    };
                    let Some(name) = name else {
                        return Err(YamlError {
                            pos: node.pos,
                            message: "mapping keys must be plain strings".into(),
                        });
                    };
                    if !names.insert(name.clone()) {
                        return Err(YamlError {
                            pos: node.pos,
                            message: format!("duplicate key `{name}`"),
                        });
                    }
                    *key = Some(Key {
                        name,
                        pos: node.pos,
                    });
                    Ok(())
                }
            },
        }
    }
}

/// A tag as scenarios write it (`!regex`); the YAML core schema's own tags (`!!str`) are not
/// kept, they only steer how the scalar is read.
fn own_tag(tag: &Tag) -> Option<String> {
    (!tag.is_yaml_core_schema()).then(|| format!("{}{}", tag.handle, tag.suffix))
}

/// A scalar's value, resolved as saphyr's loader resolves it: quoted is a string, plain is
/// guessed (null, bool, int, float, string), a core-schema tag forces the type, any other tag
/// is kept beside the plainly resolved value.
fn scalar(
    value: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    pos: Pos,
) -> Result<(NodeKind, Option<String>), YamlError> {
    let (resolved, kept) = match tag {
        Some(t) if !t.is_yaml_core_schema() => (
            ScalarOwned::parse_from_cow_and_metadata(value, style, None),
            own_tag(t),
        ),
        Some(t) => (
            ScalarOwned::parse_from_cow_and_metadata(
                value,
                style,
                Some(&std::borrow::Cow::Borrowed(t)),
            ),
            None,
        ),
        None => (
            ScalarOwned::parse_from_cow_and_metadata(value, style, None),
            None,
        ),
    };
    match resolved {
        Some(s) => Ok((scalar_kind(s), kept)),
        None => Err(YamlError {
            pos,
            message: "invalid YAML value".into(),
        }),
    }
}

/// A key's name: scalars only, written as text (`1` and `true` are the keys "1" and "true").
fn key_text(kind: &NodeKind) -> Option<String> {
    Some(match kind {
        NodeKind::Null => "null".into(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => f.to_string(),
        NodeKind::Str(s) => s.clone(),
        NodeKind::Seq(_) | NodeKind::Map(_) => return None,
    })
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
