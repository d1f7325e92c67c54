//! The library API for a platform team's `cargo test`.
//!
//! The crate page shows the five-line use.
//!
//! Settings are passed by value (no thread-locals). Defaults: 256 cases, seed from
//! `PACKTEST_SEED` or 0 (deterministic in CI), cases from `PACKTEST_CASES`, all cores,
//! the default profile, a 60 s timeout per packager run.

use std::path::Path;
use std::time::Duration;

use proptest::strategy::{SBoxedStrategy, Strategy};

use crate::archive::Manifest;
use crate::layout::NamedLayout;
use crate::layout::{Layout, Sandbox};
use crate::outcome::RunReport;
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
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl<P: Packager> Harness<P> {
    /// A harness with the default strategy and settings.
    pub fn new(packager: P) -> Self {
        let config = RunConfig {
            seed: env_u64("PACKTEST_SEED").unwrap_or(0),
            cases: env_u64("PACKTEST_CASES").unwrap_or(256),
            ..RunConfig::default()
        };
        Harness {
            packager,
            config,
            strategy: crate::strategy::job_layout(),
            scenarios: Vec::new(),
            extra: Vec::new(),
        }
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
                // So a command packager's replay commands name them: `--scenarios builtin`.
                let dir = std::path::PathBuf::from(crate::scenario::BUILT_IN_DIR);
                self.config.scenario_dirs.push(dir);
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
        let result = runner::run(
            &self.packager,
            &self.strategy,
            &self.scenarios,
            &self.extra,
            &self.config,
            &|_| {},
        );
        let slow_debug_build = slow_debug_build(started.elapsed());
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

/// The tip for a run that took `elapsed` when packtest itself was built without
/// optimizations (a consumer's default `dev` and `test` profiles): its gzip, tar and sha256
/// paths run several times slower there, and only the consumer's `Cargo.toml` can change it.
fn slow_debug_build(elapsed: Duration) -> Option<String> {
    (cfg!(debug_assertions) && elapsed >= SLOW_DEBUG_RUN).then(|| {
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
    fn a_slow_run_of_a_debug_build_prints_the_profile_tip() {
        let tip = slow_debug_build(Duration::from_secs(30));
        if cfg!(debug_assertions) {
            let tip = tip.expect("a tip in a debug build");
            assert!(
                tip.contains("[profile.dev.package.\"*\"]\nopt-level = 2"),
                "{tip}"
            );
            assert!(tip.contains("30.0 s"), "{tip}");
        } else {
            assert_eq!(tip, None);
        }
        assert_eq!(slow_debug_build(Duration::from_secs(1)), None);
    }
}
