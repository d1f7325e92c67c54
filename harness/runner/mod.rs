//! The parallel runner: generates cases, runs the packager, judges, shrinks, saves failures.
//!
//! The runner never prints: it emits [`Event`]s to a sink, and the `report` module renders
//! them. Reproducibility: case `i` of seed `S` is generated from its own RNG,
//! seeded from `(S, i)` only, so the same seed gives the same layouts whatever `--jobs` and
//! whatever `--partition`; results are collected in case order. `--partition K/N` splits the
//! scenarios and saved failures as well as the generated cases ([`shard_scenarios`]).
//!
//! Outcomes are kept apart: a broken property is a **failure**; a layout the
//! host filesystem cannot build is a **reject** (counted, never blamed on the packager); a
//! packager that cannot be started is a **setup error** that stops the run (exit 2).
//!
//! Before the generated cases, one known-good baseline layout runs: if the
//! packager breaks the contract there, the run stops with that one report instead of hundreds
//! of copies of it.
//!
//! Shrinking follows proptest's value-tree walk (`simplify` while the failure persists,
//! `complicate` when it goes away), re-running the packager on each candidate. A candidate
//! counts as failing only if it breaks at least one of the originally broken properties, so
//! the shrunk layout shows the same defect. Sandboxes are temp dirs removed on drop; on
//! Ctrl-C, in-flight packagers are killed (the run's [`RunConfig::cancel`] token) and no new case
//! starts.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::strategy::{SBoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::archive::Manifest;
use crate::layout::{Content, Entry, Layout, NamedLayout, Root, Sandbox};
use crate::outcome::{CaseResult, CaseStatus, Event, Only, Origin, Partition, Replay, RunReport};
use crate::packager::{CancelToken, Packager};
use crate::target::Target;

mod causes;
mod shrink;
mod trial;
mod vary;

use trial::{trial, Bisect, Failure, Ran, Trial};
pub use vary::Variation;

/// A user-defined property: a name and a check over the manifest and the sandbox.
pub struct ExtraProperty {
    /// Its id in reports.
    pub name: String,
    /// Returns `Err(explanation)` when the property is broken.
    #[allow(clippy::type_complexity)]
    pub check: Box<dyn Fn(&Manifest, &Sandbox) -> Result<(), String> + Send + Sync>,
}

/// The CLI's default wall time for all the shrinking of one run (`--shrink-time`): with a
/// packager that needs 3 s a run, 100 cases and their shrinking stay within a few minutes on
/// two cores.
pub const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(60);

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Generated cases.
    pub cases: u64,
    /// The run seed.
    pub seed: u64,
    /// Worker threads (0 = all cores).
    pub jobs: usize,
    /// Check the strict profile too.
    pub strict: bool,
    /// The deploy target whose consumer judges the archive.
    pub target: Target,
    /// Per-run packager timeout.
    pub timeout: Duration,
    /// Shard of the generated cases (ignored when `only` selects one case).
    pub partition: Option<Partition>,
    /// Run one case alone (`--case N`, `--scenario ID`): no baseline (unless it is the one
    /// selected, `--scenario baseline`), nothing else; `cases` and `partition` are then
    /// ignored. `None`: the whole run.
    pub only: Option<Only>,
    /// Shrink failures (one shrink per distinct cause).
    pub shrink: bool,
    /// Packager runs allowed for shrinking one cause.
    pub max_shrink_runs: u32,
    /// Wall time allowed for all the shrinking of one run; causes not finished by then keep
    /// the smallest layout found so far. `None` (the library's default): no time limit, so
    /// the same seed always shrinks to the same layout; the CLI sets 60 s
    /// ([`DEFAULT_SHRINK_TIME`]).
    pub shrink_time: Option<Duration>,
    /// Where to save each cause's layout (shrunk, or with `shrink` off the representative
    /// case's own) as a replayable TOML file.
    pub save_failures: Option<PathBuf>,
    /// Run the baseline case first and stop if it fails (unless `keep_going`).
    pub baseline: bool,
    /// Run every case even when the baseline fails.
    pub keep_going: bool,
    /// The dirs the scenarios came from, named in replay commands (`--scenarios DIR`).
    pub scenario_dirs: Vec<PathBuf>,
    /// The built-in scenario library is among the scenarios (replays of the whole run say
    /// `--no-scenarios` when it is not).
    pub builtin: bool,
    /// Where the run came from: `packtest run` or a `cargo test` ([`crate::Harness`]); it
    /// decides the form of the replay commands.
    pub origin: Origin,
    /// For a run in a test: the test to name in replay commands (`cargo test NAME`).
    pub test: Option<String>,
    /// Cancelling it (the CLI's Ctrl-C handler) kills running command packagers and starts no
    /// new case; the report then says `interrupted`. Each run has its own.
    pub cancel: CancelToken,
}

impl RunConfig {
    /// The command that replays this run of `packager`: the one place a [`Replay`] is built.
    pub fn replay(&self, packager: &dyn Packager) -> Replay {
        Replay {
            packager: packager.invocation(),
            origin: self.origin,
            test: self.test.clone(),
            seed: self.seed,
            cases: self.cases,
            only: self.only.clone(),
            target: self.target,
            strict: self.strict,
            partition: self.partition,
            timeout: self.timeout,
            keep_going: self.keep_going,
            builtin: self.builtin,
            scenarios: self.scenario_dirs.clone(),
        }
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cases: 256,
            seed: 0,
            jobs: 0,
            strict: false,
            target: Target::default(),
            timeout: crate::outcome::DEFAULT_TIMEOUT,
            partition: None,
            only: None,
            shrink: true,
            max_shrink_runs: 128,
            shrink_time: None,
            save_failures: None,
            baseline: true,
            keep_going: false,
            scenario_dirs: Vec::new(),
            builtin: false,
            origin: Origin::Cli,
            test: None,
            cancel: CancelToken::new(),
        }
    }
}

/// Why a run could not be carried out at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The packager cannot be started.
    #[error("the packager cannot be started: {0}")]
    Spawn(String),
    /// Zero cases would run.
    #[error(
        "no case to run: --cases is 0 and no scenario was given (style: never pass vacuously)"
    )]
    NothingToRun,
    /// Too many layouts could not be built.
    #[error("{rejected} of {total} layouts could not be built on this filesystem (last: {last}); run on a filesystem that allows long and non-UTF-8 names, such as ext4 or tmpfs")]
    TooManyRejects {
        /// Rejected cases.
        rejected: u64,
        /// All cases.
        total: u64,
        /// The last reason.
        last: String,
    },
    /// The worker pool could not be built.
    #[error("cannot start {jobs} worker threads: {reason}")]
    Pool {
        /// Requested jobs.
        jobs: usize,
        /// The cause.
        reason: String,
    },
    /// `--scenario ID` (`PACKTEST_SCENARIO`) names no scenario of the run.
    #[error("no scenario or saved failure `{id}` in this run{}", close_hint(close))]
    UnknownScenario {
        /// The id asked for.
        id: String,
        /// The run's ids that are close to it (at most 5).
        close: Vec<String>,
    },
    /// An environment variable that selects a case holds something else.
    #[error("{name}={value:?} is not valid: {expected}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it must hold.
        expected: &'static str,
    },
    /// Saving a failure failed.
    #[error("cannot save the failure to `{}`: {source}", path.display())]
    Save {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn close_hint(close: &[String]) -> String {
    if close.is_empty() {
        "; `packtest scenarios list` lists the built-in ids, a --scenarios DIR's scenarios go by \
         their `id` and its saved failures by their file name without `.toml`"
            .to_owned()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// Edit distance between two short strings (ids), in chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The ids among `names` (case names) close to `id`: within a third of its length in edits,
/// or containing it; at most 5, closest first.
fn close_ids(id: &str, names: impl Iterator<Item = String>) -> Vec<String> {
    let mut scored: Vec<(usize, String)> = names
        .map(|n| Only::scenario_id(&n).to_owned())
        .filter_map(|n| {
            let d = edit_distance(id, &n);
            (d <= id.chars().count().max(3) / 3 || (id.len() >= 3 && n.contains(id)))
                .then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(5).map(|(_, n)| n).collect()
}

/// What a run runs: the generated case indices, the scenarios, and whether the baseline runs
/// (and whether it runs alone).
struct Selection {
    indices: Vec<u64>,
    scenarios: Vec<NamedLayout>,
    baseline: bool,
    baseline_only: bool,
}

/// Selects the cases of a run from its config: the whole run (its shard), or the one case
/// of [`RunConfig::only`].
fn select(scenarios: &[NamedLayout], cfg: &RunConfig) -> Result<Selection, RunError> {
    match &cfg.only {
        None => {
            let indices: Vec<u64> = (0..cfg.cases)
                .filter(|i| cfg.partition.is_none_or(|p| p.contains(*i)))
                .collect();
            // The baseline guards generated cases; a replay of scenarios alone does not need it.
            let baseline = cfg.baseline && !indices.is_empty();
            Ok(Selection {
                indices,
                scenarios: shard_scenarios(scenarios, cfg.partition),
                baseline,
                baseline_only: false,
            })
        }
        Some(Only::Case(i)) => Ok(Selection {
            indices: vec![*i],
            scenarios: Vec::new(),
            baseline: false,
            baseline_only: false,
        }),
        Some(only @ Only::Scenario(id)) => {
            // A later file with the same id replaces an earlier one, as in the CLI.
            let found = scenarios.iter().rev().find(|s| only.names(&s.id));
            match found {
                Some(s) => Ok(Selection {
                    indices: Vec::new(),
                    scenarios: vec![s.clone()],
                    baseline: false,
                    baseline_only: false,
                }),
                None if only.names("baseline") => Ok(Selection {
                    indices: Vec::new(),
                    scenarios: Vec::new(),
                    baseline: true,
                    baseline_only: true,
                }),
                None => Err(RunError::UnknownScenario {
                    id: id.clone(),
                    close: close_ids(
                        id,
                        scenarios
                            .iter()
                            .map(|s| s.id.clone())
                            .chain(["baseline".to_owned()]),
                    ),
                }),
            }
        }
    }
}

/// The RNG of case `i` under run seed `seed`.
fn case_rng(seed: u64, i: u64) -> TestRng {
    let mut h = Sha256::new();
    h.update(b"packtest-case");
    h.update(seed.to_le_bytes());
    h.update(i.to_le_bytes());
    let bytes: [u8; 32] = h.finalize().into();
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// A layout every sound packager handles: the baseline.
pub fn baseline_layout() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Cwd,
            "train.py",
            Content::Text("import os\n".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "model.pth",
            Content::format(crate::layout::ModelFormat::TorchZip, 1, 4096),
        ))
        .with(Entry::file(
            Root::Model,
            "code/inference.py",
            Content::Text("def model_fn(d):\n    pass\n".into()),
        ))
        .with(Entry::dir(Root::Model, "empty"))
}

/// The case result of a trial that did not fail (or whose failure is not shrunk here).
fn case_result(
    name: String,
    index: Option<u64>,
    layout: &Layout,
    status: CaseStatus,
    ran: Ran,
    replay: Option<Replay>,
    start: Instant,
) -> CaseResult {
    let failed = matches!(status, CaseStatus::Failed { .. });
    CaseResult {
        name,
        index,
        labels: layout.labels.iter().map(|l| l.0.clone()).collect(),
        entries: layout.entries.len(),
        status,
        timed_out: ran.timed_out,
        replay: replay.filter(|_| failed),
        duration: start.elapsed(),
        packager_time: ran.took,
    }
}

/// A trial's status, unless the packager could not start (which stops the run).
fn status_of(t: Trial, cancel: &CancelToken) -> Result<Result<CaseStatus, Failure>, RunError> {
    // Ctrl-C arrived while it ran: its outcome says nothing about the packager.
    if cancel.is_cancelled() {
        return Ok(Ok(CaseStatus::Cancelled));
    }
    Ok(match t {
        Trial::Pass => Ok(CaseStatus::Passed),
        Trial::Reject(reason) => Ok(CaseStatus::Rejected { reason }),
        Trial::SpawnFailed(e) => return Err(RunError::Spawn(e)),
        Trial::Fail(found) => Err(found),
    })
}

/// Runs one named layout (baseline or scenario), without shrinking.
fn run_named(
    packager: &dyn Packager,
    named: &NamedLayout,
    replay: Replay,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Result<CaseResult, RunError> {
    let start = Instant::now();
    let (t, ran) = trial(packager, &named.layout, cfg, extra, Bisect::No);
    let status = status_of(t, &cfg.cancel)?.unwrap_or_else(Failure::status);
    let name = named.id.clone();
    let r = case_result(name, None, &named.layout, status, ran, Some(replay), start);
    Ok(r)
}

/// What every case of one run shares.
struct Ctx<'a> {
    packager: &'a dyn Packager,
    cfg: &'a RunConfig,
    extra: &'a [ExtraProperty],
    sink: &'a (dyn Fn(Event) + Sync),
    /// The run's replay command, from which each case's is derived.
    replay: Replay,
}

/// The worker threads of a run (`jobs` 0: all cores).
fn jobs(cfg: &RunConfig) -> usize {
    if cfg.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.jobs
    }
}

/// The layout and value tree of generated case `i`: a function of the seed and `i` only.
fn case_tree(
    strategy: &SBoxedStrategy<Layout>,
    seed: u64,
    i: u64,
) -> Result<Box<dyn ValueTree<Value = Layout>>, String> {
    let mut runner = TestRunner::new_with_rng(Config::default(), case_rng(seed, i));
    strategy.new_tree(&mut runner).map_err(|r| r.to_string())
}

/// Runs generated case `i` (its failure is shrunk later, once per cause).
fn run_case(
    cx: &Ctx<'_>,
    strategy: &SBoxedStrategy<Layout>,
    i: u64,
) -> Result<CaseResult, RunError> {
    let (packager, cfg, extra) = (cx.packager, cx.cfg, cx.extra);
    let start = Instant::now();
    let name = format!("case-{i}");
    let layout = match case_tree(strategy, cfg.seed, i) {
        Ok(t) => t.current(),
        Err(reason) => {
            let status = CaseStatus::Rejected { reason };
            let l = Layout::new();
            return Ok(case_result(
                name,
                Some(i),
                &l,
                status,
                Ran::default(),
                None,
                start,
            ));
        }
    };
    let (t, ran) = trial(packager, &layout, cfg, extra, Bisect::No);
    let status = status_of(t, &cfg.cancel)?.unwrap_or_else(Failure::status);
    let replay = Some(cx.replay.for_case(i));
    Ok(case_result(
        name,
        Some(i),
        &layout,
        status,
        ran,
        replay,
        start,
    ))
}

/// Runs the baseline; `true` when it failed.
fn run_baseline(cx: &Ctx<'_>, report: &mut RunReport) -> Result<bool, RunError> {
    let named = NamedLayout {
        id: "baseline".into(),
        layout: baseline_layout(),
    };
    let r = run_named(
        cx.packager,
        &named,
        cx.replay.for_baseline(),
        cx.cfg,
        cx.extra,
    )?;
    (cx.sink)(Event::CaseFinished(Box::new(r.clone())));
    let failed = r.failed();
    report.results.push(r);
    Ok(failed)
}

/// Runs the scenarios and the generated cases `indices` on a pool of `cfg.jobs` threads;
/// returns them sorted (scenarios by name, then cases by index). The first setup error stops
/// every worker and is returned.
fn run_parallel(
    cx: &Ctx<'_>,
    strategy: &SBoxedStrategy<Layout>,
    scenarios: &[NamedLayout],
    indices: &[u64],
) -> Result<Vec<CaseResult>, RunError> {
    let (packager, cfg, extra, sink) = (cx.packager, cx.cfg, cx.extra, cx.sink);
    let jobs = jobs(cfg);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Pool {
            jobs,
            reason: e.to_string(),
        })?;
    let first_error: Mutex<Option<RunError>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let guard = |r: Result<CaseResult, RunError>| -> Option<CaseResult> {
        match r {
            Ok(c) => {
                sink(Event::CaseFinished(Box::new(c.clone())));
                Some(c)
            }
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                None
            }
        }
    };
    let skip = || cfg.cancel.is_cancelled() || stop.load(Ordering::Relaxed);
    let (mut scen, mut gen): (Vec<CaseResult>, Vec<CaseResult>) = pool.install(|| {
        let scen = scenarios
            .par_iter()
            .filter(|_| !skip())
            .filter_map(|s| {
                let replay = cx.replay.for_scenario(&s.id);
                guard(run_named(packager, s, replay, cfg, extra))
            })
            .collect();
        let gen = indices
            .par_iter()
            .filter(|_| !skip())
            .filter_map(|&i| guard(run_case(cx, strategy, i)))
            .collect();
        (scen, gen)
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    scen.sort_by(|a, b| a.name.cmp(&b.name));
    gen.sort_by_key(|c| c.index);
    scen.extend(gen);
    Ok(scen)
}

/// Fails the run when more than half of its cases could not be built on this filesystem.
fn check_rejects(report: &RunReport) -> Result<(), RunError> {
    let rejected = report.rejected() as u64;
    let ran = report.results.len() as u64;
    if ran > 4 && rejected * 2 > ran {
        let last = report
            .results
            .iter()
            .rev()
            .find_map(|r| match &r.status {
                CaseStatus::Rejected { reason } => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_default();
        return Err(RunError::TooManyRejects {
            rejected,
            total: ran,
            last,
        });
    }
    Ok(())
}

/// The scenarios of one shard: scenario `j` (in the order given) belongs to shard
/// `j % N + 1`, as generated case `j` does, so the shards' union is every scenario once.
pub fn shard_scenarios(
    scenarios: &[NamedLayout],
    partition: Option<Partition>,
) -> Vec<NamedLayout> {
    scenarios
        .iter()
        .zip(0u64..)
        .filter(|(_, j)| partition.is_none_or(|p| p.contains(*j)))
        .map(|(s, _)| s.clone())
        .collect()
}

/// Runs the whole configuration: baseline, scenarios, then generated cases in parallel.
/// With a partition, a shard runs its share of the scenarios and of the generated cases; the
/// baseline, a guard rather than a case, runs in every shard. With [`RunConfig::only`], the
/// one selected case runs alone ([`RunError::UnknownScenario`] when no scenario has its id).
pub fn run(
    packager: &dyn Packager,
    strategy: &SBoxedStrategy<Layout>,
    scenarios: &[NamedLayout],
    extra: &[ExtraProperty],
    cfg: &RunConfig,
    sink: &(dyn Fn(Event) + Sync),
) -> Result<RunReport, RunError> {
    let start = Instant::now();
    let Selection {
        indices,
        scenarios: selected,
        baseline,
        baseline_only,
    } = select(scenarios, cfg)?;
    let all_scenarios = scenarios;
    let scenarios = &selected[..];
    if indices.is_empty() && scenarios.is_empty() && !baseline_only {
        return Err(RunError::NothingToRun);
    }
    let total = indices.len() as u64 + scenarios.len() as u64 + u64::from(baseline);
    sink(Event::Started { total });
    let replay = cfg.replay(packager);
    let mut report = RunReport {
        packager: packager.name(),
        seed: cfg.seed,
        cases: if cfg.only.is_some() {
            indices.len() as u64
        } else {
            cfg.cases
        },
        partition: cfg.partition.filter(|_| cfg.only.is_none()),
        strict: cfg.strict,
        target: cfg.target,
        results: Vec::new(),
        causes: Vec::new(),
        stopped_at_baseline: false,
        interrupted: false,
        replay: replay.clone(),
        duration: Duration::ZERO,
    };
    let cx = Ctx {
        packager,
        cfg,
        extra,
        sink,
        replay,
    };
    let stop = baseline && run_baseline(&cx, &mut report)? && !cfg.keep_going;
    if baseline_only {
        report.interrupted = cfg.cancel.is_cancelled();
    } else if stop {
        report.stopped_at_baseline = true;
    } else {
        let rest = run_parallel(&cx, strategy, scenarios, &indices)?;
        report.results.extend(rest);
        report.interrupted = cfg.cancel.is_cancelled();
        check_rejects(&report)?;
    }
    let sources = causes::Sources {
        strategy,
        scenarios: all_scenarios,
    };
    report.causes = causes::find(&cx, &sources, &report.results)?;
    report.duration = start.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_layouts_depend_only_on_seed_and_index() {
        let s = crate::strategy::job_layout();
        let gen = |seed, i| {
            let mut r = TestRunner::new_with_rng(Config::default(), case_rng(seed, i));
            s.new_tree(&mut r).unwrap().current()
        };
        assert_eq!(gen(7, 3), gen(7, 3));
        assert_ne!(gen(7, 3), gen(7, 4));
        assert_ne!(gen(7, 3), gen(8, 3));
    }

    fn named(id: &str) -> NamedLayout {
        NamedLayout {
            id: id.into(),
            layout: Layout::new(),
        }
    }

    #[test]
    fn only_selects_one_case_alone() {
        let scen = [
            named("scenario:dot-files"),
            named("saved:seed-1-fidelity-case-3"),
        ];
        let cfg = |only| RunConfig {
            cases: 10,
            partition: Some(Partition { k: 1, n: 2 }),
            only: Some(only),
            ..RunConfig::default()
        };
        let s = select(&scen, &cfg(Only::Case(12))).unwrap();
        assert_eq!(
            (s.indices, s.scenarios.len(), s.baseline),
            (vec![12], 0, false)
        );
        for id in ["dot-files", "scenario:dot-files"] {
            let s = select(&scen, &cfg(Only::Scenario(id.into()))).unwrap();
            assert!(s.indices.is_empty() && !s.baseline, "{id}");
            assert_eq!(s.scenarios.len(), 1, "{id}");
            assert_eq!(s.scenarios[0].id, "scenario:dot-files");
        }
        let s = select(&scen, &cfg(Only::Scenario("seed-1-fidelity-case-3".into()))).unwrap();
        assert_eq!(s.scenarios[0].id, "saved:seed-1-fidelity-case-3");
        let s = select(&scen, &cfg(Only::Scenario("baseline".into()))).unwrap();
        assert!(s.baseline_only && s.baseline && s.scenarios.is_empty() && s.indices.is_empty());
        match select(&scen, &cfg(Only::Scenario("dot-file".into()))) {
            Err(RunError::UnknownScenario { close, .. }) => assert_eq!(close, ["dot-files"]),
            _ => panic!("an unknown id is an error"),
        }
        match select(&scen, &cfg(Only::Scenario("zzzzzzzz".into()))) {
            Err(e @ RunError::UnknownScenario { .. }) => {
                assert!(e.to_string().contains("packtest scenarios list"), "{e}")
            }
            _ => panic!("an unknown id is an error"),
        }
        // The whole run: its shard, with the baseline.
        let whole = RunConfig {
            only: None,
            ..cfg(Only::Case(0))
        };
        let s = select(&scen, &whole).unwrap();
        assert_eq!(s.indices, vec![0, 2, 4, 6, 8]);
        assert!(s.baseline && !s.baseline_only);
        assert_eq!(s.scenarios.len(), 1);
    }
}
