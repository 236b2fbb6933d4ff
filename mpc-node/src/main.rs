//! `mpc-node`: parses arguments, sets up logging, runs the command
//! ([`mpc_node::cli::execute`]), prints an error as one line.

use clap::Parser;
use mpc_node::cli::{execute, init_logging, log_settings, shutdown_signal, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let (filter, format) = log_settings(&cli);
    init_logging(format.as_deref(), filter);
    let mut out = std::io::stdout();
    if let Err(e) = execute(&cli, None, shutdown_signal(), &mut out).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
