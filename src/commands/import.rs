//! `idpsim import FILE`: a HAR file or a JSON-lines capture becomes a replayable scenario.

use crate::cli::ImportArgs;
use crate::error::{Error, Result};
use crate::support::out::say;
use crate::verdict::Verdict;

pub fn import(args: ImportArgs) -> Result<Verdict> {
    let output = args
        .output
        .unwrap_or_else(|| crate::record::default_output(&args.input));
    if output == args.input {
        return Err(Error::Usage(format!(
            "{}: the output would overwrite the input; pass -o FILE.yaml",
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
