//! Loading what a run replays: saved failures ([`crate::outcome::SavedFailure`]) and
//! scenarios ([`crate::scenario`]) from a directory, and any layout-bearing TOML file.
//!
//! A file's kind is read from its parsed top-level tables ([`FileKind`]), never from its text.

use std::path::{Path, PathBuf};

use crate::layout::{Layout, NamedLayout};
use crate::outcome::SavedFailure;
use crate::scenario::{self, ScenarioError};

/// Why a replay directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The directory or a file in it cannot be read.
    #[error(transparent)]
    Io(#[from] ScenarioError),
    /// A file is not a valid saved failure or scenario.
    #[error("`{}` is not a valid scenario or saved failure: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The directory holds no `.toml` file.
    #[error("the scenario dir `{}` holds no .toml file; put scenario or saved-failure files (`--save-failures DIR` writes them) in it, or leave the dir out", path.display())]
    Empty {
        /// The dir.
        path: PathBuf,
    },
}

/// What a layout-bearing TOML file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A saved failure: it has a `[failure]` table.
    SavedFailure,
    /// A scenario: it has a `[layout]` table (and no `[failure]`).
    Scenario,
    /// A bare layout (`labels` and `[[entry]]` at the top level).
    Layout,
}

impl FileKind {
    /// Reads the kind from the file's top-level tables; `Err` when it is not TOML.
    pub fn of(text: &str) -> Result<FileKind, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        Ok(if table.contains_key("failure") {
            FileKind::SavedFailure
        } else if table.contains_key("layout") {
            FileKind::Scenario
        } else {
            FileKind::Layout
        })
    }
}

/// The layout of one file of any [`FileKind`], named as the runner names it
/// (`saved:<stem>`, `scenario:<id>`, or the file stem for a bare layout). `Err` says what is
/// wrong, naming the file.
pub fn load_file(path: &Path, text: &str) -> Result<(FileKind, NamedLayout), String> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let named = |id: String, layout: Layout| NamedLayout { id, layout };
    let kind = FileKind::of(text).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let layout = match kind {
        FileKind::SavedFailure => SavedFailure::from_toml(text)
            .map(|(_, l)| named(format!("saved:{stem}"), l))
            .map_err(|e| format!("`{}`: {e}", path.display()))?,
        FileKind::Scenario => scenario::load_for_runner(path, text)?,
        FileKind::Layout => Layout::from_toml(text)
            .map(|l| named(stem, l))
            .map_err(|e| format!("`{}`: {e}", path.display()))?,
    };
    Ok((kind, layout))
}

/// Loads every `.toml` in `dir` as a saved failure (it has a `[failure]` table) or else as a
/// scenario, strictly validated. Files are returned sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<NamedLayout>, ReplayError> {
    let paths = scenario::toml_files(dir)?;
    if paths.is_empty() {
        return Err(ReplayError::Empty {
            path: dir.to_owned(),
        });
    }
    let mut out = Vec::new();
    for path in paths {
        let text = scenario::read_file(&path)?;
        let invalid = |message: String| ReplayError::Invalid {
            path: path.clone(),
            message,
        };
        let n = match FileKind::of(&text).map_err(invalid)? {
            FileKind::SavedFailure => load_file(&path, &text).map_err(invalid)?.1,
            FileKind::Scenario | FileKind::Layout => {
                scenario::load_for_runner(&path, &text).map_err(invalid)?
            }
        };
        out.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_tables_not_from_the_text() {
        let saved = "[failure]\ncase = 'x'\n[layout]\n";
        assert_eq!(FileKind::of(saved), Ok(FileKind::SavedFailure));
        // A scenario whose prose mentions `[failure]` is still a scenario.
        let scen = "id = 'x'\nsummary = 'a [failure] table'\n[layout]\n";
        assert_eq!(FileKind::of(scen), Ok(FileKind::Scenario));
        assert_eq!(FileKind::of("labels = []\n"), Ok(FileKind::Layout));
        assert!(FileKind::of("[[").is_err());
    }
}
