//! The `confbot` binary: parse the command line, run it, report errors. Wiring only.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = confbot::cli::Cli::parse();
    match confbot::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line: "cannot import x.ics: line 3: ...".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
