//! `idpsim import` for IdP logs: a customer's Entra provisioning logs or Okta System Log, turned
//! into (a) a scenario that replays the same actions through the IdP profile and (b) the
//! directory state the IdP believed at the end, for `idpsim audit --expect`.
//!
//! The logs say what the IdP *did* (create, update these properties from old to new, disable,
//! delete, push a group), not the bytes it sent. So the scenario is an IdP scenario (`idp: entra`
//! or `idp: okta`) whose steps are the IdP's actions over a reconstructed source directory: the
//! profile regenerates the requests, exactly as it does for any scenario, in the logged order.
//! What a log cannot tell (the Okta personality, a property's value before the log begins,
//! members that resolve to nobody) is listed as comments in the scenario and on stderr, never
//! invented. Each logged failure is explained with the findings and reference-server quirks that
//! produce the same error code (`codes`), next to the replay step to look at.
//!
//! Formats (docs/IDP-LOGS.md lists every field used and its public source):
//! - Entra: Microsoft Graph `provisioningObjectSummary` JSON (one object, or a collection
//!   `{"value": […]}` with `@odata.nextLink`), the portal's JSON download (an array of the same
//!   objects) and its CSV download (three files joined by change ID) — `entra`.
//! - Okta: the System Log API's JSON (`/api/v1/logs`, an array of LogEvent objects) and the
//!   admin console's CSV export (columns named after the LogEvent properties) — `okta`.
//!
//! Imports only downward: the scenario model, the YAML writer, the redaction rules.

pub mod codes;
pub mod csv;
pub mod entra;
pub mod json;
pub mod okta;
pub mod timeline;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::record::emit::{self, Y};

/// Where a record is in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// 1-based position among the file's records.
    pub record: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A bad log: exit 2 with the position of what is wrong.
pub fn bad(origin: &Origin, message: impl fmt::Display) -> Error {
    Error::Usage(format!("{origin}: record {}: {message}", origin.record))
}

pub fn bad_at(file: &str, line: usize, col: usize, message: impl fmt::Display) -> Error {
    Error::Usage(format!("{file}:{line}:{col}: {message}"))
}

/// The log formats `import` reads besides HAR and JSON lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    EntraJson,
    EntraCsv,
    OktaJson,
    OktaCsv,
}

impl LogKind {
    pub fn describe(self) -> &'static str {
        match self {
            LogKind::EntraJson => "Entra provisioning logs (JSON)",
            LogKind::EntraCsv => "Entra provisioning logs (CSV download)",
            LogKind::OktaJson => "Okta System Log (JSON)",
            LogKind::OktaCsv => "Okta System Log (CSV export)",
        }
    }
}

/// Recognises an IdP log by its content; `None` for HAR files and JSON-lines captures (and
/// anything else, which the HAR/JSONL readers then report).
pub fn detect(path: &Path, text: &str) -> Option<LogKind> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "csv" || (!t.starts_with('{') && !t.starts_with('[')) {
        let header: String = t.lines().next().unwrap_or("").to_string();
        let cols: Vec<String> = header.split(',').map(csv::norm).collect();
        if cols.iter().any(|c| c == "eventtype") {
            return Some(LogKind::OktaCsv);
        }
        if cols.iter().any(|c| c == "changeid") {
            return Some(LogKind::EntraCsv);
        }
        return None;
    }
    if ext == "jsonl" || ext == "ndjson" || ext == "har" {
        return None;
    }
    // Sniff the first record's keys without parsing everything twice: the names are distinct
    // enough (Okta's `eventType`, Entra's `provisioningAction`/`provisioningSteps`/`changeId`).
    let head: String = t.chars().take(8192).collect();
    if head.contains("\"log\"") && head.contains("\"entries\"") {
        return None;
    }
    if head.contains("\"eventType\"") {
        return Some(LogKind::OktaJson);
    }
    if [
        "provisioningAction",
        "provisioningSteps",
        "provisioningStatusInfo",
        "changeId",
        "cycleId",
    ]
    .iter()
    .any(|k| head.contains(&format!("\"{k}\"")))
    {
        return Some(LogKind::EntraJson);
    }
    None
}

// ----- what a builder produces -----

/// One scenario step with the comments written above it; `body: None` is a comment-only entry
/// (an event that sent nothing, or one that cannot be replayed).
#[derive(Clone, Debug, Default)]
pub struct Step {
    pub comments: Vec<String>,
    pub body: Option<Y>,
}

/// A logged failure, explained: which step replays it and what to look at.
#[derive(Clone, Debug)]
pub struct Failure {
    pub origin: Origin,
    /// 1-based number of the replay step (as `idpsim run` numbers them), if one replays it.
    pub step: Option<usize>,
    pub what: String,
    pub explanation: codes::Explanation,
}

/// A scenario and the believed state, reconstructed from a log.
#[derive(Clone, Debug, Default)]
pub struct Built {
    pub idp: Option<crate::scenario::Idp>,
    pub profile: Option<String>,
    pub settings: Option<Y>,
    pub mappings: Option<Y>,
    pub users: Vec<(String, Y)>,
    pub groups: Vec<(String, Y)>,
    pub steps: Vec<Step>,
    pub state_users: Vec<(String, Value)>,
    pub state_groups: Vec<(String, Value)>,
    /// What the log does not say and the scenario therefore does not contain.
    pub gaps: Vec<String>,
    pub failures: Vec<Failure>,
    pub events: usize,
    /// The public documentation the scenario's reconstruction follows.
    pub source: String,
    pub description: String,
}

impl Built {
    /// Appends a step; returns its 1-based step number.
    pub fn step(&mut self, comments: Vec<String>, body: Y) -> usize {
        self.steps.push(Step {
            comments,
            body: Some(body),
        });
        self.steps.iter().filter(|s| s.body.is_some()).count()
    }
    pub fn note(&mut self, comments: Vec<String>) {
        self.steps.push(Step {
            comments,
            body: None,
        });
    }
    pub fn gap(&mut self, text: impl Into<String>) {
        let t = text.into();
        if !self.gaps.contains(&t) {
            self.gaps.push(t);
        }
    }
}

// ----- secrets -----

/// Attribute names whose values never reach the scenario or the state (a password mapped by a
/// custom attribute mapping, an API key in a profile): the same names the recorder redacts, plus
/// anything containing them.
pub fn secret_name(name: &str) -> bool {
    let last = name
        .rsplit([':', '.', '/', '['])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    crate::support::redact::is_secret_key(&last)
        || [
            "password",
            "passwd",
            "secret",
            "token",
            "apikey",
            "api_key",
            "credential",
        ]
        .iter()
        .any(|s| last.contains(s))
}

/// Free text from a log (an error reason, a display message) as it may appear in a comment:
/// credentials quoted in it (`Bearer …`, `Basic …`, Okta's `SSWS …`, JWTs, `token=…`) are masked.
pub fn clean_text(s: &str) -> String {
    static PATTERNS: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            r"(?i)\b(bearer|basic|ssws)\s+[A-Za-z0-9._~+/=-]{6,}",
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            r#"(?i)\b(password|passwd|pwd|token|secret|api_?key|access_token|client_secret|sig)\s*[=:]\s*"?[^\s"&,;]+"?"#,
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    });
    let mut out = s.replace(['\n', '\r'], " ");
    for re in patterns {
        out = re
            .replace_all(&out, |c: &regex::Captures| match c.get(1) {
                Some(m) => format!("{} {}", m.as_str(), crate::support::redact::REDACTED),
                None => crate::support::redact::REDACTED.to_string(),
            })
            .into_owned();
    }
    // Very long reasons (Entra's run to a paragraph) are cut for a comment line.
    if out.chars().count() > 400 {
        out = out.chars().take(400).collect::<String>() + "…";
    }
    out
}

// ----- names and time -----

/// A directory key from a name: `Ann.Ito@contoso.test` → `ann_ito`.
pub fn key_from(name: &str, fallback: &str, taken: &[String]) -> String {
    let local = name.split('@').next().unwrap_or(name);
    let mut k: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while k.contains("__") {
        k = k.replace("__", "_");
    }
    let mut k = k.trim_matches('_').to_string();
    if k.is_empty() || !k.starts_with(|c: char| c.is_ascii_alphabetic()) {
        k = format!("{fallback}_{k}").trim_end_matches('_').to_string();
    }
    let mut out = k.clone();
    let mut n = 2;
    while taken.contains(&out) {
        out = format!("{k}_{n}");
        n += 1;
    }
    out
}

/// Seconds since 1970 of an ISO 8601 / RFC 3339 timestamp (`2026-11-30T09:00:54.123Z`,
/// `…+01:00`, a space instead of `T`, no zone = UTC), or of the US form the portal's CSV may
/// use (`11/30/2026 9:00:54 AM`). `None` for anything else.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let re_iso = regex::Regex::new(
        r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    )
    .ok()?;
    if let Some(c) = re_iso.captures(s) {
        let n = |i: usize| {
            c.get(i)
                .and_then(|m| m.as_str().parse::<i64>().ok())
                .unwrap_or(0)
        };
        let mut t = civil(n(1), n(2), n(3))? + n(4) * 3600 + n(5) * 60 + n(6);
        if let Some(z) = c.get(7).map(|m| m.as_str()).filter(|z| *z != "Z") {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z.chars().filter(|c| c.is_ascii_digit()).collect();
            let h: i64 = digits.get(0..2)?.parse().ok()?;
            let m: i64 = digits.get(2..4)?.parse().ok()?;
            t -= sign * (h * 3600 + m * 60);
        }
        return Some(t);
    }
    let re_us = regex::Regex::new(
        r"(?i)^(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?$",
    )
    .ok()?;
    let c = re_us.captures(s)?;
    let n = |i: usize| {
        c.get(i)
            .and_then(|m| m.as_str().parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut h = n(4);
    match c.get(7).map(|m| m.as_str().to_ascii_uppercase()).as_deref() {
        Some("PM") if h < 12 => h += 12,
        Some("AM") if h == 12 => h = 0,
        _ => {}
    }
    Some(civil(n(3), n(1), n(2))? + h * 3600 + n(5) * 60 + n(6))
}

/// Days from the civil date to 1970-01-01, in seconds (Howard Hinnant's algorithm).
fn civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// `2026-11-30T09:40:00Z` for seconds since 1970.
pub fn format_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

// ----- writing -----

/// What an import wrote.
pub struct Written {
    pub kind: LogKind,
    pub events: usize,
    pub steps: usize,
    pub gaps: Vec<String>,
    pub failures: Vec<Failure>,
    pub idp: crate::scenario::Idp,
    pub profile: Option<String>,
}

/// Reads the log files, writes the scenario to `output` and the believed state to `state`.
pub fn import(
    inputs: &[PathBuf],
    kind: LogKind,
    output: &Path,
    state: &Path,
    name: Option<String>,
) -> Result<Written> {
    let built = build(inputs, kind)?;
    let files: Vec<String> = inputs
        .iter()
        .map(|p| {
            p.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let name = name.unwrap_or_else(|| format!("Replay of {}", files.join(", ")));
    let state_name = state
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = scenario_text(&built, &name, &files, &state_name);
    // The file written must be a valid scenario: a builder bug would otherwise reach the user
    // as a confusing load error later.
    if let Err(diags) = crate::scenario::parse::parse_scenario(
        &output.display().to_string(),
        &text,
        &crate::idp::Catalogue,
    ) {
        let first = diags
            .first()
            .map(|d| format!("{}:{}: {}", d.pos.line, d.pos.col, d.message))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "idpsim could not build a valid scenario from {} ({first}); please report this with the log",
            files.join(", ")
        )));
    }
    write(output, &text)?;
    write(state, &state_text(&built, &files))?;
    Ok(Written {
        kind,
        events: built.events,
        steps: built.steps.iter().filter(|s| s.body.is_some()).count(),
        gaps: built.gaps.clone(),
        failures: built.failures.clone(),
        idp: built.idp.unwrap_or(crate::scenario::Idp::Generic),
        profile: built.profile.clone(),
    })
}

/// Parses and reconstructs without writing (also used by `idpsim timeline`).
pub fn build(inputs: &[PathBuf], kind: LogKind) -> Result<Built> {
    match kind {
        LogKind::EntraJson | LogKind::EntraCsv => {
            let events = entra::read(inputs, kind)?;
            Ok(entra::build(&events))
        }
        LogKind::OktaJson | LogKind::OktaCsv => {
            let events = okta::read(inputs, kind)?;
            Ok(okta::build(&events))
        }
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(path.display(), e))
}

fn comment_lines(out: &mut String, indent: &str, lines: &[String]) {
    for l in lines {
        for part in l.split('\n') {
            out.push_str(indent);
            out.push_str("# ");
            out.push_str(part.trim_end());
            out.push('\n');
        }
    }
}

/// The scenario file: a header saying where it came from and what is missing, the IdP
/// scenario, and the steps with their comments.
pub fn scenario_text(b: &Built, name: &str, files: &[String], state_name: &str) -> String {
    let idp = b.idp.unwrap_or(crate::scenario::Idp::Generic);
    let mut out = String::new();
    out.push_str(&format!(
        "# Written by idpsim {} from {} (idpsim import): the IdP's logged actions, replayed\n\
         # through its profile, which regenerates the requests. The state the IdP believed at the\n\
         # end is in {state_name}.\n\
         # Replay: idpsim run THIS_FILE --target URL --token T --no-cleanup\n\
         # Audit:  idpsim audit --target URL --token T --expect {state_name} --idp {}\n",
        env!("CARGO_PKG_VERSION"),
        files.join(", "),
        idp.name()
    ));
    if b.gaps.is_empty() {
        out.push_str(
            "# Not reconstructed: nothing — every logged event is replayed or noted below.\n",
        );
    } else {
        out.push_str("# Not reconstructed from the log (listed, not guessed):\n");
        let items: Vec<String> = b.gaps.iter().map(|g| format!("- {g}")).collect();
        comment_lines(&mut out, "", &items);
    }
    let mut tags = vec![Y::Str("imported".into()), Y::Str(idp.name().into())];
    tags.push(Y::Str("logs".into()));
    let mut head = Y::map()
        .with("version", Y::Plain("1".into()))
        .with("name", Y::Str(name.to_string()))
        .with("description", Y::Str(b.description.clone()))
        .with("idp", Y::Plain(idp.name().into()));
    if let Some(p) = &b.profile {
        head = head.with("profile", Y::Plain(p.clone()));
    }
    head = head
        .with("tags", Y::Seq(tags))
        .with("source", Y::Str(b.source.clone()));
    if let Some(s) = &b.settings {
        head = head.with("settings", s.clone());
    }
    if let Some(m) = &b.mappings {
        head = head.with("mappings", m.clone());
    }
    let mut dir = Y::map();
    if !b.users.is_empty() {
        dir = dir.with("users", Y::Map(b.users.clone()));
    }
    if !b.groups.is_empty() {
        dir = dir.with("groups", Y::Map(b.groups.clone()));
    }
    if !dir.is_empty_map() {
        head = head.with("directory", dir);
    }
    out.push_str(&emit::document(&head));
    if !b.steps.iter().any(|s| s.body.is_some()) {
        for s in &b.steps {
            comment_lines(&mut out, "", &s.comments);
        }
        out.push_str("steps: []\n");
        return out;
    }
    out.push_str("steps:\n");
    for s in &b.steps {
        comment_lines(&mut out, "  ", &s.comments);
        if let Some(body) = &s.body {
            emit::write_block(&mut out, &Y::Seq(vec![body.clone()]), 2);
        }
    }
    out
}

/// The state file (docs/RECORD-AND-AUDIT.md): what the IdP believed at the end of the log.
pub fn state_text(b: &Built, files: &[String]) -> String {
    let mut out = format!(
        "# What the IdP believed at the end of {} (idpsim import).\n\
         # Objects are matched by userName / displayName: the ids in the log are the customer's\n\
         # server's, not those of a replay. Check a server: idpsim audit --target URL --expect THIS_FILE\n",
        files.join(", ")
    );
    let users: Map<String, Value> = b.state_users.iter().cloned().collect();
    let groups: Map<String, Value> = b.state_groups.iter().cloned().collect();
    let root = Y::map()
        .with("users", Y::from(&Value::Object(users)))
        .with("groups", Y::from(&Value::Object(groups)));
    out.push_str(&emit::document(&root));
    out
}

/// A string from a log as a scenario value: template syntax in it is escaped, so a display
/// name such as `{{ x }}` is replayed literally.
pub fn literal(s: &str) -> Y {
    Y::Str(crate::record::escape_template(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_both_forms() {
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(
            parse_time("2026-11-30T09:00:54.123Z"),
            parse_time("2026-11-30 10:00:54+01:00")
        );
        assert_eq!(
            parse_time("11/30/2026, 9:00:54 AM"),
            parse_time("2026-11-30T09:00:54Z")
        );
        assert_eq!(
            parse_time("12/1/2026 12:00:00 PM"),
            parse_time("2026-12-01T12:00:00Z")
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(format_time(60), "1970-01-01T00:01:00Z");
    }

    #[test]
    fn secrets_in_free_text_are_masked() {
        let t = clean_text("401: header Authorization: Bearer abcdef123456 rejected; token=xyz987654 and eyJhbGciOi.eyJzdWIiOi.sig SSWS 00abcdefghij");
        assert!(
            !t.contains("abcdef123456")
                && !t.contains("xyz987654")
                && !t.contains("eyJzdWIiOi")
                && !t.contains("00abcdefghij"),
            "{t}"
        );
        assert!(
            secret_name("password")
                && secret_name("urn:x:User:apiToken")
                && !secret_name("displayName")
        );
    }

    #[test]
    fn keys_are_unique_identifiers() {
        let taken = vec!["ann_ito".to_string()];
        assert_eq!(
            key_from("Ann.Ito@contoso.test", "user", &taken),
            "ann_ito_2"
        );
        assert_eq!(key_from("42@x", "user", &[]), "user_42");
    }
}
