//! PATCH paths come from scenarios and from any client of the reference server.

use crate::scim::path::{AttrPath, PatchPath};
use crate::scim::schema::ResourceKind;

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = AttrPath::parse(text) {
        // A parsed path prints back to itself.
        let printed = path.to_string();
        assert_eq!(
            AttrPath::parse(&printed).as_ref(),
            Ok(&path),
            "{text:?} printed as {printed:?}"
        );
        for kind in [ResourceKind::User, ResourceKind::Group] {
            let _ = path.is_core(kind);
            let _ = path.leaf_def(kind);
        }
    }
    if let Ok(patch) = PatchPath::parse(text) {
        let _ = patch.attr.leaf_def(ResourceKind::User);
    }
}
