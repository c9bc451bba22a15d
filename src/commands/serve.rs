//! `idpsim serve`: the built-in reference SCIM server on its own, until SIGINT or SIGTERM.

use crate::cli::values::parse_duration;
use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::server;
use crate::support::out::say;
use crate::verdict::Verdict;

pub async fn serve(args: ServeArgs) -> Result<Verdict> {
    if args.list_quirks {
        for q in server::Quirk::all() {
            say!(
                "{}\n    {}\n    breaks: {}\n    source: {}\n",
                q.name,
                q.summary,
                q.breaks,
                q.source
            );
        }
        return Ok(Verdict::Passed);
    }
    let mut quirks = Vec::new();
    for name in &args.quirks {
        match server::Quirk::from_name(name) {
            Some(q) => quirks.push(q),
            None => {
                let names: Vec<&str> = server::Quirk::all().iter().map(|q| q.name).collect();
                let hint = crate::scenario::parse::suggest(name, &names)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!(
                    "--quirk {name}: no such quirk{hint} (see --list-quirks)"
                )));
            }
        }
    }
    let request_timeout = parse_duration(&args.request_timeout)?;
    if !args.bind.is_loopback() && args.token.is_none() {
        eprintln!(
            "warning: serving on {} without --token: anyone who can reach this address can read and change the store",
            args.bind
        );
    }
    let config = server::ServerConfig {
        bind: args.bind,
        port: args.port,
        token: args.token.clone(),
        base: args.base.clone(),
        quirks,
        data: args.data.clone(),
        limits: server::Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: request_timeout,
            body_timeout: request_timeout,
        },
    };
    let srv = server::start(config)
        .await
        .map_err(|e| Error::Server(e.to_string()))?;
    say!(
        "idpsim {}: serving SCIM 2.0 at {}",
        env!("CARGO_PKG_VERSION"),
        srv.base_url()
    );
    say!(
        "{}",
        if args.token.is_some() {
            "auth: bearer token required"
        } else {
            "auth: none (pass --token to require a bearer token)"
        }
    );
    if !args.quirks.is_empty() {
        say!("quirks: {}", args.quirks.join(", "));
    }
    crate::support::out::flush();
    let mut signals = crate::support::signal::Signals::listen()
        .map_err(|e| Error::Server(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
    // A signal shuts the server down gracefully: in-flight requests finish, and every change was
    // persisted (fsynced) before it was answered, so the --data file is complete. A requested
    // shutdown is the normal end of a server, hence exit 0.
    srv.wait_until(async move {
        let signal = signals.recv().await;
        eprintln!("idpsim serve: {}; shutting down", signal.describe());
    })
    .await;
    Ok(Verdict::Passed)
}
