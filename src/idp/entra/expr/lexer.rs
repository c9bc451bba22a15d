//! Tokenizer for the expression syntax (entra.md §6.1). Columns are 1-based and count characters.

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare name: a function name or `vbTextCompare` / `vbBinaryCompare`.
    Name(String),
    /// `[attributeName]`, brackets removed.
    Attr(String),
    /// `"…"`, escapes resolved.
    Str(String),
    /// A decimal integer, optionally negative.
    Int(i64),
    /// `&H…` hexadecimal number.
    Hex(i64),
    LParen,
    RParen,
    Comma,
    Cmp(CmpOp),
    Eof,
}

/// Comparison operators allowed in IIF / CBool conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based column of the token's first character.
    pub column: usize,
}

impl Token {
    /// How the token looks in an error message.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Name(n) => format!("name {n}"),
            Tok::Attr(a) => format!("attribute [{a}]"),
            Tok::Str(_) => "'\"'".to_string(),
            Tok::Int(i) => format!("number {i}"),
            Tok::Hex(_) => "hex number".to_string(),
            Tok::LParen => "'('".to_string(),
            Tok::RParen => "')'".to_string(),
            Tok::Comma => "','".to_string(),
            Tok::Cmp(op) => format!("'{}'", op.as_str()),
            Tok::Eof => "end of expression".to_string(),
        }
    }
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column,
        message: message.into(),
    }
}

fn is_attr_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' => {
                i += 1;
                Tok::Cmp(CmpOp::Eq)
            }
            '<' => match chars.get(i + 1) {
                Some('>') => {
                    i += 2;
                    Tok::Cmp(CmpOp::Ne)
                }
                Some('=') => {
                    i += 2;
                    Tok::Cmp(CmpOp::Le)
                }
                _ => {
                    i += 1;
                    Tok::Cmp(CmpOp::Lt)
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 2;
                    Tok::Cmp(CmpOp::Ge)
                } else {
                    i += 1;
                    Tok::Cmp(CmpOp::Gt)
                }
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(err(
                                column,
                                "unterminated string constant (missing closing '\"')",
                            ))
                        }
                        Some('"') => break,
                        Some('\\') => match chars.get(j + 1) {
                            Some(e @ ('\\' | '"')) => {
                                s.push(*e);
                                j += 2;
                            }
                            Some(other) => {
                                return Err(err(
                                    j + 1,
                                    format!(
                                        "invalid escape '\\{other}' in string constant; only \\\\ and \\\" are escapes, so write a backslash as \\\\"
                                    ),
                                ))
                            }
                            None => {
                                return Err(err(
                                    column,
                                    "unterminated string constant (missing closing '\"')",
                                ))
                            }
                        },
                        Some(ch) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
                Tok::Str(s)
            }
            '[' => {
                let mut j = i + 1;
                let mut name = String::new();
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(err(
                                column,
                                "unterminated attribute reference (missing closing ']')",
                            ))
                        }
                        Some(']') => break,
                        Some(ch) if is_attr_char(*ch) => {
                            name.push(*ch);
                            j += 1;
                        }
                        Some(ch) => {
                            return Err(err(
                                j + 1,
                                format!(
                                    "character '{ch}' is not allowed in an attribute name (letters, digits, '-', '_' and '.' are)"
                                ),
                            ))
                        }
                    }
                }
                if name.is_empty() {
                    return Err(err(column, "empty attribute reference '[]'"));
                }
                i = j + 1;
                Tok::Attr(name)
            }
            '&' => {
                if !matches!(chars.get(i + 1), Some('H' | 'h')) {
                    return Err(err(
                        column,
                        "'&' must start a hexadecimal number such as &HF7",
                    ));
                }
                let start = i + 2;
                let mut j = start;
                while j < chars.len() && chars[j].is_ascii_hexdigit() {
                    j += 1;
                }
                if j == start {
                    return Err(err(column, "expected hexadecimal digits after '&H'"));
                }
                let digits: String = chars[start..j].iter().collect();
                let v = i64::from_str_radix(&digits, 16)
                    .map_err(|_| err(column, format!("hex number &H{digits} is too large")))?;
                i = j;
                Tok::Hex(v)
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let v: i64 = text
                    .parse()
                    .map_err(|_| err(column, format!("number {text} is too large")))?;
                i = j;
                Tok::Int(v)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[i..j].iter().collect();
                i = j;
                Tok::Name(name)
            }
            other => {
                return Err(err(column, format!("unexpected character '{other}'")));
            }
        };
        toks.push(Token { tok, column });
    }
    toks.push(Token {
        tok: Tok::Eof,
        column: chars.len() + 1,
    });
    Ok(toks)
}
