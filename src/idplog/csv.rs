//! A small RFC 4180 CSV reader that keeps positions, so a malformed download is reported as
//! `file:line:column` (exit 2) rather than imported wrong. Quoted fields may hold commas, `""`
//! and line breaks; a UTF-8 byte-order mark (Excel and the Entra portal write one) is skipped.

/// One record: its fields and the line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// A CSV file's header and records.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

impl Table {
    /// The index of the first column whose normalised name is one of `names` (see [`norm`]).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| norm(h) == *n))
    }
}

/// A column name as compared: lower case, letters and digits only (`Change ID` → `changeid`,
/// `outcome.result` → `outcomeresult`).
pub fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses the whole text; the error is `(line, column, message)`.
pub fn parse(text: &str) -> Result<Table, (usize, usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows: Vec<Record> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut col = 1usize;
    let mut row_line = 1usize;
    let mut quoted = false;
    // Where the open quote was, for "unterminated quote" errors.
    let mut quote_at = (0usize, 0usize);
    // Whether the field was quoted (text after its closing quote is an error).
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                    col += 2;
                    continue;
                }
                '"' => {
                    quoted = false;
                    was_quoted = true;
                }
                '\n' => {
                    field.push('\n');
                    line += 1;
                    col = 1;
                    continue;
                }
                other => field.push(other),
            }
            col += 1;
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                quote_at = (line, col);
            }
            '"' => {
                return Err((
                    line,
                    col,
                    "a quote inside an unquoted field (quote the whole field and double the quote)"
                        .into(),
                ))
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                let done = std::mem::take(&mut fields);
                if !(done.len() == 1 && done[0].is_empty()) {
                    rows.push(Record {
                        line: row_line,
                        fields: done,
                    });
                }
                line += 1;
                col = 1;
                row_line = line;
                continue;
            }
            other if was_quoted && !other.is_whitespace() => {
                return Err((line, col, "text after a field's closing quote".into()))
            }
            other => {
                if !was_quoted {
                    field.push(other)
                }
            }
        }
        col += 1;
    }
    if quoted {
        return Err((
            quote_at.0,
            quote_at.1,
            "this quoted field is never closed (is the file truncated?)".into(),
        ));
    }
    if any && (!field.is_empty() || !fields.is_empty() || was_quoted) {
        fields.push(field);
        rows.push(Record {
            line: row_line,
            fields,
        });
    }
    let mut rows = rows.into_iter();
    let header = rows
        .next()
        .ok_or((1, 1, "the file is empty: no header line".to_string()))?;
    let width = header.fields.len();
    let records: Vec<Record> = rows.collect();
    for r in &records {
        if r.fields.len() != width {
            return Err((
                r.line,
                1,
                format!(
                    "this record has {} field(s) where the header has {width} (is the file truncated, or a field unquoted?)",
                    r.fields.len()
                ),
            ));
        }
    }
    Ok(Table {
        header: header
            .fields
            .into_iter()
            .map(|h| h.trim().to_string())
            .collect(),
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let t = parse("\u{feff}a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n3,4\n").expect("csv");
        assert_eq!(t.header, vec!["a", "b"]);
        assert_eq!(t.records[0].fields, vec!["x, \"y\"", "two\nlines"]);
        assert_eq!(t.records[1].line, 4);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("a,b\n1,\"open\n").expect_err("unterminated");
        assert_eq!((e.0, e.1), (2, 3));
        let e = parse("a,b\n1,2\n3\n").expect_err("short");
        assert_eq!((e.0, e.1), (3, 1));
        let e = parse("a,b\n1,x\"y\n").expect_err("stray quote");
        assert_eq!((e.0, e.1), (2, 4));
    }
}
