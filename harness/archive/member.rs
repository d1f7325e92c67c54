//! One archive member as read ([`Member`]): its type, header form and normalized name.

use serde::Serialize;

use crate::layout::RawPath;

/// The type of a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    /// Regular file (`0`, `\0`, `7`).
    File,
    /// Directory (`5`).
    Dir,
    /// Symbolic link (`2`).
    Symlink,
    /// Hard link (`1`).
    Hardlink,
    /// Character device (`3`).
    CharDevice,
    /// Block device (`4`).
    BlockDevice,
    /// FIFO (`6`).
    Fifo,
    /// Any other type flag (GNU sparse `S`, volume label `V`, …).
    Other(u8),
}

impl MemberKind {
    /// A stable name: `file`, `dir`, `symlink`, `hardlink`, `char-device`, `block-device`,
    /// `fifo`, or `type-X`.
    pub fn name(self) -> String {
        match self {
            MemberKind::File => "file".into(),
            MemberKind::Dir => "dir".into(),
            MemberKind::Symlink => "symlink".into(),
            MemberKind::Hardlink => "hardlink".into(),
            MemberKind::CharDevice => "char-device".into(),
            MemberKind::BlockDevice => "block-device".into(),
            MemberKind::Fifo => "fifo".into(),
            MemberKind::Other(b) => format!("type-{}", (b as char).escape_default()),
        }
    }
}

impl Serialize for MemberKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// The header form a member was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderForm {
    /// Pre-POSIX v7 header (no magic).
    V7,
    /// POSIX ustar.
    Ustar,
    /// GNU (`ustar  \0` magic).
    Gnu,
    /// GNU with `././@LongLink` (`L`/`K`) entries.
    GnuLongName,
    /// ustar with pax extended records.
    Pax,
}

/// One archive member, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The normalized path: one leading `./` and trailing `/` removed; `.` is the root entry.
    pub path: RawPath,
    /// The name exactly as stored (after pax / GNU long-name resolution).
    pub raw_name: RawPath,
    /// The type.
    pub kind: MemberKind,
    /// Permission bits (0o7777).
    pub mode: u32,
    /// Owner id.
    pub uid: u64,
    /// Group id.
    pub gid: u64,
    /// Modification time, seconds.
    pub mtime: i64,
    /// Data size (0 for non-files).
    pub size: u64,
    /// sha256 of the data, for regular files.
    #[serde(serialize_with = "ser_sha")]
    pub sha256: Option<[u8; 32]>,
    /// Link target, for symlinks and hard links.
    pub link_target: Option<RawPath>,
    /// Device major and minor numbers, for character and block devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<(u32, u32)>,
    /// The header form.
    pub form: HeaderForm,
    /// Offset of the member's header in the tar stream.
    pub offset: u64,
    /// Owner name (`uname`, or its pax record); empty when none.
    #[serde(skip)]
    pub uname: Vec<u8>,
    /// Group name (`gname`, or its pax record); empty when none.
    #[serde(skip)]
    pub gname: Vec<u8>,
    /// The pax records that applied to this member (global ones first, then its own).
    #[serde(skip)]
    pub pax: std::collections::BTreeMap<String, Vec<u8>>,
}

fn ser_sha<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(h) => s.serialize_str(&crate::layout::RawPath::new(h.to_vec()).to_hex()),
        None => s.serialize_none(),
    }
}

impl Member {
    /// True for the optional root entry (`.`, `./`, `/`, or empty).
    pub fn is_root_entry(&self) -> bool {
        matches!(self.path.as_bytes(), b"" | b"." | b"/")
    }
}

/// A member name as packtest compares it: strips one leading `./` and trailing slashes; maps `./`, `.` and `` to `.`.
pub fn normalize_name(name: &[u8]) -> RawPath {
    let mut n = name;
    if let Some(rest) = n.strip_prefix(b"./") {
        n = rest;
    }
    while n.len() > 1 && n.ends_with(b"/") {
        n = &n[..n.len() - 1];
    }
    if n.is_empty() || n == b"." {
        return RawPath::from(".");
    }
    RawPath::new(n.to_vec())
}
