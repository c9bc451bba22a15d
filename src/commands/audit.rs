//! `idpsim audit --target URL --expect STATE.yaml`: read the server, compare, report; exit 1 on
//! drift.

use std::collections::HashMap;

use crate::audit::read::{self, ReadError};
use crate::audit::{compare, AuditReport, Expected, Options};
use crate::cli::target::WithoutTarget;
use crate::cli::AuditArgs;
use crate::error::{Error, Result};
use crate::report::console::Console;
use crate::support::styles::Styles;
use crate::verdict::Verdict;

pub async fn audit(args: AuditArgs, styles: Styles) -> Result<Verdict> {
    let target = args.target.parse()?;
    let connection = target.connect(WithoutTarget::Required).await?;
    let transport = connection.transport;
    let expected = Expected::load(&args.expect)?;
    if expected.is_empty() {
        return Err(Error::Usage(format!(
            "{}: the state names no users or groups; there is nothing to audit",
            args.expect.display()
        )));
    }
    let reading = read::read_server(&mut read::Direct::new(&transport), &expected).await;
    // A server that cannot be read at all is "unreachable" for the audit (exit 3), whether no
    // answer came or one idpsim cannot read as a page.
    if let Some(failure) = reading.failure {
        let cause = match failure {
            ReadError::NoAnswer(cause) | ReadError::Unreadable { cause, .. } => cause,
        };
        return Err(Error::Unreachable {
            url: transport.base().display(),
            cause,
        });
    }
    let findings = compare(
        &expected,
        &reading.actual,
        Options {
            strict: args.strict,
            idp: args.idp,
        },
    );
    let display = args.expect.display().to_string();
    let report = AuditReport::new(
        transport.base().display(),
        display.clone(),
        args.strict,
        &expected,
        &reading.actual,
        (reading.requests, reading.notes),
        findings,
    );
    if let Some(path) = &args.report_json {
        crate::report::write_json(path, &report)?;
    }
    let mut sources = HashMap::new();
    if let Ok(text) = crate::support::input::read_text(&args.expect) {
        sources.insert(display, text);
    }
    let console = Console {
        styles,
        verbose: false,
        sources,
    };
    crate::support::out::stdout(&report.render(&console));
    Ok(Verdict::passed_if(!report.summary.drift))
}
