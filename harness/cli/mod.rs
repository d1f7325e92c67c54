//! The `packtest` command line: one file per subcommand, the arguments in [`args`], and the
//! exit codes in [`exit`] (one `match` from a result to a code).

pub mod args;
pub mod exit;

mod check;
mod diff;
mod inspect;
mod library;
mod pack;
mod run;
mod sim;
mod unpack;

use args::Command;
use exit::{CliError, Status};

/// Runs one parsed subcommand.
pub fn dispatch(command: Command) -> Result<Status, CliError> {
    match command {
        Command::Pack {
            model_dir,
            output,
            level,
            threads,
            format,
            target,
            mtime,
            clamp_mtime,
        } => {
            let rule = match (mtime, clamp_mtime) {
                (None, _) => packtest::packager::MtimeRule::Zero,
                (Some(t), false) => packtest::packager::MtimeRule::Fixed(t),
                (Some(t), true) => packtest::packager::MtimeRule::Clamp(t),
            };
            pack::pack(&model_dir, &output, (level, threads), format, target, rule)
        }
        Command::Unpack {
            archive,
            dir,
            target,
            json,
        } => unpack::unpack(&archive, &dir, target, json),
        Command::Contract { target } => library::contract(target),
        Command::Inspect {
            archive,
            json,
            max_unpacked,
        } => inspect::inspect(&archive, json, max_unpacked),
        Command::Diff {
            a,
            b,
            json,
            max_unpacked,
        } => diff::diff(&a, &b, json, max_unpacked),
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(args),
        Command::Materialize { file, dir } => library::materialize(&file, &dir),
        Command::Scenarios { dir, action } => library::scenarios(&dir, action),
        Command::Sim(args) => sim::sim(args),
    }
}

/// `n` and the noun, in the plural unless `n` is 1: "1 member", "3 members".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Counts joined with commas: "2 files, 1 dir, 0 symlinks".
fn tally(counts: &[(u64, &str)]) -> String {
    counts
        .iter()
        .map(|&(n, noun)| count(n, noun))
        .collect::<Vec<_>>()
        .join(", ")
}
