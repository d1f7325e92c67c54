//! A run's failures as distinct causes: one per broken property and kind of entry its
//! violations name (a case can show several), each shrunk once from a representative case (the
//! failing case with the fewest entries) and saved once.
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

use super::shrink::{kinds, shrink};
use super::trial::{trial, Bisect, Trial};
use super::{baseline_layout, case_tree, Ctx, RunError};
use crate::contract::{Property, Violation};
use crate::layout::{Layout, NamedLayout};
use crate::outcome::{CaseResult, CaseStatus, Cause, Event, SavedFailure};

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

/// A cause's key: the broken property and the kind of entry its violations name.
type Key = (Property, &'static str);

/// The failing cases of each cause, by property and kind, in report order.
fn groups(src: &Sources<'_>, seed: u64, results: &[CaseResult]) -> BTreeMap<Key, Vec<usize>> {
    let mut out: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (k, r) in results.iter().enumerate() {
        let CaseStatus::Failed { violations } = &r.status else {
            continue;
        };
        let layout = src.origin(r, seed).map(|(l, _)| l);
        for p in r.broken() {
            for kind in kinds(layout.as_ref(), violations, p) {
                out.entry((p.clone(), kind)).or_default().push(k);
            }
        }
    }
    out
}

/// `violations` with those of `p` first (a saved file's message names the cause).
fn cause_first(violations: &[Violation], p: &Property) -> Vec<Violation> {
    let (mut mine, rest): (Vec<Violation>, Vec<Violation>) =
        violations.iter().cloned().partition(|v| &v.property == p);
    mine.extend(rest);
    mine
}

/// Groups the failures of `results` into causes, shrinks and saves each.
pub(super) fn find(
    cx: &Ctx<'_>,
    src: &Sources<'_>,
    results: &[CaseResult],
) -> Result<Vec<Cause>, RunError> {
    let deadline = cx
        .cfg
        .shrink_time
        .and_then(|t| Instant::now().checked_add(t));
    let groups: Vec<(Key, Vec<usize>)> = groups(src, cx.cfg.seed, results).into_iter().collect();
    let jobs = super::jobs(cx.cfg);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Pool {
            jobs,
            reason: e.to_string(),
        })?;
    pool.install(|| {
        groups
            .into_par_iter()
            .map(|(key, cases)| cause(cx, src, results, key, &cases, deadline))
            .collect()
    })
}

/// One cause: its representative, its shrunk layout and its saved file.
fn cause(
    cx: &Ctx<'_>,
    src: &Sources<'_>,
    results: &[CaseResult],
    (p, kind): Key,
    cases: &[usize],
    deadline: Option<Instant>,
) -> Result<Cause, RunError> {
    let rep_k = cases
        .iter()
        .copied()
        .min_by_key(|&k| (results[k].entries, k))
        .unwrap_or_default();
    let rep = &results[rep_k];
    let all = match &rep.status {
        CaseStatus::Failed { violations } => cause_first(violations, &p),
        _ => Vec::new(),
    };
    let shrink_on = cx.cfg.shrink && !cx.cfg.cancel.is_cancelled();
    let (shrunk, own) = match src.origin(rep, cx.cfg.seed) {
        Some((layout, mut tree)) if shrink_on => {
            (cx.sink)(Event::Shrinking {
                name: format!("{} ({})", rep.name, p.id()),
            });
            let start = (layout.clone(), all.clone());
            let t = tree
                .as_mut()
                .map(|t| t.as_mut() as &mut dyn ValueTree<Value = Layout>);
            let want = (p.clone(), kind);
            let s = shrink(cx.packager, t, start, want, deadline, cx.cfg, cx.extra);
            (Some(s), Some(layout))
        }
        Some((layout, _)) => (None, Some(layout)),
        None => (None, None),
    };
    let (mut shrunk, mut all) = (shrunk, all);
    if p == Property::Deterministic && cx.cfg.strict && !cx.cfg.cancel.is_cancelled() {
        // The one bisection of this cause, on its smallest layout (see `Bisect`).
        let layout = shrunk.as_ref().map(|s| &s.layout).or(own.as_ref());
        if let Some(layout) = layout {
            if let Trial::Fail(v) = trial(cx.packager, layout, cx.cfg, cx.extra, Bisect::Yes).0 {
                if v.iter().any(|x| x.property == p) {
                    match shrunk.as_mut() {
                        Some(s) => s.violations = v,
                        None => all = cause_first(&v, &p),
                    }
                }
            }
        }
    }
    let mut c = Cause {
        violations: all.iter().filter(|v| v.property == p).cloned().collect(),
        property: p,
        kind: kind.to_owned(),
        cases: cases.iter().map(|&k| results[k].name.clone()).collect(),
        representative: rep.name.clone(),
        shrunk,
        saved_to: None,
        saved_replay: None,
    };
    let layout = match (&c.shrunk, own) {
        (Some(s), _) => Some((s.layout.clone(), cause_first(&s.violations, &c.property))),
        (None, Some(l)) => Some((l, all)),
        (None, None) => None,
    };
    if let (Some(dir), Some((layout, violations))) = (&cx.cfg.save_failures, layout) {
        let case = c.representative.replace(':', "-");
        let name = match c.kind.as_str() {
            "-" => format!("{}-{case}", c.property.id()),
            kind => format!("{}-{kind}-{case}", c.property.id()),
        };
        let path = save(cx, dir, &name, &violations, &layout)?;
        c.saved_replay = Some(cx.replay.for_saved(&path));
        c.saved_to = Some(path);
    }
    Ok(c)
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
