//! Table-driven tests of the sync engine's pure helpers: how Entra reads a 429's Retry-After,
//! a list answer's `Resources`, a boolean-ish attribute, and what it remembers of the values
//! it flowed. The engine's traffic itself is tested end to end (tests/entra.rs).

use std::time::Duration;

use serde_json::{json, Value as Json};

use super::*;
use crate::idp::entra::config::Mappings;

fn answer(headers: &[(&str, &str)], body: Option<Json>) -> RawResponse {
    RawResponse {
        status: 200,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body,
    }
}

#[test]
fn retry_after_by_header() {
    // (header value, the wait Entra takes from it; None: its own back-off)
    let rows: Vec<(Option<&str>, Option<Duration>)> = vec![
        (Some("7"), Some(Duration::from_secs(7))),
        (Some(" 12 "), Some(Duration::from_secs(12))),
        (Some("0"), Some(Duration::ZERO)),
        // Capped, so a server cannot stall a run for a day.
        (Some("86400"), Some(Duration::from_secs(300))),
        (Some("Wed, 21 Oct 2015 07:28:00 GMT"), None),
        (Some("-1"), None),
        (Some("soon"), None),
        (None, None),
    ];
    for (value, want) in rows {
        let headers: Vec<(&str, &str)> = value.map(|v| ("Retry-After", v)).into_iter().collect();
        assert_eq!(retry_after(&answer(&headers, None)), want, "{value:?}");
    }
    // The header name is case-insensitive.
    assert_eq!(
        retry_after(&answer(&[("retry-after", "3")], None)),
        Some(Duration::from_secs(3))
    );
}

#[test]
fn resources_by_body() {
    // (body, the resources Entra reads; None: not a list it can read)
    let rows: Vec<(Option<Json>, Option<Vec<Json>>)> = vec![
        (
            Some(json!({"Resources": [{"id": "1"}]})),
            Some(vec![json!({"id": "1"})]),
        ),
        // No Resources at all is an empty list (RFC 7644 §3.4.2 allows leaving it out).
        (Some(json!({"totalResults": 0})), Some(vec![])),
        (Some(json!({"Resources": null})), None),
        (Some(json!({"Resources": {"id": "1"}})), None),
        (None, None),
    ];
    for (body, want) in rows {
        assert_eq!(resources(&answer(&[], body.clone())), want, "{body:?}");
    }
}

#[test]
fn falsy_values() {
    let rows = [
        (json!(false), true),
        (json!("False"), true),
        (json!("false"), true),
        (json!(true), false),
        (json!("True"), false),
        (json!(0), false),
        (json!(null), false),
        (json!("no"), false),
    ];
    for (v, want) in rows {
        assert_eq!(is_false(&v), want, "{v}");
    }
}

#[test]
fn remembered_values() {
    let vals = vec![
        ("active".to_string(), Value::Str("True".into())),
        (
            "emails".to_string(),
            Value::Multi(vec!["a@x".into(), "b@x".into()]),
        ),
        ("title".to_string(), Value::Null),
    ];
    let remembered = stored(&vals);
    assert_eq!(remembered["active"], json!("True"));
    assert_eq!(remembered["emails"], json!(["a@x", "b@x"]));
    assert_eq!(remembered["title"], Json::Null);
    // The scalar of a multi-valued attribute is its first value; null has none.
    assert_eq!(scalar(&vals[1].1).as_deref(), Some("a@x"));
    assert_eq!(scalar(&vals[2].1), None);
}

#[test]
fn the_default_user_mappings_match_on_user_name() {
    let (mappings, problems) = Mappings::parse(None, None);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(first_matching(&mappings.user).as_deref(), Some("userName"));
    assert_eq!(
        first_matching(&mappings.group).as_deref(),
        Some("displayName")
    );
}
