//! [`Error`]: any error of the library API, for a test that returns `Result<(), packtest::Error>`.
//!
//! A test or `main` that returns `Err(e)` prints `Error: {e:?}`: the `Debug` form. So this
//! type's `Debug` is its message (the path, what is wrong, the next step) followed by each
//! cause, as `anyhow` does, and a failing `cargo test` reads
//! `Error: the packager command … never mentions {output} …` instead of
//! `Error: NoOutput { template: … }`. A `Box<dyn std::error::Error>` would print the inner
//! error's derived `Debug`: return `packtest::Error` instead.

use crate::packager::CommandParseError;
use crate::replay::ReplayError;
use crate::runner::RunError;
use crate::scenario::ScenarioError;

/// Any error of the library API; `?` converts each of them.
#[derive(thiserror::Error)]
pub enum Error {
    /// A packager command template that cannot be used.
    #[error(transparent)]
    Command(#[from] CommandParseError),
    /// A scenario or saved-failure dir that cannot be loaded.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// A scenario library that cannot be loaded.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A run that could not be carried out.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl std::fmt::Debug for Error {
    /// The message and its causes, not the variant's fields: what `cargo test` prints for a
    /// test that returns `Err`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.to_string();
        f.write_str(&text)?;
        // `transparent` forwards `source` too: this is the wrapped error's cause.
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let c_text = c.to_string();
            if !text.contains(&c_text) {
                write!(f, "\n  caused by: {c_text}")?;
            }
            cause = c.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_the_message_not_the_fields() {
        let e: Error = crate::CommandPackager::parse("ourpack {model_dir}")
            .expect_err("no {output}")
            .into();
        let debug = format!("{e:?}");
        assert_eq!(debug, e.to_string());
        assert!(debug.contains("never mentions {output}"), "{debug}");
        assert!(!debug.contains("NoOutput"), "{debug}");
    }

    #[test]
    fn a_cause_not_in_the_message_is_listed_once() {
        let e: Error = ScenarioError::Dir {
            path: "team-scenarios".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        }
        .into();
        let debug = format!("{e:?}");
        assert_eq!(debug.matches("gone").count(), 1, "{debug}");
        assert!(debug.contains("`team-scenarios`"), "{debug}");
    }
}
