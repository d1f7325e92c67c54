//! Partial outputs of reference packs in flight, so a SIGINT/SIGTERM handler can delete them.
//!
//! `pack_dir` writes into a hidden `.packtest-*.partial` temp file and renames it over the
//! output at the end. An error drops the temp file, but a signal ends the process without
//! running destructors, leaving it behind. Each pack registers its temp path here; the CLI's
//! signal handler calls [`remove_partial_outputs`], which deletes them all and keeps the
//! registry locked until the process exits, and a pack publishes (renames) only while holding
//! the same lock, so a temp file is either renamed into place complete or deleted, never both
//! and never half. This module owns nothing else; SIGKILL cannot be caught, and then the
//! hidden temp file stays (it can never be mistaken for the output).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered temp file; deregistered on drop.
pub(crate) struct Partial(PathBuf);

impl Partial {
    /// Registers `path` as a partial output.
    pub(crate) fn register(path: &Path) -> Partial {
        live().push(path.to_owned());
        Partial(path.to_owned())
    }

    /// Runs `publish` (the rename into place) with the registry locked, then deregisters.
    pub(crate) fn publish<T>(self, publish: impl FnOnce() -> T) -> T {
        let mut g = live();
        let r = publish();
        if let Some(i) = g.iter().position(|p| *p == self.0) {
            g.swap_remove(i);
        }
        drop(g);
        std::mem::forget(self);
        r
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        let mut g = live();
        if let Some(i) = g.iter().position(|p| *p == self.0) {
            g.swap_remove(i);
        }
    }
}

/// Deletes the temp file of every reference pack in flight and returns the registry's lock:
/// hold it until the process exits, so no pack can publish afterwards. For signal handlers.
pub fn remove_partial_outputs() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut g = live();
    for p in g.drain(..) {
        let _ = std::fs::remove_file(p);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_deletes_registered_files_and_publishing_deregisters() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.partial"), d.path().join("b.partial"));
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"x").unwrap();
        let pa = Partial::register(&a);
        let pb = Partial::register(&b);
        let renamed = d.path().join("model.tar.gz");
        pb.publish(|| std::fs::rename(&b, &renamed)).unwrap();
        drop(remove_partial_outputs());
        assert!(!a.exists(), "a registered partial survived");
        assert!(renamed.exists(), "a published output was deleted");
        drop(pa);
        assert!(live().iter().all(|p| p != &a && p != &b));
    }
}
