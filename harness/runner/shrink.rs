//! Shrinking a failing case to a minimal layout that still shows one given cause.

use std::time::Instant;

use proptest::strategy::ValueTree;

use crate::contract::{Property, Violation};
use crate::layout::{Content, Layout, Root};
use crate::outcome::{CauseKey, Shrunk};
use crate::packager::Packager;

use super::trial::{trial, Bisect, Failure, Trial};
use super::{ExtraProperty, RunConfig};

/// The kinds of the model-dir entries that `p`'s violations name (or lie below), sorted and
/// each once (`symlink`, `dir`, …); `["-"]` when they name none (a violation about the
/// output, or about the run itself).
pub(super) fn kinds(
    layout: Option<&Layout>,
    violations: &[&Violation],
    p: &Property,
) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for v in violations.iter().filter(|v| &v.property == p) {
        let Some(path) = &v.path else { continue };
        let named = layout.and_then(|l| {
            l.in_root(Root::Model).find(|e| {
                let (e, v) = (e.path.as_bytes(), path.as_bytes());
                v == e || (v.starts_with(e) && v.get(e.len()) == Some(&b'/'))
            })
        });
        if let Some(e) = named {
            kinds.push(e.kind.name());
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.is_empty() {
        kinds.push("-");
    }
    kinds
}

/// The shrinker's state: the smallest failing layout so far and the runs spent.
struct Shrinker<'a> {
    packager: &'a dyn Packager,
    cfg: &'a RunConfig,
    extra: &'a [ExtraProperty],
    /// The cause every accepted candidate must still show: its diagnosis, or the property
    /// and the kind of entry one of its unexplained violations names (so a missing dir does
    /// not shrink into a dropped symlink).
    want: CauseKey,
    /// For a diagnosed cause, the properties it explained in the case shrunk from: a
    /// candidate must still break them all (a leak keeps its leaking bytes, `containment`,
    /// rather than shrinking to an empty file that only `fidelity` sees).
    want_props: Vec<Property>,
    /// When the run's shrink time is up, if it has a limit.
    deadline: Option<Instant>,
    best: (Layout, Failure),
    runs: u32,
}

impl Shrinker<'_> {
    fn stop(&self) -> bool {
        self.cfg.cancel.is_cancelled()
    }

    /// The run or time budget is used up.
    fn out_of_budget(&self) -> bool {
        self.runs >= self.cfg.max_shrink_runs || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn spent(&self) -> bool {
        self.out_of_budget() || self.stop()
    }

    /// True when `f` (the failure of candidate `l`) still shows the wanted cause.
    fn same_cause(&self, l: &Layout, f: &Failure) -> bool {
        keys_of(Some(l), f).contains(&self.want) && {
            let now = explained_props(f, &self.want);
            self.want_props.iter().all(|p| now.contains(p))
        }
    }

    /// Runs a candidate; `Some(failure)` when it still shows the wanted cause.
    fn fails(&mut self, l: &Layout) -> Option<Failure> {
        self.runs += 1;
        match trial(self.packager, l, self.cfg, self.extra, Bisect::No).0 {
            Trial::Fail(f) if !self.stop() && self.same_cause(l, &f) => Some(f),
            _ => None,
        }
    }

    /// Phase 1: proptest's value-tree walk, for at most half the budget.
    fn walk_tree(&mut self, tree: &mut dyn ValueTree<Value = Layout>) {
        if !tree.simplify() {
            return;
        }
        while self.runs < self.cfg.max_shrink_runs / 2 && !self.spent() {
            let cur = tree.current();
            let more = match self.fails(&cur) {
                Some(v) => {
                    self.best = (cur, v);
                    tree.simplify()
                }
                None => tree.complicate(),
            };
            if !more {
                break;
            }
        }
    }

    /// Phase 2: delta debugging over entries, in halves, then quarters, … then one by one.
    fn drop_entries(&mut self) {
        let mut chunk = self.best.0.entries.len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            while i < self.best.0.entries.len() && !self.spent() {
                let mut cand = self.best.0.clone();
                let end = (i + chunk).min(cand.entries.len());
                cand.entries.drain(i..end);
                if cand.validate().is_ok() {
                    if let Some(v) = self.fails(&cand) {
                        self.best = (cand, v);
                        continue;
                    }
                }
                i += chunk;
            }
            if chunk == 1 || self.spent() {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }

    /// Phase 3: each remaining file's content is tried empty.
    fn empty_contents(&mut self) {
        for i in 0..self.best.0.entries.len() {
            if self.spent() {
                break;
            }
            if let crate::layout::EntryKind::File { content, mode } = &self.best.0.entries[i].kind {
                if content.is_empty() {
                    continue;
                }
                let mut cand = self.best.0.clone();
                cand.entries[i].kind = crate::layout::EntryKind::File {
                    content: Content::Text(String::new()),
                    mode: *mode,
                };
                if let Some(v) = self.fails(&cand) {
                    self.best = (cand, v);
                }
            }
        }
    }
}

/// The properties of the violations the diagnosis `key` explains in `f` (none for a raw key).
fn explained_props(f: &Failure, key: &CauseKey) -> Vec<Property> {
    let CauseKey::Diagnosed(d) = key else {
        return Vec::new();
    };
    let mut props: Vec<Property> = f
        .diagnoses
        .iter()
        .filter(|x| x.diagnosis == *d)
        .flat_map(|x| x.explains.iter().filter_map(|&i| f.violations.get(i)))
        .map(|v| v.property.clone())
        .collect();
    props.sort();
    props.dedup();
    props
}

/// The causes a failure shows, on `layout` (see [`CauseKey::of_case`]).
pub(super) fn keys_of(layout: Option<&Layout>, f: &Failure) -> Vec<CauseKey> {
    CauseKey::of_case(&f.violations, &f.diagnoses, |vs, p| kinds(layout, vs, p))
}

/// Shrinks a failing layout to a minimal one that still shows the cause `want`.
///
/// Three phases share the budget (`max_shrink_runs` runs, and the run's shrink time, which
/// ends at `deadline`):
/// 1. proptest's value-tree walk (`simplify` while the failure persists, `complicate` when it
///    goes away), for at most half the runs; only for generated cases, which have a tree: it
///    drops whole pieces and shrinks parameters;
/// 2. greedy entry removal on the resulting layout, in halves, then quarters, …, then one
///    entry at a time (delta debugging), skipping removals that leave the layout malformed;
/// 3. content reduction: each remaining file's content is tried empty.
///
/// A candidate is accepted only while it still shows `want`: a leak stays a leak (the
/// leaking bytes are kept), where accepting any broken property would let it drift into
/// another defect. Phases 2 and 3 work on the layout value itself, so they keep the labels
/// of the case they started from; a label may then name an entry that is gone.
pub(super) fn shrink(
    packager: &dyn Packager,
    tree: Option<&mut dyn ValueTree<Value = Layout>>,
    start: (Layout, Failure),
    want: CauseKey,
    deadline: Option<Instant>,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Shrunk {
    let want_props = explained_props(&start.1, &want);
    let mut s = Shrinker {
        packager,
        cfg,
        extra,
        want,
        want_props,
        deadline,
        best: start,
        runs: 0,
    };
    if let Some(tree) = tree {
        s.walk_tree(tree);
    }
    s.drop_entries();
    s.empty_contents();
    Shrunk {
        budget_spent: s.out_of_budget(),
        layout: s.best.0,
        violations: s.best.1.violations,
        diagnoses: s.best.1.diagnoses,
        runs: s.runs,
    }
}
