//! The `packtest` command line: argument parsing (clap) and exit codes.
//!
//! Exit codes, mapped in one place, `cli::exit::code`:
//! - 0: success, no error finding, every case passed;
//! - 1: a finding or a failed property: the archive is damaged, the packager broke the contract;
//! - 2: bad input or usage: a missing dir, a file that is not an archive, a bad flag, a
//!   packager that cannot be started, zero cases to run;
//! - 3: packtest could not write its own output (a `--json` or `--junit` report, a saved
//!   failure);
//! - 130: `run` was interrupted by Ctrl-C (partial report printed).

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    // Like ripgrep: a closed pipe (`packtest … | head`) ends the program quietly.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match cli::args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { cli::exit::USAGE } else { 0 });
        }
    };
    let result = cli::dispatch(cli.command);
    if let Err(e) = &result {
        eprintln!("packtest: error: {}", cli::exit::message(e.error()));
    }
    ExitCode::from(cli::exit::code(&result))
}
