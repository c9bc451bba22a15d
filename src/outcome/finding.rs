//! A finding: one thing an answer got wrong, with the IdP's consequence (its severity), the
//! rule behind it and where it points. Every judge (`check`, the IdP profiles, `audit`) yields
//! these; every reporter renders them. It lives with the outcome, below all of them.

use serde::Serialize;

use crate::support::diagnostic::SourceRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    /// The IdP fails or drifts out of sync.
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `rfc7644.list.resources-present`, `okta.lookup.integer-counters`.
    pub rule: String,
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What the IdP does with this answer, in its own terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// The specification section behind the rule, e.g. `RFC 7644 §3.4.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffEntry>,
    /// The scenario line that set the expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    /// Index of the exchange (within the step) the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<usize>,
    /// Query parameters without which the failed query succeeds, found by idpsim's probes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

/// A query parameter without which a failed list query succeeds (see `run::probe`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// The parameter's name (`count`, `aadOptscim062020`).
    pub parameter: String,
    /// The answer's status without it.
    pub status: u16,
    /// The probe that showed it, by index in the step's `probes`.
    pub probe: usize,
}

impl Finding {
    pub fn new(rule: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            message: message.into(),
            impact: None,
            reference: None,
            diff: Vec::new(),
            source: None,
            exchange: None,
            triggers: Vec::new(),
        }
    }
    pub fn error(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(rule, Severity::Error, message)
    }
    pub fn warning(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(rule, Severity::Warning, message)
    }
    pub fn impact(mut self, text: impl Into<String>) -> Self {
        self.impact = Some(text.into());
        self
    }
    pub fn reference(mut self, text: impl Into<String>) -> Self {
        self.reference = Some(text.into());
        self
    }
    pub fn diff(mut self, entry: DiffEntry) -> Self {
        self.diff.push(entry);
        self
    }
    pub fn source(mut self, source: SourceRef) -> Self {
        self.source = Some(source);
        self
    }
    pub fn at_exchange(mut self, index: usize) -> Self {
        self.exchange = Some(index);
        self
    }
}

/// One document a finding's `reference` cites: `label <url>` as the rule catalogue writes it,
/// or text alone (`RFC 7644 §3.6`). Reporters that can show a link (Markdown, HTML) read the
/// reference back with [`Citation::parse`]; the others print it as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Citation<'a> {
    pub label: &'a str,
    /// What the `<…>` held: an `http(s)` URL, or a path in idpsim's repository.
    pub url: Option<&'a str>,
}

impl<'a> Citation<'a> {
    /// Between two citations of one reference.
    pub const SEPARATOR: &'static str = "; ";

    /// `label <url>; label <url>; text` → its citations, in order. A `<…>` that holds
    /// whitespace, quotes, brackets or backslashes is no URL: that part stays text.
    pub fn parse(reference: &'a str) -> Vec<Citation<'a>> {
        reference
            .split(Self::SEPARATOR)
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let url = part
                    .strip_suffix('>')
                    .and_then(|rest| rest.rsplit_once(" <"))
                    .filter(|(label, url)| !label.trim().is_empty() && is_plain_url(url));
                match url {
                    Some((label, url)) => Citation {
                        label: label.trim(),
                        url: Some(url),
                    },
                    None => Citation {
                        label: part.trim(),
                        url: None,
                    },
                }
            })
            .collect()
    }

    /// A character a URL may hold and still be written inside `<…>`, a Markdown link target or
    /// an HTML attribute unchanged.
    pub fn url_char(c: char) -> bool {
        c.is_ascii_graphic() && !"<>\"'`\\()[]{}|^".contains(c)
    }

    /// Whether the URL is one a browser opens (`http`/`https`), not a repository path.
    pub fn web(&self) -> Option<&'a str> {
        self.url
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }
}

impl std::fmt::Display for Citation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.url {
            Some(url) => write!(f, "{} <{url}>", self.label),
            None => f.write_str(self.label),
        }
    }
}

fn is_plain_url(url: &str) -> bool {
    !url.is_empty() && url.chars().all(Citation::url_char)
}

/// One difference between what was expected and what came back, located by a JSON pointer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DiffEntry {
    /// RFC 6901 pointer into the response (`/Resources/0/id`), `status`, or `header:Name`.
    pub pointer: String,
    pub expected: String,
    pub actual: String,
}

impl DiffEntry {
    pub fn new(
        pointer: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        let pointer = pointer.into();
        // A diff at `…/password` would print the password a scenario or a state file expects
        // (and a server that returns one): both sides are masked, unless a side is absent.
        let secret = pointer
            .rsplit('/')
            .next()
            .is_some_and(crate::support::redact::is_secret_key);
        let shown = |side: String| {
            if secret && side != "absent" {
                crate::support::redact::REDACTED.to_string()
            } else {
                side
            }
        };
        DiffEntry {
            pointer,
            expected: shown(expected.into()),
            actual: shown(actual.into()),
        }
    }
}
