//! The `record` and `import` commands: flags in, a scenario file out.

use crate::cli::{ImportArgs, RecordArgs};
use crate::error::{exit, Error, Result};

pub async fn record(args: RecordArgs) -> Result<i32> {
    super::proxy::run(super::proxy::ProxyConfig {
        listen: args.listen,
        upstream: args.upstream,
        output: args.output,
        name: args.name,
        timeout: crate::cli::values::parse_duration(&args.timeout)?,
    })
    .await
}

pub fn import(args: ImportArgs) -> Result<i32> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| super::default_output(&args.input));
    if output == args.input {
        return Err(Error::Usage(format!(
            "{}: the output would overwrite the input; pass -o FILE.yaml",
            args.input.display()
        )));
    }
    if !args.more.is_empty() {
        return Err(Error::Usage(format!(
            "{}: a HAR or JSON-lines capture is imported one file at a time",
            args.input.display()
        )));
    }
    let done = super::import::import(&args.input, &output, args.base.as_deref(), args.name)?;
    for s in &done.skipped {
        eprintln!("skipped {s}");
    }
    let idp = done
        .recognition
        .map(|r| format!("; client recognised as {} ({})", r.idp.name(), r.evidence))
        .unwrap_or_default();
    println!(
        "imported {} exchange(s) from {} into {}{idp}",
        done.exchanges,
        args.input.display(),
        output.display()
    );
    Ok(exit::PASSED)
}
