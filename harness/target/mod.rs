//! Deploy targets (`--target`): who unpacks the archive, what that consumer takes, and what
//! it must end up with.
//!
//! An archive exists to be unpacked. A packager is correct for a target when the target's
//! consumer gets the model dir, or when the packager refuses loudly what that consumer cannot
//! take. A target is data ([`TargetSpec`]: which member types the consumer takes, what it does
//! with links, and what a packager must turn each kind of model-dir object into) read by three
//! small rule sets:
//! - [`expected`](mod@expected): the tree the consumer must end up with, derived from the model dir walked
//!   with lstat, plus what the packager must refuse;
//! - [`extract`](mod@extract): the consumer's extraction, modelled on a manifest (never touching the disk);
//! - [`unpack`]: the same extraction written to a directory, refusing what the consumer
//!   refuses, never writing outside it.
//!
//! Adding a consumer (TorchServe, Triton, Vertex) is one more [`Target`] and one more
//! [`TargetSpec`] row.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub mod compare;
pub mod expected;
pub mod extract;
pub mod unpack;

pub use compare::{compare, Gap};
pub use expected::{expected, Expected, Want, World};
pub use extract::{extract, Extraction, Refusal, VEntry, VTree};

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

/// What the consumer does with the mode of a directory member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirModes {
    /// Applied as stored, the root entry's to the destination itself (tar as root): a dir
    /// stored without the search bits the model dir gave it cannot be entered by a server
    /// that runs as another user.
    Kept,
    /// Ignored: every directory gets the default mode (Python's `data` filter).
    Default,
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
    /// The consumer, in a few words ("SageMaker hosting"), for headlines.
    pub short: &'static str,
    /// The consumer, in one line.
    pub consumer: &'static str,
    /// What it can take, in one line.
    pub takes: &'static str,
    /// What it can take, in a few words (for violation messages).
    pub accepts: &'static str,
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
    /// Directory modes, as the consumer applies them (`fidelity` compares their search bits).
    pub dir_modes: DirModes,
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
    short: "SageMaker hosting",
    consumer: "SageMaker hosting (real-time, serverless, async, batch transform): downloads model.tar.gz and extracts it into /opt/ml/model of the serving container",
    takes: "regular files and directories only; any symlink, hard link, FIFO or device member fails CreateEndpoint (\"Failed to extract model data archive\")",
    accepts: "regular files and directories",
    symlinks: LinkRule::Refuse,
    hardlinks: LinkRule::Refuse,
    specials: false,
    on_refusal: OnRefusal::Fatal,
    symlink_expect: SymlinkExpect::Copy,
    special_expect_stored: false,
    needs_world_readable: true,
    // Hosting extracts as root with tar, which applies each dir member's mode (no umask);
    // the SDK's own extractor (the `data` filter) stands in for the rest of the extraction.
    dir_modes: DirModes::Kept,
    source: "AWS: hosting \"can't extract the data archive if the model artifact contains symbolic links\" (repost.aws knowledge center, sagemaker-endpoint-creation-fail)",
};

static POSIX: TargetSpec = TargetSpec {
    id: "posix",
    short: "GNU tar or bsdtar",
    consumer: "GNU tar or bsdtar extracting on a POSIX filesystem",
    takes: "every member type: files, dirs, symlinks, hard links, FIFOs, devices",
    accepts: "any member type",
    symlinks: LinkRule::Keep,
    hardlinks: LinkRule::Keep,
    specials: true,
    on_refusal: OnRefusal::SkipMember,
    symlink_expect: SymlinkExpect::Link,
    special_expect_stored: true,
    needs_world_readable: false,
    dir_modes: DirModes::Kept,
    source:
        "GNU tar 1.34 and bsdtar (libarchive) extraction, checked in the consumer conformance suite",
};

static KSERVE: TargetSpec = TargetSpec {
    id: "kserve",
    short: "KServe's storage initializer",
    consumer: "the KServe storage initializer (kserve-storage on PyPI): tarfile.open(...).extractall(dir, filter=\"data\")",
    takes: "files, dirs, and symlinks and hard links whose targets are relative and stay inside; devices, FIFOs, absolute link targets and links out fail the download",
    accepts: "files, dirs, and links whose relative targets stay inside",
    symlinks: LinkRule::KeepInside,
    hardlinks: LinkRule::KeepInside,
    specials: false,
    on_refusal: OnRefusal::Fatal,
    symlink_expect: SymlinkExpect::LinkIfRelative,
    special_expect_stored: false,
    needs_world_readable: false,
    dir_modes: DirModes::Default,
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

/// What `target`'s consumer makes of `manifest`, and how that falls short of the tree it must
/// get from `model_dir` (scanned alone: links resolve inside it). For `check --model-dir
/// --archive` and tests; the runner resolves links in the whole sandbox instead
/// ([`crate::contract::expected_for`]).
pub fn judge_dir(
    model_dir: &std::path::Path,
    manifest: &crate::archive::Manifest,
    target: Target,
) -> Result<(Extraction, Vec<Gap>), crate::layout::SandboxError> {
    use std::os::unix::ffi::OsStrExt;
    let tree = crate::archive::DiskTree::scan(model_dir)?;
    let abs = std::fs::canonicalize(model_dir).unwrap_or_else(|_| model_dir.to_owned());
    let world = World::model_only(&tree, Some(abs.as_os_str().as_bytes()));
    let mut want = expected(&world, target);
    want.root_mode = std::fs::metadata(model_dir)
        .ok()
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
    let got = extract(manifest, target);
    let gaps = compare(&want, &got.tree);
    Ok((got, gaps))
}

/// One row of the expected-tree table: what a model-dir object must become, per target.
fn expect_row(t: Target, what: &str) -> &'static str {
    let s = t.spec();
    match what {
        "link-in" => match s.symlink_expect {
            SymlinkExpect::Link => "a symlink, same target",
            SymlinkExpect::Copy => "a regular file (or dir) with the target's content; a link loop or dir cycle is a loud failure",
            SymlinkExpect::LinkIfRelative => "a symlink if its target is relative; an absolute target: a copy or a loud failure",
        },
        "link-out" => match s.symlink_expect {
            SymlinkExpect::Link => "a symlink, same target",
            _ => "a loud failure (a copy of outside bytes breaks `containment`)",
        },
        "hardlink" => match s.hardlinks {
            LinkRule::Refuse => "a full copy",
            _ => "a link entry or a full copy",
        },
        _ => {
            if s.special_expect_stored {
                "that type, or a loud failure"
            } else {
                "a loud failure"
            }
        }
    }
}

/// The contract's property table (ids are stable).
pub const PROPERTIES: [(&str, &str); 14] = [
    ("exit-and-output", "exit 0 and a regular file at the output path; exit 0 with no file is a silent failure; failing on a layout that holds nothing the target lets a packager refuse is a failure too, except that a model dir holding no regular file may be refused loudly under every target"),
    ("valid-gzip", "every gzip member's CRC32 and ISIZE verify, no trailing garbage"),
    ("valid-tar", "header checksums, an end-of-archive marker, no truncation (GNU, ustar and pax forms)"),
    ("relative-names", "after one leading `./`, names are relative to the model dir: no `/`, `..` or absolute names, no extra top-level folder; a root entry `./`, `.` or `/` is allowed"),
    ("member-types", "every member is of a type the target's consumer takes"),
    ("fidelity", "what the consumer extracts equals the expected tree: bytes, dirs (empty ones too), exec bits, link targets; a hard link after the member it links to (extractors fail on one placed before it); each dir, the `./` entry too, keeps its search bits where the consumer keeps dir modes (`sagemaker` hosting extracts as root with tar; `posix`); parents implied by children count as present"),
    ("special-files", "a FIFO or device is never read, never hung on, never silently dropped: stored as its type where the target takes it, else a loud failure"),
    ("containment", "no bytes from outside the model dir (working dir, link targets outside, the archive itself)"),
    ("no-duplicates", "no member path twice"),
    ("loud-failure", "a failure exits non-zero, says why on stderr, leaves no file at the output path, and finishes before the timeout"),
    ("source-untouched", "the sandbox is identical before and after the run"),
    ("deterministic", "--strict: byte-identical output when the packager runs again with its inputs varied: mtimes moved, the model dir created in another order (so directories list differently), umask, `TZ`, `LC_ALL`/`LANG`, `SOURCE_DATE_EPOCH` (unset, then set), the CPUs it may use, `HOME`, and as root the uid; a failure names the variations that change the output alone and shows `packtest diff` of the two archives"),
    ("sorted", "--strict: members by path bytes, or depth-first with each dir's entries sorted; each dir before its children"),
    ("normalized", "--strict: uid/gid 0, one fixed mtime, modes readable by others (0644/0755 style, no setuid/setgid, nothing world-writable), gzip header mtime 0 and no file name"),
];

/// The contract of `targets` as Markdown: who the consumer is, what it takes, the expected
/// tree, and the properties (`packtest contract`).
pub fn contract_text(targets: &[Target]) -> String {
    let mut s = String::from("# The packager contract (packtest)\n\n");
    s.push_str("A packager is correct for a target when that target's consumer gets the model dir, or when the packager refuses loudly what that consumer cannot take.\n\n");
    s.push_str("| target | the consumer | what it can take |\n|---|---|---|\n");
    for t in targets {
        let sp = t.spec();
        s.push_str(&format!(
            "| `{}`{} | {} | {} |\n",
            sp.id,
            if *t == Target::default() {
                " (default)"
            } else {
                ""
            },
            sp.consumer,
            sp.takes
        ));
    }
    s.push_str("\nWhat the consumer must get, from the model dir walked with lstat:\n\n| model dir holds |");
    for t in targets {
        s.push_str(&format!(" `{t}` expects |"));
    }
    s.push_str("\n|---|");
    for _ in targets {
        s.push_str("---|");
    }
    s.push('\n');
    let rows = [
        ("regular file, dir (empty ones too)", "plain"),
        ("symlink, target inside the model dir", "link-in"),
        ("symlink out of the model dir, or dangling", "link-out"),
        ("hard link", "hardlink"),
        ("FIFO, device", "special"),
        ("socket", "socket"),
    ];
    for (label, key) in rows {
        s.push_str(&format!("| {label} |"));
        for t in targets {
            let cell = match key {
                "plain" => "the same: bytes and exec bits",
                "socket" => "may be left out",
                k => expect_row(*t, k),
            };
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
    }
    s.push_str("\n| property | what it checks |\n|---|---|\n");
    for (id, what) in PROPERTIES {
        s.push_str(&format!("| `{id}` | {what} |\n"));
    }
    s.push_str("\nSources:\n");
    for t in targets {
        s.push_str(&format!("- `{t}`: {}\n", t.spec().source));
    }
    s
}
