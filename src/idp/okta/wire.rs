//! What goes on the wire: Okta's headers, query strings and request bodies, and its 429 policy.
//! Everything here is a pure function of the settings and the directory, except `send`, so the
//! recording tests can compare the expansion with Okta's published captures.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

use super::settings::{QueryEncoding, Settings};
use crate::idp::context::ActionCtx;
use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, PATCH_URN, USER_URN};
use crate::transport::{OutgoingRequest, RawResponse};

pub const USER_AGENT: &str = "Okta SCIM Client 1.0.0";
pub const ACCEPT: &str = "application/scim+json";
pub const CONTENT_TYPE: &str = "application/scim+json; charset=utf-8";

/// RFC 3986 unreserved characters stay; everything else is percent-encoded, as in Okta's
/// captures (`%22`, `%40`, `%20`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request with Okta's headers (okta.md §1.1, Appendix A). `Content-Type` goes on every
/// request with a body and on DELETE, as the 2019 capture of `DELETE /v2/Groups/{id}` shows.
/// `Host`, `Content-Length` and `Connection` are the HTTP stack's business.
pub fn request(method: &str, path: impl Into<String>, body: Option<Value>) -> OutgoingRequest {
    let mut req = OutgoingRequest::new(method, path)
        .header("Accept", ACCEPT)
        .header("Accept-Charset", "utf-8");
    if body.is_some() || method == "DELETE" {
        req = req.header("Content-Type", CONTENT_TYPE);
    }
    req = req
        .header("User-Agent", USER_AGENT)
        .header("Accept-Encoding", "gzip,deflate");
    match body {
        Some(b) => req.json(b),
        None => req,
    }
}

pub fn encode(value: &str, enc: QueryEncoding) -> String {
    let s = utf8_percent_encode(value, QUERY).to_string();
    match enc {
        QueryEncoding::Percent => s,
        QueryEncoding::Plus => s.replace("%20", "+"),
    }
}

/// `?filter=…&startIndex=1&count=100` in Okta's order (filter, startIndex, count).
pub fn filter_query(collection: &str, attr: &str, value: &str, enc: QueryEncoding) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    let filter = format!("{attr} eq \"{escaped}\"");
    format!(
        "/{collection}?filter={}&startIndex=1&count=100",
        encode(&filter, enc)
    )
}

pub fn page_query(collection: &str, start: i64, count: i64) -> String {
    format!("/{collection}?startIndex={start}&count={count}")
}

/// A random 8-character password, as Okta sends on every create ("a placeholder for legacy
/// provisioning platforms", okta.md §2.2; captures: `gl^m&qWZ`, `4a9XuKkx`).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789^&";
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn text(user: &Map<String, Value>, attr: &str) -> Option<Value> {
    match user.get(attr) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v.clone()),
    }
}

/// `urn:…:2.0:User:attr` → (`urn:…:2.0:User`, `attr`): the enterprise extension, or the custom
/// namespace an Okta admin gives an attribute in the Profile Editor ("External namespace").
pub fn split_extension(path: &str) -> Option<(&str, &str)> {
    if !path.to_ascii_lowercase().starts_with("urn:") {
        return None;
    }
    let (schema, attr) = path.rsplit_once(':')?;
    (schema.to_ascii_lowercase().ends_with(":user") && !attr.is_empty()).then_some((schema, attr))
}

/// Sets `a.b` or `urn:…:User:attr` in a SCIM body; extension attributes (enterprise or custom)
/// add their URN to `schemas` (KR-CAPTURE, okta.md §2.2).
fn set_path(body: &mut Map<String, Value>, path: &str, value: Value) {
    let (target, rest): (&mut Map<String, Value>, &str) =
        if let Some((schema, attr)) = split_extension(path) {
            add_schema(body, schema);
            let ext = body
                .entry(schema)
                .or_insert_with(|| Value::Object(Map::new()));
            if !ext.is_object() {
                *ext = Value::Object(Map::new());
            }
            match ext.as_object_mut() {
                Some(m) => (m, attr),
                None => return,
            }
        } else {
            (body, path)
        };
    let mut cur = target;
    let parts: Vec<&str> = rest.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur.insert((*p).to_string(), value);
            return;
        }
        let next = cur
            .entry((*p).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        match next.as_object_mut() {
            Some(m) => cur = m,
            None => return,
        }
    }
}

fn add_schema(body: &mut Map<String, Value>, urn: &str) {
    let schemas = body.entry("schemas").or_insert_with(|| json!([USER_URN]));
    if let Some(a) = schemas.as_array_mut() {
        if !a.iter().any(|s| s == urn) {
            a.push(json!(urn));
        }
    }
}

/// Okta's attribute mapping (its docs' table: userName, givenName ← firstName, familyName ←
/// lastName, email, displayName, profileUrl) plus the extra `mappings.user` entries, as
/// `(SCIM path, value)` pairs. Attributes without a value are omitted (KR-CAPTURE).
pub fn mapped_attributes(
    settings: &Settings,
    extra: &[(String, String)],
    user: &Map<String, Value>,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(v) = text(user, &settings.unique_identifier) {
        out.push(("userName".into(), v));
    }
    if let Some(v) = text(user, "firstName") {
        out.push(("name.givenName".into(), v));
    }
    if let Some(v) = text(user, "lastName") {
        out.push(("name.familyName".into(), v));
    }
    if let Some(v) = text(user, "email") {
        out.push((
            "emails".into(),
            json!([{ "primary": true, "value": v, "type": "work" }]),
        ));
    }
    if let Some(v) = text(user, "displayName") {
        out.push(("displayName".into(), v));
    }
    if let Some(v) = text(user, "profileUrl") {
        out.push(("profileUrl".into(), v));
    }
    for (scim, okta) in extra {
        if let Some(v) = text(user, okta) {
            out.push((expand_urn(scim), v));
        }
    }
    out
}

/// `enterprise.department` is shorthand for the enterprise extension's URN path.
pub fn expand_urn(path: &str) -> String {
    match path.strip_prefix("enterprise.") {
        Some(rest) => format!("{ENTERPRISE_URN}:{rest}"),
        None => path.to_string(),
    }
}

/// The POST /Users body (okta.md §2.2, Appendix A.1), key order as captured.
pub fn create_user_body(
    settings: &Settings,
    extra: &[(String, String)],
    user: &Map<String, Value>,
    external_id: &str,
    password: &str,
) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([USER_URN]));
    if settings.enterprise_extension {
        add_schema(&mut body, ENTERPRISE_URN);
    }
    for (path, v) in mapped_attributes(settings, extra, user) {
        set_path(&mut body, &path, v);
    }
    let locale = text(user, "locale").unwrap_or_else(|| json!(settings.locale));
    body.insert("locale".into(), locale);
    body.insert("externalId".into(), json!(external_id));
    body.insert("groups".into(), json!([]));
    body.insert("password".into(), json!(password));
    body.insert("active".into(), json!(true));
    Value::Object(body)
}

/// Okta's PUT: the server's own GET answer with only the changed attributes replaced
/// (okta.md §2.4; KR-CAPTURE: whatever the server returned — id, meta, groups, even a
/// password — goes back).
pub fn echo_put_body(server: &Value, changes: &[(String, Value)]) -> Value {
    let mut body = match server {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    for (path, v) in changes {
        set_path(&mut body, path, v.clone());
    }
    Value::Object(body)
}

/// An object of these members, in this order, the values moved in (`json!` copies every
/// interpolated `Value` by serialising it again).
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub fn patch(ops: Vec<Value>) -> Value {
    object([
        (
            "schemas",
            Value::Array(vec![Value::String(PATCH_URN.into())]),
        ),
        ("Operations", Value::Array(ops)),
    ])
}

/// Path-less replace with a value object: Okta's deactivate/reactivate/rename shape (§3).
pub fn replace_value(value: Value) -> Value {
    object([("op", "replace".into()), ("value", value)])
}

/// One `add` of members (`{value, display}` each) by the `members` path (okta.md §2.10.5).
pub fn add_members(members: Vec<Value>) -> Value {
    object([
        ("op", "add".into()),
        ("path", "members".into()),
        ("value", Value::Array(members)),
    ])
}

pub fn member(id: &str, display: &str) -> Value {
    json!({ "value": id, "display": display })
}

pub fn remove_member(id: &str) -> Value {
    let escaped = id.replace('"', "\\\"");
    json!({ "op": "remove", "path": format!("members[value eq \"{escaped}\"]") })
}

/// The group body of POST and of AIW's PUT (okta.md §2.10.2, Appendix A.8/A.10).
pub fn group_body(id: Option<&str>, display_name: &str, members: &[Value]) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([GROUP_URN]));
    if let Some(id) = id {
        body.insert("id".into(), json!(id));
    }
    body.insert("displayName".into(), json!(display_name));
    body.insert("members".into(), Value::Array(members.to_vec()));
    Value::Object(body)
}

/// Sends one Okta request under Okta's 429 policy (okta.md §1.5, O-CONCEPTS): the task pauses;
/// an integer `Retry-After` is honoured; otherwise (absent, HTTP-date, junk) the wait is
/// 5 minutes and doubles with each further 429; after 10 attempts the task fails for good.
/// Waits go through `ctx.wait`, so `--time-scale` makes them fast and `--dry-run` skips them.
/// Choice (the docs do not say): a later 429 with an integer Retry-After is honoured too.
pub async fn send(
    ctx: &mut ActionCtx<'_>,
    settings: &Settings,
    req: OutgoingRequest,
) -> (usize, RawResponse) {
    let mut attempt = 1;
    let mut last_wait: Option<u64> = None;
    loop {
        let (index, raw) = ctx.send(req.clone()).await;
        if raw.status != 429 {
            return (index, raw);
        }
        if attempt >= settings.retry_max_attempts {
            let f = ctx
                .rule(
                    "okta.rate-limit.exhausted",
                    format!("the server answered 429 to all {attempt} attempts"),
                )
                .at_exchange(index);
            ctx.finding(f);
            return (index, raw);
        }
        let retry_after = raw
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .map(|(_, v)| v.trim().to_string());
        let seconds = match retry_after.as_deref().map(str::parse::<u64>) {
            Some(Ok(s)) => s,
            _ => {
                if last_wait.is_none() {
                    let f = ctx
                        .rule(
                            "okta.rate-limit.retry-after",
                            match &retry_after {
                                Some(v) => format!("the 429 carries `Retry-After: {v}`, not an integer number of seconds"),
                                None => "the 429 has no Retry-After header".to_string(),
                            },
                        )
                        .at_exchange(index);
                    ctx.finding(f);
                }
                last_wait.map_or(settings.retry_default_seconds, |w| w.saturating_mul(2))
            }
        };
        last_wait = Some(seconds);
        ctx.wait(Duration::from_secs(seconds.min(86_400))).await;
        attempt += 1;
    }
}
