//! What an extraction produces: the consumer's tree ([`VTree`] of [`VEntry`]) and the members
//! it refuses ([`Refusal`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::archive::MemberKind;
use crate::layout::RawPath;

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
        /// The mode stored in the member that named it last (`None`: only implied).
        stored: Option<u32>,
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
    /// The mode stored in the last root directory member (`./`), which a consumer that keeps
    /// directory modes gives the destination itself; `None` when there is none.
    pub root: Option<u32>,
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

/// A refusal before it names its member: why, and what the consumer says.
pub(super) type Refused = (RefusalKind, String);
