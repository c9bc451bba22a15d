//! Entra mapping expressions are written by people in scenarios. Parsing gives an expression
//! or a positioned error; evaluating gives a value or an error; neither panics, overflows the
//! stack, exhausts memory or takes pathological time.

use std::sync::OnceLock;

use crate::idp::entra::expr::{self, EvalContext, MAX_EXPRESSION_CHARS};
use serde_json::{json, Map, Value};

fn source() -> &'static Map<String, Value> {
    static SOURCE: OnceLock<Map<String, Value>> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let v = json!({
            "userPrincipalName": "john.doe@contoso.com",
            "mail": "John.Doe@contoso.com",
            "mailNickname": "jdoe",
            "givenName": "John",
            "surname": "Doe",
            "displayName": "  John   Doe  ",
            "department": "",
            "jobTitle": null,
            "accountEnabled": true,
            "IsSoftDeleted": "False",
            "employeeId": "000123",
            "employeeHireDate": "2024-02-29T08:30:00Z",
            "telephoneNumber": "+1 (555) 0100",
            "proxyAddresses": ["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"],
            "otherMails": [],
            "appRoleAssignments": [
                {"id": "r1", "value": "Admin", "displayName": "Administrator"},
                "Reader",
                {"displayName": "No value"}
            ],
            "extension_abc_costCenter": 4711,
            "nested": {"a": 1}
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    })
}

fn context() -> EvalContext {
    EvalContext {
        // A fixed instant and seed keep runs reproducible.
        now: time::macros::datetime!(2025-06-15 12:34:56 UTC),
        rng_seed: Some(7),
    }
}

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = expr::parse(text) else {
        return;
    };
    let _ = parsed.attributes();
    let _ = parsed.functions();
    // Display is documented as canonical source text that round-trips through `parse`.
    let printed = parsed.to_string();
    if printed.chars().count() <= MAX_EXPRESSION_CHARS {
        match expr::parse(&printed) {
            Ok(again) => assert_eq!(
                again.to_string(),
                printed,
                "printing is not stable for {text:?}"
            ),
            Err(e) => panic!("{text:?} parsed, but its printed form {printed:?} does not: {e}"),
        }
    }
    let _ = expr::evaluate_outcome(&parsed, source(), &context());
}
