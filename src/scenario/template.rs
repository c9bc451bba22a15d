//! Templates in scenario values: `{{ run }}`, `{{ user_id }}`, `{{ users.alice.id }}`, `{{ uuid() }}`.
//!
//! minijinja gives a well-known syntax, filters (`lower`, `upper`, `urlencode`, …) and strict
//! undefined checks; strings without `{{`/`{%` skip it entirely, which keeps runs cheap.

use std::collections::HashSet;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

/// Names every scenario can use without declaring them.
pub const BUILTINS: &[&str] = &[
    "run",
    "users",
    "groups",
    "base_url",
    "uuid",
    "random_hex",
    "okta_id",
];

/// Template instructions one rendering may execute. Scenario values are short (a name, a path,
/// a filter); without a budget `{% for i in range(100000) %}{% for j in range(100000) %}…`
/// renders for hours (found with the `template` fuzz target). 100,000 steps render in
/// milliseconds and leave room for loops over thousands of items.
pub const TEMPLATE_FUEL: u64 = 100_000;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.add_function("uuid", || uuid::Uuid::new_v4().to_string());
        env.add_function("random_hex", |len: Option<usize>| {
            random_hex(len.unwrap_or(8))
        });
        env.add_function("okta_id", okta_user_id);
        env
    })
}

pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// Checks syntax and returns the top-level names the template reads.
pub fn analyze(src: &str) -> Result<HashSet<String>, String> {
    if !is_template(src) {
        return Ok(HashSet::new());
    }
    let tmpl = env().template_from_str(src).map_err(|e| describe(&e))?;
    Ok(tmpl.undeclared_variables(false))
}

/// The dotted paths a (valid) template reads: `{{ users.alice.id }}` reads `users.alice.id`,
/// `{{ user_id | lower }}` reads `user_id`. Empty for text that is not a template or does not
/// parse (`analyze` reports those).
pub fn paths(src: &str) -> HashSet<String> {
    if !is_template(src) {
        return HashSet::new();
    }
    env()
        .template_from_str(src)
        .map(|t| t.undeclared_variables(true))
        .unwrap_or_default()
}

/// Renders with the given context (a JSON object).
pub fn render(src: &str, ctx: &serde_json::Value) -> Result<String, String> {
    if !is_template(src) {
        return Ok(src.to_string());
    }
    env()
        .render_str(src, minijinja::value::Serde(ctx))
        .map_err(|e| describe(&e))
}

fn describe(e: &minijinja::Error) -> String {
    let mut msg = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    match e.kind() {
        minijinja::ErrorKind::UndefinedError => {
            msg = format!("undefined value in template: {msg}");
        }
        minijinja::ErrorKind::OutOfFuel => {
            msg = format!(
                "the template takes more than {TEMPLATE_FUEL} steps to render; shorten its loops"
            );
        }
        _ => {}
    }
    msg
}

pub fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len.min(64))
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A fresh Okta user id: `00u` followed by 17 base62 characters, as Okta's `externalId` carries.
pub fn okta_user_id() -> String {
    okta_id_with_prefix("00u")
}

pub fn okta_id_with_prefix(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let tail: String = (0..17)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// Renders every string leaf of a JSON value.
pub fn render_value(
    value: &serde_json::Value,
    ctx: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match value {
        Value::String(s) => Value::String(render(s, ctx)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value(v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(render(k, ctx)?, render_value(v, ctx)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_captures_and_builtins() {
        let ctx = json!({"run": "ab12", "user_id": "42", "users": {"alice": {"id": "7"}}});
        assert_eq!(
            render("/Users/{{ user_id }}", &ctx).as_deref(),
            Ok("/Users/42")
        );
        assert_eq!(
            render("alice-{{ run }}@x.test", &ctx).as_deref(),
            Ok("alice-ab12@x.test")
        );
        assert_eq!(render("{{ users.alice.id }}", &ctx).as_deref(), Ok("7"));
        assert_eq!(render("{{ 'ABC' | lower }}", &ctx).as_deref(), Ok("abc"));
    }

    #[test]
    fn undefined_names_fail() {
        let err = render("{{ nope }}", &json!({})).expect_err("strict undefined");
        assert!(err.contains("undefined"), "{err}");
    }

    #[test]
    fn analyze_lists_names() {
        let names = analyze("{{ a }}-{{ b.c }}-{{ uuid() }}").expect("valid");
        assert!(names.contains("a") && names.contains("b"));
        assert!(analyze("{{ a ").is_err());
    }

    #[test]
    fn paths_name_what_a_template_reads() {
        let p = paths("/Users/{{ users.alice.id }}?x={{ user_id | lower }}");
        assert!(p.contains("users.alice.id"), "{p:?}");
        assert!(p.contains("user_id"), "{p:?}");
        assert!(paths("plain").is_empty());
    }

    #[test]
    fn okta_ids_look_like_okta_ids() {
        let id = okta_user_id();
        assert!(id.starts_with("00u") && id.len() == 20, "{id}");
    }
}
