//! [`Drain`]: reads a child's stdout or stderr on a thread, keeps the first [`OUTPUT_CAP`]
//! bytes and counts the rest, and waits for EOF only until a deadline: a process outside the
//! packager's group that inherited the pipe would otherwise hold the runner until it exits,
//! past the timeout and past Ctrl-C (measured: a `setsid sleep 311` held a two-case run for
//! 311 s).

use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

/// Bytes of stdout and of stderr kept per run.
pub const OUTPUT_CAP: usize = 256 * 1024;

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
