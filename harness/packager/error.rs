//! [`PackError`]: why the reference packager refused or failed, each variant naming the path
//! and what to do, and how one raised inside the tar writer is pulled back out.

use std::io;
use std::path::{Path, PathBuf};

use crate::target::Target;

/// Why packing failed. Every variant names the path and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The model dir does not exist or is not a directory.
    #[error("model dir `{}` {reason}; pass the directory that holds the model (SM_MODEL_DIR)", path.display())]
    BadModelDir {
        /// The path given.
        path: PathBuf,
        /// "does not exist", "is not a directory", …
        reason: String,
    },
    /// The output's directory does not exist.
    #[error("the output directory `{}` does not exist; create it first", path.display())]
    OutputDirMissing {
        /// The directory.
        path: PathBuf,
    },
    /// The output path is a directory.
    #[error("the output path `{}` is a directory; give a file path such as `{}/model.tar.gz`", path.display(), path.display())]
    OutputIsDir {
        /// The path given.
        path: PathBuf,
    },
    /// Something at or above the output path is not a place for a file: a FIFO, a device or
    /// a socket sits at the output path (the final rename would destroy it), or the output's
    /// directory is not a directory.
    #[error("cannot write the archive to `{}`: {reason}", path.display())]
    OutputNotUsable {
        /// The path in the way.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// The output would land inside the model dir.
    #[error("the output `{}` is inside the model dir `{}`: the archive would pack itself; write it elsewhere", output.display(), model_dir.display())]
    OutputInsideModelDir {
        /// The output path.
        output: PathBuf,
        /// The model dir.
        model_dir: PathBuf,
    },
    /// A file changed size while it was read.
    #[error("`{}` changed while it was packed: expected {expected} bytes, {found}; stop the writer and pack again", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Size at lstat time.
        expected: u64,
        /// What was found.
        found: String,
    },
    /// A path changed type between the walk and the read.
    #[error("`{}` was replaced while it was packed (it is no longer a regular file); pack again", path.display())]
    Replaced {
        /// The path.
        path: PathBuf,
    },
    /// Reading from the model dir failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Read {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A symlink the target's consumer cannot take and that cannot be copied.
    #[error("`{}` is a symlink to `{}` that {problem}; {target} cannot extract such a link, and a copy would be wrong: {fix}", path.display(), link.display())]
    Link {
        /// The link.
        path: PathBuf,
        /// Its target.
        link: PathBuf,
        /// "leaves the model dir", "dangles", "loops", …
        problem: String,
        /// The deploy target.
        target: Target,
        /// What to do.
        fix: &'static str,
    },
    /// A FIFO or device the target's consumer cannot take.
    #[error("`{}` is a {kind}; {target} cannot extract one and packtest never reads it: remove it from the model dir, or pack with --target posix to store it as its type", path.display())]
    Special {
        /// The path.
        path: PathBuf,
        /// "FIFO", "character device", …
        kind: &'static str,
        /// The deploy target.
        target: Target,
    },
    /// Dereferencing links would write more entries than any model dir holds.
    #[error("the links under `{}` expand to more than {limit} entries; replace the links with the files they point to", path.display())]
    TooManyEntries {
        /// The model dir.
        path: PathBuf,
        /// The cap.
        limit: usize,
    },
    /// Writing the archive failed (disk full, …).
    #[error("cannot write the archive `{}`: {source}", path.display())]
    Write {
        /// The output path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl PackError {
    /// True when the error is the caller's input (exit code 2), not a packing failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            PackError::BadModelDir { .. }
                | PackError::OutputDirMissing { .. }
                | PackError::OutputIsDir { .. }
                | PackError::OutputNotUsable { .. }
                | PackError::OutputInsideModelDir { .. }
        )
    }
}

/// Pulls a `PackError` back out of an `io::Error` raised inside the tar writer.
pub(super) fn unwrap_io(e: io::Error, output: &Path) -> PackError {
    if e.get_ref().is_some_and(|i| i.is::<PackError>()) {
        if let Some(Ok(p)) = e.into_inner().map(|i| i.downcast::<PackError>()) {
            return *p;
        }
        return PackError::Write {
            path: output.to_owned(),
            source: io::Error::other("internal error"),
        };
    }
    PackError::Write {
        path: output.to_owned(),
        source: e,
    }
}
