//! SCIM filter expressions (RFC 7644 §3.4.2.2): parser and evaluator.
//!
//! Grammar (ABNF from RFC 7644 Figure 1), with the precedence the RFC prescribes —
//! `not` binds tighter than `and`, which binds tighter than `or`; parentheses group:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! compValue = false / null / true / number / string
//! ```
//!
//! Operators and attribute names are case-insensitive. String comparisons honour each
//! attribute's `caseExact` (RFC 7643 §2.2: `userName` is caseExact=false, `id`/`externalId`
//! are caseExact=true); unknown attributes compare case-insensitively. Error positions are
//! 0-based character offsets into the filter text.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

use super::path::{AttrPath, PathError};
use super::schema::{AttrDef, AttrType, ResourceKind};

/// Comparison operators (RFC 7644 Table 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn from_word(w: &str) -> Option<CompareOp> {
        Some(match w.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: true when some element of `attr` satisfies `filter`, whose paths are
    /// relative to the element.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// Prints filter text that parses back to the same filter, with only the parentheses the
/// precedence needs. Parenthesising every `and`/`or` turned a flat chain of 70 `or`s into 70
/// nested groups, past the parser's nesting limit (found by the `scim_filter` fuzz target).
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::And(a, b) => self.binary(f, a, "and", b),
            Filter::Or(a, b) => self.binary(f, a, "or", b),
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

impl Filter {
    /// Binding strength: `or` < `and` < everything else (RFC 7644 §3.4.2.2).
    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 1,
            Filter::And(..) => 2,
            _ => 3,
        }
    }

    /// The parser builds `a or b or c` as `(a or b) or c`, so a left operand of the same
    /// precedence needs no parentheses and a right one does.
    fn binary(
        &self,
        f: &mut fmt::Formatter<'_>,
        left: &Filter,
        op: &str,
        right: &Filter,
    ) -> fmt::Result {
        let own = self.precedence();
        if left.precedence() < own {
            write!(f, "({left})")?;
        } else {
            write!(f, "{left}")?;
        }
        write!(f, " {op} ")?;
        if right.precedence() <= own {
            write!(f, "({right})")
        } else {
            write!(f, "{right}")
        }
    }
}

/// A filter syntax error with the 0-based character position where it was detected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl From<PathError> for FilterError {
    fn from(e: PathError) -> Self {
        FilterError {
            position: e.position,
            message: e.message,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Word(w) => format!("'{w}'"),
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((Tok::LParen, i));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, i));
                i += 1;
            }
            '[' => {
                out.push((Tok::LBracket, i));
                i += 1;
            }
            ']' => {
                out.push((Tok::RBracket, i));
                i += 1;
            }
            '"' => {
                let start = i;
                let mut raw = String::from('"');
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    let ch = chars[i];
                    raw.push(ch);
                    i += 1;
                    if ch == '\\' {
                        if let Some(&next) = chars.get(i) {
                            raw.push(next);
                            i += 1;
                        }
                    } else if ch == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(FilterError {
                        position: start,
                        message: "unterminated string literal".into(),
                    });
                }
                // RFC 7644 §3.4.2.2: string values are JSON strings, so JSON escapes apply.
                let s: String = serde_json::from_str(&raw).map_err(|e| FilterError {
                    position: start,
                    message: format!("invalid string literal: {e}"),
                })?;
                out.push((Tok::Str(s), start));
            }
            _ => {
                let start = i;
                while i < chars.len() {
                    let ch = chars[i];
                    if ch.is_whitespace() || matches!(ch, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    i += 1;
                }
                out.push((Tok::Word(chars[start..i].iter().collect()), start));
            }
        }
    }
    Ok(out)
}

/// Most `and`/`or` operators one filter may hold. A flat chain builds a tree as deep as it is
/// long, and printing, evaluating or dropping that tree recurses: 150,000 `or`s in one
/// `.search` body overflowed a server thread's stack. Real IdPs send one comparison.
pub const MAX_LOGICAL_OPERATORS: usize = 1000;

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    /// `and`/`or` operators seen so far, bounded by [`MAX_LOGICAL_OPERATORS`].
    logical_operators: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn here(&self) -> usize {
        self.toks.get(self.pos).map(|(_, p)| *p).unwrap_or(self.end)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            position: self.here(),
            message: message.into(),
        })
    }
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => t.describe(),
            None => "end of filter".into(),
        }
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    /// Counts one more `and`/`or`, failing once the filter holds too many.
    fn count_logical_operator(&mut self) -> Result<(), FilterError> {
        self.logical_operators += 1;
        if self.logical_operators > MAX_LOGICAL_OPERATORS {
            return self.err(format!(
                "filter has more than {MAX_LOGICAL_OPERATORS} 'and'/'or' operators"
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(depth)?;
        while self.is_word("or") {
            self.count_logical_operator()?;
            self.pos += 1;
            let right = self.and_expr(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.unary(depth)?;
        while self.is_word("and") {
            self.count_logical_operator()?;
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        // Guard against stack exhaustion on hostile input such as 10 000 '('.
        if depth > 64 {
            return self.err("filter nested too deeply");
        }
        if self.is_word("not") && !self.names_an_attribute() {
            self.pos += 1;
            if self.peek() != Some(&Tok::LParen) {
                return self.err(format!("expected '(' after 'not', found {}", self.found()));
            }
            let inner = self.group(depth)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::LParen) {
            return self.group(depth);
        }
        self.attr_expr(depth)
    }

    /// `not` is also a valid attribute name (RFC 7643 §2.1 ATTRNAME); it is one when followed by
    /// an operator or a value filter (`not pr`, `not eq 1`, `not[…]`) rather than by `(`.
    fn names_an_attribute(&self) -> bool {
        match self.toks.get(self.pos + 1).map(|(t, _)| t) {
            Some(Tok::LBracket) => true,
            Some(Tok::Word(w)) => w.eq_ignore_ascii_case("pr") || CompareOp::from_word(w).is_some(),
            _ => false,
        }
    }

    fn group(&mut self, depth: usize) -> Result<Filter, FilterError> {
        self.pos += 1; // '('
        let inner = self.or_expr(depth + 1)?;
        if self.peek() != Some(&Tok::RParen) {
            return self.err(format!("expected ')', found {}", self.found()));
        }
        self.pos += 1;
        Ok(inner)
    }

    fn attr_expr(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let (word, at) = match self.toks.get(self.pos) {
            Some((Tok::Word(w), p)) => (w.clone(), *p),
            _ => {
                return self.err(format!(
                    "expected an attribute path, found {}",
                    self.found()
                ))
            }
        };
        let path = AttrPath::parse_at(&word, at)?;
        self.pos += 1;
        if self.peek() == Some(&Tok::LBracket) {
            if path.sub.is_some() {
                return self.err("a value filter must follow a top-level attribute");
            }
            self.pos += 1;
            let inner = self.or_expr(depth + 1)?;
            if self.peek() != Some(&Tok::RBracket) {
                return self.err(format!("expected ']', found {}", self.found()));
            }
            self.pos += 1;
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        let op_word = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            _ => {
                return self.err(format!(
                    "expected an operator (eq ne co sw ew gt ge lt le pr) after '{word}', found {}",
                    self.found()
                ))
            }
        };
        if op_word.eq_ignore_ascii_case("pr") {
            self.pos += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_word(&op_word) else {
            return self.err(format!(
                "unknown operator '{op_word}' (expected eq ne co sw ew gt ge lt le pr)"
            ));
        };
        self.pos += 1;
        let value = match self.peek() {
            Some(Tok::Str(s)) => Value::String(s.clone()),
            Some(Tok::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(w) {
                    Ok(n) => Value::Number(n),
                    Err(_) => {
                        return self.err(format!(
                            "expected a value (a \"quoted string\", number, true, false or null), found '{w}'"
                        ))
                    }
                },
            },
            _ => {
                return self.err(format!(
                    "expected a value (a \"quoted string\", number, true, false or null), found {}",
                    self.found()
                ))
            }
        };
        self.pos += 1;
        Ok(Filter::Compare { path, op, value })
    }
}

/// Parses a filter expression.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: input.chars().count(),
        logical_operators: 0,
    };
    if p.peek().is_none() {
        return p.err("empty filter");
    }
    let f = p.or_expr(0)?;
    if p.peek().is_some() {
        return p.err(format!(
            "expected 'and', 'or' or end of filter, found {}",
            p.found()
        ));
    }
    Ok(f)
}

/// Evaluation switches (used by the reference server's quirks).
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalOptions {
    /// Compare every string case-sensitively, ignoring `caseExact` (a common server bug).
    pub force_case_exact: bool,
}

/// Looks a key up case-insensitively (RFC 7643 §2.1), preferring an exact match.
pub fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Where attribute lookups start: a resource (top-level schema) or an element of a
/// multi-valued complex attribute (inside `attr[...]`).
#[derive(Clone, Copy)]
enum Scope {
    Resource(ResourceKind),
    Element(Option<&'static AttrDef>),
}

impl Filter {
    /// Evaluates against a resource representation (as returned to clients).
    pub fn matches(&self, resource: &Value, kind: ResourceKind, opts: EvalOptions) -> bool {
        self.eval(resource, Scope::Resource(kind), opts)
    }

    /// Evaluates against one element of a multi-valued attribute `parent` (PATCH value
    /// filters like `emails[type eq "work"]`).
    pub fn matches_element(
        &self,
        element: &Value,
        parent: Option<&'static AttrDef>,
        opts: EvalOptions,
    ) -> bool {
        self.eval(element, Scope::Element(parent), opts)
    }

    fn eval(&self, node: &Value, scope: Scope, opts: EvalOptions) -> bool {
        match self {
            Filter::And(a, b) => a.eval(node, scope, opts) && b.eval(node, scope, opts),
            Filter::Or(a, b) => a.eval(node, scope, opts) || b.eval(node, scope, opts),
            Filter::Not(a) => !a.eval(node, scope, opts),
            Filter::Present(path) => {
                let (vals, _) = resolve(node, path, scope, false);
                vals.iter().any(|v| is_present(v))
            }
            Filter::ValuePath { path, filter } => {
                let (vals, def) = resolve(node, path, scope, false);
                vals.iter().any(|el| match el {
                    Value::Array(items) => items
                        .iter()
                        .any(|i| filter.eval(i, Scope::Element(def), opts)),
                    other => filter.eval(other, Scope::Element(def), opts),
                })
            }
            Filter::Compare { path, op, value } => {
                let (vals, def) = resolve(node, path, scope, true);
                let case_exact =
                    opts.force_case_exact || def.map(|d| d.case_exact).unwrap_or(false);
                let ty = def.map(|d| d.ty);
                let flat: Vec<&Value> = vals
                    .iter()
                    .flat_map(|v| match v {
                        Value::Array(items) => items.iter().collect::<Vec<_>>(),
                        other => vec![*other],
                    })
                    .filter(|v| !v.is_null())
                    .collect();
                match op {
                    // Null means unassigned (RFC 7643 §2.5): `eq null` asks "absent?" and
                    // `ne null` must ask "present?", its negation — not "no value equals null",
                    // which holds for every resource.
                    CompareOp::Eq if value.is_null() => flat.is_empty(),
                    CompareOp::Ne if value.is_null() => !flat.is_empty(),
                    CompareOp::Ne => !flat
                        .iter()
                        .any(|v| compare(v, CompareOp::Eq, value, case_exact, ty)),
                    _ => flat.iter().any(|v| compare(v, *op, value, case_exact, ty)),
                }
            }
        }
    }
}

/// RFC 7644 §3.4.2.2 `pr`: a non-empty value, or for a complex attribute a non-empty node.
/// Null is unassigned (RFC 7643 §2.5), so `{"givenName": null}` holds nothing and is not present.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// Resolves a path to the values it denotes plus the leaf definition. With `for_compare`, a
/// multi-valued complex attribute without a sub-attribute resolves to its elements' `value`
/// (RFC 7644 §3.4.2.2: "emails co ..." compares email values).
fn resolve<'a>(
    node: &'a Value,
    path: &AttrPath,
    scope: Scope,
    for_compare: bool,
) -> (Vec<&'a Value>, Option<&'static AttrDef>) {
    let Some(obj) = node.as_object() else {
        return (vec![], None);
    };
    let (container, def) = match scope {
        Scope::Resource(kind) => {
            if let Some((ext, def)) = unqualified_extension_attr(path, kind) {
                // RFC 7644 §3.10 lets clients omit the schema URN; Entra does for `manager`
                // ("ID eq … and manager eq …", the tutorial's reference check).
                let container = get_ci(obj, ext).and_then(Value::as_object);
                (container, Some(def))
            } else {
                let container = if path.is_core(kind) {
                    Some(obj)
                } else {
                    path.urn
                        .as_deref()
                        .and_then(|u| get_ci(obj, u))
                        .and_then(Value::as_object)
                };
                (container, path.attr_def(kind))
            }
        }
        Scope::Element(parent) => (Some(obj), parent.and_then(|p| p.sub(&path.attr))),
    };
    let Some(container) = container else {
        return (vec![], def);
    };
    let Some(top) = get_ci(container, &path.attr) else {
        return (vec![], def);
    };
    let sub_name = path.sub.clone().or_else(|| {
        // A complex attribute compared as a whole compares its `value`: multi-valued ones
        // (RFC 7644 §3.4.2.2, "emails co …") and single-valued references such as `manager`.
        let by_value = match def {
            Some(d) => d.ty == AttrType::Complex && (d.multi_valued || d.sub("value").is_some()),
            None => matches!(top, Value::Array(a) if a.iter().any(Value::is_object)),
        };
        (for_compare && by_value).then(|| "value".to_string())
    });
    match sub_name {
        None => (vec![top], def),
        Some(sub) => {
            let sub_def = def.and_then(|d| d.sub(&sub));
            let vals = match top {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_object().and_then(|o| get_ci(o, &sub)))
                    .collect(),
                Value::Object(o) => get_ci(o, &sub).into_iter().collect(),
                _ => vec![],
            };
            (vals, sub_def)
        }
    }
}

/// An attribute named without a schema URN that the core schema does not define, but exactly
/// one of the resource type's extensions does: that extension's URN and definition.
fn unqualified_extension_attr(
    path: &AttrPath,
    kind: ResourceKind,
) -> Option<(&'static str, &'static AttrDef)> {
    if path.urn.is_some() || kind.attr(None, &path.attr).is_some() {
        return None;
    }
    let mut found = kind
        .extensions()
        .iter()
        .filter_map(|s| s.attr(&path.attr).map(|d| (s.id, d)));
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

fn compare(
    actual: &Value,
    op: CompareOp,
    expected: &Value,
    case_exact: bool,
    ty: Option<AttrType>,
) -> bool {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            // Only equality and ordering are chronological (RFC 7644 §3.4.2.2); `co`, `sw` and
            // `ew` are substring tests and stay textual, or a whole timestamp as their operand —
            // even the identical one — would never match.
            let chronological = !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
            if chronological && (ty == Some(AttrType::DateTime) || ty.is_none()) {
                if let (Some(da), Some(de)) = (parse_datetime(a), parse_datetime(e)) {
                    return ordered(da.cmp(&de), op);
                }
            }
            let (a, e) = if case_exact {
                (a.clone(), e.clone())
            } else {
                (a.to_lowercase(), e.to_lowercase())
            };
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Co => a.contains(&e),
                CompareOp::Sw => a.starts_with(&e),
                CompareOp::Ew => a.ends_with(&e),
                _ => ordered(a.cmp(&e), op),
            }
        }
        (Value::Bool(a), Value::Bool(e)) => match op {
            CompareOp::Eq => a == e,
            CompareOp::Ne => a != e,
            _ => false,
        },
        // Tolerate `active eq "true"` and stored "True" strings: clients and servers both
        // produce string booleans in the wild (Entra's SCIM compliance known-issues page: `"False"` in default mode).
        (Value::Bool(a), Value::String(e)) | (Value::String(e), Value::Bool(a)) => {
            match (crate::support::text::parse_bool(e), op) {
                (Some(e), CompareOp::Eq) => *a == e,
                (Some(e), CompareOp::Ne) => *a != e,
                _ => false,
            }
        }
        (Value::Number(a), Value::Number(e)) => match (a.as_f64(), e.as_f64()) {
            (Some(a), Some(e)) => match a.partial_cmp(&e) {
                Some(o) => ordered(o, op),
                None => false,
            },
            _ => false,
        },
        _ => false,
    }
}

/// Parses an RFC 3339 / xsd:dateTime timestamp (RFC 7643 §2.3.5) into (seconds since epoch,
/// nanoseconds) so instants written with different offsets or precision compare correctly.
/// Hand-rolled because the crate's `time` build has no parsing feature.
pub fn parse_datetime(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = s.get(start..i)?;
        if frac.is_empty() {
            return None;
        }
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().ok()?;
    }
    let offset_secs = match s.get(i..)? {
        "Z" | "z" | "" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let oh: i64 = tz.get(1..3)?.parse().ok()?;
            let om: i64 = tz.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if tz.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((
        days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs,
        nanos,
    ))
}

fn ordered(o: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every example filter from RFC 7644 §3.4.2.2.
    pub const RFC_EXAMPLES: &[&str] = &[
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ];

    #[test]
    fn a_long_or_chain_is_refused_not_a_stack_overflow() {
        // Found by posting 150,000 `userName eq "a" or …` clauses to `/Users/.search`: the
        // server thread's stack overflowed while evaluating the left-deep tree.
        let chain = |n: usize| vec![r#"userName eq "a""#; n].join(" or ");
        let at_limit = parse(&chain(MAX_LOGICAL_OPERATORS + 1));
        assert!(at_limit.is_ok(), "{at_limit:?}");
        let err = parse(&chain(150_000)).map(|_| ()).unwrap_err();
        assert!(err.message.contains("more than 1000"), "{}", err.message);
        let mixed = vec![r#"(title pr and userName eq "a")"#; 600].join(" or ");
        assert!(parse(&mixed).is_err());
    }

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223",
            "userName": "BJensen",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "title": "Tour Guide",
            "userType": "Employee",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915"}}
        })
    }

    fn eval(f: &str) -> bool {
        parse(f).unwrap_or_else(|e| panic!("{f}: {e}")).matches(
            &user(),
            ResourceKind::User,
            EvalOptions::default(),
        )
    }

    #[test]
    fn entra_reference_check_names_manager_without_its_schema() {
        // Microsoft's tutorial, "Example 4. Query the value of a reference attribute to be
        // updated": `ID eq … and manager eq …`, attribute names in any case (RFC 7644 §3.4.2.2).
        assert!(eval(r#"ID eq "2819c223" and manager eq "26118915""#));
        assert!(!eval(r#"ID eq "2819c223" and manager eq "someone-else""#));
        assert!(eval(r#"MANAGER.VALUE eq "26118915""#));
        assert!(eval(r#"USERNAME eq "BJENSEN""#));
        // `name` has no `value`: comparing the complex attribute whole still matches nothing.
        assert!(!eval(r#"name eq "Ms. Barbara J Jensen III""#));
    }

    #[test]
    fn rfc_examples_parse() {
        for f in RFC_EXAMPLES {
            assert!(parse(f).is_ok(), "{f}");
        }
    }

    #[test]
    fn rfc_examples_evaluate() {
        assert!(
            eval(r#"userName eq "bjensen""#),
            "userName is caseExact=false"
        );
        assert!(eval(r#"name.familyName co "O'Malley""#));
        assert!(!eval(r#"userName sw "J""#));
        assert!(eval(r#"userName sw "bj""#));
        assert!(eval(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#
        ));
        assert!(eval("title pr"));
        assert!(!eval("nickName pr"));
        assert!(!eval(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
        assert!(eval(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
        assert!(eval(r#"meta.lastModified lt "2012-01-01T00:00:00Z""#));
        assert!(eval(r#"title pr and userType eq "Employee""#));
        assert!(eval(r#"title pr or userType eq "Intern""#));
        assert!(eval(
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
        ));
        assert!(!eval(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        ));
        assert!(eval(
            r#"userType eq "Employee" and (emails.type eq "work")"#
        ));
        assert!(eval(
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
        ));
        assert!(!eval(
            r#"emails[type eq "home" and value co "@example.com"]"#
        ));
        assert!(eval(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
        ));
    }

    #[test]
    fn datetimes_compare_as_instants() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_datetime("1970-01-01T01:00:00+01:00"), Some((0, 0)));
        assert_eq!(
            parse_datetime("2011-05-13T04:42:34.5Z"),
            Some((1_305_261_754, 500_000_000))
        );
        assert!(parse_datetime("not a date").is_none());
    }

    #[test]
    fn case_exactness() {
        assert!(!eval(r#"id eq "2819C223""#), "id is caseExact");
        assert!(eval(r#"id eq "2819c223""#));
        let f = parse(r#"userName eq "bjensen""#).unwrap();
        assert!(!f.matches(
            &user(),
            ResourceKind::User,
            EvalOptions {
                force_case_exact: true
            }
        ));
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        // false and false or true  == (false and false) or true == true
        assert!(eval(
            r#"userType eq "x" and title eq "y" or active eq true"#
        ));
        // true or false and false == true or (false and false) == true
        assert!(eval(
            r#"active eq true or userType eq "x" and title eq "y""#
        ));
        // not binds tighter: not(true) and true == false
        assert!(!eval(r#"not (active eq true) and title pr"#));
        match parse(r#"a eq 1 or b eq 2 and c eq 3"#).unwrap() {
            Filter::Or(_, r) => assert!(matches!(*r, Filter::And(_, _))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extension_and_booleans() {
        assert!(eval(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#
        ));
        assert!(eval(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#
        ));
        assert!(eval("active eq true"));
        assert!(eval(r#"active eq "True""#));
        assert!(
            eval(r#"USERNAME EQ "BJENSEN""#),
            "operators and names are case-insensitive"
        );
        assert!(eval(r#"emails[primary eq true]"#));
    }

    /// Random token soup must parse or fail cleanly, never panic.
    #[test]
    fn fuzz_never_panics() {
        use rand::{Rng, SeedableRng};
        let atoms = [
            "userName",
            "eq",
            "\"x\"",
            "(",
            ")",
            "[",
            "]",
            "and",
            "or",
            "not",
            "pr",
            "emails",
            "type",
            ".",
            "urn:a:b:c",
            "\"",
            "\\",
            "€",
            "1.5e3",
            "true",
            "null",
            " ",
            "gt",
            "é.ü",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..5000 {
            let n = rng.gen_range(0..12);
            let s: String = (0..n)
                .map(|_| atoms[rng.gen_range(0..atoms.len())])
                .collect::<Vec<_>>()
                .join(if rng.gen_bool(0.7) { " " } else { "" });
            if let Ok(f) = parse(&s) {
                let _ = f.matches(&user(), ResourceKind::User, EvalOptions::default());
            }
            let _ = crate::scim::path::PatchPath::parse(&s);
        }
    }

    #[test]
    fn errors_name_positions() {
        let e = parse(r#"userName xx "a""#).unwrap_err();
        assert_eq!(e.position, 9);
        assert!(e.message.contains("unknown operator 'xx'"), "{e}");

        let e = parse(r#"userName eq "a"#).unwrap_err();
        assert_eq!(e.position, 12);
        assert!(e.message.contains("unterminated"), "{e}");

        let e = parse(r#"(userName eq "a""#).unwrap_err();
        assert_eq!(e.position, 16);
        assert!(e.message.contains("expected ')'"), "{e}");

        let e = parse(r#"userName eq bjensen"#).unwrap_err();
        assert_eq!(e.position, 12);
        assert!(e.to_string().ends_with("at position 12"));

        let e = parse(r#"userName eq "a" junk"#).unwrap_err();
        assert_eq!(e.position, 16);

        let e = parse("").unwrap_err();
        assert!(e.message.contains("empty"));

        let e = parse(r#"userName"#).unwrap_err();
        assert_eq!(e.position, 8);

        let e = parse(&"(".repeat(1000)).unwrap_err();
        assert!(e.message.contains("too deeply"));
    }
}
