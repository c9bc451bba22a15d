//! One file per subcommand. Each turns its flags into calls on the modules below (scenario →
//! run → check → outcome → gate → report; `load`, `record`, `audit`, `server`) and returns a
//! `Verdict` or an `Error`; `verdict::exit_code` alone turns that into the process's exit code.

pub mod audit;
pub mod completions;
pub mod expr;
pub mod import;
pub mod init;
pub mod list;
pub mod load;
pub mod record;
pub mod run;
pub mod serve;
pub mod timeline;
pub mod validate;

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Command, SelectArgs};
use crate::error::{Error, Result};
use crate::scenario::load::{self as scenario_files, Selection, SourceFile};
use crate::scenario::Scenario;
use crate::support::styles::Styles;
use crate::verdict::Verdict;

/// Runs a parsed command line and returns the process exit code.
pub async fn main(cli: Cli) -> i32 {
    let stdout_styles = cli.color.styles(std::io::stdout().is_terminal());
    let stderr_styles = cli.color.styles(std::io::stderr().is_terminal());
    let result: Result<Verdict> = match cli.command {
        Command::Run(args) => run::run(*args, stdout_styles).await,
        Command::Validate(args) => validate::validate(args, stdout_styles),
        Command::List(args) => list::list(args),
        Command::Serve(args) => serve::serve(args).await,
        Command::Load(args) => load::load(*args, stdout_styles).await,
        Command::Record(args) => record::record(args).await,
        Command::Import(args) => import::import(args),
        Command::Timeline(args) => timeline::timeline(args),
        Command::Expr(args) => expr::expr(*args),
        Command::Audit(args) => audit::audit(args, stdout_styles).await,
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man => completions::man(),
        Command::Init(args) => init::init(args),
        Command::Schema => {
            let schema = crate::scenario::schema::render(&crate::idp::Catalogue);
            crate::support::out::stdout(&schema);
            Ok(Verdict::Passed)
        }
    };
    if let Err(err) = &result {
        report_error(err, &stderr_styles);
    }
    crate::verdict::exit_code(&result)
}

fn report_error(err: &Error, styles: &Styles) {
    let mut stderr = std::io::stderr().lock();
    match err {
        Error::InvalidScenarios(diags) => {
            for d in diags {
                let _ = write!(
                    stderr,
                    "{}",
                    d.render(source_text(&d.file).as_deref(), styles)
                );
                let _ = writeln!(stderr);
            }
            let files: std::collections::BTreeSet<&str> =
                diags.iter().map(|d| d.file.as_str()).collect();
            let _ = writeln!(
                stderr,
                "{}: {} problem(s) in {} scenario file(s); nothing was sent",
                styles.error.paint("error"),
                diags.len(),
                files.len()
            );
        }
        Error::Expression { text, diagnostics } => {
            for (i, d) in diagnostics.iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(stderr);
                }
                let _ = write!(stderr, "{}", d.render(Some(text), styles));
            }
        }
        other => {
            let _ = writeln!(
                stderr,
                "{}: {}",
                styles.error.paint("error"),
                // Last line of defence: whatever built the message, a URL's credentials in it are
                // masked (a cause quoted from a library may repeat the URL it was handed).
                crate::support::text::printable(&crate::support::redact::scrub(&other.to_string()))
            );
        }
    }
}

/// The text of a scenario file for quoting in diagnostics (shipped files are embedded).
fn source_text(display: &str) -> Option<String> {
    scenario_files::shipped()
        .into_iter()
        .find(|f| f.display == display)
        .map(|f| f.text)
        .or_else(|| crate::support::input::read_text(std::path::Path::new(display)).ok())
}

pub(crate) fn selection(s: &SelectArgs) -> Selection {
    Selection {
        tags: s.tags.clone(),
        skip_tags: s.skip_tags.clone(),
        idp: s.idp.clone(),
        profiles: s.profiles.clone(),
        names: s.names.clone(),
    }
}

/// Reads and validates scenario files; invalid ones stop everything before anything is sent.
pub(crate) fn load_scenarios(
    paths: &[std::path::PathBuf],
) -> Result<(Vec<Scenario>, Vec<SourceFile>)> {
    let files = scenario_files::collect(paths)?;
    let scenarios = scenario_files::parse_all(&files, &crate::idp::Catalogue)
        .map_err(Error::InvalidScenarios)?;
    Ok((scenarios, files))
}
