//! What a target's consumer must end up with: the contract's expected tree, derived from
//! the model dir walked with lstat.
//!
//! | model dir holds | `posix` | `sagemaker` | `kserve` |
//! |---|---|---|---|
//! | file, dir | the same | the same | the same |
//! | symlink inside | the symlink | the target's content (file or dir); a loop fails loudly | the symlink if relative; absolute: a copy or a loud failure |
//! | symlink out, dangling, loop | the symlink | a loud failure | a loud failure |
//! | FIFO, device | that type, or a loud failure | a loud failure | a loud failure |
//! | socket | may be left out | may be left out | may be left out |
//!
//! Links are resolved in a [`World`]: the tree the model dir lives in, as scanned (never the
//! live filesystem, so the oracle stays independent of the packager it judges). In the runner
//! the world is the whole job sandbox, so `../model/x` from the model dir resolves as the
//! kernel would; for `check` on a bare dir it is the model dir alone. Resolution follows
//! symlinks component by component, as `realpath` does, with at most 40 hops.

use std::collections::BTreeMap;

use crate::archive::{DiskEntry, DiskKind, DiskTree};
use crate::layout::RawPath;

use super::{SymlinkExpect, Target};

/// At most this many expected entries come from dereferencing links (a tree of links that
/// multiply each other could otherwise describe a tree larger than any disk).
pub const MAX_EXPANDED: usize = 200_000;

/// Linux's limit on symlinks followed in one resolution (`ELOOP`).
const MAX_HOPS: u32 = 40;

/// What the consumer must find at one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    /// A regular file with these bytes and this mode (exec bits compared).
    File {
        /// Content hash.
        sha256: Option<[u8; 32]>,
        /// Size.
        size: u64,
        /// Permission bits on disk.
        mode: u32,
        /// The model-dir link this content was copied through, if any.
        via: Option<RawPath>,
    },
    /// A directory.
    Dir {
        /// Permission bits on disk.
        mode: u32,
    },
    /// A symlink with this target.
    Symlink {
        /// The raw target.
        target: RawPath,
    },
    /// A FIFO or device stored as its type.
    Special {
        /// Which.
        kind: DiskKind,
    },
    /// Nothing the consumer can get: the packager must fail loudly.
    Refuse {
        /// What is on disk at this path.
        kind: DiskKind,
        /// Why, and what a packager should do.
        reason: String,
    },
}

impl Want {
    /// The regular file `e` on disk, copied through the link `via` if any.
    fn file(e: &DiskEntry, via: Option<RawPath>) -> Want {
        Want::File {
            sha256: e.sha256,
            size: e.size,
            mode: e.mode,
            via,
        }
    }
}

/// The expected tree of one target.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The target.
    pub target: Target,
    /// Model-dir-relative path → what the consumer must find there.
    pub tree: BTreeMap<RawPath, Want>,
    /// Paths a packager may refuse (fail loudly on) without breaking the contract, and why.
    pub may_refuse: Vec<(RawPath, String)>,
    /// The model dir's own mode, when known: a root entry (`./`) gives its mode to the
    /// consumer's destination, so it must keep the search bits this one has.
    pub root_mode: Option<u32>,
}

impl Expected {
    /// The paths the packager must refuse, and why.
    pub fn must_refuse(&self) -> impl Iterator<Item = (&RawPath, &str)> {
        self.tree.iter().filter_map(|(p, w)| match w {
            Want::Refuse { reason, .. } => Some((p, reason.as_str())),
            _ => None,
        })
    }

    /// True when a loud failure is an acceptable answer to this model dir.
    pub fn refusable(&self) -> bool {
        self.must_refuse().next().is_some() || !self.may_refuse.is_empty()
    }

    /// One line per path the packager must or may refuse (for messages).
    pub fn refusal_reasons(&self) -> Vec<String> {
        self.must_refuse()
            .map(|(p, r)| format!("`{p}`: {r}"))
            .chain(self.may_refuse.iter().map(|(p, r)| format!("`{p}`: {r}")))
            .collect()
    }
}

/// The tree a model dir lives in, for resolving its links.
#[derive(Clone, Copy, Debug)]
pub struct World<'a> {
    /// Every object, by path relative to the world's root.
    pub entries: &'a BTreeMap<RawPath, DiskEntry>,
    /// The model dir, relative to the world's root (empty: the world is the model dir).
    pub model: &'a RawPath,
    /// The world root's absolute path on disk, for absolute link targets.
    pub abs_root: Option<&'a [u8]>,
}

/// Where a link leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// To this world path (which exists).
    At(RawPath),
    /// Out of the world, or out of the allowed floor.
    Outside,
    /// To nothing.
    Dangling,
    /// Round in circles (more than 40 hops).
    Loop,
}

fn join(comps: &[Vec<u8>]) -> RawPath {
    RawPath::new(comps.join(&b'/'))
}

fn comps(p: &RawPath) -> Vec<Vec<u8>> {
    if p.as_bytes().is_empty() {
        return Vec::new();
    }
    p.components().map(<[u8]>::to_vec).collect()
}

impl<'a> World<'a> {
    /// A world that is the model dir alone (for `check --model-dir` and `pack`).
    pub fn model_only(tree: &'a DiskTree, abs_root: Option<&'a [u8]>) -> World<'a> {
        static EMPTY: std::sync::OnceLock<RawPath> = std::sync::OnceLock::new();
        World {
            entries: &tree.entries,
            model: EMPTY.get_or_init(RawPath::default),
            abs_root,
        }
    }

    fn kind(&self, p: &RawPath) -> Option<DiskKind> {
        if p.as_bytes().is_empty() {
            return Some(DiskKind::Dir);
        }
        self.entries.get(p).map(|e| e.kind)
    }

    /// Resolves the symlink at world path `link` (whose raw target is `target`), never
    /// climbing above `floor` components.
    pub fn resolve(&self, link: &RawPath, target: &[u8], floor: usize) -> Resolved {
        let mut hops = 0;
        self.resolve_from(link, target, floor, &mut hops)
    }

    fn resolve_from(
        &self,
        link: &RawPath,
        target: &[u8],
        floor: usize,
        hops: &mut u32,
    ) -> Resolved {
        *hops += 1;
        if *hops > MAX_HOPS {
            return Resolved::Loop;
        }
        let (mut cur, rest): (Vec<Vec<u8>>, &[u8]) = if target.starts_with(b"/") {
            match self.abs_root {
                Some(root)
                    if target.starts_with(root)
                        && (target.len() == root.len() || target[root.len()] == b'/') =>
                {
                    (Vec::new(), &target[root.len()..])
                }
                _ => return Resolved::Outside,
            }
        } else {
            let mut c = comps(link);
            c.pop();
            (c, target)
        };
        if cur.len() < floor {
            return Resolved::Outside;
        }
        let parts: Vec<&[u8]> = rest
            .split(|b| *b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .collect();
        for (i, c) in parts.iter().enumerate() {
            if *c == b".." {
                if cur.len() <= floor {
                    return Resolved::Outside;
                }
                cur.pop();
                continue;
            }
            cur.push(c.to_vec());
            let p = join(&cur);
            match self.entries.get(&p) {
                None => return Resolved::Dangling,
                Some(e) if e.kind == DiskKind::Symlink => {
                    let t = e.target.clone().unwrap_or_default();
                    match self.resolve_from(&p, t.as_bytes(), floor, hops) {
                        Resolved::At(r) => cur = comps(&r),
                        other => return other,
                    }
                }
                Some(e) if e.kind != DiskKind::Dir && i + 1 < parts.len() => {
                    return Resolved::Dangling
                }
                Some(_) => {}
            }
        }
        Resolved::At(join(&cur))
    }

    fn model_rel(&self, p: &RawPath) -> Option<RawPath> {
        let m = self.model.as_bytes();
        let b = p.as_bytes();
        if m.is_empty() {
            return Some(p.clone());
        }
        if b == m {
            return Some(RawPath::default());
        }
        (b.len() > m.len() && b.starts_with(m) && b[m.len()] == b'/')
            .then(|| RawPath::new(b[m.len() + 1..].to_vec()))
    }

    fn children(&self, dir: &RawPath) -> Vec<(RawPath, &'a DiskEntry)> {
        let depth = comps(dir).len();
        let prefix: Vec<u8> = if dir.as_bytes().is_empty() {
            Vec::new()
        } else {
            let mut v = dir.as_bytes().to_vec();
            v.push(b'/');
            v
        };
        self.entries
            .range(RawPath::new(prefix.clone())..)
            .take_while(|(k, _)| k.as_bytes().starts_with(&prefix))
            .filter(|(k, _)| !k.as_bytes().is_empty() && k.components().count() == depth + 1)
            .map(|(k, e)| (k.clone(), e))
            .collect()
    }
}

fn kind_name(kind: DiskKind) -> &'static str {
    match kind {
        DiskKind::File => "regular file",
        DiskKind::Dir => "directory",
        DiskKind::Symlink => "symlink",
        DiskKind::Fifo => "FIFO",
        DiskKind::Socket => "socket",
        DiskKind::CharDevice => "character device",
        DiskKind::BlockDevice => "block device",
    }
}

struct Builder<'w, 'a> {
    world: &'w World<'a>,
    target: Target,
    tree: BTreeMap<RawPath, Want>,
    may_refuse: Vec<(RawPath, String)>,
    expanded: usize,
}

impl Builder<'_, '_> {
    fn refuse(&mut self, at: RawPath, kind: DiskKind, reason: String) {
        self.tree.insert(at, Want::Refuse { kind, reason });
    }

    /// A plain object at virtual path `at`, which is world path `real`.
    fn object(&mut self, at: RawPath, real: &RawPath, e: &DiskEntry, stack: &mut Vec<RawPath>) {
        let spec = self.target.spec();
        match e.kind {
            DiskKind::File => {
                self.tree.insert(at, Want::file(e, None));
            }
            DiskKind::Dir => {
                self.tree.insert(at.clone(), Want::Dir { mode: e.mode });
                // Only copies of linked dirs recurse here; the model dir's own entries are
                // each visited by the top-level loop.
                if !stack.is_empty() {
                    stack.push(real.clone());
                    for (child, ce) in self.world.children(real) {
                        if self.expanded >= MAX_EXPANDED {
                            break;
                        }
                        self.expanded += 1;
                        let v = at.join(child.file_name());
                        self.object(v, &child, ce, stack);
                    }
                    stack.pop();
                }
            }
            DiskKind::Symlink => self.symlink(at, real, e, stack),
            DiskKind::Socket => self.may_refuse.push((
                at,
                "a socket, which no archive can hold: leaving it out or failing are both fine"
                    .into(),
            )),
            k if spec.special_expect_stored => {
                self.tree.insert(at.clone(), Want::Special { kind: k });
                self.may_refuse.push((
                    at,
                    format!(
                        "a {}: storing it as its type or failing are both fine",
                        kind_name(k)
                    ),
                ));
            }
            k => self.refuse(
                at,
                k,
                format!(
                    "a {} cannot be extracted by {}; a packager must fail loudly",
                    kind_name(k),
                    self.target
                ),
            ),
        }
    }

    fn symlink(&mut self, at: RawPath, real: &RawPath, e: &DiskEntry, stack: &mut [RawPath]) {
        let target = e.target.clone().unwrap_or_default();
        let model_floor = comps(self.world.model).len();
        match self.target.spec().symlink_expect {
            SymlinkExpect::Link => {
                self.tree.insert(at, Want::Symlink { target });
            }
            SymlinkExpect::Copy => {
                let r = self.world.resolve(real, target.as_bytes(), 0);
                self.copy(at, &target, r, stack);
            }
            SymlinkExpect::LinkIfRelative => {
                // Python's data filter resolves from the destination dir and refuses what
                // leaves it, so the floor is the model dir itself.
                let r = self.world.resolve(real, target.as_bytes(), model_floor);
                if target.as_bytes().starts_with(b"/") {
                    let copyable = matches!(&r, Resolved::At(_));
                    self.copy(at.clone(), &target, r, stack);
                    if copyable && !matches!(self.tree.get(&at), Some(Want::Refuse { .. })) {
                        self.may_refuse.push((
                            at,
                            format!("an absolute link (`{target}`): copying its content or failing are both fine"),
                        ));
                    }
                } else {
                    match r {
                        Resolved::At(_) => {
                            self.tree.insert(at, Want::Symlink { target });
                        }
                        other => self.copy(at, &target, other, stack),
                    }
                }
            }
        }
    }

    /// Dereferences a link at `at` that resolved to `r`, or records the loud failure owed.
    fn copy(&mut self, at: RawPath, target: &RawPath, r: Resolved, stack: &mut [RawPath]) {
        let consumer = self.target;
        let fail = |what: &str| {
            format!("a symlink {what} (`{target}`): {consumer} cannot take a link and a copy would be wrong; a packager must fail loudly")
        };
        let real = match r {
            Resolved::Outside => {
                return self.refuse(at, DiskKind::Symlink, fail("that leaves the model dir"))
            }
            Resolved::Dangling => return self.refuse(at, DiskKind::Symlink, fail("that dangles")),
            Resolved::Loop => return self.refuse(at, DiskKind::Symlink, fail("in a loop")),
            Resolved::At(p) => p,
        };
        if self.world.model_rel(&real).is_none() {
            return self.refuse(at, DiskKind::Symlink, fail("that leaves the model dir"));
        }
        let Some(kind) = self.world.kind(&real) else {
            return self.refuse(at, DiskKind::Symlink, fail("that dangles"));
        };
        if kind == DiskKind::Dir {
            // The virtual path's real ancestors: the link's own parents, and the dirs copied
            // so far. A link to any of them is a directory cycle.
            let mut ancestors: Vec<RawPath> = stack.to_vec();
            if stack.is_empty() {
                let mut c = comps(&self.world.model.join(at.as_bytes()));
                c.pop();
                while !c.is_empty() {
                    ancestors.push(join(&c));
                    c.pop();
                }
                ancestors.push(RawPath::default());
            }
            if ancestors.iter().any(|a| {
                a == &real
                    || real.as_bytes().is_empty()
                    || a.as_bytes().starts_with(real.as_bytes())
                        && a.as_bytes().get(real.as_bytes().len()) == Some(&b'/')
            }) {
                return self.refuse(
                    at,
                    DiskKind::Symlink,
                    fail("to one of its own parent dirs (a directory cycle)"),
                );
            }
            if self.expanded >= MAX_EXPANDED {
                return self.refuse(
                    at,
                    DiskKind::Symlink,
                    format!("links that expand to more than {MAX_EXPANDED} entries"),
                );
            }
            let mut inner = if stack.is_empty() {
                ancestors
            } else {
                stack.to_vec()
            };
            inner.push(real.clone());
            let e = DiskEntry {
                kind: DiskKind::Dir,
                mode: self.world.entries.get(&real).map_or(0o755, |e| e.mode),
                size: 0,
                sha256: None,
                target: None,
            };
            self.object(at, &real, &e, &mut inner);
            return;
        }
        let Some(e) = self.world.entries.get(&real) else {
            return self.refuse(at, DiskKind::Symlink, fail("that dangles"));
        };
        match e.kind {
            DiskKind::File => {
                self.tree.insert(at, Want::file(e, Some(target.clone())));
            }
            DiskKind::Socket => self.may_refuse.push((
                at,
                "a symlink to a socket, which no archive can hold".into(),
            )),
            k if k.is_special() => self.refuse(
                at,
                DiskKind::Symlink,
                format!(
                    "a symlink to a {} (`{target}`): it must not be read, and {consumer} cannot take it; a packager must fail loudly",
                    kind_name(k)
                ),
            ),
            _ => self.refuse(at, DiskKind::Symlink, fail("that cannot be resolved")),
        }
    }
}

/// The expected tree of `target` for the model dir inside `world`.
pub fn expected(world: &World<'_>, target: Target) -> Expected {
    let mut b = Builder {
        world,
        target,
        tree: BTreeMap::new(),
        may_refuse: Vec::new(),
        expanded: 0,
    };
    for (real, e) in world.entries {
        match world.model_rel(real) {
            Some(rel) if !rel.as_bytes().is_empty() => b.object(rel, real, e, &mut Vec::new()),
            _ => {}
        }
    }
    let mut may_refuse = b.may_refuse;
    may_refuse.sort();
    may_refuse.dedup();
    let root_mode = match world.entries.get(world.model) {
        Some(e) if e.kind == DiskKind::Dir => Some(e.mode),
        _ => None,
    };
    Expected {
        target,
        tree: b.tree,
        may_refuse,
        root_mode,
    }
}

#[cfg(test)]
mod tests;
