//! Exit codes: what a command ended with, why it could not do its job, and the one `match`
//! from either to the process's exit code ([`code`]).

use packtest::packager::CommandParseError;
use packtest::replay::ReplayError;
use packtest::runner::RunError;
use packtest::scenario::ScenarioError;

/// How a command that did its job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything passed: no error finding, every case passed.
    Ok,
    /// A finding, a damaged archive, or a failed property.
    Failed,
    /// Ctrl-C stopped a run (its partial report was printed).
    Interrupted,
}

/// Why a command could not do its job.
#[derive(Debug)]
pub enum CliError {
    /// Bad input or usage: a missing dir, a file that is not an archive, a bad flag value, a
    /// packager that cannot be started, zero cases to run.
    Usage(anyhow::Error),
    /// What was checked failed so badly that nothing more can be said: a reference pack that
    /// refused, a sim sandbox that broke.
    Failed(anyhow::Error),
    /// packtest could not write its own output: a report file, a saved failure.
    Output(anyhow::Error),
}

/// Exit code 2 for clap's own usage errors (an unknown flag, a bad value).
pub const USAGE: u8 = 2;

/// The exit code of a command's result: 0 passed, 1 failed, 2 bad input or usage, 3 an
/// output packtest could not write, 130 interrupted.
pub fn code(r: &Result<Status, CliError>) -> u8 {
    match r {
        Ok(Status::Ok) => 0,
        Ok(Status::Failed) | Err(CliError::Failed(_)) => 1,
        Err(CliError::Usage(_)) => USAGE,
        Err(CliError::Output(_)) => 3,
        Ok(Status::Interrupted) => 130,
    }
}

impl CliError {
    /// The error, for the message on stderr.
    pub fn error(&self) -> &anyhow::Error {
        match self {
            CliError::Usage(e) | CliError::Failed(e) | CliError::Output(e) => e,
        }
    }
}

/// The message printed for an error: its text, then each cause in its chain that the text
/// does not already hold (a library error's `Display` often names its cause itself, and
/// `{:#}` would print it twice).
pub fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// Bad input or usage (exit 2).
pub fn usage(e: impl Into<anyhow::Error>) -> CliError {
    CliError::Usage(e.into())
}

/// A failure of what was checked (exit 1).
pub fn failed(e: impl Into<anyhow::Error>) -> CliError {
    CliError::Failed(e.into())
}

/// An output packtest could not write (exit 3).
pub fn output(e: impl Into<anyhow::Error>) -> CliError {
    CliError::Output(e.into())
}

impl From<RunError> for CliError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Save { .. } => output(e),
            RunError::Spawn(_)
            | RunError::NothingToRun
            | RunError::TooManyRejects { .. }
            | RunError::Pool { .. }
            | RunError::UnknownScenario { .. }
            | RunError::BadEnv { .. } => usage(e),
        }
    }
}

impl From<ReplayError> for CliError {
    fn from(e: ReplayError) -> Self {
        usage(e)
    }
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        usage(e)
    }
}

impl From<CommandParseError> for CliError {
    fn from(e: CommandParseError) -> Self {
        usage(e)
    }
}

impl From<packtest::layout::SandboxError> for CliError {
    fn from(e: packtest::layout::SandboxError) -> Self {
        usage(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_the_message_already_names_is_not_printed_twice() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::from(ScenarioError::Dir {
            path: "sc".into(),
            source: io(),
        });
        let m = message(&e);
        assert_eq!(m.matches("gone").count(), 1, "{m}");
        let wrapped = anyhow::Error::from(io()).context("cannot open `x`");
        assert_eq!(message(&wrapped), "cannot open `x`: gone");
    }

    #[test]
    fn every_outcome_has_its_documented_code() {
        let e = || anyhow::anyhow!("x");
        assert_eq!(code(&Ok(Status::Ok)), 0);
        assert_eq!(code(&Ok(Status::Failed)), 1);
        assert_eq!(code(&Err(CliError::Failed(e()))), 1);
        assert_eq!(code(&Err(CliError::Usage(e()))), 2);
        assert_eq!(code(&Err(CliError::Output(e()))), 3);
        assert_eq!(code(&Ok(Status::Interrupted)), 130);
        let save = RunError::Save {
            path: "x".into(),
            source: std::io::Error::other("full"),
        };
        assert_eq!(code(&Err(save.into())), 3);
        assert_eq!(code(&Err(RunError::NothingToRun.into())), 2);
    }
}
