//! `idpsim timeline INPUT…`: Entra's timeline (escrow, retries, quarantine) for the failures in
//! provisioning logs or in a run's JSON report (`idplog::timeline`).

use crate::error::{Error, Result};
use crate::verdict::Verdict;

/// `idpsim timeline INPUT…`: the Entra timeline of a log or of a run's JSON report.
pub fn timeline(args: crate::cli::TimelineArgs) -> Result<Verdict> {
    let mut inputs = vec![args.input.clone()];
    inputs.extend(args.more.iter().cloned());
    let head = super::import::sniff(&args.input)?;
    let attempts = match crate::idplog::detect(&args.input, &head) {
        Some(kind @ (crate::idplog::LogKind::EntraJson | crate::idplog::LogKind::EntraCsv)) => {
            crate::idplog::timeline::from_log(&inputs, kind)?
        }
        Some(_) => {
            return Err(Error::Usage(format!(
            "{}: an Okta System Log; the timeline is Entra's (escrow and quarantine are Entra's)",
            args.input.display()
        )))
        }
        None if head.contains("\"scenarios\"") => {
            crate::idplog::timeline::from_report(&args.input)?
        }
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
        crate::idplog::timeline::render(&what, &attempts, args.objects)
    );
    Ok(Verdict::Passed)
}
