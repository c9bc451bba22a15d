//! The `idpsim` binary: parse the command line, run, exit with the code the run earned.

use clap::Parser;

fn main() {
    let cli = idpsim::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
