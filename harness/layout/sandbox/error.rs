//! Why a sandbox could not be built or read ([`SandboxError`]), and the helpers that turn an
//! I/O failure into one.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::layout::model::LayoutError;

/// Why a sandbox could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The layout is not well formed.
    #[error("the layout is not well formed: {0}")]
    Layout(#[from] LayoutError),
    /// The host filesystem cannot hold this layout (a reject, not a failure).
    #[error("the host cannot build `{path}`: {reason}")]
    Unsupported {
        /// The path on disk.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The filesystem under the sandbox has too little room for the layout's file data.
    #[error("the layout needs {need} bytes but `{path}` has {free} free; free some space or build it on a bigger filesystem (PACKTEST_TMPDIR for sandboxes)")]
    NoSpace {
        /// Where the sandbox would go.
        path: PathBuf,
        /// Bytes the layout's files hold (plus 4 KiB per entry).
        need: u64,
        /// Bytes available to an unprivileged writer there.
        free: u64,
    },
    /// Any other I/O error.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path on disk.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Maps an I/O error on `path` while doing `action`: a name the host cannot hold is
/// [`SandboxError::Unsupported`], anything else [`SandboxError::Io`].
pub(super) fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> SandboxError + 'a {
    move |source| match source.raw_os_error() {
        Some(libc::ENAMETOOLONG) | Some(libc::EILSEQ) | Some(libc::EOVERFLOW) => {
            SandboxError::Unsupported {
                path: path.to_owned(),
                reason: source.to_string(),
            }
        }
        _ => SandboxError::Io {
            action,
            path: path.to_owned(),
            source,
        },
    }
}

/// Maps an error met walking a tree.
pub(super) fn walk_err(e: walkdir::Error) -> SandboxError {
    SandboxError::Io {
        action: "walk",
        path: e.path().map(Path::to_path_buf).unwrap_or_default(),
        source: e.into(),
    }
}

/// `path` as a C string for libc calls; a path with a NUL byte is unsupported.
pub(super) fn cstring(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SandboxError::Unsupported {
        path: path.to_owned(),
        reason: "the path has a NUL byte".into(),
    })
}
