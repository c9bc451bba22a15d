//! Attribute paths (RFC 7644 §3.10 `attrPath`) and PATCH paths (RFC 7644 §3.5.2 `PATH`).
//!
//! `attrPath = [URI ":"] ATTRNAME *1subAttr`. URNs themselves contain dots (`…:2.0:User`), so the
//! schema prefix is everything up to the *last* colon and only the remainder is split on `.`.

use std::fmt;

use super::filter::{self, Filter, FilterError};
use super::schema::{AttrDef, ResourceKind};

/// An attribute reference such as `userName`, `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// Schema URN prefix as written, if the path was urn-qualified.
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        write!(f, "{}", self.attr)?;
        if let Some(s) = &self.sub {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Error from parsing a path; `position` is a 0-based character offset into the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct PathError {
    pub position: usize,
    pub message: String,
}

/// RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar); `$ref` is the one reserved exception.
fn valid_attr_name(s: &str) -> bool {
    if s == "$ref" {
        return true;
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl AttrPath {
    /// Parses an attribute path; `offset` is added to error positions so callers embedding the
    /// path in a larger expression (a filter) report positions in their own input.
    pub fn parse_at(input: &str, offset: usize) -> Result<AttrPath, PathError> {
        let err = |pos: usize, msg: String| PathError {
            position: offset + pos,
            message: msg,
        };
        if input.is_empty() {
            return Err(err(0, "expected an attribute name".into()));
        }
        let has_urn = input
            .get(..4)
            .map(|p| p.eq_ignore_ascii_case("urn:"))
            .unwrap_or(false);
        let (urn, rest, rest_start) = if has_urn && input.len() > 4 {
            match input.rfind(':') {
                Some(i) => (
                    Some(input[..i].to_string()),
                    &input[i + 1..],
                    input[..=i].chars().count(),
                ),
                None => (None, input, 0),
            }
        } else {
            (None, input, 0)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        if !valid_attr_name(attr) {
            return Err(err(
                rest_start,
                format!("invalid attribute name '{attr}' in '{input}'"),
            ));
        }
        if let Some(s) = sub {
            if !valid_attr_name(s) {
                let pos = rest_start + attr.chars().count() + 1;
                return Err(err(
                    pos,
                    format!("invalid sub-attribute name '{s}' in '{input}'"),
                ));
            }
        }
        Ok(AttrPath {
            urn,
            attr: attr.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    pub fn parse(input: &str) -> Result<AttrPath, PathError> {
        AttrPath::parse_at(input, 0)
    }

    /// True when the URN prefix is absent or names the resource's core schema.
    pub fn is_core(&self, kind: ResourceKind) -> bool {
        match &self.urn {
            None => true,
            Some(u) => u.eq_ignore_ascii_case(kind.core().id),
        }
    }

    /// The top-level attribute definition this path refers to.
    pub fn attr_def(&self, kind: ResourceKind) -> Option<&'static AttrDef> {
        kind.attr(self.urn.as_deref(), &self.attr)
    }

    /// The definition of the leaf (sub-attribute if present).
    pub fn leaf_def(&self, kind: ResourceKind) -> Option<&'static AttrDef> {
        let top = self.attr_def(kind)?;
        match &self.sub {
            Some(s) => top.sub(s),
            None => Some(top),
        }
    }
}

/// A PATCH operation path: `attrPath`, or `attrPath "[" valFilter "]" ["." subAttr]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The target attribute; `attr.sub` is set only for the unfiltered `name.givenName` form.
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// Sub-attribute after a value filter (`emails[type eq "work"].value`).
    pub filter_sub: Option<String>,
}

impl PatchPath {
    pub fn parse(input: &str) -> Result<PatchPath, FilterError> {
        let input = input.trim();
        let Some(open) = input.find('[') else {
            let attr = AttrPath::parse(input).map_err(FilterError::from)?;
            return Ok(PatchPath {
                attr,
                filter: None,
                filter_sub: None,
            });
        };
        let attr = AttrPath::parse(&input[..open]).map_err(FilterError::from)?;
        if attr.sub.is_some() {
            return Err(FilterError {
                position: open,
                message: "a value filter must follow a top-level attribute".into(),
            });
        }
        // Find the matching ']' outside string literals.
        let bytes = input.as_bytes();
        let mut i = open + 1;
        let mut in_str = false;
        let mut close = None;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if in_str => i += 1,
                b'"' => in_str = !in_str,
                b']' if !in_str => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(close) = close else {
            return Err(FilterError {
                position: input.chars().count(),
                message: "missing ']' closing the value filter".into(),
            });
        };
        let inner = &input[open + 1..close];
        let filter = filter::parse(inner).map_err(|e| FilterError {
            position: e.position + input[..=open].chars().count(),
            message: e.message,
        })?;
        let rest = &input[close + 1..];
        let filter_sub = if rest.is_empty() {
            None
        } else if let Some(s) = rest.strip_prefix('.') {
            if !valid_attr_name(s) {
                return Err(FilterError {
                    position: input[..=close].chars().count() + 1,
                    message: format!("invalid sub-attribute name '{s}'"),
                });
            }
            Some(s.to_string())
        } else {
            return Err(FilterError {
                position: input[..=close].chars().count(),
                message: format!("unexpected '{rest}' after value filter"),
            });
        };
        Ok(PatchPath {
            attr,
            filter: Some(filter),
            filter_sub,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_sub() {
        let p = AttrPath::parse("name.givenName").unwrap();
        assert_eq!(p.attr, "name");
        assert_eq!(p.sub.as_deref(), Some("givenName"));
        assert!(p.urn.is_none());
    }

    #[test]
    fn parses_urn_with_dots() {
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.attr, "manager");
        assert_eq!(p.sub.as_deref(), Some("value"));
    }

    #[test]
    fn rejects_bad_names_with_position() {
        let e = AttrPath::parse("name.9x").unwrap_err();
        assert_eq!(e.position, 5);
        assert!(AttrPath::parse("").is_err());
        // Multibyte input must not panic on byte slicing.
        assert!(AttrPath::parse("ab€€x").is_err());
        assert!(AttrPath::parse("€").is_err());
        assert!(PatchPath::parse("é[ü eq \"ö\"].ä").is_err());
        assert!(crate::scim::filter::parse("€ eq \"x\" and ü[é pr]").is_err());
    }

    #[test]
    fn patch_paths() {
        let p = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr.attr, "emails");
        assert!(p.filter.is_some());
        assert_eq!(p.filter_sub.as_deref(), Some("value"));
        let p = PatchPath::parse(r#"members[value eq "a]b"]"#).unwrap();
        assert!(p.filter_sub.is_none());
        let e = PatchPath::parse(r#"members[value eq "x""#).unwrap_err();
        assert!(e.message.contains("missing ']'"), "{e}");
    }
}
