//! `idpsim import FILE…`: a HAR file or a JSON-lines capture becomes a replayable scenario; an
//! IdP log (Entra provisioning logs, the Okta System Log) becomes an IdP scenario and the state
//! the IdP believed (`idplog`), with what could not be reconstructed and which replay step each
//! logged failure points at on stderr.

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::support::out::say;
use crate::verdict::Verdict;

pub fn import(args: ImportArgs) -> Result<Verdict> {
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
    if let Some(kind) = crate::idplog::detect(&args.input, &sniff(&args.input)?) {
        return import_logs(args, kind, output);
    }
    if !args.more.is_empty() {
        return Err(Error::Usage(format!(
            "{}: a HAR or JSON-lines capture is imported one file at a time",
            args.input.display()
        )));
    }
    let done =
        crate::record::import::import(&args.input, &output, args.base.as_deref(), args.name)?;
    for s in &done.skipped {
        eprintln!("skipped {s}");
    }
    let idp = done
        .recognition
        .map(|r| format!("; client recognised as {} ({})", r.idp.name(), r.evidence))
        .unwrap_or_default();
    say!(
        "imported {} exchange(s) from {} into {}{idp}",
        done.exchanges,
        args.input.display(),
        output.display()
    );
    Ok(Verdict::Passed)
}

/// The start of a file, enough to recognise an IdP log.
pub fn sniff(path: &std::path::Path) -> Result<String> {
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
) -> Result<Verdict> {
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
    let done = crate::idplog::import(&inputs, kind, &output, &state, args.name)?;
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
    say!(
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
    Ok(Verdict::Passed)
}
