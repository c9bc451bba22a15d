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
    "email_domain",
    "base_href",
    "uuid",
    "random_hex",
    "okta_id",
];

/// The built-in variable holding the domain of the test users' emails and userNames.
pub const EMAIL_DOMAIN: &str = "email_domain";

/// Its default: a name reserved for examples (RFC 2606) under a real top-level domain, so that
/// servers validating email addresses the standard way accept it — unlike the special-use
/// `.test`, `.invalid` or `.local` TLDs, which they reject. `--var email_domain=…` changes it.
pub const DEFAULT_EMAIL_DOMAIN: &str = "example.com";

/// Template instructions one rendering may execute. Scenario values are short (a name, a path,
/// a filter); without a budget `{% for i in range(100000) %}{% for j in range(100000) %}…`
/// renders for hours (found with the `template` fuzz target). 100,000 steps render in
/// milliseconds and leave room for loops over thousands of items.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// Template steps that checking all the templates of one file at load may take: 5,000,000,
/// fifty full budgets. A scenario's templates take a few steps each; without a cap, a file of
/// 100,000 templates that each spend their whole budget would take minutes to validate.
pub const FILE_CHECK_FUEL: u64 = 5_000_000;

fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_function("uuid", || uuid::Uuid::new_v4().to_string());
    env.add_function("random_hex", |len: Option<usize>| {
        random_hex(len.unwrap_or(8))
    });
    env.add_function("okta_id", okta_user_id);
    env
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| environment(UndefinedBehavior::Strict))
}

/// Every word in a template that could name a variable: a superset of the names it reads
/// (words in its literal text and strings too). minijinja's own list misses names that are
/// sliced (`{{ run[:3] }}`), so it cannot decide what a template is handed.
fn words(src: &str) -> impl Iterator<Item = &str> {
    src.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// A name the trial render at load knows exists but not what it will hold (a variable `--var`
/// may override, a capture, the IdP's users): any attribute or item of it is another such
/// value, it renders empty and a loop over it runs zero times.
#[derive(Debug)]
struct Unknown;

impl minijinja::value::Object for Unknown {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }
    fn get_value(self: &std::sync::Arc<Self>, _key: &minijinja::Value) -> Option<minijinja::Value> {
        Some(minijinja::Value::from_dyn_object(self.clone()))
    }
    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Empty
    }
    fn render(self: &std::sync::Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// What the trial render of one template found.
#[derive(Debug, Default)]
pub struct Trial {
    /// Template steps it took (the whole budget when it ran out).
    pub fuel: u64,
    /// An error that no value at run time can avoid, as a sentence.
    pub error: Option<String>,
}

/// Renders a template once at load, with the built-ins it can know (`run`, `base_url`) and the
/// other `known` names as [`Unknown`] values, to find what would otherwise fail only after
/// requests were sent: a name nobody defines (also where minijinja's own check misses it), a
/// template that runs out of its budget on its own, an unknown filter, test or function. Errors
/// that depend on a value (arithmetic on a capture) are left to the run, where the value exists.
pub fn trial(src: &str, known: &HashSet<String>) -> Trial {
    if !is_template(src) {
        return Trial::default();
    }
    let Ok(tmpl) = env().template_from_str(src) else {
        // Syntax errors are `analyze`'s to report.
        return Trial::default();
    };
    let unknown = minijinja::Value::from_object(Unknown);
    let ctx: std::collections::BTreeMap<&str, minijinja::Value> = words(src)
        .filter_map(|w| match w {
            "run" => Some((w, minijinja::Value::from("0a1b2c3d"))),
            "base_url" => Some((w, minijinja::Value::from("http://127.0.0.1:8080/scim/v2"))),
            // Functions (`uuid`, `range`) are the environment's; a placeholder would hide them.
            _ if known.contains(w) && env().globals().all(|(g, _)| g != w) => {
                Some((w, unknown.clone()))
            }
            _ => None,
        })
        .collect();
    match tmpl.render_captured(minijinja::Value::from(ctx)) {
        Ok(done) => Trial {
            fuel: done.state().fuel_levels().map_or(0, |(used, _)| used),
            error: None,
        },
        Err(e) => {
            use minijinja::ErrorKind::*;
            let certain = matches!(
                e.kind(),
                OutOfFuel
                    | UndefinedError
                    | UnknownFilter
                    | UnknownTest
                    | UnknownFunction
                    | TemplateNotFound
            );
            Trial {
                fuel: if e.kind() == OutOfFuel {
                    TEMPLATE_FUEL
                } else {
                    0
                },
                error: certain.then(|| describe(&e)),
            }
        }
    }
}

/// The text of a template outside its tags (`{{ … }}`, `{% … %}`, `{# … #}`): what reaches the
/// output as written.
pub fn literal_text(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(start) = rest.find('{') {
        let close = match rest[start..].chars().nth(1) {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
                continue;
            }
        };
        out.push_str(&rest[..start]);
        match rest[start + 2..].find(close) {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
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
    let mut names = tmpl.undeclared_variables(false);
    // minijinja's own globals (`range`, `dict`, `namespace`, …) and idpsim's functions are
    // defined in every template.
    names.retain(|n| env().globals().all(|(global, _)| global != n));
    Ok(names)
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
    let tmpl = env().template_from_str(src).map_err(|e| describe(&e))?;
    // Only the names the template can read are handed over: converting the whole context
    // (every variable and capture) for each rendering made a scenario's cost grow with its
    // square.
    let ctx = match ctx {
        serde_json::Value::Object(all) => serde_json::Value::Object(
            words(src)
                .filter_map(|w| all.get_key_value(w))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    };
    tmpl.render(minijinja::value::Serde(ctx))
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
                "the template takes more than {TEMPLATE_FUEL} steps to render, idpsim's budget \
                 for one template; shorten its loops"
            );
        }
        _ => {}
    }
    msg
}

pub fn random_hex(len: usize) -> String {
    crate::support::text::random_hex(len)
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
    fn sliced_names_are_rendered() {
        let ctx = json!({"run": "ab12cd34", "v": "hello"});
        assert_eq!(
            render("{{ run[:3] }}/{{ v[1:] }}", &ctx).as_deref(),
            Ok("ab1/ello")
        );
    }

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
        let names =
            analyze("{% for i in range(3) %}{{ dict(a=i) }}{{ random_hex(4) }}{% endfor %}")
                .expect("valid");
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn literal_text_is_what_lies_outside_the_tags() {
        assert_eq!(
            literal_text("/Users?filter=userName%20eq%20%22{{ user_name | urlencode }}%22"),
            "/Users?filter=userName%20eq%20%22%22"
        );
        assert_eq!(
            literal_text("a{% if x %}b{% endif %}{# c d #}e { f"),
            "abe { f"
        );
        assert_eq!(literal_text("x{{ open"), "x");
    }

    #[test]
    fn the_trial_render_finds_what_no_value_can_fix() {
        let known: HashSet<String> = ["user_id", "users", "user_name", "v"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let trial = |src: &str| trial(src, &known);
        let loops = "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}";
        let t = trial(loops);
        assert_eq!(t.fuel, TEMPLATE_FUEL);
        assert!(
            t.error
                .as_deref()
                .is_some_and(|e| e.contains("100000 steps")),
            "{t:?}"
        );
        let t = trial("{{ run | no_such_filter }}");
        assert!(
            t.error
                .as_deref()
                .is_some_and(|e| e.contains("no_such_filter")),
            "{t:?}"
        );
        // A sliced name minijinja's own check misses.
        let t = trial("{{ nobody[:3] }}");
        assert!(
            t.error.as_deref().is_some_and(|e| e.contains("undefined")),
            "{t:?}"
        );
        // What only a run's values decide is left to the run.
        for fine in [
            "{{ user_id + 1 }}",
            "{{ users.alice.id }}",
            "{% for u in users %}{% for i in range(99999) %}{% endfor %}{% endfor %}",
            "{{ user_name | upper | urlencode }}",
            "plain",
            "{{ run[:3] }}-{{ v[1:] }}",
            "{{ users['a b'].emails[0].value | lower }}",
            "{{ uuid() }}-{{ random_hex(4) }}",
        ] {
            let t = trial(fine);
            assert!(t.error.is_none(), "{fine}: {t:?}");
        }
        assert!(trial("a-{{ run }}").fuel > 0);
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
