//! `idpsim serve`: the built-in reference SCIM server on its own, until SIGINT or SIGTERM.

use crate::cli::values::parse_duration;
use crate::cli::{ServeArgs, ServeLog};
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
    let catalog = match &args.catalog {
        None => server::entitlements::Catalog::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("--catalog {}: {e}", path.display())))?;
            server::entitlements::Catalog::from_json(&text)
                .map_err(|e| Error::Usage(format!("--catalog {}: {e}", path.display())))?
        }
    };
    if !args.bind.is_loopback() && args.token.is_none() && args.oauth_client_id.is_none() {
        eprintln!(
            "warning: serving on {} without --token: anyone who can reach this address can read and change the store",
            args.bind
        );
    }
    let oauth = match (&args.oauth_client_id, &args.oauth_client_secret) {
        (Some(id), Some(secret)) if !secret.is_empty() => Some(server::OAuthClientReg {
            client_id: id.clone(),
            client_secret: secret.clone(),
            token_lifetime: parse_duration(&args.token_lifetime)?,
        }),
        (Some(_), _) => {
            return Err(Error::Usage(
                "--oauth-client-id needs the client secret in IDPSIM_SERVE_OAUTH_CLIENT_SECRET"
                    .into(),
            ))
        }
        (None, _) => None,
    };
    let basic = match &args.basic {
        Some(b) => match b.split_once(':') {
            Some((u, p)) => Some((u.to_string(), p.to_string())),
            None => {
                return Err(Error::Usage(
                    "IDPSIM_SERVE_BASIC takes USER:PASSWORD".into(),
                ))
            }
        },
        None => None,
    };
    let auth = server::ServerAuth {
        header: args.auth_header.clone().filter(|h| !h.trim().is_empty()),
        basic,
        oauth,
    };
    let modes: Vec<&str> = [
        (args.token.is_some(), "bearer token"),
        (auth.header.is_some(), "header value"),
        (auth.basic.is_some(), "Basic"),
        (auth.oauth.is_some(), "OAuth 2.0 access tokens"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let config = server::ServerConfig {
        bind: args.bind,
        port: args.port,
        token: args.token.clone(),
        auth,
        base: args.base.clone(),
        quirks,
        data: args.data.clone(),
        limits: server::Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: request_timeout,
            body_timeout: request_timeout,
        },
        log: match args.log {
            ServeLog::Off => None,
            ServeLog::Text => Some(server::access_log::RequestLog {
                format: server::access_log::Format::Text,
                bodies: args.verbose,
            }),
            ServeLog::Json => Some(server::access_log::RequestLog {
                format: server::access_log::Format::Json,
                bodies: args.verbose,
            }),
        },
        catalog,
    };
    // With JSON lines on stdout, the banner goes to stderr so stdout stays machine-readable.
    let json = args.log == ServeLog::Json;
    macro_rules! banner {
        ($($arg:tt)*) => {{
            if json {
                eprintln!($($arg)*);
            } else {
                say!($($arg)*);
            }
        }};
    }
    let srv = server::start(config)
        .await
        .map_err(|e| Error::Server(e.to_string()))?;
    banner!(
        "idpsim {}: serving SCIM 2.0 at {}",
        env!("CARGO_PKG_VERSION"),
        srv.base_url()
    );
    if modes.is_empty() {
        banner!("auth: none (pass --token to require a bearer token)");
    } else {
        banner!("auth: {} required", modes.join(" or "));
    }
    if args.oauth_client_id.is_some() {
        banner!(
            "oauth: token endpoint {}, authorization endpoint {}",
            srv.token_url(),
            srv.authorize_url()
        );
    }
    if !args.quirks.is_empty() {
        banner!("quirks: {}", args.quirks.join(", "));
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
