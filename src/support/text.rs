//! Small text codecs shared across modules, kept in one place so they cannot drift apart.

/// Standard base64 with padding (RFC 4648 §4): HTTP Basic credentials, Entra's ConvertToBase64.
pub fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An id as one URL path segment, percent-encoded: a server-assigned id is data, not URL
/// syntax (an id such as `../admin?x=1` must not change the request's target).
pub fn path_segment(id: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(id, UNRESERVED).to_string();
    // "." and ".." are dot-segments even unencoded characters can't express as data.
    match encoded.as_str() {
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => encoded,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (`%20` for a space, as Okta
/// encodes its filters, Okta and SCIM Version 2.0).
pub fn percent_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `"true"`/`"false"` in any case — how Entra's default mode and lenient SCIM servers spell
/// booleans ("True", "False") — as a bool; anything else is not a boolean.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(path_segment("2819c223-7f76"), "2819c223-7f76");
        assert_eq!(
            path_segment("../../admin/wipe?all=1#x"),
            "..%2F..%2Fadmin%2Fwipe%3Fall%3D1%23x"
        );
        assert_eq!(path_segment(".."), "%2E%2E");
        assert_eq!(path_segment("a b"), "a%20b");
    }

    #[test]
    fn booleans_in_any_case() {
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
