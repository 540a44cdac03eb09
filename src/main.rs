//! The `confbot` binary: parse the command line, run it, report errors. Wiring only.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = confbot::cli::Cli::parse();
    // Before any thread exists: the allocator settings apply to every thread.
    confbot::cli::tune_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot start the async runtime: {error}"
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(confbot::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): what the command did is done.
        Err(error) if error.is::<confbot::cli::output::StdoutClosed>() => ExitCode::SUCCESS,
        Err(error) => {
            // One line for the person ("cannot import x.ics: line 3: ..."), each cause once
            // and no raw database text; the whole chain for whoever turns on debug logs.
            tracing::debug!("command failed: {error:?}");
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                confbot::errors::user_message(&error)
            );
            ExitCode::FAILURE
        }
    }
}
