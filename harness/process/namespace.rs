//! [`MountPlan`]: start a child in a new user and mount namespace and change what some paths
//! show to it (bind mounts, a tmpfs), without root. Nothing it mounts is seen outside the
//! child and its descendants, and everything goes when the last of them exits.
//!
//! The plan is plain data; [`MountPlan::prepare`] turns it into NUL-terminated strings before
//! the fork, so the code that runs between fork and exec only makes system calls
//! (`unshare`, `open`/`write` of `/proc/self/{setgroups,uid_map,gid_map}`, `mount`, `mkdir`,
//! `symlink`, `chdir`), which are async-signal-safe. The child keeps its uid and gid: each is
//! mapped to itself.
//!
//! This needs unprivileged user namespaces (Linux, `kernel.unprivileged_userns_clone` or no
//! such restriction); where they are refused, the spawn fails with the kernel's error.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One step of a [`MountPlan`], run in order inside the new namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountOp {
    /// Mount an empty tmpfs (mode 0755) over `at`, which must exist.
    Tmpfs {
        /// The mount point.
        at: PathBuf,
    },
    /// Bind `src` (recursively) over `at`, which must exist and be of the same kind.
    Bind {
        /// What to show.
        src: PathBuf,
        /// Where.
        at: PathBuf,
    },
    /// Create the directory `path` (mode 0755); an existing one is fine.
    Mkdir {
        /// The directory.
        path: PathBuf,
    },
    /// Create an empty file `path` (a mount point for a file bind).
    Touch {
        /// The file.
        path: PathBuf,
    },
    /// Create the symlink `path` pointing at `target`.
    Symlink {
        /// The link's target, as stored.
        target: PathBuf,
        /// The link.
        path: PathBuf,
    },
}

/// What a child sees differently: the mount steps, run in a fresh user and mount namespace,
/// and the directory it starts in afterwards (a path as the child sees it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountPlan {
    /// The steps, in order.
    pub ops: Vec<MountOp>,
    /// Change to this directory after mounting (the spawn's `cwd` is applied before).
    pub chdir: Option<PathBuf>,
}

/// One step with its strings ready for the system calls.
enum Prepared {
    Tmpfs(CString),
    Bind(CString, CString),
    Mkdir(CString),
    Touch(CString),
    Symlink(CString, CString),
}

/// A [`MountPlan`] ready to run between fork and exec: nothing in it allocates.
pub(super) struct PreparedPlan {
    ops: Vec<Prepared>,
    chdir: Option<CString>,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

fn c(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path `{}` holds a NUL byte", p.display()),
        )
    })
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes `data` to the file `path` (a `/proc/self` control file).
fn write_file(path: &[u8], data: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated (the callers pass literals ending in \0).
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is open; `data` is valid for its length.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let err = io::Error::last_os_error();
    // SAFETY: `fd` is open and ours.
    unsafe { libc::close(fd) };
    if n == data.len() as isize {
        Ok(())
    } else {
        Err(err)
    }
}

impl MountPlan {
    /// The plan with its strings built, to run in the child.
    pub(super) fn prepare(&self) -> io::Result<PreparedPlan> {
        let mut ops = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            ops.push(match op {
                MountOp::Tmpfs { at } => Prepared::Tmpfs(c(at)?),
                MountOp::Bind { src, at } => Prepared::Bind(c(src)?, c(at)?),
                MountOp::Mkdir { path } => Prepared::Mkdir(c(path)?),
                MountOp::Touch { path } => Prepared::Touch(c(path)?),
                MountOp::Symlink { target, path } => Prepared::Symlink(c(target)?, c(path)?),
            });
        }
        // SAFETY: getuid and getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Ok(PreparedPlan {
            ops,
            chdir: self.chdir.as_deref().map(c).transpose()?,
            uid_map: format!("{uid} {uid} 1\n").into_bytes(),
            gid_map: format!("{gid} {gid} 1\n").into_bytes(),
        })
    }
}

impl PreparedPlan {
    /// Enters a new user and mount namespace and runs the steps. Called between fork and
    /// exec: only system calls, no allocation.
    pub(super) fn enter(&self) -> io::Result<()> {
        // SAFETY: unshare(2) takes flags only.
        check(unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) })?;
        write_file(b"/proc/self/setgroups\0", b"deny")?;
        write_file(b"/proc/self/uid_map\0", &self.uid_map)?;
        write_file(b"/proc/self/gid_map\0", &self.gid_map)?;
        let null = std::ptr::null::<libc::c_char>();
        // Nothing mounted here propagates back to the host's namespace.
        // SAFETY: valid NUL-terminated strings or null where mount(2) allows it.
        check(unsafe {
            libc::mount(
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        })?;
        for op in &self.ops {
            // SAFETY (every call below): the strings were built before the fork and are
            // NUL-terminated; the pointers stay valid for the call.
            match op {
                Prepared::Tmpfs(at) => check(unsafe {
                    libc::mount(
                        c"tmpfs".as_ptr(),
                        at.as_ptr(),
                        c"tmpfs".as_ptr(),
                        0,
                        c"mode=0755".as_ptr().cast(),
                    )
                })?,
                Prepared::Bind(src, at) => check(unsafe {
                    libc::mount(
                        src.as_ptr(),
                        at.as_ptr(),
                        null,
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    )
                })?,
                Prepared::Mkdir(p) => {
                    if unsafe { libc::mkdir(p.as_ptr(), 0o755) } != 0 {
                        let e = io::Error::last_os_error();
                        if e.raw_os_error() != Some(libc::EEXIST) {
                            return Err(e);
                        }
                    }
                }
                Prepared::Touch(p) => {
                    let fd = unsafe {
                        libc::open(
                            p.as_ptr(),
                            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                            0o644,
                        )
                    };
                    if fd < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    unsafe { libc::close(fd) };
                }
                Prepared::Symlink(target, p) => {
                    check(unsafe { libc::symlink(target.as_ptr(), p.as_ptr()) })?
                }
            }
        }
        if let Some(dir) = &self.chdir {
            // SAFETY: NUL-terminated path.
            check(unsafe { libc::chdir(dir.as_ptr()) })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{run_process, CancelToken, ChildSetup, Exit, ProcessSpec};

    #[test]
    fn a_bind_over_tmp_is_seen_by_the_child_and_not_by_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("packtest-ns-unit-{}", std::process::id());
        let plan = MountPlan {
            ops: vec![MountOp::Bind {
                src: dir.path().to_owned(),
                at: "/tmp".into(),
            }],
            chdir: Some("/tmp".into()),
        };
        let o = run_process(&ProcessSpec {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!("echo hi > {name}; pwd").into(),
            ],
            cwd: "/".into(),
            env: vec![],
            timeout: Some(std::time::Duration::from_secs(10)),
            capture: true,
            cancel: CancelToken::new(),
            setup: ChildSetup {
                mounts: Some(plan),
                ..ChildSetup::default()
            },
        });
        // Whether namespaces work here is judged by util-linux's `unshare`, not by the code
        // under test; under CI their absence is a failure.
        let available = std::process::Command::new("unshare")
            .args(["-Urm", "true"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            crate::unavailable::unavailable(
                "the private /tmp of a mount plan",
                &format!(
                    "`unshare -Urm true` fails here, no user namespaces ({})",
                    o.exit
                ),
            );
            return;
        }
        assert_eq!(
            o.exit,
            Exit::Code(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "/tmp");
        assert!(dir.path().join(&name).is_file());
        assert!(!Path::new("/tmp").join(&name).exists());
    }
}
