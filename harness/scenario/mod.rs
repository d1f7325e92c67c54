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
//! # One table per deploy target (`packtest contract`), all three required: what packtest's reference
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
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::layout::NamedLayout;
use crate::layout::{Layout, LayoutToml};
use crate::target::Target;

mod docs;
mod embedded;

pub use docs::{manifest_lines, observe, render_docs, render_tree, Observed, TargetObserved};
pub use embedded::{BUILT_IN_DIR, BUILT_IN_PREFIX, EMBEDDED};

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
    #[error("cannot read the scenario dir `{}`: {source}; give a directory of scenario `.toml` files", path.display())]
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

/// True when the file, parsed as plain TOML, still has `[expect] reference_packager`, the
/// key from before deploy targets.
fn has_old_expect_key(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| {
        t.get("expect")
            .and_then(toml::Value::as_table)
            .is_some_and(|e| e.contains_key("reference_packager"))
    })
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
            if has_old_expect_key(text) {
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
pub fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Dir {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The text of one scenario or replay file.
pub fn read_file(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })
}

impl ScenarioLibrary {
    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<ScenarioLibrary, ScenarioError> {
        let mut lib = ScenarioLibrary::default();
        for path in toml_files(dir)? {
            let text = read_file(&path)?;
            let (s, l) = Scenario::parse(&path, &text)?;
            lib.insert(s, l, path)?;
        }
        Ok(lib)
    }

    /// Adds one scenario; `Err` when its id is already in the library.
    fn insert(&mut self, s: Scenario, layout: Layout, path: PathBuf) -> Result<(), ScenarioError> {
        if let Some((_, _, first)) = self.scenarios.get(&s.id) {
            return Err(ScenarioError::Duplicate {
                id: s.id.clone(),
                first: first.clone(),
                second: path,
            });
        }
        self.scenarios.insert(s.id.clone(), (s, layout, path));
        Ok(())
    }

    /// Adds every scenario of `other`; one with the id of a scenario already here replaces
    /// it (a team's own version of a built-in scenario). Returns the ids replaced.
    pub fn overlay(&mut self, other: ScenarioLibrary) -> Vec<String> {
        let mut replaced = Vec::new();
        for (id, entry) in other.scenarios {
            if self.scenarios.insert(id.clone(), entry).is_some() {
                replaced.push(id);
            }
        }
        replaced
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

#[cfg(test)]
mod tests;
