//! The job's private view of `/opt/ml` and `/tmp`: a [`MountPlan`] that shows the sandbox's
//! `opt/ml` at `/opt/ml` and its `tmp` at `/tmp`, in a new user and mount namespace, so a
//! script that hard-codes `/opt/ml/model` or saves to `/tmp/x.pth` writes into the sandbox,
//! where packtest packs and inspects it, and never onto the host.
//!
//! `/opt/ml` needs a mount point. When the host has a `/opt/ml` directory, the sandbox's is
//! bound over it. Otherwise `/opt` is covered with an empty tmpfs in which every entry of the
//! host's `/opt` is bound back (so `/opt/conda`, `/opt/python` and the like keep working;
//! files and symlinks come back as themselves) and `opt/ml` is bound in. The host's `/opt` is
//! reached through a bind of it under the sandbox's `out/`, made before the tmpfs covers it.
//! `/etc/hosts` gets the job's host names (`127.0.0.1 algo-1 algo-2 …`), as the platform's
//! containers resolve them. Without a `/opt` at all there is no mount point an unprivileged user can make: the job then
//! runs without a private view ([`Paths::Shared`]).
//!
//! Where user namespaces are refused (a kernel setting, a container's seccomp profile), or
//! when `PACKTEST_SIM_SHARED_PATHS` is set, the job runs as before this existed, and the
//! report says so: the script gets the sandbox's paths in `SM_*` and `TMPDIR`, and literal
//! `/opt/ml` and `/tmp` writes reach the host.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{run_process, CancelToken, ChildSetup, Exit, MountOp, MountPlan, ProcessSpec};

/// The variable that forces the shared (fallback) paths, for tests and for hosts where a
/// namespace must not be used.
pub const SHARED_PATHS_ENV: &str = "PACKTEST_SIM_SHARED_PATHS";

/// What the job's paths are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Paths {
    /// `/opt/ml` and `/tmp` are the sandbox's (user and mount namespace).
    Private,
    /// The host's own `/opt/ml` and `/tmp`; the reason why.
    Shared(String),
}

impl Paths {
    /// The report's `paths:` line.
    pub fn report_line(&self) -> String {
        match self {
            Paths::Private => "paths: private /opt/ml and /tmp (user+mount namespace)".into(),
            Paths::Shared(why) => format!(
                "paths: NOT private ({why}); SM_* and TMPDIR point into the sandbox, but literal /opt/ml and /tmp writes reach the host"
            ),
        }
    }
}

/// The plan that gives the sandbox at `root` its private `/opt/ml` and `/tmp`, and an
/// `/etc/hosts` in which every name of `hosts` resolves, the command starting in
/// `/opt/ml/code`; or why there is none. Each of `keep` (entries directly under the host's
/// `/tmp` that the command names, such as a checkout in `/tmp/project`) stays visible at its
/// own path in the private `/tmp`: a mount point is made for it in the sandbox's `tmp` and
/// the host entry is bound there before `/tmp` is covered (see [`unkeep`]).
pub fn plan(root: &Path, hosts: &[String], keep: &[PathBuf]) -> Result<MountPlan, String> {
    let ml = root.join("opt/ml");
    let mut ops = Vec::new();
    let opt = Path::new("/opt");
    if fs::metadata("/opt/ml").is_ok_and(|m| m.is_dir()) {
        ops.push(MountOp::Bind {
            src: ml,
            at: "/opt/ml".into(),
        });
    } else if fs::metadata(opt).is_ok_and(|m| m.is_dir()) {
        let host_opt = root.join("out/host-opt");
        fs::create_dir_all(&host_opt)
            .map_err(|e| format!("cannot create `{}`: {e}", host_opt.display()))?;
        let entries = fs::read_dir(opt).map_err(|e| format!("cannot list /opt: {e}"))?;
        ops.push(MountOp::Bind {
            src: opt.into(),
            at: host_opt.clone(),
        });
        ops.push(MountOp::Tmpfs { at: opt.into() });
        for e in entries.flatten() {
            let (name, at) = (e.file_name(), opt.join(e.file_name()));
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                if let Ok(target) = fs::read_link(e.path()) {
                    ops.push(MountOp::Symlink { target, path: at });
                }
                continue;
            }
            ops.push(if ft.is_dir() {
                MountOp::Mkdir { path: at.clone() }
            } else {
                MountOp::Touch { path: at.clone() }
            });
            ops.push(MountOp::Bind {
                src: host_opt.join(name),
                at,
            });
        }
        ops.push(MountOp::Mkdir {
            path: "/opt/ml".into(),
        });
        ops.push(MountOp::Bind {
            src: ml,
            at: "/opt/ml".into(),
        });
    } else {
        return Err("this host has no /opt, and making one needs root".into());
    }
    // Every host name resolves, as in the platform's containers (the toolkit waits until
    // they do): the host's /etc/hosts with `127.0.0.1 algo-1 …` added.
    if fs::metadata("/etc/hosts").is_ok_and(|m| m.is_file()) {
        let file = root.join("out/etc-hosts");
        let mut text = fs::read_to_string("/etc/hosts").unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("127.0.0.1\t{}\n", hosts.join(" ")));
        fs::create_dir_all(root.join("out"))
            .and_then(|_| fs::write(&file, text))
            .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
        ops.push(MountOp::Bind {
            src: file,
            at: "/etc/hosts".into(),
        });
    }
    for host in keep {
        let Some(name) = host.file_name() else {
            continue;
        };
        let at = root.join("tmp").join(name);
        let made = if host.is_dir() {
            fs::create_dir(&at)
        } else {
            fs::write(&at, b"")
        };
        made.map_err(|e| format!("cannot create `{}`: {e}", at.display()))?;
        ops.push(MountOp::Bind {
            src: host.clone(),
            at,
        });
    }
    // Recursive: the binds of `keep` made inside the sandbox's tmp come along.
    ops.push(MountOp::Bind {
        src: root.join("tmp"),
        at: "/tmp".into(),
    });
    Ok(MountPlan {
        ops,
        chdir: Some("/opt/ml/code".into()),
    })
}

/// Decides the paths for the sandbox at `root`: the plan, tried once with `sh -c :`, or the
/// reason for the fallback.
pub fn choose(root: &Path, hosts: &[String], keep: &[PathBuf]) -> (Paths, Option<MountPlan>) {
    if std::env::var_os(SHARED_PATHS_ENV).is_some_and(|v| !v.is_empty()) {
        return (Paths::Shared(format!("{SHARED_PATHS_ENV} is set")), None);
    }
    let plan = match plan(root, hosts, keep) {
        Ok(p) => p,
        Err(why) => return (Paths::Shared(why), None),
    };
    let probe = run_process(&ProcessSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), ":".into()],
        cwd: PathBuf::from("/"),
        env: vec![],
        timeout: Some(Duration::from_secs(10)),
        capture: true,
        cancel: CancelToken::new(),
        setup: ChildSetup {
            mounts: Some(plan.clone()),
            ..ChildSetup::default()
        },
    });
    match probe.exit {
        Exit::Code(0) => (Paths::Private, Some(plan)),
        Exit::SpawnFailed(e) => (
            Paths::Shared(format!("no user+mount namespace here: {e}")),
            None,
        ),
        other => (
            Paths::Shared(format!("the namespace probe ended with {other}")),
            None,
        ),
    }
}

/// The entries directly under the host's `/tmp` that a word of `argv` names (`/tmp/project`
/// for `/tmp/project/train.py`), each once: the private `/tmp` keeps them visible.
pub fn kept_tmp_entries(argv: &[String]) -> Vec<PathBuf> {
    let mut keep: Vec<PathBuf> = Vec::new();
    for w in argv {
        let Ok(rest) = Path::new(w).strip_prefix("/tmp") else {
            continue;
        };
        let Some(first) = rest.components().next() else {
            continue;
        };
        let top = Path::new("/tmp").join(first);
        if Path::new(w).exists() && !keep.contains(&top) {
            keep.push(top);
        }
    }
    keep
}

/// Removes the mount points [`plan`] made in the sandbox's `tmp` for `keep` (empty on the
/// host side once the job's namespace is gone), so they are not taken for the job's files.
pub fn unkeep(root: &Path, keep: &[PathBuf]) {
    for host in keep {
        if let Some(name) = host.file_name() {
            let at = root.join("tmp").join(name);
            let _ = fs::remove_dir(&at).or_else(|_| match fs::metadata(&at) {
                Ok(m) if m.is_file() && m.len() == 0 => fs::remove_file(&at),
                _ => Ok(()),
            });
        }
    }
}
