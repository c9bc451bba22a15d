//! SCIM filters arrive from scenarios and, on the reference server, from any client.
//! Whatever parses must print to text that parses back to the same filter, and evaluating it
//! on a resource must not panic.

use std::sync::OnceLock;

use crate::scim::filter::{self, EvalOptions};
use crate::scim::schema::ResourceKind;
use serde_json::{json, Value};

fn sample_user() -> &'static Value {
    static USER: OnceLock<Value> = OnceLock::new();
    USER.get_or_init(|| {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "00u1abcd",
            "userName": "Barbara.Jensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": null},
            "displayName": "Babs Jensen",
            "active": true,
            "title": "",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"},
                "not-an-object",
                null
            ],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
            "x509Certificates": [],
            "loginCount": 42,
            "ratio": 0.5,
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34.123+02:00",
                "version": "W/\"3694e05e9dff590\""
            },
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            }
        })
    })
}

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = filter::parse(text) else {
        return;
    };
    let printed = parsed.to_string();
    let reparsed = match filter::parse(&printed) {
        Ok(f) => f,
        Err(e) => panic!("{text:?} parsed, but its printed form {printed:?} does not: {e}"),
    };
    assert_eq!(
        reparsed.to_string(),
        printed,
        "printing is not stable for {text:?}"
    );
    assert_eq!(
        reparsed, parsed,
        "{text:?} → {printed:?} parses to a different filter"
    );
    let user = sample_user();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        for force_case_exact in [false, true] {
            let opts = EvalOptions { force_case_exact };
            let _ = parsed.matches(user, kind, opts);
        }
    }
    if let Some(emails) = user.get("emails").and_then(Value::as_array) {
        for element in emails {
            let _ = parsed.matches_element(element, None, EvalOptions::default());
        }
    }
}
