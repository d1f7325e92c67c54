//! [`ChildSetup`]: what a child process is started with besides its argv and cwd: umask,
//! environment changes, the CPUs it may run on, and the user it runs as. The strict rerun
//! varies these between two runs of a packager; `sim` adds a private mount namespace
//! ([`MountPlan`]).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use super::namespace::MountPlan;

/// How a child is set up before `exec`; the default changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildSetup {
    /// The umask to run under.
    pub umask: Option<u32>,
    /// Variables to set.
    pub env: Vec<(String, OsString)>,
    /// Variables to remove from the inherited environment.
    pub env_remove: Vec<String>,
    /// Run on only this many of the CPUs packtest may use (`sched_setaffinity`, what
    /// `taskset` does), so `nproc` and `os.sched_getaffinity` see that many.
    pub cpus: Option<usize>,
    /// Run as this uid and gid (needs root), with no supplementary groups.
    pub user: Option<(u32, u32)>,
    /// Start in a new user and mount namespace set up by this plan (`sim`'s private
    /// `/opt/ml` and `/tmp`).
    pub mounts: Option<MountPlan>,
}

impl ChildSetup {
    /// Both setups in one: `other`'s settings win where both set one.
    pub fn merged(&self, other: &ChildSetup) -> ChildSetup {
        let mut env: Vec<(String, OsString)> = self
            .env
            .iter()
            .filter(|(k, _)| {
                !other.env.iter().any(|(o, _)| o == k) && !other.env_remove.contains(k)
            })
            .cloned()
            .collect();
        env.extend(other.env.iter().cloned());
        let mut env_remove: Vec<String> = self
            .env_remove
            .iter()
            .filter(|k| !other.env.iter().any(|(o, _)| o == *k))
            .cloned()
            .collect();
        env_remove.extend(other.env_remove.iter().cloned());
        ChildSetup {
            umask: other.umask.or(self.umask),
            env,
            env_remove,
            cpus: other.cpus.or(self.cpus),
            user: other.user.or(self.user),
            mounts: other.mounts.clone().or_else(|| self.mounts.clone()),
        }
    }

    /// Applies the setup to `cmd` (environment now; umask, CPUs, user and mounts in the
    /// child).
    pub(super) fn apply(&self, cmd: &mut Command) {
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        let umask = self.umask;
        let cpus = self.cpus.and_then(first_cpus);
        if umask.is_some() || cpus.is_some() {
            // SAFETY: the closure runs between fork and exec and calls only umask(2) and
            // sched_setaffinity(2), which are async-signal-safe; the CPU set was built before
            // the fork, so nothing is allocated.
            unsafe {
                cmd.pre_exec(move || {
                    if let Some(m) = umask {
                        libc::umask(m as libc::mode_t);
                    }
                    if let Some(set) = &cpus {
                        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set)
                            != 0
                        {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        if let Some(plan) = &self.mounts {
            let prepared = plan.prepare();
            // SAFETY: the plan's strings were built above, before the fork;
            // `PreparedPlan::enter` only makes async-signal-safe system calls, and a failed
            // preparation returns an error built from a kind (no allocation).
            unsafe {
                cmd.pre_exec(move || match &prepared {
                    Ok(p) => p.enter(),
                    Err(_) => Err(std::io::ErrorKind::InvalidInput.into()),
                });
            }
        }
    }
}

/// The CPUs packtest itself may use.
pub fn allowed_cpus() -> usize {
    // SAFETY: a zeroed cpu_set_t is a valid out-parameter.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer and size.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0
    {
        return 1;
    }
    // SAFETY: `set` was filled by the kernel.
    unsafe { libc::CPU_COUNT(&set) as usize }
}

/// A set of the first `n` CPUs packtest may use, or `None` when it cannot be read.
fn first_cpus(n: usize) -> Option<libc::cpu_set_t> {
    // SAFETY: a zeroed cpu_set_t is a valid out-parameter and a valid empty set.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer and size.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) }
        != 0
    {
        return None;
    }
    // SAFETY: as above.
    let mut out: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let mut taken = 0;
    for cpu in 0..libc::CPU_SETSIZE as usize {
        if taken == n {
            break;
        }
        // SAFETY: `cpu` is below CPU_SETSIZE.
        if unsafe { libc::CPU_ISSET(cpu, &allowed) } {
            // SAFETY: as above.
            unsafe { libc::CPU_SET(cpu, &mut out) };
            taken += 1;
        }
    }
    (taken > 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{run_process, CancelToken, ProcessSpec};

    fn run(setup: ChildSetup, script: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let o = run_process(&ProcessSpec {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: dir.path().to_owned(),
            env: vec![],
            timeout: Some(std::time::Duration::from_secs(10)),
            capture: true,
            cancel: CancelToken::new(),
            setup,
        });
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    #[test]
    fn umask_env_and_cpus_reach_the_child() {
        let s = ChildSetup {
            umask: Some(0o077),
            env: vec![("TZ".into(), "UTC0".into())],
            env_remove: vec!["HOME".into()],
            cpus: Some(1),
            user: None,
            mounts: None,
        };
        let out = run(s, "umask; echo ${TZ}; echo ${HOME-unset}; nproc");
        assert_eq!(out, "0077\nUTC0\nunset\n1");
        let out = run(ChildSetup::default(), "umask");
        assert_ne!(out, "0077");
    }

    #[test]
    fn merged_lets_the_second_win() {
        let a = ChildSetup {
            umask: Some(0o022),
            env: vec![("TZ".into(), "UTC0".into()), ("LANG".into(), "C".into())],
            env_remove: vec!["SOURCE_DATE_EPOCH".into()],
            ..ChildSetup::default()
        };
        let b = ChildSetup {
            umask: Some(0o077),
            env: vec![
                ("TZ".into(), "X-14".into()),
                ("SOURCE_DATE_EPOCH".into(), "1".into()),
            ],
            ..ChildSetup::default()
        };
        let m = a.merged(&b);
        assert_eq!(m.umask, Some(0o077));
        assert_eq!(
            m.env,
            vec![
                ("LANG".into(), "C".into()),
                ("TZ".into(), "X-14".into()),
                ("SOURCE_DATE_EPOCH".into(), "1".into())
            ]
        );
        assert!(m.env_remove.is_empty(), "{:?}", m.env_remove);
    }
}
