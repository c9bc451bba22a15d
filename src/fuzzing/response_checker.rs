//! A server's answer is data: any status, Content-Type and body bytes become findings through
//! the built-in rules (`check::rules`) and a step's expectations (`check::expect`), never a
//! panic. The body is prepared the way the transport records it (JSON when it parses, else
//! lossy text cut at `TEXT_LIMIT`, redacted).

use std::sync::OnceLock;

use crate::check::{expect, rules};
use crate::scenario::{Scenario, StepKind};
use crate::support::redact::Redactor;
use crate::transport;
use crate::transport::exchange::{
    Exchange, RecordedRequest, RecordedResponse, TransportError, TransportErrorKind, TEXT_LIMIT,
};
use serde_json::{json, Value};

const STATUSES: &[u16] = &[
    200, 201, 204, 206, 301, 302, 304, 400, 401, 404, 409, 412, 413, 429, 500, 503, 0, 99, 600, 999,
];
const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/scim+json"),
    Some("application/scim+json; charset=utf-8"),
    Some("application/json"),
    Some("text/html"),
    Some(""),
    Some(";;;"),
    Some("APPLICATION/SCIM+JSON ; q=0"),
    None,
];
const TRANSPORT_ERRORS: &[Option<TransportErrorKind>] = &[
    None,
    None,
    None,
    Some(TransportErrorKind::Decode),
    Some(TransportErrorKind::Reset),
    Some(TransportErrorKind::Timeout),
];

/// Expectations of every pattern kind, parsed once through the real loader.
const EXPECTATIONS: &str = r#"
name: fuzz expectations
variables:
  user_name: "ann-{{ run }}@example.com"
steps:
  - request: { method: GET, path: /Users }
    expect:
      status: [200, 201]
      headers: { Content-Type: !regex '^application/scim\+json', ETag: !any, X-Nope: !absent }
      body:
        schemas: !contains "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        totalResults: !type integer
        itemsPerPage: !type number
        startIndex: 1
        Resources: !contains { userName: !ci "{{ user_name }}", active: true, emails: [{ value: !regex '@' }] }
  - request: { method: GET, path: /Users/1 }
    expect:
      body: !exact
        id: !type string
        meta: { resourceType: User, location: !regex '/Users/' }
        name: { givenName: !any, middleName: !absent }
        nested: [[1, 2], { a: null }, !type array, !type object, !type boolean, !type "null"]
"#;

fn expectations() -> Option<&'static Scenario> {
    static SCENARIO: OnceLock<Option<Scenario>> = OnceLock::new();
    SCENARIO
        .get_or_init(|| {
            crate::scenario::parse::parse_scenario(
                "fuzz.yaml",
                EXPECTATIONS,
                &crate::idp::Catalogue,
            )
            .ok()
        })
        .as_ref()
}

fn redactor() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(|| Redactor::new(vec!["fuzz-secret-marker".into()]))
}

fn pick<T: Copy>(items: &[T], byte: u8) -> T {
    items[usize::from(byte) % items.len()]
}

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let [status_byte, type_byte, error_byte, rest @ ..] = data else {
        return;
    };
    // The first line of the rest is the request path, the remainder the body.
    let (path, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&rest[..i]).into_owned(),
            &rest[i + 1..],
        ),
        None => ("/Users".to_string(), rest),
    };
    let redactor = redactor();

    let mut headers = Vec::new();
    if let Some(ct) = pick(CONTENT_TYPES, *type_byte) {
        headers.push(("Content-Type".to_string(), ct.to_string()));
    }
    if type_byte & 0x80 != 0 {
        headers.push(("Location".to_string(), format!("https://scim.test{path}")));
        headers.push(("ETag".to_string(), "W/\"1\"".to_string()));
    }
    // The transport's own reading of a body: the parse-cost guard, then why it is not JSON.
    let (json, json_error): (Option<Value>, Option<String>) = if body.is_empty() {
        (None, None)
    } else {
        match transport::parse_json(body) {
            Ok(v) => (Some(v), None),
            Err(why) => (None, Some(transport::why_not_json(&why, body, &headers))),
        }
    };
    let text = if json.is_some() || body.is_empty() {
        None
    } else {
        let cut = String::from_utf8_lossy(&body[..body.len().min(TEXT_LIMIT)]).into_owned();
        Some(redactor.text(&cut))
    };
    let response = RecordedResponse {
        status: pick(STATUSES, *status_byte),
        headers: redactor.headers(&headers),
        body: json.as_ref().map(|v| redactor.json(v)),
        text,
        size: body.len(),
        elapsed_ms: 1,
        truncated: status_byte & 0x80 != 0,
        content_encoding: None,
        json_error,
    };
    let error = pick(TRANSPORT_ERRORS, *error_byte).map(|kind| TransportError {
        kind,
        message: "fuzzed transport error".into(),
    });
    let exchange = Exchange {
        request: RecordedRequest {
            method: "GET".into(),
            url: format!("https://scim.test{path}"),
            target: path.clone(),
            headers: Vec::new(),
            body: None,
            raw_body: None,
        },
        response: (error_byte & 0x80 == 0).then(|| response.clone()),
        error,
        simulated: false,
    };
    let mut intents = vec![
        rules::Intent::Create {
            resource: "Users".into(),
        },
        rules::Intent::Read {
            resource: "Users".into(),
            id: "2819c223".into(),
        },
        rules::Intent::List {
            resource: "Users".into(),
            start_index: None,
            count: None,
        },
        rules::Intent::List {
            resource: "Groups".into(),
            start_index: Some(3),
            count: Some(0),
        },
        rules::Intent::List {
            resource: "Users".into(),
            start_index: Some(i64::MIN),
            count: Some(i64::MAX),
        },
        rules::Intent::Replace {
            resource: "Users".into(),
            id: "1".into(),
        },
        rules::Intent::Patch {
            resource: "Groups".into(),
            id: "1".into(),
        },
        rules::Intent::Delete {
            resource: "Users".into(),
            id: "1".into(),
        },
        rules::Intent::Discovery,
        rules::Intent::Other,
    ];
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        intents.push(rules::Intent::infer(method, &path));
    }
    for intent in &intents {
        for finding in rules::check_exchange(
            &exchange,
            intent,
            &rules::Judging::alone(crate::scenario::Idp::Generic),
        ) {
            assert!(
                !finding.message.is_empty(),
                "a finding without a message: {finding:?}"
            );
        }
    }
    if let Some(scenario) = expectations() {
        let ctx = json!({"run": "fz01", "user_name": "ann-fz01@example.com"});
        for step in &scenario.steps {
            if let StepKind::Request(request) = &step.kind {
                let _ = expect::check(&request.expect, &response, scenario, &ctx);
            }
        }
    } else {
        panic!("the built-in expectations no longer load");
    }
}
