//! Why detection could not run ([`DetectError`]).

use std::path::PathBuf;

/// Why detection could not run.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The model dir is missing or not a directory.
    #[error("model dir `{}` {reason}; pass the directory the job saved its model to (SM_MODEL_DIR)", path.display())]
    BadModelDir {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// Walking a directory failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
