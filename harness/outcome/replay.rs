//! The one replay command: built from a run's settings, printed by every report.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::Partition;
use crate::packager::Invocation;
use crate::target::Target;

/// The per-run packager timeout when none is given (`--timeout`, `Harness::timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The command that reproduces a run or one of its failures.
///
/// It carries every setting that changes an outcome: the packager, the seed, the number of
/// cases, the target, the strict profile, the partition, the timeout and the scenario dirs.
/// Settings that do not (`--jobs`, `--no-shrink`, the report files) are left out. `Display`
/// prints it as a shell command: `packtest run …` for a command or the reference packager,
/// `PACKTEST_SEED=… cargo test <test>` for Rust code in a test.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The packager.
    pub packager: Invocation,
    /// For an in-process packager: the test that ran it (libtest names the thread after it).
    pub test: Option<String>,
    /// The run seed.
    pub seed: u64,
    /// Generated cases to run.
    pub cases: u64,
    /// The deploy target.
    pub target: Target,
    /// The strict profile.
    pub strict: bool,
    /// The shard.
    pub partition: Option<Partition>,
    /// The per-run packager timeout.
    pub timeout: Duration,
    /// Every case runs even when the baseline fails (`--keep-going`).
    pub keep_going: bool,
    /// Scenario and saved-failure dirs to replay.
    pub scenarios: Vec<PathBuf>,
}

impl Replay {
    /// The replay of generated case `i`: cases `0..=i`, no partition, no scenarios.
    pub fn for_case(&self, i: u64) -> Replay {
        Replay {
            cases: i + 1,
            partition: None,
            scenarios: Vec::new(),
            ..self.clone()
        }
    }

    /// The replay of a scenario or saved failure of this run: the scenario dirs alone.
    pub fn for_named(&self) -> Replay {
        Replay {
            cases: 0,
            partition: None,
            ..self.clone()
        }
    }

    /// The replay of the baseline: one generated case, which the baseline runs before.
    pub fn for_baseline(&self) -> Replay {
        Replay {
            cases: 1,
            partition: None,
            scenarios: Vec::new(),
            ..self.clone()
        }
    }

    /// The replay of a failure saved in `dir`: that dir alone, no generated case.
    pub fn for_saved(&self, dir: PathBuf) -> Replay {
        Replay {
            cases: 0,
            partition: None,
            scenarios: vec![dir],
            ..self.clone()
        }
    }

    fn write_cli(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("packtest run")?;
        if let Invocation::Command(t) = &self.packager {
            write!(f, " --packager {}", shell_quote(t))?;
        }
        if self.cases > 0 {
            write!(f, " --seed {}", self.seed)?;
        }
        write!(f, " --cases {} --target {}", self.cases, self.target)?;
        if self.strict {
            f.write_str(" --strict")?;
        }
        if let Some(p) = self.partition {
            write!(f, " --partition {p}")?;
        }
        if self.timeout != DEFAULT_TIMEOUT {
            write!(f, " --timeout {}", self.timeout.as_secs_f64())?;
        }
        if self.keep_going {
            f.write_str(" --keep-going")?;
        }
        for d in &self.scenarios {
            write!(f, " --scenarios {}", shell_quote(&d.to_string_lossy()))?;
        }
        Ok(())
    }
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.packager {
            Invocation::InProcess => {
                write!(f, "PACKTEST_SEED={} cargo test", self.seed)?;
                match &self.test {
                    Some(t) => write!(f, " {}", shell_quote(t)),
                    None => Ok(()),
                }
            }
            Invocation::Command(_) | Invocation::Reference => self.write_cli(f),
        }
    }
}

impl Serialize for Replay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Quotes a word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:{}".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(packager: Invocation) -> Replay {
        Replay {
            packager,
            test: Some("tests::packs".into()),
            seed: 7,
            cases: 100,
            target: Target::Posix,
            strict: true,
            partition: Some(Partition { k: 2, n: 4 }),
            timeout: Duration::from_millis(2500),
            keep_going: false,
            scenarios: vec![PathBuf::from("my scenarios")],
        }
    }

    #[test]
    fn a_command_replay_carries_every_setting() {
        let r = base(Invocation::Command(
            "tar -czf {output} -C {model_dir} .".into(),
        ));
        assert_eq!(
            r.to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 --cases 100 \
             --target posix --strict --partition 2/4 --timeout 2.5 --scenarios 'my scenarios'"
        );
        assert_eq!(
            r.for_case(41).to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 --cases 42 \
             --target posix --strict --timeout 2.5"
        );
        assert_eq!(
            r.for_saved(PathBuf::from("f")).to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --cases 0 \
             --target posix --strict --timeout 2.5 --scenarios f"
        );
    }

    #[test]
    fn the_reference_packager_is_named_by_leaving_the_flag_out() {
        let r = Replay {
            timeout: DEFAULT_TIMEOUT,
            strict: false,
            ..base(Invocation::Reference)
        };
        assert_eq!(
            r.for_baseline().to_string(),
            "packtest run --seed 7 --cases 1 --target posix"
        );
    }

    #[test]
    fn an_in_process_packager_replays_with_cargo_test() {
        let r = base(Invocation::InProcess);
        assert_eq!(
            r.for_case(3).to_string(),
            "PACKTEST_SEED=7 cargo test tests::packs"
        );
    }

    #[test]
    fn shell_quote_quotes_only_when_needed() {
        assert_eq!(shell_quote("tar"), "tar");
        assert_eq!(shell_quote("tar -czf {output}"), "'tar -czf {output}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
