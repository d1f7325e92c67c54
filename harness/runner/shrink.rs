//! Shrinking a failing case to a minimal layout that breaks one of the same properties.

use std::collections::BTreeSet;

use proptest::strategy::ValueTree;

use crate::contract::{Property, Violation};
use crate::layout::{Content, Layout};
use crate::outcome::Shrunk;
use crate::packager::Packager;

use super::trial::{trial, Trial};
use super::{ExtraProperty, RunConfig};

fn props(v: &[Violation]) -> BTreeSet<Property> {
    v.iter().map(|x| x.property.clone()).collect()
}

/// The shrinker's state: the smallest failing layout so far and the runs spent.
struct Shrinker<'a> {
    packager: &'a dyn Packager,
    cfg: &'a RunConfig,
    extra: &'a [ExtraProperty],
    want: BTreeSet<Property>,
    best: (Layout, Vec<Violation>),
    runs: u32,
}

impl Shrinker<'_> {
    fn stop(&self) -> bool {
        self.cfg.cancel.is_cancelled()
    }

    fn spent(&self) -> bool {
        self.runs >= self.cfg.max_shrink_runs || self.stop()
    }

    /// Runs a candidate; `Some(violations)` when it still breaks one of the wanted properties.
    fn fails(&mut self, l: &Layout) -> Option<Vec<Violation>> {
        self.runs += 1;
        match trial(self.packager, l, self.cfg, self.extra).0 {
            Trial::Fail(v) if !props(&v).is_disjoint(&self.want) && !self.stop() => Some(v),
            _ => None,
        }
    }

    /// Phase 1: proptest's value-tree walk, for at most half the budget.
    fn walk_tree(&mut self, tree: &mut dyn ValueTree<Value = Layout>) {
        if !tree.simplify() {
            return;
        }
        while self.runs < self.cfg.max_shrink_runs / 2 && !self.stop() {
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
pub(super) fn shrink(
    packager: &dyn Packager,
    tree: &mut dyn ValueTree<Value = Layout>,
    original: &[Violation],
    cfg: &RunConfig,
    extra: &[ExtraProperty],
) -> Shrunk {
    let mut s = Shrinker {
        packager,
        cfg,
        extra,
        want: props(original),
        best: (tree.current(), original.to_vec()),
        runs: 0,
    };
    s.walk_tree(tree);
    s.drop_entries();
    s.empty_contents();
    Shrunk {
        layout: s.best.0,
        violations: s.best.1,
        runs: s.runs,
        saved_to: None,
        saved_replay: None,
    }
}
