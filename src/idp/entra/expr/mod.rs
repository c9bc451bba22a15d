//! Microsoft Entra ID's attribute-mapping expression language: parser, evaluator and
//! mapping-level semantics, so idpsim computes the attribute values Entra's provisioning engine
//! would send. Ground truth: `entra.md` §5.2, §6 and the FUNC reference ("Reference for writing
//! expressions for attribute mappings").
//!
//! # Design
//! * `lexer` → tokens with 1-based character columns; `parser` → [`Expr`] by recursive descent
//!   over the grammar of §6.1 (calls with case-sensitive names, `[attr]`, `"strings"` with `\\`
//!   and `\"` escapes, integers, `&H` hex, `vbTextCompare`/`vbBinaryCompare`, empty positional
//!   arguments, one comparison in the first argument of IIF/CBool). Unknown functions, wrong
//!   arity, odd Switch arity, nested SelectUniqueValue, expressions over 10,000 characters and
//!   calls nested more than [`MAX_NESTING`] deep are parse errors. `builtins` is the function catalogue the parser checks against.
//! * `eval` walks the tree; `functions` holds the function bodies, `dates` the date parsing and
//!   .NET-style formatting, `value` the value model and JSON source conversion, `mapping` the
//!   mapping-level rules of §6.5.
//! * Values are `Null` (absent), `Str` or `Multi`; booleans are `"True"`/`"False"`, numbers and
//!   dates are strings (§6.3). `IgnoreFlowIfNullOrEmpty` is a control signal ([`Outcome`]), not
//!   a value, so it can drop the attribute even when nested and even with a default value.
//! * No panics on any input: every user-controlled conversion is checked.
//!
//! # Documented choices (where the docs are silent or ambiguous, §10 item 9)
//! 1. **IIF on null/empty**: if any attribute referenced in the condition is null or `""`, or a
//!    comparison operand evaluates to Null, "the condition check fails" and IIF returns Null
//!    (not flowed). Neither branch is taken (FUNC lists `IIF(IsPresent([c]),[c],"Other")` as
//!    unsupported, which only makes sense if it does not yield "Other").
//! 2. **Split** trims whitespace around items and drops empty items (doc output has no leading
//!    space).
//! 3. **Not**: `"True"` (any case) → `"False"`; anything else, including `""`, → `"True"`;
//!    Null → Null (so a mapping default can apply, as in Graph's `Not([IsSoftDeleted])` sample
//!    with defaultValue "True").
//! 4. **Coalesce** returns the first non-Null argument; `""` counts as a value.
//! 5. **InStr** returns 0 when not found (VBA); a null string gives Null; start < 1 is an error.
//! 6. **Join** flattens multi-valued sources and skips Null and `""` (doc example
//!    `Join(", ", "", [surname], [givenName])` → `"Doe, John"`); all empty → `""`.
//! 7. **Switch**: case-sensitive; an absent source compares as `""`, so key `""` matches empty
//!    or absent; an empty defaultValue argument is Null (not flowed), `""` flows `""`.
//! 8. **Null propagation**: Append, Mid, CStr, ToLower/ToUpper, PCase, StripSpaces, Replace,
//!    CDate, date functions, … return Null for a Null source. Left and Word return `""` as
//!    documented. Count of Null is 0. Item/Mid/Word are 1-based; Item out of range → Null.
//! 9. **Multi-valued in a string position**: one element is used as that element; several are
//!    an [`EvalError`]. An empty JSON array is Null.
//! 10. **Attribute lookup**: exact name first, then ASCII case-insensitive.
//! 11. **Comparisons**: `=`/`<>` are case-sensitive string equality (numbers compare
//!     numerically); `< <= > >=` compare numbers, then dates, then ordinal strings.
//! 12. **Roles**: `[appRoleAssignments]` is a JSON array whose elements are role value strings
//!     or objects `{"id","value","displayName"}` (an id left out is a stable GUID of the value).
//!     SingleAppRoleAssignment returns the first role, (Assertive)AppRoleAssignmentsComplex all
//!     of them (`Multi`), each as the JSON text `{"id":…,"value":…,"displayName":…}` that
//!     Microsoft's default-mode PATCH example carries ("Customize user provisioning
//!     attribute-mappings" → "Provisioning a role to a SCIM app"). The create and PATCH bodies
//!     made from them (per function and mode) belong to the wire profile (`entra::roles`).
//! 13. **SelectUniqueValue** is inbound-only (Workday/SuccessFactors → AD); here it evaluates
//!     to its first rule.
//! 14. **Dates**: inputs without an offset are UTC; FormatDateTime's dateTimeStyles argument is
//!     accepted and ignored; see `dates` for the supported .NET format subset.
//! 15. **Strings**: only `\\` and `\"` are escapes; any other backslash sequence is a parse
//!     error (write `\\d` for the regex `\d`, as the docs do).
//! 16. **Guid/RandomString** draw from a `StdRng` seeded by [`EvalContext::rng_seed`]
//!     (deterministic in tests), else OS entropy.

mod builtins;
mod dates;
mod eval;
mod functions;
mod lexer;
mod mapping;
mod parser;
pub mod roles;
mod value;

#[cfg(test)]
mod tests;

pub use builtins::{closest, Function};
pub use dates::parse_date;
pub use eval::{evaluate, evaluate_outcome, EvalContext, EvalError, Outcome};
pub use lexer::CmpOp;
pub use mapping::{
    evaluate_mappings, matching_order, ApplyOn, AttributeMapping, MappingSource, Operation,
};
pub use parser::{parse, CompareMode, Expr, ExprKind, MAX_EXPRESSION_CHARS, MAX_NESTING};
pub use value::Value;

/// A syntax error with the 1-based character column of the offending character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}
