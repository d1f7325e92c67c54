//! Root causes in the packager's terms: what a packager did wrong, computed from the evidence
//! of one run (the expected tree against what the consumer extracts, the members' kinds and
//! names, the exit status, the model dir as scanned), never from a violation's message text.
//!
//! A violation says which property broke; a [`Diagnosis`] says why, in words a packager's
//! author acts on ("names that start with `.` are missing: a shell `*` skips them"), with the
//! fix for the common tools. Each diagnosis found in a run lists the violations it explains;
//! the runner groups failures by diagnosis, so one bug is one cause, and a violation that no
//! diagnosis explains is shown raw, as such.
//!
//! [`Diagnosis`] is the one registry: its id, its fixes and its title are all read from
//! [`Diagnosis::info`].

use std::collections::BTreeSet;

use serde::Serialize;

use super::containment::Contained;
use super::fidelity::Gaps;
use super::property::{Property, Violation};
use super::SecondRun;
use crate::archive::{DiffItem, DiskKind, DiskTree};
use crate::layout::RawPath;
use crate::packager::{Exit, PackOutcome};
use crate::target::{Expected, Refusal, Target};

/// A root cause of a contract failure, in the packager's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Diagnosis {
    /// Names that start with `.` are missing (a shell `*` skips them).
    DotNamesMissing,
    /// Every member sits under one extra folder.
    ExtraTopFolder,
    /// Members carry the model dir's absolute path.
    AbsoluteNames,
    /// Symlinks are stored as links the consumer cannot extract.
    SymlinksStored,
    /// Hard links are stored as link members the consumer cannot extract.
    HardLinksStored,
    /// Bytes from outside the model dir are packed (a link that leaves it was followed).
    OutsideBytes,
    /// A link that leaves the model dir or dangles was silently left out.
    EscapingLinksDropped,
    /// Empty directories are missing.
    EmptyDirsDropped,
    /// Executable bits are lost.
    ExecBitsLost,
    /// FIFOs or devices are stored where the consumer refuses them.
    SpecialFilesStored,
    /// FIFOs or devices are silently left out.
    SpecialFilesDropped,
    /// FIFOs or devices are read (opened, stored as regular files, or hung on).
    SpecialFilesRead,
    /// A failed run leaves a file at the output path.
    PartialArchiveLeft,
    /// Exit 0 without an archive at the output path.
    ExitZeroWithoutArchive,
    /// The archive holds a copy of itself: it was written inside the model dir.
    OutputInsideModelDir,
    /// A failed run says nothing on stderr.
    SilentFailure,
    /// The packager fails on a model dir it must pack.
    RefusedValidModelDir,
    /// The packager ran past the timeout.
    TimedOut,
    /// (strict) The bytes change between runs.
    NotReproducible,
    /// (strict) Members come in filesystem order.
    Unsorted,
    /// (strict) Owners, mtimes or the gzip header are not normalized.
    NotNormalized,
    /// A member path appears twice.
    DuplicateMembers,
}

/// A fix for one tool: the tool's name and what to do with it.
pub type Fix = (&'static str, &'static str);

/// What the registry knows of one diagnosis.
#[derive(Clone, Debug)]
pub struct Info {
    /// The stable kebab-case id.
    pub id: &'static str,
    /// A generic one-line title (a found diagnosis has a headline with its run's paths).
    pub title: &'static str,
    /// The fix, per tool: GNU tar, Python `tarfile`, `shutil.make_archive`, or `any tool`.
    pub fixes: &'static [Fix],
    /// The property it breaks first (others may follow from it).
    pub breaks: Property,
}

const TAR: &str = "GNU tar";
const TARFILE: &str = "Python tarfile";
const SHUTIL: &str = "shutil.make_archive";
const ANY: &str = "any tool";

impl Diagnosis {
    /// Every diagnosis, in report order of kind (names, types, content, run, strict).
    pub const ALL: [Diagnosis; 22] = [
        Diagnosis::DotNamesMissing,
        Diagnosis::ExtraTopFolder,
        Diagnosis::AbsoluteNames,
        Diagnosis::SymlinksStored,
        Diagnosis::HardLinksStored,
        Diagnosis::OutsideBytes,
        Diagnosis::EscapingLinksDropped,
        Diagnosis::EmptyDirsDropped,
        Diagnosis::ExecBitsLost,
        Diagnosis::SpecialFilesStored,
        Diagnosis::SpecialFilesDropped,
        Diagnosis::SpecialFilesRead,
        Diagnosis::PartialArchiveLeft,
        Diagnosis::ExitZeroWithoutArchive,
        Diagnosis::OutputInsideModelDir,
        Diagnosis::SilentFailure,
        Diagnosis::RefusedValidModelDir,
        Diagnosis::TimedOut,
        Diagnosis::NotReproducible,
        Diagnosis::Unsorted,
        Diagnosis::NotNormalized,
        Diagnosis::DuplicateMembers,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Parses an id.
    pub fn from_id(id: &str) -> Option<Diagnosis> {
        Diagnosis::ALL.into_iter().find(|d| d.id() == id)
    }

    /// The fixes, per tool.
    pub fn fixes(self) -> &'static [Fix] {
        self.info().fixes
    }

    /// The property it breaks first.
    fn breaks(self) -> Property {
        use Diagnosis as D;
        match self {
            D::DotNamesMissing
            | D::EmptyDirsDropped
            | D::ExecBitsLost
            | D::EscapingLinksDropped => Property::Fidelity,
            D::ExtraTopFolder | D::AbsoluteNames => Property::RelativeNames,
            D::SymlinksStored | D::HardLinksStored | D::SpecialFilesStored => Property::MemberTypes,
            D::OutsideBytes | D::OutputInsideModelDir => Property::Containment,
            D::SpecialFilesDropped | D::SpecialFilesRead => Property::SpecialFiles,
            D::PartialArchiveLeft | D::SilentFailure | D::TimedOut => Property::LoudFailure,
            D::ExitZeroWithoutArchive | D::RefusedValidModelDir => Property::ExitAndOutput,
            D::NotReproducible => Property::Deterministic,
            D::Unsorted => Property::Sorted,
            D::NotNormalized => Property::Normalized,
            D::DuplicateMembers => Property::NoDuplicates,
        }
    }

    /// The registry row.
    pub fn info(self) -> Info {
        use Diagnosis as D;
        let (id, title, fixes): (&'static str, &'static str, &'static [Fix]) = match self {
            D::DotNamesMissing => (
                "dot-names-missing",
                "names that start with `.` are missing",
                &[
                    (TAR, "archive `.`, not `*`: `tar -czf OUT -C MODEL_DIR .` (a shell `*` skips names that start with `.`)"),
                    (TARFILE, "`tar.add(model_dir, arcname=\".\")`, or loop over `os.listdir(model_dir)`, which lists dot-names (`glob.glob(\"*\")` skips them)"),
                    (SHUTIL, "`shutil.make_archive(base, \"gztar\", root_dir=model_dir)` packs dot-names too"),
                ],
            ),
            D::ExtraTopFolder => (
                "extra-top-folder",
                "every member sits under one extra folder",
                &[
                    (TAR, "`tar -czf OUT -C MODEL_DIR .` (not `-C PARENT model`): members at the archive root"),
                    (TARFILE, "`tar.add(model_dir, arcname=\".\")`, not `arcname=os.path.basename(model_dir)`"),
                    (SHUTIL, "`make_archive(base, \"gztar\", root_dir=model_dir)` with no `base_dir`"),
                ],
            ),
            D::AbsoluteNames => (
                "absolute-names",
                "member names carry the model dir's absolute path",
                &[
                    (TAR, "`tar -czf OUT -C MODEL_DIR .`, not `tar -czf OUT /path/to/model`"),
                    (TARFILE, "`tar.add(model_dir, arcname=\".\")`: without `arcname`, tarfile stores the path as given"),
                    (SHUTIL, "`make_archive(base, \"gztar\", root_dir=model_dir)`"),
                ],
            ),
            D::SymlinksStored => (
                "symlinks-stored",
                "symlinks are stored as links the consumer cannot extract",
                &[
                    (TAR, "refuse links that leave the dir (`find MODEL_DIR -type l`, check each `realpath`), then `tar -czhf` (`--dereference`) to store the files they point to"),
                    (TARFILE, "refuse links whose `os.path.realpath` is outside the model dir, then `tarfile.open(out, \"w:gz\", dereference=True)`"),
                    (SHUTIL, "it stores links as links: copy the dir with `shutil.copytree(model_dir, stage)` (links followed) after refusing links that leave it, and archive the copy"),
                ],
            ),
            D::HardLinksStored => (
                "hard-links-stored",
                "hard links are stored as link members",
                &[
                    (TAR, "`--hard-dereference` stores every name of a hard-linked file as a full copy"),
                    (TARFILE, "for a `TarInfo` with `islnk()`, set `info.type = tarfile.REGTYPE` and `info.size = os.path.getsize(path)`, then `tar.addfile(info, open(path, \"rb\"))`"),
                    (SHUTIL, "it goes through tarfile and stores the second name as a link: use tarfile as above"),
                ],
            ),
            D::OutsideBytes => (
                "outside-bytes",
                "bytes from outside the model dir are packed: a link that leaves it was followed",
                &[
                    (TAR, "`-h`/`--dereference` follows every link: first refuse links whose `realpath` leaves MODEL_DIR (exit non-zero, name them)"),
                    (TARFILE, "with `dereference=True`, first refuse links whose `os.path.realpath(p)` is not under `os.path.realpath(model_dir)`"),
                    (SHUTIL, "`copytree` follows links out of the dir too: make the same `realpath` check before copying"),
                ],
            ),
            D::EscapingLinksDropped => (
                "escaping-links-dropped",
                "a link that leaves the model dir (or dangles) is silently left out",
                &[(ANY, "exit non-zero and name the link: the model it belongs to is missing a file, and only a loud failure tells the user")],
            ),
            D::EmptyDirsDropped => (
                "empty-dirs-dropped",
                "empty directories are missing",
                &[
                    (TAR, "archive the dir (`-C MODEL_DIR .`), not a list of files from `find -type f`"),
                    (TARFILE, "`tar.add(model_dir, arcname=\".\")` adds dirs; a loop over `os.walk` files must also `tar.add(dirpath, arcname=…, recursive=False)` each dir"),
                    (SHUTIL, "`make_archive` keeps empty dirs: archive the dir itself"),
                ],
            ),
            D::ExecBitsLost => (
                "exec-bits-lost",
                "executable bits are lost",
                &[
                    (TAR, "GNU tar keeps modes: drop `--mode=…`"),
                    (TARFILE, "`tar.gettarinfo(path, arcname)` keeps the mode; a hand-built `TarInfo` needs `info.mode = os.stat(path).st_mode & 0o7777`"),
                    (SHUTIL, "`make_archive` keeps modes"),
                ],
            ),
            D::SpecialFilesStored => (
                "special-files-stored",
                "FIFOs or devices are stored, which the consumer refuses",
                &[
                    (TAR, "check first: `find MODEL_DIR -type p -o -type b -o -type c` must be empty, else exit non-zero naming them"),
                    (TARFILE, "refuse paths where `stat.S_ISFIFO`, `S_ISCHR` or `S_ISBLK` holds for `os.lstat(p).st_mode` before adding"),
                    (SHUTIL, "it stores them as tarfile does: make the same check first"),
                ],
            ),
            D::SpecialFilesDropped => (
                "special-files-dropped",
                "FIFOs or devices are silently left out",
                &[(ANY, "exit non-zero and name the FIFO or device instead of skipping it (a FIFO left by a logger is a bug the user must see)")],
            ),
            D::SpecialFilesRead => (
                "special-files-read",
                "FIFOs or devices are read as if they were files",
                &[
                    (ANY, "never `open()` a path before `stat.S_ISREG(os.lstat(p).st_mode)`: opening a FIFO waits for a writer that never comes"),
                    (TAR, "GNU tar stores a FIFO without reading it; do not pre-read files (`cat`, `cp`) into the archive"),
                ],
            ),
            D::PartialArchiveLeft => (
                "partial-archive-left",
                "a failed run leaves a file at the output path",
                &[
                    (TAR, "write to a temp file and rename on success: `tar -czf \"$OUT.tmp\" … && mv \"$OUT.tmp\" \"$OUT\"`, with `trap 'rm -f \"$OUT.tmp\"' EXIT`"),
                    (TARFILE, "write to `out + \".tmp\"`, `os.replace(tmp, out)` on success, `os.remove(tmp)` in `except` before re-raising"),
                    (SHUTIL, "make the archive under a temp base name, then `os.replace` it into place"),
                ],
            ),
            D::ExitZeroWithoutArchive => (
                "exit-zero-without-archive",
                "the packager exits 0 without writing the archive",
                &[(ANY, "exit non-zero when the archive was not written: `set -e` in sh, no bare `except: pass` in Python, check `os.path.isfile(out)` before exiting 0")],
            ),
            D::OutputInsideModelDir => (
                "output-inside-model-dir",
                "the archive is written inside the model dir and packs a copy of itself",
                &[
                    (TAR, "`-f` outside the dir being packed (GNU tar skips only the final archive, not a temp file)"),
                    (TARFILE, "open the archive (and any temp file) outside `model_dir`"),
                    (SHUTIL, "a `base_name` outside `root_dir`"),
                ],
            ),
            D::SilentFailure => (
                "silent-failure",
                "a failed run says nothing on stderr",
                &[(ANY, "print why to stderr before exiting non-zero")],
            ),
            D::RefusedValidModelDir => (
                "refused-valid-model-dir",
                "the packager fails on a model dir it must pack",
                &[(ANY, "its stderr says what it tripped on; a packager may refuse only what the target cannot take (`packtest contract`)")],
            ),
            D::TimedOut => (
                "timed-out",
                "the packager ran past the timeout and was killed",
                &[(ANY, "look for a read that blocks (a FIFO, stdin, a lock); if it is only slow, raise the limit with `--timeout SECS`")],
            ),
            D::NotReproducible => (
                "not-reproducible",
                "the archive's bytes change between runs",
                &[
                    (TAR, "`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C MODEL_DIR . | gzip -n > OUT`"),
                    (TARFILE, "walk in sorted order, set `info.mtime = 0`, `uid = gid = 0`, and write through `gzip.GzipFile(fileobj=f, mode=\"wb\", mtime=0)`"),
                    (SHUTIL, "it stamps mtimes and the gzip header: use tarfile as above"),
                ],
            ),
            D::Unsorted => (
                "unsorted",
                "members come in the order the filesystem lists them",
                &[
                    (TAR, "`--sort=name`"),
                    (TARFILE, "`sorted()` each `os.walk` list (`dirs.sort()` in place, then files)"),
                    (SHUTIL, "it walks in filesystem order: use tarfile as above"),
                ],
            ),
            D::NotNormalized => (
                "not-normalized",
                "owners, mtimes or the gzip header carry the build machine's values",
                &[
                    (TAR, "`--owner=0 --group=0 --numeric-owner --mtime=@0`, and `gzip -n`"),
                    (TARFILE, "a `filter=` that sets `uid = gid = 0`, `uname = gname = \"\"`, `mtime = 0`; `gzip.GzipFile(…, mtime=0)`"),
                    (SHUTIL, "`make_archive(…, owner=\"root\", group=\"root\")` fixes owners only: use tarfile as above"),
                ],
            ),
            D::DuplicateMembers => (
                "duplicate-members",
                "a member path appears twice",
                &[(ANY, "add each path once: archiving the dir already includes every file under it; do not also name them")],
            ),
        };
        Info {
            id,
            title,
            fixes,
            breaks: self.breaks(),
        }
    }
}

/// A diagnosis found in one run: its headline with this run's paths, one example from the
/// evidence, and the violations it explains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosed {
    /// Which.
    #[serde(rename = "id")]
    pub diagnosis: Diagnosis,
    /// The headline, in the packager's terms, naming this run's paths.
    pub headline: String,
    /// One example from the evidence (a path and what happened to it).
    pub example: String,
    /// Lines that support the example: the packager's stderr, first and last lines.
    pub details: Vec<String>,
    /// Indices (into the run's violations) of the violations this cause explains.
    pub explains: Vec<usize>,
}

/// The model dir's extra folder, as `relative-names` found it.
#[derive(Clone, Debug)]
pub(super) enum WrongRoot {
    /// The model dir's absolute path (`tar -czf OUT /abs/model`).
    Absolute(RawPath),
    /// One extra top-level folder (`model/`).
    Folder(RawPath),
}

impl WrongRoot {
    /// The folder every member sits under.
    pub fn path(&self) -> &RawPath {
        match self {
            WrongRoot::Absolute(p) | WrongRoot::Folder(p) => p,
        }
    }
}

/// The evidence of one run, as the contract's checks left it.
pub(super) struct Facts<'a> {
    pub target: Target,
    pub model_tree: &'a DiskTree,
    pub expected: &'a Expected,
    pub outcome: &'a PackOutcome,
    /// A failed run: the size of the file it left at the output path.
    pub output_left: Option<u64>,
    /// The model dir holds something a packager may refuse.
    pub refusable: bool,
    pub wrong_root: Option<WrongRoot>,
    pub refusals: &'a [Refusal],
    pub gaps: Gaps,
    pub contained: Contained,
    pub second_run: Option<&'a SecondRun>,
}

impl<'a> Facts<'a> {
    /// Facts with nothing found yet beyond the run itself.
    pub fn new(
        target: Target,
        model_tree: &'a DiskTree,
        expected: &'a Expected,
        outcome: &'a PackOutcome,
    ) -> Self {
        Facts {
            target,
            model_tree,
            expected,
            outcome,
            output_left: None,
            refusable: false,
            wrong_root: None,
            refusals: &[],
            gaps: Gaps::default(),
            contained: Contained::default(),
            second_run: None,
        }
    }
}

/// The indices of the violations of `p` whose path is in `paths`.
fn at(out: &[Violation], p: &Property, paths: &BTreeSet<RawPath>) -> Vec<usize> {
    out.iter()
        .enumerate()
        .filter(|(_, v)| &v.property == p && v.path.as_ref().is_some_and(|x| paths.contains(x)))
        .map(|(i, _)| i)
        .collect()
}

/// The indices of the violations of `p` (with a path, without one, or either).
fn of(out: &[Violation], p: &Property, path: Option<bool>) -> Vec<usize> {
    out.iter()
        .enumerate()
        .filter(|(_, v)| &v.property == p && path.is_none_or(|want| v.path.is_some() == want))
        .map(|(i, _)| i)
        .collect()
}

/// `` `a` `` or `` `a` and N more ``.
fn some(paths: &[RawPath]) -> String {
    match paths {
        [] => String::new(),
        [one] => format!("`{}`", one.display()),
        [first, rest @ ..] => format!("`{}` and {} more", first.display(), rest.len()),
    }
}

/// True when `p` is a dir with nothing under it in the expected tree.
fn is_empty_dir(expected: &Expected, p: &RawPath, kind: DiskKind) -> bool {
    kind == DiskKind::Dir && !expected.tree.keys().any(|q| q != p && q.starts_with(p))
}

/// True when a component of `p` starts with `.`.
fn has_dot_name(p: &RawPath) -> bool {
    p.components().any(|c| c.first() == Some(&b'.'))
}

/// The diagnoses of one run, each with the violations (indices into `out`) it explains.
pub(super) fn diagnose(f: &Facts<'_>, out: &[Violation]) -> Vec<Diagnosed> {
    let mut found = Vec::new();
    let mut add = |d: Diagnosis, headline: String, example: String, explains: Vec<usize>| {
        found.push(Diagnosed {
            diagnosis: d,
            headline,
            example,
            details: Vec::new(),
            explains,
        })
    };
    run_end(f, out, &mut add);
    names(f, out, &mut add);
    member_types(f, out, &mut add);
    containment(f, out, &mut add);
    tree(f, out, &mut add);
    strict(f, out, &mut add);
    if let Some(i) = of(out, &Property::NoDuplicates, None).first() {
        let n = of(out, &Property::NoDuplicates, None);
        let path = out[*i].path.clone().unwrap_or_default();
        add(
            Diagnosis::DuplicateMembers,
            format!(
                "{} member path(s) appear twice, e.g. `{}`",
                n.len(),
                path.display()
            ),
            out[*i].to_string(),
            n,
        );
    }
    fold_aggregates(f, out, &mut found);
    // A packager that failed said why on stderr: that is the example's support.
    if !f.outcome.exit.success() && f.outcome.exit != Exit::TimedOut {
        let excerpt = super::stderr_excerpt(&f.outcome.stderr);
        for d in found.iter_mut().filter(|d| {
            matches!(
                d.diagnosis,
                Diagnosis::RefusedValidModelDir | Diagnosis::PartialArchiveLeft
            )
        }) {
            d.details = excerpt.clone();
        }
    }
    found
}

type Add<'a> = dyn FnMut(Diagnosis, String, String, Vec<usize>) + 'a;

/// How the run ended: timeouts, silence, files left behind, refusals, exit 0 with nothing.
fn run_end(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let o = f.outcome;
    if o.exit.success() {
        let idx = of(out, &Property::ExitAndOutput, Some(true));
        if !idx.is_empty() {
            add(
                Diagnosis::ExitZeroWithoutArchive,
                "the packager exits 0 but writes no archive at the output path: a silent failure"
                    .into(),
                out[idx[0]].to_string(),
                idx,
            );
        }
        return;
    }
    let stderr_last = String::from_utf8_lossy(&o.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| super::elide(l.trim()))
        .unwrap_or_default();
    if o.exit == Exit::TimedOut {
        let fifo: Vec<RawPath> = f
            .model_tree
            .entries
            .iter()
            .filter(|(_, e)| e.kind.is_special())
            .map(|(p, _)| p.clone())
            .collect();
        let secs = o.duration.as_secs_f64();
        let idx = of(out, &Property::LoudFailure, None);
        if fifo.is_empty() {
            add(
                Diagnosis::TimedOut,
                format!("the packager ran past the per-run limit and was killed after {secs:.1} s (raise the limit with `--timeout SECS` if it is only slow)"),
                format!("killed after {secs:.1} s; the model dir holds no FIFO, so look for another read that blocks"),
                idx,
            );
        } else {
            add(
                Diagnosis::SpecialFilesRead,
                format!("the packager opened the FIFO {} and waited for a writer that never comes: killed after {secs:.1} s (the per-run limit, `--timeout SECS`)", some(&fifo)),
                format!("`{}` is a FIFO; the run was killed at the time limit", fifo[0].display()),
                idx,
            );
        }
        return;
    }
    if o.stderr.iter().all(u8::is_ascii_whitespace) {
        add(
            Diagnosis::SilentFailure,
            format!("the packager fails ({}) without a word on stderr", o.exit),
            format!("{} and an empty stderr", o.exit),
            of(out, &Property::LoudFailure, Some(false)),
        );
    }
    if let Some(size) = f.output_left {
        add(
            Diagnosis::PartialArchiveLeft,
            format!("a failed run ({}) leaves a {size}-byte file at the output path: it writes the archive in place and does not remove it", o.exit),
            match stderr_last.as_str() {
                "" => format!("{}, {size} bytes left at the output path", o.exit),
                last => format!("{}, {size} bytes left at the output path; stderr: {last}", o.exit),
            },
            of(out, &Property::LoudFailure, Some(true)),
        );
    }
    if !f.refusable {
        add(
            Diagnosis::RefusedValidModelDir,
            format!(
                "the packager fails ({}) on a model dir that holds nothing it may refuse for `{}`",
                o.exit, f.target
            ),
            match stderr_last.as_str() {
                "" => format!("{} and nothing on stderr", o.exit),
                last => format!("stderr: {last}"),
            },
            of(out, &Property::ExitAndOutput, Some(false)),
        );
    }
}

/// A wrong root: the absolute path, or one extra folder.
fn names(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let (d, prefix, headline) = match &f.wrong_root {
        None => return,
        Some(WrongRoot::Absolute(p)) => (
            Diagnosis::AbsoluteNames,
            p,
            format!("every member name starts with the model dir's absolute path `{}/`", p.display()),
        ),
        Some(WrongRoot::Folder(p)) => (
            Diagnosis::ExtraTopFolder,
            p,
            format!("every member sits under one extra folder `{}/`: the consumer finds `{}/…` where it looks for the model files", p.display(), p.display()),
        ),
    };
    let paths = BTreeSet::from([prefix.clone()]);
    let idx = at(out, &Property::RelativeNames, &paths);
    let example = idx.first().map(|&i| out[i].to_string()).unwrap_or_default();
    add(d, headline, example, idx);
}

/// Members the consumer refuses by type: links and special files.
fn member_types(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let consumer = f.target.spec().short;
    let grade = |d: Diagnosis| -> &'static str {
        match (f.target, d) {
            (Target::Sagemaker, Diagnosis::HardLinksStored | Diagnosis::SpecialFilesStored) => {
                " (a conservative rule: hosting's extractor is closed and nothing public says either way)"
            }
            _ => "",
        }
    };
    let classes: [(Diagnosis, &[&str]); 3] = [
        (Diagnosis::SymlinksStored, &["symlink"]),
        (Diagnosis::HardLinksStored, &["hardlink"]),
        (
            Diagnosis::SpecialFilesStored,
            &["fifo", "char-device", "block-device"],
        ),
    ];
    for (d, kinds) in classes {
        let mine: Vec<&Refusal> = f
            .refusals
            .iter()
            .filter(|r| kinds.contains(&r.member_kind.as_str()))
            .filter(|r| {
                matches!(
                    r.kind,
                    crate::target::extract::RefusalKind::MemberType
                        | crate::target::extract::RefusalKind::LinkTarget
                )
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let names: Vec<RawPath> = mine.iter().map(|r| r.name.clone()).collect();
        let by_target = mine
            .iter()
            .all(|r| r.kind == crate::target::extract::RefusalKind::LinkTarget);
        let what = match d {
            Diagnosis::SymlinksStored if by_target => {
                "symlinks whose targets are absolute or leave the model dir are stored as links"
            }
            Diagnosis::SymlinksStored => "symlinks are stored as links",
            Diagnosis::HardLinksStored => "hard links are stored as link members",
            _ => "FIFOs or devices are stored as such",
        };
        let headline = format!(
            "{what} ({}), which {consumer} cannot extract{}",
            some(&names),
            grade(d)
        );
        let example = format!("`{}`: {}", mine[0].name.display(), mine[0].message);
        let paths: BTreeSet<RawPath> = names.into_iter().collect();
        add(
            d,
            headline,
            example,
            at(out, &Property::MemberTypes, &paths),
        );
    }
}

/// Outside bytes and self-inclusion.
fn containment(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let c = &f.contained;
    let followed: Vec<&RawPath> = f
        .gaps
        .not_refused
        .iter()
        .filter(|(_, k, found)| *k == DiskKind::Symlink && found.is_some())
        .map(|(p, _, _)| p)
        .collect();
    if !c.outside.is_empty() || !followed.is_empty() {
        let members: Vec<RawPath> = c
            .outside
            .iter()
            .map(|(m, _)| m.clone())
            .chain(followed.iter().map(|p| (*p).clone()))
            .collect();
        let example = match c.outside.first() {
            Some((m, src)) => format!(
                "`{}` holds the bytes of `{}`, which is outside the model dir",
                m.display(),
                src.display()
            ),
            None => format!(
                "`{}` is a link that leaves the model dir (or dangles), and the packager stored what it found there",
                members[0].display()
            ),
        };
        let paths: BTreeSet<RawPath> = members.iter().cloned().collect();
        let mut idx = at(out, &Property::Containment, &paths);
        idx.extend(at(out, &Property::Fidelity, &paths));
        idx.sort_unstable();
        add(
            Diagnosis::OutsideBytes,
            format!(
                "a link that leaves the model dir was followed, and the bytes it reached are packed ({})",
                some(&members)
            ),
            example,
            idx,
        );
    }
    if !c.itself.is_empty() {
        let paths: BTreeSet<RawPath> = c.itself.iter().cloned().collect();
        add(
            Diagnosis::OutputInsideModelDir,
            format!(
                "the archive holds a copy of itself as it was being written ({}): it was written inside the model dir",
                some(&c.itself)
            ),
            format!(
                "`{}` is not in the model dir and its bytes are the start of the output archive",
                c.itself[0].display()
            ),
            at(out, &Property::Containment, &paths),
        );
    }
}

/// What the consumer lacks: dot-names, empty dirs, exec bits, escaping links, specials.
fn tree(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let g = &f.gaps;
    let dropped_links: Vec<RawPath> = g
        .not_refused
        .iter()
        .filter(|(_, k, found)| *k == DiskKind::Symlink && found.is_none())
        .map(|(p, _, _)| p.clone())
        .collect();
    if !dropped_links.is_empty() {
        let paths: BTreeSet<RawPath> = dropped_links.iter().cloned().collect();
        add(
            Diagnosis::EscapingLinksDropped,
            format!(
                "links that leave the model dir or dangle ({}) are silently left out, where `{}` needs a loud failure",
                some(&dropped_links),
                f.target
            ),
            format!("`{}`: left out, and the packager exited 0", dropped_links[0].display()),
            at(out, &Property::Fidelity, &paths),
        );
    }
    let special = |want_read: bool| -> Vec<RawPath> {
        g.specials
            .iter()
            .map(|(p, found)| (p, found.is_some()))
            .chain(
                g.not_refused
                    .iter()
                    .filter(|(_, k, _)| k.is_special())
                    .map(|(p, _, found)| (p, found.is_some())),
            )
            .filter(|(_, read)| *read == want_read)
            .map(|(p, _)| p.clone())
            .collect()
    };
    for (d, paths, what) in [
        (
            Diagnosis::SpecialFilesDropped,
            special(false),
            "are silently left out",
        ),
        (
            Diagnosis::SpecialFilesRead,
            special(true),
            "are read and stored as regular files",
        ),
    ] {
        if paths.is_empty() {
            continue;
        }
        let set: BTreeSet<RawPath> = paths.iter().cloned().collect();
        add(
            d,
            format!("FIFOs or devices ({}) {what}", some(&paths)),
            format!(
                "`{}`: {}, and the packager exited 0",
                paths[0].display(),
                if d == Diagnosis::SpecialFilesDropped {
                    "left out"
                } else {
                    "read and stored as a regular file"
                }
            ),
            at(out, &Property::SpecialFiles, &set),
        );
    }
    let missing: Vec<(&RawPath, DiskKind)> = g
        .items
        .iter()
        .filter_map(|d| match d {
            DiffItem::Missing { path, kind } => Some((path, *kind)),
            _ => None,
        })
        .collect();
    let is_empty_dir = |p: &RawPath, k: DiskKind| is_empty_dir(f.expected, p, k);
    let dots: Vec<RawPath> = missing
        .iter()
        .filter(|(p, _)| has_dot_name(p))
        .map(|(p, _)| (*p).clone())
        .collect();
    let empties: Vec<RawPath> = missing
        .iter()
        .filter(|(p, k)| is_empty_dir(p, *k))
        .map(|(p, _)| (*p).clone())
        .collect();
    // A missing empty dir whose name starts with `.` fits both: it goes to the one the rest
    // of the evidence shows; with none, to dot-names when it is at the top level (a shell `*`
    // skips only those) and to empty dirs otherwise.
    let dot_only = dots.iter().any(|p| !empties.contains(p));
    let empty_only = empties.iter().any(|p| !dots.contains(p));
    let top_level = dots.iter().all(|p| p.components().count() == 1);
    let (dot_claims, empty_claims) = match (dot_only, empty_only) {
        (true, true) => (true, true),
        (true, false) => (true, false),
        (false, true) => (false, true),
        (false, false) => (top_level, !top_level),
    };
    if dot_claims && !dots.is_empty() {
        let glob = dots.iter().all(|p| {
            p.components()
                .next()
                .is_some_and(|c| c.first() == Some(&b'.'))
        });
        add(
            Diagnosis::DotNamesMissing,
            if glob {
                format!(
                    "names that start with `.` are missing ({}): a shell `*` skips them",
                    some(&dots)
                )
            } else {
                format!(
                    "names that start with `.` are missing ({}): a filter skips them",
                    some(&dots)
                )
            },
            format!("`{}`: on disk, missing from the archive", dots[0].display()),
            Vec::new(),
        );
    }
    if empty_claims && !empties.is_empty() {
        add(
            Diagnosis::EmptyDirsDropped,
            format!(
                "empty directories are missing ({}): the packager adds files, not dirs",
                some(&empties)
            ),
            format!(
                "`{}`: an empty dir on disk, missing from the archive",
                empties[0].display()
            ),
            Vec::new(),
        );
    }
    let exec: Vec<RawPath> = g
        .items
        .iter()
        .filter_map(|d| match d {
            DiffItem::ExecBits { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    if !exec.is_empty() {
        let example = g
            .items
            .iter()
            .find(|d| matches!(d, DiffItem::ExecBits { .. }))
            .map(ToString::to_string)
            .unwrap_or_default();
        add(
            Diagnosis::ExecBitsLost,
            format!("executable bits are lost ({})", some(&exec)),
            example,
            Vec::new(),
        );
    }
}

/// `--strict`: reproducibility, order, normalization.
fn strict(f: &Facts<'_>, out: &[Violation], add: &mut Add<'_>) {
    let det = of(out, &Property::Deterministic, None);
    if !det.is_empty() {
        let causes: Vec<String> = f.second_run.map(|s| s.causes.clone()).unwrap_or_default();
        let headline = match causes.as_slice() {
            [] => "the archive's bytes change between two runs on the same model dir".to_string(),
            [none] if none == "none" => "the archive's bytes change between two runs with nothing varied: it stamps the clock or is nondeterministic by itself".to_string(),
            vs => format!("the archive's bytes change with {}", vs.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")),
        };
        add(
            Diagnosis::NotReproducible,
            headline,
            out[det[0]].to_string(),
            det,
        );
    }
    for (p, d, headline) in [
        (
            Property::Sorted,
            Diagnosis::Unsorted,
            "members come in the order the filesystem lists them",
        ),
        (
            Property::Normalized,
            Diagnosis::NotNormalized,
            "owners, mtimes or the gzip header carry the build machine's values",
        ),
    ] {
        let idx = of(out, &p, None);
        if let Some(&i) = idx.first() {
            add(d, headline.into(), out[i].to_string(), idx);
        }
    }
}

/// The violations that stand for many findings at once: the one `fidelity` difference list
/// (explained when every difference in it is), and `member-types`' "N more" line.
fn fold_aggregates(f: &Facts<'_>, out: &[Violation], found: &mut [Diagnosed]) {
    // The fidelity difference list: every item must be claimed by a tree diagnosis.
    let tree_ds = [
        Diagnosis::DotNamesMissing,
        Diagnosis::EmptyDirsDropped,
        Diagnosis::ExecBitsLost,
    ];
    if !f.gaps.items.is_empty() {
        let dots: BTreeSet<RawPath> = f
            .gaps
            .items
            .iter()
            .map(|d| d.path().clone())
            .filter(has_dot_name)
            .collect();
        let present: BTreeSet<Diagnosis> = found.iter().map(|d| d.diagnosis).collect();
        let explained = f.gaps.items.iter().all(|d| match d {
            DiffItem::Missing { path, kind } => {
                (present.contains(&Diagnosis::DotNamesMissing) && dots.contains(path))
                    || (present.contains(&Diagnosis::EmptyDirsDropped)
                        && is_empty_dir(f.expected, path, *kind))
            }
            DiffItem::ExecBits { .. } => present.contains(&Diagnosis::ExecBitsLost),
            _ => false,
        });
        if explained {
            let first = f.gaps.items[0].path().clone();
            let idx: Vec<usize> = out
                .iter()
                .enumerate()
                .filter(|(_, v)| {
                    v.property == Property::Fidelity && v.path.as_ref() == Some(&first)
                })
                .map(|(i, _)| i)
                .collect();
            for d in found.iter_mut().filter(|d| tree_ds.contains(&d.diagnosis)) {
                d.explains.extend(idx.iter().copied());
            }
        }
    }
    // `member-types`' overflow line (no path) follows from the refusals the list names.
    let overflow = of(out, &Property::MemberTypes, Some(false));
    if !overflow.is_empty() {
        let type_ds = [
            Diagnosis::SymlinksStored,
            Diagnosis::HardLinksStored,
            Diagnosis::SpecialFilesStored,
        ];
        if let Some(d) = found.iter_mut().find(|d| type_ds.contains(&d.diagnosis)) {
            d.explains.extend(overflow);
        }
    }
    for d in found.iter_mut() {
        d.explains.sort_unstable();
        d.explains.dedup();
    }
}

/// The violations no diagnosis explains.
pub fn unexplained<'v>(violations: &'v [Violation], found: &[Diagnosed]) -> Vec<&'v Violation> {
    let explained: BTreeSet<usize> = found
        .iter()
        .flat_map(|d| d.explains.iter().copied())
        .collect();
    violations
        .iter()
        .enumerate()
        .filter(|(i, _)| !explained.contains(i))
        .map(|(_, v)| v)
        .collect()
}
