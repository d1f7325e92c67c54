//! Resolving member paths in the tree being extracted, following symlinks where the consumer
//! follows them, and the tree operations an extractor performs.

use std::collections::BTreeMap;

use super::tree::{VEntry, VTree};
use crate::layout::RawPath;
use crate::target::Target;

/// Symlinks followed in one resolution before it counts as a loop.
const MAX_HOPS: u32 = 40;

/// A regular file already extracted: its member, hash, size and mode.
pub(super) type FileRef = (usize, Option<[u8; 32]>, u64, u32);

/// The components of a member name, without empty and `.` ones.
pub(super) fn split(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

/// Joins components into a path.
pub(super) fn join(c: &[Vec<u8>]) -> RawPath {
    RawPath::new(c.join(&b'/'))
}

/// Where a path lands in the tree being extracted.
pub(super) enum Place {
    /// At these components (empty: the destination itself).
    At(Vec<Vec<u8>>),
    /// Outside the destination.
    Outside,
    /// Under a symlink the consumer does not follow.
    Through(RawPath),
}

/// The extraction in progress: the tree so far, and the regular files by their normalized
/// member name, for hard links (which name an archive path, not a path relative to the link).
pub(super) struct State {
    /// The consumer.
    pub(super) target: Target,
    /// The tree so far.
    pub(super) tree: VTree,
    /// Regular files already extracted, by member name.
    pub(super) by_name: BTreeMap<Vec<Vec<u8>>, FileRef>,
}

impl State {
    /// Resolves `parts` (already split) from the root, following symlinks in parent
    /// components the way the consumer does; the last component is followed only when
    /// `follow_last`.
    pub(super) fn place(&self, parts: &[Vec<u8>], follow_last: bool, hops: &mut u32) -> Place {
        let mut cur: Vec<Vec<u8>> = Vec::new();
        for (i, c) in parts.iter().enumerate() {
            if c == b".." {
                if cur.pop().is_none() {
                    return Place::Outside;
                }
                continue;
            }
            cur.push(c.clone());
            let last = i + 1 == parts.len();
            if last && !follow_last {
                break;
            }
            let here = join(&cur);
            if let Some(VEntry::Symlink { target }) = self.tree.entries.get(&here) {
                let follows = match self.target {
                    // realpath() follows every link.
                    Target::Kserve => true,
                    // GNU tar creates a link at once only when it is relative and has no
                    // `..`; others are placeholders until the end, so writing under them
                    // fails.
                    _ => {
                        !target.as_bytes().starts_with(b"/")
                            && !split(target.as_bytes()).iter().any(|c| c == b"..")
                    }
                };
                if !follows {
                    return Place::Through(here);
                }
                *hops += 1;
                if *hops > MAX_HOPS {
                    return Place::Outside;
                }
                if target.as_bytes().starts_with(b"/") {
                    return Place::Outside;
                }
                let mut next = cur[..cur.len() - 1].to_vec();
                next.extend(split(target.as_bytes()));
                match self.place(&next, true, hops) {
                    Place::At(r) => cur = r,
                    other => return other,
                }
            }
        }
        Place::At(cur)
    }

    /// Creates the missing parents of `at` as implied directories; the first parent that is
    /// not a directory is the error.
    pub(super) fn ensure_parents(&mut self, at: &[Vec<u8>]) -> Result<(), RawPath> {
        for i in 1..at.len() {
            let p = join(&at[..i]);
            match self.tree.entries.get(&p) {
                Some(VEntry::Dir { .. }) => {}
                None => {
                    self.tree.entries.insert(
                        p,
                        VEntry::Dir {
                            mode: 0o755,
                            explicit: false,
                            stored: None,
                        },
                    );
                }
                Some(_) => return Err(p),
            }
        }
        Ok(())
    }

    /// Removes whatever is at `p` (and below it), as an extractor replacing a path does.
    pub(super) fn clear(&mut self, p: &RawPath) {
        let below: Vec<RawPath> = self
            .tree
            .entries
            .range(p.clone()..)
            .take_while(|(k, _)| k.starts_with(p))
            .filter(|(k, _)| k.starts_with(p))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            self.tree.entries.remove(&k);
        }
    }
}
