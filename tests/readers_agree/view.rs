//! What each reader says about an archive, in one shape ([`Rec`]), and the comparisons.
//!
//! Two views are compared:
//! - the **listing**, member by member in archive order, as the headers say: packtest's
//!   [`Manifest`] and Python's `getmembers()`;
//! - the **tree** an extraction leaves, by path: GNU tar's and Python's extractions, walked
//!   with lstat, against the tree packtest's manifest implies (hard links are files that share
//!   an inode, named by the least path of the group, since an extracted tree cannot say which
//!   path the header called the target).
//!
//! Where another reader differs from packtest by design, [`QUIRKS`] has a row with the reason;
//! its `apply` turns packtest's record into what that reader is documented to report.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use packtest::archive::{normalize_name, Manifest, MemberKind};
use sha2::{Digest, Sha256};

/// One member (listing) or one extracted object (tree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Raw name bytes: as stored (listing), or the path under the extraction dir (tree).
    pub name: Vec<u8>,
    /// `file`, `dir`, `symlink`, `hardlink`, `fifo`, `char-device`, `block-device`, …
    pub kind: String,
    /// Data size (listing: the header's; tree: the file's).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Symlink or hard-link target, raw bytes.
    pub link: Option<Vec<u8>>,
    /// sha256 of the data, hex, for regular files.
    pub sha: Option<String>,
    /// Tree only: the least path of the file's hard-link group, when it has several paths.
    pub group: Option<Vec<u8>>,
}

/// A tree: records by path.
pub type Tree = BTreeMap<Vec<u8>, Rec>;

/// Which reader a quirk row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Python `extractall(filter="data")`.
    PyDataFilter,
}

/// A documented difference of another reader, and how packtest's record maps onto it.
pub struct Quirk {
    /// The reader.
    pub reader: Reader,
    /// What differs.
    pub what: &'static str,
    /// Why it is the other reader's documented behaviour, not a bug in packtest.
    pub why: &'static str,
    /// Turns packtest's record into what the reader reports (`umask` of this process).
    pub apply: fn(&mut Rec, u32),
}

/// The quirks of the other readers, each with its reason. Only differences that can arise on
/// the reference packager's archives are listed: its modes are already 0644/0755 style, which
/// the `data` filter keeps for files, and its directory names have no trailing `/`, which
/// `tarfile` would strip. Under the usual umask 022 the row below changes nothing either; under
/// 002 or 077 it does.
pub const QUIRKS: [Quirk; 1] = [Quirk {
    reader: Reader::PyDataFilter,
    what: "directory modes are `0o777 & !umask`, whatever the header says",
    why: "PEP 706 `data` filter sets a directory's mode to None (\"use the default\"), so \
          tarfile creates it with `os.mkdir` and never chmods it",
    apply: |r, umask| {
        if r.kind == "dir" {
            r.mode = 0o777 & !umask;
        }
    },
}];

/// packtest's record after the quirks of `reader`; `applied[i]` counts the records row `i`
/// of [`QUIRKS`] changed.
pub fn as_seen_by(reader: Reader, rec: &Rec, umask: u32, applied: &mut [u64]) -> Rec {
    let mut r = rec.clone();
    for (i, q) in QUIRKS
        .iter()
        .enumerate()
        .filter(|(_, q)| q.reader == reader)
    {
        let before = r.clone();
        (q.apply)(&mut r, umask);
        applied[i] += (r != before) as u64;
    }
    r
}

fn hex(sha: Option<[u8; 32]>) -> Option<String> {
    sha.map(|h| h.iter().map(|b| format!("{b:02x}")).collect())
}

/// packtest's listing: every member as its header says.
pub fn listing(m: &Manifest) -> Vec<Rec> {
    m.members
        .iter()
        .map(|x| Rec {
            name: x.raw_name.as_bytes().to_vec(),
            kind: x.kind.name(),
            size: x.size,
            mode: x.mode,
            link: x.link_target.as_ref().map(|t| t.as_bytes().to_vec()),
            sha: hex(x.sha256),
            group: None,
        })
        .collect()
}

/// The tree extracting `m` leaves, by packtest's account: the last member of a path wins,
/// a hard link is its target's file, and the paths sharing an inode name their group.
pub fn implied_tree(m: &Manifest) -> Tree {
    let mut tree = Tree::new();
    let mut links: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for x in m.members.iter().filter(|x| !x.is_root_entry()) {
        let name = x.path.as_bytes().to_vec();
        let mut rec = Rec {
            name: name.clone(),
            kind: x.kind.name(),
            size: x.size,
            mode: x.mode,
            link: x.link_target.as_ref().map(|t| t.as_bytes().to_vec()),
            sha: hex(x.sha256),
            group: None,
        };
        match x.kind {
            MemberKind::Symlink => rec.mode = 0o777,
            MemberKind::Hardlink => {
                let target = normalize_name(&rec.link.take().unwrap_or_default());
                links.push((name.clone(), target.as_bytes().to_vec()));
            }
            _ => rec.link = None,
        }
        tree.insert(name, rec);
    }
    let mut groups: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for (name, target) in links {
        if let Some(t) = tree.get(&target).cloned() {
            let r = tree.get_mut(&name).expect("inserted above");
            *r = Rec {
                name: name.clone(),
                ..t
            };
            groups
                .entry(target.clone())
                .or_insert_with(|| vec![target])
                .push(name);
        }
    }
    for names in groups.values() {
        let least = names.iter().min().cloned();
        for n in names {
            if let Some(r) = tree.get_mut(n) {
                r.group = least.clone();
            }
        }
    }
    tree
}

fn sha_file(p: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(p)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Walks an extraction dir with lstat (links never followed, FIFOs never opened).
pub fn walk(root: &Path) -> std::io::Result<Tree> {
    let mut tree = Tree::new();
    let mut inodes: HashMap<(u64, u64), Vec<Vec<u8>>> = HashMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            let name = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .as_os_str()
                .as_bytes()
                .to_vec();
            let md = std::fs::symlink_metadata(&p)?;
            let ft = md.file_type();
            let mut rec = Rec {
                name: name.clone(),
                kind: String::new(),
                size: 0,
                mode: md.permissions().mode() & 0o7777,
                link: None,
                sha: None,
                group: None,
            };
            rec.kind = if ft.is_file() {
                rec.size = md.len();
                rec.sha = Some(sha_file(&p)?);
                if md.nlink() > 1 {
                    inodes
                        .entry((md.dev(), md.ino()))
                        .or_default()
                        .push(name.clone());
                }
                "file"
            } else if ft.is_dir() {
                stack.push(p.clone());
                "dir"
            } else if ft.is_symlink() {
                rec.mode = 0o777;
                rec.link = Some(std::fs::read_link(&p)?.as_os_str().as_bytes().to_vec());
                "symlink"
            } else if ft.is_fifo() {
                "fifo"
            } else if ft.is_char_device() {
                "char-device"
            } else if ft.is_block_device() {
                "block-device"
            } else {
                "other"
            }
            .to_string();
            tree.insert(name, rec);
        }
    }
    for names in inodes.values().filter(|n| n.len() > 1) {
        let least = names.iter().min().cloned();
        for n in names {
            if let Some(r) = tree.get_mut(n) {
                r.group = least.clone();
            }
        }
    }
    Ok(tree)
}

/// A name for a message: printable ASCII as is, the rest escaped; a long name shows its
/// first and last 40 bytes and its length.
pub fn show(b: &[u8]) -> String {
    if b.len() > 90 {
        let (head, tail) = (&b[..40], &b[b.len() - 40..]);
        format!(
            "{}…{} ({} bytes)",
            head.escape_ascii(),
            tail.escape_ascii(),
            b.len()
        )
    } else {
        b.escape_ascii().to_string()
    }
}

/// The fields two records of the same member disagree on.
fn fields(a: &Rec, b: &Rec) -> Vec<String> {
    let mut out = Vec::new();
    if a.name != b.name {
        out.push(format!("name {} vs {}", show(&a.name), show(&b.name)));
    }
    if a.kind != b.kind {
        out.push(format!("kind {} vs {}", a.kind, b.kind));
    }
    if a.size != b.size {
        out.push(format!("size {} vs {}", a.size, b.size));
    }
    if a.mode != b.mode {
        out.push(format!("mode {:o} vs {:o}", a.mode, b.mode));
    }
    if a.link != b.link {
        let s = |l: &Option<Vec<u8>>| l.as_deref().map_or("-".into(), show);
        out.push(format!("link {} vs {}", s(&a.link), s(&b.link)));
    }
    if a.sha != b.sha {
        out.push(format!("sha256 {:?} vs {:?}", a.sha, b.sha));
    }
    if a.group != b.group {
        let s = |l: &Option<Vec<u8>>| l.as_deref().map_or("-".into(), show);
        out.push(format!(
            "hard-link group {} vs {}",
            s(&a.group),
            s(&b.group)
        ));
    }
    out
}

/// Member-by-member differences between two listings (packtest's first).
pub fn diff_listings(ours: &[Rec], theirs: &[Rec]) -> Vec<String> {
    let mut out = Vec::new();
    if ours.len() != theirs.len() {
        out.push(format!("{} members vs {}", ours.len(), theirs.len()));
    }
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        for f in fields(a, b) {
            out.push(format!("member {i} ({}): {f}", show(&a.name)));
        }
    }
    out
}

/// Path-by-path differences between two trees (packtest's first).
pub fn diff_trees(ours: &Tree, theirs: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    for (name, a) in ours {
        match theirs.get(name) {
            None => out.push(format!("{}: missing", show(name))),
            Some(b) => out.extend(
                fields(a, b)
                    .into_iter()
                    .map(|f| format!("{}: {f}", show(name))),
            ),
        }
    }
    for name in theirs.keys().filter(|n| !ours.contains_key(*n)) {
        out.push(format!("{}: extra", show(name)));
    }
    out
}
