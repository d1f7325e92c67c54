//! The one replay command: built from a run's settings, printed by every report.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::{Only, Partition};
use crate::packager::Invocation;
use crate::target::Target;

/// The per-run packager timeout when none is given (`--timeout`, `Harness::timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a run came from, which decides how its replay commands are written: a crate user
/// who runs packtest through [`crate::Harness`] in `cargo test` has no `packtest` binary, so
/// those replays rerun the test, whatever the packager kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// `packtest run` (and the Python module, which calls it): `packtest run …`.
    #[default]
    Cli,
    /// [`crate::Harness`] in a test: `PACKTEST_SEED=… PACKTEST_CASE=N cargo test <test>`.
    CargoTest,
}

/// The command that reproduces a run or one of its failures.
///
/// It carries every setting that changes an outcome: the packager, the seed, the number of
/// cases, the target, the strict profile, the partition, the timeout, the scenario dirs and
/// whether the built-in scenario library ran. Settings that do not (`--jobs`, `--no-shrink`,
/// the report files) are left out. A failure's replay reruns that one case alone
/// ([`Replay::only`]: `--case N`, `--scenario ID`). `Display` prints it as a shell command:
/// `packtest run …` for a run of the CLI, `PACKTEST_SEED=… PACKTEST_CASE=N cargo test <test>`
/// for a run of [`crate::Harness`] (and for Rust code in a test, whatever the origin).
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The packager.
    pub packager: Invocation,
    /// Where the run came from: the CLI or a `cargo test`.
    pub origin: Origin,
    /// For a run in a test: the test that ran it (libtest names the thread after it).
    pub test: Option<String>,
    /// The run seed.
    pub seed: u64,
    /// Generated cases to run (unused when [`Replay::only`] is set).
    pub cases: u64,
    /// The one case to rerun, or `None` for the whole run.
    pub only: Option<Only>,
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
    /// The built-in scenario library ran (the CLI's default; `--no-scenarios` when not).
    pub builtin: bool,
    /// Scenario and saved-failure dirs to replay.
    pub scenarios: Vec<PathBuf>,
}

impl Replay {
    /// The replay of generated case `i` alone: `--case i`, no baseline, no scenarios.
    pub fn for_case(&self, i: u64) -> Replay {
        Replay {
            only: Some(Only::Case(i)),
            partition: None,
            keep_going: false,
            scenarios: Vec::new(),
            ..self.clone()
        }
    }

    /// The replay of the scenario or saved failure named `case_name` (`scenario:ID`,
    /// `saved:ID`) of this run alone: `--scenario ID`, with the run's scenario dirs.
    pub fn for_scenario(&self, case_name: &str) -> Replay {
        Replay {
            only: Some(Only::Scenario(Only::scenario_id(case_name).to_owned())),
            partition: None,
            keep_going: false,
            ..self.clone()
        }
    }

    /// The replay of the baseline alone: `--scenario baseline`.
    pub fn for_baseline(&self) -> Replay {
        Replay {
            only: Some(Only::Scenario("baseline".into())),
            partition: None,
            keep_going: false,
            scenarios: Vec::new(),
            ..self.clone()
        }
    }

    /// The replay of the failure saved as `file`: that file alone, `--scenarios DIR
    /// --scenario ID` with its dir and its id (the file stem).
    pub fn for_saved(&self, file: &Path) -> Replay {
        let id = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Replay {
            only: Some(Only::Scenario(id)),
            partition: None,
            keep_going: false,
            scenarios: vec![dir],
            ..self.clone()
        }
    }

    fn write_cli(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("packtest run")?;
        if let Invocation::Command(t) = &self.packager {
            write!(f, " --packager {}", shell_quote(t))?;
        }
        write!(f, " --seed {}", self.seed)?;
        match &self.only {
            Some(Only::Case(i)) => write!(f, " --case {i}")?,
            Some(Only::Scenario(id)) => write!(f, " --scenario {}", shell_quote(id))?,
            None => write!(f, " --cases {}", self.cases)?,
        }
        write!(f, " --target {}", self.target)?;
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
        // A one-case replay names its case; the library's presence does not change it.
        if !self.builtin && self.only.is_none() {
            f.write_str(" --no-scenarios")?;
        }
        for d in &self.scenarios {
            write!(f, " --scenarios {}", shell_quote(&d.to_string_lossy()))?;
        }
        Ok(())
    }

    fn write_cargo_test(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.only {
            Some(Only::Case(i)) => write!(f, "PACKTEST_SEED={} PACKTEST_CASE={i}", self.seed)?,
            Some(Only::Scenario(id)) => write!(f, "PACKTEST_SCENARIO={}", shell_quote(id))?,
            None => write!(f, "PACKTEST_SEED={}", self.seed)?,
        }
        f.write_str(" cargo test")?;
        match &self.test {
            // `--exact`: a test whose name contains this one's does not run too.
            Some(t) => write!(f, " {} -- --exact", shell_quote(t)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.origin == Origin::CargoTest || self.packager == Invocation::InProcess {
            self.write_cargo_test(f)
        } else {
            self.write_cli(f)
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
            origin: Origin::Cli,
            test: Some("tests::packs".into()),
            seed: 7,
            cases: 100,
            only: None,
            target: Target::Posix,
            strict: true,
            partition: Some(Partition { k: 2, n: 4 }),
            timeout: Duration::from_millis(2500),
            keep_going: false,
            builtin: true,
            scenarios: vec![PathBuf::from("my scenarios")],
        }
    }

    #[test]
    fn a_command_replay_carries_every_setting_and_reruns_one_case() {
        let r = base(Invocation::Command(
            "tar -czf {output} -C {model_dir} .".into(),
        ));
        assert_eq!(
            r.to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 --cases 100 \
             --target posix --strict --partition 2/4 --timeout 2.5 --scenarios 'my scenarios'"
        );
        assert_eq!(
            Replay {
                builtin: false,
                ..r.clone()
            }
            .to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 --cases 100 \
             --target posix --strict --partition 2/4 --timeout 2.5 --no-scenarios \
             --scenarios 'my scenarios'"
        );
        assert_eq!(
            r.for_case(41).to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 --case 41 \
             --target posix --strict --timeout 2.5"
        );
        assert_eq!(
            r.for_scenario("scenario:dot-files").to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 \
             --scenario dot-files --target posix --strict --timeout 2.5 --scenarios 'my scenarios'"
        );
        assert_eq!(
            r.for_saved(Path::new("f/seed-7-x.toml")).to_string(),
            "packtest run --packager 'tar -czf {output} -C {model_dir} .' --seed 7 \
             --scenario seed-7-x --target posix --strict --timeout 2.5 --scenarios f"
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
            "packtest run --seed 7 --scenario baseline --target posix"
        );
    }

    #[test]
    fn a_cargo_test_run_replays_with_cargo_test_for_every_packager_kind() {
        for p in [
            Invocation::InProcess,
            Invocation::Command("tar -czf {output} .".into()),
            Invocation::Reference,
        ] {
            let r = Replay {
                origin: Origin::CargoTest,
                ..base(p)
            };
            assert_eq!(
                r.for_case(3).to_string(),
                "PACKTEST_SEED=7 PACKTEST_CASE=3 cargo test tests::packs -- --exact"
            );
            assert_eq!(
                r.for_scenario("scenario:dot files").to_string(),
                "PACKTEST_SCENARIO='dot files' cargo test tests::packs -- --exact"
            );
            assert_eq!(
                r.to_string(),
                "PACKTEST_SEED=7 cargo test tests::packs -- --exact"
            );
        }
        // Rust code in a test replays with cargo test even when nobody set the origin.
        assert!(base(Invocation::InProcess)
            .for_case(3)
            .to_string()
            .starts_with("PACKTEST_SEED=7 PACKTEST_CASE=3 cargo test"));
    }

    #[test]
    fn shell_quote_quotes_only_when_needed() {
        assert_eq!(shell_quote("tar"), "tar");
        assert_eq!(shell_quote("tar -czf {output}"), "'tar -czf {output}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
