//! The scenario library built into the crate and the binary: every `scenarios/*.toml` of
//! the packtest source, embedded at build time with `include_str!`, so `packtest scenarios`
//! and [`crate::Harness::scenario_library`] work from any directory and in a consumer crate.
//!
//! The list is written out by hand; a unit test checks that it names exactly the `.toml`
//! files of `scenarios/` and that each embedded text equals the file, so a new scenario
//! cannot be forgotten.

use std::path::PathBuf;

use super::{Scenario, ScenarioError, ScenarioLibrary};

/// The name that stands for the built-in library where a scenario dir is expected
/// (`packtest run --scenarios builtin`, and the replay commands of a run that used it). A
/// real dir of that name is written `./builtin`.
pub const BUILT_IN_DIR: &str = "builtin";

/// The prefix of a built-in scenario's path in messages and `scenarios show`.
pub const BUILT_IN_PREFIX: &str = "(built in) scenarios/";

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        /// Every built-in scenario file: its file name and its text, sorted by name.
        pub const EMBEDDED: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../scenarios/", $name)))),*
        ];
    };
}

embed!(
    "appledouble-sidecars.toml",
    "async-save-not-awaited.toml",
    "correct-huggingface.toml",
    "correct-pytorch.toml",
    "correct-sklearn.toml",
    "correct-tensorflow.toml",
    "correct-xgboost.toml",
    "dangling-symlink.toml",
    "disk-full-cut-hdf5.toml",
    "empty-model-dir.toml",
    "extra-top-level-folder.toml",
    "fifo-left-by-logger.toml",
    "hard-linked-shards.toml",
    "hard-linked-weights.toml",
    "hf-cache-dir-in-model-dir.toml",
    "hf-checkpoints-in-model-dir.toml",
    "hf-root-files-linked-into-cache.toml",
    "hf-save-pretrained-subfolder.toml",
    "hf-sharded-weights-missing-index.toml",
    "hf-tokenizer-missing.toml",
    "ipynb-checkpoints-and-pycache.toml",
    "joblib-dump-relative.toml",
    "keras-h5-only.toml",
    "keras-save-relative-name.toml",
    "latest-symlink-to-checkpoint-dir.toml",
    "malicious-pickle-in-model-pth.toml",
    "model-in-output-data-dir.toml",
    "model-nested-under-job-name.toml",
    "model-tar-gz-inside-model-dir.toml",
    "non-utf8-file-name.toml",
    "only-checkpoints-written.toml",
    "only-empty-dirs.toml",
    "onnx-external-data-left-behind.toml",
    "output-data-beside-model-is-fine.toml",
    "output-data-in-model-dir.toml",
    "peft-adapter-only.toml",
    "plain-tar-named-tar-gz.toml",
    "pytorch-inference-code-outside-code-dir.toml",
    "rank-nonzero-only-save.toml",
    "repack-model-root-member.toml",
    "saved-to-tmp-never-copied.toml",
    "savedmodel-missing-variables.toml",
    "savedmodel-named-not-numbered.toml",
    "savedmodel-variables-shard-missing.toml",
    "savedmodel-without-version-dir.toml",
    "sharded-index-names-missing-shard.toml",
    "socket-in-model-dir.toml",
    "symlink-to-dataset.toml",
    "symlink-to-tmp.toml",
    "torch-save-to-cwd.toml",
    "torch-zip-flipped-byte.toml",
    "very-long-path.toml",
    "weights-0600-umask-077.toml",
    "xgboost-model-wrong-name.toml",
    "zero-byte-weights-interrupted-save.toml",
);

impl ScenarioLibrary {
    /// The scenario library built into packtest (the `scenarios/` of its source).
    ///
    /// `Err` only if a built-in file is invalid, which a packtest unit test rules out.
    pub fn built_in() -> Result<ScenarioLibrary, ScenarioError> {
        let mut lib = ScenarioLibrary::default();
        for (name, text) in EMBEDDED {
            let path = PathBuf::from(format!("{BUILT_IN_PREFIX}{name}"));
            let (s, layout) = Scenario::parse(&path, text)?;
            lib.insert(s, layout, path)?;
        }
        Ok(lib)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_embedded_list_is_exactly_the_scenario_dir() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let on_disk: Vec<(String, String)> = super::super::toml_files(&dir)
            .expect("the scenario dir of the source")
            .into_iter()
            .map(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&p).expect("a scenario file");
                (name, text)
            })
            .collect();
        let embedded: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&embedded),
            names(&on_disk),
            "harness/scenario/embedded.rs must list every scenarios/*.toml, sorted"
        );
        assert!(
            embedded == on_disk,
            "an embedded text differs from its file"
        );
    }

    #[test]
    fn the_built_in_library_loads_and_names_its_files() {
        let lib = ScenarioLibrary::built_in().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lib.scenarios.len(), EMBEDDED.len());
        let (_, _, path) = lib.get("torch-save-to-cwd").expect("a known scenario");
        assert_eq!(
            path.to_string_lossy(),
            "(built in) scenarios/torch-save-to-cwd.toml"
        );
    }
}
