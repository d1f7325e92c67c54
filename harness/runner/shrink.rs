//! Shrinking a failing case to a minimal layout that still breaks one given property.

use std::time::Instant;

use proptest::strategy::ValueTree;

use crate::contract::{Property, Violation};
use crate::layout::{Content, Layout, Root};
use crate::outcome::Shrunk;
use crate::packager::Packager;

use super::trial::{trial, Bisect, Trial};
use super::{ExtraProperty, RunConfig};

/// The kinds of the model-dir entries that `p`'s violations name (or lie below), sorted and
/// each once (`symlink`, `dir`, …); `["-"]` when they name none (a violation about the
/// output, or about the run itself).
pub(super) fn kinds(
    layout: Option<&Layout>,
    violations: &[Violation],
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
    /// The property every accepted candidate must still break, and the kind of entry one of
    /// its violations must still name (so a missing dir does not shrink into a dropped
    /// symlink).
    want: (Property, &'static str),
    /// When the run's shrink time is up, if it has a limit.
    deadline: Option<Instant>,
    best: (Layout, Vec<Violation>),
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

    /// True when `v` (the violations of candidate `l`) still break the wanted property, on an
    /// entry of the wanted kind.
    fn same_cause(&self, l: &Layout, v: &[Violation]) -> bool {
        v.iter().any(|x| x.property == self.want.0)
            && kinds(Some(l), v, &self.want.0).contains(&self.want.1)
    }

    /// Runs a candidate; `Some(violations)` when it still breaks the wanted property.
    fn fails(&mut self, l: &Layout) -> Option<Vec<Violation>> {
        self.runs += 1;
        match trial(self.packager, l, self.cfg, self.extra, Bisect::No).0 {
            Trial::Fail(v) if !self.stop() && self.same_cause(l, &v) => Some(v),
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

/// Shrinks a failing layout to a minimal one that still breaks `want.0` on an entry of kind
/// `want.1` (see [`kinds`]).
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
/// A candidate is accepted only while it still breaks `want` the same way: a leak stays a leak (the
/// leaking bytes are kept), where accepting any broken property would let it drift into
/// another defect. Phases 2 and 3 work on the layout value itself, so they keep the labels
/// of the case they started from; a label may then name an entry that is gone.
pub(super) fn shrink(
    packager: &dyn Packager,
    tree: Option<&mut dyn ValueTree<Value = Layout>>,
    start: (Layout, Vec<Violation>),
    want: (Property, &'static str),
    deadline: Option<Instant>,
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Shrunk {
    let mut s = Shrinker {
        packager,
        cfg,
        extra,
        want,
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
        violations: s.best.1,
        runs: s.runs,
    }
}
