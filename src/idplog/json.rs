//! Positions inside a JSON log: serde_json finds syntax errors with line and column; this finds
//! where each record of a valid document starts, so a record that parses but makes no sense
//! ("record 3 has no `eventType`") is reported at its own `file:line:column` too.

/// Line and column (1-based, columns in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, col)
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The end of the value starting at `i` (the document is known to be valid JSON).
fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            j
        }
    }
}

/// Start offsets of the elements of the array whose `[` is at `at`.
pub fn array_elements(text: &str, at: usize) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    if b.get(at) != Some(&b'[') {
        return out;
    }
    let mut i = ws(b, at + 1);
    while i < b.len() && b[i] != b']' {
        out.push(i);
        i = ws(b, skip_value(b, i));
        if b.get(i) == Some(&b',') {
            i = ws(b, i + 1);
        }
    }
    out
}

/// The offset of the value of member `key` of the object whose `{` is at `at`.
pub fn member(text: &str, at: usize, key: &str) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'{') {
        return None;
    }
    let mut i = ws(b, at + 1);
    while i < b.len() && b[i] == b'"' {
        let end = skip_string(b, i);
        let name = &text[i + 1..end.saturating_sub(1)];
        i = ws(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, i + 1);
        if name == key {
            return Some(i);
        }
        i = ws(b, skip_value(b, i));
        if b.get(i) == Some(&b',') {
            i = ws(b, i + 1);
        }
    }
    None
}

/// Where the document's first value starts.
pub fn start(text: &str) -> usize {
    ws(text.as_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_records_in_arrays_and_collections() {
        let t =
            "{\"a\": \"]}\\\"\", \"value\": [\n  {\"x\": [1, {\"y\": \"}\"}]},\n  {\"z\": 2}\n]}";
        let v = member(t, start(t), "value").expect("value");
        let items = array_elements(t, v);
        assert_eq!(items.len(), 2);
        assert_eq!(line_col(t, items[0]), (2, 3));
        assert_eq!(line_col(t, items[1]), (3, 3));
    }
}
