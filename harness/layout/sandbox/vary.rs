//! What the strict rerun changes in a sandbox besides mtimes: the model dir rebuilt in
//! another creation order ([`Sandbox::reorder_model_dir`]), so that a filesystem listing in
//! creation order lists it differently, and the owner of every entry
//! ([`Sandbox::chown_all`]), so that a packager can run as another user.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::{cstring, io_err, walk_err};
use super::{make_writable, Sandbox, SandboxError};
use crate::layout::model::{Layout, Root};

/// The model dir rebuilt in reverse creation order, the original set aside in `out/`; [`ReorderedModel::restore`] puts the original back.
#[derive(Debug)]
#[must_use = "the original model dir stays set aside until `restore`"]
pub struct ReorderedModel {
    model: PathBuf,
    original: PathBuf,
    /// True when some directory of the rebuilt model dir lists its entries in another order
    /// than the original (on a filesystem that sorts or hashes names, none does).
    pub lists_differently: bool,
}

impl ReorderedModel {
    /// Removes the rebuilt model dir and puts the original back.
    pub fn restore(self) -> Result<(), SandboxError> {
        make_writable(&self.model);
        fs::remove_dir_all(&self.model).map_err(io_err("remove", &self.model))?;
        fs::rename(&self.original, &self.model).map_err(io_err("rename", &self.original))
    }
}

impl Sandbox {
    /// Sets the model dir aside and builds the model-dir entries of `layout` again in its
    /// place, siblings created in descending name order, with the original's mtimes copied
    /// over (so only the creation order differs). Checks whether any directory now lists
    /// differently.
    pub fn reorder_model_dir(&self, layout: &Layout) -> Result<ReorderedModel, SandboxError> {
        let model = self.model_dir();
        // In `out/`, which the sandbox digest leaves out, so setting it aside is no change.
        let original = self.root.join("out/.packtest-model-first");
        fs::rename(&model, &original).map_err(io_err("rename", &model))?;
        let put_back = || {
            make_writable(&model);
            let _ = fs::remove_dir_all(&model);
            let _ = fs::rename(&original, &model);
        };
        let built = self
            .build_entries(layout, Some(Root::Model), true)
            .and_then(|()| copy_mtimes(&original, &model));
        if let Err(e) = built {
            put_back();
            return Err(e);
        }
        let lists_differently = lists_differently(&original, &model);
        Ok(ReorderedModel {
            model,
            original,
            lists_differently,
        })
    }

    /// Gives every entry of the sandbox (its root included, symlinks themselves) to `uid` and
    /// `gid`, keeping each mode (a chown clears setuid and setgid bits; they are put back).
    pub fn chown_all(&self, uid: u32, gid: u32) -> Result<(), SandboxError> {
        for entry in walkdir::WalkDir::new(&self.root).follow_links(false) {
            let entry = entry.map_err(walk_err)?;
            let path = entry.path();
            let meta = entry.metadata().map_err(walk_err)?;
            std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(io_err("chown", path))?;
            if !meta.file_type().is_symlink() && meta.mode() & 0o6000 != 0 {
                fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))
                    .map_err(io_err("chmod", path))?;
            }
        }
        Ok(())
    }

    /// The owner of the sandbox root.
    pub fn owner(&self) -> Result<(u32, u32), SandboxError> {
        let m = fs::symlink_metadata(&self.root).map_err(io_err("stat", &self.root))?;
        Ok((m.uid(), m.gid()))
    }
}

/// Gives every entry under `to` the atime and mtime of the same path under `from`, children
/// before their directory.
fn copy_mtimes(from: &Path, to: &Path) -> Result<(), SandboxError> {
    for entry in walkdir::WalkDir::new(to)
        .follow_links(false)
        .contents_first(true)
    {
        let entry = entry.map_err(walk_err)?;
        let rel = entry.path().strip_prefix(to).unwrap_or(Path::new(""));
        let src = from.join(rel);
        let Ok(m) = fs::symlink_metadata(&src) else {
            continue;
        };
        let times = [
            libc::timespec {
                tv_sec: m.atime() as libc::time_t,
                tv_nsec: m.atime_nsec() as _,
            },
            libc::timespec {
                tv_sec: m.mtime() as libc::time_t,
                tv_nsec: m.mtime_nsec() as _,
            },
        ];
        let c = cstring(entry.path())?;
        // SAFETY: valid path and a two-element timespec array.
        let rc = unsafe {
            libc::utimensat(
                libc::AT_FDCWD,
                c.as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 {
            return Err(io_err("set mtime of", entry.path())(
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

/// The names in `dir`, in the order the filesystem lists them.
fn listing(dir: &Path) -> Vec<OsString> {
    fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// True when some directory with two or more entries lists them in another order under `b`
/// than under `a`.
fn lists_differently(a: &Path, b: &Path) -> bool {
    walkdir::WalkDir::new(a)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_dir())
        .any(|e| {
            let rel = e.path().strip_prefix(a).unwrap_or(Path::new(""));
            let la = listing(e.path());
            la.len() >= 2 && la != listing(&b.join(rel))
        })
}
