//! The saved-failure file: the shrunk layout of a failing case, written as TOML that replays.
//!
//! A saved failure is a file like proptest's persistence files, but it stores the shrunk
//! **value**, not only the seed: a seed stops reproducing when a strategy changes, a layout
//! does not. The file is meant to be checked in; `packtest run --scenarios DIR` replays every
//! file in `DIR` ([`crate::replay`] loads them).
//!
//! ```toml
//! # packtest saved failure: check this file in; `packtest run --scenarios DIR` replays it.
//! [failure]
//! case = "case-17"
//! seed = 42
//! packager = "tar -czf {output} -C {model_dir} ."
//! target = "sagemaker"
//! properties = ["fidelity"]
//! message = "[fidelity] `empty`: expected …; found …"
//!
//! [layout]
//! labels = ["empty-dir"]
//! [[layout.entry]]
//! root = "model"
//! path = "empty"
//! kind = "dir"
//! mode = "0755"
//! ```

use serde::{Deserialize, Serialize};

use crate::contract::Violation;
use crate::layout::{Layout, LayoutToml, LayoutTomlError};

/// Where a failure came from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailureInfo {
    /// The case name.
    pub case: String,
    /// The run seed.
    pub seed: u64,
    /// The packager that failed.
    pub packager: String,
    /// The deploy target it was judged for (absent in files from before targets existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The broken property ids.
    pub properties: Vec<String>,
    /// The first violation, as text.
    pub message: String,
}

/// A saved failure file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SavedFailure {
    /// Where it came from.
    pub failure: FailureInfo,
    /// The shrunk layout.
    pub layout: LayoutToml,
}

impl SavedFailure {
    /// Builds the record for a shrunk failure.
    pub fn new(
        case: &str,
        seed: u64,
        packager: &str,
        target: crate::target::Target,
        violations: &[Violation],
        layout: &Layout,
    ) -> Self {
        let mut properties: Vec<String> = violations
            .iter()
            .map(|v| v.property.id().to_owned())
            .collect();
        properties.dedup();
        SavedFailure {
            failure: FailureInfo {
                case: case.to_owned(),
                seed,
                packager: packager.to_owned(),
                target: Some(target.id().to_owned()),
                properties,
                message: violations
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            },
            layout: LayoutToml::from(layout),
        }
    }

    /// The file text, with its header comment.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# packtest saved failure: check this file in; `packtest run --scenarios DIR` replays it.\n{body}")
    }

    /// Parses a saved failure.
    pub fn from_toml(text: &str) -> Result<(SavedFailure, Layout), String> {
        let s: SavedFailure = toml::from_str(text).map_err(|e| e.to_string())?;
        let l = Layout::try_from(&s.layout).map_err(|e: LayoutTomlError| e.to_string())?;
        Ok((s, l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Content, Entry, Root};

    #[test]
    fn a_saved_failure_round_trips() {
        let l = Layout::new().labeled("long-name").with(Entry::file(
            Root::Model,
            "x".repeat(150),
            Content::Text("a".into()),
        ));
        let s = SavedFailure::new(
            "case-3",
            9,
            "tar -czf {output}",
            crate::target::Target::Posix,
            &[],
            &l,
        );
        let (back, layout) = SavedFailure::from_toml(&s.to_toml()).unwrap();
        assert_eq!(back, s);
        assert_eq!(layout, l);
    }
}
