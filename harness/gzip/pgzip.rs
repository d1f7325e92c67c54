//! A parallel, deterministic, content-adaptive gzip writer.
//!
//! The stream is cut into fixed-size blocks by position. Each block is compressed as raw
//! deflate on a worker thread (pigz-style), primed with the previous block's last 32 KiB as a
//! preset dictionary, and ended with a sync flush so the blocks concatenate into **one**
//! standard gzip member; the last block ends the stream. The CRC32 of the whole input is the
//! combination of the blocks' CRCs. Because block boundaries, dictionaries and encodings depend
//! only on the content, the output is byte-identical whatever the thread count.
//!
//! Content-adaptive encoding (level 6, the default): per block of 64 KiB or more (a shorter
//! one is coded at level 6), a deterministic 16 KiB sample decides the cheapest encoding that gives about the size of level 6:
//! - **Huffman-only** when the sample's byte entropy is above 7.9 bits, or when LZ matching
//!   buys less than 1% on the sample (float weights: the gain is all in the exponent bytes).
//!   It is [`super::huffman`]'s encoder, which stores any 32 KiB piece that coding would expand
//!   (random or already-compressed data), so such a block is counted as stored;
//! - **fast LZ** (level 2) when it is within 1% of level 6 on the sample;
//! - **normal LZ** (level 6) otherwise (text, JSON, code).
//!
//! No timing is ever used. Other levels (0-9 except 6) compress every block at that level.
//! The LZ backend is zlib-rs (the one flate2 uses), driven directly for raw deflate with a
//! preset dictionary and sync flushes. Memory is bounded: at most `2 x threads` blocks in
//! flight.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Status};

/// Input bytes per block.
pub const BLOCK_SIZE: usize = 1 << 20;
const DICT: usize = 32 * 1024;
const SAMPLE: usize = 16 * 1024;

/// How one block was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Stored (no compression).
    Stored,
    /// Huffman coding only, no LZ matching.
    Huffman,
    /// LZ at a fast level (2).
    Fast,
    /// LZ at the requested level (6 by default).
    Normal,
}

/// What the writer did, for tests and `pack` statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PgzipStats {
    /// Blocks stored.
    pub stored: u64,
    /// Blocks Huffman-only.
    pub huffman: u64,
    /// Blocks at the fast LZ level.
    pub fast: u64,
    /// Blocks at the normal LZ level.
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

fn entropy_bits(data: &[u8]) -> f64 {
    let h = super::huffman::histogram(data);
    let n = data.len() as f64;
    h.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn deflate_raw(data: &[u8], dict: &[u8], level: i32, last: bool) -> io::Result<Vec<u8>> {
    let mut d = Deflate::new_with_config(DeflateConfig {
        level,
        window_bits: -15,
        ..DeflateConfig::default()
    });
    if !dict.is_empty() && level > 0 {
        d.set_dictionary(dict)
            .map_err(|e| io::Error::other(format!("deflate dictionary: {}", e.as_str())))?;
    }
    let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 64];
    let flush = if last {
        DeflateFlush::Finish
    } else {
        DeflateFlush::SyncFlush
    };
    let status = d
        .compress(data, &mut out, flush)
        .map_err(|e| io::Error::other(format!("deflate: {}", e.as_str())))?;
    let complete = if last {
        status == Status::StreamEnd
    } else {
        d.total_in() as usize == data.len()
    };
    if !complete {
        return Err(io::Error::other(
            "deflate did not finish the block in one call",
        ));
    }
    out.truncate(d.total_out() as usize);
    Ok(out)
}

/// The encoding for a block at `level`, chosen from the content only.
///
/// At level 6, a 16 KiB sample from the block's middle decides: high byte entropy means
/// Huffman-only (whose 32 KiB blocks fall back to stored where coding would expand), LZ that
/// buys under 1% over Huffman-only means Huffman-only, fast LZ within 1% of level 6 means
/// fast LZ, and level 6 otherwise.
pub fn choose(data: &[u8], dict: &[u8], level: u32) -> Encoding {
    match level {
        0 => return Encoding::Stored,
        6 => {}
        _ => return Encoding::Normal,
    }
    if data.len() < 4 * SAMPLE {
        // Sampling would cost about as much as coding the whole (short, often last) block.
        return Encoding::Normal;
    }
    // The sample: the block's middle (past any header), with its own preceding bytes as the
    // dictionary, exactly as the block will be coded.
    let start = (data.len() / 2).saturating_sub(SAMPLE / 2);
    let sample = &data[start..(start + SAMPLE).min(data.len())];
    if entropy_bits(sample) > 7.9 {
        return Encoding::Huffman;
    }
    let pre = if start > 0 {
        &data[start.saturating_sub(DICT)..start]
    } else {
        dict
    };
    let size = |lvl| deflate_raw(sample, pre, lvl, false).map_or(usize::MAX, |v| v.len());
    let huff = {
        let mut v = Vec::with_capacity(sample.len() + 64);
        super::huffman::deflate_huffman(sample, false, &mut v);
        v.len()
    };
    let fast = size(2);
    if fast as f64 >= huff as f64 * 0.99 {
        return Encoding::Huffman;
    }
    let normal = size(6);
    if fast as f64 <= normal as f64 * 1.01 {
        Encoding::Fast
    } else {
        Encoding::Normal
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
    let lz = |lvl: u32| deflate_raw(&job.data, &job.dict, lvl as i32, job.last);
    let (encoding, bytes) = match choose(&job.data, &job.dict, level) {
        Encoding::Huffman => {
            let mut out = Vec::with_capacity(job.data.len() + job.data.len() / 8 + 1024);
            let stored = super::huffman::deflate_huffman(&job.data, job.last, &mut out);
            // Every piece was incompressible: report the block as stored.
            let all_stored =
                stored > 0 && stored == job.data.len().div_ceil(super::huffman::SEGMENT);
            let e = if all_stored {
                Encoding::Stored
            } else {
                Encoding::Huffman
            };
            (e, Ok(out))
        }
        Encoding::Stored => (Encoding::Stored, lz(0)),
        Encoding::Fast => (Encoding::Fast, lz(2)),
        Encoding::Normal => (Encoding::Normal, lz(level.max(1))),
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
            level: level.min(9),
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
        for level in [0, 1, 6, 9] {
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
        assert_eq!(choose(&block(Fill::Floats), &[], 9), Encoding::Normal);
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
