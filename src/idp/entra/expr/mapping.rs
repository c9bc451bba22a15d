//! Mapping-level semantics (entra.md §6.5): mapping types, default values, apply-on, and which
//! target attributes flow for one source object.

use super::eval::{evaluate_outcome, EvalContext, EvalError, Outcome};
use super::parser::{parse, Expr};
use super::value::{lookup, Value};
use super::ParseError;
use serde_json::{Map, Value as Json};

/// Where a target attribute's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingSource {
    /// Direct mapping of a source attribute (`mail`).
    Direct(String),
    /// A constant value.
    Constant(String),
    /// An expression (`Switch([IsSoftDeleted], , "False", "True", "True", "False")`).
    Expression(Expr),
}

/// "Apply this mapping" (§6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplyOn {
    #[default]
    Always,
    CreateOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributeMapping {
    pub target: String,
    pub source: MappingSource,
    /// "Default value if null": applied on Create only (§6.5).
    pub default_value: Option<String>,
    pub apply: ApplyOn,
    /// "Match objects using this attribute" with its precedence (lowest first). Not used by
    /// evaluation; see [`matching_order`].
    pub matching_precedence: Option<u32>,
}

fn is_bare_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl AttributeMapping {
    /// Parses the YAML shorthand: a bare identifier (`mail`, `userPrincipalName`,
    /// `Facsimile-TelephoneNumber`) is a direct mapping; anything else (`[mail]`, `"constant"`,
    /// `Switch(...)`) is an expression parsed with [`parse`]. Surrounding whitespace is ignored.
    pub fn parse_source(src: &str) -> Result<MappingSource, ParseError> {
        let t = src.trim();
        if is_bare_identifier(t) {
            return Ok(MappingSource::Direct(t.to_string()));
        }
        // Keep error columns relative to the text the user wrote.
        let lead = src.chars().take_while(|c| c.is_whitespace()).count();
        parse(t)
            .map(MappingSource::Expression)
            .map_err(|e| ParseError {
                column: e.column + lead,
                message: e.message,
            })
    }

    /// Source attributes this mapping reads (for validation).
    pub fn source_attributes(&self) -> Vec<String> {
        match &self.source {
            MappingSource::Direct(a) => vec![a.clone()],
            MappingSource::Constant(_) => Vec::new(),
            MappingSource::Expression(e) => e.attributes(),
        }
    }
}

/// Evaluates all mappings for one source object and returns, in mapping order, the target
/// attributes that flow with their values:
/// * `CreateOnly` mappings are skipped on `Update`;
/// * a `Null` result is dropped (Entra can't provision nulls, [Doc KI]) unless this is a
///   `Create` and the mapping has a default value, which then flows;
/// * `""` is a value and flows; the default does not replace it;
/// * `IgnoreFlowIfNullOrEmpty` firing drops the attribute, default value or not.
pub fn evaluate_mappings(
    mappings: &[AttributeMapping],
    source: &Map<String, Json>,
    op: Operation,
    ctx: &EvalContext,
) -> Result<Vec<(String, Value)>, EvalError> {
    let mut out = Vec::new();
    for m in mappings {
        if op == Operation::Update && m.apply == ApplyOn::CreateOnly {
            continue;
        }
        let outcome = match &m.source {
            MappingSource::Direct(a) => Outcome::Value(lookup(source, a)),
            MappingSource::Constant(c) => Outcome::Value(Value::Str(c.clone())),
            MappingSource::Expression(e) => evaluate_outcome(e, source, ctx)
                .map_err(|err| EvalError::new(format!("{}: {}", m.target, err.message)))?,
        };
        let value = match outcome {
            Outcome::IgnoreFlow => continue,
            Outcome::Value(Value::Null) => match (&m.default_value, op) {
                (Some(d), Operation::Create) => Value::Str(d.clone()),
                _ => continue,
            },
            Outcome::Value(v) => v,
        };
        out.push((m.target.clone(), value));
    }
    Ok(out)
}

/// The matching mappings, lowest precedence number first (Graph `matchingPriority`, §6.5).
pub fn matching_order(mappings: &[AttributeMapping]) -> Vec<&AttributeMapping> {
    let mut v: Vec<&AttributeMapping> = mappings
        .iter()
        .filter(|m| m.matching_precedence.is_some_and(|p| p > 0))
        .collect();
    v.sort_by_key(|m| m.matching_precedence);
    v
}
