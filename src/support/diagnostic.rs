//! Errors that point into a scenario file, rendered like rustc/Hurl:
//! `error: …`, `--> file:line:col`, the source line, and carets under the culprit.

use std::fmt::Write as _;

use crate::support::styles::Styles;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: usize, col: usize) -> Self {
        Pos {
            line: line as u32,
            col: col as u32,
        }
    }
}

/// A position inside a named file, as shown to people: `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SourceRef {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub pos: Pos,
    /// How many characters the carets cover (at least 1).
    pub width: usize,
    pub message: String,
    /// Text under the carets.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            pos,
            width: 1,
            message: message.into(),
            label: None,
            help: None,
        }
    }
    pub fn width(mut self, width: usize) -> Self {
        self.width = width.max(1);
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic with the offending line of `source` (when given).
    pub fn render(&self, source: Option<&str>, styles: &Styles) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            styles.error.paint("error"),
            styles
                .bold
                .paint(&crate::support::text::printable(&self.message))
        );
        let gutter = self.pos.line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            styles.dim.paint("-->"),
            crate::support::text::printable_line(&self.file),
            self.pos.line,
            self.pos.col
        );
        let line_text =
            source.and_then(|s| s.lines().nth(self.pos.line.saturating_sub(1) as usize));
        if let Some(text) = line_text {
            let _ = writeln!(out, "{pad} {}", styles.dim.paint("|"));
            let _ = writeln!(
                out,
                "{} {} {}",
                styles.dim.paint(&self.pos.line.to_string()),
                styles.dim.paint("|"),
                crate::support::text::printable_line(&crate::support::redact::source_line(text))
            );
            let indent = " ".repeat(self.pos.col.saturating_sub(1) as usize);
            let carets = "^".repeat(self.width);
            let label = self
                .label
                .as_deref()
                .map(|l| format!(" {l}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{pad} {} {indent}{}",
                styles.dim.paint("|"),
                styles.error.paint(&format!("{carets}{label}"))
            );
        } else if let Some(label) = &self.label {
            let _ = writeln!(out, "{pad} = {}", crate::support::text::printable(label));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(
                out,
                "{pad} = help: {}",
                crate::support::text::printable(help)
            );
        }
        out
    }
}
