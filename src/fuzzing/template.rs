//! Scenario values are minijinja templates written by people: checking and rendering any text
//! gives a string or an error, never a panic, runaway memory or a hang.

use std::sync::OnceLock;

use crate::scenario::template;
use serde_json::{json, Value};

fn context() -> &'static Value {
    static CTX: OnceLock<Value> = OnceLock::new();
    CTX.get_or_init(|| {
        json!({
            "run": "fz01",
            "base_url": "https://scim.test/scim/v2",
            "user_id": "42",
            "users": {"alice": {"id": "7", "userName": "alice@example.com", "emails": ["a@x", "b@y"]}},
            "groups": {"eng": {"id": "g1", "members": []}},
            "n": 3,
            "flag": true,
            "nothing": null
        })
    })
}

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = template::analyze(text);
    let _ = template::render(text, context());
    let _ = template::render_value(&json!({ text: [text, {"k": text}] }), context());
}
