//! `idpsim init`: the files a newcomer needs to start — `idpsim.toml`, an empty baseline, a
//! scenario folder with one example per IdP and the scenario JSON Schema their first line points
//! editors at, and CI jobs for GitHub Actions and GitLab CI.
//!
//! The config and the CI jobs are the tested examples of docs/ci/ (tests/ci.rs runs them as
//! written), with the scenario folder switched on and the install line's repository and revision
//! filled in, so there is one copy of each to keep true.

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::verdict::Verdict;

/// The placeholders of docs/ci/*.yml that `--git` and `--rev` replace.
const GIT_PLACEHOLDER: &str = "\"<idpsim git URL>\"";
const REV_PLACEHOLDER: &str = "\"<commit>\"";

const CONFIG: &str = include_str!("../../docs/ci/idpsim.toml");
const BASELINE: &str = include_str!("../../docs/ci/idpsim-baseline.toml");
const GITHUB: &str = include_str!("../../docs/ci/github-actions.yml");
const GITLAB: &str = include_str!("../../docs/ci/gitlab-ci.yml");

/// The scenario folder the config selects, and where the examples go.
const SCENARIOS: &str = "scenarios";

#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    pub dir: PathBuf,
    pub force: bool,
    /// The git URL idpsim is installed from in CI (`cargo install --git`).
    pub git: Option<String>,
    /// The commit it is pinned to.
    pub rev: Option<String>,
}

/// One file `init` writes: where (relative to the folder) and what.
struct Planned {
    path: &'static str,
    text: String,
    what: &'static str,
}

fn plan(opts: &InitOptions) -> Vec<Planned> {
    let git = opts
        .git
        .clone()
        .or_else(|| Some(env!("CARGO_PKG_REPOSITORY").to_string()).filter(|s| !s.is_empty()));
    let ci = |text: &str| fill(text, git.as_deref(), opts.rev.as_deref());
    vec![
        Planned {
            path: "idpsim.toml",
            text: config(),
            what: "the settings of `idpsim run` (target, selection, baseline, reports)",
        },
        Planned {
            path: "idpsim-baseline.toml",
            text: BASELINE.to_string(),
            what: "known failures the gate accepts (none yet)",
        },
        Planned {
            path: "scenarios/okta-example.yaml",
            text: include_str!("init/okta.yaml").to_string(),
            what: "an Okta scenario to start from",
        },
        Planned {
            path: "scenarios/entra-example.yaml",
            text: include_str!("init/entra.yaml").to_string(),
            what: "an Entra ID scenario to start from",
        },
        Planned {
            path: "scenarios/generic-example.yaml",
            text: include_str!("init/generic.yaml").to_string(),
            what: "raw requests with expectations",
        },
        Planned {
            path: "scenarios/scenario.schema.json",
            text: crate::scenario::schema::render(&crate::idp::Catalogue),
            what: "the scenario format, for editor completion (yaml-language-server)",
        },
        Planned {
            path: ".github/workflows/idpsim.yml",
            text: ci(GITHUB),
            what: "GitHub Actions: install idpsim, run it, upload the reports",
        },
        Planned {
            path: ".gitlab-ci.yml",
            text: ci(GITLAB),
            what: "GitLab CI: install idpsim, run it, JUnit and reports as artifacts",
        },
    ]
}

/// The example config with the scenario folder selected (the docs' copy runs the shipped set).
fn config() -> String {
    CONFIG.replace(
        "# paths = [\"scenarios\"]        # your own scenario files; default: the ones shipped in idpsim",
        "paths = [\"scenarios\"]          # your scenario files; remove for the ones shipped in idpsim",
    )
}

/// Puts the install line's repository and revision into a CI file, where they are known.
fn fill(text: &str, git: Option<&str>, rev: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let value = if line.contains(GIT_PLACEHOLDER) {
            git.map(|g| (GIT_PLACEHOLDER, g))
        } else if line.contains(REV_PLACEHOLDER) {
            rev.map(|r| (REV_PLACEHOLDER, r))
        } else {
            None
        };
        match value {
            Some((placeholder, v)) => {
                // The placeholder and its comment become the value alone.
                let at = line.find(placeholder).unwrap_or(0);
                out.push_str(&line[..at]);
                out.push_str(&serde_json::to_string(v).unwrap_or_default());
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `idpsim init [DIR] [--force] [--git URL] [--rev COMMIT]`.
pub fn init(args: InitArgs) -> Result<Verdict> {
    let printed = write(&InitOptions {
        dir: args.dir,
        force: args.force,
        git: args.git,
        rev: args.rev,
    })?;
    crate::support::out::stdout(&printed);
    Ok(Verdict::Passed)
}

/// Writes the files; refuses (exit 2, nothing written) when one exists, unless `force`.
/// Returns what it prints.
pub fn write(opts: &InitOptions) -> Result<String> {
    if let Some(rev) = &opts.rev {
        if rev.len() < 7 || !rev.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "--rev {rev}: a commit id (at least 7 hex digits; the full 40 pin it for good)"
            )));
        }
    }
    let files = plan(opts);
    if !opts.force {
        let existing: Vec<&str> = files
            .iter()
            .filter(|f| opts.dir.join(f.path).exists())
            .map(|f| f.path)
            .collect();
        if !existing.is_empty() {
            return Err(Error::Usage(format!(
                "{} already exist{} in {}; nothing was written (--force overwrites)",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" },
                shown(&opts.dir)
            )));
        }
    }
    let mut out = format!("idpsim init: wrote in {}\n", shown(&opts.dir));
    for f in &files {
        crate::support::out::write_file(&opts.dir.join(f.path), &f.text)?;
        out.push_str(&format!("  {:<32} {}\n", f.path, f.what));
    }
    out.push_str(&format!(
        "\nnext:\n  idpsim run --no-config {SCENARIOS}   # the examples against the built-in server\n"
    ));
    out.push_str("  point [target] in idpsim.toml at your server, and start it where the CI files start the stand-in\n");
    let unfilled: Vec<&str> = [
        (
            files_need(&files, GIT_PLACEHOLDER),
            "--git URL (the idpsim repository)",
        ),
        (
            files_need(&files, REV_PLACEHOLDER),
            "--rev COMMIT (the revision to pin)",
        ),
    ]
    .into_iter()
    .filter_map(|(need, flag)| need.then_some(flag))
    .collect();
    if !unfilled.is_empty() {
        out.push_str(&format!(
            "  the CI files install idpsim with `cargo install --locked --git … --rev …` (it is not on crates.io): fill IDPSIM_GIT and IDPSIM_REV in them, or run init again with {} --force\n",
            unfilled.join(" and ")
        ));
    }
    Ok(out)
}

fn files_need(files: &[Planned], placeholder: &str) -> bool {
    files.iter().any(|f| f.text.contains(placeholder))
}

fn shown(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "the current folder".into()
    } else {
        dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_install_line_gets_the_repository_and_revision() {
        let text = fill(GITHUB, Some("https://git.test/idpsim.git"), Some("0123abc"));
        assert!(text.contains("  IDPSIM_GIT: \"https://git.test/idpsim.git\"\n"));
        assert!(text.contains("  IDPSIM_REV: \"0123abc\"\n"));
        assert!(text.contains("cargo install --locked --git \"$IDPSIM_GIT\" --rev \"$IDPSIM_REV\""));
        assert!(!fill(GITLAB, None, None).contains("IDPSIM_GIT: \"https"));
    }

    #[test]
    fn the_config_selects_the_scenario_folder() {
        let text = config();
        assert!(text.contains("\npaths = [\"scenarios\"]"), "{text}");
        crate::config::parse("idpsim.toml", &text).expect("the generated config parses");
    }
}
