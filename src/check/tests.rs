//! Table-driven tests of the pure judges: the built-in rules (`rules`) by answer, and the
//! expectation matcher (`expect`) by pattern. Each row is one behaviour; a failing row names it.
//! Kept apart from the code under test so the rules can change without touching these tables'
//! structure.

use serde_json::{json, Value};

use super::expect::{json_equal, match_pattern};
use super::rules::{check_exchange, Intent, Judging};
use crate::outcome::Severity;
use crate::scenario::Idp;
use crate::transport::exchange::{
    fixture, Exchange, RecordedRequest, RecordedResponse, TransportError, TransportErrorKind,
};

fn request(method: &str, target: &str) -> RecordedRequest {
    fixture::request(method, &format!("http://127.0.0.1:9/scim/v2{target}"), &[])
}

/// An answer: status, Content-Type (None: no header) and body text (parsed as JSON when it is).
fn answer(status: u16, content_type: Option<&str>, body: &str) -> RecordedResponse {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let text = Some(body).filter(|t| parsed.is_none() && !t.is_empty());
    let headers: Vec<(&str, &str)> = content_type
        .map(|c| ("Content-Type", c))
        .into_iter()
        .collect();
    fixture::response(status, &headers, parsed, text)
}

/// The rule ids the built-in rules raise for one exchange, sorted, with their severities.
fn judged(method: &str, path: &str, response: RecordedResponse) -> Vec<(String, Severity)> {
    let exchange = fixture::exchange(request(method, path), response);
    let mut out: Vec<(String, Severity)> = check_exchange(
        &exchange,
        &Intent::infer(method, path),
        &Judging::alone(Idp::Okta),
    )
    .into_iter()
    .map(|f| (f.rule, f.severity))
    .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

const SCIM: Option<&str> = Some("application/scim+json");
const USER: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"a","meta":{"resourceType":"User","location":"http://127.0.0.1:9/scim/v2/Users/u1"}}"#;
const EMPTY_LIST: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#;
const NOT_FOUND: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no such user"}"#;

/// (behaviour, method, path, answer, the rules that fire with their severities)
type RuleRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    RecordedResponse,
    Vec<(String, Severity)>,
);

#[test]
fn rules_by_answer() {
    use Severity::{Error, Warning};
    let e = |rule: &str| (rule.to_string(), Error);
    let w = |rule: &str| (rule.to_string(), Warning);
    // (behaviour, method, path, answer, the rules that fire)
    let rows: Vec<RuleRow> = vec![
        (
            "a compliant read passes",
            "GET",
            "/Users/u1",
            answer(200, SCIM, USER),
            vec![],
        ),
        (
            "a compliant empty list passes",
            "GET",
            "/Users?filter=userName%20eq%20%22x%22",
            answer(200, SCIM, EMPTY_LIST),
            vec![],
        ),
        (
            "a compliant 404 error passes",
            "GET",
            "/Users/missing",
            answer(404, SCIM, NOT_FOUND),
            vec![],
        ),
        (
            "application/json instead of scim+json is a warning",
            "GET",
            "/Users/u1",
            answer(200, Some("application/json"), USER),
            vec![w("rfc7644.response.media-type")],
        ),
        (
            "string list counters",
            "GET",
            "/Users?startIndex=1&count=100",
            answer(
                200,
                SCIM,
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":"0","startIndex":"1","itemsPerPage":"0","Resources":[]}"#,
            ),
            // One problem, one finding per exchange: the three counters are one diff each.
            vec![e("rfc7644.list.integer-counters")],
        ),
        (
            "a list without the ListResponse schema",
            "GET",
            "/Users?startIndex=1&count=100",
            answer(
                200,
                SCIM,
                r#"{"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#,
            ),
            vec![w("rfc7644.list.schema")],
        ),
        (
            "an HTML page instead of a list",
            "GET",
            "/Users?startIndex=1&count=100",
            answer(200, Some("text/html"), "<html>hi</html>"),
            // The media type is part of the same problem: no JSON where a list was due.
            vec![e("rfc7644.list.json")],
        ),
        (
            "a create answered 200 instead of 201",
            "POST",
            "/Users",
            answer(200, SCIM, USER),
            // The USER answer carries no Location header either.
            // Okta carries on after a 200 (only its SPEC/CRUD test fails): a warning for Okta.
            vec![w("rfc7644.create.status"), w("rfc7644.create.location")],
        ),
        (
            "an error with an integer status",
            "GET",
            "/Users/missing",
            answer(
                404,
                SCIM,
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404,"detail":"no"}"#,
            ),
            vec![w("rfc7644.error.status-string")],
        ),
        (
            "an error body that is not JSON",
            "GET",
            "/Users/missing",
            answer(404, Some("text/plain"), "Not Found"),
            vec![w("rfc7644.error.json")],
        ),
        (
            "a 204 to a delete passes",
            "DELETE",
            "/Users/u1",
            answer(204, None, ""),
            vec![],
        ),
        (
            "a redirect is not followed",
            "GET",
            "/Users/u1",
            answer(302, None, ""),
            vec![e("http.redirect")],
        ),
    ];
    let mut wrong = Vec::new();
    for (behaviour, method, path, response, expected) in rows {
        let mut expected = expected;
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let got = judged(method, path, response);
        if got != expected {
            wrong.push(format!(
                "{behaviour} ({method} {path}): got {got:?}, want {expected:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn transport_failures_are_one_finding_each() {
    let rows = [
        (TransportErrorKind::Timeout, "transport.timeout"),
        (TransportErrorKind::Connect, "transport.connect"),
        (TransportErrorKind::Reset, "transport.reset"),
        (TransportErrorKind::Decode, "transport.content-encoding"),
        (TransportErrorKind::Protocol, "transport.protocol"),
        (TransportErrorKind::Truncated, "transport.truncated"),
    ];
    for (kind, rule) in rows {
        let exchange = Exchange {
            request: request("GET", "/Users"),
            response: None,
            error: Some(TransportError {
                kind,
                message: "it broke".into(),
            }),
            simulated: false,
        };
        let findings = check_exchange(
            &exchange,
            &Intent::infer("GET", "/Users"),
            &Judging::alone(Idp::Generic),
        );
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, [rule], "{kind:?}");
        assert_eq!(findings[0].severity, Severity::Error, "{kind:?}");
        assert!(
            findings[0].impact.is_some(),
            "{kind:?}: says what the IdP does"
        );
    }
}

#[test]
fn intents_by_request() {
    let list = |start_index, count| Intent::List {
        resource: "Users".into(),
        start_index,
        count,
    };
    let rows: Vec<(&str, &str, Intent)> = vec![
        (
            "POST",
            "/Users",
            Intent::Create {
                resource: "Users".into(),
            },
        ),
        ("GET", "/Users?startIndex=3&count=7", list(Some(3), Some(7))),
        ("GET", "/Users?count=x", list(None, None)),
        ("POST", "/Users/.search", list(None, None)),
        (
            "GET",
            "/scim/v2/Groups/g1",
            Intent::Read {
                resource: "Groups".into(),
                id: "g1".into(),
            },
        ),
        (
            "PUT",
            "/Users/u1",
            Intent::Replace {
                resource: "Users".into(),
                id: "u1".into(),
            },
        ),
        (
            "DELETE",
            "/Groups/g1",
            Intent::Delete {
                resource: "Groups".into(),
                id: "g1".into(),
            },
        ),
        ("GET", "/Schemas", Intent::Discovery),
        ("GET", "/ResourceTypes/User", Intent::Discovery),
        ("GET", "/Users/u1/extra", Intent::Other),
        ("PUT", "/Users", Intent::Other),
        ("GET", "/Bulk", Intent::Other),
    ];
    for (method, path, intent) in rows {
        assert_eq!(Intent::infer(method, path), intent, "{method} {path}");
    }
}

/// Parses an `expect:` body pattern from YAML, as the scenario loader does.
fn pattern(yaml: &str) -> crate::scenario::Pattern {
    let node = crate::scenario::yaml::parse_document(yaml).expect("valid YAML");
    crate::scenario::parse::parse_pattern("t.yaml", &node, &Default::default())
        .expect("valid pattern")
}

/// The pointers at which `actual` differs from the pattern (empty: it matches).
fn mismatches(yaml: &str, actual: Option<Value>) -> Vec<String> {
    let mut diffs = Vec::new();
    match_pattern(&pattern(yaml), actual.as_ref(), "", &json!({}), &mut diffs);
    diffs.into_iter().map(|(d, _)| d.pointer).collect()
}

#[test]
fn patterns_by_value() {
    // (behaviour, pattern, actual, pointers that differ)
    let rows: Vec<(&str, &str, Option<Value>, Vec<&str>)> = vec![
        ("a literal matches itself", "3", Some(json!(3)), vec![]),
        ("201 equals 201.0", "201", Some(json!(201.0)), vec![]),
        (
            "objects match as subsets",
            "{ userName: a }",
            Some(json!({"userName": "a", "id": "1"})),
            vec![],
        ),
        (
            "a differing field is named by pointer",
            "{ name: { givenName: Bob } }",
            Some(json!({"name": {"givenName": "Robert"}})),
            vec!["/name/givenName"],
        ),
        (
            "arrays match element by element",
            "[1, 2]",
            Some(json!([1, 3])),
            vec!["/1"],
        ),
        (
            "!type integer refuses a string",
            "{ totalResults: !type integer }",
            Some(json!({"totalResults": "0"})),
            vec!["/totalResults"],
        ),
        (
            "!regex matches a string",
            "{ id: !regex '^[0-9a-f]+$' }",
            Some(json!({"id": "c0ffee"})),
            vec![],
        ),
        (
            "!regex refuses a non-match",
            "{ id: !regex '^[0-9]+$' }",
            Some(json!({"id": "c0ffee"})),
            vec!["/id"],
        ),
        (
            "!absent accepts a missing key",
            "{ password: !absent }",
            Some(json!({"userName": "a"})),
            vec![],
        ),
        (
            "!absent refuses a present key",
            "{ members: !absent }",
            Some(json!({"members": []})),
            vec!["/members"],
        ),
        (
            "!any needs the key",
            "{ id: !any }",
            Some(json!({})),
            vec!["/id"],
        ),
        (
            "!contains finds one matching element",
            "{ schemas: !contains 'urn:x' }",
            Some(json!({"schemas": ["urn:y", "urn:x"]})),
            vec![],
        ),
        (
            "!first judges the first element only",
            "{ emails: !first { value: a@x } }",
            Some(json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]})),
            vec![],
        ),
        (
            "!first fails on a later match",
            "{ emails: !first { value: a@x } }",
            Some(json!({"emails": [{"value": "b@x"}, {"value": "a@x"}]})),
            vec!["/emails/0/value"],
        ),
        (
            "!first fails on an empty array",
            "{ emails: !first { value: a@x } }",
            Some(json!({"emails": []})),
            vec!["/emails"],
        ),
        (
            "!ci ignores case",
            "{ userName: !ci ALICE }",
            Some(json!({"userName": "alice"})),
            vec![],
        ),
        (
            "a missing body differs at the root",
            "{ a: 1 }",
            None,
            vec!["/"],
        ),
    ];
    let mut wrong = Vec::new();
    for (behaviour, yaml, actual, expected) in rows {
        let got = mismatches(yaml, actual);
        if got != expected {
            wrong.push(format!("{behaviour}: got {got:?}, want {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn json_equality_by_pair() {
    let rows = [
        (json!(1), json!(1.0), true),
        (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1}), true),
        (json!([1, 2]), json!([2, 1]), false),
        (
            json!(9007199254740993_u64),
            json!(9007199254740992_u64),
            false,
        ),
        (json!("1"), json!(1), false),
        (json!(null), json!(null), true),
    ];
    for (a, b, equal) in rows {
        assert_eq!(json_equal(&a, &b), equal, "{a} vs {b}");
        assert_eq!(json_equal(&b, &a), equal, "{b} vs {a} (symmetric)");
    }
}

/// Pointers through URN-qualified names, and judgements from the catalogue.
mod pointers_and_judgements {
    use super::super::attribute_pointer;
    use crate::outcome::{Finding, Severity};
    use crate::scenario::Idp;

    #[test]
    fn attribute_pointers_keep_urns_whole() {
        assert_eq!(attribute_pointer("name.givenName"), "/name/givenName");
        assert_eq!(attribute_pointer("active"), "/active");
        assert_eq!(
            attribute_pointer(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
            ),
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department"
        );
        assert_eq!(
            attribute_pointer(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
            ),
            "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value"
        );
        assert_eq!(attribute_pointer("a/b~c"), "/a~1b~0c");
        // The pointer finds the value in a resource as serde_json reads RFC 6901.
        let user = serde_json::json!({
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        });
        let ptr = attribute_pointer(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        );
        assert_eq!(user.pointer(&ptr), Some(&serde_json::json!("R&D")));
    }

    #[test]
    fn findings_take_their_judgement_from_the_catalogue() {
        let okta = Finding::judged("rfc7644.list.integer-counters", Idp::Okta, "x");
        let entra = Finding::judged("rfc7644.list.integer-counters", Idp::Entra, "x");
        assert_eq!(okta.severity, Severity::Error);
        assert_eq!(entra.severity, Severity::Warning);
        assert!(entra.impact.as_deref().is_some_and(|i| !i.contains("Okta")));
        let bound = Finding::judged("expect.status", Idp::Okta, "expected 409, got 201")
            .rebind("rfc7644.create.uniqueness", Idp::Okta);
        assert_eq!(bound.rule, "rfc7644.create.uniqueness");
        assert_eq!(bound.severity, Severity::Warning);
        assert_eq!(bound.message, "expected 409, got 201");
    }
}
