//! The deploy check at the end of `sim`: the archive unpacked as the `--target`'s consumer
//! unpacks it ([`crate::target::unpack`]), and what the endpoint then finds in its model dir.

use std::path::Path;

use crate::archive::Limits;
use crate::target::unpack::{unpack, UnpackError};
use crate::target::Target;

/// What the endpoint will see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointView {
    /// The consumer extracted the archive: the files it got (path and size, sorted) and the
    /// members it skipped, with why.
    Extracted {
        /// Regular files, relative to the endpoint's model dir.
        files: Vec<(String, u64)>,
        /// Symlinks created.
        symlinks: u64,
        /// Members skipped (a consumer that skips rather than fails).
        skipped: Vec<String>,
    },
    /// The consumer refused the archive: the endpoint never starts.
    Refused(String),
}

impl EndpointView {
    /// The report's lines, the first starting with `deploy:`.
    pub fn report_lines(&self, target: Target) -> Vec<String> {
        match self {
            EndpointView::Refused(why) => {
                vec![format!("deploy: {target} REFUSES the archive: {why}")]
            }
            EndpointView::Extracted {
                files,
                symlinks,
                skipped,
            } => {
                let mut out = vec![format!(
                    "deploy: {target} unpacks {} file{}{} into the endpoint's model dir{}",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" },
                    if *symlinks > 0 {
                        format!(" and {symlinks} symlink(s)")
                    } else {
                        String::new()
                    },
                    if files.is_empty() {
                        " (NOTHING to load)"
                    } else {
                        ":"
                    }
                )];
                out.extend(files.iter().map(|(p, s)| format!("  {s:>12}  {p}")));
                out.extend(skipped.iter().map(|s| format!("  skipped: {s}")));
                out
            }
        }
    }
}

/// Unpacks `archive` as `target`'s consumer into a temporary dir and lists what it got.
pub fn endpoint_view(archive: &Path, target: Target) -> Result<EndpointView, UnpackError> {
    let dir = tempfile::tempdir().map_err(|source| UnpackError::Write {
        action: "create a temporary dir for",
        path: archive.to_owned(),
        source,
    })?;
    let dest = dir.path().join("model");
    let report = match unpack(archive, &dest, target, Limits::default()) {
        Ok(r) => r,
        Err(e @ UnpackError::Refused { .. }) => return Ok(EndpointView::Refused(e.to_string())),
        Err(e) => return Err(e),
    };
    let mut files: Vec<(String, u64)> = walkdir::WalkDir::new(&dest)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(&dest).unwrap_or(e.path());
            let size = e.metadata().map_or(0, |m| m.len());
            (rel.to_string_lossy().into_owned(), size)
        })
        .collect();
    files.sort();
    Ok(EndpointView::Extracted {
        files,
        symlinks: report.symlinks,
        skipped: (report.refusals.iter())
            .map(|r| format!("`{}`: {}", r.name, r.message))
            .collect(),
    })
}
