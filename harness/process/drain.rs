//! [`Drain`]: reads a child's stdout or stderr on a thread, keeps the first and the last
//! half of [`OUTPUT_CAP`] bytes (the end of a traceback names the exception) and counts the
//! middle it drops, and waits for EOF only until a deadline: a process outside the
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

/// What a drain kept: the first bytes, the last ones, and how many were dropped between.
#[derive(Default)]
struct Kept {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: u64,
}

impl Kept {
    fn push(&mut self, mut buf: &[u8]) {
        let half = OUTPUT_CAP / 2;
        let room = half.saturating_sub(self.head.len());
        let (h, rest) = buf.split_at(room.min(buf.len()));
        self.head.extend_from_slice(h);
        buf = rest;
        self.tail.extend(buf);
        let over = self.tail.len().saturating_sub(half);
        self.tail.drain(..over);
        self.dropped += over as u64;
    }
}

/// A pipe being drained on a thread.
pub(crate) struct Drain {
    kept: Arc<Mutex<Kept>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    /// Starts draining `r`, keeping the first and last `OUTPUT_CAP / 2` bytes and counting
    /// the rest.
    pub(crate) fn start(mut r: impl Read + Send + 'static) -> Drain {
        let kept = Arc::new(Mutex::new(Kept::default()));
        let (tx, done) = mpsc::channel();
        let k = kept.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => k.lock().unwrap_or_else(|p| p.into_inner()).push(&buf[..n]),
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
        let mut kept = std::mem::take(&mut g.head);
        if g.dropped > 0 {
            kept.extend_from_slice(
                format!("\n[packtest: {} bytes dropped here]\n", g.dropped).as_bytes(),
            );
        }
        kept.extend(g.tail.drain(..));
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

    #[test]
    fn the_first_and_last_bytes_are_kept_and_the_middle_counted() {
        let mut k = Kept::default();
        let mut input = b"first line\n".to_vec();
        input.resize(OUTPUT_CAP * 3, b'.');
        input.extend_from_slice(b"\nValueError: the last line\n");
        for chunk in input.chunks(7000) {
            k.push(chunk);
        }
        assert!(k.head.starts_with(b"first line\n"));
        assert_eq!(k.head.len() + k.tail.len(), OUTPUT_CAP);
        assert_eq!(k.dropped as usize, input.len() - OUTPUT_CAP);
        let tail: Vec<u8> = k.tail.iter().copied().collect();
        assert!(tail.ends_with(b"ValueError: the last line\n"));
    }
}
