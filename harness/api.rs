//! The library API for a platform team's `cargo test`.
//!
//! The crate page shows the five-line use.
//!
//! Settings are passed by value (no thread-locals). Defaults: 256 cases, seed from
//! `PACKTEST_SEED` or 0 (deterministic in CI), cases from `PACKTEST_CASES`, all cores,
//! the default profile, a 60 s timeout per packager run. `PACKTEST_CASE=N` or
//! `PACKTEST_SCENARIO=ID` runs that one case alone: what a failure's replay command sets.

use std::path::Path;
use std::time::Duration;

use proptest::strategy::{SBoxedStrategy, Strategy};

use crate::archive::Manifest;
use crate::layout::NamedLayout;
use crate::layout::{Layout, Sandbox};
use crate::outcome::{Only, Origin, RunReport};
use crate::packager::Packager;
use crate::replay::ReplayError;
use crate::report::{self, TextOptions};
use crate::runner::{self, ExtraProperty, RunConfig, RunError};
use crate::scenario::ScenarioLibrary;

/// A configured property-test run of one packager.
pub struct Harness<P> {
    packager: P,
    config: RunConfig,
    strategy: SBoxedStrategy<Layout>,
    scenarios: Vec<NamedLayout>,
    extra: Vec<ExtraProperty>,
    /// A case-selecting variable that holds something else: the run reports it.
    env_error: Option<RunError>,
}

/// The one case that `PACKTEST_CASE` (a generated case's index) or `PACKTEST_SCENARIO` (a
/// scenario or saved failure id, or `baseline`) select, given their values; unset or empty
/// variables select nothing. Both set, or a `PACKTEST_CASE` that is not a number, is an error.
fn only_from_env(case: Option<&str>, scenario: Option<&str>) -> Result<Option<Only>, RunError> {
    let case = case.map(str::trim).filter(|v| !v.is_empty());
    let scenario = scenario.map(str::trim).filter(|v| !v.is_empty());
    match (case, scenario) {
        (Some(c), Some(_)) => Err(RunError::BadEnv {
            name: "PACKTEST_CASE",
            value: c.to_owned(),
            expected: "set PACKTEST_CASE or PACKTEST_SCENARIO, not both",
        }),
        (Some(c), None) => c
            .parse()
            .map(|i| Some(Only::Case(i)))
            .map_err(|_| RunError::BadEnv {
                name: "PACKTEST_CASE",
                value: c.to_owned(),
                expected: "a generated case's index, such as 17 (from a replay command)",
            }),
        (None, Some(id)) => Ok(Some(Only::Scenario(id.to_owned()))),
        (None, None) => Ok(None),
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl<P: Packager> Harness<P> {
    /// A harness with the default strategy and settings.
    ///
    /// The environment sets the seed (`PACKTEST_SEED`, default 0) and the cases
    /// (`PACKTEST_CASES`, default 256); `PACKTEST_CASE=N` or `PACKTEST_SCENARIO=ID` runs that
    /// one case alone, as a failure's replay command (`PACKTEST_SEED=… PACKTEST_CASE=N cargo
    /// test <test>`) asks. A value that selects nothing valid makes [`Harness::run`] return
    /// [`RunError::BadEnv`] (or [`RunError::UnknownScenario`]).
    ///
    /// Unlike `packtest run`, which runs the built-in scenario library by default, a harness
    /// runs only what it is given: add the library with [`Harness::scenario_library`] (as the
    /// README's example does) to run what the CLI runs.
    pub fn new(packager: P) -> Self {
        let var = |name| std::env::var(name).ok();
        let (only, env_error) = match only_from_env(
            var("PACKTEST_CASE").as_deref(),
            var("PACKTEST_SCENARIO").as_deref(),
        ) {
            Ok(only) => (only, None),
            Err(e) => (None, Some(e)),
        };
        let config = RunConfig {
            seed: env_u64("PACKTEST_SEED").unwrap_or(0),
            cases: env_u64("PACKTEST_CASES").unwrap_or(256),
            only,
            origin: Origin::CargoTest,
            ..RunConfig::default()
        };
        Harness {
            packager,
            config,
            strategy: crate::strategy::job_layout(),
            scenarios: Vec::new(),
            extra: Vec::new(),
            env_error,
        }
    }

    /// Runs one case alone, as `PACKTEST_CASE` / `PACKTEST_SCENARIO` do (`Only::Case(i)`:
    /// generated case `i` of the seed, no baseline, no scenarios; `Only::Scenario(id)`: that
    /// scenario); `None` runs everything. Overrides the environment.
    pub fn only(mut self, only: Option<Only>) -> Self {
        self.config.only = only;
        self
    }

    /// Number of generated cases.
    pub fn cases(mut self, n: u64) -> Self {
        self.config.cases = n;
        self
    }

    /// The run seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Worker threads (0 = all cores).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.config.jobs = jobs;
        self
    }

    /// Also check the strict profile (`deterministic`, `sorted`, `normalized`).
    pub fn strict(mut self) -> Self {
        self.config.strict = true;
        self
    }

    /// The deploy target whose consumer judges the archive (`packtest contract`; default `sagemaker`).
    pub fn target(mut self, target: crate::target::Target) -> Self {
        self.config.target = target;
        self
    }

    /// The per-run packager timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.config.timeout = t;
        self
    }

    /// Turns shrinking off (faster, bigger failure reports).
    pub fn no_shrink(mut self) -> Self {
        self.config.shrink = false;
        self
    }

    /// Packager runs allowed for shrinking one cause (default 128).
    pub fn max_shrink_runs(mut self, n: u32) -> Self {
        self.config.max_shrink_runs = n;
        self
    }

    /// Wall time for all the shrinking of the run (default: no limit, so a seed always
    /// shrinks to the same layout); a cause not finished by then keeps the smallest layout
    /// found.
    pub fn shrink_time(mut self, t: Duration) -> Self {
        self.config.shrink_time = Some(t);
        self
    }

    /// Runs every case even when the baseline layout fails.
    pub fn keep_going(mut self) -> Self {
        self.config.keep_going = true;
        self
    }

    /// Skips the baseline layout that normally runs first.
    pub fn no_baseline(mut self) -> Self {
        self.config.baseline = false;
        self
    }

    /// Saves shrunk failures as replayable TOML under `dir`.
    pub fn save_failures(mut self, dir: impl AsRef<Path>) -> Self {
        self.config.save_failures = Some(dir.as_ref().to_owned());
        self
    }

    /// Replaces the layout strategy.
    pub fn strategy(mut self, s: impl Strategy<Value = Layout> + Send + Sync + 'static) -> Self {
        self.strategy = s.sboxed();
        self
    }

    /// Adds one named layout, run before the generated cases.
    pub fn layout(mut self, id: impl Into<String>, layout: Layout) -> Self {
        self.scenarios.push(NamedLayout {
            id: id.into(),
            layout,
        });
        self
    }

    /// Adds every scenario of packtest's built-in library (`packtest scenarios list`): real
    /// packaging pitfalls, each run as a case named `scenario:<id>` before the generated ones.
    pub fn scenario_library(mut self) -> Self {
        match ScenarioLibrary::built_in() {
            Ok(lib) => {
                self.scenarios.extend(lib.named_layouts());
                self.config.builtin = true;
            }
            // A packtest unit test loads every built-in file, so this is a packtest bug.
            Err(e) => panic!("packtest's built-in scenario library does not load: {e}"),
        }
        self
    }

    /// Adds every saved failure and scenario file in `dir`.
    pub fn scenarios_dir(mut self, dir: impl AsRef<Path>) -> Result<Self, ReplayError> {
        let loaded = crate::replay::load_dir(dir.as_ref())?;
        self.scenarios.extend(loaded);
        self.config.scenario_dirs.push(dir.as_ref().to_owned());
        Ok(self)
    }

    /// Adds a user-defined property over the manifest and the sandbox.
    pub fn property(
        mut self,
        name: impl Into<String>,
        check: impl Fn(&Manifest, &Sandbox) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.extra.push(ExtraProperty {
            name: name.into(),
            check: Box::new(check),
        });
        self
    }

    /// Runs everything.
    pub fn run(mut self) -> HarnessOutcome {
        // libtest names each test's thread after the test: the replay command reruns it.
        self.config.test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .map(str::to_owned);
        let started = std::time::Instant::now();
        if let Some(e) = self.env_error.take() {
            return HarnessOutcome {
                result: Err(e),
                slow_debug_build: None,
            };
        }
        let result = runner::run(
            &self.packager,
            &self.strategy,
            &self.scenarios,
            &self.extra,
            &self.config,
            &|_| {},
        );
        let slow_debug_build = slow_debug_build(started.elapsed(), built_unoptimized());
        // A failing run's tip goes into `assert_passed`'s message; a passing one's to stderr
        // (shown by `cargo test -- --nocapture`).
        if let (Some(tip), Ok(r)) = (&slow_debug_build, &result) {
            if r.ok() {
                eprintln!("{tip}");
            }
        }
        HarnessOutcome {
            result,
            slow_debug_build,
        }
    }
}

/// A run slower than this in a debug build prints [`slow_debug_build`]'s tip.
pub const SLOW_DEBUG_RUN: Duration = Duration::from_secs(10);

/// True when packtest's own code was compiled without optimization (opt-level 0: a
/// consumer's default `dev` profile without the README's `[profile.dev.package."*"]
/// opt-level = 2`). `cfg!(debug_assertions)` cannot tell: it stays on at opt-level 2. The
/// build script (`build.rs`) reads Cargo's `OPT_LEVEL` for packtest and sets
/// `packtest_unoptimized`.
pub fn built_unoptimized() -> bool {
    cfg!(packtest_unoptimized)
}

/// The tip for a run that took `elapsed` when packtest itself was built without
/// optimizations (`unoptimized`, [`built_unoptimized`]): its gzip, tar and sha256 paths run
/// several times slower there, and only the consumer's `Cargo.toml` can change it.
fn slow_debug_build(elapsed: Duration, unoptimized: bool) -> Option<String> {
    (unoptimized && elapsed >= SLOW_DEBUG_RUN).then(|| {
        format!(
            "packtest: this run took {:.1} s with packtest built in debug mode; its gzip, tar \
             and sha256 code runs several times faster optimized. Add to your Cargo.toml (your \
             own crate stays a debug build):\n\n[profile.dev.package.\"*\"]\nopt-level = 2\n",
            elapsed.as_secs_f64()
        )
    })
}

/// The result of [`Harness::run`].
pub struct HarnessOutcome {
    /// The report, or why the run could not happen.
    pub result: Result<RunReport, RunError>,
    /// The tip printed when the run was slow because packtest was built in debug mode.
    slow_debug_build: Option<String>,
}

impl HarnessOutcome {
    /// Panics unless every case passed, printing the failures with their shrunk layouts and
    /// the command that replays them.
    #[track_caller]
    pub fn assert_passed(&self) {
        match &self.result {
            Ok(r) if r.ok() => {}
            Ok(r) => panic!(
                "packtest: the packager broke the contract\n\n{}{}",
                report::text(r, TextOptions::default()),
                self.tip()
            ),
            Err(e) => panic!(
                "packtest: the run could not be carried out: {e}{}",
                self.tip()
            ),
        }
    }

    fn tip(&self) -> String {
        self.slow_debug_build
            .as_ref()
            .map(|t| format!("\n{t}"))
            .unwrap_or_default()
    }

    /// The report, if the run happened.
    pub fn report(&self) -> Option<&RunReport> {
        self.result.as_ref().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_run_of_an_unoptimized_build_prints_the_profile_tip() {
        let tip = slow_debug_build(Duration::from_secs(30), true).expect("a tip");
        assert!(
            tip.contains("[profile.dev.package.\"*\"]\nopt-level = 2"),
            "{tip}"
        );
        assert!(tip.contains("30.0 s"), "{tip}");
        assert_eq!(slow_debug_build(Duration::from_secs(1), true), None);
        // Optimized (the README's profile lines), with or without debug assertions: no tip.
        assert_eq!(slow_debug_build(Duration::from_secs(30), false), None);
    }

    #[test]
    fn the_build_script_sees_this_test_builds_opt_level() {
        // packtest's own `test` profile is opt-level 1 (Cargo.toml), so this build is
        // optimized although debug assertions are on: exactly the case `cfg!` got wrong.
        assert!(!built_unoptimized());
    }

    #[test]
    fn the_case_variables_select_one_case() {
        assert!(matches!(only_from_env(None, None), Ok(None)));
        assert!(matches!(only_from_env(Some(" "), Some("")), Ok(None)));
        assert!(matches!(
            only_from_env(Some("17"), None),
            Ok(Some(Only::Case(17)))
        ));
        assert!(matches!(
            only_from_env(None, Some("dot-files")),
            Ok(Some(Only::Scenario(id))) if id == "dot-files"
        ));
        let e = only_from_env(Some("x1"), None).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("PACKTEST_CASE=\"x1\"")));
        assert!(matches!(
            only_from_env(Some("1"), Some("a")),
            Err(RunError::BadEnv { .. })
        ));
    }
}
