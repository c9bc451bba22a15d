//! Colours for everything a person reads. Plain by default so that snapshots are stable;
//! coloured only when asked (`--color always`) or on a terminal without `NO_COLOR`.

use owo_colors::{OwoColorize, Style};

#[derive(Clone, Copy, Debug, Default)]
pub struct Paint {
    style: Option<Style>,
}

impl Paint {
    fn new(style: Style) -> Self {
        Paint { style: Some(style) }
    }
    pub fn paint(&self, text: &str) -> String {
        match self.style {
            Some(style) => text.style(style).to_string(),
            None => text.to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Styles {
    pub pass: Paint,
    pub fail: Paint,
    pub warn: Paint,
    pub error: Paint,
    pub info: Paint,
    pub bold: Paint,
    pub dim: Paint,
    pub expected: Paint,
    pub actual: Paint,
}

impl Styles {
    /// No colour at all: the default, and what tests and reports use.
    pub fn plain() -> Self {
        Styles::default()
    }

    pub fn colored() -> Self {
        Styles {
            pass: Paint::new(Style::new().green().bold()),
            fail: Paint::new(Style::new().red().bold()),
            warn: Paint::new(Style::new().yellow().bold()),
            error: Paint::new(Style::new().red().bold()),
            info: Paint::new(Style::new().cyan()),
            bold: Paint::new(Style::new().bold()),
            dim: Paint::new(Style::new().dimmed()),
            expected: Paint::new(Style::new().green()),
            actual: Paint::new(Style::new().red()),
        }
    }
}

/// `--color` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Resolves `auto` against the stream being a terminal and the NO_COLOR convention.
    pub fn styles(self, is_terminal: bool) -> Styles {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => Styles::colored(),
            ColorChoice::Never => Styles::plain(),
            ColorChoice::Auto if is_terminal && !no_color => Styles::colored(),
            ColorChoice::Auto => Styles::plain(),
        }
    }
}
