//! `medshare`: parses arguments, runs the command, prints one line per error.

use std::io::Write;
use std::os::fd::AsFd;

use clap::Parser;
use medshare_client::cli::progress::Progress;
use medshare_client::cli::{execute, Cli, Command};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let res = if matches!(cli.command, Command::Demo { .. }) {
        // The embedded bank runs the program natively, and the Solana crates'
        // native `msg!` prints every program log line to stdout. Keep a handle
        // on the real stdout for the report, and silence fd 1 meanwhile.
        let report = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from);
        let _quiet = gag::Gag::stdout().ok();
        match report {
            Ok(mut report) => {
                execute(&cli, None, |line| {
                    let _ = writeln!(report, "{line}");
                })
                .await
            }
            Err(_) => execute(&cli, None, |line| eprintln!("{line}")).await,
        }
    } else if matches!(cli.command, Command::Localnet { .. }) {
        // The localnet's report is its output, line by line as it happens.
        execute(&cli, None, |line| println!("{line}")).await
    } else {
        let mut progress = Progress::for_stderr();
        let res = execute(&cli, None, |line| progress.line(line)).await;
        progress.finish();
        res
    };
    match res {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                medshare_client::cli::terminal_safe(&e.to_string())
            );
            std::process::exit(e.exit_code());
        }
    }
}
