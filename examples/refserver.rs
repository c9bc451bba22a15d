//! Starts the reference SCIM server standalone, for external checkers such as scim2-cli:
//! `cargo run --example refserver -- --port 8080 --token secret [--base /scim/v2] [--quirk NAME]…`
//! Prints the base URL on stdout and serves until Ctrl-C.

use idpsim::server::{start, Quirk, ServerConfig};

fn usage(msg: &str) -> ! {
    eprintln!("refserver: {msg}\nusage: refserver [--port P] [--token T] [--base PATH] [--data FILE] [--quirk NAME]...");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut config = ServerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--port" => {
                config.port = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--port needs a number"))
            }
            "--token" => config.token = Some(value()),
            "--base" => config.base = value(),
            "--data" => config.data = Some(value().into()),
            "--quirk" => {
                let name = value();
                config.quirks.push(
                    Quirk::from_name(&name)
                        .unwrap_or_else(|| usage(&format!("unknown quirk '{name}'"))),
                );
            }
            other => usage(&format!("unknown argument '{other}'")),
        }
    }
    match start(config).await {
        Ok(server) => {
            println!("{}", server.base_url());
            server.wait().await;
        }
        Err(e) => {
            eprintln!("refserver: {e}");
            std::process::exit(1);
        }
    }
}
