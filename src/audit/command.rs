//! `idpsim audit --target URL --expect STATE.yaml`: read the server, compare, report.

use std::collections::HashMap;

use super::{compare, groups_needing_detail, Actual, AuditReport, Expected, Options, Pager};
use crate::error::{exit, Error, Result};
use crate::report::console::Console;
use crate::scenario::Idp;
use crate::support::styles::Styles;
use crate::transport::{OutgoingRequest, Transport};

pub struct AuditCommand {
    pub transport: Transport,
    pub expect: std::path::PathBuf,
    pub strict: bool,
    pub idp: Idp,
    pub report_json: Option<std::path::PathBuf>,
}

/// Reads everything under /Users and /Groups through `transport`; the request count and notes
/// come back for the report. A transport failure is "unreachable" (exit 3).
pub async fn read_server(
    transport: &Transport,
    expected: &Expected,
) -> Result<(Actual, usize, Vec<String>)> {
    let mut actual = Actual::default();
    let mut requests = 0;
    let mut notes = Vec::new();
    for collection in ["Users", "Groups"] {
        let mut pager = Pager::new(collection);
        while let Some(req) = pager.next_request() {
            let (exchange, raw) = transport.send(&req).await;
            requests += 1;
            if let Some(e) = exchange.error.filter(|_| exchange.response.is_none()) {
                return Err(Error::Unreachable {
                    url: transport.base().display(),
                    cause: e.message,
                });
            }
            // The server answered, but not with a page idpsim can read: the directory cannot
            // be read at all, which is "unreachable" for the audit (exit 3), not a usage error.
            pager.feed(&raw).map_err(|cause| Error::Unreachable {
                url: transport.base().display(),
                cause,
            })?;
        }
        notes.extend(pager.note.take());
        if collection == "Users" {
            actual.users = pager.items;
        } else {
            actual.groups = pager.items;
        }
    }
    for id in groups_needing_detail(expected, &actual) {
        let req = OutgoingRequest::new(
            "GET",
            format!("/Groups/{}", crate::support::text::path_segment(&id)),
        )
        .header("Accept", "application/scim+json");
        let (_, raw) = transport.send(&req).await;
        requests += 1;
        if let (200, Some(body)) = (raw.status, raw.body) {
            if let Some(g) = actual
                .groups
                .iter_mut()
                .find(|g| g.get("id").and_then(|v| v.as_str()) == Some(id.as_str()))
            {
                *g = body;
            }
        }
    }
    Ok((actual, requests, notes))
}

pub async fn run(cmd: AuditCommand, styles: Styles) -> Result<i32> {
    let expected = Expected::load(&cmd.expect)?;
    if expected.is_empty() {
        return Err(Error::Usage(format!(
            "{}: the state names no users or groups; there is nothing to audit",
            cmd.expect.display()
        )));
    }
    let (actual, requests, notes) = read_server(&cmd.transport, &expected).await?;
    let findings = compare(
        &expected,
        &actual,
        Options {
            strict: cmd.strict,
            idp: cmd.idp,
        },
    );
    let display = cmd.expect.display().to_string();
    let report = AuditReport::new(
        cmd.transport.base().display(),
        display.clone(),
        cmd.strict,
        &expected,
        &actual,
        (requests, notes),
        findings,
    );
    if let Some(path) = &cmd.report_json {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        crate::support::out::write_file(path, &(text + "\n"))?;
    }
    let mut sources = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(&cmd.expect) {
        sources.insert(display, text);
    }
    let console = Console {
        styles,
        verbose: false,
        sources,
    };
    print!("{}", report.render(&console));
    Ok(if report.summary.drift {
        exit::FAILED
    } else {
        exit::PASSED
    })
}

/// `idpsim audit …`: builds the transport from the flags, then [`run`].
pub async fn from_args(args: crate::cli::AuditArgs, styles: Styles) -> Result<i32> {
    use crate::transport::{Auth, TransportConfig};
    let auth = Auth::from_flags(args.token.as_deref(), args.basic.as_deref())?;
    let transport = Transport::new(TransportConfig {
        base_url: args.target.clone(),
        auth,
        headers: crate::cli::values::parse_headers(&args.headers)?,
        timeout: crate::cli::values::parse_duration(&args.timeout)?,
        cacert: args.cacert.clone(),
        insecure: args.insecure,
    })?;
    if args.insecure {
        crate::transport::warn_insecure(&args.target);
    }
    run(
        AuditCommand {
            transport,
            expect: args.expect,
            strict: args.strict,
            idp: args.idp,
            report_json: args.report_json,
        },
        styles,
    )
    .await
}
