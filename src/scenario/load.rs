//! Finds scenario files (files, folders, or the shipped set embedded in the binary), parses them
//! all, and selects by tag, IdP, profile and name glob.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::parse::parse_scenario;
use super::{Idp, Profiles, Scenario};
use crate::error::{Error, Result};
use crate::support::diagnostic::Diagnostic;

/// The shipped scenarios, so that an installed idpsim runs them from any directory.
static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

/// A scenario file's text and the name it is shown under.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display: String,
    pub text: String,
}

/// Where scenarios come from.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<SourceFile>> {
    if paths.is_empty() {
        return Ok(shipped());
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|e| Error::io(path.display(), e))?;
            files.sort();
            if files.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: no scenario files (*.yaml, *.yml) in this folder",
                    path.display()
                )));
            }
            for f in files {
                out.push(read(&f)?);
            }
        } else if path.exists() {
            out.push(read(path)?);
        } else if let Some(embedded) = embedded_match(path) {
            // `idpsim list` shows shipped scenarios as scenarios/…; those names work from any
            // directory, from the copy inside the binary.
            out.extend(embedded);
        } else {
            return Err(Error::Usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// Shipped scenarios named by a path that does not exist on disk: `scenarios/okta/x.yaml` or
/// a folder such as `scenarios/okta`.
fn embedded_match(path: &Path) -> Option<Vec<SourceFile>> {
    let wanted = path.to_string_lossy().trim_end_matches('/').to_string();
    if !wanted.starts_with("scenarios") {
        return None;
    }
    let found: Vec<SourceFile> = shipped()
        .into_iter()
        .filter(|f| f.display == wanted || f.display.starts_with(&format!("{wanted}/")))
        .collect();
    (!found.is_empty()).then_some(found)
}

pub fn shipped() -> Vec<SourceFile> {
    let mut out = Vec::new();
    collect_embedded(&SHIPPED, &mut out);
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out
}

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<SourceFile>) {
    for file in dir.files() {
        if is_scenario(file.path()) {
            if let Some(text) = file.contents_utf8() {
                out.push(SourceFile {
                    display: format!("scenarios/{}", file.path().display()),
                    text: text.to_string(),
                });
            }
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn is_scenario(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_scenario(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<SourceFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
    Ok(SourceFile {
        display: display_path(path),
        text,
    })
}

fn display_path(path: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    shown
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Parses every file; returns the scenarios, or every diagnostic of every invalid file.
pub fn parse_all(
    files: &[SourceFile],
    profiles: &dyn Profiles,
) -> std::result::Result<Vec<Scenario>, Vec<Diagnostic>> {
    let mut scenarios = Vec::new();
    let mut diags = Vec::new();
    for f in files {
        match parse_scenario(&f.display, &f.text, profiles) {
            Ok(s) => scenarios.push(s),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(scenarios)
    } else {
        Err(diags)
    }
}

/// Which scenarios to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub idp: Vec<Idp>,
    pub profiles: Vec<String>,
    /// Globs on the scenario name or file (`*` and `?`).
    pub names: Vec<String>,
}

impl Selection {
    pub fn matches(&self, s: &Scenario) -> bool {
        (self.tags.is_empty() || self.tags.iter().any(|t| s.tags.contains(t)))
            && !self.skip_tags.iter().any(|t| s.tags.contains(t))
            && (self.idp.is_empty() || self.idp.contains(&s.idp))
            && (self.profiles.is_empty()
                || s.profile
                    .as_ref()
                    .is_some_and(|p| self.profiles.contains(p)))
            && (self.names.is_empty()
                || self
                    .names
                    .iter()
                    .any(|g| glob_match(g, &s.name) || glob_match(g, &s.file)))
    }
}

/// `*` matches any run of characters, `?` one character; case-insensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("okta*", "Okta assigns a user"));
        assert!(glob_match("*soft*", "Entra soft-deletes"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
    }
}
