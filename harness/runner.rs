//! The parallel runner: generates cases, runs the packager, judges, shrinks, saves failures.
//!
//! The runner never prints: it emits [`Event`]s to a sink, and the `report` module renders
//! them (style anchor 11). Reproducibility: case `i` of seed `S` is generated from its own RNG,
//! seeded from `(S, i)` only, so the same seed gives the same layouts whatever `--jobs` and
//! whatever `--partition`; results are collected in case order.
//!
//! Outcomes are kept apart (style anchor 6): a broken property is a **failure**; a layout the
//! host filesystem cannot build is a **reject** (counted, never blamed on the packager); a
//! packager that cannot be started is a **setup error** that stops the run (exit 2).
//!
//! Before the generated cases, one known-good baseline layout runs (style anchor 10): if the
//! packager breaks the contract there, the run stops with that one report instead of hundreds
//! of copies of it.
//!
//! Shrinking follows proptest's value-tree walk (`simplify` while the failure persists,
//! `complicate` when it goes away), re-running the packager on each candidate. A candidate
//! counts as failing only if it breaks at least one of the originally broken properties, so
//! the shrunk layout shows the same defect. Sandboxes are temp dirs removed on drop; on
//! Ctrl-C, in-flight packagers are killed (see [`crate::packager::cancel_all`]) and no new case
//! starts.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::strategy::{SBoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::archive::Manifest;
use crate::contract::{self, ContractOptions, Evidence, Property, Violation};
use crate::layout::{Content, Entry, Layout, Root, Sandbox, SandboxError};
use crate::packager::{Exit, PackJob, Packager};
use crate::target::Target;

/// A user-defined property: a name and a check over the manifest and the sandbox.
pub struct ExtraProperty {
    /// Its id in reports.
    pub name: String,
    /// Returns `Err(explanation)` when the property is broken.
    #[allow(clippy::type_complexity)]
    pub check: Box<dyn Fn(&Manifest, &Sandbox) -> Result<(), String> + Send + Sync>,
}

/// `--partition K/N`: shard `K` of `N`, counted from 1; case `i` belongs to shard `i % N + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// This shard, 1-based.
    pub k: u32,
    /// Number of shards.
    pub n: u32,
}

impl std::str::FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || {
            format!("`{s}` is not a partition: write K/N with 1 <= K <= N, shards counted from 1 (e.g. 1/4)")
        };
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(err());
        }
        Ok(Partition { k, n })
    }
}

impl Partition {
    /// True when case `i` belongs to this shard.
    pub fn contains(&self, i: u64) -> bool {
        i % u64::from(self.n) + 1 == u64::from(self.k)
    }
}

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
    /// The deploy target whose consumer judges the archive (DESIGN §2).
    pub target: Target,
    /// Per-run packager timeout.
    pub timeout: Duration,
    /// Shard of the generated cases.
    pub partition: Option<Partition>,
    /// Shrink failures.
    pub shrink: bool,
    /// Packager runs allowed per shrink.
    pub max_shrink_runs: u32,
    /// Where to save shrunk failures as scenario TOML.
    pub save_failures: Option<PathBuf>,
    /// Run the baseline case first and stop if it fails.
    pub baseline: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cases: 256,
            seed: 0,
            jobs: 0,
            strict: false,
            target: Target::default(),
            timeout: Duration::from_secs(60),
            partition: None,
            shrink: true,
            max_shrink_runs: 128,
            save_failures: None,
            baseline: true,
        }
    }
}

/// A layout to run besides the generated ones (a scenario or a saved failure).
#[derive(Clone, Debug)]
pub struct NamedLayout {
    /// Its id, used as the case name.
    pub id: String,
    /// The layout.
    pub layout: Layout,
}

/// How one case ended.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CaseStatus {
    /// Every property held.
    Passed,
    /// Some property broke.
    Failed {
        /// The broken properties on the original layout.
        violations: Vec<Violation>,
        /// The shrunk layout and its violations.
        shrunk: Option<Shrunk>,
    },
    /// The host could not build the layout.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Skipped after Ctrl-C.
    Cancelled,
}

/// A minimal failing layout.
#[derive(Clone, Debug, Serialize)]
pub struct Shrunk {
    /// The layout.
    #[serde(serialize_with = "ser_layout")]
    pub layout: Layout,
    /// Its violations.
    pub violations: Vec<Violation>,
    /// Packager runs spent shrinking.
    pub runs: u32,
    /// Where it was saved, if `--save-failures`.
    pub saved_to: Option<PathBuf>,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn ser_layout<S: serde::Serializer>(l: &Layout, s: S) -> Result<S::Ok, S::Error> {
    crate::layout::LayoutToml::from(l).serialize(s)
}

/// One case's result.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// `case-<i>`, `baseline`, or `scenario:<id>`.
    pub name: String,
    /// The case index for generated cases.
    pub index: Option<u64>,
    /// The labels of the layout.
    pub labels: Vec<String>,
    /// Entries in the layout.
    pub entries: usize,
    /// How it ended.
    #[serde(flatten)]
    pub status: CaseStatus,
    /// Wall time of the case, shrinking included (JSON: seconds).
    #[serde(rename = "seconds", serialize_with = "ser_secs")]
    pub duration: Duration,
    /// Wall time of the first packager run (JSON: seconds); the rest of the first trial is the
    /// runner's own overhead: materializing, digests, reading and judging.
    #[serde(rename = "packager_seconds", serialize_with = "ser_secs")]
    pub packager_time: Duration,
}

impl CaseResult {
    /// True when the case failed.
    pub fn failed(&self) -> bool {
        matches!(self.status, CaseStatus::Failed { .. })
    }
}

/// Events the runner emits, in no particular order across threads.
#[derive(Clone, Debug)]
pub enum Event {
    /// The run starts with this many cases.
    Started {
        /// Total cases including scenarios and the baseline.
        total: u64,
    },
    /// A case finished.
    CaseFinished(Box<CaseResult>),
    /// A failing case starts shrinking.
    Shrinking {
        /// The case name.
        name: String,
    },
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

/// Everything a run produced.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The packager's name.
    pub packager: String,
    /// The seed.
    pub seed: u64,
    /// Generated cases asked for.
    pub cases: u64,
    /// The partition, if any.
    pub partition: Option<Partition>,
    /// Strict profile on.
    pub strict: bool,
    /// The deploy target.
    pub target: Target,
    /// Every case, baseline first, then scenarios by id, then generated cases by index.
    pub results: Vec<CaseResult>,
    /// True when the baseline failed and the run stopped there.
    pub stopped_at_baseline: bool,
    /// True when Ctrl-C cut the run short.
    pub interrupted: bool,
    /// Wall time of the run (JSON: seconds).
    #[serde(rename = "seconds", serialize_with = "ser_secs")]
    pub duration: Duration,
}

impl RunReport {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.status, CaseStatus::Passed))
            .count()
    }

    /// Cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| r.failed())
    }

    /// Rejected cases.
    pub fn rejected(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.status, CaseStatus::Rejected { .. }))
            .count()
    }

    /// True when no case failed and the run was not interrupted.
    pub fn ok(&self) -> bool {
        self.failures().next().is_none() && !self.interrupted
    }

    /// The flags every replay command carries: ` --target T` and ` --strict` when on.
    pub fn replay_flags(&self) -> String {
        format!(
            " --target {}{}",
            self.target,
            if self.strict { " --strict" } else { "" }
        )
    }

    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        let mut s = format!(
            "packtest run --packager {} --seed {} --cases {}",
            shell_quote(&self.packager),
            self.seed,
            self.cases
        );
        s.push_str(&self.replay_flags());
        if let Some(p) = self.partition {
            s.push_str(&format!(" --partition {}/{}", p.k, p.n));
        }
        s
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

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Stops new cases from starting and kills running packagers; used by the Ctrl-C handler.
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
    crate::packager::cancel_all();
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

/// Outcome of one packager run on one layout.
enum Trial {
    Pass,
    Fail(Vec<Violation>),
    Reject(String),
    SpawnFailed(String),
    /// Ctrl-C arrived while it ran: its outcome says nothing about the packager.
    Cancelled,
}

/// Runs `packager` on `layout` and judges it.
fn trial(
    packager: &dyn Packager,
    layout: &Layout,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> (Trial, Duration) {
    let sandbox = match Sandbox::materialize(layout) {
        Ok(s) => s,
        Err(SandboxError::Unsupported { path, reason }) => {
            return (
                Trial::Reject(format!("`{}`: {reason}", path.display())),
                Duration::ZERO,
            )
        }
        Err(e) => return (Trial::Reject(e.to_string()), Duration::ZERO),
    };
    let prep = || -> Result<_, SandboxError> {
        let before = sandbox.digest()?;
        // One walk and one hash per file: the model tree is a slice of the digest.
        let tree = crate::archive::DiskTree::from_digest(
            &before,
            &crate::layout::RawPath::from(Root::Model.rel_dir()),
        );
        Ok((before, tree))
    };
    let (before, tree) = match prep() {
        Ok(x) => x,
        Err(e) => return (Trial::Reject(e.to_string()), Duration::ZERO),
    };
    let job = PackJob::for_sandbox(&sandbox, cfg.timeout);
    let outcome = packager.pack(&job);
    let took = outcome.duration;
    if let Exit::SpawnFailed(e) = &outcome.exit {
        return (Trial::SpawnFailed(e.clone()), took);
    }
    let after = match sandbox.digest() {
        Ok(d) => d,
        Err(e) => {
            // The packager broke the sandbox so badly it cannot be walked: that is a change.
            let v = Violation {
                property: Property::SourceUntouched,
                path: None,
                expected: "a sandbox that can still be walked".into(),
                found: e.to_string(),
                details: vec![],
            };
            return (Trial::Fail(vec![v]), took);
        }
    };
    let second_run = if cfg.strict && outcome.exit.success() && job.output.is_file() {
        Some(second_run(packager, &sandbox, &job))
    } else {
        None
    };
    let ev = Evidence {
        sandbox: &sandbox,
        model_tree: &tree,
        before: &before,
        after: &after,
        outcome: &outcome,
        second_run,
    };
    let judgement = contract::check(
        &ev,
        ContractOptions {
            strict: cfg.strict,
            target: cfg.target,
        },
    );
    let mut violations = judgement.violations;
    if let Some(m) = &judgement.manifest {
        for p in extra {
            if let Err(msg) = (p.check)(m, &sandbox) {
                violations.push(Violation {
                    property: Property::Custom(p.name.clone()),
                    path: None,
                    expected: "the user-defined property to hold".into(),
                    found: msg,
                    details: vec![],
                });
            }
        }
    }
    let _ = sandbox.remove();
    if violations.is_empty() {
        (Trial::Pass, took)
    } else {
        (Trial::Fail(violations), took)
    }
}

/// Runs the packager a second time with the mtimes moved; returns the output's sha256.
fn second_run(packager: &dyn Packager, sandbox: &Sandbox, job: &PackJob) -> Option<[u8; 32]> {
    let first = job.output.with_extension("first");
    std::fs::rename(&job.output, &first).ok()?;
    let _ = sandbox.shift_mtimes(-86_400 * 3);
    let o = packager.pack(job);
    let h = if o.exit.success() {
        crate::layout::hash_file(&job.output).ok().map(|h| h.0)
    } else {
        None
    };
    let _ = std::fs::remove_file(&job.output);
    let _ = std::fs::rename(&first, &job.output);
    h
}

fn props(v: &[Violation]) -> std::collections::BTreeSet<Property> {
    v.iter().map(|x| x.property.clone()).collect()
}

/// Shrinks a failing case to a minimal layout that still breaks one of the same properties.
///
/// Three phases share the `max_shrink_runs` budget:
/// 1. proptest's value-tree walk (`simplify` while the failure persists, `complicate` when it
///    goes away), for at most half the budget: it drops whole pieces and shrinks parameters;
/// 2. greedy entry removal on the resulting layout, in halves, then quarters, …, then one
///    entry at a time (delta debugging), skipping removals that leave the layout malformed;
/// 3. content reduction: each remaining file's content is tried empty.
///
/// Phases 2 and 3 work on the layout value itself, so they keep the labels of the case they
/// started from; a label may then name an entry that is gone.
fn shrink(
    packager: &dyn Packager,
    tree: &mut dyn ValueTree<Value = Layout>,
    original: &[Violation],
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Shrunk {
    let want = props(original);
    let mut best = (tree.current(), original.to_vec());
    let mut runs = 0u32;
    let budget = cfg.max_shrink_runs;
    let stop = || CANCELLED.load(Ordering::Relaxed);
    let fails = |l: &Layout, runs: &mut u32| -> Option<Vec<Violation>> {
        *runs += 1;
        match trial(packager, l, cfg, extra).0 {
            Trial::Fail(v) if !props(&v).is_disjoint(&want) && !stop() => Some(v),
            _ => None,
        }
    };
    if tree.simplify() {
        while runs < budget / 2 && !stop() {
            let cur = tree.current();
            match fails(&cur, &mut runs) {
                Some(v) => {
                    best = (cur, v);
                    if !tree.simplify() {
                        break;
                    }
                }
                None => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
    }
    // Phase 2: delta debugging over entries.
    let mut chunk = best.0.entries.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < best.0.entries.len() && runs < budget && !stop() {
            let mut cand = best.0.clone();
            let end = (i + chunk).min(cand.entries.len());
            cand.entries.drain(i..end);
            if cand.validate().is_ok() {
                if let Some(v) = fails(&cand, &mut runs) {
                    best = (cand, v);
                    continue;
                }
            }
            i += chunk;
        }
        if chunk == 1 || runs >= budget || stop() {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // Phase 3: empty contents.
    for i in 0..best.0.entries.len() {
        if runs >= budget || stop() {
            break;
        }
        if let crate::layout::EntryKind::File { content, mode } = &best.0.entries[i].kind {
            if content.is_empty() {
                continue;
            }
            let mut cand = best.0.clone();
            cand.entries[i].kind = crate::layout::EntryKind::File {
                content: Content::Text(String::new()),
                mode: *mode,
            };
            if let Some(v) = fails(&cand, &mut runs) {
                best = (cand, v);
            }
        }
    }
    Shrunk {
        layout: best.0,
        violations: best.1,
        runs,
        saved_to: None,
    }
}

/// Runs one named layout (baseline or scenario), without shrinking.
fn run_named(
    packager: &dyn Packager,
    named: &NamedLayout,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Result<CaseResult, RunError> {
    let start = Instant::now();
    let (t, took) = trial(packager, &named.layout, cfg, extra);
    let t = if CANCELLED.load(Ordering::Relaxed) {
        Trial::Cancelled
    } else {
        t
    };
    let status = match t {
        Trial::Cancelled => CaseStatus::Cancelled,
        Trial::Pass => CaseStatus::Passed,
        Trial::Fail(violations) => CaseStatus::Failed {
            violations,
            shrunk: None,
        },
        Trial::Reject(reason) => CaseStatus::Rejected { reason },
        Trial::SpawnFailed(e) => return Err(RunError::Spawn(e)),
    };
    Ok(CaseResult {
        name: named.id.clone(),
        index: None,
        labels: named.layout.labels.iter().map(|l| l.0.clone()).collect(),
        entries: named.layout.entries.len(),
        status,
        duration: start.elapsed(),
        packager_time: took,
    })
}

/// Runs generated case `i`.
fn run_case(
    packager: &dyn Packager,
    strategy: &SBoxedStrategy<Layout>,
    i: u64,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
    sink: &(dyn Fn(Event) + Sync),
) -> Result<CaseResult, RunError> {
    let start = Instant::now();
    let name = format!("case-{i}");
    let mut runner = TestRunner::new_with_rng(Config::default(), case_rng(cfg.seed, i));
    let mut tree = match strategy.new_tree(&mut runner) {
        Ok(t) => t,
        Err(reason) => {
            return Ok(CaseResult {
                name,
                index: Some(i),
                labels: vec![],
                entries: 0,
                status: CaseStatus::Rejected {
                    reason: reason.to_string(),
                },
                duration: start.elapsed(),
                packager_time: Duration::ZERO,
            })
        }
    };
    let layout = tree.current();
    let (t, took) = trial(packager, &layout, cfg, extra);
    let t = if CANCELLED.load(Ordering::Relaxed) {
        Trial::Cancelled
    } else {
        t
    };
    let status = match t {
        Trial::Cancelled => CaseStatus::Cancelled,
        Trial::Pass => CaseStatus::Passed,
        Trial::Reject(reason) => CaseStatus::Rejected { reason },
        Trial::SpawnFailed(e) => return Err(RunError::Spawn(e)),
        Trial::Fail(violations) => {
            let shrunk = if cfg.shrink {
                sink(Event::Shrinking { name: name.clone() });
                let mut s = shrink(packager, &mut tree, &violations, cfg, extra);
                if let Some(dir) = &cfg.save_failures {
                    s.saved_to = Some(save_failure(dir, &name, cfg, packager, &s)?);
                }
                Some(s)
            } else {
                None
            };
            CaseStatus::Failed { violations, shrunk }
        }
    };
    Ok(CaseResult {
        name,
        index: Some(i),
        labels: layout.labels.iter().map(|l| l.0.clone()).collect(),
        entries: layout.entries.len(),
        status,
        duration: start.elapsed(),
        packager_time: took,
    })
}

/// Writes a shrunk failure as a replayable file (see [`crate::replay`]).
fn save_failure(
    dir: &std::path::Path,
    name: &str,
    cfg: &RunConfig,
    packager: &dyn Packager,
    s: &Shrunk,
) -> Result<PathBuf, RunError> {
    let path = dir.join(format!("seed-{}-{name}.toml", cfg.seed));
    let text = crate::replay::SavedFailure::new(
        name,
        cfg.seed,
        &packager.name(),
        cfg.target,
        &s.violations,
        &s.layout,
    )
    .to_toml();
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|source| RunError::Save {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

/// Runs the whole configuration: baseline, scenarios, then generated cases in parallel.
pub fn run(
    packager: &dyn Packager,
    strategy: &SBoxedStrategy<Layout>,
    scenarios: &[NamedLayout],
    extra: &[ExtraProperty],
    cfg: &RunConfig,
    sink: &(dyn Fn(Event) + Sync),
) -> Result<RunReport, RunError> {
    let start = Instant::now();
    let indices: Vec<u64> = (0..cfg.cases)
        .filter(|i| cfg.partition.is_none_or(|p| p.contains(*i)))
        .collect();
    if indices.is_empty() && scenarios.is_empty() {
        return Err(RunError::NothingToRun);
    }
    // The baseline guards generated cases; a replay of scenarios alone does not need it.
    let baseline = cfg.baseline && !indices.is_empty();
    let total = indices.len() as u64 + scenarios.len() as u64 + u64::from(baseline);
    sink(Event::Started { total });
    let mut report = RunReport {
        packager: packager.name(),
        seed: cfg.seed,
        cases: cfg.cases,
        partition: cfg.partition,
        strict: cfg.strict,
        target: cfg.target,
        results: Vec::new(),
        stopped_at_baseline: false,
        interrupted: false,
        duration: Duration::ZERO,
    };
    if baseline {
        let mut r = run_named(
            packager,
            &NamedLayout {
                id: "baseline".into(),
                layout: baseline_layout(),
            },
            cfg,
            extra,
        )?;
        // The baseline is already small: it is saved as it is, without shrinking.
        if let (CaseStatus::Failed { violations, shrunk }, Some(dir)) =
            (&mut r.status, &cfg.save_failures)
        {
            let mut s = Shrunk {
                layout: baseline_layout(),
                violations: violations.clone(),
                runs: 0,
                saved_to: None,
            };
            s.saved_to = Some(save_failure(dir, "baseline", cfg, packager, &s)?);
            *shrunk = Some(s);
        }
        sink(Event::CaseFinished(Box::new(r.clone())));
        let failed = r.failed();
        report.results.push(r);
        if failed {
            report.stopped_at_baseline = true;
            report.duration = start.elapsed();
            return Ok(report);
        }
    }
    let jobs = if cfg.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.jobs
    };
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
    let skip = || CANCELLED.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed);
    let (mut scen, mut gen): (Vec<CaseResult>, Vec<CaseResult>) = pool.install(|| {
        let scen = scenarios
            .par_iter()
            .filter_map(|s| {
                if skip() {
                    None
                } else {
                    guard(run_named(packager, s, cfg, extra))
                }
            })
            .collect();
        let gen = indices
            .par_iter()
            .filter_map(|&i| {
                if skip() {
                    None
                } else {
                    guard(run_case(packager, strategy, i, cfg, extra, sink))
                }
            })
            .collect();
        (scen, gen)
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    scen.sort_by(|a, b| a.name.cmp(&b.name));
    gen.sort_by_key(|c| c.index);
    report.results.extend(scen);
    report.results.extend(gen);
    report.interrupted = CANCELLED.load(Ordering::Relaxed);
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
    report.duration = start.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_complete_and_disjoint() {
        for n in 1..6u32 {
            for i in 0..50u64 {
                let owners = (1..=n).filter(|&k| Partition { k, n }.contains(i)).count();
                assert_eq!(owners, 1, "case {i} with {n} shards");
            }
        }
        assert!("0/3".parse::<Partition>().is_err());
        assert!("4/3".parse::<Partition>().is_err());
        assert!("x".parse::<Partition>().is_err());
        assert_eq!("2/3".parse::<Partition>(), Ok(Partition { k: 2, n: 3 }));
    }

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

    #[test]
    fn shell_quote_quotes_only_when_needed() {
        assert_eq!(shell_quote("tar"), "tar");
        assert_eq!(shell_quote("tar -czf {output}"), "'tar -czf {output}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
