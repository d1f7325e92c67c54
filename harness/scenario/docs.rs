//! Rendering the scenario library: the tree of a layout, what the reference packager, each
//! target's consumer and the detector make of a scenario ([`observe`]), and
//! `scenarios/README.md` ([`render_docs`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{Scenario, ScenarioFramework, ScenarioLibrary};
use crate::layout::{EntryKind, Layout, Root};
use crate::target::Target;

/// The tree of a layout as lines (`model/`, `  code/inference.py`, …), per root.
pub fn render_tree(l: &Layout) -> String {
    let mut out = String::new();
    for root in Root::ALL {
        let entries: Vec<_> = l.in_root(root).collect();
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}/", root.rel_dir());
        let mut sorted = entries;
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        for e in sorted {
            let what = match &e.kind {
                EntryKind::File { content, mode } => {
                    let exec = if mode & 0o111 != 0 {
                        ", executable"
                    } else {
                        ""
                    };
                    format!("{} bytes{exec}", content.len())
                }
                EntryKind::Dir { .. } => "dir".into(),
                EntryKind::Symlink { target } => format!("symlink -> {target}"),
                EntryKind::Hardlink { target, .. } => format!("hard link to {target}"),
                EntryKind::Fifo { .. } => "FIFO".into(),
                EntryKind::Socket => "socket".into(),
            };
            let _ = writeln!(
                out,
                "  {}  ({what})",
                crate::contract::elide(&e.path.display())
            );
        }
    }
    out
}

/// What one deploy target sees of a scenario.
pub struct TargetObserved {
    /// The target.
    pub target: Target,
    /// `packtest inspect`-style lines of `ReferencePackager::for_target(target)`'s archive,
    /// or its refusal (sandbox paths redacted).
    pub archive: Vec<String>,
    /// True when that reference packager succeeded.
    pub packed: bool,
    /// What the target's consumer model makes of a typical packager's archive (links stored
    /// as links): `extracts`, or one line per refused member.
    pub consumer: Vec<String>,
    /// True when the consumer extracts that archive without refusing anything.
    pub extracts: bool,
}

/// What the reference packager, the consumers and the detector say about a scenario.
pub struct Observed {
    /// Per target, in [`Target::ALL`] order.
    pub targets: Vec<TargetObserved>,
    /// The detector's findings (default options, so target `sagemaker`).
    pub findings: Vec<crate::detect::Finding>,
}

impl Observed {
    /// What `t` sees.
    pub fn target(&self, t: Target) -> &TargetObserved {
        self.targets
            .iter()
            .find(|x| x.target == t)
            .expect("observe covers every target")
    }
}

/// `packtest inspect`-style lines of a manifest: kind, mode, size, sha256 prefix, path.
pub fn manifest_lines(m: &crate::archive::Manifest) -> Vec<String> {
    m.members
        .iter()
        .map(|x| {
            let sha = x
                .sha256
                .map(|h| crate::layout::RawPath::new(h[..4].to_vec()).to_hex())
                .unwrap_or_else(|| "-".into());
            let target = x
                .link_target
                .as_ref()
                .map(|t| format!(" -> {t}"))
                .unwrap_or_default();
            format!(
                "{:<9} {:04o} {:>9} {:<8} {}{target}",
                x.kind.name(),
                x.mode,
                x.size,
                sha,
                crate::contract::elide(&x.path.display())
            )
        })
        .collect()
}

/// Packs a scenario's model dir with the reference packager for every target, models each
/// target's consumer on a typical packager's archive of it, and runs the detector.
///
/// The typical archive is the reference packager's `posix` archive: like `tar -czf OUT -C
/// model_dir .` it stores symlinks as symlinks, hard links as link entries and FIFOs as
/// FIFOs (its modes are normalized, which no consumer model looks at).
pub fn observe(layout: &Layout) -> Result<Observed, String> {
    let sb = crate::layout::Sandbox::materialize(layout).map_err(|e| e.to_string())?;
    let dirs = crate::detect::JobDirs::from_sandbox(&sb);
    let findings = crate::detect::detect(&dirs, &crate::detect::DetectOptions::default())
        .map_err(|e| e.to_string())?;
    // Outputs go outside the sandbox, one per target, named so redact_paths hides them.
    let outs = tempfile::Builder::new()
        .prefix("packtest-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let read = |p: &Path| {
        crate::archive::Manifest::read_path(p, Default::default()).map_err(|e| e.to_string())
    };
    let typical_path = outs.path().join("typical.tar.gz");
    crate::packager::ReferencePackager::for_target(Target::Posix)
        .pack_dir(&sb.model_dir(), &typical_path)
        .map_err(|e| format!("the typical (posix) archive could not be made: {e}"))?;
    let typical = read(&typical_path)?;
    let mut targets = Vec::new();
    for t in Target::ALL {
        let out = outs.path().join(format!("{}.tar.gz", t.id()));
        let (packed, archive) = match crate::packager::ReferencePackager::for_target(t)
            .pack_dir(&sb.model_dir(), &out)
        {
            Ok(_) => (true, manifest_lines(&read(&out)?)),
            Err(e) => (
                false,
                vec![format!(
                    "the reference packager refused: {}",
                    crate::layout::redact_paths(&e.to_string())
                )],
            ),
        };
        let x = crate::target::extract(&typical, t);
        let consumer = if x.refusals.is_empty() {
            vec!["extracts".to_string()]
        } else {
            x.refusals
                .iter()
                .map(|r| {
                    format!(
                        "refuses {} ({}): {}",
                        crate::contract::elide(&r.name.display()),
                        r.member_kind,
                        crate::layout::redact_paths(&r.message)
                    )
                })
                .collect()
        };
        targets.push(TargetObserved {
            target: t,
            archive,
            packed,
            extracts: x.refusals.is_empty(),
            consumer,
        });
    }
    Ok(Observed { targets, findings })
}

/// Renders `scenarios/README.md`.
pub fn render_docs(lib: &ScenarioLibrary) -> Result<String, String> {
    let mut s = intro(lib);
    for (sc, layout, _) in lib.scenarios.values() {
        s.push_str(&section(sc, layout)?);
    }
    Ok(s)
}

/// The page's opening: what the library is, and its contents by framework and by tag.
fn intro(lib: &ScenarioLibrary) -> String {
    let mut s = String::new();
    s.push_str("# The packtest scenario library\n\n");
    s.push_str("<!-- Generated by `packtest scenarios docs`; do not edit by hand. -->\n\n");
    s.push_str("Each scenario is a real way a training job's `model.tar.gz` goes wrong, taken from public bug reports and\n");
    s.push_str("documentation: what the user did, the job directory as they left it, what a packager puts in the archive, what\n");
    s.push_str("`packtest check` reports, and the fix. Correct layouts are included as negative controls: packtest must stay\n");
    s.push_str("silent on them. Every scenario is a test (`cargo test`), and `packtest run --scenarios scenarios/` replays them\n");
    s.push_str("all against any packager.\n\n");
    s.push_str("Every scenario also states, for each deploy target (`sagemaker`, the default; `posix`; `kserve`; see\n");
    s.push_str("`packtest contract`), what packtest's reference packager does (`packtest pack --target T`: it packs, or it\n");
    s.push_str("refuses loudly what that target's consumer cannot take) and what that consumer does with the archive a typical\n");
    s.push_str("packager writes (`tar -czf model.tar.gz -C model_dir .`, which stores links as links; `packtest unpack --target T`\n");
    s.push_str("models it).\n\n");
    s.push_str(&format!(
        "{} scenarios.\n\n## Contents by framework\n\n",
        lib.scenarios.len()
    ));
    let mut by_fw: BTreeMap<ScenarioFramework, Vec<&Scenario>> = BTreeMap::new();
    let mut by_tag: BTreeMap<&str, Vec<&Scenario>> = BTreeMap::new();
    for (sc, _, _) in lib.scenarios.values() {
        by_fw.entry(sc.framework).or_default().push(sc);
        for t in &sc.tags {
            by_tag.entry(t.as_str()).or_default().push(sc);
        }
    }
    for (fw, list) in &by_fw {
        s.push_str(&format!("- **{}**: ", fw.title()));
        s.push_str(
            &list
                .iter()
                .map(|x| format!("[{}](#{})", x.title, x.id))
                .collect::<Vec<_>>()
                .join(" · "),
        );
        s.push('\n');
    }
    s.push_str("\n## Contents by tag\n\n");
    for (tag, list) in &by_tag {
        s.push_str(&format!(
            "- `{tag}`: {}\n",
            list.iter()
                .map(|x| format!("[{}](#{})", x.id, x.id))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}

/// One scenario's section: its story, its tree, its archives, its targets, its findings.
fn section(sc: &Scenario, layout: &Layout) -> Result<String, String> {
    let obs = observe(layout)?;
    let mut s = String::new();
    s.push_str(&format!("\n<a id=\"{}\"></a>\n## {}\n\n", sc.id, sc.title));
    s.push_str(&format!(
        "`{}` · {} · tags: {}\n\n",
        sc.id,
        sc.framework.title(),
        sc.tags
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s.push_str(&format!("{}\n\n", sc.summary.trim()));
    s.push_str("**The job as the user left it**\n\n```text\n");
    s.push_str(&render_tree(layout));
    s.push_str("```\n\n");
    archives(&mut s, &obs);
    targets_table(&mut s, sc, &obs);
    findings_list(&mut s, &obs);
    s.push_str(&format!("**Fix.** {}\n\n", sc.fix.trim()));
    s.push_str("**Sources.** ");
    s.push_str(
        &sc.sources
            .iter()
            .map(|u| format!("<{u}>"))
            .collect::<Vec<_>>()
            .join(" · "),
    );
    s.push('\n');
    Ok(s)
}

/// What the archive holds, per target; targets whose archive equals `sagemaker`'s are named
/// beside it instead of repeated.
fn archives(s: &mut String, obs: &Observed) {
    let def = obs.target(Target::Sagemaker);
    let same: Vec<String> = obs
        .targets
        .iter()
        .filter(|t| t.target != Target::Sagemaker && t.archive == def.archive)
        .map(|t| format!("`{}`", t.target.id()))
        .collect();
    for t in &obs.targets {
        if t.target != Target::Sagemaker && t.archive == def.archive {
            continue;
        }
        let note = match (t.target, same.is_empty()) {
            (Target::Sagemaker, true) => ", the default".to_string(),
            (Target::Sagemaker, false) => {
                format!(", the default; {} give the same", same.join(" and "))
            }
            _ => String::new(),
        };
        s.push_str(&format!(
            "**What the archive holds** (`packtest pack --target {}`{note}; kind, mode, size, sha256 prefix, path)\n\n```text\n",
            t.target.id(),
        ));
        if t.archive.is_empty() {
            s.push_str("(no members: the archive is empty)\n");
        }
        for l in &t.archive {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("```\n\n");
    }
}

/// The per-target table: the reference packager, the typical archive, the consumer.
fn targets_table(s: &mut String, sc: &Scenario, obs: &Observed) {
    s.push_str("**Per deploy target** (the reference packager; the target's consumer on a typical archive, `tar -czf model.tar.gz -C model_dir .`)\n\n");
    s.push_str("| target | reference packager | typical archive | what the consumer does |\n|---|---|---|---|\n");
    for t in &obs.targets {
        let want = sc.expect.targets.get(t.target);
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            t.target.id(),
            if t.packed { "packs" } else { "refuses" },
            if t.extracts { "extracts" } else { "refused" },
            want.consumer.trim().replace('|', "\\|")
        ));
    }
    s.push('\n');
}

/// What `packtest check` reports on the scenario.
fn findings_list(s: &mut String, obs: &Observed) {
    s.push_str("**What `packtest check` reports** (default target)\n\n");
    if obs.findings.is_empty() {
        s.push_str("Nothing: this layout is correct.\n\n");
    } else {
        for f in &obs.findings {
            let path = f
                .path
                .as_ref()
                .map(|p| format!(" `{}:{}`", f.root, crate::contract::elide(&p.display())))
                .unwrap_or_default();
            s.push_str(&format!(
                "- {} `{}`{path}: {}\n",
                f.severity.name(),
                f.code,
                f.message.lines().next().unwrap_or_default()
            ));
        }
        s.push('\n');
    }
}
