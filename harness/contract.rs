//! The packager contract of DESIGN §2, per deploy target: every property, with its stable id.
//!
//! [`check`] judges one packager run from the evidence the runner collected: the sandbox, the
//! tree digest before and after, the model dir as scanned before the run, and the outcome. It
//! reads the archive itself (never extracting) and returns [`Violation`]s, each explaining
//! itself: the property id, the offending member or path, what was expected and what was
//! found, and a short diff. The same function serves packtest's own tests, the runner, and a
//! platform team's `cargo test` (style anchor 7: ship the checker).
//!
//! The archive is judged by its consumer ([`crate::target`]): `member-types` lists the members
//! the target's consumer refuses, and `fidelity` compares what that consumer extracts with the
//! tree it must end up with, derived from the model dir ([`crate::target::expected`]).
//!
//! Attribution rules, so a defect is reported under the property that names it:
//! - a member the consumer refuses is `member-types`, and its path is not also `fidelity`;
//! - a FIFO or device that is missing or stored as another type is `special-files`, not
//!   `fidelity`;
//! - an archive whose members all sit under one extra folder is `relative-names` (wrong root),
//!   and `fidelity` is not also reported for it;
//! - archive content that equals a file outside the model dir, or an extra member named like
//!   the archive itself, is `containment` (and the extra member is not repeated as `fidelity`).
//! - a non-zero exit is acceptable (`loud-failure` then applies) only when the model dir holds
//!   something the target lets or makes a packager refuse (for `sagemaker`: a link that
//!   escapes, dangles or loops, a FIFO, a device; for every target: a socket). Failing on
//!   any other layout is an `exit-and-output` violation;
//! - succeeding on a model dir that the target requires refusing is `special-files` for a FIFO
//!   or device and `fidelity` for a link, unless the archive already breaks `member-types` or
//!   `containment` at that path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::archive::{ArchiveError, Compression, DiffItem, DiskTree, Limits, Manifest, MemberKind};
use crate::layout::{Digest, Node, RawPath, Sandbox};
use crate::packager::{Exit, PackOutcome};
use crate::target::extract::RefusalKind;
use crate::target::{Expected, Extraction, Gap, Target, World};

/// A property id (DESIGN §2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// `exit-and-output`
    ExitAndOutput,
    /// `valid-gzip`
    ValidGzip,
    /// `valid-tar`
    ValidTar,
    /// `relative-names`
    RelativeNames,
    /// `member-types`
    MemberTypes,
    /// `fidelity`
    Fidelity,
    /// `special-files`
    SpecialFiles,
    /// `containment`
    Containment,
    /// `no-duplicates`
    NoDuplicates,
    /// `loud-failure`
    LoudFailure,
    /// `source-untouched`
    SourceUntouched,
    /// `deterministic` (strict)
    Deterministic,
    /// `sorted` (strict)
    Sorted,
    /// `normalized` (strict)
    Normalized,
    /// A user-defined property.
    Custom(String),
}

impl Property {
    /// The default-profile properties.
    pub const DEFAULT: [Property; 11] = [
        Property::ExitAndOutput,
        Property::ValidGzip,
        Property::ValidTar,
        Property::RelativeNames,
        Property::MemberTypes,
        Property::Fidelity,
        Property::SpecialFiles,
        Property::Containment,
        Property::NoDuplicates,
        Property::LoudFailure,
        Property::SourceUntouched,
    ];

    /// The properties `--strict` adds.
    pub const STRICT: [Property; 3] = [
        Property::Deterministic,
        Property::Sorted,
        Property::Normalized,
    ];

    /// The stable kebab-case id.
    pub fn id(&self) -> &str {
        match self {
            Property::ExitAndOutput => "exit-and-output",
            Property::ValidGzip => "valid-gzip",
            Property::ValidTar => "valid-tar",
            Property::RelativeNames => "relative-names",
            Property::MemberTypes => "member-types",
            Property::Fidelity => "fidelity",
            Property::SpecialFiles => "special-files",
            Property::Containment => "containment",
            Property::NoDuplicates => "no-duplicates",
            Property::LoudFailure => "loud-failure",
            Property::SourceUntouched => "source-untouched",
            Property::Deterministic => "deterministic",
            Property::Sorted => "sorted",
            Property::Normalized => "normalized",
            Property::Custom(s) => s,
        }
    }

    /// Parses an id.
    pub fn from_id(id: &str) -> Option<Property> {
        Property::DEFAULT
            .into_iter()
            .chain(Property::STRICT)
            .find(|p| p.id() == id)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Property {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One broken property, explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// The offending member or path, if one.
    pub path: Option<RawPath>,
    /// What the contract expects.
    pub expected: String,
    /// What was found.
    pub found: String,
    /// A short diff or supporting lines (at most a dozen).
    pub details: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.property)?;
        if let Some(p) = &self.path {
            write!(f, " `{}`:", elide(&p.display()))?;
        }
        write!(f, " expected {}; found {}", self.expected, self.found)?;
        for d in &self.details {
            write!(f, "\n      {d}")?;
        }
        Ok(())
    }
}

fn v(
    property: Property,
    path: Option<RawPath>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> Violation {
    Violation {
        property,
        path,
        expected: expected.into(),
        found: found.into(),
        details: Vec::new(),
    }
}

const MAX_DETAILS: usize = 12;

/// File bytes in the whole sandbox.
fn sandbox_bytes(d: &Digest) -> u64 {
    d.nodes
        .values()
        .map(|n| match n {
            Node::File { size, .. } => *size,
            _ => 0,
        })
        .fold(0, u64::saturating_add)
}

/// How much a packager's archive may unpack to before reading stops: twice everything the
/// sandbox holds, 4 KiB of headers per path, and 256 MiB of slack. Even a packager that packs
/// the wrong directory stays under it and gets a precise diff; past it the data can only come
/// from outside the sandbox (a followed link to `/dev/zero`) or a bomb.
fn unpacked_limit(d: &Digest) -> u64 {
    sandbox_bytes(d)
        .saturating_mul(2)
        .saturating_add((d.nodes.len() as u64).saturating_mul(4096))
        .saturating_add(256 << 20)
}

/// Shortens a line past 160 characters, keeping both ends.
pub fn elide(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 160 {
        return line.to_owned();
    }
    let head: String = chars[..90].iter().collect();
    let tail: String = chars[chars.len() - 50..].iter().collect();
    format!("{head}…[{} chars]…{tail}", chars.len() - 140)
}

fn capped(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let all: Vec<String> = lines.into_iter().map(|l| elide(&l)).collect();
    let n = all.len();
    let mut out: Vec<String> = all.into_iter().take(MAX_DETAILS).collect();
    if n > MAX_DETAILS {
        out.push(format!("… and {} more", n - MAX_DETAILS));
    }
    out
}

/// Which profile and which deploy target to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContractOptions {
    /// Also check `deterministic`, `sorted` and `normalized`.
    pub strict: bool,
    /// The consumer the archive is judged by (DESIGN §2).
    pub target: Target,
}

/// What the runner observed for one packager run.
pub struct Evidence<'a> {
    /// The sandbox the packager ran in.
    pub sandbox: &'a Sandbox,
    /// The model dir as scanned before the run.
    pub model_tree: &'a DiskTree,
    /// The sandbox digest before the run.
    pub before: &'a Digest,
    /// The sandbox digest after the run.
    pub after: &'a Digest,
    /// How the packager ended.
    pub outcome: &'a PackOutcome,
    /// For `deterministic`: the sha256 of the second run's output, if it produced one.
    pub second_run: Option<Option<[u8; 32]>>,
}

/// The result of judging one run: the violations and the manifest (when one was read).
pub struct Judgement {
    /// Broken properties; empty means the case passed.
    pub violations: Vec<Violation>,
    /// The archive's manifest, when the output could be read.
    pub manifest: Option<Manifest>,
}

/// The tree `target`'s consumer must end up with, for the sandbox the evidence describes:
/// links resolve in the whole sandbox, as the kernel would resolve them for a packager.
pub fn expected_for(ev: &Evidence<'_>, target: Target) -> Expected {
    use std::os::unix::ffi::OsStrExt;
    let world = DiskTree::from_digest(ev.before, &RawPath::default());
    let model = RawPath::from(crate::layout::Root::Model.rel_dir());
    let abs = ev.sandbox.root().as_os_str().as_bytes();
    let w = World {
        entries: &world.entries,
        model: &model,
        abs_root: Some(abs),
    };
    crate::target::expected(&w, target)
}

/// Judges one run against the contract.
pub fn check(ev: &Evidence<'_>, opts: ContractOptions) -> Judgement {
    let mut out = Vec::new();
    let output = ev.sandbox.output_path();
    let expected = expected_for(ev, opts.target);

    let changes = ev.before.changes(ev.after);
    if !changes.is_empty() {
        let mut x = v(
            Property::SourceUntouched,
            None,
            "the sandbox identical before and after the run",
            format!("{} change(s)", changes.len()),
        );
        x.details = capped(changes);
        out.push(x);
    }

    let out_meta = fs::symlink_metadata(&output).ok();
    let out_is_file = out_meta.as_ref().is_some_and(|m| m.is_file());
    if !ev.outcome.exit.success() {
        if matches!(ev.outcome.exit, Exit::TimedOut) {
            out.push(v(
                Property::LoudFailure,
                None,
                "the packager to finish within the timeout",
                "it ran past the timeout and was killed",
            ));
        } else if ev.outcome.stderr.iter().all(|b| b.is_ascii_whitespace()) {
            out.push(v(
                Property::LoudFailure,
                None,
                "a failing packager to say why on stderr",
                format!("{} and nothing on stderr", ev.outcome.exit),
            ));
        }
        if out_meta.is_some() {
            out.push(v(
                Property::LoudFailure,
                Some(RawPath::from("out/model.tar.gz")),
                "no file at the output path after a failure",
                format!(
                    "{} and a {}-byte file left at the output path",
                    ev.outcome.exit,
                    out_meta.as_ref().map_or(0, |m| m.len())
                ),
            ));
        }
        if !expected.refusable() && !matches!(ev.outcome.exit, Exit::TimedOut) {
            let mut x = v(
                Property::ExitAndOutput,
                None,
                format!(
                    "exit 0 and an archive: this model dir has nothing a packager may refuse for target `{}`",
                    opts.target
                ),
                ev.outcome.exit.to_string(),
            );
            x.details = capped(
                String::from_utf8_lossy(&ev.outcome.stderr)
                    .lines()
                    .map(str::to_owned),
            );
            out.push(x);
        }
        return Judgement {
            violations: out,
            manifest: None,
        };
    }
    if !out_is_file {
        out.push(v(
            Property::ExitAndOutput,
            Some(RawPath::from("out/model.tar.gz")),
            "exit 0 and a regular file at the output path",
            match out_meta {
                None => "exit 0 and no file: a silent failure".to_string(),
                Some(m) => format!("exit 0 and a {:?} at the output path", m.file_type()),
            },
        ));
        return Judgement {
            violations: out,
            manifest: None,
        };
    }

    let limit = unpacked_limit(ev.before);
    let (manifest, err) = match fs::File::open(&output) {
        Ok(f) => Manifest::read_lenient(
            f,
            Limits {
                max_unpacked: Some(limit),
                ..Limits::default()
            },
        ),
        Err(e) => {
            out.push(v(
                Property::ExitAndOutput,
                None,
                "a readable archive",
                format!("cannot open it: {e}"),
            ));
            return Judgement {
                violations: out,
                manifest: None,
            };
        }
    };
    if let Some(ArchiveError::UnpackedLimit { .. }) = &err {
        // Not damage: the archive holds far more than the sandbox could supply, so it took
        // data from outside (a symlink to /dev/zero, a system dir) or invented it. Reading
        // on would only burn time; what was read is not a manifest to judge.
        out.push(v(
            Property::Fidelity,
            None,
            format!(
                "about the model dir's bytes (the whole sandbox holds {} bytes of files)",
                sandbox_bytes(ev.before)
            ),
            format!("more than {limit} bytes unpacked; reading stopped there"),
        ));
        return Judgement {
            violations: out,
            manifest: None,
        };
    }
    if manifest.compression != Compression::Gzip {
        out.push(v(
            Property::ValidGzip,
            None,
            "a gzip stream",
            "a plain tar or something else (no gzip magic)",
        ));
    }
    if let Some(e) = &err {
        let prop = if e.is_gzip_layer() {
            Property::ValidGzip
        } else {
            Property::ValidTar
        };
        if !(prop == Property::ValidGzip && manifest.compression != Compression::Gzip) {
            out.push(v(
                prop,
                None,
                "an intact archive",
                format!("{} ({})", e, e.class()),
            ));
        }
    }

    check_names(&manifest, ev.model_tree, &mut out);
    let wrong_root = out
        .iter()
        .any(|x| x.property == Property::RelativeNames && x.expected.contains("top-level"));
    check_duplicates(&manifest, &mut out);
    let extraction = crate::target::extract(&manifest, opts.target);
    let mut blamed = check_member_types(&extraction, &mut out);
    blamed.extend(check_containment(&manifest, ev, &mut out));
    if err.is_none() && !wrong_root {
        check_fidelity(&expected, &extraction, &blamed, &mut out);
    }
    if opts.strict {
        check_sorted(&manifest, &mut out);
        check_normalized(&manifest, &mut out);
        if let Some(second) = ev.second_run {
            let first = crate::layout::hash_file(&output).ok().map(|h| h.0);
            match second {
                None => out.push(v(
                    Property::Deterministic,
                    None,
                    "a second run to produce an archive too",
                    "the second run produced none",
                )),
                Some(h) if Some(h) != first => out.push(v(
                    Property::Deterministic,
                    None,
                    "byte-identical output from two runs (mtimes moved in between)",
                    "different bytes",
                )),
                _ => {}
            }
        }
    }
    Judgement {
        violations: out,
        manifest: Some(manifest),
    }
}

fn check_names(m: &Manifest, tree: &DiskTree, out: &mut Vec<Violation>) {
    for p in m.name_problems() {
        if matches!(p.class, "absolute" | "parent-dir") {
            out.push(v(
                Property::RelativeNames,
                Some(p.name.clone()),
                "a name relative to the model dir",
                p.reason,
            ));
        }
    }
    // One extra top-level folder: every member is under `X/`, and stripping `X/` gives the
    // model dir's own top level.
    let names: Vec<&RawPath> = m
        .members
        .iter()
        .filter(|x| !x.is_root_entry())
        .map(|x| &x.path)
        .collect();
    let Some(first) = names.first() else { return };
    let top = first
        .components()
        .next()
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if top.is_empty() || tree.entries.contains_key(&RawPath::new(top.clone())) {
        return;
    }
    let all_under = names
        .iter()
        .all(|n| n.components().next() == Some(top.as_slice()));
    let disk_top: BTreeSet<&[u8]> = tree
        .entries
        .keys()
        .filter_map(|k| k.components().next())
        .collect();
    let stripped_top: BTreeSet<&[u8]> =
        names.iter().filter_map(|n| n.components().nth(1)).collect();
    if all_under && !disk_top.is_empty() && stripped_top == disk_top {
        out.push(v(
            Property::RelativeNames,
            Some(RawPath::new(top.clone())),
            "members at the archive root, with no extra top-level folder",
            format!("every member under `{}/`", RawPath::new(top)),
        ));
    }
}

fn check_duplicates(m: &Manifest, out: &mut Vec<Violation>) {
    let mut count: BTreeMap<&RawPath, usize> = BTreeMap::new();
    for x in m.members.iter().filter(|x| !x.is_root_entry()) {
        *count.entry(&x.path).or_default() += 1;
    }
    for (p, n) in count.into_iter().filter(|(_, n)| *n > 1) {
        out.push(v(
            Property::NoDuplicates,
            Some(p.clone()),
            "each member path once",
            format!("{n} members at this path"),
        ));
    }
}

/// Returns the member paths blamed on containment, so fidelity does not repeat them.
fn check_containment(
    m: &Manifest,
    ev: &Evidence<'_>,
    out: &mut Vec<Violation>,
) -> BTreeSet<RawPath> {
    let model_prefix = RawPath::from(crate::layout::Root::Model.rel_dir());
    let mut inside: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut outside: BTreeMap<[u8; 32], &RawPath> = BTreeMap::new();
    for (p, n) in &ev.before.nodes {
        if let Node::File { sha256, size, .. } = n {
            if p.starts_with(&model_prefix) {
                inside.insert(*sha256);
            } else if *size > 0 {
                outside.entry(*sha256).or_insert(p);
            }
        }
    }
    let mut blamed = BTreeSet::new();
    let out_name = ev.sandbox.output_path();
    let out_name = out_name
        .file_name()
        .map(|n| n.as_encoded_bytes().to_vec())
        .unwrap_or_default();
    for x in &m.members {
        if x.kind != MemberKind::File {
            continue;
        }
        if let Some(h) = x.sha256 {
            if !inside.contains(&h) {
                if let Some(src) = outside.get(&h) {
                    out.push(v(
                        Property::Containment,
                        Some(x.path.clone()),
                        "only bytes from inside the model dir",
                        format!("the content of `{src}`, which is outside the model dir"),
                    ));
                    blamed.insert(x.path.clone());
                    continue;
                }
            }
        }
        let name = x.path.file_name();
        let on_disk = ev.model_tree.entries.contains_key(&x.path);
        if !on_disk
            && (name == out_name.as_slice()
                || name.ends_with(b".partial")
                || name.starts_with(b".packtest-"))
        {
            out.push(v(
                Property::Containment,
                Some(x.path.clone()),
                "the archive not to include itself",
                "a member named like the output archive, which is not in the model dir",
            ));
            blamed.insert(x.path.clone());
        }
    }
    blamed
}

/// `member-types`: the members the target's consumer refuses by type or by link target.
/// Returns their paths, so `fidelity` does not repeat them.
fn check_member_types(ex: &Extraction, out: &mut Vec<Violation>) -> BTreeSet<RawPath> {
    let spec = ex.target.spec();
    let mut blamed = BTreeSet::new();
    let refused: Vec<_> = ex
        .refusals
        .iter()
        .filter(|r| matches!(r.kind, RefusalKind::MemberType | RefusalKind::LinkTarget))
        .collect();
    for r in refused.iter().take(MAX_DETAILS) {
        out.push(v(
            Property::MemberTypes,
            Some(r.name.clone()),
            format!("only {} (what {} extracts)", spec.accepts, ex.target),
            r.message.clone(),
        ));
    }
    if refused.len() > MAX_DETAILS {
        out.push(v(
            Property::MemberTypes,
            None,
            format!("only {} (what {} extracts)", spec.accepts, ex.target),
            format!("{} more refused members", refused.len() - MAX_DETAILS),
        ));
    }
    blamed.extend(refused.iter().map(|r| r.name.clone()));
    blamed
}

fn check_fidelity(
    expected: &Expected,
    ex: &Extraction,
    blamed: &BTreeSet<RawPath>,
    out: &mut Vec<Violation>,
) {
    let mut items = Vec::new();
    for gap in crate::target::compare(expected, &ex.tree) {
        // A member blamed elsewhere takes what lies under it along (a link to a dir).
        if blamed.contains(gap.path()) || blamed.iter().any(|b| gap.path().starts_with(b)) {
            continue;
        }
        match gap {
            Gap::NotRefused {
                path,
                kind,
                reason,
                found,
            } => {
                let found = match found {
                    None => "the packager succeeded and silently left it out".to_string(),
                    Some(f) => format!("the packager succeeded and stored a {f}"),
                };
                let prop = if kind.is_special() {
                    Property::SpecialFiles
                } else {
                    Property::Fidelity
                };
                out.push(v(
                    prop,
                    Some(path),
                    format!("a loud failure: {reason}"),
                    found,
                ));
            }
            Gap::Diff(DiffItem::Missing { path, kind }) if kind.is_special() => out.push(v(
                Property::SpecialFiles,
                Some(path),
                format!("the {kind:?} stored as its type, or a loud failure"),
                "silently dropped",
            )),
            Gap::Diff(DiffItem::Kind {
                path,
                expected,
                found,
            }) if expected.is_special() => out.push(v(
                Property::SpecialFiles,
                Some(path),
                format!("the {expected:?} stored as its type"),
                format!("a {found} (was it read?)"),
            )),
            Gap::Diff(d) => items.push(d),
        }
    }
    if items.is_empty() {
        return;
    }
    let path = items[0].path().clone();
    let mut x = v(
        Property::Fidelity,
        Some(path),
        format!(
            "what {}'s consumer extracts to equal the model dir (`packtest contract`)",
            expected.target
        ),
        format!("{} difference(s)", items.len()),
    );
    x.details = capped(items.iter().map(ToString::to_string));
    out.push(x);
}

/// Depth-first order with each directory's entries sorted by name bytes (`tar --sort=name`).
fn depth_first_key(p: &RawPath) -> Vec<Vec<u8>> {
    p.components().map(<[u8]>::to_vec).collect()
}

fn check_sorted(m: &Manifest, out: &mut Vec<Violation>) {
    let names: Vec<&RawPath> = m
        .members
        .iter()
        .filter(|x| !x.is_root_entry())
        .map(|x| &x.path)
        .collect();
    let by_bytes = names.windows(2).all(|w| w[0] <= w[1]);
    let by_tree = names
        .windows(2)
        .all(|w| depth_first_key(w[0]) <= depth_first_key(w[1]));
    if !by_bytes && !by_tree {
        let bad = names
            .windows(2)
            .find(|w| depth_first_key(w[0]) > depth_first_key(w[1]));
        let mut x = v(
            Property::Sorted,
            bad.map(|w| w[1].clone()),
            "members sorted by path bytes, or depth-first by name",
            "an order that depends on the filesystem",
        );
        if let Some(w) = bad {
            x.details = vec![format!("`{}` comes after `{}`", w[1], w[0])];
        }
        out.push(x);
    }
    let mut seen: BTreeSet<&RawPath> = BTreeSet::new();
    for x in m.members.iter().filter(|x| !x.is_root_entry()) {
        if let Some(parent) = x.path.parent() {
            let parent_listed = m
                .members
                .iter()
                .any(|y| y.path == parent && y.kind == MemberKind::Dir);
            if parent_listed && !seen.contains(&parent) {
                out.push(v(
                    Property::Sorted,
                    Some(x.path.clone()),
                    "each directory before its children",
                    format!("`{}` before its directory `{parent}`", x.path),
                ));
                break;
            }
        }
        seen.insert(&x.path);
    }
}

fn check_normalized(m: &Manifest, out: &mut Vec<Violation>) {
    if let Some(x) = m.members.iter().find(|x| x.uid != 0 || x.gid != 0) {
        out.push(v(
            Property::Normalized,
            Some(x.path.clone()),
            "uid and gid 0",
            format!("uid {} gid {}", x.uid, x.gid),
        ));
    }
    // Readable by others (a server may run as a non-root user), nothing world-writable, no
    // setuid or setgid: the 0644/0755 style.
    if let Some(x) = m.members.iter().find(|x| {
        let need = match x.kind {
            MemberKind::File => 0o444,
            MemberKind::Dir => 0o555,
            _ => return false,
        };
        x.mode & need != need || x.mode & 0o6002 != 0
    }) {
        out.push(v(
            Property::Normalized,
            Some(x.path.clone()),
            "modes readable by others, nothing world-writable, no setuid/setgid (0644/0755 style)",
            format!("mode {:04o}", x.mode),
        ));
    }
    let mtimes: BTreeSet<i64> = m.members.iter().map(|x| x.mtime).collect();
    if mtimes.len() > 1 {
        out.push(v(
            Property::Normalized,
            None,
            "one fixed mtime for every member",
            format!("{} different mtimes", mtimes.len()),
        ));
    }
    if let Some(h) = &m.gzip_header {
        if h.mtime != 0 {
            out.push(v(
                Property::Normalized,
                None,
                "gzip header mtime 0",
                format!("mtime {}", h.mtime),
            ));
        }
        if let Some(n) = &h.file_name {
            out.push(v(
                Property::Normalized,
                None,
                "no file name in the gzip header",
                format!("FNAME `{}`", String::from_utf8_lossy(n)),
            ));
        }
    }
}

/// Scans the model dir for [`Evidence::model_tree`].
pub fn scan_model_dir(model_dir: &Path) -> Result<DiskTree, crate::layout::SandboxError> {
    DiskTree::scan(model_dir)
}
