//! A group's member as the store keeps it: compact, converted to and from JSON at the edges.
//!
//! Groups hold thousands of members and the IdPs change them ten or a hundred at a time.
//! Kept as serde_json objects, each membership cost about ten allocations (the map, its hash
//! table, the key and value strings, and copies of the id in the member index), and a
//! membership PATCH cost the server nearly twice a user create, most of it in the allocator.
//! Here Entra's `{"value": id}` is one allocation — the id, shared with the member index —
//! and Okta's `{"value": id, "display": name}` three. Anything that is not that shape (a
//! non-string `value` or sub-attribute, which `resource::normalize` lets through as sent) is
//! kept whole, so converting back gives exactly what was stored.

use std::sync::Arc;

use serde_json::{Map, Value};

/// One element of a group's `members`, as stored (display, type and `$ref` are filled from
/// the store when the group is rendered; see `resource::render_member`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// `value`, when it is a string: the member's id.
    id: Option<Arc<str>>,
    /// The other sub-attributes; `None` for a member that is its id alone.
    more: Option<Box<More>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum More {
    /// String sub-attributes; `display` may be JSON null (Okta sends `"display": null`, and a
    /// member sent with a display is rendered with one).
    Strings {
        display: Option<Option<Box<str>>>,
        ty: Option<Box<str>>,
        reference: Option<Box<str>>,
    },
    /// A member of any other shape, whole.
    Sent(Value),
}

impl Member {
    /// The member with this id and nothing else (what the in-place edits compare against).
    #[cfg(test)]
    pub fn with_id(id: &str) -> Member {
        Member {
            id: Some(id.into()),
            more: None,
        }
    }

    /// A member in the normalised form, from its parts.
    pub fn from_parts(
        id: &str,
        display: Option<Option<Box<str>>>,
        ty: Option<Box<str>>,
        reference: Option<Box<str>>,
    ) -> Member {
        let more = (display.is_some() || ty.is_some() || reference.is_some()).then(|| {
            Box::new(More::Strings {
                display,
                ty,
                reference,
            })
        });
        Member {
            id: Some(id.into()),
            more,
        }
    }

    /// The stored form of one normalised element of `members`.
    pub fn from_value(v: Value) -> Member {
        match Member::plain(&v) {
            Some(m) => m,
            None => Member {
                id: v.get("value").and_then(Value::as_str).map(Arc::from),
                more: Some(Box::new(More::Sent(v))),
            },
        }
    }

    /// An element that is already in the form normalisation gives (an object of `value`,
    /// `display`, `type` and `$ref`, spelled so, with string values, `display` possibly null),
    /// read without normalising it; `None` for anything else.
    pub fn plain(v: &Value) -> Option<Member> {
        let obj = v.as_object()?;
        let mut id = None;
        let (mut display, mut ty, mut reference) = (None, None, None);
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("value", Value::String(s)) => id = Some(s.as_str()),
                ("display", Value::String(s)) => display = Some(Some(s.as_str().into())),
                ("display", Value::Null) => display = Some(None),
                ("type", Value::String(s)) => ty = Some(s.as_str().into()),
                ("$ref", Value::String(s)) => reference = Some(s.as_str().into()),
                _ => return None,
            }
        }
        Some(Member::from_parts(id?, display, ty, reference))
    }

    /// The member's id (`value`), when it is a string.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The id as the shared allocation the member index files.
    pub fn shared_id(&self) -> Option<&Arc<str>> {
        self.id.as_ref()
    }

    /// The sub-attribute `name` as stored (`value`, `display`, `type`, `$ref`).
    pub fn get(&self, name: &str) -> Option<Value> {
        let text = |s: &str| Value::String(s.to_string());
        match (name, self.more.as_deref()) {
            (_, Some(More::Sent(v))) => v.get(name).cloned(),
            ("value", _) => self.id().map(text),
            ("display", Some(More::Strings { display, .. })) => display
                .as_ref()
                .map(|d| d.as_deref().map_or(Value::Null, text)),
            ("type", Some(More::Strings { ty, .. })) => ty.as_deref().map(text),
            ("$ref", Some(More::Strings { reference, .. })) => reference.as_deref().map(text),
            _ => None,
        }
    }

    /// Whether the member was stored with a `display` (even a null one).
    pub fn has_display(&self) -> bool {
        match self.more.as_deref() {
            Some(More::Sent(v)) => v.get("display").is_some(),
            Some(More::Strings { display, .. }) => display.is_some(),
            None => false,
        }
    }

    /// The member as the JSON object it was stored from.
    pub fn to_value(&self) -> Value {
        if let Some(More::Sent(v)) = self.more.as_deref() {
            return v.clone();
        }
        let mut out = Map::new();
        for name in ["value", "display", "type", "$ref"] {
            if let Some(v) = self.get(name) {
                out.insert(name.into(), v);
            }
        }
        Value::Object(out)
    }
}

/// A group's stored `members` taken out of its attributes: an array becomes compact members
/// (an absent or empty list is no members). Anything else is left where it is, as before.
pub(crate) fn split(attrs: &mut Map<String, Value>) -> Vec<Member> {
    if !matches!(attrs.get("members"), Some(Value::Array(_))) {
        return Vec::new();
    }
    // shift_remove: the other attributes keep their order (a swap would move the last one up).
    match attrs.shift_remove("members") {
        Some(Value::Array(items)) => items.into_iter().map(Member::from_value).collect(),
        _ => Vec::new(),
    }
}

/// The members as the JSON array the attributes held (none when there are none).
pub(crate) fn join(members: &[Member]) -> Option<Value> {
    (!members.is_empty()).then(|| Value::Array(members.iter().map(Member::to_value).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_stored_shape_converts_back_to_itself() {
        for v in [
            json!({ "value": "u1" }),
            json!({ "value": "u1", "display": "Ann" }),
            json!({ "value": "u1", "display": null }),
            json!({ "value": "g1", "type": "Group", "$ref": "https://x.test/Groups/g1" }),
            json!({ "value": "u1", "display": "Ann", "type": "User", "$ref": "../Users/u1" }),
            // Shapes normalisation lets through as sent: kept whole.
            json!({ "value": 7 }),
            json!({ "display": "no id" }),
            json!({ "value": "u1", "display": 3 }),
            json!({ "value": "u1", "type": null }),
            json!("a bare string"),
        ] {
            let m = Member::from_value(v.clone());
            assert_eq!(m.to_value(), v, "{v}");
            assert_eq!(m.id(), v.get("value").and_then(Value::as_str), "{v}");
            assert_eq!(m.has_display(), v.get("display").is_some(), "{v}");
            for name in ["value", "display", "type", "$ref"] {
                assert_eq!(m.get(name), v.get(name).cloned(), "{v} {name}");
            }
        }
    }

    #[test]
    fn the_idps_forms_are_compact() {
        let entra = Member::from_value(json!({ "value": "u1" }));
        assert_eq!(entra, Member::with_id("u1"));
        assert!(entra.more.is_none());
        let okta = Member::plain(&json!({ "value": "u1", "display": "ann@x.test" }));
        assert!(matches!(
            okta.and_then(|m| m.more).as_deref(),
            Some(More::Strings { .. })
        ));
        // Not the normalised form: left to `normalize`.
        assert!(Member::plain(&json!({ "Value": "u1" })).is_none());
        assert!(Member::plain(&json!({ "value": "u1", "primary": true })).is_none());
        assert!(Member::plain(&json!({ "display": "ann" })).is_none());
    }

    #[test]
    fn split_and_join_round_trip_and_leave_other_shapes_alone() {
        let mut attrs = Map::new();
        attrs.insert("displayName".into(), json!("Eng"));
        attrs.insert(
            "members".into(),
            json!([{ "value": "u1" }, { "value": "u2", "display": "bob" }]),
        );
        let before = attrs.clone();
        let members = split(&mut attrs);
        assert!(attrs.get("members").is_none());
        attrs.insert("members".into(), join(&members).expect("members"));
        assert_eq!(attrs, before);

        // The other attributes keep their order.
        let mut ordered = Map::new();
        for (k, v) in [
            ("a", json!(1)),
            ("members", json!([{ "value": "u1" }])),
            ("b", json!(2)),
            ("c", json!(3)),
        ] {
            ordered.insert(k.into(), v);
        }
        split(&mut ordered);
        assert_eq!(ordered.keys().collect::<Vec<_>>(), ["a", "b", "c"]);

        let mut empty = Map::new();
        empty.insert("members".into(), json!([]));
        assert!(split(&mut empty).is_empty());
        assert!(join(&[]).is_none());

        let mut odd = Map::new();
        odd.insert("members".into(), json!({ "value": "u1" }));
        assert!(split(&mut odd).is_empty());
        assert!(odd.get("members").is_some());
    }
}
