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

use std::collections::BTreeMap;

use serde::Serialize;

use crate::archive::{Manifest, MemberKind};
use crate::layout::RawPath;

use super::{LinkRule, OnRefusal, Target};

const MAX_HOPS: u32 = 40;

/// One object the consumer ends up with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VEntry {
    /// A regular file; `member` is the archive member whose data it holds.
    File {
        /// Content hash (`None` for a type the reader does not hash).
        sha256: Option<[u8; 32]>,
        /// Size.
        size: u64,
        /// Mode after the consumer's rules.
        mode: u32,
        /// The member (index in the manifest) that supplies the bytes.
        member: usize,
    },
    /// A directory; `explicit` when a member named it (else only implied by children).
    Dir {
        /// Mode after the consumer's rules.
        mode: u32,
        /// Named by a member.
        explicit: bool,
    },
    /// A symlink.
    Symlink {
        /// Its target as stored.
        target: RawPath,
    },
    /// A FIFO or a device.
    Special {
        /// Which.
        kind: MemberKind,
        /// Mode.
        mode: u32,
        /// The member.
        member: usize,
        /// Device major and minor (devices).
        device: Option<(u32, u32)>,
    },
}

/// The extracted tree, by path relative to the destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VTree {
    /// The entries.
    pub entries: BTreeMap<RawPath, VEntry>,
}

/// Why a consumer refuses a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// A member type the consumer does not take.
    MemberType,
    /// A link whose target is absolute or leaves the destination.
    LinkTarget,
    /// A name that leaves the destination.
    Name,
    /// A member that would be written through a link.
    Through,
    /// A hard link to a member that is not there.
    LinkMissing,
    /// A member that collides with an object of another type.
    Conflict,
}

/// One refused member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Index of the member in the manifest.
    pub member: usize,
    /// Its normalized name.
    pub name: RawPath,
    /// Its type.
    pub member_kind: String,
    /// Why.
    pub kind: RefusalKind,
    /// What the consumer says, in its own terms where known.
    pub message: String,
}

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

/// The mode a consumer gives a member of `kind` whose header says `mode`.
pub fn consumer_mode(target: Target, kind: MemberKind, mode: u32) -> u32 {
    match target {
        // SageMaker hosting's extractor is closed; the SDK's own (local mode, `repack_model`)
        // is Python's `data` filter, so its mode rules stand in for it.
        Target::Kserve | Target::Sagemaker => match kind {
            // PEP 706 `data` filter: strip high bits and group/other write; no exec bits
            // unless the owner has one; the owner can always read and write.
            MemberKind::File | MemberKind::Hardlink => {
                let mut m = mode & 0o755;
                if m & 0o100 == 0 {
                    m &= !0o111;
                }
                m | 0o600
            }
            // Ignored for directories: they get the default mode.
            _ => 0o755,
        },
        _ => mode & 0o7777,
    }
}

fn split(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

fn join(c: &[Vec<u8>]) -> RawPath {
    RawPath::new(c.join(&b'/'))
}

enum Place {
    At(Vec<Vec<u8>>),
    Outside,
    Through(RawPath),
}

struct State {
    target: Target,
    tree: VTree,
}

impl State {
    /// Resolves `parts` (already split) from the root, following symlinks in parent
    /// components the way the consumer does; the last component is followed only when
    /// `follow_last`.
    fn place(&self, parts: &[Vec<u8>], follow_last: bool, hops: &mut u32) -> Place {
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

    fn ensure_parents(&mut self, at: &[Vec<u8>]) -> Result<(), RawPath> {
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
                        },
                    );
                }
                Some(_) => return Err(p),
            }
        }
        Ok(())
    }

    /// Removes whatever is at `p` (and below it), as an extractor replacing a path does.
    fn clear(&mut self, p: &RawPath) {
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

/// A regular file already extracted: its member, hash, size and mode.
type FileRef = (usize, Option<[u8; 32]>, u64, u32);

/// How `target`'s consumer extracts the archive whose manifest is `m`.
pub fn extract(m: &Manifest, target: Target) -> Extraction {
    let spec = target.spec();
    let mut st = State {
        target,
        tree: VTree::default(),
    };
    let mut refusals = Vec::new();
    // Regular files by their normalized member name, for hard links (which name an archive
    // path, not a path relative to the link).
    let mut by_name: BTreeMap<Vec<Vec<u8>>, FileRef> = BTreeMap::new();
    for (i, x) in m.members.iter().enumerate() {
        let raw = x.raw_name.as_bytes();
        let mut name = raw;
        while let Some(rest) = name.strip_prefix(b"/") {
            name = rest;
        }
        let parts = split(name);
        let mut refuse = |kind: RefusalKind, message: String| {
            refusals.push(Refusal {
                member: i,
                name: x.path.clone(),
                member_kind: x.kind.name(),
                kind,
                message,
            });
        };
        if parts.is_empty() {
            // The root entry (`/`, `./`, `.`, ``) names the destination itself: fine as a
            // directory; anything else cannot be created there (GNU tar: "Cannot open: File
            // exists"; Python: IsADirectoryError).
            if x.kind != MemberKind::Dir && target != Target::Sagemaker
                || !matches!(
                    x.kind,
                    MemberKind::Dir | MemberKind::Symlink | MemberKind::Hardlink
                )
            {
                refuse(
                    RefusalKind::Conflict,
                    format!("a {} member names the destination itself", x.kind.name()),
                );
            }
            continue;
        }
        let has_dotdot = parts.iter().any(|c| c == b"..");
        if has_dotdot && target != Target::Kserve {
            refuse(
                RefusalKind::Name,
                match target {
                    Target::Posix => "Member name contains '..'".into(),
                    _ => "a member name with `..` would land outside /opt/ml/model".into(),
                },
            );
            continue;
        }
        // Member types the consumer does not take.
        let type_refusal = match x.kind {
            MemberKind::Symlink | MemberKind::Hardlink => {
                let rule = if x.kind == MemberKind::Symlink {
                    spec.symlinks
                } else {
                    spec.hardlinks
                };
                (rule == LinkRule::Refuse).then(|| {
                    format!(
                        "a {} member: SageMaker hosting cannot extract links (\"Failed to extract model data archive\")",
                        x.kind.name()
                    )
                })
            }
            MemberKind::Fifo | MemberKind::CharDevice | MemberKind::BlockDevice => (!spec.specials)
                .then(|| match target {
                    Target::Kserve => format!("SpecialFileError: {} is a special file", x.path),
                    _ => format!("a {} member cannot be extracted by {target}", x.kind.name()),
                }),
            MemberKind::Other(t) if target == Target::Sagemaker => {
                Some(format!("a member of unknown type `{}`", t.escape_ascii()))
            }
            _ => None,
        };
        if let Some(msg) = type_refusal {
            refuse(RefusalKind::MemberType, msg);
            continue;
        }
        // Link targets the consumer refuses.
        if let Some(t) = &x.link_target {
            let t = t.as_bytes();
            if spec.symlinks == LinkRule::KeepInside
                && matches!(x.kind, MemberKind::Symlink | MemberKind::Hardlink)
            {
                if t.starts_with(b"/") {
                    refuse(
                        RefusalKind::LinkTarget,
                        format!(
                            "AbsoluteLinkError: {} is a link to an absolute path",
                            x.path
                        ),
                    );
                    continue;
                }
                let mut hops = 0;
                let from: Vec<Vec<u8>> = if x.kind == MemberKind::Symlink {
                    let mut p = parts.clone();
                    p.pop();
                    p.extend(split(t));
                    p
                } else {
                    split(t)
                };
                if matches!(st.place(&from, true, &mut hops), Place::Outside) {
                    refuse(
                        RefusalKind::LinkTarget,
                        format!(
                            "LinkOutsideDestinationError: {} would link to a path outside the destination",
                            x.path
                        ),
                    );
                    continue;
                }
            }
        }
        // Where it lands.
        let mut hops = 0;
        let follow_last = target == Target::Kserve && x.kind == MemberKind::File;
        let at = match st.place(&parts, follow_last, &mut hops) {
            Place::At(at) if !at.is_empty() => at,
            Place::At(_) => continue,
            Place::Outside => {
                refuse(
                    RefusalKind::Name,
                    match target {
                        Target::Kserve => format!(
                            "OutsideDestinationError: {} would be extracted to a path outside the destination",
                            x.path
                        ),
                        _ => format!("`{}` would land outside the destination", x.path),
                    },
                );
                continue;
            }
            Place::Through(link) => {
                refuse(
                    RefusalKind::Through,
                    format!("Cannot open: `{link}` is a symlink the extractor does not follow"),
                );
                continue;
            }
        };
        if let Err(p) = st.ensure_parents(&at) {
            refuse(
                RefusalKind::Conflict,
                format!("Cannot open: `{p}` is not a directory"),
            );
            continue;
        }
        let path = join(&at);
        let existing = st.tree.entries.get(&path).cloned();
        let mode = consumer_mode(target, x.kind, x.mode);
        match x.kind {
            MemberKind::Dir => match existing {
                Some(VEntry::Dir { .. }) | None => {
                    st.tree.entries.insert(
                        path,
                        VEntry::Dir {
                            mode,
                            explicit: true,
                        },
                    );
                }
                Some(_) => {
                    if target != Target::Posix {
                        // os.mkdir raises FileExistsError, which tarfile ignores (KServe, and the
                        // SDK's extractor that stands in for SageMaker hosting).
                        continue;
                    }
                    st.clear(&path);
                    st.tree.entries.insert(
                        path,
                        VEntry::Dir {
                            mode,
                            explicit: true,
                        },
                    );
                }
            },
            MemberKind::File | MemberKind::Other(_) => {
                if matches!(existing, Some(VEntry::Dir { .. })) {
                    refuse(
                        RefusalKind::Conflict,
                        format!("Cannot open: `{path}` is a directory"),
                    );
                    continue;
                }
                st.tree.entries.insert(
                    path,
                    VEntry::File {
                        sha256: x.sha256,
                        size: x.size,
                        mode,
                        member: i,
                    },
                );
                by_name.insert(at.clone(), (i, x.sha256, x.size, mode));
            }
            MemberKind::Hardlink => {
                let t = x
                    .link_target
                    .as_ref()
                    .map(|t| {
                        let mut b = t.as_bytes();
                        while let Some(r) = b.strip_prefix(b"/") {
                            b = r;
                        }
                        split(b)
                    })
                    .unwrap_or_default();
                let mut h = 0;
                let resolved = match st.place(&t, true, &mut h) {
                    Place::At(r) => r,
                    _ => t.clone(),
                };
                let src = by_name.get(&t).or_else(|| by_name.get(&resolved)).copied();
                let live = match st.tree.entries.get(&join(&resolved)) {
                    Some(VEntry::File {
                        sha256,
                        size,
                        member,
                        ..
                    }) => Some((*member, *sha256, *size)),
                    _ => None,
                };
                let Some((member, sha256, size)) = live.or(src.map(|(m, s, z, _)| (m, s, z)))
                else {
                    refuse(
                        RefusalKind::LinkMissing,
                        match target {
                            Target::Kserve => format!(
                                "KeyError: linkname {} not found",
                                x.link_target.clone().unwrap_or_default()
                            ),
                            _ => format!(
                                "Cannot hard link to `{}`: No such file or directory",
                                x.link_target.clone().unwrap_or_default()
                            ),
                        },
                    );
                    continue;
                };
                if matches!(existing, Some(VEntry::Dir { .. })) {
                    refuse(
                        RefusalKind::Conflict,
                        format!("Cannot hard link: `{path}` is a directory"),
                    );
                    continue;
                }
                // A hard link shares its target's inode, so its mode is the target's.
                let mode = match st.tree.entries.get(&join(&resolved)) {
                    Some(VEntry::File { mode, .. }) => *mode,
                    _ => mode,
                };
                st.tree.entries.insert(
                    path,
                    VEntry::File {
                        sha256,
                        size,
                        mode,
                        member,
                    },
                );
                by_name.insert(at.clone(), (member, sha256, size, mode));
            }
            MemberKind::Symlink
                if x.link_target
                    .as_ref()
                    .is_none_or(|t| t.as_bytes().is_empty()) =>
            {
                // An empty target cannot be created: Python's tarfile skips the member without
                // a word; GNU tar fails on it.
                if target != Target::Kserve {
                    refuse(
                        RefusalKind::LinkTarget,
                        "Cannot create symlink: the target is empty".into(),
                    );
                }
            }
            MemberKind::Symlink => {
                if matches!(existing, Some(VEntry::Dir { .. })) {
                    refuse(
                        RefusalKind::Conflict,
                        format!("Cannot create symlink: `{path}` is a directory"),
                    );
                    continue;
                }
                st.tree.entries.insert(
                    path,
                    VEntry::Symlink {
                        target: x.link_target.clone().unwrap_or_default(),
                    },
                );
            }
            MemberKind::Fifo | MemberKind::CharDevice | MemberKind::BlockDevice => {
                if matches!(existing, Some(VEntry::Dir { .. })) {
                    refuse(
                        RefusalKind::Conflict,
                        format!("Cannot mknod: `{path}` is a directory"),
                    );
                    continue;
                }
                st.tree.entries.insert(
                    path,
                    VEntry::Special {
                        kind: x.kind,
                        mode,
                        member: i,
                        device: x.device,
                    },
                );
            }
        }
    }
    Extraction {
        target,
        tree: st.tree,
        refusals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{Compression, HeaderForm, Member};

    fn member(name: &str, kind: MemberKind, link: Option<&str>) -> Member {
        Member {
            path: crate::archive::normalize_name(name.as_bytes()),
            raw_name: RawPath::from(name),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            size: if kind == MemberKind::File { 1 } else { 0 },
            sha256: (kind == MemberKind::File).then_some([name.len() as u8; 32]),
            link_target: link.map(RawPath::from),
            device: None,
            form: HeaderForm::Gnu,
            offset: 0,
        }
    }

    fn manifest(members: Vec<Member>) -> Manifest {
        Manifest {
            compression: Compression::Gzip,
            gzip_header: None,
            gzip_members: 1,
            members,
            tar_size: 0,
        }
    }

    use MemberKind::{Dir, File, Hardlink, Symlink};

    #[test]
    fn sagemaker_refuses_every_link_posix_keeps_them() {
        let m = manifest(vec![
            member("./", Dir, None),
            member("./a", File, None),
            member("./l", Symlink, Some("a")),
            member("./h", Hardlink, Some("./a")),
        ]);
        let s = extract(&m, Target::Sagemaker);
        assert_eq!(s.refusals.len(), 2);
        assert!(s.fatal());
        let p = extract(&m, Target::Posix);
        assert!(p.refusals.is_empty());
        assert!(matches!(
            p.tree.entries[&RawPath::from("h")],
            VEntry::File { member: 1, .. }
        ));
        assert!(matches!(
            p.tree.entries[&RawPath::from("l")],
            VEntry::Symlink { .. }
        ));
    }

    #[test]
    fn kserve_refuses_absolute_and_escaping_links_and_names() {
        let m = manifest(vec![
            member("ok", Symlink, Some("a")),
            member("abs", Symlink, Some("/etc/passwd")),
            member("d/out", Symlink, Some("../../x")),
            member("../evil", File, None),
            member("/rooted", File, None),
        ]);
        let k = extract(&m, Target::Kserve);
        let kinds: Vec<RefusalKind> = k.refusals.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RefusalKind::LinkTarget,
                RefusalKind::LinkTarget,
                RefusalKind::Name
            ]
        );
        assert!(k.tree.entries.contains_key(&RawPath::from("rooted")));
        assert!(k.tree.entries.contains_key(&RawPath::from("ok")));
    }

    #[test]
    fn writes_through_links_follow_the_consumer() {
        let m = manifest(vec![
            member("d", Dir, None),
            member("l", Symlink, Some("d")),
            member("l/x", File, None),
            member("u", Symlink, Some("../up")),
            member("u/y", File, None),
        ]);
        let p = extract(&m, Target::Posix);
        assert!(p.tree.entries.contains_key(&RawPath::from("d/x")));
        assert_eq!(p.refusals.len(), 1);
        assert_eq!(p.refusals[0].kind, RefusalKind::Through);
    }

    #[test]
    fn kserve_drops_exec_bits_without_the_owners() {
        assert_eq!(consumer_mode(Target::Kserve, File, 0o011), 0o600);
        assert_eq!(consumer_mode(Target::Kserve, File, 0o777), 0o755);
        assert_eq!(consumer_mode(Target::Posix, File, 0o4755), 0o4755);
        assert_eq!(consumer_mode(Target::Sagemaker, File, 0o4755), 0o755);
    }
}
