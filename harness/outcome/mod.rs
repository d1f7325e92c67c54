//! What a run produced, as data: how each case ended, the events a run emits, the whole
//! report, the replay command of every failure, and the saved-failure file format.
//!
//! This is the boundary between the runner and the reports (as nextest's reporter events
//! are): the [`crate::runner`] produces these values, and [`crate::report`] only reads them.
//! Nothing here runs a packager or prints.

mod replay;
mod saved;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::contract::{Diagnosed, Diagnosis, Property, Violation};
use crate::layout::Layout;
use crate::target::Target;

pub use replay::{shell_quote, Origin, Replay, DEFAULT_TIMEOUT};
pub use saved::{FailureInfo, SavedFailure};

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

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Partition {
    /// True when case `i` belongs to this shard.
    pub fn contains(&self, i: u64) -> bool {
        i % u64::from(self.n) + 1 == u64::from(self.k)
    }
}

/// One case of a run selected to run alone (`--case N`, `--scenario ID`, `PACKTEST_CASE`,
/// `PACKTEST_SCENARIO`): what every replay command of a single failure reruns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Only {
    /// Generated case `N` of the seed alone: no baseline, no scenarios. `N` may be at or past
    /// the run's `cases` (a case depends only on the seed and its index).
    Case(u64),
    /// The scenario or saved failure with this id alone (its file's `id`, or a saved file's
    /// stem; the `scenario:` or `saved:` prefix of a case name may be given too), or
    /// `baseline` for the baseline layout.
    Scenario(String),
}

impl Only {
    /// The id of a named case (`scenario:ID`, `saved:ID`, `baseline`) as `--scenario` takes it.
    pub fn scenario_id(case_name: &str) -> &str {
        case_name
            .strip_prefix("scenario:")
            .or_else(|| case_name.strip_prefix("saved:"))
            .unwrap_or(case_name)
    }

    /// True when this selection names the case named `case_name` (a named case: baseline,
    /// scenario or saved failure).
    pub fn names(&self, case_name: &str) -> bool {
        match self {
            Only::Case(_) => false,
            Only::Scenario(id) => id == case_name || id == Only::scenario_id(case_name),
        }
    }
}

/// How one case ended.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CaseStatus {
    /// Every property held.
    Passed,
    /// Some property broke.
    Failed {
        /// The broken properties on the case's own layout.
        violations: Vec<Violation>,
        /// Their root causes, each naming the violations (indices) it explains.
        diagnoses: Vec<Diagnosed>,
    },
    /// The host could not build the layout.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Skipped after Ctrl-C.
    Cancelled,
}

/// A minimal failing layout: the smallest layout found that still breaks its cause's property.
#[derive(Clone, Debug, Serialize)]
pub struct Shrunk {
    /// The layout.
    #[serde(serialize_with = "ser_layout")]
    pub layout: Layout,
    /// Its violations (the cause's among them).
    pub violations: Vec<Violation>,
    /// Their diagnoses.
    pub diagnoses: Vec<Diagnosed>,
    /// Packager runs spent shrinking.
    pub runs: u32,
    /// True when the run or time budget ended the shrink before it could go further.
    pub budget_spent: bool,
}

/// What a cause is: a diagnosed root cause, or a broken property that no diagnosis explains
/// (with the kind of model-dir entry its violations name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CauseKey {
    /// A root cause in the packager's terms.
    Diagnosed(Diagnosis),
    /// A broken property no diagnosis explains, and the kind of entry it names (`-`: none).
    Raw(Property, &'static str),
}

impl CauseKey {
    /// The keys of a failed case: its diagnoses, then `(property, kind)` for each violation
    /// no diagnosis explains. `kinds` names the kinds of entry a property's violations name.
    pub fn of_case(
        violations: &[Violation],
        diagnoses: &[Diagnosed],
        kinds: impl Fn(&[&Violation], &Property) -> Vec<&'static str>,
    ) -> Vec<CauseKey> {
        let mut keys: Vec<CauseKey> = Vec::new();
        for d in diagnoses {
            let k = CauseKey::Diagnosed(d.diagnosis);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let rest = crate::contract::unexplained(violations, diagnoses);
        let mut props: Vec<&Property> = Vec::new();
        for v in &rest {
            if !props.contains(&&v.property) {
                props.push(&v.property);
            }
        }
        for p in props {
            for kind in kinds(&rest, p) {
                let k = CauseKey::Raw(p.clone(), kind);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        keys
    }
}

/// One distinct cause of failure, the cases that show it, and the smallest layout found that
/// still shows it (shrunk from one representative case).
///
/// A diagnosed cause is one bug in the packager's terms: the violations that follow from it
/// are folded into it. A violation no diagnosis explains makes a cause of its own, keyed by
/// its property and the kind of entry it names, and is shown raw. A case that shows several
/// causes counts under each. Shrinking keeps the cause at every step, so a leak shrinks to a
/// smaller leak, never to another defect.
#[derive(Clone, Debug, Serialize)]
pub struct Cause {
    /// The diagnosis, when one explains the cause (its headline and example are the minimal
    /// layout's, or else the representative's).
    pub diagnosis: Option<Diagnosed>,
    /// Other diagnoses with exactly the same cases and the same minimal layout, folded into
    /// this cause.
    pub also: Vec<Diagnosed>,
    /// The broken property (for a diagnosed cause, that of the first violation it explains).
    pub property: Property,
    /// For a cause no diagnosis explains: the kind of the model-dir entry its violations name
    /// (`symlink`, `dir`, `fifo`, …), or `-` when they name none. `-` for a diagnosed cause.
    pub kind: String,
    /// The failing cases that show it, in report order.
    pub cases: Vec<String>,
    /// The case it was shrunk from: the one with the fewest entries.
    pub representative: String,
    /// The command that reruns the representative case alone.
    pub replay: Option<Replay>,
    /// The representative's (or, shrunk, the minimal layout's) violations of this cause.
    pub violations: Vec<Violation>,
    /// The shrunk layout; `None` when shrinking was off or the cause was confirmed instead.
    pub shrunk: Option<Shrunk>,
    /// For a timeout: whether one more run of the representative timed out again (a timeout
    /// is confirmed once, not shrunk: every shrink step would wait the whole limit).
    pub confirmed: Option<bool>,
    /// Where its layout (shrunk, or else the representative's own) was saved, with
    /// `--save-failures`.
    pub saved_to: Option<PathBuf>,
    /// The command that replays the saved file.
    pub saved_replay: Option<Replay>,
}

impl Cause {
    /// The cause's stable id: the diagnosis id, or `property (kind)` when none explains it.
    pub fn id(&self) -> String {
        match &self.diagnosis {
            Some(d) => d.diagnosis.id().to_owned(),
            None => format!("{} ({})", self.property.id(), self.kind),
        }
    }
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
    /// True when the packager's first run on this case was killed at the timeout (a JUnit
    /// `error`: the case could not finish).
    pub timed_out: bool,
    /// The command that reproduces this case, when it failed.
    pub replay: Option<Replay>,
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

    /// The broken properties of a failed case, each once, in the order first broken.
    pub fn broken(&self) -> Vec<&Property> {
        let mut props: Vec<&Property> = Vec::new();
        if let CaseStatus::Failed { violations, .. } = &self.status {
            for p in violations.iter().map(|v| &v.property) {
                if !props.contains(&p) {
                    props.push(p);
                }
            }
        }
        props
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
    /// The distinct causes of the failures, by property id.
    pub causes: Vec<Cause>,
    /// True when the baseline failed and the run stopped there.
    pub stopped_at_baseline: bool,
    /// True when Ctrl-C cut the run short.
    pub interrupted: bool,
    /// The command that replays the whole run.
    pub replay: Replay,
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
        assert_eq!(Partition { k: 2, n: 3 }.to_string(), "2/3");
    }
}
