//! Table-driven tests of the Okta profile's pure parts: what goes on the wire (`wire`: queries,
//! headers, bodies) and which `settings:` it accepts (`settings`). Each row is one behaviour.

use serde_json::{json, Map, Value};

use super::settings::{self, Personality, QueryEncoding, Settings};
use super::wire;

/// (behaviour, settings, extra mappings, Okta profile, the body)
type CreateRow<'a> = (
    &'a str,
    &'a Settings,
    &'a [(String, String)],
    &'a Map<String, Value>,
    Value,
);

#[test]
fn lookups_by_encoding() {
    // (attribute, value, encoding, the path Okta sends)
    let rows = [
        (
            "userName",
            "test.user@okta.local",
            QueryEncoding::Percent,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
        ),
        (
            "userName",
            "jane.doe@example.com",
            QueryEncoding::Plus,
            "/Users?filter=userName+eq+%22jane.doe%40example.com%22&startIndex=1&count=100",
        ),
        (
            "userName",
            r#"a"b\c"#,
            QueryEncoding::Percent,
            "/Users?filter=userName%20eq%20%22a%5C%22b%5C%5Cc%22&startIndex=1&count=100",
        ),
        (
            "userName",
            "a-b_c.d~e",
            QueryEncoding::Percent,
            "/Users?filter=userName%20eq%20%22a-b_c.d~e%22&startIndex=1&count=100",
        ),
    ];
    for (attr, value, enc, want) in rows {
        assert_eq!(
            wire::filter_query("Users", attr, value, enc),
            want,
            "{value:?} {enc:?}"
        );
    }
    assert_eq!(
        wire::filter_query(
            "Groups",
            "displayName",
            "Test SCIMv2",
            QueryEncoding::Percent
        ),
        "/Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100"
    );
    assert_eq!(
        wire::page_query("Users", 1, 2),
        "/Users?startIndex=1&count=2"
    );
}

#[test]
fn headers_by_method() {
    let names = |method: &str, body: Option<Value>| -> Vec<String> {
        wire::request(method, "/Users", body)
            .headers
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect()
    };
    let read = [
        "Accept: application/scim+json",
        "Accept-Charset: utf-8",
        "User-Agent: Okta SCIM Client 1.0.0",
        "Accept-Encoding: gzip,deflate",
    ];
    let write = [
        "Accept: application/scim+json",
        "Accept-Charset: utf-8",
        "Content-Type: application/scim+json; charset=utf-8",
        "User-Agent: Okta SCIM Client 1.0.0",
        "Accept-Encoding: gzip,deflate",
    ];
    // (method, body, headers in Okta's order)
    let rows: Vec<(&str, Option<Value>, &[&str])> = vec![
        ("GET", None, &read),
        ("POST", Some(json!({})), &write),
        ("PUT", Some(json!({})), &write),
        ("PATCH", Some(json!({})), &write),
        // The 2019 capture of a group DELETE carries a Content-Type without a body.
        ("DELETE", None, &write),
    ];
    for (method, body, want) in rows {
        assert_eq!(names(method, body), want, "{method}");
    }
}

fn profile(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

#[test]
fn create_bodies_by_profile() {
    let oin = Settings::defaults(Personality::Oin);
    let mut with_extension = Settings::defaults(Personality::Oin);
    with_extension.enterprise_extension = true;
    let alice = profile(&[
        ("login", "alice@example.test"),
        ("firstName", "Alice"),
        ("lastName", "Liddell"),
        ("email", "alice@example.test"),
        ("displayName", "Alice Liddell"),
        ("department", "Wonder"),
    ]);
    let no_email = profile(&[("login", "bob@example.test"), ("firstName", "Bob")]);
    let extra = vec![(
        "enterprise.department".to_string(),
        "department".to_string(),
    )];
    // (behaviour, settings, extra mappings, profile, the body, keys in order)
    let rows: Vec<CreateRow> = vec![
        (
            "the documented create, key order as captured",
            &oin,
            &[],
            &alice,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "alice@example.test",
                "name": {"givenName": "Alice", "familyName": "Liddell"},
                "emails": [{"primary": true, "value": "alice@example.test", "type": "work"}],
                "displayName": "Alice Liddell",
                "locale": "en-US",
                "externalId": "00u1",
                "groups": [],
                "password": "pw",
                "active": true
            }),
        ),
        (
            "attributes without a value are left out",
            &oin,
            &[],
            &no_email,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bob@example.test",
                "name": {"givenName": "Bob"},
                "locale": "en-US",
                "externalId": "00u1",
                "groups": [],
                "password": "pw",
                "active": true
            }),
        ),
        (
            "an enterprise mapping adds the extension and its URN",
            &with_extension,
            &extra,
            &alice,
            json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ],
                "userName": "alice@example.test",
                "name": {"givenName": "Alice", "familyName": "Liddell"},
                "emails": [{"primary": true, "value": "alice@example.test", "type": "work"}],
                "displayName": "Alice Liddell",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Wonder"},
                "locale": "en-US",
                "externalId": "00u1",
                "groups": [],
                "password": "pw",
                "active": true
            }),
        ),
    ];
    for (behaviour, settings, extra, user, want) in rows {
        let got = wire::create_user_body(settings, extra, user, "00u1", "pw");
        assert_eq!(got, want, "{behaviour}");
        assert_eq!(got.to_string(), want.to_string(), "{behaviour}: key order");
    }
}

#[test]
fn put_echoes_the_server_answer_with_the_changes() {
    let server = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": "alice",
        "name": {"givenName": "Alice", "familyName": "L"},
        "password": "returned-by-a-bad-server",
        "meta": {"resourceType": "User"}
    });
    let changes = [
        ("name.givenName".to_string(), json!("Alicia")),
        ("title".to_string(), json!("Queen")),
    ];
    // Whatever the server returned goes back, readOnly fields and a password included.
    assert_eq!(
        wire::echo_put_body(&server, &changes),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "userName": "alice",
            "name": {"givenName": "Alicia", "familyName": "L"},
            "password": "returned-by-a-bad-server",
            "meta": {"resourceType": "User"},
            "title": "Queen"
        })
    );
    assert_eq!(
        wire::echo_put_body(&json!("not an object"), &changes),
        json!({"name": {"givenName": "Alicia"}, "title": "Queen"})
    );
}

#[test]
fn group_bodies() {
    let alice = wire::member("u1", "alice");
    let rows: Vec<(&str, Value, Value)> = vec![
        (
            "the push create: members follow by PATCH",
            wire::group_body(None, "Eng", &[]),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng", "members": []}),
        ),
        (
            "AIW's PUT carries the id and every member",
            wire::group_body(Some("g1"), "Eng", std::slice::from_ref(&alice)),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "Eng", "members": [{"value": "u1", "display": "alice"}]}),
        ),
        (
            "the rename PATCH: path-less replace with the readOnly id inside",
            wire::patch(vec![wire::replace_value(
                json!({"id": "g1", "displayName": "Eng"}),
            )]),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"id": "g1", "displayName": "Eng"}}]}),
        ),
        (
            "a member leaves by filter path",
            wire::remove_member(r#"u"1"#),
            json!({"op": "remove", "path": r#"members[value eq "u\"1"]"#}),
        ),
        (
            "members join in one add",
            wire::add_members(vec![alice.clone()]),
            json!({"op": "add", "path": "members", "value": [{"value": "u1", "display": "alice"}]}),
        ),
    ];
    for (behaviour, got, want) in rows {
        assert_eq!(got, want, "{behaviour}");
    }
}

#[test]
fn settings_by_value() {
    let check = |settings_yaml: &str| -> Vec<String> {
        let text = format!(
            "name: s\nidp: okta\nsettings:\n{settings_yaml}steps:\n  - request: {{ method: GET, path: /Users }}\n"
        );
        match crate::scenario::parse::parse_scenario("t.yaml", &text, &crate::idp::Catalogue) {
            Ok(s) => settings::validate(&s).into_iter().map(|(_, m)| m).collect(),
            Err(d) => d.into_iter().map(|d| d.message).collect(),
        }
    };
    // (behaviour, settings, a piece of each problem)
    let rows: Vec<(&str, &str, Vec<&str>)> = vec![
        ("the defaults are fine", "  locale: en-US\n", vec![]),
        ("both encodings", "  query_encoding: plus\n", vec![]),
        (
            "an unknown encoding",
            "  query_encoding: form\n",
            vec!["`query_encoding` takes `percent` or `plus`"],
        ),
        (
            "an unknown key",
            "  locales: en-US\n",
            vec!["unknown Okta setting `locales`"],
        ),
        (
            "a retry count must be positive",
            "  retry_max_attempts: 0\n",
            vec!["`retry_max_attempts` takes a positive integer"],
        ),
        (
            "a flag takes a boolean",
            "  enterprise_extension: yes please\n",
            vec!["`enterprise_extension` takes true or false"],
        ),
        (
            "an attribute name has no spaces",
            "  unique_identifier: user name\n",
            vec!["`unique_identifier` takes an attribute name"],
        ),
    ];
    let mut wrong = Vec::new();
    for (behaviour, yaml, want) in rows {
        let got = check(yaml);
        let fits = got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| g.contains(w));
        if !fits {
            wrong.push(format!("{behaviour}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The parsed defaults are Okta's documented ones.
    let d = Settings::defaults(Personality::Oin);
    assert_eq!(
        (
            d.unique_identifier.as_str(),
            d.locale.as_str(),
            d.retry_max_attempts,
            d.retry_default_seconds
        ),
        ("login", "en-US", 10, 300)
    );
    assert_eq!(d.query_encoding, QueryEncoding::Percent);
}
