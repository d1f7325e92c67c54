//! What the process-group kill in [`super::command`] cannot reach: processes that left the
//! packager's group (`setsid`, a daemonizing double fork) and pipes they keep open.
//!
//! - [`Drain`] reads a child's stdout or stderr on a thread, capped at
//!   [`super::command::OUTPUT_CAP`], and [`Drain::finish`] waits for EOF only until a
//!   deadline: a process outside the group that inherited the pipe would otherwise hold the
//!   runner until it exits, past the timeout and past Ctrl-C (measured: a `setsid sleep 311`
//!   held a two-case run for 311 s).
//! - Every run gets a unique `PACKTEST_JOB` value in its environment ([`job_marker`]), which
//!   every descendant inherits; [`kill_escaped`] finds the processes that still carry it after
//!   the group is gone, wherever they were reparented, and kills them. A descendant that wipes
//!   its environment is not found; nothing else is touched.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::command::OUTPUT_CAP;

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

/// A pipe being drained on a thread.
pub(crate) struct Drain {
    kept: Arc<Mutex<(Vec<u8>, u64)>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    /// Starts draining `r`, keeping the first `OUTPUT_CAP` bytes and counting the rest.
    pub(crate) fn start(mut r: impl Read + Send + 'static) -> Drain {
        let kept = Arc::new(Mutex::new((Vec::new(), 0u64)));
        let (tx, done) = mpsc::channel();
        let k = kept.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut g = k.lock().unwrap_or_else(|p| p.into_inner());
                        let room = OUTPUT_CAP.saturating_sub(g.0.len());
                        g.0.extend_from_slice(&buf[..n.min(room)]);
                        g.1 += n.saturating_sub(room) as u64;
                    }
                }
            }
            let _ = tx.send(());
        });
        Drain { kept, done }
    }

    /// What was read, once the pipe closes or `deadline` passes (then the thread is left to
    /// finish on its own and a note says so).
    pub(crate) fn finish(self, deadline: Instant) -> Vec<u8> {
        let closed = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok();
        let mut g = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (mut kept, dropped) = (std::mem::take(&mut g.0), g.1);
        if dropped > 0 {
            kept.extend_from_slice(
                format!("\n[packtest: {dropped} more bytes dropped]\n").as_bytes(),
            );
        }
        if !closed {
            kept.extend_from_slice(
                b"\n[packtest: stopped reading: a process outside the packager's group still holds this pipe open]\n",
            );
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

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
