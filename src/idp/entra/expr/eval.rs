//! The tree-walking evaluator. Function bodies live in `functions.rs`.

use super::functions;
use super::lexer::CmpOp;
use super::parser::{CompareMode, Expr, ExprKind};
use super::value::{lookup, Value};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;

/// What evaluation depends on besides the source object.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// The value `Now()` returns (converted to UTC).
    pub now: OffsetDateTime,
    /// Seeds `Guid()` and `RandomString()`; `None` uses OS entropy.
    pub rng_seed: Option<u64>,
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext {
            now: OffsetDateTime::now_utc(),
            rng_seed: None,
        }
    }
}

/// Evaluation failure: wrong argument types, bad regex, unparseable date, …
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
    /// The 1-based character column of the innermost function call that failed (set as the
    /// error leaves that call), so a tool can point at it as at a syntax error.
    pub column: Option<usize>,
}

impl EvalError {
    pub fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
            column: None,
        }
    }
}

/// The result of evaluating a mapping expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A value (possibly `Null`, which does not flow).
    Value(Value),
    /// `IgnoreFlowIfNullOrEmpty` fired: the target attribute is dropped from the flow, and no
    /// default value applies (entra.md §6.4).
    IgnoreFlow,
}

/// Internal control flow: an error, or the IgnoreFlowIfNullOrEmpty signal that unwinds to the
/// top of the expression.
#[derive(Debug)]
pub(crate) enum Interrupt {
    Error(EvalError),
    IgnoreFlow,
}

impl From<EvalError> for Interrupt {
    fn from(e: EvalError) -> Self {
        Interrupt::Error(e)
    }
}

pub(crate) type R<T> = Result<T, Interrupt>;

pub(crate) struct Evaluator<'a> {
    pub source: &'a Map<String, Json>,
    pub ctx: &'a EvalContext,
    pub rng: StdRng,
}

impl<'a> Evaluator<'a> {
    pub fn new(source: &'a Map<String, Json>, ctx: &'a EvalContext) -> Self {
        let rng = match ctx.rng_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Evaluator { source, ctx, rng }
    }

    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Attribute(name) => Ok(lookup(self.source, name)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Int(i) | ExprKind::Hex(i) => Ok(Value::Str(i.to_string())),
            ExprKind::CompareMode(CompareMode::Text) => Ok(Value::str("vbTextCompare")),
            ExprKind::CompareMode(CompareMode::Binary) => Ok(Value::str("vbBinaryCompare")),
            ExprKind::Compare { .. } => Ok(match self.condition(e)? {
                Some(b) => Value::bool(b),
                None => Value::Null,
            }),
            ExprKind::Call { function, args } => {
                functions::call(self, *function, args).map_err(|i| match i {
                    Interrupt::Error(mut err) if err.column.is_none() => {
                        err.column = Some(e.column);
                        Interrupt::Error(err)
                    }
                    other => other,
                })
            }
        }
    }

    /// Evaluates argument `i`; an empty or absent argument is `Null`.
    pub fn arg(&mut self, args: &[Option<Expr>], i: usize) -> R<Value> {
        match args.get(i) {
            Some(Some(e)) => self.eval(e),
            _ => Ok(Value::Null),
        }
    }

    /// Evaluates an IIF/CBool condition. `None` means the check fails: a comparison operand is
    /// `Null` (entra.md §6.4 IIF).
    pub fn condition(&mut self, e: &Expr) -> R<Option<bool>> {
        if let ExprKind::Compare { op, lhs, rhs } = &e.kind {
            let l = self.eval(lhs)?;
            let r = self.eval(rhs)?;
            let (Some(l), Some(r)) = (l.scalar("comparison")?, r.scalar("comparison")?) else {
                return Ok(None);
            };
            return Ok(Some(compare(*op, l, r)));
        }
        let v = self.eval(e)?;
        Ok(v.scalar("condition")?.map(truthy))
    }
}

/// `"True"` (any case) or a non-zero number.
pub(crate) fn truthy(s: &str) -> bool {
    let t = s.trim();
    t.eq_ignore_ascii_case("true") || t.parse::<f64>().is_ok_and(|n| n != 0.0)
}

/// `=` and `<>` compare strings case-sensitively (like Switch). Ordering operators compare
/// numerically when both sides are numbers, chronologically when both are dates, else ordinally.
fn compare(op: CmpOp, l: &str, r: &str) -> bool {
    use std::cmp::Ordering;
    let ord = match (l.trim().parse::<f64>(), r.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => match (super::dates::parse_date(l), super::dates::parse_date(r)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => l.cmp(r),
        },
    };
    match op {
        CmpOp::Eq => l == r || (ord == Ordering::Equal && l.trim().parse::<f64>().is_ok()),
        CmpOp::Ne => !(l == r || (ord == Ordering::Equal && l.trim().parse::<f64>().is_ok())),
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
    }
}

/// Evaluates an expression, keeping the IgnoreFlowIfNullOrEmpty signal.
pub fn evaluate_outcome(
    expr: &Expr,
    source: &Map<String, Json>,
    ctx: &EvalContext,
) -> Result<Outcome, EvalError> {
    let mut ev = Evaluator::new(source, ctx);
    match ev.eval(expr) {
        Ok(v) => Ok(Outcome::Value(v)),
        Err(Interrupt::IgnoreFlow) => Ok(Outcome::IgnoreFlow),
        Err(Interrupt::Error(e)) => Err(e),
    }
}

/// Evaluates an expression against one source object. IgnoreFlowIfNullOrEmpty firing gives
/// `Null` here; use [`evaluate_outcome`] to tell the two apart.
pub fn evaluate(
    expr: &Expr,
    source: &Map<String, Json>,
    ctx: &EvalContext,
) -> Result<Value, EvalError> {
    Ok(match evaluate_outcome(expr, source, ctx)? {
        Outcome::Value(v) => v,
        Outcome::IgnoreFlow => Value::Null,
    })
}
