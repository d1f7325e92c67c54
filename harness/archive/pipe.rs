//! The gzip layer on its own thread: inflating (and the CRC32 it checks) runs beside the tar
//! parsing and sha256 hashing of the reader's thread, so reading a `.tar.gz` costs about the
//! slower of the two, not their sum.
//!
//! The inflating thread fills [`CHUNK`]-byte buffers and sends them down a channel of
//! [`DEPTH`] slots; the reader hands each buffer back when it is done with it, so memory stays
//! at `(DEPTH + 2) x CHUNK` whatever the archive's size. Errors (a CRC mismatch, the unpacked
//! limit, a truncated member) travel down the same channel after the data that preceded them,
//! so the reader sees them at the same position as a one-thread reader would. When the reader
//! stops early (a tar defect), dropping [`Pipelined`] hangs up the channel and the inflating
//! thread stops at its next send.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::gzip::{GzipHeader, GzipReader};

/// Bytes per buffer handed from the inflating thread to the reader.
pub(crate) const CHUNK: usize = 256 * 1024;
/// Buffers in flight between the two threads.
pub(crate) const DEPTH: usize = 4;

/// What the gzip layer knew when its thread ended.
pub(crate) struct GzipEnd {
    /// The first member's header.
    pub header: Option<GzipHeader>,
    /// Members started.
    pub members: u32,
}

/// The reading end: a [`Read`] over the inflated stream.
pub(crate) struct Pipelined {
    rx: Receiver<io::Result<Vec<u8>>>,
    recycle: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

/// Starts inflating `gz` on a thread of `scope`. The thread returns the gzip layer's header
/// and member count when it reaches EOF, meets an error, or the reader hangs up.
pub(crate) fn spawn<'scope, R: io::BufRead + Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut gz: GzipReader<R>,
) -> (Pipelined, std::thread::ScopedJoinHandle<'scope, GzipEnd>) {
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    // One more slot than buffers can exist, so handing one back never blocks the reader.
    let (recycle, spare) = mpsc::sync_channel::<Vec<u8>>(DEPTH + 3);
    let handle = scope.spawn(move || {
        inflate_into(&mut gz, &tx, &spare);
        GzipEnd {
            header: gz.header.clone(),
            members: gz.members,
        }
    });
    let reader = Pipelined {
        rx,
        recycle,
        current: Vec::new(),
        pos: 0,
        done: false,
    };
    (reader, handle)
}

/// The inflating thread's loop: full buffers down `tx` until EOF or an error.
fn inflate_into(
    gz: &mut impl Read,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    spare: &Receiver<Vec<u8>>,
) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let mut n = 0;
        let mut error = None;
        while n < CHUNK {
            match gz.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        buf.truncate(n);
        if n > 0 && tx.send(Ok(buf)).is_err() {
            return;
        }
        match error {
            Some(e) => {
                let _ = tx.send(Err(e));
                return;
            }
            None if n < CHUNK => return,
            None => {}
        }
    }
}

impl Read for Pipelined {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    if used.capacity() > 0 {
                        let _ = self.recycle.try_send(used);
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended after its last buffer: EOF.
                Err(mpsc::RecvError) => self.done = true,
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(gz: &[u8], limit: Option<u64>) -> (Vec<u8>, Option<io::Error>, u32) {
        std::thread::scope(|s| {
            let (mut p, h) = spawn(s, GzipReader::new(gz, limit));
            let mut out = Vec::new();
            let mut buf = [0u8; 1000];
            let err = loop {
                match p.read(&mut buf) {
                    Ok(0) => break None,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                    Err(e) => break Some(e),
                }
            };
            drop(p);
            (out, err, h.join().unwrap().members)
        })
    }

    #[test]
    fn the_stream_comes_through_whole_across_many_chunks() {
        let data: Vec<u8> = (0..(CHUNK * (DEPTH + 3) + 12345) as u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let (out, err, members) = read_all(&gzip(&data), None);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(members, 1);
        assert_eq!(out, data);
    }

    #[test]
    fn an_error_comes_after_the_data_that_preceded_it() {
        let data = vec![7u8; CHUNK * 3];
        let mut gz = gzip(&data);
        let crc_at = gz.len() - 8;
        gz[crc_at] ^= 1;
        let (out, err, _) = read_all(&gz, None);
        assert_eq!(
            out.len(),
            data.len(),
            "every byte before the bad CRC is read"
        );
        let err = super::super::ArchiveError::from_io(err.expect("the CRC error"));
        assert_eq!(err.class(), "gzip-crc", "{err}");
    }

    #[test]
    fn the_unpacked_limit_stops_the_inflating_thread() {
        let gz = gzip(&vec![0u8; CHUNK * 8]);
        let (out, err, _) = read_all(&gz, Some(CHUNK as u64 + 1));
        let err = super::super::ArchiveError::from_io(err.expect("the limit"));
        assert_eq!(err.class(), "unpacked-limit", "{err}");
        assert!(
            out.len() <= 2 * CHUNK,
            "read {} bytes past a limit of one chunk",
            out.len()
        );
    }

    #[test]
    fn a_reader_that_hangs_up_early_does_not_block_the_thread() {
        let data = vec![1u8; CHUNK * (DEPTH + 6)];
        let gz = gzip(&data);
        std::thread::scope(|s| {
            let (mut p, h) = spawn(s, GzipReader::new(gz.as_slice(), None));
            let mut one = [0u8; 10];
            p.read_exact(&mut one).unwrap();
            drop(p);
            // The scope would hang here if the thread were stuck on a full channel.
            h.join().unwrap();
        });
    }
}
