//! Member names and types that are unsafe to extract ([`NameProblem`]): one small check per
//! rule, run over the members in order.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::member::{normalize_name, Member, MemberKind};
use crate::layout::RawPath;

/// The kind of a [`NameProblem`]; its stable kebab-case id is shown in reports and JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameClass {
    /// `absolute`: a name starting with `/`.
    Absolute,
    /// `parent-dir`: a `..` component.
    ParentDir,
    /// `windows-drive`: a name like `C:…`.
    WindowsDrive,
    /// `backslash`: a `\` in the name.
    Backslash,
    /// `link-escape`: a link whose target leaves the archive root.
    LinkEscape,
    /// `through-symlink`: a member below an earlier symlink member.
    ThroughSymlink,
    /// `duplicate`: a path stored twice.
    Duplicate,
    /// `device`: a character or block device.
    Device,
    /// `setuid`: the setuid mode bit.
    Setuid,
    /// `setgid`: the setgid mode bit.
    Setgid,
}

impl NameClass {
    /// The stable kebab-case id.
    pub const fn id(self) -> &'static str {
        match self {
            NameClass::Absolute => "absolute",
            NameClass::ParentDir => "parent-dir",
            NameClass::WindowsDrive => "windows-drive",
            NameClass::Backslash => "backslash",
            NameClass::LinkEscape => "link-escape",
            NameClass::ThroughSymlink => "through-symlink",
            NameClass::Duplicate => "duplicate",
            NameClass::Device => "device",
            NameClass::Setuid => "setuid",
            NameClass::Setgid => "setgid",
        }
    }
}

impl std::fmt::Display for NameClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for NameClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A member name that is unsafe to extract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameProblem {
    /// Index into `members`.
    pub index: usize,
    /// The name as stored.
    pub name: RawPath,
    /// What kind of problem it is.
    pub class: NameClass,
    /// A human explanation.
    pub reason: String,
}

/// One rule's finding for one member: its class and the explanation.
type Found = (NameClass, String);

/// The problems of `members`, in member order; within a member, in the order of the rules
/// (see [`super::Manifest::name_problems`]).
pub(crate) fn name_problems(members: &[Member]) -> Vec<NameProblem> {
    let mut out = Vec::new();
    let mut symlinks: HashSet<&[u8]> = HashSet::new();
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    for (index, m) in members.iter().enumerate() {
        let raw = m.raw_name.as_bytes();
        let mut found: Vec<Found> = Vec::new();
        found.extend(leaves_target(raw));
        found.extend(windows_drive(raw));
        found.extend(backslash(raw));
        found.extend(link_escape(m));
        found.extend(through_symlink(m.path.as_bytes(), &symlinks));
        found.extend(duplicate(m, index, &mut seen));
        track_symlink(m, &mut symlinks);
        found.extend(device(m));
        found.extend(set_id_bits(m));
        out.extend(found.into_iter().map(|(class, reason)| NameProblem {
            index,
            name: m.raw_name.clone(),
            class,
            reason,
        }));
    }
    out
}

/// `absolute` or `parent-dir`: a name that leaves the target dir.
fn leaves_target(raw: &[u8]) -> Option<Found> {
    if raw.starts_with(b"/") {
        (raw != b"/").then(|| {
            (
                NameClass::Absolute,
                "the name is absolute; extracting it writes outside the target dir".into(),
            )
        })
    } else if raw.split(|b| *b == b'/').any(|c| c == b"..") {
        Some((
            NameClass::ParentDir,
            "the name has a `..` component; extracting it can write outside the target dir".into(),
        ))
    } else {
        None
    }
}

/// `windows-drive`: a name that starts with `X:`.
fn windows_drive(raw: &[u8]) -> Option<Found> {
    (raw.len() >= 2 && raw[0].is_ascii_alphabetic() && raw[1] == b':').then(|| {
        (
            NameClass::WindowsDrive,
            "the name starts with a Windows drive letter".into(),
        )
    })
}

/// `backslash`: a name with a Windows path separator.
fn backslash(raw: &[u8]) -> Option<Found> {
    raw.contains(&b'\\').then(|| {
        (
            NameClass::Backslash,
            "the name has a backslash, a path separator on Windows".into(),
        )
    })
}

/// `link-escape`: a link whose target points out of the archive root.
fn link_escape(m: &Member) -> Option<Found> {
    let t = m.link_target.as_ref()?;
    let escaped = match m.kind {
        // A symlink resolves from its own directory.
        MemberKind::Symlink => escapes(m.path.components().count().saturating_sub(1), t.as_bytes()),
        // A hard link names another archive path.
        _ => escapes(0, normalize_name(t.as_bytes()).as_bytes()),
    };
    (escaped && !m.is_root_entry()).then(|| {
        (
            NameClass::LinkEscape,
            format!(
                "the {} target `{t}` points outside the archive root",
                m.kind.name()
            ),
        )
    })
}

/// `through-symlink`: a member under an earlier symlink member.
fn through_symlink(path: &[u8], symlinks: &HashSet<&[u8]>) -> Option<Found> {
    let link = path
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(|(i, _)| trim_slashes(&path[..i]))
        .find(|prefix| symlinks.contains(prefix))?;
    Some((
        NameClass::ThroughSymlink,
        format!(
            "it lies under `{}`, an earlier symlink member: extracting it writes through the link",
            RawPath::from(link)
        ),
    ))
}

/// `duplicate`: a path an earlier member already used; records this member's path.
fn duplicate<'m>(
    m: &'m Member,
    index: usize,
    seen: &mut HashMap<&'m [u8], usize>,
) -> Option<Found> {
    if m.is_root_entry() {
        return None;
    }
    let prev = seen.insert(m.path.as_bytes(), index)?;
    Some((
        NameClass::Duplicate,
        format!(
            "member {} has the same path: extracting keeps only this later one",
            prev + 1
        ),
    ))
}

/// Keeps `symlinks` to the paths whose latest member is a symlink.
fn track_symlink<'m>(m: &'m Member, symlinks: &mut HashSet<&'m [u8]>) {
    let path = m.path.as_bytes();
    if m.kind == MemberKind::Symlink {
        symlinks.insert(path);
    } else {
        symlinks.remove(path);
    }
}

/// `device`: a character or block device node.
fn device(m: &Member) -> Option<Found> {
    matches!(m.kind, MemberKind::CharDevice | MemberKind::BlockDevice).then(|| {
        (
            NameClass::Device,
            format!(
                "a {}: extracting it as root creates a device node",
                m.kind.name()
            ),
        )
    })
}

/// `setuid` and `setgid`: a regular file (or hard link) with either bit.
fn set_id_bits(m: &Member) -> Vec<Found> {
    let mut out = Vec::new();
    if !matches!(m.kind, MemberKind::File | MemberKind::Hardlink) {
        return out;
    }
    for (bit, class) in [(0o4000, NameClass::Setuid), (0o2000, NameClass::Setgid)] {
        if m.mode & bit != 0 {
            out.push((
                class,
                format!(
                    "mode {:04o} has the {class} bit: extracting it as root keeps it",
                    m.mode
                ),
            ));
        }
    }
    out
}

/// True when `target`, resolved from the directory of `link_path`, climbs above the root.
fn escapes(link_dir_depth: usize, target: &[u8]) -> bool {
    if target.starts_with(b"/") {
        return true;
    }
    let mut depth = link_dir_depth as i64;
    for c in target.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

fn trim_slashes(mut p: &[u8]) -> &[u8] {
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
}
