//! The IdPs' membership PATCHes read straight from the request's bytes into member edits.
//!
//! Okta and Entra push group membership as PATCHes of a few dozen members each, thousands of
//! them in a cycle. Parsed into a `serde_json::Value` first, each member cost a map, its hash
//! table and two strings, built and freed per request — more than the edit itself. This reads
//! exactly the shapes they send (`{"op": "add", "path": "members", "value": [{"value": id},
//! …]}`, Entra's `Remove` with a value list, Okta's `members[value eq "…"]` remove), spelled as
//! they spell them, and gives up on anything else: the caller then parses the body and takes
//! `patch::member_edits` or the general path, so what a request does never depends on which
//! reader took it (a test holds the two to the same edits).

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Deserialize;

use super::member::Member;
use super::patch::{self, MAX_OPERATIONS, MAX_VALUES};
use super::quirks::Quirks;
use super::store::MemberEdit;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    /// Read, not skipped: serde's `IgnoredAny` passes over invalid UTF-8, lone surrogates,
    /// numbers out of range and any depth of nesting, which the parsed path refuses as not
    /// JSON. Anything but a list of strings leaves the body to the parsed path.
    #[serde(rename = "schemas", borrow)]
    _schemas: Option<Vec<Cow<'a, str>>>,
    #[serde(rename = "Operations", borrow)]
    operations: Vec<Operation<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Operation<'a> {
    #[serde(borrow)]
    op: Cow<'a, str>,
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(default, borrow)]
    value: Option<Vec<Sent<'a>>>,
}

/// One member as the IdPs send it; any other key, or a value that is not a string (a null
/// `display` aside), makes the body another reader's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sent<'a> {
    #[serde(borrow)]
    value: Cow<'a, str>,
    #[serde(default, deserialize_with = "present")]
    display: Option<Option<Box<str>>>,
    #[serde(default, rename = "type")]
    ty: Option<Box<str>>,
    #[serde(default, rename = "$ref")]
    reference: Option<Box<str>>,
}

/// Tells a key sent as null (`Some(None)`) from one not sent (`None`, by `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Box<str>>>, D::Error> {
    Option::<Box<str>>::deserialize(d).map(Some)
}

/// The edits of a membership PATCH in the IdPs' form, or `None` for any other body.
pub(crate) fn read(bytes: &[u8], quirks: &Quirks) -> Option<Vec<MemberEdit>> {
    if !patch::edits_in_place(quirks) {
        return None;
    }
    let body: Body<'_> = serde_json::from_slice(bytes).ok()?;
    let ops = body.operations;
    let values: usize = ops
        .iter()
        .map(|o| o.value.as_ref().map_or(1, Vec::len))
        .sum();
    // Over the limits: the general path refuses it, with its message.
    if ops.len() > MAX_OPERATIONS || values > MAX_VALUES {
        return None;
    }
    let mut edits = Vec::with_capacity(ops.len());
    for o in ops {
        let members = o.path.trim().eq_ignore_ascii_case("members");
        match (o.op.to_ascii_lowercase().as_str(), members, o.value) {
            ("add", true, Some(sent)) if !sent.is_empty() => edits.push(MemberEdit::Add(
                sent.into_iter()
                    .map(|m| Member::from_parts(&m.value, m.display, m.ty, m.reference))
                    .collect(),
            )),
            ("remove", true, Some(sent)) => edits.push(MemberEdit::Remove(
                sent.into_iter().map(|m| m.value.into_owned()).collect(),
            )),
            ("remove", false, None) => {
                edits.push(MemberEdit::Remove(HashSet::from([patch::removed_member(
                    &o.path,
                )?])))
            }
            _ => return None,
        }
    }
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::quirks::Quirk;
    use serde_json::Value;

    /// Whatever this reader takes, `patch::member_edits` on the parsed body gives the same
    /// edits; what it leaves, the caller parses.
    #[test]
    fn the_bytes_reader_agrees_with_the_value_reader() {
        let quirks = Quirks::default();
        let taken = [
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1","display":"ann@x.test"}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1","display":null,"type":"User","$ref":"https://x.test/Users/u1"}]}]}"#,
            r#"{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"},{"value":"u9"}]}]}"#,
            r#"{"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"add","path":"members","value":[{"value":"u\"2"}]}]}"#,
            r#"{"Operations":[{"op":"remove","path":" members[value eq \"u1\"] "}]}"#,
            r#"{"Operations":[]}"#,
        ];
        for body in taken {
            let fast = read(body.as_bytes(), &quirks);
            let value: Value = serde_json::from_str(body).expect("json");
            assert!(fast.is_some(), "{body}");
            assert_eq!(fast, patch::member_edits(&value, &quirks), "{body}");
        }
        let left = [
            // Another spelling, another shape, another operation: the parsed body's.
            r#"{"operations":[{"op":"add","path":"members","value":[{"value":"u1"}]}]}"#,
            r#"{"Operations":[{"OP":"add","path":"members","value":[{"value":"u1"}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"Value":"u1"}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":{"value":"u1"}}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":7}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1","primary":true}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[null]}]}"#,
            r#"{"Operations":[{"op":"replace","path":"members","value":[{"value":"u1"}]}]}"#,
            r#"{"Operations":[{"op":"remove","path":"members"}]}"#,
            r#"{"Operations":[{"op":"remove","path":"members[display eq \"ann\"]"}]}"#,
            r#"{"Operations":[{"op":"replace","path":"displayName","value":[{"value":"x"}]}]}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]}],"extra":1}"#,
            r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1","value":"u2"}]}]}"#,
            // Not JSON the parsed path accepts, in the one member that is not used.
            r#"{"schemas":["\ud800"],"Operations":[]}"#,
            r#"{"schemas":1e400,"Operations":[]}"#,
            // Valid, but not the IdPs' form: the parsed path's.
            r#"{"schemas":[["urn:ietf:params:scim:api:messages:2.0:PatchOp"]],"Operations":[]}"#,
            r#"{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[]}"#,
            "not json",
        ];
        for body in left {
            assert!(read(body.as_bytes(), &quirks).is_none(), "{body}");
        }
        let rfc = Quirks::new(&[Quirk::RfcLiteralMemberRemove]);
        assert!(read(taken[0].as_bytes(), &rfc).is_none());
    }
}
