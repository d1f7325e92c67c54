//! A run's failures as distinct causes: one per diagnosed root cause, plus one per broken
//! property (and kind of entry) that no diagnosis explains (a case can show several), each
//! shrunk once from a representative case (the failing case with the fewest entries), merged
//! when two are one, ranked by how many cases show them, and saved once.
//!
//! Shrinking runs after every case has run, so the representative, and with it the report,
//! do not depend on which worker finished first. Causes shrink in parallel, within one time
//! budget for the whole run, when one is set
//! ([`RunConfig::shrink_time`](super::RunConfig::shrink_time)).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use proptest::strategy::{SBoxedStrategy, ValueTree};
use rayon::prelude::*;

use super::shrink::{keys_of, shrink};
use super::trial::{trial, Bisect, Failure, Trial};
use super::{baseline_layout, case_tree, Ctx, RunError};
use crate::contract::{unexplained, Diagnosed, Diagnosis, Property, Violation};
use crate::layout::{Layout, NamedLayout};
use crate::outcome::{CaseResult, CaseStatus, Cause, CauseKey, Event, SavedFailure};

/// Where the layouts of a run's cases come from, to rebuild a representative's layout.
pub(super) struct Sources<'a> {
    /// The generated cases' strategy (case `i` is rebuilt from the seed and `i`).
    pub strategy: &'a SBoxedStrategy<Layout>,
    /// The scenarios and saved failures the run replayed.
    pub scenarios: &'a [NamedLayout],
}

/// A case's layout and, for a generated case, its value tree.
type Origin = (Layout, Option<Box<dyn ValueTree<Value = Layout>>>);

impl Sources<'_> {
    /// The layout of `case` (and its value tree when it was generated).
    fn origin(&self, case: &CaseResult, seed: u64) -> Option<Origin> {
        match case.index {
            Some(i) => {
                let tree = case_tree(self.strategy, seed, i).ok()?;
                Some((tree.current(), Some(tree)))
            }
            None if case.name == "baseline" => Some((baseline_layout(), None)),
            None => self
                .scenarios
                .iter()
                .find(|n| n.id == case.name)
                .map(|n| (n.layout.clone(), None)),
        }
    }
}

/// The failure a case ended with, if it failed.
fn failure_of(r: &CaseResult) -> Option<Failure> {
    match &r.status {
        CaseStatus::Failed {
            violations,
            diagnoses,
        } => Some(Failure {
            violations: violations.clone(),
            diagnoses: diagnoses.clone(),
        }),
        _ => None,
    }
}

/// The failing cases of each cause, in key order.
fn groups(src: &Sources<'_>, seed: u64, results: &[CaseResult]) -> BTreeMap<CauseKey, Vec<usize>> {
    let mut out: BTreeMap<CauseKey, Vec<usize>> = BTreeMap::new();
    for (k, r) in results.iter().enumerate() {
        let Some(f) = failure_of(r) else { continue };
        let layout = src.origin(r, seed).map(|(l, _)| l);
        for key in keys_of(layout.as_ref(), &f) {
            out.entry(key).or_default().push(k);
        }
    }
    out
}

/// The violations of `f` that make up the cause `key`: those its diagnosis explains, or the
/// unexplained ones of its property. Then the diagnosis itself, if any.
fn of_cause(f: &Failure, key: &CauseKey) -> (Vec<Violation>, Option<Diagnosed>) {
    match key {
        CauseKey::Diagnosed(d) => {
            let found = f.diagnoses.iter().find(|x| x.diagnosis == *d).cloned();
            let vs = found
                .as_ref()
                .map(|x| {
                    x.explains
                        .iter()
                        .filter_map(|&i| f.violations.get(i).cloned())
                        .collect()
                })
                .unwrap_or_default();
            (vs, found)
        }
        CauseKey::Raw(p, _) => (
            unexplained(&f.violations, &f.diagnoses)
                .into_iter()
                .filter(|v| &v.property == p)
                .cloned()
                .collect(),
            None,
        ),
    }
}

/// Groups the failures of `results` into causes, shrinks and saves each, merges causes that
/// are one (same cases, same minimal layout), and ranks them by how many cases show them.
pub(super) fn find(
    cx: &Ctx<'_>,
    src: &Sources<'_>,
    results: &[CaseResult],
) -> Result<Vec<Cause>, RunError> {
    let deadline = cx
        .cfg
        .shrink_time
        .and_then(|t| Instant::now().checked_add(t));
    let groups: Vec<(CauseKey, Vec<usize>)> =
        groups(src, cx.cfg.seed, results).into_iter().collect();
    let jobs = super::jobs(cx.cfg);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Pool {
            jobs,
            reason: e.to_string(),
        })?;
    let found: Vec<(Cause, Option<Layout>)> = pool.install(|| {
        groups
            .into_par_iter()
            .map(|(key, cases)| cause(cx, src, results, key, &cases, deadline))
            .collect::<Result<_, _>>()
    })?;
    let mut causes = merge(found);
    causes.sort_by_key(|c| std::cmp::Reverse(c.cases.len()));
    for c in &mut causes {
        if let (Some(dir), Some(layout)) = (&cx.cfg.save_failures, saved_layout(c, src, cx)) {
            save_cause(cx, dir, c, &layout)?;
        }
    }
    Ok(causes)
}

/// Folds causes that are one: the same cases and the same minimal layout (a packager that
/// fails on a dir it must pack and leaves its partial file behind shows both at once). The
/// first, in key order (diagnoses before raw properties), keeps the others as `also`.
fn merge(found: Vec<(Cause, Option<Layout>)>) -> Vec<Cause> {
    let mut out: Vec<(Cause, Option<Layout>)> = Vec::new();
    for (c, layout) in found {
        let same = out
            .iter_mut()
            .find(|(o, l)| o.cases == c.cases && *l == layout && layout.is_some());
        match same {
            Some((o, _)) => {
                if let Some(d) = c.diagnosis {
                    o.also.push(d);
                }
                o.also.extend(c.also);
                o.violations.extend(c.violations);
            }
            None => out.push((c, layout)),
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}

/// The layout a cause's saved file holds: the shrunk one, or the representative's own.
fn saved_layout(c: &Cause, src: &Sources<'_>, cx: &Ctx<'_>) -> Option<Layout> {
    if let Some(s) = &c.shrunk {
        return Some(s.layout.clone());
    }
    let rep = CaseResult {
        name: c.representative.clone(),
        index: c
            .representative
            .strip_prefix("case-")
            .and_then(|i| i.parse().ok()),
        labels: Vec::new(),
        entries: 0,
        status: CaseStatus::Cancelled,
        timed_out: false,
        replay: None,
        duration: std::time::Duration::ZERO,
        packager_time: std::time::Duration::ZERO,
    };
    src.origin(&rep, cx.cfg.seed).map(|(l, _)| l)
}

/// Saves one cause's layout, and the command that replays it.
fn save_cause(
    cx: &Ctx<'_>,
    dir: &std::path::Path,
    c: &mut Cause,
    layout: &Layout,
) -> Result<(), RunError> {
    let case = c.representative.replace(':', "-");
    let name = match (&c.diagnosis, c.kind.as_str()) {
        (Some(d), _) => format!("{}-{case}", d.diagnosis.id()),
        (None, "-") => format!("{}-{case}", c.property.id()),
        (None, kind) => format!("{}-{kind}-{case}", c.property.id()),
    };
    let mut violations = c.violations.clone();
    if let Some(s) = &c.shrunk {
        violations.extend(
            s.violations
                .iter()
                .filter(|v| !c.violations.contains(v))
                .cloned(),
        );
    }
    let path = save(cx, dir, &name, &violations, layout)?;
    c.saved_replay = Some(cx.replay.for_saved(&path));
    c.saved_to = Some(path);
    Ok(())
}

/// True when the representative's failure is a timeout: confirmed by one more run, never
/// shrunk (each shrink step would wait the whole limit).
fn is_timeout(rep: &CaseResult, key: &CauseKey) -> bool {
    rep.timed_out
        && matches!(
            key,
            CauseKey::Diagnosed(Diagnosis::TimedOut | Diagnosis::SpecialFilesRead)
                | CauseKey::Raw(Property::LoudFailure, _)
        )
}

/// One cause: its representative, its shrunk layout (or, for a timeout, one confirming run).
fn cause(
    cx: &Ctx<'_>,
    src: &Sources<'_>,
    results: &[CaseResult],
    key: CauseKey,
    cases: &[usize],
    deadline: Option<Instant>,
) -> Result<(Cause, Option<Layout>), RunError> {
    let rep_k = cases
        .iter()
        .copied()
        .min_by_key(|&k| (results[k].entries, k))
        .unwrap_or_default();
    let rep = &results[rep_k];
    let first = failure_of(rep).unwrap_or_default();
    let live = !cx.cfg.cancel.is_cancelled();
    let origin = src.origin(rep, cx.cfg.seed);
    let mut confirmed = None;
    let mut shrunk = None;
    match origin {
        Some((layout, _)) if live && is_timeout(rep, &key) => {
            (cx.sink)(Event::Shrinking {
                name: format!("{} (confirming the timeout)", rep.name),
            });
            let again = match trial(cx.packager, &layout, cx.cfg, cx.extra, Bisect::No).0 {
                Trial::Fail(f) => keys_of(Some(&layout), &f).contains(&key),
                _ => false,
            };
            confirmed = Some(again);
        }
        Some((layout, mut tree)) if live && cx.cfg.shrink => {
            (cx.sink)(Event::Shrinking {
                name: format!("{} ({})", rep.name, key_id(&key)),
            });
            let t = tree
                .as_mut()
                .map(|t| t.as_mut() as &mut dyn ValueTree<Value = Layout>);
            let s = shrink(
                cx.packager,
                t,
                (layout, first.clone()),
                key.clone(),
                deadline,
                cx.cfg,
                cx.extra,
            );
            shrunk = Some(s);
        }
        _ => {}
    }
    let mut rep_failure = first;
    let strict_repro = matches!(
        key,
        CauseKey::Diagnosed(Diagnosis::NotReproducible) | CauseKey::Raw(Property::Deterministic, _)
    );
    if strict_repro && cx.cfg.strict && live {
        // The one bisection of this cause, on its smallest layout (see `Bisect`).
        let layout = shrunk
            .as_ref()
            .map(|s| s.layout.clone())
            .or_else(|| src.origin(rep, cx.cfg.seed).map(|(l, _)| l));
        if let Some(layout) = layout {
            if let Trial::Fail(f) = trial(cx.packager, &layout, cx.cfg, cx.extra, Bisect::Yes).0 {
                if keys_of(Some(&layout), &f).contains(&key) {
                    match shrunk.as_mut() {
                        Some(s) => {
                            s.violations = f.violations;
                            s.diagnoses = f.diagnoses;
                        }
                        None => rep_failure = f,
                    }
                }
            }
        }
    }
    // What the report shows comes from the minimal layout when there is one.
    let shown = match &shrunk {
        Some(s) => Failure {
            violations: s.violations.clone(),
            diagnoses: s.diagnoses.clone(),
        },
        None => rep_failure,
    };
    let (violations, diagnosis) = of_cause(&shown, &key);
    let (property, kind) = match &key {
        // The property the diagnosis breaks first, when it is among those it explains.
        CauseKey::Diagnosed(d) => {
            let breaks = d.info().breaks;
            let property = if violations.iter().any(|v| v.property == breaks) {
                breaks
            } else {
                violations.first().map_or(breaks, |v| v.property.clone())
            };
            (property, "-".to_owned())
        }
        CauseKey::Raw(p, kind) => (p.clone(), (*kind).to_owned()),
    };
    let layout = shrunk.as_ref().map(|s| s.layout.clone());
    let c = Cause {
        diagnosis,
        also: Vec::new(),
        property,
        kind,
        cases: cases.iter().map(|&k| results[k].name.clone()).collect(),
        representative: rep.name.clone(),
        replay: rep.replay.clone(),
        violations,
        shrunk,
        confirmed,
        saved_to: None,
        saved_replay: None,
    };
    Ok((c, layout))
}

/// A cause key in a progress line.
fn key_id(key: &CauseKey) -> String {
    match key {
        CauseKey::Diagnosed(d) => d.id().to_owned(),
        CauseKey::Raw(p, kind) => format!("{} ({kind})", p.id()),
    }
}

/// Writes a cause's layout as a replayable file (see [`crate::replay`]).
fn save(
    cx: &Ctx<'_>,
    dir: &std::path::Path,
    name: &str,
    violations: &[Violation],
    layout: &Layout,
) -> Result<PathBuf, RunError> {
    let cfg = cx.cfg;
    let path = dir.join(format!("seed-{}-{name}.toml", cfg.seed));
    let text = SavedFailure::new(
        name,
        cfg.seed,
        &cx.packager.name(),
        cfg.target,
        violations,
        layout,
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
