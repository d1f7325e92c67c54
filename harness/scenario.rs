//! The scenario library: real packaging pitfalls as TOML files, validated and rendered.
//!
//! Each `scenarios/<id>.toml` is one pitfall (or one correct layout, as a negative control):
//! the story, public sources, the layout as the user left it, what packtest must report, and
//! the fix. Loading is strict: unknown keys, a duplicate id, an id that is not the file name,
//! a source that is not an http(s) URL, and a malformed layout are all errors that name the
//! file. `render_docs` turns the library into `scenarios/README.md`.
//!
//! ```toml
//! id = "torch-save-to-cwd"
//! title = "torch.save('./model.pt') saves into the working dir"
//! summary = "…what the user did and what they saw…"
//! sources = ["https://github.com/aws/sagemaker-python-sdk/issues/608"]
//! tags = ["cwd", "silent"]
//! framework = "pytorch"
//! fix = "…"
//!
//! [expect]
//! codes = ["empty-model-dir", "model-saved-outside"]
//!
//! # One table per deploy target (DESIGN §2), all three required: what packtest's reference
//! # packager does for that target (`packtest pack --target T`), what the target's consumer
//! # model makes of the archive a typical packager (`tar -czf OUT -C model_dir .`, links
//! # stored as links) writes, and that in one line.
//! [expect.targets.sagemaker]
//! reference_packager = "succeeds"
//! typical_archive = "extracts"
//! consumer = "…what SageMaker hosting does with a `tar -C dir .` archive of this model dir…"
//!
//! [expect.targets.posix]
//! reference_packager = "succeeds"
//! typical_archive = "extracts"
//! consumer = "…"
//!
//! [expect.targets.kserve]
//! reference_packager = "succeeds"
//! typical_archive = "extracts"
//! consumer = "…"
//!
//! [layout]
//! [[layout.entry]]
//! root = "cwd"
//! path = "model.pt"
//! kind = "file"
//! content = { format = "torch-zip", seed = 1, size = 4096 }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::layout::{EntryKind, Layout, LayoutToml, Root};
use crate::runner::NamedLayout;
use crate::target::Target;

/// What the reference packager must do with the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackerExpectation {
    /// It packs the layout (exit 0).
    Succeeds,
    /// It refuses (exit non-zero, no output).
    Fails,
}

/// What a target's consumer makes of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerExpectation {
    /// It extracts every member.
    Extracts,
    /// It refuses at least one member (`packtest unpack` exits 1).
    Refuses,
}

/// One `[expect.targets.<target>]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetExpect {
    /// What `packtest pack --target <target>` (the reference packager) does.
    pub reference_packager: PackerExpectation,
    /// What the target's consumer model (`packtest unpack --target <target>`) makes of the
    /// archive a typical packager writes (`tar -czf OUT -C model_dir .`: links stored as
    /// links, hard links as link entries, FIFOs as FIFOs).
    pub typical_archive: ConsumerExpectation,
    /// One line: what the target's consumer does with that typical archive, and what it
    /// means for the user.
    pub consumer: String,
}

/// The `[expect.targets]` table: one entry per deploy target, every target required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetExpects {
    /// SageMaker hosting (the default target).
    pub sagemaker: TargetExpect,
    /// GNU tar or bsdtar on a POSIX filesystem.
    pub posix: TargetExpect,
    /// The KServe storage initializer.
    pub kserve: TargetExpect,
}

impl TargetExpects {
    /// The expectation for `t`.
    pub fn get(&self, t: Target) -> &TargetExpect {
        match t {
            Target::Sagemaker => &self.sagemaker,
            Target::Posix => &self.posix,
            Target::Kserve => &self.kserve,
        }
    }
}

/// The `[expect]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Detector codes that must appear (detector run for the default target, `sagemaker`).
    #[serde(default)]
    pub codes: Vec<String>,
    /// Per deploy target: the reference packager and the consumer.
    pub targets: TargetExpects,
    /// The reference packager's outcome for the default target (`sagemaker`): a copy of
    /// `targets.sagemaker.reference_packager`, filled in by the loader. Not a TOML key: a
    /// scenario states it per target.
    #[serde(skip, default = "default_packer")]
    pub reference_packager: PackerExpectation,
}

fn default_packer() -> PackerExpectation {
    PackerExpectation::Succeeds
}

/// The framework a scenario is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioFramework {
    /// PyTorch.
    Pytorch,
    /// TensorFlow.
    Tensorflow,
    /// Hugging Face.
    Huggingface,
    /// XGBoost.
    Xgboost,
    /// scikit-learn.
    Sklearn,
    /// Any framework.
    Generic,
}

impl ScenarioFramework {
    fn title(self) -> &'static str {
        match self {
            ScenarioFramework::Pytorch => "PyTorch",
            ScenarioFramework::Tensorflow => "TensorFlow",
            ScenarioFramework::Huggingface => "Hugging Face",
            ScenarioFramework::Xgboost => "XGBoost",
            ScenarioFramework::Sklearn => "scikit-learn",
            ScenarioFramework::Generic => "Any framework",
        }
    }
}

/// One scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Kebab-case id; equals the file stem.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What the user did and what they saw.
    pub summary: String,
    /// Public sources (http or https URLs).
    pub sources: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The framework.
    pub framework: ScenarioFramework,
    /// What to do instead.
    pub fix: String,
    /// What packtest must report.
    pub expect: Expect,
    /// The job sandbox as the user left it.
    pub layout: LayoutToml,
}

/// Why the library could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The directory cannot be read.
    #[error("cannot read the scenario dir `{}`: {source}", path.display())]
    Dir {
        /// The dir.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid.
    #[error("`{}`: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key).
        message: String,
    },
    /// Two files share an id.
    #[error("duplicate scenario id `{id}` in `{}` and `{}`", first.display(), second.display())]
    Duplicate {
        /// The id.
        id: String,
        /// First file.
        first: PathBuf,
        /// Second file.
        second: PathBuf,
    },
    /// No such scenario.
    #[error("no scenario `{id}`{}", if close.is_empty() { String::new() } else { format!(" (did you mean: {}?)", close.join(", ")) })]
    Unknown {
        /// The id asked for.
        id: String,
        /// Close matches.
        close: Vec<String>,
    },
}

fn kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl Scenario {
    /// Parses and validates one scenario file's text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<(Scenario, Layout), ScenarioError> {
        let bad = |message: String| ScenarioError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut s: Scenario = toml::from_str(text).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("unknown field `reference_packager`") {
                bad(format!(
                    "{msg}\n`[expect] reference_packager` is now stated per deploy target: move it to `[expect.targets.<target>]` for each of {}",
                    Target::list()
                ))
            } else {
                bad(msg)
            }
        })?;
        s.expect.reference_packager = s.expect.targets.sagemaker.reference_packager;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !kebab(&s.id) {
            return Err(bad(format!(
                "`id = \"{}\"` is not kebab-case (lowercase letters, digits, `-`)",
                s.id
            )));
        }
        if s.id != stem {
            return Err(bad(format!(
                "`id = \"{}\"` does not match the file name `{stem}.toml`; rename one of them",
                s.id
            )));
        }
        if s.sources.is_empty() {
            return Err(bad(
                "`sources` is empty: give at least one public URL".into()
            ));
        }
        for src in &s.sources {
            let ok = (src.starts_with("https://") || src.starts_with("http://"))
                && src.len() > 10
                && !src.contains(char::is_whitespace);
            if !ok {
                return Err(bad(format!("source `{src}` is not an http(s) URL")));
            }
        }
        for code in &s.expect.codes {
            if !kebab(code) {
                return Err(bad(format!(
                    "`expect.codes` entry `{code}` is not a kebab-case code"
                )));
            }
        }
        for t in Target::ALL {
            let line = &s.expect.targets.get(t).consumer;
            if line.trim().is_empty() || line.contains('\n') {
                return Err(bad(format!(
                    "`expect.targets.{}.consumer` must be one non-empty line",
                    t.id()
                )));
            }
        }
        let layout = Layout::try_from(&s.layout).map_err(|e| bad(format!("`layout`: {e}")))?;
        Ok((s, layout))
    }
}

/// All scenarios of a directory, by id.
#[derive(Clone, Debug, Default)]
pub struct ScenarioLibrary {
    /// Scenarios with their layouts and files, sorted by id.
    pub scenarios: BTreeMap<String, (Scenario, Layout, PathBuf)>,
}

/// The `*.toml` files directly in `dir`, sorted by path (scenario and replay dirs).
pub(crate) fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

impl ScenarioLibrary {
    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<ScenarioLibrary, ScenarioError> {
        let paths = toml_files(dir).map_err(|source| ScenarioError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let mut lib = ScenarioLibrary::default();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| ScenarioError::Read {
                path: path.clone(),
                source,
            })?;
            let (s, l) = Scenario::parse(&path, &text)?;
            if let Some((_, _, first)) = lib.scenarios.get(&s.id) {
                return Err(ScenarioError::Duplicate {
                    id: s.id.clone(),
                    first: first.clone(),
                    second: path,
                });
            }
            lib.scenarios.insert(s.id.clone(), (s, l, path));
        }
        Ok(lib)
    }

    /// One scenario by id, or an error listing close matches.
    pub fn get(&self, id: &str) -> Result<&(Scenario, Layout, PathBuf), ScenarioError> {
        self.scenarios
            .get(id)
            .ok_or_else(|| ScenarioError::Unknown {
                id: id.to_owned(),
                close: self
                    .scenarios
                    .keys()
                    .filter(|k| {
                        k.contains(id)
                            || id.contains(k.as_str())
                            || k.split('-').any(|w| w.len() > 3 && id.contains(w))
                    })
                    .take(5)
                    .cloned()
                    .collect(),
            })
    }

    /// The scenarios as runner cases (`scenario:<id>`).
    pub fn named_layouts(&self) -> Vec<NamedLayout> {
        self.scenarios
            .values()
            .map(|(s, l, _)| NamedLayout {
                id: format!("scenario:{}", s.id),
                layout: l.clone(),
            })
            .collect()
    }
}

/// The runner's fallback loader: a scenario file, strictly validated.
pub fn load_for_runner(path: &Path, text: &str) -> Result<NamedLayout, String> {
    Scenario::parse(path, text)
        .map(|(s, layout)| NamedLayout {
            id: format!("scenario:{}", s.id),
            layout,
        })
        .map_err(|e| e.to_string())
}

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
                .map(|h| crate::RawPath::new(h[..4].to_vec()).to_hex())
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
    crate::ReferencePackager::for_target(Target::Posix)
        .pack_dir(&sb.model_dir(), &typical_path)
        .map_err(|e| format!("the typical (posix) archive could not be made: {e}"))?;
    let typical = read(&typical_path)?;
    let mut targets = Vec::new();
    for t in Target::ALL {
        let out = outs.path().join(format!("{}.tar.gz", t.id()));
        let (packed, archive) =
            match crate::ReferencePackager::for_target(t).pack_dir(&sb.model_dir(), &out) {
                Ok(_) => (true, manifest_lines(&read(&out)?)),
                Err(e) => (
                    false,
                    vec![format!(
                        "the reference packager refused: {}",
                        crate::report::redact_paths(&e.to_string())
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
                        crate::report::redact_paths(&r.message)
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
    for (sc, layout, _) in lib.scenarios.values() {
        let obs = observe(layout)?;
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
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "x-y"
title = "t"
summary = "s"
sources = ["https://example.com/a"]
framework = "generic"
fix = "f"
[expect]
codes = ["empty-model-dir"]
[expect.targets.sagemaker]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "c"
[expect.targets.posix]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "c"
[expect.targets.kserve]
reference_packager = "fails"
typical_archive = "refuses"
consumer = "c"
[layout]
"#;

    fn parse(name: &str, text: &str) -> Result<(Scenario, Layout), ScenarioError> {
        Scenario::parse(Path::new(name), text)
    }

    #[test]
    fn a_valid_scenario_parses() {
        let (s, _) = parse("x-y.toml", GOOD).unwrap();
        assert_eq!(
            s.expect.targets.get(Target::Kserve).reference_packager,
            PackerExpectation::Fails
        );
        assert_eq!(s.expect.reference_packager, PackerExpectation::Succeeds);
    }

    #[test]
    fn every_target_is_required_and_the_old_key_is_named() {
        let cut = GOOD.find("[expect.targets.kserve]").unwrap();
        let missing = format!("{}[layout]\n", &GOOD[..cut]);
        let e = parse("x-y.toml", &missing).unwrap_err().to_string();
        assert!(e.contains("kserve"), "{e}");
        let e = parse(
            "x-y.toml",
            &GOOD.replace(
                "[expect.targets.posix]",
                "[expect.targets.torchserve]\nreference_packager = \"fails\"\n[expect.targets.posix]",
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("torchserve"), "{e}");
        let e = parse(
            "x-y.toml",
            &GOOD.replace(
                "codes = [\"empty-model-dir\"]",
                "codes = []\nreference_packager = \"succeeds\"",
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[expect.targets.<target>]"), "{e}");
        let e = parse(
            "x-y.toml",
            &GOOD.replacen("consumer = \"c\"", "consumer = \" \"", 1),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("expect.targets.sagemaker.consumer"), "{e}");
    }

    #[test]
    fn loading_rejects_unknown_keys_bad_ids_bad_sources_and_bad_layouts() {
        let e = parse(
            "x-y.toml",
            &GOOD.replace("fix = \"f\"", "fix = \"f\"\ncolour = 1"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = parse("other.toml", GOOD).unwrap_err().to_string();
        assert!(e.contains("does not match the file name"), "{e}");
        let e = parse(
            "x-y.toml",
            &GOOD.replace("https://example.com/a", "see the docs"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not an http(s) URL"), "{e}");
        let bad_layout =
            format!("{GOOD}[[layout.entry]]\nroot = \"model\"\npath = \"../x\"\nkind = \"dir\"\n");
        let e = parse("x-y.toml", &bad_layout).unwrap_err().to_string();
        assert!(e.contains("layout"), "{e}");
        let e = parse("X_Y.toml", &GOOD.replace("x-y", "X_Y"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("kebab-case"), "{e}");
    }

    #[test]
    fn a_duplicate_id_is_rejected() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x-y.toml"), GOOD).unwrap();
        let lib = ScenarioLibrary::load_dir(d.path()).unwrap();
        assert_eq!(lib.scenarios.len(), 1);
        assert!(matches!(
            lib.get("nope"),
            Err(ScenarioError::Unknown { .. })
        ));
    }
}
