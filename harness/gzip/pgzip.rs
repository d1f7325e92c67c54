//! A parallel, deterministic, content-adaptive gzip writer.
//!
//! The stream is cut into fixed-size blocks by position. Each block is compressed as raw
//! deflate on a worker thread (pigz-style), primed with the previous block's last 32 KiB as a
//! preset dictionary, and ended with a sync flush so the blocks concatenate into **one**
//! standard gzip member; the last block ends the stream. The CRC32 of the whole input is the
//! combination of the blocks' CRCs. Because block boundaries, dictionaries and encodings depend
//! only on the content, the output is byte-identical whatever the thread count.
//!
//! Content-adaptive encoding, at every level: per block, a deterministic sample decides
//! between stored, Huffman-only ([`super::huffman`], at the level's table effort), fast LZ and
//! the level's own LZ effort;
//! [`super::level`] has the rules and what each level means. No timing is ever used. The LZ
//! backend is zlib-rs (the one flate2 uses), driven directly for raw deflate with a preset
//! dictionary and sync flushes. Memory is bounded: at most `2 x threads` blocks in flight.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use super::level::Encoding;
use super::level::{choose, deflate_raw, lz_level, DICT, FAST_LZ, MAX_LEVEL};

/// Input bytes per block.
pub const BLOCK_SIZE: usize = 1 << 20;

/// What the writer did, for tests and `pack` statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PgzipStats {
    /// Blocks stored.
    pub stored: u64,
    /// Blocks Huffman-only.
    pub huffman: u64,
    /// Blocks at the fast LZ level.
    pub fast: u64,
    /// Blocks at the level's own LZ effort.
    pub normal: u64,
    /// Uncompressed bytes.
    pub bytes_in: u64,
}

impl PgzipStats {
    fn count(&mut self, e: Encoding) {
        match e {
            Encoding::Stored => self.stored += 1,
            Encoding::Huffman => self.huffman += 1,
            Encoding::Fast => self.fast += 1,
            Encoding::Normal => self.normal += 1,
        }
    }
}

struct Job {
    index: u64,
    data: Vec<u8>,
    dict: Vec<u8>,
    last: bool,
}

struct Done {
    index: u64,
    bytes: io::Result<Vec<u8>>,
    crc: crc32fast::Hasher,
    len: usize,
    encoding: Encoding,
}

fn compress_job(job: Job, level: u32) -> Done {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&job.data);
    let lz = |lvl: i32| deflate_raw(&job.data, &job.dict, lvl, job.last);
    let (encoding, bytes) = match choose(&job.data, &job.dict, level) {
        Encoding::Huffman => {
            let mut out = Vec::with_capacity(job.data.len() + job.data.len() / 8 + 1024);
            let effort = super::huffman::Effort::for_level(level);
            let stored =
                super::huffman::deflate_huffman_with(&job.data, job.last, &mut out, effort);
            // Every piece was incompressible: report the block as stored.
            let all_stored = stored > 0 && stored == job.data.len().div_ceil(effort.segment);
            let e = if all_stored {
                Encoding::Stored
            } else {
                Encoding::Huffman
            };
            (e, Ok(out))
        }
        Encoding::Stored => (Encoding::Stored, lz(0)),
        Encoding::Fast => (Encoding::Fast, lz(FAST_LZ)),
        Encoding::Normal => (Encoding::Normal, lz(lz_level(level))),
    };
    Done {
        index: job.index,
        bytes,
        crc,
        len: job.data.len(),
        encoding,
    }
}

struct Pool {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
}

/// A gzip writer; call [`PgzWriter::finish`] to end the stream.
pub struct PgzWriter<W: Write> {
    inner: W,
    level: u32,
    buf: Vec<u8>,
    dict: Vec<u8>,
    pool: Option<Pool>,
    threads: usize,
    next_index: u64,
    next_write: u64,
    in_flight: usize,
    ready: BTreeMap<u64, Done>,
    crc: crc32fast::Hasher,
    stats: PgzipStats,
    max_in_flight: usize,
}

impl<W: Write> PgzWriter<W> {
    /// Starts a gzip stream (header: mtime 0, no name, OS unix) on `inner`.
    pub fn new(mut inner: W, level: u32, threads: usize) -> io::Result<Self> {
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])?;
        Ok(PgzWriter {
            inner,
            level: level.min(MAX_LEVEL),
            buf: Vec::with_capacity(BLOCK_SIZE),
            dict: Vec::new(),
            pool: None,
            threads: threads.max(1),
            next_index: 0,
            next_write: 0,
            in_flight: 0,
            ready: BTreeMap::new(),
            crc: crc32fast::Hasher::new(),
            stats: PgzipStats::default(),
            max_in_flight: 2 * threads.max(1),
        })
    }

    /// Starts the worker threads; only once a second block exists, so a small archive
    /// (one block) never pays for threads.
    fn start_pool(&mut self) {
        let threads = self.threads;
        let level = self.level;
        self.pool = Some({
            let (jtx, jrx) = mpsc::sync_channel::<Job>(threads);
            let (rtx, rrx) = mpsc::channel::<Done>();
            let jrx = Arc::new(Mutex::new(jrx));
            let workers = (0..threads)
                .map(|_| {
                    let jrx = Arc::clone(&jrx);
                    let rtx = rtx.clone();
                    std::thread::spawn(move || loop {
                        let job = match jrx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => {
                                if rtx.send(compress_job(job, level)).is_err() {
                                    return;
                                }
                            }
                            Err(_) => return,
                        }
                    })
                })
                .collect();
            Pool {
                jobs: Some(jtx),
                results: rrx,
                workers,
            }
        });
    }

    fn write_done(&mut self, d: Done) -> io::Result<()> {
        let bytes = d.bytes?;
        self.inner.write_all(&bytes)?;
        self.crc.combine(&d.crc);
        if d.len > 0 {
            // The empty block that ends a stream of whole blocks is not content.
            self.stats.count(d.encoding);
        }
        self.stats.bytes_in += d.len as u64;
        self.next_write += 1;
        Ok(())
    }

    /// Writes every finished block that is next in order; with `wait`, blocks for one result.
    fn drain(&mut self, wait: bool) -> io::Result<()> {
        if let Some(pool) = &self.pool {
            let got = if wait {
                pool.results.recv().ok()
            } else {
                pool.results.try_recv().ok()
            };
            if let Some(d) = got {
                self.in_flight -= 1;
                self.ready.insert(d.index, d);
            } else if wait {
                return Err(io::Error::other("a compression worker died"));
            }
        }
        while let Some(d) = self.ready.remove(&self.next_write) {
            self.write_done(d)?;
        }
        Ok(())
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK_SIZE));
        let dict = std::mem::take(&mut self.dict);
        self.dict = data[data.len().saturating_sub(DICT)..].to_vec();
        let job = Job {
            index: self.next_index,
            data,
            dict,
            last,
        };
        self.next_index += 1;
        if self.pool.is_none() && self.threads > 1 && !last {
            self.start_pool();
        }
        if self.pool.is_none() {
            let d = compress_job(job, self.level);
            return self.write_done(d);
        }
        while self.in_flight >= self.max_in_flight {
            self.drain(true)?;
        }
        let sender = self
            .pool
            .as_ref()
            .and_then(|p| p.jobs.as_ref())
            .ok_or_else(|| io::Error::other("writer already finished"))?;
        sender
            .send(job)
            .map_err(|_| io::Error::other("a compression worker died"))?;
        self.in_flight += 1;
        self.drain(false)
    }

    /// Ends the stream (last block, CRC32, ISIZE) and returns the inner writer and stats.
    pub fn finish(mut self) -> io::Result<(W, PgzipStats)> {
        self.submit(true)?;
        while self.in_flight > 0 {
            self.drain(true)?;
        }
        self.drain(false)?;
        drop(self.pool.take());
        let crc = std::mem::take(&mut self.crc).finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner
            .write_all(&(self.stats.bytes_in as u32).to_le_bytes())?;
        self.inner.flush()?;
        Ok((self.inner, self.stats))
    }
}

impl<W: Write> Write for PgzWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK_SIZE {
            self.submit(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Blocks are cut by position only (determinism); flushing writes what is finished.
        self.drain(false)?;
        self.inner.flush()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the job queue ends the workers; draining results unblocks any that wait.
        self.jobs.take();
        while self.results.try_recv().is_ok() {}
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Content, Fill};
    use std::io::Read;

    fn gz(data: &[u8], level: u32, threads: usize) -> (Vec<u8>, PgzipStats) {
        let mut w = PgzWriter::new(Vec::new(), level, threads).unwrap();
        // Odd write sizes: boundaries must not depend on how the caller writes.
        for chunk in data.chunks(77_777) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn mixed() -> Vec<u8> {
        let mut v = Content::Seeded {
            seed: 1,
            size: 1_500_000,
            fill: Fill::Text,
        }
        .to_vec();
        v.extend(
            Content::Seeded {
                seed: 2,
                size: 2_200_000,
                fill: Fill::Floats,
            }
            .to_vec(),
        );
        v.extend(
            Content::Seeded {
                seed: 3,
                size: 1_100_000,
                fill: Fill::Random,
            }
            .to_vec(),
        );
        v.extend(
            Content::Seeded {
                seed: 4,
                size: 900_000,
                fill: Fill::Zeros,
            }
            .to_vec(),
        );
        v
    }

    #[test]
    fn output_is_one_valid_member_and_identical_for_any_thread_count() {
        let data = mixed();
        let (one, _) = gz(&data, 6, 1);
        for t in [2, 4] {
            assert_eq!(gz(&data, 6, t).0, one, "threads={t}");
        }
        assert_eq!(gunzip(&one), data);
        let (m, err) = crate::archive::Manifest::read_lenient(one.as_slice(), Default::default());
        // Not a tar, but the gzip layer must be one intact member.
        assert!(m.gzip_members == 1, "{err:?}");
    }

    #[test]
    fn every_level_round_trips_and_empty_input_works() {
        let data = mixed();
        for level in 0..=9 {
            assert_eq!(gunzip(&gz(&data, level, 2).0), data, "level {level}");
        }
        assert_eq!(gunzip(&gz(&[], 6, 2).0), Vec::<u8>::new());
    }

    #[test]
    fn the_adaptive_choice_follows_the_content() {
        let block = |fill| {
            Content::Seeded {
                seed: 9,
                size: BLOCK_SIZE as u64,
                fill,
            }
            .to_vec()
        };
        assert_eq!(choose(&block(Fill::Random), &[], 6), Encoding::Huffman);
        assert_eq!(choose(&block(Fill::Floats), &[], 6), Encoding::Huffman);
        let text = choose(&block(Fill::Text), &[], 6);
        assert!(
            matches!(text, Encoding::Normal | Encoding::Fast),
            "{text:?}"
        );
        // Every level adapts; only level 0 stores regardless.
        for level in 1..=9 {
            assert_eq!(choose(&block(Fill::Floats), &[], level), Encoding::Huffman);
            assert_eq!(choose(&block(Fill::Random), &[], level), Encoding::Huffman);
        }
        assert_eq!(choose(&block(Fill::Text), &[], 1), Encoding::Fast);
        assert_eq!(choose(&block(Fill::Text), &[], 0), Encoding::Stored);
        // What the writer did, block by block: random is stored (and not expanded), floats
        // are Huffman-only, text goes through LZ.
        let (_, s) = gz(&block(Fill::Random), 6, 1);
        assert_eq!((s.stored, s.huffman, s.fast + s.normal), (1, 0, 0), "{s:?}");
        let (_, s) = gz(&block(Fill::Floats), 6, 1);
        assert_eq!((s.stored, s.huffman, s.fast + s.normal), (0, 1, 0), "{s:?}");
        let (_, s) = gz(&block(Fill::Text), 6, 1);
        assert_eq!((s.stored, s.huffman, s.fast + s.normal), (0, 0, 1), "{s:?}");
    }

    #[test]
    fn adaptive_output_is_within_one_percent_of_level_6_everywhere() {
        for fill in [Fill::Floats, Fill::Text, Fill::Random] {
            let data = Content::Seeded {
                seed: 5,
                size: 3 * BLOCK_SIZE as u64,
                fill,
            }
            .to_vec();
            let adaptive = gz(&data, 6, 2).0.len() as f64;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(&data).unwrap();
            let reference = e.finish().unwrap().len() as f64;
            assert!(
                adaptive <= reference * 1.01,
                "{fill:?}: {adaptive} vs level 6 {reference}"
            );
        }
    }
}
