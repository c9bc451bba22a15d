//! `idpsim expr EXPRESSION`: evaluates a Microsoft Entra attribute-mapping expression with the
//! engine the Entra profile uses (`idp::entra::expr`) against source attributes given on the
//! command line or in a file, and prints the value as Entra would send it, or each error under
//! its column, as the portal's expression builder lets an admin try a mapping.
//!
//! Every attribute the expression reads must be given, a value or an explicit null: a typo in an
//! attribute name would otherwise read as "absent" and give a plausible, wrong answer.

use std::io::Read as _;
use std::path::Path;

use serde_json::{json, Map, Value as Json};

use crate::cli::ExprArgs;
use crate::error::{Error, Result};
use crate::idp::entra::expr::{self, EvalContext, Expr, Function, Outcome, Value};
use crate::idp::entra::roles::RoleFn;
use crate::support::diagnostic::{Diagnostic, Pos};
use crate::verdict::Verdict;

/// What a diagnostic names as the file when the expression came from the command line.
const ARGUMENT: &str = "<expression>";

/// `idpsim expr`: prints the value, or returns the diagnostics (exit 2).
pub fn expr(args: ExprArgs) -> Result<Verdict> {
    let json = args.json;
    let text = match expression_text(&args) {
        Ok(t) => t,
        Err(e) => return Err(json_errors(json, None, e)),
    };
    match evaluate(&args, &text.0, &text.1) {
        Ok(outcome) => {
            let to = args.to.as_deref();
            // A role function's value goes on the wire as the role bodies of
            // `idp::entra::roles`, not as the value itself.
            let role = expr::parse(&text.0)
                .ok()
                .and_then(|e| crate::idp::entra::roles::RoleFn::of_expr(&e));
            if json {
                crate::support::out::stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&outcome_json(&text.0, &outcome, to, role))
                        .unwrap_or_default()
                ));
            } else {
                let mut shown = render(&outcome);
                if let Some(line) = to.and_then(|t| render_wire(t, &outcome, role)) {
                    shown.push('\n');
                    shown.push_str(&line);
                }
                crate::support::out::stdout(&format!("{shown}\n"));
            }
            Ok(Verdict::Passed)
        }
        Err(e) => Err(json_errors(json, Some(&text.0), e)),
    }
}

/// The expression's text and the name diagnostics give it (the file, or `<expression>`).
fn expression_text(args: &ExprArgs) -> Result<(String, String)> {
    match (&args.expression, &args.file) {
        (Some(e), _) => Ok((e.clone(), ARGUMENT.to_string())),
        (None, Some(path)) => {
            let display = path.display().to_string();
            let text = read_input(path).map_err(|e| Error::io(&display, e))?;
            Ok((text, display))
        }
        (None, None) => Err(Error::Usage(
            "give the expression as an argument or with --file".into(),
        )),
    }
}

/// A file, or stdin for `-`, as UTF-8 text within the limits of every file idpsim reads.
fn read_input(path: &Path) -> std::result::Result<String, String> {
    if path.as_os_str() == "-" {
        let max = crate::support::input::MAX_FILE_BYTES;
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        return crate::support::input::text_from_bytes(bytes).map_err(|e| e.to_string());
    }
    crate::support::input::read_text(path).map_err(|e| e.to_string())
}

/// Parses, checks that every attribute read is given, evaluates.
fn evaluate(args: &ExprArgs, text: &str, display: &str) -> Result<Outcome> {
    let fail = |column: usize, message: String| {
        // The end of the expression is shown just after its last character, not on the empty
        // line a file's final newline starts.
        let column = column.min(text.trim_end().chars().count() + 1);
        Error::Expression {
            text: text.to_string(),
            diagnostics: vec![Diagnostic::new(display, pos_of(text, column), message)
                .width(word_at(text, column))],
        }
    };
    let parsed = expr::parse(text).map_err(|e| fail(e.column, e.message))?;
    let source = source(args)?;
    check_attributes(&parsed, &source, text, display)?;
    let ctx = context(args)?;
    let outcome = expr::evaluate_outcome(&parsed, &source, &ctx)
        .map_err(|e| fail(e.column.unwrap_or(parsed.column), e.message))?;
    if parsed.functions().first() == Some(&Function::SelectUniqueValue) {
        crate::support::out::stderr(
            "note: SelectUniqueValue: Entra tries each rule's value in turn until one is unique \
             in the target directory (only for Workday, SuccessFactors and API-driven \
             provisioning to on-premises Active Directory); this is the first rule's value\n",
        );
    }
    Ok(outcome)
}

/// How many characters the name at `column` spans (a function's name), so the carets cover it.
fn word_at(text: &str, column: usize) -> usize {
    text.chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .count()
}

/// The 1-based line and column of character `column` (1-based) of `text`.
fn pos_of(text: &str, column: usize) -> Pos {
    let (mut line, mut col) = (1, 1);
    for c in text.chars().take(column.saturating_sub(1)) {
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Pos::new(line, col)
}

fn context(args: &ExprArgs) -> Result<EvalContext> {
    let now = match &args.now {
        None => time::OffsetDateTime::now_utc(),
        Some(s) => expr::parse_date(s).ok_or_else(|| {
            Error::Usage(format!(
                "--now {s:?}: not a date and time Entra reads, e.g. 2021-07-02T15:33:38Z"
            ))
        })?,
    };
    Ok(EvalContext {
        now,
        rng_seed: args.seed,
    })
}

/// Letters, digits, `-`, `_` and `.`: what `[attribute]` may hold.
fn check_name(name: &str, flag: &str, whole: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag} {whole:?}: an attribute name holds letters, digits, '-', '_' and '.'"
        )))
    }
}

/// Removes the entries named `name` ignoring ASCII case (Entra's attribute names are
/// case-insensitive, and the engine looks them up so).
fn remove_named(map: &mut Map<String, Json>, name: &str) {
    map.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// The source object: `--source`, then `--attr` (a name given several times is multi-valued),
/// then `--null`, each replacing what came before under the same name.
fn source(args: &ExprArgs) -> Result<Map<String, Json>> {
    let mut map = match &args.source {
        Some(path) => read_source(path)?,
        None => Map::new(),
    };
    let mut given: Vec<(String, Vec<String>)> = Vec::new();
    for a in &args.attrs {
        let Some((name, value)) = a.split_once('=') else {
            return Err(Error::Usage(format!(
                "--attr {a:?}: expected NAME=VALUE, e.g. --attr givenName=Ada"
            )));
        };
        check_name(name, "--attr", a)?;
        match given.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, values)) => values.push(value.to_string()),
            None => given.push((name.to_string(), vec![value.to_string()])),
        }
    }
    for (name, mut values) in given {
        remove_named(&mut map, &name);
        let value = if values.len() == 1 {
            Json::String(values.remove(0))
        } else {
            Json::Array(values.into_iter().map(Json::String).collect())
        };
        map.insert(name, value);
    }
    for name in &args.nulls {
        check_name(name, "--null", name)?;
        if args.attrs.iter().any(|a| {
            a.split_once('=')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        }) {
            return Err(Error::Usage(format!(
                "{name} is given both a value (--attr) and none (--null)"
            )));
        }
        remove_named(&mut map, name);
        map.insert(name.clone(), Json::Null);
    }
    Ok(map)
}

/// A JSON or YAML object of attribute names to values.
fn read_source(path: &Path) -> Result<Map<String, Json>> {
    let display = if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let text = read_input(path).map_err(|e| Error::io(&display, e))?;
    let looks_json = text.trim_start().starts_with(['{', '[']);
    let value = if looks_json {
        serde_json::from_str::<Json>(&text).map_err(|e| {
            Error::Usage(format!("{display}:{}:{}: {e}", e.line(), e.column().max(1)))
        })?
    } else {
        crate::scenario::yaml::parse_document(&text)
            .map_err(|e| {
                Error::Usage(format!(
                    "{display}:{}:{}: {}",
                    e.pos.line, e.pos.col, e.message
                ))
            })?
            .to_json()
    };
    match value {
        Json::Object(map) => Ok(map),
        other => Err(Error::Usage(format!(
            "{display}: expected an object of source attributes (name: value), found {}",
            match other {
                Json::Array(_) => "a list",
                Json::String(_) => "a string",
                Json::Null => "nothing",
                _ => "a scalar",
            }
        ))),
    }
}

/// Every attribute the expression reads is in the source (a value or null); the ones that are
/// not are diagnostics at their first reference, with the closest given name as a hint.
fn check_attributes(
    parsed: &Expr,
    source: &Map<String, Json>,
    text: &str,
    display: &str,
) -> Result<()> {
    let mut diagnostics = Vec::new();
    for (name, column) in parsed.attribute_refs() {
        if source.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
            continue;
        }
        let hint = expr::closest(&name, source.keys().map(String::as_str))
            .map(|s| format!("; did you mean [{s}]?"))
            .unwrap_or_default();
        diagnostics.push(
            Diagnostic::new(
                display,
                pos_of(text, column),
                format!("attribute [{name}] is not given"),
            )
            .width(name.chars().count() + 2)
            .help(format!(
                "give it a value with --attr {name}=VALUE (or in --source), or --null {name} \
                 if the user has none{hint}"
            )),
        );
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(Error::Expression {
            text: text.to_string(),
            diagnostics,
        })
    }
}

/// One JSON string, escaped as JSON writes it (control characters too), so `""` and `" "` read
/// differently and nothing in a value can drive the terminal.
fn quoted(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    crate::support::text::printable_line(&q).into_owned()
}

/// The value as a person reads it.
pub fn render(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Value(Value::Str(s)) => quoted(s),
        Outcome::Value(Value::Multi(items)) => format!(
            "[{}]",
            items
                .iter()
                .map(|s| quoted(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::Value(Value::Null) => "null (no value: Entra omits the attribute; a mapping's \
             default value, if it has one, applies on create)"
            .to_string(),
        Outcome::IgnoreFlow => "null (IgnoreFlowIfNullOrEmpty: Entra drops the attribute from \
             the flow; no default value applies)"
            .to_string(),
    }
}

/// The value as Entra puts it into `target`: on a create, in a default-mode PATCH and in an
/// `aadOptscim062020` PATCH (`idp::entra::wire`, the bodies the Entra scenarios send). `None`
/// when nothing flows.
/// For a role function the create's value is the role objects and each PATCH form is the one
/// operation Microsoft's "Provisioning a role to a SCIM app" prints (`idp::entra::roles`).
fn wire_forms(
    target: &str,
    outcome: &Outcome,
    role: Option<RoleFn>,
) -> Option<[(&'static str, Json); 3]> {
    let Outcome::Value(value) = outcome else {
        return None;
    };
    if value.is_null() {
        return None;
    }
    if let Some(f) = role {
        let [create, patch, flag] = crate::idp::entra::roles::forms(f, target, value);
        return Some([
            ("create", create),
            ("patch", patch),
            ("patchAadOptscim062020", flag),
        ]);
    }
    use crate::idp::entra::wire::to_json;
    Some([
        ("create", to_json(target, value, true)),
        ("patch", to_json(target, value, false)),
        ("patchAadOptscim062020", to_json(target, value, true)),
    ])
}

fn render_wire(target: &str, outcome: &Outcome, role: Option<RoleFn>) -> Option<String> {
    let shown = |j: &Json| crate::support::text::printable_line(&j.to_string()).into_owned();
    let name = crate::support::text::printable_line(target).into_owned();
    let forms = match wire_forms(target, outcome, role) {
        None => return Some(format!("to {name}: nothing is sent")),
        Some(f) => f,
    };
    let [(_, create), (_, patch), (_, flag)] = &forms;
    if role.is_some() {
        let attr =
            crate::support::text::printable_line(crate::idp::entra::roles::attribute(target).0)
                .into_owned();
        return Some(format!(
            "to {name}: {attr} {} on create; the PATCH operation {}, with ?aadOptscim062020 {}",
            shown(create),
            shown(patch),
            shown(flag)
        ));
    }
    Some(if create == patch {
        format!("to {name}: {} on create and in PATCH", shown(create))
    } else {
        format!(
            "to {name}: {} on create, {} in PATCH, {} in PATCH with ?aadOptscim062020",
            shown(create),
            shown(patch),
            shown(flag)
        )
    })
}

fn outcome_json(text: &str, outcome: &Outcome, to: Option<&str>, role: Option<RoleFn>) -> Json {
    let value = match outcome {
        Outcome::Value(Value::Str(s)) => Json::String(s.clone()),
        Outcome::Value(Value::Multi(items)) => {
            Json::Array(items.iter().cloned().map(Json::String).collect())
        }
        Outcome::Value(Value::Null) | Outcome::IgnoreFlow => Json::Null,
    };
    let mut out = json!({
        "expression": text,
        "value": value,
        "flows": !matches!(outcome, Outcome::Value(Value::Null) | Outcome::IgnoreFlow),
    });
    if matches!(outcome, Outcome::IgnoreFlow) {
        out["ignoreFlow"] = Json::Bool(true);
    }
    if let Some(target) = to {
        let sent: Map<String, Json> = wire_forms(target, outcome, role)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        out["target"] = json!({ "attribute": target, "sent": sent });
    }
    out
}

/// With `--json`, the errors as one JSON object on stdout too (the caret text still goes to
/// stderr); the error is handed back either way for the exit code.
fn json_errors(json: bool, text: Option<&str>, err: Error) -> Error {
    if !json {
        return err;
    }
    let errors: Vec<Json> = match &err {
        Error::Expression { diagnostics, .. } => diagnostics
            .iter()
            .map(|d| {
                let mut e = json!({
                    "message": d.message,
                    "line": d.pos.line,
                    "column": d.pos.col,
                });
                if let Some(help) = &d.help {
                    e["help"] = Json::String(help.clone());
                }
                e
            })
            .collect(),
        other => vec![json!({ "message": other.to_string() })],
    };
    let mut out = Map::new();
    if let Some(t) = text {
        out.insert("expression".into(), Json::String(t.to_string()));
    }
    out.insert("errors".into(), Json::Array(errors));
    let out = Json::Object(out);
    crate::support::out::stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(&out).unwrap_or_default()
    ));
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(pos_of("Not([a] \"x\")", 9), Pos::new(1, 9));
        assert_eq!(pos_of("Switch([a],\n  \"x\", [b])", 15), Pos::new(2, 3));
        assert_eq!(pos_of("Zoë(", 5), Pos::new(1, 5));
        assert_eq!(pos_of("", 1), Pos::new(1, 1));
    }

    #[test]
    fn rendering_tells_empty_null_and_ignored_apart() {
        assert_eq!(render(&Outcome::Value(Value::str(""))), "\"\"");
        assert_eq!(
            render(&Outcome::Value(Value::Multi(vec![
                "a".into(),
                "b\"".into()
            ]))),
            r#"["a", "b\""]"#
        );
        assert_eq!(
            render(&Outcome::Value(Value::str("\u{1b}[2J"))),
            r#""\u001b[2J""#
        );
        assert!(render(&Outcome::Value(Value::Null)).starts_with("null (no value"));
        assert!(render(&Outcome::IgnoreFlow).starts_with("null (IgnoreFlowIfNullOrEmpty"));
    }
}
