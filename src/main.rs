//! The `idpsim` binary: parse the command line, run, exit with the code the run earned.

use clap::Parser;

fn main() {
    let cli = idpsim::cli::Cli::parse();
    // `run` sends a few hundred requests, one scenario's at a time each, mostly waiting on the
    // server (often its own, in-process): on one thread it loses no time, and it needs one
    // malloc arena and one stack instead of one per worker, which is a tenth of a suite run's
    // peak memory. `load` and `serve` keep the server busy and get a worker per core.
    let mut builder = match cli.command {
        idpsim::cli::Command::Run(_) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(idpsim::verdict::exit::USAGE);
        }
    };
    let code = runtime.block_on(idpsim::commands::main(cli));
    // Do not wait for lingering connections or the server's tasks at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
