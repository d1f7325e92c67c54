//! Deploy targets (DESIGN §2): who unpacks the archive, what that consumer takes, and what
//! it must end up with.
//!
//! An archive exists to be unpacked. A packager is correct for a target when the target's
//! consumer gets the model dir, or when the packager refuses loudly what that consumer cannot
//! take. A target is data ([`TargetSpec`]: which member types the consumer takes, what it does
//! with links, and what a packager must turn each kind of model-dir object into) read by three
//! small rule sets:
//! - [`expected`]: the tree the consumer must end up with, derived from the model dir walked
//!   with lstat, plus what the packager must refuse;
//! - [`extract`]: the consumer's extraction, modelled on a manifest (never touching the disk);
//! - [`unpack`]: the same extraction written to a directory, refusing what the consumer
//!   refuses, never writing outside it.
//!
//! Adding a consumer (TorchServe, Triton, Vertex) is one more [`Target`] and one more
//! [`TargetSpec`] row.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A deploy target: the consumer that will unpack the archive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// SageMaker hosting (real-time, serverless, async, batch transform). The default.
    #[default]
    Sagemaker,
    /// GNU tar or bsdtar extracting on a POSIX filesystem.
    Posix,
    /// The KServe storage initializer: Python `tarfile` with `filter="data"`.
    Kserve,
}

/// What a consumer does with link members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRule {
    /// Any link member makes the consumer fail (SageMaker hosting).
    Refuse,
    /// Created as it is (GNU tar).
    Keep,
    /// Created when its target is relative and stays inside the destination; otherwise the
    /// consumer fails (Python's `data` filter).
    KeepInside,
}

/// What a consumer does when one member is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRefusal {
    /// The whole extraction fails (SageMaker hosting, tarfile with `errorlevel=1`).
    Fatal,
    /// The member is skipped, the rest extracted, and the exit status says so (GNU tar).
    SkipMember,
}

/// What a packager must turn a model-dir symlink into, for a consumer to get the model dir.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymlinkExpect {
    /// A symlink with the same target, wherever it points (POSIX extraction keeps links).
    Link,
    /// The content of what an internal link points to (files and dirs); a link that escapes,
    /// dangles or loops is a loud failure.
    Copy,
    /// A relative internal link stays a link; an absolute one that lands inside may be copied
    /// or refused; one that escapes, dangles or loops is a loud failure.
    LinkIfRelative,
}

/// One target as data.
#[derive(Clone, Copy, Debug)]
pub struct TargetSpec {
    /// The stable id (`sagemaker`, `posix`, `kserve`).
    pub id: &'static str,
    /// The consumer, in one line.
    pub consumer: &'static str,
    /// What it can take, in one line.
    pub takes: &'static str,
    /// Symlink members.
    pub symlinks: LinkRule,
    /// Hard-link members.
    pub hardlinks: LinkRule,
    /// FIFO and device members: created (true) or refused (false).
    pub specials: bool,
    /// One refused member fails everything, or only itself.
    pub on_refusal: OnRefusal,
    /// What a model-dir symlink must become.
    pub symlink_expect: SymlinkExpect,
    /// A FIFO or device in the model dir may be stored as its type (else: a loud failure).
    pub special_expect_stored: bool,
    /// The server may run as a non-root user: what it loads must be readable by others.
    pub needs_world_readable: bool,
    /// Where the consumer's behaviour is documented or its code lives.
    pub source: &'static str,
}

impl Target {
    /// Every target, default first.
    pub const ALL: [Target; 3] = [Target::Sagemaker, Target::Posix, Target::Kserve];

    /// The target's row of data.
    pub fn spec(self) -> &'static TargetSpec {
        match self {
            Target::Sagemaker => &SAGEMAKER,
            Target::Posix => &POSIX,
            Target::Kserve => &KSERVE,
        }
    }

    /// The stable id.
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The ids of every target, comma-separated (for error messages).
    pub fn list() -> String {
        Target::ALL.map(Target::id).join(", ")
    }
}

static SAGEMAKER: TargetSpec = TargetSpec {
    id: "sagemaker",
    consumer: "SageMaker hosting (real-time, serverless, async, batch transform): downloads model.tar.gz and extracts it into /opt/ml/model of the serving container",
    takes: "regular files and directories only; any symlink, hard link, FIFO or device member fails CreateEndpoint (\"Failed to extract model data archive\")",
    symlinks: LinkRule::Refuse,
    hardlinks: LinkRule::Refuse,
    specials: false,
    on_refusal: OnRefusal::Fatal,
    symlink_expect: SymlinkExpect::Copy,
    special_expect_stored: false,
    needs_world_readable: true,
    source: "AWS: hosting \"can't extract the data archive if the model artifact contains symbolic links\" (repost.aws knowledge center, sagemaker-endpoint-creation-fail)",
};

static POSIX: TargetSpec = TargetSpec {
    id: "posix",
    consumer: "GNU tar or bsdtar extracting on a POSIX filesystem",
    takes: "every member type: files, dirs, symlinks, hard links, FIFOs, devices",
    symlinks: LinkRule::Keep,
    hardlinks: LinkRule::Keep,
    specials: true,
    on_refusal: OnRefusal::SkipMember,
    symlink_expect: SymlinkExpect::Link,
    special_expect_stored: true,
    needs_world_readable: false,
    source:
        "GNU tar 1.34 and bsdtar (libarchive) extraction, checked in the consumer conformance suite",
};

static KSERVE: TargetSpec = TargetSpec {
    id: "kserve",
    consumer: "the KServe storage initializer (kserve-storage on PyPI): tarfile.open(...).extractall(dir, filter=\"data\")",
    takes: "files, dirs, and symlinks and hard links whose targets are relative and stay inside; devices, FIFOs, absolute link targets and links out fail the download",
    symlinks: LinkRule::KeepInside,
    hardlinks: LinkRule::KeepInside,
    specials: false,
    on_refusal: OnRefusal::Fatal,
    symlink_expect: SymlinkExpect::LinkIfRelative,
    special_expect_stored: false,
    needs_world_readable: false,
    source: "kserve-storage 0.21.0 Storage._unpack_archive_file; Python tarfile data_filter (PEP 706)",
};

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An id that names no target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{given}`; the targets are: {}", Target::list())]
pub struct UnknownTarget {
    /// What was given.
    pub given: String,
}

impl FromStr for Target {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.id() == s)
            .ok_or_else(|| UnknownTarget { given: s.into() })
    }
}
