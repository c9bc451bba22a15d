//! `idpsim import` for IdP logs: recognises the log, imports it, and reports on stderr what
//! could not be reconstructed and which replay step each logged failure points at. Anything
//! else (HAR, JSON lines) goes to the recorder's import.

use crate::cli::ImportArgs;
use crate::error::{exit, Error, Result};

/// `idpsim import FILE…`: an IdP log when the content says so, else a HAR or JSON-lines capture.
pub fn import(args: ImportArgs) -> Result<i32> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| crate::record::default_output(&args.input));
    if output == args.input {
        return Err(Error::Usage(format!(
            "{}: the output would overwrite the input; pass -o FILE.yaml",
            args.input.display()
        )));
    }
    match super::detect(&args.input, &sniff(&args.input)?) {
        Some(kind) => import_logs(args, kind, output),
        None => crate::record::command::import(args),
    }
}

/// The start of a file, enough to recognise an IdP log.
fn sniff(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; 16 * 1024];
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let n = f.read(&mut buf).map_err(|e| Error::io(path.display(), e))?;
    buf.truncate(n);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// `idpsim import` of an IdP log: the scenario, the believed state, and on stderr what could
/// not be reconstructed and which replay step each logged failure points at.
fn import_logs(
    args: ImportArgs,
    kind: crate::idplog::LogKind,
    output: std::path::PathBuf,
) -> Result<i32> {
    let state = args.state.clone().unwrap_or_else(|| {
        let stem = output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "import".into());
        output.with_file_name(format!("{stem}.state.yaml"))
    });
    let mut inputs = vec![args.input.clone()];
    inputs.extend(args.more.iter().cloned());
    if inputs.contains(&state) || state == output {
        return Err(Error::Usage(format!(
            "{}: the state file would overwrite an input or the scenario; pass --state FILE",
            state.display()
        )));
    }
    let done = super::import(&inputs, kind, &output, &state, args.name)?;
    for f in &done.failures {
        let step = f
            .step
            .map(|n| format!("replayed by step {n}"))
            .unwrap_or_else(|| "not replayed".into());
        eprintln!("logged failure {} ({step}): {}", f.explanation.code, f.what);
        for line in f.explanation.comment() {
            eprintln!("  {}", line.trim_start());
        }
    }
    if !done.gaps.is_empty() {
        eprintln!("not reconstructed from the log (listed in the scenario too):");
        for g in &done.gaps {
            eprintln!("  - {g}");
        }
    }
    let profile = done
        .profile
        .as_deref()
        .map(|p| format!(", profile {p}"))
        .unwrap_or_default();
    println!(
        "imported {} event(s) from {} ({}) into {}: {} step(s) for idp {}{profile}; believed state in {}",
        done.events,
        inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        kind.describe(),
        output.display(),
        done.steps,
        done.idp.name(),
        state.display()
    );
    Ok(exit::PASSED)
}

/// `idpsim timeline INPUT…`: the Entra timeline of a log or of a run's JSON report.
pub fn timeline(args: crate::cli::TimelineArgs) -> Result<i32> {
    let mut inputs = vec![args.input.clone()];
    inputs.extend(args.more.iter().cloned());
    let head = sniff(&args.input)?;
    let attempts = match super::detect(&args.input, &head) {
        Some(kind @ (super::LogKind::EntraJson | super::LogKind::EntraCsv)) => {
            super::timeline::from_log(&inputs, kind)?
        }
        Some(_) => {
            return Err(Error::Usage(format!(
            "{}: an Okta System Log; the timeline is Entra's (escrow and quarantine are Entra's)",
            args.input.display()
        )))
        }
        None if head.contains("\"scenarios\"") => super::timeline::from_report(&args.input)?,
        None => {
            return Err(Error::Usage(format!(
                "{}: neither Entra provisioning logs nor an idpsim JSON report",
                args.input.display()
            )))
        }
    };
    let what = inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    use std::io::Write as _;
    let _ = write!(
        std::io::stdout(),
        "{}",
        super::timeline::render(&what, &attempts, args.objects)
    );
    Ok(exit::PASSED)
}
