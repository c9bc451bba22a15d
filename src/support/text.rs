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

/// Whether a character must not reach a terminal, a CI log or an annotation as itself: C0 and C1
/// controls (ESC starts the sequences that recolour, move the cursor, retitle the window or hide
/// text; CR overwrites the line), DEL, and the bidirectional overrides that reorder what a
/// reader sees (U+202A–U+202E, U+2066–U+2069).
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text as it may be shown: every unsafe character but line feed and tab written as an escape
/// (`\u{1b}`), so a scenario name, a server's text or a file name cannot drive the terminal.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    escape_where(s, |c| is_unsafe(c) && c != '\n' && c != '\t')
}

/// [`printable`] for text that must stay on one line (names, titles): line breaks and tabs
/// are escaped too.
pub fn printable_line(s: &str) -> std::borrow::Cow<'_, str> {
    escape_where(s, is_unsafe)
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A character named for a message: `U+000D (carriage return)` for the ones people know by
/// name, `U+001B` for the rest.
pub fn char_name(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\t' => " (tab)",
        '\n' => " (line feed)",
        '\r' => " (carriage return)",
        '\u{1b}' => " (escape)",
        '\u{7f}' => " (delete)",
        _ => "",
    };
    format!("U+{:04X}{name}", c as u32)
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

/// Decodes standard base64 (padding optional; whitespace not allowed): the server reads HTTP
/// Basic credentials with it. `None` for anything that is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover sextet cannot end a valid encoding.
    (bits < 6).then_some(out)
}

/// `application/x-www-form-urlencoded` (the HTML form encoding OAuth token requests use, RFC 6749
/// Appendix B): a space is `+`, everything but unreserved characters is percent-encoded.
pub fn form_encode(s: &str) -> String {
    percent_encode(s).replace("%20", "+")
}

/// Decodes one form-encoded component (`+` is a space); invalid UTF-8 is replaced.
pub fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// A form body (`a=1&b=two+words`) as decoded pairs, in order; empty pieces are skipped.
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

/// Pairs as a form body, each name and value form-encoded.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `len` random lowercase hex characters (at most 64): run ids, generated tokens and codes.
pub fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len.min(64))
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A duration as people write it on a command line or in a file: `60s`, `500ms`, `2m` (a bare
/// number is seconds); positive and under a day.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| t.split_at(i))
        .unwrap_or((t, "s"));
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; use e.g. 60s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" => value * 60.0,
        _ => return Err(format!("`{text}`: unknown unit `{unit}`; use ms, s or m")),
    };
    if !(secs > 0.0 && secs < 86_400.0) {
        return Err(format!(
            "`{text}`: a duration must be positive and under a day"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_display() {
        assert_eq!(printable("plain ünïcode"), "plain ünïcode");
        assert_eq!(
            printable("red\u{1b}[31m\r\u{7}\u{9b}\u{202e}x\nnext\tcol"),
            "red\\u{1b}[31m\\u{d}\\u{7}\\u{9b}\\u{202e}x\nnext\tcol"
        );
        assert_eq!(printable_line("a\nb\tc"), "a\\u{a}b\\u{9}c");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        for sample in [&b"user:pass"[..], b"a", b"ab", b"", b"\xff\x00 x"] {
            assert_eq!(base64_decode(&base64(sample)).as_deref(), Some(sample));
        }
        assert_eq!(base64_decode("not base64!"), None);
        assert_eq!(base64_decode("Q"), None);
    }

    #[test]
    fn form_encoding_round_trips() {
        assert_eq!(form_encode("a b+c/é"), "a+b%2Bc%2F%C3%A9");
        assert_eq!(form_decode("a+b%2Bc%2F%C3%A9"), "a b+c/é");
        assert_eq!(
            form_pairs("grant_type=refresh_token&&scope=a+b&x"),
            vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("scope".to_string(), "a b".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
        assert_eq!(form_body(&[("a", "1 2"), ("b", "&")]), "a=1+2&b=%26");
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
