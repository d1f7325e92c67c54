//! What the process-group kill in [`super::run`] cannot reach: processes that left the
//! packager's group (`setsid`, a daemonizing double fork). Pipes they keep open are read only
//! until a deadline ([`super::drain::Drain::finish`]).
//!
//! Every run gets a unique `PACKTEST_JOB` value in its environment ([`job_marker`]), which
//! every descendant inherits; [`kill_escaped`] finds the processes that still carry it after
//! the group is gone, wherever they were reparented, and kills them. A descendant that wipes
//! its environment is not found; nothing else is touched.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

/// The environment variable that marks a run's descendants.
pub const JOB_ENV: &str = "PACKTEST_JOB";

/// A fresh marker value for one run: unique in this process and across processes.
pub(crate) fn job_marker() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Kills every process whose environment has `PACKTEST_JOB=marker`, repeating while new ones
/// appear (an escapee may fork between scans). Returns how many were killed.
pub(crate) fn kill_escaped(marker: &str) -> usize {
    let needle = format!("{JOB_ENV}={marker}").into_bytes();
    let me = std::process::id() as i32;
    let mut killed = std::collections::HashSet::new();
    for _ in 0..10 {
        let mut found = 0;
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return killed.len();
        };
        for e in procs.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            let Ok(env) = std::fs::read(e.path().join("environ")) else {
                continue;
            };
            if env.split(|b| *b == 0).any(|kv| kv == needle.as_slice()) {
                // SAFETY: kill(2) on a pid that carries this run's marker.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                killed.insert(pid);
                found += 1;
            }
        }
        if found == 0 {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    killed.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::drain::Drain;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    #[test]
    fn a_drain_returns_at_the_deadline_when_a_writer_keeps_the_pipe_open() {
        // `sleep` inherits the pipe and keeps it open after `sh` exits.
        let marker = job_marker();
        let mut child = Command::new("sh")
            .args(["-c", "echo hello; sleep 30 & exit 0"])
            .env(JOB_ENV, &marker)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let d = Drain::start(child.stdout.take().unwrap());
        child.wait().unwrap();
        let t = Instant::now();
        let out = d.finish(Instant::now() + Duration::from_millis(200));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("hello\n"), "{text}");
        assert!(text.contains("stopped reading"), "{text}");
        // The sleeper carries the marker and is found and killed.
        assert_eq!(kill_escaped(&marker), 1);
        assert_eq!(kill_escaped(&marker), 0);
    }
}
