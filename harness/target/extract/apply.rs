//! Writing one placed member into the tree, by type, as the consumer does: a later member at
//! the same path replaces the earlier one (a directory stays a directory), hard links copy
//! their target's data and mode, and a member that collides with a directory is refused.

use super::place::{join, split, State};
use super::rules::consumer_mode;
use super::tree::{RefusalKind, Refused, VEntry};
use crate::archive::{Member, MemberKind};
use crate::layout::RawPath;
use crate::target::Target;

impl State {
    /// Writes member `i` (`x`) at `at`, whose parents exist.
    pub(super) fn apply(&mut self, i: usize, x: &Member, at: &[Vec<u8>]) -> Result<(), Refused> {
        let path = join(at);
        let existing = self.tree.entries.get(&path).cloned();
        let mode = consumer_mode(self.target, x.kind, x.mode);
        let on_dir = matches!(existing, Some(VEntry::Dir { .. }));
        match x.kind {
            MemberKind::Dir => {
                self.put_dir(path, existing.is_none() || on_dir, mode, x.mode & 0o7777);
                Ok(())
            }
            MemberKind::File | MemberKind::Other(_) => {
                if on_dir {
                    return Err((
                        RefusalKind::Conflict,
                        format!("Cannot open: `{path}` is a directory"),
                    ));
                }
                self.tree.entries.insert(
                    path,
                    VEntry::File {
                        sha256: x.sha256,
                        size: x.size,
                        mode,
                        member: i,
                    },
                );
                self.by_name
                    .insert(at.to_vec(), (i, x.sha256, x.size, mode));
                Ok(())
            }
            MemberKind::Hardlink => self.put_hardlink(x, at, path, on_dir, mode),
            MemberKind::Symlink => self.put_symlink(x, path, on_dir),
            MemberKind::Fifo | MemberKind::CharDevice | MemberKind::BlockDevice => {
                if on_dir {
                    return Err((
                        RefusalKind::Conflict,
                        format!("Cannot mknod: `{path}` is a directory"),
                    ));
                }
                self.tree.entries.insert(
                    path,
                    VEntry::Special {
                        kind: x.kind,
                        mode,
                        member: i,
                        device: x.device,
                    },
                );
                Ok(())
            }
        }
    }

    /// A directory member: onto nothing or a directory it just sets the mode; onto another
    /// type GNU tar replaces it, while Python's `os.mkdir` raises `FileExistsError`, which
    /// tarfile ignores (KServe, and the SDK's extractor that stands in for SageMaker hosting).
    fn put_dir(&mut self, path: RawPath, free: bool, mode: u32, stored: u32) {
        if !free {
            if self.target != Target::Posix {
                return;
            }
            self.clear(&path);
        }
        self.tree.entries.insert(
            path,
            VEntry::Dir {
                mode,
                explicit: true,
                stored: Some(stored),
            },
        );
    }

    /// A hard link: the data (and, sharing the inode, the mode) of the member it names, found
    /// by name or by resolving the name in the tree.
    fn put_hardlink(
        &mut self,
        x: &Member,
        at: &[Vec<u8>],
        path: RawPath,
        on_dir: bool,
        mode: u32,
    ) -> Result<(), Refused> {
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
        let resolved = match self.place(&t, true, &mut h) {
            super::place::Place::At(r) => r,
            _ => t.clone(),
        };
        let src = self
            .by_name
            .get(&t)
            .or_else(|| self.by_name.get(&resolved))
            .copied();
        let live = match self.tree.entries.get(&join(&resolved)) {
            Some(VEntry::File {
                sha256,
                size,
                member,
                ..
            }) => Some((*member, *sha256, *size)),
            _ => None,
        };
        let Some((member, sha256, size)) = live.or(src.map(|(m, s, z, _)| (m, s, z))) else {
            let target = x.link_target.clone().unwrap_or_default();
            return Err((
                RefusalKind::LinkMissing,
                match self.target {
                    Target::Kserve => format!("KeyError: linkname {target} not found"),
                    _ => format!("Cannot hard link to `{target}`: No such file or directory"),
                },
            ));
        };
        if on_dir {
            return Err((
                RefusalKind::Conflict,
                format!("Cannot hard link: `{path}` is a directory"),
            ));
        }
        // A hard link shares its target's inode, so its mode is the target's.
        let mode = match self.tree.entries.get(&join(&resolved)) {
            Some(VEntry::File { mode, .. }) => *mode,
            _ => mode,
        };
        self.tree.entries.insert(
            path,
            VEntry::File {
                sha256,
                size,
                mode,
                member,
            },
        );
        self.by_name
            .insert(at.to_vec(), (member, sha256, size, mode));
        Ok(())
    }

    /// A symlink. An empty target cannot be created: Python's tarfile skips the member without
    /// a word; GNU tar fails on it.
    fn put_symlink(&mut self, x: &Member, path: RawPath, on_dir: bool) -> Result<(), Refused> {
        if x.link_target
            .as_ref()
            .is_none_or(|t| t.as_bytes().is_empty())
        {
            if self.target != Target::Kserve {
                return Err((
                    RefusalKind::LinkTarget,
                    "Cannot create symlink: the target is empty".into(),
                ));
            }
            return Ok(());
        }
        if on_dir {
            return Err((
                RefusalKind::Conflict,
                format!("Cannot create symlink: `{path}` is a directory"),
            ));
        }
        self.tree.entries.insert(
            path,
            VEntry::Symlink {
                target: x.link_target.clone().unwrap_or_default(),
            },
        );
        Ok(())
    }
}
