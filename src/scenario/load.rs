//! Finds scenario files (files, folders, or the shipped set embedded in the binary), parses them
//! all, and selects by tag, IdP, profile and name glob.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::parse::parse_scenario;
use super::{Idp, Profiles, Scenario};
use crate::error::{Error, Result};
use crate::support::diagnostic::Diagnostic;
use crate::support::input;

/// The shipped scenarios, so that an installed idpsim runs them from any directory.
static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

/// A scenario file's text and the name it is shown under.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display: String,
    pub text: String,
}

/// Where scenarios come from.
///
/// Only regular files are read (a FIFO, a device or a socket named `*.yaml` is refused, not
/// waited on), each real file once however many links or arguments name it; symbolic links are
/// followed, and one that leads back into a folder that contains it is refused as a loop.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<SourceFile>> {
    if paths.is_empty() {
        return Ok(shipped());
    }
    let mut out = Vec::new();
    let mut walker = Walker::default();
    for path in paths {
        let meta = match input::metadata(path) {
            Ok(meta) => meta,
            Err(_) if std::fs::symlink_metadata(path).is_err() => {
                // `idpsim list` shows shipped scenarios as scenarios/…; those names work from
                // any directory, from the copy inside the binary.
                if let Some(embedded) = embedded_match(path) {
                    out.extend(embedded);
                    continue;
                }
                return Err(Error::Usage(format!(
                    "{}: no such file or folder",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(path.display(), e.message)),
        };
        if meta.is_dir() {
            let (before, found) = (walker.files.len(), walker.found);
            if !walker.enter(path, &meta)? {
                continue;
            }
            walker.walk(path)?;
            walker.leave();
            let mut files = walker.files.split_off(before);
            files.sort();
            if walker.found == found {
                return Err(Error::Usage(format!(
                    "{}: no scenario files (*.yaml, *.yml) in this folder",
                    path.display()
                )));
            }
            for f in files {
                out.push(read(&f)?);
            }
        } else if meta.is_file() {
            if walker.first_time(&meta, path) {
                out.push(read(path)?);
            }
        } else {
            return Err(Error::io(
                path.display(),
                format!(
                    "{}, not a regular file: idpsim reads scenarios only from regular files",
                    input::kind_of(&meta.file_type())
                ),
            ));
        }
    }
    Ok(out)
}

/// The identity of a file or folder on disk, whatever the path that reached it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn file_id(meta: &std::fs::Metadata, path: &Path) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        FileId::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// Walks scenario folders: every real file once, every folder once, loops refused.
#[derive(Default)]
struct Walker {
    files: Vec<PathBuf>,
    seen_files: std::collections::HashSet<FileId>,
    seen_dirs: std::collections::HashSet<FileId>,
    /// The folders being walked, outermost first, with the path that reached each.
    open: Vec<(FileId, PathBuf)>,
    /// Scenario files met, counting those already loaded through another path.
    found: usize,
}

impl Walker {
    fn first_time(&mut self, meta: &std::fs::Metadata, path: &Path) -> bool {
        self.seen_files.insert(file_id(meta, path))
    }

    /// Starts walking a folder; false when it was walked already (through another link).
    fn enter(&mut self, path: &Path, meta: &std::fs::Metadata) -> Result<bool> {
        let id = file_id(meta, path);
        if let Some((_, outer)) = self.open.iter().find(|(open, _)| *open == id) {
            return Err(Error::Usage(format!(
                "{}: a symbolic link back to {}, which contains it; following it would loop \
                 forever (remove the link, or point it outside that folder)",
                path.display(),
                outer.display()
            )));
        }
        let new = self.seen_dirs.insert(id.clone());
        if new {
            self.open.push((id, path.to_path_buf()));
        }
        Ok(new)
    }

    fn leave(&mut self) {
        self.open.pop();
    }

    fn walk(&mut self, dir: &Path) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))?;
        let mut paths: Vec<(PathBuf, bool)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.display(), e))?;
            let file_type = entry
                .file_type()
                .map_err(|e| Error::io(entry.path().display(), e))?;
            paths.push((entry.path(), file_type.is_symlink()));
        }
        paths.sort();
        for (path, is_link) in paths {
            let meta = if is_link {
                match input::metadata(&path) {
                    Ok(meta) => meta,
                    // A dangling link (or a loop of links) where a scenario should be is an
                    // error; one among other files is none of idpsim's business.
                    Err(e) if is_scenario(&path) => {
                        return Err(Error::io(path.display(), e.message))
                    }
                    Err(_) => continue,
                }
            } else {
                std::fs::symlink_metadata(&path).map_err(|e| Error::io(path.display(), e))?
            };
            if meta.is_dir() {
                if self.enter(&path, &meta)? {
                    self.walk(&path)?;
                    self.leave();
                }
            } else if is_scenario(&path) {
                if !meta.is_file() {
                    return Err(Error::io(
                        path.display(),
                        format!(
                            "{}, not a regular file: idpsim reads scenarios only from regular files",
                            input::kind_of(&meta.file_type())
                        ),
                    ));
                }
                self.found += 1;
                if self.first_time(&meta, &path) {
                    self.files.push(path);
                }
            }
        }
        Ok(())
    }
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

fn read(path: &Path) -> Result<SourceFile> {
    let display = display_path(path);
    let text = input::read_text(path).map_err(|e| match e.pos {
        Some(pos) => Error::InvalidScenarios(vec![Diagnostic::new(&display, pos, e.message)]),
        None => Error::io(&display, e.message),
    })?;
    Ok(SourceFile { display, text })
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
