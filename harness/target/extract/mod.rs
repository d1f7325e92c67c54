//! A target's consumer extracting an archive, modelled on its manifest (nothing touches the
//! disk): the tree the consumer ends up with, and what it refuses.
//!
//! The model applies the members in order onto an in-memory tree, as the consumer does:
//! - every consumer strips leading `/` (GNU tar says "Removing leading `/'"; Python's `data`
//!   filter strips it; the SDK's `repack_model` writes a `/` root member) and one `./`;
//! - a name with a `..` component is refused by GNU tar and SageMaker; Python's filter
//!   resolves it and refuses only what lands outside;
//! - parents that are symlinks already extracted are followed where the consumer follows them
//!   (Python's `realpath`; GNU tar for links it created at once, that is relative ones without
//!   `..`), and a member that would land outside is refused;
//! - a later member at the same path replaces the earlier one (a directory stays a directory);
//! - member types and link targets follow [`super::TargetSpec`]; file modes follow the
//!   consumer (the `data` filter drops group/other write and keeps exec only with the owner's).
//!
//! A refusal is fatal for SageMaker and KServe (the whole download fails) and skips the member
//! for GNU tar ([`super::OnRefusal`]). [`extract`] always carries on past a refusal, so the
//! contract sees every member the consumer would refuse; [`Extraction::fails`] says whether the
//! consumer as a whole fails.

mod apply;
mod place;
mod rules;
mod tree;

use std::collections::BTreeMap;

use crate::archive::{Manifest, Member};

use super::{OnRefusal, Target};
use place::{split, State};
use tree::Refused;

pub use rules::consumer_mode;
pub use tree::{Refusal, RefusalKind, VEntry, VTree};

/// What a consumer makes of an archive.
#[derive(Clone, Debug)]
pub struct Extraction {
    /// The target.
    pub target: Target,
    /// The tree, with every refused member left out.
    pub tree: VTree,
    /// Every refused member, in order.
    pub refusals: Vec<Refusal>,
}

impl Extraction {
    /// True when the consumer fails on this archive (for SageMaker and KServe any refusal
    /// fails the whole deploy; GNU tar extracts the rest and exits non-zero).
    pub fn fails(&self) -> bool {
        !self.refusals.is_empty()
    }

    /// True when a failure leaves nothing usable (the consumer stops at the first refusal).
    pub fn fatal(&self) -> bool {
        self.fails() && self.target.spec().on_refusal == OnRefusal::Fatal
    }
}

/// How `target`'s consumer extracts the archive whose manifest is `m`.
pub fn extract(m: &Manifest, target: Target) -> Extraction {
    let mut st = State {
        target,
        tree: VTree::default(),
        by_name: BTreeMap::new(),
    };
    let mut refusals = Vec::new();
    for (i, x) in m.members.iter().enumerate() {
        if let Err((kind, message)) = extract_member(&mut st, i, x) {
            refusals.push(Refusal {
                member: i,
                name: x.path.clone(),
                member_kind: x.kind.name(),
                kind,
                message,
            });
        }
    }
    Extraction {
        target,
        tree: st.tree,
        refusals,
    }
}

/// Applies member `i` (`x`) to the tree, or says why the consumer refuses it.
fn extract_member(st: &mut State, i: usize, x: &Member) -> Result<(), Refused> {
    let mut name = x.raw_name.as_bytes();
    while let Some(rest) = name.strip_prefix(b"/") {
        name = rest;
    }
    let parts = split(name);
    if parts.is_empty() {
        rules::root_entry(x, st.target)?;
        if x.kind == crate::archive::MemberKind::Dir {
            st.tree.root = Some(x.mode & 0o7777);
        }
        return Ok(());
    }
    rules::dotdot(&parts, st.target)?;
    rules::member_type(x, st.target)?;
    rules::link_target(st, x, &parts)?;
    let Some(at) = rules::landing(st, x, &parts)? else {
        return Ok(());
    };
    st.ensure_parents(&at).map_err(|p| {
        (
            RefusalKind::Conflict,
            format!("Cannot open: `{p}` is not a directory"),
        )
    })?;
    st.apply(i, x, &at)
}

#[cfg(test)]
mod tests;
